//! AG102 sync-queryset-evaluation: a lazy queryset evaluated synchronously in async code —
//! iterated by `for` or a comprehension, passed to `list()`/`len()`/`bool()`…, tested for
//! truth, searched with `in`, indexed, or formatted (RULES.md §AG102, §3.2).
//!
//! Candidates come from `queries/python/evaluations.scm`; a candidate fires only when the
//! evaluated expression resolves to a queryset ([`crate::semantic::instances`]) or to a
//! `.iterator()` call on one. Slices without a step stay lazy and silent (the receiver
//! resolution says so). `await qs` is AG110's. Tortoise: only `for` loops and comprehension
//! clauses over a queryset ([`crate::semantic::async_orms`]) fire (`async for` fix).

use super::orm_fix::{async_list, sync_list};
use super::{short, Ctx, Finding, FixAvailability, Rule, RuleMeta, Severity};
use crate::dialects::django::ASYNC_ORM;
use crate::dialects::django_api::V5_0;
use crate::fix::{python as pyfix, Applicability, Edit, Fix};
use crate::semantic::instances::{strip_parens, Dialect, Value};
use crate::semantic::{Context, PyModel};
use crate::syntax::{Lang, QueryId};
use std::collections::HashSet;
use tree_sitter::Node;

pub struct SyncQuerysetEvaluation;

static META: RuleMeta = RuleMeta {
    code: "AG102",
    name: "sync-queryset-evaluation",
    lang: Lang::Python,
    severity: Severity::Error,
    fix: FixAvailability::Sometimes,
    triggers: &[&["async"]],
    summary: "Queryset evaluated synchronously in async code",
    doc: r#"## AG102 sync-queryset-evaluation

**What it catches.** A lazy queryset evaluated synchronously inside an `async def`: a `for`
loop or comprehension over it, `list(qs)` / `tuple` / `set` / `sorted` / `dict` /
`enumerate` / `sum` …, `len(qs)`, `bool(qs)`, `if qs:` / `not qs`, `x in qs`, `qs[0]`,
`qs[a:b:step]`, an f-string or `print`/`str`/`repr` of it, a `logging` argument
(`logger.info("%s", qs)`: formatted when the record is emitted), and `for x in qs.iterator()`.

Tortoise ORM: `for x in Model.all()` / `Model.filter(…)` chains (and `values()` /
`values_list()`), or a comprehension over one, also through a name bound to it.

**Why it is wrong.** Evaluating a queryset fetches its rows on the event-loop thread: Django
raises `SynchronousOnlyOperation`; dorm blocks the loop silently. A Tortoise queryset has no
sync iteration at all: a `for` over it raises (`ParamsError: QuerySet indices must be
slices`, `TypeError` for `values()`).

**Example.**
```python
async def titles(request):
    qs = Book.objects.filter(published=True)
    if not qs:                              # AG102
        return []
    return [b.title for b in qs]            # AG102
```

**Fix.**
```python
async def titles(request):
    qs = Book.objects.filter(published=True)
    if not await qs.aexists():
        return []
    return [b.title async for b in qs]
```
| construct | rewrite | |
|---|---|---|
| `for x in qs:` | `async for x in qs:` | safe |
| `for x in qs.iterator(…)` | `async for x in qs.aiterator(…)` | safe (none with `prefetch_related` before Django 5.0) |
| `list(qs)`, `sorted(qs)`, `enumerate(qs)` … | the builtin over `[x async for x in qs]` | safe |
| `[f(x) for x in qs]` | `[f(x) async for x in qs]` | safe |
| `sum(b.n for b in qs)` | `sum([b.n async for b in qs])` (never an async generator) | safe |
| `len(qs)` | `await qs.acount()` | **unsafe**: a COUNT query, not a fetch |
| `bool(qs)`, `if qs:`, `not qs` | `await qs.aexists()` | safe |
| `x in qs` | `await qs.acontains(x)` | safe |
| `qs[i]` | `[x async for x in qs[i:i + 1]][0]`; for `qs[0]` also `await qs.afirst()` | safe; `afirst()` **unsafe** (`None` instead of `IndexError`) |
| `qs[a:b:step]`, `f"{qs}"`, `print(qs)`, `logger.info("%s", qs)` | none: avoid it (`str(qs.query)` shows the SQL without a query) | |

Tortoise: `async for x in Model.filter(…)` (safe; none in a generator expression).

Below Django 4.1 the fix is `await sync_to_async(list)(qs)` in place of `qs`. No fix where
`await`/`async for` is illegal (a lambda, a class body, a generator
expression's inner clauses).

**Stays silent on** sync `def`s nested in an async function (sync context: a direct call is AG108's), `async for`, a name whose rows an earlier `async for x in qs` (or
`[x async for x in qs]`) in the same function already fetched (the queryset's result cache
is filled: `len(qs)`, `if qs:`, `for x in qs` run no query; not after `qs = …` or
`qs.update()` / `delete()`, and not after `aexists()` / `acount()`, which fill nothing), slices without a step (`qs[:10]` is lazy), lists already
materialised (`rows = [x async for x in qs]`), `prefetch_related` caches read through
`obj.rel.all()` (also bound to a name first, `assignees = issue.assignees.all()`, and when
the instance comes from `async for` over a query built in steps from a `prefetch_related(…)`
queryset), offloaded code, and sync functions. Tortoise: `async for`, and `for x in await
Model.all()` (the awaited list).
Also silent inside `with self.assertRaises(SynchronousOnlyOperation):` (or
`assertRaisesMessage`, `pytest.raises(SynchronousOnlyOperation)`): a test asserting the error.

**Suppress** with `# awaitguard: ignore[AG102]` or `# noqa: AG102` on the line.
"#,
};

/// Builtins that iterate their (first positional) argument.
const ITERATING: &[&str] = &[
    "list", "tuple", "set", "frozenset", "sorted", "dict", "enumerate", "reversed", "sum", "any", "all", "min", "max",
    "zip",
];
/// Builtins that format their argument (no fix: avoid it).
const FORMATTING: &[&str] = &["repr", "str", "print"];

/// `logging` methods that format their arguments into the message.
const LOG_METHODS: &[&str] = &["debug", "info", "warning", "warn", "error", "exception", "critical", "fatal", "log"];

/// `<logger>.<level>(…)` where `<logger>` is the `logging` module or a name bound to
/// `logging.getLogger(…)` (or `getLogger(…)` imported from `logging`).
fn is_logging_call(py: &PyModel, func: Node) -> bool {
    let (Some(obj), Some(attr)) = (func.child_by_field_name("object"), func.child_by_field_name("attribute")) else {
        return false;
    };
    if !LOG_METHODS.contains(&py.node_text(attr)) || obj.kind() != "identifier" {
        return false;
    }
    let name = py.node_text(obj);
    match py.binding(name, obj.start_byte()) {
        Some(b) => b.value.is_some_and(|v| {
            v.kind() == "call"
                && v.child_by_field_name("function").is_some_and(|f| py.resolves_to(f, &["logging.getLogger"]))
        }),
        None => py.import_of(name) == Some("logging"),
    }
}

#[derive(Clone, Copy)]
enum Src<'t> {
    /// A queryset.
    Qs,
    /// `<qs>.iterator(…)`: the method name node.
    Iter(Node<'t>),
}

struct Run<'a, 'b, 't> {
    cx: &'a Ctx<'b, 't>,
    py: &'a PyModel<'t>,
    dialect: Dialect,
    /// Django below 4.1: every rewrite is `await sync_to_async(list)(qs)`.
    old: bool,
    seen: HashSet<(usize, usize)>,
    out: &'a mut Vec<Finding>,
}

impl Rule for SyncQuerysetEvaluation {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Ctx, out: &mut Vec<Finding>) {
        let Some(py) = cx.py else { return };
        let dialect = py.dialect();
        let old = dialect == Dialect::Django && cx.settings.django_version < ASYNC_ORM;
        let mut run = Run { cx, py, dialect, old, seen: HashSet::new(), out };
        cx.for_each_match(QueryId::PyEvaluations, |caps| {
            if let (Some(stmt), Some(iter)) = (caps.get("for"), caps.get("iter")) {
                run.for_loop(stmt, iter);
            } else if let (Some(clause), Some(iter)) = (caps.get("clause"), caps.get("iter")) {
                run.clause(clause, iter);
            } else if let (Some(call), Some(func), Some(args)) = (caps.get("builtin"), caps.get("fn"), caps.get("args")) {
                run.builtin(call, func, args);
            } else if let Some(test) = caps.get("test") {
                run.truth(test, true);
            } else if let Some(op) = caps.get("operand") {
                run.truth(op, in_test_position(op));
            } else if let Some(cmp) = caps.get("cmp") {
                run.membership(cmp);
            } else if let (Some(sub), Some(value)) = (caps.get("sub"), caps.get("value")) {
                run.index(sub, value);
            } else if let Some(e) = caps.get("fmt") {
                if run.src(e).is_some_and(|s| matches!(s, Src::Qs)) && run.eligible(e) {
                    run.emit(e, "formatting it in an f-string runs the query", vec![], "");
                }
            }
        });
    }
}

impl<'a, 'b, 't> Run<'a, 'b, 't> {
    fn src(&self, e: Node<'t>) -> Option<Src<'t>> {
        // Every finding needs `eligible(e)`, which needs async context at `e`: asked first, the
        // cheap question spares the value inference for every expression in sync code.
        if !self.ctx(e.start_byte()).is_async() {
            return None;
        }
        let py = self.py;
        if py.value(e) == Value::QuerySet {
            return (!self.prefetched(e) && !self.filled_by_async_for(e)).then_some(Src::Qs);
        }
        let e = strip_parens(e);
        if e.kind() != "call" {
            return None;
        }
        let func = e.child_by_field_name("function")?;
        if func.kind() != "attribute" {
            return None;
        }
        let method = func.child_by_field_name("attribute")?;
        let obj = func.child_by_field_name("object")?;
        (py.node_text(method) == "iterator" && py.value(obj).is_orm()).then_some(Src::Iter(method))
    }

    fn ctx(&self, at: usize) -> Context {
        self.py.context_at(at)
    }

    /// In async context, not offloaded, not seen before.
    fn eligible(&mut self, e: Node<'t>) -> bool {
        let ctx = self.ctx(e.start_byte());
        ctx.is_async() && !self.py.in_offload_args(e.start_byte()) && self.seen.insert((e.start_byte(), e.end_byte()))
    }

    fn emit(&mut self, e: Node<'t>, how: &str, fixes: Vec<Fix>, advice: &str) {
        let text = short(self.py.node_text(e), 48);
        // The message names the problem only (issue 22): how the queryset is evaluated and the
        // advice are in the rule doc, the replacement in the fix title.
        let _ = (how, advice, fixes.is_empty());
        let mut message = match self.dialect {
            Dialect::Django => format!("Queryset `{text}` is evaluated synchronously in async code"),
            Dialect::Dorm => format!("Queryset `{text}` runs a sync dorm query in async code"),
        };
        if self.old {
            message.push_str(" (Django before 4.1 has no async ORM)");
        }
        let related = self.py.provenance(e);
        self.out.push(Finding {
            severity: if self.dialect == Dialect::Dorm { Severity::Warning } else { META.severity },
            related,
            ..Finding::new(&META, e.byte_range(), message, fixes)
        });
    }

    /// The text of an async-iterable form of `e` (`qs`, or `qs.aiterator(…)`).
    fn async_iterable(&self, e: Node<'t>, src: Src<'t>) -> String {
        let src_text = self.py.src;
        match src {
            Src::Qs => self.py.node_text(e).to_string(),
            Src::Iter(m) => format!("{}aiterator{}", &src_text[e.start_byte()..m.start_byte()], &src_text[m.end_byte()..e.end_byte()]),
        }
    }

    /// The text of `e` and of the expression its chain's root name was bound to.
    fn chain_text(&self, e: Node<'t>) -> String {
        let root = chain_root(e);
        let producer = self.py.producer(root).filter(|p| p.id() != root.id()).map(|p| self.py.node_text(p)).unwrap_or("");
        format!("{} {producer}", self.py.node_text(e))
    }

    /// `obj.rel.all()` where `obj` came from a query with `prefetch_related(…)`: the related
    /// queryset reads the prefetch cache, no query runs. Also a name bound to such an
    /// expression (`assignees = issue.assignees.all()` then `for a in assignees`), and an `obj`
    /// whose query is built in steps (`qs = M.objects.prefetch_related(…)`, `page = qs[a:b]`,
    /// `async for obj in page`).
    fn prefetched(&self, e: Node<'t>) -> bool {
        let e = strip_parens(e);
        if e.kind() == "identifier" {
            if let Some(bound) = self.py.producer(e).filter(|p| p.id() != e.id() && p.kind() != "identifier") {
                return self.rel_of_prefetched(strip_parens(bound));
            }
        }
        self.rel_of_prefetched(e)
    }

    /// `e` is `obj.<…>` where `obj` is an instance whose producing query (followed through
    /// the names its chain starts from) has `prefetch_related`.
    fn rel_of_prefetched(&self, e: Node<'t>) -> bool {
        let root = chain_root(e);
        if root.kind() != "identifier" || root.id() == e.id() || self.py.value(root) != Value::Instance {
            return false;
        }
        let mut cur = root;
        for _ in 0..4 {
            let Some(p) = self.py.producer(cur).filter(|p| p.id() != cur.id()) else { return false };
            if self.py.node_text(p).contains("prefetch_related") {
                return true;
            }
            let next = chain_root(p);
            if next.kind() != "identifier" || next.id() == p.id() {
                return false;
            }
            cur = next;
        }
        false
    }

    /// `qs` (a name) was iterated by `async for` (or an async comprehension) earlier in the same
    /// function, on the same binding, in a statement that runs before `e` whenever `e` runs:
    /// `QuerySet.__aiter__` fetched every row into `qs`'s result cache (`_fetch_all`), so
    /// `len(qs)`, `bool(qs)`, `for x in qs` … run no query. `qs.update()` / `delete()` in
    /// between empty the cache again. (`aexists()` / `acount()` fill nothing.)
    fn filled_by_async_for(&self, e: Node<'t>) -> bool {
        let py = self.py;
        let e = strip_parens(e);
        if e.kind() != "identifier" {
            return false;
        }
        let name = py.node_text(e);
        let Some(b) = py.binding(name, e.start_byte()) else { return false };
        let func = enclosing_function(e);
        py.loop_iters.values().any(|li| {
            let it = strip_parens(li.iter);
            if !li.is_async || it.kind() != "identifier" || py.node_text(it) != name || it.end_byte() > e.start_byte() {
                return false;
            }
            if !py.binding(name, it.start_byte()).is_some_and(|ib| std::ptr::eq(ib, b)) {
                return false;
            }
            if enclosing_function(it).map(|n| n.id()) != func.map(|n| n.id()) {
                return false;
            }
            // The statement holding the loop, and its block, which must hold `e`.
            let mut stmt = it;
            while let Some(p) = stmt.parent() {
                if matches!(p.kind(), "block" | "module") {
                    break;
                }
                stmt = p;
            }
            let Some(block) = stmt.parent() else { return false };
            if !(block.start_byte() <= e.start_byte() && e.end_byte() <= block.end_byte()) {
                return false;
            }
            let between = &py.src[stmt.start_byte()..e.start_byte()];
            !["update", "delete", "aupdate", "adelete"].iter().any(|m| between.contains(&format!("{name}.{m}(")))
        })
    }

    /// `aiterator()` over a chain with `prefetch_related()` raises before Django 5.0.
    fn iterator_blocked(&self, e: Node<'t>, src: Src<'t>) -> bool {
        if !matches!(src, Src::Iter(_)) || self.dialect != Dialect::Django || self.cx.settings.django_version >= V5_0 {
            return false;
        }
        let root = chain_root(e);
        let producer = self.py.producer(root).map(|p| self.py.node_text(p)).unwrap_or("");
        self.py.node_text(e).contains("prefetch_related") || producer.contains("prefetch_related")
    }


    /// `e` → `await sync_to_async(list)(e)` (Django < 4.1), when `await` is legal at `e`.
    fn old_fix(&self, e: Node<'t>) -> Vec<Fix> {
        if !self.ctx(e.start_byte()).await_ok() {
            return vec![];
        }
        let (text, import) = sync_list(self.py, self.py.node_text(e));
        let mut edits = vec![Edit::replace(e.byte_range(), text)];
        edits.extend(import);
        vec![Fix { title: "Wrap in `await sync_to_async(list)(…)`".into(), applicability: Applicability::Safe, edits }]
    }

    fn for_loop(&mut self, stmt: Node<'t>, iter: Node<'t>) {
        if !self.ctx(iter.start_byte()).is_async() {
            return; // no finding without `eligible(iter)`
        }
        if stmt.child(0).is_some_and(|c| c.kind() == "async") || after_async_word(self.cx.src, stmt.start_byte()) {
            return;
        }
        if self.tortoise_iteration(stmt, iter, None) {
            return;
        }
        let Some(src) = self.src(iter) else { return };
        if !self.eligible(iter) {
            return;
        }
        let how = "a `for` loop over it runs the query";
        if self.old {
            let fixes = self.old_fix(iter);
            return self.emit(iter, how, fixes, "");
        }
        if self.iterator_blocked(iter, src) {
            return self.emit(iter, how, vec![], "`aiterator()` with `prefetch_related()` needs Django 5.0; iterate with `async for` over the queryset itself.");
        }
        let mut fixes = vec![];
        if self.ctx(stmt.start_byte()).await_ok() {
            let mut edits = vec![Edit::insert(stmt.start_byte(), "async ")];
            if let Src::Iter(m) = src {
                edits.push(Edit::replace(m.byte_range(), "aiterator"));
            }
            let title = match src {
                Src::Qs => "Use `async for`".to_string(),
                Src::Iter(_) => "Use `async for … in ….aiterator(…)`".to_string(),
            };
            fixes.push(Fix { title, applicability: Applicability::Safe, edits });
        }
        let advice = match src {
            Src::Qs => "Use `async for` (or `.aiterator(chunk_size=…)` for large sets).",
            Src::Iter(_) => "Use `async for … in ….aiterator(…)`.",
        };
        self.emit(iter, how, fixes, advice);
    }

    fn clause(&mut self, clause: Node<'t>, iter: Node<'t>) {
        if !self.ctx(iter.start_byte()).is_async() {
            return; // no finding without `eligible(iter)`
        }
        if clause.child(0).is_some_and(|c| c.kind() == "async") {
            return;
        }
        if after_async_word(self.cx.src, clause.start_byte()) {
            return;
        }
        let Some(comp) = clause.parent() else { return };
        if self.tortoise_iteration(clause, iter, Some(comp)) {
            return;
        }
        let Some(src) = self.src(iter) else { return };
        if !self.eligible(iter) {
            return;
        }
        let how = "a comprehension over it runs the query";
        if self.old {
            let fixes = self.old_fix(iter);
            return self.emit(iter, how, fixes, "");
        }
        if self.iterator_blocked(iter, src) {
            return self.emit(iter, how, vec![], "`aiterator()` with `prefetch_related()` needs Django 5.0.");
        }
        let mut c = comp.walk();
        let first = comp.named_children(&mut c).find(|n| n.kind() == "for_in_clause").is_some_and(|f| f.id() == clause.id());
        let genexp = comp.kind() == "generator_expression";
        let mut fixes = vec![];
        // The first iterable is evaluated in the enclosing scope; inner ones inside the
        // comprehension (for a generator expression, an `async for` there would make an async
        // generator: Q5).
        if self.ctx(iter.start_byte()).await_ok() && (first || !genexp) {
            let mut edits = vec![Edit::insert(clause.start_byte(), "async ")];
            if let Src::Iter(m) = src {
                edits.push(Edit::replace(m.byte_range(), "aiterator"));
            }
            if genexp {
                edits.push(Edit::insert(comp.start_byte() + 1, "["));
                edits.push(Edit::insert(comp.end_byte() - 1, "]"));
            }
            let title = if genexp { "Use a list comprehension with `async for`" } else { "Use `async for` in the comprehension" };
            fixes.push(Fix { title: title.into(), applicability: Applicability::Safe, edits });
        }
        self.emit(iter, how, fixes, "Use `async for` in a list comprehension.");
    }

    /// Tortoise: `for x in Model.filter(…)` (or a comprehension clause, `comp` its
    /// comprehension) over a queryset that only `async for` can iterate. True when `iter` is a
    /// Tortoise queryset (reported here or not): the Django checks do not apply.
    fn tortoise_iteration(&mut self, stmt: Node<'t>, iter: Node<'t>, comp: Option<Node<'t>>) -> bool {
        if !self.py.tortoise_value(iter).is_some_and(|v| v.async_iterable()) {
            return false;
        }
        if !self.eligible(iter) {
            return true;
        }
        let mut fixes = vec![];
        let genexp = comp.is_some_and(|c| c.kind() == "generator_expression");
        // A generator expression is left alone: `async for` there makes an async generator (Q5).
        if self.ctx(iter.start_byte()).await_ok() && !genexp {
            let edits = vec![Edit::insert(stmt.start_byte(), "async ")];
            fixes.push(Fix { title: "Use `async for`".into(), applicability: Applicability::Safe, edits });
        }
        let text = short(self.py.node_text(iter), 40);
        let message = format!("Tortoise queryset `{text}` is iterated with a sync `for`, which raises");
        self.out.push(Finding::new(&META, iter.byte_range(), message, fixes));
        true
    }

    fn builtin(&mut self, call: Node<'t>, func: Node<'t>, args: Node<'t>) {
        let py = self.py;
        let mut c = args.walk();
        let positional: Vec<Node<'t>> =
            args.named_children(&mut c).filter(|a| !matches!(a.kind(), "keyword_argument" | "comment")).collect();
        let name = match func.kind() {
            "identifier" => {
                let n = py.node_text(func);
                if py.binding(n, func.start_byte()).is_some() || py.import_of(n).is_some() {
                    return;
                }
                n
            }
            "attribute"
                if func.child_by_field_name("object").is_some_and(|o| o.kind() == "string")
                    && func.child_by_field_name("attribute").is_some_and(|a| py.node_text(a) == "join") =>
            {
                "join"
            }
            "attribute" if is_logging_call(py, func) => {
                if func.child_by_field_name("attribute").is_some_and(|a| py.node_text(a) == "log") {
                    "logging.log"
                } else {
                    "logging"
                }
            }
            _ => return,
        };
        let candidates: Vec<Node<'t>> = match name {
            "zip" | "print" => positional.clone(),
            // The arguments after the message (and after the level, for `log`): formatted with
            // `%` when the record is emitted, which runs the query.
            "logging" => positional.iter().skip(1).copied().collect(),
            "logging.log" => positional.iter().skip(2).copied().collect(),
            _ => positional.first().copied().into_iter().collect(),
        };
        for e in candidates {
            let Some(src) = self.src(e) else { continue };
            let qs_only = matches!(src, Src::Qs);
            let await_ok = self.ctx(e.start_byte()).await_ok();
            match name {
                "len" | "bool" if qs_only && positional.len() == 1 => {
                    if !self.eligible(e) {
                        continue;
                    }
                    let (async_m, sync_m, how, app) = if name == "len" {
                        ("acount", "count", "`len()` fetches every row", Applicability::Unsafe)
                    } else {
                        ("aexists", "exists", "`bool()` fetches every row", Applicability::Safe)
                    };
                    let mut fixes = vec![];
                    if await_ok {
                        let qs = py.node_text(e);
                        let (text, import) = if self.old {
                            let (l, imp) = sync_list(py, qs);
                            (format!("{name}({l})"), imp)
                        } else {
                            (format!("await {qs}.{async_m}()"), None)
                        };
                        let text = if !self.old && pyfix::needs_parens(call) { format!("({text})") } else { text };
                        let mut edits = vec![Edit::replace(call.byte_range(), text)];
                        edits.extend(import);
                        let app = if self.old { Applicability::Safe } else { app };
                        let title = if self.old {
                            format!("Use `{name}(await sync_to_async(list)(…))`")
                        } else {
                            format!("Use `await ….{async_m}()`")
                        };
                        fixes.push(Fix { title, applicability: app, edits });
                    }
                    let advice = if name == "len" {
                        format!("Use `await ….{async_m}()` (a COUNT query; if the rows are used anyway, materialise them once and take `len`).")
                    } else {
                        format!("Use `await ….{async_m}()` (or `….{sync_m}()` through `sync_to_async`).")
                    };
                    self.emit(e, how, fixes, &advice);
                }
                "logging" | "logging.log" if qs_only && self.eligible(e) => {
                    self.emit(e, "a logging argument is formatted with `%s`, which runs the query", vec![], "Log `qs.query` or a count instead.");
                }
                n if FORMATTING.contains(&n) && qs_only
                    && self.eligible(e) => {
                        self.emit(e, &format!("`{n}()` of a queryset runs the query"), vec![], "Avoid it; `str(qs.query)` shows the SQL without running it.");
                    }
                n if ITERATING.contains(&n) || n == "join" => {
                    if !self.eligible(e) {
                        continue;
                    }
                    let how = format!("`{}` iterates it", if n == "join" { "str.join()" } else { n });
                    if self.old {
                        let fixes = self.old_fix(e);
                        self.emit(e, &how, fixes, "");
                        continue;
                    }
                    if self.iterator_blocked(e, src) {
                        self.emit(e, &how, vec![], "`aiterator()` with `prefetch_related()` needs Django 5.0.");
                        continue;
                    }
                    let mut fixes = vec![];
                    if await_ok {
                        if self.dialect == Dialect::Dorm && n == "list" && qs_only && positional.len() == 1 {
                            let text = format!("await {}.alist()", py.node_text(e));
                            let text = if pyfix::needs_parens(call) { format!("({text})") } else { text };
                            fixes.push(Fix {
                                title: "Use `await ….alist()`".into(),
                                applicability: Applicability::Safe,
                                edits: vec![Edit::replace(call.byte_range(), text)],
                            });
                        } else {
                            let text = async_list(&self.async_iterable(e, src));
                            fixes.push(Fix {
                                title: "Materialise with an async comprehension first".into(),
                                applicability: Applicability::Safe,
                                edits: vec![Edit::replace(e.byte_range(), text)],
                            });
                        }
                    }
                    self.emit(e, &how, fixes, "Materialise it with `[x async for x in qs]` first.");
                }
                _ => {}
            }
        }
    }

    fn truth(&mut self, e: Node<'t>, fixable: bool) {
        if !matches!(self.src(e), Some(Src::Qs)) || !self.eligible(e) {
            return;
        }
        let py = self.py;
        let mut fixes = vec![];
        if fixable && self.ctx(e.start_byte()).await_ok() {
            let qs = py.node_text(e);
            let text = if self.old { format!("await sync_to_async({qs}.exists)()") } else { format!("await {qs}.aexists()") };
            let mut edits = vec![Edit::replace(e.byte_range(), text)];
            if self.old {
                edits.extend(pyfix::ensure_import(py, "asgiref.sync", "sync_to_async"));
            }
            fixes.push(Fix { title: "Use `await ….aexists()`".into(), applicability: Applicability::Safe, edits });
        }
        self.emit(e, "testing its truth fetches every row", fixes, "Use `await qs.aexists()`.");
    }

    fn membership(&mut self, cmp: Node<'t>) {
        let py = self.py;
        let mut c = cmp.walk();
        let operands: Vec<Node<'t>> = cmp.named_children(&mut c).filter(|n| n.kind() != "comment").collect();
        if operands.len() != 2 {
            return;
        }
        let Some(op) = cmp.child_by_field_name("operators") else { return };
        let negated = match py.node_text(op).split_whitespace().collect::<Vec<_>>().as_slice() {
            ["in"] => false,
            ["not", "in"] => true,
            _ => return,
        };
        let (needle, e) = (operands[0], operands[1]);
        if !matches!(self.src(e), Some(Src::Qs)) || !self.eligible(e) {
            return;
        }
        let qs = py.node_text(e);
        let mut fixes = vec![];
        if self.ctx(e.start_byte()).await_ok() {
            if self.old {
                let (text, import) = sync_list(py, qs);
                let mut edits = vec![Edit::replace(e.byte_range(), text)];
                edits.extend(import);
                fixes.push(Fix { title: "Wrap in `await sync_to_async(list)(…)`".into(), applicability: Applicability::Safe, edits });
            } else if self.dialect == Dialect::Dorm || {
                let chain = self.chain_text(e);
                chain.contains(".values(") || chain.contains(".values_list(")
            } {
                // `contains()` refuses `values()` querysets; dorm has no `acontains`.
                let text = if self.dialect == Dialect::Dorm { format!("await {qs}.alist()") } else { async_list(qs) };
                fixes.push(Fix {
                    title: "Materialise with an async comprehension first".into(),
                    applicability: Applicability::Safe,
                    edits: vec![Edit::replace(e.byte_range(), text)],
                });
            } else {
                let not = if negated { "not " } else { "" };
                let text = format!("{not}await {qs}.acontains({})", py.node_text(needle));
                fixes.push(Fix {
                    title: "Use `await ….acontains(…)`".into(),
                    applicability: Applicability::Safe,
                    edits: vec![Edit::replace(cmp.byte_range(), text)],
                });
            }
        }
        let advice = if self.dialect == Dialect::Dorm {
            "Use `x in await qs.alist()` (dorm has no `acontains`)."
        } else {
            "Use `await qs.acontains(obj)`."
        };
        self.emit(e, "`in` fetches every row", fixes, advice);
    }

    fn index(&mut self, sub: Node<'t>, value: Node<'t>) {
        let py = self.py;
        let mut c = sub.walk();
        let subs: Vec<Node<'t>> = sub.children_by_field_name("subscript", &mut c).collect();
        if subs.len() != 1 || !matches!(self.src(value), Some(Src::Qs)) {
            return;
        }
        let s = subs[0];
        let step = s.kind() == "slice" && {
            let mut c2 = s.walk();
            s.children(&mut c2).filter(|ch| ch.kind() == ":").count() == 2
        };
        if s.kind() == "slice" && !step {
            return; // lazy
        }
        if !self.eligible(sub) {
            return;
        }
        let qs = py.node_text(value);
        if step {
            return self.emit(sub, "a slice with a step runs the query", vec![], "Slice without a step (lazy), then iterate with `async for`.");
        }
        let range = match s.kind() {
            "integer" => py.node_text(s).parse::<u64>().ok().map(|i| (format!("{i}:{}", i + 1), i == 0)),
            "identifier" => Some((format!("{0}:{0} + 1", py.node_text(s)), false)),
            _ => None,
        };
        let mut fixes = vec![];
        if let Some((slice, zero)) = range.filter(|_| self.ctx(sub.start_byte()).await_ok() && self.dialect == Dialect::Django) {
            if self.old {
                let (l, import) = sync_list(py, &format!("{qs}[{slice}]"));
                let mut edits = vec![Edit::replace(sub.byte_range(), format!("({l})[0]"))];
                edits.extend(import);
                fixes.push(Fix { title: "Wrap in `await sync_to_async(list)(…)`".into(), applicability: Applicability::Safe, edits });
            } else {
                fixes.push(Fix {
                    title: "Fetch the one row with an async comprehension".into(),
                    applicability: Applicability::Safe,
                    edits: vec![Edit::replace(sub.byte_range(), format!("{}[0]", async_list(&format!("{qs}[{slice}]"))))],
                });
                if zero {
                    let text = format!("await {qs}.afirst()");
                    let text = if pyfix::needs_parens(sub) { format!("({text})") } else { text };
                    fixes.push(Fix {
                        title: "Use `await ….afirst()` (returns None instead of raising IndexError)".into(),
                        applicability: Applicability::Unsafe,
                        edits: vec![Edit::replace(sub.byte_range(), text)],
                    });
                }
            }
        }
        self.emit(sub, "indexing runs the query", fixes, "Use `await qs.afirst()` or slice and iterate with `async for`.");
    }
}

/// The innermost object of a call/attribute/subscript chain (`qs` in `qs.filter(…)[:3]`).
fn chain_root(e: Node) -> Node {
    let mut root = e;
    loop {
        let next = match root.kind() {
            "call" => root.child_by_field_name("function"),
            "attribute" => root.child_by_field_name("object"),
            "subscript" => root.child_by_field_name("value"),
            "parenthesized_expression" => root.named_child(0),
            _ => None,
        };
        match next {
            Some(n) => root = n,
            None => return root,
        }
    }
}

/// True when a `boolean_operator` operand is only tested for truth: the operator chain sits
/// in an `if`/`elif`/`while` condition, under `not`, or in an `assert`.
fn in_test_position(operand: Node) -> bool {
    let mut cur = operand;
    let mut under_not = false;
    while let Some(p) = cur.parent() {
        match p.kind() {
            "boolean_operator" | "parenthesized_expression" => {}
            "not_operator" => under_not = true,
            "if_statement" | "elif_clause" | "while_statement" => {
                return p.child_by_field_name("condition").is_some_and(|c| c.id() == cur.id());
            }
            "assert_statement" => return p.named_child(0).is_some_and(|c| c.id() == cur.id()),
            _ => return under_not,
        }
        cur = p;
    }
    false
}

/// True when the code just before `at` is the word `async`. In broken code error recovery can
/// leave it outside the `for` statement or clause it belongs to: another `async ` would be
/// inserted on every fix-all round (found twice by fuzzing, for a clause and for a statement).
fn after_async_word(src: &str, at: usize) -> bool {
    let before = src[..at].trim_end();
    before.strip_suffix("async").is_some_and(|b| !b.ends_with(|c: char| c.is_alphanumeric() || c == '_'))
}

/// The nearest enclosing `def` or `lambda` of `n` (`None` at module level).
fn enclosing_function(n: Node) -> Option<Node> {
    let mut cur = n.parent();
    while let Some(p) = cur {
        if matches!(p.kind(), "function_definition" | "lambda") {
            return Some(p);
        }
        cur = p.parent();
    }
    None
}
