use sqlx::postgres::{PgPool, PgPoolOptions};

pub type Db = PgPool;

#[derive(Clone)]
pub struct AppState {
    pub pool: Db,
}

pub async fn connect(url: &str) -> sqlx::Result<Db> {
    PgPoolOptions::new().max_connections(5).connect(url).await
}
