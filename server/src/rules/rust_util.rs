//! Small helpers shared by the Rust rules (AG5xx): call shapes, `.await` detection, and the
//! ownership checks behind the `spawn_blocking` rewrite.

use crate::semantic::rust::RustModel;
use tree_sitter::Node;

/// True when the call's value is awaited right away: `call.await`.
pub fn is_awaited(call: Node) -> bool {
    call.parent().is_some_and(|p| p.kind() == "await_expression")
}

/// The named arguments of an `arguments` node, comments excluded.
pub fn args_of(args: Node) -> Vec<Node> {
    let mut c = args.walk();
    let v = args
        .named_children(&mut c)
        .filter(|a| !matches!(a.kind(), "line_comment" | "block_comment" | "attribute_item"))
        .collect();
    v
}

/// True when `name` occurs as a word in `text` (identifier boundaries).
pub fn mentions(text: &str, name: &str) -> bool {
    let is_ident = |c: char| c.is_alphanumeric() || c == '_';
    let mut from = 0;
    while let Some(i) = text[from..].find(name) {
        let s = from + i;
        let e = s + name.len();
        let before = text[..s].chars().next_back();
        let after = text[e..].chars().next();
        if !before.is_some_and(is_ident) && !after.is_some_and(is_ident) {
            return true;
        }
        from = e;
    }
    false
}

/// Why `node` cannot be moved into a `move ||` closure (a message fragment), or `None` when
/// every local it reads is owned, not used after `node` before `scope_end`, and not re-entered
/// by a loop.
pub fn move_blocker(rs: &RustModel, node: Node, scope_end: usize) -> Option<&'static str> {
    let mut stack = vec![node];
    while let Some(n) = stack.pop() {
        match n.kind() {
            "try_expression" | "return_expression" | "await_expression" | "break_expression" | "continue_expression"
            | "yield_expression" => return Some("the call's arguments use `?`, `return` or `.await`"),
            "self" => return Some("the call reads `self`, which cannot move into a `'static` closure"),
            "macro_invocation" if rs.node_text(n).contains('?') => return Some("the call's arguments use `?`"),
            "identifier" => {
                if n.parent().is_some_and(|p| matches!(p.kind(), "scoped_identifier" | "scoped_type_identifier")) {
                    continue;
                }
                let name = rs.node_text(n);
                if name == "self" {
                    return Some("the call reads `self`, which cannot move into a `'static` closure");
                }
                let Some(b) = rs.binding(name, n.start_byte()) else { continue };
                // Bound inside the moved code itself (a closure parameter, an inner `let`).
                let inner = |r: std::ops::Range<usize>| node.start_byte() <= r.start && r.end <= node.end_byte();
                if b.closure_of.is_some_and(|c| inner(c.byte_range())) || (!b.is_param && inner(b.pos..b.pos)) {
                    continue;
                }
                if b.closure_of.is_some() {
                    return Some("the call reads a closure parameter");
                }
                if let Some(t) = b.ty {
                    if t.kind() == "reference_type" || rs.node_text(t).contains('\'') {
                        return Some("the call reads a borrowed value, which cannot move into a `'static` closure");
                    }
                } else if b.is_param {
                    return Some("the closure would capture values of unknown type");
                }
                if !b.is_param {
                    match b.value {
                        None => return Some("the closure would capture values of unknown type"),
                        Some(v) => {
                            let vt = rs.node_text(v);
                            if v.kind() == "reference_expression"
                                || vt.ends_with(".as_str()")
                                || vt.ends_with(".as_ref()")
                                || vt.ends_with(".as_slice()")
                                || vt.ends_with(".as_deref()")
                                || vt.starts_with("&")
                            {
                                return Some("the call reads a borrowed value, which cannot move into a `'static` closure");
                            }
                        }
                    }
                }
                if scope_end > node.end_byte() && used_between(rs, node, name, node.end_byte(), scope_end) {
                    return Some("a value the closure would move is used afterwards; clone it or move more code into the closure");
                }
                // A loop between the binding and the call would move the value twice.
                let mut p = n.parent();
                while let Some(x) = p {
                    if x.start_byte() < b.pos {
                        break;
                    }
                    if matches!(x.kind(), "for_expression" | "while_expression" | "loop_expression") {
                        return Some("the call is in a loop, so its values cannot move into the closure");
                    }
                    p = x.parent();
                }
            }
            "token_tree" => {
                // Macro arguments: identifiers inside are plain tokens; check them by name.
                let mut c = n.walk();
                for t in n.named_children(&mut c) {
                    stack.push(t);
                }
            }
            _ => {
                let mut c = n.walk();
                for ch in n.named_children(&mut c) {
                    stack.push(ch);
                }
            }
        }
    }
    None
}

/// True when the local `name` is read in `from..to`, judged on the tree: an identifier
/// token (in code or in a macro's tokens), or an inline format argument (`"{name}"`,
/// `"{name:?}"`) in a macro's string. A name inside another string literal or a comment is
/// not a use (`"couldn't get db connection from pool"` does not read `pool`).
pub fn used_between(rs: &RustModel, anchor: Node, name: &str, from: usize, to: usize) -> bool {
    let mut top = anchor;
    while top.end_byte() < to {
        match top.parent() {
            Some(p) => top = p,
            None => break,
        }
    }
    let mut stack = vec![top];
    while let Some(n) = stack.pop() {
        if n.end_byte() <= from || n.start_byte() >= to {
            continue;
        }
        match n.kind() {
            "line_comment" | "block_comment" => continue,
            "identifier" if n.start_byte() >= from => {
                if rs.node_text(n) == name && !n.parent().is_some_and(|p| p.kind() == "scoped_identifier" && p.child_by_field_name("name") == Some(n)) {
                    return true;
                }
                continue;
            }
            "string_literal" | "raw_string_literal" => {
                let in_macro = n.parent().is_some_and(|p| p.kind() == "token_tree");
                if in_macro && n.start_byte() >= from {
                    let t = rs.node_text(n);
                    if t.contains(&format!("{{{name}}}")) || t.contains(&format!("{{{name}:")) {
                        return true;
                    }
                }
                continue;
            }
            _ => {}
        }
        let mut c = n.walk();
        for ch in n.children(&mut c) {
            stack.push(ch);
        }
    }
    false
}
