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
