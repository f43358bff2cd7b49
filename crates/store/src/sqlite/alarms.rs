//! SQLite: missing-recording alarms (issue #11.3), one per call.

use super::{from_ms, ms, opt_ms};
use crate::{NewAlarm, Result, StoreError};
use callrec_types::alarms::{Alarm, AlarmKind};
use callrec_types::*;
use chrono::{DateTime, Utc};
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqlitePool};

const COLS: &str = "id, call_id, kind, message, expected_ms, recorded_ms, raised_at, acknowledged_at, acknowledged_by";

fn alarm_row(r: &SqliteRow) -> Result<Alarm> {
    let kind: String = r.get(2);
    Ok(Alarm {
        id: AlarmId(r.get(0)),
        call_id: CallId(r.get(1)),
        kind: AlarmKind::parse(&kind).ok_or_else(|| StoreError::Corrupt(format!("alarm kind {kind:?}")))?,
        message: r.get(3),
        expected_ms: r.get(4),
        recorded_ms: r.get(5),
        raised_at: from_ms(r.get(6)),
        acknowledged_at: r.get::<Option<i64>, _>(7).map(from_ms),
        acknowledged_by: r.get::<Option<i64>, _>(8).map(UserId),
    })
}

/// One statement: a call that has an alarm already keeps it, and `None` says so.
pub async fn raise_alarm(pool: &SqlitePool, a: &NewAlarm) -> Result<Option<Alarm>> {
    let r = sqlx::query(&format!(
        "INSERT INTO alarms (call_id, kind, message, expected_ms, recorded_ms, raised_at)
         VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (call_id) DO NOTHING RETURNING {COLS}"
    ))
    .bind(a.call_id.0)
    .bind(a.kind.as_str())
    .bind(&a.message)
    .bind(a.expected_ms)
    .bind(a.recorded_ms)
    .bind(ms(a.raised_at))
    .fetch_optional(pool)
    .await?;
    r.as_ref().map(alarm_row).transpose()
}

pub async fn list_alarms(pool: &SqlitePool, unacknowledged: bool, limit: i64) -> Result<Vec<Alarm>> {
    let filter = if unacknowledged {
        "WHERE acknowledged_at IS NULL"
    } else {
        ""
    };
    let rows = sqlx::query(&format!("SELECT {COLS} FROM alarms {filter} ORDER BY id DESC LIMIT ?"))
        .bind(limit.clamp(1, 10_000))
        .fetch_all(pool)
        .await?;
    rows.iter().map(alarm_row).collect()
}

pub async fn get_alarm(pool: &SqlitePool, id: AlarmId) -> Result<Alarm> {
    let r = sqlx::query(&format!("SELECT {COLS} FROM alarms WHERE id = ?"))
        .bind(id.0)
        .fetch_optional(pool)
        .await?
        .ok_or(StoreError::NotFound)?;
    alarm_row(&r)
}

/// The first acknowledgement is kept; a second one changes nothing.
pub async fn ack_alarm(pool: &SqlitePool, id: AlarmId, by: UserId, at: DateTime<Utc>) -> Result<Alarm> {
    let r = sqlx::query(&format!(
        "UPDATE alarms SET acknowledged_at = COALESCE(acknowledged_at, ?),
         acknowledged_by = CASE WHEN acknowledged_at IS NULL THEN ? ELSE acknowledged_by END
         WHERE id = ? RETURNING {COLS}"
    ))
    .bind(opt_ms(Some(at)))
    .bind(by.0)
    .bind(id.0)
    .fetch_optional(pool)
    .await?
    .ok_or(StoreError::NotFound)?;
    alarm_row(&r)
}
