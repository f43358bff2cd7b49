//! SIP messages (RFC 3261): parsing with explicit limits, stream framing, the header values
//! a recorder needs, response building and serialisation.
//!
//! Hand-written rather than a crate: a recorder needs a small subset of SIP (one dialog per
//! INVITE, no proxying), and a small parser with explicit limits is easier to fuzz and to
//! reason about than a general stack. The maintained crates were weighed: `rsip` parses
//! with nom into a large typed model without message-size or header-count limits, and
//! `ezk-sip-types` carries a full transaction layer; both would still need our own framing
//! and limit checks around them.
//!
//! - [`parse_datagram`] / [`parse_stream`]: one message from a UDP datagram (§18.3: body =
//!   the rest, Content-Length optional) or from a TCP byte buffer (§18.3: Content-Length
//!   required; reports how many bytes the message used, skips keep-alive CRLFs).
//! - [`Message`], [`Headers`]: the parsed message; compact header names (§7.3.3) are
//!   expanded on parse so lookups use full names.
//! - [`Via`], [`NameAddr`], [`CSeq`]: the values of Via, From/To/Contact and CSeq.
//! - [`response_to`]: a response that copies Via/From/To/Call-ID/CSeq from a request and adds
//!   a To tag (§8.2.6.2).
//! - [`consent`]: the `X-Callrec-Consent` header (issue #11.2).

pub mod consent;
mod header_values;
mod message;
mod parse;
mod response;

pub use header_values::{split_list, CSeq, NameAddr, Params, Via};
pub use message::{Header, Headers, Message, Method, StartLine};
pub use parse::{parse_datagram, parse_stream, Limits, Streamed};
pub use response::{reason_phrase, response_to};

/// Why a SIP message was refused. A 400 (Bad Request) is the usual answer to a request
/// that fails here; over TCP a framing error means the connection must be closed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SipError {
    /// The message (or the header section of a stream message) is larger than the limit.
    #[error("SIP message exceeds {0} bytes")]
    TooLarge(usize),
    /// More header fields than the limit.
    #[error("SIP message has more than {0} header fields")]
    TooManyHeaders(usize),
    /// One header line (or a folded header) longer than the limit.
    #[error("SIP header line exceeds {0} bytes")]
    HeaderLineTooLong(usize),
    /// The message has no blank line ending its header section.
    #[error("SIP header section not terminated by an empty line")]
    UnterminatedHeaders,
    /// The header section is not UTF-8 (RFC 3261 §7.3.1 text is UTF-8).
    #[error("SIP header section is not UTF-8")]
    NotUtf8,
    /// The first line is neither a Request-Line nor a Status-Line (§7.1, §7.2).
    #[error("malformed SIP start line")]
    BadStartLine,
    /// A SIP version other than SIP/2.0.
    #[error("unsupported SIP version")]
    BadVersion,
    /// A status code outside 100..=699 (§7.2).
    #[error("malformed SIP status code")]
    BadStatus,
    /// A header line without a `name:` (§7.3.1).
    #[error("malformed SIP header line")]
    BadHeader,
    /// A stream message without Content-Length (§18.3 makes it mandatory on TCP).
    #[error("missing Content-Length on a stream transport")]
    MissingContentLength,
    /// A Content-Length that is not a number, disagrees with another, or is over the limit.
    #[error("malformed Content-Length")]
    BadContentLength,
    /// Fewer body bytes than Content-Length says (a datagram cut short).
    #[error("SIP body shorter than Content-Length")]
    TruncatedBody,
    /// A header a recorder needs is absent.
    #[error("missing {0} header")]
    MissingHeader(&'static str),
    /// A header is present but its value cannot be parsed.
    #[error("malformed {0} header")]
    MalformedHeader(&'static str),
    /// A response was asked for something that is not a request.
    #[error("not a SIP request")]
    NotARequest,
}
