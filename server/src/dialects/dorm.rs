//! dorm (PyPI `djanorm`, `import dorm`): a Django-like ORM with sync and async APIs
//! (RULES.md §3.6). Sync calls inside a running loop do not raise by default (the guard is
//! opt-in), so the rules report them as warnings.

/// QuerySet / Manager methods that run a query, each with an `a`-prefixed twin (§3.6a).
pub const QUERYSET_TERMINALS: &[&str] = &[
    "aggregate", "bulk_create", "bulk_update", "bulk_update_when", "count", "create", "cursor_paginate", "dates",
    "datetimes", "delete", "exists", "explain", "first", "get", "get_or_create", "get_or_none", "in_bulk", "last",
    "update", "update_or_create", "upsert",
];

/// Manager-only methods with an async twin.
pub const MANAGER_TERMINALS: &[&str] = &["cache_get", "cache_get_many"];

/// Many-to-many manager methods with an `a` twin. `count` has none: `await m.all().acount()`.
pub const M2M_METHODS: &[&str] = &["add", "remove", "set", "clear", "create", "get_queryset"];

/// Reverse-FK manager methods with an `a` twin. `create` has none.
pub const REVERSE_FK_METHODS: &[&str] =
    &["add", "remove", "clear", "set", "count", "get_or_create", "update_or_create", "get_queryset"];

/// Model instance methods with an `a` twin.
pub const INSTANCE_METHODS: &[&str] = &["save", "delete", "refresh_from_db"];

/// Lazy builders (no query): the same as Django's, plus `avalues` / `avalues_list`, which are
/// *sync* methods returning a lazy QuerySet.
pub const SYNC_LAZY_A_NAMES: &[&str] = &["avalues", "avalues_list"];

/// Named in `dorm/contrib/asyncmodel.py` docstrings, defined nowhere.
pub const NONEXISTENT: &[&str] = &["afilter", "aall", "aexclude"];

pub fn queryset_terminal(method: &str) -> bool {
    QUERYSET_TERMINALS.contains(&method)
}

/// Every dorm sync method with an `a`-prefixed twin, paired with it.
const PAIRS: &[(&str, &str)] = &[
    ("aggregate", "aaggregate"),
    ("bulk_create", "abulk_create"),
    ("bulk_update", "abulk_update"),
    ("bulk_update_when", "abulk_update_when"),
    ("count", "acount"),
    ("create", "acreate"),
    ("cursor_paginate", "acursor_paginate"),
    ("dates", "adates"),
    ("datetimes", "adatetimes"),
    ("delete", "adelete"),
    ("exists", "aexists"),
    ("explain", "aexplain"),
    ("first", "afirst"),
    ("get", "aget"),
    ("get_or_create", "aget_or_create"),
    ("get_or_none", "aget_or_none"),
    ("in_bulk", "ain_bulk"),
    ("last", "alast"),
    ("update", "aupdate"),
    ("update_or_create", "aupdate_or_create"),
    ("upsert", "aupsert"),
    ("cache_get", "acache_get"),
    ("cache_get_many", "acache_get_many"),
    ("add", "aadd"),
    ("remove", "aremove"),
    ("set", "aset"),
    ("clear", "aclear"),
    ("get_queryset", "aget_queryset"),
    ("save", "asave"),
    ("refresh_from_db", "arefresh_from_db"),
    ("iterator", "aiterator"),
];

/// The async twin's name of a dorm sync method (`get` → `aget`).
pub fn async_name(sync: &str) -> Option<(&'static str, &'static str)> {
    PAIRS.iter().find(|(s, _)| *s == sync).copied()
}
