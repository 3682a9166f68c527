//! Test intent (issue 18.5): findings a test provokes on purpose are not reported.
//!
//! - Inside `with self.assertRaises(SynchronousOnlyOperation):` (also `assertRaisesMessage`,
//!   `assertRaisesRegex`, `pytest.raises(…)`, a tuple of exceptions holding it), the test
//!   asserts that the call raises: the rules whose error is that exception
//!   ([`crate::settings::SOO_RULES`]) are silent in the block's body.
//! - Inside a test (a method of a `…TestCase` class, or a `test*` function or method of a
//!   `Test*` class in a file that imports `pytest`, `unittest` or `django.test`), a task
//!   dispatched in a transaction is the test's subject (and Django's `TestCase` never commits):
//!   AG208 is silent.
//!
//! Invariant: a pure function of the file's tree and text and of the finding's position
//! (only the finding's ancestors are read), so focused re-analysis keeps it.

use crate::rules::Finding;
use crate::settings::SOO_RULES;
use tree_sitter::{Node, Tree};

const RAISES: &[&str] = &["assertRaises", "assertRaisesMessage", "assertRaisesRegex", "assertRaisesRegexp", "raises"];

/// True when `f` is provoked on purpose by a test (see the module docs).
pub fn intended(src: &str, tree: &Tree, f: &Finding) -> bool {
    let soo = SOO_RULES.contains(&f.code);
    let dispatch = f.code == "AG208";
    if !soo && !dispatch {
        return false;
    }
    let Some(mut n) = tree.root_node().descendant_for_byte_range(f.range.start, f.range.start) else { return false };
    loop {
        match n.kind() {
            "with_statement" if soo => {
                let in_body = n.child_by_field_name("body").is_some_and(|b| b.start_byte() <= f.range.start);
                if in_body && expects_soo(src, n) {
                    return true;
                }
            }
            "function_definition" if dispatch && is_test(src, n) => return true,
            // A lambda or class body: the `with` block around it does not run it.
            "lambda" | "class_definition" if soo => return false,
            _ => {}
        }
        match n.parent() {
            Some(p) => n = p,
            None => return false,
        }
    }
}

/// `with <x>.assertRaises(SynchronousOnlyOperation[, …])` or `pytest.raises(…)`.
fn expects_soo(src: &str, with: Node) -> bool {
    let mut c = with.walk();
    let Some(clause) = with.named_children(&mut c).find(|n| n.kind() == "with_clause") else { return false };
    let mut c2 = clause.walk();
    let items: Vec<Node> = clause.named_children(&mut c2).filter(|n| n.kind() == "with_item").collect();
    items.into_iter().any(|item| {
        let Some(mut v) = item.child_by_field_name("value") else { return false };
        if v.kind() == "as_pattern" {
            match v.named_child(0) {
                Some(inner) => v = inner,
                None => return false,
            }
        }
        if v.kind() != "call" {
            return false;
        }
        let (Some(func), Some(args)) = (v.child_by_field_name("function"), v.child_by_field_name("arguments")) else {
            return false;
        };
        let name = src[func.byte_range()].rsplit('.').next().unwrap_or("");
        if !RAISES.contains(&name) {
            return false;
        }
        let mut c3 = args.walk();
        let first = args.named_children(&mut c3).find(|a| a.kind() != "comment");
        first.is_some_and(|a| {
            let names_soo = |t: &str| t.trim().rsplit('.').next() == Some("SynchronousOnlyOperation");
            match a.kind() {
                "tuple" | "parenthesized_expression" => {
                    let mut c4 = a.walk();
                    let any = a.named_children(&mut c4).any(|e| names_soo(&src[e.byte_range()]));
                    any
                }
                "keyword_argument" => false,
                _ => names_soo(&src[a.byte_range()]),
            }
        })
    })
}

/// A test function: a method of a class whose bases name a `…TestCase`; or a `test…`
/// function (module level, or a method of a `Test…` class) in a file importing a test
/// framework.
fn is_test(src: &str, def: Node) -> bool {
    let Some(name) = def.child_by_field_name("name").map(|n| &src[n.byte_range()]) else { return false };
    let class = enclosing_class(def);
    if let Some(class) = class {
        let bases = class.child_by_field_name("superclasses").map(|b| &src[b.byte_range()]).unwrap_or("");
        if bases.contains("TestCase") {
            return true;
        }
        let cname = class.child_by_field_name("name").map(|n| &src[n.byte_range()]).unwrap_or("");
        return cname.starts_with("Test") && name.starts_with("test") && imports_test_framework(src);
    }
    name.starts_with("test") && def.parent().is_some_and(|p| p.kind() == "module" || p.kind() == "decorated_definition")
        && imports_test_framework(src)
}

/// The class whose body holds `def` directly (through a decorator too).
fn enclosing_class(def: Node) -> Option<Node> {
    let mut p = def.parent()?;
    if p.kind() == "decorated_definition" {
        p = p.parent()?;
    }
    if p.kind() != "block" {
        return None;
    }
    p.parent().filter(|c| c.kind() == "class_definition")
}

fn imports_test_framework(src: &str) -> bool {
    src.lines().any(|l| {
        let l = l.trim_start();
        l.starts_with("import pytest")
            || l.starts_with("import unittest")
            || l.starts_with("from unittest")
            || l.starts_with("from django.test")
            || l.starts_with("from pytest")
    })
}
