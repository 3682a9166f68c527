//! AG513 cancel-unsafe-transaction: a transaction future that may be cancelled half-way and
//! leave the transaction open (RULES.md §AG513, §3.9 R-i, R-m).
//!
//! Invariants:
//! - diesel-async (the file uses `diesel_async`, not sqlx): a `.transaction(…)` call whose
//!   future is under a timeout (`tokio::time::timeout(d, …)`, `….timeout(d)`), inside a
//!   `select!` (its tokens hold `.transaction(` / `.transaction::<`), or inside an async block
//!   spawned into a handle that the same function `.abort()`s.
//! - sqlx (every version the `Cargo.lock` pins is ≤ 0.8.6; no lock: silent): a `begin()` /
//!   `begin_with(…)` under a timeout, in a `select!` branch future, or in a spawned task the
//!   function aborts.
//! - In `select!`, only a branch's future (`pat = FUTURE => handler`) is cancelled when another
//!   branch wins; code in a handler runs to completion and stays silent.
//! - "Under" is the chain of enclosing expressions up to the function, through async blocks
//!   but not through closures or nested functions (their code runs when someone calls them).
//!   A timeout inside the transaction's closure is the recommended shape and stays silent.

use super::{Ctx, Finding, FixAvailability, Rule, RuleMeta, Severity};
use crate::dialects::Version;
use crate::semantic::rust::{method_parts, Kind, RustModel};
use crate::syntax::Lang;
use tree_sitter::Node;

pub struct CancelUnsafeTransaction;

/// The last sqlx release whose `begin()` can leave a transaction open when cancelled
/// (sqlx#3875, fixed in 0.9.0 by #3980).
const SQLX_LAST_UNSAFE: Version = Version(0, 8, 6);

static META: RuleMeta = RuleMeta {
    code: "AG513",
    name: "cancel-unsafe-transaction",
    lang: Lang::Rust,
    severity: Severity::Warning,
    fix: FixAvailability::None,
    triggers: &[&["transaction", "begin", "begin_with"], &["timeout", "select", "abort"]],
    summary: "Transaction future may be cancelled half-way and leave the transaction open",
    doc: r#"## AG513 cancel-unsafe-transaction

**What it catches.** A diesel-async `conn.transaction(…)` future under `tokio::time::timeout`,
as a `select!` branch future, or spawned into a task that is then aborted; with sqlx 0.8.6 or
older (from the project's `Cargo.lock`), a `pool.begin()` in the same three places.

**Why it is wrong.** diesel-async documents that cancelling the future returned by
`transaction` does not close a transaction already opened: the connection goes back to the
pool inside it. sqlx up to 0.8.6 can leave an open transaction on a pooled connection when
the `begin()` future is dropped mid-`BEGIN` (sqlx#3875, fixed in 0.9.0).

**Example.**
```rust
let res = tokio::time::timeout(
    Duration::from_secs(5),
    conn.transaction::<_, diesel::result::Error, _>(|c| async move { … }.scope_boxed()), // AG513
)
.await;
```

**Fix.** None automatic: put the timeout inside the transaction (around each query), or use a
database-side `statement_timeout`; upgrade sqlx to 0.9.

**Stays silent on** a timeout inside the transaction closure, a transaction begun in a
`select!` branch's handler (`_ = stop => { … }`: it runs to completion), a spawned task that is
awaited rather than aborted, sqlx 0.9 or later, a project
without a `Cargo.lock` that pins sqlx (for `begin()`), and the sync diesel `transaction`.

**Suppress** with `// awaitguard: ignore[AG513]` on the line.
"#,
};

impl Rule for CancelUnsafeTransaction {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Ctx, out: &mut Vec<Finding>) {
        let Some(rs) = cx.rs else { return };
        let diesel_async = rs.uses("diesel_async") && !rs.uses("sqlx");
        let old_sqlx = rs.uses("sqlx") && cx.settings.sqlx_versions.is_some_and(|(_, hi)| hi <= SQLX_LAST_UNSAFE);
        if !diesel_async && !old_sqlx {
            return;
        }
        for &call in &rs.method_calls {
            let Some((recv, m)) = method_parts(call) else { continue };
            let nargs = call.child_by_field_name("arguments").map(crate::semantic::rust::count_args).unwrap_or(0);
            let what = match rs.node_text(m) {
                "transaction" if diesel_async && nargs == 1 && rs.kind_of(recv) != Kind::SqlxPool => "diesel-async `transaction`",
                "begin" if old_sqlx && nargs == 0 => "sqlx `begin()`",
                "begin_with" if old_sqlx && nargs == 1 => "sqlx `begin_with()`",
                _ => continue,
            };
            let how = match cancelled_by(rs, call) {
                Some(Cancel::Timeout) => "under a timeout",
                Some(Cancel::Abort) => "in a task that is aborted",
                None => continue,
            };
            out.push(finding(what, how, call.byte_range()));
        }
        if (diesel_async || old_sqlx) && cx.src.contains("select!") {
            // `select!` arms are macro tokens: find `.transaction(` / `.transaction::<` (or
            // sqlx `.begin()` / `.begin_with(…)`) in a branch's future, not in its handler.
            for mac in select_macros(cx.tree.root_node(), rs) {
                let mut stack = select_futures(mac, rs);
                while let Some(t) = stack.pop() {
                    if t.kind() == "identifier" {
                        let dot = t.prev_sibling().is_some_and(|p| rs.node_text(p) == ".");
                        let next = t.next_sibling();
                        let next_text = next.map(|s| rs.node_text(s)).unwrap_or("");
                        let what = match rs.node_text(t) {
                            "transaction" if diesel_async && (next_text.starts_with('(') || next_text == "::") => {
                                "diesel-async `transaction`"
                            }
                            "begin" if old_sqlx && next_text.starts_with('(') && next.is_some_and(|n| n.named_child_count() == 0) => {
                                "sqlx `begin()`"
                            }
                            "begin_with" if old_sqlx && next_text.starts_with('(') => "sqlx `begin_with()`",
                            _ => continue,
                        };
                        if dot {
                            out.push(finding(what, "in a `select!` branch", t.byte_range()));
                        }
                        continue;
                    }
                    let mut c = t.walk();
                    stack.extend(t.children(&mut c));
                }
            }
        }
    }
}

/// The tokens of a `select!`'s branch futures (`pattern = FUTURE => handler,`): a future
/// there is dropped when another branch wins; a handler runs to completion.
fn select_futures<'t>(mac: Node<'t>, rs: &RustModel<'t>) -> Vec<Node<'t>> {
    let mut c = mac.walk();
    let Some(body) = mac.children(&mut c).find(|n| n.kind() == "token_tree") else { return vec![] };
    #[derive(PartialEq)]
    enum At {
        Pattern,
        Future,
        Handler,
    }
    let mut at = At::Pattern;
    let mut out = vec![];
    let mut c = body.walk();
    let toks: Vec<Node<'t>> = body.children(&mut c).collect();
    let inner = toks.len().saturating_sub(1);
    let mut i = 1; // skip the delimiters
    while i < inner {
        let t = toks[i];
        let text = rs.node_text(t);
        let arrow = text == "=>" || (text == "=" && toks.get(i + 1).is_some_and(|n| rs.node_text(*n) == ">" && n.start_byte() == t.end_byte()));
        match at {
            _ if arrow => {
                at = At::Handler;
                if text == "=" {
                    i += 1;
                }
                // A block handler ends with its braces (a `,` may follow).
                if toks.get(i + 1).is_some_and(|n| n.kind() == "token_tree" && rs.node_text(*n).starts_with('{')) {
                    i += 1;
                    at = At::Pattern;
                    if toks.get(i + 1).is_some_and(|n| rs.node_text(*n) == ",") {
                        i += 1;
                    }
                }
            }
            At::Pattern if text == "=" => at = At::Future,
            At::Pattern if text == ";" => {}
            At::Future => out.push(t),
            At::Handler if text == "," => at = At::Pattern,
            _ => {}
        }
        i += 1;
    }
    out
}

fn finding(what: &str, how: &str, range: std::ops::Range<usize>) -> Finding {
    Finding::new(
        &META,
        range,
        format!("This {what} future runs {how} and can be cancelled with its transaction open"),
        vec![],
    )
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Cancel {
    Timeout,
    Abort,
}

/// The `select!` / `tokio::select!` invocations of the file (outermost ones).
fn select_macros<'t>(root: Node<'t>, rs: &RustModel<'t>) -> Vec<Node<'t>> {
    let mut out = vec![];
    let mut stack = vec![root];
    while let Some(n) = stack.pop() {
        if n.kind() == "macro_invocation" {
            let name = n.child_by_field_name("macro").map(|m| rs.node_text(m)).unwrap_or("");
            if name == "select" || name.ends_with("::select") {
                out.push(n);
                continue;
            }
        }
        let mut c = n.walk();
        stack.extend(n.children(&mut c));
    }
    out
}

/// What may cancel the future of `call`: an enclosing timeout, or a spawn whose handle is
/// aborted in the same function.
fn cancelled_by<'t>(rs: &RustModel<'t>, call: Node<'t>) -> Option<Cancel> {
    let mut inner = call;
    let mut in_async_block = false;
    let mut a = call.parent();
    while let Some(x) = a {
        match x.kind() {
            "closure_expression" | "function_item" | "impl_item" | "source_file" => return None,
            "call_expression" => {
                let func = x.child_by_field_name("function")?;
                let args = x.child_by_field_name("arguments");
                let in_args = args.is_some_and(|g| g.start_byte() <= inner.start_byte() && inner.end_byte() <= g.end_byte());
                match method_parts(x) {
                    // `fut.timeout(d)` (tokio-util / async-std extension traits).
                    Some((recv, m)) => {
                        if rs.node_text(m) == "timeout" && recv.byte_range().contains(&inner.start_byte()) {
                            return Some(Cancel::Timeout);
                        }
                    }
                    None => {
                        let f = rs.node_text(func);
                        let last = f.rsplit("::").next().unwrap_or(f);
                        if in_args && last == "timeout" {
                            return Some(Cancel::Timeout);
                        }
                        if in_args && last == "spawn" && in_async_block && spawned_and_aborted(rs, x) {
                            return Some(Cancel::Abort);
                        }
                    }
                }
            }
            "async_block" => in_async_block = true,
            _ => {}
        }
        inner = x;
        a = x.parent();
    }
    None
}

/// `let h = tokio::spawn(…);` followed by `h.abort()` in the same function.
fn spawned_and_aborted(rs: &RustModel, spawn: Node) -> bool {
    let Some(l) = spawn.parent().filter(|p| p.kind() == "let_declaration") else { return false };
    let Some(pat) = l.child_by_field_name("pattern").filter(|p| p.kind() == "identifier") else { return false };
    let h = rs.node_text(pat);
    let fs = rs.fn_scope_at(spawn.start_byte());
    rs.method_calls.iter().any(|&c| {
        c.start_byte() > spawn.end_byte()
            && rs.fn_scope_at(c.start_byte()) == fs
            && method_parts(c).is_some_and(|(r, m)| rs.node_text(m) == "abort" && rs.node_text(r) == h)
    })
}
