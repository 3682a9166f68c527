//! AG104, SQLAlchemy / SQLModel part: in async code, reading an attribute of an instance that
//! loads from the database without the greenlet bridge and raises `MissingGreenlet`
//! (RULES.md §AG104, §3.7):
//! - a lazy relationship of an instance an `AsyncSession` loaded, when the producing
//!   statement's `.options(…)` does not name it and its `relationship(…)` has no eager
//!   `lazy=` strategy;
//! - any mapped attribute (column or relationship) read after the session's `commit()`
//!   expired it, when the session's factory or constructor leaves `expire_on_commit` on.
//!
//! Invariants:
//! - The instance comes from [`PyModel::sqla_loaded`] (same function, an `AsyncSession`
//!   known by [`crate::semantic::sqla`]) and its model from [`PyModel::sqla_model`]
//!   (declarations of this file or the project's, bases included). Unknown: silent.
//! - Silent after an earlier read of the same attribute in the function, after
//!   `awaitable_attrs.<f>` or `refresh(obj)` (relationships: any refresh; expired columns: a
//!   refresh after the commit), on instances built in scope (`M(…)`) until a commit expires
//!   them, and on sessions whose `expire_on_commit` is unknown (an annotation, a variable).
//! - Fix `await obj.awaitable_attrs.<f>` (safe) only for models that inherit `AsyncAttrs`,
//!   where `await` is legal and outside a generator expression; SQLModel: none.

use super::{is_write_or_call, short, Ctx, Finding, Severity, META};
use crate::fix::{Applicability, Edit, Fix};
use crate::semantic::sqla::{Loaded, SqlaKind};
use crate::semantic::{Context, PyModel};
use crate::syntax::QueryId;
use tree_sitter::Node;

pub(super) fn check(py: &PyModel, cx: &Ctx, out: &mut Vec<Finding>) {
    if !py.imports_sqla() {
        return;
    }
    cx.for_each_match(QueryId::PyAttributeReads, |caps| {
        let (Some(node), Some(obj), Some(attr)) = (caps.get("attribute"), caps.get("object"), caps.get("attr")) else {
            return;
        };
        if obj.kind() != "identifier" || is_write_or_call(node) {
            return;
        }
        out.extend(read(py, node, obj, py.node_text(attr)));
    });
}

fn read<'t>(py: &PyModel<'t>, node: Node<'t>, obj: Node<'t>, f: &str) -> Option<Finding> {
    if f.starts_with("__") || f == "awaitable_attrs" {
        return None;
    }
    let ctx = py.context_at(node.start_byte());
    let Context::Async { func, .. } = ctx else { return None };
    let loaded = py.sqla_loaded(obj)?;
    let model = py.sqla_model(loaded.model, node.start_byte())?;
    let attr = model.attrs.iter().find(|a| a.name == f)?;
    let o = py.node_text(obj);
    let start = py.scopes[func].range.start;
    // The last commit of the session between the load and the read, when it expires.
    let commit = commit_between(py, &loaded, o, node.start_byte());
    let refreshed_after = |from: usize| refreshes(py, o, from, node.start_byte());
    let (message, from) = match commit {
        Some((end, s)) if !refreshed_after(end) => (
            format!("`{}.{f}` was expired by `{}.commit()`, reloading it in async code raises MissingGreenlet", short(o, 20), short(s, 20)),
            end,
        ),
        _ => {
            if !attr.relation || !attr.lazy || loaded.created || refreshed_after(loaded.pos) {
                return None;
            }
            let Some(opts) = &loaded.options else { return None };
            if py.options_load(opts, f) {
                return None;
            }
            (lazy_message(o, loaded.model, f), loaded.pos)
        }
    };
    if seen_since(py, from.max(start), node.start_byte(), o, f) {
        return None;
    }
    let mut fixes = vec![];
    if model.async_attrs && !model.sqlmodel && ctx.await_ok() && !in_genexp(node) {
        let mut text = format!("await {o}.awaitable_attrs.{f}");
        if node.parent().is_some_and(|p| matches!(p.kind(), "attribute" | "subscript" | "call" | "await")) {
            text = format!("({text})");
        }
        fixes.push(Fix {
            title: format!("Load it with `await {o}.awaitable_attrs.{f}`"),
            applicability: Applicability::Safe,
            edits: vec![Edit { range: node.byte_range(), text }],
        });
    }
    Some(Finding { severity: Severity::Error, ..Finding::new(&META, node.byte_range(), message, fixes) })
}

/// The lazy-load message, naming the loader option when it fits in a short sentence.
fn lazy_message(o: &str, model: &str, f: &str) -> String {
    let full = format!("`{o}.{f}` lazy-loads in async code (MissingGreenlet), add `selectinload({model}.{f})` to the query");
    if full.chars().count() <= 120 {
        return full;
    }
    format!("`{}.{}` lazy-loads in async code (MissingGreenlet), add `selectinload()` to the query", short(o, 24), short(f, 24))
}

/// The end of the last awaited `<session>.commit()` after the instance was bound and before
/// `before`, when that session expires on commit; with the session's text. Instances built
/// in scope count once `<session>.add(obj)` put them in it.
fn commit_between<'t>(py: &PyModel<'t>, l: &Loaded<'t>, o: &str, before: usize) -> Option<(usize, &'t str)> {
    let func = py.scope_at(before);
    let def = *py.function_nodes.get(&func)?;
    let mut found = None;
    let mut added: Option<&str> = None;
    let mut calls = vec![];
    walk(def.child_by_field_name("body")?, &mut |n| {
        if n.kind() == "call" && n.start_byte() >= l.pos && n.end_byte() <= before && py.scope_at(n.start_byte()) == func {
            calls.push(n);
        }
    });
    calls.sort_by_key(|n| n.start_byte());
    for n in calls {
        let Some(f) = n.child_by_field_name("function").filter(|f| f.kind() == "attribute") else { continue };
        let (Some(recv), Some(m)) = (f.child_by_field_name("object"), f.child_by_field_name("attribute")) else { continue };
        let s = py.node_text(recv);
        match py.node_text(m) {
            "add" if l.created => {
                let args = n.child_by_field_name("arguments");
                if args.and_then(|a| py.sole_positional(a)).is_some_and(|a| py.node_text(a) == o) {
                    added = Some(s);
                }
            }
            "commit" => {
                let session = match l.session {
                    Some(sn) => py.node_text(sn),
                    None => match added {
                        Some(a) => a,
                        None => continue,
                    },
                };
                let awaited = n.parent().is_some_and(|p| p.kind() == "await");
                if leaves_before(n, before) {
                    continue;
                }
                let expires = matches!(py.sqla_kind(recv), Some(SqlaKind::Session { asyncio: true, expire: Some(true), .. }));
                if s == session && awaited && expires {
                    found = Some((n.end_byte(), s));
                }
            }
            _ => {}
        }
    }
    found
}

/// The commit `call` sits in a block that does not hold byte `read` and ends in `return`,
/// `raise`, `continue` or `break`: the read does not follow it (`if …: await s.commit();
/// return`).
fn leaves_before(call: Node, read: usize) -> bool {
    let mut cur = call;
    while let Some(p) = cur.parent() {
        if p.kind() == "block" {
            if p.byte_range().contains(&read) {
                return false;
            }
            let mut c = p.walk();
            let last = p.named_children(&mut c).filter(|x| x.kind() != "comment").last();
            if last.is_some_and(|l| matches!(l.kind(), "return_statement" | "raise_statement" | "continue_statement" | "break_statement")) {
                return true;
            }
        }
        if matches!(p.kind(), "function_definition" | "lambda") {
            return false;
        }
        cur = p;
    }
    false
}

/// `<session>.refresh(o …)` between `from` and `to`.
fn refreshes(py: &PyModel, o: &str, from: usize, to: usize) -> bool {
    let text = &py.src[from.min(to)..to];
    text.match_indices(".refresh(").any(|(i, _)| {
        let rest = text[i + ".refresh(".len()..].trim_start();
        rest.strip_prefix(o).is_some_and(|r| r.trim_start().starts_with([',', ')']))
    })
}

/// `o.f` read, written or loaded (`awaitable_attrs.f`) between `from` and `to`.
fn seen_since(py: &PyModel, from: usize, to: usize, o: &str, f: &str) -> bool {
    let before = &py.src[from.min(to)..to];
    let ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    [format!("{o}.{f}"), format!("{o}.awaitable_attrs.{f}")].iter().any(|dotted| {
        before.match_indices(dotted.as_str()).any(|(i, _)| {
            let pre = before[..i].chars().next_back();
            let post = before[i + dotted.len()..].chars().next();
            !pre.is_some_and(|c| ident(c) || c == '.') && !post.is_some_and(ident)
        })
    })
}

fn in_genexp(node: Node) -> bool {
    let mut cur = node.parent();
    while let Some(n) = cur {
        match n.kind() {
            "generator_expression" => return true,
            "function_definition" | "lambda" => return false,
            _ => cur = n.parent(),
        }
    }
    false
}

fn walk<'t>(n: Node<'t>, f: &mut impl FnMut(Node<'t>)) {
    let mut c = n.walk();
    let mut stack = vec![n];
    while let Some(x) = stack.pop() {
        f(x);
        stack.extend(x.named_children(&mut c));
    }
}
