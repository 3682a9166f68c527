use crate::db::{self, AppState, DbConn, DbPool, POOL};
use crate::other::{self, DbPool as AsyncPool};
use crate::repo;
use crate::storage::purge;
use actix_web::web;
use axum::extract::{Extension, State};
use diesel::prelude::*;

pub async fn serve(_state: AppState) -> std::io::Result<()> {
    Ok(())
}

// Positives: the pool and the helpers are declared in other modules.

pub async fn by_field(state: web::Data<AppState>) {
    let _conn = state.pool.get(); // expect: AG501
}

pub async fn by_extractor(State(pool): State<DbPool>) {
    let _conn = pool.get(); // expect: AG501
}

pub async fn by_extension(Extension(state): Extension<AppState>) {
    let _conn = state.pool.get(); // expect: AG501
}

pub async fn by_static() {
    let _conn = POOL.get(); // expect: AG501
}

pub async fn by_method(state: web::Data<AppState>) -> i64 {
    let mut conn = state.conn(); // expect: AG501
    diesel::sql_query("SELECT 1").execute(&mut conn).unwrap_or(0) as i64 // expect: AG501
}

pub async fn by_helper(pool: DbPool) -> i64 {
    repo::load_user(&pool, 1).unwrap_or(0) // expect: AG501
}

pub async fn by_transitive_helper(pool: DbPool) -> i64 {
    repo::count_all(&pool) // expect: AG501
}

pub async fn by_helper_in_other_module(pool: DbPool) {
    repo::touch(&pool); // expect: AG501
}

pub async fn by_imported_helper(pool: DbPool) {
    let _c = db::get_conn(&pool); // expect: AG501
}

pub async fn by_path_module(pool: DbPool) {
    purge(&pool); // expect: AG501
}

pub async fn by_reexport(pool: DbPool) -> i64 {
    db::count_everything(&pool) // expect: AG501
}

pub async fn by_inline_module(pool: DbPool) -> usize {
    db::legacy::old_count(&pool) // expect: AG501
}

pub async fn by_lazy_static() {
    let _conn = db::LEGACY_POOL.get(); // expect: AG501
}

pub async fn by_child_of_path_module(pool: DbPool) {
    crate::storage::queries::vacuum(&pool); // expect: AG501
}

// True negatives.

pub async fn through_wrapper(pool: DbPool) -> i64 {
    db::run_db(&pool, |conn| repo::find_user(conn, 1).unwrap_or(0)).await
}

pub async fn through_wrapper_of_wrapper(pool: DbPool) -> i64 {
    db::with_db(&pool, move |conn| diesel::sql_query("SELECT 1").execute(conn).unwrap_or(0) as i64).await
}

pub async fn through_method_wrapper(mut conn: DbConn) -> i64 {
    conn.run(|c| diesel::sql_query("SELECT 1").execute(c).unwrap_or(0) as i64).await
}

pub async fn wrapper_on_a_connection_from_if_let(pool: db::ConnPool) -> i64 {
    if let Ok(mut conn) = pool.get().await {
        conn.run(|conn| diesel::sql_query("SELECT 1").execute(conn).unwrap_or(0) as i64).await
    } else {
        0
    }
}

pub async fn wrapper_on_a_connection_from_let(pool: db::ConnPool) -> i64 {
    let mut conn = pool.get().await.expect("connection");
    conn.run(|conn| diesel::sql_query("SELECT 1").execute(conn).unwrap_or(0) as i64).await
}

pub async fn closure_in_block(pool: DbPool) -> i64 {
    tokio::task::spawn_blocking({
        let pool = pool.clone();
        move || repo::load_user(&pool, 2).unwrap_or(0)
    })
    .await
    .unwrap_or(0)
}

pub async fn offloaded_helper(pool: DbPool) -> i64 {
    tokio::task::spawn_blocking(move || repo::count_all(&pool)).await.unwrap_or(0)
}

pub async fn web_block(pool: web::Data<DbPool>) -> i64 {
    web::block(move || repo::count_all(&pool)).await.unwrap_or(0)
}

pub async fn join_set(pool: DbPool) {
    let mut set = tokio::task::JoinSet::new();
    set.spawn_blocking(move || repo::touch(&pool));
    let _ = set.join_next().await;
}

pub async fn thread_spawn(pool: DbPool) {
    std::thread::spawn(move || repo::touch(&pool));
}

pub async fn not_blocking() -> String {
    repo::describe(3)
}

pub async fn async_pool_same_name(pool: AsyncPool) -> i64 {
    let _conn = pool.get().await;
    other::find_user(&pool, 1).await + other::load_user(2)
}

pub async fn sqlx_pool(pool: sqlx::PgPool) {
    let _ = sqlx::query("SELECT 1").execute(&pool).await;
}

pub async fn unknown_crate() {
    somewhere::blocking_looking::load_user(1);
}

pub async fn local_name_shadows(pool: DbPool) {
    // A local closure named like a blocking helper.
    let count_all = |_p: &DbPool| 0i64;
    let _ = count_all(&pool);
}

pub async fn async_helper_not_awaited_here(pool: AsyncPool) {
    let fut = other::find_user(&pool, 1);
    let _ = fut.await;
}

pub fn sync_caller(pool: &DbPool) -> i64 {
    repo::count_all(pool)
}
