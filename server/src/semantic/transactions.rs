//! Transaction context for the AG2xx rules: which expressions are an `atomic` of Django or
//! dorm (resolved through the imports, never by the bare name), and whether a byte lies inside
//! an atomic block or an `@atomic` function (RULES.md §3.3, §3.6b).
//!
//! Invariants:
//! - A name is an `atomic` only when its import says so: `transaction.atomic` with
//!   `from django.db import transaction`, `atomic` with `from django.db.transaction import
//!   atomic`, `tx.atomic` with `… import transaction as tx`. A file that defines its own
//!   `atomic` is silent.
//! - "Inside" is lexical and stops at scope boundaries: code in a `lambda` or a nested `def`
//!   written inside `with transaction.atomic():` does not run in the transaction when it is
//!   called later (the `transaction.on_commit(lambda: task.delay(x))` idiom).
//! - The region list is built with a `TreeCursor` walk (no recursion).
//! - A task dispatch ([`PyModel::task_dispatch`]) is one shape, shared by AG208 and the
//!   function summaries (so a helper that dispatches is recognised by the same test whether
//!   it is in this file or another): `<task>.delay(…)` / `<task>.apply_async(…)` where
//!   `<task>` is imported (from a `tasks` module, or in a file importing Celery) or is a
//!   module-level function of a file importing Celery; `<app>.send_task(…)` with Celery
//!   imported; `<task>.enqueue(…)` with `django.tasks` imported. Never a parameter or a local.

use super::python::PyModel;
use std::ops::Range;
use tree_sitter::Node;

/// Which transaction API an expression resolves to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AtomicApi {
    /// `django.db.transaction.atomic`: sync only, no async form in any Django version.
    Django,
    /// `dorm.transaction.atomic`: sync connection only.
    Dorm,
    /// `dorm.transaction.aatomic`: the async form (`async with`, decorator on `async def`).
    DormAsync,
}

/// One use of an atomic: `transaction.atomic`, `transaction.atomic(using="x")` …
#[derive(Clone, Copy, Debug)]
pub struct AtomicUse<'t> {
    pub api: AtomicApi,
    /// The callee (`transaction.atomic`, `atomic`, `tx.atomic`).
    pub callee: Node<'t>,
    /// The argument list when it is called (`(using="x")`).
    pub args: Option<Node<'t>>,
}

/// A stretch of code that runs inside a sync atomic block.
#[derive(Clone, Debug)]
pub struct AtomicRegion {
    /// The `with` body, or the decorated function's body.
    pub body: Range<usize>,
    /// The scope that runs that code (see [`PyModel::scope_at`]).
    pub scope: usize,
    pub api: AtomicApi,
    /// `@atomic` on a function (else a `with` block).
    pub decorator: bool,
    /// The text of the callee (`transaction.atomic`, `atomic`, `tx.atomic`).
    pub callee: String,
    /// The database alias expression, as written (`using=…` or the first positional
    /// argument); `None`: the default database.
    pub using: Option<String>,
}

impl AtomicRegion {
    /// The block is on a read replica (its alias names one: `"replica"`,
    /// `settings.DATABASE_CONNECTION_REPLICA_NAME`): it pins one connection for consistent
    /// reads and writes nothing another connection could miss.
    pub fn on_replica(&self) -> bool {
        self.using.as_deref().is_some_and(|u| u.to_ascii_lowercase().contains("replica"))
    }
}

/// One `with` item: the context-manager expression and whether it has an `as` target.
#[derive(Clone, Copy, Debug)]
pub struct WithItem<'t> {
    pub value: Node<'t>,
    pub has_alias: bool,
}

impl<'t> PyModel<'t> {
    /// The region `body` guarded by the atomic use `u` (`decorator`: `@atomic` on a function).
    fn region(&self, body: Node<'t>, u: &AtomicUse<'t>, decorator: bool) -> AtomicRegion {
        AtomicRegion {
            body: body.byte_range(),
            scope: self.scope_at(body.start_byte()),
            api: u.api,
            decorator,
            callee: self.node_text(u.callee).to_string(),
            using: u.args.and_then(|a| {
                let mut c = a.walk();
                let args: Vec<Node> = a.named_children(&mut c).filter(|x| x.kind() != "comment").collect();
                let kw = args.iter().find_map(|x| {
                    (x.kind() == "keyword_argument"
                        && x.child_by_field_name("name").is_some_and(|n| self.node_text(n) == "using"))
                    .then(|| x.child_by_field_name("value"))
                    .flatten()
                });
                let first = args.first().filter(|x| x.kind() != "keyword_argument").copied();
                kw.or(first).map(|v| self.node_text(v).to_string())
            }),
        }
    }
}

impl<'t> PyModel<'t> {
    /// The dotted path a dotted expression text refers to through the imports
    /// (`tx.atomic` → `django.db.transaction.atomic`); `None` when its first name is not
    /// imported or the text is not a plain dotted name.
    pub fn resolve_dotted(&self, text: &str) -> Option<String> {
        let t: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        if t.is_empty() || !t.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '.') {
            return None;
        }
        let (first, rest) = match t.split_once('.') {
            Some((a, b)) => (a, Some(b)),
            None => (t.as_str(), None),
        };
        let base = self.import_of(first)?;
        Some(match rest {
            Some(r) => format!("{base}.{r}"),
            None => base.to_string(),
        })
    }

    /// The dotted path of the expression `n` through the imports, unless its first name is
    /// rebound where `n` is (a parameter, an assignment, a `def` of the same name).
    pub fn resolve_node(&self, n: Node) -> Option<String> {
        let text = self.node_text(n);
        let first = text.split('.').next().unwrap_or("").trim();
        if self.binding(first, n.start_byte()).is_some() {
            return None;
        }
        self.resolve_dotted(text)
    }

    /// True when the callee expression resolves (through the imports) to one of `paths`.
    pub fn resolves_to(&self, callee: Node, paths: &[&str]) -> bool {
        self.resolve_node(callee).is_some_and(|p| paths.contains(&p.as_str()))
    }

    /// An atomic expression: `atomic`, `atomic(…)`, `transaction.atomic(…)`, dorm's
    /// `aatomic(…)`. `expr` is a call or a bare name/attribute (decorators).
    pub fn atomic_use(&self, expr: Node<'t>) -> Option<AtomicUse<'t>> {
        let (callee, args) = match expr.kind() {
            "call" => (expr.child_by_field_name("function")?, expr.child_by_field_name("arguments")),
            "identifier" | "attribute" => (expr, None),
            _ => return None,
        };
        let api = match self.resolve_node(callee)?.as_str() {
            "django.db.transaction.atomic" => AtomicApi::Django,
            "dorm.transaction.atomic" => AtomicApi::Dorm,
            "dorm.transaction.aatomic" => AtomicApi::DormAsync,
            _ => return None,
        };
        Some(AtomicUse { api, callee, args })
    }

    /// Every sync atomic region of the file (Django and dorm `with atomic()` blocks and
    /// `@atomic` functions), in source order. With [`PyModel::focus`] set, only the regions
    /// whose statement overlaps the focus (the only ones `atomic_at` can return there).
    pub fn atomic_regions(&self) -> Vec<AtomicRegion> {
        // Several rules ask: one walk per model and focus.
        if let Some((focus, regions)) = self.atomic_memo.get() {
            if *focus == self.focus {
                return regions.clone();
            }
            return self.find_atomic_regions();
        }
        let regions = self.find_atomic_regions();
        let _ = self.atomic_memo.set((self.focus.clone(), regions.clone()));
        regions
    }

    /// [`PyModel::atomic_regions`], computed.
    fn find_atomic_regions(&self) -> Vec<AtomicRegion> {
        let mut out = Vec::new();
        let mut cursor = self.tree.walk();
        let outside = |n: Node| self.focus.as_ref().is_some_and(|f| n.end_byte() <= f.start || n.start_byte() >= f.end);
        loop {
            let node = cursor.node();
            let skip = outside(node);
            match node.kind() {
                _ if skip => {}
                "with_statement" if node.child(0).is_some_and(|c| c.kind() != "async") => {
                    if let Some(body) = node.child_by_field_name("body") {
                        for item in with_items(node) {
                            if let Some(u) = self.atomic_use(item.value).filter(|u| u.api != AtomicApi::DormAsync) {
                                out.push(self.region(body, &u, false));
                                break;
                            }
                        }
                    }
                }
                "class_definition" => {
                    // `@method_decorator(transaction.atomic, name="dispatch")` on the class, or
                    // `@method_decorator(transaction.atomic)` on its `dispatch`: every handler
                    // the view's `dispatch` calls runs in the transaction.
                    let dispatch = self.atomic_dispatch(node);
                    let named = self.atomic_named_methods(node);
                    for (body, name) in view_methods(node) {
                        let name = self.node_text(name);
                        // `__init__`, `setup` and `as_view` run before `dispatch`.
                        let by_dispatch = dispatch.as_ref().filter(|_| !matches!(name, "__init__" | "setup" | "as_view"));
                        let by_name = named.iter().find(|(n, _)| *n == name).map(|(_, u)| u);
                        if let Some(u) = by_dispatch.or(by_name).filter(|_| !outside(body)) {
                            out.push(self.region(body, u, true));
                        }
                    }
                }
                "decorated_definition" => {
                    if let Some(def) = node.child_by_field_name("definition").filter(|d| d.kind() == "function_definition") {
                        let sync_def = def.child(0).is_some_and(|c| c.kind() != "async");
                        if let (true, Some(body)) = (sync_def, def.child_by_field_name("body")) {
                            let mut c = node.walk();
                            let decs: Vec<Node> = node.named_children(&mut c).filter(|d| d.kind() == "decorator").collect();
                            for dec in decs {
                                let Some(expr) = dec.named_child(0) else { continue };
                                let used = self.atomic_use(expr).or_else(|| self.method_decorator_atomic(expr).map(|(u, _)| u));
                                let seen = out.iter().any(|r| r.body == body.byte_range());
                                if let Some(u) = used.filter(|u| u.api != AtomicApi::DormAsync && !seen) {
                                    out.push(self.region(body, &u, true));
                                    break;
                                }
                            }
                        }
                    }
                }
                _ => {}
            }
            if !skip && cursor.goto_first_child() {
                continue;
            }
            loop {
                if cursor.goto_next_sibling() {
                    break;
                }
                if !cursor.goto_parent() {
                    return out;
                }
            }
        }
    }

    /// `method_decorator(<atomic>, …)` (also with a list or tuple of decorators holding the
    /// atomic): the atomic, and the `name=` argument if any.
    pub fn method_decorator_atomic(&self, expr: Node<'t>) -> Option<(AtomicUse<'t>, Option<&'t str>)> {
        if expr.kind() != "call" {
            return None;
        }
        let f = expr.child_by_field_name("function")?;
        if self.resolve_node(f).as_deref() != Some("django.utils.decorators.method_decorator") {
            return None;
        }
        let args = expr.child_by_field_name("arguments")?;
        let mut c = args.walk();
        let list: Vec<Node<'t>> = args.named_children(&mut c).filter(|a| a.kind() != "comment").collect();
        let first = *list.first().filter(|a| a.kind() != "keyword_argument")?;
        let u = match first.kind() {
            "list" | "tuple" => {
                let mut c = first.walk();
                let items: Vec<Node<'t>> = first.named_children(&mut c).collect();
                items.into_iter().find_map(|d| self.atomic_use(d))?
            }
            _ => self.atomic_use(first)?,
        };
        let name = list.iter().find_map(|a| {
            if a.kind() != "keyword_argument" {
                return None;
            }
            let k = a.child_by_field_name("name")?;
            let v = a.child_by_field_name("value")?;
            (self.node_text(k) == "name").then(|| self.node_text(v).trim_matches(['"', '\'']))
        });
        Some((u, name))
    }

    /// `@method_decorator(<atomic>, name="m")` on a class: (`m`, the atomic), `m` not `dispatch`.
    fn atomic_named_methods(&self, class: Node<'t>) -> Vec<(&'t str, AtomicUse<'t>)> {
        let Some(p) = class.parent().filter(|p| p.kind() == "decorated_definition") else { return vec![] };
        let mut c = p.walk();
        let decs: Vec<Node<'t>> = p.named_children(&mut c).filter(|d| d.kind() == "decorator").filter_map(|d| d.named_child(0)).collect();
        decs.into_iter()
            .filter_map(|e| self.method_decorator_atomic(e))
            .filter_map(|(u, n)| Some((n.filter(|n| *n != "dispatch")?, u)))
            .filter(|(_, u)| u.api == AtomicApi::Django)
            .collect()
    }

    /// The atomic a class-based view's `dispatch` runs in: `@method_decorator(<atomic>,
    /// name="dispatch")` on the class, or `@method_decorator(<atomic>)` (or a bare atomic) on
    /// its sync `def dispatch`.
    fn atomic_dispatch(&self, class: Node<'t>) -> Option<AtomicUse<'t>> {
        let decorators = |def_or_class: Node<'t>| -> Vec<Node<'t>> {
            let Some(p) = def_or_class.parent().filter(|p| p.kind() == "decorated_definition") else { return vec![] };
            let mut c = p.walk();
            p.named_children(&mut c).filter(|d| d.kind() == "decorator").filter_map(|d| d.named_child(0)).collect()
        };
        for expr in decorators(class) {
            if let Some((u, Some("dispatch"))) = self.method_decorator_atomic(expr) {
                return (u.api == AtomicApi::Django).then_some(u);
            }
        }
        let body = class.child_by_field_name("body")?;
        let mut c = body.walk();
        for stmt in body.named_children(&mut c) {
            let Some(def) = (match stmt.kind() {
                "decorated_definition" => stmt.child_by_field_name("definition"),
                _ => None,
            }) else {
                continue;
            };
            let is_dispatch = def.kind() == "function_definition"
                && def.child(0).is_some_and(|t| t.kind() != "async")
                && def.child_by_field_name("name").is_some_and(|n| self.node_text(n) == "dispatch");
            if !is_dispatch {
                continue;
            }
            for expr in decorators(def) {
                let u = self.method_decorator_atomic(expr).map(|(u, _)| u).or_else(|| self.atomic_use(expr));
                if let Some(u) = u.filter(|u| u.api == AtomicApi::Django) {
                    return Some(u);
                }
            }
        }
        None
    }

    /// The innermost atomic region that byte `b` runs in: `b` lies in its body and in the
    /// same scope (not in a lambda or nested `def` written there).
    pub fn atomic_at<'r>(&self, regions: &'r [AtomicRegion], b: usize) -> Option<&'r AtomicRegion> {
        let scope = self.scope_at(b);
        regions.iter().filter(|r| r.body.contains(&b) && r.scope == scope).min_by_key(|r| r.body.len())
    }
}

impl<'t> PyModel<'t> {
    /// When `call` dispatches a background task (see the module docs), the task's name as
    /// written (its first dotted component: `send_receipt`, `tasks`, `app`).
    pub fn task_dispatch(&self, call: Node<'t>) -> Option<String> {
        let func = call.child_by_field_name("function").filter(|f| f.kind() == "attribute")?;
        let m = self.node_text(func.child_by_field_name("attribute")?);
        let receiver = func.child_by_field_name("object")?;
        let root = self.node_text(receiver).split('.').next().unwrap_or("").trim();
        if root.is_empty() || !root.chars().all(|c| c.is_alphanumeric() || c == '_') {
            return None;
        }
        let celery = self.imports_celery();
        let yes = match m {
            "delay" | "apply_async" => self.is_task_root(root),
            "send_task" => celery && (self.import_of(root).is_some() || root.ends_with("app")),
            "enqueue" => self.imports.values().any(|p| p.starts_with("django.tasks")),
            _ => false,
        };
        yes.then(|| root.to_string())
    }

    /// The file imports Celery (`celery` or a `celery.…` module).
    pub fn imports_celery(&self) -> bool {
        self.imports.values().any(|p| p == "celery" || p.starts_with("celery."))
    }

    /// The first dotted component `root` of a receiver names a task: imported (from a `tasks`
    /// module, or in a file importing Celery), or a module-level function of a file importing
    /// Celery (see the module docs).
    pub fn is_task_root(&self, root: &str) -> bool {
        let celery = self.imports_celery();
        match self.import_of(root) {
            Some(p) => celery || p.split('.').any(|c| c == "tasks") || self.imported_celery_task(root),
            None => {
                celery
                    && self.scopes.iter().any(|s| {
                        s.kind == super::ScopeKind::Function && s.parent == Some(0) && s.name.as_deref() == Some(root)
                    })
            }
        }
    }

    /// `root` is imported from a project module where it is a function under a Celery task
    /// decorator (`@shared_task…`, `@app.task…`) that is not a dispatcher of the project's own
    /// (saleor's `order/emails.py` defines its tasks with `@app.task`).
    fn imported_celery_task(&self, root: &str) -> bool {
        let Some(super::outside::PyDef::Function(f)) = self.imported_def(root, None) else { return false };
        !f.project_dispatcher
            && f.decorators.iter().any(|d| {
                let callee = d.split('(').next().unwrap_or("").trim();
                let last = callee.rsplit('.').next().unwrap_or("");
                last == "shared_task" || (last == "task" && callee.contains('.'))
            })
    }

    /// The receiver `receiver` (of `.delay(…)`, `.apply_async(…)`, `.delay_on_commit(…)`) is a
    /// Celery task as far as this file and the project model can tell: [`PyModel::is_task_root`],
    /// and not a task of a dispatcher the project defines itself (an imported task whose
    /// decorator is the project's own, [`FnFacts::project_dispatcher`]; a task of this file
    /// must carry a task decorator that is not a `def`/`class` of this file). Stricter than
    /// [`PyModel::task_dispatch`], for the rules that tell the user Celery's behaviour.
    ///
    /// [`FnFacts::project_dispatcher`]: super::outside::FnFacts::project_dispatcher
    pub fn celery_task(&self, receiver: Node<'t>) -> bool {
        let text = self.node_text(receiver);
        if !text.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '.') {
            return false;
        }
        let (root, tail) = text.split_once('.').map_or((text, None), |(h, t)| (h, Some(t)));
        if root.is_empty() || !self.is_task_root(root) {
            return false;
        }
        if self.import_of(root).is_some() {
            // Rebound in this scope (a parameter, a local) → not the import.
            if self.binding(root, receiver.start_byte()).is_some_and(|b| b.value.is_some()) {
                return false;
            }
            return !matches!(self.imported_def(root, tail), Some(super::outside::PyDef::Function(f)) if f.project_dispatcher);
        }
        if tail.is_some() {
            return false;
        }
        let Some(def) = self.module_def_named(root) else { return false };
        let header = self.local_fn_header(def);
        !header.task_decorators.is_empty()
            && header.task_decorators.iter().all(|d| {
                let head = d.split('.').next().unwrap_or(d);
                d.rsplit('.').next() == Some("shared_task") || (self.module_def_named(head).is_none() && !self.defines_class(head))
            })
    }

    /// A class named `name` is defined at the top level of this file.
    pub fn defines_class(&self, name: &str) -> bool {
        let root = self.tree.root_node();
        let mut c = root.walk();
        let found = root.named_children(&mut c).any(|n| {
            let def = if n.kind() == "decorated_definition" { n.child_by_field_name("definition") } else { Some(n) };
            def.is_some_and(|d| d.kind() == "class_definition" && d.child_by_field_name("name").is_some_and(|x| self.node_text(x) == name))
        });
        found
    }

    /// The task `task` is a module-level function of this file whose task decorator's `base=`
    /// defers dispatch to commit: a class of this file whose `apply_async`/`delay` calls
    /// `on_commit` (or named `…TransactionAware…` / `…OnCommit…`, pretix's pattern), or a
    /// project class imported from another file that does ([`ClassFacts::defers_on_commit`]).
    /// Also a task imported from another file whose summary says so.
    ///
    /// [`ClassFacts::defers_on_commit`]: super::outside::ClassFacts::defers_on_commit
    pub fn task_defers_to_commit(&self, task: &str) -> bool {
        if self.import_of(task).is_some() {
            return match self.imported_def(task, None) {
                Some(super::outside::PyDef::Function(f)) => f.on_commit_task || f.project_dispatcher,
                _ => false,
            };
        }
        let Some(def) = self.module_def_named(task) else { return false };
        let Some(base) = self.local_fn_header(def).task_base else { return false };
        self.class_defers_to_commit(&base)
    }

    /// The class a `base=` expression names defers dispatch to commit (see
    /// [`PyModel::task_defers_to_commit`]).
    fn class_defers_to_commit(&self, base: &str) -> bool {
        if base.contains("TransactionAware") || base.contains("OnCommit") {
            return true;
        }
        let (head, tail) = base.split_once('.').map_or((base, None), |(h, t)| (h, Some(t)));
        if tail.is_none() {
            let root = self.tree.root_node();
            let mut c = root.walk();
            let local = root.named_children(&mut c).find_map(|n| {
                let def = if n.kind() == "decorated_definition" { n.child_by_field_name("definition")? } else { n };
                (def.kind() == "class_definition" && def.child_by_field_name("name").is_some_and(|x| self.node_text(x) == head))
                    .then_some(def)
            });
            if let Some(class) = local {
                return class_text_defers(block_text(self.src, class.start_byte()));
            }
        }
        matches!(self.imported_def(head, tail), Some(super::outside::PyDef::Class(c)) if c.defers_on_commit)
    }
}

/// A class's source defines `apply_async` or `delay` and calls `on_commit` (a Celery task
/// base that dispatches at commit).
pub fn class_text_defers(text: &str) -> bool {
    (text.contains("def apply_async") || text.contains("def delay")) && text.contains("on_commit")
}

/// The source of the top-level statement starting at `start`: up to the next line that
/// starts at column 0 with code. Read from the text, not the tree: a sparse parse leaves
/// sync method bodies out of the class node.
pub fn block_text(src: &str, start: usize) -> &str {
    let rest = &src[start..];
    let mut end = rest.len();
    let mut offset = 0;
    for (i, line) in rest.split_inclusive('\n').enumerate() {
        if i > 0 && line.starts_with(|c: char| !c.is_whitespace() && c != '#' && c != ')' && c != ']') {
            end = offset;
            break;
        }
        offset += line.len();
    }
    &rest[..end]
}

/// The sync methods of a class: their bodies and names.
fn view_methods(class: Node) -> Vec<(Node, Node)> {
    let Some(body) = class.child_by_field_name("body") else { return vec![] };
    let mut out = vec![];
    let mut c = body.walk();
    for stmt in body.named_children(&mut c) {
        let def = match stmt.kind() {
            "function_definition" => Some(stmt),
            "decorated_definition" => stmt.child_by_field_name("definition").filter(|d| d.kind() == "function_definition"),
            _ => None,
        };
        let Some(def) = def.filter(|d| d.child(0).is_some_and(|t| t.kind() != "async")) else { continue };
        let (Some(name), Some(b)) = (def.child_by_field_name("name"), def.child_by_field_name("body")) else { continue };
        out.push((b, name));
    }
    out
}

/// The items of a `with` statement, in order.
pub fn with_items(with: Node) -> Vec<WithItem> {
    let mut out = Vec::new();
    let mut c = with.walk();
    let Some(clause) = with.named_children(&mut c).find(|n| n.kind() == "with_clause") else { return out };
    let mut c2 = clause.walk();
    for item in clause.named_children(&mut c2).filter(|n| n.kind() == "with_item") {
        let Some(value) = item.child_by_field_name("value") else { continue };
        if value.kind() == "as_pattern" {
            if let Some(inner) = value.named_child(0) {
                out.push(WithItem { value: inner, has_alias: true });
            }
        } else {
            out.push(WithItem { value, has_alias: false });
        }
    }
    out
}

/// True when a `with_statement`, `for_statement` or `for_in_clause` starts with `async`.
pub fn has_async_token(n: Node) -> bool {
    n.child(0).is_some_and(|c| c.kind() == "async")
}

/// The function_definition whose body is the scope range `body` (found from the root, no
/// parent chain walk).
pub fn function_of_body<'t>(root: Node<'t>, body: &Range<usize>) -> Option<Node<'t>> {
    let block = root.descendant_for_byte_range(body.start, body.end)?;
    let mut n = block;
    // The smallest node spanning the body can be the block itself or (for a one-statement
    // body) its only statement; climb at most a few levels to the definition.
    for _ in 0..4 {
        if n.kind() == "function_definition" {
            return Some(n);
        }
        n = n.parent()?;
    }
    None
}

#[cfg(test)]
mod tests {
    use crate::semantic::PyModel;
    use crate::syntax::{parse, Lang};
    use crate::text::LineIndex;

    fn model_regions(src: &str) -> Vec<(String, bool)> {
        let tree = parse(Lang::Python, src, None);
        let idx = LineIndex::new(src);
        let py = PyModel::build(src, &tree, &idx);
        py.atomic_regions().iter().map(|r| (r.callee.clone(), r.decorator)).collect()
    }

    #[test]
    fn regions_resolve_through_imports() {
        let src = "from django.db import transaction as tx\nfrom django.db.transaction import atomic\n\
                   def a():\n    with tx.atomic():\n        pass\n\n@atomic\ndef b():\n    pass\n\n\
                   def c():\n    with transaction.atomic():\n        pass\n";
        assert_eq!(model_regions(src), vec![("tx.atomic".to_string(), false), ("atomic".to_string(), true)]);
    }

    #[test]
    fn lambda_in_atomic_is_outside() {
        let src = "from django.db import transaction\ndef a():\n    with transaction.atomic():\n        x = 1\n        transaction.on_commit(lambda: go(x))\n";
        let tree = parse(Lang::Python, src, None);
        let idx = LineIndex::new(src);
        let py = PyModel::build(src, &tree, &idx);
        let regions = py.atomic_regions();
        assert!(py.atomic_at(&regions, src.find("x = 1").unwrap()).is_some());
        assert!(py.atomic_at(&regions, src.find("go(x)").unwrap()).is_none());
    }
}

/// After the statement holding `at`, the block `body` (an atomic block, or a function body:
/// a view under the request transaction, a helper) always ends in a `raise`: a
/// later statement of an enclosing block inside it is a `raise`, and nothing between leaves
/// the block another way (`return`, `break`, `continue`) or may catch the exception (`try`,
/// any `with` other than the atomic block's own). The transaction then always rolls back:
/// `on_commit` would drop the task, so the dispatch is meant to run now (a sign-up form that
/// e-mails the owner of an existing address, then raises), and it cannot read uncommitted
/// rows that will never commit. Silent. `src` is the tree's text: without the word `raise`
/// between `at` and the end of `body` no statement there raises, and no node is climbed.
pub fn raises_before_end(src: &str, at: tree_sitter::Node, body: &std::ops::Range<usize>) -> bool {
    if !src.get(at.end_byte()..body.end).is_some_and(|rest| rest.contains("raise")) {
        return false;
    }
    let mut n = at;
    while let Some(p) = n.parent() {
        match p.kind() {
            "function_definition" | "lambda" | "class_definition" | "try_statement" | "except_clause"
            | "finally_clause" | "with_statement" | "module" => return false,
            "block" => {
                // A `raise` in a `try` (or another `with`) may be caught there.
                let guarded = |x: tree_sitter::Node| matches!(x.kind(), "try_statement" | "with_statement");
                let holder = p.parent().map(|h| if h.kind() == "else_clause" { h.parent().unwrap_or(h) } else { h });
                if p.start_byte() > body.start && holder.is_some_and(|h| guarded(h) || matches!(h.kind(), "except_clause" | "finally_clause")) {
                    return false;
                }
                let mut c = p.walk();
                let later: Vec<_> = p.named_children(&mut c).filter(|s| s.start_byte() >= n.end_byte()).collect();
                for s in later {
                    if s.kind() == "raise_statement" {
                        return true;
                    }
                    if escapes(s) {
                        return false;
                    }
                }
                if p.start_byte() <= body.start {
                    // The end of the atomic block: it commits.
                    return false;
                }
            }
            _ => {}
        }
        n = p;
    }
    false
}

/// `s` holds a `return`, `break`, `continue` or `yield` (outside nested `def`/`lambda`/`class`),
/// or a `try` (it may catch the later `raise`'s exception only through its own body, but a
/// conditional escape hides there as well): a path that leaves before the `raise`.
fn escapes(s: tree_sitter::Node) -> bool {
    let mut stack = vec![s];
    while let Some(n) = stack.pop() {
        match n.kind() {
            "return_statement" | "break_statement" | "continue_statement" | "yield" | "try_statement" => return true,
            "function_definition" | "lambda" | "class_definition" => continue,
            _ => {}
        }
        let mut c = n.walk();
        stack.extend(n.named_children(&mut c));
    }
    false
}
