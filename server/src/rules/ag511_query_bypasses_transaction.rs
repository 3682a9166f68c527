//! AG511 query-bypasses-transaction: while a sqlx / sea-orm transaction is live, a query
//! executed on the pool or database it was begun from (RULES.md §AG511, §3.9 R-g, R-j).
//!
//! The transaction is live from its `let` to the first commit / rollback / move in its block
//! ([`super::ag510_transaction_not_committed::tx_uses`]). A query bypasses it when its
//! executor argument is the begin call's receiver (`pool` in `pool.begin()`), or resolves to a
//! sqlx pool / sea-orm connection and is passed to an unambiguous executor method. A call of
//! a project function that queries on the parameter the pool is given at
//! ([`crate::semantic::outside::RsFnFacts::queries_params`]) bypasses it the same way.

use super::ag510_transaction_not_committed::{tx_let, tx_uses, TxFlavor};
use super::rust_util::args_of;
use super::{Ctx, Finding, FixAvailability, Rule, RuleMeta, Severity};
use crate::dialects::rust_crates as rc;
use crate::fix::{Applicability, Edit, Fix};
use crate::semantic::rust::{method_parts, Kind, RustModel};
use crate::syntax::Lang;
use tree_sitter::Node;

pub struct QueryBypassesTransaction;

static META: RuleMeta = RuleMeta {
    code: "AG511",
    name: "query-bypasses-transaction",
    lang: Lang::Rust,
    severity: Severity::Error,
    fix: FixAvailability::Sometimes,
    triggers: &[&["begin", "begin_with", "begin_with_config", "try_begin", "transaction", "build_transaction"]],
    summary: "Query on the pool while a transaction is open: it runs outside the transaction",
    doc: r#"## AG511 query-bypasses-transaction

**What it catches.** While a transaction `tx` is open (between `pool.begin()` and its
`commit()` / `rollback()`), a query executed on the pool or database it came from:
`.execute(pool)`, `.fetch_one(&pool)` (sqlx), `.one(&db)`, `.exec(&db)` (sea-orm).

**Why it is wrong.** The query takes another connection from the pool and runs **outside**
the transaction: it is not rolled back with it, does not see its uncommitted writes, and
can wait on the row locks the transaction holds (with `max_connections(1)` it deadlocks).

**Example.**
```rust
let mut tx = pool.begin().await?;
sqlx::query("INSERT INTO orders (id) VALUES ($1)").bind(id).execute(&mut *tx).await?;
sqlx::query("INSERT INTO lines (order_id) VALUES ($1)").bind(id).execute(pool).await?; // AG511
tx.commit().await?;
```

**Fix (unsafe).** Run it on the transaction: `&mut *tx` (sqlx ≥ 0.7), `&txn` (sea-orm).
Unsafe: the query may be meant to run outside (an audit log that must survive a rollback);
suppress the finding there.

**Across helpers.** A project function (any module) that runs a query on one of its
parameters (directly or through the helpers it calls), given the pool while the transaction
is open: `repo::add_line(pool, id).await?` after `pool.begin()`. Reported at the argument,
with the helper's query as related information; no fix (the helper's parameter type decides
whether it accepts `&mut *tx`).

**Stays silent on** queries before `begin()` or after `commit()` / `rollback()`,
queries on `&mut *tx` / `&txn`, and helpers given the pool that run no query on it.

**Suppress** with `// awaitguard: ignore[AG511]` on the line.
"#,
};

impl Rule for QueryBypassesTransaction {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Ctx, out: &mut Vec<Finding>) {
        let Some(rs) = cx.rs else { return };
        let mut txs = Vec::new();
        rs.lets.iter().for_each(|&(let_node, name, value)| {
            let Some(tx) = tx_let(rs, let_node, name, value) else { return };
            if !matches!(tx.flavor, TxFlavor::Sqlx | TxFlavor::SeaOrm) {
                return;
            }
            let end = tx_uses(rs, &tx).end.unwrap_or(tx.block.end_byte());
            txs.push((tx, end));
        });
        if txs.is_empty() {
            return;
        }
        helper_calls(rs, &txs, out);
        rs.method_calls.iter().for_each(|&call| {
            let Some(args) = call.child_by_field_name("arguments") else { return };
            let Some((_, method)) = method_parts(call) else { return };
            let args = args_of(args);
            if args.len() != 1 {
                return;
            }
            let arg = args[0];
            let m = rs.node_text(method);
            let at = call.start_byte();
            let Some(tx) = open_tx_at(rs, &txs, at) else { return };
            let exec = match tx.flavor {
                TxFlavor::Sqlx => rc::SQLX_EXEC_METHODS.contains(&m),
                _ => rc::SEA_EXEC_METHODS.contains(&m),
            };
            if !exec || !bypasses(rs, tx.receiver, arg, m, tx.flavor) {
                return;
            }
            let name = tx.name;
            let replacement = match tx.flavor {
                TxFlavor::Sqlx => format!("&mut *{name}"),
                _ => format!("&{name}"),
            };
            let pool = rs.node_text(arg);
            out.push(Finding::new(
                &META,
                call.byte_range(),
                format!("`.{m}({pool})` runs outside the open transaction `{name}`"),
                vec![Fix {
                    title: format!("Run it on the transaction: `{replacement}`"),
                    applicability: Applicability::Unsafe,
                    edits: vec![Edit::replace(arg.byte_range(), replacement)],
                }],
            ));
        });
    }
}

/// A project function (this file's or another module's) that runs a query on one of its
/// parameters, given the pool while a transaction is open: `repo::add_line(pool, id)` after
/// `pool.begin()`. Reported at the call, with the helper's query as related information. No
/// fix: the helper's parameter type decides whether it accepts the transaction.
fn helper_calls<'t>(rs: &RustModel<'t>, txs: &[(super::ag510_transaction_not_committed::TxLet<'t>, usize)], out: &mut Vec<Finding>) {
    for &call in rs.method_calls.iter().chain(rs.path_calls.iter().map(|(c, _)| c)) {
        let at = call.start_byte();
        let Some(tx) = open_tx_at(rs, txs, at) else { continue };
        let Some(args) = call.child_by_field_name("arguments") else { continue };
        let args = args_of(args);
        if args.is_empty() {
            continue;
        }
        // Executor methods are judged by the direct check.
        if let Some((_, m)) = method_parts(call) {
            let m = rs.node_text(m);
            if rc::SQLX_EXEC_METHODS.contains(&m) || rc::SEA_EXEC_METHODS.contains(&m) {
                continue;
            }
        }
        let Some(facts) = rs.callee_facts(call) else { continue };
        let path_call = crate::semantic::rust_calls::is_path_call(call);
        for (i, loc) in &facts.queries_params {
            // `Repo::add(&repo, pool)`: the `self` argument comes first.
            let Some(&arg) = args.get(facts.arg_of_param(path_call, *i)) else { continue };
            if !bypasses(rs, tx.receiver, arg, "one", tx.flavor) {
                continue;
            }
            let name = tx.name;
            let pool = rs.node_text(arg);
            let callee = crate::text::short(call.child_by_field_name("function").map(|f| rs.node_text(f)).unwrap_or(""), 40);
            let mut f = Finding::new(
                &META,
                arg.byte_range(),
                format!("`{callee}` queries `{pool}` outside the open transaction `{name}`"),
                vec![],
            );
            f.related = vec![loc.clone()];
            out.push(f);
            break;
        }
    }
}

/// True when `arg` is the pool the transaction was begun from, or another pool.
fn bypasses(rs: &RustModel, begin_recv: Node, arg: Node, method: &str, flavor: TxFlavor) -> bool {
    let a = rs.strip(arg);
    // `&mut *tx`, `&mut tx`, `&txn`, a connection: not a pool.
    if method_parts(a).is_some() {
        return false;
    }
    let same = rs.node_text(a) == rs.node_text(rs.strip(begin_recv));
    if same {
        return true;
    }
    let unambiguous = match flavor {
        TxFlavor::Sqlx => true,
        _ => matches!(method, "one" | "all" | "count" | "exec" | "exec_with_returning"),
    };
    unambiguous && matches!(rs.kind_of(a), Kind::SqlxPool | Kind::SeaDb)
}

/// The innermost (latest) transaction open at byte `at`, in the same function as `at`.
fn open_tx_at<'a, 't>(
    rs: &RustModel<'t>,
    txs: &'a [(super::ag510_transaction_not_committed::TxLet<'t>, usize)],
    at: usize,
) -> Option<&'a super::ag510_transaction_not_committed::TxLet<'t>> {
    let (tx, _) = txs.iter().rev().find(|(tx, end)| at >= tx.let_node.end_byte() && at < *end && tx.block.byte_range().contains(&at))?;
    (rs.fn_scope_at(at) == rs.fn_scope_at(tx.let_node.start_byte())).then_some(tx)
}
