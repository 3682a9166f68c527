//! Rust database crates as data (RULES.md §3.8, §3.9): which methods block, which begin,
//! commit or roll back a transaction, and which wrappers are transparent to receiver
//! resolution. Versions: diesel 2.3, r2d2 0.8, rusqlite 0.41, postgres 0.19, tokio-postgres
//! 0.7, sqlx 0.8 / 0.9, sea-orm 1.x / 2.x.

/// A sync crate whose calls block the thread that makes them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Crate {
    Diesel,
    R2d2,
    Rusqlite,
    Postgres,
}

impl Crate {
    pub fn name(self) -> &'static str {
        match self {
            Crate::Diesel => "diesel",
            Crate::R2d2 => "r2d2",
            Crate::Rusqlite => "rusqlite",
            Crate::Postgres => "postgres",
        }
    }
}

/// diesel `RunQueryDsl` / `SaveChangesDsl` methods: `query.<m>(conn)`, one argument.
pub const DIESEL_QUERY_METHODS: &[&str] =
    &["execute", "load", "load_iter", "get_result", "get_results", "first", "save_changes"];

/// diesel `Connection` / `SimpleConnection` methods called on a sync connection.
pub const DIESEL_CONN_METHODS: &[&str] =
    &["transaction", "batch_execute", "begin_test_transaction", "build_transaction", "test_transaction", "execute_returning_count"];

/// diesel connection constructors: `PgConnection::establish(url)`.
pub const DIESEL_CTORS: &[&str] = &["establish"];

/// r2d2 `Pool` methods that wait for a connection.
pub const R2D2_POOL_METHODS: &[&str] = &["get", "get_timeout"];

/// rusqlite `Connection` (and `Transaction`, which derefs to it) methods that touch the
/// database.
pub const RUSQLITE_CONN_METHODS: &[&str] = &[
    "execute",
    "execute_batch",
    "query_row",
    "query_row_and_then",
    "query_one",
    "prepare",
    "prepare_cached",
    "transaction",
    "transaction_with_behavior",
    "unchecked_transaction",
    "savepoint",
    "savepoint_with_name",
    "pragma_update",
    "pragma_query",
    "pragma_query_value",
    "backup",
    "restore",
];

/// rusqlite `Transaction` / `Savepoint` methods beyond the connection's.
pub const RUSQLITE_TX_METHODS: &[&str] = &["commit", "rollback", "finish"];

/// rusqlite `Statement` methods that run it.
pub const RUSQLITE_STMT_METHODS: &[&str] =
    &["query", "query_map", "query_and_then", "query_row", "query_one", "execute", "insert", "exists"];

/// rusqlite constructors: `Connection::open(path)`.
pub const RUSQLITE_CTORS: &[&str] = &["open", "open_in_memory", "open_with_flags", "open_in_memory_with_flags"];

/// `postgres::Client` methods: each runs `block_on` on the crate's own runtime and panics on
/// a tokio runtime thread.
pub const POSTGRES_CLIENT_METHODS: &[&str] = &[
    "query",
    "query_one",
    "query_opt",
    "query_raw",
    "query_typed",
    "query_typed_raw",
    "execute",
    "execute_raw",
    "batch_execute",
    "simple_query",
    "prepare",
    "prepare_typed",
    "copy_in",
    "copy_out",
    "transaction",
    "build_transaction",
    "is_valid",
    "close",
];

/// `postgres::Transaction` methods beyond the client's.
pub const POSTGRES_TX_METHODS: &[&str] = &["commit", "rollback", "savepoint", "bind", "query_portal"];

/// `postgres::Client::connect(params, tls)`, `Client::configure()` … `.connect(tls)`.
pub const POSTGRES_CTORS: &[&str] = &["connect"];

/// Generic wrappers that hold the object they wrap (`web::Data<DbPool>` is the pool).
pub const WRAPPERS: &[&str] =
    &["Data", "Arc", "Rc", "Box", "State", "Extension", "Mutex", "RwLock", "RefCell", "MutexGuard", "LazyLock", "Lazy", "LazyCell"];

/// Calls that return (a guard or reference to) the value they are called on, or unwrap it.
pub const TRANSPARENT_METHODS: &[&str] = &[
    "unwrap",
    "expect",
    "clone",
    "as_ref",
    "as_mut",
    "deref",
    "deref_mut",
    "lock",
    "borrow",
    "borrow_mut",
    "get_ref",
    "get_mut",
    "into_inner",
    "read",
    "write",
    "map_err",
    "context",
    "with_context",
    "wrap_err",
    "wrap_err_with",
];

/// Error adapters between a call and its `?` (`begin().await.map_err(internal)?`).
pub const ERROR_ADAPTERS: &[&str] = &["map_err", "context", "with_context", "wrap_err", "wrap_err_with"];

/// sqlx executor calls: `query(…).<m>(executor)`.
pub const SQLX_EXEC_METHODS: &[&str] =
    &["execute", "execute_many", "fetch", "fetch_one", "fetch_optional", "fetch_all", "fetch_many"];

/// sea-orm calls that take the connection as their argument.
pub const SEA_EXEC_METHODS: &[&str] = &["one", "all", "count", "exec", "exec_with_returning", "insert", "save", "update", "delete", "stream", "into_json"];

/// The blocking call a method is on a receiver of `krate`, if any.
pub fn is_blocking_method(krate: Crate, method: &str, on_tx_or_stmt: TxOrStmt) -> bool {
    match (krate, on_tx_or_stmt) {
        (Crate::Diesel, _) => DIESEL_CONN_METHODS.contains(&method),
        (Crate::R2d2, _) => R2D2_POOL_METHODS.contains(&method),
        (Crate::Rusqlite, TxOrStmt::Stmt) => RUSQLITE_STMT_METHODS.contains(&method),
        (Crate::Rusqlite, TxOrStmt::Tx) => RUSQLITE_CONN_METHODS.contains(&method) || RUSQLITE_TX_METHODS.contains(&method),
        (Crate::Rusqlite, TxOrStmt::Conn) => RUSQLITE_CONN_METHODS.contains(&method),
        (Crate::Postgres, TxOrStmt::Tx) => POSTGRES_CLIENT_METHODS.contains(&method) || POSTGRES_TX_METHODS.contains(&method),
        (Crate::Postgres, _) => POSTGRES_CLIENT_METHODS.contains(&method),
    }
}

/// Calls whose result borrows the receiver (`Statement<'conn>`, `Transaction<'conn>`,
/// `Rows<'stmt>`): they cannot run alone in a `'static` closure.
pub fn result_borrows(krate: Crate, method: &str) -> bool {
    match krate {
        Crate::Rusqlite => matches!(
            method,
            "prepare" | "prepare_cached" | "transaction" | "transaction_with_behavior" | "unchecked_transaction"
                | "savepoint" | "savepoint_with_name" | "query" | "query_map" | "query_and_then"
        ),
        Crate::Postgres => matches!(method, "transaction" | "build_transaction" | "query_raw" | "query_typed_raw" | "copy_in" | "copy_out"),
        Crate::Diesel => matches!(method, "load_iter" | "build_transaction"),
        Crate::R2d2 => false,
    }
}

/// Which object of a crate a receiver is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TxOrStmt {
    Conn,
    Tx,
    Stmt,
}

/// Methods that borrow a transaction (`&self` / `&mut self`): calling them keeps it open.
/// Any other method called on a transaction may take it by value (sea-orm's `txn.run(f)`
/// commits it), so AG510 treats those as handing it on.
pub const TX_BORROWING_METHODS: &[&str] = &[
    "execute", "execute_batch", "batch_execute", "execute_raw", "query", "query_one", "query_opt", "query_raw",
    "query_row", "query_row_and_then", "query_map", "query_typed", "query_typed_raw", "simple_query", "prepare",
    "prepare_cached", "prepare_typed", "bind", "query_portal", "copy_in", "copy_out", "savepoint", "transaction",
    "as_mut", "as_ref", "deref", "deref_mut", "last_insert_rowid", "pragma_update", "pragma_query", "pragma_query_value",
    "get_database_backend", "execute_unprepared", "stream", "acquire", "begin", "client", "cancel_token",
];

/// Calls that write (or may write) through a transaction: evidence that dropping it loses
/// data (AG510).
pub const TX_WRITE_METHODS: &[&str] = &[
    "execute", "execute_many", "execute_batch", "batch_execute", "execute_raw", "execute_unprepared", "save", "insert",
    "insert_many", "update", "update_many", "delete", "delete_many", "exec", "exec_with_returning",
    "exec_without_returning", "copy_in",
];

/// SQL words that write, looked for in string literals (AG510).
pub const SQL_WRITE_WORDS: &[&str] =
    &["INSERT", "UPDATE", "DELETE", "UPSERT", "REPLACE", "MERGE", "CREATE", "DROP", "ALTER", "TRUNCATE"];
