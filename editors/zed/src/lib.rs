//! The awaitguard Zed extension: Zed starts only language servers that an extension declares,
//! so this one declares `awaitguard` (extension.toml: Python and Rust) and tells Zed how to run it.
//!
//! Invariants:
//! - it never downloads or installs anything: the server is the `awaitguard` binary already on
//!   the worktree's PATH (or `lsp.awaitguard.binary.path` from the user's Zed settings), run as
//!   `awaitguard lsp` on stdio; when neither exists, Zed shows an error that says how to install it;
//! - the user's `lsp.awaitguard.initialization_options` and `lsp.awaitguard.settings` are passed
//!   through unchanged; the settings go under the `awaitguard` section, the one the server asks
//!   for with `workspace/configuration` (server/src/lsp/configuration.rs reads both).

use zed_extension_api::{self as zed, serde_json, settings::LspSettings, LanguageServerId, Result, Worktree};

const SERVER: &str = "awaitguard";

struct AwaitguardExtension;

fn user_settings(worktree: &Worktree) -> Option<LspSettings> {
    LspSettings::for_worktree(SERVER, worktree).ok()
}

impl zed::Extension for AwaitguardExtension {
    fn new() -> Self {
        AwaitguardExtension
    }

    fn language_server_command(&mut self, _id: &LanguageServerId, worktree: &Worktree) -> Result<zed::Command> {
        let binary = user_settings(worktree).and_then(|s| s.binary);
        let configured = binary.as_ref().and_then(|b| b.path.clone());
        let command = match configured.or_else(|| worktree.which(SERVER)) {
            Some(path) => path,
            None => {
                return Err(format!(
                    "{SERVER} was not found on PATH. Install it (`pip install awaitguard`, or `cargo install` as the README says) \
                     and make sure Zed's PATH includes it, or set \
                     \"lsp\": {{\"{SERVER}\": {{\"binary\": {{\"path\": \"/path/to/{SERVER}\"}}}}}} in Zed's settings."
                ))
            }
        };
        let args = binary.as_ref().and_then(|b| b.arguments.clone()).unwrap_or_else(|| vec!["lsp".into()]);
        let mut env = worktree.shell_env();
        if let Some(extra) = binary.and_then(|b| b.env) {
            env.extend(extra);
        }
        Ok(zed::Command { command, args, env })
    }

    fn language_server_initialization_options(
        &mut self,
        _id: &LanguageServerId,
        worktree: &Worktree,
    ) -> Result<Option<serde_json::Value>> {
        Ok(user_settings(worktree).and_then(|s| s.initialization_options))
    }

    fn language_server_workspace_configuration(
        &mut self,
        _id: &LanguageServerId,
        worktree: &Worktree,
    ) -> Result<Option<serde_json::Value>> {
        Ok(user_settings(worktree).and_then(|s| s.settings).map(|s| serde_json::json!({ SERVER: s })))
    }
}

zed::register_extension!(AwaitguardExtension);
