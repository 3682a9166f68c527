//! `workspace/executeCommand`: `awaitguard.applyFixAll` with the document URI (a string or
//! `{uri}`) applies every safe fix through `workspace/applyEdit` (spawned).

use super::code_action::{fix_all_edit, workspace_edit};
use super::{State, FIX_ALL_COMMAND};
use std::sync::Arc;
use tower_lsp_server::jsonrpc::{Error, Result};
use tower_lsp_server::ls_types::*;

pub async fn execute_command(s: &Arc<State>, p: ExecuteCommandParams) -> Result<Option<LSPAny>> {
    if p.command != FIX_ALL_COMMAND {
        return Err(Error::invalid_params(format!("unknown command `{}`", p.command)));
    }
    let arg = p.arguments.first().cloned().unwrap_or_default();
    let uri_str = arg.as_str().map(str::to_string).or_else(|| arg.get("uri").and_then(|u| u.as_str()).map(str::to_string));
    let Some(uri) = uri_str.and_then(|u| u.parse::<Uri>().ok()) else {
        return Err(Error::invalid_params("expected the document URI as the first argument"));
    };
    if let Some((version, edit)) = fix_all_edit(s, &uri).await {
        let we = workspace_edit(s, &uri, version, vec![edit]);
        let client = s.client.clone();
        tokio::spawn(async move {
            let _ = client.apply_edit(we).await;
        });
    }
    Ok(None)
}
