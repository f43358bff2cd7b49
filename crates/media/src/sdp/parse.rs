//! Parsing an SDP session description (RFC 4566 §5) within fixed limits.
//!
//! Lines are `<type>=<value>` with a single-letter type; CRLF or bare LF line ends; blank
//! lines are skipped. Session-level lines come before the first `m=`, media-level lines
//! after it. Line types a recorder does not use (`i`, `u`, `e`, `p`, `b`, `z`, `k`, `r`)
//! are accepted and ignored, as are unknown ones.

use super::{Attribute, Connection, Media, Origin, SdpError, SessionDescription};

/// The largest SDP accepted.
pub const MAX_SDP_LEN: usize = 32 * 1024;
/// The most lines accepted.
pub const MAX_LINES: usize = 1024;
/// The most media descriptions accepted.
pub const MAX_MEDIA: usize = 32;
/// The most formats on one `m=` line.
const MAX_FORMATS: usize = 64;

impl SessionDescription {
    /// Parses an SDP body.
    pub fn parse(input: &[u8]) -> Result<SessionDescription, SdpError> {
        if input.len() > MAX_SDP_LEN {
            return Err(SdpError::TooLarge);
        }
        let text = std::str::from_utf8(input).map_err(|_| SdpError::NotUtf8)?;
        let mut lines = text
            .split('\n')
            .map(|l| l.strip_suffix('\r').unwrap_or(l))
            .enumerate()
            .map(|(i, l)| (i + 1, l))
            .filter(|(_, l)| !l.trim().is_empty());

        match lines.next() {
            Some((_, "v=0")) => {}
            _ => return Err(SdpError::BadVersion),
        }
        let mut origin = None;
        let mut session_name = String::new();
        let mut connection = None;
        let mut attributes = Vec::new();
        let mut media: Vec<Media> = Vec::new();

        for (count, (no, line)) in lines.enumerate() {
            if count + 1 >= MAX_LINES {
                return Err(SdpError::TooMany);
            }
            let b = line.as_bytes();
            // A CR or NUL inside a line could end it early for another parser (§5: no CR/LF
            // in values); refusing it keeps echoed values such as a=label safe to write back.
            if b.len() < 2 || b[1] != b'=' || !b[0].is_ascii_alphabetic() || b.contains(&b'\r') || b.contains(&0) {
                return Err(SdpError::BadLine(no));
            }
            let value = &line[2..];
            match (b[0], media.last_mut()) {
                (b'm', _) => {
                    if media.len() >= MAX_MEDIA {
                        return Err(SdpError::TooMany);
                    }
                    media.push(parse_media(value).ok_or(SdpError::BadMedia(no))?);
                }
                (b'o', None) => origin = Some(parse_origin(value).ok_or(SdpError::BadOrigin)?),
                (b's', None) => session_name = value.to_owned(),
                (b'c', None) => connection = Some(parse_connection(value).ok_or(SdpError::BadConnection(no))?),
                (b'c', Some(m)) => m.connection = Some(parse_connection(value).ok_or(SdpError::BadConnection(no))?),
                (b'a', None) => attributes.push(parse_attribute(value)),
                (b'a', Some(m)) => m.attributes.push(parse_attribute(value)),
                _ => {}
            }
        }
        Ok(SessionDescription {
            origin: origin.ok_or(SdpError::BadOrigin)?,
            session_name,
            connection,
            attributes,
            media,
        })
    }
}

fn parse_origin(v: &str) -> Option<Origin> {
    let f: Vec<&str> = v.split_ascii_whitespace().collect();
    let [username, session_id, session_version, net_type, addr_type, address] = f[..] else {
        return None;
    };
    Some(Origin {
        username: username.to_owned(),
        session_id: session_id.to_owned(),
        session_version: session_version.to_owned(),
        net_type: net_type.to_owned(),
        addr_type: addr_type.to_owned(),
        address: address.to_owned(),
    })
}

fn parse_connection(v: &str) -> Option<Connection> {
    let f: Vec<&str> = v.split_ascii_whitespace().collect();
    let [net_type, addr_type, address] = f[..] else {
        return None;
    };
    // Multicast suffixes `/ttl[/count]` are not an address.
    let address = address.split('/').next().unwrap_or(address);
    if address.is_empty() {
        return None;
    }
    Some(Connection {
        net_type: net_type.to_owned(),
        addr_type: addr_type.to_owned(),
        address: address.to_owned(),
    })
}

fn parse_media(v: &str) -> Option<Media> {
    let mut f = v.split_ascii_whitespace();
    let kind = f.next()?;
    let port_field = f.next()?;
    let (port, port_count) = match port_field.split_once('/') {
        Some((p, n)) => (p.parse().ok()?, Some(n.parse().ok()?)),
        None => (port_field.parse().ok()?, None),
    };
    let proto = f.next()?;
    let formats: Vec<String> = f.map(str::to_owned).collect();
    if formats.is_empty() || formats.len() > MAX_FORMATS {
        return None;
    }
    Some(Media {
        kind: kind.to_owned(),
        port,
        port_count,
        proto: proto.to_owned(),
        formats,
        connection: None,
        attributes: Vec::new(),
    })
}

fn parse_attribute(v: &str) -> Attribute {
    match v.split_once(':') {
        Some((n, val)) => Attribute {
            name: n.to_owned(),
            value: Some(val.to_owned()),
        },
        None => Attribute {
            name: v.to_owned(),
            value: None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::g711::Law;
    use crate::sdp::Direction;

    /// A SIPREC SRC offer in the style of RFC 7866 §A.1: two sendonly streams with labels.
    const OFFER: &str = "v=0\r\n\
        o=SRS 2890844526 2890844526 IN IP4 198.51.100.1\r\n\
        s=-\r\n\
        c=IN IP4 198.51.100.1\r\n\
        t=0 0\r\n\
        m=audio 12240 RTP/AVP 0 4 8 101\r\n\
        a=rtpmap:0 PCMU/8000\r\n\
        a=rtpmap:101 telephone-event/8000\r\n\
        a=fmtp:101 0-15\r\n\
        a=label:1\r\n\
        a=sendonly\r\n\
        m=audio 12242 RTP/AVP 8 0\r\n\
        c=IN IP4 198.51.100.2/127\r\n\
        a=label:2\r\n\
        a=sendonly\r\n";

    #[test]
    fn parses_a_siprec_offer() {
        let sdp = SessionDescription::parse(OFFER.as_bytes()).expect("valid offer");
        assert_eq!(sdp.origin.username, "SRS", "origin user");
        assert_eq!(sdp.origin.address, "198.51.100.1", "origin address");
        assert_eq!(sdp.media.len(), 2, "two streams");
        let m0 = &sdp.media[0];
        assert_eq!(m0.port, 12240, "port");
        assert_eq!(m0.payload_types().collect::<Vec<_>>(), [0, 4, 8, 101], "PTs");
        assert_eq!(m0.label(), Some("1"), "label");
        assert_eq!(m0.direction(), Some(Direction::SendOnly), "sendonly");
        assert_eq!(m0.g711_choice(), Some((0, Law::Ulaw)), "PCMU first");
        assert_eq!(m0.telephone_event(), Some(101), "telephone-event");
        assert_eq!(sdp.media[1].g711_choice(), Some((8, Law::Alaw)), "PCMA first");
        assert_eq!(
            sdp.connection_of(1).map(|c| c.address.as_str()),
            Some("198.51.100.2"),
            "media-level c= wins, TTL dropped"
        );
        assert_eq!(
            sdp.connection_of(0).map(|c| c.address.as_str()),
            Some("198.51.100.1"),
            "session-level c= applies"
        );
    }

    #[test]
    fn directions_default_and_inherit() {
        let text = "v=0\no=- 1 1 IN IP4 a\ns=x\na=inactive\nm=audio 1 RTP/AVP 0\n\
                    m=audio 2 RTP/AVP 0\na=recvonly\n";
        let sdp = SessionDescription::parse(text.as_bytes()).expect("valid");
        assert_eq!(sdp.direction_of(0), Direction::Inactive, "session-level inherited");
        assert_eq!(sdp.direction_of(1), Direction::RecvOnly, "media-level wins");
        let plain = "v=0\no=- 1 1 IN IP4 a\nm=audio 1 RTP/AVP 0\n";
        let sdp = SessionDescription::parse(plain.as_bytes()).expect("valid");
        assert_eq!(sdp.direction_of(0), Direction::SendRecv, "default sendrecv");
    }

    #[test]
    fn dynamic_g711_and_remapped_static_types() {
        let text = "v=0\no=- 1 1 IN IP4 a\nm=audio 1 RTP/AVP 96 0 8\n\
                    a=rtpmap:96 pcma/8000\na=rtpmap:0 G722/8000\n";
        let sdp = SessionDescription::parse(text.as_bytes()).expect("valid");
        assert_eq!(sdp.media[0].g711_choice(), Some((96, Law::Alaw)), "dynamic PCMA");
        assert_eq!(sdp.media[0].law_of(0), None, "rtpmap overrides the static meaning");
    }

    #[test]
    fn refusals_are_named() {
        let cases: [(&str, SdpError); 8] = [
            ("", SdpError::BadVersion),
            ("v=1\n", SdpError::BadVersion),
            ("v=0\ns=x\n", SdpError::BadOrigin),
            ("v=0\no=- 1 1 IN IP4\n", SdpError::BadOrigin),
            ("v=0\no=- 1 1 IN IP4 a\nbogus\n", SdpError::BadLine(3)),
            ("v=0\no=- 1 1 IN IP4 a\na=label:1\ra=x\n", SdpError::BadLine(3)),
            ("v=0\no=- 1 1 IN IP4 a\nc=IN IP4\n", SdpError::BadConnection(3)),
            ("v=0\no=- 1 1 IN IP4 a\nm=audio x RTP/AVP 0\n", SdpError::BadMedia(3)),
        ];
        for (text, want) in cases {
            assert_eq!(
                SessionDescription::parse(text.as_bytes()),
                Err(want.clone()),
                "{text:?} should be {want}"
            );
        }
        let big = vec![b'a'; MAX_SDP_LEN + 1];
        assert_eq!(SessionDescription::parse(&big), Err(SdpError::TooLarge), "size");
        let many = format!("v=0\no=- 1 1 IN IP4 a\n{}", "m=audio 1 RTP/AVP 0\n".repeat(33));
        assert_eq!(
            SessionDescription::parse(many.as_bytes()),
            Err(SdpError::TooMany),
            "media"
        );
        assert_eq!(
            SessionDescription::parse(b"v=0\no=- 1 1 IN IP4 \xff\n"),
            Err(SdpError::NotUtf8),
            "UTF-8"
        );
    }
}
