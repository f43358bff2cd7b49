//! Parsing SIP messages from datagrams and from stream buffers, within [`Limits`].
//!
//! RFC 3261 §7 (message format), §7.3.1 (header fields, folding), §7.5 (CRLF before the
//! start line is ignored), §18.3 (framing: Content-Length optional on UDP, mandatory on
//! stream transports). Bare LF line ends are accepted as well as CRLF.

use super::message::{expand_compact, Header, Headers, Message, Method, StartLine};
use super::SipError;

/// Size limits applied while parsing. Every limit is checked before the bytes it guards are
/// processed, so no input makes the parser allocate more than about `max_message` bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Whole message: header section + body.
    pub max_message: usize,
    /// Header fields (after unfolding; a comma list counts as one).
    pub max_headers: usize,
    /// One header line, or one folded header value.
    pub max_header_line: usize,
    /// Body (the Content-Length value).
    pub max_body: usize,
}

impl Limits {
    /// 64 KiB message, 128 headers, 8 KiB header line, 64 KiB body.
    pub const DEFAULT: Limits = Limits {
        max_message: 64 * 1024,
        max_headers: 128,
        max_header_line: 8 * 1024,
        max_body: 64 * 1024,
    };
}

impl Default for Limits {
    fn default() -> Self {
        Limits::DEFAULT
    }
}

/// The result of looking for a message at the start of a stream buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Streamed {
    /// A whole message; drop `consumed` bytes from the buffer (leading CRLFs included).
    Message {
        /// The message.
        message: Message,
        /// Bytes used from the start of the buffer.
        consumed: usize,
    },
    /// Only CR/LF bytes: keep-alives (RFC 5626 §3.5.1 sends CRLFCRLF and expects CRLF back).
    /// Drop `consumed` bytes.
    KeepAlive {
        /// Bytes to drop.
        consumed: usize,
    },
    /// Not a whole message yet: read more and call again with the grown buffer.
    Incomplete,
}

/// Parses one message from a UDP datagram: the body is the rest of the datagram, cut to
/// Content-Length when that header is present (§18.3). A datagram of only CR/LF (a
/// keep-alive some devices send) is [`SipError::UnterminatedHeaders`]: drop it silently.
pub fn parse_datagram(buf: &[u8], limits: &Limits) -> Result<Message, SipError> {
    if buf.len() > limits.max_message {
        return Err(SipError::TooLarge(limits.max_message));
    }
    let start = leading_crlf(buf);
    let buf = &buf[start..];
    let (head_len, body_start) = find_header_end(buf).ok_or(SipError::UnterminatedHeaders)?;
    let (start_line, headers) = parse_head(&buf[..head_len], limits)?;
    let rest = &buf[body_start..];
    let body = match content_length(&headers, limits)? {
        Some(len) if len > rest.len() => return Err(SipError::TruncatedBody),
        Some(len) => &rest[..len],
        None if rest.len() > limits.max_body => return Err(SipError::BadContentLength),
        None => rest,
    };
    Ok(Message {
        start: start_line,
        headers,
        body: body.to_vec(),
    })
}

/// Looks for one message at the start of a TCP/TLS byte buffer (§18.3: Content-Length is
/// mandatory). Errors mean the stream cannot be re-synchronised: close the connection.
pub fn parse_stream(buf: &[u8], limits: &Limits) -> Result<Streamed, SipError> {
    let skipped = leading_crlf(buf);
    if skipped == buf.len() {
        return Ok(if skipped == 0 {
            Streamed::Incomplete
        } else {
            Streamed::KeepAlive { consumed: skipped }
        });
    }
    let rest = &buf[skipped..];
    let window = &rest[..rest.len().min(limits.max_message)];
    let Some((head_len, body_start)) = find_header_end(window) else {
        return if rest.len() >= limits.max_message {
            Err(SipError::TooLarge(limits.max_message))
        } else {
            Ok(Streamed::Incomplete)
        };
    };
    let (start_line, headers) = parse_head(&rest[..head_len], limits)?;
    let len = content_length(&headers, limits)?.ok_or(SipError::MissingContentLength)?;
    let end = body_start + len;
    if end > limits.max_message {
        return Err(SipError::TooLarge(limits.max_message));
    }
    if rest.len() < end {
        return Ok(Streamed::Incomplete);
    }
    Ok(Streamed::Message {
        message: Message {
            start: start_line,
            headers,
            body: rest[body_start..end].to_vec(),
        },
        consumed: skipped + end,
    })
}

/// Count of CR/LF bytes before the start line (§7.5).
fn leading_crlf(buf: &[u8]) -> usize {
    buf.iter().take_while(|b| matches!(b, b'\r' | b'\n')).count()
}

/// The end of the header section (exclusive, before the empty line) and the body start.
fn find_header_end(buf: &[u8]) -> Option<(usize, usize)> {
    let mut i = 0;
    while let Some(off) = buf[i..].iter().position(|&b| b == b'\n') {
        let nl = i + off;
        // An empty line follows this newline: "\n\n" or "\n\r\n".
        match (buf.get(nl + 1), buf.get(nl + 2)) {
            (Some(b'\n'), _) => return Some((nl + 1, nl + 2)),
            (Some(b'\r'), Some(b'\n')) => return Some((nl + 1, nl + 3)),
            _ => i = nl + 1,
        }
    }
    None
}

/// Parses the start line and header fields (`head` ends just after the last header's line
/// break).
fn parse_head(head: &[u8], limits: &Limits) -> Result<(StartLine, Headers), SipError> {
    let head = std::str::from_utf8(head).map_err(|_| SipError::NotUtf8)?;
    let mut lines = head
        .split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .filter(|l| !l.is_empty());
    let first = lines.next().ok_or(SipError::BadStartLine)?;
    if first.len() > limits.max_header_line {
        return Err(SipError::HeaderLineTooLong(limits.max_header_line));
    }
    if has_control(first) {
        return Err(SipError::BadStartLine);
    }
    let start = parse_start_line(first)?;

    let mut headers = Headers::new();
    let mut current: Option<Header> = None;
    for line in lines {
        if line.len() > limits.max_header_line {
            return Err(SipError::HeaderLineTooLong(limits.max_header_line));
        }
        if has_control(line) {
            return Err(SipError::BadHeader);
        }
        if line.starts_with([' ', '\t']) {
            // Folded continuation (§7.3.1): joined to the previous value with one space.
            let h = current.as_mut().ok_or(SipError::BadHeader)?;
            let more = line.trim();
            if h.value.len() + 1 + more.len() > limits.max_header_line {
                return Err(SipError::HeaderLineTooLong(limits.max_header_line));
            }
            if !more.is_empty() {
                if !h.value.is_empty() {
                    h.value.push(' ');
                }
                h.value.push_str(more);
            }
            continue;
        }
        if let Some(h) = current.take() {
            headers.push_raw(h);
        }
        if headers.len() >= limits.max_headers {
            return Err(SipError::TooManyHeaders(limits.max_headers));
        }
        let (name, value) = line.split_once(':').ok_or(SipError::BadHeader)?;
        let name = name.trim_end_matches([' ', '\t']);
        if name.is_empty() || !name.bytes().all(is_token_byte) {
            return Err(SipError::BadHeader);
        }
        current = Some(Header {
            name: expand_compact(name).to_owned(),
            value: value.trim().to_owned(),
        });
    }
    if let Some(h) = current {
        headers.push_raw(h);
    }
    Ok((start, headers))
}

/// Control characters other than HTAB (a bare CR, NUL, …) are not allowed in a line
/// (§25.1: TEXT-UTF8 and LWS exclude them); a bare CR could end the line for another parser.
fn has_control(line: &str) -> bool {
    line.bytes().any(|b| (b < 0x20 && b != b'\t') || b == 0x7F)
}

fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-.!%*_+`'~".contains(&b)
}

fn parse_start_line(line: &str) -> Result<StartLine, SipError> {
    if let Some(rest) = strip_version_prefix(line) {
        // Status-Line = SIP-Version SP Status-Code SP Reason-Phrase (§7.2).
        let rest = rest.strip_prefix(' ').ok_or(SipError::BadStartLine)?;
        let (code, reason) = rest.split_once(' ').unwrap_or((rest, ""));
        if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(SipError::BadStatus);
        }
        let code: u16 = code.parse().map_err(|_| SipError::BadStatus)?;
        if !(100..=699).contains(&code) {
            return Err(SipError::BadStatus);
        }
        return Ok(StartLine::Response {
            code,
            reason: reason.to_owned(),
        });
    }
    // Request-Line = Method SP Request-URI SP SIP-Version (§7.1).
    let mut parts = line.split(' ');
    let (Some(method), Some(uri), Some(version), None) = (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(SipError::BadStartLine);
    };
    if method.is_empty() || !method.bytes().all(is_token_byte) || uri.is_empty() {
        return Err(SipError::BadStartLine);
    }
    if !version.eq_ignore_ascii_case("SIP/2.0") {
        // `get`, not indexing: byte 4 may fall inside a multi-byte character.
        return Err(if version.get(..4).is_some_and(|v| v.eq_ignore_ascii_case("SIP/")) {
            SipError::BadVersion
        } else {
            SipError::BadStartLine
        });
    }
    Ok(StartLine::Request {
        method: Method::from_token(method),
        uri: uri.to_owned(),
    })
}

/// The rest of a Status-Line after `SIP/2.0` (case-insensitive, §7.1).
fn strip_version_prefix(line: &str) -> Option<&str> {
    let head = line.get(..7)?;
    head.eq_ignore_ascii_case("SIP/2.0").then(|| &line[7..])
}

/// The Content-Length, if present: every instance must agree and be at most `max_body`.
fn content_length(headers: &Headers, limits: &Limits) -> Result<Option<usize>, SipError> {
    let mut found = None;
    for v in headers.get_all("Content-Length") {
        if v.is_empty() || v.len() > 10 || !v.bytes().all(|b| b.is_ascii_digit()) {
            return Err(SipError::BadContentLength);
        }
        let n: usize = v.parse().map_err(|_| SipError::BadContentLength)?;
        if n > limits.max_body || found.is_some_and(|f| f != n) {
            return Err(SipError::BadContentLength);
        }
        found = Some(n);
    }
    Ok(found)
}

#[cfg(test)]
#[path = "parse_tests.rs"]
mod tests;
