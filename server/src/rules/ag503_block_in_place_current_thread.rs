//! AG503 block-in-place-current-thread: `tokio::task::block_in_place` in a function that
//! runs on a current-thread runtime (RULES.md §AG503, §3.9 R-c): `#[tokio::test]` without
//! `flavor = "multi_thread"`, `flavor = "current_thread"`, actix entry points and handlers.

use super::rust_util::is_awaited;
use super::{Ctx, Finding, FixAvailability, Rule, RuleMeta, Severity};
use crate::fix::{Applicability, Edit, Fix};
use crate::semantic::rust::RustModel;
use crate::syntax::Lang;
use tree_sitter::Node;

pub struct BlockInPlaceCurrentThread;

static META: RuleMeta = RuleMeta {
    code: "AG503",
    name: "block-in-place-current-thread",
    lang: Lang::Rust,
    severity: Severity::Error,
    fix: FixAvailability::Sometimes,
    triggers: &[&["block_in_place"]],
    summary: "`block_in_place` on a current-thread runtime panics",
    doc: r#"## AG503 block-in-place-current-thread

**What it catches.** `tokio::task::block_in_place(…)` in a function whose runtime is
current-thread: `#[tokio::test]` (its default flavor), `#[tokio::test(flavor =
"current_thread")]`, `#[tokio::main(flavor = "current_thread")]`, `#[actix_web::main]`,
`#[actix_rt::test]`, and actix-web handlers (`#[get(…)]`, `#[post(…)]` …).

**Why it is wrong.** It panics: "can call blocking only when running on the multi-threaded
runtime". `block_in_place` "cannot be used within a current_thread runtime"; actix workers
are current-thread runtimes.

**Example.**
```rust
#[tokio::test]                                    // defaults to current_thread
async fn migrates() {
    tokio::task::block_in_place(|| run_migrations()); // AG503
}
```

**Fix.**
- Under `#[tokio::test]`: `#[tokio::test(flavor = "multi_thread")]` (safe). Not offered with
  `start_paused`, which needs the current-thread runtime.
- Under an explicit `flavor = "current_thread"`: switch it to `"multi_thread"` (unsafe: the
  author chose it).
- Elsewhere: `tokio::task::spawn_blocking(f).await.unwrap()` (unsafe: the closure must be
  `'static`).

**Stays silent on** `#[should_panic]` tests (they assert the panic), `#[tokio::main]` and `flavor = "multi_thread"` (multi-thread runtimes),
and functions with no runtime attribute (their runtime is unknown).

**Suppress** with `// awaitguard: ignore[AG503]` on the line.
"#,
};

/// The runtime a function's attributes give it.
enum Flavor<'t> {
    /// `#[tokio::test]` with no flavor: the attribute, and its argument token tree if any.
    TestDefault { attr: Node<'t>, args: Option<Node<'t>> },
    /// An explicit `flavor = "current_thread"` string.
    Explicit { string: Node<'t> },
    /// actix entry points and handlers.
    Actix,
}

impl Rule for BlockInPlaceCurrentThread {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Ctx, out: &mut Vec<Finding>) {
        let Some(rs) = cx.rs else { return };
        rs.path_calls.iter().for_each(|&(call, path)| {
            let p = rs.node_text(path);
            let ok = match p.rsplit_once("::") {
                Some((pre, "block_in_place")) => {
                    pre == "tokio::task" || pre == "task" && rs.imports.get("task").is_some_and(|i| i == "tokio::task")
                }
                None if p == "block_in_place" => {
                    rs.imports.get("block_in_place").is_some_and(|i| i == "tokio::task::block_in_place")
                }
                _ => false,
            };
            // A `#[should_panic]` test asserts this very panic.
            if !ok || rs.in_offloaded(call.start_byte()) || rs.fn_has_attr(call.start_byte(), "should_panic") {
                return;
            }
            let Some(fs) = rs.fn_scope_at(call.start_byte()) else { return };
            let Some(flavor) = flavor_of(rs, fs) else { return };
            let mut fixes = vec![];
            let why = match &flavor {
                Flavor::TestDefault { .. } => "the default runtime of `#[tokio::test]`",
                Flavor::Explicit { .. } => "a `flavor = \"current_thread\"` runtime",
                Flavor::Actix => "an actix worker's runtime",
            };
            match flavor {
                Flavor::TestDefault { attr, args } => {
                    let start_paused = args.is_some_and(|a| rs.node_text(a).contains("start_paused"));
                    if !start_paused {
                        let edit = match args {
                            None => Edit::insert(attr.end_byte(), "(flavor = \"multi_thread\")"),
                            Some(a) => Edit::insert(a.start_byte() + 1, "flavor = \"multi_thread\", "),
                        };
                        fixes.push(Fix {
                            title: "Use `#[tokio::test(flavor = \"multi_thread\")]`".into(),
                            applicability: Applicability::Safe,
                            edits: vec![edit],
                        });
                    }
                }
                Flavor::Explicit { string } => fixes.push(Fix {
                    title: "Switch the runtime to `flavor = \"multi_thread\"`".into(),
                    applicability: Applicability::Unsafe,
                    edits: vec![Edit::replace(string.byte_range(), "\"multi_thread\"")],
                }),
                Flavor::Actix => {}
            }
            if fixes.iter().all(|f| f.applicability != Applicability::Safe)
                && rs.context_at(call.start_byte()).await_ok()
                && !is_awaited(call)
            {
                let mut edits = vec![Edit::replace(path.byte_range(), "tokio::task::spawn_blocking")];
                edits.push(Edit::insert(call.end_byte(), ".await.unwrap()"));
                fixes.push(Fix {
                    title: "Use `tokio::task::spawn_blocking(…).await`".into(),
                    applicability: Applicability::Unsafe,
                    edits,
                });
            }
            out.push(Finding::new(
                &META,
                call.byte_range(),
                format!("`block_in_place` panics on {why}, which is current-thread"),
                fixes,
            ));
        });
    }
}

/// The current-thread flavor of the function scope `fs`, from its attributes; `None` for
/// multi-thread or unknown runtimes.
fn flavor_of<'t>(rs: &RustModel<'t>, fs: usize) -> Option<Flavor<'t>> {
    let uses_actix = rs.uses("actix_web") || rs.uses("actix_rt");
    for item in &rs.scopes[fs].attrs {
        let Some(attr) = item.named_children(&mut item.walk()).find(|c| c.kind() == "attribute") else { continue };
        let Some(path) = attr.named_child(0) else { continue };
        let p = rs.node_text(path);
        let args = attr.child_by_field_name("arguments");
        let flavor_string = args.and_then(|a| {
            let mut c = a.walk();
            let kids: Vec<Node> = a.named_children(&mut c).collect();
            kids.windows(2)
                .find(|w| rs.node_text(w[0]) == "flavor" && w[1].kind() == "string_literal")
                .map(|w| w[1])
                .or_else(|| {
                    // `flavor = "…"`: identifier, `=`, string (the `=` is anonymous).
                    kids.iter().position(|k| rs.node_text(*k) == "flavor").and_then(|i| kids.get(i + 1).copied())
                })
        });
        let is_tokio = |name: &str| p == format!("tokio::{name}") || (p == name && rs.imports.get(name).is_some_and(|i| i == &format!("tokio::{name}")));
        if is_tokio("test") || is_tokio("main") {
            match flavor_string {
                Some(s) if rs.node_text(s) == "\"current_thread\"" => return Some(Flavor::Explicit { string: s }),
                Some(_) => return None,
                None if is_tokio("test") => return Some(Flavor::TestDefault { attr: path, args }),
                None => return None,
            }
        }
        if p.starts_with("actix_web::") || p.starts_with("actix_rt::") || p.starts_with("actix::") {
            return Some(Flavor::Actix);
        }
        if uses_actix
            && matches!(p, "get" | "post" | "put" | "delete" | "patch" | "head" | "route" | "routes")
            && rs.imports.get(p).is_some_and(|i| i.starts_with("actix_web"))
        {
            return Some(Flavor::Actix);
        }
    }
    None
}
