//! A sans-I/O parser for server-sent events (WHATWG HTML §9.2.6 "Interpreting an event
//! stream") and the stream of typed [`Event`]s built on it for `GET /api/v1/events`.
//!
//! The parser takes bytes in whatever chunks the network delivers and yields whole frames.
//! Lines end with CRLF, LF or CR (a CRLF split across two chunks counts once); a line longer
//! than [`MAX_LINE`] or a frame whose data exceeds [`MAX_DATA`] is an error rather than
//! unbounded buffering.

use crate::error::ClientError;
use callrec_types::wire::Event;
use futures::stream::BoxStream;
use futures::StreamExt;
use std::collections::VecDeque;

/// The longest line accepted, terminator excluded.
pub const MAX_LINE: usize = 1024 * 1024;
/// The most data one frame may accumulate over its `data:` lines.
pub const MAX_DATA: usize = 4 * 1024 * 1024;

/// A framing error in the event stream.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SseError {
    #[error("a line is longer than {MAX_LINE} bytes")]
    LineTooLong,
    #[error("an event's data is longer than {MAX_DATA} bytes")]
    DataTooLong,
    /// Nothing arrived — not even a keep-alive — for this many seconds: the server or the
    /// path to it is dead even if TCP has not noticed.
    #[error("the server sent nothing for {0} seconds")]
    Silent(u64),
}

/// One dispatched frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseFrame {
    /// The `event:` field, `message` when the frame had none (per the spec).
    pub event: String,
    /// The `data:` lines joined with `\n`.
    pub data: String,
    /// The last event id seen so far on this stream (ids persist across frames).
    pub id: Option<String>,
    /// A `retry:` reconnection delay in milliseconds, if this frame carried one.
    pub retry: Option<u64>,
}

/// The incremental parser. Feed it with [`SseParser::push`]; at end of stream a frame that
/// was not closed by a blank line is discarded, as the spec requires.
#[derive(Debug, Default)]
pub struct SseParser {
    line: Vec<u8>,
    /// The previous chunk ended in CR: a leading LF of the next chunk belongs to it.
    skip_lf: bool,
    /// The optional UTF-8 BOM at the very start has been dealt with.
    started: bool,
    event: Option<String>,
    data: String,
    has_data: bool,
    retry: Option<u64>,
    last_id: Option<String>,
}

impl SseParser {
    pub fn new() -> Self {
        Self::default()
    }

    /// Consumes a chunk, appending every frame it completes to `out`.
    pub fn push(&mut self, mut chunk: &[u8], out: &mut Vec<SseFrame>) -> Result<(), SseError> {
        if !self.started {
            // The BOM may itself arrive split; wait until we can tell.
            let pending = [self.line.as_slice(), chunk].concat();
            if pending.len() < 3 && b"\xEF\xBB\xBF".starts_with(&pending) {
                self.line = pending;
                return Ok(());
            }
            self.started = true;
            let rest = pending.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&pending).to_vec();
            self.line.clear();
            return self.push(&rest, out);
        }
        // An empty chunk must not use up the pending CR: the LF may still be on its way.
        if self.skip_lf && !chunk.is_empty() {
            if let Some(rest) = chunk.strip_prefix(b"\n") {
                chunk = rest;
            }
            self.skip_lf = false;
        }
        while let Some(end) = chunk.iter().position(|&b| b == b'\n' || b == b'\r') {
            self.extend_line(&chunk[..end])?;
            let line = std::mem::take(&mut self.line);
            self.process_line(&line, out)?;
            if chunk[end] == b'\r' {
                match chunk.get(end + 1) {
                    Some(b'\n') => chunk = &chunk[end + 2..],
                    Some(_) => chunk = &chunk[end + 1..],
                    None => {
                        self.skip_lf = true;
                        chunk = &[];
                    }
                }
            } else {
                chunk = &chunk[end + 1..];
            }
        }
        self.extend_line(chunk)
    }

    fn extend_line(&mut self, bytes: &[u8]) -> Result<(), SseError> {
        if self.line.len() + bytes.len() > MAX_LINE {
            return Err(SseError::LineTooLong);
        }
        self.line.extend_from_slice(bytes);
        Ok(())
    }

    fn process_line(&mut self, line: &[u8], out: &mut Vec<SseFrame>) -> Result<(), SseError> {
        if line.is_empty() {
            self.dispatch(out);
            return Ok(());
        }
        if line[0] == b':' {
            return Ok(()); // a comment: the server's keep-alive
        }
        let line = String::from_utf8_lossy(line);
        let (field, value) = match line.split_once(':') {
            Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
            None => (line.as_ref(), ""),
        };
        match field {
            "event" => self.event = Some(value.to_string()),
            "data" => {
                if self.data.len() + value.len() + 1 > MAX_DATA {
                    return Err(SseError::DataTooLong);
                }
                if self.has_data {
                    self.data.push('\n');
                }
                self.data.push_str(value);
                self.has_data = true;
            }
            "id" if !value.contains('\0') => self.last_id = Some(value.to_string()),
            "retry" if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) => {
                self.retry = value.parse().ok();
            }
            _ => {} // unknown fields are ignored
        }
        Ok(())
    }

    fn dispatch(&mut self, out: &mut Vec<SseFrame>) {
        let event = self.event.take();
        let retry = self.retry.take();
        if !self.has_data {
            // The spec drops frames without data (a lone `retry:` still took effect above).
            return;
        }
        self.has_data = false;
        out.push(SseFrame {
            event: event.unwrap_or_else(|| "message".to_string()),
            data: std::mem::take(&mut self.data),
            id: self.last_id.clone(),
            retry,
        });
    }
}

/// The event names `GET /api/v1/events` sends; others are skipped so that a newer server can
/// add events without breaking an older client.
const EVENT_NAMES: [&str; 6] = ["call", "call_ended", "recording", "alarm", "journal", "lagged"];

/// Rebuilds a [`Event`] from an SSE frame: the name selects the variant, the data is the
/// variant's payload JSON. `Ok(None)` for events this client does not know.
pub fn decode_event(frame: &SseFrame) -> Result<Option<Event>, ClientError> {
    if !EVENT_NAMES.contains(&frame.event.as_str()) {
        return Ok(None);
    }
    let data: serde_json::Value =
        serde_json::from_str(&frame.data).map_err(|e| ClientError::decode(200, e, frame.data.as_bytes()))?;
    let tagged = serde_json::json!({ "event": frame.event, "data": data });
    serde_json::from_value(tagged)
        .map(Some)
        .map_err(|e| ClientError::decode(200, e, frame.data.as_bytes()))
}

/// The typed event stream of an open `text/event-stream` response. It ends when the server
/// closes the stream; a transport or framing error is yielded once and ends it too.
pub type EventStream = BoxStream<'static, Result<Event, ClientError>>;

/// The server sends a keep-alive comment at least every 15 s: an event stream silent for
/// this long is treated as broken ([`SseError::Silent`]).
pub const MAX_SILENCE: std::time::Duration = std::time::Duration::from_secs(45);

pub(crate) fn event_stream(response: reqwest::Response, max_silence: Option<std::time::Duration>) -> EventStream {
    struct State {
        max_silence: Option<std::time::Duration>,
        body: BoxStream<'static, reqwest::Result<bytes::Bytes>>,
        parser: SseParser,
        ready: VecDeque<SseFrame>,
        /// An error to yield once the frames completed before it are out; then the end.
        failed: Option<ClientError>,
        done: bool,
    }
    let state = State {
        max_silence,
        body: response.bytes_stream().boxed(),
        parser: SseParser::new(),
        ready: VecDeque::new(),
        failed: None,
        done: false,
    };
    futures::stream::unfold(state, |mut st| async move {
        loop {
            while let Some(frame) = st.ready.pop_front() {
                match decode_event(&frame) {
                    Ok(Some(event)) => return Some((Ok(event), st)),
                    Ok(None) => continue,
                    Err(e) => return Some((Err(e), st)),
                }
            }
            if let Some(e) = st.failed.take() {
                return Some((Err(e), st));
            }
            if st.done {
                return None;
            }
            let next = match st.max_silence {
                Some(limit) => match tokio::time::timeout(limit, st.body.next()).await {
                    Ok(next) => next,
                    Err(_) => {
                        st.done = true;
                        st.failed = Some(ClientError::Sse(SseError::Silent(limit.as_secs())));
                        continue;
                    }
                },
                None => st.body.next().await,
            };
            match next {
                None => return None,
                Some(Err(e)) => {
                    st.done = true;
                    st.failed = Some(ClientError::Transport(e));
                }
                Some(Ok(chunk)) => {
                    let mut frames = Vec::new();
                    let pushed = st.parser.push(&chunk, &mut frames);
                    st.ready.extend(frames);
                    if let Err(e) = pushed {
                        st.done = true;
                        st.failed = Some(ClientError::Sse(e));
                    }
                }
            }
        }
    })
    .boxed()
}

#[cfg(test)]
mod tests {
    use super::*;
    use callrec_types::CallId;

    fn parse_chunks(chunks: &[&[u8]]) -> Result<Vec<SseFrame>, SseError> {
        let mut parser = SseParser::new();
        let mut out = Vec::new();
        for chunk in chunks {
            parser.push(chunk, &mut out)?;
        }
        Ok(out)
    }

    fn frame(event: &str, data: &str, id: Option<&str>) -> SseFrame {
        SseFrame {
            event: event.to_string(),
            data: data.to_string(),
            id: id.map(str::to_string),
            retry: None,
        }
    }

    #[test]
    fn a_frame_with_event_id_and_multi_line_data() {
        let frames = parse_chunks(&[b"event: call\nid: 7\ndata: {\"a\":\ndata:1}\n\n"]).expect("valid stream");
        assert_eq!(frames, vec![frame("call", "{\"a\":\n1}", Some("7"))]);
    }

    #[test]
    fn comments_are_keep_alives_and_yield_nothing() {
        let frames = parse_chunks(&[b": keep-alive\n\n:\n\n"]).expect("valid stream");
        assert!(frames.is_empty(), "comment-only frames dispatch nothing: {frames:?}");
    }

    #[test]
    fn every_split_point_gives_the_same_frames() {
        let stream: &[u8] = b"\xEF\xBB\xBFevent: journal\r\ndata: {\"call_id\":1}\r\n\r\n: ping\rdata: x\r\rdata:y\n\n";
        let whole = parse_chunks(&[stream]).expect("valid stream");
        assert_eq!(
            whole,
            vec![
                frame("journal", "{\"call_id\":1}", None),
                frame("message", "x", None),
                frame("message", "y", None),
            ],
            "CRLF, CR and LF all end lines and the BOM is dropped"
        );
        for i in 0..=stream.len() {
            for j in i..=stream.len() {
                let split = parse_chunks(&[&stream[..i], &stream[i..j], &stream[j..]]).expect("valid stream");
                assert_eq!(split, whole, "split at {i} and {j} changed the frames");
            }
        }
    }

    #[test]
    fn only_the_first_space_after_the_colon_is_dropped() {
        let frames = parse_chunks(&[b"data:  two\ndata\n\n"]).expect("valid stream");
        assert_eq!(frames, vec![frame("message", " two\n", None)]);
    }

    #[test]
    fn ids_persist_and_retry_is_read() {
        let frames =
            parse_chunks(&[b"id: 1\ndata: a\n\nretry: 1500\ndata: b\n\nid\ndata: c\n\n"]).expect("valid stream");
        assert_eq!(frames[0].id.as_deref(), Some("1"));
        assert_eq!(frames[1].id.as_deref(), Some("1"), "the last id carries over");
        assert_eq!(frames[1].retry, Some(1500));
        assert_eq!(frames[2].id.as_deref(), Some(""), "an empty id resets it");
    }

    #[test]
    fn an_unterminated_frame_at_the_end_is_dropped() {
        let frames = parse_chunks(&[b"data: complete\n\ndata: cut"]).expect("valid stream");
        assert_eq!(frames, vec![frame("message", "complete", None)]);
    }

    #[test]
    fn a_line_over_one_mib_is_refused_even_in_pieces() {
        let piece = vec![b'a'; 600 * 1024];
        assert_eq!(parse_chunks(&[b"data: ", &piece, &piece]), Err(SseError::LineTooLong));
        let exact = [b"data:".as_slice(), &vec![b'a'; MAX_LINE - 5], b"\n\n"].concat();
        assert_eq!(parse_chunks(&[&exact]).map(|f| f.len()), Ok(1), "1 MiB exactly is fine");
    }

    #[test]
    fn data_over_the_frame_limit_is_refused() {
        let line = [b"data:".as_slice(), &vec![b'a'; MAX_LINE - 5], b"\n"].concat();
        let many: Vec<&[u8]> = std::iter::repeat_n(line.as_slice(), 5).collect();
        assert_eq!(parse_chunks(&many), Err(SseError::DataTooLong));
    }

    #[test]
    fn events_are_rebuilt_from_name_and_data() {
        let event = decode_event(&frame("call_ended", "{\"call_id\":42}", None)).expect("valid data");
        assert_eq!(event, Some(Event::CallEnded { call_id: CallId(42) }));
        let event = decode_event(&frame("journal", "{\"call_id\":3}", None)).expect("valid data");
        assert_eq!(event.as_ref().map(Event::name), Some("journal"));
    }

    /// Issue #14: a subscriber that fell behind is told with a named event, which this client
    /// keeps (an SSE comment, as before, was dropped by every parser).
    #[test]
    fn a_lagged_event_is_decoded() {
        let frames = parse_chunks(&[b"event: lagged\ndata: {}\n\n"]).expect("valid stream");
        assert_eq!(frames.len(), 1, "one frame");
        assert_eq!(decode_event(&frames[0]).ok(), Some(Some(Event::Lagged {})));
    }

    #[test]
    fn unknown_events_are_skipped_and_bad_data_is_an_error() {
        assert_eq!(decode_event(&frame("message", "{}", None)).ok(), Some(None));
        assert_eq!(decode_event(&frame("future_thing", "{}", None)).ok(), Some(None));
        assert!(matches!(
            decode_event(&frame("call_ended", "{\"nope\":1}", None)),
            Err(ClientError::Decode { .. })
        ));
        assert!(matches!(
            decode_event(&frame("call_ended", "not json", None)),
            Err(ClientError::Decode { .. })
        ));
    }
}

#[cfg(test)]
mod silence_tests {
    use super::*;
    use std::time::Duration;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A server that sends the stream's head, keep-alives every 50 ms for a while, then
    /// nothing at all while keeping the connection open.
    async fn stalling_server(keep_alives: usize) -> (String, tokio::task::JoinHandle<()>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}/events", listener.local_addr().expect("addr"));
        let task = tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.expect("accept");
            let mut request = [0u8; 4096];
            let _ = socket.read(&mut request).await;
            let head = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n";
            socket.write_all(head.as_bytes()).await.expect("head");
            for _ in 0..keep_alives {
                socket
                    .write_all(b"e\r\n: keep-alive\n\n\r\n")
                    .await
                    .expect("keep-alive");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            tokio::time::sleep(Duration::from_secs(30)).await;
        });
        (url, task)
    }

    #[tokio::test]
    async fn a_silent_stream_ends_with_an_error_but_keep_alives_keep_it_open() {
        let (url, server) = stalling_server(8).await;
        let response = reqwest::get(&url).await.expect("response");
        let started = std::time::Instant::now();
        let mut stream = event_stream(response, Some(Duration::from_millis(200)));
        let end = stream.next().await.expect("an item, not the end");
        assert!(
            matches!(end, Err(ClientError::Sse(SseError::Silent(_)))),
            "silence is an error: {end:?}"
        );
        // 8 keep-alives 50 ms apart (each under the 200 ms limit) came first.
        assert!(
            started.elapsed() >= Duration::from_millis(400),
            "{:?}",
            started.elapsed()
        );
        assert!(stream.next().await.is_none(), "then the stream ends");
        server.abort();
    }
}
