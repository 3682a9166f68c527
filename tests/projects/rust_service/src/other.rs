// The same names as `db` and `repo`, for an async pool: nothing here blocks.
use diesel_async::pooled_connection::bb8;
use diesel_async::AsyncPgConnection;

pub type DbPool = bb8::Pool<AsyncPgConnection>;

pub async fn find_user(pool: &DbPool, id: i32) -> i64 {
    let _conn = pool.get().await;
    id as i64
}

/// Sync, and does not touch the database.
pub fn load_user(id: i32) -> i64 {
    id as i64 * 2
}
