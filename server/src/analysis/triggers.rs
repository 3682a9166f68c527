//! The trigger pre-filter: decides from a file's bytes alone, before any parse, whether an
//! enabled rule can fire in it.
//!
//! Every rule declares in [`RuleMeta::triggers`] the identifiers without which it cannot fire,
//! as a conjunction of alternatives: each group must have at least one of its identifiers in
//! the file (anywhere: code, comment or string). A file where no enabled rule's triggers hold is
//! not parsed; its findings are empty.
//!
//! Invariants:
//! - A rule the settings rule out ([`Rule::possible`] false: AG206 without `ATOMIC_REQUESTS`)
//!   counts as disabled here: its triggers neither let a file through nor keep a body from the
//!   sparse parse.
//! - Sound: for every rule, text with no occurrence of one of its groups gets no finding from
//!   it (`tests/triggers.rs` knocks each group out of every fixture and checks), so the
//!   pre-filter never changes findings (`tests/check_cli.rs` compares `check` with and
//!   without it).
//! - An occurrence is a whole identifier: the bytes around it are not ASCII letters, digits
//!   or `_` (`asyncio` is not `async`). Triggers are ASCII identifiers (a unit test holds it).
//! - One automaton per language, built once from [`RULES`]. [`may_fire`] (before parsing) stops
//!   at the first point where some enabled rule's triggers all hold; [`Found`] (after parsing)
//!   tells [`super::analyze`] which rules to run at all.

use crate::rules::{Rule, RuleMeta, RULES};
use crate::settings::Settings;
use crate::syntax::Lang;
use aho_corasick::{AhoCorasick, MatchKind};
use std::sync::OnceLock;

/// Identifiers a rule needs: every group must have one present.
pub type Triggers = &'static [&'static [&'static str]];

/// Words that join every trigger group of a rule when the project's settings turn on the
/// request transaction (`ATOMIC_REQUESTS`): [`Rule::request_triggers`] (AG208 then reports in
/// views, whose module need not name `atomic`).
fn request_words(rule: &dyn Rule) -> &'static [&'static [&'static str]] {
    rule.request_triggers()
}

/// The automaton of one language: every trigger of its rules, and per rule (in [`RULES`]
/// order, that language's only) its groups as sets of token indexes. The *wide* one (for a
/// project with `ATOMIC_REQUESTS`) also holds the [`request_words`], each joining every group
/// of its rule; the other never scans for them, so they cost nothing elsewhere.
struct Prefilter {
    automaton: AhoCorasick,
    rules: Vec<(&'static dyn Rule, Vec<u128>)>,
    wide: bool,
    /// The length of the longest trigger.
    longest: usize,
}

impl std::fmt::Debug for Prefilter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let codes: Vec<&str> = self.rules.iter().map(|(r, _)| r.meta().code).collect();
        f.debug_struct("Prefilter").field("rules", &codes).field("longest", &self.longest).finish()
    }
}

impl Prefilter {
    fn new(lang: Lang, wide: bool) -> Prefilter {
        let extra = |r: &dyn Rule| if wide { request_words(r) } else { &[] };
        let rules: Vec<&'static dyn Rule> = RULES.iter().copied().filter(|r| r.meta().lang == lang).collect();
        let mut tokens: Vec<&'static str> = rules
            .iter()
            .flat_map(|r| {
                let m = r.meta();
                m.triggers.iter().chain(extra(*r)).copied().flatten().copied()
            })
            .collect();
        tokens.sort_unstable();
        tokens.dedup();
        assert!(tokens.len() <= 128, "more than 128 distinct {lang:?} triggers: widen the token set");
        let bit = |t: &str| 1u128 << tokens.binary_search(&t).expect("token listed");
        let rules = rules
            .iter()
            .map(|r| {
                let m = r.meta();
                let groups: Vec<u128> = m.triggers.iter().map(|g| g.iter().map(|t| bit(t)).fold(0, |a, b| a | b)).collect();
                let more = extra(*r).iter().copied().flatten().map(|t| bit(t)).fold(0, |a, b| a | b);
                (*r, groups.iter().map(|g| g | more).collect())
            })
            .collect();
        // Leftmost-longest: a whole-identifier occurrence is never hidden by an overlapping
        // match, since any such match would put an identifier byte right before it.
        let automaton = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostLongest)
            .build(&tokens)
            .expect("trigger automaton builds");
        let longest = tokens.iter().map(|t| t.len()).max().unwrap_or(0);
        Prefilter { automaton, rules, wide, longest }
    }

    fn get(lang: Lang, wide: bool) -> &'static Prefilter {
        static CELLS: [[OnceLock<Prefilter>; 2]; 2] = [const { [const { OnceLock::new() }; 2] }; 2];
        CELLS[lang as usize][wide as usize].get_or_init(|| Prefilter::new(lang, wide))
    }
}

fn is_ident_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Scans `src` for whole-identifier triggers; returns the set found, stopping early once
/// `enough` says so.
fn scan(p: &Prefilter, src: &str, mut enough: impl FnMut(u128) -> bool) -> u128 {
    let bytes = src.as_bytes();
    let mut seen = 0u128;
    for m in p.automaton.find_iter(bytes) {
        let whole = (m.start() == 0 || !is_ident_byte(bytes[m.start() - 1]))
            && bytes.get(m.end()).is_none_or(|b| !is_ident_byte(*b));
        let bit = 1u128 << m.pattern().as_usize();
        if whole && seen & bit == 0 {
            seen |= bit;
            if enough(seen) {
                break;
            }
        }
    }
    seen
}

/// The rule is enabled in `settings` and the settings do not rule it out ([`Rule::possible`]).
pub fn live(rule: &dyn Rule, settings: &Settings) -> bool {
    settings.is_enabled(rule.meta().code) && rule.possible(settings)
}

fn groups_hold(groups: &[u128], seen: u128) -> bool {
    groups.iter().all(|g| g & seen != 0)
}

/// The project's settings turn on the request transaction (`ATOMIC_REQUESTS`): the wide
/// [`Prefilter`] applies.
fn wide(settings: &Settings) -> bool {
    !settings.atomic_requests.is_empty()
}

/// True when some rule enabled in `settings` can fire in `src` (a `lang` file): its triggers
/// all occur in `src` as whole identifiers. Stops at the first such point.
pub fn may_fire(src: &str, lang: Lang, settings: &Settings) -> bool {
    fire_check(src, lang, settings, true)
}

/// [`may_fire`] for settings that only say which rules are enabled (without the facts of
/// detection: `SettingsCache::enabled_for_file`), so [`Rule::possible`] is not asked and the
/// [`request_words`] do not count (ask [`widens`], then [`may_fire`] with the file's settings).
pub fn may_fire_selected(src: &str, lang: Lang, settings: &Settings) -> bool {
    fire_check(src, lang, settings, false)
}

/// Some rule of `lang` enabled in `settings` has [`request_words`]: a file [`may_fire_selected`]
/// rules out may still be read under a project's `ATOMIC_REQUESTS`.
pub fn widens(lang: Lang, settings: &Settings) -> bool {
    RULES.iter().any(|r| r.meta().lang == lang && settings.is_enabled(r.meta().code) && !request_words(*r).is_empty())
}

fn fire_check(src: &str, lang: Lang, settings: &Settings, facts: bool) -> bool {
    let p = Prefilter::get(lang, facts && wide(settings));
    let on = |r: &dyn Rule| if facts { live(r, settings) } else { settings.is_enabled(r.meta().code) };
    let candidates: Vec<&[u128]> = p.rules.iter().filter(|(r, _)| on(*r)).map(|(_, groups)| groups.as_slice()).collect();
    let any = |seen: u128| candidates.iter().any(|g| groups_hold(g, seen));
    // AG900 on a Rust file (run by the pipeline, not listed among the Rust rules): any
    // directive may be unused, whether or not the rules it names can fire.
    if lang == Lang::Rust && settings.is_enabled("AG900") && !candidates.is_empty() && super::suppression::mentions_directive(src) {
        return true;
    }
    !candidates.is_empty() && any(scan(p, src, any))
}

/// Triggers through which a rule follows assignments across scopes (`qs =
/// X.objects.select_for_update()` at module level, evaluated in a function): an occurrence
/// outside every function unit turns sparse parsing off for the file
/// ([`crate::analysis::sparse`]).
pub const CROSS_SCOPE: &[&str] = &["select_for_update"];

/// Where the triggers of the rules that run on `src` occur (sorted starts of whole-identifier
/// occurrences), and the subset of those that are [`CROSS_SCOPE`] triggers that may start a
/// call (not followed by `=`: `select_for_update = False` is a plain attribute): what sparse
/// parsing must keep ([`crate::analysis::sparse::mask`]).
pub fn hot_positions(src: &str, lang: Lang, settings: &Settings) -> (Vec<usize>, Vec<usize>) {
    let p = Prefilter::get(lang, wide(settings));
    let bytes = src.as_bytes();
    let mut all = vec![];
    let mut seen = 0u128;
    for m in p.automaton.find_iter(bytes) {
        let whole = (m.start() == 0 || !is_ident_byte(bytes[m.start() - 1]))
            && bytes.get(m.end()).is_none_or(|b| !is_ident_byte(*b));
        if whole {
            let bit = 1u128 << m.pattern().as_usize();
            seen |= bit;
            // `name = …` / `name=…` binds or passes the name: no call of it starts there.
            let rest = src[m.end()..].trim_start_matches([' ', '\t']);
            let assigned = rest.starts_with('=') && !rest.starts_with("==");
            all.push((m.start(), bit, !assigned && CROSS_SCOPE.contains(&&src[m.range()])));
        }
    }
    let hot = p
        .rules
        .iter()
        .filter(|(r, groups)| live(*r, settings) && groups_hold(groups, seen))
        .flat_map(|(_, groups)| groups.iter().copied())
        .fold(0u128, |a, b| a | b);
    let mut positions = vec![];
    let mut cross = vec![];
    for (at, bit, cross_scope) in all {
        if bit & hot != 0 {
            positions.push(at);
            if cross_scope {
                cross.push(at);
            }
        }
    }
    (positions, cross)
}

/// How many whole-identifier occurrences of each trigger a text has: what [`Found`] is made
/// of, kept by focused analysis ([`super::incremental`]) so that after an edit only the
/// bytes around it are scanned again ([`Counts::update`]).
#[derive(Clone, Debug)]
pub struct Counts {
    prefilter: &'static Prefilter,
    /// By token index (pattern id of the automaton).
    counts: Vec<u32>,
}

impl PartialEq for Counts {
    fn eq(&self, other: &Counts) -> bool {
        std::ptr::eq(self.prefilter, other.prefilter) && self.counts == other.counts
    }
}

/// Calls `f(start, end, token)` for each whole-identifier trigger occurrence that lies in
/// `src[window]` (wholeness judged on all of `src`). Every such occurrence is reported: a
/// match of the leftmost-longest search that overlapped one would hold the non-identifier
/// byte before or after it, and triggers are identifiers.
fn occurrences(p: &Prefilter, src: &[u8], window: std::ops::Range<usize>, mut f: impl FnMut(usize, usize, usize)) {
    for m in p.automaton.find_iter(&src[window.clone()]) {
        let (i, j) = (window.start + m.start(), window.start + m.end());
        if (i == 0 || !is_ident_byte(src[i - 1])) && src.get(j).is_none_or(|b| !is_ident_byte(*b)) {
            f(i, j, m.pattern().as_usize());
        }
    }
}

impl Counts {
    /// Counts in all of `src` (of the triggers `settings` make count).
    pub fn scan(src: &str, lang: Lang, settings: &Settings) -> Counts {
        let prefilter = Prefilter::get(lang, wide(settings));
        let mut counts = vec![0u32; prefilter.automaton.patterns_len()];
        occurrences(prefilter, src.as_bytes(), 0..src.len(), |_, _, t| counts[t] += 1);
        Counts { prefilter, counts }
    }

    /// The counts of `new`, when these are the counts of `old` and the two differ only in
    /// `old[p..oe]`, which became `new[p..ne]` (`old[..p] == new[..p]`, `old[oe..] ==
    /// new[ne..]`). Equal to [`Counts::scan`] of `new` (unit-tested): whether `[i, j)` is an
    /// occurrence depends on the bytes `i - 1 ..= j` only, so an occurrence with `j < p` lies
    /// in the common prefix of both texts and one with `i > oe` (`i > ne` in `new`) in the
    /// common suffix; only the others, all within `L` bytes of the change (`L` the longest
    /// trigger), are counted again, in each text.
    pub fn update(&self, old: &str, new: &str, p: usize, oe: usize, ne: usize) -> Counts {
        let longest = self.prefilter.longest;
        let mut counts = self.counts.clone();
        let window = |len: usize, e: usize| p.saturating_sub(longest)..(e + longest).min(len);
        occurrences(self.prefilter, old.as_bytes(), window(old.len(), oe), |i, j, t| {
            if j >= p && i <= oe {
                counts[t] -= 1;
            }
        });
        occurrences(self.prefilter, new.as_bytes(), window(new.len(), ne), |i, j, t| {
            if j >= p && i <= ne {
                counts[t] += 1;
            }
        });
        Counts { prefilter: self.prefilter, counts }
    }

    /// The triggers present.
    pub fn found(&self) -> Found {
        let seen = self.counts.iter().enumerate().filter(|(_, &n)| n > 0).fold(0u128, |a, (t, _)| a | 1 << t);
        Found { prefilter: self.prefilter, seen }
    }
}

/// The triggers present in one file: which rules can fire in it.
pub struct Found {
    prefilter: &'static Prefilter,
    seen: u128,
}

impl Found {
    /// Scans all of `src` (for the triggers `settings` make count).
    pub fn scan(src: &str, lang: Lang, settings: &Settings) -> Found {
        let prefilter = Prefilter::get(lang, wide(settings));
        Found { prefilter, seen: scan(prefilter, src, |_| false) }
    }

    /// Whether `rule`'s triggers all hold under `settings` (false for a rule of another
    /// language).
    pub fn holds(&self, rule: &RuleMeta, settings: &Settings) -> bool {
        // Scanned without the request words that `settings` now make count: run the rule
        // (running it is always sound).
        if wide(settings) && !self.prefilter.wide && crate::rules::by_code(rule.code).is_some_and(|r| !request_words(r).is_empty()) {
            return true;
        }
        self.prefilter.rules.iter().any(|(r, groups)| std::ptr::eq(r.meta(), rule) && groups_hold(groups, self.seen))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all_rules() -> Settings {
        Settings::default()
    }

    #[test]
    fn every_rule_has_triggers_that_are_ascii_identifiers() {
        for r in RULES {
            let m = r.meta();
            assert!(!m.triggers.is_empty() && m.triggers.iter().all(|g| !g.is_empty()), "{}: empty triggers", m.code);
            for t in m.triggers.iter().copied().flatten() {
                let b = t.as_bytes();
                assert!(
                    !b.is_empty() && !b[0].is_ascii_digit() && b.iter().all(|c| is_ident_byte(*c)),
                    "{}: trigger `{t}` is not an ASCII identifier",
                    m.code
                );
            }
        }
    }

    #[test]
    fn whole_identifiers_only() {
        let s = all_rules();
        assert!(!may_fire("import asyncio\nx = sync_to_async_x\n", Lang::Python, &s));
        assert!(may_fire("async def f(): pass\n", Lang::Python, &s));
        assert!(may_fire("x=1\n# async", Lang::Python, &s));
        assert!(may_fire("qs.select_for_update()", Lang::Python, &s));
        assert!(!may_fire("", Lang::Python, &s));
    }

    #[test]
    fn groups_are_a_conjunction() {
        let s = all_rules();
        // AG502 needs `async` and `block_on`.
        let by = |c| crate::rules::by_code(c).unwrap().meta();
        assert!(!Found::scan("fn f() { rt.block_on(x) }\n", Lang::Rust, &all_rules()).holds(by("AG502"), &all_rules()));
        assert!(!Found::scan("async fn f() { g().await }\n", Lang::Rust, &all_rules()).holds(by("AG502"), &all_rules()));
        assert!(Found::scan("async fn f() { rt.block_on(x) }\n", Lang::Rust, &all_rules()).holds(by("AG502"), &all_rules()));
        // AG208 needs only `atomic` (a helper called in the block may dispatch in another
        // file); a dispatch alone fires nothing.
        assert!(!may_fire("task.delay(1)\n", Lang::Python, &s));
        assert!(Found::scan("with transaction.atomic():\n    notify(order)\n", Lang::Python, &all_rules()).holds(by("AG208"), &all_rules()));
    }

    #[test]
    fn found_answers_per_rule() {
        let by = |c| crate::rules::by_code(c).unwrap().meta();
        let f = Found::scan("with atomic():\n    t.delay()\nqs.select_for_update()\n", Lang::Python, &all_rules());
        assert!(f.holds(by("AG208"), &all_rules()) && f.holds(by("AG205"), &all_rules()));
        assert!(!f.holds(by("AG101"), &all_rules()) && !f.holds(by("AG303"), &all_rules()));
    }

    #[test]
    fn hot_positions_are_the_triggers_of_the_rules_that_run() {
        let s = all_rules();
        let src = "x.delay()\nasync def f(): await g()\nqs.select_for_update()\nselect_for_update = False\n";
        let (hot, cross) = hot_positions(src, Lang::Python, &s);
        // `delay` does not make AG208 run (it needs `atomic` too); it is hot for AG306 (which
        // needs `async`, present here).
        let sfu = src.find("select").unwrap();
        let hot_delay = src.find("delay").unwrap();
        assert_eq!(hot, vec![hot_delay, src.find("async").unwrap(), src.find("await").unwrap(), sfu, src.rfind("select").unwrap()]);
        let (hot_sync, _) = hot_positions("x.delay()
def f(): g()
", Lang::Python, &s);
        assert!(hot_sync.is_empty(), "`delay` without `async` or `atomic` runs no rule: {hot_sync:?}");
        assert_eq!(cross, vec![sfu]);
        assert!(CROSS_SCOPE.iter().all(|t| RULES.iter().any(|r| r.meta().triggers.iter().copied().flatten().any(|x| x == t))));
    }

    #[test]
    fn counts_update_equals_a_fresh_scan() {
        let base = "async def f():\n    await x.aget()  # atomic\n    qs.select_for_update()\nsync_to_async(g)\n";
        let edits = ["", "c", "_", " ", "async", "await", "select_for_update", "x ", "aw", "ait"];
        let before = Counts::scan(base, Lang::Python, &all_rules());
        for at in 0..=base.len() {
            for del in [0, 1, 2, 5, 9] {
                for ins in edits {
                    let end = (at + del).min(base.len());
                    let new = format!("{}{ins}{}", &base[..at], &base[end..]);
                    let expect = Counts::scan(&new, Lang::Python, &all_rules());
                    assert_eq!(before.update(base, &new, at, end, at + ins.len()), expect, "{new:?}");
                    assert_eq!(expect.update(&new, base, at, at + ins.len(), end), before, "{new:?}");
                }
            }
        }
        let whole = Counts::scan(base, Lang::Python, &all_rules()).found();
        let f = Found::scan(base, Lang::Python, &all_rules());
        assert!(RULES.iter().all(|r| whole.holds(r.meta(), &all_rules()) == f.holds(r.meta(), &all_rules())));
    }

    #[test]
    fn view_words_count_for_ag208_only_under_atomic_requests() {
        let by = |c| crate::rules::by_code(c).unwrap().meta();
        let view = "@router.post('/x')\ndef create(request):\n    notify(request)\n";
        let plain = all_rules();
        let mut atomic = all_rules();
        atomic.atomic_requests = std::sync::Arc::new(vec!["default".into()]);
        assert!(!Found::scan(view, Lang::Python, &plain).holds(by("AG208"), &plain));
        assert!(Found::scan(view, Lang::Python, &atomic).holds(by("AG208"), &atomic));
        // Scanned narrow, asked wide: the rule runs.
        assert!(Found::scan(view, Lang::Python, &plain).holds(by("AG208"), &atomic));
        assert!(may_fire(view, Lang::Python, &atomic) && !may_fire(view, Lang::Python, &plain));
        assert!(!may_fire_selected(view, Lang::Python, &atomic) && widens(Lang::Python, &plain) && !widens(Lang::Rust, &plain));
        let (hot, _) = hot_positions(view, Lang::Python, &atomic);
        assert_eq!(hot, vec![view.find("post").unwrap(), view.find("create").unwrap()]);
        assert!(hot_positions(view, Lang::Python, &plain).0.is_empty());
    }

    #[test]
    fn only_enabled_rules_count() {
        let over = crate::config::Overrides { select: Some(vec!["AG205".into()]), ..Default::default() };
        let s = Settings::resolve(None, &over, None).unwrap();
        assert!(!may_fire("async def f(): pass\n", Lang::Python, &s));
        assert!(may_fire("X.objects.select_for_update().get()\n", Lang::Python, &s));
    }
}
