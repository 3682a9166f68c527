//! AG110 await-on-queryset: `await <Django queryset>` raises `TypeError: object QuerySet
//! can't be used in 'await' expression` (RULES.md §AG110). dorm querysets are awaitable:
//! silent there.

use super::orm_fix::{async_list, sync_list};
use super::{short, Ctx, Finding, FixAvailability, Rule, RuleMeta, Severity};
use crate::dialects::django::ASYNC_ORM;
use crate::fix::{Applicability, Edit, Fix};
use crate::semantic::instances::{strip_parens, Dialect, Value};
use crate::syntax::{Lang, QueryId};

pub struct AwaitOnQueryset;

static META: RuleMeta = RuleMeta {
    code: "AG110",
    name: "await-on-queryset",
    lang: Lang::Python,
    severity: Severity::Error,
    fix: FixAvailability::Sometimes,
    triggers: &[&["await"]],
    summary: "`await` on a Django QuerySet (not awaitable)",
    doc: r#"## AG110 await-on-queryset

**What it catches.** `await Book.objects.filter(…)` (or `await qs` for any Django queryset).

**Why it is wrong.** A Django `QuerySet` has no `__await__`: `TypeError: object QuerySet
can't be used in 'await' expression`.

**Fix.** `[b async for b in Book.objects.filter(…)]` (Django 4.1+); below 4.1
`await sync_to_async(list)(Book.objects.filter(…))`.

**Stays silent on** dorm (its QuerySet is awaitable), `await qs.afirst()` and other `a*`
calls, and non-Django code.

**Suppress** with `# awaitguard: ignore[AG110]` or `# noqa: AG110` on the line.
"#,
};

impl Rule for AwaitOnQueryset {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Ctx, out: &mut Vec<Finding>) {
        let Some(py) = cx.py else { return };
        if py.dialect() != Dialect::Django {
            return;
        }
        cx.for_each_match(QueryId::PyEvaluations, |caps| {
            let (Some(aw), Some(inner)) = (caps.get("await"), caps.get("awaited")) else { return };
            let qs = strip_parens(inner);
            if py.value(qs) != Value::QuerySet {
                return;
            }
            let text = py.node_text(qs);
            let ctx = py.context_at(aw.start_byte());
            let mut fixes = vec![];
            if ctx.await_ok() {
                if cx.settings.django_version < ASYNC_ORM {
                    let (t, import) = sync_list(py, text);
                    let mut edits = vec![Edit::replace(aw.byte_range(), t)];
                    edits.extend(import);
                    fixes.push(Fix { title: "Use `await sync_to_async(list)(…)`".into(), applicability: Applicability::Safe, edits });
                } else {
                    fixes.push(Fix {
                        title: "Materialise with an async comprehension".into(),
                        applicability: Applicability::Safe,
                        edits: vec![Edit::replace(aw.byte_range(), async_list(text))],
                    });
                }
            }
            out.push(Finding::new(
                &META,
                aw.byte_range(),
                format!("`await {}` awaits a QuerySet, which is not awaitable", short(text, 40)),
                fixes,
            ));
        });
    }
}
