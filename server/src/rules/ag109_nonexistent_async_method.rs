//! AG109 nonexistent-async-method: an `a*` ORM name that does not exist in the dialect or in
//! the configured Django version (RULES.md §AG109): `afilter`, `aall`, `aexclude`, `avalues`,
//! `aannotate`, `aload`, `transaction.aatomic`, `Model.objects.adelete`, and `aadd` on 4.1 …
//!
//! Fires only on receivers resolved as managers, querysets, related managers or instances
//! (a project's own class with an `afilter` stays silent).

use super::orm_fix::async_list;
use super::{short, Ctx, Finding, FixAvailability, Rule, RuleMeta, Severity};
use crate::dialects::{django, django_api, dorm, Version};
use crate::fix::{python as pyfix, Applicability, Edit, Fix};
use crate::semantic::instances::{Dialect, Value};
use crate::syntax::{Lang, QueryId};

pub struct NonexistentAsyncMethod;

/// Every method name this rule can act on (its triggers): the invented builders of Django and
/// dorm, `aatomic`, `aload`, and every async twin (version gates). `every_name_is_a_trigger`
/// below holds the list to the dialect tables.
const AG109_NAMES: &[&str] = &[
    "aatomic", "aload", "afilter", "aexclude", "aall", "aannotate", "avalues", "avalues_list", "aorder_by",
    "aget", "acreate", "aget_or_create", "aupdate_or_create", "abulk_create", "abulk_update", "acount", "aexists",
    "acontains", "afirst", "alast", "aearliest", "alatest", "aaggregate", "ain_bulk", "aupdate", "adelete",
    "aexplain", "aiterator", "aadd", "aremove", "aclear", "aset", "asave", "arefresh_from_db",
    // helper functions (`django_api::FUNCTIONS`)
    "aget_object_or_404", "aget_list_or_404", "aauthenticate", "alogin", "alogout", "aget_user",
    "aupdate_session_auth_hash", "acheck_password", "aprefetch_related_objects",
];

static META: RuleMeta = RuleMeta {
    code: "AG109",
    name: "nonexistent-async-method",
    lang: Lang::Python,
    severity: Severity::Error,
    fix: FixAvailability::Sometimes,
    triggers: &[AG109_NAMES],
    summary: "Async ORM method that does not exist (AttributeError)",
    doc: r#"## AG109 nonexistent-async-method

**What it catches.** A call to an async ORM name that does not exist: `afilter`, `aexclude`,
`aall`, `aannotate`, `avalues` (lazy builders have no async form: they run no query),
`Model.objects.adelete()` (`delete` is QuerySet-only), `obj.rel.aload()`,
`transaction.aatomic()` (Django has no async transactions), and any `a*` name used below the
Django version that introduced it (related `aadd` before 4.2, `asave` before 4.2,
related `acreate` before 4.1.4, everything before 4.1), including the async helper
functions (`aget_object_or_404`, `aauthenticate`, `aprefetch_related_objects` … before 5.0:
an `ImportError` when the module loads).

**Why it is wrong.** `AttributeError` at runtime. These names come from tutorials; the Django
docs say "we have `aget()` but not `afilter()`".

**Fix.**
- `await Book.objects.afilter(…)` → `[b async for b in Book.objects.filter(…)]`; not awaited
  (or in `async for`): drop the `a`.
- `await Draft.objects.adelete()` → `await Draft.objects.all().adelete()`.
- Below the twin's version: `await sync_to_async(book.tags.add)(…)`; for a helper function,
  `await sync_to_async(get_object_or_404)(…)` with the import changed to the sync name.
- `aload()`, `transaction.aatomic()`: no automatic fix (use `select_related`, or a sync
  `@transaction.atomic` function called through `sync_to_async`).
- dorm: `afilter` / `aall` / `aexclude` lose the `a` (dorm's `avalues()`, `alist()`,
  `aget_or_none()` and Manager `adelete()` exist and stay silent).

**Stays silent on** a project's own class that defines the name (in the file, or a project
class the file imports or derives from: `class AsyncModel(models.Model): async def asave`),
and on the version gates when the Django version is only a range's lower bound
(`Django>=3.1` in a library's or an application's requirements: newer versions are installed
too); a lock file, `==`, or the `django-version` setting is a pin. The invented names
(`afilter`, `aatomic` …) exist in no version and are reported either way.

**Suppress** with `# awaitguard: ignore[AG109]` or `# noqa: AG109` on the line.
"#,
};

impl Rule for NonexistentAsyncMethod {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Ctx, out: &mut Vec<Finding>) {
        check_helpers(cx, out);
        let Some(py) = cx.py else { return };
        let dialect = py.dialect();
        let version = cx.settings.django_version;
        cx.for_each_match(QueryId::PyMethodCalls, |caps| {
            let (Some(call), Some(method), Some(receiver)) = (caps.get("call"), caps.get("method"), caps.get("receiver"))
            else {
                return;
            };
            let m = py.node_text(method);
            if !m.starts_with('a') || m.len() < 3 {
                return;
            }
            // A class in this file (a custom manager or queryset) defines the name: it exists.
            if py.defines_method(m) {
                return;
            }
            let recv = short(py.node_text(receiver), 32);
            let awaited = pyfix::is_awaited(call);
            let ctx = py.context_at(call.start_byte());
            let mut push = |message: String, fixes: Vec<Fix>| {
                out.push(Finding::new(&META, call.byte_range(), message, fixes))
            };
            // transaction.aatomic(…)
            if m == "aatomic" && dialect == Dialect::Django {
                let is_tx = receiver.kind() == "identifier"
                    && py.import_of(py.node_text(receiver)).is_some_and(|p| p == "django.db.transaction");
                let is_tx = is_tx || py.node_text(receiver) == "django.db.transaction";
                if is_tx {
                    push(
                        format!("`{recv}.aatomic()` does not exist (Django has no async transactions)"),
                        vec![],
                    );
                }
                return;
            }
            let value = py.value(receiver);
            if m == "aload" && dialect == Dialect::Django {
                if value == Value::Instance || py.is_instance_attr(receiver) {
                    push(
                        format!("`{recv}.aload()` does not exist in Django"),
                        vec![],
                    );
                }
                return;
            }
            let invented = match dialect {
                Dialect::Django => django_api::NONEXISTENT_BUILDERS.contains(&m),
                Dialect::Dorm => dorm::NONEXISTENT.contains(&m),
            };
            if invented {
                if !value.is_orm() {
                    return;
                }
                let sync = &m[1..];
                let mut fixes = vec![];
                if dialect == Dialect::Django && awaited && ctx.await_ok() {
                    let aw = call.parent().expect("awaited call has a parent");
                    let src = py.src;
                    let renamed = format!("{}{sync}{}", &src[call.start_byte()..method.start_byte()], &src[method.end_byte()..call.end_byte()]);
                    fixes.push(Fix {
                        title: format!("Use `[x async for x in ….{sync}(…)]`"),
                        applicability: Applicability::Safe,
                        edits: vec![Edit::replace(aw.byte_range(), async_list(&renamed))],
                    });
                } else if !(dialect == Dialect::Django && awaited) {
                    fixes.push(Fix {
                        title: format!("Rename to `{sync}`"),
                        applicability: Applicability::Safe,
                        edits: vec![Edit::replace(method.byte_range(), sync)],
                    });
                }
                let how = if dialect == Dialect::Django && awaited { String::new() } else { format!(" (`{sync}()` is lazy)") };
                push(format!("`{recv}.{m}()` does not exist{how}"), fixes);
                return;
            }
            if dialect != Dialect::Django {
                return;
            }
            // Model.objects.adelete(): delete is QuerySet-only.
            if m == "adelete" && value == Value::Manager && version >= django::ASYNC_ORM {
                push(
                    format!("`{recv}.adelete()` does not exist (`delete` is QuerySet-only)"),
                    vec![Fix {
                        title: format!("Use `{recv}.all().adelete()`"),
                        applicability: Applicability::Safe,
                        edits: vec![Edit::insert(receiver.end_byte(), ".all()")],
                    }],
                );
                return;
            }
            // An `a*` name below the version that introduced it.
            let Some(twin) = django_api::async_twin_of(m) else { return };
            let since = match value {
                Value::Manager | Value::QuerySet => {
                    if django_api::INSTANCE_METHODS.iter().any(|t| t.async_name == m)
                        && django::queryset_terminal(twin.sync).is_none()
                    {
                        return;
                    }
                    twin.since
                }
                Value::RelatedManager => match django_api::related_terminal(twin.sync) {
                    Some(t) => t.since,
                    None => return,
                },
                Value::Instance => match django_api::instance_method(twin.sync) {
                    Some(t) => t.since,
                    None => return,
                },
                Value::Unknown => return,
            };
            // A floor is not a pin: the project may run a Django that has it. A project base
            // class may define it.
            if version >= since || cx.settings.django_version_is_floor || py.project_class_defines(m) {
                return;
            }
            let sync = twin.sync;
            let mut fixes = vec![];
            // `async for x in qs.aiterator()` cannot be wrapped; awaited calls can.
            if sync != "iterator" && ctx.await_ok() {
                if let Some(mut edits) = pyfix::sync_to_async_call(py, call) {
                    edits.push(Edit::replace(method.byte_range(), sync));
                    if value == Value::Manager && twin.queryset_only {
                        edits.push(Edit::insert(receiver.end_byte(), ".all()"));
                    }
                    fixes.push(Fix {
                        title: format!("Use `await sync_to_async({recv}.{sync})(…)`"),
                        applicability: Applicability::Safe,
                        edits,
                    });
                }
            }
            push(
                format!(
                    "`{recv}.{m}()` does not exist in Django {version} (added in {})",
                    fmt(since)
                ),
                fixes,
            );
        });
    }
}

/// `aget_object_or_404(…)` & co. below the version that introduced them: the import itself
/// fails. Reported at each awaited call; the fix calls the sync helper through
/// `sync_to_async` and rewrites the import to the sync name.
fn check_helpers(cx: &Ctx, out: &mut Vec<Finding>) {
    let Some(py) = cx.py else { return };
    let version = cx.settings.django_version;
    cx.for_each_match(QueryId::PyCalls, |caps| {
        let (Some(call), Some(func)) = (caps.get("call"), caps.get("function")) else { return };
        if func.kind() != "identifier" {
            return;
        }
        let name = py.node_text(func);
        let Some(h) = django_api::FUNCTIONS.iter().find(|h| h.async_name == name) else { return };
        let Some(path) = py.import_of(name) else { return };
        if version >= h.since
            || cx.settings.django_version_is_floor
            || !path.starts_with("django.")
            || py.binding(name, func.start_byte()).is_some()
        {
            return;
        }
        let module = &path[..path.len() - name.len() - 1];
        let mut fixes = vec![];
        if pyfix::is_awaited(call) && py.context_at(call.start_byte()).await_ok() {
            let mut edits = vec![Edit::replace(func.byte_range(), format!("sync_to_async({})", h.sync))];
            match import_rewrite(py, name, module, h.sync) {
                Some(e) => edits.push(e),
                None => return,
            }
            edits.extend(pyfix::ensure_import(py, "asgiref.sync", "sync_to_async"));
            fixes.push(Fix {
                title: format!("Use `await sync_to_async({})(…)`", h.sync),
                applicability: Applicability::Safe,
                edits,
            });
        }
        out.push(Finding::new(
            &META,
            call.byte_range(),
            format!(
                "`{name}` does not exist in Django {version} (added in {})",
                fmt(h.since),
            ),
            fixes,
        ));
    });
}

/// The edit that makes the module-level `from <module> import …, name, …` import `sync`
/// instead of `name` (the same edit for every call, so fix-all merges them).
fn import_rewrite(py: &crate::semantic::PyModel, name: &str, module: &str, sync: &str) -> Option<Edit> {
    let root = py.tree.root_node();
    let mut c = root.walk();
    for stmt in root.named_children(&mut c).filter(|n| n.kind() == "import_from_statement") {
        if stmt.child_by_field_name("module_name").map(|m| py.node_text(m)) != Some(module) {
            continue;
        }
        let mut c2 = stmt.walk();
        for n in stmt.children_by_field_name("name", &mut c2) {
            if n.kind() == "dotted_name" && py.node_text(n) == name {
                let already = py.imports.get(sync).is_some_and(|p| p == &format!("{module}.{sync}"));
                return Some(if already {
                    // The sync name is imported too: drop the async one and its comma.
                    let src = py.src.as_bytes();
                    let mut end = n.end_byte();
                    while end < src.len() && src[end] == b' ' {
                        end += 1;
                    }
                    if end < src.len() && src[end] == b',' {
                        end += 1;
                        while end < src.len() && src[end] == b' ' {
                            end += 1;
                        }
                        Edit::replace(n.start_byte()..end, "")
                    } else {
                        // The last name: remove the comma before it instead.
                        let mut start = n.start_byte();
                        while start > 0 && matches!(src[start - 1], b' ' | b',') {
                            start -= 1;
                        }
                        Edit::replace(start..n.end_byte(), "")
                    }
                } else {
                    Edit::replace(n.byte_range(), sync)
                });
            }
        }
    }
    None
}

fn fmt(v: Version) -> String {
    if v.2 == 0 { format!("{}.{}", v.0, v.1) } else { v.to_string() }
}

#[cfg(test)]
mod tests {
    use super::AG109_NAMES;
    use crate::dialects::{django, django_api, dorm};

    #[test]
    fn every_name_is_a_trigger() {
        let twins = django::QUERYSET_TERMINALS.iter().chain(django_api::RELATED_ONLY).chain(django_api::INSTANCE_METHODS);
        let names = twins
            .map(|t| t.async_name)
            .chain(django_api::NONEXISTENT_BUILDERS.iter().copied())
            .chain(dorm::NONEXISTENT.iter().copied())
            .chain(django_api::FUNCTIONS.iter().map(|h| h.async_name))
            .chain(["aatomic", "aload", "aiterator"]);
        for n in names {
            assert!(AG109_NAMES.contains(&n), "AG109 acts on `{n}`: add it to its triggers");
        }
    }
}
