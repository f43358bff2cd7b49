//! Answering a SIPREC offer (RFC 3264 §6, RFC 7866 §8.1.1).
//!
//! The answer has exactly as many m-lines as the offer, in the same order (§6). Every
//! offered `m=audio` with a port is accepted with one G.711 codec — the first of PCMU/PCMA
//! in the offer's format list — on a local port, with `a=recvonly` (or `a=inactive` when the
//! offer does not send, or in deny mode) and its `a=label` echoed. Other media, and audio
//! offered with port 0, are rejected with port 0 (§6). An audio stream without G.711 or on
//! another transport fails the whole answer: the recorder could not record it.
//!
//! SRTP (`RTP/SAVP`, SDES keys by RFC 4568): the stream is accepted with the offer's first
//! usable `a=crypto` line ([`super::Media::crypto`]) — the key the SRC encrypts with — and
//! answered `RTP/SAVP` with that line's tag and suite and a key of our own
//! ([`AnswerPlan::render_keyed`]; RFC 4568 §7.1.2 wants one even from a receive-only
//! answerer). An `RTP/SAVP` stream without a usable line fails the answer, and so does plain
//! `RTP/AVP` under [`SrtpPolicy::Require`].
//!
//! Two steps, so ports are allocated only for an offer that can be answered:
//! [`AnswerPlan::new`] validates and chooses, [`AnswerPlan::render`] writes the SDP.

use std::fmt::Write as _;

use super::{Crypto, Direction, MasterKey, SdpError, SessionDescription};
use crate::g711::Law;

/// Whether plain RTP is answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SrtpPolicy {
    /// Plain `RTP/AVP` and `RTP/SAVP` are both answered.
    #[default]
    Allow,
    /// Only `RTP/SAVP` is (`require_srtp`): plain audio fails the answer.
    Require,
}

/// How to answer the streams.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnswerMode {
    /// Receive the audio: `a=recvonly` (`a=inactive` for streams the offerer does not send).
    Record,
    /// Recording is not allowed (`MDC_MON_MODE=deny`): every stream `a=inactive`.
    Deny,
}

/// An accepted audio stream: what the recorder needs to receive it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NegotiatedStream {
    /// The m-line index (from 0).
    pub index: usize,
    /// The offer's `a=label`, matching rs-metadata `<stream><label>`.
    pub label: Option<String>,
    /// The payload type the SRC will send.
    pub payload_type: u8,
    /// PCMU or PCMA.
    pub law: Law,
    /// The offer's `telephone-event` payload type, so its packets can be ignored.
    pub telephone_event: Option<u8>,
    /// The SRC's address for this stream (media-level or session-level `c=`).
    pub remote_address: Option<String>,
    /// The SRC's port for this stream.
    pub remote_port: u16,
    /// The offered direction.
    pub offered: Direction,
    /// Our answered direction (`recvonly` or `inactive`).
    pub answered: Direction,
    /// For an `RTP/SAVP` stream, the offer's `a=crypto` line we accepted: the SRC's key.
    pub srtp: Option<Crypto>,
}

/// One m-line of the answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlannedStream {
    /// Answered with port 0.
    Rejected {
        /// The offered media type (`video`, `audio`, …).
        kind: String,
        /// The offered transport.
        proto: String,
        /// The first offered format (an answer m-line needs one, §6).
        format: String,
    },
    /// Answered with a local port.
    Accepted(NegotiatedStream),
}

/// Our side of the answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalMedia<'a> {
    /// The address the SRC sends RTP to (IPv4 or IPv6 literal, or a host name).
    pub address: &'a str,
    /// `o=` session id: fixed for the dialog.
    pub session_id: u64,
    /// `o=` session version: incremented for every new answer in the dialog (§8).
    pub session_version: u64,
}

/// A validated answer waiting for its ports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnswerPlan {
    streams: Vec<PlannedStream>,
}

impl AnswerPlan {
    /// Validates `offer` and chooses a codec per stream; plain RTP and SRTP are both answered.
    pub fn new(offer: &SessionDescription, mode: AnswerMode) -> Result<AnswerPlan, SdpError> {
        AnswerPlan::with_policy(offer, mode, SrtpPolicy::Allow)
    }

    /// Validates `offer` under `policy` and chooses a codec (and an SRTP key) per stream.
    pub fn with_policy(
        offer: &SessionDescription,
        mode: AnswerMode,
        policy: SrtpPolicy,
    ) -> Result<AnswerPlan, SdpError> {
        let mut streams = Vec::with_capacity(offer.media.len());
        for (index, m) in offer.media.iter().enumerate() {
            if !m.kind.eq_ignore_ascii_case("audio") || m.port == 0 {
                streams.push(PlannedStream::Rejected {
                    kind: m.kind.clone(),
                    proto: m.proto.clone(),
                    format: m.formats.first().cloned().unwrap_or_else(|| "0".into()),
                });
                continue;
            }
            let srtp = if m.is_srtp() {
                Some(m.crypto().map_err(|why| SdpError::NoCrypto {
                    index,
                    why: why.map_or_else(|| "no a=crypto line".to_owned(), |e| e.to_string()),
                })?)
            } else if m.proto.eq_ignore_ascii_case("RTP/AVP") {
                if policy == SrtpPolicy::Require {
                    return Err(SdpError::SrtpRequired { index });
                }
                None
            } else {
                return Err(SdpError::UnsupportedProto {
                    index,
                    proto: m.proto.clone(),
                });
            };
            let (payload_type, law) = m.g711_choice().ok_or(SdpError::NoG711 { index })?;
            let offered = offer.direction_of(index);
            let answered = match mode {
                AnswerMode::Record if offered.offerer_sends() => Direction::RecvOnly,
                _ => Direction::Inactive,
            };
            streams.push(PlannedStream::Accepted(NegotiatedStream {
                index,
                label: m.label().map(str::to_owned),
                payload_type,
                law,
                telephone_event: m.telephone_event(),
                remote_address: offer.connection_of(index).map(|c| c.address.clone()),
                remote_port: m.port,
                offered,
                answered,
                srtp,
            }));
        }
        if !streams.iter().any(|s| matches!(s, PlannedStream::Accepted(_))) {
            return Err(SdpError::NoAudio);
        }
        Ok(AnswerPlan { streams })
    }

    /// Every m-line of the answer, in offer order.
    pub fn streams(&self) -> &[PlannedStream] {
        &self.streams
    }

    /// The accepted streams, in offer order.
    pub fn accepted(&self) -> impl Iterator<Item = &NegotiatedStream> {
        self.streams.iter().filter_map(|s| match s {
            PlannedStream::Accepted(n) => Some(n),
            PlannedStream::Rejected { .. } => None,
        })
    }

    /// How many local ports [`render`](Self::render) needs.
    pub fn accepted_count(&self) -> usize {
        self.accepted().count()
    }

    /// Whether any accepted stream is SRTP.
    pub fn has_srtp(&self) -> bool {
        self.accepted().any(|s| s.srtp.is_some())
    }

    /// Writes the answer SDP of a plan without SRTP streams; `ports[i]` is the local RTP port
    /// of the i-th accepted stream.
    pub fn render(&self, local: &LocalMedia<'_>, ports: &[u16]) -> Result<String, SdpError> {
        self.render_keyed(local, ports, &[])
    }

    /// Writes the answer SDP; `ports[i]` is the local RTP port of the i-th accepted stream and
    /// `keys[i]` our SRTP key for it (of the offered suite; `None`, or absent, for plain RTP).
    pub fn render_keyed(
        &self,
        local: &LocalMedia<'_>,
        ports: &[u16],
        keys: &[Option<MasterKey>],
    ) -> Result<String, SdpError> {
        let needed = self.accepted_count();
        if ports.len() != needed {
            return Err(SdpError::PortCount {
                needed,
                given: ports.len(),
            });
        }
        let addr = local.address;
        if addr.is_empty() || addr.contains(|c: char| c.is_whitespace() || c.is_control()) {
            return Err(SdpError::BadLocalAddress);
        }
        let addr_type = if addr.contains(':') { "IP6" } else { "IP4" };
        let mut sdp = String::with_capacity(256 + 96 * self.streams.len());
        // Writing to a String cannot fail; the results are ignored on purpose.
        let _ = write!(
            sdp,
            "v=0\r\no=callrec {} {} IN {addr_type} {addr}\r\ns=callrec\r\n\
             c=IN {addr_type} {addr}\r\nt=0 0\r\n",
            local.session_id, local.session_version
        );
        let mut ports = ports.iter();
        let mut keys = keys.iter();
        for stream in &self.streams {
            match stream {
                PlannedStream::Rejected { kind, proto, format } => {
                    let _ = write!(sdp, "m={kind} 0 {proto} {format}\r\n");
                }
                PlannedStream::Accepted(n) => {
                    let port = ports.next().copied().unwrap_or(0);
                    let key = keys.next().and_then(Option::as_ref);
                    let pt = n.payload_type;
                    let proto = if n.srtp.is_some() { "RTP/SAVP" } else { "RTP/AVP" };
                    let _ = write!(
                        sdp,
                        "m=audio {port} {proto} {pt}\r\na=rtpmap:{pt} {}/8000\r\n",
                        n.law.encoding_name()
                    );
                    if let Some(offered) = &n.srtp {
                        let key = key
                            .filter(|k| k.suite() == offered.suite)
                            .ok_or(SdpError::KeyMismatch)?;
                        let _ = write!(sdp, "a=crypto:{}\r\n", Crypto::answer_value(offered.tag, key));
                    }
                    if let Some(label) = &n.label {
                        let _ = write!(sdp, "a=label:{label}\r\n");
                    }
                    let _ = write!(sdp, "a={}\r\n", n.answered.as_str());
                }
            }
        }
        Ok(sdp)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OFFER: &str = "v=0\r\n\
        o=SRC 1 1 IN IP4 198.51.100.1\r\n\
        s=-\r\n\
        c=IN IP4 198.51.100.1\r\n\
        t=0 0\r\n\
        m=audio 12240 RTP/AVP 18 0 8 101\r\n\
        a=rtpmap:101 telephone-event/8000\r\n\
        a=label:96\r\n\
        a=sendonly\r\n\
        m=video 12250 RTP/AVP 99\r\n\
        a=sendonly\r\n\
        m=audio 12242 RTP/AVP 8\r\n\
        a=label:97\r\n\
        a=sendonly\r\n";

    fn local() -> LocalMedia<'static> {
        LocalMedia {
            address: "192.0.2.10",
            session_id: 42,
            session_version: 1,
        }
    }

    fn offer(text: &str) -> SessionDescription {
        SessionDescription::parse(text.as_bytes()).expect("valid offer")
    }

    #[test]
    fn answers_every_m_line_in_order() {
        let plan = AnswerPlan::new(&offer(OFFER), AnswerMode::Record).expect("answerable");
        assert_eq!(plan.accepted_count(), 2, "two audio streams");
        let answer = plan.render(&local(), &[40000, 40002]).expect("render");
        assert_eq!(
            answer,
            "v=0\r\no=callrec 42 1 IN IP4 192.0.2.10\r\ns=callrec\r\n\
             c=IN IP4 192.0.2.10\r\nt=0 0\r\n\
             m=audio 40000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=label:96\r\na=recvonly\r\n\
             m=video 0 RTP/AVP 99\r\n\
             m=audio 40002 RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\na=label:97\r\na=recvonly\r\n",
            "answer text"
        );
        let parsed = offer(&answer);
        assert_eq!(parsed.media.len(), 3, "same number of m-lines as the offer");
        let first = plan.accepted().next().expect("first stream");
        assert_eq!(first.telephone_event, Some(101), "DTMF PT noted");
        assert_eq!(first.remote_address.as_deref(), Some("198.51.100.1"), "remote");
        assert_eq!(first.remote_port, 12240, "remote port");
    }

    #[test]
    fn deny_and_non_sending_streams_are_inactive() {
        let plan = AnswerPlan::new(&offer(OFFER), AnswerMode::Deny).expect("answerable");
        let answer = plan.render(&local(), &[9, 9]).expect("render");
        assert_eq!(answer.matches("a=inactive").count(), 2, "deny: all inactive");
        assert!(!answer.contains("recvonly"), "nothing received");

        let held = OFFER.replace("a=sendonly", "a=inactive");
        let plan = AnswerPlan::new(&offer(&held), AnswerMode::Record).expect("answerable");
        assert!(
            plan.accepted().all(|s| s.answered == Direction::Inactive),
            "an inactive offer gets an inactive answer"
        );
    }

    #[test]
    fn refusals_are_named() {
        let no_g711 = OFFER.replace("RTP/AVP 8\r\n", "RTP/AVP 9\r\n");
        assert_eq!(
            AnswerPlan::new(&offer(&no_g711), AnswerMode::Record),
            Err(SdpError::NoG711 { index: 2 }),
            "G.722 only"
        );
        let srtp = OFFER.replace("12242 RTP/AVP", "12242 RTP/SAVP");
        assert!(
            matches!(
                AnswerPlan::new(&offer(&srtp), AnswerMode::Record),
                Err(SdpError::NoCrypto { index: 2, .. })
            ),
            "SRTP without a=crypto"
        );
        let dtls = OFFER.replace("12242 RTP/AVP", "12242 UDP/TLS/RTP/SAVP");
        assert!(
            matches!(
                AnswerPlan::new(&offer(&dtls), AnswerMode::Record),
                Err(SdpError::UnsupportedProto { index: 2, .. })
            ),
            "DTLS-SRTP is another transport"
        );
        assert_eq!(
            AnswerPlan::with_policy(&offer(OFFER), AnswerMode::Record, SrtpPolicy::Require),
            Err(SdpError::SrtpRequired { index: 0 }),
            "plain RTP under require_srtp"
        );
        let video_only = "v=0\r\no=- 1 1 IN IP4 a\r\nm=video 1 RTP/AVP 99\r\nm=audio 0 RTP/AVP 0\r\n";
        assert_eq!(
            AnswerPlan::new(&offer(video_only), AnswerMode::Record),
            Err(SdpError::NoAudio),
            "nothing to record"
        );
        let plan = AnswerPlan::new(&offer(OFFER), AnswerMode::Record).expect("answerable");
        assert_eq!(
            plan.render(&local(), &[1]),
            Err(SdpError::PortCount { needed: 2, given: 1 }),
            "one port per accepted stream"
        );
        let bad = LocalMedia {
            address: "1.2.3.4\r\na=evil",
            ..local()
        };
        assert_eq!(plan.render(&bad, &[1, 2]), Err(SdpError::BadLocalAddress), "injection");
    }

    const KEY: &str = "WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz";

    #[test]
    fn srtp_streams_are_answered_with_our_key_under_the_offered_tag() {
        let text = OFFER.replace("12240 RTP/AVP", "12240 RTP/SAVP").replace(
            "a=label:96\r\n",
            &format!(
                "a=label:96\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:{KEY}|2^20|1:4\r\n\
                     a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:{KEY}\r\n"
            ),
        );
        let plan = AnswerPlan::with_policy(&offer(&text), AnswerMode::Record, SrtpPolicy::Allow).expect("answerable");
        let first = plan.accepted().next().expect("first stream");
        let crypto = first.srtp.as_ref().expect("SRTP stream");
        assert_eq!(
            (crypto.tag, crypto.suite),
            (2, crate::sdp::CryptoSuite::AesCm128HmacSha1_32),
            "the MKI line is skipped"
        );
        assert!(plan.has_srtp(), "has SRTP");
        assert_eq!(
            plan.render(&local(), &[1, 2]),
            Err(SdpError::KeyMismatch),
            "a key is needed"
        );
        let ours = MasterKey::new(crate::sdp::CryptoSuite::AesCm128HmacSha1_32, vec![7; 30]).expect("key");
        let answer = plan
            .render_keyed(&local(), &[40000, 40002], &[Some(ours.clone()), None])
            .expect("render");
        assert!(
            answer.contains(&format!(
                "m=audio 40000 RTP/SAVP 0\r\na=rtpmap:0 PCMU/8000\r\na=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:{}\r\n",
                ours.inline()
            )),
            "SRTP answer: {answer}"
        );
        assert!(
            answer.contains("m=audio 40002 RTP/AVP 8\r\n"),
            "the plain stream stays plain"
        );
        assert!(!answer.contains(KEY), "the offer's key is never echoed");
        let wrong = MasterKey::new(crate::sdp::CryptoSuite::AesCm128HmacSha1_80, vec![7; 30]).expect("key");
        assert_eq!(
            plan.render_keyed(&local(), &[1, 2], &[Some(wrong), None]),
            Err(SdpError::KeyMismatch),
            "our key must be of the offered suite"
        );
        let both = text.replace("12242 RTP/AVP", "12242 RTP/SAVP").replace(
            "a=label:97\r\n",
            &format!("a=label:97\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:{KEY}\r\n"),
        );
        assert!(
            AnswerPlan::with_policy(&offer(&both), AnswerMode::Record, SrtpPolicy::Require).is_ok(),
            "all SRTP passes require_srtp"
        );
    }

    #[test]
    fn ipv6_local_address() {
        let plan = AnswerPlan::new(&offer(OFFER), AnswerMode::Record).expect("answerable");
        let answer = plan
            .render(
                &LocalMedia {
                    address: "2001:db8::10",
                    ..local()
                },
                &[1, 2],
            )
            .expect("render");
        assert!(answer.contains("c=IN IP6 2001:db8::10\r\n"), "IP6 connection");
    }
}
