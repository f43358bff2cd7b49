//! SIP: datagram and stream parsing, header accessors, responses, and the invariant that a
//! parsed message serialises to bytes that parse back to the same message.
#![no_main]

use callrec_media::sip::{parse_datagram, parse_stream, response_to, Limits, Message, Streamed};
use libfuzzer_sys::fuzz_target;

/// Roomier limits for re-parsing: serialising may lengthen lines (CRLF, folded values).
const RELAXED: Limits = Limits {
    max_message: 256 * 1024,
    max_headers: 256,
    max_header_line: 128 * 1024,
    max_body: 128 * 1024,
};

fn exercise(m: &Message) {
    let _ = m.call_id();
    let _ = m.cseq();
    let _ = m.from().map(|f| f.to_string());
    let _ = m
        .to()
        .map(|t| (t.tag().map(str::to_owned), t.user().map(str::to_owned)));
    let _ = m.vias().map(|v| v.iter().map(|v| v.to_string()).collect::<Vec<_>>());
    let _ = m.top_via();
    if let Ok(Some(c)) = callrec_media::sip::consent::consent(m) {
        let by = c.by.unwrap_or_default();
        assert!(by.chars().count() <= callrec_media::sip::consent::MAX_BY, "by within its limit");
    }
    if let Ok(r) = response_to(m, 200, "", Some("fuzz")) {
        let bytes = r.to_bytes();
        parse_datagram(&bytes, &RELAXED).expect("a built response parses");
    }
    let bytes = m.to_bytes();
    let back = parse_datagram(&bytes, &RELAXED).expect("a serialised message parses");
    assert_eq!(back.start, m.start, "start line survives");
    assert_eq!(back.body, m.body, "body survives");
    let other = |m: &Message| {
        m.headers
            .iter()
            .filter(|h| !h.name.eq_ignore_ascii_case("Content-Length"))
            .map(|h| (h.name.clone(), h.value.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(other(&back), other(m), "headers survive");
}

fuzz_target!(|data: &[u8]| {
    if let Ok(m) = parse_datagram(data, &Limits::DEFAULT) {
        exercise(&m);
    }
    match parse_stream(data, &Limits::DEFAULT) {
        Ok(Streamed::Message { message, consumed }) => {
            assert!(consumed <= data.len(), "consumed within the buffer");
            exercise(&message);
        }
        Ok(Streamed::KeepAlive { consumed }) => assert!(consumed > 0 && consumed <= data.len()),
        Ok(Streamed::Incomplete) | Err(_) => {}
    }
});
