//! awaitguard: finds sync database work on an event loop and transactions that do not guard
//! what they seem to, in Python (Django first) and Rust; fixes them.
//!
//! Data flows one way (see `DESIGN.md` in the shared folder):
//! text change → [`text::Document`] (edit, incremental reparse) → [`semantic`] model →
//! [`analysis`] runs the [`rules`] (queries select, rule code decides, [`dialects`] data,
//! [`settings`]) → findings → [`lsp`] (positions in the negotiated encoding) | [`cli`]
//! (rendering).
//!
//! Only `lsp` knows LSP types; only `cli` prints. The top-level modules import each other
//! without a circle (`tests/architecture.rs` holds it): `settings`, `text`, `syntax`,
//! `dialects` are leaves; `config` resolves into `settings`; `rules` read `settings`, never
//! `config`; `analysis` sits above `rules`; `lsp` and `cli` on top.

pub mod analysis;
pub mod cli;
pub mod config;
pub mod dialects;
pub mod fix;
pub mod lsp;
pub mod project;
pub mod rules;
pub mod semantic;
pub mod settings;
pub mod syntax;
pub mod text;
pub mod workspace;
