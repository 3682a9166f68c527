// A service split the way real ones are: the pool alias and state in `db`, the diesel
// queries in `repo`, the handlers in `handlers`. `other` declares the same names for an
// async pool (name clashes between modules).
mod db;
mod handlers;
mod other;
mod repo;
#[path = "store/mod.rs"]
mod storage;

use db::DbPool;

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let manager = diesel::r2d2::ConnectionManager::<diesel::PgConnection>::new("postgres://");
    // Start-up: not reported (runs once, before the server takes requests).
    let pool: DbPool = diesel::r2d2::Pool::builder().build(manager).expect("pool"); // start-up: not reported
    let state = db::AppState { pool: pool.clone() };
    handlers::serve(state).await
}
