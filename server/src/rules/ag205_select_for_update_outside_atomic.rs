//! AG205 select-for-update-outside-atomic: a Django queryset chain holding
//! `select_for_update(…)` evaluated where no transaction can be open (RULES.md §AG205).
//!
//! - Async code: the terminal is an awaited `a*` call or an `async for`. There is no way to be
//!   inside `atomic` there. Fix: X1 over the rest of the function body (the lock must be held
//!   for the work after it), unsafe; none where X1 is not correct.
//! - Sync code, outside every `atomic` block and `@atomic` function of the same scope, and only
//!   where no caller can hold a transaction: module level, a function run through
//!   `sync_to_async` / `to_thread` (a fresh thread in autocommit), or a function that itself
//!   opens `atomic` elsewhere (its author manages transactions there). A plain sync helper is
//!   silent: its caller may hold the transaction (or `ATOMIC_REQUESTS`). No fix in sync code.
//!
//! The chain is followed through plain assignments (`qs = X.objects.select_for_update()`),
//! bounded in depth.

use super::{short, Ctx, Finding, FixAvailability, Rule, RuleMeta, Severity};
use crate::dialects::django;
use crate::fix::extract::{self, sync_twin};
use crate::semantic::transactions::has_async_token;
use crate::semantic::{Context, PyModel, ScopeKind};
use crate::syntax::{Lang, QueryId};
use tree_sitter::Node;

pub struct SelectForUpdateOutsideAtomic;

static META: RuleMeta = RuleMeta {
    code: "AG205",
    name: "select-for-update-outside-atomic",
    lang: Lang::Python,
    severity: Severity::Error,
    fix: FixAvailability::Sometimes,
    triggers: &[&["select_for_update"]],
    summary: "`select_for_update()` evaluated outside a transaction",
    doc: r#"## AG205 select-for-update-outside-atomic

**What it catches.** A queryset with `select_for_update(…)` evaluated outside a transaction:
- in async code (`await X.objects.select_for_update().aget(…)`, `async for` over it): Django
  has no async transaction, so it can never be inside `atomic` there;
- in sync code outside every `with transaction.atomic():` block and `@transaction.atomic`
  function, at module level, in a function run through `sync_to_async` / `to_thread`, or in
  a function that opens `atomic` elsewhere but not around this query.

**Why it is wrong.** PostgreSQL, MySQL and Oracle raise
`TransactionManagementError: select_for_update cannot be used outside of a transaction.`
SQLite silently ignores it: no lock is taken. `TestCase` hides the bug, because every test
runs inside a transaction.

**Example.**
```python
async def reserve(seat_id):
    seat = await Seat.objects.select_for_update().aget(pk=seat_id)   # AG205
    seat.taken = True
    await seat.asave()
```

**Fix (async, unsafe: review).** Move the locking query and the rest of the function into a
sync `@transaction.atomic` function awaited through `sync_to_async`:
```python
@transaction.atomic
def _reserve_atomic(seat_id):
    seat = Seat.objects.select_for_update().get(pk=seat_id)
    seat.taken = True
    seat.save()


async def reserve(seat_id):
    await sync_to_async(_reserve_atomic)(seat_id)
```
No fix when that code awaits anything other than ORM calls or `sync_to_async` wrappers.
In sync code: wrap the query and the work under the lock in `with transaction.atomic():`.

**Stays silent on** `select_for_update` inside a sync `@transaction.atomic` function or a
`with transaction.atomic():` block, in sync helpers whose callers may hold the transaction,
and on a lazy `select_for_update()` queryset that is never evaluated.
"#,
};

impl Rule for SelectForUpdateOutsideAtomic {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Ctx, out: &mut Vec<Finding>) {
        let Some(py) = cx.py else { return };
        // Every finding needs a `….select_for_update(…)` call (see `has_select_for_update`):
        // without one, neither the queries nor the atomic regions are worth computing.
        if !py.imports_django || !calls_select_for_update(py) {
            return;
        }
        let regions = std::cell::OnceCell::new();
        let regions = || regions.get_or_init(|| py.atomic_regions());
        let mut report = |node: Node, is_async_form: bool| {
            let ctx = py.context_at(node.start_byte());
            let (message, fixes) = match ctx {
                Context::Async { func, blocker } => {
                    if !is_async_form {
                        return;
                    }
                    let m = format!(
                        "`{}` locks rows with `select_for_update()` in async code, where no transaction is open",
                        short(py.node_text(node), 40)
                    );
                    let mut fixes = vec![];
                    // Why there is no fix is in the rule doc, not the message (issue 22).
                    if blocker.is_none() {
                        if let Ok(f) = extract::x1_for_tail(py, node.start_byte(), func) {
                            fixes.push(f);
                        }
                    }
                    (m, fixes)
                }
                Context::Sync => {
                    if is_async_form || py.atomic_at(regions(), node.start_byte()).is_some() {
                        return;
                    }
                    let scope = py.scope_at(node.start_byte());
                    let s = &py.scopes[scope];
                    let outside_any_caller = s.kind == ScopeKind::Module
                        || s.offloaded
                        || (s.kind == ScopeKind::Function && regions().iter().any(|r| r.scope == scope));
                    if !outside_any_caller {
                        return;
                    }
                    let m = format!(
                        "`{}` locks rows with `select_for_update()` outside `transaction.atomic`",
                        short(py.node_text(node), 48)
                    );
                    (m, vec![])
                }
            };
            out.push(Finding::new(&META, node.byte_range(), message, fixes));
        };
        cx.for_each_match(QueryId::PyMethodCalls, |caps| {
            let (Some(call), Some(method), Some(receiver)) = (caps.get("call"), caps.get("method"), caps.get("receiver"))
            else {
                return;
            };
            let m = py.node_text(method);
            let is_async_form = m != "aiterator" && sync_twin(m).is_some() && !matches!(m, "asave" | "arefresh_from_db");
            let is_sync_form = django::queryset_terminal(m).is_some();
            if !(is_async_form && call.parent().is_some_and(|p| p.kind() == "await") || is_sync_form) {
                return;
            }
            // The chain test is syntax; the receiver may ask the project model.
            if !has_select_for_update(py, receiver) || !py.receiver(receiver).is_orm() {
                return;
            }
            report(call, is_async_form);
        });
        cx.for_each_match(QueryId::PyForStatements, |caps| {
            let (Some(for_), Some(iter)) = (caps.get("for"), caps.get("iter")) else { return };
            if !has_select_for_update(py, iter) || !py.receiver(iter).is_orm() {
                return;
            }
            report(iter, has_async_token(for_));
        });
    }
}

/// True when the queryset chain `n` holds `.select_for_update(…)`, following plain
/// assignments of names (bounded).
/// Whether the tree holds a call whose function is an attribute `select_for_update`, the
/// node [`has_select_for_update`] needs to answer true. Found from the text: each occurrence
/// of the name, the nodes spanning exactly it, and their parents.
fn calls_select_for_update(py: &PyModel) -> bool {
    const NAME: &str = "select_for_update";
    let root = py.tree.root_node();
    py.src.match_indices(NAME).any(|(i, _)| {
        let mut n = root.descendant_for_byte_range(i, i + NAME.len());
        while let Some(node) = n.filter(|n| n.byte_range() == (i..i + NAME.len())) {
            let Some(attr) = node.parent() else { return false };
            let is_call = attr.kind() == "attribute"
                && attr.child_by_field_name("attribute") == Some(node)
                && attr.parent().is_some_and(|c| c.kind() == "call" && c.child_by_field_name("function") == Some(attr));
            if is_call {
                return true;
            }
            n = Some(attr);
        }
        false
    })
}

fn has_select_for_update(py: &PyModel, n: Node) -> bool {
    let mut cur = n;
    for _ in 0..32 {
        match cur.kind() {
            "call" => {
                let Some(f) = cur.child_by_field_name("function").filter(|f| f.kind() == "attribute") else { return false };
                if f.child_by_field_name("attribute").is_some_and(|a| py.node_text(a) == "select_for_update") {
                    return true;
                }
                match f.child_by_field_name("object") {
                    Some(o) => cur = o,
                    None => return false,
                }
            }
            "subscript" => match cur.child_by_field_name("value") {
                Some(v) => cur = v,
                None => return false,
            },
            "parenthesized_expression" => match cur.named_child(0) {
                Some(v) => cur = v,
                None => return false,
            },
            "identifier" => match py.binding(py.node_text(cur), cur.start_byte()).and_then(|b| b.value) {
                Some(v) if v.start_byte() < cur.start_byte() => cur = v,
                _ => return false,
            },
            _ => return false,
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::LineIndex;

    fn calls(src: &str) -> bool {
        let tree = crate::syntax::parse(Lang::Python, src, None);
        let index = LineIndex::new(src);
        calls_select_for_update(&PyModel::build(src, &tree, &index))
    }

    #[test]
    fn only_attribute_calls_count() {
        assert!(calls("X.objects.select_for_update().get()\n"));
        assert!(calls("qs = (X.objects\n    .select_for_update  # lock\n    (nowait=True))\n"));
        assert!(calls("a = 'select_for_update'\nb = x.select_for_update_of\nc = y.select_for_update(of=('self',))\n"));
        assert!(!calls("self.select_for_update = False\nq.select_for_update\nselect_for_update()\nx.select_for_update_of()\n"));
        assert!(!calls("# x.select_for_update()\ns = 'x.select_for_update()'\n"));
    }
}
