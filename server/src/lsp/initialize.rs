//! `initialize` / `initialized`: capabilities, position encoding, pull vs push, settings from
//! `initializationOptions`, then (spawned) `workspace/configuration` and registrations.

use super::{configuration, convert, State, ClientFacts, FIX_ALL_COMMAND, FIX_ALL_KIND};
use std::sync::Arc;
use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types::*;

pub fn initialize(b: &Arc<State>, params: InitializeParams) -> Result<InitializeResult> {
    let caps = &params.capabilities;
    let encoding = convert::negotiate(caps.general.as_ref().and_then(|g| g.position_encodings.as_deref()));
    let pull = caps.text_document.as_ref().and_then(|t| t.diagnostic.as_ref()).is_some();
    let ws = caps.workspace.as_ref();
    let mut roots: Vec<std::path::PathBuf> = params
        .workspace_folders
        .iter()
        .flatten()
        .filter_map(|f| f.uri.to_file_path().map(|p| p.into_owned()))
        .collect();
    #[allow(deprecated)]
    if roots.is_empty() {
        if let Some(p) = params.root_uri.as_ref().and_then(|u| u.to_file_path()) {
            roots.push(p.into_owned());
        }
    }
    let facts = ClientFacts {
        encoding,
        pull,
        configuration: ws.and_then(|w| w.configuration).unwrap_or(false),
        refresh: ws.and_then(|w| w.diagnostics.as_ref()).and_then(|d| d.refresh_support).unwrap_or(false),
        document_changes: ws
            .and_then(|w| w.workspace_edit.as_ref())
            .and_then(|e| e.document_changes)
            .unwrap_or(false),
        watch_registration: ws
            .and_then(|w| w.did_change_watched_files.as_ref())
            .and_then(|d| d.dynamic_registration)
            .unwrap_or(false),
        config_registration: ws
            .and_then(|w| w.did_change_configuration.as_ref())
            .and_then(|d| d.dynamic_registration)
            .unwrap_or(false),
        roots,
        work_done_progress: caps.window.as_ref().and_then(|w| w.work_done_progress).unwrap_or(false),
        code_description: caps.text_document.as_ref().is_some_and(|t| {
            t.diagnostic.as_ref().and_then(|d| d.code_description_support).unwrap_or(false)
                || t.publish_diagnostics.as_ref().and_then(|d| d.code_description_support).unwrap_or(false)
        }),
    };
    b.project.set_roots(facts.roots.clone());
    *b.facts.write().unwrap_or_else(|e| e.into_inner()) = facts;
    if let Some(opts) = params.initialization_options {
        configuration::apply_settings_value(b, &opts, configuration::Source::InitializationOptions);
    }
    Ok(InitializeResult {
        capabilities: ServerCapabilities {
            position_encoding: Some(convert::encoding_kind(encoding)),
            text_document_sync: Some(TextDocumentSyncCapability::Options(TextDocumentSyncOptions {
                open_close: Some(true),
                change: Some(TextDocumentSyncKind::INCREMENTAL),
                save: Some(TextDocumentSyncSaveOptions::SaveOptions(SaveOptions { include_text: Some(false) })),
                ..Default::default()
            })),
            code_action_provider: Some(CodeActionProviderCapability::Options(CodeActionOptions {
                code_action_kinds: Some(vec![CodeActionKind::QUICKFIX, FIX_ALL_KIND]),
                resolve_provider: Some(false),
                ..Default::default()
            })),
            hover_provider: Some(HoverProviderCapability::Simple(true)),
            diagnostic_provider: pull.then(|| {
                DiagnosticServerCapabilities::Options(DiagnosticOptions {
                    identifier: Some("awaitguard".into()),
                    inter_file_dependencies: true,
                    workspace_diagnostics: true,
                    ..Default::default()
                })
            }),
            workspace: Some(WorkspaceServerCapabilities {
                workspace_folders: Some(WorkspaceFoldersServerCapabilities {
                    supported: Some(true),
                    change_notifications: Some(OneOf::Left(true)),
                }),
                file_operations: None,
            }),
            execute_command_provider: Some(ExecuteCommandOptions {
                commands: vec![FIX_ALL_COMMAND.into()],
                ..Default::default()
            }),
            ..Default::default()
        },
        server_info: Some(ServerInfo { name: "awaitguard".into(), version: Some(env!("CARGO_PKG_VERSION").into()) }),
        ..Default::default()
    })
}

pub fn initialized(b: &Arc<State>) {
    let facts = b.facts();
    let client = b.client.clone();
    let mut registrations = vec![];
    if facts.watch_registration {
        let watchers = [
            "**/pyproject.toml",
            "**/awaitguard.toml",
            "**/.awaitguard.toml",
            "**/*.lock",
            "**/requirements*.txt",
            // Sources (the project model) and the Django settings module (CACHES, MIDDLEWARE)
            // with where its name is set: `**/*.py` covers settings.py, manage.py, asgi.py.
            "**/*.py",
            "**/*.rs",
            "**/pytest.ini",
            "**/setup.cfg",
        ]
        .iter()
            .map(|g| FileSystemWatcher { glob_pattern: GlobPattern::String((*g).into()), kind: None })
            .collect();
        registrations.push(Registration {
            id: "awaitguard-watch-config".into(),
            method: "workspace/didChangeWatchedFiles".into(),
            register_options: serde_json::to_value(DidChangeWatchedFilesRegistrationOptions { watchers }).ok(),
        });
    }
    if facts.config_registration {
        registrations.push(Registration {
            id: "awaitguard-config".into(),
            method: "workspace/didChangeConfiguration".into(),
            register_options: Some(serde_json::json!({ "section": "awaitguard" })),
        });
    }
    if !registrations.is_empty() {
        tokio::spawn(async move {
            let _ = client.register_capability(registrations).await;
        });
    }
    if facts.configuration {
        configuration::spawn_fetch(b);
    }
    super::workspace::warm_up(b);
}
