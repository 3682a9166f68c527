//! AG501 blocking-db-call-in-async: a call into a sync database crate (diesel, r2d2,
//! rusqlite, postgres) in async context, not awaited (RULES.md §AG501, §3.8).
//!
//! Fires only on receivers the file ties to the crate ([`crate::semantic::rust::Kind`]):
//! a parameter or `let` typed or initialised from the crate, a struct field of that type,
//! through type aliases and wrappers (`web::Data<DbPool>`). diesel query methods
//! (`load`, `execute`, `first` …) fire when the file's `RunQueryDsl` is diesel's sync one and
//! the single argument is a diesel connection (or shaped like one: `&mut conn`). Unknown
//! receivers stay silent: `map.get(k)`, sqlx `query.execute(&pool).await`, `slice.first()`.

use super::rust_util::{args_of, is_awaited, move_blocker};
use super::{short, Ctx, Finding, FixAvailability, Rule, RuleMeta, Severity};
use crate::dialects::rust_crates::{self as rc, Crate, TxOrStmt};
use crate::fix::{Applicability, Edit, Fix};
use crate::semantic::rust::{Kind, RContext, RScopeKind, RustModel};
use std::collections::HashMap;
use crate::semantic::rust::method_parts;
use crate::syntax::Lang;
use tree_sitter::Node;

pub struct BlockingDbCallInAsync;

static META: RuleMeta = RuleMeta {
    code: "AG501",
    name: "blocking-db-call-in-async",
    lang: Lang::Rust,
    severity: Severity::Warning,
    fix: FixAvailability::Sometimes,
    triggers: &[&["async"]],
    summary: "Blocking database call (diesel, r2d2, rusqlite, postgres) in async code",
    doc: r#"## AG501 blocking-db-call-in-async

**What it catches.** In an `async fn`, an `async` block or an async closure (and in sync
closures nested in them that are not handed to a thread), a call into a *sync* database
crate:
- diesel: `load`, `get_result(s)`, `first`, `execute`, `load_iter`, `save_changes` when the
  file's `RunQueryDsl` is diesel's (not diesel-async's); `conn.transaction(…)`,
  `batch_execute`, `build_transaction`; `PgConnection::establish(…)`;
- r2d2: `pool.get()` (waits up to `connection_timeout`, 30 s by default), `Pool::new`,
  `Pool::builder().build(…)`;
- rusqlite: `Connection::open`, `execute`, `query_row`, `prepare`, `transaction`, statement
  `query` / `query_map` / `execute` …;
- postgres (the sync crate): every `Client` / `Transaction` method and `Client::connect`.
  These are reported as **errors**: the crate calls `block_on` on its own runtime and panics
  on a tokio thread with "Cannot start a runtime from within a runtime". They are also
  reported in sync functions of the same file that async code calls (directly or through
  other sync functions): the panic happens at any depth (no fix there).

**Why it is wrong.** The call holds the runtime worker thread until the database answers;
every other task scheduled on that worker waits (under actix, a whole worker). Tokio's
guidance: code that does not reach an `.await` for a long time must run in
`spawn_blocking`.

**Example.**
```rust
async fn count_users(pool: Pool<ConnectionManager<PgConnection>>) -> anyhow::Result<i64> {
    let mut conn = pool.get()?;                          // AG501
    Ok(users::table.count().get_result(&mut conn)?)      // AG501
}
```

**Fix (unsafe).** Move the call to the blocking pool:
```rust
let mut conn = tokio::task::spawn_blocking(move || pool.get()).await??;
```
(`web::block` in actix files that import `web`). Offered only when every local the call
reads is owned, is not used afterwards, and the call is not in a loop; `??` when the
function's error type absorbs `JoinError` (anyhow, eyre, `Box<dyn Error>`), else
`.await.unwrap()?` (a panic in the closure resumes as a panic). Otherwise the finding has no
fix: clone what the closure needs, or switch to diesel-async / tokio-postgres / sqlx.
`block_in_place` is never offered: it panics on current-thread runtimes (AG503).

**Stays silent on** test functions (`#[tokio::test]`, `#[actix_web::test]` …: blocking
there stalls nothing else; the postgres panic is still reported), awaited calls (diesel-async, tokio-postgres, sqlx, sea-orm), code in
closures given to `spawn_blocking`, `block_in_place`, `web::block`, deadpool `interact`,
`std::thread::spawn`, sync functions, and the same method names on receivers the file does
not tie to these crates (`HashMap::get`, `slice.first()`, an HTTP client's `execute`).

**Suppress** with `// awaitguard: ignore[AG501]` on the line.
"#,
};

impl Rule for BlockingDbCallInAsync {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Ctx, out: &mut Vec<Finding>) {
        let Some(rs) = cx.rs else { return };
        let mut found: Vec<(Node, Crate, String, Option<usize>)> = Vec::new();
        let diesel_sync = rs.diesel_sync_dsl();
        // Sync functions of this file reachable from async code: the postgres crate panics
        // there too (RULES.md §AG501, interprocedural case).
        let reachable = if rs.uses("postgres") { reachable_sync_fns(rs) } else { HashMap::new() };
        // Where a call runs: `Some(None)` async context, `Some(Some(caller))` a sync fn
        // reachable from async code (only postgres calls count there), `None` elsewhere.
        let runs_on_runtime = |call: Node| -> Option<Option<usize>> {
            if rs.context_at(call.start_byte()).is_async() {
                return Some(None);
            }
            if rs.in_offloaded(call.start_byte()) {
                return None;
            }
            let fs = rs.fn_scope_at(call.start_byte())?;
            reachable.get(&fs).map(|from| Some(*from))
        };
        rs.method_calls.iter().for_each(|&call| {
            let Some(args) = call.child_by_field_name("arguments") else { return };
            let Some((receiver, method)) = method_parts(call) else { return };
            let Some(via) = runs_on_runtime(call) else { return };
            if is_awaited(call) {
                return;
            }
            let m = rs.node_text(method);
            let args = args_of(args);
            let rk = rs.kind_of(receiver);
            let hit = match rk {
                Kind::DieselConn if rc::DIESEL_CONN_METHODS.contains(&m) => Some(Crate::Diesel),
                Kind::R2d2Pool(_) if rc::R2D2_POOL_METHODS.contains(&m) => Some(Crate::R2d2),
                Kind::RusqliteConn if rc::is_blocking_method(Crate::Rusqlite, m, TxOrStmt::Conn) => Some(Crate::Rusqlite),
                Kind::RusqliteTx if rc::is_blocking_method(Crate::Rusqlite, m, TxOrStmt::Tx) => Some(Crate::Rusqlite),
                Kind::RusqliteStmt if rc::is_blocking_method(Crate::Rusqlite, m, TxOrStmt::Stmt) => Some(Crate::Rusqlite),
                Kind::PgClient if rc::is_blocking_method(Crate::Postgres, m, TxOrStmt::Conn) => Some(Crate::Postgres),
                Kind::PgTx if rc::is_blocking_method(Crate::Postgres, m, TxOrStmt::Tx) => Some(Crate::Postgres),
                Kind::Unknown
                    if diesel_sync && args.len() == 1 && rc::DIESEL_QUERY_METHODS.contains(&m) && diesel_conn_arg(rs, args[0]) =>
                {
                    Some(Crate::Diesel)
                }
                Kind::Unknown if (m == "build" || m == "build_unchecked") => match rs.kind_of(call) {
                    Kind::R2d2Pool(_) => Some(Crate::R2d2),
                    _ => None,
                },
                _ => None,
            };
            if via.is_some() && hit != Some(Crate::Postgres) {
                return;
            }
            if let Some(krate) = hit {
                let recv = short(rs.node_text(receiver), 32);
                let what = if args.is_empty() { format!("{recv}.{m}()") } else { format!("{recv}.{m}(…)") };
                found.push((call, krate, what, via));
            }
        });
        rs.path_calls.iter().for_each(|&(call, path)| {
            let Some(via) = runs_on_runtime(call) else { return };
            if is_awaited(call) {
                return;
            }
            let p = rs.node_text(path);
            let Some((ty, f)) = p.rsplit_once("::") else { return };
            let krate = match (rs.kind_of(call), f) {
                (Kind::DieselConn, _) if rc::DIESEL_CTORS.contains(&f) => Crate::Diesel,
                (Kind::RusqliteConn, _) if rc::RUSQLITE_CTORS.contains(&f) => Crate::Rusqlite,
                (Kind::PgClient, "connect") => Crate::Postgres,
                (Kind::R2d2Pool(_), "new") => Crate::R2d2,
                _ => return,
            };
            if via.is_some() && krate != Crate::Postgres {
                return;
            }
            found.push((call, krate, format!("{}::{f}(…)", short(ty, 32)), via));
        });
        // A call inside another reported call (the closure of `conn.transaction(|c| …)`, the
        // `pool.get()?` argument of a `load`) is covered by the outer finding.
        let ranges: Vec<_> = found.iter().map(|(c, _, _, _)| c.byte_range()).collect();
        for (call, krate, what, via) in &found {
            // Blocking in a test is harmless (nothing else runs on its runtime), except for
            // the postgres crate, which panics there too.
            if *krate != Crate::Postgres && super::ag510_transaction_not_committed::is_test_fn(rs, call.start_byte()) {
                continue;
            }
            let r = call.byte_range();
            if ranges.iter().any(|o| *o != r && o.start <= r.start && r.end <= o.end) {
                continue;
            }
            let mut f = finding(rs, *call, *krate, what);
            if let Some(from) = via {
                let (name, line) = fn_name_line(cx, rs, *from);
                f.message = format!(
                    "`{what}` is the sync `postgres` crate in a function reached from async code (`{name}`, line {line}): \
                     it runs `block_on` on its own runtime and panics inside tokio (\"Cannot start a runtime from within a \
                     runtime\"). Use tokio-postgres, or call this function through `spawn_blocking`"
                );
                f.fixes.clear();
            }
            out.push(f);
        }
    }
}

/// Sync `fn` items of this file called (by name, transitively) from async context; each
/// maps to the async scope whose call reaches it first.
fn reachable_sync_fns<'t>(rs: &RustModel<'t>) -> HashMap<usize, usize> {
    let mut by_name: HashMap<&'t str, Vec<usize>> = HashMap::new();
    for (i, s) in rs.scopes.iter().enumerate() {
        if s.kind == RScopeKind::Fn && !s.is_async {
            if let Some(n) = s.node.and_then(|n| n.child_by_field_name("name")) {
                by_name.entry(rs.node_text(n)).or_default().push(i);
            }
        }
    }
    // (caller: `Err(async scope)` or `Ok(sync fn scope)`, callee name)
    let mut edges: Vec<(Result<usize, usize>, &'t str)> = Vec::new();
    let mut add = |call: Node<'t>, name: &'t str| {
        if !by_name.contains_key(name) {
            return;
        }
        let b = call.start_byte();
        match rs.context_at(b) {
            RContext::Async { scope, .. } => edges.push((Err(scope), name)),
            RContext::Sync if !rs.in_offloaded(b) => {
                if let Some(fs) = rs.fn_scope_at(b) {
                    edges.push((Ok(fs), name));
                }
            }
            RContext::Sync => {}
        }
    };
    for &(call, path) in &rs.path_calls {
        let t = rs.node_text(path);
        let last = t.rsplit("::").next().unwrap_or(t);
        if path.kind() == "identifier" || t.starts_with("Self::") || t.starts_with("self::") || t.starts_with("super::") {
            add(call, last);
        }
    }
    for &call in &rs.method_calls {
        if let Some((recv, m)) = crate::semantic::rust::method_parts(call) {
            if rs.node_text(recv) == "self" {
                add(call, rs.node_text(m));
            }
        }
    }
    let mut reached: HashMap<usize, usize> = HashMap::new();
    let mut work: Vec<(usize, usize)> = Vec::new();
    for (from, name) in &edges {
        if let Err(root) = from {
            for &f in &by_name[name] {
                work.push((f, *root));
            }
        }
    }
    while let Some((f, root)) = work.pop() {
        if reached.contains_key(&f) {
            continue;
        }
        reached.insert(f, root);
        for (from, name) in &edges {
            if *from == Ok(f) {
                for &g in &by_name[name] {
                    work.push((g, root));
                }
            }
        }
    }
    reached
}

/// The name and 1-based line of an async scope (its `fn`, or the enclosing one).
fn fn_name_line(cx: &Ctx, rs: &RustModel, scope: usize) -> (String, usize) {
    let s = &rs.scopes[scope];
    let fs = rs.fn_scope_at(s.range.start).unwrap_or(scope);
    let node = rs.scopes[fs].node.or(s.node);
    let name = node
        .and_then(|n| n.child_by_field_name("name"))
        .map(|n| rs.node_text(n).to_string())
        .unwrap_or_else(|| "async block".into());
    let line = node.map(|n| cx.index.line_of(n.start_byte()) + 1).unwrap_or(1);
    (name, line)
}

/// The argument of a diesel query method: a diesel connection, or shaped like one
/// (`&mut conn`, `&mut *pooled`, `conn`).
fn diesel_conn_arg(rs: &RustModel, arg: Node) -> bool {
    match rs.kind_of(arg) {
        Kind::DieselConn => true,
        Kind::Unknown => {
            let is_mut_ref = arg.kind() == "reference_expression"
                && arg.named_children(&mut arg.walk()).any(|c| c.kind() == "mutable_specifier");
            let inner = rs.strip(arg);
            let name = match inner.kind() {
                "identifier" => rs.node_text(inner),
                "field_expression" => inner.child_by_field_name("field").map(|f| rs.node_text(f)).unwrap_or(""),
                _ => return false,
            };
            let lower = name.to_ascii_lowercase();
            is_mut_ref || lower.contains("conn")
        }
        _ => false,
    }
}

fn finding(rs: &RustModel, call: Node, krate: Crate, what: &str) -> Finding {
    let ctx = rs.context_at(call.start_byte());
    let (severity, mut message) = match krate {
        Crate::Postgres => (
            Severity::Error,
            format!(
                "`{what}` is the sync `postgres` crate in async code: it runs `block_on` on its own runtime and panics \
                 inside tokio (\"Cannot start a runtime from within a runtime\"). Use tokio-postgres (same methods + `.await`) \
                 or run it in `spawn_blocking`"
            ),
        ),
        Crate::R2d2 => (
            META.severity,
            format!(
                "`{what}` blocks the async runtime: an r2d2 pool waits for a connection (up to `connection_timeout`, \
                 30 s by default). Use an async pool (bb8, deadpool) or run it with the query in `spawn_blocking`"
            ),
        ),
        Crate::Diesel => (
            META.severity,
            format!(
                "`{what}` is a sync diesel call in async code: it blocks this runtime thread until the database answers. \
                 Use diesel-async, or run it in `spawn_blocking`"
            ),
        ),
        Crate::Rusqlite => (
            META.severity,
            format!("`{what}` is a sync rusqlite call in async code: it blocks this runtime thread. Run it in `spawn_blocking`"),
        ),
    };
    let mut fixes = vec![];
    let method = crate::semantic::rust::method_parts(call).map(|(_, m)| rs.node_text(m)).unwrap_or("");
    let fix = if rc::result_borrows(krate, method) {
        Err("its result borrows the connection, so it cannot run alone in a closure; move the whole block that uses it")
    } else {
        spawn_fix(rs, call, ctx)
    };
    match fix {
        Ok(fix) => fixes.push(fix),
        Err(why) => {
            message.push_str(" (no automatic fix: ");
            message.push_str(why);
            message.push(')');
        }
    }
    Finding { severity, ..Finding::new(&META, call.byte_range(), message, fixes) }
}

/// `call?` → `tokio::task::spawn_blocking(move || call).await??` (or `web::block`), when the
/// moved values are owned.
fn spawn_fix(rs: &RustModel, call: Node, ctx: RContext) -> Result<Fix, &'static str> {
    let RContext::Async { scope, blocker: None } = ctx else {
        return Err("the call is in a sync closure, where `.await` cannot go");
    };
    let spawner = if rs.imports.get("web").is_some_and(|p| p == "actix_web::web") {
        "web::block"
    } else if rs.uses("tokio") || rs.uses("actix_web") || rs.uses("actix_rt") || rs.uses("axum") {
        "tokio::task::spawn_blocking"
    } else {
        return Err("no tokio or actix runtime is visible in this file");
    };
    let (target, had_try) = match call.parent() {
        Some(p) if p.kind() == "try_expression" => (p, true),
        _ => (call, false),
    };
    let scope_end = rs.scopes[scope].range.end;
    if let Some(why) = move_blocker(rs, call, scope_end) {
        return Err(why);
    }
    let fn_scope = rs.fn_scope_at(call.start_byte());
    let absorbs = rs.scopes[scope].kind == crate::semantic::rust::RScopeKind::Fn
        && fn_scope.is_some_and(|f| rs.fn_error_absorbs_join_error(f));
    let body = rs.node_text(call);
    let tail = match (had_try, absorbs) {
        (true, true) => ".await??",
        (true, false) => ".await.unwrap()?",
        (false, true) => ".await?",
        (false, false) => ".await.unwrap()",
    };
    let text = format!("{spawner}(move || {body}){tail}");
    Ok(Fix {
        title: format!("Run it in `{spawner}(move || …)`"),
        applicability: Applicability::Unsafe,
        edits: vec![Edit::replace(target.byte_range(), text)],
    })
}
