use crate::db::AppState;
use crate::repo;
use axum::extract::State;
use std::time::Duration;

pub async fn serve(state: AppState) -> anyhow::Result<()> {
    let _ = state;
    Ok(())
}

// True positives.

pub async fn place(State(state): State<AppState>, order: i64, dry_run: bool) -> sqlx::Result<()> {
    let pool = &state.pool;
    let mut tx = pool.begin().await?; // expect: AG510
    sqlx::query("INSERT INTO orders (id) VALUES ($1)").bind(order).execute(&mut *tx).await?;
    repo::add_line(pool, order, "a").await?; // expect: AG511
    let _n = repo::stock_of(pool, "a").await?; // expect: AG511
    repo::log_line(pool, order).await?; // expect: AG511
    if dry_run {
        return Ok(());
    }
    tx.commit().await?;
    Ok(())
}

pub async fn cancel(State(state): State<AppState>, order: i64) -> sqlx::Result<()> {
    let mut tx = state.pool.begin().await?;
    sqlx::query("DELETE FROM lines WHERE order_id = $1").bind(order).execute(&mut tx).await?; // expect: AG512
    tx.commit(); // expect: AG514
    Ok(())
}

pub async fn with_deadline(State(state): State<AppState>) -> anyhow::Result<()> {
    let mut tx = tokio::time::timeout(Duration::from_secs(2), state.pool.begin()).await??; // expect: AG513
    repo::reserve_fixed(&mut tx, "a").await?;
    tx.commit().await?;
    Ok(())
}

// True negatives.

pub async fn place_fixed(State(state): State<AppState>, order: i64, dry_run: bool) -> sqlx::Result<()> {
    let pool = &state.pool;
    let mut tx = pool.begin().await?;
    sqlx::query("INSERT INTO orders (id) VALUES ($1)").bind(order).execute(&mut *tx).await?;
    repo::add_line(&mut *tx, order, "a").await?;
    let _size = repo::pool_size(pool).await;
    if dry_run {
        tx.rollback().await?;
        return Ok(());
    }
    tx.commit().await?;
    repo::log_line(pool, order).await?;
    Ok(())
}

pub async fn before_the_transaction(State(state): State<AppState>, order: i64) -> sqlx::Result<()> {
    let n = repo::stock_of(&state.pool, "a").await?;
    if n == 0 {
        return Ok(());
    }
    let mut tx = state.pool.begin().await?;
    repo::reserve_fixed(&mut tx, "a").await?;
    repo::add_line(&mut *tx, order, "a").await?;
    tx.commit().await?;
    Ok(())
}

pub async fn early_return_before_writes(State(state): State<AppState>, order: i64) -> sqlx::Result<()> {
    let mut tx = state.pool.begin().await?;
    let found: Option<(i64,)> = sqlx::query_as("SELECT id FROM orders WHERE id = $1").bind(order).fetch_optional(&mut *tx).await?;
    if found.is_none() {
        return Ok(());
    }
    sqlx::query("UPDATE orders SET paid = true WHERE id = $1").bind(order).execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn closure_api(State(state): State<AppState>, order: i64) -> sqlx::Result<()> {
    let mut conn = state.pool.acquire().await?;
    sqlx::Connection::transaction(&mut *conn, |tx| {
        Box::pin(async move {
            repo::add_line(&mut **tx, order, "b").await?;
            Ok::<(), sqlx::Error>(())
        })
    })
    .await?;
    Ok(())
}

pub async fn timeout_on_a_query(State(state): State<AppState>) -> anyhow::Result<()> {
    let mut tx = state.pool.begin().await?;
    tokio::time::timeout(Duration::from_secs(2), repo::reserve_fixed(&mut tx, "c")).await??;
    tx.commit().await?;
    Ok(())
}
