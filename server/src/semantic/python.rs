//! The Python model: scopes, imports, bindings, offloads, comments. See the module docs of
//! [`crate::semantic`] for what each means.

use crate::text::LineIndex;
use rustc_hash::{FxHashMap, FxHashSet};
use std::collections::HashMap;
use std::ops::Range;
use tree_sitter::{Node, Tree, TreeCursor};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScopeKind {
    Module,
    Function,
    Lambda,
    Class,
    GenExp,
}

#[derive(Clone, Debug)]
pub struct Scope {
    pub kind: ScopeKind,
    /// The body (or the whole generator expression).
    pub range: Range<usize>,
    /// Part of `range` evaluated in the parent scope (a generator's first iterable).
    pub hole: Option<Range<usize>>,
    pub parent: Option<usize>,
    pub name: Option<String>,
    pub is_async: bool,
    pub offloaded: bool,
    /// Byte offset of the `def`/`class` statement (for insertions before it).
    pub def_start: usize,
}

impl Scope {
    fn contains(&self, b: usize) -> bool {
        self.range.contains(&b) && !self.hole.as_ref().is_some_and(|h| h.contains(&b))
    }
}

/// Where a piece of code runs, and whether `await` may be written there.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Context {
    /// Module level, sync functions, offloaded scopes.
    Sync,
    /// On the event loop. `blocker` is the scope that makes `await` illegal (or changes its
    /// meaning, for a generator expression) between the code and its async function.
    Async { func: usize, blocker: Option<ScopeKind> },
}

impl Context {
    pub fn is_async(self) -> bool {
        matches!(self, Context::Async { .. })
    }
    /// `await`, `async for` and async comprehensions are legal and keep their meaning here.
    pub fn await_ok(self) -> bool {
        matches!(self, Context::Async { blocker: None, .. })
    }
}

#[derive(Clone, Debug)]
pub struct Binding<'t> {
    /// The binding is in effect from this byte on.
    pub pos: usize,
    /// The bound value for `name = value` / `name := value`; `None` for other bindings
    /// (parameters, loop targets, imports, `with … as`, tuple targets …).
    pub value: Option<Node<'t>>,
}

pub struct PyModel<'t> {
    pub src: &'t str,
    pub tree: &'t Tree,
    pub scopes: Vec<Scope>,
    /// local name → dotted path it was imported as.
    pub imports: FxHashMap<String, String>,
    pub imports_django: bool,
    /// Another ORM/ODM whose models also have `.objects` (mongoengine, dorm).
    pub imports_other_odm: bool,
    /// `from <…models…> import *` seen.
    pub star_from_models: bool,
    /// (scope, name id in `names`) → the name's bindings in that scope, in text order.
    bindings: FxHashMap<(usize, u32), Vec<Binding<'t>>>,
    /// The bound names (slices of `src`), numbered.
    names: FxHashMap<&'t str, u32>,
    /// Classes defined in this file, with their base-class expressions' texts.
    pub classes: FxHashMap<String, Vec<String>>,
    /// Class attribute names assigned a manager (`objects = BookManager()`).
    pub manager_attrs: FxHashSet<String>,
    offloaded_names: FxHashSet<String>,
    offloaded_lambdas: FxHashSet<usize>,
    /// Argument lists of offloader calls: code there is handed to a thread (or is AG304's).
    pub offload_args: Vec<Range<usize>>,
    /// Comments by line, for suppressions.
    pub comments: HashMap<usize, Vec<Range<usize>>>,
    /// Where a new top-level import goes (start of a line).
    pub import_insert: usize,
    /// `for` loops and comprehension clauses by the byte their targets' binding starts at
    /// (the end of the iterable): what a loop variable iterates over.
    pub loop_iters: FxHashMap<usize, LoopIter<'t>>,
    /// Class attributes declared as many-to-many (or generic) relations: related managers on
    /// instances (`tags = models.ManyToManyField(Tag)`).
    pub m2m_attrs: FxHashSet<String>,
    /// `related_name="…"` of foreign keys and many-to-many fields declared in this file: related
    /// managers on the other side's instances.
    pub related_names: FxHashSet<String>,
    /// Function scopes by name, built on first use (`bridges::defs_named`): resolving a
    /// callable costs a lookup, not a scan of every scope.
    pub(crate) functions_by_name: std::cell::OnceCell<FxHashMap<String, Vec<usize>>>,
    /// For every `def`/`class` the scope walk met, by its start byte: the `decorated_definition`
    /// around it, or `None` (`bridges::decorated_parent`). `Node::parent` walks down from the
    /// root past every earlier top-level statement, so asking it once per function made large
    /// files quadratic.
    pub(crate) decorated: FxHashMap<usize, Option<Node<'t>>>,
    /// Every word of the source (maximal runs of alphanumeric characters and `_`), built on first
    /// use (`PyModel::word_taken`): the X1 fix's fresh-name search, once per fix, was a scan of
    /// the whole text.
    pub(crate) words: std::cell::OnceCell<FxHashSet<Box<str>>>,
    /// The `function_definition` of every function scope, by scope index.
    pub(crate) function_nodes: FxHashMap<usize, Node<'t>>,
    /// Set by focused analysis ([`crate::analysis::incremental`]): whole-file searches that only
    /// matter near their result ([`PyModel::atomic_regions`]) look only at nodes overlapping
    /// this byte range. `None` (the default): the whole file.
    pub focus: Option<Range<usize>>,
    /// Where, inside a function body, something was recorded that code elsewhere in the file
    /// can see: an import, a nested `def` or `class`, a name handed to an offloader. Sorted.
    /// A function body without one contributes nothing but local facts (its scopes' bindings,
    /// comments, loops, lambdas, offload argument ranges), so focused analysis of another
    /// function may skip it ([`PyModel::build_skipping`]).
    pub events: Vec<usize>,
    /// The events that are a name handed to an offloader, with that name (`last_name` of the
    /// argument): all that such an event records besides local facts. Sorted.
    pub offloads: Vec<(usize, String)>,
    /// The rest of the project, when the analysis has it ([`super::outside`]); `None`: this
    /// file alone.
    pub outside: Option<&'t dyn super::outside::Outside>,
    /// What the project modules this file imports declare (see [`PyModel::imported_facts`]).
    pub(crate) imported: std::cell::OnceCell<super::outside::ModuleFacts>,
    /// [`PyModel::imported_facts`] for one word each (see [`PyModel::imported_has`]).
    pub(crate) imported_by_word: std::cell::RefCell<FxHashMap<String, std::rc::Rc<super::outside::ModuleFacts>>>,
    /// This file's custom queryset methods (see [`PyModel::queryset_methods`]).
    pub(crate) local_qs_methods: std::cell::OnceCell<Vec<String>>,
    /// [`PyModel::atomic_regions`] and the focus it was computed under.
    pub(crate) atomic_memo: std::cell::OnceCell<(Option<Range<usize>>, Vec<super::transactions::AtomicRegion>)>,
    /// Function bodies whose syntax was read for other functions' sake (custom queryset
    /// methods): an edit there may change findings elsewhere in the file.
    pub read_bodies: std::cell::RefCell<Vec<Range<usize>>>,
    /// [`PyModel::local_fn`] answers by `def` start, and how deep such questions are nested
    /// now (a helper returning another helper's value): bounded, so recursion terminates.
    pub(crate) local_fns: std::cell::RefCell<FxHashMap<usize, super::summary::LocalFn>>,
    pub(crate) local_fn_depth: std::cell::Cell<u32>,
    /// While non-zero, questions to `outside` are answered "unknown" (a cheap, file-local
    /// answer is wanted; see `self_is_model`).
    pub(crate) outside_off: std::cell::Cell<u32>,
    /// Whether a class body (by scope index) declares a field, relation, manager or `Meta`
    /// (see `self_is_model`): read once per class, not once per `self`.
    pub(crate) class_modelish: std::cell::RefCell<FxHashMap<usize, bool>>,
}

/// A `for` statement or `for … in` clause: its target, iterable, and whether it is `async for`.
#[derive(Clone, Copy, Debug)]
pub struct LoopIter<'t> {
    pub target: Node<'t>,
    pub iter: Node<'t>,
    pub is_async: bool,
}

/// The node kinds [`PyModel::enter`] acts on, as a table by symbol id: `node.kind()` (a
/// string, checked for UTF-8 on every call) is read only for these. A kind name can have
/// several ids (aliases), so the table is built from every id's name.
const ENTERED: &[&str] = &[
    "comment", "block", "lambda", "generator_expression", "import_statement", "import_from_statement",
    "future_import_statement", "expression_statement", "assignment", "augmented_assignment", "named_expression",
    "for_statement", "for_in_clause", "as_pattern", "with_item", "except_clause", "call",
];

struct KindTable {
    entered: Vec<bool>,
    block: Vec<bool>,
    /// `function_definition`, `class_definition`.
    def: Vec<bool>,
    /// `function_definition`, `decorated_definition`.
    unit: Vec<bool>,
    /// `parameters`, `argument_list`.
    lists: Vec<bool>,
    identifier: Vec<bool>,
    /// Field ids of the field names this module asks for.
    fields: Vec<(&'static str, u16)>,
}

const FIELDS: &[&str] = &[
    "alias", "arguments", "body", "function", "left", "module_name", "name", "object", "parameters", "right",
    "superclasses", "value", "definition",
];

/// `Node::child_by_field_name` without tree-sitter's linear `strncmp` search of the
/// language's field names (same result: that is the child with the name's field id).
pub(crate) trait Field<'a> {
    fn field(&self, name: &str) -> Option<Node<'a>>;
}

impl<'a> Field<'a> for Node<'a> {
    fn field(&self, name: &str) -> Option<Node<'a>> {
        match KINDS.fields.iter().find(|(k, _)| *k == name) {
            Some(&(_, id)) => self.child_by_field_id(id),
            None => self.child_by_field_name(name),
        }
    }
}

static KINDS: std::sync::LazyLock<KindTable> = std::sync::LazyLock::new(|| {
    let lang = crate::syntax::Lang::Python.ts_language();
    let ids = 0..lang.node_kind_count() as u16;
    let table = |names: &[&str]| ids.clone().map(|id| lang.node_kind_for_id(id).is_some_and(|k| names.contains(&k))).collect();
    let fields = FIELDS.iter().filter_map(|&f| Some((f, lang.field_id_for_name(f)?.get()))).collect();
    KindTable {
        entered: table(ENTERED),
        block: table(&["block"]),
        def: table(&["function_definition", "class_definition"]),
        unit: table(&["function_definition", "decorated_definition"]),
        lists: table(&["parameters", "argument_list"]),
        identifier: table(&["identifier"]),
        fields,
    }
});

/// `node.kind() == "identifier"`.
fn is_identifier(node: Node) -> bool {
    match KINDS.identifier.get(node.kind_id() as usize) {
        Some(&b) => b,
        None => node.kind() == "identifier",
    }
}

/// True when `node.kind()` may be one of `names`'s table (unknown ids: true).
fn kind_in(table: &[bool], node: Node) -> bool {
    table.get(node.kind_id() as usize).copied().unwrap_or(true)
}

/// A function body that [`PyModel::build_skipping`] does not walk whole.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Skip<'e> {
    /// The body's byte range.
    pub body: Range<usize>,
    /// The [`PyModel::events`] in it (sorted): only the nodes holding one are walked.
    pub events: &'e [usize],
    /// The start of the function's statement (its first decorator, or `def`/`async`), when
    /// the text from there to the body is a [`quiet_header`] and every one of `events` is a
    /// name handed to an offloader: those names, by event. The walk then does not go into the
    /// statement at all and records only the `def` and these offloads (see
    /// [`PyModel::build_skipping`]). `None`: the header is walked.
    pub head: Option<(usize, &'e [&'e str])>,
}

/// True when a function header's text (from its first decorator or `def` to its body) holds
/// nothing that [`PyModel::enter`] records, so that the header gives the model only its
/// `def`: the scope, its name's binding and its node. A header holds no statement (decorators,
/// parameters, defaults, annotations are expressions), and of the expressions that `enter`
/// acts on ([`ENTERED`]): a comment needs `#`, a lambda, an `as` pattern and a comprehension or
/// generator clause their keyword (`lambda`, `as`, `for`), a named expression `:=`, and a
/// `call` is recorded only when its callee's last name is an offloader, `submit` or `Thread`
/// (`note_offload`), which then occurs in the text, as does `sync_to_async` in a decorator
/// that offloads the function. So the text must be ASCII, hold no `#` and no `:=`, none of
/// those keywords as a word (nor at the end of a word that starts with a digit: `0for`) and
/// none of those callee names anywhere (even inside a longer word or a string).
pub fn quiet_header(text: &[u8]) -> bool {
    if !text.is_ascii() || text.contains(&b'#') || text.windows(2).any(|w| w == b":=") {
        return false;
    }
    let ident = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    for word in text.split(|&c| !ident(c)).filter(|w| !w.is_empty()) {
        for kw in [&b"lambda"[..], b"as", b"for"] {
            if word == kw || word[0].is_ascii_digit() && word.ends_with(kw) {
                return false;
            }
        }
        let callee = |name: &str| word.windows(name.len()).any(|w| w == name.as_bytes());
        if OFFLOADERS.iter().any(|o| callee(o)) || callee("submit") || callee("Thread") {
            return false;
        }
    }
    true
}

/// True when no node of a kind [`PyModel::enter`] acts on ([`ENTERED`]) can lie inside a
/// `parameters` or `argument_list` node of an error-free tree with this text, so the walk
/// need not go into it: its text is `(…)` with only identifiers, numbers, plain strings and
/// `,=*/:.+-` and white space inside, no `:=` and neither `lambda` nor `as` as a word. Inside
/// such a list there are only expressions and parameters (no statement, so no `block`,
/// import, assignment, `for`, `with` or `except`), and of the expressions [`PyModel::enter`]
/// acts on a comment needs `#`, a call or a generator `(`, a comprehension clause brackets,
/// an f-string's interpolation `{`, a lambda and an `as` pattern their keyword and a named
/// expression `:=` (a keyword can follow a number without a space). Anything else (any other byte, such as `(`, `[`, `{`, `#`, `\\`, `@`, or
/// non-ASCII, even inside a string) answers false: the list is walked.
fn plain_list(text: &[u8]) -> bool {
    let [b'(', inner @ .., b')'] = text else { return false };
    let mut word = 0..0;
    for (i, &c) in inner.iter().enumerate() {
        if c.is_ascii_alphanumeric() || c == b'_' {
            if word.end != i {
                word = i..i;
            }
            word.end = i + 1;
            // At a word's end: the keyword, or a number right before it (`0as`).
            let w = &inner[word.clone()];
            if inner.get(i + 1).is_none_or(|n| !(n.is_ascii_alphanumeric() || *n == b'_'))
                && (w == b"lambda" || w == b"as" || w[0].is_ascii_digit() && (w.ends_with(b"as") || w.ends_with(b"lambda")))
            {
                return false;
            }
        } else if !b" \t\r\n,=*/:.'\"+-".contains(&c) || (c == b'=' && i > 0 && inner[i - 1] == b':') {
            return false;
        }
    }
    true
}

/// The `function_definition` of a function statement (itself, or what it decorates).
fn def_of(node: Node) -> Option<Node> {
    let def = match node.kind() {
        "function_definition" => node,
        "decorated_definition" => node.field("definition")?,
        _ => return None,
    };
    (def.kind() == "function_definition").then_some(def)
}

/// Callee names that run their callable argument in a worker thread.
const OFFLOADERS: &[&str] =
    &["sync_to_async", "database_sync_to_async", "to_thread", "run_in_executor", "run_sync"];

/// Words without one of which a stretch of code records no [`PyModel::events`]: import
/// statements, nested `def`/`class`, and the offloader calls of `note_offload` (OFFLOADERS,
/// `….submit(f)`, `Thread(target=f)`). Sparse parsing ([`crate::analysis::sparse`]) blanks only
/// function bodies that hold none of them; a unit test keeps the list in step with the walk.
pub const EVENT_WORDS: &[&str] = &[
    "import", "def", "class", "sync_to_async", "database_sync_to_async", "to_thread", "run_in_executor", "run_sync",
    "submit", "Thread",
];

impl<'t> PyModel<'t> {
    pub fn build(src: &'t str, tree: &'t Tree, index: &LineIndex) -> Self {
        Self::build_skipping(src, tree, index, &[])
    }

    /// [`PyModel::build`] without walking all of the function bodies in `skip` (sorted by
    /// start): their `def` (name, parameters, decorators) is still seen. Of such a body, only
    /// the nodes whose byte range holds one of its [`Skip::events`] are entered (none when it
    /// has none), and a nested `def` or `class` so reached is walked whole.
    /// The parameters of a function whose body is in `skip` are not bound (they are local to
    /// the body's scope). Equal to the full model in everything but the skipped nodes' and
    /// these local facts when the events of each such body are exactly the full model's
    /// [`PyModel::events`] in it. A function statement with a [`Skip::head`] is not gone into
    /// at all: only its `def` (scope, name binding, node) and the offloaded names of its
    /// events are recorded, which equals the walk but for the body's local facts when its
    /// header is a [`quiet_header`] and its events are exactly those offloads.
    pub fn build_skipping(src: &'t str, tree: &'t Tree, index: &LineIndex, skip: &[Skip]) -> Self {
        let mut m = PyModel {
            src,
            tree,
            scopes: vec![Scope {
                kind: ScopeKind::Module,
                range: 0..src.len() + 1,
                hole: None,
                parent: None,
                name: None,
                is_async: false,
                offloaded: false,
                def_start: 0,
            }],
            imports: FxHashMap::default(),
            imports_django: false,
            imports_other_odm: false,
            star_from_models: false,
            bindings: FxHashMap::default(),
            names: FxHashMap::default(),
            classes: FxHashMap::default(),
            manager_attrs: FxHashSet::default(),
            offloaded_names: FxHashSet::default(),
            offloaded_lambdas: FxHashSet::default(),
            offload_args: Vec::new(),
            comments: HashMap::new(),
            import_insert: 0,
            loop_iters: FxHashMap::default(),
            m2m_attrs: FxHashSet::default(),
            related_names: FxHashSet::default(),
            functions_by_name: std::cell::OnceCell::new(),
            decorated: FxHashMap::default(),
            words: std::cell::OnceCell::new(),
            function_nodes: FxHashMap::default(),
            focus: None,
            events: Vec::new(),
            offloads: Vec::new(),
            outside: None,
            imported: std::cell::OnceCell::new(),
            imported_by_word: Default::default(),
            local_qs_methods: std::cell::OnceCell::new(),
            atomic_memo: std::cell::OnceCell::new(),
            read_bodies: Default::default(),
            local_fns: Default::default(),
            local_fn_depth: Default::default(),
            outside_off: Default::default(),
            class_modelish: Default::default(),
        };
        let mut decorated_offload: FxHashSet<usize> = FxHashSet::default();
        let mut cursor = tree.walk();
        // (scope index, end byte) of the scopes we are inside, innermost last.
        let mut stack: Vec<(usize, usize)> = vec![(0, usize::MAX)];
        let mut binding_scope: Vec<usize> = vec![0];
        // The cursor's depth; inside a body of `skip` with events, its block's depth and its
        // events; inside a nested `def`/`class` reached there, that node's depth (walked whole).
        let mut depth = 0usize;
        let mut directed: Option<(usize, &[usize])> = None;
        let mut whole: Option<usize> = None;
        loop {
            let node = cursor.node();
            let visit = match directed {
                Some((d, events)) if depth > d && whole.is_none() => {
                    let k = events.partition_point(|&e| e < node.start_byte());
                    events.get(k).is_some_and(|&e| e < node.end_byte())
                }
                _ => true,
            };
            // A parameter or argument list with nothing [`PyModel::enter`] acts on inside.
            let mut descend = visit
                && !(kind_in(&KINDS.lists, node)
                    && matches!(node.kind(), "parameters" | "argument_list")
                    && plain_list(&src.as_bytes()[node.byte_range()]));
            if visit {
                while stack.last().is_some_and(|(_, end)| node.start_byte() >= *end && *end != usize::MAX) {
                    let (idx, _) = stack.pop().unwrap();
                    if binding_scope.last() == Some(&idx) {
                        binding_scope.pop();
                    }
                }
                // A function statement of `skip` whose header is quiet and body has no events:
                // only its `def`, without going into it.
                let replay = if !skip.is_empty() && kind_in(&KINDS.unit, node) {
                    let k = skip.partition_point(|s| s.body.start <= node.start_byte());
                    skip.get(k)
                        .filter(|s| {
                            s.head.is_some_and(|(h, names)| h == node.start_byte() && names.len() == s.events.len())
                                && s.body.end == node.end_byte()
                        })
                        .and_then(|s| Some((s, def_of(node)?)))
                } else {
                    None
                };
                if let Some((s, owner)) = replay {
                    m.replay_def(node, owner, s.body.clone(), &mut stack, &mut binding_scope);
                    for (&e, &name) in s.events.iter().zip(s.head.map_or(&[][..], |h| h.1)) {
                        m.events.push(e);
                        m.offloaded_names.insert(name.to_string());
                        m.offloads.push((e, name.to_string()));
                    }
                    descend = false;
                } else {
                    let found = if !skip.is_empty() && kind_in(&KINDS.block, node) && node.kind() == "block" {
                        let i = skip.binary_search_by_key(&node.start_byte(), |s| s.body.start).ok();
                        i.filter(|&i| skip[i].body.end == node.end_byte())
                    } else {
                        None
                    };
                    // The cursor's parent (`Node::parent` searches down from the root).
                    let found = found.filter(|_| {
                        let mut up = cursor.clone();
                        up.goto_parent() && up.node().kind() == "function_definition"
                    });
                    m.enter(&mut cursor, node, &mut stack, &mut binding_scope, &mut decorated_offload, index, found.is_some());
                    if directed.is_some_and(|(d, _)| depth > d)
                        && whole.is_none()
                        && kind_in(&KINDS.def, node)
                        && matches!(node.kind(), "function_definition" | "class_definition")
                    {
                        whole = Some(depth);
                    }
                    if let Some(i) = found {
                        if skip[i].events.is_empty() {
                            descend = false;
                        } else {
                            directed = Some((depth, skip[i].events));
                        }
                    }
                }
            }
            if descend && cursor.goto_first_child() {
                depth += 1;
                continue;
            }
            loop {
                if cursor.goto_next_sibling() {
                    // Left the nodes at this depth and below.
                    whole = whole.filter(|&w| w < depth);
                    directed = directed.filter(|&(d, _)| d < depth);
                    break;
                }
                if !cursor.goto_parent() {
                    m.finish(&decorated_offload);
                    return m;
                }
                depth -= 1;
            }
        }
    }

    /// What the walk records for the function statement `node` (`def_node` in
    /// [`PyModel::enter`]) with `owner` its `function_definition` and `body` its body, when its
    /// header is a [`quiet_header`] and its body is skipped: the body's scope, entered and left
    /// as the `block` branch of `enter` does it for a skipped body (no parameters bound), with
    /// no offloading decorator (a quiet header has none). The body's offloads are the caller's.
    fn replay_def(
        &mut self,
        node: Node<'t>,
        owner: Node<'t>,
        body: Range<usize>,
        stack: &mut Vec<(usize, usize)>,
        binding_scope: &mut Vec<usize>,
    ) {
        let cur_scope = stack.last().map(|s| s.0).unwrap_or(0);
        let bscope = *binding_scope.last().unwrap_or(&0);
        let name_src = owner.field("name").map(|n| self.text(n));
        let is_async = owner.child(0).is_some_and(|c| c.kind() == "async");
        if !matches!(self.scopes[cur_scope].kind, ScopeKind::Module | ScopeKind::Class) {
            self.events.push(owner.start_byte());
        }
        let end = body.end;
        let idx = self.push_scope(ScopeKind::Function, body, None, cur_scope, name_src.map(str::to_string), is_async, node.start_byte());
        self.function_nodes.insert(idx, owner);
        self.decorated.insert(owner.start_byte(), (node.kind() == "decorated_definition").then_some(node));
        if let Some(n) = name_src {
            self.bind(bscope, n, owner.start_byte(), None);
        }
        stack.push((idx, end));
        binding_scope.push(idx);
    }

    fn finish(&mut self, decorated_offload: &FxHashSet<usize>) {
        self.events.sort_unstable();
        self.offloads.sort_unstable();
        for (i, s) in self.scopes.iter_mut().enumerate() {
            s.offloaded = match s.kind {
                ScopeKind::Function => {
                    decorated_offload.contains(&i)
                        || s.name.as_ref().is_some_and(|n| self.offloaded_names.contains(n))
                }
                ScopeKind::Lambda => self.offloaded_lambdas.contains(&s.def_start),
                _ => false,
            };
        }
    }

    fn text(&self, n: Node) -> &'t str {
        &self.src[n.byte_range()]
    }

    #[allow(clippy::too_many_arguments)]
    fn enter(
        &mut self,
        cursor: &mut TreeCursor<'t>,
        node: Node<'t>,
        stack: &mut Vec<(usize, usize)>,
        binding_scope: &mut Vec<usize>,
        decorated_offload: &mut FxHashSet<usize>,
        index: &LineIndex,
        skipped_body: bool,
    ) {
        if !kind_in(&KINDS.entered, node) {
            return;
        }
        let cur_scope = stack.last().map(|s| s.0).unwrap_or(0);
        let bscope = *binding_scope.last().unwrap_or(&0);
        let field = cursor.field_name();
        match node.kind() {
            "comment" => {
                let line = index.line_of(node.start_byte());
                self.comments.entry(line).or_default().push(node.byte_range());
            }
            "block" if field == Some("body") => {
                // The cursor's ancestors (`Node::parent` searches down from the root, which
                // costs a scan of every class body's methods per method).
                let mut up = cursor.clone();
                let Some(owner) = up.goto_parent().then(|| up.node()) else { return };
                let kind = match owner.kind() {
                    "function_definition" => ScopeKind::Function,
                    "class_definition" => ScopeKind::Class,
                    _ => return,
                };
                let name_src = owner.field("name").map(|n| self.text(n));
                let name = name_src.map(str::to_string);
                let is_async = kind == ScopeKind::Function
                    && owner.child(0).is_some_and(|c| c.kind() == "async");
                let def_node = match up.goto_parent().then(|| up.node()) {
                    Some(p) if p.kind() == "decorated_definition" => p,
                    _ => owner,
                };
                if !matches!(self.scopes[cur_scope].kind, ScopeKind::Module | ScopeKind::Class) {
                    self.events.push(owner.start_byte());
                }
                let idx = self.push_scope(kind, node.byte_range(), None, cur_scope, name.clone(), is_async, def_node.start_byte());
                if kind == ScopeKind::Function {
                    self.function_nodes.insert(idx, owner);
                }
                self.decorated.insert(owner.start_byte(), (def_node.kind() == "decorated_definition").then_some(def_node));
                if def_node.kind() == "decorated_definition" {
                    let mut c = def_node.walk();
                    for dec in def_node.named_children(&mut c).filter(|n| n.kind() == "decorator") {
                        let t = self.text(dec);
                        let callee = t.trim_start_matches('@').split('(').next().unwrap_or("").trim();
                        let last = last_name(callee);
                        if last == "sync_to_async" || last == "database_sync_to_async" {
                            decorated_offload.insert(idx);
                        }
                    }
                }
                if kind == ScopeKind::Class {
                    if let Some(n) = &name {
                        let bases = owner
                            .field("superclasses")
                            .map(|s| {
                                let mut c = s.walk();
                                s.named_children(&mut c)
                                    .filter(|a| a.kind() != "keyword_argument")
                                    .map(|a| self.text(a).to_string())
                                    .collect()
                            })
                            .unwrap_or_default();
                        self.classes.insert(n.clone(), bases);
                    }
                }
                if let Some(n) = name_src {
                    self.bind(bscope, n, owner.start_byte(), None);
                }
                // The parameters are bound in the body's scope only: a skipped body's are not
                // looked up.
                if kind == ScopeKind::Function && name.is_some() && !skipped_body {
                    if let Some(params) = owner.field("parameters") {
                        self.bind_params(idx, params);
                    }
                }
                stack.push((idx, node.end_byte()));
                binding_scope.push(idx);
            }
            "lambda" => {
                if let Some(body) = node.field("body") {
                    let idx = self.push_scope(ScopeKind::Lambda, body.byte_range(), None, cur_scope, None, false, node.start_byte());
                    if let Some(params) = node.field("parameters") {
                        self.bind_params(idx, params);
                    }
                    stack.push((idx, node.end_byte()));
                }
            }
            "generator_expression" => {
                let mut c = node.walk();
                let hole = node
                    .named_children(&mut c)
                    .find(|n| n.kind() == "for_in_clause")
                    .and_then(|f| f.field("right"))
                    .map(|r| r.byte_range());
                let idx = self.push_scope(ScopeKind::GenExp, node.byte_range(), hole, cur_scope, None, false, node.start_byte());
                stack.push((idx, node.end_byte()));
            }
            "import_statement" | "import_from_statement" | "future_import_statement" => {
                self.events.push(node.start_byte());
                self.import(node);
                if cur_scope == 0 {
                    let line = index.line_of(node.end_byte());
                    self.import_insert = if line + 1 < index.line_count() {
                        index.line_range(self.src, line + 1).start
                    } else {
                        self.src.len()
                    };
                }
            }
            "expression_statement" if cur_scope == 0 && self.import_insert == 0
                // A module docstring: new imports go after it.
                && node.start_byte() == first_statement_start(self.tree)
                    && node.named_child(0).is_some_and(|c| c.kind() == "string")
                => {
                    let line = index.line_of(node.end_byte());
                    self.import_insert = if line + 1 < index.line_count() {
                        index.line_range(self.src, line + 1).start
                    } else {
                        self.src.len()
                    };
                }
            "assignment" => {
                if let (Some(left), Some(right)) =
                    (node.field("left"), node.field("right"))
                {
                    if left.kind() == "identifier" {
                        let name = self.text(left);
                        if right.kind() != "assignment" {
                            self.bind(bscope, name, node.end_byte(), Some(right));
                        } else {
                            self.bind(bscope, name, node.end_byte(), None);
                        }
                        // Class attribute holding a manager.
                        if self.scopes[cur_scope].kind == ScopeKind::Class && is_manager_ctor(self.text(right)) {
                            self.manager_attrs.insert(name.to_string());
                        } else if self.scopes[cur_scope].kind == ScopeKind::Class && right.kind() == "call" {
                            self.note_relation_field(name, right);
                        }
                    } else {
                        self.bind_targets(bscope, left, node.end_byte());
                    }
                } else if let Some(left) = node.field("left") {
                    self.bind_targets(bscope, left, node.end_byte());
                }
            }
            "augmented_assignment" => {
                if let Some(left) = node.field("left") {
                    self.bind_targets(bscope, left, node.end_byte());
                }
            }
            "named_expression" => {
                if let (Some(n), Some(v)) = (node.field("name"), node.field("value")) {
                    let name = self.text(n);
                    self.bind(bscope, name, node.end_byte(), Some(v));
                }
            }
            "for_statement" | "for_in_clause" => {
                if let Some(left) = node.field("left") {
                    let pos = node.field("right").map(|r| r.end_byte()).unwrap_or(left.end_byte());
                    self.bind_targets(bscope, left, pos);
                    if let Some(iter) = node.field("right") {
                        let is_async = node.child(0).is_some_and(|c| c.kind() == "async");
                        self.loop_iters.insert(pos, LoopIter { target: left, iter, is_async });
                    }
                }
            }
            "as_pattern" | "with_item" => {
                if let Some(alias) = node.field("alias") {
                    self.bind_targets(bscope, alias, alias.end_byte());
                }
            }
            "except_clause" => {
                let mut c = node.walk();
                if let Some(id) = node.named_children(&mut c).filter(|n| n.kind() == "identifier").last() {
                    self.bind_targets(bscope, id, id.end_byte());
                }
            }
            "call" => self.note_offload(node),
            _ => {}
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn push_scope(
        &mut self,
        kind: ScopeKind,
        range: Range<usize>,
        hole: Option<Range<usize>>,
        parent: usize,
        name: Option<String>,
        is_async: bool,
        def_start: usize,
    ) -> usize {
        self.scopes.push(Scope { kind, range, hole, parent: Some(parent), name, is_async, offloaded: false, def_start });
        self.scopes.len() - 1
    }

    fn bind(&mut self, scope: usize, name: &'t str, pos: usize, value: Option<Node<'t>>) {
        let next = self.names.len() as u32;
        let id = *self.names.entry(name).or_insert(next);
        self.bindings.entry((scope, id)).or_default().push(Binding { pos, value });
    }

    fn bind_params(&mut self, scope: usize, params: Node<'t>) {
        let mut c = params.walk();
        let mut more = c.goto_first_child();
        while more {
            let p = c.node();
            if p.is_named() {
                let id = if is_identifier(p) {
                    Some(p)
                } else {
                    p.field("name").or_else(|| (0..p.named_child_count() as u32).filter_map(|i| p.named_child(i)).find(|n| is_identifier(*n)))
                };
                if let Some(id) = id.filter(|i| is_identifier(*i)) {
                    let name = self.text(id);
                    self.bind(scope, name, 0, None);
                }
            }
            more = c.goto_next_sibling();
        }
    }

    /// Binds every identifier in a target pattern with no known value.
    fn bind_targets(&mut self, scope: usize, target: Node<'t>, pos: usize) {
        let mut todo = vec![target];
        while let Some(n) = todo.pop() {
            match n.kind() {
                "identifier" => {
                    let name = self.text(n);
                    self.bind(scope, name, pos, None);
                }
                "attribute" | "subscript" => {}
                _ => {
                    let mut c = n.walk();
                    todo.extend(n.named_children(&mut c));
                }
            }
        }
    }

    fn import(&mut self, node: Node<'t>) {
        let mut c = node.walk();
        match node.kind() {
            "import_statement" => {
                for child in node.named_children(&mut c) {
                    let (path, local) = match child.kind() {
                        "dotted_name" => {
                            let p = self.text(child).to_string();
                            let first = p.split('.').next().unwrap_or("").to_string();
                            (p, first)
                        }
                        "aliased_import" => {
                            let p = child.field("name").map(|n| self.text(n)).unwrap_or("");
                            let a = child.field("alias").map(|n| self.text(n)).unwrap_or("");
                            (p.to_string(), a.to_string())
                        }
                        _ => continue,
                    };
                    self.note_module(&path);
                    let full = if child.kind() == "dotted_name" { local.clone() } else { path };
                    self.imports.insert(local, full);
                }
            }
            "import_from_statement" => {
                let module = node.field("module_name").map(|n| self.text(n).to_string()).unwrap_or_default();
                self.note_module(&module);
                let from_models = module.trim_start_matches('.').split('.').any(|p| p == "models") || module == ".";
                for child in node.named_children(&mut c) {
                    if child.start_byte() == node.field("module_name").map(|n| n.start_byte()).unwrap_or(usize::MAX) {
                        continue;
                    }
                    let (name, local) = match child.kind() {
                        "dotted_name" => (self.text(child).to_string(), self.text(child).to_string()),
                        "aliased_import" => {
                            let p = child.field("name").map(|n| self.text(n)).unwrap_or("");
                            let a = child.field("alias").map(|n| self.text(n)).unwrap_or("");
                            (p.to_string(), a.to_string())
                        }
                        "wildcard_import" => {
                            if from_models {
                                self.star_from_models = true;
                            }
                            continue;
                        }
                        _ => continue,
                    };
                    let full = if module.ends_with('.') { format!("{module}{name}") } else { format!("{module}.{name}") };
                    self.imports.insert(local, full);
                }
            }
            _ => {}
        }
    }

    fn note_module(&mut self, module: &str) {
        let top = module.split('.').next().unwrap_or("");
        if top == "django" {
            self.imports_django = true;
        }
        // Other ORMs/ODMs whose models also derive a `Model` (and, for some, have `.objects`
        // or awaitable `save()`): not Django's rules.
        if matches!(
            top,
            "mongoengine" | "dorm" | "djanorm" | "tortoise" | "piccolo" | "peewee" | "playhouse" | "sqlalchemy"
                | "sqlmodel" | "ormar" | "beanie" | "odmantic" | "pony" | "gino" | "edgy" | "saffier"
        ) {
            self.imports_other_odm = true;
        }
    }

    /// `tags = models.ManyToManyField(…, related_name="books")` in a class body.
    fn note_relation_field(&mut self, name: &str, call: Node<'t>) {
        let Some(func) = call.field("function") else { return };
        let ctor = last_name(self.text(func));
        let many = matches!(ctor, "ManyToManyField" | "GenericRelation");
        if !many && ctor != "ForeignKey" {
            return;
        }
        if many {
            self.m2m_attrs.insert(name.to_string());
        }
        let Some(args) = call.field("arguments") else { return };
        let mut c = args.walk();
        for kw in args.named_children(&mut c).filter(|a| a.kind() == "keyword_argument") {
            let key = kw.field("name").map(|n| self.text(n));
            let value = kw.field("value").filter(|v| v.kind() == "string");
            if let (Some("related_name"), Some(v)) = (key, value) {
                let t = self.text(v).trim_matches(|c| c == '"' || c == '\'');
                if !t.is_empty() && !t.contains('+') && !t.contains('%') {
                    self.related_names.insert(t.to_string());
                }
            }
        }
    }

    fn note_offload(&mut self, call: Node<'t>) {
        let Some(func) = call.field("function") else { return };
        let Some(args) = call.field("arguments") else { return };
        let callee = last_name(self.text(func));
        let recv = match func.kind() {
            "attribute" => func.field("object").map(|o| self.text(o).to_ascii_lowercase()),
            _ => None,
        };
        let mut c = args.walk();
        let positional: Vec<Node> = args.named_children(&mut c).filter(|a| a.kind() != "keyword_argument" && a.kind() != "comment").collect();
        let target = if OFFLOADERS.contains(&callee) {
            if callee == "run_in_executor" { positional.get(1).copied() } else { positional.first().copied() }
        } else if callee == "submit" && recv.as_deref().is_some_and(|r| r.contains("executor") || r.contains("pool")) {
            positional.first().copied()
        } else if callee == "Thread" {
            let mut c = args.walk();
            let t = args
                .named_children(&mut c)
                .filter(|a| a.kind() == "keyword_argument")
                .find(|a| a.field("name").is_some_and(|n| self.text(n) == "target"))
                .and_then(|a| a.field("value"));
            t
        } else {
            return;
        };
        self.offload_args.push(args.byte_range());
        let mut target = target;
        // functools.partial(f, …) hands `f` over.
        while let Some(t) = target {
            if t.kind() == "call"
                && t.field("function").is_some_and(|f| last_name(self.text(f)) == "partial")
            {
                target = t.field("arguments").and_then(|a| a.named_child(0));
                continue;
            }
            break;
        }
        match target {
            Some(t) if t.kind() == "lambda" => {
                self.offloaded_lambdas.insert(t.start_byte());
            }
            Some(t) if matches!(t.kind(), "identifier" | "attribute") => {
                let name = last_name(self.text(t));
                self.events.push(t.start_byte());
                self.offloaded_names.insert(name.to_string());
                self.offloads.push((t.start_byte(), name.to_string()));
            }
            _ => {}
        }
    }

    /// The innermost scope whose body holds byte `b`.
    pub fn scope_at(&self, b: usize) -> usize {
        let i = self.scopes.partition_point(|s| s.range.start <= b);
        let mut cur = i.saturating_sub(1);
        loop {
            if self.scopes[cur].contains(b) {
                return cur;
            }
            match self.scopes[cur].parent {
                Some(p) => cur = p,
                None => return 0,
            }
        }
    }

    /// Where the code at byte `b` runs (RULES.md §0.4).
    pub fn context_at(&self, b: usize) -> Context {
        let mut cur = self.scope_at(b);
        let mut blocker: Option<ScopeKind> = None;
        loop {
            let s = &self.scopes[cur];
            match s.kind {
                ScopeKind::Module => return Context::Sync,
                ScopeKind::Function if s.is_async => return Context::Async { func: cur, blocker },
                // A sync `def` body is sync context whoever defines it: where it runs is
                // decided by its caller (a direct call from async code is AG108's).
                ScopeKind::Function => return Context::Sync,
                ScopeKind::Lambda => {
                    if s.offloaded {
                        return Context::Sync;
                    }
                    blocker = Some(s.kind);
                }
                ScopeKind::Class => {
                    blocker.get_or_insert(ScopeKind::Class);
                }
                ScopeKind::GenExp => {
                    blocker.get_or_insert(ScopeKind::GenExp);
                }
            }
            match s.parent {
                Some(p) => cur = p,
                None => return Context::Sync,
            }
        }
    }

    /// Names passed to an offloader anywhere in the file (their `def`s are offloaded).
    pub fn offloaded_names(&self) -> &FxHashSet<String> {
        &self.offloaded_names
    }

    /// True when byte `b` lies in the argument list of an offloader call
    /// (`sync_to_async(…)`, `asyncio.to_thread(…)`, …).
    pub fn in_offload_args(&self, b: usize) -> bool {
        self.offload_args.iter().any(|r| r.contains(&b))
    }

    /// The binding of `name` in effect at byte `at`, searching outwards from the scope there.
    /// `None`: the name is not bound in this file (a builtin, or from a star import).
    pub fn binding(&self, name: &str, at: usize) -> Option<&Binding<'t>> {
        self.binding_in(name, at).map(|(_, b)| b)
    }

    /// [`PyModel::binding_in`] when that binding is the only one of the name in its scope
    /// (a name never rebound there).
    pub fn sole_binding_in(&self, name: &str, at: usize) -> Option<(usize, &Binding<'t>)> {
        let (scope, b) = self.binding_in(name, at)?;
        let id = *self.names.get(name)?;
        (self.bindings.get(&(scope, id)).map_or(0, |l| l.len()) == 1).then_some((scope, b))
    }

    /// [`PyModel::binding`] with the scope that holds the binding.
    pub fn binding_in(&self, name: &str, at: usize) -> Option<(usize, &Binding<'t>)> {
        let id = *self.names.get(name)?;
        let mut scope = self.scope_at(at);
        let mut own = true;
        loop {
            if let Some(list) = self.bindings.get(&(scope, id)) {
                // In the use's own scope: the last binding before the use. In an enclosing
                // scope (a closure read): the last binding before the use as well.
                if let Some(b) = list.iter().rev().find(|b| b.pos <= at) {
                    return Some((scope, b));
                }
                if own {
                    // Bound only later in this scope: unknown at this point.
                    return list.last().map(|b| (scope, b));
                }
            }
            own = false;
            match self.scopes[scope].parent {
                Some(p) => {
                    scope = p;
                    // Class scopes are not visible from the functions inside them.
                    while self.scopes[scope].kind == ScopeKind::Class {
                        match self.scopes[scope].parent {
                            Some(pp) => scope = pp,
                            None => break,
                        }
                    }
                }
                None => return None,
            }
        }
    }

    /// The text of a node.
    pub fn node_text(&self, n: Node) -> &'t str {
        &self.src[n.byte_range()]
    }

    /// The name a local name was imported as (`tx` → `django.db.transaction`).
    pub fn import_of(&self, name: &str) -> Option<&str> {
        self.imports.get(name).map(String::as_str)
    }

    /// True when `sync_to_async` is usable by that name in this file.
    pub fn has_sync_to_async(&self) -> bool {
        self.imports.get("sync_to_async").is_some_and(|p| p.ends_with("sync_to_async"))
    }
}

fn first_statement_start(tree: &Tree) -> usize {
    let root = tree.root_node();
    let mut c = root.walk();
    let first = root.named_children(&mut c).find(|n| n.kind() != "comment").map(|n| n.start_byte()).unwrap_or(0);
    first
}

/// The last dotted component of a callee text (`asyncio.to_thread` → `to_thread`).
pub fn last_name(text: &str) -> &str {
    text.rsplit('.').next().unwrap_or(text).trim()
}

/// `BookManager()`, `models.Manager()`, `BookQuerySet.as_manager()`,
/// `Manager.from_queryset(QS)()`.
fn is_manager_ctor(value: &str) -> bool {
    let v = value.trim();
    if !v.ends_with(')') {
        return false;
    }
    let callee = v.split('(').next().unwrap_or("");
    let last = last_name(callee);
    last.ends_with("Manager") || last == "as_manager" || v.contains(".from_queryset(")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syntax::{parse, Lang};

    fn with_model(src: &str, f: impl FnOnce(&PyModel)) {
        let tree = parse(Lang::Python, src, None);
        let index = LineIndex::new(src);
        let m = PyModel::build(src, &tree, &index);
        f(&m);
    }

    fn ctx(m: &PyModel, src: &str, needle: &str) -> Context {
        m.context_at(src.find(needle).unwrap_or_else(|| panic!("{needle} not in source")))
    }

    #[test]
    fn every_event_comes_with_an_event_word() {
        assert!(OFFLOADERS.iter().all(|o| EVENT_WORDS.contains(o)));
        let src = "def f():\n    import os\n    from x import y\n    def g(): pass\n    class C: pass\n    \
                   sync_to_async(h)\n    executor.submit(k)\n    Thread(target=t)\n    to_thread(u)\n    loop.run_in_executor(None, v)\n";
        with_model(src, |m| {
            assert_eq!(m.events.len(), 9, "{:?}", m.events);
            for &e in &m.events {
                let line = &src[src[..e].rfind('\n').map_or(0, |i| i + 1)..];
                let line = &line[..line.find('\n').unwrap_or(line.len())];
                assert!(EVENT_WORDS.iter().any(|w| line.contains(w)), "event at {e} on {line:?} has no event word");
            }
        });
    }

    #[test]
    fn imports_and_aliases() {
        let src = "import django.db.models\nimport asyncio as aio\nfrom django.db import transaction as tx\nfrom .models import Book\nfrom ..x.models import *\n";
        with_model(src, |m| {
            assert_eq!(m.import_of("tx"), Some("django.db.transaction"));
            assert_eq!(m.import_of("aio"), Some("asyncio"));
            assert_eq!(m.import_of("django"), Some("django"));
            assert_eq!(m.import_of("Book"), Some(".models.Book"));
            assert!(m.imports_django && m.star_from_models && !m.imports_other_odm);
            assert_eq!(m.import_insert, src.len());
        });
    }

    #[test]
    fn contexts() {
        let src = "\
def sync_fn():
    A = 1

async def view():
    B = 1
    def helper(d=DEFAULT):
        C = 1
    f = lambda: LAM
    g = sum(GEN for x in ITER)
    class K:
        BODY = 1
    @decorator(DEC)
    def offloaded():
        OFF = 1
    await sync_to_async(offloaded)()
    await sync_to_async(lambda: OFFLAM)()
    await asyncio.to_thread(functools.partial(part_fn, 1))
    def part_fn(x):
        PART = 1
    t = threading.Thread(target=worker)
    def worker():
        THR = 1

MOD = 1
";
        with_model(src, |m| {
            assert_eq!(ctx(m, src, "A = 1"), Context::Sync);
            assert_eq!(ctx(m, src, "MOD = 1"), Context::Sync);
            assert!(ctx(m, src, "B = 1").await_ok());
            assert!(ctx(m, src, "DEFAULT").await_ok(), "defaults run in the enclosing scope (Q7)");
            assert!(ctx(m, src, "DEC").await_ok(), "decorators run in the enclosing scope (Q7)");
            assert_eq!(ctx(m, src, "C = 1"), Context::Sync, "a nested sync def is sync context: its caller decides");
            assert!(matches!(ctx(m, src, "LAM"), Context::Async { blocker: Some(ScopeKind::Lambda), .. }));
            assert!(matches!(ctx(m, src, "GEN"), Context::Async { blocker: Some(ScopeKind::GenExp), .. }));
            assert!(ctx(m, src, "ITER").await_ok(), "a generator's first iterable runs in the enclosing scope");
            assert!(matches!(ctx(m, src, "BODY"), Context::Async { blocker: Some(ScopeKind::Class), .. }));
            assert_eq!(ctx(m, src, "OFF = 1"), Context::Sync);
            assert_eq!(ctx(m, src, "OFFLAM"), Context::Sync);
            assert_eq!(ctx(m, src, "PART = 1"), Context::Sync);
            assert_eq!(ctx(m, src, "THR = 1"), Context::Sync);
        });
    }

    #[test]
    fn bindings_follow_text_order_and_scopes() {
        let src = "qs = 1\nasync def f(p):\n    a = USE1\n    qs = Book.objects.all()\n    b = qs\n    for qs in []:\n        c = qs\n";
        with_model(src, |m| {
            let at = |n: &str| src.find(n).unwrap();
            let v = m.binding("qs", at("b = qs") + 4).unwrap().value.unwrap();
            assert_eq!(m.node_text(v), "Book.objects.all()");
            assert!(m.binding("qs", at("c = qs") + 4).unwrap().value.is_none(), "loop target rebinds");
            assert!(m.binding("p", at("USE1")).unwrap().value.is_none(), "parameter");
            assert!(m.binding("nothing", at("USE1")).is_none());
        });
    }

    /// Every `parameters`/`argument_list` node that [`plain_list`] lets the walk skip holds
    /// no node of an [`ENTERED`] kind: in tricky lists and in every Python fixture.
    #[test]
    fn plain_lists_hold_nothing_entered() {
        fn check(src: &str) -> (usize, usize) {
            let tree = parse(Lang::Python, src, None);
            if tree.root_node().has_error() {
                return (0, 0);
            }
            let (mut plain, mut lists) = (0, 0);
            let mut todo = vec![tree.root_node()];
            while let Some(n) = todo.pop() {
                let mut c = n.walk();
                todo.extend(n.children(&mut c));
                if !matches!(n.kind(), "parameters" | "argument_list") {
                    continue;
                }
                lists += 1;
                if !plain_list(&src.as_bytes()[n.byte_range()]) {
                    continue;
                }
                plain += 1;
                let mut inner = vec![n];
                while let Some(m) = inner.pop() {
                    assert!(m == n || !ENTERED.contains(&m.kind()), "{} in {:?}", m.kind(), &src[n.byte_range()]);
                    let mut c = m.walk();
                    inner.extend(m.children(&mut c));
                }
            }
            (plain, lists)
        }
        let tricky = [
            "def f(x=a as b): pass\n", "def f(x=0as b): pass\n", "def f(x=y:=1): pass\n", "def f(x=lambda: 1): pass\n",
            "def f(x=1lambda: 1): pass\n", "f(x=y:=1)\n", "f(a as b)\n", "f(lambda: 1)\n", "f(x for x in y)\n",
            "f(g(x))\n", "f([x for x in y])\n", "f({x for x in y})\n", "f(f'{g()}')\n", "f(x, # c\n y)\n",
            "def f(a, /, b: int = 1, *c, d='(', **e) -> int: pass\n", "f(a.b, c=-1, *d, **e)\n", "f(alias, base=has)\n",
        ];
        let plain: usize = tricky.iter().map(|s| check(s).0).sum();
        assert_eq!(plain, 4, "the last two, `(x)` in `f(g(x))` and `()` in the f-string");
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let (mut plain, mut lists) = (0, 0);
        for dir in ["tests/fixtures/python", "tests/demo/shop"] {
            for e in std::fs::read_dir(root.join(dir)).unwrap() {
                let p = e.unwrap().path();
                if p.extension().is_some_and(|x| x == "py") {
                    let (a, b) = check(&std::fs::read_to_string(p).unwrap());
                    (plain, lists) = (plain + a, lists + b);
                }
            }
        }
        assert!(plain * 4 > lists, "{plain} of {lists} lists are plain");
    }

    #[test]
    fn deep_nesting_does_not_overflow() {
        let depth = 10_000;
        let src = format!("async def f():\n    x = {}1{}\n", "(".repeat(depth), ")".repeat(depth));
        with_model(&src, |m| assert!(m.context_at(src.find('1').unwrap()).is_async()));
    }
}

/// `call` is in the body of a `lambda` stored for later in an attribute or handed over as a
/// keyword argument (`mock.side_effect = lambda: …`, `f(callback=lambda: …)`): it runs where
/// the stored function is called, which this function does not show. A lambda bound to a
/// plain name (`f = lambda: …`) still counts as called here.
pub fn in_stored_lambda(call: Node) -> bool {
    let mut cur = call.parent();
    while let Some(n) = cur {
        match n.kind() {
            "lambda" => {
                return n.parent().is_some_and(|p| match p.kind() {
                    // A name (`f = lambda: …`) is likely called here; an attribute is a hook.
                    "assignment" => {
                        p.child_by_field_name("right") == Some(n) && p.child_by_field_name("left").is_some_and(|l| l.kind() == "attribute")
                    }
                    "keyword_argument" => true,
                    _ => false,
                });
            }
            "function_definition" | "class_definition" | "module" => return false,
            _ => cur = n.parent(),
        }
    }
    false
}
