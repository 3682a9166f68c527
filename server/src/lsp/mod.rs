//! The language server (tower-lsp-server): the only module that knows LSP types.
//! One file per handler; this file holds the shared state and the trait wiring.
//!
//! Invariants:
//! - **Edits are applied in wire order.** tower-lsp-server polls handlers concurrently
//!   (`buffer_unordered`), but each handler runs synchronously until its first `.await`, and
//!   handlers are first polled in arrival order. `did_open`/`did_change`/`did_close` therefore
//!   apply the change and reparse *before* any `.await`, under the `DashMap` shard lock (a
//!   sync lock, never held across `.await`).
//! - **Only the current version is published.** Analysis runs after the edit (the short
//!   focused attempt in the handler itself, for texts up to 512 KB; a full analysis on the
//!   blocking pool); its result is cached and published only if the document's version is
//!   still the one analysed, and under `publish_lock`, so publications never go out of order.
//! - **Bursts are coalesced.** At most one push analysis per document is in flight; changes
//!   that arrive meanwhile only mark it for another round, which analyses the newest version
//!   (intermediate versions are never analysed), so a burst of edits costs a bounded amount
//!   of work and memory.
//! - **Pull or push, never both**: pull (`textDocument/diagnostic`) when the client
//!   advertises it, push (`publishDiagnostics` with the version) otherwise.
//! - **No server→client request is awaited on the hot path**: configuration fetches,
//!   registrations, refreshes and `showMessage` are spawned.
//! - **Nothing kills the server**: analysis panics are caught and logged
//!   (`window/logMessage`); bad settings fall back to defaults with a message; a malformed
//!   message on stdin is dropped by [`framing`] before tower-lsp-server sees it.

mod code_action;
mod config_files;
mod configuration;
mod convert;
mod diagnostics;
mod execute_command;
pub mod framing;
mod hover;
mod initialize;
mod text_sync;
mod workspace;

use crate::config::Overrides;
use crate::analysis::Analysis;
use crate::text::{Document, Encoding};
use crate::workspace::SettingsCache;
use dashmap::DashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types::*;
use tower_lsp_server::{Client, LanguageServer, LspService, Server};

/// The code action kind of "fix all".
pub const FIX_ALL_KIND: CodeActionKind = CodeActionKind::new("source.fixAll.awaitguard");
/// The command that applies every safe fix in a document (`arguments: [uri]`).
pub const FIX_ALL_COMMAND: &str = "awaitguard.applyFixAll";

/// One open document and its latest analysis.
pub(crate) struct DocState {
    pub doc: Document,
    /// (settings generation, version, analysis) of the newest analysis done.
    pub analysis: Option<(u64, i32, Arc<Analysis>)>,
    /// (settings generation, snapshot) of the newest analysis done: the next analysis of
    /// this document re-analyses only what changed since (`analysis::incremental`).
    pub snapshot: Option<(u64, Arc<crate::analysis::incremental::Snapshot>)>,
    /// A push publication loop is running for this document (see `diagnostics::publish`).
    pub publishing: bool,
    /// Something changed (text or settings) since that loop last looked: it goes round again.
    pub republish: bool,
    /// The other files the newest analysis read through the project model: when one of them
    /// changes, this document is analysed again.
    pub deps: Vec<std::path::PathBuf>,
    /// Bumped when a file in `deps` changed: an analysis that started before does not
    /// become the cached one (it may have read the old file).
    pub deps_epoch: u64,
}

/// What the client told us in `initialize`.
#[derive(Clone, Debug)]
pub(crate) struct ClientFacts {
    pub encoding: Encoding,
    pub pull: bool,
    pub configuration: bool,
    pub refresh: bool,
    pub document_changes: bool,
    pub watch_registration: bool,
    pub config_registration: bool,
    pub roots: Vec<PathBuf>,
    /// `window.workDoneProgress`: the server may create progress tokens.
    pub work_done_progress: bool,
    /// `codeDescriptionSupport` (pull `textDocument.diagnostic` or
    /// `textDocument.publishDiagnostics`): diagnostics may carry a link to the rule's page.
    pub code_description: bool,
}

impl Default for ClientFacts {
    fn default() -> Self {
        ClientFacts {
            encoding: Encoding::Utf16,
            pull: false,
            configuration: false,
            refresh: false,
            document_changes: false,
            watch_registration: false,
            config_registration: false,
            roots: vec![],
            work_done_progress: false,
            code_description: false,
        }
    }
}

/// Editor settings beyond the rule overrides.
#[derive(Clone, Debug)]
pub(crate) struct EditorSettings {
    pub enable: bool,
    pub overrides: Overrides,
    /// `ruleDocsUrl`: the base URL of the rule pages (`<base>/AG101.md`); `None`: the
    /// canonical home's pages for this version ([`RULE_DOCS_URL`]); `Some("")`: no links
    /// (the setting `"off"`).
    pub rule_docs_url: Option<String>,
}

impl Default for EditorSettings {
    fn default() -> Self {
        EditorSettings { enable: true, overrides: Overrides::default(), rule_docs_url: None }
    }
}

/// The default base URL of the rule pages (`docs/rules/` in the canonical repository, at the
/// release tag of this version, so a page matches the server that links to it).
pub const RULE_DOCS_URL: &str = concat!("https://github.com/awaitguard/awaitguard/blob/v", env!("CARGO_PKG_VERSION"), "/docs/rules");

/// How long after an edit background model reading waits ([`State::yield_to_edits`]).
const EDIT_QUIET_MS: u64 = 20;
/// The longest one [`State::yield_to_edits`] waits: continuous typing slows the reading
/// down, it does not stop it.
const EDIT_YIELD_MAX_MS: u64 = 50;

/// Shared server state; handlers get `&Arc<State>` so they can spawn follow-up work.
pub struct State {
    pub(crate) client: Client,
    pub(crate) docs: DashMap<Uri, DocState>,
    /// Open configuration files AG307 reads (`.env`, Dockerfile …; see `config_files`).
    pub(crate) configs: DashMap<Uri, config_files::ConfigDoc>,
    pub(crate) facts: RwLock<ClientFacts>,
    pub(crate) editor: RwLock<EditorSettings>,
    pub(crate) settings: RwLock<Arc<SettingsCache>>,
    /// Bumped whenever settings change: part of every pull `resultId`.
    pub(crate) generation: AtomicU64,
    /// Bumped whenever a `didChangeConfiguration` payload is applied: a
    /// `workspace/configuration` answer to a request sent before that is stale and dropped.
    pub(crate) pushed_settings: AtomicU64,
    pub(crate) publish_lock: tokio::sync::Mutex<()>,
    /// Config errors already shown, so one bad file is not announced on every keystroke.
    pub(crate) shown_errors: std::sync::Mutex<std::collections::HashSet<String>>,
    pub(crate) shutdown: Arc<AtomicBool>,
    /// The project model: workspace folders, overlaid with the open documents' texts.
    pub(crate) project: Arc<crate::project::Project>,
    /// `didChangeWatchedFiles` events not yet acted on (see `configuration::watched_batch`).
    pub(crate) watched: std::sync::Mutex<configuration::WatchedQueue>,
    /// When the last edit of an open document arrived (ms since the server started, 0:
    /// none yet): the background model reading steps aside for a moment after each edit
    /// ([`State::yield_to_edits`]).
    pub(crate) last_edit_ms: AtomicU64,
}

impl State {
    fn new(client: Client, shutdown: Arc<AtomicBool>) -> Self {
        State {
            client,
            docs: DashMap::new(),
            configs: DashMap::new(),
            facts: RwLock::new(ClientFacts::default()),
            editor: RwLock::new(EditorSettings::default()),
            settings: RwLock::new(Arc::new(SettingsCache::new(Overrides::default(), None, false))),
            generation: AtomicU64::new(0),
            pushed_settings: AtomicU64::new(0),
            publish_lock: tokio::sync::Mutex::new(()),
            shown_errors: Default::default(),
            shutdown,
            project: crate::project::Project::new(vec![]),
            watched: Default::default(),
            last_edit_ms: AtomicU64::new(0),
        }
    }

    /// Milliseconds since the server started (at least 1).
    fn now_ms() -> u64 {
        static START: std::sync::LazyLock<std::time::Instant> = std::sync::LazyLock::new(std::time::Instant::now);
        START.elapsed().as_millis() as u64 + 1
    }

    /// An edit of an open document arrived now.
    pub(crate) fn edited(&self) {
        self.last_edit_ms.store(Self::now_ms(), Ordering::Relaxed);
    }

    /// Background work (reading the workspace into the model) calls this between files: while
    /// an edit arrived less than [`EDIT_QUIET_MS`] ago it waits (at most [`EDIT_YIELD_MAX_MS`]
    /// per call), so a keystroke's analysis has the cores to itself on a small machine.
    pub(crate) fn yield_to_edits(&self) {
        let start = Self::now_ms();
        loop {
            let last = self.last_edit_ms.load(Ordering::Relaxed);
            let now = Self::now_ms();
            if last == 0 || now.saturating_sub(last) >= EDIT_QUIET_MS || now - start >= EDIT_YIELD_MAX_MS {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
    }

    pub(crate) fn facts(&self) -> ClientFacts {
        self.facts.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Where the diagnostics of `uri` point: its text's places, and the base URL of the rule
    /// pages when the client shows `codeDescription` links (and the setting is not empty).
    pub(crate) fn places<'a>(&'a self, uri: &'a Uri) -> convert::Places<'a> {
        let docs = self.facts.read().unwrap_or_else(|e| e.into_inner()).code_description.then(|| {
            let editor = self.editor.read().unwrap_or_else(|e| e.into_inner());
            editor.rule_docs_url.clone().unwrap_or_else(|| RULE_DOCS_URL.to_string())
        });
        convert::Places { uri, project: &self.project, docs: docs.filter(|d| !d.is_empty()) }
    }

    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    /// Sends a log line to the client without blocking the caller.
    pub(crate) fn log(&self, typ: MessageType, msg: String) {
        let client = self.client.clone();
        tokio::spawn(async move { client.log_message(typ, msg).await });
    }

    /// Shows a message to the user without blocking the caller.
    pub(crate) fn show(&self, typ: MessageType, msg: String) {
        let client = self.client.clone();
        tokio::spawn(async move { client.show_message(typ, msg).await });
    }
}

/// The tower-lsp-server service: a thin shell over [`State`].
pub struct Backend {
    s: Arc<State>,
}

impl LanguageServer for Backend {
    async fn initialize(&self, params: InitializeParams) -> Result<InitializeResult> {
        initialize::initialize(&self.s, params)
    }

    async fn initialized(&self, _: InitializedParams) {
        initialize::initialized(&self.s);
    }

    async fn shutdown(&self) -> Result<()> {
        self.s.shutdown.store(true, Ordering::SeqCst);
        Ok(())
    }

    async fn did_open(&self, params: DidOpenTextDocumentParams) {
        text_sync::did_open(&self.s, params).await;
    }

    async fn did_change(&self, params: DidChangeTextDocumentParams) {
        text_sync::did_change(&self.s, params).await;
    }

    async fn did_close(&self, params: DidCloseTextDocumentParams) {
        text_sync::did_close(&self.s, params).await;
    }

    async fn did_save(&self, params: DidSaveTextDocumentParams) {
        text_sync::did_save(&self.s, params).await;
    }

    async fn diagnostic(&self, params: DocumentDiagnosticParams) -> Result<DocumentDiagnosticReportResult> {
        diagnostics::pull(&self.s, params).await
    }

    async fn code_action(&self, params: CodeActionParams) -> Result<Option<CodeActionResponse>> {
        code_action::code_action(&self.s, params).await
    }

    async fn hover(&self, params: HoverParams) -> Result<Option<Hover>> {
        hover::hover(&self.s, params).await
    }

    async fn did_change_configuration(&self, params: DidChangeConfigurationParams) {
        configuration::did_change_configuration(&self.s, params).await;
    }

    async fn did_change_watched_files(&self, params: DidChangeWatchedFilesParams) {
        configuration::did_change_watched_files(&self.s, params).await;
    }

    async fn workspace_diagnostic(&self, params: WorkspaceDiagnosticParams) -> Result<WorkspaceDiagnosticReportResult> {
        workspace::workspace_diagnostic(&self.s, params).await
    }

    async fn did_change_workspace_folders(&self, params: DidChangeWorkspaceFoldersParams) {
        workspace::did_change_workspace_folders(&self.s, params).await;
    }

    async fn execute_command(&self, params: ExecuteCommandParams) -> Result<Option<LSPAny>> {
        execute_command::execute_command(&self.s, params).await
    }
}

/// How long the server may finish pending work after `exit` or the end of its input.
const EXIT_GRACE_MS: u64 = 1000;

/// Runs the server on stdin/stdout until `exit` or end of input; exits the process with 0
/// after a `shutdown`, 1 otherwise (LSP §exit).
pub fn serve_stdio() {
    let rt = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            std::process::exit(2);
        }
    };
    let shutdown = Arc::new(AtomicBool::new(false));
    let flag = shutdown.clone();
    rt.block_on(async move {
        let (service, socket) = LspService::new(move |client| Backend { s: Arc::new(State::new(client, flag)) });
        // stdin goes through the framing guard: one malformed message must not end the session,
        // and gets its JSON-RPC error answer. Answers and the server's own frames share stdout
        // through one writer, a whole frame at a time.
        let (frames, to_stdout) = std::sync::mpsc::channel();
        let (written, writer) = std::sync::mpsc::channel::<()>();
        std::thread::spawn(move || {
            framing::write_frames(to_stdout, std::io::stdout().lock());
            let _ = written.send(());
        });
        let (server_out, server_frames) = tokio::io::duplex(64 * 1024);
        let reader = tokio::spawn(framing::read_frames(server_frames, frames.clone()));
        let (input, guarded) = tokio::io::duplex(64 * 1024);
        let pump = tokio::spawn(framing::pump(tokio::io::stdin(), guarded, move |r| {
            eprintln!("awaitguard: dropped {}", r.why);
            let _ = frames.send(r.response());
        }));
        let serve = Server::new(input, server_out, socket).serve(service);
        // `serve` returns only when every pending handler is done, which after `exit` or a
        // vanished client could be a long analysis of a huge file. Once the input is over, give
        // the server a moment to answer what it has, then go.
        let input_over = async {
            let _ = pump.await;
            tokio::time::sleep(std::time::Duration::from_millis(EXIT_GRACE_MS)).await;
        };
        tokio::select! {
            _ = serve => {}
            _ = input_over => {}
        }
        // The server's end of the output is dropped with `serve`: let what it wrote reach
        // stdout.
        let grace = std::time::Duration::from_millis(EXIT_GRACE_MS);
        let start = std::time::Instant::now();
        let _ = tokio::time::timeout(grace, reader).await;
        // The writer thread ends once every sender is gone and what they sent is written.
        let rest = grace.saturating_sub(start.elapsed());
        let _ = tokio::task::spawn_blocking(move || writer.recv_timeout(rest)).await;
    });
    // tokio's stdin reader may sit in a blocking read: do not wait for the runtime to drain.
    let code = if shutdown.load(Ordering::SeqCst) { 0 } else { 1 };
    std::process::exit(code);
}
