//! End-to-end: retention, legal hold, deletion and the disk forecast (issue #5), on the
//! server's injected clock. Recordings older than `retention_days` go — file, row and journal
//! entry — except those on legal hold and those whose dispatch is still pending; every
//! deletion is audited.

use crate::post_call;
use callrec_types::wire::ErrorCode;

use callrec_client::Method;
use callrec_tests::directory::{add_rule, rule};
use callrec_tests::wav;
use callrec_types::calls::JournalDocument;
use callrec_types::rules::{Dispatch, RuleDirection, RuleMode, RuleOrigin};
use callrec_types::wire::SettingsPatch;
use callrec_types::RecordingId;
use chrono::Duration;
use post_call::*;

fn t0() -> chrono::DateTime<chrono::Utc> {
    local(2026, 6, 1, 12, 0, 0)
}

/// Support (alice 201, bob 202) is recorded and mailed to an address nobody serves (SMTP is
/// not configured, so those copies stay pending); Sales (carol 203) is recorded, stored only.
async fn rules(w: &World) {
    add_rule(
        &w.admin,
        rule(
            "Support, mailed",
            RuleMode::Automatic,
            w.cast.support_role,
            RuleDirection::Both,
            RuleOrigin::Both,
            Dispatch::Email {
                recipients: vec!["qa@example.com".into()],
            },
        ),
    )
    .await;
    add_rule(
        &w.admin,
        rule(
            "Sales, stored",
            RuleMode::Automatic,
            w.cast.sales_role,
            RuleDirection::Both,
            RuleOrigin::Both,
            Dispatch::Store,
        ),
    )
    .await;
}

async fn upload(w: &World, id: &str, ext: &str, days_ago: i64) -> RecordingId {
    let at = w.srv.now() - Duration::days(days_ago);
    ingest(&w.srv, &call(id, at, "+4930999000", ext), wav::stereo_ulaw(1.0))
        .await
        .recording_id
}

fn file_of(
    w: &World,
    rec: &callrec_types::calls::Recording,
    started: chrono::DateTime<chrono::Utc>,
) -> std::path::PathBuf {
    // recordings/YYYY/MM/DD/<file> under the data directory, by the call's start date.
    w.dir
        .path()
        .join("recordings")
        .join(started.format("%Y/%m/%d").to_string())
        .join(&rec.file_name)
}

async fn journal(w: &World, call: callrec_types::CallId) -> JournalDocument {
    w.admin.call_journal_json(call).await.expect("the journal is served")
}

#[tokio::test]
async fn expired_recordings_go_except_on_legal_hold_or_with_pending_dispatch_and_each_deletion_is_audited() {
    let w = world(t0(), |_| {}).await;
    rules(&w).await;
    w.admin
        .update_settings(&SettingsPatch {
            retention_days: Some(30),
            ..Default::default()
        })
        .await
        .expect("retention 30 days");

    let old = upload(&w, "old@pbx", "203", 40).await;
    let held = upload(&w, "held@pbx", "203", 40).await;
    let pending = upload(&w, "pending@pbx", "201", 40).await;
    let fresh = upload(&w, "fresh@pbx", "203", 10).await;
    w.admin.hold_recording(held, true).await.expect("legal hold");

    let old_rec = w.admin.get_recording(old).await.expect("old");
    let old_file = file_of(&w, &old_rec, w.srv.now() - Duration::days(40));
    assert!(
        old_file.exists(),
        "the file is where the spec says: {}",
        old_file.display()
    );

    // "Run now" also tries the pending mail; SMTP is not configured, so it stays pending.
    let report = run_now(&w.admin).await;
    assert_eq!(
        report.deleted_recordings,
        vec![old],
        "only the expired, free recording goes"
    );
    assert!(!old_file.exists(), "its file is removed");
    let err = w.admin.get_recording(old).await.expect_err("its row is gone");
    assert_eq!(err.status(), Some(404));
    let doc = journal(&w, old_rec.call_id).await;
    assert!(doc.recordings.is_empty(), "the call's journal no longer lists it");
    for (id, why) in [
        (held, "on legal hold"),
        (pending, "with a pending dispatch"),
        (fresh, "not expired"),
    ] {
        assert!(w.admin.get_recording(id).await.is_ok(), "recording {id} {why} is kept");
    }

    let audit = w.admin.audit(None, Some(100)).await.expect("audit");
    let expired: Vec<_> = audit.items.iter().filter(|e| e.action == "recording_expire").collect();
    assert_eq!(expired.len(), 1, "one audit row per deletion");
    assert_eq!(expired[0].actor, "system", "retention acts as the system");
    assert_eq!(expired[0].target, format!("recording {old}"));
    assert!(expired[0].detail.contains("30 days"), "{}", expired[0].detail);

    // Releasing the hold lets it go on the next run; the pending copy waits for its dispatch.
    w.admin.hold_recording(held, false).await.expect("release");
    let report = run_now(&w.admin).await;
    assert_eq!(report.deleted_recordings, vec![held]);
    assert!(
        w.admin.get_recording(pending).await.is_ok(),
        "still pending, still kept"
    );
    let audit = w.admin.audit(None, Some(100)).await.expect("audit");
    assert!(
        audit
            .items
            .iter()
            .any(|e| e.action == "recording_release" && e.target == format!("recording {held}")),
        "the hold's release is audited"
    );
}

#[tokio::test]
async fn the_scheduled_job_expires_recordings_as_the_clock_passes_the_retention() {
    let w = world(t0(), |_| {}).await;
    rules(&w).await;
    let rec = upload(&w, "aging@pbx", "203", 0).await;

    // 89 days later, at the 20:00 run: kept. (Sessions last hours, so log in again after
    // each jump of the clock.)
    let srv = &w.srv;
    srv.set_clock(t0() + Duration::days(89) + Duration::hours(7) + Duration::minutes(59))
        .await;
    let day89 = t0() + Duration::days(89) + Duration::hours(8) + Duration::minutes(1);
    srv.set_clock(day89).await;
    let last = srv.state.store.get_setting("scheduler.last_run").await.expect("reads");
    assert_eq!(last, Some(day89.to_rfc3339()), "the 20:00 run of day 89 ran");
    let admin = srv.admin().await;
    assert!(
        admin.get_recording(rec).await.is_ok(),
        "90-day retention keeps it on day 89"
    );

    // Day 91: gone.
    srv.set_clock(t0() + Duration::days(91) + Duration::hours(7) + Duration::minutes(59))
        .await;
    srv.set_clock(t0() + Duration::days(91) + Duration::hours(8) + Duration::minutes(1))
        .await;
    let admin = srv.admin().await;
    let gone = admin
        .get_recording(rec)
        .await
        .expect_err("deleted by the 20:00 run of day 91");
    assert_eq!(gone.status(), Some(404));
}

#[tokio::test]
async fn an_admin_deletes_and_holds_recordings_and_nobody_else_may() {
    let w = world(t0(), |_| {}).await;
    rules(&w).await;
    let rec = upload(&w, "del@pbx", "203", 1).await;
    let meta = w.admin.get_recording(rec).await.expect("meta");
    let file = file_of(&w, &meta, w.srv.now() - Duration::days(1));

    let carol = w.srv.login("carol").await;
    let err = carol.hold_recording(rec, true).await.expect_err("agents do not hold");
    assert_eq!(err.status(), Some(403));
    let err = carol.delete_recording(rec).await.expect_err("agents do not delete");
    assert_eq!(err.status(), Some(403));

    let held = w.admin.hold_recording(rec, true).await.expect("hold");
    assert!(held.legal_hold, "the answer shows the hold");
    let err = w
        .admin
        .delete_recording(rec)
        .await
        .expect_err("a held recording is kept");
    assert_eq!((err.status(), err.code()), (Some(409), Some(ErrorCode::LegalHold)));
    assert!(file.exists(), "nothing was removed");

    w.admin.hold_recording(rec, false).await.expect("release");
    w.admin.delete_recording(rec).await.expect("an admin deletes");
    assert!(!file.exists(), "the file is removed");
    assert_eq!(w.admin.get_recording(rec).await.expect_err("gone").status(), Some(404));
    assert!(
        journal(&w, meta.call_id).await.recordings.is_empty(),
        "the journal is rewritten"
    );
    let audit = w.admin.audit(None, Some(50)).await.expect("audit");
    let row = audit
        .items
        .iter()
        .find(|e| e.action == "recording_delete")
        .expect("the deletion is audited");
    assert_eq!(row.actor, "admin");
    assert!(
        audit.items.iter().any(|e| e.action == "recording_hold"),
        "the hold is audited"
    );

    assert_eq!(
        w.admin.delete_recording(rec).await.expect_err("twice").status(),
        Some(404)
    );
    let r = w
        .admin
        .raw(Method::DELETE, "/api/v1/recordings/..%2Fetc")
        .send()
        .await
        .expect("answers");
    assert_eq!(r.status().as_u16(), 400, "an id that is not a number is a 400");
    let r = w
        .admin
        .raw(Method::PUT, "/api/v1/recordings/999/hold")
        .json(&serde_json::json!({"legal_hold": "yes"}))
        .send()
        .await
        .expect("answers");
    assert_eq!(r.status().as_u16(), 422, "a hold that is not a boolean is refused");
}

#[tokio::test]
async fn storage_reports_used_and_free_space_the_daily_rate_and_days_until_full() {
    let w = world(t0(), |_| {}).await;
    rules(&w).await;
    let empty = w.admin.storage().await.expect("storage");
    assert_eq!(empty.bytes_used, 0);
    assert!(empty.bytes_free > 0, "the data directory's file system has room");
    assert_eq!(empty.days_until_full, None, "nothing recorded: never full");

    let a = upload(&w, "s1@pbx", "203", 10).await;
    let b = upload(&w, "s2@pbx", "203", 0).await;
    let bytes = w.admin.get_recording(a).await.expect("a").bytes + w.admin.get_recording(b).await.expect("b").bytes;
    let r = w.admin.storage().await.expect("storage");
    assert_eq!(r.bytes_used, bytes as u64, "used is the sum of the recordings");
    assert_eq!(r.recordings, 2);
    assert_eq!(
        r.bytes_per_day,
        (bytes as f64 / 10.0).round() as u64,
        "averaged over the 10 days recorded"
    );
    let days = r.days_until_full.expect("a rate gives a forecast");
    let expected = r.bytes_free as f64 / (bytes as f64 / 10.0);
    assert!(
        (days - expected).abs() / expected < 1e-3,
        "days until full is free / rate: {days} vs {expected}"
    );

    let carol = w.srv.login("carol").await;
    assert_eq!(carol.storage().await.expect_err("admins only").status(), Some(403));
}
