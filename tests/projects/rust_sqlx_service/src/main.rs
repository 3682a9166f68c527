mod db;
mod handlers;
mod jobs;
mod repo;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let state = db::AppState { pool: db::connect("postgres://localhost/orders").await? };
    handlers::serve(state).await
}
