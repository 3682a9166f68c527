//! A source file's bytes as text, decoded as Python decodes it (PEP 263), and back.
//!
//! - A UTF-8 BOM means UTF-8 (a coding declaration then has to say UTF-8 too).
//! - Otherwise a coding declaration (`# -*- coding: latin-1 -*-`, `# vim: set fileencoding=cp1252 :`)
//!   on line 1, or on line 2 when line 1 is blank or a comment, names the encoding; its name is
//!   normalised as Python's tokenizer does (`latin_1`, `ISO-8859-1`, `l1` … are Latin-1; `utf8`,
//!   `utf-8-sig` are UTF-8). Latin-1 and ASCII are decoded here; UTF-8 by the standard library;
//!   every other ASCII-compatible encoding by `encoding_rs` (cp1252 with Python's five
//!   undefined bytes rejected).
//! - Without a declaration the text must be UTF-8 (Python's default; Rust files always are).
//! - A decode error names the line and the column (characters, 1-based) of the first bad byte.
//! - [`Source::encode`] turns (fixed) text back into the file's encoding; it fails, rather than
//!   write something else, for a character the encoding cannot hold. `--fix` writes a non-UTF-8
//!   file only when its original bytes survive the round trip exactly.

const BOM: &str = "\u{feff}";

/// How a file's bytes map to text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Codec {
    Utf8,
    /// ISO-8859-1: each byte is the code point of the same value (Python's `latin-1`).
    Latin1,
    Ascii,
    /// Any other ASCII-compatible encoding `encoding_rs` knows (cp1252, iso-8859-15, koi8-r,
    /// shift_jis, euc-jp, gbk …).
    Other(&'static encoding_rs::Encoding),
}

impl Codec {
    pub fn name(self) -> &'static str {
        match self {
            Codec::Utf8 => "utf-8",
            Codec::Latin1 => "latin-1",
            Codec::Ascii => "ascii",
            Codec::Other(e) => e.name(),
        }
    }
}

/// A file as read from disk (or stdin).
pub struct Source {
    /// The exact bytes read (compared again before writing).
    pub bytes: Vec<u8>,
    /// Whether the bytes start with a UTF-8 BOM (stripped from `text`).
    pub bom: bool,
    /// The encoding the bytes are in.
    pub codec: Codec,
    /// The text without the BOM: what is analysed, and what offsets refer to.
    pub text: String,
}

/// Why bytes could not be decoded: the message names the encoding, the line and the column.
#[derive(Debug, Clone, PartialEq)]
pub struct DecodeError {
    /// 1-based line and column (characters) of the first byte that could not be decoded.
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}, column {}: {}", self.line, self.column, self.message)
    }
}

/// 1-based line and column (characters) just after `prefix`, a decoded text.
fn position_after(prefix: &str) -> (usize, usize) {
    let line = prefix.matches('\n').count() + 1;
    let col = prefix.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

/// The encoding named by a coding declaration on line 1 or 2 of `bytes`, with the 1-based line
/// it is on.
pub fn declared_encoding(bytes: &[u8]) -> Option<(String, usize)> {
    let mut lines = bytes.split(|&b| b == b'\n');
    let first = lines.next()?;
    if let Some(name) = coding_of(first) {
        return Some((name, 1));
    }
    // Line 2 counts only below a blank or comment-only line 1 (as in Python's tokenizer).
    let t = first.iter().position(|b| !matches!(b, b' ' | b'\t' | b'\x0c' | b'\r'));
    if t.is_some_and(|i| first[i] != b'#') {
        return None;
    }
    coding_of(lines.next()?).map(|n| (n, 2))
}

/// PEP 263: `^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)` on one line.
fn coding_of(line: &[u8]) -> Option<String> {
    let start = line.iter().position(|b| !matches!(b, b' ' | b'\t' | b'\x0c'))?;
    if line[start] != b'#' {
        return None;
    }
    let rest = &line[start..];
    let mut from = 0;
    while let Some(i) = rest[from..].windows(6).position(|w| w == b"coding") {
        let after = from + i + 6;
        if matches!(rest.get(after), Some(b':' | b'=')) {
            let value = &rest[after + 1..];
            let value = &value[value.iter().position(|b| !matches!(b, b' ' | b'\t')).unwrap_or(value.len())..];
            let end = value.iter().position(|&b| !(b.is_ascii_alphanumeric() || b"-_.".contains(&b))).unwrap_or(value.len());
            if end > 0 {
                return Some(String::from_utf8_lossy(&value[..end]).into_owned());
            }
        }
        from = after;
    }
    None
}

/// The codec for a declared encoding name, normalised as Python does; `None` when unknown (or
/// not ASCII-compatible, which Python refuses for source too).
pub fn codec_for(name: &str) -> Option<Codec> {
    let n = name.trim().to_ascii_lowercase().replace('_', "-");
    let latin1 = ["latin-1", "iso-8859-1", "iso-latin-1"];
    if n == "utf-8" || n.starts_with("utf-8-") || matches!(n.as_str(), "utf8" | "u8" | "utf" | "cp65001") {
        return Some(Codec::Utf8);
    }
    if latin1.iter().any(|l| n == *l || n.starts_with(&format!("{l}-")))
        || matches!(n.as_str(), "latin1" | "latin" | "l1" | "iso8859-1" | "8859" | "cp819" | "iso-ir-100" | "csisolatin1")
    {
        return Some(Codec::Latin1);
    }
    if matches!(n.as_str(), "ascii" | "us-ascii" | "646" | "ansi-x3.4-1968" | "us") {
        return Some(Codec::Ascii);
    }
    let enc = encoding_rs::Encoding::for_label(n.as_bytes())?;
    (enc.is_ascii_compatible() && enc != encoding_rs::REPLACEMENT).then_some(if enc == encoding_rs::UTF_8 {
        Codec::Utf8
    } else {
        Codec::Other(enc)
    })
}

/// Bytes Python's cp1252 leaves undefined (the WHATWG windows-1252 maps them to C1 controls).
const CP1252_UNDEFINED: &[u8] = &[0x81, 0x8d, 0x8f, 0x90, 0x9d];

impl Source {
    /// Decodes a file's bytes as Python would (see the module docs).
    pub fn decode(bytes: Vec<u8>) -> Result<Source, DecodeError> {
        let bom = bytes.starts_with(BOM.as_bytes());
        let body = if bom { &bytes[BOM.len()..] } else { &bytes[..] };
        let declared = declared_encoding(body);
        let codec = match &declared {
            None => Codec::Utf8,
            Some((name, line)) => match codec_for(name) {
                Some(c) => c,
                None => {
                    return Err(DecodeError {
                        line: *line,
                        column: 1,
                        message: format!("unknown encoding `{name}` in the coding declaration"),
                    });
                }
            },
        };
        if bom && codec != Codec::Utf8 {
            let line = declared.map_or(1, |d| d.1);
            return Err(DecodeError {
                line,
                column: 1,
                message: format!("the file starts with a UTF-8 BOM but declares `{}`", codec.name()),
            });
        }
        let text = decode_with(body, codec, declared.is_some())?;
        Ok(Source { bom, codec, text, bytes })
    }

    /// The bytes of `text` (without BOM) as this file would store them; `Err` names the first
    /// character the file's encoding cannot hold.
    pub fn encode(&self, text: &str) -> Result<Vec<u8>, String> {
        let mut out = Vec::with_capacity(text.len() + 3);
        if self.bom {
            out.extend_from_slice(BOM.as_bytes());
        }
        let unencodable = |i: usize, c: char| {
            let (line, col) = position_after(&text[..i]);
            format!("line {line}, column {col}: `{c}` cannot be written in {}", self.codec.name())
        };
        match self.codec {
            Codec::Utf8 => out.extend_from_slice(text.as_bytes()),
            Codec::Latin1 | Codec::Ascii => {
                let max = if self.codec == Codec::Latin1 { 0xff } else { 0x7f };
                for (i, c) in text.char_indices() {
                    if (c as u32) > max {
                        return Err(unencodable(i, c));
                    }
                    out.push(c as u32 as u8);
                }
            }
            Codec::Other(enc) => {
                let (bytes, _, had_errors) = enc.encode(text);
                if had_errors {
                    let bad = text
                        .char_indices()
                        .find(|(i, c)| enc.encode(&text[*i..*i + c.len_utf8()]).2)
                        .unwrap_or((0, '?'));
                    return Err(unencodable(bad.0, bad.1));
                }
                out.extend_from_slice(&bytes);
            }
        }
        Ok(out)
    }

    /// Whether writing `self.text` back gives the bytes read: `--fix` writes a file only then.
    pub fn round_trips(&self) -> bool {
        self.encode(&self.text).is_ok_and(|b| b == self.bytes)
    }
}

fn decode_with(body: &[u8], codec: Codec, declared: bool) -> Result<String, DecodeError> {
    let fail = |at: usize, what: String| {
        // The prefix before `at` decodes: it gives the line and column.
        let prefix = decode_with(&body[..at], codec, declared).unwrap_or_default();
        let (line, column) = position_after(&prefix);
        Err(DecodeError { line, column, message: what })
    };
    match codec {
        Codec::Utf8 => match std::str::from_utf8(body) {
            Ok(t) => Ok(t.to_string()),
            Err(e) => {
                let at = e.valid_up_to();
                let hint = if declared { "" } else { " and no coding declaration (PEP 263) says otherwise" };
                let (line, column) = position_after(std::str::from_utf8(&body[..at]).unwrap_or_default());
                Err(DecodeError { line, column, message: format!("byte 0x{:02X} is not valid UTF-8{hint}", body[at]) })
            }
        },
        Codec::Latin1 => Ok(body.iter().map(|&b| b as char).collect()),
        Codec::Ascii => match body.iter().position(|&b| b > 0x7f) {
            None => Ok(body.iter().map(|&b| b as char).collect()),
            Some(at) => fail(at, format!("byte 0x{:02X} is not ASCII (the declared encoding)", body[at])),
        },
        Codec::Other(enc) => {
            if enc == encoding_rs::WINDOWS_1252 {
                if let Some(at) = body.iter().position(|b| CP1252_UNDEFINED.contains(b)) {
                    return fail(at, format!("byte 0x{:02X} is undefined in cp1252 (the declared encoding)", body[at]));
                }
            }
            let mut decoder = enc.new_decoder_without_bom_handling();
            let mut out = String::with_capacity(decoder.max_utf8_buffer_length_without_replacement(body.len()).unwrap_or(body.len()));
            let (result, read) = decoder.decode_to_string_without_replacement(body, &mut out, true);
            match result {
                encoding_rs::DecoderResult::InputEmpty => Ok(out),
                encoding_rs::DecoderResult::Malformed(bad, after) => {
                    let at = read.saturating_sub(bad as usize + after as usize);
                    let (line, column) = position_after(&out);
                    let byte = body.get(at).copied().unwrap_or(0);
                    Err(DecodeError {
                        line,
                        column,
                        message: format!("byte 0x{byte:02X} is not valid {} (the declared encoding)", enc.name()),
                    })
                }
                encoding_rs::DecoderResult::OutputFull => {
                    Err(DecodeError { line: 1, column: 1, message: "decoding ran out of room (please report this bug)".into() })
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declarations() {
        assert_eq!(declared_encoding(b"# -*- coding: latin-1 -*-\nx = 1\n"), Some(("latin-1".into(), 1)));
        assert_eq!(declared_encoding(b"#!/usr/bin/env python\n# vim: set fileencoding=cp1252 :\n"), Some(("cp1252".into(), 2)));
        assert_eq!(declared_encoding(b"x = 1\n# coding: latin-1\n"), None, "line 2 only below a comment");
        assert_eq!(declared_encoding(b"x = '# coding: latin-1'\n"), None);
        assert_eq!(declared_encoding(b"\n\n# coding: latin-1\n"), None, "line 3 is too late");
        assert_eq!(codec_for("Latin_1"), Some(Codec::Latin1));
        assert_eq!(codec_for("ISO-8859-1"), Some(Codec::Latin1));
        assert_eq!(codec_for("utf-8-sig"), Some(Codec::Utf8));
        assert_eq!(codec_for("cp1252"), Some(Codec::Other(encoding_rs::WINDOWS_1252)));
        assert_eq!(codec_for("utf-16"), None, "not ASCII-compatible");
        assert_eq!(codec_for("klingon"), None);
    }

    #[test]
    fn decodes_as_python() {
        let s = Source::decode(b"# -*- coding: latin-1 -*-\nx = 'caf\xe9 \x80'\n".to_vec()).unwrap();
        assert_eq!(s.text, "# -*- coding: latin-1 -*-\nx = 'caf\u{e9} \u{80}'\n");
        assert!(s.round_trips());
        let s = Source::decode(b"# coding=cp1252\nx = '\x80'\n".to_vec()).unwrap();
        assert_eq!(s.text, "# coding=cp1252\nx = '\u{20ac}'\n");
        assert!(s.round_trips());
        let e = Source::decode(b"# coding=cp1252\nx = '\x81'\n".to_vec()).err().unwrap();
        assert_eq!((e.line, e.column), (2, 6), "{e}");
        let e = Source::decode(b"x = 1\ny = 'caf\xe9'\n".to_vec()).err().unwrap();
        assert_eq!((e.line, e.column), (2, 9), "{e}");
        assert!(e.to_string().contains("0xE9") && e.to_string().contains("line 2, column 9"), "{e}");
        let e = Source::decode(b"# coding: klingon\n".to_vec()).err().unwrap();
        assert!(e.message.contains("klingon"), "{e}");
        let e = Source::decode(b"# coding: shift_jis\nx = '\x82'\n".to_vec()).err().unwrap();
        assert_eq!(e.line, 2, "{e}");
    }

    #[test]
    fn encodes_back() {
        let s = Source::decode(b"# coding: latin-1\nx = '\xe9'\n".to_vec()).unwrap();
        assert_eq!(s.encode("x = '\u{e9}' # \u{e9}\n").unwrap(), b"x = '\xe9' # \xe9\n");
        let e = s.encode("x = '\u{20ac}'\n").unwrap_err();
        assert!(e.contains("line 1, column 6"), "{e}");
        let s = Source::decode(b"# coding: cp1252\n".to_vec()).unwrap();
        assert!(s.encode("\u{4e00}").is_err());
        let s = Source::decode(b"\xef\xbb\xbfx = 1\n".to_vec()).unwrap();
        assert!(s.bom);
        assert_eq!(s.text, "x = 1\n");
        assert_eq!(s.encode(&s.text).unwrap(), s.bytes);
    }
}
