//! The input guard between the client's stdin and tower-lsp-server: reads LSP frames and
//! forwards only well-formed ones.
//!
//! Why it exists: tower-lsp-server's codec reports an undecodable message as an error, and
//! tokio-util's `FramedRead` ends the stream after any decoder error, so a single malformed
//! message (invalid JSON, invalid UTF-8, a missing or unparsable `Content-Length`, a charset
//! other than UTF-8) ended the session as if the client had gone away.
//!
//! Invariants:
//! - Every forwarded frame decodes as tower-lsp-server's `Message` (the same untagged
//!   `Response | Request` shape, built from its public types) and is re-framed with a single
//!   `Content-Length` header. Frames go out in the order they came in.
//! - A malformed frame is dropped, reported on stderr and answered (JSON-RPC 2.0 §5.1): a body
//!   that is not UTF-8 JSON, or a header block without a usable `Content-Length`, gets a
//!   `-32700` Parse error; JSON that is not a request, notification or response gets a
//!   `-32600` Invalid Request. The answer carries the message's `id` when one can be read from
//!   it, else `null`. Reading resumes at the next header.
//! - The answers reach stdout through [`write_frames`], which also carries every frame the
//!   server writes: frames are written whole, never interleaved.
//!   A header line is bounded ([`MAX_HEADER_LINE`]); `Content-Length:` is found anywhere in a
//!   line, so garbage glued in front of a header does not cost the message.
//! - A body is read as it arrives: memory follows the bytes actually sent, never the length a
//!   header claims.
//! - End of input (or a read error) ends the forwarded stream: the server sees end of input
//!   exactly as it would have on stdin. So does a forwarded `exit` notification; [`pump`]
//!   returning is how `serve_stdio` knows the session is over even while analyses still run.

use serde::Deserialize;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tower_lsp_server::jsonrpc::{Request, Response};

/// Longest header line kept; longer lines are garbage and skipped to their end.
pub const MAX_HEADER_LINE: usize = 4096;

/// Mirrors tower-lsp-server's private `jsonrpc::Message`, so "decodes here" means "decodes
/// there".
#[derive(Deserialize)]
#[serde(untagged)]
#[allow(dead_code)]
enum Message {
    Response(Response),
    Request(Request),
}

/// JSON-RPC 2.0 error codes for a message that cannot be taken.
pub const PARSE_ERROR: i64 = -32700;
pub const INVALID_REQUEST: i64 = -32600;

/// Why a frame was dropped, and what to answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Rejected {
    pub why: String,
    pub code: i64,
    /// The message's `id` when it has a readable one (number or string), else `null`.
    pub id: serde_json::Value,
}

impl Rejected {
    fn parse_error(why: String) -> Rejected {
        Rejected { why, code: PARSE_ERROR, id: serde_json::Value::Null }
    }

    /// The framed JSON-RPC error response.
    pub fn response(&self) -> Vec<u8> {
        let message = if self.code == PARSE_ERROR { "Parse error" } else { "Invalid Request" };
        let body = serde_json::json!({
            "jsonrpc": "2.0",
            "id": self.id,
            "error": {"code": self.code, "message": message, "data": self.why},
        })
        .to_string();
        let mut out = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
        out.extend_from_slice(body.as_bytes());
        out
    }
}

/// `Ok(is_exit)` when the body may be forwarded, else why it is dropped.
pub fn check_body(body: &[u8]) -> Result<bool, Rejected> {
    if let Err(e) = std::str::from_utf8(body) {
        return Err(Rejected::parse_error(format!("not UTF-8: {e}")));
    }
    let value: serde_json::Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(e) => return Err(Rejected::parse_error(format!("not JSON: {e}"))),
    };
    match serde_json::from_value::<Message>(value.clone()) {
        Ok(Message::Request(r)) => Ok(r.method() == "exit" && r.id().is_none()),
        Ok(Message::Response(_)) => Ok(false),
        Err(e) => {
            let id = match value.get("id") {
                Some(id @ (serde_json::Value::Number(_) | serde_json::Value::String(_))) => id.clone(),
                _ => serde_json::Value::Null,
            };
            Err(Rejected { why: format!("not a JSON-RPC message: {e}"), code: INVALID_REQUEST, id })
        }
    }
}

/// The length in a header line containing `Content-Length:` (any case), if any.
fn content_length(line: &[u8]) -> Option<Result<usize, ()>> {
    const KEY: &[u8] = b"content-length:";
    let at = line.windows(KEY.len()).position(|w| w.eq_ignore_ascii_case(KEY))?;
    let value = std::str::from_utf8(&line[at + KEY.len()..]).map_err(|_| ());
    Some(value.and_then(|v| v.trim().parse::<usize>().map_err(|_| ())))
}

/// Reads one line of at most [`MAX_HEADER_LINE`] bytes into `buf` (the rest of a longer line is
/// skipped). Returns false at end of input.
async fn read_header_line<R: AsyncRead + Unpin>(r: &mut BufReader<R>, buf: &mut Vec<u8>) -> std::io::Result<bool> {
    buf.clear();
    let n = (&mut *r).take(MAX_HEADER_LINE as u64).read_until(b'\n', buf).await?;
    if n == 0 {
        return Ok(false);
    }
    if buf.last() != Some(&b'\n') && buf.len() == MAX_HEADER_LINE {
        let mut skip = Vec::new();
        loop {
            skip.clear();
            let n = (&mut *r).take(MAX_HEADER_LINE as u64).read_until(b'\n', &mut skip).await?;
            if n == 0 || skip.last() == Some(&b'\n') {
                break;
            }
        }
        buf.clear();
        buf.extend_from_slice(b"<overlong header line>");
    }
    Ok(true)
}

/// Copies well-formed frames from `input` to `output` until `input` ends or an `exit`
/// notification has been forwarded (nothing after `exit` is read). `reject` receives every
/// dropped frame's [`Rejected`], in input order.
pub async fn pump<R, W>(input: R, mut output: W, mut reject: impl FnMut(Rejected))
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut r = BufReader::with_capacity(64 * 1024, input);
    let mut line = Vec::new();
    loop {
        // Header block: lines up to an empty one.
        let mut len: Option<Result<usize, ()>> = None;
        let mut saw_header = false;
        loop {
            match read_header_line(&mut r, &mut line).await {
                Ok(true) => {}
                _ => return,
            }
            let trimmed = line.trim_ascii();
            if trimmed.is_empty() {
                if saw_header {
                    break;
                }
                continue; // stray blank lines between frames
            }
            saw_header = true;
            if let Some(l) = content_length(trimmed) {
                len = Some(l);
            }
        }
        let len = match len {
            Some(Ok(len)) => len,
            Some(Err(())) => {
                reject(Rejected::parse_error("a frame with an unparsable Content-Length".into()));
                continue;
            }
            None => {
                reject(Rejected::parse_error("a header block without Content-Length".into()));
                continue;
            }
        };
        let mut body = Vec::new();
        match (&mut r).take(len as u64).read_to_end(&mut body).await {
            Ok(n) if n == len => {}
            _ => return, // end of input inside a body
        }
        let exit = match check_body(&body) {
            Ok(exit) => exit,
            Err(mut r) => {
                r.why = format!("a malformed message ({len} bytes): {}", r.why);
                reject(r);
                continue;
            }
        };
        let header = format!("Content-Length: {len}\r\n\r\n");
        if output.write_all(header.as_bytes()).await.is_err() || output.write_all(&body).await.is_err() {
            return;
        }
        if output.flush().await.is_err() || exit {
            return;
        }
    }
}

/// Reads the frames the server writes to `server` and sends each, whole, to `frames`, until
/// `server` ends. The server frames well; should a header ever lack a length, the bytes read
/// are passed on as they are.
pub async fn read_frames<R: AsyncRead + Unpin>(server: R, frames: std::sync::mpsc::Sender<Vec<u8>>) {
    let mut r = BufReader::with_capacity(64 * 1024, server);
    let mut line = Vec::new();
    loop {
        let mut frame = Vec::new();
        let mut len = None;
        loop {
            match r.read_until(b'\n', &mut line).await {
                Ok(0) | Err(_) => {
                    if !frame.is_empty() || !line.is_empty() {
                        frame.append(&mut line);
                        let _ = frames.send(frame);
                    }
                    return;
                }
                Ok(_) => {}
            }
            let blank = line.trim_ascii().is_empty();
            if let Some(Ok(l)) = content_length(line.trim_ascii()) {
                len = Some(l);
            }
            frame.append(&mut line);
            if blank {
                break;
            }
        }
        if let Some(len) = len {
            let start = frame.len();
            frame.resize(start + len, 0);
            if r.read_exact(&mut frame[start..]).await.is_err() {
                frame.truncate(start);
                let _ = frames.send(frame);
                return;
            }
        }
        if frames.send(frame).is_err() {
            return;
        }
    }
}

/// Writes every frame from `frames` to `out`, flushing after each, until every sender is gone
/// (or `out` fails). Blocking: it runs on a thread of its own, so a frame goes from the
/// server's output to stdout in one thread wake-up (tokio's `stdout` would take two: the
/// writer task, then a blocking-pool thread).
pub fn write_frames(frames: std::sync::mpsc::Receiver<Vec<u8>>, mut out: impl std::io::Write) {
    for frame in frames {
        if out.write_all(&frame).and_then(|_| out.flush()).is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(input: &[u8]) -> (Vec<u8>, Vec<Rejected>) {
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let mut out = Vec::new();
        let mut reports = Vec::new();
        rt.block_on(pump(input, &mut out, |m| reports.push(m)));
        (out, reports)
    }

    fn frame(body: &str) -> String {
        format!("Content-Length: {}\r\n\r\n{body}", body.len())
    }

    #[test]
    fn forwards_good_frames_and_drops_bad_ones() {
        let good = r#"{"jsonrpc":"2.0","id":1,"method":"shutdown"}"#;
        let note = r#"{"jsonrpc":"2.0","method":"initialized","params":{}}"#;
        let mut input = Vec::new();
        input.extend(frame("{oops").as_bytes());
        input.extend(frame("[1,2]").as_bytes());
        input.extend(b"Content-Length: 4\r\n\r\n\xff\xfe{}");
        input.extend(b"Content-Length: abc\r\n\r\n");
        input.extend(b"X-Nothing: 1\r\n\r\n");
        input.extend(b"garbage");
        input.extend(frame(good).as_bytes());
        input.extend(format!("Content-Length: {}\r\nContent-Type: application/x; charset=latin1\r\n\r\n", note.len()).as_bytes());
        input.extend(note.as_bytes());
        input.extend(vec![b'x'; MAX_HEADER_LINE * 3]);
        input.extend(b"\r\n\r\n");
        input.extend(frame(note).as_bytes());
        input.extend(b"Content-Length: 999999999999\r\n\r\n{\"partial\"");
        let (out, reports) = run(&input);
        let want = frame(good) + &frame(note) + &frame(note);
        assert_eq!(String::from_utf8(out).unwrap(), want);
        assert_eq!(reports.len(), 6, "{reports:#?}");
        let codes: Vec<i64> = reports.iter().map(|r| r.code).collect();
        assert_eq!(codes, [PARSE_ERROR, INVALID_REQUEST, PARSE_ERROR, PARSE_ERROR, PARSE_ERROR, PARSE_ERROR]);
        assert!(reports.iter().all(|r| r.id.is_null()));
    }

    #[test]
    fn answers_carry_the_id_when_one_is_readable() {
        let (_, reports) = run(frame(r#"{"jsonrpc":"2.0","id":7,"method":42}"#).as_bytes());
        assert_eq!((reports[0].code, reports[0].id.clone()), (INVALID_REQUEST, serde_json::json!(7)));
        let (_, reports) = run(frame(r#"{"id":{"x":1}}"#).as_bytes());
        assert!(reports[0].id.is_null());
        let body = reports[0].response();
        let text = String::from_utf8(body).unwrap();
        let (head, json) = text.split_once("\r\n\r\n").unwrap();
        assert_eq!(head, format!("Content-Length: {}", json.len()));
        let v: serde_json::Value = serde_json::from_str(json).unwrap();
        assert_eq!(v["error"]["code"], INVALID_REQUEST);
        assert!(v["id"].is_null() && v["jsonrpc"] == "2.0");
    }

    #[test]
    fn frames_pass_whole_and_in_order() {
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let input = frame("{\"a\":1}") + &frame("{\"b\":\"\u{e9}\"}");
        let (tx, rx) = std::sync::mpsc::channel();
        rt.block_on(read_frames(input.as_bytes(), tx));
        assert_eq!(rx.try_recv().unwrap(), frame("{\"a\":1}").into_bytes());
        assert_eq!(rx.try_recv().unwrap(), frame("{\"b\":\"\u{e9}\"}").into_bytes());
        assert!(rx.try_recv().is_err());
    }

    #[test]
    fn stops_after_exit() {
        let exit = r#"{"jsonrpc":"2.0","method":"exit"}"#;
        let input = frame(exit) + &frame(r#"{"jsonrpc":"2.0","id":2,"method":"shutdown"}"#);
        let (out, reports) = run(input.as_bytes());
        assert_eq!(String::from_utf8(out).unwrap(), frame(exit));
        assert!(reports.is_empty());
    }
}
