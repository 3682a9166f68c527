//! Fixes: text edits on byte ranges, their applicability, and conflict-free application.
//!
//! Invariants:
//! - Edits of one fix never overlap each other; [`apply`] refuses overlapping edits instead of
//!   guessing.
//! - "Fix all" applies only [`Applicability::Safe`] fixes, picks a set of fixes whose edits do
//!   not touch, and repeats on the re-analysed text until nothing is left (bounded), so nested
//!   findings (`X.objects.get(pk=Y.objects.count())`) are all fixed.

pub mod extract;
pub mod imports;
pub mod python;

use serde::{Deserialize, Serialize};
use std::ops::Range;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, Hash)]
#[serde(rename_all = "lowercase")]
pub enum Applicability {
    /// Changes behaviour the user must review: offered, never applied automatically.
    Unsafe,
    /// Preserves behaviour: applied by "fix all" and `--fix`.
    Safe,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Hash)]
pub struct Edit {
    pub range: Range<usize>,
    pub text: String,
}

impl Edit {
    pub fn insert(at: usize, text: impl Into<String>) -> Edit {
        Edit { range: at..at, text: text.into() }
    }
    pub fn replace(range: Range<usize>, text: impl Into<String>) -> Edit {
        Edit { range, text: text.into() }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Hash)]
pub struct Fix {
    pub title: String,
    pub applicability: Applicability,
    pub edits: Vec<Edit>,
}

/// Applies non-overlapping edits to `text`. Returns `None` when two edits overlap or an edit
/// is out of range / not on a char boundary.
pub fn apply(text: &str, edits: &[Edit]) -> Option<String> {
    let mut sorted: Vec<&Edit> = edits.iter().collect();
    sorted.sort_by_key(|e| (e.range.start, e.range.end));
    let mut out = String::with_capacity(text.len() + 64);
    let mut pos = 0;
    for e in sorted {
        if e.range.start < pos || e.range.end > text.len() || e.range.start > e.range.end {
            return None;
        }
        if !text.is_char_boundary(e.range.start) || !text.is_char_boundary(e.range.end) {
            return None;
        }
        out.push_str(&text[pos..e.range.start]);
        out.push_str(&e.text);
        pos = e.range.end;
    }
    out.push_str(&text[pos..]);
    Some(out)
}

/// Picks fixes (in order) whose edits neither overlap nor touch the edits already picked, so
/// that applying them together is well defined. Identical import insertions are merged.
pub fn non_conflicting<'a>(fixes: impl IntoIterator<Item = &'a Fix>) -> Vec<Edit> {
    let mut taken: Vec<Edit> = Vec::new();
    'fix: for fix in fixes {
        let mut new = Vec::new();
        for e in &fix.edits {
            if taken.contains(e) {
                continue; // the same insertion (e.g. an import) from another fix
            }
            for t in &taken {
                let touches = e.range.start <= t.range.end && t.range.start <= e.range.end;
                if touches {
                    continue 'fix;
                }
            }
            new.push(e.clone());
        }
        taken.extend(new);
    }
    taken
}

/// A whole-text change expressed as one minimal edit (common prefix and suffix trimmed).
pub fn diff_edit(old: &str, new: &str) -> Option<Edit> {
    if old == new {
        return None;
    }
    let prefix = old.bytes().zip(new.bytes()).take_while(|(a, b)| a == b).count();
    let prefix = crate::text::floor_char_boundary(old, prefix.min(old.len())).min(crate::text::floor_char_boundary(new, prefix.min(new.len())));
    let max_suffix = (old.len() - prefix).min(new.len() - prefix);
    let mut suffix = old.bytes().rev().zip(new.bytes().rev()).take(max_suffix).take_while(|(a, b)| a == b).count();
    while !old.is_char_boundary(old.len() - suffix) || !new.is_char_boundary(new.len() - suffix) {
        suffix -= 1;
    }
    Some(Edit { range: prefix..old.len() - suffix, text: new[prefix..new.len() - suffix].to_string() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apply_and_conflicts() {
        let t = "abcdef";
        assert_eq!(apply(t, &[Edit::insert(0, "x"), Edit::replace(2..3, "C")]).unwrap(), "xabCdef");
        assert!(apply(t, &[Edit::replace(0..3, ""), Edit::replace(2..4, "")]).is_none());
        let f1 = Fix { title: "a".into(), applicability: Applicability::Safe, edits: vec![Edit::replace(0..2, "X")] };
        let f2 = Fix { title: "b".into(), applicability: Applicability::Safe, edits: vec![Edit::replace(1..3, "Y")] };
        let f3 = Fix { title: "c".into(), applicability: Applicability::Safe, edits: vec![Edit::replace(4..5, "Z")] };
        assert_eq!(non_conflicting([&f1, &f2, &f3]).len(), 2);
    }

    #[test]
    fn diff_edit_is_minimal() {
        let e = diff_edit("hello world", "hello brave world").unwrap();
        assert_eq!(e, Edit { range: 6..6, text: "brave ".into() });
        let e = diff_edit("a😀b", "a😁b").unwrap();
        assert_eq!(apply("a😀b", &[e]).unwrap(), "a😁b");
    }
}
