//! Fix helpers shared by the Django/dorm ORM rules (AG101–AG110): renaming a method to its
//! async twin with `await` (Q3), the `sync_to_async` fallback (Q9), and the texts of async
//! iteration (`[x async for x in qs]`).

use crate::fix::{python as pyfix, Applicability, Edit, Fix};
use crate::semantic::PyModel;
use tree_sitter::Node;

/// `<recv>.<m>(…)` → `await <recv>.<async_name>(…)`, parenthesised before a trailer (Q3);
/// arguments are kept verbatim (Q8).
pub fn rename_await(call: Node, method: Node, async_name: &str, title: String, app: Applicability) -> Fix {
    let mut edits = pyfix::await_edits(call);
    edits.push(Edit::replace(method.byte_range(), async_name));
    Fix { title, applicability: app, edits }
}

/// `f(…)` → `await sync_to_async(f)(…)` (Q9).
pub fn fallback(py: &PyModel, call: Node, title: String) -> Fix {
    Fix { title, applicability: Applicability::Safe, edits: pyfix::sync_to_async_call(py, call).unwrap_or_default() }
}

/// A comprehension variable name that does not clash with a word of `text` (the iterable is
/// evaluated outside the comprehension, so a clash would still be correct, only confusing).
pub fn var_for(text: &str) -> &'static str {
    ["x", "row", "obj", "item_"].into_iter().find(|v| !has_word(text, v)).unwrap_or("item_")
}

fn has_word(text: &str, w: &str) -> bool {
    text.match_indices(w).any(|(i, _)| {
        let before = text[..i].chars().next_back();
        let after = text[i + w.len()..].chars().next();
        let ident = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
        !ident(before) && !ident(after)
    })
}

/// `[x async for x in <iterable>]`.
pub fn async_list(iterable: &str) -> String {
    let v = var_for(iterable);
    format!("[{v} async for {v} in {iterable}]")
}

/// `await sync_to_async(list)(<iterable>)` plus the import edit.
pub fn sync_list(py: &PyModel, iterable: &str) -> (String, Option<Edit>) {
    (format!("await sync_to_async(list)({iterable})"), pyfix::ensure_import(py, "asgiref.sync", "sync_to_async"))
}

/// AG101 / AG103 on a peewee async database (RULES.md §3.7): `<recv>.<method>(…)` run
/// synchronously on a `playhouse.pwasyncio` database (error: `MissingGreenletBridge`) or a
/// peewee-async one (warning: it blocks), for the call kinds `accept` takes. The fix renames
/// to the model's async twin and awaits it (safe: same arguments) where `await` is legal;
/// a model without twins (a plain `peewee.Model`) gets no fix.
pub fn peewee_async_finding(
    meta: &'static super::RuleMeta,
    py: &PyModel,
    call: Node,
    receiver: Node,
    method: Node,
    accept: impl Fn(crate::semantic::peewee::PwCall) -> bool,
) -> Option<super::Finding> {
    use crate::semantic::peewee::{async_twin, PwDb};
    let m = py.node_text(method);
    let target = py.pw_call(receiver, m).filter(|t| accept(*t) && t.db() != PwDb::Sync)?;
    let ctx = py.context_at(call.start_byte());
    if !ctx.is_async() || py.in_offload_args(call.start_byte()) || pyfix::is_awaited(call) {
        return None;
    }
    let recv = super::short(py.node_text(receiver), 32);
    let twin = async_twin(target, m);
    let (message, severity) = match target.db() {
        PwDb::Pwasyncio => {
            (format!("`{recv}.{m}()` on a pwasyncio database raises MissingGreenletBridge"), super::Severity::Error)
        }
        _ => (format!("`{recv}.{m}()` runs a sync query on a peewee-async database, blocking the loop"), super::Severity::Warning),
    };
    let mut fixes = vec![];
    if let (Some(t), true) = (twin, ctx.await_ok()) {
        fixes.push(rename_await(call, method, t, format!("Replace with `await {recv}.{t}(…)`"), Applicability::Safe));
    }
    Some(super::Finding { severity, ..super::Finding::new(meta, call.byte_range(), message, fixes) })
}
