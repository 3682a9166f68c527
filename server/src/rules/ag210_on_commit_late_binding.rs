//! AG210 on-commit-late-binding: `transaction.on_commit(lambda: …)` in a `for` loop, the
//! lambda reading the loop variable (RULES.md §AG210).
//!
//! Invariants:
//! - `on_commit` resolves through the imports ([`super::ag209_on_commit_called_not_passed::ON_COMMIT`]);
//!   its first positional argument is a `lambda` written right there.
//! - The loops are the `for` / `async for` statements around the call, in the same function
//!   (the walk stops at a `def`, `lambda` or `class`), with the call in their body (not their
//!   `else:`). Their targets' plain names are the loop variables.
//! - A loop does not count when an atomic block inside it holds the call and no atomic block
//!   holds the loop: each iteration's block commits before the next iteration rebinds the
//!   variable, so the hook sees its own value.
//! - Reads are identifiers of the lambda's body (not an attribute name or a keyword argument's
//!   name); a name the lambda or anything inside it binds (a parameter, a comprehension
//!   target) is not a read of the loop variable.
//! - The fix (safe) binds the values as defaults: `lambda user=user: …`; not offered when the
//!   lambda takes `**kwargs` (nothing may follow it).

use super::ag209_on_commit_called_not_passed::ON_COMMIT;
use super::{Ctx, Finding, FixAvailability, Rule, RuleMeta, Severity};
use crate::fix::{Applicability, Edit, Fix};
use crate::semantic::PyModel;
use crate::syntax::{Lang, QueryId};
use tree_sitter::Node;

pub struct OnCommitLateBinding;

static META: RuleMeta = RuleMeta {
    code: "AG210",
    name: "on-commit-late-binding",
    lang: Lang::Python,
    severity: Severity::Warning,
    fix: FixAvailability::Sometimes,
    triggers: &[&["on_commit"], &["for"], &["lambda"]],
    summary: "`on_commit` lambda in a loop reads the loop variable at commit time",
    doc: r#"## AG210 on-commit-late-binding

**What it catches.** `transaction.on_commit(lambda: …)` inside a `for` loop, where the
lambda reads the loop variable.

**Why it is wrong.** A lambda looks its free names up when it runs, not when it is made. The
hooks run at COMMIT, after the loop has finished: every one of them sees the loop variable's
last value (the last user is notified N times, the others never).

**Example.**
```python
with transaction.atomic():
    for user in users:
        user.save()
        transaction.on_commit(lambda: notify(user.pk))      # AG210
```

**Fix (safe).** Bind the value when the hook is registered:
```python
        transaction.on_commit(lambda user=user: notify(user.pk))
```
(or `functools.partial(notify, user.pk)`). `on_commit` calls the hook with no arguments, so
the default is what it sees.

**Stays silent on** lambdas that bind the variable as a default, `partial(…)`, lambdas that
do not read the loop variable, and a loop whose every iteration has its own
`with transaction.atomic():` around the hook (it commits, and the hook runs, before the
variable changes) unless an outer atomic block holds the loop.
"#,
};

impl Rule for OnCommitLateBinding {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Ctx, out: &mut Vec<Finding>) {
        let Some(py) = cx.py else { return };
        let mut regions = None;
        cx.for_each_match(QueryId::PyCalls, |caps| {
            let (Some(call), Some(func), Some(args)) = (caps.get("call"), caps.get("function"), caps.get("args")) else {
                return;
            };
            if !py.resolves_to(func, ON_COMMIT) {
                return;
            }
            let mut c = args.walk();
            let Some(lambda) = args.named_children(&mut c).find(|a| a.kind() != "comment").filter(|a| a.kind() == "lambda") else {
                return;
            };
            let regions = regions.get_or_insert_with(|| py.atomic_regions());
            let mut names: Vec<&str> = vec![];
            for lp in loops_around(call) {
                let committed_per_iteration = regions.iter().any(|r| {
                    r.body.contains(&call.start_byte()) && r.body.start > lp.start_byte() && r.body.end <= lp.end_byte()
                }) && !regions.iter().any(|r| r.body.start <= lp.start_byte() && r.body.end >= lp.end_byte());
                if committed_per_iteration {
                    continue;
                }
                if let Some(left) = lp.child_by_field_name("left") {
                    for n in target_names(py, left) {
                        if !names.contains(&n) && reads(py, lambda, n) {
                            names.push(n);
                        }
                    }
                }
            }
            if names.is_empty() {
                return;
            }
            let list = names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ");
            let message = format!("The `on_commit` lambda reads loop variable {list} at commit, when it holds the last value");
            let fixes = bind_edit(py, lambda, &names)
                .map(|e| {
                    let bound = names.iter().map(|n| format!("{n}={n}")).collect::<Vec<_>>().join(", ");
                    vec![Fix {
                        title: format!("Bind the value now: `lambda {bound}: …`"),
                        applicability: Applicability::Safe,
                        edits: vec![e],
                    }]
                })
                .unwrap_or_default();
            out.push(Finding::new(&META, lambda.byte_range(), message, fixes));
        });
    }
}

/// The `for` statements around `n` with `n` in their body, innermost first, up to the
/// enclosing function, lambda or class.
fn loops_around(n: Node) -> Vec<Node> {
    let mut out = vec![];
    let mut child = n;
    let mut p = n.parent();
    while let Some(x) = p {
        match x.kind() {
            "function_definition" | "lambda" | "class_definition" => break,
            "for_statement" if x.child_by_field_name("body").is_some_and(|b| b.id() == child.id()) => out.push(x),
            _ => {}
        }
        child = x;
        p = x.parent();
    }
    out
}

/// The plain names a `for` target binds (`user`, `k, v`, `(i, (a, b))`).
fn target_names<'t>(py: &PyModel<'t>, left: Node<'t>) -> Vec<&'t str> {
    let mut out = vec![];
    let mut stack = vec![left];
    while let Some(n) = stack.pop() {
        match n.kind() {
            "identifier" => out.push(py.node_text(n)),
            "pattern_list" | "tuple_pattern" | "list_pattern" | "parenthesized_expression" | "tuple" | "list" | "list_splat_pattern" => {
                let mut c = n.walk();
                stack.extend(n.named_children(&mut c));
            }
            _ => {}
        }
    }
    out
}

/// The lambda's body reads the free name `name`: an identifier `name` that is not an
/// attribute or keyword name, and neither the lambda nor anything inside it binds `name`.
fn reads(py: &PyModel, lambda: Node, name: &str) -> bool {
    if let Some(params) = lambda.child_by_field_name("parameters") {
        if binds(py, params, name) {
            return false;
        }
    }
    let Some(body) = lambda.child_by_field_name("body") else { return false };
    let mut found = false;
    let mut stack = vec![body];
    while let Some(n) = stack.pop() {
        match n.kind() {
            "lambda_parameters" | "for_in_clause" => {
                let target = if n.kind() == "for_in_clause" { n.child_by_field_name("left") } else { Some(n) };
                if target.is_some_and(|t| binds(py, t, name)) {
                    return false;
                }
            }
            "identifier" if py.node_text(n) == name => {
                let parent = n.parent();
                let is_field = |f: &str| parent.and_then(|p| p.child_by_field_name(f)).is_some_and(|c| c.id() == n.id());
                let attr_name = parent.is_some_and(|p| p.kind() == "attribute") && is_field("attribute");
                let kw_name = parent.is_some_and(|p| p.kind() == "keyword_argument") && is_field("name");
                if !attr_name && !kw_name {
                    found = true;
                }
            }
            _ => {}
        }
        let mut c = n.walk();
        stack.extend(n.children(&mut c));
    }
    found
}

/// Some identifier under `n` is `name` (a parameter or target list).
fn binds(py: &PyModel, n: Node, name: &str) -> bool {
    let mut stack = vec![n];
    while let Some(x) = stack.pop() {
        if x.kind() == "identifier" && py.node_text(x) == name {
            return true;
        }
        let mut c = x.walk();
        stack.extend(x.named_children(&mut c));
    }
    false
}

/// The edit adding `name=name` defaults to the lambda's parameters.
fn bind_edit(py: &PyModel, lambda: Node, names: &[&str]) -> Option<Edit> {
    let bound = names.iter().map(|n| format!("{n}={n}")).collect::<Vec<_>>().join(", ");
    match lambda.child_by_field_name("parameters") {
        None => {
            let kw = lambda.child(0).filter(|k| k.kind() == "lambda")?;
            Some(Edit::insert(kw.end_byte(), format!(" {bound}")))
        }
        Some(params) => {
            let mut c = params.walk();
            if params.named_children(&mut c).any(|p| p.kind() == "dictionary_splat_pattern") {
                return None;
            }
            let _ = py;
            Some(Edit::insert(params.end_byte(), format!(", {bound}")))
        }
    }
}
