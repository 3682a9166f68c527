//! X1, the sync-extraction fix (RULES.md §2 "The sync-extraction fix"): Django has no async
//! transaction, so transactional work in async code moves into a new sync function decorated
//! `@transaction.atomic`, awaited through `sync_to_async`.
//!
//! ```text
//! async def transfer(a, b, n):          @transaction.atomic
//!     with transaction.atomic():        def _transfer_atomic(a, n):
//!         acc = await Account.objects       acc = Account.objects.get(pk=a)
//!             .aget(pk=a)        ──►        acc.balance -= n
//!         acc.balance -= n                  acc.save()
//!         await acc.asave()                 return acc
//!     return acc.pk                     async def transfer(a, b, n):
//!                                           acc = await sync_to_async(_transfer_atomic)(a, n)
//!                                           return acc.pk
//! ```
//!
//! Invariants (each refusal is an `Err` with the reason, and the rule then offers no fix):
//! - The block keeps its statements, in order; the only changes are the ones that turn async
//!   forms into their sync twins: `await <ORM>.a<m>(…)` → `<ORM>.<m>(…)` (QuerySet/Manager
//!   twins on a receiver resolved as ORM; `asave`/`adelete`/`arefresh_from_db` on any
//!   receiver), `await sync_to_async(f)(…)` → `f(…)`, `async for` / async comprehensions over
//!   an ORM queryset → sync ones (`aiterator` → `iterator`). Any other `await`, `async with`,
//!   `yield`, `global`/`nonlocal`/`del`, a nested `def`/`class`/import, or a multi-line string
//!   (whose text re-indenting would change) refuses.
//! - Control flow may not leave the block: `break`/`continue` only inside a loop of the
//!   block; `return` only when the block runs to the end of the function body, and then the
//!   call is `return await …` (falling off the end returns `None` either way).
//! - Parameters: the names the block reads (or rebinds and the code after reads) that the
//!   function binds before the block; the async function's own parameters come first in
//!   their order. Return values: the names the block assigns that the function reads after
//!   it (anywhere outside it when the block sits in a loop). A returned name not bound before
//!   the block must be assigned by a top-level statement of the block (never conditionally).
//! - Only an async function at module level or in a (module-level) class: the new function
//!   goes at module level right before that statement, so closures cannot be lost.
//! - Always [`Applicability::Unsafe`]: the user reviews it.
//! - Walks use `TreeCursor`s; the only parent climbs are bounded by the block's nesting.

use super::python::{ensure_import, line_ending};
use super::{apply, Applicability, Edit, Fix};
use crate::dialects::django;
use crate::semantic::transactions::{function_of_body, has_async_token};
use crate::semantic::{PyModel, ScopeKind};
use std::collections::HashSet;
use std::ops::Range;
use tree_sitter::Node;

/// What to extract, chosen by the rule.
pub struct Extraction<'t> {
    /// Consecutive statements of one block (comments included): the transactional work.
    pub stmts: Vec<Node<'t>>,
    /// The statements the call replaces: the `with` statement, or `stmts` themselves.
    pub replace: Range<usize>,
    /// The async function (index into `PyModel::scopes`) the code is in.
    pub func: usize,
    /// The new function's decorator, without `@` (`transaction.atomic`).
    pub decorator: String,
    /// An import the decorator needs, `(module, name)`.
    pub decorator_import: Option<(&'static str, &'static str)>,
    /// The block runs to the end of the function body: `return` inside is allowed.
    pub tail: bool,
    /// More edits of the same fix (removing the old decorator).
    pub extra: Vec<Edit>,
}

/// The sync twin of an ORM async method name: `aget` → `get`, `asave` → `save`.
pub fn sync_twin(name: &str) -> Option<&'static str> {
    match name {
        "asave" => Some("save"),
        "adelete" => Some("delete"),
        "arefresh_from_db" => Some("refresh_from_db"),
        "aiterator" => Some("iterator"),
        _ => django::QUERYSET_TERMINALS.iter().find(|t| t.async_name == name).map(|t| t.sync),
    }
}

/// Model-instance async methods: Django names specific enough to accept on any receiver.
const INSTANCE_ASYNC: &[&str] = &["asave", "adelete", "arefresh_from_db"];

const OFFLOAD_PATHS: &[&str] = &["asgiref.sync.sync_to_async", "channels.db.database_sync_to_async"];

/// How an identifier is used.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    Skip,
    Read,
    Write,
    ReadWrite,
}

/// Tracks binding targets while walking in pre-order, so identifiers under them are writes.
#[derive(Default)]
struct Roles {
    targets: Vec<(Range<usize>, bool)>,
    skip: HashSet<usize>,
    /// Comprehension variables: local to the comprehension.
    locals: Vec<Range<usize>>,
}

impl Roles {
    /// Notes what a (non-identifier) node makes of its children.
    fn visit(&mut self, n: Node) {
        match n.kind() {
            "assignment" | "for_statement" => {
                if let Some(l) = n.child_by_field_name("left") {
                    self.targets.push((l.byte_range(), false));
                }
            }
            "augmented_assignment" => {
                if let Some(l) = n.child_by_field_name("left") {
                    self.targets.push((l.byte_range(), true));
                }
            }
            "named_expression" => {
                if let Some(l) = n.child_by_field_name("name") {
                    self.targets.push((l.byte_range(), false));
                }
            }
            "as_pattern" => {
                if let Some(l) = n.child_by_field_name("alias") {
                    self.targets.push((l.byte_range(), false));
                }
            }
            "except_clause" => {
                let mut c = n.walk();
                if let Some(id) = n.named_children(&mut c).filter(|x| x.kind() == "identifier").last() {
                    self.targets.push((id.byte_range(), false));
                }
            }
            "for_in_clause" => {
                if let Some(l) = n.child_by_field_name("left") {
                    self.locals.push(l.byte_range());
                }
            }
            "attribute" => {
                if let Some(a) = n.child_by_field_name("attribute") {
                    self.skip.insert(a.id());
                }
            }
            "keyword_argument" => {
                if let Some(a) = n.child_by_field_name("name") {
                    self.skip.insert(a.id());
                }
            }
            "function_definition" | "class_definition" => {
                if let Some(a) = n.child_by_field_name("name") {
                    self.targets.push((a.byte_range(), false));
                }
            }
            "lambda" => {
                if let Some(p) = n.child_by_field_name("parameters") {
                    self.locals.push(p.byte_range());
                }
            }
            _ => {}
        }
    }

    fn role(&self, id: Node) -> Role {
        if self.skip.contains(&id.id()) {
            return Role::Skip;
        }
        let r = id.byte_range();
        let inside = |x: &Range<usize>| x.start <= r.start && r.end <= x.end;
        if self.locals.iter().any(inside) {
            return Role::Skip;
        }
        let parent_reads = id.parent().is_some_and(|p| matches!(p.kind(), "attribute" | "subscript" | "call" | "argument_list"));
        match self.targets.iter().rev().find(|(t, _)| inside(t)) {
            Some((_, also_read)) if !parent_reads => {
                if *also_read {
                    Role::ReadWrite
                } else {
                    Role::Write
                }
            }
            _ => Role::Read,
        }
    }
}

/// Pre-order walk of the named nodes under `root`; `f` returns whether to descend.
/// (Anonymous tokens are skipped: the `await` keyword has the same kind as the `await` node.)
fn walk<'t>(root: Node<'t>, mut f: impl FnMut(Node<'t>) -> bool) {
    let mut c = root.walk();
    loop {
        let n = c.node();
        if n.is_named() && f(n) && c.goto_first_child() {
            continue;
        }
        loop {
            if c.node().id() == root.id() {
                return;
            }
            if c.goto_next_sibling() {
                break;
            }
            if !c.goto_parent() {
                return;
            }
        }
    }
}

fn line_start(src: &str, b: usize) -> usize {
    src[..b].rfind('\n').map(|i| i + 1).unwrap_or(0)
}

/// The end of the line holding `b` (before `\r\n`/`\n`), provided only blanks and a comment
/// follow `b` there.
fn line_end_after(src: &str, b: usize) -> Option<usize> {
    let end = src[b..].find('\n').map(|i| b + i).unwrap_or(src.len());
    let rest = src[b..end].trim();
    (rest.is_empty() || rest.starts_with('#')).then(|| if src[..end].ends_with('\r') { end - 1 } else { end })
}

/// The rewrite of one `await` inside the block into sync code, or `None` when it awaits
/// something that is not ORM work.
fn await_rewrite(py: &PyModel, aw: Node) -> Option<Vec<Edit>> {
    let op = aw.named_child(0)?;
    if op.kind() != "call" {
        return None;
    }
    let func = op.child_by_field_name("function")?;
    if func.kind() == "call" {
        // await sync_to_async(f, …)(args) → f(args)
        let inner = func.child_by_field_name("function")?;
        if !py.resolves_to(inner, OFFLOAD_PATHS) {
            return None;
        }
        let args = func.child_by_field_name("arguments")?;
        let f = args.named_child(0).filter(|a| !matches!(a.kind(), "keyword_argument" | "comment" | "list_splat" | "dictionary_splat"))?;
        let (open, close) = if f.kind() == "lambda" { ("(", ")") } else { ("", "") };
        return Some(vec![
            Edit::replace(aw.start_byte()..f.start_byte(), open),
            Edit::replace(f.end_byte()..func.end_byte(), close),
        ]);
    }
    if func.kind() != "attribute" {
        return None;
    }
    let (recv, method) = (func.child_by_field_name("object")?, func.child_by_field_name("attribute")?);
    let name = py.node_text(method);
    if name == "aiterator" {
        return None;
    }
    let sync = sync_twin(name)?;
    if !INSTANCE_ASYNC.contains(&name) && !py.receiver(recv).is_orm() {
        return None;
    }
    Some(vec![Edit::replace(aw.start_byte()..op.start_byte(), ""), Edit::replace(method.byte_range(), sync)])
}

/// `async for` / an async comprehension clause over an ORM queryset → sync.
fn async_for_rewrite(py: &PyModel, n: Node) -> Option<Vec<Edit>> {
    let kw = n.child(0)?;
    let next = n.child(1)?;
    let right = n.child_by_field_name("right")?;
    let mut edits = vec![Edit::replace(kw.start_byte()..next.start_byte(), "")];
    let is_aiter = right.kind() == "call"
        && right.child_by_field_name("function").is_some_and(|f| {
            f.kind() == "attribute"
                && f.child_by_field_name("attribute").is_some_and(|a| py.node_text(a) == "aiterator")
                && f.child_by_field_name("object").is_some_and(|o| py.receiver(o).is_orm())
        });
    if is_aiter {
        let method = right.child_by_field_name("function")?.child_by_field_name("attribute")?;
        edits.push(Edit::replace(method.byte_range(), "iterator"));
    } else if !py.receiver(right).is_orm() {
        return None;
    }
    Some(edits)
}

/// The parameter names of a function definition, in order.
fn param_names(py: &PyModel, def: Node) -> Vec<String> {
    let mut out = vec![];
    let Some(params) = def.child_by_field_name("parameters") else { return out };
    let mut c = params.walk();
    for p in params.named_children(&mut c) {
        let id = match p.kind() {
            "identifier" => Some(p),
            "default_parameter" | "typed_default_parameter" => p.child_by_field_name("name"),
            _ => {
                let mut c2 = p.walk();
                let first = p.named_children(&mut c2).find(|n| n.kind() == "identifier");
                first
            }
        };
        if let Some(id) = id.filter(|i| i.kind() == "identifier") {
            out.push(py.node_text(id).to_string());
        }
    }
    out
}

/// A fresh module-level name `_<func>_atomic` (`_2`, `_3` … when taken as a word of the file).
fn fresh_name(py: &PyModel, func: &str) -> String {
    let base = format!("_{}_atomic", func.trim_start_matches('_'));
    if !py.word_taken(&base) {
        return base;
    }
    (2..).map(|i| format!("{base}_{i}")).find(|n| !py.word_taken(n)).unwrap()
}

/// Builds the X1 fix, or says why it cannot be offered.
pub fn x1(py: &PyModel, ex: Extraction) -> Result<Fix, &'static str> {
    let src = py.src;
    let code: Vec<Node> = ex.stmts.iter().copied().filter(|s| s.kind() != "comment").collect();
    let (Some(first), Some(last)) = (code.first().copied(), code.last().copied()) else {
        return Err("the block is empty");
    };
    let scope = &py.scopes[ex.func];
    if scope.kind != ScopeKind::Function || !scope.is_async {
        return Err("the block is not directly in an `async def`");
    }
    // The module-level statement holding the async function.
    let mut top_start = scope.def_start;
    let mut p = scope.parent;
    while let Some(i) = p {
        match py.scopes[i].kind {
            ScopeKind::Module => break,
            ScopeKind::Class => top_start = py.scopes[i].def_start,
            _ => return Err("the async function is nested in another function"),
        }
        p = py.scopes[i].parent;
    }
    if line_start(src, top_start) != top_start {
        return Err("the enclosing definition does not start a line");
    }
    let func_node = function_of_body(py.tree.root_node(), &scope.range).ok_or("the async function was not found")?;
    let func_name = func_node.child_by_field_name("name").map(|n| py.node_text(n)).unwrap_or("block");
    let region = first.start_byte()..last.end_byte();
    let stmt_ids: HashSet<usize> = code.iter().map(|s| s.id()).collect();

    // 1. The block: what it reads and writes, and its async forms rewritten.
    let mut roles = Roles::default();
    let mut edits: Vec<Edit> = vec![];
    let mut reads: Vec<String> = vec![];
    let mut writes: Vec<String> = vec![];
    let mut top_targets: Vec<Range<usize>> = vec![];
    let mut top_writes: HashSet<String> = HashSet::new();
    let mut has_return = false;
    let mut err: Option<&'static str> = None;
    for stmt in &code {
        walk(*stmt, |n| {
            if err.is_some() {
                return false;
            }
            roles.visit(n);
            match n.kind() {
                "function_definition" | "class_definition" | "decorated_definition" => {
                    err = Some("the block defines a function or class")
                }
                "global_statement" | "nonlocal_statement" | "delete_statement" => {
                    err = Some("the block uses `global`, `nonlocal` or `del`")
                }
                "import_statement" | "import_from_statement" | "future_import_statement" => {
                    err = Some("the block imports")
                }
                "yield" => err = Some("the block yields"),
                "return_statement" => {
                    if ex.tail {
                        has_return = true;
                    } else {
                        err = Some("`return` leaves the block");
                    }
                }
                "break_statement" | "continue_statement" => {
                    let mut up = n.parent();
                    let mut ok = false;
                    while let Some(u) = up {
                        if matches!(u.kind(), "for_statement" | "while_statement") {
                            ok = true;
                            break;
                        }
                        if stmt_ids.contains(&u.id()) {
                            break;
                        }
                        up = u.parent();
                    }
                    if !ok {
                        err = Some("`break`/`continue` leaves the block");
                    }
                }
                "await" => match await_rewrite(py, n) {
                    Some(e) => edits.extend(e),
                    None => err = Some("the block awaits something other than an ORM call or `sync_to_async`"),
                },
                "with_statement" if has_async_token(n) => err = Some("the block holds an `async with`"),
                "for_statement" | "for_in_clause" if has_async_token(n) => match async_for_rewrite(py, n) {
                    Some(e) => edits.extend(e),
                    None => err = Some("the block iterates something other than a queryset with `async for`"),
                },
                "string" if n.start_position().row != n.end_position().row => {
                    err = Some("the block holds a multi-line string")
                }
                "identifier" if matches!(py.node_text(n), "super" | "__class__") => {
                    err = Some("the block uses `super()`/`__class__`, which need the class")
                }
                "identifier" if py.node_text(n).starts_with("__") && !py.node_text(n).ends_with("__") => {
                    err = Some("the block uses a name-mangled `__attribute`, which needs the class")
                }
                "identifier" => {
                    let name = py.node_text(n).to_string();
                    match roles.role(n) {
                        Role::Skip => {}
                        Role::Read => reads.push(name),
                        Role::Write => {
                            if top_targets.iter().any(|t| t.start <= n.start_byte() && n.end_byte() <= t.end) {
                                top_writes.insert(name.clone());
                            }
                            writes.push(name);
                        }
                        Role::ReadWrite => {
                            reads.push(name.clone());
                            writes.push(name);
                        }
                    }
                }
                _ => {
                    if n.kind() == "assignment" && n.parent().is_some_and(|p| stmt_ids.contains(&p.id())) {
                        if let Some(l) = n.child_by_field_name("left") {
                            top_targets.push(l.byte_range());
                        }
                    }
                }
            }
            true
        });
        if let Some(e) = err {
            return Err(e);
        }
    }

    // 2. The rest of the function: names bound before the block, names read after it.
    let params = param_names(py, func_node);
    let mut bound_before: HashSet<String> = params.iter().cloned().collect();
    let mut after: HashSet<String> = HashSet::new();
    let in_loop = {
        let mut up = first.parent();
        let mut found = false;
        while let Some(u) = up {
            if u.id() == func_node.id() {
                break;
            }
            if matches!(u.kind(), "for_statement" | "while_statement") {
                found = true;
                break;
            }
            up = u.parent();
        }
        found
    };
    let mut fn_yields = false;
    let mut fn_scoping = false;
    let mut outer = Roles::default();
    if let Some(body) = func_node.child_by_field_name("body") {
        walk(body, |n| {
            if n.start_byte() >= region.start && n.end_byte() <= region.end {
                return false;
            }
            outer.visit(n);
            match n.kind() {
                "yield" => fn_yields = true,
                "global_statement" | "nonlocal_statement" => fn_scoping = true,
                "identifier" => {
                    let role = outer.role(n);
                    let name = py.node_text(n);
                    if matches!(role, Role::Write | Role::ReadWrite) && n.end_byte() <= region.start {
                        bound_before.insert(name.to_string());
                    }
                    if role != Role::Skip && (n.start_byte() >= region.end || in_loop) {
                        after.insert(name.to_string());
                    }
                }
                // `import x` / `from m import y as z` before the block bind names.
                "dotted_name" | "aliased_import" if n.end_byte() <= region.start => {
                    let t = py.node_text(n);
                    let local = t.rsplit(" as ").next().unwrap_or(t);
                    bound_before.insert(local.split('.').next().unwrap_or(local).trim().to_string());
                }
                _ => {}
            }
            true
        });
    }
    if fn_scoping {
        return Err("the function declares `global`/`nonlocal` names");
    }
    if has_return && fn_yields {
        return Err("the function is a generator");
    }

    let assigned: HashSet<&String> = writes.iter().collect();
    let mut returns: Vec<String> = vec![];
    for w in &writes {
        if after.contains(w) && !returns.contains(w) {
            returns.push(w.clone());
        }
    }
    for r in &returns {
        if !bound_before.contains(r) && !top_writes.contains(r) {
            return Err("a name read after the block is assigned in it only conditionally");
        }
    }
    let needed = |n: &String| bound_before.contains(n) && (reads.contains(n) || (assigned.contains(n) && after.contains(n)));
    let mut args: Vec<String> = params.iter().filter(|p| needed(p)).cloned().collect();
    for n in reads.iter().chain(writes.iter()) {
        if needed(n) && !args.contains(n) {
            args.push(n.clone());
        }
    }

    // 3. The new function's text.
    edits.sort_by_key(|e| (e.range.start, e.range.end));
    let span_start = line_start(src, first.start_byte());
    if !src[span_start..first.start_byte()].trim().is_empty() {
        return Err("the block does not start its line");
    }
    let span_end = line_end_after(src, last.end_byte()).ok_or("code follows the block on its last line")?;
    let indent = &src[span_start..first.start_byte()];
    let unit = if indent.contains('\t') { "\t" } else { "    " };
    let shifted: Vec<Edit> = edits
        .iter()
        .map(|e| Edit::replace(e.range.start - span_start..e.range.end - span_start, e.text.clone()))
        .collect();
    let block = apply(&src[span_start..span_end], &shifted).ok_or("overlapping rewrites in the block")?;
    let nl = line_ending(src);
    let mut body = String::new();
    for line in block.split('\n') {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.trim().is_empty() {
            body.push_str(nl);
            continue;
        }
        let rest = match line.strip_prefix(indent) {
            Some(r) => r,
            None if line.trim_start().starts_with('#') => line.trim_start(),
            None => return Err("a line of the block is indented less than the block"),
        };
        body.push_str(unit);
        body.push_str(rest);
        body.push_str(nl);
    }
    let name = fresh_name(py, func_name);
    if !returns.is_empty() {
        body.push_str(&format!("{unit}return {}{nl}", returns.join(", ")));
    }
    let new_fn = format!("@{}{nl}def {name}({}):{nl}{body}{nl}{nl}", ex.decorator, args.join(", "));

    // 4. The call that replaces the block.
    // In a Channels consumer, `database_sync_to_async` (it closes stale connections).
    let in_consumer = scope.parent.is_some_and(|p| {
        let c = &py.scopes[p];
        c.kind == ScopeKind::Class
            && c.name.as_ref().and_then(|n| py.classes.get(n)).is_some_and(|bases| bases.iter().any(|b| b.ends_with("Consumer")))
    }) && py.imports.values().any(|p| p.starts_with("channels."));
    let db_s2a = py.import_of("database_sync_to_async");
    let (s2a, s2a_import) = match py.import_of("sync_to_async") {
        _ if in_consumer && matches!(db_s2a, None | Some("channels.db.database_sync_to_async")) => {
            ("database_sync_to_async", ensure_import(py, "channels.db", "database_sync_to_async"))
        }
        Some("asgiref.sync.sync_to_async") => ("sync_to_async", None),
        Some(_) => return Err("`sync_to_async` names something else in this file"),
        None if py.import_of("database_sync_to_async") == Some("channels.db.database_sync_to_async") => {
            ("database_sync_to_async", None)
        }
        None => ("sync_to_async", ensure_import(py, "asgiref.sync", "sync_to_async")),
    };
    let call_start = line_start(src, ex.replace.start);
    if !src[call_start..ex.replace.start].trim().is_empty() {
        return Err("the statement does not start its line");
    }
    let call_end = line_end_after(src, ex.replace.end).ok_or("code follows the statement on its line")?;
    let call_indent = &src[call_start..ex.replace.start];
    let lhs = if has_return {
        "return ".to_string()
    } else if returns.is_empty() {
        String::new()
    } else {
        format!("{} = ", returns.join(", "))
    };
    let call = format!("{call_indent}{lhs}await {s2a}({name})({})", args.join(", "));

    let mut out = vec![];
    out.extend(s2a_import);
    if let Some((m, n)) = ex.decorator_import {
        out.extend(ensure_import(py, m, n));
    }
    out.push(Edit::insert(top_start, new_fn));
    out.push(Edit::replace(call_start..call_end, call));
    out.extend(ex.extra);
    Ok(Fix {
        title: format!("Move the block into a sync `@{}` function `{name}` awaited via `{s2a}` (review)", ex.decorator),
        applicability: Applicability::Unsafe,
        edits: out,
    })
}

/// True when every argument of an `atomic(…)` call is a literal, so the call can move to a
/// module-level decorator unchanged.
pub fn literal_args(args: Option<Node>) -> bool {
    let Some(args) = args else { return true };
    let mut c = args.walk();
    let ok = args.named_children(&mut c).all(|a| {
        let v = if a.kind() == "keyword_argument" { a.child_by_field_name("value") } else { Some(a) };
        v.is_some_and(|v| matches!(v.kind(), "string" | "integer" | "true" | "false" | "none"))
    });
    ok
}

/// The decorator text for an atomic use: `transaction.atomic` or `transaction.atomic(using="x")`.
pub fn decorator_text(py: &PyModel, callee: Node, args: Option<Node>) -> String {
    let mut t = py.node_text(callee).to_string();
    if let Some(a) = args.filter(|a| a.named_child_count() > 0) {
        t.push_str(py.node_text(a));
    }
    t
}

/// True when `stmt` is the last statement (comments aside) of the body of the function whose
/// scope is `func`.
fn is_last_in_function(py: &PyModel, stmt: Node, func: usize) -> bool {
    let body = &py.scopes[func].range;
    let Some(parent) = stmt.parent() else { return false };
    if parent.kind() != "block" || parent.byte_range() != *body {
        return false;
    }
    let mut next = stmt.next_named_sibling();
    while let Some(n) = next {
        if n.kind() != "comment" {
            return false;
        }
        next = n.next_named_sibling();
    }
    true
}

/// The named children of a block (comments included).
fn block_stmts(block: Node) -> Vec<Node> {
    let mut c = block.walk();
    block.named_children(&mut c).collect()
}

/// X1 for a `with atomic(…):` or `async with atomic(…):` statement in an `async def`.
pub fn x1_for_with(py: &PyModel, with: Node, callee: Node, args: Option<Node>) -> Result<Fix, &'static str> {
    let items = crate::semantic::transactions::with_items(with);
    if items.len() != 1 || items[0].has_alias {
        return Err("the `with` statement holds other context managers or an `as` target");
    }
    if !literal_args(args) {
        return Err("the `atomic(…)` arguments read names, so they cannot move to a decorator");
    }
    let body = with.child_by_field_name("body").ok_or("no body")?;
    let func = py.scope_at(with.start_byte());
    x1(
        py,
        Extraction {
            stmts: block_stmts(body),
            replace: with.byte_range(),
            func,
            decorator: decorator_text(py, callee, args),
            decorator_import: None,
            tail: is_last_in_function(py, with, func),
            extra: vec![],
        },
    )
}

/// X1 for the whole body of an `async def` decorated with an atomic (AG203): the decorator
/// moves to the new function; a leading docstring stays.
pub fn x1_for_body(py: &PyModel, def: Node, decorator: Node, callee: Node, args: Option<Node>) -> Result<Fix, &'static str> {
    if !literal_args(args) {
        return Err("the `atomic(…)` arguments read names, so they cannot move to another decorator");
    }
    let body = def.child_by_field_name("body").ok_or("no body")?;
    let mut stmts = block_stmts(body);
    let first_code = stmts.iter().position(|s| s.kind() != "comment");
    if let Some(i) = first_code {
        let s = stmts[i];
        if s.kind() == "expression_statement" && s.named_child(0).is_some_and(|c| c.kind() == "string") {
            stmts.drain(..=i);
        }
    }
    let Some(first) = stmts.iter().find(|s| s.kind() != "comment").copied() else {
        return Err("the function body is empty");
    };
    let last = *stmts.iter().rev().find(|s| s.kind() != "comment").unwrap();
    let func = py.scope_at(body.start_byte());
    let start = line_start(py.src, decorator.start_byte());
    let dec_end = decorator.named_child(0).map(|e| e.end_byte()).unwrap_or(decorator.end_byte());
    let end = line_end_after(py.src, dec_end).ok_or("code follows the decorator")?;
    let end = py.src[end..].find('\n').map(|i| end + i + 1).unwrap_or(end);
    x1(
        py,
        Extraction {
            stmts,
            replace: first.start_byte()..last.end_byte(),
            func,
            decorator: decorator_text(py, callee, args),
            decorator_import: None,
            tail: true,
            extra: vec![Edit::replace(start..end, "")],
        },
    )
}

/// How to spell Django's `atomic` in this file, with the import it needs.
pub fn django_atomic_name(py: &PyModel) -> Option<(String, Option<(&'static str, &'static str)>)> {
    let mut locals: Vec<(&String, &String)> = py.imports.iter().collect();
    locals.sort();
    if let Some((l, _)) = locals.iter().find(|(_, p)| p.as_str() == "django.db.transaction") {
        return Some((format!("{l}.atomic"), None));
    }
    if let Some((l, _)) = locals.iter().find(|(_, p)| p.as_str() == "django.db.transaction.atomic") {
        return Some((l.to_string(), None));
    }
    if !py.imports.contains_key("transaction") && !py.scopes.iter().any(|s| s.name.as_deref() == Some("transaction")) {
        return Some(("transaction.atomic".into(), Some(("django.db", "transaction"))));
    }
    None
}

/// X1 for the statements of an async function body from the one holding byte `at` to the end
/// (AG205: the lock must be held for the rest of the work).
pub fn x1_for_tail(py: &PyModel, at: usize, func: usize) -> Result<Fix, &'static str> {
    let body_range = py.scopes[func].range.clone();
    let def = function_of_body(py.tree.root_node(), &body_range).ok_or("the function was not found")?;
    let body = def.child_by_field_name("body").ok_or("no body")?;
    let stmts = block_stmts(body);
    let i = stmts.iter().position(|s| s.byte_range().contains(&at)).ok_or("the statement was not found")?;
    let stmts: Vec<Node> = stmts[i..].to_vec();
    let last = *stmts.iter().rev().find(|s| s.kind() != "comment").ok_or("empty")?;
    let (decorator, decorator_import) = django_atomic_name(py).ok_or("`transaction` names something else in this file")?;
    x1(
        py,
        Extraction {
            replace: stmts[0].start_byte()..last.end_byte(),
            stmts,
            func,
            decorator,
            decorator_import,
            tail: true,
            extra: vec![],
        },
    )
}

#[cfg(test)]
mod tests {
    use crate::config::{Overrides, Settings};
    use crate::fix::{apply, Applicability};
    use crate::analysis::analyze;
    use crate::syntax::{has_syntax_error, parse, Lang};
    use crate::text::LineIndex;

    /// Every X1 fix of rule `code` on `src`, applied alone.
    pub(crate) fn x1_results(code: &str, src: &str) -> Vec<String> {
        let settings =
            Settings::resolve(None, &Overrides { select: Some(vec![code.to_string()]), ..Default::default() }, None).unwrap();
        let tree = parse(Lang::Python, src, None);
        assert!(!has_syntax_error(&tree), "the test source must parse:\n{src}");
        let index = LineIndex::new(src);
        let a = analyze(src, Lang::Python, &tree, &index, &settings);
        assert!(a.errors.is_empty(), "{:?}", a.errors);
        let mut out = vec![];
        for f in &a.findings {
            for x in f.fixes.iter().filter(|x| x.applicability == Applicability::Unsafe && x.title.contains("sync `@")) {
                let fixed = apply(src, &x.edits).expect("edits apply");
                assert!(!has_syntax_error(&parse(Lang::Python, &fixed, None)), "does not parse:\n{fixed}");
                out.push(fixed);
            }
        }
        out
    }

    /// The block's statements turned into their sync twins, the way a reviewer would write
    /// them by hand: `await ` dropped, `async for` → `for`, `a<m>(` → `<m>(`,
    /// `sync_to_async(f)(` → `f(`; one statement line per entry, whitespace-normalised.
    fn by_hand(block: &str) -> Vec<String> {
        let mut out = vec![];
        for line in block.lines().map(str::trim).filter(|l| !l.is_empty()) {
            let mut l = line.replace("await ", "").replace("async for", "for");
            for t in crate::dialects::django::QUERYSET_TERMINALS {
                l = l.replace(&format!(".{}(", t.async_name), &format!(".{}(", t.sync));
            }
            for (a, b) in [(".asave(", ".save("), (".arefresh_from_db(", ".refresh_from_db("), (".aiterator(", ".iterator(")] {
                l = l.replace(a, b);
            }
            while let Some(i) = l.find("sync_to_async(") {
                let rest = &l[i + "sync_to_async(".len()..];
                let close = rest.find(')').unwrap();
                l = format!("{}{}{}", &l[..i], &rest[..close], &rest[close + 1..]);
            }
            out.push(l.split_whitespace().collect::<Vec<_>>().join(" "));
        }
        out
    }

    /// Checks one X1 result: the new function `name` holds exactly the block's statements as
    /// sync twins (then `return <returns>`), and the call binds exactly `returns`.
    fn check(fixed: &str, name: &str, block: &str, params: &str, returns: &[&str], call_prefix: &str) {
        let def = format!("def {name}({params}):\n");
        let start = fixed.find(&def).unwrap_or_else(|| panic!("no `{def}` in:\n{fixed}")) + def.len();
        let end = fixed[start..].find("\n\n\n").map(|i| start + i).unwrap();
        let body: Vec<&str> = fixed[start..end].lines().collect();
        assert!(body.iter().all(|l| l.starts_with("    ")), "body not indented: {body:?}");
        let mut stmts: Vec<String> =
            body.iter().map(|l| l.split_whitespace().collect::<Vec<_>>().join(" ")).collect();
        if !returns.is_empty() {
            assert_eq!(stmts.pop().unwrap(), format!("return {}", returns.join(", ")));
        }
        assert_eq!(stmts, by_hand(block), "statements changed");
        assert!(!stmts.iter().any(|s| s.contains("await ") || s.contains("async ")), "async left: {stmts:?}");
        let lhs = if returns.is_empty() { String::new() } else { format!("{} = ", returns.join(", ")) };
        let call = format!("{call_prefix}{lhs}await sync_to_async({name})(");
        assert!(fixed.contains(&call), "no `{call}` in:\n{fixed}");
        assert!(fixed[..fixed.find(&def).unwrap()].contains("@"), "decorator missing");
    }

    const HEAD: &str = "from asgiref.sync import sync_to_async\nfrom django.db import transaction\nfrom .models import Order, Seat\n\n\n";

    #[test]
    fn x1_keeps_statements_twins_and_names_bound_after() {
        let block = "        order = await Order.objects.acreate(total=total)\n        order.status = \"new\"\n        await order.asave(update_fields=[\"status\"])\n        n = await Order.objects.filter(user=user).acount()\n";
        let src = format!("{HEAD}async def create(user, data):\n    total = data[\"t\"]\n    unused = 1\n    with transaction.atomic():\n{block}    return order.pk, n\n");
        let fixed = x1_results("AG202", &src);
        assert_eq!(fixed.len(), 1);
        check(&fixed[0], "_create_atomic", block, "user, total", &["order", "n"], "    ");
        assert!(fixed[0].contains("@transaction.atomic\ndef _create_atomic"));
    }

    #[test]
    fn x1_loops_comprehensions_and_wrappers() {
        let block = "        async for s in Seat.objects.filter(pk__in=ids):\n            if s.taken:\n                continue\n            done.append(s.pk)\n        names = [s.name async for s in Seat.objects.all()]\n        await sync_to_async(notify)(names)\n";
        let src = format!("{HEAD}async def run(ids):\n    done = []\n    with transaction.atomic():\n{block}    return done, names\n");
        let fixed = x1_results("AG202", &src);
        assert_eq!(fixed.len(), 1);
        check(&fixed[0], "_run_atomic", block, "ids, done", &["names"], "    ");
    }

    #[test]
    fn x1_tail_block_keeps_its_returns() {
        let block = "        seat = await Seat.objects.aget(pk=pk)\n        if seat.taken:\n            return None\n        seat.taken = True\n        await seat.asave()\n        return seat\n";
        let src = format!("{HEAD}async def take(pk):\n    with transaction.atomic():\n{block}");
        let fixed = x1_results("AG201", &src.replace("    with transaction", "    async with transaction"));
        assert_eq!(fixed.len(), 1);
        check(&fixed[0], "_take_atomic", block, "pk", &[], "    return ");
    }

    #[test]
    fn x1_decorator_and_select_for_update() {
        let body = "    seat = await Seat.objects.select_for_update().aget(pk=seat_id)\n    seat.taken = True\n    await seat.asave()\n";
        let src = format!("{HEAD}@transaction.atomic\nasync def reserve(seat_id):\n    \"\"\"Doc.\"\"\"\n{body}");
        let fixed = x1_results("AG203", &src);
        assert_eq!(fixed.len(), 1);
        check(&fixed[0], "_reserve_atomic", body, "seat_id", &[], "    ");
        assert!(fixed[0].contains("\nasync def reserve(seat_id):\n    \"\"\"Doc.\"\"\"\n    await sync_to_async"), "{}", fixed[0]);
        assert_eq!(fixed[0].matches("@transaction.atomic").count(), 1, "decorator not moved");

        let src = format!("{HEAD}async def reserve(seat_id):\n    log(seat_id)\n{body}    return seat.pk\n");
        let fixed = x1_results("AG205", &src);
        assert_eq!(fixed.len(), 1);
        let tail = format!("{body}    return seat.pk\n");
        check(&fixed[0], "_reserve_atomic", &tail, "seat_id", &[], "    return ");
        assert!(fixed[0].contains("    log(seat_id)\n    return await"));
    }

    #[test]
    fn x1_refuses_what_it_cannot_keep() {
        // Non-ORM await, control flow leaving the block, conditional assignment read later.
        for body in [
            "        await client.post(1)\n",
            "        for x in xs:\n            break\n        return 1\n",
            "        if c:\n            y = await Order.objects.acount()\n",
            "        def inner():\n            pass\n",
            "        await super().asave()\n",
            "        await self.__obj.asave()\n",
        ] {
            let src = format!("{HEAD}async def f(c, xs, client):\n    with transaction.atomic():\n{body}    return y\n");
            assert!(x1_results("AG202", &src).is_empty(), "fix offered for:\n{body}");
        }
    }

    #[test]
    fn x1_refuses_global_and_keeps_loop_state() {
        let src = format!("{HEAD}async def f():\n    global n\n    with transaction.atomic():\n        n = await Order.objects.acount()\n");
        assert!(x1_results("AG202", &src).is_empty());

        // In a loop, a name the block assigns and the next iteration reads is returned.
        let block = "                last = await Order.objects.aget(pk=pk)\n                seen.append(last.pk)\n";
        let src = format!("{HEAD}class Sync:\n    async def run(self, ids):\n        seen, last = [], None\n        for pk in ids:\n            if last:\n                log(last)\n            with transaction.atomic():\n{block}        return seen\n");
        let fixed = x1_results("AG202", &src);
        assert_eq!(fixed.len(), 1);
        check(&fixed[0], "_run_atomic", block, "pk, seen, last", &["last"], "            ");
        assert!(fixed[0].find("def _run_atomic").unwrap() < fixed[0].find("class Sync").unwrap(), "not at module level");
    }

    #[test]
    fn dump_fixture_x1() {
        let Ok(path) = std::env::var("X1_DUMP") else { return };
        let code = std::path::Path::new(&path).file_stem().unwrap().to_str().unwrap().split('_').next().unwrap().to_string();
        let src = std::fs::read_to_string(&path).unwrap();
        for r in x1_results(&code, &src) {
            println!("=====\n{r}");
        }
    }
}
