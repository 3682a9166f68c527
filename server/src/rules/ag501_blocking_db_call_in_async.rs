//! AG501 blocking-db-call-in-async: a call into a sync database crate (diesel, r2d2,
//! rusqlite, postgres) in async context, not awaited (RULES.md §AG501, §3.8).
//!
//! Fires only on receivers the file ties to the crate ([`crate::semantic::rust::Kind`]):
//! a parameter or `let` typed or initialised from the crate, a struct field of that type,
//! through type aliases and wrappers (`web::Data<DbPool>`). diesel query methods
//! (`load`, `execute`, `first` …) fire when the file's `RunQueryDsl` is diesel's sync one and
//! the single argument is a diesel connection (or shaped like one: `&mut conn`). Unknown
//! receivers stay silent: `map.get(k)`, sqlx `query.execute(&pool).await`, `slice.first()`.
//!
//! Across modules (through the project model, [`crate::project::rust`]): receivers typed by
//! another module's alias, struct field, static or method; a call in async code to a sync
//! project function that blocks (directly or through the functions it calls) is reported at
//! the call, with the chain of calls down to the blocking one as `related` locations; a
//! closure given to a project function that forwards it to a blocking thread is offloaded.
//! Pool set-up in `async fn main` (building an r2d2 pool, a helper that only builds or opens
//! one) is not reported: it runs once before the server takes requests, and on real code
//! every such finding was judged debatable. Connecting with the `postgres` crate there is
//! still reported (as info): it panics inside the runtime.

use super::rust_util::{is_awaited, move_blocker};
use super::{Ctx, Finding, FixAvailability, Rule, RuleMeta, Severity};
use crate::dialects::rust_crates::{self as rc, Crate};
use crate::fix::{Applicability, Edit, Fix};
use crate::semantic::rust::{RContext, RScopeKind, RustModel};
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
reads is owned, is not used afterwards (judged on the tree: a name in a comment or a
string is not a use; a `{name}` format argument is), and the call is not in a loop. The
tail is the one maintainers write for the function's return type:
- `.await??` when its error type absorbs `JoinError` through `?`: anyhow, eyre,
  `Box<dyn Error>`, an error type with `impl From<JoinError>` or a `thiserror` variant
  `#[from] tokio::task::JoinError` in its own file (this one or the project module that
  declares it; also through this file's `type Result<T> = …` alias); for `web::block`, `actix_web::Result` / `actix_web::Error` or
  a `From<BlockingError>` (actix's own examples: `web::block(move || …).await??`,
  `.await?.map_err(…)?`);
- `.await.map_err(F)?` when the call's error is already mapped by `.map_err(F)?` with an `F`
  that takes any error (a generic function of the file, axum's `internal_error`, or actix's
  `ErrorInternalServerError`);
- else `.await.unwrap()?` (a panic in the closure resumes as a panic). Otherwise the finding has no
fix: clone what the closure needs, or switch to diesel-async / tokio-postgres / sqlx.
`block_in_place` is never offered: it panics on current-thread runtimes (AG503).

**Across modules.** The pool alias, the `AppState` struct and its fields
(`State<AppState>`, `web::Data<AppState>`, `Extension<AppState>`), statics (`LazyLock`,
`once_cell::Lazy`, `lazy_static!`) and methods returning pooled connections are read from the
module that declares them. A call to a sync function of the project that blocks — directly,
or through the project functions it calls — is reported at the call in async code, with the
blocking call (and each call on the way) as related information:
```rust
async fn show(pool: web::Data<DbPool>) -> i64 {
    repo::count_users(&pool)      // AG501: blocks through `pool.get()` in repo.rs
}
```
A closure handed to a project wrapper that forwards it to `spawn_blocking`, `web::block` or
`block_in_place` (at any depth: `conn.run(|c| …)`, `run_db(&pool, |c| …)`) runs off the
runtime and is not reported. Names that resolve outside the crate stay unknown (silent).

**Start-up code.** Building a pool in `async fn main` (`#[tokio::main]`, `#[actix_web::main]`)
blocks once, before the server takes requests: nothing else is waiting yet, so it is not
reported. (A `postgres::Client::connect` reached there is reported as information.)

**Stays silent on** test functions (`#[tokio::test]`, `#[actix_web::test]` …: blocking
there stalls nothing else; the postgres panic is still reported), awaited calls (diesel-async, tokio-postgres, sqlx, sea-orm), code in
closures given to `spawn_blocking` (also `JoinSet::spawn_blocking[_on]`,
`Handle::spawn_blocking`, and a closure that is the value of a block argument:
`spawn_blocking({ let p = pool.clone(); move || … })`), `block_in_place`, `web::block`,
deadpool `interact`, `std::thread::spawn` / `Builder::spawn` / `scope.spawn`, `rayon::spawn`,
sync functions, and the same method names on receivers the file does
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
        for &call in rs.method_calls.iter().chain(rs.path_calls.iter().map(|(c, _)| c)) {
            let Some(via) = runs_on_runtime(call) else { continue };
            let Some((krate, what)) = rs.blocking_call(call) else { continue };
            if via.is_some() && krate != Crate::Postgres {
                continue;
            }
            found.push((call, krate, what, via));
        }
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
                    "`{what}` is a sync `postgres` call in a function reached from async `{name}` (line {line})"
                );
                f.fixes.clear();
            }
            if *krate == Crate::R2d2 && via.is_none() && is_startup(rs, *call) {
                continue;
            }
            out.push(f);
        }
        helper_calls(cx, rs, &reachable, &ranges, out);
    }
}

/// Pool set-up in `async fn main` (or a `#[tokio::main]`/`#[actix_web::main]` function) runs
/// once, before the server takes requests: blocking there stalls nothing yet (RULES.md
/// §AG501, startup code).
fn is_startup(rs: &RustModel, call: Node) -> bool {
    if !in_async_main(rs, call) {
        return false;
    }
    // Building the pool, not using it: `Pool::new(…)`, `Pool::builder()….build(…)`.
    let text = rs.node_text(call);
    let method = method_parts(call).map(|(_, m)| rs.node_text(m));
    matches!(method, Some("build" | "build_unchecked")) || (method.is_none() && text.contains("::new"))
}

/// True when the blocking call a helper ends in sets up a pool or a connection
/// (`Pool::builder().build(…)`, `PgConnection::establish(…)`, `Connection::open(…)`).
fn is_setup(what: &str) -> bool {
    [".build(", ".build_unchecked(", "::new(", "::establish(", "::open(", "::connect("].iter().any(|w| what.contains(w))
}

/// True when `call` is in `async fn main` (or a `#[tokio::main]`-like function).
fn in_async_main(rs: &RustModel, call: Node) -> bool {
    let Some(fs) = rs.fn_scope_at(call.start_byte()) else { return false };
    let s = &rs.scopes[fs];
    let name = s.node.and_then(|n| n.child_by_field_name("name")).map(|n| rs.node_text(n)).unwrap_or("");
    let main_attr = s.attrs.iter().any(|a| {
        let t = rs.node_text(*a);
        let inner = t.trim_start_matches("#[").split(['(', ']']).next().unwrap_or("").trim();
        inner.ends_with("::main")
    });
    // In `main`'s own body: not in a task it spawns (which runs alongside the server).
    s.is_async
        && (name == "main" || main_attr)
        && matches!(rs.context_at(call.start_byte()), RContext::Async { scope, blocker: None } if scope == fs)
}

fn startup(f: &mut Finding) {
    f.severity = Severity::Info;
    f.message.push_str(" (start-up code in `main`)");
}

/// A sync function of the project (this file's or another module's) that blocks on the
/// database, directly or through the functions it calls, called from async code: reported at
/// the call, with the chain down to the blocking call as related locations.
fn helper_calls(cx: &Ctx, rs: &RustModel, reachable: &HashMap<usize, usize>, reported: &[std::ops::Range<usize>], out: &mut Vec<Finding>) {
    let mut calls: Vec<Node> = rs.method_calls.iter().chain(rs.path_calls.iter().map(|(c, _)| c)).copied().collect();
    calls.sort_by_key(|c| c.start_byte());
    let mut mine: Vec<std::ops::Range<usize>> = vec![];
    for call in calls {
        let b = call.start_byte();
        if !rs.context_at(b).is_async() || is_awaited(call) {
            continue;
        }
        let r = call.byte_range();
        // Inside a call already reported (the blocking call itself, another helper call).
        if reported.iter().chain(mine.iter()).any(|o| o.start <= r.start && r.end <= o.end) {
            continue;
        }
        let Some(facts) = rs.callee_facts(call) else { continue };
        if facts.is_async || facts.blocks.is_empty() {
            continue;
        }
        // Same-file postgres chains are reported inside the helpers already.
        if !reachable.is_empty() && rs.fn_items.contains_key(facts.name.as_str()) {
            if let Some(fs) = rs.scopes.iter().position(|s| {
                s.node.and_then(|n| n.child_by_field_name("name")).is_some_and(|n| rs.node_text(n) == facts.name)
            }) {
                if reachable.contains_key(&fs) {
                    continue;
                }
            }
        }
        if super::ag510_transaction_not_committed::is_test_fn(rs, b) {
            continue;
        }
        let last = facts.blocks.last().map(|l| l.what.clone()).unwrap_or_default();
        let callee = call.child_by_field_name("function").map(|f| rs.node_text(f)).unwrap_or(facts.name.as_str());
        let name = crate::text::short(callee, 40);
        let nargs = call.child_by_field_name("arguments").map(crate::semantic::rust::count_args).unwrap_or(0);
        let dots = if nargs == 0 { "" } else { "…" };
        let message = format!("`{name}({dots})` blocks on the database (`{last}`) in async code");
        let ctx = rs.context_at(b);
        let mut fixes = vec![];
        // Why there is no fix is in the rule doc, not the message (issue 22).
        if let Ok(f) = spawn_fix(rs, call, ctx) {
            fixes.push(f);
        }
        let mut f = Finding::new(&META, r.clone(), message, fixes);
        f.related = facts.blocks.clone();
        if in_async_main(rs, call) && is_setup(&last) {
            // Building a pool or opening a connection once before serving: silent, except a
            // `::connect(` (the `postgres` crate panics there), kept as information.
            if !last.contains("::connect(") {
                continue;
            }
            startup(&mut f);
        }
        let _ = cx;
        mine.push(r);
        out.push(f);
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

fn finding(rs: &RustModel, call: Node, krate: Crate, what: &str) -> Finding {
    let ctx = rs.context_at(call.start_byte());
    let (severity, message) = match krate {
        Crate::Postgres => (
            Severity::Error,
            format!(
                "`{what}` is a sync `postgres` call in async code, which panics inside tokio"
            ),
        ),
        Crate::R2d2 => (
            META.severity,
            format!(
                "`{what}` waits for an r2d2 connection in async code"
            ),
        ),
        Crate::Diesel => (
            META.severity,
            format!(
                "`{what}` is a sync diesel call in async code"
            ),
        ),
        Crate::Rusqlite => (
            META.severity,
            format!("`{what}` is a sync rusqlite call in async code"),
        ),
    };
    let mut fixes = vec![];
    let method = crate::semantic::rust::method_parts(call).map(|(_, m)| rs.node_text(m)).unwrap_or("");
    let fix = if rc::result_borrows(krate, method) {
        Err("its result borrows the connection, so it cannot run alone in a closure; move the whole block that uses it")
    } else {
        spawn_fix(rs, call, ctx)
    };
    // Why there is no fix is in the rule doc, not the message (issue 22).
    if let Ok(fix) = fix {
        fixes.push(fix);
    }
    Finding { severity, ..Finding::new(&META, call.byte_range(), message, fixes) }
}

/// True when the function scope `fs` returns `actix_web::Result<…>` or a `Result` whose error
/// is `actix_web::Error`: `web::block`'s `BlockingError` converts into it through `?`, so the
/// fix is `web::block(move || …).await??`, as actix's own examples write it.
fn returns_actix_error(rs: &RustModel, fs: usize) -> bool {
    let Some(f) = rs.scopes[fs].node.filter(|n| n.kind() == "function_item") else { return false };
    let Some(rt) = f.child_by_field_name("return_type") else { return false };
    let t: String = rs.node_text(rt).chars().filter(|c| !c.is_whitespace()).collect();
    let imported = |name: &str, path: &str| rs.imports.get(name).is_some_and(|p| p == path);
    t.starts_with("actix_web::Result<")
        || t.ends_with(",actix_web::Error>")
        || (t.starts_with("Result<") && t.ends_with(",Error>") && imported("Error", "actix_web::Error"))
        || (t.starts_with("Result<") && !t.contains(',') && imported("Result", "actix_web::Result"))
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
    let in_fn = rs.scopes[scope].kind == crate::semantic::rust::RScopeKind::Fn;
    let absorbs = in_fn
        && fn_scope.is_some_and(|f| {
            rs.fn_error_absorbs_join_error(f)
                || (spawner == "web::block" && returns_actix_error(rs, f))
                || error_converts_from_join(rs, f, spawner)
        });
    let mapper = if in_fn && !had_try && !absorbs { generic_mapper_after(rs, call) } else { None };
    let body = rs.node_text(call);
    let tail = match (had_try, absorbs, mapper) {
        (true, true, _) => ".await??".to_string(),
        (true, false, _) => ".await.unwrap()?".to_string(),
        (false, true, _) => ".await?".to_string(),
        // `pool.get().map_err(internal_error)?`: the same mapper takes the `JoinError`.
        (false, false, Some(m)) => format!(".await.map_err({m})?"),
        (false, false, None) => ".await.unwrap()".to_string(),
    };
    let text = format!("{spawner}(move || {body}){tail}");
    Ok(Fix {
        title: format!("Run it in `{spawner}(move || …)`"),
        applicability: Applicability::Unsafe,
        edits: vec![Edit::replace(target.byte_range(), text)],
    })
}

/// The error type of the function `fs` as written: `E` of `Result<T, E>`, or of this file's
/// `type Result<T> = std::result::Result<T, E>` alias when it returns `Result<T>`.
fn fn_error_type<'t>(rs: &RustModel<'t>, fs: usize) -> Option<&'t str> {
    let f = rs.scopes[fs].node.filter(|n| n.kind() == "function_item")?;
    let rt = f.child_by_field_name("return_type")?;
    if rt.kind() != "generic_type" {
        return None;
    }
    let head = rs.node_text(rt.child_by_field_name("type")?);
    if head.rsplit("::").next() != Some("Result") {
        return None;
    }
    let args = rt.child_by_field_name("type_arguments")?;
    let mut c = args.walk();
    let list: Vec<Node> = args.named_children(&mut c).collect();
    if list.len() == 2 {
        return Some(rs.node_text(list[1]));
    }
    if list.len() != 1 || head != "Result" {
        return None;
    }
    // `type Result<T> = std::result::Result<T, AppError>;` in this file.
    let root = rs.tree.root_node();
    let mut c = root.walk();
    let alias = root.named_children(&mut c).find(|n| {
        n.kind() == "type_item" && n.child_by_field_name("name").is_some_and(|x| rs.node_text(x) == "Result")
    })?;
    let ty = alias.child_by_field_name("type").filter(|t| t.kind() == "generic_type")?;
    let args = ty.child_by_field_name("type_arguments")?;
    let mut c = args.walk();
    let list: Vec<Node> = args.named_children(&mut c).collect();
    (list.len() == 2).then(|| rs.node_text(list[1]))
}

/// True when the function's error type absorbs the spawner's join error through `?`:
/// `impl From<JoinError> for AppError` (`From<BlockingError>` for `web::block`) or a
/// `thiserror` variant `#[from] tokio::task::JoinError`, in this file or, for a project type,
/// in the file that declares it (through the project model).
fn error_converts_from_join(rs: &RustModel, fs: usize, spawner: &str) -> bool {
    let Some(err) = fn_error_type(rs, fs) else { return false };
    let join = if spawner == "web::block" { "BlockingError" } else { "JoinError" };
    let name = err.rsplit("::").next().unwrap_or(err).trim();
    if crate::semantic::rust_calls::converts_from_in(rs.src, rs.tree.root_node(), name, join) {
        return true;
    }
    rs.outside.is_some_and(|o| rs.project_paths(err).iter().any(|p| o.rs_converts_from(p, join) == Some(true)))
}

/// `F` of `call.map_err(F)?` when `F` converts any error: a function of this file with type
/// parameters (axum's `fn internal_error<E: std::error::Error>(err: E) -> (StatusCode, String)`)
/// or one of actix's `Error…` helpers (`actix_web::error::ErrorInternalServerError`), so that
/// `.await.map_err(F)?` maps the join error the way the code already maps the call's.
fn generic_mapper_after<'t>(rs: &RustModel<'t>, call: Node<'t>) -> Option<&'t str> {
    let field = call.parent().filter(|p| p.kind() == "field_expression")?;
    let outer = field.parent().filter(|p| p.kind() == "call_expression")?;
    let (_, m) = method_parts(outer)?;
    if rs.node_text(m) != "map_err" || outer.parent().is_none_or(|p| p.kind() != "try_expression") {
        return None;
    }
    let args = outer.child_by_field_name("arguments")?;
    if crate::semantic::rust::count_args(args) != 1 {
        return None;
    }
    let f = args.named_child(0).filter(|a| matches!(a.kind(), "identifier" | "scoped_identifier"))?;
    let text = rs.node_text(f);
    let last = text.rsplit("::").next().unwrap_or(text);
    let local_generic = f.kind() == "identifier"
        && rs.fn_items.get(text).is_some_and(|v| v.iter().any(|n| n.child_by_field_name("type_parameters").is_some()));
    let actix = last.starts_with("Error")
        && (text.starts_with("actix_web::error::")
            || rs.imports.get(last).is_some_and(|p| p.starts_with("actix_web::error::"))
            || (text.starts_with("error::") && rs.imports.get("error").is_some_and(|p| p == "actix_web::error")));
    (local_generic || actix).then_some(text)
}
