//! RTP packets (RFC 3550 §5.1): header parsing with bounds checks, and classification of
//! what arrives on a recording port — G.711 audio, telephone-event (RFC 4733), comfort
//! noise (RFC 3389), or RTCP multiplexed on the same port (RFC 5761 §4).
//!
//! Parsing borrows from the datagram: no allocation per packet.

use crate::g711::Law;
use crate::sdp::Media;

/// The RTP version this parser accepts (RFC 3550 §5.1).
pub const RTP_VERSION: u8 = 2;
/// The fixed header length.
pub const HEADER_LEN: usize = 12;

/// Why a datagram is not a usable RTP packet.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RtpError {
    /// Shorter than the 12-byte fixed header.
    #[error("RTP packet shorter than its fixed header")]
    TooShort,
    /// Version field other than 2.
    #[error("RTP version {0} (expected 2)")]
    BadVersion(u8),
    /// The CSRC list runs past the end of the packet.
    #[error("RTP CSRC list exceeds the packet")]
    CsrcOverrun,
    /// The header extension runs past the end of the packet.
    #[error("RTP header extension exceeds the packet")]
    ExtensionOverrun,
    /// The padding count is 0 or larger than the payload (§5.1 "P").
    #[error("RTP padding count is invalid")]
    BadPadding,
}

/// The fixed RTP header (RFC 3550 §5.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtpHeader {
    /// P: the payload ends with padding.
    pub padding: bool,
    /// X: a header extension follows the CSRC list.
    pub extension: bool,
    /// CC: number of CSRC identifiers.
    pub csrc_count: u8,
    /// M: profile-defined marker (start of a talk spurt for audio, RFC 3551 §4.1).
    pub marker: bool,
    /// PT: payload type.
    pub payload_type: u8,
    /// Sequence number (wraps at 2^16).
    pub sequence: u16,
    /// Sampling instant of the first payload octet (wraps at 2^32).
    pub timestamp: u32,
    /// Synchronisation source.
    pub ssrc: u32,
}

/// A header extension (§5.3.1): profile-defined 16 bits and the data words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Extension<'a> {
    /// The profile-defined first 16 bits (e.g. 0xBEDE for RFC 8285 one-byte headers).
    pub profile: u16,
    /// The extension data (a multiple of 4 bytes).
    pub data: &'a [u8],
}

/// A parsed RTP packet borrowing from its datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtpPacket<'a> {
    /// The fixed header.
    pub header: RtpHeader,
    csrc: &'a [u8],
    /// The header extension, if X was set.
    pub extension: Option<Extension<'a>>,
    /// The payload without padding.
    pub payload: &'a [u8],
}

impl<'a> RtpPacket<'a> {
    /// Parses a datagram as RTP.
    pub fn parse(buf: &'a [u8]) -> Result<RtpPacket<'a>, RtpError> {
        if buf.len() < HEADER_LEN {
            return Err(RtpError::TooShort);
        }
        let version = buf[0] >> 6;
        if version != RTP_VERSION {
            return Err(RtpError::BadVersion(version));
        }
        let header = RtpHeader {
            padding: buf[0] & 0x20 != 0,
            extension: buf[0] & 0x10 != 0,
            csrc_count: buf[0] & 0x0F,
            marker: buf[1] & 0x80 != 0,
            payload_type: buf[1] & 0x7F,
            sequence: u16::from_be_bytes([buf[2], buf[3]]),
            timestamp: u32::from_be_bytes([buf[4], buf[5], buf[6], buf[7]]),
            ssrc: u32::from_be_bytes([buf[8], buf[9], buf[10], buf[11]]),
        };
        let csrc_end = HEADER_LEN + 4 * usize::from(header.csrc_count);
        let csrc = buf.get(HEADER_LEN..csrc_end).ok_or(RtpError::CsrcOverrun)?;
        let mut pos = csrc_end;
        let extension = if header.extension {
            let head = buf.get(pos..pos + 4).ok_or(RtpError::ExtensionOverrun)?;
            let profile = u16::from_be_bytes([head[0], head[1]]);
            let words = usize::from(u16::from_be_bytes([head[2], head[3]]));
            let data = buf
                .get(pos + 4..pos + 4 + 4 * words)
                .ok_or(RtpError::ExtensionOverrun)?;
            pos += 4 + 4 * words;
            Some(Extension { profile, data })
        } else {
            None
        };
        let mut payload = &buf[pos..];
        if header.padding {
            // The last octet counts the padding octets, itself included (§5.1).
            let count = usize::from(*payload.last().ok_or(RtpError::BadPadding)?);
            if count == 0 || count > payload.len() {
                return Err(RtpError::BadPadding);
            }
            payload = &payload[..payload.len() - count];
        }
        Ok(RtpPacket {
            header,
            csrc,
            extension,
            payload,
        })
    }

    /// The contributing sources.
    pub fn csrcs(&self) -> impl Iterator<Item = u32> + 'a {
        self.csrc
            .chunks_exact(4)
            .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
    }
}

/// Appends a packet with the fixed header only (no CSRC, extension or padding) — what a
/// simulator or a test sends.
pub fn write_packet(header: &RtpHeader, payload: &[u8], out: &mut Vec<u8>) {
    out.push(RTP_VERSION << 6);
    out.push(u8::from(header.marker) << 7 | (header.payload_type & 0x7F));
    out.extend_from_slice(&header.sequence.to_be_bytes());
    out.extend_from_slice(&header.timestamp.to_be_bytes());
    out.extend_from_slice(&header.ssrc.to_be_bytes());
    out.extend_from_slice(payload);
}

/// Whether a datagram on an RTP port is RTCP: its second octet is an RTCP packet type
/// 200–204 (SR, RR, SDES, BYE, APP), i.e. RTP payload types 72–76 with the marker set
/// (RFC 5761 §4).
pub fn is_rtcp(buf: &[u8]) -> bool {
    buf.len() >= 2 && buf[0] >> 6 == RTP_VERSION && (72..=76).contains(&(buf[1] & 0x7F))
}

/// The payload types a stream negotiated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayloadMap {
    audio: Vec<(u8, Law)>,
    telephone_event: Option<u8>,
    comfort_noise: Option<u8>,
}

impl PayloadMap {
    /// PCMU 0, PCMA 8, comfort noise 13 (RFC 3551 table 4), no telephone-event.
    pub fn static_types() -> PayloadMap {
        PayloadMap {
            audio: vec![(0, Law::Ulaw), (8, Law::Alaw)],
            telephone_event: None,
            comfort_noise: Some(13),
        }
    }

    /// The G.711, telephone-event and CN types an SDP media description offers.
    pub fn from_media(media: &Media) -> PayloadMap {
        let audio = media
            .payload_types()
            .filter_map(|pt| media.law_of(pt).map(|law| (pt, law)))
            .collect();
        let comfort_noise = media
            .rtpmaps()
            .find(|m| m.encoding.eq_ignore_ascii_case("CN"))
            .map(|m| m.payload_type)
            .or(Some(13));
        PayloadMap {
            audio,
            telephone_event: media.telephone_event(),
            comfort_noise,
        }
    }

    /// The law of an audio payload type.
    pub fn law(&self, pt: u8) -> Option<Law> {
        self.audio.iter().find(|(p, _)| *p == pt).map(|(_, l)| *l)
    }
}

/// What a datagram on a recording port is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PacketKind<'a> {
    /// RTCP: not parsed, ignored by the recorder.
    Rtcp,
    /// G.711 audio to record.
    Audio {
        /// The packet.
        packet: RtpPacket<'a>,
        /// Its law.
        law: Law,
    },
    /// DTMF (RFC 4733): ignored, but its timestamps keep the stream's clock.
    TelephoneEvent(RtpPacket<'a>),
    /// Comfort noise (RFC 3389): silence to be padded.
    ComfortNoise(RtpPacket<'a>),
    /// A payload type the stream did not negotiate.
    Other(RtpPacket<'a>),
}

/// Classifies a datagram received on a recording port.
pub fn classify<'a>(buf: &'a [u8], map: &PayloadMap) -> Result<PacketKind<'a>, RtpError> {
    if is_rtcp(buf) {
        return Ok(PacketKind::Rtcp);
    }
    let packet = RtpPacket::parse(buf)?;
    let pt = packet.header.payload_type;
    Ok(if let Some(law) = map.law(pt) {
        PacketKind::Audio { packet, law }
    } else if map.telephone_event == Some(pt) {
        PacketKind::TelephoneEvent(packet)
    } else if map.comfort_noise == Some(pt) {
        PacketKind::ComfortNoise(packet)
    } else {
        PacketKind::Other(packet)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(pt: u8, seq: u16) -> RtpHeader {
        RtpHeader {
            padding: false,
            extension: false,
            csrc_count: 0,
            marker: true,
            payload_type: pt,
            sequence: seq,
            timestamp: 0xDEAD_BEEF,
            ssrc: 0x1234_5678,
        }
    }

    #[test]
    fn parses_what_write_packet_writes() {
        let mut buf = Vec::new();
        write_packet(&header(8, 65535), &[0xD5; 160], &mut buf);
        let p = RtpPacket::parse(&buf).expect("valid");
        assert_eq!(p.header, header(8, 65535), "header round trip");
        assert_eq!(p.payload.len(), 160, "payload");
        assert_eq!(p.csrcs().count(), 0, "no CSRC");
    }

    #[test]
    fn csrc_extension_and_padding() {
        let mut buf = vec![0x80 | 0x20 | 0x10 | 2, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3];
        buf.extend_from_slice(&[0, 0, 0, 9, 0, 0, 0, 10]); // two CSRCs
        buf.extend_from_slice(&[0xBE, 0xDE, 0, 1, 1, 2, 3, 4]); // one-word extension
        buf.extend_from_slice(&[0xFF, 0xFF, 0, 0, 3]); // 2 payload bytes, 3 padding bytes
        let p = RtpPacket::parse(&buf).expect("valid");
        assert_eq!(p.csrcs().collect::<Vec<_>>(), [9, 10], "CSRCs");
        assert_eq!(
            p.extension.map(|e| (e.profile, e.data.len())),
            Some((0xBEDE, 4)),
            "extension"
        );
        assert_eq!(p.payload, &[0xFF, 0xFF], "padding removed");
    }

    #[test]
    fn malformed_packets_get_named_errors() {
        assert_eq!(RtpPacket::parse(&[0x80; 11]), Err(RtpError::TooShort), "short");
        assert_eq!(RtpPacket::parse(&[0x40; 12]), Err(RtpError::BadVersion(1)), "version 1");
        let mut csrc = vec![0x8F];
        csrc.extend_from_slice(&[0; 11]);
        assert_eq!(RtpPacket::parse(&csrc), Err(RtpError::CsrcOverrun), "15 CSRCs claimed");
        let mut ext = vec![0x90];
        ext.extend_from_slice(&[0; 11]);
        ext.extend_from_slice(&[0, 0, 0, 5]);
        assert_eq!(
            RtpPacket::parse(&ext),
            Err(RtpError::ExtensionOverrun),
            "5 words claimed"
        );
        let mut pad = vec![0xA0];
        pad.extend_from_slice(&[0; 11]);
        assert_eq!(RtpPacket::parse(&pad), Err(RtpError::BadPadding), "padding, no payload");
        pad.extend_from_slice(&[1, 9]);
        assert_eq!(
            RtpPacket::parse(&pad),
            Err(RtpError::BadPadding),
            "count beyond payload"
        );
        *pad.last_mut().expect("non-empty") = 0;
        assert_eq!(RtpPacket::parse(&pad), Err(RtpError::BadPadding), "count 0");
    }

    #[test]
    fn classification() {
        let map = PayloadMap {
            audio: vec![(0, Law::Ulaw), (8, Law::Alaw)],
            telephone_event: Some(101),
            comfort_noise: Some(13),
        };
        let mut buf = Vec::new();
        write_packet(&header(0, 1), &[0xFF], &mut buf);
        assert!(
            matches!(classify(&buf, &map), Ok(PacketKind::Audio { law: Law::Ulaw, .. })),
            "PCMU"
        );
        buf.clear();
        write_packet(&header(101, 1), &[0; 4], &mut buf);
        assert!(
            matches!(classify(&buf, &map), Ok(PacketKind::TelephoneEvent(_))),
            "DTMF"
        );
        buf.clear();
        write_packet(&header(13, 1), &[0], &mut buf);
        assert!(matches!(classify(&buf, &map), Ok(PacketKind::ComfortNoise(_))), "CN");
        buf.clear();
        write_packet(&header(18, 1), &[0], &mut buf);
        assert!(
            matches!(classify(&buf, &map), Ok(PacketKind::Other(_))),
            "G.729 unnegotiated"
        );
        // An RTCP receiver report: V=2, RC=0, PT=201.
        assert_eq!(
            classify(&[0x80, 201, 0, 1, 0, 0, 0, 1], &map),
            Ok(PacketKind::Rtcp),
            "RTCP RR"
        );
        assert_eq!(classify(&[0x80, 200], &map), Ok(PacketKind::Rtcp), "RTCP SR");
        assert!(!is_rtcp(&[0x80, 0x80]), "PT 0 with marker is RTP");
    }

    #[test]
    fn payload_map_from_sdp() {
        let sdp = crate::sdp::SessionDescription::parse(
            b"v=0\no=- 1 1 IN IP4 a\nm=audio 1 RTP/AVP 8 96 101\na=rtpmap:96 PCMU/8000\n\
              a=rtpmap:101 telephone-event/8000\n",
        )
        .expect("valid");
        let map = PayloadMap::from_media(&sdp.media[0]);
        assert_eq!(map.law(8), Some(Law::Alaw), "static PCMA");
        assert_eq!(map.law(96), Some(Law::Ulaw), "dynamic PCMU");
        assert_eq!(map.law(0), None, "PT 0 not offered");
        assert_eq!(map.telephone_event, Some(101), "DTMF type");
    }
}
