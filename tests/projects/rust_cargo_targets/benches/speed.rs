use diesel::r2d2::{ConnectionManager, Pool};
use diesel::PgConnection;

pub async fn in_bench(pool: &Pool<ConnectionManager<PgConnection>>) {
    let _conn = pool.get(); // expect: AG501
}

pub async fn in_bench_offloaded(pool: Pool<ConnectionManager<PgConnection>>) {
    let _ = tokio::task::spawn_blocking(move || pool.get()).await;
}
fn main() {}
