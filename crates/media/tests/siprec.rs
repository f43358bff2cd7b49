//! The crate's story test: a SIPREC INVITE (RFC 7866 §A.1 style) arrives over TCP, is
//! answered, its two RTP streams are mixed into a stereo WAV on the call clock, and the
//! result is served as PCM16 — using only the public API, the way the recorder will.

use std::io::Cursor;

use callrec_media::g711::Law;
use callrec_media::jitter::{JitterConfig, Packet, Side, StereoMixer};
use callrec_media::metadata::Metadata;
use callrec_media::rtp::{classify, write_packet, PacketKind, PayloadMap, RtpHeader};
use callrec_media::sdp::{AnswerMode, AnswerPlan, LocalMedia, SessionDescription};
use callrec_media::sip::{parse_stream, response_to, Limits, Method, Streamed};
use callrec_media::wav::{Pcm16Transcoder, WavFile, WavInfo, WavWriter};
use callrec_media::{multipart, sip};

const SDP: &str = "v=0\r\n\
o=SRC 2890844526 2890844526 IN IP4 198.51.100.1\r\n\
s=SIPREC\r\n\
c=IN IP4 198.51.100.1\r\n\
t=0 0\r\n\
m=audio 12240 RTP/AVP 0 101\r\n\
a=rtpmap:0 PCMU/8000\r\n\
a=rtpmap:101 telephone-event/8000\r\n\
a=label:96\r\n\
a=sendonly\r\n\
m=audio 12242 RTP/AVP 0 101\r\n\
a=rtpmap:0 PCMU/8000\r\n\
a=rtpmap:101 telephone-event/8000\r\n\
a=label:97\r\n\
a=sendonly\r\n";

const XML: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<recording xmlns="urn:ietf:params:xml:ns:recording:1">
  <datamode>complete</datamode>
  <session session_id="hVpd7YQgRW2nD22h7q60JQ==">
    <sipSessionID>ab30317f1a784dc48ff824d0d3715d86;remote=47755a9de7794ba387653f2099600ef2</sipSessionID>
  </session>
  <participant participant_id="caller==">
    <nameID aor="sip:201@pbx.example.com"><name>Alice</name></nameID>
  </participant>
  <participant participant_id="callee==">
    <nameID aor="sip:+4930123456@carrier.example.net"><name>Bob</name></nameID>
  </participant>
  <stream stream_id="s-alice" session_id="hVpd7YQgRW2nD22h7q60JQ=="><label>96</label></stream>
  <stream stream_id="s-bob" session_id="hVpd7YQgRW2nD22h7q60JQ=="><label>97</label></stream>
  <participantstreamassoc participant_id="caller=="><send>s-alice</send><recv>s-bob</recv></participantstreamassoc>
  <participantstreamassoc participant_id="callee=="><send>s-bob</send><recv>s-alice</recv></participantstreamassoc>
</recording>"#;

fn invite() -> Vec<u8> {
    let body = format!(
        "--foobar\r\nContent-Type: application/sdp\r\n\r\n{SDP}\r\n\
         --foobar\r\nContent-Type: application/rs-metadata+xml\r\n\
         Content-Disposition: recording-session\r\n\r\n{XML}\r\n--foobar--\r\n"
    );
    format!(
        "INVITE sip:recorder@192.0.2.10;transport=tcp SIP/2.0\r\n\
         Via: SIP/2.0/TCP src.example.com;branch=z9hG4bKdf6b622b648d9\r\n\
         From: <sip:2000@src.example.com>;tag=35e195d2-947d-4585-946f-09839247\r\n\
         To: <sip:recorder@192.0.2.10>\r\n\
         Call-ID: d253c800-b0d1ea39-4a7dd-3f0e20a\r\n\
         Session-ID: ab30317f1a784dc48ff824d0d3715d86;remote=00000000000000000000000000000000\r\n\
         CSeq: 101 INVITE\r\n\
         Max-Forwards: 70\r\n\
         Require: siprec\r\n\
         Accept: application/sdp, application/rs-metadata, application/rs-metadata-request\r\n\
         Contact: <sip:2000@src.example.com>;+sip.src\r\n\
         X-MDC-MON-MODE: auto\r\n\
         Content-Type: multipart/mixed;boundary=foobar\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

#[test]
fn siprec_invite_to_stereo_wav() {
    // 1. Framing: the INVITE arrives in two TCP reads.
    let wire = invite();
    let (first, _) = wire.split_at(300);
    assert_eq!(
        parse_stream(first, &Limits::DEFAULT),
        Ok(Streamed::Incomplete),
        "half an INVITE"
    );
    let Ok(Streamed::Message { message: req, consumed }) = parse_stream(&wire, &Limits::DEFAULT) else {
        panic!("a whole INVITE");
    };
    assert_eq!(consumed, wire.len(), "one message");
    assert_eq!(req.method(), Some(&Method::Invite), "INVITE");
    assert_eq!(req.headers.get("x-mdc-mon-mode"), Some("auto"), "mon mode header");

    // 2. Body: SDP + metadata.
    let parts = multipart::parse(req.content_type().expect("Content-Type"), &req.body).expect("multipart");
    let sdp_part = parts
        .iter()
        .find(|p| p.content_type().is("application/sdp"))
        .expect("SDP part");
    let xml_part = parts
        .iter()
        .find(|p| p.content_type().is("application/rs-metadata+xml"))
        .expect("metadata part");
    let offer = SessionDescription::parse(&sdp_part.body).expect("SDP offer");
    let meta = Metadata::parse(&xml_part.body).expect("metadata");
    assert_eq!(meta.caller().and_then(|p| p.name.as_deref()), Some("Alice"), "caller");

    // 3. Answer: 200 OK with recvonly SDP on two local ports.
    let plan = AnswerPlan::new(&offer, AnswerMode::Record).expect("answerable");
    let sdp = plan
        .render(
            &LocalMedia {
                address: "192.0.2.10",
                session_id: 1,
                session_version: 1,
            },
            &[40000, 40002],
        )
        .expect("answer");
    let mut ok = response_to(&req, 200, "", Some("rec-1")).expect("200 OK");
    ok.headers.push("Contact", "<sip:recorder@192.0.2.10;transport=tcp>");
    ok.set_body("application/sdp", sdp.into_bytes());
    let ok_back = sip::parse_datagram(&ok.to_bytes(), &Limits::DEFAULT).expect("200 OK parses");
    assert_eq!(ok_back.to().expect("To").tag(), Some("rec-1"), "dialog tag");
    let answer = SessionDescription::parse(&ok_back.body).expect("answer SDP");
    assert_eq!(answer.media.len(), 2, "two m-lines");

    // 4. Media: which side each stream feeds, by label → stream → sender.
    let sides: Vec<(Side, PayloadMap)> = plan
        .accepted()
        .map(|s| {
            let label = s.label.as_deref().expect("labelled");
            let sender = meta.sender_of_label(label).expect("a sender");
            let side = if Some(sender) == meta.caller() {
                Side::Caller
            } else {
                Side::Callee
            };
            (side, PayloadMap::from_media(&offer.media[s.index]))
        })
        .collect();
    assert_eq!(sides[0].0, Side::Caller, "label 96 is Alice");
    assert_eq!(sides[1].0, Side::Callee, "label 97 is Bob");

    // 5. One second of RTP on both streams (Bob starts 100 ms later, sends one DTMF packet)
    //    plus an RTCP packet, mixed and written with a flush every 200 ms.
    let mut mixer = StereoMixer::new(Law::Ulaw, 0, JitterConfig::default());
    let state = WavWriter::stereo(Law::Ulaw, 8000).expect("format");
    let mut wav = WavFile::create(Cursor::new(Vec::new()), state).expect("create");
    let mut frames = Vec::new();
    let mut dgram = Vec::new();
    for tick in 0..50u16 {
        let now = u64::from(tick) * 160;
        for (i, (side, map)) in sides.iter().enumerate() {
            if *side == Side::Callee && tick < 5 {
                continue;
            }
            let pt = if *side == Side::Callee && tick == 20 { 101 } else { 0 };
            dgram.clear();
            let header = RtpHeader {
                padding: false,
                extension: false,
                csrc_count: 0,
                marker: false,
                payload_type: pt,
                sequence: tick,
                timestamp: u32::from(tick) * 160,
                ssrc: 0xA000 + i as u32,
            };
            write_packet(&header, &[0x10 + i as u8; 160], &mut dgram);
            match classify(&dgram, map).expect("valid RTP") {
                PacketKind::Audio { packet, law } => {
                    mixer.push(*side, Packet::from_rtp(&packet, law), now);
                }
                PacketKind::TelephoneEvent(p) => {
                    mixer.mark_received(*side, p.header.sequence, p.header.ssrc);
                }
                other => panic!("unexpected {other:?}"),
            }
        }
        assert_eq!(
            classify(&[0x80, 200, 0, 6], &sides[0].1),
            Ok(PacketKind::Rtcp),
            "RTCP ignored"
        );
        if tick % 10 == 9 {
            mixer.drain_to(now + 160, &mut frames);
            wav.write_frames(&frames).expect("write");
            wav.flush().expect("flush");
            frames.clear();
        }
    }
    let file = wav.finish().expect("finish").into_inner();

    // 6. The recording: one second of stereo µ-law, Bob silent for his first 100 ms and
    //    for the DTMF packet.
    let info = WavInfo::parse_with_file_len(&file, file.len() as u64).expect("valid WAV");
    assert_eq!(info.duration_ms(), 1000, "one second");
    assert_eq!(info.channels, 2, "stereo");
    let audio = &file[info.data_offset as usize..];
    assert_eq!(&audio[..2], &[0x10, 0xFF], "Alice talks, Bob not yet connected");
    assert_eq!(&audio[2 * 800..2 * 800 + 2], &[0x10, 0x11], "both at 100 ms");
    assert_eq!(
        audio[2 * 3200 + 1],
        0xFF,
        "Bob's DTMF packet is silence in the recording"
    );
    assert_eq!(mixer.side(Side::Callee).stats().lost, 0, "DTMF is not loss");

    // 7. Served as PCM16 with a byte range.
    let t = Pcm16Transcoder::new(&info).expect("G.711 source");
    assert_eq!(t.output_len(), 44 + 32_000, "PCM16 size");
    let src = t.source_range(44..48);
    let mut out = [0u8; 4];
    t.fill(44, &file[src.start as usize..src.end as usize], &mut out);
    assert_eq!(
        i16::from_le_bytes([out[0], out[1]]),
        Law::Ulaw.decode(0x10),
        "Alice's first sample"
    );
    assert_eq!(i16::from_le_bytes([out[2], out[3]]), 0, "Bob's silence decodes to 0");
}
