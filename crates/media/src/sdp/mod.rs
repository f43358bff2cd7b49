//! SDP (RFC 4566) as a SIPREC recorder meets it: parsing offers and answering them
//! (offer/answer, RFC 3264) with one receive-only G.711 stream per offered `m=audio`.
//!
//! - [`SessionDescription::parse`]: session and media descriptions, connection data,
//!   `a=rtpmap`, `a=label` (RFC 4574), direction attributes (RFC 4566 §6).
//! - [`AnswerPlan`]: validates an offer and picks a codec per stream before any port is
//!   allocated, then renders the answer with the ports the caller allocated.
//! - [`parse_crypto`]: `a=crypto` (SDES, RFC 4568) of `RTP/SAVP` streams; `crypto`.

mod answer;
mod crypto;
mod parse;

pub use answer::{AnswerMode, AnswerPlan, LocalMedia, NegotiatedStream, PlannedStream, SrtpPolicy};
pub use crypto::{
    parse_crypto, Crypto, CryptoError, CryptoSuite, MasterKey, MAX_CRYPTO_LINES, MAX_CRYPTO_VALUE, MAX_TAG,
};
pub use parse::{MAX_LINES, MAX_MEDIA, MAX_SDP_LEN};

use crate::g711::Law;

/// Why an SDP offer was refused or could not be answered. Answer a SIP INVITE that fails
/// here with 488 (Not Acceptable Here) or 400 for malformed SDP.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SdpError {
    /// Larger than [`MAX_SDP_LEN`].
    #[error("SDP exceeds {MAX_SDP_LEN} bytes")]
    TooLarge,
    /// More than [`MAX_LINES`] lines or [`MAX_MEDIA`] media descriptions.
    #[error("SDP has too many lines or media descriptions")]
    TooMany,
    /// Not UTF-8.
    #[error("SDP is not UTF-8")]
    NotUtf8,
    /// A line that is not `<letter>=<value>` (line number from 1).
    #[error("malformed SDP line {0}")]
    BadLine(usize),
    /// The first line is not `v=0` (§5.1).
    #[error("SDP must start with v=0")]
    BadVersion,
    /// No valid `o=` line (§5.2).
    #[error("missing or malformed SDP origin (o=)")]
    BadOrigin,
    /// A malformed `c=` line (line number).
    #[error("malformed SDP connection data (c=) at line {0}")]
    BadConnection(usize),
    /// A malformed `m=` line (line number).
    #[error("malformed SDP media description (m=) at line {0}")]
    BadMedia(usize),
    /// The offer has no `m=audio` line with a port.
    #[error("SDP offer has no audio stream")]
    NoAudio,
    /// An audio stream offers neither PCMU (0) nor PCMA (8).
    #[error("audio stream {index} offers neither PCMU nor PCMA")]
    NoG711 {
        /// The m-line index (from 0).
        index: usize,
    },
    /// An audio stream uses a transport other than RTP/AVP or RTP/SAVP.
    #[error("audio stream {index} uses unsupported transport {proto}")]
    UnsupportedProto {
        /// The m-line index (from 0).
        index: usize,
        /// The offered transport.
        proto: String,
    },
    /// An `RTP/SAVP` stream has no `a=crypto` line we can use (the first line's reason).
    #[error("audio stream {index} offers SRTP without a usable a=crypto line: {why}")]
    NoCrypto {
        /// The m-line index (from 0).
        index: usize,
        /// Why the first `a=crypto` line (if any) was not usable.
        why: String,
    },
    /// Plain RTP offered where the recorder requires SRTP (`require_srtp`).
    #[error("audio stream {index} is plain RTP; this recorder requires SRTP (RTP/SAVP with a=crypto)")]
    SrtpRequired {
        /// The m-line index (from 0).
        index: usize,
    },
    /// The keys given to [`AnswerPlan::render_keyed`] do not match the SRTP streams.
    #[error("an SRTP key is needed for every accepted SRTP stream, of its suite")]
    KeyMismatch,
    /// The number of ports given to [`AnswerPlan::render`] differs from the streams accepted.
    #[error("{given} ports given for {needed} accepted streams")]
    PortCount {
        /// Ports needed.
        needed: usize,
        /// Ports given.
        given: usize,
    },
    /// The local address for the answer is empty or contains whitespace.
    #[error("invalid local address for the SDP answer")]
    BadLocalAddress,
}

/// Media direction (RFC 4566 §6; RFC 3264 §6.1 for answers). Default `sendrecv`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Direction {
    /// `a=sendrecv`.
    #[default]
    SendRecv,
    /// `a=sendonly`: the offerer sends (a SIPREC SRC's usual offer).
    SendOnly,
    /// `a=recvonly`: the offerer receives only (a recorder's answer).
    RecvOnly,
    /// `a=inactive`: nothing flows (hold, pause, deny).
    Inactive,
}

impl Direction {
    /// The attribute name.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::SendRecv => "sendrecv",
            Direction::SendOnly => "sendonly",
            Direction::RecvOnly => "recvonly",
            Direction::Inactive => "inactive",
        }
    }

    /// The direction of an attribute name, if it is one.
    pub fn from_attribute(name: &str) -> Option<Direction> {
        match name {
            "sendrecv" => Some(Direction::SendRecv),
            "sendonly" => Some(Direction::SendOnly),
            "recvonly" => Some(Direction::RecvOnly),
            "inactive" => Some(Direction::Inactive),
            _ => None,
        }
    }

    /// Whether the offerer sends media in this direction.
    pub fn offerer_sends(self) -> bool {
        matches!(self, Direction::SendRecv | Direction::SendOnly)
    }
}

/// `c=<nettype> <addrtype> <address>` (§5.7); TTL and count suffixes are dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection {
    /// `IN`.
    pub net_type: String,
    /// `IP4` or `IP6`.
    pub addr_type: String,
    /// The address (or host name) without `/ttl`.
    pub address: String,
}

/// `o=<username> <sess-id> <sess-version> <nettype> <addrtype> <address>` (§5.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// Username (`-` when none).
    pub username: String,
    /// Session id (numeric string).
    pub session_id: String,
    /// Session version (numeric string); changes when a re-offer changes the session.
    pub session_version: String,
    /// `IN`.
    pub net_type: String,
    /// `IP4` or `IP6`.
    pub addr_type: String,
    /// Address.
    pub address: String,
}

/// `a=<name>[:<value>]` (§5.13).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attribute {
    /// The attribute name.
    pub name: String,
    /// The value after `:`, if any.
    pub value: Option<String>,
}

/// `a=rtpmap:<pt> <encoding>/<clock rate>[/<channels>]` (§6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RtpMap {
    /// Payload type.
    pub payload_type: u8,
    /// Encoding name as written (`PCMU`, `telephone-event`).
    pub encoding: String,
    /// Clock rate in Hz.
    pub clock_rate: u32,
    /// Channels, if given.
    pub channels: Option<u16>,
}

/// One media description (`m=` and the lines after it, §5.14).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Media {
    /// `audio`, `video`, …
    pub kind: String,
    /// Port (0 = stream rejected or disabled).
    pub port: u16,
    /// `/<number of ports>` if given.
    pub port_count: Option<u16>,
    /// `RTP/AVP`, `RTP/SAVP`, …
    pub proto: String,
    /// Format list (payload types for RTP), in preference order.
    pub formats: Vec<String>,
    /// Media-level `c=`.
    pub connection: Option<Connection>,
    /// Media-level attributes in order.
    pub attributes: Vec<Attribute>,
}

impl Media {
    /// The first value of attribute `name`.
    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|a| a.name == name)
            .and_then(|a| a.value.as_deref())
    }

    /// `a=label` (RFC 4574): ties the stream to rs-metadata `<stream><label>`.
    pub fn label(&self) -> Option<&str> {
        self.attribute("label").map(str::trim)
    }

    /// The media-level direction attribute, if any (the last one wins).
    pub fn direction(&self) -> Option<Direction> {
        self.attributes
            .iter()
            .rev()
            .find_map(|a| Direction::from_attribute(&a.name))
    }

    /// The well-formed `a=rtpmap` lines (malformed ones are skipped).
    pub fn rtpmaps(&self) -> impl Iterator<Item = RtpMap> + '_ {
        self.attributes
            .iter()
            .filter(|a| a.name == "rtpmap")
            .filter_map(|a| parse_rtpmap(a.value.as_deref()?))
    }

    /// Payload types of the format list that are numbers 0..=127.
    pub fn payload_types(&self) -> impl Iterator<Item = u8> + '_ {
        self.formats
            .iter()
            .filter_map(|f| f.parse::<u8>().ok())
            .filter(|pt| *pt < 128)
    }

    /// The G.711 law a payload type carries here: static 0/8 (RFC 3551 table 4) unless an
    /// rtpmap says otherwise, or a dynamic type mapped to `PCMU/8000` / `PCMA/8000`.
    pub fn law_of(&self, pt: u8) -> Option<Law> {
        match self.rtpmaps().find(|m| m.payload_type == pt) {
            Some(m) if m.clock_rate == 8000 && m.channels.unwrap_or(1) == 1 => {
                match m.encoding.to_ascii_uppercase().as_str() {
                    "PCMU" => Some(Law::Ulaw),
                    "PCMA" => Some(Law::Alaw),
                    _ => None,
                }
            }
            Some(_) => None,
            None => Law::from_payload_type(pt),
        }
    }

    /// The first G.711 payload type of the format list, and its law.
    pub fn g711_choice(&self) -> Option<(u8, Law)> {
        self.payload_types().find_map(|pt| self.law_of(pt).map(|law| (pt, law)))
    }

    /// Whether the stream is SRTP (`RTP/SAVP`, RFC 3711 §12).
    pub fn is_srtp(&self) -> bool {
        self.proto.eq_ignore_ascii_case("RTP/SAVP")
    }

    /// The first usable `a=crypto` line (the offerer lists them by preference, RFC 4568
    /// §7.1.1), or why the first line was not usable (`None` when there is no line). At most
    /// [`MAX_CRYPTO_LINES`] lines are looked at.
    pub fn crypto(&self) -> Result<Crypto, Option<CryptoError>> {
        let mut first_error = None;
        for a in self
            .attributes
            .iter()
            .filter(|a| a.name == "crypto")
            .take(MAX_CRYPTO_LINES)
        {
            match parse_crypto(a.value.as_deref().unwrap_or_default()) {
                Ok(c) => return Ok(c),
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        Err(first_error)
    }

    /// The payload type of `telephone-event` (RFC 4733), if offered.
    pub fn telephone_event(&self) -> Option<u8> {
        self.rtpmaps()
            .find(|m| m.encoding.eq_ignore_ascii_case("telephone-event"))
            .map(|m| m.payload_type)
    }
}

fn parse_rtpmap(v: &str) -> Option<RtpMap> {
    let (pt, rest) = v.trim().split_once(char::is_whitespace)?;
    let payload_type: u8 = pt.parse().ok().filter(|pt| *pt < 128)?;
    let mut parts = rest.trim().split('/');
    let encoding = parts.next()?.trim();
    let clock_rate = parts.next()?.trim().parse().ok()?;
    let channels = match parts.next() {
        Some(c) => Some(c.trim().parse().ok()?),
        None => None,
    };
    if encoding.is_empty() || parts.next().is_some() {
        return None;
    }
    Some(RtpMap {
        payload_type,
        encoding: encoding.to_owned(),
        clock_rate,
        channels,
    })
}

/// A parsed SDP session description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionDescription {
    /// `o=`.
    pub origin: Origin,
    /// `s=` (empty when absent).
    pub session_name: String,
    /// Session-level `c=`.
    pub connection: Option<Connection>,
    /// Session-level attributes.
    pub attributes: Vec<Attribute>,
    /// Media descriptions in order.
    pub media: Vec<Media>,
}

impl SessionDescription {
    /// The effective direction of media `index`: media-level, else session-level, else
    /// `sendrecv` (§6).
    pub fn direction_of(&self, index: usize) -> Direction {
        self.media
            .get(index)
            .and_then(Media::direction)
            .or_else(|| {
                self.attributes
                    .iter()
                    .rev()
                    .find_map(|a| Direction::from_attribute(&a.name))
            })
            .unwrap_or_default()
    }

    /// The effective connection of media `index`: media-level, else session-level (§5.7).
    pub fn connection_of(&self, index: usize) -> Option<&Connection> {
        self.media
            .get(index)
            .and_then(|m| m.connection.as_ref())
            .or(self.connection.as_ref())
    }
}
