//! AG404 uncommitted-async-session: `async with <factory>() as s:` (or `AsyncSession(…)`)
//! whose block writes through `s` and neither commits nor begins a transaction: the work is
//! rolled back when the session closes (RULES.md §AG404).
//!
//! Invariants:
//! - The session must be an `AsyncSession` by [`crate::semantic::sqla`], opened by the `async
//!   with` itself; `factory.begin()` (commits on exit) is silent.
//! - Writes are `add`, `add_all`, `delete`, `merge`, `flush`, and `execute` / `exec` of an
//!   `insert(…)` / `update(…)` / `delete(…)` statement, called on `s` in the block.
//! - Silent when the block calls `s.commit()`, `s.begin()` or `s.rollback()`, yields, or hands
//!   `s` to anything else (an argument, a return, an assignment): that code may commit.
//! - Also an `async def` whose parameter is an `AsyncSession` from a FastAPI dependency
//!   (`Depends(dep)`, `Annotated[…, Depends(dep)]`, an alias of one, `dep` here or in a project
//!   module: [`PyModel::param_dependency`]) that does not commit after its `yield`, when the
//!   body writes through it under the same conditions; reported at the parameter. A
//!   dependency that commits (or opens the session with `begin()`) keeps it silent.
//! - The fix (unsafe: a test may roll back on purpose) appends `await s.commit()` to the
//!   block, or puts it before a final `return` that does not use the session; none after a
//!   final `raise`.

use super::{Ctx, Finding, FixAvailability, Rule, RuleMeta, Severity};
use crate::fix::{Applicability, Edit, Fix};
use crate::semantic::python::last_name;
use crate::semantic::sqla::SqlaKind;
use crate::semantic::PyModel;
use crate::syntax::{Lang, QueryId};
use tree_sitter::Node;

pub struct UncommittedAsyncSession;

static META: RuleMeta = RuleMeta {
    code: "AG404",
    name: "uncommitted-async-session",
    lang: Lang::Python,
    severity: Severity::Warning,
    fix: FixAvailability::Sometimes,
    // Every kind comes from an import of `sqlalchemy` / `sqlmodel` in this file (semantic::sqla).
    triggers: &[&["async"], &["sqlalchemy", "sqlmodel"]],
    summary: "An async session (`async with` block or FastAPI dependency) that writes but never commits",
    doc: r#"## AG404 uncommitted-async-session

**What it catches.** `async with async_session() as s:` (or `AsyncSession(engine)`) whose
block writes through `s` (`add`, `add_all`, `delete`, `merge`, `flush`, an `insert` /
`update` / `delete` statement executed) with no `commit()` and no `begin()`.

The same for a FastAPI endpoint whose session parameter comes from a dependency
(`Depends(get_session)`, `Annotated[AsyncSession, Depends(get_session)]`, in this module or
another) that only closes the session after its `yield`: the endpoint writes and never
commits.

**Why it is wrong.** Closing an `AsyncSession` rolls back what was not committed: the
writes, flushed or not, are silently lost.

**Example.**
```python
async def add_user(name):
    async with async_session() as s:      # AG404
        s.add(User(name=name))
        await s.flush()
```

**Fix (unsafe).** Append `await s.commit()` to the block. Unsafe: a test may roll back on
purpose; or open the session with `async with async_session.begin() as s:`.

**Stays silent on** `async_session.begin()` (commits on exit), an inner `async with
s.begin():`, read-only blocks, an explicit `rollback()`, blocks that hand `s` to other
code (a helper, a `yield` in a FastAPI dependency) that may commit, and endpoints whose
dependency commits after `yield` (or opens the session with `begin()`).

**Suppress** with `# awaitguard: ignore[AG404]` or `# noqa: AG404` on the line.
"#,
};

/// What the block does with the session named `name`.
#[derive(Default)]
struct Uses {
    writes: bool,
    ends: bool,
    escapes: bool,
}

fn uses<'t>(py: &PyModel<'t>, body: Node<'t>, name: &str) -> Uses {
    let mut u = Uses::default();
    let mut c = body.walk();
    let mut stack = vec![body];
    while let Some(n) = stack.pop() {
        match n.kind() {
            "yield" => u.escapes = true,
            "identifier" if py.node_text(n) == name => {
                let call_method = n
                    .parent()
                    .filter(|p| p.kind() == "attribute" && p.child_by_field_name("object") == Some(n))
                    .and_then(|a| Some((a, a.parent().filter(|c| c.kind() == "call" && c.child_by_field_name("function") == Some(a))?)));
                match call_method {
                    Some((attr, call)) => {
                        let method = attr.child_by_field_name("attribute").map(|m| py.node_text(m)).unwrap_or("");
                        match method {
                            "commit" | "begin" | "rollback" => u.ends = true,
                            "add" | "add_all" | "delete" | "merge" | "flush" => u.writes = true,
                            "execute" | "exec" => {
                                let stmt = call.child_by_field_name("arguments").and_then(|a| a.named_child(0));
                                if stmt.and_then(|s| chain_root(s)).is_some_and(|f| matches!(last_name(py.node_text(f)), "insert" | "update" | "delete")) {
                                    u.writes = true;
                                }
                            }
                            _ => {}
                        }
                    }
                    // `s` read as a value (an argument, returned, assigned …), or `s.attr`.
                    None => {
                        if !n.parent().is_some_and(|p| p.kind() == "attribute") {
                            u.escapes = true;
                        }
                    }
                }
            }
            _ => {}
        }
        stack.extend(n.named_children(&mut c));
    }
    u
}

/// The callee of the first call of a method chain (`delete(User).where(…)` → `delete`).
fn chain_root(mut n: Node) -> Option<Node> {
    for _ in 0..64 {
        if n.kind() != "call" {
            return None;
        }
        let f = n.child_by_field_name("function")?;
        match f.kind() {
            "attribute" if f.child_by_field_name("object").is_some_and(|o| o.kind() == "call") => {
                n = f.child_by_field_name("object")?;
            }
            _ => return Some(f),
        }
    }
    None
}

fn commit_fix(py: &PyModel, body: Node, name: &str) -> Option<Fix> {
    let mut c = body.walk();
    let stmts: Vec<Node> = body.named_children(&mut c).filter(|s| s.kind() != "comment").collect();
    let first = stmts.first()?;
    let last = stmts.last()?;
    if last.kind() == "raise_statement" {
        return None;
    }
    let line_start = py.src[..first.start_byte()].rfind('\n').map_or(0, |i| i + 1);
    let indent = &py.src[line_start..first.start_byte()];
    if !indent.chars().all(|c| c == ' ' || c == '\t') {
        return None;
    }
    let nl = crate::fix::python::line_ending(py.src);
    // Before a final `return` (whose value is computed after the commit then; a returned
    // call on the session is left alone).
    let edit = if last.kind() == "return_statement" {
        if stmts.len() < 2 || py.node_text(*last).contains(&format!("{name}.")) {
            return None;
        }
        let line = py.src[..last.start_byte()].rfind('\n').map_or(0, |i| i + 1);
        if &py.src[line..last.start_byte()] != indent {
            return None;
        }
        Edit::insert(last.start_byte(), format!("await {name}.commit(){nl}{indent}"))
    } else {
        Edit::insert(last.end_byte(), format!("{nl}{indent}await {name}.commit()"))
    };
    Some(Fix {
        title: format!("Commit at the end of the block: `await {name}.commit()`"),
        applicability: Applicability::Unsafe,
        edits: vec![edit],
    })
}

/// FastAPI endpoints (any `async def`) whose parameter is an `AsyncSession` from a
/// dependency that does not commit after its `yield` (here or in a project module), and whose
/// body writes through it with no commit.
fn dependency_sessions(py: &PyModel, out: &mut Vec<Finding>) {
    let mut defs: Vec<Node> = py.function_nodes.values().copied().collect();
    defs.sort_by_key(|d| d.start_byte());
    for def in defs {
        if def.child(0).is_none_or(|t| t.kind() != "async") {
            continue;
        }
        let (Some(params), Some(body)) = (def.child_by_field_name("parameters"), def.child_by_field_name("body")) else { continue };
        let mut c = params.walk();
        for p in params.named_children(&mut c) {
            let Some(id) = p.child_by_field_name("name").or_else(|| p.named_child(0)).filter(|i| i.kind() == "identifier") else {
                continue;
            };
            let name = py.node_text(id);
            let Some(dep) = py.param_dependency(def, name) else { continue };
            if dep.commits || !matches!(dep.kind, SqlaKind::Session { asyncio: true, .. }) {
                continue;
            }
            let u = uses(py, body, name);
            if !u.writes || u.ends || u.escapes {
                continue;
            }
            let fixes = commit_fix(py, body, name).into_iter().collect();
            let message = format!("`{name}` writes but is never committed, and its dependency only closes the session");
            out.push(Finding::new(&META, p.byte_range(), message, fixes));
        }
    }
}

impl Rule for UncommittedAsyncSession {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Ctx, out: &mut Vec<Finding>) {
        let Some(py) = cx.py else { return };
        cx.for_each_match(QueryId::PyWithStatements, |caps| {
            let (Some(with), Some(clause), Some(body)) = (caps.get("with"), caps.get("clause"), caps.get("body")) else { return };
            if with.child(0).is_none_or(|t| t.kind() != "async") || !py.context_at(with.start_byte()).await_ok() {
                return;
            }
            let mut c = clause.walk();
            for item in clause.named_children(&mut c).filter(|i| i.kind() == "with_item") {
                let Some(pattern) = item.child_by_field_name("value").filter(|v| v.kind() == "as_pattern") else { continue };
                let (Some(value), Some(alias)) = (pattern.named_child(0), pattern.child_by_field_name("alias")) else { continue };
                let Some(id) = alias.named_child(0).filter(|a| a.kind() == "identifier") else { continue };
                if value.kind() != "call" {
                    continue;
                }
                let begun = value
                    .child_by_field_name("function")
                    .and_then(|f| f.child_by_field_name("attribute"))
                    .is_some_and(|a| py.node_text(a) == "begin");
                if begun || !matches!(py.sqla_kind(value), Some(SqlaKind::Session { asyncio: true, .. })) {
                    continue;
                }
                let name = py.node_text(id);
                let u = uses(py, body, name);
                if !u.writes || u.ends || u.escapes {
                    continue;
                }
                let fixes = commit_fix(py, body, name).into_iter().collect();
                let message = format!("`{name}` writes but is never committed, its work is rolled back when the session closes");
                out.push(Finding::new(&META, item.byte_range(), message, fixes));
            }
        });
        dependency_sessions(py, out);
    }
}
