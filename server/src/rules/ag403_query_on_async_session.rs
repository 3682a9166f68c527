//! AG403 query-on-async-session: `session.query(…)` on an `AsyncSession`, which has no
//! `query` (RULES.md §AG403). The fix (unsafe) rewrites a simple `Query` chain into
//! `(await session.execute(select(…)…)).scalars().<terminal>()` (SQLModel: `exec`).
//!
//! Invariants:
//! - The receiver must be an `AsyncSession` by [`crate::semantic::sqla`]; a sync `Session`'s
//!   `query` is AG401's, unknown receivers are silent.
//! - A fix only for a chain this module can translate one to one: `query(<one entity>)`, then
//!   only [`CHAIN`] methods, ending in [`TERMINALS`]; only where `await` is legal; and only
//!   when `select` is free or already imported from SQLAlchemy / SQLModel. Otherwise none.

use super::{Ctx, Finding, FixAvailability, Rule, RuleMeta, Severity};
use crate::fix::imports::ensure_import;
use crate::fix::{Applicability, Edit, Fix};
use crate::semantic::sqla::SqlaKind;
use crate::semantic::PyModel;
use crate::syntax::{Lang, QueryId};
use tree_sitter::Node;

pub struct QueryOnAsyncSession;

/// `Query` methods with the same meaning on a `Select` (`filter` is kept: it is `where`).
const CHAIN: &[&str] =
    &["filter", "filter_by", "where", "order_by", "limit", "offset", "options", "join", "outerjoin", "distinct"];
/// `Query` terminals and what follows `.scalars()` (SQLAlchemy) for each.
const TERMINALS: &[(&str, &str)] =
    &[("all", ".scalars().all()"), ("first", ".scalars().first()"), ("one", ".scalar_one()"), ("one_or_none", ".scalar_one_or_none()")];

static META: RuleMeta = RuleMeta {
    code: "AG403",
    name: "query-on-async-session",
    lang: Lang::Python,
    severity: Severity::Error,
    fix: FixAvailability::Sometimes,
    // Every kind comes from an import of `sqlalchemy` / `sqlmodel` in this file (semantic::sqla).
    triggers: &[&["query"], &["sqlalchemy", "sqlmodel"]],
    summary: "`session.query(…)` on an `AsyncSession` (no such method)",
    doc: r#"## AG403 query-on-async-session

**What it catches.** `session.query(…)` where `session` is a SQLAlchemy or SQLModel
`AsyncSession`.

**Why it is wrong.** The legacy `Query` API does not exist on `AsyncSession`:
`AttributeError: 'AsyncSession' object has no attribute 'query'`.

**Example.**
```python
async def active(session: AsyncSession):
    return session.query(User).filter(User.active).all()      # AG403
```

**Fix (unsafe).** For a simple chain (one entity, then `filter` / `filter_by` / `where` /
`order_by` / `limit` / `offset` / `options` / `join` / `distinct`, ending in `all()`,
`first()`, `one()` or `one_or_none()`):
```python
    return (await session.execute(select(User).filter(User.active))).scalars().all()
```
SQLModel: `(await session.exec(select(User)…)).all()`. Unsafe: review the translation
(`first()` no longer adds `LIMIT 1`). Other chains get no fix.

**Stays silent on** `query` on a sync `Session` (that is AG401 in async code) and on
receivers whose kind is unknown.

**Suppress** with `# awaitguard: ignore[AG403]` or `# noqa: AG403` on the line.
"#,
};

/// The call `<callee_obj>.<name>(…)` one level up from `cur`, if `cur` is its object.
fn method_above<'t>(py: &PyModel<'t>, cur: Node<'t>) -> Option<(Node<'t>, &'t str, Node<'t>)> {
    let attr = cur.parent().filter(|p| p.kind() == "attribute")?;
    if attr.child_by_field_name("object")? != cur {
        return None;
    }
    let call = attr.parent().filter(|p| p.kind() == "call")?;
    if call.child_by_field_name("function")? != attr {
        return None;
    }
    Some((call, py.node_text(attr.child_by_field_name("attribute")?), call.child_by_field_name("arguments")?))
}

fn rewrite(py: &PyModel, query: Node, recv: Node, args: Node, sqlmodel: bool) -> Option<Fix> {
    if !py.context_at(query.start_byte()).await_ok() {
        return None;
    }
    let entity = py.sole_positional(args)?;
    let mut chain = String::new();
    let mut cur = query;
    loop {
        let (call, name, a) = method_above(py, cur)?;
        if let Some((_, tail)) = TERMINALS.iter().find(|(t, _)| *t == name) {
            if a.named_child_count() > 0 {
                return None;
            }
            let tail = if sqlmodel { format!(".{name}()") } else { tail.to_string() };
            let method = if sqlmodel { "exec" } else { "execute" };
            let text = format!("(await {}.{method}(select({}){chain})){tail}", py.node_text(recv), py.node_text(entity));
            let module = if sqlmodel { "sqlmodel" } else { "sqlalchemy" };
            let mut edits = vec![Edit::replace(call.byte_range(), text)];
            match py.import_of("select") {
                Some(p @ ("sqlalchemy.select" | "sqlmodel.select" | "sqlalchemy.future.select")) => {
                    edits.extend(ensure_import(py, p.trim_end_matches(".select"), "select"))
                }
                Some(_) => return None,
                None if py.word_taken("select") => return None,
                None => edits.extend(ensure_import(py, module, "select")),
            }
            return Some(Fix {
                title: format!("Rewrite as `await {}.{method}(select(…))`", py.node_text(recv)),
                applicability: Applicability::Unsafe,
                edits,
            });
        }
        if !CHAIN.contains(&name) {
            return None;
        }
        chain.push_str(&format!(".{name}{}", py.node_text(a)));
        cur = call;
    }
}

impl Rule for QueryOnAsyncSession {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Ctx, out: &mut Vec<Finding>) {
        let Some(py) = cx.py else { return };
        cx.for_each_match(QueryId::PyMethodCalls, |caps| {
            let (Some(call), Some(recv), Some(m), Some(args)) = (caps.get("call"), caps.get("receiver"), caps.get("method"), caps.get("args"))
            else {
                return;
            };
            if py.node_text(m) != "query" {
                return;
            }
            let Some(SqlaKind::Session { asyncio: true, sqlmodel, .. }) = py.sqla_kind(recv) else { return };
            let fixes = rewrite(py, call, recv, args, sqlmodel).into_iter().collect();
            let method = if sqlmodel { "exec" } else { "execute" };
            let message = format!("`AsyncSession` has no `query()` (AttributeError), use `await session.{method}(select(…))`");
            out.push(Finding::new(&META, call.byte_range(), message, fixes));
        });
    }
}
