//! `a=crypto` (RFC 4568): parsing never panics, a parsed key has exactly its suite's length,
//! and the answer line we would write for it parses back to the same suite and key.
#![no_main]

use callrec_media::sdp::{parse_crypto, Crypto};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(c) = parse_crypto(text) else {
        return;
    };
    assert_eq!(c.key.key().len(), c.suite.key_len(), "key length");
    assert_eq!(c.key.salt().len(), c.suite.salt_len(), "salt length");
    let back = parse_crypto(&Crypto::answer_value(c.tag, &c.key)).expect("our answer parses");
    assert_eq!((back.tag, back.suite, back.key), (c.tag, c.suite, c.key), "round trip");
});
