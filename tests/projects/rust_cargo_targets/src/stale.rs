// No `mod stale;` anywhere: Cargo never compiles this file, so it is not checked.
use diesel::r2d2::{ConnectionManager, Pool};
use diesel::PgConnection;

pub async fn stale(pool: &Pool<ConnectionManager<PgConnection>>) {
    let _conn = pool.get();
}

pub async fn stale_offloaded(pool: Pool<ConnectionManager<PgConnection>>) {
    let _ = tokio::task::spawn_blocking(move || pool.get()).await;
}
