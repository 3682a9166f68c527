//! A minimal LSP client that drives the real `awaitguard` binary over stdio, as an editor
//! does: Content-Length framing, a reader thread, responses matched by id, notifications
//! queued, and server→client requests answered (`workspace/configuration` with the settings
//! the test chose, everything else with `null`).

use serde_json::{json, Value};
use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub const TIMEOUT: Duration = Duration::from_secs(20);

pub struct Client {
    child: Child,
    stdin: Arc<Mutex<ChildStdin>>,
    rx: Receiver<Value>,
    next_id: i64,
    /// Notifications (and responses not yet claimed) in arrival order.
    pub queue: VecDeque<Value>,
    /// What `workspace/configuration` answers (the `awaitguard` section).
    pub configuration: Arc<Mutex<Value>>,
    /// Server→client requests seen, by method.
    pub server_requests: Arc<Mutex<Vec<Value>>>,
    /// A message written right after the next `workspace/configuration` answer, back to back
    /// (to reproduce races between the answer and a later notification).
    pub after_configuration: Arc<Mutex<Option<Value>>>,
}

fn write_msg(w: &mut impl Write, v: &Value) -> std::io::Result<()> {
    let body = serde_json::to_vec(v).unwrap();
    write!(w, "Content-Length: {}\r\n\r\n", body.len())?;
    w.write_all(&body)?;
    w.flush()
}

impl Client {
    pub fn spawn() -> Client {
        Self::spawn_with_env(&[])
    }

    pub fn spawn_with_env(env: &[(&str, &str)]) -> Client {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_awaitguard"));
        cmd.args(["lsp", "--stdio"]).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::null());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("spawn awaitguard lsp");
        let stdin = Arc::new(Mutex::new(child.stdin.take().unwrap()));
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = channel();
        let configuration = Arc::new(Mutex::new(Value::Null));
        let server_requests = Arc::new(Mutex::new(vec![]));
        let after_configuration: Arc<Mutex<Option<Value>>> = Arc::new(Mutex::new(None));
        let (cfg, reqs, w, after) = (configuration.clone(), server_requests.clone(), stdin.clone(), after_configuration.clone());
        std::thread::spawn(move || {
            let mut r = BufReader::new(stdout);
            loop {
                let mut len = None;
                loop {
                    let mut line = String::new();
                    if r.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let line = line.trim_end();
                    if line.is_empty() {
                        break;
                    }
                    if let Some(v) = line.strip_prefix("Content-Length: ") {
                        len = v.parse::<usize>().ok();
                    }
                }
                let mut body = vec![0; len.expect("Content-Length")];
                if r.read_exact(&mut body).is_err() {
                    return;
                }
                let msg: Value = serde_json::from_slice(&body).expect("server sent valid JSON");
                if msg.get("method").is_some() && msg.get("id").is_some() {
                    // A request from the server: answer it.
                    reqs.lock().unwrap().push(msg.clone());
                    let result = match msg["method"].as_str() {
                        Some("workspace/configuration") => {
                            let n = msg["params"]["items"].as_array().map(|a| a.len()).unwrap_or(1);
                            Value::Array(vec![cfg.lock().unwrap().clone(); n])
                        }
                        _ => Value::Null,
                    };
                    let mut w = w.lock().unwrap();
                    let _ = write_msg(&mut *w, &json!({"jsonrpc": "2.0", "id": msg["id"], "result": result}));
                    if msg["method"] == "workspace/configuration" {
                        if let Some(next) = after.lock().unwrap().take() {
                            let _ = write_msg(&mut *w, &next);
                        }
                    }
                    continue;
                }
                if tx.send(msg).is_err() {
                    return;
                }
            }
        });
        Client { child, stdin, rx, next_id: 0, queue: VecDeque::new(), configuration, server_requests, after_configuration }
    }

    pub fn send(&mut self, v: Value) {
        write_msg(&mut *self.stdin.lock().unwrap(), &v).expect("write to server");
    }

    /// Writes bytes to the server's stdin as they are (no framing): malformed input.
    pub fn send_raw(&mut self, bytes: &[u8]) {
        let mut w = self.stdin.lock().unwrap();
        w.write_all(bytes).expect("write to server");
        w.flush().expect("flush to server");
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The server's resident set size in KiB (`VmRSS` of `/proc/<pid>/status`; Linux).
    pub fn rss_kb(&self) -> Option<u64> {
        proc_status_kb(self.pid(), "VmRSS:")
    }

    /// The server's peak resident set size in KiB (`VmHWM`; Linux).
    pub fn peak_rss_kb(&self) -> Option<u64> {
        proc_status_kb(self.pid(), "VmHWM:")
    }

    pub fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    /// Sends a request and returns its id without waiting.
    pub fn request_async(&mut self, method: &str, params: Value) -> i64 {
        self.next_id += 1;
        let id = self.next_id;
        self.send(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        id
    }

    /// Waits for the response with this id (queueing everything else).
    pub fn response(&mut self, id: i64) -> Value {
        if let Some(i) = self.queue.iter().position(|m| m.get("id") == Some(&json!(id)) && m.get("method").is_none()) {
            return self.queue.remove(i).unwrap();
        }
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let msg = self.recv(deadline).unwrap_or_else(|| panic!("no response to request {id}"));
            if msg.get("id") == Some(&json!(id)) && msg.get("method").is_none() {
                return msg;
            }
            self.queue.push_back(msg);
        }
    }

    pub fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.request_async(method, params);
        let r = self.response(id);
        assert!(r.get("error").is_none(), "{method} failed: {r}");
        r["result"].clone()
    }

    fn recv(&mut self, deadline: Instant) -> Option<Value> {
        let left = deadline.saturating_duration_since(Instant::now());
        match self.rx.recv_timeout(left) {
            Ok(m) => Some(m),
            Err(RecvTimeoutError::Timeout) | Err(RecvTimeoutError::Disconnected) => None,
        }
    }

    /// Waits for a notification matching `pred` (checking the queue first); removes it.
    pub fn wait_for(&mut self, method: &str, pred: impl Fn(&Value) -> bool) -> Value {
        self.try_wait_for(method, &pred, TIMEOUT).unwrap_or_else(|| panic!("no {method} notification matched"))
    }

    pub fn try_wait_for(&mut self, method: &str, pred: &dyn Fn(&Value) -> bool, timeout: Duration) -> Option<Value> {
        if let Some(i) = self.queue.iter().position(|m| m["method"] == method && pred(&m["params"])) {
            return self.queue.remove(i);
        }
        let deadline = Instant::now() + timeout;
        loop {
            let msg = self.recv(deadline)?;
            if msg["method"] == method && pred(&msg["params"]) {
                return Some(msg);
            }
            self.queue.push_back(msg);
        }
    }

    /// Waits until the server has sent a request with this method; returns it.
    pub fn wait_server_request(&self, method: &str) -> Value {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            if let Some(r) = self.server_requests.lock().unwrap().iter().find(|r| r["method"] == method) {
                return r.clone();
            }
            assert!(Instant::now() < deadline, "the server sent no {method} request");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Collects every message that arrives within `d`.
    pub fn drain_for(&mut self, d: Duration) {
        let deadline = Instant::now() + d;
        while let Some(m) = self.recv(deadline) {
            self.queue.push_back(m);
        }
    }

    pub fn initialize(&mut self, capabilities: Value, init_options: Value) -> Value {
        let r = self.request(
            "initialize",
            json!({"processId": null, "rootUri": null, "capabilities": capabilities, "initializationOptions": init_options}),
        );
        self.notify("initialized", json!({}));
        r
    }

    pub fn open(&mut self, uri: &str, lang: &str, version: i32, text: &str) {
        self.notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": uri, "languageId": lang, "version": version, "text": text}}),
        );
    }

    pub fn shutdown_and_exit(mut self) -> i32 {
        self.request("shutdown", Value::Null);
        self.notify("exit", Value::Null);
        self.wait_exit()
    }

    pub fn wait_exit(&mut self) -> i32 {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code().unwrap_or(-1);
            }
            assert!(Instant::now() < deadline, "server did not exit");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A `kB` field of `/proc/<pid>/status`.
pub fn proc_status_kb(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line[field.len()..].trim().trim_end_matches("kB").trim().parse().ok()
}

/// Capabilities of a push-mode client with the given position encodings.
pub fn push_caps(encodings: &[&str]) -> Value {
    json!({
        "general": {"positionEncodings": encodings},
        "textDocument": {"publishDiagnostics": {"versionSupport": true}, "codeAction": {"codeActionLiteralSupport": {"codeActionKind": {"valueSet": ["quickfix", "source.fixAll"]}}}},
        "workspace": {"configuration": true, "workspaceEdit": {"documentChanges": true}}
    })
}

/// Capabilities of a pull-mode client (utf-16, like VS Code).
pub fn pull_caps() -> Value {
    json!({
        "general": {"positionEncodings": ["utf-16"]},
        "textDocument": {"diagnostic": {"dynamicRegistration": false}},
        "workspace": {"configuration": true, "diagnostics": {"refreshSupport": true}}
    })
}

/// Converts an LSP position to a byte offset, independently of the server's code.
pub fn offset(text: &str, line: u64, character: u64, enc: &str) -> usize {
    let mut start = 0;
    for _ in 0..line {
        start += text[start..].find('\n').map(|i| i + 1).unwrap_or(text.len() - start);
    }
    let mut units = 0u64;
    for (i, ch) in text[start..].char_indices() {
        if units >= character || ch == '\n' {
            return start + i;
        }
        units += match enc {
            "utf-8" => ch.len_utf8() as u64,
            "utf-32" => 1,
            _ => ch.len_utf16() as u64,
        };
    }
    text.len()
}

/// Applies LSP TextEdits (all relative to `text`) and returns the new text.
pub fn apply_edits(text: &str, edits: &[Value], enc: &str) -> String {
    let mut spans: Vec<(usize, usize, String)> = edits
        .iter()
        .map(|e| {
            let r = &e["range"];
            let s = offset(text, r["start"]["line"].as_u64().unwrap(), r["start"]["character"].as_u64().unwrap(), enc);
            let t = offset(text, r["end"]["line"].as_u64().unwrap(), r["end"]["character"].as_u64().unwrap(), enc);
            (s, t, e["newText"].as_str().unwrap().to_string())
        })
        .collect();
    spans.sort_by_key(|s| (s.0, s.1));
    let mut out = String::new();
    let mut pos = 0;
    for (s, t, new) in spans {
        assert!(s >= pos, "overlapping edits");
        out.push_str(&text[pos..s]);
        out.push_str(&new);
        pos = t;
    }
    out.push_str(&text[pos..]);
    out
}

/// The text edits of a WorkspaceEdit for one document (documentChanges or changes).
pub fn edits_of(edit: &Value) -> Vec<Value> {
    if let Some(dc) = edit["documentChanges"].as_array() {
        return dc.iter().flat_map(|d| d["edits"].as_array().cloned().unwrap_or_default()).collect();
    }
    edit["changes"].as_object().map(|m| m.values().flat_map(|v| v.as_array().cloned().unwrap_or_default()).collect()).unwrap_or_default()
}
