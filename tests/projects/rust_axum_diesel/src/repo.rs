use crate::db::SyncPool;
use diesel::prelude::*;

/// Sync diesel: blocks on a pooled connection.
pub fn shelf_count(pool: &SyncPool) -> Result<i64, crate::error::AppError> {
    let mut conn = pool.get()?;
    Ok(diesel::sql_query("SELECT count(*) FROM shelves").execute(&mut conn)? as i64)
}

pub fn shelf_count_on(conn: &mut PgConnection) -> QueryResult<usize> {
    diesel::sql_query("SELECT count(*) FROM shelves").execute(conn)
}

pub struct Shelves;

impl Shelves {
    /// Blocks: a sync method called as `Shelves::archive(&repo, pool)` or `repo.archive(pool)`.
    pub fn archive(&self, pool: &SyncPool) -> usize {
        let mut conn = pool.get().expect("connection");
        diesel::sql_query("UPDATE shelves SET archived = true").execute(&mut conn).unwrap_or(0)
    }

    /// Runs `job` off the runtime: its closure parameter is offloaded.
    pub async fn run<F, R>(&self, pool: &SyncPool, job: F) -> R
    where
        F: FnOnce(&mut PgConnection) -> R + Send + 'static,
        R: Send + 'static,
    {
        let pool = pool.clone();
        tokio::task::spawn_blocking(move || job(&mut pool.get().expect("connection"))).await.expect("join")
    }

    /// Queries on the sqlx executor it is given.
    pub async fn add_book(&self, pool: &sqlx::PgPool, shelf: i64) -> sqlx::Result<()> {
        sqlx::query("INSERT INTO books (shelf) VALUES ($1)").bind(shelf).execute(pool).await?;
        Ok(())
    }

    /// Queries on the connection; the pool is only read for its size.
    pub async fn add_book_on(&self, pool: &sqlx::PgPool, conn: &mut sqlx::PgConnection, shelf: i64) -> sqlx::Result<u32> {
        sqlx::query("INSERT INTO books (shelf) VALUES ($1)").bind(shelf).execute(conn).await?;
        Ok(pool.size())
    }
}
