//! The sealed file format (issue #12.1). Two modes, picked by the first byte:
//! - arbitrary bytes as a stored file: parsing its header and opening it never panics, and
//!   the length arithmetic (`plain_len`, `plain_len_within`, `sealed_len`) agrees with itself
//!   for every file length;
//! - a real sealed file of a plaintext the input sizes, then altered by the input (bytes
//!   flipped, the file cut): it opens to exactly its plaintext when nothing changed, and is
//!   refused whenever any byte changed — never some other plaintext.
#![no_main]

use callrec_media::sealed::format::{open_bytes, seal_bytes, Header};
use callrec_media::sealed::MasterKey;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let key = MasterKey::from_bytes([7; 32]);
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode % 2 == 0 {
        let _ = open_bytes(&key, rest);
        if let Ok(chunks) = Header::parse(rest).and_then(|h| h.open(&key)) {
            for len in [rest.len() as u64, 0, 95, 96, 136, 200, 16_500, u64::from(u32::MAX)] {
                if let Ok(plain) = chunks.plain_len(len) {
                    assert_eq!(chunks.sealed_len(plain), len, "plain_len inverts sealed_len");
                }
                if let Some(plain) = chunks.plain_len_within(len) {
                    assert!(chunks.sealed_len(plain) <= len, "what fits, fits");
                }
            }
        }
        return;
    }
    if rest.len() < 2 {
        return;
    }
    // Up to 64 KiB of plaintext: several 16 KiB chunks and a short last one.
    let len = usize::from(u16::from_le_bytes([rest[0], rest[1]]));
    let plain: Vec<u8> = (0..len).map(|i| (i * 31 + i / 256) as u8).collect();
    let sealed = seal_bytes(&key, &plain);
    let mut altered = sealed.clone();
    for op in rest[2..].chunks_exact(4) {
        let at = (usize::from(op[0]) | usize::from(op[1]) << 8 | usize::from(op[2]) << 16) % (altered.len() + 1);
        if op[3] == 0 {
            altered.truncate(at);
        } else if at < altered.len() {
            altered[at] ^= op[3];
        }
    }
    match open_bytes(&key, &altered) {
        Ok(back) => {
            assert!(altered == sealed, "an altered file opened");
            assert!(back == plain, "the plaintext back");
        }
        Err(e) => assert!(altered != sealed, "the unaltered file was refused: {e}"),
    }
});
