//! Languages, parsers and the compiled tree-sitter queries from `queries/`.
//!
//! Invariants:
//! - Queries are compiled once per process (`OnceLock`) from the `.scm` files embedded with
//!   `include_str!`, all of a language's files as one [`Combined`] query (one traversal per
//!   tree finds every candidate); a query that fails to compile is a bug caught by
//!   `queries_compile` below.
//! - Parsing never fails for a text we hold: tree-sitter always yields a tree (with ERROR
//!   nodes for bad input). Parsers are per-thread and reused.

pub mod wide;

use std::cell::RefCell;
use std::sync::OnceLock;
use tree_sitter::{Language, Parser, Query, Tree};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Lang {
    Python,
    Rust,
}

impl Lang {
    pub fn from_path(path: &std::path::Path) -> Option<Lang> {
        match path.extension()?.to_str()? {
            "py" | "pyi" => Some(Lang::Python),
            "rs" => Some(Lang::Rust),
            _ => None,
        }
    }

    pub fn from_language_id(id: &str) -> Option<Lang> {
        match id {
            "python" => Some(Lang::Python),
            "rust" => Some(Lang::Rust),
            _ => None,
        }
    }

    pub fn ts_language(self) -> Language {
        match self {
            Lang::Python => tree_sitter_python::LANGUAGE.into(),
            Lang::Rust => tree_sitter_rust::LANGUAGE.into(),
        }
    }
}

thread_local! {
    static PARSERS: RefCell<[Option<Parser>; 2]> = const { RefCell::new([None, None]) };
}

fn new_parser(lang: Lang) -> Parser {
    let mut p = Parser::new();
    p.set_language(&lang.ts_language()).expect("grammar ABI matches tree-sitter");
    p
}

/// Parses `text`, reusing `old` (already `edit`ed) when given.
pub fn parse(lang: Lang, text: &str, old: Option<&Tree>) -> Tree {
    PARSERS.with(|cell| {
        let mut parsers = cell.borrow_mut();
        let parser = parsers[lang as usize].get_or_insert_with(|| new_parser(lang));
        match parser.parse(text, old) {
            Some(tree) => tree,
            None => {
                // Only happens after a cancellation flag or timeout, which we never set; reset
                // and parse from scratch rather than fail.
                parser.reset();
                parser.parse(text, None).expect("parse without old tree")
            }
        }
    })
}

/// Parses only the `ranges` of `text` (sorted, disjoint; see [`Parser::set_included_ranges`]):
/// nodes keep their offsets in `text`. The parser is back to whole texts afterwards.
pub fn parse_ranges(lang: Lang, text: &str, ranges: &[tree_sitter::Range]) -> Option<Tree> {
    PARSERS.with(|cell| {
        let mut parsers = cell.borrow_mut();
        let parser = parsers[lang as usize].get_or_insert_with(|| new_parser(lang));
        parser.set_included_ranges(ranges).ok()?;
        let tree = parser.parse(text, None);
        parser.reset();
        parser.set_included_ranges(&[]).expect("the whole text is a valid range");
        tree
    })
}

/// True when the tree holds an ERROR or MISSING node.
pub fn has_syntax_error(tree: &Tree) -> bool {
    tree.root_node().has_error()
}

macro_rules! queries {
    ($($name:ident => $lang:ident, $file:literal;)*) => {
        /// Every query shipped in `queries/`, by name.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        #[allow(non_camel_case_types)]
        pub enum QueryId { $($name,)* }

        impl QueryId {
            pub const ALL: &'static [QueryId] = &[$(QueryId::$name,)*];

            pub fn lang(self) -> Lang {
                match self { $(QueryId::$name => Lang::$lang,)* }
            }

            pub fn file(self) -> &'static str {
                match self { $(QueryId::$name => $file,)* }
            }

            fn source(self) -> &'static str {
                match self { $(QueryId::$name => include_str!(concat!("../../../queries/", $file)),)* }
            }
        }
    };
}

queries! {
    PyMethodCalls => Python, "python/method_calls.scm";
    PyEvaluations => Python, "python/evaluations.scm";
    PyUserAttribute => Python, "python/user_attribute.scm";
    PyWithStatements => Python, "python/with_statements.scm";
    PyDecoratedFunctions => Python, "python/decorated_functions.scm";
    PyCalls => Python, "python/calls.scm";
    PyAwaits => Python, "python/awaits.scm";
    PyForStatements => Python, "python/for_statements.scm";
    PySinkAttributes => Python, "python/sink_attributes.scm";
    PyAttributeReads => Python, "python/attribute_reads.scm";
    RsCandidates => Rust, "rust/candidates.scm";
}

/// Every query of one language compiled as one, so that a single traversal of a tree finds
/// the candidates of all of them; `owner[i]` is the query pattern `i` comes from.
pub struct Combined {
    pub query: Query,
    pub owner: Vec<QueryId>,
}

/// The combined query of `lang` (see [`Combined`]).
pub fn combined(lang: Lang) -> &'static Combined {
    static CELLS: [OnceLock<Combined>; 2] = [const { OnceLock::new() }; 2];
    CELLS[lang as usize].get_or_init(|| {
        let ids: Vec<QueryId> = QueryId::ALL.iter().copied().filter(|id| id.lang() == lang).collect();
        let mut source = String::new();
        let mut starts = vec![];
        for id in &ids {
            starts.push(source.len());
            source.push_str(id.source());
            source.push('\n');
        }
        let query = Query::new(&lang.ts_language(), &source)
            .unwrap_or_else(|e| panic!("the {lang:?} queries do not compile together: {e}"));
        let owner = (0..query.pattern_count())
            .map(|i| ids[starts.partition_point(|&s| s <= query.start_byte_for_pattern(i)) - 1])
            .collect();
        Combined { query, owner }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_compile() {
        for id in QueryId::ALL {
            let q = Query::new(&id.lang().ts_language(), id.source())
                .unwrap_or_else(|e| panic!("query {} does not compile: {e}", id.file()));
            let c = combined(id.lang());
            let owned = c.owner.iter().filter(|o| *o == id).count();
            assert!(q.pattern_count() > 0, "{} has no pattern", id.file());
            assert_eq!(owned, q.pattern_count(), "{}: patterns in the combined query", id.file());
        }
    }
}
