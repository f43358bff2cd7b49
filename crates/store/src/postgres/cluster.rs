//! What several nodes on one PostgreSQL database share besides the `Store` (issue #10.3):
//! notifications between nodes (`NOTIFY`/`LISTEN`, with payloads over the 8000-byte limit
//! parked in `bus_messages`), the node heartbeats and the sweep of dead nodes, the live state
//! of calls in progress (`live_calls`) and a cluster-wide lock. PostgreSQL only: a SQLite
//! server is a single node and needs none of it, so this is not part of the `Store` trait.
//! The server's `cluster` module gives these rows their meaning.

use super::PgStore;
use crate::sqlite::{from_ms, ms};
use crate::Result;
use callrec_types::CallId;
use chrono::{DateTime, Utc};
use sqlx::postgres::PgListener;
use sqlx::{PgPool, Postgres, Row, Transaction};

/// The largest payload sent inline: PostgreSQL refuses payloads of 8000 bytes or more.
pub const MAX_INLINE_PAYLOAD: usize = 7900;

/// A notification payload that stands for a row of `bus_messages`: `@` and the row's id.
const PARKED: char = '@';

/// One node's handle on the shared cluster rows.
#[derive(Clone)]
pub struct PgCluster {
    pool: PgPool,
    node: String,
}

/// A cluster-wide lock, held until dropped (its transaction then rolls back, which releases
/// it even when the holder is cancelled mid-way).
pub struct ClusterLock(#[allow(dead_code)] Transaction<'static, Postgres>);

impl PgStore {
    /// The cluster rows, as this store's node.
    pub fn cluster(&self) -> PgCluster {
        PgCluster {
            pool: self.pool.clone(),
            node: self.node.clone(),
        }
    }
}

impl PgCluster {
    pub fn node(&self) -> &str {
        &self.node
    }

    /// Sends `payload` to the listeners of `channel`; a payload too large for `NOTIFY` is
    /// parked in `bus_messages` and its id sent instead ([`PgCluster::resolve`] reads it).
    pub async fn notify(&self, channel: &str, payload: &str, now: DateTime<Utc>) -> Result<()> {
        if payload.len() <= MAX_INLINE_PAYLOAD && !payload.starts_with(PARKED) {
            sqlx::query("SELECT pg_notify($1, $2)")
                .bind(channel)
                .bind(payload)
                .execute(&self.pool)
                .await?;
        } else {
            let mut tx = self.pool.begin().await?;
            let id: i64 = sqlx::query_scalar("INSERT INTO bus_messages (at, payload) VALUES ($1, $2) RETURNING id")
                .bind(ms(now))
                .bind(payload)
                .fetch_one(&mut *tx)
                .await?;
            // Sent at commit, so the row is there when a listener reads it.
            sqlx::query("SELECT pg_notify($1, $2)")
                .bind(channel)
                .bind(format!("{PARKED}{id}"))
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
        }
        Ok(())
    }

    /// The payload a notification stands for (`None`: a parked message already pruned).
    pub async fn resolve(&self, payload: &str) -> Result<Option<String>> {
        let Some(id) = payload.strip_prefix(PARKED).and_then(|id| id.parse::<i64>().ok()) else {
            return Ok(Some(payload.to_owned()));
        };
        Ok(sqlx::query_scalar("SELECT payload FROM bus_messages WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// A listener on `channels`; it reconnects and listens again by itself after the
    /// connection drops (`try_recv` then answers `Ok(None)` once).
    pub async fn listener(&self, channels: &[&str]) -> Result<PgListener> {
        let mut l = PgListener::connect_with(&self.pool).await?;
        l.listen_all(channels.iter().copied()).await?;
        Ok(l)
    }

    /// Renews this node's heartbeat; `true` when there was no row to renew (the first beat,
    /// or another node took this one for dead meanwhile).
    pub async fn beat(&self, now: DateTime<Utc>) -> Result<bool> {
        // `xmax = 0` on the returned row: it was inserted, not updated — this node had no
        // heartbeat row (its first beat, or another node took it for dead and removed it).
        let inserted: bool = sqlx::query_scalar(
            "INSERT INTO nodes (node_id, seen_at) VALUES ($1, $2)
             ON CONFLICT (node_id) DO UPDATE SET seen_at = EXCLUDED.seen_at
             RETURNING (xmax = 0)",
        )
        .bind(&self.node)
        .bind(ms(now))
        .fetch_one(&self.pool)
        .await?;
        Ok(inserted)
    }

    /// Removes this node's heartbeat (a clean stop: nothing of it is left to sweep).
    pub async fn leave(&self) -> Result<()> {
        sqlx::query("DELETE FROM nodes WHERE node_id = $1")
            .bind(&self.node)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The other nodes whose heartbeat is older than `before`, with when they were last
    /// seen. Their rows are deleted by this statement, so each dead node is handed to
    /// exactly one sweeping node.
    pub async fn take_dead_nodes(&self, before: DateTime<Utc>) -> Result<Vec<(String, DateTime<Utc>)>> {
        let rows = sqlx::query("DELETE FROM nodes WHERE seen_at < $1 AND node_id <> $2 RETURNING node_id, seen_at")
            .bind(ms(before))
            .bind(&self.node)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.iter().map(|r| (r.get(0), from_ms(r.get(1)))).collect())
    }

    /// The calls of `node` not yet ended.
    pub async fn open_calls_of(&self, node: &str) -> Result<Vec<CallId>> {
        let ids: Vec<i64> =
            sqlx::query_scalar("SELECT id FROM calls WHERE state <> 'ended' AND node_id = $1 ORDER BY id")
                .bind(node)
                .fetch_all(&self.pool)
                .await?;
        Ok(ids.into_iter().map(CallId).collect())
    }

    /// Writes the live state of one of this node's calls.
    pub async fn put_live(&self, call: CallId, doc: &str) -> Result<()> {
        sqlx::query(
            "INSERT INTO live_calls (call_id, node_id, doc) VALUES ($1, $2, $3)
             ON CONFLICT (call_id) DO UPDATE SET node_id = EXCLUDED.node_id, doc = EXCLUDED.doc",
        )
        .bind(call.0)
        .bind(&self.node)
        .bind(doc)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The call is no longer live.
    pub async fn drop_live(&self, call: CallId) -> Result<()> {
        sqlx::query("DELETE FROM live_calls WHERE call_id = $1")
            .bind(call.0)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Forgets every live call of `node` (it died, or restarts and repairs them).
    pub async fn drop_live_of(&self, node: &str) -> Result<()> {
        sqlx::query("DELETE FROM live_calls WHERE node_id = $1")
            .bind(node)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The live state of the other nodes' calls: `(call, node, doc)`.
    pub async fn remote_live(&self) -> Result<Vec<(CallId, String, String)>> {
        let rows = sqlx::query("SELECT call_id, node_id, doc FROM live_calls WHERE node_id <> $1 ORDER BY call_id")
            .bind(&self.node)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.iter().map(|r| (CallId(r.get(0)), r.get(1), r.get(2))).collect())
    }

    /// The node holding a live call and its live state, if it is live on any node.
    pub async fn live_call(&self, call: CallId) -> Result<Option<(String, String)>> {
        let row = sqlx::query("SELECT node_id, doc FROM live_calls WHERE call_id = $1")
            .bind(call.0)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| (r.get(0), r.get(1))))
    }

    /// Deletes parked messages older than `before` (every listener has read them by then).
    pub async fn prune_messages(&self, before: DateTime<Utc>) -> Result<u64> {
        Ok(sqlx::query("DELETE FROM bus_messages WHERE at < $1")
            .bind(ms(before))
            .execute(&self.pool)
            .await?
            .rows_affected())
    }

    /// Waits for the cluster-wide lock `key` (one holder on all nodes at a time) and holds
    /// it until the returned guard is dropped.
    pub async fn lock(&self, key: i64) -> Result<ClusterLock> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(key)
            .execute(&mut *tx)
            .await?;
        Ok(ClusterLock(tx))
    }
}
