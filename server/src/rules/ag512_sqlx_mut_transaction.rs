//! AG512 sqlx-mut-transaction: `.execute(&mut tx)` on a sqlx `Transaction`, a compile error
//! since sqlx 0.7 (RULES.md §AG512, §3.9 R-h).
//!
//! Invariants: fires only when the project's `Cargo.lock` pins sqlx ≥ 0.7 (every version it
//! lists; no lock: silent), on an executor method (`execute`, `fetch*`) whose one argument is
//! `&mut name` with `name` a sqlx transaction ([`tx_named`]). The fix follows the binding's
//! type: `&mut *tx` for an owned transaction, `&mut **tx` for a `&mut Transaction` parameter.

use super::ag510_transaction_not_committed::{tx_named, TxFlavor};
use super::rust_util::args_of;
use super::{Ctx, Finding, FixAvailability, Rule, RuleMeta, Severity};
use crate::dialects::{rust_crates as rc, Version};
use crate::fix::{Applicability, Edit, Fix};
use crate::semantic::rust::method_parts;
use crate::settings::Settings;
use crate::syntax::Lang;

pub struct SqlxMutTransaction;

/// The release that deleted `Executor` for `&mut Transaction` (sqlx CHANGELOG 0.7.0).
const SQLX_07: Version = Version(0, 7, 0);

static META: RuleMeta = RuleMeta {
    code: "AG512",
    name: "sqlx-mut-transaction",
    lang: Lang::Rust,
    severity: Severity::Error,
    fix: FixAvailability::Always,
    triggers: &[&["execute", "execute_many", "fetch", "fetch_one", "fetch_optional", "fetch_all", "fetch_many"]],
    summary: "`&mut tx` is not an executor since sqlx 0.7: use `&mut *tx`",
    doc: r#"## AG512 sqlx-mut-transaction

**What it catches.** With sqlx 0.7 or later (from the project's `Cargo.lock`), a query run
on `&mut tx` where `tx` is a sqlx `Transaction`: `.execute(&mut tx)`, `.fetch_one(&mut tx)` …

**Why it is wrong.** sqlx 0.7 deleted the `Executor` impls for `Transaction` ("`&mut
transaction` -> `&mut *transaction`", CHANGELOG 0.7.0): the crate no longer compiles. The
value of this rule is the fix, in the editor, before a build.

**Example.**
```rust
sqlx::query("DELETE FROM carts").execute(&mut tx).await?;   // AG512
sqlx::query("DELETE FROM carts").execute(&mut *tx).await?;  // fixed
```

**Fix (safe).** `&mut *tx`; `&mut **tx` when `tx` is a `&mut Transaction` parameter.

**Stays silent on** sqlx before 0.7, a project without a `Cargo.lock` that pins sqlx, and
`&mut *tx` / `&mut **tx`.

**Suppress** with `// awaitguard: ignore[AG512]` on the line.
"#,
};

impl Rule for SqlxMutTransaction {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn possible(&self, settings: &Settings) -> bool {
        settings.sqlx_versions.is_some_and(|(lo, _)| lo >= SQLX_07)
    }

    fn check(&self, cx: &Ctx, out: &mut Vec<Finding>) {
        let Some(rs) = cx.rs else { return };
        if !self.possible(cx.settings) {
            return;
        }
        for &call in &rs.method_calls {
            let Some((_, m)) = method_parts(call) else { continue };
            let m = rs.node_text(m);
            if !rc::SQLX_EXEC_METHODS.contains(&m) {
                continue;
            }
            let Some(args) = call.child_by_field_name("arguments") else { continue };
            let args = args_of(args);
            let [arg] = args[..] else { continue };
            if arg.kind() != "reference_expression" || !rs.node_text(arg).starts_with("&mut") {
                continue;
            }
            let Some(v) = arg.child_by_field_name("value").filter(|v| v.kind() == "identifier") else { continue };
            let name = rs.node_text(v);
            let Some((TxFlavor::Sqlx, by_ref)) = tx_named(rs, name, v.start_byte()) else { continue };
            let fixed = if by_ref { format!("&mut **{name}") } else { format!("&mut *{name}") };
            out.push(Finding::new(
                &META,
                arg.byte_range(),
                format!("`&mut {name}` is not an executor since sqlx 0.7"),
                vec![Fix {
                    title: format!("Use `{fixed}`"),
                    applicability: Applicability::Safe,
                    edits: vec![Edit::replace(arg.byte_range(), fixed)],
                }],
            ));
        }
    }
}
