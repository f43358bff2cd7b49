//! The sealed file format (issue #12.1): one file's header and the layout and sealing of its
//! chunks. Pure functions over bytes; the server's `sealed::file` runs them over a `File`.
//!
//! Why a format of our own: no maintained crate offers an authenticated file that can be
//! read at random (an HTTP Range decrypts only the chunks it covers) *and* grows in place
//! while staying repairable after a crash. age and `aead::stream` (the STREAM construction
//! of Hoang, Reyhanitabar, Rogaway and Vizár, "Online Authenticated-Encryption and its
//! Nonce-Reuse Misuse-Resistance", 2015) are append-only streams. The format follows them:
//! like age's payload, the plaintext is cut into fixed-size chunks sealed one by one, each
//! chunk's index and a "last chunk" flag are authenticated with it (STREAM's nonce
//! counter and final bit), so truncating, reordering, duplicating or appending chunks is
//! detected. Unlike STREAM the index goes into the associated data and every seal takes a
//! fresh random 24-byte XChaCha20 nonce stored beside the chunk: a chunk rewritten with new
//! plaintext (the WAV header's sizes, the growing last chunk) never reuses a nonce.
//!
//! ```text
//! header (96 bytes)
//!   0  magic "CRSEAL"       6  version (1)     7  algorithm (1 = XChaCha20-Poly1305)
//!   8  master-key id (8 bytes: SHA-256("callrec master key id" ‖ key)[..8])
//!  16  first-chunk size (u32 LE)  20  chunk size (u32 LE)
//!  24  wrap nonce (24)       48  data key sealed by the master key (32 + 16-byte tag),
//!                                associated data = header bytes 0..24
//! chunk i: nonce (24) ‖ ciphertext ‖ tag (16), associated data = "callrec chunk" ‖ i (u64 LE) ‖ last (u8)
//!   chunk 0 holds the first `first` plaintext bytes (64: a WAV header), the others `chunk`
//!   bytes (16 KiB); only the last chunk may be shorter, and an empty file is one empty chunk.
//! ```
//!
//! Chunk 0 is small on purpose: the recorder rewrites the WAV header's sizes on every flush,
//! and the header plus chunk 0 (200 bytes) sit in the first 512-byte sector of the file, so
//! that rewrite (and a rekey's header rewrite) is one sector the disk writes whole.
//! Every file has its own random data key, so chunks cannot be moved between files either.
//!
//! Two chunk ciphers, named by the header's algorithm byte (the data-key wrap is always
//! XChaCha20-Poly1305): 1 = XChaCha20-Poly1305 (RustCrypto `chacha20poly1305`), the first
//! files written; 2 = AES-256-GCM from `ring` (BoringSSL's AES-NI/VAES + carry-less-multiply
//! assembly), written since. Measured on the 2-core AMD EPYC CI machine, 16 KiB chunks:
//! RustCrypto XChaCha20-Poly1305 ≈ 0.95 GB/s, RustCrypto AES-256-GCM ≈ 1.0 GB/s,
//! ring AES-256-GCM ≈ 5.6 GB/s — and a download that decrypts at 1 GB/s on a core that also
//! serves HTTP halves the throughput (issue #12's target is ≥ 0.8× of plaintext). Both use the
//! same layout: the 24-byte nonce slot holds XChaCha20's nonce, or AES-GCM's random 12-byte
//! nonce followed by 12 zero bytes (checked on open, so no byte of the slot is free to alter).
//! A random 96-bit nonce per seal under a per-file key: a one-hour recording seals about
//! 10,000 chunks (rewrites included), a collision chance far below 2^-60.

use std::sync::Arc;

use chacha20poly1305::aead::{AeadInPlace, KeyInit};
use chacha20poly1305::{Key, Tag, XChaCha20Poly1305, XNonce};
use rand::RngCore;
use ring::aead;

use super::key::{KeyId, MasterKey};

/// The first bytes of every sealed file.
pub const MAGIC: [u8; 6] = *b"CRSEAL";
/// The format version written and read.
pub const VERSION: u8 = 1;
/// Chunks sealed with XChaCha20-Poly1305 (read, no longer written).
pub const ALGORITHM_XCHACHA: u8 = 1;
/// Chunks sealed with AES-256-GCM (`ring`): what new files use.
pub const ALGORITHM_AES_GCM: u8 = 2;
/// AES-GCM's nonce bytes (the rest of the 24-byte slot is zero).
const GCM_NONCE_LEN: usize = 12;
/// Bytes of the file header.
pub const HEADER_LEN: u64 = 96;
/// Nonce bytes stored before each chunk.
pub const NONCE_LEN: usize = 24;
/// Tag bytes after each chunk.
pub const TAG_LEN: usize = 16;
/// What sealing adds to a chunk.
pub const OVERHEAD: u64 = (NONCE_LEN + TAG_LEN) as u64;
/// Plaintext bytes of chunk 0 written by callrec: a G.711 WAV header (58 bytes) and a little audio.
pub const FIRST_CHUNK: u32 = 64;
/// Plaintext bytes of every further chunk written by callrec.
pub const CHUNK: u32 = 16 * 1024;
/// Largest chunk a reader accepts (bounds what one chunk makes us allocate).
pub const MAX_CHUNK: u32 = 1 << 20;

const WRAP_AD_LEN: usize = 24;
const CHUNK_AD: &[u8] = b"callrec chunk";

/// Why a sealed file cannot be read.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum SealedError {
    /// The file is sealed but no `encryption_key_file` is configured.
    #[error("the file is encrypted and no encryption key is configured")]
    NoKey,
    /// Not a sealed file (no magic) or a header that does not parse.
    #[error("not a callrec sealed file or its header is damaged")]
    BadHeader,
    /// A version or algorithm this build does not know.
    #[error("sealed file version {0} is not supported")]
    Unsupported(u8),
    /// Sealed under another master key.
    #[error("sealed with master key {file}, but the configured key is {configured}")]
    WrongKey {
        /// The key id in the file.
        file: KeyId,
        /// The configured key's id.
        configured: KeyId,
    },
    /// The header's key id matches but the data key does not open: the header was altered.
    #[error("the sealed file's key header fails authentication (altered)")]
    HeaderAltered,
    /// Chunk `index` fails authentication: altered, moved, or the file was cut or extended.
    #[error("chunk {index} of the sealed file fails authentication (altered, reordered or truncated)")]
    ChunkAltered {
        /// Which chunk.
        index: u64,
    },
    /// The file length is not one a writer produces: cut inside a chunk or before one.
    #[error("the sealed file is truncated")]
    Truncated,
}

/// A parsed header: which key, the chunk sizes and the wrapped data key.
#[derive(Clone, PartialEq, Eq)]
pub struct Header {
    /// The chunk cipher ([`ALGORITHM_XCHACHA`] or [`ALGORITHM_AES_GCM`]).
    pub algorithm: u8,
    /// The master key that wraps the data key.
    pub key_id: KeyId,
    /// Plaintext bytes of chunk 0.
    pub first: u32,
    /// Plaintext bytes of every further chunk.
    pub chunk: u32,
    wrap_nonce: [u8; NONCE_LEN],
    wrapped: [u8; 32 + TAG_LEN],
}

impl std::fmt::Debug for Header {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Header")
            .field("key_id", &self.key_id)
            .field("first", &self.first)
            .field("chunk", &self.chunk)
            .finish_non_exhaustive()
    }
}

/// True when `bytes` start like a sealed file (what "encrypted or plaintext?" asks).
pub fn is_sealed(bytes: &[u8]) -> bool {
    bytes.len() >= MAGIC.len() && bytes[..MAGIC.len()] == MAGIC
}

fn fill_random(buf: &mut [u8]) {
    rand::rngs::OsRng.fill_bytes(buf);
}

impl Header {
    /// A new header with a fresh random data key, wrapped by `master`; returns the data key's cipher too.
    pub fn new(master: &MasterKey) -> (Header, Chunks) {
        let mut data_key = [0u8; 32];
        fill_random(&mut data_key);
        let header = Header::wrap(master, &data_key, ALGORITHM_AES_GCM, FIRST_CHUNK, CHUNK);
        let chunks = Chunks::new(&data_key, ALGORITHM_AES_GCM, FIRST_CHUNK, CHUNK);
        zero(&mut data_key);
        (header, chunks)
    }

    fn wrap(master: &MasterKey, data_key: &[u8; 32], algorithm: u8, first: u32, chunk: u32) -> Header {
        let mut h = Header {
            algorithm,
            key_id: master.id(),
            first,
            chunk,
            wrap_nonce: [0; NONCE_LEN],
            wrapped: [0; 32 + TAG_LEN],
        };
        fill_random(&mut h.wrap_nonce);
        let ad = h.wrap_ad();
        let mut buf = *data_key;
        let tag = master
            .cipher()
            .encrypt_in_place_detached(XNonce::from_slice(&h.wrap_nonce), &ad, &mut buf)
            .expect("XChaCha20-Poly1305 seals 32 bytes");
        h.wrapped[..32].copy_from_slice(&buf);
        h.wrapped[32..].copy_from_slice(&tag);
        zero(&mut buf);
        h
    }

    fn wrap_ad(&self) -> [u8; WRAP_AD_LEN] {
        let mut ad = [0u8; WRAP_AD_LEN];
        ad[..6].copy_from_slice(&MAGIC);
        ad[6] = VERSION;
        ad[7] = self.algorithm;
        ad[8..16].copy_from_slice(self.key_id.as_bytes());
        ad[16..20].copy_from_slice(&self.first.to_le_bytes());
        ad[20..24].copy_from_slice(&self.chunk.to_le_bytes());
        ad
    }

    /// The 96 header bytes.
    pub fn encode(&self) -> [u8; HEADER_LEN as usize] {
        let mut out = [0u8; HEADER_LEN as usize];
        out[..WRAP_AD_LEN].copy_from_slice(&self.wrap_ad());
        out[24..48].copy_from_slice(&self.wrap_nonce);
        out[48..].copy_from_slice(&self.wrapped);
        out
    }

    /// Parses the first [`HEADER_LEN`] bytes of a file (without opening the data key).
    pub fn parse(bytes: &[u8]) -> Result<Header, SealedError> {
        if !is_sealed(bytes) {
            return Err(SealedError::BadHeader);
        }
        if bytes.len() < HEADER_LEN as usize {
            return Err(SealedError::Truncated);
        }
        if bytes[6] != VERSION {
            return Err(SealedError::Unsupported(bytes[6]));
        }
        let algorithm = bytes[7];
        if algorithm != ALGORITHM_XCHACHA && algorithm != ALGORITHM_AES_GCM {
            return Err(SealedError::Unsupported(algorithm));
        }
        let u32_at = |i: usize| u32::from_le_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]]);
        let (first, chunk) = (u32_at(16), u32_at(20));
        if !(1..=MAX_CHUNK).contains(&first) || !(1..=MAX_CHUNK).contains(&chunk) {
            return Err(SealedError::BadHeader);
        }
        let mut key_id = [0u8; 8];
        key_id.copy_from_slice(&bytes[8..16]);
        let mut h = Header {
            algorithm,
            key_id: KeyId::from_bytes(key_id),
            first,
            chunk,
            wrap_nonce: [0; NONCE_LEN],
            wrapped: [0; 32 + TAG_LEN],
        };
        h.wrap_nonce.copy_from_slice(&bytes[24..48]);
        h.wrapped.copy_from_slice(&bytes[48..96]);
        Ok(h)
    }

    /// Opens the data key with `master`.
    pub fn open(&self, master: &MasterKey) -> Result<Chunks, SealedError> {
        if self.key_id != master.id() {
            return Err(SealedError::WrongKey {
                file: self.key_id,
                configured: master.id(),
            });
        }
        let mut key = [0u8; 32];
        key.copy_from_slice(&self.wrapped[..32]);
        let opened = master.cipher().decrypt_in_place_detached(
            XNonce::from_slice(&self.wrap_nonce),
            &self.wrap_ad(),
            &mut key,
            Tag::from_slice(&self.wrapped[32..]),
        );
        let result = match opened {
            Ok(()) => Ok(Chunks::new(&key, self.algorithm, self.first, self.chunk)),
            Err(_) => Err(SealedError::HeaderAltered),
        };
        zero(&mut key);
        result
    }

    /// The same data key wrapped by `new` instead of `old` (rekey): the chunks stay as they are.
    pub fn rewrap(&self, old: &MasterKey, new: &MasterKey) -> Result<Header, SealedError> {
        let chunks = self.open(old)?;
        Ok(Header::wrap(new, &chunks.key, self.algorithm, self.first, self.chunk))
    }
}

fn zero(buf: &mut [u8]) {
    zeroize::Zeroize::zeroize(buf);
}

/// One file's data key and chunk layout: seals and opens its chunks, and maps plaintext
/// positions to chunks and chunks to file offsets.
#[derive(Clone)]
pub struct Chunks {
    cipher: ChunkCipher,
    key: [u8; 32],
    first: u64,
    chunk: u64,
}

impl Drop for Chunks {
    fn drop(&mut self) {
        zero(&mut self.key);
    }
}

impl std::fmt::Debug for Chunks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Chunks")
            .field("first", &self.first)
            .field("chunk", &self.chunk)
            .finish_non_exhaustive()
    }
}

/// The data key ready to seal chunks with the file's algorithm.
#[derive(Clone)]
enum ChunkCipher {
    XChaCha(XChaCha20Poly1305),
    AesGcm(Arc<aead::LessSafeKey>),
}

impl ChunkCipher {
    fn new(key: &[u8; 32], algorithm: u8) -> ChunkCipher {
        if algorithm == ALGORITHM_AES_GCM {
            let key = aead::UnboundKey::new(&aead::AES_256_GCM, key).expect("a 32-byte AES-256 key");
            ChunkCipher::AesGcm(Arc::new(aead::LessSafeKey::new(key)))
        } else {
            ChunkCipher::XChaCha(XChaCha20Poly1305::new(Key::from_slice(key)))
        }
    }

    /// Fills the nonce slot with a fresh nonce and seals `body` in place; returns the tag.
    fn seal(&self, slot: &mut [u8; NONCE_LEN], ad: &[u8], body: &mut [u8]) -> [u8; TAG_LEN] {
        match self {
            ChunkCipher::XChaCha(c) => {
                fill_random(slot);
                c.encrypt_in_place_detached(XNonce::from_slice(slot), ad, body)
                    .expect("a chunk is far below XChaCha20's length limit")
                    .into()
            }
            ChunkCipher::AesGcm(k) => {
                let mut nonce = [0u8; GCM_NONCE_LEN];
                fill_random(&mut nonce);
                *slot = [0; NONCE_LEN];
                slot[..GCM_NONCE_LEN].copy_from_slice(&nonce);
                let tag = k
                    .seal_in_place_separate_tag(aead::Nonce::assume_unique_for_key(nonce), aead::Aad::from(ad), body)
                    .expect("a chunk is far below AES-GCM's length limit");
                let mut out = [0u8; TAG_LEN];
                out.copy_from_slice(tag.as_ref());
                out
            }
        }
    }

    /// Opens `body` in place with the nonce in `slot`; false when it fails authentication.
    fn open(&self, slot: &[u8], ad: &[u8], body: &mut [u8], tag: &[u8]) -> bool {
        match self {
            ChunkCipher::XChaCha(c) => c
                .decrypt_in_place_detached(XNonce::from_slice(slot), ad, body, Tag::from_slice(tag))
                .is_ok(),
            ChunkCipher::AesGcm(k) => {
                if slot[GCM_NONCE_LEN..].iter().any(|b| *b != 0) {
                    return false;
                }
                let Ok(nonce) = aead::Nonce::try_assume_unique_for_key(&slot[..GCM_NONCE_LEN]) else {
                    return false;
                };
                let Ok(tag) = <[u8; TAG_LEN]>::try_from(tag) else {
                    return false;
                };
                k.open_in_place_separate_tag(nonce, aead::Aad::from(ad), aead::Tag::from(tag), body, 0..)
                    .is_ok()
            }
        }
    }
}

impl Chunks {
    fn new(key: &[u8; 32], algorithm: u8, first: u32, chunk: u32) -> Chunks {
        Chunks {
            cipher: ChunkCipher::new(key, algorithm),
            key: *key,
            first: u64::from(first),
            chunk: u64::from(chunk),
        }
    }

    /// Plaintext capacity of chunk `i`.
    pub fn cap(&self, i: u64) -> u64 {
        if i == 0 {
            self.first
        } else {
            self.chunk
        }
    }

    /// Plaintext offset where chunk `i` starts.
    pub fn start(&self, i: u64) -> u64 {
        if i == 0 {
            0
        } else {
            self.first + (i - 1) * self.chunk
        }
    }

    /// The chunk holding plaintext byte `pos`.
    pub fn index_of(&self, pos: u64) -> u64 {
        if pos < self.first {
            0
        } else {
            1 + (pos - self.first) / self.chunk
        }
    }

    /// How many chunks a plaintext of `len` bytes takes (at least one).
    pub fn count(&self, len: u64) -> u64 {
        if len <= self.first {
            1
        } else {
            1 + (len - self.first).div_ceil(self.chunk)
        }
    }

    /// File offset of chunk `i`'s nonce.
    pub fn offset(&self, i: u64) -> u64 {
        if i == 0 {
            HEADER_LEN
        } else {
            HEADER_LEN + OVERHEAD + self.first + (i - 1) * (self.chunk + OVERHEAD)
        }
    }

    /// File length of a plaintext of `len` bytes.
    pub fn sealed_len(&self, len: u64) -> u64 {
        let n = self.count(len);
        let last = len - self.start(n - 1);
        self.offset(n - 1) + OVERHEAD + last
    }

    /// The plaintext length of a file `file_len` bytes long, or why no writer makes that length.
    pub fn plain_len(&self, file_len: u64) -> Result<u64, SealedError> {
        let n = file_len.checked_sub(HEADER_LEN).ok_or(SealedError::Truncated)?;
        if n < OVERHEAD {
            return Err(SealedError::Truncated);
        }
        if n <= OVERHEAD + self.first {
            return Ok(n - OVERHEAD);
        }
        let rest = n - OVERHEAD - self.first;
        let slot = self.chunk + OVERHEAD;
        let later = rest.div_ceil(slot);
        let last = rest - (later - 1) * slot;
        if last <= OVERHEAD {
            return Err(SealedError::Truncated);
        }
        Ok(self.first + (later - 1) * self.chunk + last - OVERHEAD)
    }

    /// The longest valid plaintext length whose file fits in `file_len` bytes (the repair's
    /// view of a file cut anywhere), or `None` when not even an empty chunk 0 fits.
    pub fn plain_len_within(&self, file_len: u64) -> Option<u64> {
        let n = file_len.checked_sub(HEADER_LEN)?;
        if n < OVERHEAD {
            return None;
        }
        if n <= OVERHEAD + self.first {
            return Some(n - OVERHEAD);
        }
        let rest = n - OVERHEAD - self.first;
        let slot = self.chunk + OVERHEAD;
        let full = rest / slot;
        let tail = rest % slot;
        let extra = tail.saturating_sub(OVERHEAD);
        Some(self.first + full * self.chunk + extra)
    }

    fn ad(i: u64, last: bool) -> [u8; 22] {
        let mut ad = [0u8; 22];
        ad[..13].copy_from_slice(CHUNK_AD);
        ad[13..21].copy_from_slice(&i.to_le_bytes());
        ad[21] = u8::from(last);
        ad
    }

    /// Seals chunk `i`'s plaintext with a fresh nonce: nonce ‖ ciphertext ‖ tag.
    pub fn seal(&self, i: u64, last: bool, plain: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(plain.len() + OVERHEAD as usize);
        out.extend_from_slice(&[0u8; NONCE_LEN]);
        out.extend_from_slice(plain);
        let mut slot = [0u8; NONCE_LEN];
        let tag = self.cipher.seal(&mut slot, &Self::ad(i, last), &mut out[NONCE_LEN..]);
        out[..NONCE_LEN].copy_from_slice(&slot);
        out.extend_from_slice(&tag);
        out
    }

    /// Opens a sealed chunk (nonce ‖ ciphertext ‖ tag) in place; returns the plaintext's length
    /// (the plaintext is `sealed[NONCE_LEN..NONCE_LEN + len]`).
    pub fn open_in_place(&self, i: u64, last: bool, sealed: &mut [u8]) -> Result<usize, SealedError> {
        if sealed.len() < OVERHEAD as usize || sealed.len() as u64 > self.cap(i) + OVERHEAD {
            return Err(SealedError::ChunkAltered { index: i });
        }
        let (nonce, rest) = sealed.split_at_mut(NONCE_LEN);
        let (body, tag) = rest.split_at_mut(rest.len() - TAG_LEN);
        if !self.cipher.open(nonce, &Self::ad(i, last), body, tag) {
            return Err(SealedError::ChunkAltered { index: i });
        }
        Ok(body.len())
    }

    /// Opens chunk `i` into a new buffer.
    pub fn open(&self, i: u64, last: bool, sealed: &[u8]) -> Result<Vec<u8>, SealedError> {
        let mut buf = sealed.to_vec();
        let n = self.open_in_place(i, last, &mut buf)?;
        buf.truncate(NONCE_LEN + n);
        buf.drain(..NONCE_LEN);
        Ok(buf)
    }
}

/// Seals a whole small document (a journal JSON) in one go.
pub fn seal_bytes(master: &MasterKey, plain: &[u8]) -> Vec<u8> {
    let (header, chunks) = Header::new(master);
    seal_all(&header, &chunks, plain)
}

/// The header, then every chunk of `plain` sealed.
fn seal_all(header: &Header, chunks: &Chunks, plain: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(chunks.sealed_len(plain.len() as u64) as usize);
    out.extend_from_slice(&header.encode());
    let n = chunks.count(plain.len() as u64);
    for i in 0..n {
        let s = chunks.start(i) as usize;
        let e = (chunks.start(i) + chunks.cap(i)).min(plain.len() as u64) as usize;
        out.extend_from_slice(&chunks.seal(i, i + 1 == n, &plain[s..e]));
    }
    out
}

/// Opens a whole sealed document, checking every chunk, its order and the end.
pub fn open_bytes(master: &MasterKey, sealed: &[u8]) -> Result<Vec<u8>, SealedError> {
    let header = Header::parse(sealed)?;
    let chunks = header.open(master)?;
    let len = chunks.plain_len(sealed.len() as u64)?;
    let n = chunks.count(len);
    let mut out = Vec::with_capacity(len as usize);
    for i in 0..n {
        let from = chunks.offset(i) as usize;
        let to = if i + 1 == n {
            sealed.len()
        } else {
            chunks.offset(i + 1) as usize
        };
        out.extend_from_slice(&chunks.open(i, i + 1 == n, &sealed[from..to])?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(b: u8) -> MasterKey {
        MasterKey::from_bytes([b; 32])
    }

    fn plain(n: usize) -> Vec<u8> {
        (0..n).map(|i| (i * 7 + i / 251) as u8).collect()
    }

    #[test]
    fn round_trips_every_shape_of_length() {
        let k = key(1);
        for n in [0, 1, 63, 64, 65, 100, 16 * 1024 + 64, 16 * 1024 + 65, 50_000] {
            let p = plain(n);
            let s = seal_bytes(&k, &p);
            assert!(!s.windows(4).any(|w| w == b"RIFF"), "no plaintext marker");
            let (h, c) = (
                Header::parse(&s).expect("header"),
                Header::parse(&s).and_then(|h| h.open(&k)).expect("opens"),
            );
            assert_eq!(h.first, FIRST_CHUNK, "first chunk size recorded");
            assert_eq!(c.sealed_len(n as u64), s.len() as u64, "length formula for {n}");
            assert_eq!(c.plain_len(s.len() as u64), Ok(n as u64), "inverse for {n}");
            assert_eq!(open_bytes(&k, &s).expect("opens"), p, "round trip of {n} bytes");
        }
    }

    #[test]
    fn the_header_and_chunk_zero_fit_one_sector() {
        let c = Header::new(&key(1)).1;
        assert!(c.offset(1) <= 512, "header + chunk 0 = {} bytes", c.offset(1));
    }

    #[test]
    fn every_tamper_is_refused() {
        let k = key(2);
        let p = plain(40_000);
        let s = seal_bytes(&k, &p);
        // Each single flipped byte, sampled across header, nonces, bodies and tags.
        for at in (0..s.len())
            .step_by(97)
            .chain([0, 7, 8, 17, 30, 60, 95, 96, 120, s.len() - 1])
        {
            let mut t = s.clone();
            t[at] ^= 0x01;
            assert!(open_bytes(&k, &t).is_err(), "flipped byte {at} must be refused");
        }
        let c = Header::parse(&s).and_then(|h| h.open(&k)).expect("opens");
        // Truncation at every chunk boundary and inside chunks.
        for cut in [c.offset(1), c.offset(2), c.offset(2) + 100, s.len() as u64 - 1, 96, 50] {
            assert!(
                open_bytes(&k, &s[..cut as usize]).is_err(),
                "cut at {cut} must be refused"
            );
        }
        // Swapping chunks 1 and 2 (both full, same size).
        let (a, b, e) = (c.offset(1) as usize, c.offset(2) as usize, c.offset(3) as usize);
        let mut t = s[..a].to_vec();
        t.extend_from_slice(&s[b..e]);
        t.extend_from_slice(&s[a..b]);
        t.extend_from_slice(&s[e..]);
        assert_eq!(
            open_bytes(&k, &t),
            Err(SealedError::ChunkAltered { index: 1 }),
            "reordered chunks are refused"
        );
        // A chunk appended (a copy of the last one).
        let mut t = s.clone();
        t.extend_from_slice(&s[c.offset(2) as usize..]);
        assert!(open_bytes(&k, &t).is_err(), "an appended chunk is refused");
        // Chunk 1 of another file under the same key.
        let other = seal_bytes(&k, &p);
        let mut t = s.clone();
        t[a..b].copy_from_slice(&other[a..b]);
        assert_eq!(
            open_bytes(&k, &t),
            Err(SealedError::ChunkAltered { index: 1 }),
            "foreign chunk"
        );
    }

    #[test]
    fn the_wrong_key_is_named_and_rewrap_moves_to_the_new_key() {
        let (old, new) = (key(3), key(4));
        let s = seal_bytes(&old, b"hello");
        assert!(
            matches!(open_bytes(&new, &s), Err(SealedError::WrongKey { .. })),
            "another key is refused by id"
        );
        let h = Header::parse(&s).expect("header").rewrap(&old, &new).expect("rewrap");
        let mut t = s.clone();
        t[..96].copy_from_slice(&h.encode());
        assert_eq!(t[96..], s[96..], "the chunks are not rewritten");
        assert_eq!(open_bytes(&new, &t).expect("new key opens"), b"hello");
        assert!(open_bytes(&old, &t).is_err(), "old key no longer opens");
    }

    /// A document sealed with chunk cipher `algorithm` (as files written before AES-GCM were).
    fn seal_with(master: &MasterKey, algorithm: u8, plain: &[u8]) -> Vec<u8> {
        let data_key = [9u8; 32];
        let header = Header::wrap(master, &data_key, algorithm, FIRST_CHUNK, CHUNK);
        let chunks = Chunks::new(&data_key, algorithm, FIRST_CHUNK, CHUNK);
        seal_all(&header, &chunks, plain)
    }

    #[test]
    fn new_files_use_aes_gcm_and_xchacha_files_still_open() {
        let k = key(6);
        let p = plain(40_000);
        let s = seal_bytes(&k, &p);
        assert_eq!(s[7], ALGORITHM_AES_GCM, "new files are sealed with AES-256-GCM");
        let old = seal_with(&k, ALGORITHM_XCHACHA, &p);
        assert_eq!(old[7], ALGORITHM_XCHACHA);
        assert_eq!(open_bytes(&k, &old).expect("an XChaCha20 file opens"), p);
        assert_eq!(s.len(), old.len(), "one layout for both algorithms");
        // The same data key under each cipher gives different chunks: the byte picks the cipher.
        let gcm = seal_with(&k, ALGORITHM_AES_GCM, &p);
        let mut swapped = gcm.clone();
        swapped[..96].copy_from_slice(&old[..96]);
        assert!(
            open_bytes(&k, &swapped).is_err(),
            "AES-GCM chunks under an XChaCha header"
        );
        // The AES-GCM nonce slot's 12 unused bytes are checked too.
        let c = Header::parse(&s).and_then(|h| h.open(&k)).expect("opens");
        for at in [c.offset(0) + 12, c.offset(1) + 23] {
            let mut t = s.clone();
            t[at as usize] ^= 0x80;
            assert!(open_bytes(&k, &t).is_err(), "a flipped padding byte at {at} is refused");
        }
        let mut bad = s.clone();
        bad[7] = 3;
        assert_eq!(
            Header::parse(&bad),
            Err(SealedError::Unsupported(3)),
            "unknown algorithm"
        );
    }

    #[test]
    fn parser_bounds_hold_on_junk() {
        assert_eq!(Header::parse(b"RIFF"), Err(SealedError::BadHeader));
        assert_eq!(Header::parse(b"CRSEAL\x01\x01"), Err(SealedError::Truncated));
        let mut h = seal_bytes(&key(5), b"x");
        h[16..20].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(Header::parse(&h), Err(SealedError::BadHeader), "chunk size bounded");
        let c = Header::new(&key(5)).1;
        for len in 0..400u64 {
            let _ = c.plain_len(len);
            let _ = c.plain_len_within(len);
        }
        assert_eq!(
            c.plain_len_within(96 + 40 + 64 + 40 + 10),
            Some(74),
            "a torn tail keeps whole bytes"
        );
    }
}
