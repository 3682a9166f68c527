//! Rule fixtures as data. Each file under `tests/fixtures/<lang>/` is analysed with only the
//! rule its name starts with. Lines ending in `expect: CODE` (in a comment) must hold exactly
//! the findings that start there; every other line must be silent. The findings, each fix
//! applied alone, and the text after "fix all" are snapshots. Every fixed text must parse
//! without an ERROR node, and a second "fix all" must find nothing more to fix.

mod common;

use awaitguard::fix::{self, Applicability};
use awaitguard::analysis::fix_all;
use awaitguard::syntax;
use awaitguard::text::LineIndex;
use std::collections::BTreeMap;
use std::fmt::Write;

fn expected(text: &str) -> BTreeMap<usize, Vec<String>> {
    let mut out = BTreeMap::new();
    for (i, line) in text.lines().enumerate() {
        if let Some(pos) = line.find("expect: ") {
            let codes: Vec<String> =
                line[pos + 8..].split([',', ' ']).map(str::trim).filter(|c| c.starts_with("AG")).map(str::to_string).collect();
            out.insert(i + 1, codes);
        }
    }
    out
}

fn run_fixture(rel: &str) {
    let path = common::fixture_path(rel);
    let text = std::fs::read_to_string(&path).unwrap();
    let lang = common::lang_of(&path);
    let settings = common::fixture_settings(&path, &text);
    assert!(!syntax::has_syntax_error(&syntax::parse(lang, &text, None)), "{rel}: the fixture itself must parse");
    let findings = common::analyze_text(&text, lang, &settings);
    let index = LineIndex::new(&text);

    // 1. Exactly the expected lines.
    let mut got: BTreeMap<usize, Vec<String>> = BTreeMap::new();
    for f in &findings {
        got.entry(index.line_of(f.range.start) + 1).or_default().push(f.code.to_string());
    }
    let want = expected(&text);
    let missing: Vec<_> = want.iter().filter(|(l, c)| got.get(l) != Some(c)).collect();
    let extra: Vec<_> = got.iter().filter(|(l, _)| !want.contains_key(l)).collect();
    assert!(missing.is_empty() && extra.is_empty(), "{rel}: missing/wrong {missing:?}; unexpected {extra:?}; got {got:?}");

    // 2. Snapshot of findings and each fix applied alone; each must re-parse cleanly.
    let mut snap = String::new();
    for f in &findings {
        let p = index.position(&text, f.range.start, awaitguard::text::Encoding::Utf32);
        writeln!(snap, "{}:{} {} [{}] {}", p.line + 1, p.col + 1, f.code, f.severity.as_str(), f.message).unwrap();
        for x in &f.fixes {
            let fixed = fix::apply(&text, &x.edits).unwrap_or_else(|| panic!("{rel}: overlapping edits in {x:?}"));
            assert!(
                !syntax::has_syntax_error(&syntax::parse(lang, &fixed, None)),
                "{rel}:{}: fix `{}` does not parse:\n{}",
                p.line + 1,
                x.title,
                fixed
            );
            let line = index.line_of(f.range.start);
            let fixed_index = LineIndex::new(&fixed);
            let new_line = &fixed[fixed_index.line_range(&fixed, line.min(fixed_index.line_count() - 1))];
            let app = match x.applicability {
                Applicability::Safe => "safe",
                Applicability::Unsafe => "unsafe",
            };
            writeln!(snap, "    fix ({app}) {}\n      -> {}", x.title, new_line.trim()).unwrap();
        }
    }

    // 3. Fix all (safe): parses, and is idempotent.
    let fixed = fix_all(&text, lang, &settings, false).unwrap_or_else(|| text.clone());
    assert!(!syntax::has_syntax_error(&syntax::parse(lang, &fixed, None)), "{rel}: fix-all result does not parse");
    let again = common::analyze_text(&fixed, lang, &settings);
    assert!(
        again.iter().all(|f| f.fixes.iter().all(|x| x.applicability != Applicability::Safe)),
        "{rel}: fix-all left safe fixes behind: {again:?}"
    );
    assert!(fix_all(&fixed, lang, &settings, false).is_none(), "{rel}: second fix-all changed the text");

    let name = rel.replace(['/', '.'], "_");
    insta::assert_snapshot!(format!("{name}__findings"), snap);
    insta::assert_snapshot!(format!("{name}__fixed"), fixed);
}

macro_rules! fixtures {
    ($($name:ident => $path:literal,)*) => {
        $(#[test] fn $name() { run_fixture($path); })*
    };
}

fixtures! {
    ag101 => "python/AG101.py",
    ag101_django40 => "python/AG101_django40.py",
    ag101_no_imports => "python/AG101_no_imports.py",
    ag101_mongoengine => "python/AG101_mongoengine.py",
    ag101_related => "python/AG101_related.py",
    ag101_related_django41 => "python/AG101_related_django41.py",
    ag101_dorm => "python/AG101_dorm.py",
    ag101_user_model => "python/AG101_user_model.py",
    ag101_custom_queryset => "python/AG101_custom_queryset.py",
    ag101_test_intent => "python/AG101_test_intent.py",
    ag101_nested_def => "python/AG101_nested_def.py",
    ag102 => "python/AG102.py",
    ag102_tortoise => "python/AG102_tortoise.py",
    ag102_django40 => "python/AG102_django40.py",
    ag102_django42 => "python/AG102_django42.py",
    ag102_dorm => "python/AG102_dorm.py",
    ag102_async_for => "python/AG102_async_for.py",
    ag102_prefetched => "python/AG102_prefetched.py",
    ag102_logging => "python/AG102_logging.py",
    ag103 => "python/AG103.py",
    ag103_django41 => "python/AG103_django41.py",
    ag103_dorm => "python/AG103_dorm.py",
    ag103_validation => "python/AG103_validation.py",
    ag103_tortoise => "python/AG103_tortoise.py",
    ag104 => "python/AG104.py",
    ag104_dorm => "python/AG104_dorm.py",
    ag104_django40 => "python/AG104_django40.py",
    ag104_helpers => "python/AG104_helpers.py",
    ag104_sqla => "python/AG104_sqla.py",
    ag104_sqlmodel => "python/AG104_sqlmodel.py",
    ag104_param_helpers => "python/AG104_param_helpers.py",
    ag105 => "python/AG105.py",
    ag105_django42 => "python/AG105_django42.py",
    ag105_resolved => "python/AG105_resolved.py",
    ag105_login_required_middleware => "python/AG105_login_required_middleware.py",
    ag105_read_once => "python/AG105_read_once.py",
    ag105_user_resolving_middleware => "python/AG105_user_resolving_middleware.py",
    ag106 => "python/AG106.py",
    ag106_signed_cookies => "python/AG106_signed_cookies.py",
    ag106_unknown_engine => "python/AG106_unknown_engine.py",
    ag106_cache_engine => "python/AG106_cache_engine.py",
    ag106_django50 => "python/AG106_django50.py",
    ag106_cbv => "python/AG106_cbv.py",
    ag105_offloaded_argument => "python/AG105_offloaded_argument.py",
    ag105_drf_decorator => "python/AG105_drf_decorator.py",
    ag107 => "python/AG107.py",
    ag107_django42 => "python/AG107_django42.py",
    ag107_caches => "python/AG107_caches.py",
    ag107_no_settings => "python/AG107_no_settings.py",
    ag107_blocking_cache_opt_in => "python/AG107_blocking_cache_opt_in.py",
    ag107_tasks => "python/AG107_tasks.py",
    ag107_test_client => "python/AG107_test_client.py",
    ag107_auth_decorators => "python/AG107_auth_decorators.py",
    ag107_auth_decorators_django50 => "python/AG107_auth_decorators_django50.py",
    ag107_tasks_django52 => "python/AG107_tasks_django52.py",
    ag108 => "python/AG108.py",
    ag108_nested_def => "python/AG108_nested_def.py",
    ag108_channels => "python/AG108_channels.py",
    ag108_sinks => "python/AG108_sinks.py",
    ag108_methods => "python/AG108_methods.py",
    ag108_mro => "python/AG108_mro.py",
    ag108_guards => "python/AG108_guards.py",
    ag109 => "python/AG109.py",
    ag109_helpers_django42 => "python/AG109_helpers_django42.py",
    ag109_helpers_django51 => "python/AG109_helpers_django51.py",
    ag109_django41 => "python/AG109_django41.py",
    ag109_django41_floor => "python/AG109_django41_floor.py",
    ag109_dorm => "python/AG109_dorm.py",
    ag110 => "python/AG110.py",
    ag110_dorm => "python/AG110_dorm.py",
    ag201 => "python/AG201.py",
    ag201_tortoise_piccolo => "python/AG201_tortoise_piccolo.py",
    ag201_dorm => "python/AG201_dorm.py",
    ag202 => "python/AG202.py",
    ag202_channels => "python/AG202_channels.py",
    ag202_dorm => "python/AG202_dorm.py",
    ag203 => "python/AG203.py",
    ag203_tortoise_bare => "python/AG203_tortoise_bare.py",
    ag203_dorm => "python/AG203_dorm.py",
    ag203_tortoise => "python/AG203_tortoise.py",
    ag204 => "python/AG204.py",
    ag205 => "python/AG205.py",
    ag207 => "python/AG207.py",
    ag206 => "python/AG206.py",
    ag206_no_atomic_requests => "python/AG206_no_atomic_requests.py",
    ag206_other_alias => "python/AG206_other_alias.py",
    ag206_ninja => "python/AG206_ninja.py",
    ag206_adrf => "python/AG206_adrf.py",
    ag208 => "python/AG208.py",
    ag208_celery54 => "python/AG208_celery54.py",
    ag208_no_functools => "python/AG208_no_functools.py",
    ag208_method_decorator => "python/AG208_method_decorator.py",
    ag208_tests => "python/AG208_tests.py",
    ag208_helpers => "python/AG208_helpers.py",
    ag208_countdown => "python/AG208_countdown.py",
    ag209 => "python/AG209.py",
    ag209_no_functools => "python/AG209_no_functools.py",
    ag210 => "python/AG210.py",
    ag208_raise_after => "python/AG208_raise_after.py",
    ag208_defer_flag => "python/AG208_defer_flag.py",
    ag208_atomic_requests => "python/AG208_atomic_requests.py",
    ag208_no_atomic_requests => "python/AG208_no_atomic_requests.py",
    ag208_read_only_task => "python/AG208_read_only_task.py",
    ag301 => "python/AG301.py",
    ag301_helpers => "python/AG301_helpers.py",
    ag302 => "python/AG302.py",
    ag302_decorators => "python/AG302_decorators.py",
    ag302_decorators_django50 => "python/AG302_decorators_django50.py",
    ag302_stacked_bridges => "python/AG302_stacked_bridges.py",
    ag303 => "python/AG303.py",
    ag309 => "python/AG309.py",
    ag405 => "python/AG405.py",
    ag304 => "python/AG304.py",
    ag306 => "python/AG306.py",
    ag306_project_dispatcher => "python/AG306_project_dispatcher.py",
    ag308 => "python/AG308.py",
    ag305 => "python/AG305.py",
    ag307 => "python/AG307.py",
    ag307_settings => "python/AG307_settings.py",
    ag401 => "python/AG401.py",
    ag401_sqlmodel => "python/AG401_sqlmodel.py",
    ag402 => "python/AG402.py",
    ag402_sqlmodel => "python/AG402_sqlmodel.py",
    ag402_tortoise => "python/AG402_tortoise.py",
    ag402_piccolo => "python/AG402_piccolo.py",
    ag403 => "python/AG403.py",
    ag403_sqlmodel => "python/AG403_sqlmodel.py",
    ag404 => "python/AG404.py",
    ag404_depends => "python/AG404_depends.py",
    ag501 => "rust/AG501.rs",
    ag501_diesel_async => "rust/AG501_diesel_async.rs",
    ag501_rusqlite_postgres => "rust/AG501_rusqlite_postgres.rs",
    ag501_r2d2_sqlite => "rust/AG501_r2d2_sqlite.rs",
    ag501_postgres_reachable => "rust/AG501_postgres_reachable.rs",
    ag501_fix_shapes => "rust/AG501_fix_shapes.rs",
    ag502 => "rust/AG502.rs",
    ag503 => "rust/AG503.rs",
    ag510 => "rust/AG510.rs",
    ag510_sync_crates => "rust/AG510_sync_crates.rs",
    ag510_axum_service => "rust/AG510_axum_service.rs",
    ag510_per_path => "rust/AG510_per_path.rs",
    ag510_per_path_sync => "rust/AG510_per_path_sync.rs",
    ag510_sea_orm => "rust/AG510_sea_orm.rs",
    ag510_rollback_demo => "rust/AG510_rollback_demo.rs",
    ag511 => "rust/AG511.rs",
    ag511_methods => "rust/AG511_methods.rs",
    ag512 => "rust/AG512.rs",
    ag512_sqlx06 => "rust/AG512_sqlx06.rs",
    ag513 => "rust/AG513.rs",
    ag513_sqlx => "rust/AG513_sqlx.rs",
    ag513_sqlx09 => "rust/AG513_sqlx09.rs",
    ag514 => "rust/AG514.rs",
    ag401_peewee => "python/AG401_peewee.py",
    ag101_pwasyncio => "python/AG101_pwasyncio.py",
    ag101_peewee_async => "python/AG101_peewee_async.py",
    ag103_pwasyncio => "python/AG103_pwasyncio.py",
    ag201_reverse => "python/AG201_reverse.py",
    ag900 => "python/AG900.py",
    ag900_rust => "rust/AG900.rs",
}
