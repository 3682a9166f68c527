// autoexamples = false and not listed: not compiled.
use diesel::r2d2::{ConnectionManager, Pool};
use diesel::PgConnection;

pub async fn unlisted(pool: &Pool<ConnectionManager<PgConnection>>) {
    let _conn = pool.get();
}

pub async fn unlisted_offloaded(pool: Pool<ConnectionManager<PgConnection>>) {
    let _ = tokio::task::spawn_blocking(move || pool.get()).await;
}
fn main() {}
