//! Per-file semantic model, built from the tree once per document version.
//!
//! What it knows, with no type checker and without executing anything:
//! - **Scopes** (RULES.md §0.4): module, function bodies (async or sync), lambda bodies,
//!   class bodies, generator expressions. A scope's range is its *body*: decorators,
//!   parameter defaults and base classes belong to the enclosing scope (Q7).
//! - **Offloaded** functions: a `def`/`lambda` passed to `sync_to_async`,
//!   `database_sync_to_async`, `asyncio.to_thread`, `run_in_executor`, `Thread(target=…)`,
//!   `executor.submit`, `run_sync`, or decorated with `@sync_to_async` /
//!   `@database_sync_to_async`. Offloaded scopes are sync context.
//! - **Imports** (`from django.db import transaction as tx` → `tx` = `django.db.transaction`).
//! - **Bindings**: for each scope, every place a name is bound, with the bound value when it
//!   is a plain `name = expr` (or `name := expr`); the receiver resolution in
//!   [`receivers`] follows these.
//!
//! Invariants: building walks the tree with a `TreeCursor` (no recursion: 10,000-deep
//! nesting cannot overflow the stack); queries on the model never walk `Node::parent`
//! chains, whose cost grows with depth.

pub mod async_cms;
pub mod async_orms;
pub mod instances;
pub mod made_by;
pub mod outside;
pub mod python;
pub mod receivers;
pub mod relations;
pub mod transactions;
pub mod bridges;
pub mod rust;
pub mod rust_calls;
pub mod summary;
pub mod sqla;
pub mod peewee;
pub mod views;

pub use python::{Context, PyModel, Scope, ScopeKind};
pub use rust::RustModel;
