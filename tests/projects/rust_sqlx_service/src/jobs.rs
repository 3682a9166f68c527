//! True negatives only: async pools and offloaded sync code, as services write them.
use diesel::prelude::*;
use std::sync::Arc;

pub type SyncPool = diesel::r2d2::Pool<diesel::r2d2::ConnectionManager<diesel::PgConnection>>;

/// A project wrapper that forwards the closure to a blocking thread.
pub async fn run_blocking<T, F>(pool: SyncPool, f: F) -> anyhow::Result<T>
where
    F: FnOnce(&mut diesel::PgConnection) -> anyhow::Result<T> + Send + 'static,
    T: Send + 'static,
{
    tokio::task::spawn_blocking(move || {
        let mut conn = pool.get()?;
        f(&mut conn)
    })
    .await?
}

pub async fn purge(pool: SyncPool) -> anyhow::Result<usize> {
    run_blocking(pool, |c| Ok(diesel::sql_query("DELETE FROM jobs").execute(c)?)).await
}

pub async fn closure_in_a_block(pool: SyncPool) -> anyhow::Result<usize> {
    let n = tokio::task::spawn_blocking({
        let pool = pool.clone();
        move || -> anyhow::Result<usize> {
            let mut conn = pool.get()?;
            Ok(diesel::sql_query("VACUUM").execute(&mut conn)?)
        }
    })
    .await??;
    Ok(n)
}

pub async fn deadpool(pool: deadpool_diesel::postgres::Pool) -> anyhow::Result<usize> {
    let conn = pool.get().await?;
    let n = conn.interact(|c| diesel::sql_query("DELETE FROM tmp").execute(c)).await.map_err(|e| anyhow::anyhow!("{e}"))??;
    Ok(n)
}

pub async fn bb8_pool(pool: bb8::Pool<diesel_async::pooled_connection::AsyncDieselConnectionManager<diesel_async::AsyncPgConnection>>) -> anyhow::Result<usize> {
    use diesel_async::RunQueryDsl;
    let mut conn = pool.get().await?;
    Ok(diesel::sql_query("DELETE FROM tmp").execute(&mut conn).await?)
}

pub async fn shared(state: Arc<crate::db::AppState>) -> sqlx::Result<u64> {
    let done = sqlx::query("DELETE FROM sessions WHERE expired").execute(&state.pool).await?;
    Ok(done.rows_affected())
}
