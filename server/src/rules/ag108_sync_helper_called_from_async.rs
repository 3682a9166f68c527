//! AG108 sync-helper-called-from-async: an async function calls, without `await` or
//! offloading, a sync function of the project (this file or another module, any depth) that
//! does sync database work (RULES.md §AG108).
//!
//! The callee is resolved by [`PyModel::callee_facts`]: a `def` of this file, or a project
//! function imported by name or through its module. Its `db_work` (the chain of call sites,
//! the database call last) comes from the one transitive walk
//! ([`crate::semantic::summary::db_work`]) the project model uses too, and becomes the
//! finding's `related` locations. `self.helper()` / `cls.helper()` resolves to a sync
//! method of the enclosing (module-level) class or of its bases in method resolution order
//! (C3; library bases such as `View` are passed over, a base of another project module is
//! searched for its own `def`, then along its chain of single bases) ([`method_facts`]); a method with another decorator than `@staticmethod` /
//! `@classmethod` (a property, an unknown wrapper) is unknown. Other methods (`obj.x()`),
//! what a base of another module inherits through several bases, classes, names rebound by assignment and anything outside the
//! project are unknown, and unknown is silent.
//!
//! Guards: the chain reported is the first of the callee's `db_alts`
//! ([`crate::semantic::summary::db_alts`]) that the constants this call passes do not rule
//! out; none left (every query runs only for other constants) is silent.
//!
//! Library sinks (same rule): calls into Django/DRF that query on the caller's behalf
//! ([`sinks`]), reported only where the class is known (declared in this file or the project
//! with a known base).

use super::{short, Ctx, Finding, FixAvailability, Rule, RuleMeta, Severity};
use crate::fix::{python as pyfix, Applicability, Fix};
use crate::semantic::python::in_stored_lambda;
use crate::semantic::outside::Returns;
use crate::semantic::PyModel;
use crate::syntax::{Lang, QueryId};
use tree_sitter::Node;

mod sinks;

pub struct SyncHelperCalledFromAsync;

pub(super) static META: RuleMeta = RuleMeta {
    code: "AG108",
    name: "sync-helper-called-from-async",
    lang: Lang::Python,
    severity: Severity::Error,
    fix: FixAvailability::Sometimes,
    // Every finding is in async context: the caller's file needs no ORM word at all (the
    // query is in the helper's file).
    triggers: &[&["async"]],
    summary: "Sync helper that queries the database called from async code",
    doc: r#"## AG108 sync-helper-called-from-async

**What it catches.** An `async def` calls, without `await` or offloading, a sync function of
your project — in the same file or in another module, however deep — that runs a Django
query (an AG101–AG103 pattern inside it). The finding is at the call in async code; the
related locations walk the chain to the query in the helper's file.

```python
# services.py
def close_loan(loan_id):
    loan = Loan.objects.get(pk=loan_id)
    loan.returned = True
    loan.save()

# views.py
async def return_book(request, loan_id):
    close_loan(loan_id)                                 # AG108
    await sync_to_async(close_loan)(loan_id)            # fixed
```

**Why it is wrong.** `@async_unsafe` checks for a running event loop in the *current
thread*: a sync helper called directly from async code runs on the loop thread, so its
query raises `SynchronousOnlyOperation`, however many calls deep it is.

**Fix.** `await sync_to_async(helper)(args)` (parenthesised before a trailer:
`(await sync_to_async(helper)(x)).title`); in a Channels consumer that imports
`database_sync_to_async`, that bridge instead (it also closes stale connections). No fix when
the helper returns a lazy queryset (the rows are fetched where it is evaluated, which AG102
reports), when it is a generator, or where `await` is not allowed (lambda, class body,
generator expression). A sync `def` nested in the async function is a helper like any
other: its direct call there is reported (its body is sync context, silent for AG101–AG107).

**Methods.** `self.helper()` / `cls.helper()` in an async method is reported the same way
when `helper` is a sync method that reaches the database, found first in the class's method
resolution order: the class, its bases in this file (several bases: Python's C3 order; library
bases such as `View` are passed over), or a base class of another project module: its own
`def`, or the one it inherits through a chain of single bases (a class there with several
bases is not followed), as in a Channels consumer calling its own sync `get_room()` or a mixin's.

**Guarded queries.** A query that runs only under a test of a parameter against a
constant (`if search_type == SEARCH_TYPES.PARENTHETICAL:`, `!=`, `in (…)`, `elif`/`else`,
an earlier `if kind != "db": return`) is not reached when the call passes another constant:
another string or number, or another capitalised member of the same class or module
(`SEARCH_TYPES.OPINION`), written at the call, bound once to a name, or passed on through
the parameters of intermediate helpers. A call passing anything else (a variable, a string
where the test names a class member) is still reported. A parameter rebound in the helper
is not a guard.

**Library sinks** (same rule, in async context, where the class is known from the project):
- DRF: `serializer.data`, `serializer.is_valid()`, `serializer.save()` on a
  `ModelSerializer` subclass (fix: adrf's `await serializer.adata` / `ais_valid()` /
  `asave()` when the serializer derives from adrf's, else `sync_to_async`);
- `form.is_valid()` / `form.save()` on a `ModelForm` subclass;
- `.data` only where serializing is known to query: the serializer was given a queryset
  (`many=True` over `Book.objects…`), or its class of this file (or its bases here) declares a
  nested serializer, a related field, a `SerializerMethodField` or a dotted `source=`, sets
  `Meta.depth`, or shows a many-to-many field of a known project model. Columns and forward
  keys (serialized from `author_id`) run no query: silent, as are classes of other modules;
- `is_valid()` only where validation is known to query: the serializer or form class of this
  file (or its bases here) declares a related field (`PrimaryKeyRelatedField`,
  `ModelChoiceField` …) or a unique validator, has a `validate…` / `clean…` method that
  reaches the database, or its `Meta.fields` (literal, or `"__all__"`, minus `exclude` and
  `read_only_fields`) name a relation or a unique field of a known project model (for a
  ModelForm also a model `Meta` with `unique_together` / `constraints`). A class of another
  module, an unknown model or fields not written as a literal list: silent;
- `render()` / `render_to_string()` / `TemplateResponse(...).render()` whose context (a dict
  literal, or a name bound to one) holds a queryset (the template evaluates it), or a model
  instance loaded by a query whose foreign key, one-to-one or many-to-many fields it did not
  `select_related` / `prefetch_related` (the template may read them);
- `request.session.save()`;
- `Paginator(qs, …).count` / `.num_pages` on a queryset (build it with `AsyncPaginator`, Django
  6.0, and await `acount()` / `anum_pages()`, or count in a thread).

**Stays silent on** helpers that only build lazy querysets; helpers decorated with
`@sync_to_async` / `@database_sync_to_async`, and calls handed to `sync_to_async(helper)(…)` /
`asyncio.to_thread(helper, …)` (a direct call of the same helper elsewhere is still
reported); calls from offloaded scopes; helpers whose database work is itself offloaded;
awaited calls; calls in a `lambda` stored in an attribute or passed as a keyword argument
(`mock.side_effect = lambda d: merge(d)`, `callback=lambda: …`: it runs where it is called);
methods other than
`self.helper()` / `cls.helper()` of the class and its
bases, a method a base of another module inherits through several bases, properties,
classes and callees outside the project.

Also silent inside `with self.assertRaises(SynchronousOnlyOperation):` (or
`assertRaisesMessage`, `pytest.raises(SynchronousOnlyOperation)`): a test asserting the error.

**Suppress** with `# awaitguard: ignore[AG108]` or `# noqa: AG108` on the line.
"#,
};

impl Rule for SyncHelperCalledFromAsync {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Ctx, out: &mut Vec<Finding>) {
        let Some(py) = cx.py else { return };
        cx.for_each_match(QueryId::PyCalls, |caps| {
            let (Some(call), Some(func)) = (caps.get("call"), caps.get("function")) else { return };
            if !matches!(func.kind(), "identifier" | "attribute") {
                return;
            }
            let ctx = py.context_at(call.start_byte());
            if !ctx.is_async() || py.in_offload_args(call.start_byte()) || pyfix::is_awaited(call) || in_stored_lambda(call) {
                return;
            }
            if let Some(f) = helper_call(py, cx, call, func) {
                out.push(f);
            } else if let Some(f) = sinks::call_sink(py, cx, call, func, ctx) {
                out.push(f);
            }
        });
        sinks::attribute_sinks(py, cx, out);
    }
}

/// A call of a project helper that reaches sync database work.
fn helper_call<'t>(py: &PyModel<'t>, cx: &Ctx, call: Node<'t>, func: Node<'t>) -> Option<Finding> {
    let mut facts = match py.callee_facts(func) {
        Some(f) => f,
        None => method_facts(py, func)?,
    };
    if func.kind() == "identifier" && py.import_of(py.node_text(func)).is_none() {
        if let crate::semantic::bridges::Callable::SyncDef(def) = py.callable(func, cx.settings.django_version) {
            // A sync `def` nested in an async one is sync context itself (AG101–AG103 stay
            // silent inside it): its direct call here is where it runs on the loop.
            // A helper handed to `sync_to_async(helper)` elsewhere in the file still runs on
            // the loop when called directly here: only its own decorator offloads it.
            facts.offloaded = py.local_fn_memo(def).is_some_and(|f| f.offloaded);
        }
    }
    if facts.is_async || facts.offloaded || facts.db_work.is_empty() {
        return None;
    }
    // The first way to the database that the constants this call passes do not rule out
    // (`merge(page, SEARCH_TYPES.OPINION)` where the query runs only for another type).
    let site = py.call_site(call, &[]);
    let params = match (func.kind(), facts.params.first().map(String::as_str)) {
        ("attribute", Some("self" | "cls")) if method_call(py, func) => &facts.params[1..],
        _ => &facts.params[..],
    };
    let chain = facts.db_alts.iter().find(|a| site.translate(params, &facts.defaults, &a.guards).is_some())?.chain.clone();
    let ctx = py.context_at(call.start_byte());
    let name = short(py.node_text(func), 40);
    let db = chain.last()?;
    let (module, bridge) = bridge_for(py);
    // The helpers in between are the related locations; the explanation is in the rule doc.
    // `for … in <qs>`: only the queryset is shortened (its spaces are part of the text).
    let what = match db.what.strip_prefix("for … in ") {
        Some(qs) => format!("for … in {}", short(qs, 31)),
        None => short(&db.what, 40),
    };
    let mut message = format!("`{name}()` runs `{what}` synchronously in async code");
    let mut fixes = vec![];
    if facts.returns == Returns::QuerySet {
        message.push_str(" (it returns a lazy queryset)");
    } else if facts.generator {
        message.push_str(" (it is a generator)");
    } else if ctx.await_ok() {
        if let Some(edits) = pyfix::offload_call(py, call, module, bridge) {
            fixes.push(Fix { title: format!("Wrap in `await {bridge}({name})(…)`"), applicability: Applicability::Safe, edits });
        }
    }
    let mut f = Finding::new(&META, call.byte_range(), message, fixes);
    f.related = chain;
    Some(f)
}

/// `self.x` / `cls.x`: the receiver is not among the arguments the call passes.
fn method_call(py: &PyModel, func: Node) -> bool {
    func.child_by_field_name("object").is_some_and(|o| matches!(py.node_text(o), "self" | "cls"))
}

/// The bridge the fix uses: Channels' `database_sync_to_async` where the file imports it,
/// else asgiref's `sync_to_async`.
pub(super) fn bridge_for(py: &PyModel) -> (&'static str, &'static str) {
    if py.import_of("database_sync_to_async").is_some_and(|p| p == "channels.db.database_sync_to_async") {
        ("channels.db", "database_sync_to_async")
    } else {
        ("asgiref.sync", "sync_to_async")
    }
}

/// `self.helper()` / `cls.helper()` in a method: the facts of the sync method `helper` found
/// first in the method resolution order of the enclosing class: its classes of this file
/// (several bases: C3 order), or declared directly in a base class imported from another
/// project module (`None`: unknown, e.g. a method that imported base inherits, a name not
/// found, an inconsistent order, a class nested in a function).
fn method_facts<'t>(py: &PyModel<'t>, func: Node<'t>) -> Option<crate::semantic::outside::FnFacts> {
    use crate::semantic::ScopeKind;
    if func.kind() != "attribute" {
        return None;
    }
    let obj = func.child_by_field_name("object").filter(|o| o.kind() == "identifier")?;
    if !matches!(py.node_text(obj), "self" | "cls") {
        return None;
    }
    let name = py.node_text(func.child_by_field_name("attribute")?);
    // The method holding the call, then its class (a module-level one).
    let mut s = py.scope_at(func.start_byte());
    while py.scopes[s].kind != ScopeKind::Function {
        s = py.scopes[s].parent?;
    }
    let class = py.scopes[s].parent.filter(|&c| py.scopes[c].kind == ScopeKind::Class)?;
    if py.scopes[class].parent != Some(0) {
        return None;
    }
    let cname = py.scopes[class].name.clone()?;
    // The method resolution order (C3) over this file's classes; a class of another project
    // module ends its branch (its own bases are not read), a library class is passed over.
    for c in mro(py, &cname, 0)? {
        match c {
            MroClass::Local(cname) => {
                let Some(def) = py.class_node(&cname).and_then(|d| method_def(py, d, name)) else { continue };
                let f = py.local_fn_memo(def)?;
                let db_work = py.local_db_work(&f);
                let db_alts = if db_work.is_empty() { vec![] } else { py.local_db_alts(&f) };
                let offloaded = f.offloaded || is_static_or_property(py, def);
                return Some(crate::semantic::outside::FnFacts {
                    name: f.name,
                    is_async: f.is_async,
                    offloaded,
                    generator: f.generator,
                    returns: f.returns,
                    db_work,
                    db_alts,
                    params: f.params,
                    defaults: f.defaults,
                    // AG108 reads only the database work of `self.helper()`.
                    dispatch: vec![],
                    on_commit_task: false,
                    loc: None,
                    // Dispatch facts are AG208's question, not asked of a method here.
                    ..Default::default()
                });
            }
            MroClass::Imported(base) => {
                // A base class of another project module: its own `def`, else unknown (what it
                // inherits comes before the classes after it).
                let (head, tail) = base.split_once('.').map_or((base.as_str(), None), |(h, t)| (h, Some(t)));
                let attr = match tail {
                    Some(t) => format!("{t}.{name}"),
                    None => name.to_string(),
                };
                return match py.imported_def(head, Some(&attr))? {
                    crate::semantic::outside::PyDef::Function(f) if !f.is_async => Some((*f).clone()),
                    _ => None,
                };
            }
            MroClass::Library => continue,
        }
    }
    None
}

/// One class of a method resolution order.
#[derive(Clone, PartialEq, Eq)]
enum MroClass {
    /// A module-level class of this file.
    Local(String),
    /// A class of another project module (as written in the bases).
    Imported(String),
    /// Not a project class (Django's `View`, a mixin of a library, `object`).
    Library,
}

/// The C3 linearization of this file's class `name` (`None`: inconsistent, or deeper than 8).
fn mro(py: &PyModel, name: &str, depth: u32) -> Option<Vec<MroClass>> {
    if depth > 8 {
        return None;
    }
    let bases = py.classes.get(name)?;
    let mut seqs: Vec<Vec<MroClass>> = vec![];
    for b in bases {
        if b == name {
            return None;
        }
        if py.classes.contains_key(b.as_str()) {
            seqs.push(mro(py, b, depth + 1)?);
        } else {
            let head = b.split('.').next().unwrap_or(b);
            let project = matches!(py.imported_def(head, b.split_once('.').map(|(_, t)| t)), Some(crate::semantic::outside::PyDef::Class(_)));
            seqs.push(vec![if project { MroClass::Imported(b.clone()) } else { MroClass::Library }]);
        }
    }
    seqs.push(
        bases
            .iter()
            .map(|b| if py.classes.contains_key(b.as_str()) { MroClass::Local(b.clone()) } else { seqs_head_kind(&seqs, b) })
            .collect(),
    );
    let mut out = vec![MroClass::Local(name.to_string())];
    for _ in 0..64 {
        seqs.retain(|s| !s.is_empty());
        if seqs.is_empty() {
            return Some(out);
        }
        // The first head that is in no other sequence's tail (library classes never block).
        let pick = seqs.iter().map(|s| s[0].clone()).find(|h| *h == MroClass::Library || !seqs.iter().any(|s| s[1..].contains(h)))?;
        for s in seqs.iter_mut() {
            if s.first() == Some(&pick) {
                s.remove(0);
            }
        }
        if pick != MroClass::Library || out.last() != Some(&MroClass::Library) {
            out.push(pick);
        }
    }
    None
}

/// The kind a non-local base `b` was given in its own one-class sequence.
fn seqs_head_kind(seqs: &[Vec<MroClass>], b: &str) -> MroClass {
    if seqs.iter().any(|s| s.first() == Some(&MroClass::Imported(b.to_string()))) {
        MroClass::Imported(b.to_string())
    } else {
        MroClass::Library
    }
}

/// The `def name` directly in the body of `class_def` (decorated or not).
fn method_def<'t>(py: &PyModel<'t>, class_def: Node<'t>, name: &str) -> Option<Node<'t>> {
    let body = class_def.child_by_field_name("body")?;
    let mut c = body.walk();
    let found = body.named_children(&mut c).filter_map(|n| {
        let def = if n.kind() == "decorated_definition" { n.child_by_field_name("definition")? } else { n };
        (def.kind() == "function_definition" && def.child_by_field_name("name").is_some_and(|x| py.node_text(x) == name))
            .then_some(def)
    });
    found.last()
}

/// A method whose decorators make `self.name()` something else than a plain sync call
/// (`@property`, `@cached_property`, any decorator we do not know): treated as unknown.
fn is_static_or_property(py: &PyModel, def: Node) -> bool {
    let Some(p) = def.parent().filter(|p| p.kind() == "decorated_definition") else { return false };
    let mut c = p.walk();
    let decorated = p.named_children(&mut c).filter(|d| d.kind() == "decorator").any(|d| {
        let t = py.node_text(d).trim_start_matches('@').trim();
        !matches!(t, "staticmethod" | "classmethod")
    });
    decorated
}
