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
    /// Its parameters' names in order (`self` included; `*args`, `**kw` left out).
    pub params: Vec<String>,
    /// The parameters whose default value is a constant ([`PyModel::constant`]).
    pub defaults: Vec<(String, String)>,
    /// The sync database calls of the body in text order, each with the [`Guard`]s it runs
    /// under, up to the first one that runs unguarded (at most [`MAX_GUARDED`]); the first
    /// is [`LocalFn::db_call`].
    pub db_calls: Vec<(Range<usize>, String, Vec<Guard>)>,
    /// What the calls of [`LocalFn::calls`] pass and the guards they run under, by the call's
    /// start byte; calls that pass nothing and run unguarded are left out.
    pub call_sites: Vec<(usize, CallSite)>,
    /// The start bytes of the calls of [`LocalFn::calls`] after which every path of the body
    /// ends in a `raise` ([`super::transactions::raises_before_end`]): a dispatch they reach
    /// runs in a transaction that rolls back, on purpose (AG208 does not follow them).
    pub doomed: Vec<usize>,
}

/// At most this many guarded database calls or alternatives are kept per function.
const MAX_GUARDED: usize = 4;

/// A condition on a parameter of a function under which a statement of its body runs: the
/// parameter equals one of `consts` (`eq`), or equals none of them. Constants are written
/// as [`PyModel::constant`] gives them.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Guard {
    pub param: String,
    pub consts: Vec<String>,
    pub eq: bool,
}

impl Guard {
    fn negated(mut self) -> Guard {
        self.eq = !self.eq;
        self
    }

    /// Whether the guard holds when the parameter is the constant `c`: `None` when the text
    /// cannot tell (a string and an enum member may be equal).
    pub fn holds(&self, c: &str) -> Option<bool> {
        let equal = self.consts.iter().any(|k| k == c);
        let different = self.consts.iter().all(|k| const_differs(k, c));
        match (equal, different, self.eq) {
            (true, _, eq) => Some(eq),
            (false, true, eq) => Some(!eq),
            _ => None,
        }
    }
}

/// Two constants are surely different values: two literals of the same kind with different
/// texts, or two members of the same class (`SEARCH_TYPES.OPINION`,
/// `SEARCH_TYPES.PARENTHETICAL`). Aliased enum members are not followed.
fn const_differs(a: &str, b: &str) -> bool {
    if a == b {
        return false;
    }
    match (a.split_once(':'), b.split_once(':')) {
        (Some(("p", x)), Some(("p", y))) => match (x.rsplit_once('.'), y.rsplit_once('.')) {
            (Some((px, _)), Some((py, _))) => px == py,
            _ => false,
        },
        // A string never equals a number or `True`/`False`/`None`; `1 == True` does.
        (Some((ka, _)), Some((kb, _))) if ka != "p" && kb != "p" => ka == kb || ka == "s" || kb == "s",
        _ => false,
    }
}

/// What a call passes for one parameter, as its text tells.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Arg {
    /// A constant ([`PyModel::constant`]).
    Const(String),
    /// A parameter of the calling function, passed on unchanged.
    Param(String),
    Unknown,
}

/// What a call passes, and the guards (over the calling function's parameters) it runs
/// under.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct CallSite {
    pub positional: Vec<Arg>,
    pub keywords: Vec<(String, Arg)>,
    /// `*args` / `**kw` in the arguments: positions and names are not known.
    pub splat: bool,
    pub guards: Vec<Guard>,
}

impl CallSite {
    /// What the call passes for the callee's parameter `param` (`params`: the callee's,
    /// the receiver's already left out for a method).
    pub fn arg_for(&self, params: &[String], param: &str) -> Option<&Arg> {
        if self.splat {
            return None;
        }
        if let Some((_, a)) = self.keywords.iter().find(|(k, _)| k == param) {
            return Some(a);
        }
        let i = params.iter().position(|p| p == param)?;
        self.positional.get(i)
    }

    /// `guards` (over the callee's parameters `params`) seen from this call: `None` when a
    /// constant the call passes contradicts one (the guarded work is not reached); else the
    /// guards on parameters the caller passes on, renamed to the caller's parameters. A
    /// parameter not passed has its constant default (`defaults`). A guard on an argument
    /// the text does not tell is dropped (the work may run).
    pub fn translate(&self, params: &[String], defaults: &[(String, String)], guards: &[Guard]) -> Option<Vec<Guard>> {
        let mut out = vec![];
        for g in guards {
            // Not passed: the parameter's default.
            let default = (!self.splat && self.arg_for(params, &g.param).is_none())
                .then(|| defaults.iter().find(|(p, _)| *p == g.param).map(|(_, c)| Arg::Const(c.clone())))
                .flatten();
            match self.arg_for(params, &g.param).or(default.as_ref()) {
                Some(Arg::Const(c)) if g.holds(c) == Some(false) => return None,
                Some(Arg::Param(q)) => out.push(Guard { param: q.clone(), ..g.clone() }),
                _ => {}
            }
        }
        Some(out)
    }
}

/// One way a function reaches sync database work: the guards over its own parameters under
/// which it does, and the chain of call sites, the database call last.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DbAlt {
    pub guards: Vec<Guard>,
    pub chain: Vec<Loc>,
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
            db_calls: self.db_calls.iter().map(|(r, t, g)| (sh(r), t.clone(), g.clone())).collect(),
            call_sites: self.call_sites.iter().map(|(s, c)| ((*s as isize + delta) as usize, c.clone())).collect(),
            doomed: self.doomed.iter().map(|s| (*s as isize + delta) as usize).collect(),
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
        // A call after which the function always raises: its dispatch is deliberate.
        if kind == Work::Dispatch && f.doomed.contains(&range.start) {
            continue;
        }
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

/// The ways the function `f` reaches sync database work ([`DbAlt`]), in the order of
/// [`db_work`]'s walk (its own database calls first, then the functions it calls in text
/// order), up to the first that runs under no guard on `f`'s parameters. A callee's
/// alternatives are seen through the call ([`CallSite::translate`]): one a constant argument
/// contradicts is dropped, so `helper(x, SEARCH_TYPES.OPINION)` does not reach a query
/// guarded by `if search_type == SEARCH_TYPES.PARENTHETICAL:`. Empty: no work reached on
/// any path (the first alternative's chain is [`db_work`]'s when no guard is contradicted).
pub fn db_alts(f: &LocalFn, path: &Path, depth: u32, max_depth: u32, callees: &mut dyn Callees) -> Vec<DbAlt> {
    let mut seen = vec![f.name.clone()];
    walk_alts(f, path, depth, max_depth, callees, &mut seen)
}

fn walk_alts(f: &LocalFn, path: &Path, depth: u32, max_depth: u32, callees: &mut dyn Callees, seen: &mut Vec<String>) -> Vec<DbAlt> {
    let here = |range: &Range<usize>, what: String| Loc { path: path.to_path_buf(), range: range.clone(), what };
    let mut out = vec![];
    if f.is_async || f.offloaded {
        return out;
    }
    let own: Vec<(Range<usize>, String, Vec<Guard>)> = match (&f.db_calls[..], &f.db_call) {
        ([], Some((r, t))) => vec![(r.clone(), t.clone(), vec![])],
        (list, _) => list.to_vec(),
    };
    for (range, text, guards) in own {
        let done = guards.is_empty();
        out.push(DbAlt { guards, chain: vec![here(&range, text)] });
        if done {
            return out;
        }
    }
    if depth >= max_depth {
        return out;
    }
    for (callee, range) in &f.calls {
        let (sub, params, defaults): (Vec<DbAlt>, Vec<String>, Vec<(String, String)>);
        if !callee.contains('.') && callees_local_first(seen, callee) {
            match callees.local(callee) {
                Some(g) => {
                    seen.push(callee.clone());
                    sub = walk_alts(&g, path, depth + 1, max_depth, callees, seen);
                    (params, defaults) = (g.params, g.defaults);
                }
                None => (sub, params, defaults) = imported_alts(callees, callee, depth),
            }
        } else if !callee.contains('.') {
            continue;
        } else {
            (sub, params, defaults) = imported_alts(callees, callee, depth);
        }
        let site = f.call_sites.iter().find(|(s, _)| *s == range.start).map(|(_, c)| c);
        for alt in sub {
            let guards = match site {
                Some(site) => match site.translate(&params, &defaults, &alt.guards) {
                    Some(mut g) => {
                        g.extend(site.guards.iter().cloned());
                        g
                    }
                    None => continue,
                },
                // Nothing passed is known: only defaults can rule a way out.
                None => match CallSite::default().translate(&params, &defaults, &alt.guards) {
                    Some(_) => vec![],
                    None => continue,
                },
            };
            let done = guards.is_empty();
            out.push(DbAlt { guards, chain: std::iter::once(here(range, format!("{callee}()"))).chain(alt.chain).collect() });
            if done || out.len() >= 2 * MAX_GUARDED {
                return out;
            }
        }
    }
    out
}

/// A plain callee name not already on the walk (recursion ends there).
fn callees_local_first(seen: &[String], callee: &str) -> bool {
    !seen.iter().any(|s| s == callee)
}

fn imported_alts(callees: &mut dyn Callees, callee: &str, depth: u32) -> (Vec<DbAlt>, Vec<String>, Vec<(String, String)>) {
    match callees.imported(callee, depth + 1, Work::Db) {
        Some(g) if !g.is_async && !g.offloaded => (g.db_alts, g.params, g.defaults),
        _ => (vec![], vec![], vec![]),
    }
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
        (f.params, f.defaults) = self.param_names(def);
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
        // Parameters never rebound in the body: a test of one is a test of what the caller passed.
        let guard_params: Vec<String> =
            f.params.iter().filter(|p| self.sole_binding_in(p, body.start_byte()).is_some_and(|(_, b)| b.value.is_none())).cloned().collect();
        // Another database call is looked for while the ones found so far all run guarded.
        let wants_db = |f: &LocalFn| match f.db_calls.last() {
            None => f.db_call.is_none(),
            Some((_, _, g)) => !g.is_empty() && f.db_calls.len() < MAX_GUARDED,
        };
        let mut returns: Vec<Returns> = vec![];
        // Names iterated with `async for` in the body: their result cache is filled, so
        // returning one gives no lazy queryset.
        let mut async_iterated: Vec<&str> = vec![];
        // Bare dispatches, and the arguments of `on_commit(…)` calls (AG208).
        let mut dispatches: Vec<(Range<usize>, String, String)> = vec![];
        // Only a body that raises can doom a call (the test walks the statements after it).
        let may_raise = !f.is_async && self.node_text(body).contains("raise");
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
                    if wants_db(&f) && !f.is_async && (self.is_sync_db_call(n) || self.evaluates_queryset(n)) {
                        let text = crate::text::short(self.node_text(n), 48);
                        self.note_db(&mut f, &guard_params, body, n, text);
                    }
                    if !f.is_async {
                        if let Some(task) = self.task_dispatch(n) {
                            // A dispatch after which the function always raises is deliberate.
                            if !may_raise || !super::transactions::raises_before_end(self.src, n, &body.byte_range()) {
                                dispatches.push((n.byte_range(), crate::text::short(self.node_text(n), 72), task));
                            }
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
                            if may_raise && super::transactions::raises_before_end(self.src, n, &body.byte_range()) {
                                f.doomed.push(n.start_byte());
                            }
                            if !f.is_async {
                                let mut site = self.call_site(n, &guard_params);
                                site.guards = self.guards_at(n, body, &guard_params);
                                // A call without arguments or guards needs no entry.
                                if site != CallSite::default() {
                                    f.call_sites.push((n.start_byte(), site));
                                }
                            }
                        }
                    }
                }
                // `[b.title for b in qs]`: a list, set or dict comprehension fetches the rows
                // (a generator expression stays lazy until it is consumed).
                "for_in_clause"
                    if !f.is_async
                        && wants_db(&f)
                        && n.child(0).is_some_and(|c| c.kind() != "async")
                        && n.parent().is_some_and(|p| {
                            matches!(p.kind(), "list_comprehension" | "set_comprehension" | "dictionary_comprehension")
                        }) =>
                {
                    if let Some(it) = n.child_by_field_name("right") {
                        if self.value(it) == Value::QuerySet {
                            let text = format!("for … in {}", crate::text::short(self.node_text(it), 40));
                            self.note_db(&mut f, &guard_params, body, it, text);
                        }
                    }
                }
                "for_statement" if !f.is_async && wants_db(&f) => {
                    if n.child(0).is_some_and(|c| c.kind() != "async") {
                        if let Some(it) = n.child_by_field_name("right") {
                            if self.value(it) == Value::QuerySet {
                                let text = format!("for … in {}", crate::text::short(self.node_text(it), 40));
                                self.note_db(&mut f, &guard_params, body, it, text);
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

/// Guards and arguments: which constants a function's parameters are compared with around
/// its database work, and what its calls pass (AG108's "the caller passes another constant").
impl<'t> PyModel<'t> {
    /// The names of the parameters of `def` in order (`self` included; `*args`, `**kw` and
    /// the `*` / `/` markers left out).
    fn param_names(&self, def: Node<'t>) -> (Vec<String>, Vec<(String, String)>) {
        let mut defaults = vec![];
        let Some(params) = def.child_by_field_name("parameters") else { return (vec![], defaults) };
        let mut c = params.walk();
        let mut out = vec![];
        for p in params.named_children(&mut c) {
            let name = match p.kind() {
                "identifier" => Some(p),
                "default_parameter" | "typed_default_parameter" => p.child_by_field_name("name"),
                "typed_parameter" => p.named_child(0),
                _ => None,
            };
            if let (Some(n), Some(v)) = (name, p.child_by_field_name("value")) {
                if let Some(k) = self.constant(v) {
                    defaults.push((self.node_text(n).to_string(), k));
                }
            }
            match name.filter(|n| n.kind() == "identifier") {
                Some(n) => out.push(self.node_text(n).to_string()),
                // After `*args` or `*` the rest are keyword-only: positions end here.
                None if matches!(p.kind(), "list_splat_pattern" | "keyword_separator" | "typed_parameter") => break,
                None => {}
            }
        }
        (out, defaults)
    }

    /// Records the database work at `at` (text `text`) with the guards it runs under.
    fn note_db(&self, f: &mut LocalFn, params: &[String], body: Node<'t>, at: Node<'t>, text: String) {
        if f.db_call.is_none() {
            f.db_call = Some((at.byte_range(), text.clone()));
        }
        let guards = self.guards_at(at, body, params);
        f.db_calls.push((at.byte_range(), text, guards));
    }

    /// The guards on `params` under which `n` runs in the function body `body`: the `if` /
    /// `elif` / `else` branches it is in, and the earlier `if <test>: return` (or `raise`,
    /// `continue`, `break`) of each enclosing block.
    pub fn guards_at(&self, n: Node<'t>, body: Node<'t>, params: &[String]) -> Vec<Guard> {
        let mut out = vec![];
        if params.is_empty() {
            return out;
        }
        let is = |p: Node, field: &str, c: Node| p.child_by_field_name(field).is_some_and(|x| x.id() == c.id());
        let mut cur = n;
        while cur.id() != body.id() {
            let Some(p) = cur.parent() else { break };
            match p.kind() {
                "if_statement" if is(p, "consequence", cur) => {
                    out.extend(p.child_by_field_name("condition").map(|c| self.positive(c, params)).unwrap_or_default());
                }
                "elif_clause" | "else_clause" if is(p, "consequence", cur) || is(p, "body", cur) => {
                    if let Some(c) = p.child_by_field_name("condition") {
                        out.extend(self.positive(c, params));
                    }
                    // The tests before this branch all failed.
                    if let Some(stmt) = p.parent().filter(|s| s.kind() == "if_statement") {
                        out.extend(stmt.child_by_field_name("condition").map(|c| self.negative(c, params)).unwrap_or_default());
                        let mut w = stmt.walk();
                        for alt in stmt.children_by_field_name("alternative", &mut w) {
                            if alt.id() == p.id() {
                                break;
                            }
                            out.extend(alt.child_by_field_name("condition").map(|c| self.negative(c, params)).unwrap_or_default());
                        }
                    }
                }
                // `match p:` / `case A | B if <test>:`
                "case_clause" if is(p, "consequence", cur) => {
                    let subject = p.parent().and_then(|b| b.parent()).filter(|m| m.kind() == "match_statement").and_then(|m| {
                        let mut w = m.walk();
                        let subjects: Vec<Node> = m.children_by_field_name("subject", &mut w).collect();
                        (subjects.len() == 1).then(|| subjects[0])
                    });
                    if let Some(subject) = subject.filter(|s| s.kind() == "identifier" && params.iter().any(|x| x == self.node_text(*s))) {
                        if let Some(consts) = self.pattern_constants(p) {
                            out.push(Guard { param: self.node_text(subject).to_string(), consts, eq: true });
                        }
                    }
                    let mut w = p.walk();
                    let guard = p.named_children(&mut w).find(|n| n.kind() == "if_clause").and_then(|g| g.named_child(0));
                    if let Some(g) = guard {
                        out.extend(self.positive(g, params));
                    }
                }
                "block" => {
                    let mut prev = cur.prev_named_sibling();
                    while let Some(s) = prev {
                        if s.kind() == "if_statement" && s.child_by_field_name("alternative").is_none() {
                            let last = s.child_by_field_name("consequence").and_then(|b| {
                                let mut w = b.walk();
                                let last = b.named_children(&mut w).filter(|x| x.kind() != "comment").last();
                                last
                            });
                            let exits = last.is_some_and(|l| {
                                matches!(l.kind(), "return_statement" | "raise_statement" | "continue_statement" | "break_statement")
                            });
                            if exits {
                                out.extend(s.child_by_field_name("condition").map(|c| self.negative(c, params)).unwrap_or_default());
                            }
                        }
                        prev = s.prev_named_sibling();
                    }
                }
                _ => {}
            }
            cur = p;
        }
        out.dedup();
        out
    }

    /// The guards that hold when `cond` is true.
    fn positive(&self, cond: Node<'t>, params: &[String]) -> Vec<Guard> {
        self.guards(cond, params, true)
    }

    /// The guards that hold when `cond` is false.
    fn negative(&self, cond: Node<'t>, params: &[String]) -> Vec<Guard> {
        self.guards(cond, params, false)
    }

    /// The guards that hold when `cond` is `truth`: both sides of an `and` when true, of an
    /// `or` when false (De Morgan); else the one simple guard, negated when false.
    fn guards(&self, cond: Node<'t>, params: &[String], truth: bool) -> Vec<Guard> {
        let cond = strip_parens(cond);
        let splits = if truth { "and" } else { "or" };
        if cond.kind() == "boolean_operator" && cond.child_by_field_name("operator").is_some_and(|o| o.kind() == splits) {
            let (Some(l), Some(r)) = (cond.child_by_field_name("left"), cond.child_by_field_name("right")) else { return vec![] };
            let mut out = self.guards(l, params, truth);
            out.extend(self.guards(r, params, truth));
            return out;
        }
        let guard = self.simple_guard(cond, params);
        if truth { guard.into_iter().collect() } else { guard.map(Guard::negated).into_iter().collect() }
    }

    /// `p == C`, `C == p`, `p != C`, `p is C`, `p in (C1, C2)`, `p not in […]`,
    /// `p == A or p == B`, `not <one of these>`, for a parameter `p` and constants `C`.
    fn simple_guard(&self, cond: Node<'t>, params: &[String]) -> Option<Guard> {
        let cond = strip_parens(cond);
        match cond.kind() {
            "not_operator" => self.simple_guard(cond.child_by_field_name("argument")?, params).map(Guard::negated),
            "boolean_operator" if cond.child_by_field_name("operator").is_some_and(|o| o.kind() == "or") => {
                let l = self.simple_guard(cond.child_by_field_name("left")?, params)?;
                let r = self.simple_guard(cond.child_by_field_name("right")?, params)?;
                (l.eq && r.eq && l.param == r.param).then(|| Guard { consts: [l.consts, r.consts].concat(), ..l })
            }
            "comparison_operator" => {
                let mut c = cond.walk();
                let operands: Vec<Node> = cond.named_children(&mut c).filter(|n| n.kind() != "comment").collect();
                let mut w = cond.walk();
                let ops: Vec<&str> = cond.children_by_field_name("operators", &mut w).map(|o| o.kind()).collect();
                let ([a, b], [op]) = (&operands[..], &ops[..]) else { return None };
                let is_param = |n: &Node| n.kind() == "identifier" && params.iter().any(|p| p == self.node_text(*n));
                let (param, other) = if is_param(a) {
                    (*a, *b)
                } else if is_param(b) && matches!(*op, "==" | "!=") {
                    (*b, *a)
                } else {
                    return None;
                };
                let consts = match *op {
                    "in" | "not in" => {
                        let list = strip_parens(other);
                        if !matches!(list.kind(), "tuple" | "list" | "set") {
                            return None;
                        }
                        let mut c = list.walk();
                        let items: Vec<Node> = list.named_children(&mut c).filter(|n| n.kind() != "comment").collect();
                        items.iter().map(|i| self.constant(*i)).collect::<Option<Vec<String>>>()?
                    }
                    "==" | "!=" | "is" | "is not" => vec![self.constant(other)?],
                    _ => return None,
                };
                Some(Guard { param: self.node_text(param).to_string(), consts, eq: matches!(*op, "==" | "is" | "in") })
            }
            _ => None,
        }
    }

    /// What the call `call` passes: constants ([`PyModel::constant`]) and the parameters of
    /// the calling function among `params` (never rebound there).
    pub fn call_site(&self, call: Node<'t>, params: &[String]) -> CallSite {
        let mut site = CallSite::default();
        let Some(args) = call.child_by_field_name("arguments").filter(|a| a.kind() == "argument_list") else {
            site.splat = true;
            return site;
        };
        let arg = |e: Node<'t>| {
            let e = strip_parens(e);
            if e.kind() == "identifier" && params.iter().any(|p| p == self.node_text(e)) {
                return Arg::Param(self.node_text(e).to_string());
            }
            self.constant(e).map_or(Arg::Unknown, Arg::Const)
        };
        let mut c = args.walk();
        for a in args.named_children(&mut c) {
            match a.kind() {
                "comment" => {}
                "list_splat" | "dictionary_splat" => site.splat = true,
                "keyword_argument" => {
                    if let (Some(n), Some(v)) = (a.child_by_field_name("name"), a.child_by_field_name("value")) {
                        site.keywords.push((self.node_text(n).to_string(), arg(v)));
                    }
                }
                _ => site.positional.push(arg(a)),
            }
        }
        site
    }

    /// `SEARCH_TYPES.OPINION` (an attribute, or a value pattern of a `case`) as a constant:
    /// every part a name, the last in capitals, the head a module-level name (or not bound
    /// here) other than `self` / `cls`.
    fn path_constant(&self, e: Node<'t>) -> Option<String> {
        let text = self.node_text(e);
        if !text.contains('.') {
            return None;
        }
        let (head, last) = (text.split('.').next()?, text.rsplit('.').next()?);
        let ident = |p: &str| !p.is_empty() && p.chars().all(|ch| ch.is_alphanumeric() || ch == '_');
        let capital = last.chars().any(|ch| ch.is_ascii_uppercase()) && !last.chars().any(|ch| ch.is_lowercase());
        if !text.split('.').all(ident) || !capital || matches!(head, "self" | "cls") {
            return None;
        }
        // The head is a module-level name (an import, a class) or not bound here.
        match self.binding_in(head, e.start_byte()) {
            Some((0, _)) | None => Some(format!("p:{text}")),
            _ => None,
        }
    }

    /// The constants a `case` pattern matches (`SEARCH_TYPES.RECAP | SEARCH_TYPES.DOCKETS`,
    /// `"a"`); `None` for any other pattern (a capture, `_`, a class or sequence pattern).
    fn pattern_constants(&self, clause: Node<'t>) -> Option<Vec<String>> {
        let mut c = clause.walk();
        let patterns: Vec<Node> = clause.named_children(&mut c).filter(|n| n.kind() == "case_pattern").collect();
        let [pattern] = &patterns[..] else { return None };
        let inner = pattern.named_child(0)?;
        let items: Vec<Node> = if inner.kind() == "union_pattern" {
            let mut c = inner.walk();
            inner.named_children(&mut c).filter(|n| n.kind() != "comment").collect()
        } else {
            vec![inner]
        };
        items.iter().map(|i| if i.kind() == "dotted_name" { self.path_constant(*i) } else { self.constant_at(*i, 1) }).collect()
    }

    /// The constant `e` is, as a comparable text: a string literal without interpolation
    /// (`s:…`), an integer (`i:…`), `True` / `False` / `None` (`k:…`), a member of a class or
    /// module written in capitals (`p:SEARCH_TYPES.OPINION`, its head not a local name nor
    /// `self`), or a name bound once, to one of these. `None`: not known to be constant.
    pub fn constant(&self, e: Node<'t>) -> Option<String> {
        self.constant_at(e, 0)
    }

    fn constant_at(&self, e: Node<'t>, depth: u32) -> Option<String> {
        let e = strip_parens(e);
        match e.kind() {
            "string" => {
                let mut c = e.walk();
                let parts: Vec<Node> = e.named_children(&mut c).collect();
                let start = parts.first().filter(|s| s.kind() == "string_start")?;
                let prefix = self.node_text(*start).trim_end_matches(['"', '\'']);
                if !prefix.chars().all(|ch| matches!(ch, 'u' | 'U')) || parts.iter().any(|p| p.kind() == "interpolation" || p.kind() == "escape_sequence") {
                    return None;
                }
                let content: String = parts.iter().filter(|p| p.kind() == "string_content").map(|p| self.node_text(*p)).collect();
                Some(format!("s:{content}"))
            }
            "integer" => Some(format!("i:{}", self.node_text(e).replace('_', "").to_ascii_lowercase())),
            "true" | "false" | "none" => Some(format!("k:{}", self.node_text(e))),
            "attribute" => self.path_constant(e),
            "identifier" if depth == 0 => {
                let (_, b) = self.sole_binding_in(self.node_text(e), e.start_byte())?;
                if b.pos > e.start_byte() {
                    return None;
                }
                self.constant_at(b.value?, depth + 1)
            }
            _ => None,
        }
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
