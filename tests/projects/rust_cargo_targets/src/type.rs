use diesel::r2d2::{ConnectionManager, Pool};
use diesel::PgConnection;

pub async fn raw_ident(pool: &Pool<ConnectionManager<PgConnection>>) {
    let _conn = pool.get(); // expect: AG501
}

pub async fn raw_ident_offloaded(pool: Pool<ConnectionManager<PgConnection>>) {
    let _ = tokio::task::spawn_blocking(move || pool.get()).await;
}
