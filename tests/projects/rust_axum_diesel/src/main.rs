mod db;
mod error;
mod handlers;
mod repo;

#[tokio::main]
async fn main() {
    // Start-up: building the pools once before serving is not reported.
    let sync_pool = diesel::r2d2::Pool::builder().build(diesel::r2d2::ConnectionManager::new("postgres://")).expect("pool");
    let state = db::AppState::connect("postgres://", sync_pool).await;
    handlers::serve(state).await;
}
