//! Django's ORM tables (RULES.md §3.1), checked against the `async def a…` definitions of
//! each release.

use super::Version;

/// The newest Django release covered; the default when no version is configured or found.
pub const NEWEST: Version = Version(6, 1, 3);

/// The first version with the async ORM interface (`aget`, `acount`, `async for` …).
pub const ASYNC_ORM: Version = Version(4, 1, 0);

/// QuerySet/Manager methods that return a new lazy QuerySet: no query runs.
pub const LAZY_BUILDERS: &[&str] = &[
    "all", "filter", "exclude", "order_by", "select_related", "prefetch_related", "values",
    "values_list", "annotate", "alias", "only", "defer", "using", "select_for_update", "none",
    "distinct", "reverse", "extra", "union", "intersection", "difference", "dates", "datetimes",
    "complex_filter", "fetch_mode",
];

/// A sync method that runs a query, and its async twin.
#[derive(Clone, Copy, Debug)]
pub struct Twin {
    pub sync: &'static str,
    pub async_name: &'static str,
    pub since: Version,
    /// Defined on QuerySet only (`queryset_only`): a Manager has neither form.
    pub queryset_only: bool,
}

const fn twin(sync: &'static str, async_name: &'static str) -> Twin {
    Twin { sync, async_name, since: ASYNC_ORM, queryset_only: false }
}

/// §3.1a: QuerySet / Manager methods that execute a query, with their async twins.
/// `iterator` is left out on purpose: it is lazy until iterated (AG102 reports the loop).
pub const QUERYSET_TERMINALS: &[Twin] = &[
    twin("get", "aget"),
    twin("create", "acreate"),
    twin("get_or_create", "aget_or_create"),
    twin("update_or_create", "aupdate_or_create"),
    twin("bulk_create", "abulk_create"),
    twin("bulk_update", "abulk_update"),
    twin("count", "acount"),
    twin("exists", "aexists"),
    twin("contains", "acontains"),
    twin("first", "afirst"),
    twin("last", "alast"),
    twin("earliest", "aearliest"),
    twin("latest", "alatest"),
    twin("aggregate", "aaggregate"),
    twin("in_bulk", "ain_bulk"),
    twin("update", "aupdate"),
    Twin { sync: "delete", async_name: "adelete", since: ASYNC_ORM, queryset_only: true },
    twin("explain", "aexplain"),
];

pub fn queryset_terminal(method: &str) -> Option<&'static Twin> {
    QUERYSET_TERMINALS.iter().find(|t| t.sync == method)
}
