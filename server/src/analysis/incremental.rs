//! Focused re-analysis after an edit (issue 8): re-run the rules on the one function the edit
//! touched and keep the previous findings everywhere else.
//!
//! Invariant: [`analyze_incremental`] returns exactly the findings of [`super::analyze`] on
//! the new text, whatever the previous [`Snapshot`] (property-tested against a fresh full
//! analysis in `tests/incremental.rs`, `tests/fuzz_props.rs` and the `edit_script` fuzz
//! target). Pure: the result depends only on the arguments. The snapshot must come from the
//! same settings (the server keys it by settings generation).
//!
//! The focused path is taken only when all of these hold, else the whole file is analysed
//! (the [`Fallback`] says why):
//! - the previous analysis had no internal error, both trees parse without error, the file is
//!   Python;
//! - the text difference (common prefix/suffix of old and new text) lies in the *slot* of one
//!   function unit F, before and after: from the start of F's body to the start of the line of
//!   the next module-level or class-body statement (or the end of the file). Units are
//!   module-level functions and methods defined directly in a module-level class;
//! - the statement structure outside F is unchanged: the same module-level and class-body
//!   statements at the same (shifted) offsets, F at the same start with the same body start.
//!   Together with the above, the text outside F's slot is unchanged;
//! - the same rules run (the trigger pre-filter: its counts of the previous text are updated
//!   by scanning only around the change, [`triggers::Counts::update`], which equals a scan of
//!   the whole new text);
//! - the whole-file facts of the semantic model are unchanged ([`Digest`]): imports, classes
//!   and their manager / relation attributes, offloaded names, every `def`/`class` header with
//!   its async-ness, parent kind and offloaded flag (functions are resolved by name across
//!   the file), where imports go, and the file's line ending;
//! - neither the old nor the new slot mentions `_atomic` (the extract fix picks a fresh
//!   module-level name by searching the whole text);
//! - no previous finding straddles F's unit (from its `def` or first decorator to the slot's
//!   end), no fix of a finding outside it edits inside it, and no finding of the focused run
//!   straddles it.
//!
//! Then the rules run with the queries and the atomic-region search restricted to F's unit
//! ([`super::Focus::Range`]); their findings inside the unit replace the old ones there, and
//! the old findings after it are shifted by the edit's length difference.
//!
//! The semantic model does not walk the other function units' bodies whole
//! ([`PyModel::build_skipping`]): of such a body it enters only the nodes whose byte range
//! holds one of the previous model's [`PyModel::events`] in it (moved by the edit's length
//! difference when after it), so none for most bodies, and walks a nested `def` or `class`
//! so reached whole. Why the model's whole-file facts are then exactly those of the full model
//! (so the [`Digest`] comparison stays exact, and the rules, which read from F only F's own
//! facts and these, see what a full analysis sees):
//! - the body's text is unchanged (it lies outside F's slot) and so is its subtree, so its
//!   events in the new tree are its previous events, moved;
//! - every node holding an event is entered, in document order, with the same enclosing
//!   scopes as in a full walk (its ancestors are entered too), so each import, nested
//!   `def`/`class` (with its header, async-ness, parent kind, decorators and everything in
//!   it: class attributes, managers, relations) and offloader call that names a function is
//!   recorded as in the full walk, and the new events are exactly the previous ones, moved;
//! - a node not entered holds no event: no import, no `def`/`class`, no name handed to an
//!   offloader. What it does hold contributes only facts local to the body: bindings in the
//!   body's scopes (not visible from F: F is not nested in it, and class scopes are not
//!   visible from methods), comments (suppressions read the finding's own line, inside F's
//!   unit), loops, lambdas and generators (scopes that are not in the [`Digest`]), offload
//!   argument ranges and offloaded lambdas (looked up at positions inside F only).
//!   Module-level facts (`import_insert`, the docstring) come from module-level statements,
//!   which are walked. Nor are such a function's parameters bound: they are bound in its
//!   body's scope, which is not visible from F either (parameter defaults and annotations,
//!   evaluated in the enclosing scope, are walked as in a full walk).
//! - the `def`/`class` scopes are pushed in the same order with the same parents (the parent
//!   of a nested `def` is the enclosing function or class, both entered), so the [`Digest`]'s
//!   list of scope signatures is compared position by position as before.
//!
//! Nor does the model go into such a unit's statement at all when its body has no event and
//! its header (from the statement's start to the body) is a [`quiet_header`]: it records the
//! body's scope, the name's binding and the `def` node as the walk would ([`Skip::head`]).
//! Why that is exact: a quiet header holds nothing else the walk records (see
//! [`quiet_header`]: no comment, lambda, comprehension, named expression, `as` pattern,
//! offloader call or offloading decorator), and its body is skipped as above. Whether a
//! header is quiet is decided once, on the full analysis, and kept in the snapshot: every
//! unit's header lies outside the edited slot (F's before its body start), so its text, and
//! the answer, carry over. A unit test (`model_replays_only_quiet_headers`) checks that
//! replaying a header that is not quiet would lose a fact.
//!
//! Likewise a unit with a quiet header whose body's events are all names handed to an
//! offloader ([`PyModel::offloads`], kept in the snapshot with the events): its `def` and
//! those offloads (event, offloaded name) are recorded without going into it. Exact for the
//! same reasons: the body's text is unchanged, so its events are its previous ones and each
//! names what it named before; such an event records nothing else but local facts (the
//! offloader call's argument range, which is looked up inside F only); and a body with any
//! other event (an import, a nested `def` or `class`) is walked towards its events as above
//! (`offload_only_bodies_are_replayed` checks that replaying one would lose a fact).

use super::{analyze_rules, rules_for, triggers, Analysis, Focus};
use crate::rules::Finding;
use crate::settings::Settings;
use crate::semantic::python::{quiet_header, Field, Skip};
use crate::semantic::outside::Outside;
use crate::semantic::summary::LocalFn;
use crate::semantic::{PyModel, ScopeKind};
use crate::syntax::Lang;
use crate::text::LineIndex;
use rustc_hash::{FxHashMap, FxHashSet};
use std::ops::Range;
use std::sync::Arc;
use tree_sitter::{Node, Tree};

/// What the previous analysis of a document leaves for the next one.
#[derive(Debug)]
pub struct Snapshot {
    text: String,
    lang: Lang,
    findings: Vec<Finding>,
    /// False after an internal error or on a tree with a syntax error.
    usable: bool,
    /// The functions of this file whose bodies the analysis read for another's sake (what a
    /// helper returns), as it found them.
    consulted: Vec<LocalFn>,
    /// Bodies whose syntax the analysis read for other functions' sake
    /// ([`Analysis::read_bodies`]).
    read_bodies: Vec<std::ops::Range<usize>>,
    facts: Facts,
}

/// The facts of the analysed text that the next focused analysis starts from.
#[derive(Clone, Debug)]
struct Facts {
    entries: Vec<Entry>,
    /// By entry: a function unit whose header (from its statement's start to its body) is a
    /// [`quiet_header`]. Headers lie outside the edited slot, so this carries over.
    quiet: Vec<bool>,
    digest: Option<Arc<Digest>>,
    /// The model's `import_insert`.
    import_insert: usize,
    /// The model's [`PyModel::events`].
    events: Vec<usize>,
    /// The model's [`PyModel::offloads`].
    offloads: Vec<(usize, String)>,
    rules: Vec<&'static str>,
    /// The trigger counts of the text (the pre-filter), updated around each edit.
    counts: triggers::Counts,
}

impl Snapshot {
    /// The text this snapshot was computed for.
    pub fn text(&self) -> &str {
        &self.text
    }
}

/// A module-level or class-body statement; `body` for a function unit.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Entry {
    start: usize,
    body: Option<Range<usize>>,
}

/// Why the whole file was analysed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fallback {
    /// No previous analysis, or it had an internal error or a syntax error.
    NoSnapshot,
    /// Rust files are always analysed whole.
    NotPython,
    /// The new tree has a syntax error.
    SyntaxError,
    /// The change is not within the slot of one function unit.
    OutsideOneFunction,
    /// Statements outside the unit moved, appeared or vanished, or its body start moved.
    StructureChanged,
    /// Another set of rules runs (the trigger pre-filter).
    RulesChanged,
    /// A whole-file fact of the model changed (or no rule ran, so there is no model).
    ModelChanged,
    /// `_atomic` in the old or new unit (fresh-name search of the extract fix).
    FreshName,
    /// A finding or fix reaches across the unit's boundary.
    Straddles,
    /// The focused run had an internal error.
    Errors,
    /// The previous analysis read a helper's body (what it returns), or the focused run
    /// asked about a function outside the edited one: the edit may change another
    /// function's findings.
    HelperConsulted,
}

/// How [`analyze_incremental`] got its result.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Path {
    /// Same text as the snapshot: its findings.
    Unchanged,
    /// Only the edited function was re-analysed.
    Focused,
    Full(Fallback),
}

/// The whole-file facts of the Python model that rules read across functions.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Digest {
    imports: FxHashMap<String, String>,
    flags: (bool, bool, bool, bool),
    classes: FxHashMap<String, Vec<String>>,
    sets: [FxHashSet<String>; 4],
    scopes: Vec<ScopeSig>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct ScopeSig {
    kind: ScopeKind,
    name: Option<String>,
    is_async: bool,
    offloaded: bool,
    parent: Option<ScopeKind>,
    /// Decorators, `def`/`class`, name, parameters or bases: up to the body.
    header: String,
}

fn flags(py: &PyModel) -> (bool, bool, bool, bool) {
    // A plain byte search first: most files have no `\r` at all.
    let crlf = py.src.as_bytes().contains(&b'\r') && py.src.contains("\r\n");
    (py.imports_django, py.imports_other_odm, py.star_from_models, crlf)
}

/// The `def`/`class` scopes of a model: (scope, parent kind, header).
fn def_scopes<'m>(py: &'m PyModel) -> impl Iterator<Item = (&'m crate::semantic::Scope, Option<ScopeKind>, &'m str)> {
    py.scopes
        .iter()
        .filter(|s| matches!(s.kind, ScopeKind::Function | ScopeKind::Class))
        .map(|s| (s, s.parent.map(|p| py.scopes[p].kind), py.src.get(s.def_start..s.range.start).unwrap_or("")))
}

impl Digest {
    fn of(py: &PyModel) -> Digest {
        let scopes = def_scopes(py)
            .map(|(s, parent, header)| ScopeSig {
                kind: s.kind,
                name: s.name.clone(),
                is_async: s.is_async,
                offloaded: s.offloaded,
                parent,
                header: header.to_string(),
            })
            .collect();
        Digest {
            imports: py.imports.clone(),
            flags: flags(py),
            classes: py.classes.clone(),
            sets: [py.manager_attrs.clone(), py.offloaded_names().clone(), py.m2m_attrs.clone(), py.related_names.clone()],
            scopes,
        }
    }

    /// True when `py` has these facts (`Digest::of(py) == *self`, without building it).
    fn matches(&self, py: &PyModel) -> bool {
        self.imports == py.imports
            && self.flags == flags(py)
            && self.classes == py.classes
            && self.sets[0] == py.manager_attrs
            && self.sets[1] == *py.offloaded_names()
            && self.sets[2] == py.m2m_attrs
            && self.sets[3] == py.related_names
            && self.scopes.len() == def_scopes(py).count()
            && self.scopes.iter().zip(def_scopes(py)).all(|(a, (s, parent, header))| {
                a.kind == s.kind
                    && a.name == s.name
                    && a.is_async == s.is_async
                    && a.offloaded == s.offloaded
                    && a.parent == parent
                    && a.header == header
            })
    }
}

/// The module-level statements and the statements of module-level class bodies, in order.
fn entries(tree: &Tree) -> Vec<Entry> {
    fn func_body(n: Node) -> Option<Range<usize>> {
        let def = if n.kind() == "decorated_definition" { n.field("definition")? } else { n };
        (def.kind() == "function_definition").then(|| def.field("body").map(|b| b.byte_range()))?
    }
    fn class_body(n: Node) -> Option<Node> {
        let def = if n.kind() == "decorated_definition" { n.field("definition")? } else { n };
        (def.kind() == "class_definition").then(|| def.field("body"))?
    }
    let mut out = vec![];
    let root = tree.root_node();
    let mut c = root.walk();
    for n in root.named_children(&mut c).filter(|n| n.kind() != "comment") {
        out.push(Entry { start: n.start_byte(), body: func_body(n) });
        if let Some(body) = class_body(n) {
            let mut c2 = body.walk();
            for m in body.named_children(&mut c2).filter(|m| m.kind() != "comment") {
                out.push(Entry { start: m.start_byte(), body: func_body(m) });
            }
        }
    }
    out
}

/// The lengths of the common prefix of `old` and `new`, and of the common suffix of what
/// follows that prefix in each (compared a chunk at a time, then byte by byte).
fn common_affixes(old: &[u8], new: &[u8]) -> (usize, usize) {
    const K: usize = 32;
    let whole = old.chunks_exact(K).zip(new.chunks_exact(K)).take_while(|(a, b)| a == b).count() * K;
    let p = whole + old[whole..].iter().zip(&new[whole..]).take_while(|(a, b)| a == b).count();
    let (o, n) = (&old[p..], &new[p..]);
    let whole = o.rchunks_exact(K).zip(n.rchunks_exact(K)).take_while(|(a, b)| a == b).count() * K;
    let s = whole
        + o[..o.len() - whole].iter().rev().zip(n[..n.len() - whole].iter().rev()).take_while(|(a, b)| a == b).count();
    (p, s)
}

/// End of entry `i`'s slot: the start of the line of the next entry, or the end of the text.
fn slot_end(entries: &[Entry], i: usize, text: &str) -> usize {
    let body_end = entries[i].body.as_ref().map_or(entries[i].start, |b| b.end);
    match entries.get(i + 1) {
        Some(next) => text[..next.start].rfind(['\n', '\r']).map_or(0, |j| j + 1).max(body_end),
        None => text.len(),
    }
}

/// The findings of [`super::analyze`] on `text`, reusing `prev` (the snapshot of an earlier
/// text of the same document, analysed with the same settings) where that is provably equal;
/// plus the snapshot for the next call and how the result was obtained.
pub fn analyze_incremental(
    prev: Option<&Snapshot>,
    text: String,
    lang: Lang,
    tree: &Tree,
    index: &LineIndex,
    settings: &Settings,
    outside: Option<&dyn Outside>,
) -> (Analysis, Snapshot, Path) {
    match try_focused(prev, text, lang, tree, index, settings, outside) {
        Ok(done) => done,
        Err((text, why)) => full(text, lang, tree, index, settings, outside, why),
    }
}

/// [`analyze_incremental`] when it does not fall back to [`full`]; else the text back and why
/// (for a caller that runs the short focused attempt in place and the long full analysis
/// elsewhere).
#[allow(clippy::result_large_err)]
pub fn try_focused(
    prev: Option<&Snapshot>,
    text: String,
    lang: Lang,
    tree: &Tree,
    index: &LineIndex,
    settings: &Settings,
    outside: Option<&dyn Outside>,
) -> Result<(Analysis, Snapshot, Path), (String, Fallback)> {
    match focused(prev, &text, lang, tree, index, settings, outside) {
        Ok((analysis, facts, path)) => {
            let consulted = analysis.consulted.clone();
            let read_bodies = analysis.read_bodies.clone();
            let snap = Snapshot { text, lang, findings: analysis.findings.clone(), usable: true, consulted, read_bodies, facts };
            Ok((analysis, snap, path))
        }
        Err(why) => Err((text, why)),
    }
}

/// The whole-file analysis, and its snapshot.
pub fn full(
    text: String,
    lang: Lang,
    tree: &Tree,
    index: &LineIndex,
    settings: &Settings,
    outside: Option<&dyn Outside>,
    why: Fallback,
) -> (Analysis, Snapshot, Path) {
    let counts = triggers::Counts::scan(&text, lang, settings);
    let found = counts.found();
    let rules = rules_for(lang, settings, |m| found.holds(m, settings)).iter().map(|r| r.meta().code).collect();
    let (mut digest, mut events, mut offloads, mut import_insert) = (None, vec![], vec![], 0);
    let analysis = analyze_rules(&text, lang, tree, index, settings, outside, |m| found.holds(m, settings), &[], &mut |py| {
        digest = Some(Arc::new(Digest::of(py)));
        import_insert = py.import_insert;
        events = py.events.clone();
        offloads = py.offloads.clone();
        Focus::Whole
    })
    .unwrap_or_default();
    let usable = analysis.errors.is_empty() && !tree.root_node().has_error();
    let entries = if lang == Lang::Python && usable { entries(tree) } else { vec![] };
    let quiet = entries.iter().map(|e| e.body.as_ref().is_some_and(|b| quiet_header(&text.as_bytes()[e.start..b.start]))).collect();
    let facts = Facts { entries, quiet, digest, import_insert, events, offloads, rules, counts };
    let consulted = analysis.consulted.clone();
    let read_bodies = analysis.read_bodies.clone();
    let snap = Snapshot { text, lang, findings: analysis.findings.clone(), usable, consulted, read_bodies, facts };
    (analysis, snap, Path::Full(why))
}


fn focused(
    prev: Option<&Snapshot>,
    text: &str,
    lang: Lang,
    tree: &Tree,
    index: &LineIndex,
    settings: &Settings,
    outside: Option<&dyn Outside>,
) -> Result<(Analysis, Facts, Path), Fallback> {
    let prev = prev.filter(|p| p.usable && p.lang == lang).ok_or(Fallback::NoSnapshot)?;
    if prev.text == text {
        let analysis = Analysis {
            findings: prev.findings.clone(),
            errors: vec![],
            consulted: prev.consulted.clone(),
            read_bodies: prev.read_bodies.clone(),
        };
        return Ok((analysis, prev.facts.clone(), Path::Unchanged));
    }
    if lang != Lang::Python {
        return Err(Fallback::NotPython);
    }
    if tree.root_node().has_error() {
        return Err(Fallback::SyntaxError);
    }
    // The changed region: old[p..oe] became new[p..ne].
    let (old, new) = (prev.text.as_bytes(), text.as_bytes());
    let (p, s) = common_affixes(old, new);
    let (oe, ne) = (old.len() - s, new.len() - s);
    let delta = ne as isize - oe as isize;
    let shift = |x: usize| (x as isize + delta) as usize;

    // F: the function unit whose slot holds the change, before and after.
    let (ents_old, ents_new) = (&prev.facts.entries, entries(tree));
    let i = (0..ents_old.len())
        .find(|&i| {
            ents_old[i].body.as_ref().is_some_and(|b| b.start <= p && oe <= slot_end(ents_old, i, &prev.text))
        })
        .ok_or(Fallback::OutsideOneFunction)?;
    if ents_new.len() != ents_old.len() {
        return Err(Fallback::StructureChanged);
    }
    for (j, (o, n)) in ents_old.iter().zip(&ents_new).enumerate() {
        let ok = if j == i {
            o.start == n.start
                && matches!((&o.body, &n.body), (Some(a), Some(b)) if a.start == b.start && b.start <= p)
                && ne <= slot_end(&ents_new, i, text)
        } else if o.start >= oe {
            n.start == shift(o.start) && n.body == o.body.as_ref().map(|b| shift(b.start)..shift(b.end))
        } else {
            o.start < p && o.body.as_ref().is_none_or(|b| b.end <= p) && o == n
        };
        if !ok {
            return Err(Fallback::StructureChanged);
        }
    }
    let unit_old = ents_old[i].start..slot_end(ents_old, i, &prev.text);
    // A helper whose body another function's findings read is being edited: those may change.
    let overlaps = |r: &std::ops::Range<usize>| r.start < unit_old.end && unit_old.start < r.end;
    if prev.consulted.iter().any(|f| overlaps(&f.def_range)) || prev.read_bodies.iter().any(overlaps) {
        return Err(Fallback::HelperConsulted);
    }
    let shift_range = |r: &std::ops::Range<usize>| {
        if r.start >= oe { (r.start as isize + delta) as usize..(r.end as isize + delta) as usize } else { r.clone() }
    };
    // The helpers read before, where they are now (all lie outside the edited unit).
    let carried: Vec<LocalFn> = prev.consulted.iter().map(|f| if f.def_range.start >= oe { f.shifted(delta) } else { f.clone() }).collect();
    let unit_new = ents_new[i].start..slot_end(&ents_new, i, text);
    if prev.text[unit_old.clone()].contains("_atomic") || text[unit_new.clone()].contains("_atomic") {
        return Err(Fallback::FreshName);
    }

    // The previous findings outside F, moved to the new text.
    // A range is before, inside or after a unit, or straddles it (an empty range at the
    // unit's start is inside, at its end after).
    let inside = |r: &Range<usize>, u: &Range<usize>| r.start >= u.start && r.end <= u.end && r.start < u.end;
    let before = |r: &Range<usize>| r.end <= unit_old.start && r.start < unit_old.start;
    let after = |r: &Range<usize>| r.start >= unit_old.end;
    let mut kept = Vec::with_capacity(prev.findings.len());
    for f in &prev.findings {
        if inside(&f.range, &unit_old) {
            continue;
        }
        let outside = |r: &Range<usize>| before(r) || after(r);
        if !outside(&f.range) || !f.fixes.iter().flat_map(|x| &x.edits).all(|e| outside(&e.range)) {
            return Err(Fallback::Straddles);
        }
        let mv = |r: &Range<usize>| if after(r) { shift(r.start)..shift(r.end) } else { r.clone() };
        let mut f = f.clone();
        f.range = mv(&f.range);
        for e in f.fixes.iter_mut().flat_map(|x| x.edits.iter_mut()) {
            e.range = mv(&e.range);
        }
        // Related locations in this file (AG108's chain through this file's helpers) lie in
        // helpers the analysis consulted, so outside F's unit (else no focused path): moved too.
        for l in f.related.iter_mut().filter(|l| l.path.as_os_str().is_empty()) {
            if !outside(&l.range) {
                return Err(Fallback::Straddles);
            }
            l.range = mv(&l.range);
        }
        kept.push(f);
    }

    let counts = prev.facts.counts.update(&prev.text, text, p, oe, ne);
    let found = counts.found();
    let rules: Vec<&'static str> = rules_for(lang, settings, |m| found.holds(m, settings)).iter().map(|r| r.meta().code).collect();
    if rules != prev.facts.rules {
        return Err(Fallback::RulesChanged);
    }
    let prev_digest = prev.facts.digest.as_ref().ok_or(Fallback::ModelChanged)?;
    let to_old = |x: usize| {
        if x <= p {
            Some(x)
        } else if x >= ne {
            Some((x as isize - delta) as usize)
        } else {
            None
        }
    };
    // The other function units' bodies: the model walks only their nodes that hold one of
    // their previous events (moved to the new text), none for most.
    // A unit with a quiet header whose events are all offloads is not gone into at all: its
    // `def` and its offloaded names (from the previous model) are recorded.
    let (prev_events, prev_offloads) = (&prev.facts.events, &prev.facts.offloads);
    let mut moved = Vec::with_capacity(prev_events.len());
    let mut names: Vec<&str> = Vec::with_capacity(prev_offloads.len());
    let mut spans = Vec::new();
    for j in (0..ents_old.len()).filter(|&j| j != i) {
        let (Some(b), Some(nb)) = (&ents_old[j].body, &ents_new[j].body) else { continue };
        let from = (moved.len(), names.len());
        let (k0, k1) = (prev_events.partition_point(|&e| e < b.start), prev_events.partition_point(|&e| e < b.end));
        moved.extend(prev_events[k0..k1].iter().map(|&e| e - b.start + nb.start));
        let (o0, o1) = (prev_offloads.partition_point(|o| o.0 < b.start), prev_offloads.partition_point(|o| o.0 < b.end));
        let offloads_only = prev_offloads[o0..o1].iter().map(|o| o.0).eq(prev_events[k0..k1].iter().copied());
        let head = prev.facts.quiet[j] && offloads_only;
        if head {
            names.extend(prev_offloads[o0..o1].iter().map(|o| o.1.as_str()));
        }
        spans.push((nb.clone(), from.0..moved.len(), head.then_some((ents_new[j].start, from.1..names.len()))));
    }
    let skip: Vec<Skip> = spans
        .into_iter()
        .map(|(body, r, head)| Skip { body, events: &moved[r], head: head.map(|(h, n)| (h, &names[n])) })
        .collect();
    let (mut events, mut offloads, mut import_insert) = (vec![], vec![], 0);
    let focus = unit_new.clone();
    let analysis = analyze_rules(text, lang, tree, index, settings, outside, |m| found.holds(m, settings), &skip, &mut |py| {
        let same = to_old(py.import_insert) == Some(prev.facts.import_insert) && prev_digest.matches(py);
        py.local_fns.borrow_mut().extend(carried.iter().map(|f| (f.def_range.start, f.clone())));
        events = py.events.clone();
        offloads = py.offloads.clone();
        import_insert = py.import_insert;
        if same { Focus::Range(focus.clone()) } else { Focus::Abort }
    })
    .ok_or(Fallback::ModelChanged)?;
    if !analysis.errors.is_empty() {
        return Err(Fallback::Errors);
    }
    // A helper outside the unit read now for the first time: its body was not walked here.
    if analysis.consulted.iter().any(|f| !inside(&f.def_range, &unit_new) && !carried.contains(f)) {
        return Err(Fallback::HelperConsulted);
    }
    let consulted = analysis.consulted.clone();
    // Bodies read before (none in the unit) where they are now, and those read now.
    let mut read_bodies: Vec<std::ops::Range<usize>> = prev.read_bodies.iter().map(shift_range).collect();
    read_bodies.extend(analysis.read_bodies.iter().cloned());
    read_bodies.sort_by_key(|r| r.start);
    read_bodies.dedup();
    let mut findings = kept;
    for f in analysis.findings {
        if inside(&f.range, &unit_new) {
            findings.push(f);
        } else if !(f.range.end <= unit_new.start && f.range.start < unit_new.start || f.range.start >= unit_new.end) {
            return Err(Fallback::Straddles);
        }
    }
    findings.sort_by(|a, b| (a.range.start, a.range.end, a.code).cmp(&(b.range.start, b.range.end, b.code)));
    findings.dedup();
    let quiet = prev.facts.quiet.clone();
    let facts = Facts { entries: ents_new, quiet, digest: Some(prev_digest.clone()), import_insert, events, offloads, rules, counts };
    Ok((Analysis { findings, errors: vec![], consulted, read_bodies }, facts, Path::Focused))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syntax::parse;

    fn snap(src: &str) -> Snapshot {
        let tree = parse(Lang::Python, src, None);
        full(src.to_string(), Lang::Python, &tree, &LineIndex::new(src), &Settings::default(), None, Fallback::NoSnapshot).1
    }

    fn path(prev: &Snapshot, src: &str) -> Path {
        let tree = parse(Lang::Python, src, None);
        analyze_incremental(Some(prev), src.to_string(), Lang::Python, &tree, &LineIndex::new(src), &Settings::default(), None).2
    }

    const SRC: &str = "from .models import Book\n\n\nasync def f():\n    return Book.objects.get()\n\n\ndef g():\n    return 1\n";

    #[test]
    fn a_previous_finding_across_the_unit_falls_back() {
        let mut s = snap(SRC);
        assert_eq!(s.findings.len(), 1);
        assert_eq!(path(&s, &SRC.replace("return 1", "return 12")), Path::Focused);
        // A finding (or a fix edit) reaching into g's unit from outside it.
        let g = SRC.find("def g").unwrap();
        s.findings[0].range.end = g + 3;
        assert_eq!(path(&s, &SRC.replace("return 1", "return 12")), Path::Full(Fallback::Straddles));
        let mut s = snap(SRC);
        s.findings[0].fixes[0].edits[0].range = g + 4..g + 5;
        assert_eq!(path(&s, &SRC.replace("return 1", "return 12")), Path::Full(Fallback::Straddles));
    }

    #[test]
    fn common_affixes_equal_a_byte_by_byte_comparison() {
        let slow = |old: &[u8], new: &[u8]| {
            let p = old.iter().zip(new).take_while(|(a, b)| a == b).count();
            let s = old[p..].iter().rev().zip(new[p..].iter().rev()).take_while(|(a, b)| a == b).count();
            (p, s)
        };
        let base: Vec<u8> = (0..200u32).map(|i| b"abcab\n"[(i % 6) as usize]).collect();
        for at in [0, 1, 31, 32, 33, 64, 100, 199, 200] {
            for del in [0, 1, 5, 40] {
                for ins in [&b""[..], b"x", b"ab", &[b'a'; 70]] {
                    let mut new = base.clone();
                    let end = (at + del).min(base.len());
                    new.splice(at..end, ins.iter().copied());
                    assert_eq!(common_affixes(&base, &new), slow(&base, &new), "{at} {del} {ins:?}");
                    assert_eq!(common_affixes(&new, &base), slow(&new, &base), "{at} {del} {ins:?}");
                }
            }
        }
    }

    #[test]
    fn an_unusable_snapshot_falls_back() {
        let mut s = snap(SRC);
        s.usable = false; // an internal error, or a syntax error, in the previous analysis
        assert_eq!(path(&s, &SRC.replace("return 1", "return 12")), Path::Full(Fallback::NoSnapshot));
    }

    #[test]
    fn model_skips_only_quiet_bodies() {
        let src = "from .models import Book\n\n\ndef a():\n    import os\n\n\nasync def b():\n    return Book.objects.get()\n\n\ndef c():\n    x = sync_to_async(b)\n\n\ndef d():\n    lambda: [y for y in x]\n";
        let s = snap(src);
        assert_eq!(s.facts.events.len(), 3, "the imports, the offload");
        let tree = parse(Lang::Python, src, None);
        let index = LineIndex::new(src);
        let full = PyModel::build(src, &tree, &index);
        let bodies: Vec<_> = s.facts.entries.iter().filter_map(|e| e.body.clone()).collect();
        let skipping = PyModel::build_skipping(src, &tree, &index, &[Skip { body: bodies[3].clone(), events: &[], head: None }]);
        assert!(skipping.scopes.len() < full.scopes.len(), "d's lambda and comprehension are not walked");
        assert!(Digest::of(&full).matches(&skipping));
        assert_eq!(full.events, skipping.events);
    }

    /// A function statement is replayed (not walked) only when its header is quiet; each of
    /// these headers gives the model something besides its `def`, which replaying would lose.
    #[test]
    fn model_replays_only_quiet_headers() {
        let loud = [
            "def f(x=(y := 1)):\n    pass\n",
            "def f(x=lambda: 1):\n    pass\n",
            "def f(x):  # awaitguard: ignore\n    pass\n",
            "@sync_to_async\ndef f(x):\n    pass\n",
            "def f(x=[y for y in z]):\n    pass\n",
            "def f(x=sync_to_async(g)):\n    pass\n",
            "def f(x=pool.submit(g)):\n    pass\n",
            "def f(x=Thread(target=g)):\n    pass\n",
            "def f(x=1if a else(lambda: 2)):\n    pass\n",
        ];
        let quiet = ["def f(x, *a, k=1, **kw) -> int:\n    pass\n", "@property\n@cached(ttl=5)\nasync def f(self, x: dict[str, int] = None):\n    pass\n"];
        let facts = |m: &PyModel| {
            let y = m.binding("y", m.src.len()).map(|b| b.pos);
            (m.scopes.len(), y, m.comments.len(), m.offload_args.clone(), m.loop_iters.len(), m.offloaded_names().len())
        };
        for (unit, is_quiet) in loud.iter().map(|u| (u, false)).chain(quiet.iter().map(|u| (u, true))) {
            let src = format!("import os\n\n{unit}\n\nclass C:\n    {}\n", unit.replace('\n', "\n    "));
            let s = snap(&src);
            let tree = parse(Lang::Python, &src, None);
            let index = LineIndex::new(&src);
            let full = PyModel::build(&src, &tree, &index);
            let units: Vec<_> = s.facts.entries.iter().zip(&s.facts.quiet).filter(|(e, _)| e.body.is_some()).collect();
            assert_eq!(units.len(), 2, "{src}");
            assert!(units.iter().all(|(_, &q)| q == is_quiet), "{src}");
            // Replayed whatever the header: equal to the full model exactly when it is quiet.
            let skip: Vec<Skip> =
                units.iter().map(|(e, _)| Skip { body: e.body.clone().unwrap(), events: &[], head: Some((e.start, &[])) }).collect();
            let replayed = PyModel::build_skipping(&src, &tree, &index, &skip);
            let same = Digest::of(&full).matches(&replayed) && facts(&full) == facts(&replayed) && full.events == replayed.events;
            assert_eq!(same, is_quiet, "{src}");
            // As focused analysis does it: only quiet headers are replayed.
            let skip: Vec<Skip> = units
                .iter()
                .map(|(e, &q)| Skip { body: e.body.clone().unwrap(), events: &[], head: q.then_some((e.start, &[][..])) })
                .collect();
            let guarded = PyModel::build_skipping(&src, &tree, &index, &skip);
            assert!(Digest::of(&full).matches(&guarded) && facts(&full) == facts(&guarded), "{src}");
        }
    }

    /// A body whose events are all offloads is replayed with their names; one with another
    /// event (an import) is not: replaying it would lose the import.
    #[test]
    fn offload_only_bodies_are_replayed() {
        let src = "from asgiref.sync import sync_to_async\n\n\nclass Q:\n    def count(self):\n        return 1\n\n    \
                   async def acount(self):\n        return await sync_to_async(self.count)()\n\n    \
                   async def aimp(self):\n        import os\n        return await sync_to_async(self.count)()\n\n    \
                   def edited(self):\n        return 1\n";
        let s = snap(src);
        let names: Vec<_> = s.facts.offloads.iter().map(|(e, n)| (*e, n.as_str())).collect();
        assert_eq!(names, [(src.find("self.count)()").unwrap(), "count"), (src.rfind("self.count").unwrap(), "count")]);
        let tree = parse(Lang::Python, src, None);
        let index = LineIndex::new(src);
        let full = PyModel::build(src, &tree, &index);
        let unit = |k: usize| s.facts.entries.iter().filter(|e| e.body.is_some()).nth(k).unwrap().clone();
        let (acount, aimp) = (unit(1), unit(2));
        let events = |u: &Entry| {
            let b = u.body.clone().unwrap();
            full.events.iter().copied().filter(|e| b.contains(e)).collect::<Vec<_>>()
        };
        let (ea, ei) = (events(&acount), events(&aimp));
        let skip = [Skip { body: acount.body.clone().unwrap(), events: &ea, head: Some((acount.start, &["count"][..])) }];
        let replayed = PyModel::build_skipping(src, &tree, &index, &skip);
        assert!(Digest::of(&full).matches(&replayed) && full.events == replayed.events && full.offloads == replayed.offloads);
        let forced = [Skip { body: aimp.body.clone().unwrap(), events: &ei, head: Some((aimp.start, &["os", "count"][..])) }];
        assert!(!Digest::of(&full).matches(&PyModel::build_skipping(src, &tree, &index, &forced)), "the import is lost");
        let after = src.replace("def edited(self):\n        return 1", "def edited(self):\n        return 12");
        let t2 = parse(Lang::Python, &after, None);
        let (inc, next, path) =
            analyze_incremental(Some(&s), after.clone(), Lang::Python, &t2, &LineIndex::new(&after), &Settings::default(), None);
        assert_eq!(path, Path::Focused);
        assert_eq!(inc.findings, super::super::analyze(&after, Lang::Python, &t2, &LineIndex::new(&after), &Settings::default()).findings);
        assert_eq!(next.facts.offloads, snap(&after).facts.offloads);
    }

    #[test]
    fn model_walks_only_towards_events() {
        let src = "\
from .models import Book


def a(x):
    y = list(z for z in x)
    if x:
        try:
            f = lambda: 1
            from django.db import transaction as tx  # deep
        except E as e:
            pass
    for i in x:
        class K(models.Model):
            objects = BookManager()
            tags = models.ManyToManyField(T, related_name=\"books\")
            def m(self):
                return lambda: 2
    with w() as v:
        @sync_to_async
        def inner(q):
            import os
            return sync_to_async(lambda: 3)
    return g(h(partial(1, sync_to_async(functools.partial(helper, 1)), lambda: 4)))


async def b():
    return Book.objects.get()
";
        let s = snap(src);
        let tree = parse(Lang::Python, src, None);
        let index = LineIndex::new(src);
        let full = PyModel::build(src, &tree, &index);
        assert_eq!(full.events.len(), 6, "3 imports, 1 offloaded name, the class, inner");
        let a = s.facts.entries[1].body.clone().unwrap();
        let skip = [Skip { body: a.clone(), events: &full.events[1..], head: None }];
        let directed = PyModel::build_skipping(src, &tree, &index, &skip);
        assert!(Digest::of(&full).matches(&directed));
        assert_eq!(full.events, directed.events);
        assert!(directed.classes.contains_key("K") && directed.manager_attrs.contains("objects"));
        assert!(directed.related_names.contains("books") && directed.offloaded_names().contains("helper"));
        assert_eq!(directed.import_of("tx"), Some("django.db.transaction"));
        // Not walked: the generator, the first and last lambdas; walked: the class and
        // `inner` whole (the method's and `inner`'s lambdas).
        let kinds = |m: &PyModel| m.scopes.iter().map(|s| s.kind).collect::<Vec<_>>();
        assert_eq!(kinds(&full).len(), kinds(&directed).len() + 3, "{:?} {:?}", kinds(&full), kinds(&directed));
        let lambdas = |m: &PyModel| m.scopes.iter().filter(|s| s.kind == ScopeKind::Lambda).count();
        assert_eq!((lambdas(&full), lambdas(&directed)), (4, 2));
        // Every other body of `b`'s file likewise: the same findings as a full analysis.
        let after = src.replace("return Book.objects.get()", "x = 1\n    return Book.objects.get()");
        let t2 = parse(Lang::Python, &after, None);
        let (inc, _, path) =
            analyze_incremental(Some(&s), after.clone(), Lang::Python, &t2, &LineIndex::new(&after), &Settings::default(), None);
        assert_eq!(path, Path::Focused);
        let whole = super::super::analyze(&after, Lang::Python, &t2, &LineIndex::new(&after), &Settings::default());
        assert_eq!(inc.findings, whole.findings);
        assert!(!inc.findings.is_empty());
    }
}
