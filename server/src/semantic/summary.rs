//! What a function of this file does, as other code sees it: what it returns, whether it
//! does sync database work, whether it is a generator or offloaded, and which functions it
//! calls. The project model ([`crate::project::python`]) stores these per file; the rules
//! of this file ask about their own functions the same way.
//!
//! Invariants: looks only at the function's own body (nested `def`s, lambdas and classes are
//! theirs), walks with an explicit stack (no recursion), and never follows names outside
//! this file (callers do, through [`super::outside::Outside`]).

use super::instances::{strip_parens, Value};
use super::python::{last_name, PyModel};
use crate::dialects::{django, django_api};
use super::outside::{FnFacts, Loc, Returns};
use std::ops::Range;
use std::path::Path;
use tree_sitter::Node;

/// A function's own facts (no other file consulted).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct LocalFn {
    pub name: String,
    /// The `def` name's range.
    pub name_range: Range<usize>,
    /// The whole `function_definition`.
    pub def_range: Range<usize>,
    pub is_async: bool,
    pub offloaded: bool,
    pub generator: bool,
    pub returns: Returns,
    /// The first sync database call in the body (range, short text).
    pub db_call: Option<(Range<usize>, String)>,
    /// The first `async_to_sync(f)(…)` call in the body (range, short text).
    pub a2s_call: Option<(Range<usize>, String)>,
    /// Calls of plain names and `module.name` in the body, in order: (callee text, call range).
    pub calls: Vec<(String, Range<usize>)>,
    /// The first background-task dispatch in the body (AG208): `task.delay(…)` /
    /// `task.apply_async(…)` on a task the file imports (from a `tasks` module, or in a file
    /// importing Celery) or defines in a Celery file, `task.enqueue(…)` with `django.tasks`
    /// imported: (range, short text, the task's name as written). Not inside a nested
    /// `def`/`lambda` (`on_commit(lambda: …)` runs at commit).
    pub dispatch: Option<(Range<usize>, String, String)>,
    /// The `base=` keyword of the function's decorators, as written (`@shared_task(base=OnCommitTask)`).
    pub task_base: Option<String>,
    /// Decorators named like a task decorator (`task`, `shared_task`, `app.task` …), as
    /// written without arguments: a project's own dispatcher may hide behind one (AG208).
    pub task_decorators: Vec<String>,
    /// Every decorator as written, without the `@` (`transaction.non_atomic_requests`,
    /// `require_POST`, `method_decorator(x, name="dispatch")`), top first (AG206).
    pub decorators: Vec<String>,
    /// The body was read (else only the header: name, ranges, `async`, decorators).
    pub body_read: bool,
    /// What its one `return` produces (AG104), model unresolved.
    pub produces: Option<super::relations::Produced>,
    /// Attributes it reads on its positional parameters (AG104: `def f(d): d.court.name`
    /// gives `(0, "court")`); filled when the body is read ([`PyModel::param_reads`]).
    pub param_reads: Vec<(usize, String)>,
    /// What the elements of its returned tuples produce (`return docket, context`), by index,
    /// model unresolved (AG104 through `a, b = await helper(…)`).
    pub produces_items: Vec<(usize, super::relations::Produced)>,
}

impl LocalFn {
    /// The same facts for the function moved by `delta` bytes.
    pub fn shifted(&self, delta: isize) -> LocalFn {
        let sh = |r: &Range<usize>| (r.start as isize + delta) as usize..(r.end as isize + delta) as usize;
        LocalFn {
            name_range: sh(&self.name_range),
            def_range: sh(&self.def_range),
            db_call: self.db_call.as_ref().map(|(r, t)| (sh(r), t.clone())),
            dispatch: self.dispatch.as_ref().map(|(r, t, n)| (sh(r), t.clone(), n.clone())),
            a2s_call: self.a2s_call.as_ref().map(|(r, t)| (sh(r), t.clone())),
            calls: self.calls.iter().map(|(t, r)| (t.clone(), sh(r))).collect(),
            ..self.clone()
        }
    }
}

/// What a walk through a function's calls looks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Work {
    /// Sync database work ([`LocalFn::db_call`], [`FnFacts::db_work`]).
    Db,
    /// `async_to_sync(f)(…)` ([`LocalFn::a2s_call`], [`FnFacts::a2s_work`]).
    AsyncToSync,
    /// A background-task dispatch that does not defer to commit ([`LocalFn::dispatch`],
    /// [`FnFacts::dispatch`]); facts computed for [`Work::Db`] carry it too.
    Dispatch,
}

impl Work {
    fn own<'f>(self, f: &'f LocalFn, callees: &mut dyn Callees) -> Option<(&'f Range<usize>, &'f String)> {
        match self {
            Work::Db => f.db_call.as_ref().map(|(r, t)| (r, t)),
            Work::AsyncToSync => f.a2s_call.as_ref().map(|(r, t)| (r, t)),
            Work::Dispatch => f.dispatch.as_ref().filter(|(_, _, task)| !callees.task_on_commit(task)).map(|(r, t, _)| (r, t)),
        }
    }

    /// The chain of this kind in facts computed for this kind.
    pub fn of(self, g: &FnFacts) -> &Vec<Loc> {
        match self {
            Work::Db => &g.db_work,
            Work::AsyncToSync => &g.a2s_work,
            Work::Dispatch => &g.dispatch,
        }
    }
}

/// Where [`db_work`] looks up the functions a function calls.
pub trait Callees {
    /// A module-level function of the same file, by name.
    fn local(&mut self, name: &str) -> Option<LocalFn>;
    /// A function of another module the callee text names (`close_loan` imported by name,
    /// `services.close_loan`), with its own work of kind `kind` filled in ([`Work::of`]);
    /// `depth`: files passed so far.
    fn imported(&mut self, callee: &str, depth: u32, kind: Work) -> Option<FnFacts>;
    /// The task named `task` (as written in the file) dispatches on commit: its base class
    /// defers `apply_async` to `transaction.on_commit`. Unknown: `false`.
    fn task_on_commit(&mut self, _task: &str) -> bool {
        false
    }
}

/// The background-task dispatch the function `f` reaches, as for [`db_work`]: its own first
/// dispatch (of a task that does not defer to commit), else the first found through the
/// functions it calls, as the chain of call sites, the dispatch last.
pub fn dispatch_work(f: &LocalFn, path: &Path, depth: u32, max_depth: u32, callees: &mut dyn Callees) -> Vec<Loc> {
    work(f, path, depth, max_depth, callees, Work::Dispatch)
}

/// The sync database work the function `f` (of the file at `path`) reaches: its own first
/// database call, else the first found (in text order) through the functions it calls —
/// module-level functions of its file by name ([`Callees::local`], transitively), or project
/// functions of other modules ([`Callees::imported`]) — as the chain of call sites, the
/// database call last. Empty for async and offloaded functions (their body does not run on
/// the caller's thread), beyond `max_depth`, and for recursion (a function already on the
/// walk). The one walk both the project model (other files) and
/// [`PyModel::callee_facts`] (this file) use, so both agree.
pub fn db_work(f: &LocalFn, path: &Path, depth: u32, max_depth: u32, callees: &mut dyn Callees) -> Vec<Loc> {
    work(f, path, depth, max_depth, callees, Work::Db)
}

/// [`db_work`] for any kind of [`Work`]: the same walk, looking for another kind of call.
pub fn work(f: &LocalFn, path: &Path, depth: u32, max_depth: u32, callees: &mut dyn Callees, kind: Work) -> Vec<Loc> {
    let mut seen = vec![f.name.clone()];
    walk_work(f, path, depth, max_depth, callees, &mut seen, kind)
}

fn walk_work(f: &LocalFn, path: &Path, depth: u32, max_depth: u32, callees: &mut dyn Callees, seen: &mut Vec<String>, kind: Work) -> Vec<Loc> {
    let here = |range: &Range<usize>, what: String| Loc { path: path.to_path_buf(), range: range.clone(), what };
    if f.is_async || f.offloaded {
        return vec![];
    }
    if let Some((range, text)) = kind.own(f, callees) {
        return vec![here(range, text.clone())];
    }
    if depth >= max_depth {
        return vec![];
    }
    for (callee, range) in &f.calls {
        let rest = if !callee.contains('.') {
            if seen.iter().any(|s| s == callee) {
                continue;
            }
            match callees.local(callee) {
                Some(g) => {
                    seen.push(callee.clone());
                    walk_work(&g, path, depth + 1, max_depth, callees, seen, kind)
                }
                None => imported_work(callees, callee, depth, kind),
            }
        } else {
            imported_work(callees, callee, depth, kind)
        };
        if !rest.is_empty() {
            return std::iter::once(here(range, format!("{callee}()"))).chain(rest).collect();
        }
    }
    vec![]
}

fn imported_work(callees: &mut dyn Callees, callee: &str, depth: u32, kind: Work) -> Vec<Loc> {
    match callees.imported(callee, depth + 1, kind) {
        Some(g) if !g.is_async && !g.offloaded => kind.of(&g).clone(),
        _ => vec![],
    }
}

/// The `base=` keyword argument of a decorator call (`@app.task(base=OnCommitTask)`), as written.
fn decorator_task_base(m: &PyModel, d: Node) -> Option<String> {
    let call = d.named_child(0).filter(|c| c.kind() == "call")?;
    let args = call.child_by_field_name("arguments")?;
    let mut c = args.walk();
    let found = args.named_children(&mut c).filter(|a| a.kind() == "keyword_argument").find_map(|kw| {
        let name = kw.child_by_field_name("name")?;
        let value = kw.child_by_field_name("value").filter(|v| matches!(v.kind(), "identifier" | "attribute"))?;
        (m.node_text(name) == "base").then(|| m.node_text(value).to_string())
    });
    found
}

/// Builtins that fetch every row of the queryset they are given.
const EVALUATING_BUILTINS: &[&str] = &["list", "tuple", "set", "sorted", "len", "bool", "sum", "any", "all", "dict"];

const DECORATOR_OFFLOADERS: &[&str] = &["sync_to_async", "database_sync_to_async"];
/// Instance methods that query (RULES.md §AG103).
const INSTANCE_QUERIES: &[&str] = &["save", "delete", "refresh_from_db"];

impl<'t> PyModel<'t> {
    /// The facts of the `function_definition` `def`.
    pub fn local_fn(&self, def: Node<'t>) -> LocalFn {
        let mut f = self.local_fn_header(def);
        f.body_read = true;
        let mut f = self.read_body(def, f);
        if !f.generator {
            f.produces = self.return_produced(def);
        }
        f.param_reads = self.param_reads(def);
        if !f.generator {
            f.produces_items = self.return_items_produced(def);
        }
        f
    }

    /// What the header of `def` tells: name, ranges, `async`, offloading decorators.
    pub fn local_fn_header(&self, def: Node<'t>) -> LocalFn {
        let name_node = def.child_by_field_name("name");
        let mut f = LocalFn {
            name: name_node.map(|n| self.node_text(n).to_string()).unwrap_or_default(),
            name_range: name_node.map(|n| n.byte_range()).unwrap_or(def.byte_range()),
            def_range: def.byte_range(),
            is_async: def.child(0).is_some_and(|c| c.kind() == "async"),
            ..Default::default()
        };
        if let Some(parent) = self.decorated_parent(def) {
            let mut c = parent.walk();
            for d in parent.named_children(&mut c).filter(|d| d.kind() == "decorator") {
                let text = self.node_text(d).trim_start_matches('@').trim();
                let callee = text.split('(').next().unwrap_or("");
                if DECORATOR_OFFLOADERS.contains(&last_name(callee)) {
                    f.offloaded = true;
                }
                if let Some(base) = decorator_task_base(self, d) {
                    f.task_base = Some(base);
                }
                if last_name(callee).ends_with("task") {
                    f.task_decorators.push(callee.trim().to_string());
                }
                f.decorators.push(text.chars().take(200).collect());
            }
        }
        f
    }

    fn read_body(&self, def: Node<'t>, mut f: LocalFn) -> LocalFn {
        let Some(body) = def.child_by_field_name("body") else { return f };
        let in_qs_class = self.enclosing_queryset_class(def);
        let mut returns: Vec<Returns> = vec![];
        // Names iterated with `async for` in the body: their result cache is filled, so
        // returning one gives no lazy queryset.
        let mut async_iterated: Vec<&str> = vec![];
        // Bare dispatches, and the arguments of `on_commit(…)` calls (AG208).
        let mut dispatches: Vec<(Range<usize>, String, String)> = vec![];
        let mut on_commit_args: Vec<&str> = vec![];
        let mut stack = vec![body];
        while let Some(n) = stack.pop() {
            match n.kind() {
                "function_definition" | "class_definition" | "lambda" | "decorated_definition" => continue,
                "yield" => f.generator = true,
                "return_statement" => {
                    if let Some(e) = n.named_child(0) {
                        let r = self.returned(e, in_qs_class);
                        let text = self.node_text(e);
                        let evaluated = r == Returns::QuerySet && async_iterated.contains(&text.trim());
                        // An instance loaded with `prefetch_related`: its related managers are
                        // served from the cache, which this summary does not track.
                        let prefetched = r == Returns::Instance && text.contains("prefetch_related");
                        returns.push(if evaluated || prefetched { Returns::Other } else { r });
                    }
                }
                "for_statement" if n.child(0).is_some_and(|c| c.kind() == "async") => {
                    if let Some(it) = n.child_by_field_name("right").filter(|i| i.kind() == "identifier") {
                        async_iterated.push(self.node_text(it));
                    }
                }
                "call" => {
                    if f.db_call.is_none() && !f.is_async && (self.is_sync_db_call(n) || self.evaluates_queryset(n)) {
                        let text = self.node_text(n);
                        f.db_call = Some((n.byte_range(), crate::text::short(text, 48)));
                    }
                    if !f.is_async {
                        if let Some(task) = self.task_dispatch(n) {
                            dispatches.push((n.byte_range(), crate::text::short(self.node_text(n), 72), task));
                        } else if n.child_by_field_name("function").is_some_and(|c| last_name(self.node_text(c)) == "on_commit") {
                            if let Some(a) = n.child_by_field_name("arguments") {
                                on_commit_args.push(self.node_text(a));
                            }
                        }
                    }
                    if let Some(func) = n.child_by_field_name("function") {
                        if f.a2s_call.is_none()
                            && func.kind() == "call"
                            && func.child_by_field_name("function").is_some_and(|a| self.resolves_to(a, super::bridges::ASYNC_TO_SYNC))
                        {
                            f.a2s_call = Some((n.byte_range(), crate::text::short(self.node_text(n), 48)));
                        }
                        if matches!(func.kind(), "identifier" | "attribute") && is_dotted(self.node_text(func)) {
                            f.calls.push((self.node_text(func).to_string(), n.byte_range()));
                        }
                    }
                }
                // `[b.title for b in qs]`: a list, set or dict comprehension fetches the rows
                // (a generator expression stays lazy until it is consumed).
                "for_in_clause"
                    if !f.is_async
                        && f.db_call.is_none()
                        && n.child(0).is_some_and(|c| c.kind() != "async")
                        && n.parent().is_some_and(|p| {
                            matches!(p.kind(), "list_comprehension" | "set_comprehension" | "dictionary_comprehension")
                        }) =>
                {
                    if let Some(it) = n.child_by_field_name("right") {
                        if self.value(it) == Value::QuerySet {
                            f.db_call = Some((it.byte_range(), format!("for … in {}", crate::text::short(self.node_text(it), 40))));
                        }
                    }
                }
                "for_statement" if !f.is_async && f.db_call.is_none() => {
                    if n.child(0).is_some_and(|c| c.kind() != "async") {
                        if let Some(it) = n.child_by_field_name("right") {
                            if self.value(it) == Value::QuerySet {
                                f.db_call = Some((it.byte_range(), format!("for … in {}", crate::text::short(self.node_text(it), 40))));
                            }
                        }
                    }
                }
                _ => {}
            }
            let mut c = n.walk();
            // Reverse, so the stack pops in text order.
            let children: Vec<Node> = n.named_children(&mut c).collect();
            stack.extend(children.into_iter().rev());
        }
        // A task the function also dispatches through `on_commit(…)` on another path
        // (`if defer: on_commit(lambda: t.delay(…)) else: t.delay(…)`): the function chose
        // when each path dispatches; its bare dispatch of that task is deliberate.
        f.dispatch = dispatches.into_iter().find(|(_, _, task)| !on_commit_args.iter().any(|a| mentions(a, task)));
        f.calls.sort_by_key(|(_, r)| r.start);
        f.returns = match returns.split_first() {
            Some((first, rest)) if rest.iter().all(|r| r == first) => *first,
            _ => Returns::Other,
        };
        f
    }

    /// What `return e` gives: a queryset built from `self` in a custom QuerySet/Manager
    /// method, else what [`PyModel::value`] says.
    fn returned(&self, e: Node<'t>, in_qs_class: bool) -> Returns {
        let e = strip_parens(e);
        if in_qs_class && self.chain_from_self_is_lazy(e) {
            return Returns::QuerySet;
        }
        match self.value(e) {
            Value::QuerySet => Returns::QuerySet,
            Value::Instance => Returns::Instance,
            Value::Manager => Returns::Manager,
            _ => Returns::Other,
        }
    }

    /// `self.filter(…)…`, `super().get_queryset().filter(…)`, `self.get_queryset()`: every
    /// call of the chain a lazy builder (or `get_queryset`), rooted at `self` or `super()`.
    fn chain_from_self_is_lazy(&self, mut e: Node<'t>) -> bool {
        let mut calls = 0;
        loop {
            match e.kind() {
                "call" => {
                    let Some(func) = e.child_by_field_name("function") else { return false };
                    if func.kind() == "identifier" {
                        return self.node_text(func) == "super" && calls > 0;
                    }
                    if func.kind() != "attribute" {
                        return false;
                    }
                    let m = func.child_by_field_name("attribute").map(|a| self.node_text(a)).unwrap_or("");
                    if !(django::LAZY_BUILDERS.contains(&m) || m == "get_queryset") {
                        return false;
                    }
                    calls += 1;
                    let Some(obj) = func.child_by_field_name("object") else { return false };
                    e = obj;
                }
                "identifier" => return self.node_text(e) == "self" && calls > 0,
                _ => return false,
            }
        }
    }

    /// The function `def` is a method of a class deriving a `…QuerySet` or `…Manager`.
    fn enclosing_queryset_class(&self, def: Node<'t>) -> bool {
        let Some(class) = def.parent().and_then(|p| if p.kind() == "decorated_definition" { p.parent() } else { Some(p) })
            .and_then(|block| block.parent())
            .filter(|c| c.kind() == "class_definition")
        else {
            return false;
        };
        let name = class.child_by_field_name("name").map(|n| self.node_text(n)).unwrap_or("");
        self.classes.get(name).is_some_and(|bases| bases.iter().any(|b| is_queryset_class_name(last_name(b))))
    }

    /// A call that runs a query synchronously: a terminal on a manager, queryset or related
    /// manager, or a querying instance method.
    pub fn is_sync_db_call(&self, call: Node<'t>) -> bool {
        let Some(func) = call.child_by_field_name("function").filter(|f| f.kind() == "attribute") else { return false };
        let (Some(recv), Some(m)) = (func.child_by_field_name("object"), func.child_by_field_name("attribute")) else {
            return false;
        };
        let m = self.node_text(m);
        match self.value(recv) {
            Value::Manager | Value::QuerySet => django::queryset_terminal(m).is_some(),
            Value::RelatedManager => django_api::related_terminal(m).is_some(),
            Value::Instance => INSTANCE_QUERIES.contains(&m),
            Value::Unknown => false,
        }
    }

    /// `list(qs)`, `len(qs)`, `sorted(qs)` …: a builtin that fetches the rows of the queryset
    /// it is given (RULES.md §AG102).
    fn evaluates_queryset(&self, call: Node<'t>) -> bool {
        let Some(func) = call.child_by_field_name("function").filter(|f| f.kind() == "identifier") else { return false };
        if !EVALUATING_BUILTINS.contains(&self.node_text(func)) || self.binding(self.node_text(func), func.start_byte()).is_some() {
            return false;
        }
        let Some(args) = call.child_by_field_name("arguments") else { return false };
        self.sole_positional(args).is_some_and(|a| self.value(a) == Value::QuerySet)
    }

    /// Methods of this file's custom `QuerySet`/`Manager` classes that return a queryset:
    /// every `return` gives a lazy chain from `self` (`self.filter(…)`,
    /// `super().get_queryset().filter(…)`). Decided from the syntax alone (no binding is
    /// followed), so the answer does not depend on what else was asked; the bodies read are
    /// recorded in [`PyModel::read_bodies`].
    pub fn queryset_methods(&self) -> Vec<String> {
        let mut out = vec![];
        for (&scope, &def) in &self.function_nodes {
            let Some(class) = self.scopes[scope].parent.filter(|&p| self.scopes[p].kind == super::ScopeKind::Class) else {
                continue;
            };
            let Some(cname) = self.scopes[class].name.as_deref() else { continue };
            if !self.classes.get(cname).is_some_and(|b| b.iter().any(|b| is_queryset_class_name(last_name(b)))) {
                continue;
            }
            let Some(name) = self.scopes[scope].name.clone().filter(|n| !n.starts_with("__")) else { continue };
            let Some(body) = def.child_by_field_name("body") else { continue };
            self.read_bodies.borrow_mut().push(def.byte_range());
            let (mut lazy, mut other) = (0, 0);
            let mut stack = vec![body];
            while let Some(n) = stack.pop() {
                match n.kind() {
                    "function_definition" | "class_definition" | "lambda" | "decorated_definition" => continue,
                    "return_statement" => {
                        match n.named_child(0) {
                            Some(e) if self.chain_from_self_is_lazy(strip_parens(e)) => lazy += 1,
                            _ => other += 1,
                        }
                        continue;
                    }
                    _ => {}
                }
                let mut c = n.walk();
                stack.extend(n.named_children(&mut c));
            }
            if lazy > 0 && other == 0 {
                out.push(name);
            }
        }
        out.sort();
        out.dedup();
        out
    }
}

/// `QuerySet`, `BookQuerySet`, `Manager`, `PublishedManager`, `BaseManager`.
pub fn is_queryset_class_name(last: &str) -> bool {
    last.ends_with("QuerySet") || last.ends_with("Manager")
}

/// A plain name or a dotted name (`services.close_loan`), nothing else.
fn is_dotted(text: &str) -> bool {
    !text.is_empty() && text.split('.').all(|p| !p.is_empty() && p.chars().all(|c| c.is_alphanumeric() || c == '_'))
}

/// `text` names `task` as a whole dotted name (`tasks.send_mail` in
/// `lambda: tasks.send_mail.delay(x)`, not in `tasks.send_mail_later`).
fn mentions(text: &str, task: &str) -> bool {
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    text.match_indices(task).any(|(i, _)| {
        let before = text[..i].chars().next_back();
        let after = text[i + task.len()..].chars().next();
        before.is_none_or(|c| !ident(c) && c != '.') && after.is_none_or(|c| !ident(c))
    })
}
