//! Imports that fixes add and remove, placed the way isort and ruff (default settings) would
//! leave them, so that `ruff check --select I,F401` stays clean on a file that was clean.
//!
//! Invariants:
//! - A new `from M import N` is merged into an existing module-level `from M import …` of the
//!   first import block (single-line, or the parenthesised one-name-per-line form), with the
//!   names kept in ruff's order (CONSTANTS, Classes, other names); a merged line longer than
//!   88 characters is rewrapped in ruff's parenthesised form with a trailing comma.
//! - Otherwise the statement goes into the first import block at its sorted place: sections
//!   `__future__`, standard library, third party, first party, local (relative); `import x`
//!   before `from x import` inside a section; modules compared case-insensitively. Comments
//!   directly above a statement stay with it. Sections are separated by one blank line; a
//!   new block is followed by a blank line. Never after the module docstring's preceding text,
//!   never before `from __future__`, never after local imports.
//! - A module is first party when the project resolves it ([`crate::semantic::outside`]);
//!   unknown modules that are not standard library count as third party. The modules fixes
//!   insert (`asgiref`, `django`, `channels`, …) are third party.
//! - [`prune_made_unused`] removes only names that were used in the text before the fixes and
//!   are used nowhere after them (a name also found in a string is kept: `__all__`, string
//!   annotations). Names unused before stay: they are the user's business.

use super::Edit;
use crate::semantic::PyModel;
use tree_sitter::Node;

const LINE_LENGTH: usize = 88;

/// Top-level module names of the standard library that real code imports (enough to tell the
/// standard-library section from the third-party one in an existing file).
const STDLIB: &[&str] = &[
    "__future__", "abc", "argparse", "array", "ast", "asyncio", "atexit", "base64", "binascii", "bisect", "builtins",
    "bz2", "calendar", "cgi", "cmath", "codecs", "collections", "colorsys", "concurrent", "configparser", "contextlib",
    "contextvars", "copy", "copyreg", "cProfile", "csv", "ctypes", "dataclasses", "datetime", "dbm", "decimal",
    "difflib", "dis", "doctest", "email", "encodings", "enum", "errno", "faulthandler", "fcntl", "filecmp",
    "fileinput", "fnmatch", "fractions", "ftplib", "functools", "gc", "getopt", "getpass", "gettext", "glob",
    "graphlib", "grp", "gzip", "hashlib", "heapq", "hmac", "html", "http", "imaplib", "importlib", "inspect", "io",
    "ipaddress", "itertools", "json", "keyword", "linecache", "locale", "logging", "lzma", "mailbox", "marshal",
    "math", "mimetypes", "mmap", "multiprocessing", "netrc", "numbers", "operator", "os", "pathlib", "pdb",
    "pickle", "pkgutil", "platform", "plistlib", "poplib", "posixpath", "pprint", "profile", "pstats", "pty",
    "pwd", "queue", "quopri", "random", "re", "readline", "reprlib", "resource", "sched", "secrets", "select",
    "selectors", "shelve", "shlex", "shutil", "signal", "site", "smtplib", "socket", "socketserver", "sqlite3",
    "ssl", "stat", "statistics", "string", "stringprep", "struct", "subprocess", "symtable", "sys", "sysconfig",
    "syslog", "tarfile", "tempfile", "termios", "textwrap", "threading", "time", "timeit", "tkinter", "token",
    "tokenize", "tomllib", "trace", "traceback", "tracemalloc", "tty", "turtle", "types", "typing", "unicodedata",
    "unittest", "urllib", "uuid", "venv", "warnings", "wave", "weakref", "webbrowser", "wsgiref", "xml", "xmlrpc",
    "zipapp", "zipfile", "zipimport", "zlib", "zoneinfo",
];

/// Modules the fixes insert and their ecosystem: always third party.
const KNOWN_THIRD_PARTY: &[&str] = &["asgiref", "django", "channels", "dorm", "celery", "rest_framework", "adrf", "ninja"];

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Section {
    Future,
    Stdlib,
    ThirdParty,
    FirstParty,
    Local,
}

/// Where one import statement of the block sorts.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Key {
    section: Section,
    /// `import x` (false) before `from x import …` (true).
    from: bool,
    module: String,
}

fn top(module: &str) -> &str {
    module.split('.').next().unwrap_or(module)
}

fn section_of(model: &PyModel, module: &str) -> Section {
    if module.starts_with('.') {
        return Section::Local;
    }
    let t = top(module);
    if t == "__future__" {
        return Section::Future;
    }
    if STDLIB.contains(&t) {
        return Section::Stdlib;
    }
    if KNOWN_THIRD_PARTY.contains(&t) {
        return Section::ThirdParty;
    }
    if model.outside.is_some_and(|o| o.py_def(t).is_some()) {
        return Section::FirstParty;
    }
    Section::ThirdParty
}

/// The statement's module (`from M import …`: M; `import a.b`: `a.b`).
fn stmt_module<'t>(model: &PyModel<'t>, stmt: Node) -> Option<&'t str> {
    match stmt.kind() {
        "import_from_statement" => stmt.child_by_field_name("module_name").map(|m| model.node_text(m)),
        "future_import_statement" => Some("__future__"),
        "import_statement" => stmt.named_child(0).map(|n| match n.kind() {
            "aliased_import" => n.child_by_field_name("name").map(|x| model.node_text(x)).unwrap_or(""),
            _ => model.node_text(n),
        }),
        _ => None,
    }
}

fn key_of(model: &PyModel, stmt: Node) -> Option<Key> {
    let module = stmt_module(model, stmt)?;
    Some(Key {
        section: section_of(model, module),
        from: stmt.kind() != "import_statement",
        module: module.to_lowercase(),
    })
}

fn is_import(n: Node) -> bool {
    matches!(n.kind(), "import_statement" | "import_from_statement" | "future_import_statement")
}

/// The first block of module-level imports: consecutive import statements (comments between
/// them allowed), starting at the first statement or right after the module docstring.
fn first_block<'t>(root: Node<'t>) -> (Vec<Node<'t>>, Option<Node<'t>>) {
    let mut c = root.walk();
    let stmts: Vec<Node> = root.named_children(&mut c).filter(|n| n.kind() != "comment").collect();
    let mut i = 0;
    let mut docstring = None;
    if let Some(first) = stmts.first() {
        if first.kind() == "expression_statement" && first.named_child(0).is_some_and(|s| s.kind() == "string") {
            docstring = Some(*first);
            i = 1;
        }
    }
    let block = stmts[i.min(stmts.len())..].iter().take_while(|n| is_import(**n)).copied().collect();
    (block, docstring)
}

/// ruff's member order: CONSTANTS, then Classes, then other names.
fn member_key(name: &str) -> (u8, String, String) {
    let letters: Vec<char> = name.chars().filter(|c| c.is_alphabetic()).collect();
    let kind = if name.len() > 1 && !letters.is_empty() && letters.iter().all(|c| c.is_uppercase()) {
        0
    } else if name.chars().next().is_some_and(|c| c.is_uppercase()) {
        1
    } else {
        2
    };
    (kind, name.to_lowercase(), name.to_string())
}

fn line_start(src: &str, at: usize) -> usize {
    src[..at].rfind('\n').map(|i| i + 1).unwrap_or(0)
}

fn line_end_incl(src: &str, at: usize) -> usize {
    src[at..].find('\n').map(|i| at + i + 1).unwrap_or(src.len())
}

/// Start of the comment lines directly above `stmt` (they belong to it), else its line start.
fn attached_start(model: &PyModel, stmt: Node) -> usize {
    let src = model.src;
    let mut start = line_start(src, stmt.start_byte());
    let mut prev = stmt.prev_sibling();
    while let Some(p) = prev {
        if p.kind() != "comment" {
            break;
        }
        let ls = line_start(src, p.start_byte());
        // Only a comment on its own line, directly above (no blank line between).
        let own_line = src[ls..p.start_byte()].trim().is_empty();
        let between = &src[p.end_byte()..start];
        if !own_line || between.chars().filter(|&c| c == '\n').count() != 1 {
            break;
        }
        start = ls;
        prev = p.prev_sibling();
    }
    start
}

/// The names of a `from … import` statement (not a wildcard).
fn from_names<'t>(stmt: Node<'t>) -> Vec<Node<'t>> {
    let mut c = stmt.walk();
    stmt.children_by_field_name("name", &mut c).collect()
}

fn name_of<'t>(model: &PyModel<'t>, n: Node) -> &'t str {
    match n.kind() {
        "aliased_import" => n.child_by_field_name("name").map(|x| model.node_text(x)).unwrap_or(""),
        _ => model.node_text(n),
    }
}

/// An edit adding `from <module> import <name>` when `name` is not imported yet.
pub fn ensure_import(model: &PyModel, module: &str, name: &str) -> Option<Edit> {
    let full = format!("{module}.{name}");
    if model.imports.get(name).is_some_and(|p| *p == full) && imported_at_module_level(model, name, &full) {
        return None;
    }
    let src = model.src;
    let nl = super::python::line_ending(src);
    let root = model.tree.root_node();
    let (block, docstring) = first_block(root);

    // 1. Merge into `from module import …`.
    if let Some(stmt) = block.iter().find(|s| {
        s.kind() == "import_from_statement" && stmt_module(model, **s) == Some(module) && !from_names(**s).is_empty()
    }) {
        return Some(merge_into(model, *stmt, name, nl));
    }

    let line = format!("from {module} import {name}");
    let key = Key { section: section_of(model, module), from: true, module: module.to_lowercase() };
    place(model, &line, key, &block, docstring)
}

/// An edit adding `import <module>` (placed as [`ensure_import`] places a new statement).
/// The caller checks that the name is free.
pub fn ensure_module_import(model: &PyModel, module: &str) -> Option<Edit> {
    let (block, docstring) = first_block(model.tree.root_node());
    let already = block.iter().any(|s| {
        s.kind() == "import_statement" && s.named_child_count() == 1 && s.named_child(0).is_some_and(|n| n.kind() == "dotted_name" && model.node_text(n) == module)
    });
    if already {
        return None;
    }
    let key = Key { section: section_of(model, module), from: false, module: module.to_lowercase() };
    place(model, &format!("import {module}"), key, &block, docstring)
}

/// Inserts the statement `line` (sorting as `key`) into the first import block, or starts one.
fn place(model: &PyModel, line: &str, key: Key, block: &[Node], docstring: Option<Node>) -> Option<Edit> {
    let src = model.src;
    let nl = super::python::line_ending(src);
    // 2. Into the block at its sorted place.
    if !block.is_empty() {
        let keyed: Vec<(Node, Key)> = block.iter().filter_map(|s| key_of(model, *s).map(|k| (*s, k))).collect();
        if let Some(pos) = keyed.iter().position(|(_, k)| *k > key) {
            let (next, next_key) = &keyed[pos];
            let at = attached_start(model, *next);
            let same_as_next = next_key.section == key.section;
            let prev_same = pos > 0 && keyed[pos - 1].1.section == key.section;
            let text = if same_as_next || prev_same {
                // Joining an existing section: right before `next` when it is in the section,
                // else after the last of the section (before the blank line).
                if same_as_next {
                    format!("{line}{nl}")
                } else {
                    let prev = keyed[pos - 1].0;
                    let end = line_end_incl(src, prev.end_byte());
                    return Some(Edit::insert(end, format!("{line}{nl}")));
                }
            } else {
                format!("{line}{nl}{nl}")
            };
            return Some(Edit::insert(at, text));
        }
        let (last, last_key) = keyed.last()?;
        let end = line_end_incl(src, last.end_byte());
        let sep = if !src[..end].ends_with('\n') { nl } else { "" };
        let text = if last_key.section == key.section {
            format!("{sep}{line}{nl}")
        } else {
            format!("{sep}{nl}{line}{nl}")
        };
        return Some(Edit::insert(end, text));
    }

    // 3. A new block: after the docstring (and a shebang / coding line), blank line after.
    let mut at = match docstring {
        Some(d) => line_end_incl(src, d.end_byte()),
        None => 0,
    };
    if docstring.is_none() {
        while at < src.len() && (src[at..].starts_with("#!") || is_coding_line(&src[at..line_end_incl(src, at)])) {
            at = line_end_incl(src, at);
        }
    }
    let mut text = String::new();
    if at == src.len() && !src.is_empty() && !src.ends_with('\n') {
        text.push_str(nl);
    }
    text.push_str(line);
    text.push_str(nl);
    let rest = &src[at..];
    if !rest.trim().is_empty() && !rest.starts_with('\n') && !rest.starts_with("\r\n") {
        text.push_str(nl);
    }
    Some(Edit::insert(at, text))
}

fn is_coding_line(line: &str) -> bool {
    let l = line.trim_start();
    l.starts_with('#') && l.contains("coding") && (l.contains("coding:") || l.contains("coding="))
}

/// Adds `name` to an existing `from M import …` statement.
fn merge_into(model: &PyModel, stmt: Node, name: &str, nl: &str) -> Edit {
    let src = model.src;
    let names = from_names(stmt);
    let key = member_key(name);
    let before = names.iter().position(|n| member_key(name_of(model, *n)) > key);
    let parenthesised = src[stmt.byte_range()].contains('(');
    let multi_line = src[stmt.byte_range()].contains('\n');
    if parenthesised && multi_line {
        // One name per line: a new line at the sorted place, same indentation.
        let first = names[0];
        let indent = &src[line_start(src, first.start_byte())..first.start_byte()];
        let indent = if indent.trim().is_empty() { indent.to_string() } else { "    ".to_string() };
        return match before {
            Some(i) => Edit::insert(line_start(src, names[i].start_byte()), format!("{indent}{name},{nl}")),
            None => {
                let last = *names.last().unwrap();
                let after = &src[last.end_byte()..stmt.end_byte()];
                if after.trim_start().starts_with(',') {
                    let comma = last.end_byte() + after.find(',').unwrap() + 1;
                    let end = line_end_incl(src, comma);
                    Edit::insert(end, format!("{indent}{name},{nl}"))
                } else {
                    Edit::insert(last.end_byte(), format!(",{nl}{indent}{name},"))
                }
            }
        };
    }
    let edit = match before {
        Some(i) => Edit::insert(names[i].start_byte(), format!("{name}, ")),
        None => Edit::insert(names.last().unwrap().end_byte(), format!(", {name}")),
    };
    // Too long for one line: ruff's wrapped form.
    let ls = line_start(src, stmt.start_byte());
    let le = line_end_incl(src, stmt.end_byte());
    let new_line = super::apply(&src[ls..le], &[Edit { range: edit.range.start - ls..edit.range.end - ls, text: edit.text.clone() }])
        .unwrap_or_default();
    if new_line.trim_end().chars().count() <= LINE_LENGTH {
        return edit;
    }
    let module = stmt_module(model, stmt).unwrap_or("");
    let mut all: Vec<String> = names.iter().map(|n| model.node_text(*n).to_string()).collect();
    all.push(name.to_string());
    all.sort_by_key(|n| member_key(n.split_whitespace().next().unwrap_or(n)));
    let mut text = format!("from {module} import ({nl}");
    for n in all {
        text.push_str(&format!("    {n},{nl}"));
    }
    text.push(')');
    Edit::replace(stmt.byte_range(), text)
}

/// True when a top-level `from … import …` binds `name` to `full` (an import inside a function
/// does not make the name usable elsewhere).
fn imported_at_module_level(model: &PyModel, name: &str, full: &str) -> bool {
    let root = model.tree.root_node();
    let mut c = root.walk();
    let found = root.named_children(&mut c).filter(|n| n.kind() == "import_from_statement").any(|stmt| {
        let Some(module) = stmt.child_by_field_name("module_name") else { return false };
        let module = model.node_text(module);
        from_names(stmt).iter().any(|n| {
            let (orig, local) = match n.kind() {
                "aliased_import" => (
                    n.child_by_field_name("name").map(|x| model.node_text(x)).unwrap_or(""),
                    n.child_by_field_name("alias").map(|x| model.node_text(x)).unwrap_or(""),
                ),
                _ => (model.node_text(*n), model.node_text(*n)),
            };
            local == name && format!("{module}.{orig}") == full
        })
    });
    found
}

/// How often each name is used outside import statements, and every string's text.
fn uses(src: &str, tree: &tree_sitter::Tree) -> (rustc_hash::FxHashMap<String, usize>, Vec<String>) {
    let mut counts: rustc_hash::FxHashMap<String, usize> = Default::default();
    let mut strings = Vec::new();
    let mut stack = vec![tree.root_node()];
    while let Some(n) = stack.pop() {
        match n.kind() {
            "import_statement" | "import_from_statement" | "future_import_statement" => continue,
            "string" => {
                strings.push(src[n.byte_range()].to_string());
                continue;
            }
            "identifier" => {
                let is_attr_name = n.parent().is_some_and(|p| {
                    (p.kind() == "attribute" && p.child_by_field_name("attribute").is_some_and(|a| a.id() == n.id()))
                        || (p.kind() == "keyword_argument" && p.child_by_field_name("name").is_some_and(|a| a.id() == n.id()))
                });
                if !is_attr_name {
                    *counts.entry(src[n.byte_range()].to_string()).or_default() += 1;
                }
            }
            _ => {}
        }
        let mut c = n.walk();
        stack.extend(n.children(&mut c));
    }
    (counts, strings)
}

fn word_in(hay: &str, word: &str) -> bool {
    hay.match_indices(word).any(|(i, _)| {
        let before = hay[..i].chars().next_back().is_none_or(|c| !(c.is_alphanumeric() || c == '_'));
        let after = hay[i + word.len()..].chars().next().is_none_or(|c| !(c.is_alphanumeric() || c == '_'));
        before && after
    })
}

/// `after` (the fixed text of `before`) without the module-level imported names that `before`
/// used and `after` no longer uses. `None` when there is nothing to remove.
pub fn prune_made_unused(before: &str, after: &str) -> Option<String> {
    let lang = crate::syntax::Lang::Python;
    let t0 = crate::syntax::parse(lang, before, None);
    let t1 = crate::syntax::parse(lang, after, None);
    if crate::syntax::has_syntax_error(&t1) {
        return None;
    }
    let (used_before, _) = uses(before, &t0);
    let (used_after, strings) = uses(after, &t1);
    let made_unused = |local: &str| {
        used_before.get(local).copied().unwrap_or(0) > 0
            && used_after.get(local).copied().unwrap_or(0) == 0
            && !strings.iter().any(|s| word_in(s, local))
    };
    let root = t1.root_node();
    let mut edits = Vec::new();
    let mut c = root.walk();
    for stmt in root.named_children(&mut c) {
        match stmt.kind() {
            "import_from_statement" => {
                let mut c2 = stmt.walk();
                let names: Vec<Node> = stmt.children_by_field_name("name", &mut c2).collect();
                let local = |n: Node| -> String {
                    let x = match n.kind() {
                        "aliased_import" => n.child_by_field_name("alias").unwrap_or(n),
                        _ => n,
                    };
                    after[x.byte_range()].to_string()
                };
                let gone: Vec<usize> = (0..names.len()).filter(|&i| made_unused(&local(names[i]))).collect();
                if gone.is_empty() {
                    continue;
                }
                if gone.len() == names.len() {
                    edits.push(remove_statement(after, stmt));
                    continue;
                }
                for &i in &gone {
                    let n = names[i];
                    // The name, its comma and the space up to the next name; the last name
                    // takes the comma before it instead.
                    let kept_after = (i + 1..names.len()).find(|j| !gone.contains(j));
                    let range = match kept_after {
                        Some(_) if i + 1 < names.len() => n.start_byte()..names[i + 1].start_byte(),
                        _ => {
                            let prev = (0..i).rev().find(|j| !gone.contains(j)).map(|j| names[j]).unwrap_or(names[0]);
                            prev.end_byte()..n.end_byte()
                        }
                    };
                    edits.push(Edit::replace(range, ""));
                }
            }
            "import_statement" => {
                let mut c2 = stmt.walk();
                let names: Vec<Node> = stmt.named_children(&mut c2).collect();
                if names.len() != 1 {
                    continue;
                }
                let n = names[0];
                let local = match n.kind() {
                    "aliased_import" => n.child_by_field_name("alias").map(|a| &after[a.byte_range()]),
                    "dotted_name" if !after[n.byte_range()].contains('.') => Some(&after[n.byte_range()]),
                    _ => None,
                };
                if local.is_some_and(made_unused) {
                    edits.push(remove_statement(after, stmt));
                }
            }
            _ => {}
        }
    }
    if edits.is_empty() {
        return None;
    }
    // Overlapping removals (two trailing names) merge into one range.
    edits.sort_by_key(|e| e.range.start);
    let mut merged: Vec<Edit> = Vec::new();
    for e in edits {
        if let Some(last) = merged.last_mut() {
            if e.range.start < last.range.end {
                last.range.end = last.range.end.max(e.range.end);
                continue;
            }
        }
        merged.push(e);
    }
    let out = super::apply(after, &merged)?;
    if crate::syntax::has_syntax_error(&crate::syntax::parse(lang, &out, None)) {
        return None;
    }
    Some(out)
}

/// The whole statement's lines; a blank line too when the statement stood alone between two
/// blank lines (its section disappears).
fn remove_statement(src: &str, stmt: Node) -> Edit {
    let start = line_start(src, stmt.start_byte());
    let mut end = line_end_incl(src, stmt.end_byte());
    let blank_before = start == 0 || src[..start].ends_with("\n\n") || src[..start].ends_with("\n\r\n");
    let rest = &src[end..];
    let blank_after = rest.starts_with('\n') || rest.starts_with("\r\n");
    if blank_before && blank_after {
        end = line_end_incl(src, end);
    }
    Edit::replace(start..end, "")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn add(src: &str, module: &str, name: &str) -> String {
        let tree = crate::syntax::parse(crate::syntax::Lang::Python, src, None);
        let index = crate::text::LineIndex::new(src);
        let model = PyModel::build(src, &tree, &index);
        match ensure_import(&model, module, name) {
            Some(e) => super::super::apply(src, &[e]).unwrap(),
            None => src.to_string(),
        }
    }

    #[test]
    fn placement() {
        // Merged, in ruff's member order.
        assert_eq!(add("from django.db import models\n\nx = 1\n", "django.db", "transaction"), "from django.db import models, transaction\n\nx = 1\n");
        assert_eq!(add("from django.db import transaction\n", "django.db", "Model"), "from django.db import Model, transaction\n");
        // Parenthesised, one per line.
        assert_eq!(
            add("from django.db import (\n    models,\n    router,\n)\n", "django.db", "transaction"),
            "from django.db import (\n    models,\n    router,\n    transaction,\n)\n"
        );
        assert_eq!(
            add("from django.db import (\n    models,\n    transaction,\n)\n", "django.db", "router"),
            "from django.db import (\n    models,\n    router,\n    transaction,\n)\n"
        );
        // Sections: after stdlib, before local, sorted in the third-party section.
        assert_eq!(
            add("import os\n\nfrom django.db import models\n\nfrom .models import Book\n", "asgiref.sync", "sync_to_async"),
            "import os\n\nfrom asgiref.sync import sync_to_async\nfrom django.db import models\n\nfrom .models import Book\n"
        );
        assert_eq!(
            add("import os\n\nfrom .models import Book\n\nx = 1\n", "asgiref.sync", "sync_to_async"),
            "import os\n\nfrom asgiref.sync import sync_to_async\n\nfrom .models import Book\n\nx = 1\n"
        );
        assert_eq!(add("import os\n\nx = 1\n", "asgiref.sync", "sync_to_async"), "import os\n\nfrom asgiref.sync import sync_to_async\n\nx = 1\n");
        assert_eq!(
            add("from __future__ import annotations\n\nx = 1\n", "asgiref.sync", "sync_to_async"),
            "from __future__ import annotations\n\nfrom asgiref.sync import sync_to_async\n\nx = 1\n"
        );
        // No imports: after the docstring, a blank line before the code.
        assert_eq!(add("\"\"\"Doc.\"\"\"\nx = 1\n", "asgiref.sync", "sync_to_async"), "\"\"\"Doc.\"\"\"\nfrom asgiref.sync import sync_to_async\n\nx = 1\n");
        assert_eq!(add("#!/usr/bin/env python\nx = 1\n", "asgiref.sync", "sync_to_async"), "#!/usr/bin/env python\nfrom asgiref.sync import sync_to_async\n\nx = 1\n");
    }

    #[test]
    fn straight_import_goes_before_from_imports_of_its_section() {
        let tree_src = "import logging\nfrom typing import Any\n\nfrom django.db import transaction\n\nx = 1\n";
        let tree = crate::syntax::parse(crate::syntax::Lang::Python, tree_src, None);
        let index = crate::text::LineIndex::new(tree_src);
        let model = PyModel::build(tree_src, &tree, &index);
        let e = ensure_module_import(&model, "functools").unwrap();
        assert_eq!(
            super::super::apply(tree_src, &[e]).unwrap(),
            "import functools\nimport logging\nfrom typing import Any\n\nfrom django.db import transaction\n\nx = 1\n"
        );
    }

    #[test]
    fn prune() {
        let before = "from django.db import models, transaction\nimport os\n\nx = transaction.atomic\ny = models\n";
        let after = "from django.db import models, transaction\nimport os\n\nx = aatomic\ny = models\n";
        assert_eq!(prune_made_unused(before, after).unwrap(), "from django.db import models\nimport os\n\nx = aatomic\ny = models\n");
        // Unused before: left alone.
        assert_eq!(prune_made_unused("import os\nx = 1\n", "import os\nx = 2\n"), None);
        // Still in a string: kept.
        assert_eq!(prune_made_unused("from a import b\nb()\n__all__ = ['b']\n", "from a import b\n__all__ = ['b']\n"), None);
        let before = "import os\n\nfrom asgiref.sync import sync_to_async\n\nx = sync_to_async(f)\n";
        let after = "import os\n\nfrom asgiref.sync import sync_to_async\n\nx = f\n";
        assert_eq!(prune_made_unused(before, after).unwrap(), "import os\n\nx = f\n");
    }
}
