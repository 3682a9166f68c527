// Reached through `#[path = "store/mod.rs"] mod storage;`.
use crate::db::DbPool;

pub fn purge(pool: &DbPool) {
    let _ = pool.get();
}

pub mod queries;
