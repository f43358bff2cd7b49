//! SQLite: the evidence chain (issue #12.2), its signing keys, and the plays and downloads of a
//! user's calls read from the audit log (issue #12.4).
//!
//! An append runs in one `BEGIN IMMEDIATE` transaction: it takes SQLite's write lock before it
//! reads the head, so two appends (two connections of the pool) never take the same place.

use super::{from_ms, ms};
use crate::{NewEvidence, Result, Seal, StoreError, StoredRecording};
use callrec_types::evidence::{EvidenceEntry, EvidenceKind, Listen, ListenAction, GENESIS_HASH};
use callrec_types::*;
use chrono::{DateTime, Utc};
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqlitePool};

const COLS: &str = "seq, kind, recording_id, call_id, sha256, duration_ms, bytes, at, prev_hash, entry_hash, \
                    public_key, signature";

fn entry_row(r: &SqliteRow) -> Result<EvidenceEntry> {
    let kind: String = r.get(1);
    Ok(EvidenceEntry {
        seq: r.get(0),
        kind: EvidenceKind::parse(&kind).ok_or_else(|| StoreError::Corrupt(format!("evidence kind {kind:?}")))?,
        recording_id: RecordingId(r.get(2)),
        call_id: CallId(r.get(3)),
        sha256: r.get(4),
        duration_ms: r.get(5),
        bytes: r.get(6),
        at: from_ms(r.get(7)),
        prev_hash: r.get(8),
        entry_hash: r.get(9),
        public_key: r.get(10),
        signature: r.get(11),
    })
}

pub async fn append_evidence(pool: &SqlitePool, new: &NewEvidence, seal: Seal<'_>) -> Result<EvidenceEntry> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    if new.kind == EvidenceKind::Recorded {
        let existing = sqlx::query(&format!(
            "SELECT {COLS} FROM evidence WHERE recording_id = ? AND kind = 'recorded'"
        ))
        .bind(new.recording_id.0)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(r) = existing {
            return entry_row(&r);
        }
    }
    let head: Option<(i64, String)> = sqlx::query_as("SELECT seq, entry_hash FROM evidence ORDER BY seq DESC LIMIT 1")
        .fetch_optional(&mut *tx)
        .await?;
    let (seq, prev) = head.map_or((1, GENESIS_HASH.to_string()), |(s, h)| (s + 1, h));
    let mut e = new.at_place(seq, prev);
    seal(&mut e);
    sqlx::query(
        "INSERT INTO evidence (seq, kind, recording_id, call_id, sha256, duration_ms, bytes, at, prev_hash, entry_hash,
         public_key, signature) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(e.seq)
    .bind(e.kind.as_str())
    .bind(e.recording_id.0)
    .bind(e.call_id.0)
    .bind(&e.sha256)
    .bind(e.duration_ms)
    .bind(e.bytes)
    .bind(ms(e.at))
    .bind(&e.prev_hash)
    .bind(&e.entry_hash)
    .bind(&e.public_key)
    .bind(&e.signature)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(e)
}

pub async fn list_evidence(pool: &SqlitePool, after_seq: i64, limit: i64) -> Result<Vec<EvidenceEntry>> {
    let rows = sqlx::query(&format!(
        "SELECT {COLS} FROM evidence WHERE seq > ? ORDER BY seq LIMIT ?"
    ))
    .bind(after_seq)
    .bind(limit.clamp(1, 100_000))
    .fetch_all(pool)
    .await?;
    rows.iter().map(entry_row).collect()
}

pub async fn recording_evidence(pool: &SqlitePool, id: RecordingId) -> Result<Vec<EvidenceEntry>> {
    let rows = sqlx::query(&format!(
        "SELECT {COLS} FROM evidence WHERE recording_id = ? ORDER BY seq"
    ))
    .bind(id.0)
    .fetch_all(pool)
    .await?;
    rows.iter().map(entry_row).collect()
}

pub async fn call_evidence(pool: &SqlitePool, id: CallId) -> Result<Vec<EvidenceEntry>> {
    let rows = sqlx::query(&format!("SELECT {COLS} FROM evidence WHERE call_id = ? ORDER BY seq"))
        .bind(id.0)
        .fetch_all(pool)
        .await?;
    rows.iter().map(entry_row).collect()
}

pub async fn recordings_without_evidence(
    pool: &SqlitePool,
    after: RecordingId,
    limit: i64,
) -> Result<Vec<StoredRecording>> {
    let rows = sqlx::query(&format!(
        "SELECT {} FROM recordings r JOIN calls c ON c.id = r.call_id
         WHERE r.id > ? AND r.state = 'complete'
           AND NOT EXISTS (SELECT 1 FROM evidence e WHERE e.recording_id = r.id AND e.kind = 'recorded')
         ORDER BY r.id LIMIT ?",
        super::recordings::REC_COLS
    ))
    .bind(after.0)
    .bind(limit.clamp(1, 100_000))
    .fetch_all(pool)
    .await?;
    rows.iter().map(super::recordings::rec_row).collect()
}

pub async fn register_evidence_key(pool: &SqlitePool, key: &str, node_id: &str, at: DateTime<Utc>) -> Result<()> {
    sqlx::query("INSERT INTO evidence_keys (public_key, node_id, added_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING")
        .bind(key)
        .bind(node_id)
        .bind(ms(at))
        .execute(pool)
        .await?;
    Ok(())
}

pub async fn evidence_keys(pool: &SqlitePool) -> Result<Vec<String>> {
    Ok(
        sqlx::query_scalar("SELECT public_key FROM evidence_keys ORDER BY added_at, public_key")
            .fetch_all(pool)
            .await?,
    )
}

/// The recordings of the user's calls — those still stored and those the chain remembers —
/// joined to their audit rows by target (`recording <id>`, index `audit_target`).
pub async fn list_listens(pool: &SqlitePool, user: UserId, before: Option<AuditId>, limit: i64) -> Result<Vec<Listen>> {
    let rows = sqlx::query(
        "SELECT a.id, a.at, a.user_id, a.actor, a.action, a.detail, x.rid, x.call_id
         FROM (SELECT r.id AS rid, r.call_id AS call_id FROM recordings r
                 JOIN call_users cu ON cu.call_id = r.call_id WHERE cu.user_id = ?1
               UNION
               SELECT e.recording_id, e.call_id FROM evidence e
                 JOIN call_users cu ON cu.call_id = e.call_id WHERE cu.user_id = ?1 AND e.kind = 'recorded') x
         JOIN audit a ON a.target = 'recording ' || x.rid
         WHERE a.action IN ('play', 'download') AND (?2 IS NULL OR a.id < ?2)
         ORDER BY a.id DESC LIMIT ?3",
    )
    .bind(user.0)
    .bind(before.map(|b| b.0))
    .bind(limit.clamp(1, 1000))
    .fetch_all(pool)
    .await?;
    Ok(rows.iter().map(listen_row).collect())
}

fn listen_row(r: &SqliteRow) -> Listen {
    let action: String = r.get(4);
    Listen {
        id: AuditId(r.get(0)),
        at: from_ms(r.get(1)),
        user_id: r.get::<Option<i64>, _>(2).map(UserId),
        actor: r.get(3),
        action: if action == "download" {
            ListenAction::Download
        } else {
            ListenAction::Play
        },
        recording_id: RecordingId(r.get(6)),
        call_id: CallId(r.get(7)),
        detail: r.get(5),
    }
}
