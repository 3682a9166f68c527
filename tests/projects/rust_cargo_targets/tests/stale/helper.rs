// Not tests/*.rs nor tests/*/main.rs and declared by no test: not compiled.
use diesel::r2d2::{ConnectionManager, Pool};
use diesel::PgConnection;

pub async fn stale_test(pool: &Pool<ConnectionManager<PgConnection>>) {
    let _conn = pool.get();
}

pub async fn stale_test_offloaded(pool: Pool<ConnectionManager<PgConnection>>) {
    let _ = tokio::task::spawn_blocking(move || pool.get()).await;
}
