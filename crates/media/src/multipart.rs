//! `multipart/mixed` bodies (RFC 2046 §5.1) as SIPREC INVITEs carry them: an SDP part and
//! an `application/rs-metadata+xml` part (RFC 7866 §6.1). Also the media-type parsing used
//! to find the boundary (RFC 2045 §5.1).
//!
//! Limits: at most [`MAX_PARTS`] parts, a body of at most [`MAX_BODY`] bytes, part headers
//! of at most [`MAX_PART_HEADERS`] fields; the boundary is 1..=70 characters (§5.1.1).

/// The most parts a body may have.
pub const MAX_PARTS: usize = 16;
/// The largest body accepted.
pub const MAX_BODY: usize = 64 * 1024;
/// The most header fields per part.
pub const MAX_PART_HEADERS: usize = 16;

/// Why a multipart body was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MultipartError {
    /// The Content-Type is not `multipart/*`.
    #[error("content type is not multipart")]
    NotMultipart,
    /// No usable `boundary` parameter.
    #[error("missing or invalid multipart boundary")]
    BadBoundary,
    /// The body is larger than [`MAX_BODY`].
    #[error("multipart body exceeds {MAX_BODY} bytes")]
    TooLarge,
    /// More parts than [`MAX_PARTS`].
    #[error("more than {MAX_PARTS} body parts")]
    TooManyParts,
    /// No delimiter line at all.
    #[error("multipart body has no boundary delimiter")]
    NoDelimiter,
    /// The close delimiter (`--boundary--`) is missing.
    #[error("multipart body is not closed")]
    Unterminated,
    /// A part's header section is malformed, not UTF-8 or too long.
    #[error("malformed body part headers")]
    BadPartHeaders,
}

/// A media type: `type/subtype` in lower case and its parameters (RFC 2045 §5.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaType {
    /// `type/subtype`, lower case (`multipart/mixed`).
    pub essence: String,
    /// Parameters in order: names lower case, values unquoted.
    pub params: Vec<(String, String)>,
}

impl MediaType {
    /// Parses a Content-Type value; `None` when it has no `type/subtype`.
    pub fn parse(value: &str) -> Option<MediaType> {
        let mut pieces = split_params(value);
        let essence = pieces.remove(0).trim().to_ascii_lowercase();
        let (ty, sub) = essence.split_once('/')?;
        if ty.is_empty() || sub.is_empty() || essence.contains(char::is_whitespace) {
            return None;
        }
        let params = pieces
            .into_iter()
            .filter_map(|p| {
                let (n, v) = p.split_once('=')?;
                Some((n.trim().to_ascii_lowercase(), unquote(v.trim())))
            })
            .collect();
        Some(MediaType { essence, params })
    }

    /// The value of parameter `name` (case-insensitive).
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Whether the essence is `essence` (case-insensitive).
    pub fn is(&self, essence: &str) -> bool {
        self.essence.eq_ignore_ascii_case(essence)
    }
}

/// Splits at `;` outside quoted strings; always returns at least one piece.
fn split_params(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut quoted, mut escaped, mut start) = (false, false, 0);
    for (i, b) in s.bytes().enumerate() {
        match b {
            _ if escaped => escaped = false,
            b'\\' if quoted => escaped = true,
            b'"' => quoted = !quoted,
            b';' if !quoted => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&s[start..]);
    out
}

fn unquote(v: &str) -> String {
    match v.strip_prefix('"').and_then(|r| r.strip_suffix('"')) {
        Some(inner) => {
            let mut out = String::with_capacity(inner.len());
            let mut chars = inner.chars();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => out.extend(chars.next()),
                    c => out.push(c),
                }
            }
            out
        }
        None => v.to_owned(),
    }
}

/// One body part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    /// The part's header fields (`Content-Type`, `Content-Disposition`, …) in order.
    pub headers: Vec<(String, String)>,
    /// The part's body, without the line break before the next delimiter.
    pub body: Vec<u8>,
}

impl Part {
    /// The value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The part's Content-Type; `text/plain` when absent (RFC 2046 §5.1.1).
    pub fn content_type(&self) -> MediaType {
        self.header("Content-Type")
            .and_then(MediaType::parse)
            .unwrap_or_else(|| MediaType {
                essence: "text/plain".into(),
                params: Vec::new(),
            })
    }
}

/// The boundary of a `multipart/*` Content-Type, validated (1..=70 characters, §5.1.1).
pub fn boundary(content_type: &str) -> Result<String, MultipartError> {
    let mt = MediaType::parse(content_type).ok_or(MultipartError::NotMultipart)?;
    if !mt.essence.starts_with("multipart/") {
        return Err(MultipartError::NotMultipart);
    }
    let b = mt.param("boundary").ok_or(MultipartError::BadBoundary)?;
    if b.is_empty() || b.len() > 70 || b.ends_with(' ') || b.contains(['\r', '\n']) {
        return Err(MultipartError::BadBoundary);
    }
    Ok(b.to_owned())
}

/// Parses a multipart body given its Content-Type value. The preamble and epilogue are
/// ignored; line breaks may be CRLF or bare LF.
pub fn parse(content_type: &str, body: &[u8]) -> Result<Vec<Part>, MultipartError> {
    let boundary = boundary(content_type)?;
    if body.len() > MAX_BODY {
        return Err(MultipartError::TooLarge);
    }
    let delim = format!("--{boundary}").into_bytes();
    // Each delimiter starts a line: at offset 0 or right after a line feed.
    let mut starts = Vec::new();
    let mut search = 0;
    while let Some(at) = find(&body[search..], &delim).map(|i| i + search) {
        search = at + delim.len();
        if at != 0 && body[at - 1] != b'\n' {
            continue; // not at a line start: data
        }
        if body[search..].starts_with(b"--") {
            starts.push(at);
            return parts_between(body, &starts, delim.len());
        }
        // Only transport padding may follow a delimiter on its line (§5.1.1); otherwise
        // this is data that merely starts like one (`--boundaryX`).
        let line = &body[search..];
        let line = &line[..line.iter().position(|&b| b == b'\n').unwrap_or(line.len())];
        if line.iter().all(|b| matches!(b, b' ' | b'\t' | b'\r')) {
            starts.push(at);
            if starts.len() > MAX_PARTS {
                return Err(MultipartError::TooManyParts);
            }
        }
    }
    Err(if starts.is_empty() {
        MultipartError::NoDelimiter
    } else {
        MultipartError::Unterminated
    })
}

/// The parts between consecutive delimiter lines; the last start is the close delimiter.
fn parts_between(body: &[u8], starts: &[usize], delim_len: usize) -> Result<Vec<Part>, MultipartError> {
    if starts.len() < 2 {
        return Err(MultipartError::NoDelimiter); // only a close delimiter: no part at all
    }
    let mut parts = Vec::with_capacity(starts.len() - 1);
    for pair in starts.windows(2) {
        // Skip the rest of the delimiter line (transport padding, §5.1.1) and its break.
        let after = pair[0] + delim_len;
        let line_end = body[after..pair[1]]
            .iter()
            .position(|&b| b == b'\n')
            .map(|i| after + i + 1)
            .ok_or(MultipartError::BadPartHeaders)?;
        // The line break before the next delimiter belongs to the delimiter.
        let mut end = pair[1];
        if end > line_end && body[end - 1] == b'\n' {
            end -= 1;
            if end > line_end && body[end - 1] == b'\r' {
                end -= 1;
            }
        }
        parts.push(parse_part(&body[line_end..end.max(line_end)])?);
    }
    Ok(parts)
}

fn parse_part(raw: &[u8]) -> Result<Part, MultipartError> {
    // Headers end at the first empty line; a part may start with it (no headers).
    let (head, body) = if raw.starts_with(b"\r\n") {
        (&raw[..0], &raw[2..])
    } else if raw.starts_with(b"\n") {
        (&raw[..0], &raw[1..])
    } else {
        match find(raw, b"\r\n\r\n")
            .map(|i| (i, i + 4))
            .into_iter()
            .chain(find(raw, b"\n\n").map(|i| (i, i + 2)))
            .min_by_key(|(i, _)| *i)
        {
            Some((h, b)) => (&raw[..h], &raw[b..]),
            // Only headers, no empty line: an empty body.
            None => (raw, &raw[raw.len()..]),
        }
    };
    let head = std::str::from_utf8(head).map_err(|_| MultipartError::BadPartHeaders)?;
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in head.split('\n').map(|l| l.trim_end_matches('\r')) {
        if line.is_empty() {
            continue;
        }
        if line.starts_with([' ', '\t']) {
            let last = headers.last_mut().ok_or(MultipartError::BadPartHeaders)?;
            last.1.push(' ');
            last.1.push_str(line.trim());
        } else {
            let (n, v) = line.split_once(':').ok_or(MultipartError::BadPartHeaders)?;
            if n.trim().is_empty() || headers.len() >= MAX_PART_HEADERS {
                return Err(MultipartError::BadPartHeaders);
            }
            headers.push((n.trim().to_owned(), v.trim().to_owned()));
        }
    }
    Ok(Part {
        headers,
        body: body.to_vec(),
    })
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || haystack.len() < needle.len() {
        return None;
    }
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &str = "preamble\r\n\
        --OSS-unique-boundary-42\r\n\
        Content-Type: application/sdp\r\n\
        \r\n\
        v=0\r\n\
        o=- 1 1 IN IP4 10.0.0.1\r\n\
        \r\n\
        --OSS-unique-boundary-42\r\n\
        Content-Type: application/rs-metadata+xml\r\n\
        Content-Disposition: recording-session\r\n\
        \r\n\
        <?xml version=\"1.0\"?><recording/>\r\n\
        --OSS-unique-boundary-42--\r\n\
        epilogue";

    #[test]
    fn splits_sdp_and_metadata_parts() {
        let ct = "multipart/mixed;boundary=OSS-unique-boundary-42";
        let parts = parse(ct, BODY.as_bytes()).expect("valid body");
        assert_eq!(parts.len(), 2, "two parts");
        assert!(
            parts[0].content_type().is(&"application/sdp".to_ascii_uppercase()),
            "SDP"
        );
        assert_eq!(
            parts[0].body, b"v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\n",
            "SDP body keeps its own final CRLF"
        );
        assert!(parts[1].content_type().is("application/rs-metadata+xml"), "metadata");
        assert_eq!(parts[1].header("content-disposition"), Some("recording-session"), "CD");
        assert_eq!(parts[1].body, b"<?xml version=\"1.0\"?><recording/>", "XML body");
    }

    #[test]
    fn quoted_boundary_and_bare_lf() {
        let ct = "Multipart/Mixed; charset=utf-8; boundary=\"a b;c\"";
        let body = "--a b;c\nContent-Type: text/plain\n\nhello\n--a b;c\n\nno headers\n--a b;c--";
        let parts = parse(ct, body.as_bytes()).expect("valid");
        assert_eq!(parts.len(), 2, "two parts");
        assert_eq!(parts[0].body, b"hello", "first body");
        assert_eq!(parts[1].body, b"no headers", "second body");
        assert!(parts[1].content_type().is("text/plain"), "default type");
    }

    #[test]
    fn delimiter_must_start_a_line() {
        let ct = "multipart/mixed;boundary=xx";
        let body = "--xx\r\n\r\nsee --xx inside\r\n--xx--";
        let parts = parse(ct, body.as_bytes()).expect("valid");
        assert_eq!(parts.len(), 1, "inline --xx is data");
        assert_eq!(parts[0].body, b"see --xx inside", "body keeps it");
    }

    #[test]
    fn a_longer_boundary_lookalike_is_data() {
        let ct = "multipart/mixed;boundary=xx";
        let body = "--xx\r\n\r\na\r\n--xxy\r\nb\r\n--xx--";
        let parts = parse(ct, body.as_bytes()).expect("valid");
        assert_eq!(parts.len(), 1, "--xxy is not a delimiter");
        assert_eq!(parts[0].body, b"a\r\n--xxy\r\nb", "kept as data");
    }

    #[test]
    fn refusals_are_named() {
        assert_eq!(parse("application/sdp", b""), Err(MultipartError::NotMultipart), "type");
        assert_eq!(parse("multipart/mixed", b""), Err(MultipartError::BadBoundary), "none");
        let long = format!("multipart/mixed;boundary={}", "b".repeat(71));
        assert_eq!(parse(&long, b""), Err(MultipartError::BadBoundary), "71 chars");
        let ct = "multipart/mixed;boundary=b";
        assert_eq!(parse(ct, b"no delimiter"), Err(MultipartError::NoDelimiter), "none");
        assert_eq!(parse(ct, b"--b\r\n\r\nx"), Err(MultipartError::Unterminated), "open");
        let many = format!("{}--b--", "--b\r\n\r\nx\r\n".repeat(MAX_PARTS + 1));
        assert_eq!(parse(ct, many.as_bytes()), Err(MultipartError::TooManyParts), "parts");
        let big = vec![b'x'; MAX_BODY + 1];
        assert_eq!(parse(ct, &big), Err(MultipartError::TooLarge), "size");
        assert_eq!(
            parse(ct, b"--b\r\nbroken header\r\n\r\nx\r\n--b--"),
            Err(MultipartError::BadPartHeaders),
            "header without colon"
        );
    }
}
