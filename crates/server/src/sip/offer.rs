//! What a SIPREC INVITE or re-INVITE carries (RFC 7866 §8.1.1): the `multipart/mixed` body
//! with the SDP offer and the recording metadata, the `X-MDC-MON-MODE` and
//! `X-Callrec-Consent` headers, and from those the call's participants and which recorded
//! channel each stream feeds.
//!
//! Every refusal is a [`Reject`] with the SIP status to answer: 400 for malformed SIP
//! bodies, SDP or metadata; 415 for a body that is neither SDP nor multipart; 488 for an
//! offer that cannot be recorded (no audio, no G.711, SRTP without a usable `a=crypto`, plain
//! RTP under `require_srtp`, no offer at all).

use callrec_media::jitter::Side;
use callrec_media::metadata::Metadata;
use callrec_media::multipart;
use callrec_media::sdp::{AnswerMode, AnswerPlan, SdpError, SessionDescription, SrtpPolicy};
use callrec_media::sip::consent::{Consent, ConsentHeader};
use callrec_media::sip::{Message, NameAddr};
use callrec_types::calls::{CallConsent, ConsentState, ConsentVia, ParticipantRole};
use callrec_types::rules::MonMode;
use chrono::{DateTime, Utc};

use crate::calls::RawParticipant;

/// The header carrying the PBX's per-call mode (SPEC §2, `MDC_MON_MODE`).
pub const MON_MODE_HEADER: &str = "X-MDC-MON-MODE";

/// Which counter a refusal belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RejectKind {
    /// A malformed SIP message or body framing.
    Sip,
    /// Malformed SDP.
    Sdp,
    /// Malformed rs-metadata XML.
    Metadata,
    /// Well-formed but not recordable (415, 420, 488).
    Unacceptable,
}

/// A refusal with its SIP answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reject {
    /// The status code.
    pub code: u16,
    /// Said in a `Warning` header.
    pub reason: String,
    /// What was wrong.
    pub kind: RejectKind,
}

impl Reject {
    fn new(code: u16, kind: RejectKind, reason: impl Into<String>) -> Reject {
        Reject {
            code,
            reason: reason.into(),
            kind,
        }
    }
}

/// The SDP offer and the metadata of an INVITE.
#[derive(Debug, Clone)]
pub struct Offer {
    /// The SDP offer.
    pub sdp: SessionDescription,
    /// The recording metadata, when the body has it.
    pub metadata: Option<Metadata>,
}

/// The per-call mode from `X-MDC-MON-MODE` (absent = `auto`; an unknown value is a 400).
pub fn mon_mode(request: &Message) -> Result<MonMode, Reject> {
    match request.headers.get(MON_MODE_HEADER) {
        None => Ok(MonMode::Auto),
        Some(v) => MonMode::parse(v).ok_or_else(|| {
            Reject::new(
                400,
                RejectKind::Sip,
                format!("{MON_MODE_HEADER} must be auto, force, deny or manual"),
            )
        }),
    }
}

/// The caller's consent from `X-Callrec-Consent` (absent = `None`; a bad value is a 400 with
/// the reason, and nothing of the request is acted on).
pub fn consent(request: &Message) -> Result<Option<ConsentHeader>, Reject> {
    callrec_media::sip::consent::consent(request).map_err(|e| Reject::new(400, RejectKind::Sip, e.to_string()))
}

/// The call's consent as a header stated it at `at`.
pub fn call_consent(h: &ConsentHeader, at: DateTime<Utc>) -> CallConsent {
    CallConsent {
        state: match h.consent {
            Consent::Unknown => ConsentState::Unknown,
            Consent::Announced => ConsentState::Announced,
            Consent::Granted => ConsentState::Granted,
            Consent::Refused => ConsentState::Refused,
        },
        by: h.by.clone(),
        user_id: None,
        via: Some(ConsentVia::Sip),
        at: Some(at),
    }
}

/// Option tags we support in `Require` (RFC 7866 §6.1.1 uses `siprec`).
const SUPPORTED: [&str; 1] = ["siprec"];

/// The option tags of `Require` we do not support (answer 420 with them, RFC 3261 §8.2.2.3).
pub fn unsupported_requirements(request: &Message) -> Vec<String> {
    request
        .headers
        .get_all("Require")
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|t| !t.is_empty() && !SUPPORTED.iter().any(|s| s.eq_ignore_ascii_case(t)))
        .map(str::to_owned)
        .collect()
}

/// Reads the SDP offer and metadata from an INVITE's body.
pub fn parse(request: &Message) -> Result<Offer, Reject> {
    if request.body.is_empty() {
        return Err(Reject::new(
            488,
            RejectKind::Unacceptable,
            "an SDP offer is required in the INVITE",
        ));
    }
    let ct = request.content_type().unwrap_or("application/sdp");
    let mt =
        multipart::MediaType::parse(ct).ok_or_else(|| Reject::new(400, RejectKind::Sip, "malformed Content-Type"))?;
    let (sdp_bytes, meta_bytes): (Vec<u8>, Option<Vec<u8>>) = if mt.essence.starts_with("multipart/") {
        let parts = multipart::parse(ct, &request.body)
            .map_err(|e| Reject::new(400, RejectKind::Sip, format!("multipart body: {e}")))?;
        let sdp = parts
            .iter()
            .find(|p| p.content_type().is("application/sdp"))
            .ok_or_else(|| Reject::new(488, RejectKind::Unacceptable, "no application/sdp part"))?;
        let meta = parts.iter().find(|p| {
            let t = p.content_type();
            t.is("application/rs-metadata+xml") || t.is("application/rs-metadata")
        });
        (sdp.body.clone(), meta.map(|m| m.body.clone()))
    } else if mt.is("application/sdp") {
        (request.body.clone(), None)
    } else {
        return Err(Reject::new(
            415,
            RejectKind::Unacceptable,
            format!("unsupported body type {}", mt.essence),
        ));
    };
    let sdp =
        SessionDescription::parse(&sdp_bytes).map_err(|e| Reject::new(400, RejectKind::Sdp, format!("SDP: {e}")))?;
    let metadata = meta_bytes
        .map(|b| Metadata::parse(&b))
        .transpose()
        .map_err(|e| Reject::new(400, RejectKind::Metadata, format!("rs-metadata: {e}")))?;
    Ok(Offer { sdp, metadata })
}

/// Why an initial INVITE is not answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// `Require` names option tags we do not support: 420 with them (RFC 3261 §8.2.2.3).
    Unsupported(Vec<String>),
    /// Anything else, with its status and reason.
    Reject(Reject),
}

/// An initial INVITE read once, whole: what the session acts on.
#[derive(Debug, Clone)]
pub struct Answerable {
    /// From `X-MDC-MON-MODE`.
    pub mon_mode: MonMode,
    /// From `X-Callrec-Consent`.
    pub consent: Option<ConsentHeader>,
    /// How the streams are answered: `deny` answers every stream `a=inactive`.
    pub mode: AnswerMode,
    /// The SDP offer and the metadata.
    pub offer: Offer,
    /// Which offered streams are recorded, and how.
    pub plan: AnswerPlan,
    /// The party on each accepted stream.
    pub sides: Vec<Option<Side>>,
    /// The call's participants, from the metadata or From/To.
    pub participants: Vec<RawParticipant>,
}

/// The SRTP policy of the configuration (`require_srtp`).
pub fn srtp_policy(require_srtp: bool) -> SrtpPolicy {
    if require_srtp {
        SrtpPolicy::Require
    } else {
        SrtpPolicy::Allow
    }
}

/// Reads an initial INVITE: its requirements, its mode, its body, the answer plan (at most
/// [`crate::rtp::MAX_STREAMS`] streams, under `policy`), the side of each stream and the
/// participants.
pub fn read(invite: &Message, policy: SrtpPolicy) -> Result<Answerable, Refusal> {
    let unsupported = unsupported_requirements(invite);
    if !unsupported.is_empty() {
        return Err(Refusal::Unsupported(unsupported));
    }
    let mon_mode = mon_mode(invite).map_err(Refusal::Reject)?;
    let consent = consent(invite).map_err(Refusal::Reject)?;
    let mode = if mon_mode == MonMode::Deny {
        AnswerMode::Deny
    } else {
        AnswerMode::Record
    };
    let offer = parse(invite).map_err(Refusal::Reject)?;
    let plan = AnswerPlan::with_policy(&offer.sdp, mode, policy).map_err(|e| Refusal::Reject(unanswerable(&e)))?;
    let n = plan.accepted_count();
    if n > crate::rtp::MAX_STREAMS {
        return Err(Refusal::Reject(Reject::new(
            488,
            RejectKind::Unacceptable,
            format!("too many audio streams ({n})"),
        )));
    }
    let sides = sides(&plan, offer.metadata.as_ref());
    let participants = participants(offer.metadata.as_ref(), invite);
    Ok(Answerable {
        mon_mode,
        consent,
        mode,
        offer,
        plan,
        sides,
        participants,
    })
}

/// The refusal for an offer the answer plan cannot record.
pub fn unanswerable(e: &SdpError) -> Reject {
    Reject::new(488, RejectKind::Unacceptable, e.to_string())
}

/// The participants: from the metadata in document order (the first is the caller, SPEC
/// §4.1), else from the INVITE's From (caller) and To (callee).
pub fn participants(metadata: Option<&Metadata>, request: &Message) -> Vec<RawParticipant> {
    if let Some(m) = metadata.filter(|m| !m.participants.is_empty()) {
        return m
            .participants
            .iter()
            .enumerate()
            .map(|(i, p)| RawParticipant {
                number: p.aor.clone().or_else(|| p.name.clone()).unwrap_or_default(),
                name: p.name.clone().unwrap_or_default(),
                role: if i == 0 {
                    ParticipantRole::Caller
                } else {
                    ParticipantRole::Callee
                },
            })
            .collect();
    }
    let from = request.from().ok();
    let to = request.to().ok();
    [(from, ParticipantRole::Caller), (to, ParticipantRole::Callee)]
        .into_iter()
        .filter_map(|(na, role)| na.map(|n| raw_of(&n, role)))
        .collect()
}

fn raw_of(n: &NameAddr, role: ParticipantRole) -> RawParticipant {
    RawParticipant {
        number: n.uri.clone(),
        name: n.display_name.clone().unwrap_or_default(),
        role,
    }
}

/// The channel each accepted stream feeds, in the plan's order: by the metadata's
/// `participantstreamassoc` (the caller's sending stream → channel 1, any other
/// participant's → channel 2); streams the metadata does not place go by m-line order
/// (first → caller, second → callee, others unrecorded).
pub fn sides(plan: &AnswerPlan, metadata: Option<&Metadata>) -> Vec<Option<Side>> {
    let caller = metadata.and_then(Metadata::caller).map(|p| p.id.clone());
    let by_metadata: Vec<Option<Side>> = plan
        .accepted()
        .map(|s| {
            let label = s.label.as_deref()?;
            let sender = metadata?.sender_of_label(label)?;
            Some(if Some(&sender.id) == caller.as_ref() {
                Side::Caller
            } else {
                Side::Callee
            })
        })
        .collect();
    let mut out = Vec::with_capacity(by_metadata.len());
    let mut taken = [
        by_metadata.contains(&Some(Side::Caller)),
        by_metadata.contains(&Some(Side::Callee)),
    ];
    for side in by_metadata {
        out.push(side.or_else(|| {
            let free = if !taken[0] {
                Some(Side::Caller)
            } else if !taken[1] {
                Some(Side::Callee)
            } else {
                None
            };
            match free {
                Some(Side::Caller) => taken[0] = true,
                Some(Side::Callee) => taken[1] = true,
                None => {}
            }
            free
        }));
    }
    out
}

/// Whether the SRC paused or held every stream (`a=inactive`, or `recvonly` — nothing sent
/// to us, RFC 7866 §7.1.1 pause): the recording pads silence meanwhile.
pub fn is_held(plan: &AnswerPlan) -> bool {
    plan.accepted().all(|s| !s.offered.offerer_sends())
}

#[cfg(test)]
mod tests {
    use super::*;
    use callrec_media::sdp::AnswerMode;
    use callrec_media::sip::{parse_datagram, Limits};

    const SDP: &str = "v=0\r\no=src 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n\
        m=audio 4000 RTP/AVP 0\r\na=label:a\r\na=sendonly\r\nm=audio 4002 RTP/AVP 0\r\na=label:b\r\na=sendonly\r\n";

    fn meta(caller_label: &str, callee_label: &str) -> String {
        format!(
            r#"<recording xmlns="urn:ietf:params:xml:ns:recording:1">
<participant participant_id="p1"><nameID aor="sip:201@pbx"><name>Alice</name></nameID></participant>
<participant participant_id="p2"><nameID aor="sip:202@pbx"/></participant>
<stream stream_id="s1"><label>{caller_label}</label></stream>
<stream stream_id="s2"><label>{callee_label}</label></stream>
<participantstreamassoc participant_id="p1"><send>s1</send></participantstreamassoc>
<participantstreamassoc participant_id="p2"><send>s2</send></participantstreamassoc>
</recording>"#
        )
    }

    fn invite(extra: &str, ct: &str, body: &str) -> Message {
        let raw = format!(
            "INVITE sip:srs@h SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: \"Src\" <sip:src@h>;tag=1\r\n\
             To: <sip:srs@h>\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\n{extra}Content-Type: {ct}\r\n\
             Content-Length: {}\r\n\r\n{body}",
            body.len()
        );
        parse_datagram(raw.as_bytes(), &Limits::DEFAULT).expect("test INVITE parses")
    }

    fn multipart(sdp: &str, meta: &str) -> String {
        format!(
            "--b\r\nContent-Type: application/sdp\r\n\r\n{sdp}\r\n--b\r\n\
             Content-Type: application/rs-metadata+xml\r\n\r\n{meta}\r\n--b--\r\n"
        )
    }

    #[test]
    fn channels_follow_the_metadata_not_the_m_line_order() {
        let req = invite("", "multipart/mixed;boundary=b", &multipart(SDP, &meta("b", "a")));
        let offer = parse(&req).expect("valid offer");
        let plan = AnswerPlan::new(&offer.sdp, AnswerMode::Record).expect("answerable");
        assert_eq!(
            sides(&plan, offer.metadata.as_ref()),
            [Some(Side::Callee), Some(Side::Caller)],
            "the caller sends on the second m-line"
        );
        let people = participants(offer.metadata.as_ref(), &req);
        assert_eq!(people.len(), 2, "two participants");
        assert_eq!(people[0].number, "sip:201@pbx", "first participant");
        assert_eq!(people[0].role, ParticipantRole::Caller, "is the caller");
        assert_eq!(people[1].number, "sip:202@pbx", "AoR without a name");
    }

    #[test]
    fn without_metadata_m_line_order_and_from_to_decide() {
        let req = invite("", "application/sdp", SDP);
        let offer = parse(&req).expect("valid offer");
        let plan = AnswerPlan::new(&offer.sdp, AnswerMode::Record).expect("answerable");
        assert_eq!(sides(&plan, None), [Some(Side::Caller), Some(Side::Callee)], "by order");
        let people = participants(None, &req);
        assert_eq!(people[0].number, "sip:src@h", "From is the caller");
        assert_eq!(people[0].name, "Src", "display name");
    }

    #[test]
    fn refusals_carry_the_right_status() {
        let bad_mode = invite("X-MDC-MON-MODE: sometimes\r\n", "application/sdp", SDP);
        assert_eq!(mon_mode(&bad_mode).map_err(|r| r.code), Err(400), "unknown mon mode");
        let force = invite("X-MDC-MON-MODE: FORCE\r\n", "application/sdp", SDP);
        assert_eq!(mon_mode(&force), Ok(MonMode::Force), "case-insensitive");
        let cases = [
            ("application/sdp", "v=1\r\n".to_string(), 400, RejectKind::Sdp),
            (
                "multipart/mixed;boundary=b",
                multipart(
                    SDP,
                    "<recording xmlns=\"urn:ietf:params:xml:ns:recording:1\"><participant>",
                ),
                400,
                RejectKind::Metadata,
            ),
            (
                "multipart/mixed;boundary=b",
                "no delimiter".to_string(),
                400,
                RejectKind::Sip,
            ),
            ("text/plain", "hello".to_string(), 415, RejectKind::Unacceptable),
        ];
        for (ct, body, code, kind) in cases {
            let r = parse(&invite("", ct, &body)).expect_err("refused");
            assert_eq!((r.code, r.kind), (code, kind), "{ct}: {}", r.reason);
        }
        let req = invite("Require: siprec, 100rel\r\n", "application/sdp", SDP);
        assert_eq!(unsupported_requirements(&req), ["100rel"], "100rel is not supported");
    }

    #[test]
    fn inactive_offer_is_a_hold() {
        let held = SDP.replace("a=sendonly", "a=inactive");
        let offer = parse(&invite("", "application/sdp", &held)).expect("valid");
        let plan = AnswerPlan::new(&offer.sdp, AnswerMode::Record).expect("answerable");
        assert!(is_held(&plan), "all streams inactive");
        let offer = parse(&invite("", "application/sdp", SDP)).expect("valid");
        let plan = AnswerPlan::new(&offer.sdp, AnswerMode::Record).expect("answerable");
        assert!(!is_held(&plan), "sendonly streams flow");
    }
}
