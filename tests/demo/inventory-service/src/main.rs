//! Demo input for awaitguard: an async service with two classic mistakes and their correct forms.
use diesel::prelude::*;
use diesel::r2d2::{ConnectionManager, Pool};
use sqlx::PgPool;

type DbPool = Pool<ConnectionManager<PgConnection>>;

// Bug (AG501): diesel is synchronous; this blocks a runtime worker thread.
async fn product_count(pool: DbPool) -> anyhow::Result<i64> {
    let mut conn = pool.get()?;
    Ok(products::table.count().get_result(&mut conn)?)
}

// Correct: the blocking work runs on the blocking pool.
async fn product_count_ok(pool: DbPool) -> anyhow::Result<i64> {
    let n = tokio::task::spawn_blocking(move || -> anyhow::Result<i64> {
        let mut conn = pool.get()?;
        Ok(products::table.count().get_result(&mut conn)?)
    })
    .await??;
    Ok(n)
}

// Bug (AG510): the transaction is dropped without commit, so the insert is rolled back.
async fn restock(pool: &PgPool, id: i64, n: i32) -> sqlx::Result<()> {
    let mut tx = pool.begin().await?;
    sqlx::query("UPDATE products SET stock = stock + $1 WHERE id = $2")
        .bind(n)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    Ok(())
}

// Correct: committed.
async fn restock_ok(pool: &PgPool, id: i64, n: i32) -> sqlx::Result<()> {
    let mut tx = pool.begin().await?;
    sqlx::query("UPDATE products SET stock = stock + $1 WHERE id = $2")
        .bind(n)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}
