//! RTP: parsing and classification; a parsed payload lies inside the datagram.
#![no_main]

use callrec_media::rtp::{classify, PayloadMap, RtpPacket};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = classify(data, &PayloadMap::static_types());
    if let Ok(p) = RtpPacket::parse(data) {
        assert!(p.payload.len() + 12 <= data.len(), "payload inside the packet");
        assert_eq!(p.csrcs().count(), usize::from(p.header.csrc_count), "CSRC count");
    }
});
