use diesel::r2d2::{ConnectionManager, Pool};
use diesel::PgConnection;

pub type DbPool = Pool<ConnectionManager<PgConnection>>;

pub async fn reached(pool: &DbPool) {
    let _conn = pool.get(); // expect: AG501
}

pub async fn offloaded(pool: DbPool) {
    let _ = tokio::task::spawn_blocking(move || pool.get()).await;
}
