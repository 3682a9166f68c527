//! AG510 transaction-not-committed: a transaction bound with `let` whose scope never commits
//! it, rolls it back or moves it on (RULES.md §AG510, §3.9 R-f, R-j, R-k, R-l).
//!
//! Recognised beginnings: sqlx `pool.begin().await` / `begin_with(…)`, sea-orm
//! `db.begin().await`, tokio-postgres `client.transaction().await`, rusqlite / postgres
//! `conn.transaction()` / `unchecked_transaction()` / `transaction_with_behavior(…)`, and
//! `build_transaction()…start()`. The transaction is *handled* when the rest of its block
//! calls `commit()`, `rollback()` or `finish()` on it, sets a drop behaviour, calls any
//! method outside the borrowing list (`execute`, `query` …: it may take the transaction by
//! value, as sea-orm's `txn.run(f)` does), or uses it in any other way that may move it (returned, passed by value, captured by a `move` closure, a macro
//! argument not borrowed). Test functions are skipped: rolling back there is the point.
//!
//! Per path: a transaction that is handled somewhere but dropped at a normal `return`
//! (`return Ok(…)`, bare `return`) that no commit, rollback or move precedes on its path, after
//! a write on that path, is reported at the `begin`, the returns as related locations. A
//! statement is on an exit's path when every block or match arm between it and the
//! transaction's block also holds the exit (loop bodies count as run). Exits through `?` and
//! `return Err(…)` are error paths; returns inside closures and async blocks leave only them.

use super::rust_util::args_of;
use super::{Ctx, Finding, FixAvailability, Rule, RuleMeta, Severity};
use crate::fix::{Applicability, Edit, Fix};
use crate::semantic::outside::Loc;
use crate::semantic::rust::{method_parts, Kind, RustModel};
use crate::syntax::Lang;
use tree_sitter::Node;

pub struct TransactionNotCommitted;

static META: RuleMeta = RuleMeta {
    code: "AG510",
    name: "transaction-not-committed",
    lang: Lang::Rust,
    severity: Severity::Error,
    fix: FixAvailability::Sometimes,
    triggers: &[&["begin", "begin_with", "begin_with_config", "try_begin", "transaction", "build_transaction"]],
    summary: "Transaction dropped without commit: its writes are rolled back",
    doc: r#"## AG510 transaction-not-committed

**What it catches.** A transaction bound in a block (`let mut tx = pool.begin().await?;` in
sqlx or sea-orm, `client.transaction().await?` in tokio-postgres, `conn.transaction()?` in
rusqlite or postgres) that the block never commits, rolls back, or hands on.

**Why it is wrong.** Every one of these crates rolls a dropped transaction back: sqlx queues
a rollback on the connection ("If neither are called before the transaction goes
out-of-scope, rollback is called"), sea-orm's `Drop` starts a rollback, tokio-postgres and
postgres roll back on drop, rusqlite's default drop behaviour is `Rollback`. The writes are
silently lost, and nothing fails.

**Example.**
```rust
async fn rename(pool: &sqlx::PgPool, id: i64, name: &str) -> sqlx::Result<()> {
    let mut tx = pool.begin().await?;                    // AG510
    sqlx::query("UPDATE users SET name = $1 WHERE id = $2")
        .bind(name).bind(id).execute(&mut *tx).await?;
    Ok(())
}
```

**Per path.** A transaction committed on one path and dropped at a `return Ok(…)` on
another, after writes (`if dry_run { return Ok(()); }` before `tx.commit()`), is reported at
the `begin` with that `return` as related information, and no fix: commit, or roll back
explicitly, there. A `return` before any write, `?` exits and `return Err(…)` are silent.

**Fix (unsafe).** Insert `tx.commit().await?;` (`tx.commit()?;` for the sync crates) before
the block's final `Ok(…)`. Unsafe: the author may mean to discard the writes (a dry run).
No fix when the block does not end in `Ok(…)` or the transaction was not opened with `?`.

**Stays silent on** transactions that show no write (no `execute` / `save` / `insert` …
call, no SQL string with `INSERT`, `UPDATE`, `DELETE` …, not handed to a helper): dropping a
read-only transaction loses nothing; an explicit `tx.rollback()`, a transaction returned or passed on by
value, closure APIs that commit on `Ok` (`pool.transaction(|tx| …)`,
`db.transaction::<_, _, E>(…)`, diesel's `conn.transaction(…)`), rusqlite
`set_drop_behavior(DropBehavior::Commit)`, and test functions (`#[test]`, `#[tokio::test]`,
`#[sqlx::test]` …), where a rollback is usually the point, and functions whose name says the
rollback is their subject (`implicit_rollback_example`, `rolls_back_on_drop`: an example or
helper that drops the transaction on purpose; a comment saying so is not enough).

**Suppress** with `// awaitguard: ignore[AG510]` on the line.
"#,
};

/// A transaction bound by `let`.
pub struct TxLet<'t> {
    pub name: &'t str,
    pub let_node: Node<'t>,
    /// The `begin()` / `transaction()` call.
    pub begin: Node<'t>,
    /// The receiver of the begin call (`pool` in `pool.begin()`).
    pub receiver: Node<'t>,
    pub awaited: bool,
    /// Opened with `?` (else `.unwrap()` / `.expect(…)` or neither).
    pub had_try: bool,
    pub had_unwrap: bool,
    /// The error adapter between the call and its `?` (`.map_err(internal)`), to repeat on
    /// the inserted commit.
    pub err_adapter: Option<&'t str>,
    pub flavor: TxFlavor,
    /// The block the binding lives in.
    pub block: Node<'t>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TxFlavor {
    Sqlx,
    SeaOrm,
    TokioPostgres,
    /// rusqlite or postgres.
    Sync,
}

/// Recognises `let name = <begin>;`.
pub fn tx_let<'t>(rs: &RustModel<'t>, let_node: Node<'t>, name: Node<'t>, value: Node<'t>) -> Option<TxLet<'t>> {
    let (mut awaited, mut had_try, mut had_unwrap) = (false, false, false);
    let mut err_adapter = None;
    let mut e = value;
    let call = loop {
        match e.kind() {
            "try_expression" => {
                had_try = true;
                e = e.named_child(0)?;
            }
            "await_expression" => {
                awaited = true;
                e = e.named_child(0)?;
            }
            "call_expression" => {
                let (recv, m) = method_parts(e)?;
                match rs.node_text(m) {
                    "unwrap" | "expect" => {
                        had_unwrap = true;
                        e = recv;
                    }
                    m if crate::dialects::rust_crates::ERROR_ADAPTERS.contains(&m) && had_try && err_adapter.is_none() => {
                        err_adapter = Some(&rs.src[recv.end_byte()..e.end_byte()]);
                        e = recv;
                    }
                    _ => break e,
                }
            }
            _ => return None,
        }
    };
    // Without `?` / `.unwrap()` the binding holds a `Result`, not the transaction.
    if !had_try && !had_unwrap {
        return None;
    }
    let (recv, m) = method_parts(call)?;
    let nargs = args_of(call.child_by_field_name("arguments")?).len();
    let m = rs.node_text(m);
    let rk = rs.kind_of(recv);
    let flavor = match (m, nargs, awaited) {
        ("begin", 0, true) | ("begin_with", 1, true) => match rk {
            Kind::SqlxPool => TxFlavor::Sqlx,
            Kind::SeaDb => TxFlavor::SeaOrm,
            Kind::Unknown if rs.uses("sqlx") && !rs.uses("sea_orm") => TxFlavor::Sqlx,
            Kind::Unknown if rs.uses("sea_orm") && !rs.uses("sqlx") && m == "begin" => TxFlavor::SeaOrm,
            _ => return None,
        },
        // sea-orm `TransactionTrait::begin_with_config(isolation, access_mode)`.
        ("begin_with_config", 2, true) => match rk {
            Kind::SeaDb => TxFlavor::SeaOrm,
            Kind::Unknown if rs.uses("sea_orm") && !rs.uses("sqlx") => TxFlavor::SeaOrm,
            _ => return None,
        },
        ("transaction", 0, true) => match rk {
            Kind::TokioPgClient => TxFlavor::TokioPostgres,
            Kind::Unknown if rs.uses("tokio_postgres") => TxFlavor::TokioPostgres,
            _ => return None,
        },
        ("transaction" | "unchecked_transaction", 0, false) | ("transaction_with_behavior", 1, false) => match rk {
            Kind::RusqliteConn | Kind::PgClient => TxFlavor::Sync,
            Kind::Unknown if rs.uses("rusqlite") || rs.uses("postgres") => TxFlavor::Sync,
            _ => return None,
        },
        ("start", 0, _) if rs.node_text(recv).contains("build_transaction()") => {
            if awaited { TxFlavor::TokioPostgres } else { TxFlavor::Sync }
        }
        _ => return None,
    };
    let block = let_node.parent().filter(|b| b.kind() == "block")?;
    Some(TxLet {
        name: rs.node_text(name),
        let_node,
        begin: call,
        receiver: recv,
        awaited,
        had_try,
        had_unwrap,
        err_adapter,
        flavor,
        block,
    })
}

/// What the local `name` at byte `at` is, when it is a transaction: bound by a recognised
/// begin ([`tx_let`]), or a parameter typed `Transaction<…>` / `&mut Transaction<…>` (sqlx,
/// tokio-postgres) or `DatabaseTransaction` (sea-orm) in a file that uses that crate. The
/// flag is true for a `&mut` parameter (the transaction is behind a reference).
pub fn tx_named(rs: &RustModel, name: &str, at: usize) -> Option<(TxFlavor, bool)> {
    let b = rs.binding(name, at)?;
    if b.closure_of.is_some() {
        return None;
    }
    if b.is_param {
        let ty = b.ty?;
        let by_ref = ty.kind() == "reference_type";
        let t = rs.node_text(ty);
        let head = t.trim_start_matches('&').trim_start_matches("mut ").trim_start();
        let head = head.split('<').next().unwrap_or("").trim();
        // The full path: as written, or through the file's imports (`use sqlx::Transaction`).
        let (first, rest) = head.split_once("::").unwrap_or((head, ""));
        let full = match rs.imports.get(first) {
            Some(p) if rest.is_empty() => p.clone(),
            Some(p) => format!("{p}::{rest}"),
            None => head.to_string(),
        };
        let flavor = match full.split("::").next().unwrap_or("") {
            "sqlx" if full.ends_with("::Transaction") => TxFlavor::Sqlx,
            "sea_orm" if full.ends_with("::DatabaseTransaction") => TxFlavor::SeaOrm,
            "tokio_postgres" if full.ends_with("::Transaction") => TxFlavor::TokioPostgres,
            _ => return None,
        };
        return Some((flavor, by_ref));
    }
    let v = b.value?;
    let &(let_node, n, value) = rs.lets.iter().find(|(_, _, value)| value.id() == v.id())?;
    tx_let(rs, let_node, n, value).map(|t| (t.flavor, false))
}

/// How the rest of the block uses the transaction.
#[derive(Debug, Default)]
pub struct TxUses {
    /// Byte where the transaction ends on every path (an unconditional commit, rollback or
    /// move); `None`: live to the end of the block.
    pub end: Option<usize>,
    pub committed_or_moved: bool,
}

/// Scans the block after the binding for what ends the transaction.
pub fn tx_uses(rs: &RustModel, tx: &TxLet) -> TxUses {
    let from = tx.let_node.end_byte();
    let mut uses = TxUses::default();
    // (node, under a branch / loop / closure): only an unconditional end closes the live range.
    let mut stack = vec![(tx.block, false)];
    let mut first_end: Option<usize> = None;
    while let Some((n, cond)) = stack.pop() {
        if n.end_byte() <= from {
            continue;
        }
        if n.kind() == "identifier" && n.start_byte() >= from && rs.node_text(n) == tx.name {
            if ends_tx(rs, n) {
                uses.committed_or_moved = true;
                if !cond {
                    first_end = Some(first_end.map_or(n.start_byte(), |f: usize| f.min(n.start_byte())));
                }
            }
            continue;
        }
        let branchy = matches!(
            n.kind(),
            "if_expression" | "match_expression" | "while_expression" | "loop_expression" | "for_expression"
                | "closure_expression" | "async_block" | "function_item"
        );
        let mut c = n.walk();
        for ch in n.children(&mut c) {
            stack.push((ch, cond || branchy));
        }
    }
    uses.end = first_end;
    uses
}

/// True when the block after the binding shows a write: a SQL string with a write keyword,
/// a write method (`execute`, `save`, `insert` …), or the transaction handed to a helper
/// function (which may write). A transaction that only reads loses nothing when dropped.
pub fn has_write_evidence(rs: &RustModel, tx: &TxLet) -> bool {
    !write_sites(rs, tx, true).is_empty()
}

/// The nodes that show a write after the binding (see [`has_write_evidence`]); `first_only`
/// stops at the first one found.
fn write_sites<'t>(rs: &RustModel<'t>, tx: &TxLet<'t>, first_only: bool) -> Vec<Node<'t>> {
    use crate::dialects::rust_crates::{SQL_WRITE_WORDS, TX_WRITE_METHODS};
    let from = tx.let_node.end_byte();
    let mut out = vec![];
    let mut stack = vec![tx.block];
    while let Some(n) = stack.pop() {
        if first_only && !out.is_empty() {
            break;
        }
        if n.end_byte() <= from {
            continue;
        }
        match n.kind() {
            "string_literal" | "raw_string_literal" if n.start_byte() >= from => {
                let t = rs.node_text(n).to_ascii_uppercase();
                if SQL_WRITE_WORDS.iter().any(|w| super::rust_util::mentions(&t, w)) {
                    out.push(n);
                }
                continue;
            }
            "call_expression" if n.start_byte() >= from => {
                if let Some((_, m)) = method_parts(n) {
                    let m = rs.node_text(m);
                    // `execute` of a SQL string is judged by the string (`SET …` writes
                    // nothing); of anything else, it may write.
                    let sql_in_call = m.starts_with("exec") && rs.node_text(n).contains('"');
                    if TX_WRITE_METHODS.contains(&m) && !sql_in_call {
                        out.push(n);
                        continue;
                    }
                } else if let Some(args) = n.child_by_field_name("arguments") {
                    // A helper function given the transaction.
                    if super::rust_util::mentions(rs.node_text(args), tx.name) {
                        out.push(n);
                        continue;
                    }
                }
            }
            "macro_invocation" if n.start_byte() >= from => {
                // `sqlx::query!(…)` strings are string literals inside the token tree; a
                // method name after a `.` inside macro tokens counts as well.
                let t = rs.node_text(n);
                if TX_WRITE_METHODS.iter().any(|m| t.contains(&format!(".{m}("))) {
                    out.push(n);
                    continue;
                }
            }
            _ => {}
        }
        let mut c = n.walk();
        for ch in n.children(&mut c) {
            stack.push(ch);
        }
    }
    out
}

/// True when `n` (before `exit`) runs on every path that reaches `exit`: each block or match
/// arm between it and the transaction's block also holds `exit` (or `n` is part of `exit`).
fn on_path_to(n: Node, exit: Node, tx_block: Node) -> bool {
    if exit.start_byte() <= n.start_byte() && n.end_byte() <= exit.end_byte() {
        return true;
    }
    if n.start_byte() >= exit.start_byte() {
        return false;
    }
    let mut a = n.parent();
    while let Some(x) = a {
        if x.id() == tx_block.id() {
            return true;
        }
        // A loop body before the exit counts as run (it may run zero times; the writes in
        // it are still what the exit drops).
        let loop_body = x.parent().is_some_and(|p| matches!(p.kind(), "for_expression" | "while_expression" | "loop_expression"));
        if matches!(x.kind(), "block" | "match_arm")
            && !loop_body
            && !(x.start_byte() <= exit.start_byte() && exit.end_byte() <= x.end_byte())
        {
            return false;
        }
        a = x.parent();
    }
    true
}

/// The normal exits (`return Ok(…)`, a bare `return`) of the transaction's function that
/// leave it open after a write on their path, when another path does commit, roll back or
/// move it (RULES.md §AG510: "some normal exit … is not preceded by `tx.commit()`"). Exits
/// through `?` or `return Err(…)` are error paths; a `return` inside a closure or an async
/// block leaves only that.
pub fn uncommitted_exits<'t>(rs: &RustModel<'t>, tx: &TxLet<'t>) -> Vec<Node<'t>> {
    let from = tx.let_node.end_byte();
    // Every occurrence of the name that ends the transaction.
    let mut ends = vec![];
    let mut exits = vec![];
    let mut stack = vec![tx.block];
    while let Some(n) = stack.pop() {
        if n.end_byte() <= from {
            continue;
        }
        match n.kind() {
            "identifier" if n.start_byte() >= from && rs.node_text(n) == tx.name => {
                if ends_tx(rs, n) {
                    ends.push(n);
                }
                continue;
            }
            "return_expression" if n.start_byte() >= from => {
                let normal = match n.named_child(0) {
                    None => true,
                    Some(v) => {
                        v.kind() == "call_expression"
                            && v.child_by_field_name("function").is_some_and(|f| rs.node_text(f) == "Ok")
                    }
                };
                if normal {
                    exits.push(n);
                }
            }
            "closure_expression" | "async_block" | "function_item" => {
                // Their returns leave only them; a use of the name inside still counts as
                // a move (captured).
                let mut inner = vec![n];
                while let Some(m) = inner.pop() {
                    if m.kind() == "identifier" && rs.node_text(m) == tx.name && m.start_byte() >= from {
                        ends.push(m);
                    }
                    let mut c = m.walk();
                    inner.extend(m.children(&mut c));
                }
                continue;
            }
            _ => {}
        }
        let mut c = n.walk();
        stack.extend(n.children(&mut c));
    }
    if ends.is_empty() {
        return vec![];
    }
    let writes = write_sites(rs, tx, false);
    exits.sort_by_key(|e| e.start_byte());
    exits
        .into_iter()
        .filter(|&r| {
            !ends.iter().any(|&e| on_path_to(e, r, tx.block))
                && writes.iter().any(|&w| w.start_byte() < r.start_byte() && on_path_to(w, r, tx.block))
        })
        .collect()
}

/// True when this occurrence of the transaction's name commits, rolls back or may move it.
fn ends_tx(rs: &RustModel, n: Node) -> bool {
    let Some(p) = n.parent() else { return true };
    match p.kind() {
        "field_expression" => {
            let Some(f) = p.child_by_field_name("field") else { return false };
            let is_call = p.parent().is_some_and(|g| g.kind() == "call_expression" || g.kind() == "generic_function");
            let m = rs.node_text(f);
            // `tx.field` reads a field; a method outside the borrowing list may consume it.
            is_call && !crate::dialects::rust_crates::TX_BORROWING_METHODS.contains(&m)
        }
        "reference_expression" => false,
        "unary_expression" => rs.node_text(p).starts_with('*') && p.parent().is_some_and(|g| g.kind() != "reference_expression"),
        "token_tree" => {
            // Inside a macro: `&tx`, `&mut *tx`, `*tx` borrow; `tx.commit()` ends; anything
            // else may move it.
            let prev = n.prev_sibling().map(|s| rs.node_text(s)).unwrap_or("");
            if matches!(prev, "&" | "*" | "mut") {
                return false;
            }
            let next = n.next_sibling().map(|s| rs.node_text(s)).unwrap_or("");
            if next == "." {
                let method = n.next_sibling().and_then(|d| d.next_sibling()).map(|s| rs.node_text(s)).unwrap_or("");
                return !crate::dialects::rust_crates::TX_BORROWING_METHODS.contains(&method);
            }
            true
        }
        // `let tx = …` shadowing, a field init shorthand, a pattern: conservative.
        _ => true,
    }
}

/// True for `#[test]`, `#[tokio::test]`, `#[sqlx::test]` … functions.
pub fn is_test_fn(rs: &RustModel, at: usize) -> bool {
    let Some(fs) = rs.fn_scope_at(at) else { return false };
    rs.scopes[fs].attrs.iter().any(|a| {
        let t = rs.node_text(*a);
        let inner = t.trim_start_matches("#[").split(['(', ']']).next().unwrap_or("");
        inner == "test" || inner.ends_with("::test") || inner == "rstest" || inner.ends_with("test_case")
    })
}

/// The enclosing `fn`'s name says the rollback is its subject (`implicit_rollback_example`,
/// `rolls_back_on_drop`, `roll_back_when_dropped`): like a test, it drops the transaction to
/// show that the writes are discarded. A comment saying so is not enough: only the name.
fn named_for_rollback(rs: &RustModel, at: usize) -> bool {
    let Some(fs) = rs.fn_scope_at(at) else { return false };
    let Some(name) = rs.scopes[fs].node.and_then(|n| n.child_by_field_name("name")) else { return false };
    let name = rs.node_text(name).to_ascii_lowercase();
    ["rollback", "roll_back", "rolls_back", "rolled_back"].iter().any(|w| name.contains(w))
}

impl Rule for TransactionNotCommitted {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Ctx, out: &mut Vec<Finding>) {
        let Some(rs) = cx.rs else { return };
        rs.lets.iter().for_each(|&(let_node, name, value)| {
            let Some(tx) = tx_let(rs, let_node, name, value) else { return };
            if is_test_fn(rs, let_node.start_byte()) || named_for_rollback(rs, let_node.start_byte()) {
                return;
            }
            let uses = tx_uses(rs, &tx);
            if uses.committed_or_moved {
                per_path(cx, rs, &tx, out);
                return;
            }
            if !has_write_evidence(rs, &tx) {
                return;
            }
            let name = tx.name;
            let commit = if tx.awaited { format!("{name}.commit().await") } else { format!("{name}.commit()") };
            let message = format!("Transaction `{name}` is never committed, so its writes are rolled back");
            let mut fixes = vec![];
            // Why there is no fix is in the rule doc, not the message (issue 22).
            if let Some(at) = commit_insertion(rs, &tx) {
                let suffix = match (tx.had_try, tx.err_adapter) {
                    (true, Some(adapter)) => format!("{adapter}?"),
                    (true, None) => "?".to_string(),
                    _ => ".unwrap()".to_string(),
                };
                let indent = line_indent(rs.src, at);
                fixes.push(Fix {
                    title: format!("Insert `{commit}{suffix};` before the final `Ok(…)`"),
                    applicability: Applicability::Unsafe,
                    edits: vec![Edit::insert(at, format!("{commit}{suffix};\n{indent}"))],
                });
            }
            out.push(Finding::new(&META, tx.begin.byte_range(), message, fixes));
        });
    }
}

/// A transaction committed (or rolled back, or moved) on some paths and dropped at a normal
/// exit on another, after a write: reported at the `begin`, the exits as related locations.
/// No fix: whether that path means to keep the writes (commit) or discard them (an explicit
/// rollback) is the author's call.
fn per_path(cx: &Ctx, rs: &RustModel, tx: &TxLet, out: &mut Vec<Finding>) {
    let exits = uncommitted_exits(rs, tx);
    let Some(first) = exits.first() else { return };
    let line = cx.index.line_of(first.start_byte()) + 1;
    let name = tx.name;
    let message = format!(
        "Transaction `{name}` is dropped uncommitted at the `return` on line {line}, so its writes are rolled back"
    );
    let mut f = Finding::new(&META, tx.begin.byte_range(), message, vec![]);
    f.related = exits
        .iter()
        .map(|r| Loc { path: Default::default(), range: r.byte_range(), what: format!("`{name}` dropped uncommitted here") })
        .collect();
    out.push(f);
}

/// Where `tx.commit()…;` goes: before the block's tail `Ok(…)` (or `return Ok(…);`), when the
/// transaction was opened with `?` or `.unwrap()`.
fn commit_insertion(rs: &RustModel, tx: &TxLet) -> Option<usize> {
    if !tx.had_try && !tx.had_unwrap {
        return None;
    }
    let mut c = tx.block.walk();
    let last = tx
        .block
        .named_children(&mut c)
        .filter(|n| !matches!(n.kind(), "line_comment" | "block_comment"))
        .last()?;
    if last.start_byte() < tx.let_node.end_byte() {
        return None;
    }
    let expr = match last.kind() {
        "expression_statement" => last.named_child(0).filter(|e| e.kind() == "return_expression")?,
        _ => last,
    };
    let inner = if expr.kind() == "return_expression" { expr.named_child(0)? } else { expr };
    let t = rs.node_text(inner);
    (t.starts_with("Ok(") && inner.kind() == "call_expression").then_some(last.start_byte())
}

/// The whitespace that starts the line holding byte `at`.
fn line_indent(src: &str, at: usize) -> String {
    let start = src[..at].rfind('\n').map_or(0, |i| i + 1);
    src[start..at].chars().take_while(|c| c.is_whitespace()).collect()
}
