//! Serving one recording's audio over HTTP: the body of
//! `GET/HEAD /api/v1/recordings/{id}/audio?format=original|pcm16[&download=1]`.
//!
//! The route handler resolves the recording and checks permission; [`respond`] does the HTTP
//! part: validators (`ETag`, `Last-Modified`), conditional requests (RFC 9110 §13), byte
//! ranges (RFC 9110 §14) and streaming from disk in bounded chunks, so a one-hour recording
//! (~60 MB) never sits in memory.
//!
//! `format=pcm16` serves a G.711 recording as a 16-bit PCM WAV converted on the fly by
//! [`callrec_media::wav::Pcm16Transcoder`]: the output length is known from the header
//! alone (44-byte header + 2 × the G.711 data), and output data byte `k` comes from source
//! data byte `k / 2`, so `Content-Length` and every range are exact without converting
//! anything before the requested bytes.
//!
//! Choices where the RFC leaves room, and why:
//! - Several ranges are answered with `multipart/byteranges` (RFC 9110 §14.6), in the
//!   order requested. More than [`MAX_RANGES`] ranges are refused with 416, and ranges whose
//!   total exceeds the representation (overlaps asking for the file many times over) are
//!   ignored in favour of one 200: both bound what a single request can make us send.
//! - `HEAD` gets exactly the headers the same `GET` would, Range included (as Apache and
//!   nginx do), so a client can probe a range's `Content-Range` before fetching it.
//! - A `Range` that does not parse (an unknown unit, `bytes=5-2`, which §14.1.1 calls
//!   invalid, numbers that overflow) is ignored and the whole file sent with 200: §14.2
//!   lets a server ignore Range, and 416 would wrongly say the bytes lie past the end.
//! - `If-Modified-Since` and a date in `If-Range` are honoured only for finished recordings
//!   (known SHA-256): a recording in progress changes within the one-second resolution of
//!   HTTP dates, so only its entity tag (size + modification time) can validate it.

use std::io::{self, SeekFrom};
use std::ops::Range;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::response::Response;
use bytes::{Bytes, BytesMut};
use callrec_media::wav::{Codec, Pcm16Transcoder, WavInfo, MAX_HEADER_LEN};
use chrono::{DateTime, NaiveDateTime, Utc};
use futures::StreamExt;
use http::{header, HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use tokio::fs::File;
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use tokio_util::io::ReaderStream;

/// Size of the chunks the body is read, converted and sent in.
pub const CHUNK_BYTES: usize = 64 * 1024;
/// The most ranges one `Range` header may ask for; more are answered with 416.
pub const MAX_RANGES: usize = 16;

/// Bumped whenever the PCM16 rendition of the same source could change (header layout,
/// G.711 tables), so a cached PCM16 file is never revalidated against different bytes.
const PCM16_RENDITION: &str = "pcm16v1";

/// Which rendition of a recording to serve (`?format=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AudioFormat {
    /// The stored file, byte for byte.
    #[default]
    Original,
    /// A 16-bit PCM WAV, converted on the fly from G.711 (or the stored file if it is PCM16).
    Pcm16,
}

impl AudioFormat {
    /// The query value: `original` or `pcm16`.
    pub fn as_str(self) -> &'static str {
        match self {
            AudioFormat::Original => "original",
            AudioFormat::Pcm16 => "pcm16",
        }
    }
}

/// A `?format=` value other than `original` and `pcm16`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown audio format {0:?}: expected original or pcm16")]
pub struct UnknownAudioFormat(pub String);

impl FromStr for AudioFormat {
    type Err = UnknownAudioFormat;

    fn from_str(s: &str) -> Result<AudioFormat, UnknownAudioFormat> {
        match s {
            "original" => Ok(AudioFormat::Original),
            "pcm16" => Ok(AudioFormat::Pcm16),
            other => Err(UnknownAudioFormat(other.to_owned())),
        }
    }
}

/// The recording file to serve, as the route handler resolved it.
#[derive(Debug, Clone)]
pub struct AudioSource {
    /// The WAV file (a path built by the server, never by a client).
    pub path: PathBuf,
    /// Hex SHA-256 of the finished file; empty while the recording is in progress.
    pub sha256: String,
    /// Download name, e.g. `20261126-101500-42_001.wav`.
    pub file_name: String,
}

/// Answers a `GET` or `HEAD` for `src` in `format`, honouring conditional and range
/// headers. Any method other than `HEAD` is answered like `GET`.
///
/// Errors are I/O errors opening or reading the file; a stored file that is not a WAV the
/// transcoder understands is [`io::ErrorKind::InvalidData`] (only for `Pcm16`). Once the
/// body is streaming, a read error aborts the response instead of sending short content.
pub async fn respond(
    src: &AudioSource,
    format: AudioFormat,
    download: bool,
    method: &Method,
    headers: &HeaderMap,
) -> io::Result<Response> {
    respond_in_chunks(src, format, download, method, headers, CHUNK_BYTES).await
}

/// [`respond`] with a chosen chunk size, so tests can cross chunk boundaries cheaply.
async fn respond_in_chunks(
    src: &AudioSource,
    format: AudioFormat,
    download: bool,
    method: &Method,
    headers: &HeaderMap,
    chunk: usize,
) -> io::Result<Response> {
    let mut file = File::open(&src.path).await?;
    let rep = Representation::open(&mut file, src, format).await?;

    let mut common = HeaderMap::new();
    common.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    common.insert(header::CACHE_CONTROL, HeaderValue::from_static("private"));
    common.insert(header::ETAG, header_value(rep.etag.quoted())?);
    if let Some(lm) = rep.last_modified {
        common.insert(header::LAST_MODIFIED, header_value(http_date(lm))?);
    }

    match preconditions(headers, &rep) {
        Precondition::Proceed => {}
        Precondition::NotModified => return Ok(empty(StatusCode::NOT_MODIFIED, common)),
        Precondition::Failed => return Ok(empty(StatusCode::PRECONDITION_FAILED, common)),
    }

    if download {
        common.insert(
            header::CONTENT_DISPOSITION,
            header_value(format!(
                "attachment; filename=\"{}\"",
                download_name(&src.file_name, format)
            ))?,
        );
    }

    let ranges = if if_range_allows(headers, &rep) {
        requested_ranges(headers, rep.len)
    } else {
        RangeRequest::Full
    };
    let head_only = method == Method::HEAD;
    let wav = HeaderValue::from_static("audio/wav");
    match ranges {
        RangeRequest::Full => {
            let mut headers = common;
            headers.insert(header::CONTENT_TYPE, wav);
            headers.insert(header::CONTENT_LENGTH, HeaderValue::from(rep.len));
            let parts = vec![Part {
                head: None,
                range: 0..rep.len,
            }];
            Ok(with_body(
                StatusCode::OK,
                headers,
                head_only,
                file,
                rep,
                parts,
                None,
                chunk,
            ))
        }
        RangeRequest::Unsatisfiable => {
            let mut headers = common;
            headers.insert(header::CONTENT_RANGE, header_value(format!("bytes */{}", rep.len))?);
            headers.insert(header::CONTENT_LENGTH, HeaderValue::from(0u64));
            Ok(empty(StatusCode::RANGE_NOT_SATISFIABLE, headers))
        }
        RangeRequest::Ranges(ranges) if ranges.len() == 1 => {
            let range = ranges[0].clone();
            let mut headers = common;
            headers.insert(header::CONTENT_TYPE, wav);
            headers.insert(header::CONTENT_RANGE, header_value(content_range(&range, rep.len))?);
            headers.insert(header::CONTENT_LENGTH, HeaderValue::from(range.end - range.start));
            let parts = vec![Part { head: None, range }];
            Ok(with_body(
                StatusCode::PARTIAL_CONTENT,
                headers,
                head_only,
                file,
                rep,
                parts,
                None,
                chunk,
            ))
        }
        RangeRequest::Ranges(ranges) => {
            let boundary = format!("callrec-{:016x}{:016x}", rand::random::<u64>(), rand::random::<u64>());
            let parts: Vec<Part> = ranges
                .into_iter()
                .map(|range| Part {
                    head: Some(Bytes::from(format!(
                        "\r\n--{boundary}\r\nContent-Type: audio/wav\r\nContent-Range: {}\r\n\r\n",
                        content_range(&range, rep.len)
                    ))),
                    range,
                })
                .collect();
            let trailer = Bytes::from(format!("\r\n--{boundary}--\r\n"));
            let len = parts
                .iter()
                .map(|p| p.head.as_ref().map_or(0, |h| h.len() as u64) + (p.range.end - p.range.start))
                .sum::<u64>()
                + trailer.len() as u64;
            let mut headers = common;
            headers.insert(
                header::CONTENT_TYPE,
                header_value(format!("multipart/byteranges; boundary={boundary}"))?,
            );
            headers.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
            Ok(with_body(
                StatusCode::PARTIAL_CONTENT,
                headers,
                head_only,
                file,
                rep,
                parts,
                Some(trailer),
                chunk,
            ))
        }
    }
}

/// What is served for one request: its length, how its bytes are made, its validators.
struct Representation {
    len: u64,
    transcoder: Option<Pcm16Transcoder>,
    etag: ETag,
    last_modified: Option<SystemTime>,
    /// The SHA-256 is known, so the file no longer changes.
    finished: bool,
}

impl Representation {
    async fn open(file: &mut File, src: &AudioSource, format: AudioFormat) -> io::Result<Representation> {
        let transcoder = match format {
            AudioFormat::Original => None,
            AudioFormat::Pcm16 => {
                // The header before the length: a recording in progress appends audio and
                // then patches the header, so the file is at least as long as it says.
                let mut head = Vec::new();
                (&mut *file).take(MAX_HEADER_LEN as u64).read_to_end(&mut head).await?;
                let file_len = file.metadata().await?.len();
                let info = WavInfo::parse_with_file_len(&head, file_len)
                    .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
                if info.codec == Codec::Pcm16 {
                    None
                } else {
                    Some(Pcm16Transcoder::new(&info).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?)
                }
            }
        };
        let meta = file.metadata().await?;
        let len = transcoder.as_ref().map_or(meta.len(), Pcm16Transcoder::output_len);
        // A modification time in the future (clock skew) would make the date useless for
        // If-Modified-Since; RFC 9110 §8.8.2.1 says to send the current time instead.
        let last_modified = meta.modified().ok().map(|m| m.min(SystemTime::now()));
        let rendition = if transcoder.is_some() { PCM16_RENDITION } else { "orig" };
        let finished = is_sha256_hex(&src.sha256);
        let etag = if finished {
            ETag(format!("{}-{rendition}", src.sha256.to_ascii_lowercase()))
        } else {
            let since = meta
                .modified()
                .ok()
                .and_then(|m| m.duration_since(UNIX_EPOCH).ok())
                .unwrap_or(Duration::ZERO);
            ETag(format!(
                "{:x}-{:x}.{:x}-{rendition}",
                meta.len(),
                since.as_secs(),
                since.subsec_nanos()
            ))
        };
        Ok(Representation {
            len,
            transcoder,
            etag,
            last_modified,
            finished,
        })
    }
}

fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// A strong entity tag's opaque value, without quotes.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ETag(String);

impl ETag {
    fn quoted(&self) -> String {
        format!("\"{}\"", self.0)
    }
}

/// One entity tag from a request header.
#[derive(Debug, PartialEq, Eq)]
struct RequestTag<'a> {
    weak: bool,
    opaque: &'a str,
}

/// The tags of an `If-Match` / `If-None-Match` value: `None` for `*`, `Some(tags)`
/// otherwise; a malformed list yields the tags before the error (RFC 9110 §8.8.3).
fn parse_etag_list(value: &str) -> Option<Vec<RequestTag<'_>>> {
    if value.trim() == "*" {
        return None;
    }
    let mut tags = Vec::new();
    let mut rest = value;
    loop {
        rest = rest.trim_start_matches([' ', '\t', ',']);
        if rest.is_empty() {
            break;
        }
        let weak = rest.starts_with("W/");
        if weak {
            rest = &rest[2..];
        }
        let Some(body) = rest.strip_prefix('"') else { break };
        let Some(end) = body.find('"') else { break };
        tags.push(RequestTag {
            weak,
            opaque: &body[..end],
        });
        rest = &body[end + 1..];
    }
    Some(tags)
}

/// Whether any of the header's lines lists `etag` (weak comparison when `weak_ok`).
fn etag_list_matches(values: &[&str], etag: &ETag, weak_ok: bool) -> bool {
    values.iter().any(|v| match parse_etag_list(v) {
        None => true,
        Some(tags) => tags.iter().any(|t| t.opaque == etag.0 && (weak_ok || !t.weak)),
    })
}

#[derive(Debug, PartialEq, Eq)]
enum Precondition {
    Proceed,
    NotModified,
    Failed,
}

/// RFC 9110 §13.2.2, steps 1 to 4 (the order matters: If-Match before If-None-Match, and
/// a date is only consulted when no tag header is present).
fn preconditions(headers: &HeaderMap, rep: &Representation) -> Precondition {
    let lines = |name: HeaderName| -> Option<Vec<&str>> {
        let v: Vec<&str> = headers.get_all(name).iter().filter_map(|v| v.to_str().ok()).collect();
        (!v.is_empty()).then_some(v)
    };
    let date = |name: HeaderName| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_http_date)
    };
    if let Some(values) = lines(header::IF_MATCH) {
        if !etag_list_matches(&values, &rep.etag, false) {
            return Precondition::Failed;
        }
    } else if let (Some(since), Some(lm)) = (date(header::IF_UNMODIFIED_SINCE), rep.last_modified) {
        if whole_seconds(lm) > since {
            return Precondition::Failed;
        }
    }
    if let Some(values) = lines(header::IF_NONE_MATCH) {
        if etag_list_matches(&values, &rep.etag, true) {
            return Precondition::NotModified;
        }
    } else if let (true, Some(since), Some(lm)) = (rep.finished, date(header::IF_MODIFIED_SINCE), rep.last_modified) {
        if whole_seconds(lm) <= since {
            return Precondition::NotModified;
        }
    }
    Precondition::Proceed
}

/// RFC 9110 §13.1.5: a Range applies only if `If-Range` is absent or names the current
/// representation (a strong tag match, or exactly its `Last-Modified` date once finished).
fn if_range_allows(headers: &HeaderMap, rep: &Representation) -> bool {
    let mut values = headers.get_all(header::IF_RANGE).iter();
    let Some(value) = values.next() else { return true };
    if values.next().is_some() {
        return false;
    }
    let Ok(value) = value.to_str() else { return false };
    let value = value.trim();
    if value.starts_with('"') || value.starts_with("W/") {
        return matches!(
            parse_etag_list(value).as_deref(),
            Some([RequestTag { weak: false, opaque }]) if *opaque == rep.etag.0
        );
    }
    // A date is a weak validator for a file that may still change within its second
    // (RFC 9110 §8.8.2.2), so it only matches once the recording is finished.
    match (rep.finished, parse_http_date(value), rep.last_modified) {
        (true, Some(date), Some(lm)) => whole_seconds(lm) == date,
        _ => false,
    }
}

/// The outcome of a `Range` header for a representation of known length.
#[derive(Debug, Clone, PartialEq, Eq)]
enum RangeRequest {
    /// No usable `Range`: send everything with 200.
    Full,
    /// 416 with `Content-Range: bytes */len`.
    Unsatisfiable,
    /// 206 with these half-open byte ranges, in request order, all within the length.
    Ranges(Vec<Range<u64>>),
}

/// One `range-spec` of RFC 9110 §14.1.1, before the length is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RangeSpec {
    /// `first-` or `first-last` (inclusive).
    From { first: u64, last: Option<u64> },
    /// `-n`: the last `n` bytes.
    Suffix(u64),
}

/// Why a `Range` value is not used as ranges.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RangeSyntax {
    /// Not `bytes=` followed by valid specs: ignore the header.
    Malformed,
    /// More than [`MAX_RANGES`] specs: refuse with 416.
    TooMany,
}

/// Parses `bytes=spec, spec, …` (unit case-insensitive, OWS around list elements, empty
/// elements skipped as RFC 9110 §5.6.1 asks).
fn parse_range_specs(value: &str) -> Result<Vec<RangeSpec>, RangeSyntax> {
    let (unit, set) = value.trim().split_once('=').ok_or(RangeSyntax::Malformed)?;
    if !unit.eq_ignore_ascii_case("bytes") {
        return Err(RangeSyntax::Malformed);
    }
    // Digits only: u64::from_str would accept a leading '+'.
    let number = |s: &str| -> Result<u64, RangeSyntax> {
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(RangeSyntax::Malformed);
        }
        s.parse().map_err(|_| RangeSyntax::Malformed)
    };
    let mut specs = Vec::new();
    for element in set.split(',').map(|e| e.trim_matches([' ', '\t'])) {
        if element.is_empty() {
            continue;
        }
        if specs.len() == MAX_RANGES {
            return Err(RangeSyntax::TooMany);
        }
        let (first, last) = element.split_once('-').ok_or(RangeSyntax::Malformed)?;
        let spec = if first.is_empty() {
            RangeSpec::Suffix(number(last)?)
        } else {
            let first = number(first)?;
            let last = if last.is_empty() { None } else { Some(number(last)?) };
            if last.is_some_and(|l| l < first) {
                return Err(RangeSyntax::Malformed);
            }
            RangeSpec::From { first, last }
        };
        specs.push(spec);
    }
    if specs.is_empty() {
        return Err(RangeSyntax::Malformed);
    }
    Ok(specs)
}

/// Resolves specs against a length: drops unsatisfiable ones (RFC 9110 §14.1.1), clamps
/// the rest, and answers 200 when honouring them would send more than the whole file.
fn resolve_ranges(specs: &[RangeSpec], len: u64) -> RangeRequest {
    if len == 0 {
        // RFC 9110 §14.2: a server MAY ignore Range for an empty representation.
        return RangeRequest::Full;
    }
    let ranges: Vec<Range<u64>> = specs
        .iter()
        .filter_map(|spec| match *spec {
            RangeSpec::From { first, .. } if first >= len => None,
            RangeSpec::From { first, last } => Some(first..last.map_or(len, |l| l.saturating_add(1).min(len))),
            RangeSpec::Suffix(0) => None,
            RangeSpec::Suffix(n) => Some(len.saturating_sub(n)..len),
        })
        .collect();
    if ranges.is_empty() {
        return RangeRequest::Unsatisfiable;
    }
    let total = ranges.iter().try_fold(0u64, |acc, r| acc.checked_add(r.end - r.start));
    if ranges.len() > 1 && total.is_none_or(|t| t > len) {
        return RangeRequest::Full;
    }
    RangeRequest::Ranges(ranges)
}

fn requested_ranges(headers: &HeaderMap, len: u64) -> RangeRequest {
    let mut values = headers.get_all(header::RANGE).iter();
    let (Some(value), None) = (values.next(), values.next()) else {
        return RangeRequest::Full;
    };
    let Ok(value) = value.to_str() else {
        return RangeRequest::Full;
    };
    match parse_range_specs(value) {
        Ok(specs) => resolve_ranges(&specs, len),
        Err(RangeSyntax::Malformed) => RangeRequest::Full,
        Err(RangeSyntax::TooMany) => RangeRequest::Unsatisfiable,
    }
}

fn content_range(range: &Range<u64>, len: u64) -> String {
    format!("bytes {}-{}/{len}", range.start, range.end - 1)
}

/// The `filename` of `Content-Disposition`: the server-built name, restricted to
/// characters that need no quoting or encoding in any browser.
fn download_name(file_name: &str, format: AudioFormat) -> String {
    let safe: String = file_name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let stem = match safe.len().checked_sub(4) {
        Some(i) if safe[i..].eq_ignore_ascii_case(".wav") => &safe[..i],
        _ => safe.as_str(),
    };
    let stem = if stem.trim_matches(['.', '_']).is_empty() {
        "recording"
    } else {
        stem
    };
    match format {
        AudioFormat::Original => format!("{stem}.wav"),
        AudioFormat::Pcm16 => format!("{stem}_pcm16.wav"),
    }
}

fn whole_seconds(t: SystemTime) -> i64 {
    DateTime::<Utc>::from(t).timestamp()
}

/// IMF-fixdate (RFC 9110 §5.6.7).
fn http_date(t: SystemTime) -> String {
    DateTime::<Utc>::from(t).format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

/// Seconds since the epoch of an HTTP-date in any of the three formats RFC 9110 §5.6.7
/// obliges recipients to accept.
fn parse_http_date(s: &str) -> Option<i64> {
    let s = s.trim();
    [
        "%a, %d %b %Y %H:%M:%S GMT",
        "%A, %d-%b-%y %H:%M:%S GMT",
        "%a %b %e %H:%M:%S %Y",
    ]
    .iter()
    .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
    .map(|t| t.and_utc().timestamp())
}

fn header_value(s: String) -> io::Result<HeaderValue> {
    HeaderValue::try_from(s).map_err(io::Error::other)
}

fn empty(status: StatusCode, headers: HeaderMap) -> Response {
    let mut response = Response::new(Body::empty());
    *response.status_mut() = status;
    *response.headers_mut() = headers;
    response
}

/// One part of the body: an optional multipart header, then bytes of the representation.
struct Part {
    head: Option<Bytes>,
    range: Range<u64>,
}

#[allow(clippy::too_many_arguments)] // one call site per status; a struct would only rename them
fn with_body(
    status: StatusCode,
    headers: HeaderMap,
    head_only: bool,
    file: File,
    rep: Representation,
    parts: Vec<Part>,
    trailer: Option<Bytes>,
    chunk: usize,
) -> Response {
    let body = if head_only {
        Body::empty()
    } else {
        Body::from_stream(body_stream(file, rep.transcoder, parts, trailer, chunk))
    };
    let mut response = Response::new(body);
    *response.status_mut() = status;
    *response.headers_mut() = headers;
    response
}

/// The body: each part's head, then its bytes read (and for PCM16 converted) `chunk` at a
/// time. A file shorter than planned ends the stream with an error, never with short data.
fn body_stream(
    mut file: File,
    transcoder: Option<Pcm16Transcoder>,
    parts: Vec<Part>,
    trailer: Option<Bytes>,
    chunk: usize,
) -> impl futures::Stream<Item = io::Result<Bytes>> + Send {
    async_stream::try_stream! {
        let mut source = Vec::new();
        for part in parts {
            if let Some(head) = part.head {
                yield head;
            }
            let want = part.range.end - part.range.start;
            match &transcoder {
                None => {
                    file.seek(SeekFrom::Start(part.range.start)).await?;
                    let mut sent = 0u64;
                    let mut bytes = ReaderStream::with_capacity((&mut file).take(want), chunk);
                    while let Some(bytes) = bytes.next().await {
                        let bytes = bytes?;
                        sent += bytes.len() as u64;
                        yield bytes;
                    }
                    if sent != want {
                        Err::<(), _>(io::Error::new(io::ErrorKind::UnexpectedEof, "recording shorter than its length"))?;
                    }
                }
                Some(t) => {
                    let mut pos = part.range.start;
                    while pos < part.range.end {
                        let n = usize::try_from(part.range.end - pos).map_or(chunk, |left| left.min(chunk));
                        let src = t.source_range(pos..pos + n as u64);
                        source.resize(usize::try_from(src.end - src.start).map_err(io::Error::other)?, 0);
                        if !source.is_empty() {
                            file.seek(SeekFrom::Start(src.start)).await?;
                            file.read_exact(&mut source).await?;
                        }
                        let mut out = BytesMut::zeroed(n);
                        let written = t.fill(pos, &source, &mut out);
                        if written != n {
                            Err::<(), _>(io::Error::new(io::ErrorKind::UnexpectedEof, "recording shorter than its length"))?;
                        }
                        pos += n as u64;
                        yield out.freeze();
                    }
                }
            }
        }
        if let Some(trailer) = trailer {
            yield trailer;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use callrec_media::g711::Law;
    use callrec_media::wav::wav_header;
    use proptest::prelude::*;

    fn specs(v: &str) -> Result<Vec<RangeSpec>, RangeSyntax> {
        parse_range_specs(v)
    }

    fn one(range: Range<u64>) -> RangeRequest {
        RangeRequest::Ranges(vec![range])
    }

    fn ranges(v: &str, len: u64) -> RangeRequest {
        match parse_range_specs(v) {
            Ok(s) => resolve_ranges(&s, len),
            Err(RangeSyntax::Malformed) => RangeRequest::Full,
            Err(RangeSyntax::TooMany) => RangeRequest::Unsatisfiable,
        }
    }

    #[test]
    fn single_ranges_resolve_to_half_open_byte_ranges() {
        assert_eq!(ranges("bytes=0-9", 100), one(0..10), "first-last");
        assert_eq!(ranges("bytes=90-", 100), one(90..100), "open end");
        assert_eq!(ranges("bytes=-10", 100), one(90..100), "suffix");
        assert_eq!(ranges("bytes=-500", 100), one(0..100), "long suffix is all");
        assert_eq!(ranges("bytes=50-500", 100), one(50..100), "last clamped");
        assert_eq!(ranges("bytes=99-99", 100), one(99..100), "last byte");
        assert_eq!(ranges("BYTES=0-0", 100), one(0..1), "unit case-insensitive");
        assert_eq!(ranges("bytes=0-18446744073709551615", 10), one(0..10), "u64::MAX last");
    }

    #[test]
    fn unsatisfiable_ranges_give_416() {
        assert_eq!(
            ranges("bytes=100-", 100),
            RangeRequest::Unsatisfiable,
            "start at length"
        );
        assert_eq!(
            ranges("bytes=200-300", 100),
            RangeRequest::Unsatisfiable,
            "past the end"
        );
        assert_eq!(ranges("bytes=-0", 100), RangeRequest::Unsatisfiable, "empty suffix");
        assert_eq!(
            ranges("bytes=0-1,200-300", 100),
            one(0..2),
            "one satisfiable range is enough"
        );
        assert_eq!(ranges("bytes=0-1", 0), RangeRequest::Full, "empty file ignores Range");
    }

    #[test]
    fn malformed_ranges_are_ignored() {
        for bad in [
            "bytes=5-2",
            "bytes=",
            "bytes=,",
            "bytes",
            "items=0-1",
            "bytes=a-b",
            "bytes=+1-2",
            "bytes=1-+2",
            "bytes=--1",
            "bytes=1",
            "bytes=0-1;2-3",
            "bytes=1 -2",
            "bytes=99999999999999999999-",
            "bytes=0-99999999999999999999",
            "bytes=-99999999999999999999",
            "bytes=0-1,5-2",
        ] {
            assert_eq!(specs(bad).err(), Some(RangeSyntax::Malformed), "{bad:?} is malformed");
            assert_eq!(ranges(bad, 100), RangeRequest::Full, "{bad:?} is ignored");
        }
    }

    #[test]
    fn whitespace_and_empty_list_elements_are_tolerated() {
        assert_eq!(
            ranges(" bytes= 0-1 ,\t, 4-5 , ", 100),
            RangeRequest::Ranges(vec![0..2, 4..6]),
            "OWS around elements and empty elements"
        );
    }

    #[test]
    fn at_most_sixteen_ranges() {
        let sixteen: Vec<String> = (0..16).map(|i| format!("{i}-{i}")).collect();
        let want: Vec<Range<u64>> = (0..16).map(|i| i..i + 1).collect();
        assert_eq!(
            ranges(&format!("bytes={}", sixteen.join(",")), 100),
            RangeRequest::Ranges(want),
            "16 ok"
        );
        let seventeen = format!("bytes={},16-16", sixteen.join(","));
        assert_eq!(specs(&seventeen).err(), Some(RangeSyntax::TooMany), "17 too many");
        assert_eq!(
            ranges(&seventeen, 100),
            RangeRequest::Unsatisfiable,
            "17 refused with 416"
        );
        let many = format!("bytes={}", vec!["0-0"; 10_000].join(","));
        assert_eq!(specs(&many).err(), Some(RangeSyntax::TooMany), "parsing stops early");
    }

    #[test]
    fn overlapping_ranges_larger_than_the_file_are_ignored() {
        assert_eq!(ranges("bytes=0-,0-", 100), RangeRequest::Full, "the file twice");
        assert_eq!(
            ranges("bytes=0-49,25-74", 100),
            RangeRequest::Ranges(vec![0..50, 25..75]),
            "small overlap kept"
        );
        assert_eq!(ranges("bytes=-100", 100), one(0..100), "single whole range");
    }

    fn rep(etag: &str, lm_secs: u64, finished: bool) -> Representation {
        Representation {
            len: 10,
            transcoder: None,
            etag: ETag(etag.into()),
            last_modified: Some(UNIX_EPOCH + Duration::from_secs(lm_secs)),
            finished,
        }
    }

    fn headers(pairs: &[(HeaderName, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(k.clone(), HeaderValue::from_str(v).expect("test header"));
        }
        h
    }

    const T: u64 = 784_111_777; // Sun, 06 Nov 1994 08:49:37 GMT

    #[test]
    fn http_dates_round_trip_in_all_three_formats() {
        let t = UNIX_EPOCH + Duration::from_secs(T);
        assert_eq!(http_date(t), "Sun, 06 Nov 1994 08:49:37 GMT");
        for s in [
            "Sun, 06 Nov 1994 08:49:37 GMT",
            "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun Nov  6 08:49:37 1994",
        ] {
            assert_eq!(parse_http_date(s), Some(T as i64), "{s}");
        }
        assert_eq!(parse_http_date("yesterday"), None, "garbage");
    }

    #[test]
    fn if_none_match_uses_weak_comparison_and_star() {
        let r = rep("abc-orig", T, true);
        let check = |v: &str| preconditions(&headers(&[(header::IF_NONE_MATCH, v)]), &r);
        assert_eq!(check("\"abc-orig\""), Precondition::NotModified, "exact");
        assert_eq!(check("W/\"abc-orig\""), Precondition::NotModified, "weak matches too");
        assert_eq!(check("\"x\", \"abc-orig\""), Precondition::NotModified, "in a list");
        assert_eq!(check("*"), Precondition::NotModified, "star");
        assert_eq!(check("\"abc-pcm16v1\""), Precondition::Proceed, "other rendition");
        assert_eq!(check("abc-orig"), Precondition::Proceed, "unquoted is malformed");
        let both = headers(&[
            (header::IF_NONE_MATCH, "\"other\""),
            (header::IF_MODIFIED_SINCE, "Sun, 06 Nov 1994 08:49:37 GMT"),
        ]);
        assert_eq!(
            preconditions(&both, &r),
            Precondition::Proceed,
            "If-None-Match overrides the date"
        );
    }

    #[test]
    fn if_modified_since_only_for_finished_recordings() {
        let ims = headers(&[(header::IF_MODIFIED_SINCE, "Sun, 06 Nov 1994 08:49:37 GMT")]);
        assert_eq!(
            preconditions(&ims, &rep("t", T, true)),
            Precondition::NotModified,
            "same second"
        );
        assert_eq!(
            preconditions(&ims, &rep("t", T + 1, true)),
            Precondition::Proceed,
            "newer"
        );
        assert_eq!(
            preconditions(&ims, &rep("t", T, false)),
            Precondition::Proceed,
            "in progress"
        );
    }

    #[test]
    fn if_match_uses_strong_comparison() {
        let r = rep("abc", T, true);
        let check = |v: &str| preconditions(&headers(&[(header::IF_MATCH, v)]), &r);
        assert_eq!(check("\"abc\""), Precondition::Proceed, "strong match");
        assert_eq!(check("W/\"abc\""), Precondition::Failed, "weak never matches");
        assert_eq!(check("*"), Precondition::Proceed, "star");
        assert_eq!(check("\"zzz\""), Precondition::Failed, "other");
        let ius = headers(&[(header::IF_UNMODIFIED_SINCE, "Sun, 06 Nov 1994 08:49:36 GMT")]);
        assert_eq!(preconditions(&ius, &r), Precondition::Failed, "modified since");
    }

    #[test]
    fn if_range_needs_a_strong_tag_or_the_exact_date() {
        let r = rep("abc", T, true);
        let check = |v: &str| if_range_allows(&headers(&[(header::IF_RANGE, v)]), &r);
        assert!(if_range_allows(&HeaderMap::new(), &r), "absent");
        assert!(check("\"abc\""), "same tag");
        assert!(!check("W/\"abc\""), "weak tag");
        assert!(!check("\"old\""), "other tag");
        assert!(!check("\"abc\", \"x\""), "a list is not an If-Range value");
        assert!(check("Sun, 06 Nov 1994 08:49:37 GMT"), "same date");
        assert!(!check("Sun, 06 Nov 1994 08:49:38 GMT"), "later date");
        assert!(!check("Sun, 06 Nov 1994 08:49:36 GMT"), "earlier date");
        assert!(!check("garbage"), "garbage");
        let unfinished = rep("abc", T, false);
        let date = headers(&[(header::IF_RANGE, "Sun, 06 Nov 1994 08:49:37 GMT")]);
        assert!(
            !if_range_allows(&date, &unfinished),
            "a date cannot validate a growing file"
        );
    }

    #[test]
    fn download_names_are_safe_and_mark_pcm16() {
        assert_eq!(
            download_name("20261126-101500-42_001.wav", AudioFormat::Original),
            "20261126-101500-42_001.wav"
        );
        assert_eq!(
            download_name("20261126-101500-42_001.wav", AudioFormat::Pcm16),
            "20261126-101500-42_001_pcm16.wav"
        );
        assert_eq!(
            download_name("a\"b\r\n.WAV", AudioFormat::Original),
            "a_b__.wav",
            "quotes and CR/LF replaced"
        );
        assert_eq!(
            download_name("Müller", AudioFormat::Pcm16),
            "M_ller_pcm16.wav",
            "non-ASCII replaced"
        );
        assert_eq!(download_name("", AudioFormat::Original), "recording.wav", "empty");
        assert_eq!("pcm16".parse::<AudioFormat>(), Ok(AudioFormat::Pcm16));
        assert!("mp3".parse::<AudioFormat>().is_err(), "unknown format");
    }

    /// A G.711 WAV on disk and its full PCM16 conversion, computed independently.
    fn g711_fixture(law: Law, channels: u16, data: &[u8]) -> (tempfile::TempDir, AudioSource, Vec<u8>, Vec<u8>) {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("rec.wav");
        let mut file = wav_header(law.into(), 8000, channels, data.len() as u32);
        file.extend_from_slice(data);
        std::fs::write(&path, &file).expect("write fixture");
        let mut pcm = wav_header(Codec::Pcm16, 8000, channels, 2 * data.len() as u32);
        for b in data {
            pcm.extend_from_slice(&law.decode(*b).to_le_bytes());
        }
        let src = AudioSource {
            path,
            sha256: String::new(),
            file_name: "rec.wav".into(),
        };
        (dir, src, file, pcm)
    }

    async fn fetch(
        src: &AudioSource,
        format: AudioFormat,
        h: &HeaderMap,
        chunk: usize,
    ) -> (StatusCode, HeaderMap, Vec<u8>) {
        let r = respond_in_chunks(src, format, false, &Method::GET, h, chunk)
            .await
            .expect("respond");
        let (parts, body) = r.into_parts();
        let body = axum::body::to_bytes(body, usize::MAX).await.expect("body");
        (parts.status, parts.headers, body.to_vec())
    }

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn pcm16_ranges_equal_slices_of_the_full_conversion(
            data in proptest::collection::vec(any::<u8>(), 0..600),
            stereo in any::<bool>(),
            alaw in any::<bool>(),
            a in 0u64..1400,
            span in 1u64..1400,
            chunk in 1usize..200,
        ) {
            let channels = if stereo { 2 } else { 1 };
            let mut data = data;
            data.truncate(data.len() - data.len() % usize::from(channels));
            let law = if alaw { Law::Alaw } else { Law::Ulaw };
            let (_dir, src, _file, pcm) = g711_fixture(law, channels, &data);
            let len = pcm.len() as u64;
            let rt = runtime();

            let (status, h, body) = rt.block_on(fetch(&src, AudioFormat::Pcm16, &HeaderMap::new(), chunk));
            prop_assert_eq!(status, StatusCode::OK);
            let want_len = len.to_string();
            prop_assert_eq!(h.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()), Some(want_len.as_str()));
            prop_assert_eq!(&body, &pcm, "whole file");

            let last = a + span - 1;
            let range = headers(&[(header::RANGE, &format!("bytes={a}-{last}"))]);
            let (status, h, body) = rt.block_on(fetch(&src, AudioFormat::Pcm16, &range, chunk));
            if a >= len {
                prop_assert_eq!(status, StatusCode::RANGE_NOT_SATISFIABLE);
                let want = format!("bytes */{len}");
                prop_assert_eq!(h.get(header::CONTENT_RANGE).and_then(|v| v.to_str().ok()), Some(want.as_str()));
            } else {
                let end = (last + 1).min(len);
                prop_assert_eq!(status, StatusCode::PARTIAL_CONTENT);
                let want = format!("bytes {a}-{}/{len}", end - 1);
                prop_assert_eq!(h.get(header::CONTENT_RANGE).and_then(|v| v.to_str().ok()), Some(want.as_str()));
                prop_assert_eq!(&body[..], &pcm[a as usize..end as usize], "range {}-{}", a, last);
            }
        }
    }

    #[tokio::test]
    async fn multipart_byteranges_carry_each_range() {
        let data: Vec<u8> = (0..=255).collect();
        let (_dir, src, file, _) = g711_fixture(Law::Ulaw, 2, &data);
        let len = file.len();
        let h = headers(&[(header::RANGE, "bytes=0-3, -4")]);
        let (status, h, body) = fetch(&src, AudioFormat::Original, &h, 3).await;
        assert_eq!(status, StatusCode::PARTIAL_CONTENT, "206");
        let ct = h
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .expect("content type");
        let boundary = ct.strip_prefix("multipart/byteranges; boundary=").expect("multipart");
        let mut want = Vec::new();
        for (a, b) in [(0, 4), (len - 4, len)] {
            want.extend_from_slice(
                format!(
                    "\r\n--{boundary}\r\nContent-Type: audio/wav\r\nContent-Range: bytes {a}-{}/{len}\r\n\r\n",
                    b - 1
                )
                .as_bytes(),
            );
            want.extend_from_slice(&file[a..b]);
        }
        want.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        assert_eq!(body, want, "multipart body");
        assert_eq!(
            h.get(header::CONTENT_LENGTH),
            Some(&HeaderValue::from(want.len())),
            "exact length"
        );
    }

    #[tokio::test]
    async fn head_sends_the_get_headers_without_a_body() {
        let (_dir, src, file, _) = g711_fixture(Law::Alaw, 1, &[1, 2, 3, 4]);
        let h = headers(&[(header::RANGE, "bytes=2-")]);
        let r = respond(&src, AudioFormat::Original, true, &Method::HEAD, &h)
            .await
            .expect("respond");
        assert_eq!(r.status(), StatusCode::PARTIAL_CONTENT, "HEAD honours Range like GET");
        let want = (file.len() - 2).to_string();
        let h = r.headers().clone();
        assert_eq!(
            h.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()),
            Some(want.as_str())
        );
        assert_eq!(h.get(header::ACCEPT_RANGES), Some(&HeaderValue::from_static("bytes")));
        assert_eq!(h.get(header::CACHE_CONTROL), Some(&HeaderValue::from_static("private")));
        assert_eq!(
            h.get(header::CONTENT_DISPOSITION),
            Some(&HeaderValue::from_static("attachment; filename=\"rec.wav\"")),
        );
        assert!(h.contains_key(header::LAST_MODIFIED), "Last-Modified");
        let body = axum::body::to_bytes(r.into_body(), usize::MAX).await.expect("body");
        assert!(body.is_empty(), "no body");
    }

    #[tokio::test]
    async fn etags_follow_sha256_and_rendition_and_revalidate() {
        let (_dir, mut src, file, _) = g711_fixture(Law::Ulaw, 1, &[9, 8, 7, 6]);
        let (_, h, _) = fetch(&src, AudioFormat::Original, &HeaderMap::new(), 64).await;
        let unfinished = h.get(header::ETAG).cloned().expect("etag");
        assert!(
            unfinished
                .to_str()
                .expect("ascii")
                .starts_with(&format!("\"{:x}-", file.len())),
            "size+mtime tag"
        );

        src.sha256 = "AB".repeat(32);
        let (_, h, _) = fetch(&src, AudioFormat::Original, &HeaderMap::new(), 64).await;
        let orig = h.get(header::ETAG).cloned().expect("etag");
        assert_eq!(
            orig,
            HeaderValue::from_str(&format!("\"{}-orig\"", "ab".repeat(32))).expect("tag")
        );
        let (_, h, _) = fetch(&src, AudioFormat::Pcm16, &HeaderMap::new(), 64).await;
        let pcm = h.get(header::ETAG).cloned().expect("etag");
        assert_ne!(orig, pcm, "renditions have different tags");

        let inm = headers(&[(header::IF_NONE_MATCH, orig.to_str().expect("ascii"))]);
        let (status, h, body) = fetch(&src, AudioFormat::Original, &inm, 64).await;
        assert_eq!(status, StatusCode::NOT_MODIFIED, "revalidated");
        assert!(
            body.is_empty() && h.contains_key(header::ETAG),
            "304 carries the tag, no body"
        );

        // If-Range with a stale tag: the whole file, not the range.
        let stale = headers(&[(header::RANGE, "bytes=0-1"), (header::IF_RANGE, "\"stale\"")]);
        let (status, _, body) = fetch(&src, AudioFormat::Original, &stale, 64).await;
        assert_eq!(
            (status, body),
            (StatusCode::OK, file.clone()),
            "stale If-Range sends everything"
        );
        let fresh = headers(&[
            (header::RANGE, "bytes=0-1"),
            (header::IF_RANGE, pcm.to_str().expect("ascii")),
        ]);
        let (status, _, body) = fetch(&src, AudioFormat::Pcm16, &fresh, 64).await;
        assert_eq!(
            (status, body.len()),
            (StatusCode::PARTIAL_CONTENT, 2),
            "matching If-Range honours Range"
        );
    }

    #[tokio::test]
    async fn pcm16_of_a_pcm16_file_is_the_original() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("pcm.wav");
        let mut file = wav_header(Codec::Pcm16, 8000, 1, 4);
        file.extend_from_slice(&[1, 0, 2, 0]);
        std::fs::write(&path, &file).expect("write");
        let src = AudioSource {
            path,
            sha256: String::new(),
            file_name: "x.wav".into(),
        };
        let (status, h1, body) = fetch(&src, AudioFormat::Pcm16, &HeaderMap::new(), 64).await;
        assert_eq!((status, body), (StatusCode::OK, file), "served as stored");
        let (_, h2, _) = fetch(&src, AudioFormat::Original, &HeaderMap::new(), 64).await;
        assert_eq!(h1.get(header::ETAG), h2.get(header::ETAG), "same bytes, same tag");
    }

    #[tokio::test]
    async fn a_file_that_is_not_a_wav_is_invalid_data_for_pcm16() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("junk.wav");
        std::fs::write(&path, b"not a wav file at all").expect("write");
        let src = AudioSource {
            path,
            sha256: String::new(),
            file_name: "x.wav".into(),
        };
        let err = respond(&src, AudioFormat::Pcm16, false, &Method::GET, &HeaderMap::new())
            .await
            .expect_err("refused");
        assert_eq!(err.kind(), io::ErrorKind::InvalidData, "invalid data");
        let (status, _, _) = fetch(&src, AudioFormat::Original, &HeaderMap::new(), 64).await;
        assert_eq!(status, StatusCode::OK, "the original is served as it is");
    }
}
