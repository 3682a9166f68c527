//! Python rewrite helpers shared by the rules: inserting `await` with the parentheses
//! precedence needs (Q3) and the `sync_to_async` fallback (Q9); imports are [`super::imports`].

use super::Edit;
use crate::semantic::PyModel;
use tree_sitter::Node;

/// True when `expr` is followed by a trailer (`.attr`, `[i]`, `(…)`), so `await expr` must be
/// parenthesised to keep its meaning (Q3).
pub fn needs_parens(expr: Node) -> bool {
    let Some(parent) = expr.parent() else { return false };
    let field_is = |name: &str| parent.child_by_field_name(name).is_some_and(|c| c.id() == expr.id());
    match parent.kind() {
        "attribute" => field_is("object"),
        "subscript" => field_is("value"),
        "call" => field_is("function"),
        _ => false,
    }
}

/// True when `expr` is already the operand of `await`.
pub fn is_awaited(expr: Node) -> bool {
    expr.parent().is_some_and(|p| p.kind() == "await")
}

/// Edits that turn `expr` into `await expr` (or `(await expr)` before a trailer).
pub fn await_edits(expr: Node) -> Vec<Edit> {
    if is_awaited(expr) {
        return vec![];
    }
    if needs_parens(expr) {
        vec![Edit::insert(expr.start_byte(), "(await "), Edit::insert(expr.end_byte(), ")")]
    } else {
        vec![Edit::insert(expr.start_byte(), "await ")]
    }
}

pub use super::imports::ensure_import;

/// The file's dominant line ending.
pub fn line_ending(src: &str) -> &'static str {
    if src.contains("\r\n") { "\r\n" } else { "\n" }
}

/// `await sync_to_async(<callee>)(<args>)` for a call whose function is `callee`: the fallback
/// when no async twin exists in the detected version (Q9). Returns the edits (the import
/// included).
pub fn sync_to_async_call(model: &PyModel, call: Node) -> Option<Vec<Edit>> {
    offload_call(model, call, "asgiref.sync", "sync_to_async")
}

/// [`sync_to_async_call`] with another bridge (`channels.db.database_sync_to_async`).
pub fn offload_call(model: &PyModel, call: Node, module: &str, bridge: &str) -> Option<Vec<Edit>> {
    let func = call.child_by_field_name("function")?;
    let mut edits = vec![];
    let awaited = is_awaited(call);
    let parens = needs_parens(call);
    let prefix = match (awaited, parens) {
        (true, _) => format!("{bridge}("),
        (false, true) => format!("(await {bridge}("),
        (false, false) => format!("await {bridge}("),
    };
    edits.push(Edit::insert(func.start_byte(), prefix));
    edits.push(Edit::insert(func.end_byte(), ")"));
    if parens && !awaited {
        edits.push(Edit::insert(call.end_byte(), ")"));
    }
    edits.extend(ensure_import(model, module, bridge));
    Some(edits)
}

/// `await asyncio.to_thread(<callee>, <args>)` for a call `<callee>(<args>)` (not awaited):
/// the callable and its arguments move into the thread call, `asyncio` is imported when the
/// file has neither `import asyncio` nor `from asyncio import to_thread`. `None` when the
/// call is already awaited or its arguments are not a plain argument list.
pub fn to_thread_call(model: &PyModel, call: Node) -> Option<Vec<Edit>> {
    let func = call.child_by_field_name("function")?;
    let args = call.child_by_field_name("arguments").filter(|a| a.kind() == "argument_list")?;
    if is_awaited(call) {
        return None;
    }
    let mut edits = vec![];
    let bridge = if model.imports.get("asyncio").is_some_and(|p| p == "asyncio") {
        "asyncio.to_thread"
    } else if model.imports.get("to_thread").is_some_and(|p| p == "asyncio.to_thread") {
        "to_thread"
    } else {
        edits.extend(super::imports::ensure_module_import(model, "asyncio"));
        "asyncio.to_thread"
    };
    let parens = needs_parens(call);
    let open = if parens { "(await " } else { "await " };
    edits.push(Edit::insert(func.start_byte(), format!("{open}{bridge}(")));
    if args.named_child_count() == 0 {
        edits.push(Edit::replace(args.byte_range(), ")"));
    } else {
        edits.push(Edit::replace(args.start_byte()..args.start_byte() + 1, ", "));
    }
    if parens {
        edits.push(Edit::insert(call.end_byte(), ")"));
    }
    Some(edits)
}
