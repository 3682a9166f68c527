use diesel::prelude::*;
use diesel::r2d2::{ConnectionManager, Pool, PooledConnection};
use std::sync::LazyLock;

pub type DbPool = Pool<ConnectionManager<PgConnection>>;
pub type DbConnection = PooledConnection<ConnectionManager<PgConnection>>;

pub struct AppState {
    pub pool: DbPool,
    pub name: String,
}

pub static POOL: LazyLock<DbPool> = LazyLock::new(|| {
    Pool::builder().build(ConnectionManager::new("postgres://")).expect("pool")
});

impl AppState {
    /// A pooled connection (blocks until one is free).
    pub fn conn(&self) -> DbConnection {
        self.pool.get().expect("connection")
    }
}

/// Checks out a connection: blocks.
pub fn get_conn(pool: &DbPool) -> DbConnection {
    pool.get().expect("connection")
}

/// Runs `f` with a connection on the blocking pool: callers' closures are offloaded.
pub async fn run_db<F, R>(pool: &DbPool, f: F) -> R
where
    F: FnOnce(&mut PgConnection) -> R + Send + 'static,
    R: Send + 'static,
{
    let pool = pool.clone();
    tokio::task::spawn_blocking(move || {
        let mut conn = pool.get().expect("connection");
        f(&mut conn)
    })
    .await
    .expect("join")
}

/// A wrapper around another wrapper.
pub async fn with_db<F, R>(pool: &DbPool, job: F) -> R
where
    F: FnOnce(&mut PgConnection) -> R + Send + 'static,
    R: Send + 'static,
{
    run_db(pool, job).await
}

/// vaultwarden's shape: a connection type whose `run` hands the closure to `block_in_place`.
pub struct DbConn {
    conn: DbConnection,
}

impl DbConn {
    pub async fn run<F, R>(&mut self, f: F) -> R
    where
        F: FnOnce(&mut PgConnection) -> R,
    {
        let conn = &mut self.conn;
        tokio::task::block_in_place(move || f(conn))
    }
}

/// Re-exported under another name (`pub use … as …`).
pub use crate::repo::count_all as count_everything;

lazy_static::lazy_static! {
    pub static ref LEGACY_POOL: DbPool = Pool::builder().build(ConnectionManager::new("postgres://")).expect("pool");
}

/// An inline module.
pub mod legacy {
    use super::DbPool;

    pub fn old_count(pool: &DbPool) -> usize {
        pool.get().map(|_| 1).unwrap_or(0)
    }
}

/// An async pool of `DbConn`s (vaultwarden's shape): `get` hands out the wrapper whose `run`
/// offloads.
pub struct ConnPool {
    inner: DbPool,
}

impl ConnPool {
    pub async fn get(&self) -> Result<DbConn, String> {
        let inner = self.inner.clone();
        let conn = tokio::task::spawn_blocking(move || inner.get()).await.map_err(|e| e.to_string())?;
        conn.map(|conn| DbConn { conn }).map_err(|e| e.to_string())
    }
}
