use crate::db::{self, AppState};
use crate::error::AppError;
use crate::repo::{self, Shelves};
use axum::extract::State;
use diesel_async::RunQueryDsl as _;

pub async fn serve(_state: AppState) {}

// True positives.

pub async fn count(State(state): State<AppState>) -> Result<i64, AppError> {
    repo::shelf_count(&state.sync_pool) // expect: AG501
}

pub async fn archive_by_path(State(state): State<AppState>) -> usize {
    Shelves::archive(&Shelves, &state.sync_pool) // expect: AG501
}

pub async fn archive_by_method(State(state): State<AppState>, shelves: &Shelves) -> usize {
    shelves.archive(&state.sync_pool) // expect: AG501
}

pub async fn add_outside(State(state): State<AppState>, shelf: i64) -> sqlx::Result<()> {
    let mut tx = state.sqlx.begin().await?;
    sqlx::query("UPDATE shelves SET n = n + 1 WHERE id = $1").bind(shelf).execute(&mut *tx).await?;
    Shelves::add_book(&Shelves, &state.sqlx, shelf).await?; // expect: AG511
    tx.commit().await
}

// True negatives.

pub async fn count_offloaded(State(state): State<AppState>) -> Result<i64, AppError> {
    let pool = state.sync_pool.clone();
    tokio::task::spawn_blocking(move || repo::shelf_count(&pool)).await?
}

pub async fn count_through_wrapper(State(state): State<AppState>) -> Result<usize, AppError> {
    db::blocking(&state.sync_pool, |c| Ok(repo::shelf_count_on(c)?)).await
}

pub async fn count_through_method_wrapper_by_path(State(state): State<AppState>) -> usize {
    Shelves::run(&Shelves, &state.sync_pool, |c| repo::shelf_count_on(c).unwrap_or(0)).await
}

pub async fn count_through_method_wrapper(State(state): State<AppState>, shelves: &Shelves) -> usize {
    shelves.run(&state.sync_pool, |c| repo::shelf_count_on(c).unwrap_or(0)).await
}

pub async fn closure_in_block(State(state): State<AppState>) -> Result<i64, AppError> {
    tokio::task::spawn_blocking({
        let pool = state.sync_pool.clone();
        move || repo::shelf_count(&pool)
    })
    .await?
}

pub async fn diesel_async_bb8(State(state): State<AppState>) -> usize {
    let mut conn = state.async_pool.get().await.expect("connection");
    diesel::sql_query("SELECT 1").execute(&mut conn).await.unwrap_or(0)
}

pub async fn deadpool_interact(State(state): State<AppState>) -> Result<usize, AppError> {
    let conn = state.deadpool.get().await.expect("connection");
    let n = conn.interact(|c| repo::shelf_count_on(c)).await.expect("interact")?;
    Ok(n)
}

pub async fn add_on_the_transaction(State(state): State<AppState>, shelf: i64) -> sqlx::Result<()> {
    let mut tx = state.sqlx.begin().await?;
    Shelves::add_book_on(&Shelves, &state.sqlx, &mut *tx, shelf).await?;
    tx.commit().await
}

pub async fn add_after_commit(State(state): State<AppState>, shelves: &Shelves, shelf: i64) -> sqlx::Result<()> {
    let mut tx = state.sqlx.begin().await?;
    sqlx::query("UPDATE shelves SET n = n + 1 WHERE id = $1").bind(shelf).execute(&mut *tx).await?;
    tx.commit().await?;
    shelves.add_book(&state.sqlx, shelf).await
}
