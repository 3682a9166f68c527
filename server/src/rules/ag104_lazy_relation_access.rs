//! AG104 lazy-relation-access: in async code, reading an attribute of a model instance that
//! loads from the database: a forward foreign key / one-to-one (`book.author`), a reverse
//! one-to-one (`user.profile`, also `getattr(user, "profile", None)`), or a field deferred by
//! `only()` / `defer()` (RULES.md §AG104).
//!
//! Invariants:
//! - Reported only when the query that produced the instance is known
//!   ([`PyModel::instance_producer`]) and its model is known ([`PyModel::model_info`]: this
//!   file, the project, Django's `User`), and that query does not name the relation in
//!   `select_related` / `prefetch_related` (or, for a deferred field, names it in `defer()` or
//!   leaves it out of `only()`). A non-literal argument to those calls is unknown: silent.
//! - Silent on `obj.<f>_id`, writes (`obj.author = a`, which also fills the cache for later
//!   reads), reads after an earlier read of the same attribute in the function (the first
//!   one is the finding; `await sync_to_async(getattr)(obj, "f")` loads it), offloaded code
//!   (a read inside an offloader's arguments counts only inside a `lambda`: anything else
//!   there is evaluated on the loop before the hand-over),
//!   `acreate(author=a)`, an instance handed to offloaded code earlier in the function
//!   (`await sync_to_async(f)(obj)`: `f` may have loaded the relation in the thread, which
//!   fills the cache) unless `f` is a project function known not to read `obj.<f>`.
//! - A sync project function called on the loop (not awaited, not offloaded, not itself
//!   decorated with an offloader) whose body reads `param.<f>` ([`crate::semantic::outside::FnFacts::param_reads`]) is
//!   a read of `<f>` on the argument, under the same conditions, reported at the argument.
//! - dorm does not load a deferred field (its descriptor reads `__dict__`: `None`): reported
//!   with that message; `await obj.arefresh_from_db(…)` earlier in the function silences it.
//! - SQLAlchemy / SQLModel (`AsyncSession`) is the submodule [`sqla`], with invariants of its
//!   own; the Django / dorm path below never reports a SQLAlchemy instance (its producers are
//!   Django querysets).
//! - Every Django fix is unsafe: `select_related` changes the query; `aget(pk=obj.<f>_id)` loses the
//!   relation cache and differs for a null key; `arefresh_from_db` is an extra statement.

use super::{short, Ctx, Finding, FixAvailability, Rule, RuleMeta, Severity};
use crate::semantic::python::last_name;
use crate::dialects::{django, django_api};
use crate::fix::{Applicability, Edit, Fix};
use crate::semantic::instances::Dialect;
use crate::semantic::relations::{string_value, FieldKind, Named, Producer, AUTH_USER};
use crate::semantic::{Context, PyModel};
use crate::syntax::{Lang, QueryId};
use tree_sitter::Node;

mod sqla;

pub struct LazyRelationAccess;

static META: RuleMeta = RuleMeta {
    code: "AG104",
    name: "lazy-relation-access",
    lang: Lang::Python,
    severity: Severity::Error,
    fix: FixAvailability::Sometimes,
    triggers: &[&["async"]],
    summary: "Lazy relation, deferred field or expired attribute read on a model instance in async code",
    doc: r#"## AG104 lazy-relation-access

**What it catches.** Inside an `async def`, reading an attribute of a model instance that
Django loads on first access with a query: a forward foreign key or one-to-one
(`book.author`, `book.author.name`), a reverse one-to-one (`user.profile`, also
`getattr(user, "profile", None)`), or a field left out by `only()` / named in `defer()`. The
instance must come from a query the analysis can see: `await Book.objects…aget()` /
`afirst()` / `alast()` / `acreate()`, `async for b in qs`, `[b async for b in qs]`, `qs[0]`,
`await aget_object_or_404(Book, …)`, `await sync_to_async(Book.objects.get)(…)`,
`await request.auser()` (the auth backend loads the user with a plain `get()`), or a helper
(of this file or another project module; several `return`s when they agree, `return None`
aside) returning one of these, awaited, run through `sync_to_async` /
`database_sync_to_async`, or decorated with them; a helper of another module may build
its query on a third module's query function; `a, b = await helper(…)` unpacks an instance
from the tuples an async helper returns. Also a sync function of the project called on the
loop that reads such a relation of its argument (`appeal_label(docket)` with
`def appeal_label(d): return d.appeal_from.name`), reported at the argument. The
model's fields come from the project (another module, inherited fields, `related_name`,
string references `"app.Model"`, `settings.AUTH_USER_MODEL`).

**Why it is wrong.** The related object is fetched by a synchronous query on the event-loop
thread: Django raises `SynchronousOnlyOperation`; dorm blocks the loop (warning; a field
deferred by `only()` / `defer()` is not loaded by dorm at all: it reads as `None`). With
Django 6.1's `fetch_mode()` on the query the failure changes (`RAISE` raises
`FieldFetchBlocked`, the other modes still query): still reported.

**Example.**
```python
async def show(request, pk):
    book = await Book.objects.aget(pk=pk)
    return JsonResponse({"author": book.author.name})      # AG104
    # fixed: book = await Book.objects.select_related("author").aget(pk=pk)
```

**Fix** (all unsafe, review them): add `.select_related("<f>")` to the producing query when
it is written in the same function; otherwise, for a forward key,
`(await Author.objects.aget(pk=book.author_id))` (Django 4.1; loses the relation cache and
raises instead of giving `None` on a null key); for a deferred field, insert
`await obj.arefresh_from_db(fields=["<f>"])` before the statement (Django 4.2, dorm). No fix where
`await` is not allowed.

**Stays silent on**
- `obj.author_id` (the column, no query);
- a relation named in `select_related(…)` (or bare `select_related()`) or
  `prefetch_related(…)` / `Prefetch("<f>", …)` on the producing query, also when the query
  is built in a helper (of this file or another module);
- instances built in the function (`Book(author=a)`), `acreate(author=a)`, or after
  `book.author = a`;
- a second read of the same attribute in the function (the first is reported; after
  `await sync_to_async(getattr)(book, "author")` the cache is filled), or a read after the
  instance was handed to offloaded code (`await sync_to_async(is_mentor)(user)` may have
  loaded the relation in the thread);
- offloaded code (`sync_to_async(lambda: b.author)`, `asyncio.to_thread`), sync
  functions (an argument of the offloader itself, `sync_to_async(partial(f, b.author))`,
  is evaluated on the loop: reported);
- instances whose producing query is unknown (a parameter, a helper whose `return`s name
  different relations or return a name, a custom queryset method, a non-literal
  `select_related` argument) and unknown models.

**SQLAlchemy and SQLModel.** The same rule covers an `AsyncSession`: reading a lazy
relationship of an instance the session loaded in the function (`await s.get(M, pk)`,
`await s.scalar(select(M)…)`, `(await s.execute(select(M)…)).scalars().first()` / `.one()`,
`.scalar_one()`, a `for` over `(await s.scalars(…)).all()`) when neither the statement's
`.options(…)` (`selectinload(M.rel)`, `joinedload`, `subqueryload`, `immediateload`) nor an
eager `lazy=` on the `relationship(…)` loads it; and reading any mapped attribute after the
session's `commit()` expired it (the factory or constructor leaves `expire_on_commit` on),
also on an instance built in the function and `add`ed. Both raise
`sqlalchemy.exc.MissingGreenlet`. The models come from the project (declarative classes,
`Mapped[…]`, SQLModel `table=True` classes, bases in other modules).
```python
async def lines(order_id):
    async with async_session() as s:
        order = await s.get(Order, order_id)
        return [l.qty for l in order.lines]      # AG104
```
**Fix (safe)** `await order.awaitable_attrs.lines` when the model inherits `AsyncAttrs`
(through any base); otherwise none: add `selectinload(Order.lines)` to the query, or
`await s.refresh(order)` after a commit, or `expire_on_commit=False`. Silent after
`awaitable_attrs`, `refresh(obj)`, an earlier read of the attribute, on sessions whose
`expire_on_commit` is unknown (a parameter known only by its annotation), for
`lazy="selectin"` / `"joined"` / `"raise"` / `"dynamic"`, and for instances whose
statement is unknown.

Also silent inside `with self.assertRaises(SynchronousOnlyOperation):` (or
`assertRaisesMessage`, `pytest.raises(SynchronousOnlyOperation)`): a test asserting the error.

**Suppress** with `# awaitguard: ignore[AG104]` or `# noqa: AG104` on the line.
"#,
};

/// What the read loads.
#[derive(Clone, PartialEq, Eq)]
enum Load {
    /// A forward FK / one-to-one to the class named.
    Forward(String),
    Reverse,
    Deferred,
}

impl Rule for LazyRelationAccess {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Ctx, out: &mut Vec<Finding>) {
        let Some(py) = cx.py else { return };
        cx.for_each_match(QueryId::PyAttributeReads, |caps| {
            let (Some(node), Some(obj), Some(attr)) = (caps.get("attribute"), caps.get("object"), caps.get("attr")) else {
                return;
            };
            if is_write_or_call(node) {
                return;
            }
            out.extend(read(py, cx, node, obj, py.node_text(attr), false));
        });
        cx.for_each_match(QueryId::PyCalls, |caps| {
            let (Some(call), Some(func), Some(args)) = (caps.get("call"), caps.get("function"), caps.get("args")) else {
                return;
            };
            if func.kind() != "identifier" || py.node_text(func) != "getattr" || py.binding("getattr", func.start_byte()).is_some() {
                out.extend(helper_call(py, cx, call, func, args));
                return;
            }
            let mut c = args.walk();
            let a: Vec<Node> = args.named_children(&mut c).filter(|a| a.kind() != "comment").collect();
            if !(2..=3).contains(&a.len()) || a[0].kind() != "identifier" || a[1].kind() != "string" {
                return;
            }
            let f = string_value(py.node_text(a[1]));
            if f.is_empty() || !f.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return;
            }
            out.extend(read(py, cx, call, a[0], f, true));
        });
        sqla::check(py, cx, out);
    }
}

/// `node` is inside a `lambda` (its body runs when the lambda is called).
fn in_lambda(node: Node) -> bool {
    let mut cur = node.parent();
    while let Some(n) = cur {
        match n.kind() {
            "lambda" => return true,
            "function_definition" | "class_definition" | "module" => return false,
            _ => cur = n.parent(),
        }
    }
    false
}

/// `obj.f` written (`obj.f = …`, `del obj.f`) or called (`obj.f()`): not a lazy read.
fn is_write_or_call(node: Node) -> bool {
    let Some(p) = node.parent() else { return false };
    match p.kind() {
        "assignment" | "augmented_assignment" => p.child_by_field_name("left") == Some(node),
        "call" => p.child_by_field_name("function") == Some(node),
        "delete_statement" | "pattern_list" | "tuple_pattern" => true,
        _ => false,
    }
}

/// The finding for a read of `obj.f` at `node` (`getattr`: through `getattr(obj, "f", …)`).
fn read<'t>(py: &PyModel<'t>, cx: &Ctx, node: Node<'t>, obj: Node<'t>, f: &str, getattr: bool) -> Option<Finding> {
    if f.ends_with("_id") || f == "pk" || f == "id" || f.starts_with("__") {
        return None;
    }
    let ctx = py.context_at(node.start_byte());
    let Context::Async { func, .. } = ctx else { return None };
    // `sync_to_async(lambda: b.author)` defers the read to the thread; `sync_to_async(partial(
    // f, b.author))` or `to_thread(f, b.author)` evaluates it here, on the loop.
    if py.in_offload_args(node.start_byte()) && in_lambda(node) {
        return None;
    }
    let p = py.instance_producer(obj)?;
    let load = classify(py, cx, &p, f)?;
    let o = py.node_text(obj);
    if seen_before(py, func, node.start_byte(), o, f) || handed_to_thread_before(py, func, node.start_byte(), o, f) {
        return None;
    }
    // `await obj.arefresh_from_db(…)` earlier loads the fields (it clears cached relations).
    if load == Load::Deferred && refreshed_before(py, func, node.start_byte(), o) {
        return None;
    }
    let dialect = py.dialect();
    let version = cx.settings.django_version;
    let mut message = match &load {
        Load::Forward(_) => format!("`{o}.{f}` runs a synchronous query in async code (`{f}` is not in `select_related()`)"),
        Load::Reverse => format!("`{o}.{f}` runs a synchronous query in async code (the reverse one-to-one is not in `select_related()`)"),
        // dorm's field descriptor reads the instance's `__dict__` (djanorm 4.5
        // `fields.py`): a deferred field gives `None`, no query.
        Load::Deferred if dialect == Dialect::Dorm => format!("`{o}.{f}` is deferred by the query, and dorm gives `None` for it without loading it"),
        Load::Deferred => format!("`{o}.{f}` runs a synchronous query in async code (the field is deferred)"),
    };
    if raises_fetch_blocked(py, &p) {
        // Django 6.1: `fetch_mode(RAISE)` turns the lazy fetch into `FieldFetchBlocked`.
        message = format!("`{o}.{f}` raises `FieldFetchBlocked` in async code (`fetch_mode(RAISE)`, `{f}` is not selected)");
    } else if p.has("fetch_mode") {
        message.push_str(" despite `fetch_mode()`");
    }
    let mut fixes = vec![];
    if !ctx.await_ok() {
        // No fix where `await` cannot go (lambda, class body, generator expression); the
        // rule's doc says why.
    } else {
        match &load {
            Load::Forward(_) | Load::Reverse if select_related_here(py, &p, func) => {
                let m = p.manager.expect("checked");
                fixes.push(Fix {
                    title: format!("Add `.select_related(\"{f}\")` to the query"),
                    applicability: Applicability::Unsafe,
                    edits: vec![Edit::insert(m.end_byte(), format!(".select_related(\"{f}\")"))],
                });
            }
            Load::Forward(target)
                if !getattr
                    && (dialect == Dialect::Dorm || version >= django::ASYNC_ORM)
                    && (py.classes.contains_key(target.as_str()) || py.import_of(target).is_some())
                    && py.binding(target, node.start_byte()).is_some_and(|b| b.value.is_none()) =>
            {
                let mut text = format!("await {target}.objects.aget(pk={o}.{f}_id)");
                if node.parent().is_some_and(|p| matches!(p.kind(), "attribute" | "subscript" | "call")) {
                    text = format!("({text})");
                }
                fixes.push(Fix {
                    title: format!("Fetch it with `await {target}.objects.aget(pk={o}.{f}_id)`"),
                    applicability: Applicability::Unsafe,
                    edits: vec![Edit { range: node.byte_range(), text }],
                });
            }
            // dorm's `arefresh_from_db(using=…, fields=None)` takes the same `fields=`.
            Load::Deferred if dialect == Dialect::Dorm || version >= django_api::V4_2 => {
                if let Some((at, indent)) = statement_start(py, node) {
                    fixes.push(Fix {
                        title: format!("Load it first with `await {o}.arefresh_from_db(fields=[\"{f}\"])`"),
                        applicability: Applicability::Unsafe,
                        edits: vec![Edit::insert(at, format!("await {o}.arefresh_from_db(fields=[\"{f}\"])\n{indent}"))],
                    });
                }
            }
            _ => {}
        }
    }
    let message = short(&message, 400).to_string();
    let severity = if dialect == Dialect::Dorm { Severity::Warning } else { META.severity };
    Some(Finding { severity, ..Finding::new(&META, node.byte_range(), message, fixes) })
}

/// What reading `f` on an instance of producer `p` loads, when it loads lazily.
fn classify(py: &PyModel, cx: &Ctx, p: &Producer, f: &str) -> Option<Load> {
    let auth_user = cx.settings.auth_user_model.as_deref().map(|m| m.rsplit('.').next().unwrap_or(m)).unwrap_or("User");
    let auth_label = cx.settings.auth_user_model.as_deref().and_then(|m| m.rsplit_once('.')).map(|(l, _)| l);
    let info = py.producer_model_info(p, auth_user, auth_label)?;
    let load = match info.fields.iter().find(|x| x.name == f) {
        Some(x) if matches!(x.kind, FieldKind::ForeignKey | FieldKind::OneToOne) => {
            Load::Forward(if x.target == AUTH_USER { auth_user.to_string() } else { x.target.clone() })
        }
        Some(x) if x.kind == FieldKind::Plain => Load::Deferred,
        Some(_) => return None,
        None if info.reverse_o2o.iter().any(|r| r == f) => Load::Reverse,
        None => return None,
    };
    loads(py, p, f, &load).then_some(load)
}

/// `helper(obj, …)` called on the loop in async code, where the sync project function
/// `helper` reads a lazy relation of its parameter (`def helper(d): d.court.name`): the
/// finding at the argument.
fn helper_call<'t>(py: &PyModel<'t>, cx: &Ctx, call: Node<'t>, func: Node<'t>, args: Node<'t>) -> Option<Finding> {
    if !matches!(func.kind(), "identifier" | "attribute") {
        return None;
    }
    let ctx = py.context_at(call.start_byte());
    let Context::Async { func: scope, .. } = ctx else { return None };
    if py.in_offload_args(call.start_byte()) || call.parent().is_some_and(|p| p.kind() == "await") {
        return None;
    }
    let mut c = args.walk();
    let positional: Vec<Node> = args.named_children(&mut c).filter(|a| a.kind() != "comment").take_while(|a| !matches!(a.kind(), "keyword_argument" | "list_splat" | "dictionary_splat")).collect();
    if !positional.iter().any(|a| a.kind() == "identifier" && py.node_text(*a) != "self") {
        return None;
    }
    // Decorated with an offloader (a helper of this file that is also handed to
    // `sync_to_async` elsewhere still runs on the loop here).
    let local_offloaded = (func.kind() == "identifier").then(|| py.module_def_named(py.node_text(func))).flatten().map(|d| py.local_fn_header(d).offloaded);
    let facts = py.callee_facts(func).filter(|f| !f.is_async && !local_offloaded.unwrap_or(f.offloaded) && !f.generator)?;
    let reads = facts.param_reads.as_ref()?;
    let name = last_name(py.node_text(func));
    for (i, arg) in positional.iter().enumerate() {
        if arg.kind() != "identifier" {
            continue;
        }
        let fields: Vec<&str> = reads.iter().filter(|(j, _)| *j == i).map(|(_, f)| f.as_str()).collect();
        if fields.is_empty() {
            continue;
        }
        let Some(p) = py.instance_producer(*arg) else { continue };
        let o = py.node_text(*arg);
        for f in fields {
            let Some(load) = classify(py, cx, &p, f) else { continue };
            if seen_before(py, scope, call.start_byte(), o, f) || handed_to_thread_before(py, scope, call.start_byte(), o, f) {
                continue;
            }
            let why = match load {
                Load::Forward(_) | Load::Reverse => format!("`{f}` is not in `select_related()`"),
                Load::Deferred => "the field is deferred".to_string(),
            };
            let mut message = format!("`{name}()` reads lazy `{o}.{f}` in async code ({why})");
            if p.has("fetch_mode") {
                message.push_str(" despite `fetch_mode()`");
            }
            let mut fixes = vec![];
            if ctx.await_ok() && matches!(load, Load::Forward(_) | Load::Reverse) && select_related_here(py, &p, scope) {
                let m = p.manager.expect("checked");
                fixes.push(Fix {
                    title: format!("Add `.select_related(\"{f}\")` to the query"),
                    applicability: Applicability::Unsafe,
                    edits: vec![Edit::insert(m.end_byte(), format!(".select_related(\"{f}\")"))],
                });
            }
            let severity = if py.dialect() == Dialect::Dorm { Severity::Warning } else { META.severity };
            let message = short(&message, 400).to_string();
            return Some(Finding { severity, ..Finding::new(&META, arg.byte_range(), message, fixes) });
        }
    }
    None
}

/// The producing query loads `f` lazily (not selected, prefetched, set or, for a field,
/// loaded).
fn loads(py: &PyModel, p: &Producer, f: &str, load: &Load) -> bool {
    // `acreate(author=a)` in another module's helper sets it too.
    if p.remote.as_ref().is_some_and(|r| r.set_kwargs.iter().any(|k| k == f)) {
        return false;
    }
    match load {
        Load::Forward(_) | Load::Reverse => {
            if p.set_kwargs.contains(&f) {
                return false;
            }
            let covered = |m: &str| match p.named(py, m) {
                None => false,
                Some(Named::Unknown) => true,
                Some(Named::Names(v)) => v.iter().any(|x| x == f) || (m == "select_related" && v.is_empty()),
            };
            !covered("select_related") && !covered("prefetch_related")
        }
        Load::Deferred => {
            if p.set_kwargs.contains(&f) {
                return false;
            }
            let only = match p.named(py, "only") {
                Some(Named::Unknown) => return false,
                Some(Named::Names(v)) => !v.is_empty() && !v.iter().any(|x| x == f),
                None => false,
            };
            let deferred = match p.named(py, "defer") {
                Some(Named::Unknown) => return false,
                Some(Named::Names(v)) => v.iter().any(|x| x == f),
                None => false,
            };
            only || deferred
        }
    }
}

/// `X.objects` of the producing query is written in the function of the read.
fn select_related_here(py: &PyModel, p: &Producer, func: usize) -> bool {
    let Some(m) = p.manager else { return false };
    !p.in_helper && matches!(py.context_at(m.start_byte()), Context::Async { func: f, .. } if f == func)
}

/// The producing chain (written here) calls `fetch_mode(…RAISE)`.
fn raises_fetch_blocked(py: &PyModel, p: &Producer) -> bool {
    p.calls.iter().any(|(m, args)| *m == "fetch_mode" && args.is_some_and(|a| py.node_text(a).trim_end_matches([')', ' ', ',']).ends_with("RAISE")))
}

/// `obj.arefresh_from_db(` / `obj.refresh_from_db(` written earlier in the function.
fn refreshed_before(py: &PyModel, func: usize, at: usize, o: &str) -> bool {
    let start = py.scopes[func].range.start;
    let before = &py.src[start.min(at)..at];
    [format!("{o}.arefresh_from_db("), format!("{o}.refresh_from_db(")].iter().any(|p| before.contains(p.as_str()))
}

/// `obj.f` read, written or loaded (`getattr(obj, "f"`) earlier in the function.
fn seen_before(py: &PyModel, func: usize, at: usize, o: &str, f: &str) -> bool {
    let start = py.scopes[func].range.start;
    let before = &py.src[start.min(at)..at];
    let ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let dotted = format!("{o}.{f}");
    for (i, _) in before.match_indices(&dotted) {
        let pre = before[..i].chars().next_back();
        let post = before[i + dotted.len()..].chars().next();
        if !pre.is_some_and(|c| ident(c) || c == '.') && !post.is_some_and(ident) {
            return true;
        }
    }
    [format!("({o}, \"{f}\""), format!("({o}, '{f}'")].iter().any(|p| before.contains(p.as_str()))
}

/// `o` was handed to offloaded code earlier in the function (`await sync_to_async(f)(o)`,
/// `sync_to_async(partial(f, o))`, `asyncio.to_thread(f, o)`): the thread may have read its
/// relations, which fills the instance's cache (`has_mentor(user)` reading `user.github_user`
/// makes a later `user.github_user` on the loop free). Unknown, so silent.
fn handed_to_thread_before(py: &PyModel, func: usize, at: usize, o: &str, f: &str) -> bool {
    let range = py.scopes[func].range.clone();
    let Some(body) = py.tree.root_node().descendant_for_byte_range(range.start, range.end) else { return false };
    let names = |n: Node| {
        let mut stack = vec![n];
        let mut steps = 0;
        while let Some(x) = stack.pop() {
            steps += 1;
            if steps > 4000 {
                return false;
            }
            if x.kind() == "identifier" && py.node_text(x) == o {
                return true;
            }
            let mut c = x.walk();
            stack.extend(x.named_children(&mut c));
        }
        false
    };
    let mut stack = vec![body];
    let mut steps = 0;
    while let Some(n) = stack.pop() {
        steps += 1;
        if steps > 20_000 || n.start_byte() >= at {
            continue;
        }
        if n.kind() == "call" && n.end_byte() <= at {
            let args = n.child_by_field_name("arguments");
            // `to_thread(f, o)` / `sync_to_async(partial(f, o))`: the offloader's own arguments.
            if args.is_some_and(|a| py.in_offload_args(a.start_byte() + 1) && names(a)) {
                return true;
            }
            // `sync_to_async(g)(o)`: the arguments of the wrapped callable's call; cached
            // unless `g` is a project function known not to read `o.f`.
            let wrapped = n.child_by_field_name("function").filter(|f| f.kind() == "call").and_then(|f| f.child_by_field_name("arguments"));
            if let (Some(w), Some(a)) = (wrapped.filter(|w| py.in_offload_args(w.start_byte() + 1)), args) {
                let mut c = a.walk();
                let positional: Vec<Node> = a.named_children(&mut c).filter(|x| x.kind() != "comment").collect();
                let at_arg = positional.iter().position(|x| x.kind() == "identifier" && py.node_text(*x) == o);
                let g = w.named_child(0).filter(|g| matches!(g.kind(), "identifier" | "attribute"));
                let known_not_read = match (at_arg, g.and_then(|g| py.callee_facts(g))) {
                    (Some(i), Some(facts)) if positional[..i].iter().all(|x| !matches!(x.kind(), "keyword_argument" | "list_splat" | "dictionary_splat")) => {
                        facts.param_reads.as_ref().is_some_and(|r| !r.iter().any(|(j, x)| *j == i && x == f))
                    }
                    _ => false,
                };
                if names(a) && !known_not_read {
                    return true;
                }
            }
        }
        let mut c = n.walk();
        stack.extend(n.named_children(&mut c));
    }
    false
}

/// The start of the statement holding `node` (a child of a block) and its indentation, when
/// the statement starts its line.
fn statement_start<'t>(py: &PyModel<'t>, node: Node<'t>) -> Option<(usize, &'t str)> {
    let mut cur = node;
    for _ in 0..64 {
        let p = cur.parent()?;
        if p.kind() == "block" {
            let at = cur.start_byte();
            let line = py.src[..at].rfind('\n').map_or(0, |i| i + 1);
            let indent = &py.src[line..at];
            return indent.chars().all(|c| c == ' ' || c == '\t').then_some((at, indent));
        }
        if matches!(p.kind(), "function_definition" | "lambda" | "class_definition") {
            return None;
        }
        cur = p;
    }
    None
}
