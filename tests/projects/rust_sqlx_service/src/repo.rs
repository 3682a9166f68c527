use crate::db::Db;
use sqlx::{PgExecutor, Postgres, Transaction};

/// Queries on whatever executor it is given: the pool, or `&mut *tx`.
pub async fn add_line<'e>(e: impl PgExecutor<'e>, order: i64, sku: &str) -> sqlx::Result<()> {
    sqlx::query("INSERT INTO lines (order_id, sku) VALUES ($1, $2)").bind(order).bind(sku).execute(e).await?;
    Ok(())
}

/// Queries on the pool it is given.
pub async fn stock_of(pool: &Db, sku: &str) -> sqlx::Result<i64> {
    let row: (i64,) = sqlx::query_as("SELECT n FROM stock WHERE sku = $1").bind(sku).fetch_one(pool).await?;
    Ok(row.0)
}

/// Hands the pool on to a helper that queries.
pub async fn log_line(pool: &Db, order: i64) -> sqlx::Result<()> {
    add_line(pool, order, "log").await
}

/// Takes the pool but runs no query on it.
pub async fn pool_size(pool: &Db) -> u32 {
    pool.size()
}

pub async fn reserve(tx: &mut Transaction<'_, Postgres>, sku: &str) -> sqlx::Result<()> {
    sqlx::query("UPDATE stock SET n = n - 1 WHERE sku = $1").bind(sku).execute(&mut tx).await?; // expect: AG512
    Ok(())
}

pub async fn reserve_fixed(tx: &mut Transaction<'_, Postgres>, sku: &str) -> sqlx::Result<()> {
    sqlx::query("UPDATE stock SET n = n - 1 WHERE sku = $1").bind(sku).execute(&mut **tx).await?;
    Ok(())
}
