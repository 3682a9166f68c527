//! The project model under faults: the real binary over stdio (`awaitguard lsp`), driven as an
//! editor drives it, on a copy of `tests/projects/library` in a temporary folder. While the
//! server runs, one test per fault: files deleted, renamed, made unreadable, replaced by
//! directories; symlink loops; a module that imports itself; two modules importing each
//! other; 10,000 files in one package; a `didChangeWatchedFiles` storm (1,000 events in one
//! second: its publications are counted and bounded, see `a_watched_files_storm`); a
//! workspace folder removed (from the workspace, then from the disk).
//!
//! After each fault every test proves three things:
//! - the server keeps answering: a small open probe document (outside the project) is
//!   edited, its diagnostics arrive with the CLI's findings and a hover on one of them names
//!   its code; the latency is printed and only bounded generously (10 s: a debug build on a
//!   shared machine);
//! - memory stays bounded: the server's `VmHWM` (peak RSS, `/proc/PID/status`) under 500 MB;
//! - the diagnostics of every open document equal those of a fresh server started on the
//!   final files (same workspace folders, same open texts): the model's incremental state
//!   after the fault is the state a restart would build.
//!
//! Unreadable files: tests may run as root, where `chmod 000` does not deny reads. The test
//! detects that (it tries to read the file after the chmod) and then makes the read fail
//! another way: the file is replaced by a dangling symlink.

mod common;

use common::lsp::{push_caps, Client};
use awaitguard::config::Settings;
use awaitguard::syntax::Lang;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The liveness probe: small, outside the project, with findings of its own.
const PROBE: &str = "from django.http import JsonResponse\n\nfrom .models import Product\n\n\nasync def product_detail(request, pk):\n    product = Product.objects.get(pk=pk)\n    return JsonResponse({\"name\": product.name})\n";
const PROBE_URI: &str = "file:///model-torture-probe/shop/views.py";

/// How long one analysis may take before the test fails (a debug build, a busy machine).
const SLOW: Duration = Duration::from_secs(10);
/// How long a publication may take while the server reads 10,000 files (a debug build).
const WAIT: Duration = Duration::from_secs(120);
/// Peak RSS ceiling, in KiB.
const CEILING_KB: u64 = 500 * 1024;

/// The bound on sending the 1,000-event storm (see `a_watched_files_storm`): liveness only.
const STORM_SEND_MAX: Duration = Duration::from_secs(5);
/// The watched-files batch window of the server (`lsp/configuration.rs`).
const STORM_BATCH: Duration = Duration::from_millis(30);

/// CPU time (user + system) the process `pid` has used, in ms (`/proc/PID/stat`, at the
/// usual 100 ticks per second).
fn cpu_ms(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<u64> = after.split_whitespace().map(|x| x.parse().unwrap_or(0)).collect();
    // After the command name: state is field 0, utime 11, stime 12.
    (f.get(11).copied().unwrap_or(0) + f.get(12).copied().unwrap_or(0)) * 10
}

use common::copy_dir;

fn uri(p: &Path) -> String {
    format!("file://{}", p.display())
}

fn spawn(folders: &[PathBuf]) -> Client {
    let mut caps = push_caps(&["utf-16"]);
    caps["workspace"]["didChangeWatchedFiles"] = json!({"dynamicRegistration": false});
    let ws: Vec<Value> = folders.iter().map(|f| json!({"uri": uri(f), "name": "ws"})).collect();
    let root = folders.first().map(|f| json!(uri(f))).unwrap_or(Value::Null);
    let mut c = Client::spawn();
    c.request("initialize", json!({"processId": null, "rootUri": root, "capabilities": caps, "workspaceFolders": ws}));
    c.notify("initialized", json!({}));
    c
}

/// Waits for the publication of `version` of `u`; returns its diagnostics without the
/// document version their `data` carries (so two sessions' diagnostics compare).
fn published(c: &mut Client, u: &str, version: i32) -> Value {
    let p = c
        .try_wait_for("textDocument/publishDiagnostics", &|p| p["uri"] == u && p["version"] == version, WAIT)
        .unwrap_or_else(|| panic!("no publication of version {version} of {u}"));
    let mut d = p["params"]["diagnostics"].clone();
    for d in d.as_array_mut().unwrap() {
        if let Some(data) = d.get_mut("data").and_then(Value::as_object_mut) {
            data.remove("version");
        }
    }
    d
}

/// One open document: uri, text, version.
struct Doc {
    uri: String,
    text: String,
    version: i32,
}

/// A running server on a copy of the library project, with open documents.
struct Session {
    _dir: tempfile::TempDir,
    root: PathBuf,
    folders: Vec<PathBuf>,
    c: Client,
    docs: Vec<Doc>,
    probe_version: i32,
}

impl Session {
    /// The library project copied, `prepare` run on it, a server started, `views.py` and the
    /// probe opened and published.
    fn start(prepare: impl FnOnce(&Path)) -> Session {
        let dir = tempfile::tempdir().unwrap();
        copy_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/projects/library"), dir.path());
        let root = dir.path().canonicalize().unwrap();
        prepare(&root);
        let folders = vec![root.clone()];
        let c = spawn(&folders);
        let mut s = Session { _dir: dir, root, folders, c, docs: vec![], probe_version: 1 };
        s.c.open(PROBE_URI, "python", 1, PROBE);
        published(&mut s.c, PROBE_URI, 1);
        s.open("library/lending/views.py");
        s
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }

    /// Opens the file at `rel` (its text on disk) and waits for its first publication.
    fn open(&mut self, rel: &str) -> Value {
        let p = self.path(rel);
        let text = std::fs::read_to_string(&p).unwrap();
        self.open_text(&p, &text)
    }

    fn open_text(&mut self, p: &Path, text: &str) -> Value {
        let u = uri(p);
        self.c.open(&u, "python", 1, text);
        let d = published(&mut self.c, &u, 1);
        self.docs.push(Doc { uri: u, text: text.to_string(), version: 1 });
        d
    }

    /// Tells the server what changed on disk (1 created, 2 changed, 3 deleted).
    fn watched(&mut self, changes: &[(&Path, u32)]) {
        let changes: Vec<Value> = changes.iter().map(|(p, t)| json!({"uri": uri(p), "type": t})).collect();
        self.c.notify("workspace/didChangeWatchedFiles", json!({"changes": changes}));
    }

    /// The server still answers: the probe, edited, is published with the CLI's findings
    /// and a hover on its first finding names the rule. Memory is under the ceiling.
    /// Returns (publication latency, hover latency).
    fn alive(&mut self, what: &str) -> (Duration, Duration) {
        self.probe_version += 1;
        let v = self.probe_version;
        // Alternate between two texts with the same findings (a trailing blank line).
        let text = if v % 2 == 0 { format!("{PROBE}\n") } else { PROBE.to_string() };
        let t0 = Instant::now();
        self.c.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": PROBE_URI, "version": v}, "contentChanges": [{"text": text}]}),
        );
        let diags = published(&mut self.c, PROBE_URI, v);
        let publish = t0.elapsed();
        let expected = common::analyze_text(&text, Lang::Python, &Settings::default());
        let diags = diags.as_array().unwrap().clone();
        assert!(!expected.is_empty());
        assert_eq!(diags.len(), expected.len(), "{what}: probe diagnostics {diags:?}");
        let first = &diags[0];
        let t1 = Instant::now();
        let h = self.c.request(
            "textDocument/hover",
            json!({"textDocument": {"uri": PROBE_URI}, "position": first["range"]["start"]}),
        );
        let hover = t1.elapsed();
        let code = first["code"].as_str().unwrap();
        assert!(h["contents"]["value"].as_str().is_some_and(|v| v.contains(code)), "{what}: hover {h}");
        assert!(publish < SLOW && hover < SLOW, "{what}: publication {publish:?}, hover {hover:?}");
        let peak = self.c.peak_rss_kb().expect("VmHWM");
        let rss = self.c.rss_kb().expect("VmRSS");
        eprintln!("{what}: probe published in {publish:?}, hover in {hover:?}; RSS {} MB, peak {} MB", rss / 1024, peak / 1024);
        assert!(peak < CEILING_KB, "{what}: peak RSS {} MB", peak / 1024);
        (publish, hover)
    }

    /// Every open document, edited to a new version with the same text, is published with
    /// exactly the diagnostics a fresh server on the same folders gives the same texts.
    fn equals_fresh(&mut self, what: &str) -> Vec<Value> {
        let mut live = vec![];
        for d in &mut self.docs {
            d.version += 1;
            self.c.notify(
                "textDocument/didChange",
                json!({"textDocument": {"uri": d.uri, "version": d.version}, "contentChanges": [{"text": d.text}]}),
            );
        }
        for d in &self.docs {
            live.push(published(&mut self.c, &d.uri, d.version));
        }
        // The fresh server: every document opened, then (the documents may read each other's
        // open texts) each edited to version 2 with the same text, so its publication comes
        // after all of them are open.
        let mut fresh = spawn(&self.folders);
        let mut again = vec![];
        for d in &self.docs {
            fresh.open(&d.uri, "python", 1, &d.text);
        }
        for d in &self.docs {
            fresh.notify("textDocument/didChange", json!({"textDocument": {"uri": d.uri, "version": 2}, "contentChanges": [{"text": d.text}]}));
        }
        for d in &self.docs {
            again.push(published(&mut fresh, &d.uri, 2));
        }
        for ((d, l), f) in self.docs.iter().zip(&live).zip(&again) {
            assert!(l == f, "{what}: {} differs from a fresh server's:\nlive:  {:?}\nfresh: {:?}\nlive in full: {l}\nfresh in full: {f}", d.uri, brief(l), brief(f));
        }
        assert_eq!(fresh.shutdown_and_exit(), 0);
        eprintln!("{what}: {} open documents equal a fresh server's ({} diagnostics)", self.docs.len(), live.iter().map(|l| l.as_array().unwrap().len()).sum::<usize>());
        live
    }

    /// Both checks, then a clean shutdown.
    fn check(&mut self, what: &str) -> Vec<Value> {
        self.alive(what);
        self.equals_fresh(what)
    }

    fn finish(self) {
        assert_eq!(self.c.shutdown_and_exit(), 0);
    }
}

/// (line, code, message) of each diagnostic.
fn brief(d: &Value) -> Vec<(u64, String, String)> {
    d.as_array().unwrap().iter().map(|d| (d["range"]["start"]["line"].as_u64().unwrap(), d["code"].as_str().unwrap_or("").to_string(), d["message"].as_str().unwrap_or("").to_string())).collect()
}

fn codes(d: &Value) -> Vec<String> {
    d.as_array().unwrap().iter().map(|d| d["code"].as_str().unwrap().to_string()).collect()
}

#[test]
fn files_deleted() {
    let mut s = Session::start(|_| {});
    s.open("library/lending/services.py");
    // An unopened file another reads, then a whole package.
    let models = s.path("library/lending/models.py");
    std::fs::remove_file(&models).unwrap();
    s.watched(&[(&models, 3)]);
    s.check("lending/models.py deleted");
    let catalog = s.path("library/catalog");
    std::fs::remove_dir_all(&catalog).unwrap();
    s.watched(&[(&catalog, 3)]);
    s.check("catalog/ deleted");
    // An open document's file deleted: the open text still wins.
    let services = s.path("library/lending/services.py");
    std::fs::remove_file(&services).unwrap();
    s.watched(&[(&services, 3)]);
    s.check("open services.py deleted");
    s.finish();
}

#[test]
fn files_renamed() {
    let mut s = Session::start(|_| {});
    let services = s.path("library/lending/services.py");
    let moved = s.path("library/lending/services_old.py");
    std::fs::rename(&services, &moved).unwrap();
    s.watched(&[(&services, 3), (&moved, 1)]);
    s.check("services.py renamed");
    let catalog = s.path("library/catalog");
    let shelf = s.path("library/shelf");
    std::fs::rename(&catalog, &shelf).unwrap();
    s.watched(&[(&catalog, 3), (&shelf, 1)]);
    s.check("catalog/ renamed");
    // And back: the cross-file findings return.
    std::fs::rename(&shelf, &catalog).unwrap();
    std::fs::rename(&moved, &services).unwrap();
    s.watched(&[(&shelf, 3), (&catalog, 1), (&moved, 3), (&services, 1)]);
    let d = s.check("renamed back");
    assert!(codes(&d[0]).contains(&"AG102".to_string()), "the helper's findings are back: {:?}", d[0]);
    s.finish();
}

/// Makes reading `p` fail: `chmod 000`, or, where that does not deny reads (root), a
/// dangling symlink in its place. Returns how.
fn make_unreadable(p: &Path) -> &'static str {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o000)).unwrap();
    if std::fs::read(p).is_err() {
        return "chmod 000";
    }
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o644)).unwrap();
    std::fs::remove_file(p).unwrap();
    std::os::unix::fs::symlink(p.with_extension("py.missing"), p).unwrap();
    assert!(std::fs::read(p).is_err());
    "dangling symlink (root: chmod does not deny reads)"
}

#[test]
fn files_made_unreadable() {
    let mut s = Session::start(|_| {});
    let models = s.path("library/catalog/models.py");
    let how = make_unreadable(&models);
    s.watched(&[(&models, 2)]);
    s.check(&format!("catalog/models.py unreadable ({how})"));
    let services = s.path("library/lending/services.py");
    let how = make_unreadable(&services);
    s.watched(&[(&services, 2)]);
    s.check(&format!("services.py unreadable ({how})"));
    // Not UTF-8 and no coding declaration: not a readable source either.
    let querysets = s.path("library/catalog/querysets.py");
    std::fs::write(&querysets, b"\xff\xfe\x00class X:\n    pass\n\xc3\n").unwrap();
    s.watched(&[(&querysets, 2)]);
    s.check("querysets.py not UTF-8");
    // Readable again.
    std::fs::remove_file(&services).unwrap();
    std::fs::copy(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/projects/library/library/lending/services.py"), &services).unwrap();
    s.watched(&[(&services, 2)]);
    s.check("services.py readable again");
    s.finish();
}

#[test]
fn files_replaced_by_directories() {
    let mut s = Session::start(|_| {});
    let services = s.path("library/lending/services.py");
    std::fs::remove_file(&services).unwrap();
    std::fs::create_dir(&services).unwrap();
    std::fs::write(services.join("__init__.py"), "def books_by(a):\n    return []\n").unwrap();
    s.watched(&[(&services, 3), (&services, 1), (&services.join("__init__.py"), 1)]);
    s.check("services.py a directory");
    // A module replaced by a package of the same name (a real refactoring).
    let models = s.path("library/catalog/models.py");
    let text = std::fs::read_to_string(&models).unwrap();
    std::fs::remove_file(&models).unwrap();
    let pkg = s.path("library/catalog/models");
    std::fs::create_dir(&pkg).unwrap();
    std::fs::write(pkg.join("__init__.py"), text).unwrap();
    s.watched(&[(&models, 3), (&pkg, 1)]);
    s.check("catalog/models.py a package");
    s.finish();
}

#[test]
fn symlink_loops() {
    let mut s = Session::start(|root| {
        let lending = root.join("library/lending");
        // A folder that contains itself, two files pointing at each other, one at itself.
        std::os::unix::fs::symlink("..", lending.join("up")).unwrap();
        std::os::unix::fs::symlink(&lending, lending.join("again")).unwrap();
        std::os::unix::fs::symlink("b.py", lending.join("a.py")).unwrap();
        std::os::unix::fs::symlink("a.py", lending.join("b.py")).unwrap();
        std::os::unix::fs::symlink("me.py", lending.join("me.py")).unwrap();
    });
    let text = "from .a import f\nfrom .me import g\nfrom .again.again.again.services import books_by\nfrom .up.lending.up.lending.views import available_count\nfrom library.lending.again.again import services\n\n\nasync def loop_view(request, author):\n    qs = await books_by(author)\n    for b in qs:\n        print(b)\n    x = f()\n    y = g()\n    return services.open_loans(x).first()\n";
    let p = s.path("library/lending/loops.py");
    std::fs::write(&p, text).unwrap();
    s.open_text(&p, text);
    s.check("symlink loops at start");
    // A new loop while running.
    let c = s.path("library/catalog/c.py");
    std::os::unix::fs::symlink("c.py", &c).unwrap();
    let round = s.path("library/catalog/round");
    std::os::unix::fs::symlink(s.path("library"), &round).unwrap();
    s.watched(&[(&c, 1), (&round, 1)]);
    s.check("symlink loops added");
    s.finish();
}

#[test]
fn a_module_that_imports_itself() {
    let mut s = Session::start(|_| {});
    let text = "from library.catalog.models import Book\nfrom library.lending import selfish\nfrom library.lending.selfish import helper, missing\nfrom .selfish import *\nfrom . import selfish as me\n\n\ndef helper():\n    return me.helper()\n\n\ndef other():\n    return selfish.other()\n\n\nasync def view(request):\n    for b in helper():\n        print(b)\n    n = other().count()\n    return Book.objects.get(pk=1)\n";
    let p = s.path("library/lending/selfish.py");
    std::fs::write(&p, text).unwrap();
    s.watched(&[(&p, 1)]);
    let d = s.open_text(&p, text);
    assert!(codes(&d).contains(&"AG101".to_string()), "the file's own findings: {d}");
    s.check("a module importing itself");
    s.finish();
}

#[test]
fn two_modules_importing_each_other() {
    let mut s = Session::start(|root| {
        let lending = root.join("library/lending");
        std::fs::write(
            lending.join("ping.py"),
            "from .pong import *\nfrom .pong import g as f\nfrom . import pong\nfrom library.catalog.models import Book\n\n\ndef h():\n    return pong.h()\n\n\ndef real():\n    return Book.objects.filter(pk=1)\n",
        )
        .unwrap();
        std::fs::write(
            lending.join("pong.py"),
            "from .ping import *\nfrom .ping import f as g\nfrom . import ping\n\n\ndef h():\n    return ping.h()\n\n\ndef k():\n    return ping.real()\n",
        )
        .unwrap();
    });
    let text = "from .ping import f, h, real\nfrom .pong import g, k\n\n\nasync def view(request):\n    for b in real():\n        print(b)\n    a = f().count()\n    b = g().count()\n    c = h().count()\n    return k().first()\n";
    let p = s.path("library/lending/both.py");
    std::fs::write(&p, text).unwrap();
    s.open_text(&p, text);
    s.open("library/lending/ping.py");
    s.check("two modules importing each other");
    // One of them edited in the editor: the cycle through the open text.
    let ping = s.docs.iter().position(|d| d.uri.ends_with("ping.py")).unwrap();
    let edited = s.docs[ping].text.replace("return Book.objects.filter(pk=1)", "return list(Book.objects.filter(pk=1))");
    s.docs[ping].text = edited.clone();
    s.docs[ping].version += 1;
    let (u, v) = (s.docs[ping].uri.clone(), s.docs[ping].version);
    s.c.notify("textDocument/didChange", json!({"textDocument": {"uri": u, "version": v}, "contentChanges": [{"text": edited}]}));
    s.check("ping.py edited");
    s.finish();
}

#[test]
fn ten_thousand_files_in_one_package() {
    let mut s = Session::start(|root| {
        let big = root.join("library/big");
        std::fs::create_dir(&big).unwrap();
        std::fs::write(big.join("__init__.py"), "from .m9999 import q9999\nfrom .m0 import *\n").unwrap();
        for i in 0..10_000 {
            std::fs::write(
                big.join(format!("m{i}.py")),
                format!("from library.catalog.models import Book\nfrom .m{} import q{} as prev\n\n\ndef q{i}():\n    return Book.objects.filter(pk={i})\n", (i + 9_999) % 10_000, (i + 9_999) % 10_000),
            )
            .unwrap();
        }
    });
    let text = "from library.big import q9999\nfrom library.big.m5000 import q5000, prev\nfrom library.big.m0 import q0\n\n\nasync def view(request):\n    for b in q9999():\n        print(b)\n    n = q5000().count()\n    m = prev().count()\n    return q0()\n";
    let p = s.path("library/lending/big_view.py");
    std::fs::write(&p, text).unwrap();
    let d = s.open_text(&p, text);
    assert!(codes(&d).iter().filter(|c| *c == "AG101" || *c == "AG102").count() >= 3, "helpers in the big package resolve: {d}");
    s.check("10,000 files");
    // One of them changes on disk.
    let m = s.path("library/big/m5000.py");
    std::fs::write(&m, "def q5000():\n    return []\n").unwrap();
    s.watched(&[(&m, 2)]);
    s.check("10,000 files, one changed");
    s.finish();
}

#[test]
fn a_watched_files_storm() {
    let mut s = Session::start(|_| {});
    s.open("library/lending/consumers.py");
    let services = s.path("library/lending/services.py");
    let models = s.path("library/catalog/models.py");
    let base = std::fs::read_to_string(&services).unwrap();
    let listed = base.replace("return Book.objects.filter(author=author)", "return list(Book.objects.filter(author=author))");
    let models_base = std::fs::read_to_string(&models).unwrap();
    let models_edit = models_base.replace(", related_name=\"loans\"", "");
    s.c.drain_for(Duration::from_millis(200));
    s.c.queue.clear();
    let cpu0 = cpu_ms(s.c.pid());
    let t0 = Instant::now();
    for i in 0..1_000usize {
        // Edits that change what the open views learn, files that come and go, a folder.
        match i % 4 {
            0 => {
                std::fs::write(&services, if i % 8 == 0 { &listed } else { &base }).unwrap();
                s.watched(&[(&services, 2)]);
            }
            1 => {
                let extra = s.path(&format!("library/lending/extra{}.py", i % 50));
                if extra.exists() {
                    std::fs::remove_file(&extra).unwrap();
                    s.watched(&[(&extra, 3)]);
                } else {
                    std::fs::write(&extra, format!("from .services import books_by as b{i}\n")).unwrap();
                    s.watched(&[(&extra, 1)]);
                }
            }
            2 => {
                std::fs::write(&models, if i % 3 == 0 { &models_edit } else { &models_base }).unwrap();
                s.watched(&[(&models, 2)]);
            }
            _ => {
                let catalog = s.path("library/catalog");
                s.watched(&[(&catalog, 2)]);
            }
        }
    }
    let sent = t0.elapsed();
    let cpu_sent = cpu_ms(s.c.pid());
    eprintln!("storm: 1,000 didChangeWatchedFiles (and their disk changes) sent in {sent:?}; server CPU {} ms", cpu_sent - cpu0);
    // The send time is printed and bounded only for liveness: on this shared 2-core machine
    // it is dominated by the load and by the test's own disk writes (debug build, same load,
    // alternating: 0.24-1.07 s before batching, 0.13-1.27 s after), so no bound on it tells
    // the two apart. What batching changes is the work the storm causes: the handler drops
    // the affected analyses at once and the documents are analysed and published once per
    // batch window, so each open document is published at most once per window (plus one
    // round already under way). Before, every event re-published the documents it touched: 122-380
    // publications of the 3 open documents here; after, 21-27.
    assert!(sent < STORM_SEND_MAX, "sending the storm took {sent:?} (bound {STORM_SEND_MAX:?})");
    // Let the last batch settle, then count the publications the storm caused.
    let settle = Duration::from_millis(500);
    s.c.drain_for(settle);
    let published = s.c.queue.iter().filter(|m| m["method"] == "textDocument/publishDiagnostics").count();
    let windows = ((sent + settle).as_millis() / STORM_BATCH.as_millis()) as usize + 2;
    // The open documents and the probe (a folder event re-analyses every open document).
    let open = s.docs.len() + 1;
    eprintln!("storm: {published} publications of the {open} open documents during and after it (bound {})", open * windows);
    assert!(published <= open * windows, "the storm caused {published} publications: not batched");
    s.check("after the storm");
    eprintln!("storm: server CPU {} ms from the first event to the checks after it", cpu_ms(s.c.pid()) - cpu0);
    s.finish();
}

#[test]
fn a_workspace_folder_removed() {
    let mut s = Session::start(|_| {});
    s.open("library/lending/services.py");
    s.check("before");
    let root = s.root.clone();
    s.c.notify("workspace/didChangeWorkspaceFolders", json!({"event": {"added": [], "removed": [{"uri": uri(&root), "name": "ws"}]}}));
    s.folders.clear();
    s.check("folder removed from the workspace");
    s.c.notify("workspace/didChangeWorkspaceFolders", json!({"event": {"added": [{"uri": uri(&root), "name": "ws"}], "removed": []}}));
    s.folders.push(root.clone());
    s.check("folder added back");
    // Gone from the disk too, while its documents are open.
    std::fs::remove_dir_all(&root).unwrap();
    s.watched(&[(&root, 3)]);
    s.check("folder deleted from disk");
    s.c.notify("workspace/didChangeWorkspaceFolders", json!({"event": {"added": [], "removed": [{"uri": uri(&root), "name": "ws"}]}}));
    s.folders.clear();
    s.check("deleted folder removed");
    s.finish();
}
