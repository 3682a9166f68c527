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
//! - A malformed frame is dropped and reported on stderr; reading resumes at the next header.
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

/// `Ok(is_exit)` when the body may be forwarded, else why it is dropped.
pub fn check_body(body: &[u8]) -> Result<bool, String> {
    if let Err(e) = std::str::from_utf8(body) {
        return Err(format!("not UTF-8: {e}"));
    }
    match serde_json::from_slice::<Message>(body) {
        Ok(Message::Request(r)) => Ok(r.method() == "exit" && r.id().is_none()),
        Ok(Message::Response(_)) => Ok(false),
        Err(e) => Err(format!("not a JSON-RPC message: {e}")),
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
/// notification has been forwarded (nothing after `exit` is read). `report` receives one line
/// per dropped frame.
pub async fn pump<R, W>(input: R, mut output: W, mut report: impl FnMut(String))
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
                report("dropped a frame with an unparsable Content-Length".into());
                continue;
            }
            None => {
                report("dropped a header block without Content-Length".into());
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
            Err(why) => {
                report(format!("dropped a malformed message ({len} bytes): {why}"));
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

#[cfg(test)]
mod tests {
    use super::*;

    fn run(input: &[u8]) -> (Vec<u8>, Vec<String>) {
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
