//! The SHA-256 of a recording's file as the player streams it (issue #12.3): every byte that
//! arrives from the server at the next offset not yet hashed is fed in, whichever response
//! brings it (the first one, one opened by a seek, a read-through), so the digest completes
//! when the file has passed from its first byte to its last — a play to the end. Bytes that
//! arrive out of order (after a forward seek) are not hashed; a later play from the start
//! completes it. The window compares the digest with the recording's signed evidence.

use sha2::{Digest, Sha256};
use std::sync::Mutex;

#[derive(Default)]
pub struct StreamDigest {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    hasher: Sha256,
    /// The offset of the next byte to hash.
    next: u64,
    /// The file's length; 0 until known.
    len: u64,
    /// The hex digest, once every byte went in.
    done: Option<String>,
}

impl StreamDigest {
    /// The file is `len` bytes long (an empty file is done at once).
    pub fn set_len(&self, len: u64) {
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        s.len = len;
        s.finish_if_complete();
    }

    /// Bytes of the file starting at `at`, as they arrived.
    pub fn feed(&self, at: u64, bytes: &[u8]) {
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if s.done.is_some() || s.len == 0 {
            return;
        }
        let end = at + bytes.len() as u64;
        if at <= s.next && s.next < end {
            let from = (s.next - at) as usize;
            let take = ((s.len - s.next) as usize).min(bytes.len() - from);
            s.hasher.update(&bytes[from..from + take]);
            s.next += take as u64;
            s.finish_if_complete();
        }
    }

    /// The hex SHA-256 of the whole file, once it has all streamed.
    pub fn sha256(&self) -> Option<String> {
        self.state.lock().unwrap_or_else(|p| p.into_inner()).done.clone()
    }
}

impl State {
    fn finish_if_complete(&mut self) {
        if self.done.is_none() && self.len > 0 && self.next >= self.len {
            let h = std::mem::take(&mut self.hasher).finalize();
            self.done = Some(h.iter().map(|b| format!("{b:02x}")).collect());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(b: &[u8]) -> String {
        Sha256::digest(b).iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn bytes_in_order_from_any_response_make_the_files_hash() {
        let file: Vec<u8> = (0..1000u32).map(|i| (i * 7) as u8).collect();
        let d = StreamDigest::default();
        d.set_len(file.len() as u64);
        d.feed(0, &file[..300]);
        d.feed(600, &file[600..700]); // a forward seek: not in order, not hashed
        assert_eq!(d.sha256(), None);
        d.feed(100, &file[100..650]); // overlaps what was hashed; only the new part counts
        assert_eq!(d.sha256(), None);
        d.feed(650, &file[650..]);
        assert_eq!(d.sha256(), Some(hex(&file)), "the whole file, each byte once");
        d.feed(0, b"late bytes change nothing");
        assert_eq!(d.sha256(), Some(hex(&file)));
    }
}
