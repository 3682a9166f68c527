//! An open document: text, version, line index and its incrementally maintained tree.
//!
//! Invariant: after any sequence of [`Document::apply_changes`] the tree equals a fresh parse
//! of the final text (property-tested in `tests/incremental.rs`). Each change is applied to the
//! text *and* to the old tree (`Tree::edit`) in order; one reparse follows the whole batch.
//!
//! tree-sitter's error recovery is not history-free: on text with a syntax error an
//! incremental reparse can recover differently from a fresh parse (the property test found a
//! `def` read as a `lambda`). So when the incremental tree holds an error, the document is
//! reparsed from scratch: error-free trees are reused, and the findings in the editor always
//! equal the CLI's for the same text.

use super::{Encoding, LineIndex, Pos};
use crate::syntax::{self, Lang};
use tree_sitter::{InputEdit, Tree};

/// One content change: replace `range` (or the whole text when `None`) by `text`.
#[derive(Clone, Debug)]
pub struct Change {
    pub range: Option<(Pos, Pos)>,
    pub text: String,
}

#[derive(Clone)]
pub struct Document {
    pub text: String,
    pub version: i32,
    pub lang: Lang,
    pub index: LineIndex,
    pub tree: Tree,
}

impl Document {
    pub fn new(text: String, version: i32, lang: Lang) -> Self {
        let tree = syntax::parse(lang, &text, None);
        let index = LineIndex::new(&text);
        Document { text, version, lang, index, tree }
    }

    /// Applies changes in order, then reparses incrementally. Out-of-range positions are
    /// clamped; a reversed range is treated as its normalised form.
    pub fn apply_changes(&mut self, changes: &[Change], enc: Encoding, version: i32) {
        let mut full_replace = false;
        for change in changes {
            match change.range {
                None => {
                    self.text = change.text.clone();
                    self.index = LineIndex::new(&self.text);
                    full_replace = true;
                }
                Some((a, b)) => {
                    let (a, b) = if a <= b { (a, b) } else { (b, a) };
                    let start = self.index.offset(&self.text, a, enc);
                    let end = self.index.offset(&self.text, b, enc).max(start);
                    self.replace(start..end, &change.text, !full_replace);
                }
            }
        }
        self.version = version;
        let old = if full_replace { None } else { Some(&self.tree) };
        let tree = syntax::parse(self.lang, &self.text, old);
        self.tree = if old.is_some() && tree.root_node().has_error() {
            syntax::parse(self.lang, &self.text, None)
        } else {
            tree
        };
    }

    /// Replaces a byte range (on char boundaries) and records the edit in the tree.
    pub fn replace(&mut self, range: std::ops::Range<usize>, new: &str, edit_tree: bool) {
        let start_position = self.index.ts_point(range.start);
        let old_end_position = self.index.ts_point(range.end);
        self.text.replace_range(range.clone(), new);
        self.index.replace(&self.text, range.clone(), new.len());
        if edit_tree {
            let new_end = range.start + new.len();
            self.tree.edit(&InputEdit {
                start_byte: range.start,
                old_end_byte: range.end,
                new_end_byte: new_end,
                start_position,
                old_end_position,
                new_end_position: self.index.ts_point(new_end),
            });
        }
    }
}
