//! AG502 nested-block-on: `block_on` on a tokio runtime or handle, or
//! `futures::executor::block_on`, in async context (RULES.md §AG502, §3.9 R-d).
//!
//! Receivers must resolve to a tokio `Runtime` / `Handle` (`Runtime::new()`,
//! `Handle::current()`, a runtime `Builder` chain, a binding or field of those types);
//! free functions must be futures' `block_on` (by path or import).

use super::rust_util::{args_of, is_awaited};
use super::{short, Ctx, Finding, FixAvailability, Rule, RuleMeta, Severity};
use crate::fix::{Applicability, Edit, Fix};
use crate::semantic::rust::Kind;
use crate::semantic::rust::method_parts;
use crate::syntax::Lang;
use tree_sitter::Node;

pub struct NestedBlockOn;

static META: RuleMeta = RuleMeta {
    code: "AG502",
    name: "nested-block-on",
    lang: Lang::Rust,
    severity: Severity::Error,
    fix: FixAvailability::Sometimes,
    triggers: &[&["async"], &["block_on"]],
    summary: "`block_on` inside async code",
    doc: r#"## AG502 nested-block-on

**What it catches.** In async context: `Runtime::new()…block_on(fut)`,
`Handle::current().block_on(fut)`, `rt.block_on(fut)` on a tokio runtime or handle, and
`futures::executor::block_on(fut)`.

**Why it is wrong.** Tokio's `block_on` on a runtime thread panics with "Cannot start a
runtime from within a runtime. This happens because a function (like `block_on`) attempted
to block the current thread while the thread is being used to drive asynchronous tasks."
`futures::executor::block_on` parks the worker thread until the future completes: it
blocks, and deadlocks if the future needs that thread.

**Example.**
```rust
async fn load(client: &tokio_postgres::Client) -> Vec<tokio_postgres::Row> {
    futures::executor::block_on(client.query("SELECT 1", &[])).unwrap() // AG502
}
```

**Fix (safe).** Await the future: `client.query("SELECT 1", &[]).await.unwrap()`. Offered
only where `.await` is legal (not inside a sync closure).

**Stays silent on** `#[should_panic]` tests, `block_on` in sync code (`fn main`), and inside closures given to
`spawn_blocking`, `block_in_place` or `std::thread::spawn` (the usual correct bridge).

**Suppress** with `// awaitguard: ignore[AG502]` on the line.
"#,
};

impl Rule for NestedBlockOn {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Ctx, out: &mut Vec<Finding>) {
        let Some(rs) = cx.rs else { return };
        let mut hits: Vec<(Node, Node, String)> = Vec::new();
        rs.method_calls.iter().for_each(|&call| {
            let Some(args) = call.child_by_field_name("arguments") else { return };
            let Some((receiver, method)) = method_parts(call) else { return };
            if rs.node_text(method) != "block_on" || is_awaited(call) {
                return;
            }
            let args = args_of(args);
            if args.len() != 1 || rs.kind_of(receiver) != Kind::Runtime {
                return;
            }
            hits.push((call, args[0], format!("{}.block_on(…)", short(rs.node_text(receiver), 32))));
        });
        rs.path_calls.iter().for_each(|&(call, path)| {
            let Some(args) = call.child_by_field_name("arguments") else { return };
            let p = rs.node_text(path);
            let last = p.rsplit("::").next().unwrap_or(p);
            if last != "block_on" {
                return;
            }
            let futures_path = |s: &str| {
                s.starts_with("futures::executor::")
                    || s.starts_with("futures_executor::")
                    || s.starts_with("executor::") && rs.imports.get("executor").is_some_and(|i| i.starts_with("futures"))
            };
            let ok = if p.contains("::") {
                futures_path(p)
            } else {
                rs.imports.get("block_on").is_some_and(|i| futures_path(i))
            };
            let args = args_of(args);
            if !ok || args.len() != 1 {
                return;
            }
            hits.push((call, args[0], format!("{p}(…)")));
        });
        for (call, fut, what) in hits {
            let ctx = rs.context_at(call.start_byte());
            if !ctx.is_async() || rs.fn_has_attr(call.start_byte(), "should_panic") {
                continue;
            }
            let message = format!("`{what}` blocks on a future inside async code");
            let mut fixes = vec![];
            if ctx.await_ok() {
                let ft = rs.node_text(fut);
                let postfix = matches!(
                    fut.kind(),
                    "call_expression" | "identifier" | "field_expression" | "macro_invocation" | "parenthesized_expression"
                        | "await_expression" | "index_expression" | "scoped_identifier"
                );
                let text = if postfix { format!("{ft}.await") } else { format!("({ft}).await") };
                fixes.push(Fix {
                    title: "Replace `block_on(fut)` with `fut.await`".into(),
                    applicability: Applicability::Safe,
                    edits: vec![Edit::replace(call.byte_range(), text)],
                });
            }
            out.push(Finding::new(&META, call.byte_range(), message, fixes));
        }
    }
}
