//! AG514 transaction-end-not-awaited: `tx.commit();` / `tx.rollback();` on an async
//! transaction (sqlx, sea-orm, tokio-postgres) without `.await`: the future is dropped, so
//! nothing is sent and the transaction is rolled back when dropped.
//!
//! Invariants: fires on a statement whose value is the call itself (`tx.commit();`,
//! `let _ = tx.commit();`, `tx.commit()?;`), never on a call that is awaited, returned,
//! bound to a name or passed on (someone may await it later). The receiver must be a
//! transaction of an async crate ([`tx_named`]), and the call in async context (the fix adds
//! `.await`, which is valid only there).

use super::ag510_transaction_not_committed::{tx_named, TxFlavor};
use super::{Ctx, Finding, FixAvailability, Rule, RuleMeta, Severity};
use crate::fix::{Applicability, Edit, Fix};
use crate::semantic::rust::method_parts;
use crate::syntax::Lang;

pub struct TransactionEndNotAwaited;

static META: RuleMeta = RuleMeta {
    code: "AG514",
    name: "transaction-end-not-awaited",
    lang: Lang::Rust,
    severity: Severity::Error,
    fix: FixAvailability::Always,
    triggers: &[&["commit", "rollback"]],
    summary: "`tx.commit()` without `.await` commits nothing",
    doc: r#"## AG514 transaction-end-not-awaited

**What it catches.** In async code, `tx.commit();` or `tx.rollback();` on a sqlx, sea-orm or
tokio-postgres transaction without `.await` (also `let _ = tx.commit();`).

**Why it is wrong.** These methods return futures, which do nothing until awaited. The
dropped future never sends `COMMIT`; the transaction is then dropped and rolled back, and the
writes are lost. rustc warns (`unused_must_use`) only when the crate is built, and not at all
for `let _ =`.

**Example.**
```rust
let mut tx = pool.begin().await?;
sqlx::query("DELETE FROM carts").execute(&mut *tx).await?;
tx.commit();          // AG514
tx.commit().await?;   // fixed
```

**Fix.** Add `.await` (safe for `rollback()`, which the drop does anyway; unsafe for
`commit()`, which now persists the writes).

**Stays silent on** awaited calls, futures that are bound, returned or passed on, and the
sync crates (rusqlite, postgres), whose `commit()` runs at once.

**Suppress** with `// awaitguard: ignore[AG514]` on the line.
"#,
};

impl Rule for TransactionEndNotAwaited {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Ctx, out: &mut Vec<Finding>) {
        let Some(rs) = cx.rs else { return };
        for &call in &rs.method_calls {
            let Some((recv, m)) = method_parts(call) else { continue };
            let m = rs.node_text(m);
            if !matches!(m, "commit" | "rollback") || recv.kind() != "identifier" {
                continue;
            }
            if call.child_by_field_name("arguments").is_none_or(|a| a.named_child_count() != 0) {
                continue;
            }
            // The value must be thrown away: `tx.commit();`, `tx.commit()?;`, `let _ = tx.commit();`.
            let mut top = call;
            if let Some(p) = top.parent().filter(|p| p.kind() == "try_expression") {
                top = p;
            }
            let dropped = match top.parent() {
                Some(p) if p.kind() == "expression_statement" => true,
                Some(p) if p.kind() == "let_declaration" => {
                    p.child_by_field_name("pattern").is_some_and(|pat| rs.node_text(pat) == "_")
                }
                _ => false,
            };
            if !dropped || !rs.context_at(call.start_byte()).await_ok() {
                continue;
            }
            let name = rs.node_text(recv);
            let Some((flavor, _)) = tx_named(rs, name, recv.start_byte()) else { continue };
            if flavor == TxFlavor::Sync {
                continue;
            }
            let applicability = if m == "rollback" { Applicability::Safe } else { Applicability::Unsafe };
            out.push(Finding::new(
                &META,
                call.byte_range(),
                format!("`{name}.{m}()` is never awaited, so it does nothing"),
                vec![Fix {
                    title: "Add `.await`".to_string(),
                    applicability,
                    edits: vec![Edit::insert(call.end_byte(), ".await".to_string())],
                }],
            ));
        }
    }
}
