use diesel::prelude::*;
use diesel::r2d2::{ConnectionManager, Pool};
use diesel_async::pooled_connection::AsyncDieselConnectionManager;
use diesel_async::AsyncPgConnection;

pub type SyncPool = Pool<ConnectionManager<PgConnection>>;
pub type AsyncPool = bb8::Pool<AsyncDieselConnectionManager<AsyncPgConnection>>;

#[derive(Clone)]
pub struct AppState {
    pub sync_pool: SyncPool,
    pub async_pool: AsyncPool,
    pub deadpool: deadpool_diesel::postgres::Pool,
    pub sqlx: sqlx::PgPool,
}

impl AppState {
    pub async fn connect(url: &str, sync_pool: SyncPool) -> AppState {
        let async_pool = bb8::Pool::builder().build(AsyncDieselConnectionManager::new(url)).await.expect("pool");
        let deadpool = deadpool_diesel::postgres::Pool::builder(deadpool_diesel::postgres::Manager::new(url, deadpool_diesel::Runtime::Tokio1))
            .build()
            .expect("pool");
        let sqlx = sqlx::PgPool::connect(url).await.expect("pool");
        AppState { sync_pool, async_pool, deadpool, sqlx }
    }
}

/// Runs `job` with a pooled connection on tokio's blocking pool.
pub async fn blocking<F, R>(pool: &SyncPool, job: F) -> Result<R, crate::error::AppError>
where
    F: FnOnce(&mut PgConnection) -> Result<R, crate::error::AppError> + Send + 'static,
    R: Send + 'static,
{
    let pool = pool.clone();
    tokio::task::spawn_blocking(move || {
        let mut conn = pool.get()?;
        job(&mut conn)
    })
    .await?
}
