// A child of a `#[path]` module: `store/queries.rs`; `super::super` is the crate root.
use super::super::db::DbPool;

pub fn vacuum(pool: &DbPool) {
    let _ = pool.get();
}
