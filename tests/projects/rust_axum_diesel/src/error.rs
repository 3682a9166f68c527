#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("pool: {0}")]
    Pool(#[from] diesel::r2d2::PoolError),
    #[error("query: {0}")]
    Query(#[from] diesel::result::Error),
    #[error("sqlx: {0}")]
    Sqlx(#[from] sqlx::Error),
    #[error("task: {0}")]
    Join(#[from] tokio::task::JoinError),
}
