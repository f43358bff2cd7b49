//! SDP: parsing, and for answerable offers, that the rendered answer parses and has the
//! offer's number of m-lines (RFC 3264 §6).
#![no_main]

use callrec_media::rtp::PayloadMap;
use callrec_media::sdp::{AnswerMode, AnswerPlan, LocalMedia, SessionDescription};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(offer) = SessionDescription::parse(data) else {
        return;
    };
    for i in 0..offer.media.len() {
        let _ = offer.direction_of(i);
        let _ = offer.connection_of(i);
        let m = &offer.media[i];
        let _ = (m.label(), m.g711_choice(), m.telephone_event(), m.rtpmaps().count());
        let _ = PayloadMap::from_media(m);
    }
    for mode in [AnswerMode::Record, AnswerMode::Deny] {
        let Ok(plan) = AnswerPlan::new(&offer, mode) else {
            continue;
        };
        let ports: Vec<u16> = (0..plan.accepted_count()).map(|i| 40000 + 2 * i as u16).collect();
        let local = LocalMedia {
            address: "192.0.2.1",
            session_id: 1,
            session_version: 2,
        };
        let answer = plan.render(&local, &ports).expect("a valid plan renders");
        let parsed = SessionDescription::parse(answer.as_bytes()).expect("our answer parses");
        assert_eq!(
            parsed.media.len(),
            offer.media.len(),
            "one answer m-line per offer m-line"
        );
    }
});
