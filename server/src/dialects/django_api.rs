//! Django async APIs beyond the QuerySet table of [`super::django`]: related managers, model
//! instances and framework helpers (RULES.md §3.1b–§3.1d), with the first version of each.

use super::django::{queryset_terminal, Twin, ASYNC_ORM};
use super::Version;

/// Related-manager `acreate` / `aget_or_create` / `aupdate_or_create` (ticket #34139).
pub const RELATED_CREATE: Version = Version(4, 1, 4);
/// Related-manager `aadd` / `aremove` / `aclear` / `aset`, and instance `asave` / `adelete` /
/// `arefresh_from_db`.
pub const V4_2: Version = Version(4, 2, 0);
pub const V5_0: Version = Version(5, 0, 0);
/// `aprefetch_related_objects` importable from `django.db.models`.
pub const V5_0_5: Version = Version(5, 0, 5);
pub const V5_1: Version = Version(5, 1, 0);
pub const V5_2: Version = Version(5, 2, 0);
pub const V6_0: Version = Version(6, 0, 0);

const fn t(sync: &'static str, async_name: &'static str, since: Version) -> Twin {
    Twin { sync, async_name, since, queryset_only: false }
}

/// §3.1c: methods only related managers have.
pub const RELATED_ONLY: &[Twin] =
    &[t("add", "aadd", V4_2), t("remove", "aremove", V4_2), t("clear", "aclear", V4_2), t("set", "aset", V4_2)];

/// A query-running method on a related manager (`obj.tags.add(t)`, `obj.book_set.count()`).
pub fn related_terminal(method: &str) -> Option<Twin> {
    if let Some(r) = RELATED_ONLY.iter().find(|r| r.sync == method) {
        return Some(*r);
    }
    let mut q = *queryset_terminal(method)?;
    if matches!(method, "create" | "get_or_create" | "update_or_create") {
        q.since = RELATED_CREATE;
    }
    Some(q)
}

/// §3.1b: model instance methods with an async twin.
pub const INSTANCE_METHODS: &[Twin] = &[
    t("save", "asave", V4_2),
    t("delete", "adelete", V4_2),
    t("refresh_from_db", "arefresh_from_db", V4_2),
];

pub fn instance_method(method: &str) -> Option<&'static Twin> {
    INSTANCE_METHODS.iter().find(|t| t.sync == method)
}

/// A module-level Django function with an async twin (§3.1d).
#[derive(Clone, Copy, Debug)]
pub struct Helper {
    /// Modules it can be imported from (the first is where the twin is imported from).
    pub modules: &'static [&'static str],
    pub sync: &'static str,
    pub async_name: &'static str,
    pub since: Version,
}

pub const FUNCTIONS: &[Helper] = &[
    Helper { modules: &["django.shortcuts"], sync: "get_object_or_404", async_name: "aget_object_or_404", since: V5_0 },
    Helper { modules: &["django.shortcuts"], sync: "get_list_or_404", async_name: "aget_list_or_404", since: V5_0 },
    Helper { modules: &["django.contrib.auth"], sync: "authenticate", async_name: "aauthenticate", since: V5_0 },
    Helper { modules: &["django.contrib.auth"], sync: "login", async_name: "alogin", since: V5_0 },
    Helper { modules: &["django.contrib.auth"], sync: "logout", async_name: "alogout", since: V5_0 },
    Helper { modules: &["django.contrib.auth"], sync: "get_user", async_name: "aget_user", since: V5_0 },
    Helper {
        modules: &["django.contrib.auth"],
        sync: "update_session_auth_hash",
        async_name: "aupdate_session_auth_hash",
        since: V5_0,
    },
    Helper { modules: &["django.contrib.auth.hashers"], sync: "check_password", async_name: "acheck_password", since: V5_0 },
    Helper {
        modules: &["django.db.models", "django.db.models.query"],
        sync: "prefetch_related_objects",
        async_name: "aprefetch_related_objects",
        since: V5_0,
    },
];

/// Methods of a user instance (`AbstractBaseUser`, `PermissionsMixin`, `AnonymousUser`).
pub const USER_METHODS: &[Twin] = &[
    t("check_password", "acheck_password", V5_0),
    t("has_perm", "ahas_perm", V5_2),
    t("has_perms", "ahas_perms", V5_2),
    t("has_module_perms", "ahas_module_perms", V5_2),
    t("get_user_permissions", "aget_user_permissions", V5_2),
    t("get_group_permissions", "aget_group_permissions", V5_2),
    t("get_all_permissions", "aget_all_permissions", V5_2),
];

/// `UserManager` / `BaseUserManager` methods.
pub const USER_MANAGER_METHODS: &[Twin] = &[
    t("create_user", "acreate_user", V5_2),
    t("create_superuser", "acreate_superuser", V5_2),
    t("get_by_natural_key", "aget_by_natural_key", V5_2),
];

/// `Signal.send` / `send_robust`.
pub const SIGNAL_METHODS: &[Twin] = &[t("send", "asend", V5_0), t("send_robust", "asend_robust", V5_0)];

/// Test client (`Client`, `AsyncClient`) methods that query (5.0).
pub const TEST_CLIENT_METHODS: &[Twin] =
    &[t("login", "alogin", V5_0), t("force_login", "aforce_login", V5_0), t("logout", "alogout", V5_0)];

/// `django.contrib.auth.decorators` that accept an `async def` view from 5.1 on.
pub const AUTH_DECORATORS: &[&str] = &["login_required", "permission_required", "user_passes_test"];

/// `django.tasks` `Task` methods (6.0).
pub const TASK_METHODS: &[Twin] = &[t("enqueue", "aenqueue", V6_0), t("get_result", "aget_result", V6_0)];

/// `django.tasks` `TaskResult` methods (6.0).
pub const TASK_RESULT_METHODS: &[Twin] = &[t("refresh", "arefresh", V6_0)];

/// Cache backend methods (`django.core.cache.cache`, `caches[alias]`), async since 4.0.
pub const CACHE_METHODS: &[&str] = &[
    "get", "set", "add", "get_or_set", "get_many", "set_many", "delete", "delete_many", "clear", "touch",
    "incr", "decr", "has_key", "incr_version", "decr_version", "close",
];
pub const CACHE_SINCE: Version = Version(4, 0, 0);

/// Lazy builders whose `a`-prefixed name is invented (AG109): no Django version has them.
pub const NONEXISTENT_BUILDERS: &[&str] = &["afilter", "aexclude", "aall", "aannotate", "avalues", "avalues_list", "aorder_by"];

/// Every `a*` name Django's QuerySet, related managers and instances define, with its twin.
pub fn async_twin_of(async_name: &str) -> Option<Twin> {
    super::django::QUERYSET_TERMINALS
        .iter()
        .chain(RELATED_ONLY.iter())
        .chain(INSTANCE_METHODS.iter())
        .find(|t| t.async_name == async_name)
        .copied()
        .or(if async_name == "aiterator" { Some(t("iterator", "aiterator", ASYNC_ORM)) } else { None })
}
