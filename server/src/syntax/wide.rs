//! Wide anonymous runs: where tree-sitter's query cursor turns quadratic, and the byte ranges
//! a query may safely look at instead.
//!
//! For every node it enters, the query cursor asks whether a later *named* sibling exists and
//! scans the following siblings until it finds one. A run of n anonymous siblings therefore
//! costs O(n²): 40,000 `lambda: ` or `[` tokens left in one ERROR node took 9 s. Only error
//! recovery builds such runs; in a well-formed tree named nodes alternate with punctuation.
//!
//! Invariants:
//! - [`query_ranges`] is `None` for any tree without a run of [`WIDE_RUN`] or more consecutive
//!   anonymous children, so well-formed code is queried exactly as before. The walk only
//!   descends into subtrees that contain an error, with an explicit stack.
//! - Otherwise it returns the gaps between the runs, in order, disjoint and covering every
//!   byte outside them. Queried with each gap as the cursor's containing range, no node of a
//!   run is entered and every match lying wholly inside one gap is still found; a match whose
//!   node spans a run (an ancestor of the broken region) is not.
//! - Pure: a function of the tree alone, so the CLI and the server agree.

use std::ops::Range;
use tree_sitter::Tree;

/// Consecutive anonymous siblings from which a run is avoided. Real code stays far below it.
pub const WIDE_RUN: usize = 256;

/// The byte ranges to query when the tree holds wide anonymous runs (see the module doc), or
/// `None` when the whole tree may be queried.
pub fn query_ranges(tree: &Tree) -> Option<Vec<Range<usize>>> {
    let root = tree.root_node();
    if !root.has_error() {
        return None;
    }
    let mut runs: Vec<Range<usize>> = vec![];
    let mut stack = vec![root];
    let mut cursor = root.walk();
    while let Some(node) = stack.pop() {
        cursor.reset(node);
        if !cursor.goto_first_child() {
            continue;
        }
        let (mut run_len, mut run_start, mut run_end) = (0usize, 0usize, 0usize);
        loop {
            let child = cursor.node();
            if child.is_named() {
                if run_len >= WIDE_RUN {
                    runs.push(run_start..run_end);
                }
                run_len = 0;
                if child.has_error() {
                    stack.push(child);
                }
            } else {
                if run_len == 0 {
                    run_start = child.start_byte();
                }
                run_len += 1;
                run_end = child.end_byte();
            }
            if !cursor.goto_next_sibling() {
                break;
            }
        }
        if run_len >= WIDE_RUN {
            runs.push(run_start..run_end);
        }
    }
    if runs.is_empty() {
        return None;
    }
    runs.sort_by_key(|r| r.start);
    let mut gaps = vec![];
    let mut at = 0;
    for r in runs {
        if r.start > at {
            gaps.push(at..r.start);
        }
        at = at.max(r.end);
    }
    let end = root.end_byte().max(at);
    if end > at {
        gaps.push(at..end);
    }
    Some(gaps)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syntax::{parse, Lang};

    #[test]
    fn well_formed_and_small_errors_are_queried_whole() {
        let list: String = format!("x = [{}]\n", "1, ".repeat(5000));
        for src in [list.as_str(), "def f(:\n    pass\n", &format!("x = {}\n", "[".repeat(WIDE_RUN - 2))] {
            assert!(query_ranges(&parse(Lang::Python, src, None)).is_none(), "{:.40}", src);
        }
    }

    #[test]
    fn a_wide_run_is_cut_out() {
        let head = "async def g():\n    return Book.objects.get()\n\nx = [";
        let src = format!("{head}{}\n", "lambda: ".repeat(4 * WIDE_RUN));
        let gaps = query_ranges(&parse(Lang::Python, &src, None)).expect("a wide run");
        assert_eq!(gaps[0].start, 0);
        assert!(gaps[0].end >= head.find("x =").unwrap(), "{gaps:?}");
        assert!(gaps.windows(2).all(|w| w[0].end < w[1].start), "{gaps:?}");
        let covered: usize = gaps.iter().map(|g| g.len()).sum();
        assert!(covered < src.len() / 2, "{gaps:?}");
    }
}
