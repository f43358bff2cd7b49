//! `ClientError`: what can go wrong talking to the server, and the decoding of the server's
//! `{code, message, fields?, trace?}` error bodies (`callrec_types::wire::ErrorBody`).

use crate::sse::SseError;
use callrec_types::wire::{ErrorBody, ErrorCode};
use futures::StreamExt;

/// How much of an error body is read before giving up on the rest: error bodies are small,
/// and a misbehaving proxy must not make the client buffer an unbounded page.
const MAX_ERROR_BODY: usize = 64 * 1024;

/// How many characters of a non-JSON error body become the error message.
const MESSAGE_CHARS: usize = 200;

/// Every error a [`crate::Client`] method returns.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The server answered with a non-2xx status. `code` and `message` are copied out of
    /// `body` for convenience; a body that is not an `ErrorBody` becomes `code =
    /// ErrorCode::Unknown` with the first 200 characters of the body as the message. A code
    /// this client does not know (a newer server's) is `Unknown` too: go by `status` then.
    #[error("{status} {code}: {message}")]
    Api {
        status: u16,
        code: ErrorCode,
        message: String,
        /// Boxed to keep `Result<T, ClientError>` small for the common, successful case.
        body: Box<ErrorBody>,
    },
    /// Connecting, sending or receiving failed (including a body cut short).
    #[error("transport: {0}")]
    Transport(#[from] reqwest::Error),
    /// A 2xx body (or an SSE event's data) that is not the JSON the route promises.
    #[error("cannot decode the {status} response: {source} (body starts: {snippet:?})")]
    Decode {
        status: u16,
        #[source]
        source: serde_json::Error,
        /// The first 200 characters of the body, to see what came instead.
        snippet: String,
    },
    /// A request body could not be serialised.
    #[error("cannot encode the request: {0}")]
    Encode(#[source] serde_json::Error),
    /// The base URL (or a URL built from it) is not a usable `http(s)://` URL.
    #[error("invalid URL {url:?}: {reason}")]
    InvalidUrl { url: String, reason: String },
    /// Reading an upload from disk or writing a download to disk failed.
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    /// The server-sent event stream broke the framing rules (e.g. a line over 1 MiB).
    #[error("event stream: {0}")]
    Sse(#[from] SseError),
}

impl ClientError {
    /// The server's error code (`bad_credentials`, `not_permitted`, …) for an
    /// [`ClientError::Api`] error (`Unknown` for a code this client does not know or a body
    /// that is not an error body); `None` for every other kind.
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            ClientError::Api { code, .. } => Some(*code),
            _ => None,
        }
    }

    /// The HTTP status: the server's for `Api` and `Decode`, reqwest's if it has one.
    pub fn status(&self) -> Option<u16> {
        match self {
            ClientError::Api { status, .. } | ClientError::Decode { status, .. } => Some(*status),
            ClientError::Transport(e) => e.status().map(|s| s.as_u16()),
            _ => None,
        }
    }

    /// The full error body of an `Api` error (with `fields` and `trace` when the server sent
    /// them).
    pub fn body(&self) -> Option<&ErrorBody> {
        match self {
            ClientError::Api { body, .. } => Some(body),
            _ => None,
        }
    }

    /// Turns a non-2xx response into an `Api` error, reading at most 64 KiB of its body.
    /// Public so that callers of the raw methods ([`crate::Client::audio`],
    /// [`crate::Client::raw`]) can decode errors the same way.
    pub async fn from_response(response: reqwest::Response) -> ClientError {
        let status = response.status().as_u16();
        match read_bounded(response, MAX_ERROR_BODY).await {
            Ok(body) => Self::from_body(status, &body),
            Err(e) => ClientError::Transport(e),
        }
    }

    /// The pure half of [`ClientError::from_response`]: status + body bytes → `Api` error.
    pub fn from_body(status: u16, body: &[u8]) -> ClientError {
        let body = match serde_json::from_slice::<ErrorBody>(body) {
            Ok(parsed) => parsed,
            Err(_) => ErrorBody {
                code: ErrorCode::Unknown,
                message: snippet(body),
                fields: None,
                trace: None,
            },
        };
        ClientError::Api {
            status,
            code: body.code,
            message: body.message.clone(),
            body: Box::new(body),
        }
    }

    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> ClientError {
        ClientError::Io {
            context: context.into(),
            source,
        }
    }

    pub(crate) fn decode(status: u16, source: serde_json::Error, body: &[u8]) -> ClientError {
        ClientError::Decode {
            status,
            source,
            snippet: snippet(body),
        }
    }
}

/// The first 200 characters of a body, lossily decoded.
fn snippet(body: &[u8]) -> String {
    String::from_utf8_lossy(body).chars().take(MESSAGE_CHARS).collect()
}

/// Reads a body up to `limit` bytes and drops the rest.
async fn read_bounded(response: reqwest::Response, limit: usize) -> Result<Vec<u8>, reqwest::Error> {
    let mut out = Vec::new();
    let mut chunks = response.bytes_stream();
    while let Some(chunk) = chunks.next().await {
        let chunk = chunk?;
        let room = limit - out.len();
        if chunk.len() >= room {
            out.extend_from_slice(&chunk[..room]);
            break;
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_json_error_body_keeps_code_message_and_fields() {
        let err = ClientError::from_body(
            422,
            br#"{"code":"invalid","message":"bad rule","fields":[{"field":"description","message":"too long"}]}"#,
        );
        assert_eq!(err.code(), Some(ErrorCode::Invalid), "the code comes from the body");
        assert_eq!(err.status(), Some(422));
        let body = err.body().expect("an Api error has a body");
        assert_eq!(body.message, "bad rule");
        assert_eq!(
            body.fields.as_ref().map(|f| f[0].field.as_str()),
            Some("description"),
            "field errors survive decoding"
        );
    }

    #[test]
    fn a_non_json_body_becomes_an_unknown_code_with_the_status_and_the_first_200_chars() {
        let long = "x".repeat(500);
        let err = ClientError::from_body(502, long.as_bytes());
        assert_eq!(err.code(), Some(ErrorCode::Unknown));
        assert_eq!(err.status(), Some(502));
        match &err {
            ClientError::Api { message, .. } => {
                assert_eq!(message.chars().count(), 200, "message is cut at 200 chars")
            }
            other => panic!("expected an Api error, got {other:?}"),
        }
    }

    #[test]
    fn an_empty_body_still_gives_a_code() {
        let err = ClientError::from_body(404, b"");
        assert_eq!(err.code(), Some(ErrorCode::Unknown));
        assert_eq!(err.status(), Some(404));
    }

    #[test]
    fn a_code_from_a_newer_server_is_unknown_and_keeps_its_message() {
        let err = ClientError::from_body(409, br#"{"code":"quota_exceeded","message":"over quota"}"#);
        assert_eq!(err.code(), Some(ErrorCode::Unknown));
        assert_eq!(err.body().map(|b| b.message.as_str()), Some("over quota"));
    }

    #[test]
    fn the_snippet_cuts_on_characters_not_bytes() {
        let s = "ä".repeat(300);
        assert_eq!(snippet(s.as_bytes()).chars().count(), 200);
    }
}
