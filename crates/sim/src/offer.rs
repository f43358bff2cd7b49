//! The body of a SIPREC INVITE (RFC 7866 §8.1.1): `multipart/mixed` (RFC 2046 §5.1) with an
//! SDP offer of two send-only audio streams labelled `1` and `2` (RFC 4574 `a=label`) and
//! the recording metadata (RFC 7865) that names the two participants and says who sends on
//! which stream.

use std::fmt::Write as _;
use std::net::{IpAddr, SocketAddr};

use callrec_media::g711::Law;
use callrec_media::sdp::{Crypto, Direction, MasterKey};

/// The multipart boundary used by the simulator.
pub const BOUNDARY: &str = "callrec-sim-boundary-7f3a";
/// The `Content-Type` of the INVITE body.
pub const MULTIPART_TYPE: &str = "multipart/mixed;boundary=callrec-sim-boundary-7f3a";
/// The RTP payload type offered for DTMF (RFC 4733), which a recorder ignores.
pub const TELEPHONE_EVENT_PT: u8 = 101;

/// A party of the recorded call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Party {
    /// Address of record, e.g. `sip:201@pbx.example`.
    pub aor: String,
    /// Display name.
    pub name: String,
}

/// What goes into one offer.
#[derive(Debug, Clone)]
pub struct OfferSpec<'a> {
    /// Our RTP address.
    pub ip: IpAddr,
    /// Our RTP ports, per m-line.
    pub ports: [u16; 2],
    /// The codec offered on both streams.
    pub law: Law,
    /// `o=` session id and version.
    pub session_id: u64,
    /// `o=` version, incremented for each new offer in the dialog (RFC 3264 §8).
    pub version: u64,
    /// The direction of both streams (`sendonly`; `inactive` to pause).
    pub direction: Direction,
    /// Index of the m-line the caller sends on (0 or 1); the callee sends on the other.
    pub caller_stream: usize,
    /// The caller.
    pub caller: &'a Party,
    /// The callee.
    pub callee: &'a Party,
    /// A stable id of the recorded session (RFC 7865 `session_id`).
    pub recording_id: &'a str,
    /// Per m-line, the SRTP key we send with: the stream is offered `RTP/SAVP` with it in
    /// `a=crypto` (SDES, RFC 4568); `None` offers plain `RTP/AVP`.
    pub crypto: [Option<&'a MasterKey>; 2],
}

/// The SDP offer.
pub fn sdp(o: &OfferSpec<'_>) -> String {
    let (ip_type, ip) = match o.ip {
        IpAddr::V4(ip) => ("IP4", ip.to_string()),
        IpAddr::V6(ip) => ("IP6", ip.to_string()),
    };
    let pt = o.law.payload_type();
    let mut s = String::with_capacity(512);
    let _ = write!(
        s,
        "v=0\r\no=callrec-sim {} {} IN {ip_type} {ip}\r\ns=SIPREC\r\nc=IN {ip_type} {ip}\r\nt=0 0\r\n",
        o.session_id, o.version
    );
    for (i, port) in o.ports.iter().enumerate() {
        let key = o.crypto[i];
        let _ = write!(
            s,
            "m=audio {port} {proto} {pt} {te}\r\na=rtpmap:{pt} {enc}/8000\r\n\
             a=rtpmap:{te} telephone-event/8000\r\na=label:{label}\r\na={dir}\r\n",
            proto = if key.is_some() { "RTP/SAVP" } else { "RTP/AVP" },
            te = TELEPHONE_EVENT_PT,
            enc = o.law.encoding_name(),
            label = i + 1,
            dir = o.direction.as_str(),
        );
        if let Some(key) = key {
            let _ = write!(s, "a=crypto:{}\r\n", Crypto::answer_value(1, key));
        }
    }
    s
}

/// Escapes text for XML content and attribute values.
fn xml(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

/// The rs-metadata document (RFC 7865 §6, complete mode).
pub fn metadata(o: &OfferSpec<'_>) -> String {
    let id = xml(o.recording_id);
    let (caller_label, callee_label) = if o.caller_stream == 0 { (1, 2) } else { (2, 1) };
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<recording xmlns="urn:ietf:params:xml:ns:recording:1">
  <datamode>complete</datamode>
  <group group_id="g-{id}"/>
  <session session_id="s-{id}">
    <group-ref>g-{id}</group-ref>
  </session>
  <participant participant_id="caller-{id}">
    <nameID aor="{caller_aor}">
      <name>{caller_name}</name>
    </nameID>
  </participant>
  <participant participant_id="callee-{id}">
    <nameID aor="{callee_aor}">
      <name>{callee_name}</name>
    </nameID>
  </participant>
  <stream stream_id="st{caller_label}-{id}" session_id="s-{id}">
    <label>{caller_label}</label>
  </stream>
  <stream stream_id="st{callee_label}-{id}" session_id="s-{id}">
    <label>{callee_label}</label>
  </stream>
  <participantsessionassoc participant_id="caller-{id}" session_id="s-{id}"/>
  <participantsessionassoc participant_id="callee-{id}" session_id="s-{id}"/>
  <participantstreamassoc participant_id="caller-{id}">
    <send>st{caller_label}-{id}</send>
    <recv>st{callee_label}-{id}</recv>
  </participantstreamassoc>
  <participantstreamassoc participant_id="callee-{id}">
    <send>st{callee_label}-{id}</send>
    <recv>st{caller_label}-{id}</recv>
  </participantstreamassoc>
</recording>
"#,
        caller_aor = xml(&o.caller.aor),
        caller_name = xml(&o.caller.name),
        callee_aor = xml(&o.callee.aor),
        callee_name = xml(&o.callee.name),
    )
}

/// The `multipart/mixed` body holding `sdp` and `metadata` (RFC 7866 §8.1.1).
pub fn multipart(sdp: &str, metadata: &str) -> Vec<u8> {
    format!(
        "--{BOUNDARY}\r\nContent-Type: application/sdp\r\n\r\n{sdp}\r\n\
         --{BOUNDARY}\r\nContent-Type: application/rs-metadata+xml\r\n\
         Content-Disposition: recording-session\r\n\r\n{metadata}\r\n--{BOUNDARY}--\r\n"
    )
    .into_bytes()
}

/// A whole SIPREC INVITE from `me` to the recorder at `sip`, as bytes, over `transport`
/// (`UDP` or `TCP`, for the Via), with `X-MDC-MON-MODE: mon_mode`, a fixed caller
/// (+4930123) and callee (201), and RTP ports that nobody sends from. For tests and floods
/// that speak SIP without the simulator's dialog: a session never acknowledged, a source
/// over its limit.
pub fn raw_invite(sip: SocketAddr, me: SocketAddr, call_id: &str, transport: &str, mon_mode: &str) -> Vec<u8> {
    let caller = Party {
        aor: "sip:+4930123@carrier.example".into(),
        name: "Caller".into(),
    };
    let callee = Party {
        aor: "sip:201@pbx.example".into(),
        name: "Callee".into(),
    };
    let spec = OfferSpec {
        ip: me.ip(),
        ports: [49170, 49172],
        law: Law::Ulaw,
        session_id: 1,
        version: 1,
        direction: Direction::SendOnly,
        caller_stream: 0,
        caller: &caller,
        callee: &callee,
        recording_id: call_id,
        crypto: [None, None],
    };
    let body = multipart(&sdp(&spec), &metadata(&spec));
    let mut invite = format!(
        "INVITE sip:srs@{sip} SIP/2.0\r\nVia: SIP/2.0/{transport} {me};branch=z9hG4bK{call_id}\r\n\
         From: <sip:src@{me}>;tag=src1\r\nTo: <sip:srs@{sip}>\r\nCall-ID: {call_id}\r\n\
         CSeq: 1 INVITE\r\nContact: <sip:src@{me}>\r\nMax-Forwards: 70\r\nX-MDC-MON-MODE: {mon_mode}\r\n\
         Content-Type: {MULTIPART_TYPE}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    invite.extend_from_slice(&body);
    invite
}

#[cfg(test)]
mod tests {
    use super::*;
    use callrec_media::metadata::Metadata;
    use callrec_media::multipart;
    use callrec_media::sdp::SessionDescription;

    fn spec<'a>(caller: &'a Party, callee: &'a Party, caller_stream: usize) -> OfferSpec<'a> {
        OfferSpec {
            ip: "127.0.0.1".parse().expect("ip"),
            ports: [40000, 40002],
            law: Law::Alaw,
            session_id: 9,
            version: 1,
            direction: Direction::SendOnly,
            caller_stream,
            caller,
            callee,
            recording_id: "abc",
            crypto: [None, None],
        }
    }

    #[test]
    fn the_body_parses_back_with_the_media_crate() {
        let alice = Party {
            aor: "sip:201@pbx.example".into(),
            name: "Alice <&> Co".into(),
        };
        let bob = Party {
            aor: "sip:+4930123@carrier".into(),
            name: "Bob".into(),
        };
        for caller_stream in [0, 1] {
            let o = spec(&alice, &bob, caller_stream);
            let body = multipart(&sdp(&o), &metadata(&o));
            let parts = multipart::parse(MULTIPART_TYPE, &body).expect("multipart parses");
            assert_eq!(parts.len(), 2, "two parts");
            let offer = SessionDescription::parse(&parts[0].body).expect("SDP parses");
            assert_eq!(offer.media.len(), 2, "two m-lines");
            assert_eq!(offer.media[1].port, 40002, "second port");
            assert_eq!(offer.media[0].g711_choice(), Some((8, Law::Alaw)), "PCMA offered");
            let meta = Metadata::parse(&parts[1].body).expect("metadata parses");
            let caller_label = (caller_stream + 1).to_string();
            assert_eq!(
                meta.sender_of_label(&caller_label).and_then(|p| p.name.as_deref()),
                Some("Alice <&> Co"),
                "the caller sends on the m-line chosen"
            );
            assert_eq!(
                meta.caller().and_then(|p| p.aor.as_deref()),
                Some("sip:201@pbx.example")
            );
        }
    }

    #[test]
    fn an_srtp_offer_carries_our_key_in_a_crypto_line() {
        let alice = Party {
            aor: "sip:201@pbx.example".into(),
            name: "Alice".into(),
        };
        let suite = callrec_media::sdp::CryptoSuite::AesCm128HmacSha1_32;
        let key = MasterKey::new(suite, (0u8..30).collect()).expect("key");
        let mut o = spec(&alice, &alice, 0);
        o.crypto = [Some(&key), None];
        let offer = SessionDescription::parse(sdp(&o).as_bytes()).expect("SDP parses");
        assert!(offer.media[0].is_srtp(), "RTP/SAVP");
        let c = offer.media[0].crypto().expect("a usable a=crypto");
        assert_eq!((c.tag, c.suite, &c.key), (1, suite, &key), "our key, tag 1");
        assert!(!offer.media[1].is_srtp(), "the other stream stays plain");
    }
}
