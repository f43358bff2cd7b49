//! Signed, chained evidence (issue #12.2): the entries of the append-only chain that records
//! every finished recording and every deletion, the canonical bytes each entry's hash and
//! Ed25519 signature cover, the check of one entry ([`EvidenceEntry::check`]) and the wire
//! shapes of the evidence routes and of "who listened to my calls" (issue #12.4).
//!
//! The canonical encoding (also in `docs/evidence.md`, which shows how to check it with
//! `openssl` or Python alone) is UTF-8 text, one `name=value` line per field in this order,
//! each line ending in `\n`, with no other whitespace:
//!
//! ```text
//! callrec-evidence-v1
//! seq=<decimal>
//! kind=<recorded|deleted_by_retention|deleted_by_admin|deleted_by_consent>
//! recording_id=<decimal>
//! call_id=<decimal>
//! sha256=<64 lowercase hex: SHA-256 of the plaintext audio file>
//! duration_ms=<decimal>
//! bytes=<decimal>
//! at_ms=<decimal: Unix time in milliseconds>
//! prev_hash=<64 lowercase hex: the previous entry's entry_hash, 64 zeros for the first>
//! public_key=<standard base64 of the 32-byte Ed25519 public key>
//! ```
//!
//! `entry_hash` is the lowercase hex SHA-256 of those bytes and `signature` the standard
//! base64 of the 64-byte Ed25519 signature (RFC 8032, pure Ed25519) of the same bytes.
//! Nothing here does I/O: the server signs and stores, the desktop and tests check.

use crate::ids::{AuditId, CallId, RecordingId, UserId};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use chrono::{DateTime, Utc};
use ed25519_dalek::{Signature, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use ts_rs::TS;

/// The first line of the canonical encoding; a new encoding gets a new tag.
pub const CANONICAL_TAG: &str = "callrec-evidence-v1";

/// The `prev_hash` of the first entry of a chain.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What an entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum EvidenceKind {
    /// A recording was finished: its audio is as hashed.
    Recorded,
    /// The retention run deleted the recording.
    DeletedByRetention,
    /// An admin deleted the recording.
    DeletedByAdmin,
    /// The caller refused consent and the setting `consent_refused = delete` deleted it.
    DeletedByConsent,
}

impl EvidenceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EvidenceKind::Recorded => "recorded",
            EvidenceKind::DeletedByRetention => "deleted_by_retention",
            EvidenceKind::DeletedByAdmin => "deleted_by_admin",
            EvidenceKind::DeletedByConsent => "deleted_by_consent",
        }
    }

    pub fn parse(s: &str) -> Option<EvidenceKind> {
        [
            EvidenceKind::Recorded,
            EvidenceKind::DeletedByRetention,
            EvidenceKind::DeletedByAdmin,
            EvidenceKind::DeletedByConsent,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }

    pub fn is_deletion(self) -> bool {
        self != EvidenceKind::Recorded
    }
}

/// One entry of the chain, as stored and as sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct EvidenceEntry {
    /// Position in the chain: 1, 2, 3 … without gaps.
    pub seq: i64,
    pub kind: EvidenceKind,
    pub recording_id: RecordingId,
    pub call_id: CallId,
    /// Hex SHA-256 of the recording's plaintext audio file (as downloaded with
    /// `format=original`).
    pub sha256: String,
    pub duration_ms: i64,
    pub bytes: i64,
    pub at: DateTime<Utc>,
    /// The previous entry's `entry_hash` ([`GENESIS_HASH`] for the first).
    pub prev_hash: String,
    /// Hex SHA-256 of [`EvidenceEntry::canonical`].
    pub entry_hash: String,
    /// Base64 of the 32-byte Ed25519 public key that signed the entry.
    pub public_key: String,
    /// Base64 of the 64-byte Ed25519 signature of [`EvidenceEntry::canonical`].
    pub signature: String,
}

/// Why an entry does not check.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EvidenceFault {
    #[error("the entry's hash does not match its fields (an edited entry)")]
    Hash,
    #[error("the public key is not a valid Ed25519 key")]
    PublicKey,
    #[error("the signature does not verify with the entry's public key")]
    Signature,
}

impl EvidenceEntry {
    /// The canonical bytes the hash and the signature cover (module doc).
    pub fn canonical(&self) -> String {
        format!(
            "{CANONICAL_TAG}\nseq={}\nkind={}\nrecording_id={}\ncall_id={}\nsha256={}\nduration_ms={}\nbytes={}\nat_ms={}\nprev_hash={}\npublic_key={}\n",
            self.seq,
            self.kind.as_str(),
            self.recording_id.0,
            self.call_id.0,
            self.sha256,
            self.duration_ms,
            self.bytes,
            self.at.timestamp_millis(),
            self.prev_hash,
            self.public_key,
        )
    }

    /// Hex SHA-256 of the canonical bytes: what `entry_hash` must be.
    pub fn compute_hash(&self) -> String {
        hex_lower(&Sha256::digest(self.canonical().as_bytes()))
    }

    /// Checks the entry on its own: its hash matches its fields and its signature verifies
    /// with its public key. Whether that key is the installation's, and whether the entry
    /// follows its predecessor, is for the caller to check.
    pub fn check(&self) -> Result<(), EvidenceFault> {
        if self.compute_hash() != self.entry_hash {
            return Err(EvidenceFault::Hash);
        }
        let key = decode_public_key(&self.public_key).ok_or(EvidenceFault::PublicKey)?;
        let sig = B64
            .decode(&self.signature)
            .ok()
            .and_then(|b| <[u8; 64]>::try_from(b.as_slice()).ok())
            .map(|b| Signature::from_bytes(&b))
            .ok_or(EvidenceFault::Signature)?;
        key.verify(self.canonical().as_bytes(), &sig)
            .map_err(|_| EvidenceFault::Signature)
    }
}

/// The Ed25519 key a base64 text names, if it is one.
pub fn decode_public_key(b64: &str) -> Option<VerifyingKey> {
    let raw = B64.decode(b64).ok()?;
    VerifyingKey::from_bytes(&<[u8; 32]>::try_from(raw.as_slice()).ok()?).ok()
}

/// Hex SHA-256 of `bytes` (what a recording's `sha256` is for its audio).
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex_lower(&Sha256::digest(bytes))
}

fn hex_lower(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// `GET /api/v1/recordings/{id}/evidence`: the recording's `recorded` entry (its hash,
/// signature and public key) and the text it signs, with the key also as PEM for `openssl`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct RecordingEvidence {
    #[serde(flatten)]
    pub entry: EvidenceEntry,
    /// [`EvidenceEntry::canonical`]: the exact bytes hashed and signed.
    pub canonical: String,
    /// The entry's public key as an X.509 SubjectPublicKeyInfo PEM.
    pub public_key_pem: String,
}

/// `GET /api/v1/evidence/public-key`: this installation's signing key(s).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct EvidencePublicKey {
    /// Base64 of the 32-byte Ed25519 public key of the node answering.
    pub public_key: String,
    /// The same key as an X.509 SubjectPublicKeyInfo PEM (for `openssl pkeyutl -verify`).
    pub public_key_pem: String,
    /// Every key that has signed entries in this installation (one per node's data
    /// directory), base64.
    pub keys: Vec<String>,
}

/// What is wrong with a recording, as a verify finds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum EvidenceProblemKind {
    /// The audio (or its row's hash, length or duration) no longer matches the signed entry.
    Altered,
    /// The chain records the recording but its row is gone (deleted outside the product).
    MissingRow,
    /// The row is there but its file (or object) is gone.
    MissingFile,
    /// The entry does not follow its predecessor (a gap, a wrong `prev_hash`), or a finished
    /// recording has no entry at all.
    OutOfChain,
    /// The entry's hash or signature does not check, or it is signed by a key this
    /// installation never had.
    BadSignature,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct EvidenceProblem {
    pub recording_id: RecordingId,
    pub problem: EvidenceProblemKind,
    /// The entry concerned, when there is one.
    pub seq: Option<i64>,
    /// In words, e.g. "the file's SHA-256 is 3a… but the signed entry says 9f…".
    pub detail: String,
}

/// `GET /api/v1/evidence/verify` and `callrec-server verify`: every entry and recording checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct EvidenceReport {
    /// No problem found.
    pub ok: bool,
    /// Recordings checked.
    pub checked: i64,
    /// Entries of the chain checked.
    pub entries: i64,
    pub problems: Vec<EvidenceProblem>,
}

/// What the desktop's player shows on a recording it has streamed whole (issue #12.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum EvidenceVerdict {
    /// What was played hashes to the signed entry, and the entry checks with a key the
    /// installation lists: a tick.
    Verified,
    /// It does not (or the entry does not check): a cross.
    Altered,
    /// The server has no signed entry for the recording (yet).
    Unsigned,
}

/// The verdict with its reason in words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct EvidenceCheck {
    pub verdict: EvidenceVerdict,
    /// e.g. "what was played matches the entry signed on 2026-12-03 10:15:02 UTC".
    pub detail: String,
}

/// Judges what a player streamed (`streamed_sha256`, the hex SHA-256 of every byte of the
/// recording's original file) against the recording's `recorded` entry, checking the entry
/// itself (hash, signature) and that its key is one of the installation's `keys`.
pub fn judge(entry: Option<&EvidenceEntry>, keys: &[String], streamed_sha256: &str) -> EvidenceCheck {
    let (verdict, detail) = match entry {
        None => (
            EvidenceVerdict::Unsigned,
            "the server has no signed evidence for this recording".to_string(),
        ),
        Some(e) => match e.check() {
            Err(f) => (
                EvidenceVerdict::Altered,
                format!("the signed evidence does not check: {f}"),
            ),
            Ok(()) if !keys.contains(&e.public_key) => (
                EvidenceVerdict::Altered,
                "the evidence is signed by a key this installation does not list".to_string(),
            ),
            Ok(()) if !e.sha256.eq_ignore_ascii_case(streamed_sha256) => (
                EvidenceVerdict::Altered,
                format!(
                    "what was played hashes to {}…, the signed evidence says {}…",
                    streamed_sha256.chars().take(12).collect::<String>(),
                    e.sha256.chars().take(12).collect::<String>()
                ),
            ),
            Ok(()) => (
                EvidenceVerdict::Verified,
                format!(
                    "what was played matches the evidence signed on {}",
                    e.at.format("%Y-%m-%d %H:%M:%S UTC")
                ),
            ),
        },
    };
    EvidenceCheck { verdict, detail }
}

/// A play or a download.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ListenAction {
    Play,
    Download,
}

/// One play or download of a recording of a call the asking user took part in (issue #12.4),
/// read from the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Listen {
    /// The audit row it comes from.
    pub id: AuditId,
    pub at: DateTime<Utc>,
    /// Who listened: their user id and username (as the audit row holds it).
    pub user_id: Option<UserId>,
    pub actor: String,
    pub action: ListenAction,
    pub recording_id: RecordingId,
    pub call_id: CallId,
    /// `format original` or `format pcm16`, as audited.
    pub detail: String,
}

/// `GET /api/v1/me/listens?cursor&limit`, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ListensPage {
    pub items: Vec<Listen>,
    pub next_cursor: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::{Signer, SigningKey};

    fn entry(key: &SigningKey) -> EvidenceEntry {
        let mut e = EvidenceEntry {
            seq: 1,
            kind: EvidenceKind::Recorded,
            recording_id: RecordingId(7),
            call_id: CallId(3),
            sha256: sha256_hex(b"audio"),
            duration_ms: 1000,
            bytes: 5,
            at: DateTime::from_timestamp_millis(1_764_000_000_123).unwrap(),
            prev_hash: GENESIS_HASH.into(),
            entry_hash: String::new(),
            public_key: B64.encode(key.verifying_key().as_bytes()),
            signature: String::new(),
        };
        e.entry_hash = e.compute_hash();
        e.signature = B64.encode(key.sign(e.canonical().as_bytes()).to_bytes());
        e
    }

    #[test]
    fn a_signed_entry_checks_and_any_edit_is_caught() {
        let key = SigningKey::from_bytes(&[9u8; 32]);
        let e = entry(&key);
        assert_eq!(e.check(), Ok(()), "a freshly signed entry checks");
        assert!(e.canonical().starts_with("callrec-evidence-v1\nseq=1\nkind=recorded\n"));
        assert!(e.canonical().contains("\nat_ms=1764000000123\n"));
        let mut edited = e.clone();
        edited.bytes = 6;
        assert_eq!(
            edited.check(),
            Err(EvidenceFault::Hash),
            "an edited field breaks the hash"
        );
        edited.entry_hash = edited.compute_hash();
        assert_eq!(
            edited.check(),
            Err(EvidenceFault::Signature),
            "a re-hashed edit still fails the signature"
        );
        let other = SigningKey::from_bytes(&[1u8; 32]);
        let mut forged = e.clone();
        forged.signature = B64.encode(other.sign(e.canonical().as_bytes()).to_bytes());
        assert_eq!(
            forged.check(),
            Err(EvidenceFault::Signature),
            "another key's signature fails"
        );
    }

    #[test]
    fn the_player_verdict_needs_a_checking_entry_a_listed_key_and_the_same_hash() {
        let key = SigningKey::from_bytes(&[9u8; 32]);
        let e = entry(&key);
        let keys = vec![e.public_key.clone()];
        assert_eq!(judge(Some(&e), &keys, &e.sha256).verdict, EvidenceVerdict::Verified);
        assert_eq!(
            judge(Some(&e), &keys, &sha256_hex(b"other")).verdict,
            EvidenceVerdict::Altered,
            "other bytes played"
        );
        assert_eq!(
            judge(Some(&e), &[], &e.sha256).verdict,
            EvidenceVerdict::Altered,
            "a key the installation does not list"
        );
        let mut edited = e.clone();
        edited.sha256 = sha256_hex(b"other");
        assert_eq!(
            judge(Some(&edited), &keys, &edited.sha256).verdict,
            EvidenceVerdict::Altered,
            "an entry edited to match other audio fails its hash"
        );
        assert_eq!(judge(None, &keys, &e.sha256).verdict, EvidenceVerdict::Unsigned);
    }

    #[test]
    fn kinds_round_trip_through_their_words() {
        for k in [
            EvidenceKind::Recorded,
            EvidenceKind::DeletedByRetention,
            EvidenceKind::DeletedByAdmin,
            EvidenceKind::DeletedByConsent,
        ] {
            assert_eq!(EvidenceKind::parse(k.as_str()), Some(k));
            assert_eq!(serde_json::to_value(k).unwrap(), k.as_str());
        }
    }
}
