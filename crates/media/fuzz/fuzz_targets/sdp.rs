//! SDP: parsing, and for answerable offers, that the rendered answer parses and has the
//! offer's number of m-lines (RFC 3264 §6), with SRTP streams answered `RTP/SAVP` and an
//! `a=crypto` of the offered tag and suite.
#![no_main]

use callrec_media::rtp::PayloadMap;
use callrec_media::sdp::{AnswerMode, AnswerPlan, LocalMedia, MasterKey, SessionDescription, SrtpPolicy};
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
    for (mode, policy) in [
        (AnswerMode::Record, SrtpPolicy::Allow),
        (AnswerMode::Deny, SrtpPolicy::Allow),
        (AnswerMode::Record, SrtpPolicy::Require),
    ] {
        let Ok(plan) = AnswerPlan::with_policy(&offer, mode, policy) else {
            continue;
        };
        let keys: Vec<Option<MasterKey>> = plan
            .accepted()
            .map(|s| {
                s.srtp.as_ref().map(|c| {
                    MasterKey::new(c.suite, vec![9; c.suite.key_len() + c.suite.salt_len()]).expect("key")
                })
            })
            .collect();
        let ports: Vec<u16> = (0..plan.accepted_count()).map(|i| 40000 + 2 * i as u16).collect();
        let local = LocalMedia {
            address: "192.0.2.1",
            session_id: 1,
            session_version: 2,
        };
        let answer = plan.render_keyed(&local, &ports, &keys).expect("a valid plan renders");
        let parsed = SessionDescription::parse(answer.as_bytes()).expect("our answer parses");
        assert_eq!(
            parsed.media.len(),
            offer.media.len(),
            "one answer m-line per offer m-line"
        );
        for s in plan.accepted() {
            let m = &parsed.media[s.index];
            assert_eq!(m.is_srtp(), s.srtp.is_some(), "SRTP answered as SRTP");
            if let Some(c) = &s.srtp {
                assert_eq!(m.crypto().map(|a| (a.tag, a.suite)).ok(), Some((c.tag, c.suite)), "our a=crypto parses");
            }
        }
    }
});
