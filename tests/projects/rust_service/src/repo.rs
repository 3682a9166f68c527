use crate::db::{get_conn, DbPool};
use diesel::prelude::*;

pub struct User {
    pub id: i32,
}

/// Blocks directly (a sync diesel query).
pub fn find_user(conn: &mut PgConnection, id: i32) -> QueryResult<i64> {
    diesel::sql_query("SELECT 1").execute(conn).map(|n| n as i64 + id as i64)
}

/// Blocks directly: checks a connection out of the r2d2 pool.
pub fn load_user(pool: &DbPool, id: i32) -> QueryResult<i64> {
    let mut conn = pool.get().expect("connection");
    find_user(&mut conn, id)
}

/// Blocks through `load_user`.
pub fn count_all(pool: &DbPool) -> i64 {
    load_user(pool, 0).unwrap_or(0)
}

/// Blocks through another module's helper.
pub fn touch(pool: &DbPool) {
    let _conn = get_conn(pool);
}

/// Does not block.
pub fn describe(id: i32) -> String {
    format!("user {id}")
}
