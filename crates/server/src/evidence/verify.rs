//! Checking the evidence chain against the database and the stored audio (issue #12.2), for
//! `GET /api/v1/evidence/verify` and the offline `callrec-server verify`: every entry's place
//! (seq without gaps, `prev_hash` = the previous hash), hash and signature, by a key this
//! installation registered; then every recording the chain says exists — its row still there
//! and unchanged, its audio (read as playback reads it) still hashing to the signed SHA-256 —
//! and every finished recording the chain does not know. Recordings whose last entry is a
//! deletion by the product are expected to be gone and are clean.

use crate::files::Files;
use crate::objects::Objects;
use callrec_store::{Store, StoreError};
use callrec_types::evidence::{
    EvidenceEntry, EvidenceFault, EvidenceKind, EvidenceProblem, EvidenceProblemKind, EvidenceReport, GENESIS_HASH,
};
use callrec_types::RecordingId;
use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

const PAGE: i64 = 1000;

fn problem(e: &EvidenceEntry, problem: EvidenceProblemKind, detail: String) -> EvidenceProblem {
    EvidenceProblem {
        recording_id: e.recording_id,
        problem,
        seq: Some(e.seq),
        detail,
    }
}

/// Checks everything (module doc). Store errors end the check; a file that cannot be read is
/// a problem of its recording.
pub async fn run(
    store: &dyn Store,
    files: &Files,
    objects: Option<&Arc<Objects>>,
    vault: &crate::sealed::Vault,
) -> Result<EvidenceReport, StoreError> {
    let keys: HashSet<String> = store.evidence_keys().await?.into_iter().collect();
    let mut problems = Vec::new();
    let mut entries = 0i64;
    // The last entry of each recording.
    let mut last: BTreeMap<RecordingId, EvidenceEntry> = BTreeMap::new();
    let (mut prev_hash, mut next_seq, mut after) = (GENESIS_HASH.to_string(), 1i64, 0i64);
    loop {
        let page = store.list_evidence(after, PAGE).await?;
        for e in &page {
            entries += 1;
            if e.seq != next_seq {
                problems.push(problem(
                    e,
                    EvidenceProblemKind::OutOfChain,
                    format!(
                        "entry {} follows entry {}: entries in between are missing",
                        e.seq,
                        next_seq - 1
                    ),
                ));
            } else if e.prev_hash != prev_hash {
                problems.push(problem(
                    e,
                    EvidenceProblemKind::OutOfChain,
                    format!("entry {} does not name the hash of the entry before it", e.seq),
                ));
            }
            match e.check() {
                Ok(()) if !keys.contains(&e.public_key) => problems.push(problem(
                    e,
                    EvidenceProblemKind::BadSignature,
                    format!("entry {} is signed by a key this installation never had", e.seq),
                )),
                Ok(()) => {}
                Err(f @ (EvidenceFault::Hash | EvidenceFault::PublicKey | EvidenceFault::Signature)) => problems.push(
                    problem(e, EvidenceProblemKind::BadSignature, format!("entry {}: {f}", e.seq)),
                ),
            }
            prev_hash = e.entry_hash.clone();
            next_seq = e.seq + 1;
            last.insert(e.recording_id, e.clone());
        }
        match page.last() {
            Some(e) if page.len() as i64 == PAGE => after = e.seq,
            _ => break,
        }
    }

    let mut checked = 0i64;
    for e in last.values().filter(|e| e.kind == EvidenceKind::Recorded) {
        checked += 1;
        let rec = match store.get_recording(e.recording_id).await {
            Ok(r) => r,
            Err(StoreError::NotFound) => {
                problems.push(problem(
                    e,
                    EvidenceProblemKind::MissingRow,
                    format!(
                        "recording {} is in the chain (entry {}) but its row is gone, and no deletion was recorded",
                        e.recording_id, e.seq
                    ),
                ));
                continue;
            }
            Err(other) => return Err(other),
        };
        if rec.recording.sha256 != e.sha256 || rec.recording.bytes != e.bytes {
            problems.push(problem(
                e,
                EvidenceProblemKind::Altered,
                format!(
                    "the row of recording {} says SHA-256 {} and {} bytes; the signed entry says {} and {}",
                    e.recording_id, rec.recording.sha256, rec.recording.bytes, e.sha256, e.bytes
                ),
            ));
        }
        let read = match files.abs(&rec.rel_path) {
            Ok(abs) => crate::audio::stored_sha256(&abs, objects, &rec.rel_path, vault).await,
            Err(err) => Err(err),
        };
        match read {
            Ok((sha, n)) if sha == e.sha256 && n as i64 == e.bytes => {}
            Ok((sha, n)) => problems.push(problem(
                e,
                EvidenceProblemKind::Altered,
                format!(
                    "the audio of recording {} ({}) hashes to {sha} ({n} bytes), not the signed {} ({} bytes)",
                    e.recording_id, rec.rel_path, e.sha256, e.bytes
                ),
            )),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => problems.push(problem(
                e,
                EvidenceProblemKind::MissingFile,
                format!("the file of recording {} ({}) is gone", e.recording_id, rec.rel_path),
            )),
            // Audio that fails its authentication (#12.1) was altered, not lost.
            Err(err) if crate::sealed::file::sealed_error(&err).is_some() => problems.push(problem(
                e,
                EvidenceProblemKind::Altered,
                format!(
                    "the audio of recording {} ({}) fails its authentication: {err}",
                    e.recording_id, rec.rel_path
                ),
            )),
            Err(err) => problems.push(problem(
                e,
                EvidenceProblemKind::MissingFile,
                format!(
                    "the file of recording {} ({}) cannot be read: {err}",
                    e.recording_id, rec.rel_path
                ),
            )),
        }
    }

    let mut after = RecordingId(0);
    loop {
        let batch = store.recordings_without_evidence(after, PAGE).await?;
        for rec in &batch {
            checked += 1;
            problems.push(EvidenceProblem {
                recording_id: rec.recording.id,
                problem: EvidenceProblemKind::OutOfChain,
                seq: None,
                detail: format!(
                    "finished recording {} ({}) has no entry in the chain",
                    rec.recording.id, rec.rel_path
                ),
            });
        }
        match batch.last() {
            Some(r) if batch.len() as i64 == PAGE => after = r.recording.id,
            _ => break,
        }
    }
    Ok(EvidenceReport {
        ok: problems.is_empty(),
        checked,
        entries,
        problems,
    })
}

/// `callrec-server verify`: the same check without a running server, from the configuration
/// (`--config`, `CALLREC_*`, `--data-dir`: the database, the data directory and the object
/// store it names, so it works for a cluster's shared database and bucket too).
pub async fn offline(config: &crate::config::Config) -> anyhow::Result<EvidenceReport> {
    use anyhow::Context;
    let url = config.database_url();
    if let Some(path) = url.strip_prefix("sqlite://") {
        let path = std::path::Path::new(path.split('?').next().unwrap_or(path));
        anyhow::ensure!(path.exists(), "no database at {}", path.display());
    }
    let store = callrec_store::open(&url).await.context("cannot open the database")?;
    let files = Files::new(config.data_dir.clone());
    let objects = Objects::from_config(config)
        .context("cannot configure the object store (storage_url, AWS_*)")?
        .map(Arc::new);
    let vault = crate::sealed::Vault::from_key_file(config.encryption_key_file.as_deref())
        .context("cannot read the encryption key (encryption_key_file)")?;
    Ok(run(&*store, &files, objects.as_ref(), &vault).await?)
}
