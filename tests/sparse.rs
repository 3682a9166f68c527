//! `check`'s sparse parse (`analysis::sparse`, `analysis::analyze_sparse`) against the full parse:
//! the same findings on every Python file of the test tree that parses, and on a realistic
//! module where most of the text is sync code no rule looks at, and on generated modules whose
//! sync functions mix local imports, nested definitions, clauses, triggers and offloaders (the
//! statement-level thinning). The comparisons are not vacuous: the tests count what was masked.

use awaitguard::config::Settings;
use awaitguard::analysis::{analyze, analyze_sparse};
use awaitguard::analysis::sparse;
use awaitguard::syntax::{self, Lang};
use awaitguard::text::LineIndex;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use std::path::Path;

fn python_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            python_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "py") {
            out.push(p);
        }
    }
}

/// What `check` masks of `src` under the default settings.
fn mask(src: &str) -> Option<sparse::Masked> {
    let (hot, cross) = awaitguard::analysis::triggers::hot_positions(src, Lang::Python, &Settings::default());
    sparse::mask(src, &hot, &sparse::event_positions(src), &cross)
}

/// The sparse analysis of `text` when there is one, after checking it equals the full one.
fn compare(text: &str, what: &str) -> Option<usize> {
    let settings = Settings::default();
    let index = LineIndex::new(text);
    let tree = syntax::parse(Lang::Python, text, None);
    let full = analyze(text, Lang::Python, &tree, &index, &settings);
    let sparse = analyze_sparse(text, &settings, &index, None)?;
    if !tree.root_node().has_error() {
        assert_eq!(sparse.findings, full.findings, "{what}: the sparse parse changed the findings");
    }
    Some(full.findings.len())
}

#[test]
fn every_python_file_of_the_tests_gets_the_same_findings() {
    let mut files = vec![];
    python_files(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests"), &mut files);
    files.sort();
    let (mut masked, mut with_findings) = (0, 0);
    for f in &files {
        let Ok(text) = std::fs::read_to_string(f) else { continue };
        if let Some(n) = compare(&text, &f.display().to_string()) {
            masked += 1;
            with_findings += usize::from(n > 0);
        }
    }
    assert!(masked >= 5 && with_findings >= 3, "only {masked} files masked ({with_findings} with findings)");
}

/// A views-and-models module: sync helpers and methods around async views.
const MODULE: &str = r#""""Orders."""
from asgiref.sync import sync_to_async
from django.db import models, transaction

from .models import Order, Seat
from .tasks import notify


class Ticket(models.Model):
    seat = models.ForeignKey(Seat, on_delete=models.CASCADE, related_name="tickets")
    objects = models.Manager()

    def __str__(self):
        parts = [self.seat.row, self.seat.number]
        return " ".join(str(p) for p in parts if p)

    def price(self, discount=0):
        total = self.seat.base_price
        for rule in self.seat.rules.all():
            total = rule.apply(total)
        return max(total - discount, 0)

    @property
    def label(self):
        return f"{self.seat.row}{self.seat.number:>3} ({self.pk!r})"


def totals(orders):
    out = {}
    for o in orders:
        out.setdefault(o.customer_id, []).append(o.total)
    return {k: sum(v) for k, v in out.items()}


async def order_detail(request, pk):
    order = Order.objects.get(pk=pk)
    tickets = [t async for t in Ticket.objects.filter(order=order)]
    return render(request, "order.html", {"order": order, "tickets": tickets})


def reserve(seat_id):
    seat = Seat.objects.select_for_update().get(pk=seat_id)
    with transaction.atomic():
        notify.delay(seat_id)
    return seat
"#;

#[test]
fn a_realistic_module_is_masked_and_keeps_its_findings() {
    let m = mask(MODULE).expect("something is masked");
    let bodies: Vec<&str> = m.ranges.iter().map(|r| &MODULE[r.clone()]).collect();
    assert_eq!(bodies.len(), 4, "__str__, price, label, totals: {bodies:#?}");
    assert!(bodies.iter().all(|b| !b.contains("async") && !b.contains("select_for_update")));
    let n = compare(MODULE, "MODULE").expect("a sparse analysis");
    assert!(n >= 3, "AG101 get, AG205 select_for_update, AG208 delay: {n}");
}

#[test]
fn a_renamed_bridge_in_sync_code_keeps_its_finding() {
    // AG302 finds `s2a` through the import: the sync function holds no event word.
    let src = "from asgiref.sync import sync_to_async as s2a\n\n\nasync def fetch():\n    return 1\n\n\ndef wrap():\n    return s2a(fetch)\n";
    let settings = Settings::default();
    let index = LineIndex::new(src);
    let tree = syntax::parse(Lang::Python, src, None);
    let full = analyze(src, Lang::Python, &tree, &index, &settings);
    assert!(full.findings.iter().any(|f| f.code == "AG302"), "{:?}", full.findings);
    if let Some(sparse) = analyze_sparse(src, &settings, &index, None) {
        assert_eq!(sparse.findings, full.findings);
    }
}

/// Helpers with local imports and nested definitions (a decorator factory): their other
/// statements are blanked, the imports and nested headers stay.
const HELPERS: &str = r#""""Views and helpers."""
import functools

from django.db import transaction

from .models import Order


def export_csv(queryset):
    """Rows as CSV."""
    import csv
    import io

    buf = io.StringIO()
    writer = csv.writer(buf)
    for row in queryset.values_list("pk", "total"):
        writer.writerow(row)
    return buf.getvalue()


def cached(timeout):
    from django.core.cache import cache

    def decorator(func):
        @functools.wraps(func)
        def inner(*args):
            key = f"{func.__name__}:{args!r}"
            hit = cache.get(key)
            if hit is None:
                hit = func(*args)
                cache.set(key, hit, timeout)
            return hit

        return inner

    return decorator


async def order_total(request, pk):
    order = Order.objects.get(pk=pk)
    return order.total


def place(order_id):
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order_id)
        from .tasks import send_receipt

        send_receipt.delay(order.pk)
    return order
"#;

#[test]
fn helpers_with_local_imports_are_thinned_and_keep_the_findings() {
    let m = mask(HELPERS).expect("something is masked");
    let kept: Vec<&str> = m.text.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    for line in ["import csv", "import io", "from django.core.cache import cache", "def decorator(func):", "@functools.wraps(func)", "def inner(*args):"] {
        assert!(kept.contains(&line), "{line} is kept: {}", m.text);
    }
    for gone in ["buf = io.StringIO()", "return decorator", "return inner", "hit = cache.get(key)"] {
        assert!(!kept.contains(&gone), "{gone} is blanked: {}", m.text);
    }
    assert!(m.text.contains("send_receipt.delay(order.pk)"), "a unit with a trigger stays whole");
    let n = compare(HELPERS, "HELPERS").expect("a sparse analysis");
    assert!(n >= 2, "AG101 in order_total, AG208 in place: {n}");
}

/// Statements of a sync function body (indented 4): some record file-wide facts (imports,
/// nested definitions), some hold triggers, some only bind locals.
const BODY: &[&str] = &[
    "    import os\n",
    "    from django.db import transaction\n",
    "    y = x + 1\n",
    "    \"\"\"Doc that says def, class and import.\"\"\"\n",
    "    if x:\n        import json\n    elif y:\n        z = 2\n    else:\n        z = 3\n",
    "    try:\n        from .models import Order\n    except ImportError:\n        Order = None\n    finally:\n        w = 1\n",
    "    @functools.wraps(x)\n    def inner(*a):\n        from os import path\n        return path.join(*a)\n",
    "    def helper(q):\n        return [o for o in q]\n",
    "    class Local:\n        objects = None\n",
    "    for o in Order.objects.all():\n        print(o)\n",
    "    with transaction.atomic():\n        notify.delay(x)\n",
    "    # import this\n",
    "    return sync_to_async(x)\n",
    "    qs = Order.objects.select_for_update()\n",
    "    return Order.objects.get(pk=x)\n",
];

/// Functions around the sync ones: async views with findings, a class with methods.
const OTHERS: &[&str] = &[
    "async def view(request):\n    o = Order.objects.get(pk=1)\n    for i in Order.objects.all():\n        print(i)\n    return helper(o)\n",
    "async def fetch(request):\n    return await sync_to_async(helper)(request)\n",
    "class Shop:\n    name = 'x'\n\n    def total(self):\n        import decimal\n        return decimal.Decimal(1)\n\n    async def arefresh(self):\n        self.refresh_from_db()\n",
    "qs = Order.objects.filter(paid=True)\n",
];

fn module() -> impl Strategy<Value = String> {
    let sync_fn = (0..20usize, prop::collection::vec(prop::sample::select(BODY), 1..6)).prop_map(|(n, body)| format!("def f{n}(x):\n{}", body.concat()));
    let item = prop_oneof![3 => sync_fn, 1 => prop::sample::select(OTHERS).prop_map(str::to_string)];
    prop::collection::vec(item, 1..8).prop_map(|items| format!("import functools\nfrom asgiref.sync import sync_to_async\n\n\n{}", items.join("\n\n")))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn generated_modules_get_the_same_findings(src in module()) {
        let settings = Settings::default();
        let index = LineIndex::new(&src);
        let tree = syntax::parse(Lang::Python, &src, None);
        prop_assume!(!tree.root_node().has_error());
        let full = analyze(&src, Lang::Python, &tree, &index, &settings);
        if let Some(sparse) = analyze_sparse(&src, &settings, &index, None) {
            prop_assert_eq!(sparse.findings, full.findings, "{}", src);
        }
    }
}

#[test]
fn generated_modules_are_thinned() {
    // The generator above is not vacuous: statement-level thinning happens in its modules.
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let (mut thinned, mut total) = (0, 0);
    for _ in 0..100 {
        let src = module().new_tree(&mut runner).unwrap().current();
        total += 1;
        if let Some(m) = mask(&src) {
            // A blanked statement that is not a whole body: its text does not start a body.
            thinned += usize::from(m.text.contains("import os") && m.ranges.iter().any(|r| !m.text[r.clone()].starts_with("pass")));
        }
    }
    assert!(thinned >= 10, "only {thinned} of {total} generated modules thinned");
}

/// An async view calling a sync helper of its module: the helper's body holds no trigger and
/// is masked in the first round; AG108 reads it, so the analysis is run again with the helper
/// kept, not with the whole file parsed; a helper nobody calls stays masked.
const LOCAL_HELPER: &str = r#"from django.http import JsonResponse

from .models import Book


def shelf_names(shelf):
    rows = list(Book.objects.filter(shelf_id=shelf).values_list("title", flat=True))
    return sorted(rows)


def unrelated(values):
    total = 0
    for v in values:
        total += v
    return total


async def shelf(request, pk):
    return JsonResponse({"names": shelf_names(pk)})
"#;

#[test]
fn a_masked_helper_the_rules_read_is_kept_in_a_second_round() {
    let m = mask(LOCAL_HELPER).expect("the sync helpers are masked");
    let masked: Vec<&str> = m.ranges.iter().map(|r| LOCAL_HELPER[r.clone()].trim()).collect();
    assert!(masked.iter().any(|b| b.contains("values_list")), "shelf_names is masked at first: {masked:#?}");
    let settings = Settings::default();
    let index = LineIndex::new(LOCAL_HELPER);
    let tree = syntax::parse(Lang::Python, LOCAL_HELPER, None);
    let full = analyze(LOCAL_HELPER, Lang::Python, &tree, &index, &settings);
    assert!(full.findings.iter().any(|f| f.code == "AG108"), "{:?}", full.findings);
    let sparse = analyze_sparse(LOCAL_HELPER, &settings, &index, None).expect("a sparse analysis after a second round");
    assert_eq!(sparse.findings, full.findings);
    assert!(sparse.consulted.iter().any(|f| f.name == "shelf_names"), "the helper was read");
}
