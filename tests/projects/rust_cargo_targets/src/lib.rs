//! Which files Cargo compiles: every target root and the `mod` tree under it.
pub mod db;
#[path = "x/renamed.rs"]
mod moved;
mod r#type;
