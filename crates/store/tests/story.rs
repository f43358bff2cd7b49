//! One story through every `Store` method, told once per backend (SQLite in a temporary
//! directory, a real PostgreSQL server: `backend`): the directory, sessions, rules, calls,
//! recordings, the dispatch queue, audit and settings, with the errors the server relies on
//! (`NotFound`, `Conflict`, `Invalid`) and the append-only audit enforced by the database.

use callrec_store::{
    AuditFilter, DispatchFilter, DispatchOutcome, FinishedRecording, JournalQuery, NewAudit, NewCall, NewDispatch,
    NewRecording, NewTranscript, NewUserRecord, Scope, StoreError, TranscriptFailure, UserUpdate,
};
use callrec_types::calls::{
    AudioCodec, CallDirection, CallSource, CallState, DispatchStatus, Participant, ParticipantRole, RecordingGap,
    RecordingHold, RecordingPause, RecordingState, Trigger,
};
use callrec_types::directory::{Level, PhoneInput, RoleInput, TeamInput};
use callrec_types::engine::CallOrigin;
use callrec_types::rules::{Dispatch, MonMode, RuleDirection, RuleInput, RuleMode, RuleOrigin};
use callrec_types::transcripts::TranscriptStatus;
use callrec_types::{CallId, DispatchId, RecordingId, RoleId, TeamId, UserId};
use chrono::{DateTime, Duration, TimeZone, Utc};

#[macro_use]
mod backend;
use backend::{Concrete, Kind, TestStore};

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 8, 0, 0).single().expect("valid time")
}

fn new_user(name: &str, ext: &str) -> NewUserRecord {
    NewUserRecord {
        username: name.into(),
        display_name: String::new(),
        password_hash: format!("hash-of-{name}"),
        level: Level::Agent,
        extensions: vec![ext.into()],
    }
}

fn new_call(key: &str, started_at: DateTime<Utc>, user: UserId) -> NewCall {
    NewCall {
        call_key: key.into(),
        source: CallSource::Ingest,
        sip_call_ids: vec![format!("{key}@pbx")],
        participants: vec![
            Participant {
                name: "Outside Caller".into(),
                number: "+4930123456".into(),
                user_id: None,
                role: ParticipantRole::Caller,
                user_name: None,
            },
            Participant {
                name: "Anna".into(),
                number: "201".into(),
                user_id: Some(user),
                role: ParticipantRole::Callee,
                user_name: None,
            },
        ],
        direction: CallDirection::Incoming,
        origin: CallOrigin::External,
        mon_mode: MonMode::Auto,
        started_at,
        answered_at: None,
        ended_at: None,
        state: CallState::Active,
        trace: Vec::new(),
        consent: Default::default(),
    }
}

fn new_recording(call: CallId, seq: i64, started_at: DateTime<Utc>) -> NewRecording {
    NewRecording {
        call_id: call,
        seq,
        rel_path: format!("recordings/2026/03/02/c{}_{seq:03}.wav", call.0),
        file_name: format!("c{}_{seq:03}.wav", call.0),
        started_at,
        start_offset_ms: 0,
        duration_ms: 0,
        bytes: 0,
        codec: AudioCodec::Pcmu,
        sample_rate: 8000,
        channels: 2,
        sha256: String::new(),
        trigger: Trigger::Force,
        state: RecordingState::Recording,
    }
}

async fn directory_sessions_and_settings(kind: Kind) {
    let s = backend::open(kind).await;
    assert_eq!(s.count_users().await.expect("count"), 0, "a new store has no users");
    let anna = s.create_user(&new_user("anna", "201")).await.expect("anna");
    let ben = s.create_user(&new_user("ben", "202")).await.expect("ben");
    assert!(
        matches!(
            s.create_user(&new_user("anna", "299")).await,
            Err(StoreError::Conflict(_))
        ),
        "a taken username is a conflict"
    );
    assert!(
        matches!(
            s.create_user(&new_user("carl", "201")).await,
            Err(StoreError::Conflict(_))
        ),
        "a taken extension is a conflict"
    );
    assert_eq!(s.count_users().await.expect("count"), 2, "refused users are not stored");
    assert_eq!(s.get_user(anna.id).await.expect("get").extensions, vec!["201"]);
    assert!(matches!(s.get_user(UserId(999)).await, Err(StoreError::NotFound)));
    let (who, hash) = s.user_credentials("anna").await.expect("creds").expect("anna exists");
    assert_eq!((who.id, hash.as_str()), (anna.id, "hash-of-anna"));
    assert!(s.user_credentials("nobody").await.expect("creds").is_none());
    let names: Vec<String> = s
        .list_users()
        .await
        .expect("list")
        .into_iter()
        .map(|u| u.username)
        .collect();
    assert_eq!(names, vec!["anna", "ben"], "users by username");
    let ben = s
        .update_user(
            ben.id,
            &UserUpdate {
                display_name: Some("Ben Weber".into()),
                level: Some(Level::Supervisor),
                extensions: Some(vec!["202".into(), "sip:ben@pbx".into()]),
                ..Default::default()
            },
        )
        .await
        .expect("update");
    assert_eq!(ben.level, Level::Supervisor);
    assert_eq!(ben.extensions.len(), 2);
    let names = s.user_names(&[anna.id, ben.id, UserId(999)]).await.expect("names");
    assert_eq!(
        names.get(&anna.id).map(String::as_str),
        Some("anna"),
        "username when no display name"
    );
    assert_eq!(names.get(&ben.id).map(String::as_str), Some("Ben Weber"));
    assert_eq!(names.len(), 2, "missing ids are left out");
    assert_eq!(s.list_addresses().await.expect("addresses").len(), 3);

    let team = s
        .create_team(&TeamInput {
            name: "sales".into(),
            members: vec![anna.id, ben.id],
            supervisors: vec![ben.id],
        })
        .await
        .expect("team");
    assert!(matches!(
        s.create_team(&TeamInput {
            name: "sales".into(),
            members: vec![],
            supervisors: vec![],
        })
        .await,
        Err(StoreError::Conflict(_))
    ));
    assert!(
        matches!(
            s.create_team(&TeamInput {
                name: "ghosts".into(),
                members: vec![UserId(999)],
                supervisors: vec![],
            })
            .await,
            Err(StoreError::Conflict(_))
        ),
        "a member who does not exist is a conflict"
    );
    s.create_session("h0", ben.id, t0(), t0() + Duration::hours(1))
        .await
        .expect("session");
    let session = s.session_user("h0", t0()).await.expect("session user").expect("live");
    assert_eq!(
        (session.user.id, session.supervised),
        (ben.id, vec![anna.id]),
        "read with the session: the members of the team ben supervises"
    );
    let team = s
        .update_team(
            team.id,
            &TeamInput {
                name: "sales east".into(),
                members: vec![anna.id],
                supervisors: vec![ben.id],
            },
        )
        .await
        .expect("team update");
    assert_eq!(s.get_team(team.id).await.expect("team").name, "sales east");
    assert_eq!(s.list_teams().await.expect("teams").len(), 1);
    let role = s
        .create_role(&RoleInput {
            name: "recorded".into(),
            users: vec![ben.id],
            teams: vec![team.id],
        })
        .await
        .expect("role");
    let view = s.directory_view().await.expect("view");
    let rv = &view.roles[&role.id];
    assert!(rv.users.contains(&ben.id) && rv.teams[0].members.contains(&anna.id));
    let role = s
        .update_role(
            role.id,
            &RoleInput {
                name: "recorded".into(),
                users: vec![],
                teams: vec![team.id],
            },
        )
        .await
        .expect("role update");
    assert_eq!(s.get_role(role.id).await.expect("role").teams, vec![team.id]);
    assert_eq!(s.list_roles().await.expect("roles").len(), 1);
    let rule = s
        .create_rule(&RuleInput {
            description: "all of sales".into(),
            enabled: true,
            mode: RuleMode::Automatic,
            role_id: role.id,
            direction: RuleDirection::Both,
            origin: RuleOrigin::Both,
            dispatch: Dispatch::Store,
            position: None,
            require_consent: false,
            transcribe: false,
        })
        .await
        .expect("rule");
    assert!(
        matches!(s.delete_role(role.id).await, Err(StoreError::Conflict(_))),
        "a role in use stays"
    );
    let mut bad = s.get_rule(rule.id).await.expect("rule");
    bad.role_id = RoleId(999);
    assert!(matches!(
        s.update_rule(
            rule.id,
            &RuleInput {
                description: bad.description.clone(),
                enabled: true,
                mode: bad.mode,
                role_id: bad.role_id,
                direction: bad.direction,
                origin: bad.origin,
                dispatch: bad.dispatch.clone(),
                position: None,
                require_consent: false,
                transcribe: false,
            }
        )
        .await,
        Err(StoreError::Invalid(_))
    ));
    s.delete_rule(rule.id).await.expect("rule deleted");
    assert!(matches!(s.delete_rule(rule.id).await, Err(StoreError::NotFound)));
    s.delete_role(role.id).await.expect("role deleted");
    s.delete_team(team.id).await.expect("team deleted");
    assert!(matches!(s.get_team(TeamId(team.id.0)).await, Err(StoreError::NotFound)));

    let phone = s
        .create_phone(&PhoneInput {
            mac: "000413aabbcc".into(),
            user_id: anna.id,
        })
        .await
        .expect("phone");
    assert!(matches!(
        s.create_phone(&PhoneInput {
            mac: "000413aabbcc".into(),
            user_id: ben.id,
        })
        .await,
        Err(StoreError::Conflict(_))
    ));
    let phone = s
        .update_phone(
            phone.id,
            &PhoneInput {
                mac: "000413aabbcc".into(),
                user_id: ben.id,
            },
        )
        .await
        .expect("phone update");
    assert_eq!(s.get_phone(phone.id).await.expect("phone").user_id, ben.id);
    assert_eq!(
        s.phone_by_mac("000413aabbcc").await.expect("by mac").map(|p| p.id),
        Some(phone.id)
    );
    assert_eq!(s.list_phones().await.expect("phones").len(), 1);
    s.delete_phone(phone.id).await.expect("phone deleted");
    assert!(s.phone_by_mac("000413aabbcc").await.expect("by mac").is_none());

    let now = t0();
    s.create_session("h1", anna.id, now, now + Duration::hours(1))
        .await
        .expect("session");
    s.create_session("h2", anna.id, now, now + Duration::minutes(1))
        .await
        .expect("session");
    let session = s.session_user("h1", now).await.expect("session user").expect("live");
    let user = &session.user;
    assert_eq!((user.id, user.extensions.clone()), (anna.id, vec!["201".to_string()]));
    assert!(session.supervised.is_empty(), "anna supervises no team");
    let session = s.session_user("h0", now).await.expect("session user").expect("live");
    assert!(
        session.supervised.is_empty(),
        "ben's team is gone: he supervises nobody now"
    );
    assert!(s
        .session_user("h1", now + Duration::hours(2))
        .await
        .expect("session user")
        .is_none());
    assert_eq!(
        s.delete_expired_sessions(now + Duration::minutes(5))
            .await
            .expect("expired"),
        1
    );
    s.update_user(
        anna.id,
        &UserUpdate {
            password_hash: Some("new".into()),
            ..Default::default()
        },
    )
    .await
    .expect("new password");
    assert!(
        s.session_user("h1", now).await.expect("session user").is_none(),
        "a new password ends the user's sessions"
    );
    s.delete_session("h1").await.expect("delete session");
    s.delete_user(ben.id).await.expect("ben deleted");
    assert!(matches!(s.delete_user(ben.id).await, Err(StoreError::NotFound)));

    assert_eq!(s.get_setting("retention_days").await.expect("setting"), None);
    s.put_setting("retention_days", "90").await.expect("put");
    s.put_setting("retention_days", "30").await.expect("put again");
    assert_eq!(
        s.get_setting("retention_days").await.expect("setting").as_deref(),
        Some("30")
    );
}

async fn calls_recordings_and_dispatch(kind: Kind) {
    let s = backend::open(kind).await;
    let anna = s.create_user(&new_user("anna", "201")).await.expect("anna").id;
    let ben = s.create_user(&new_user("ben", "202")).await.expect("ben").id;
    let t = t0();
    let call = s.create_call(&new_call("c1", t, anna)).await.expect("call");
    assert!(matches!(
        s.create_call(&new_call("c1", t, anna)).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(s.unfinished_calls().await.expect("unfinished"), vec![call.id]);
    assert_eq!(s.call_by_sip_id("c1@pbx").await.expect("by sip id"), Some(call.id));
    assert_eq!(s.call_by_sip_id("other").await.expect("by sip id"), None);
    assert!(s.call_visible(call.id, &Scope::All).await.expect("visible"));
    assert!(s
        .call_visible(call.id, &Scope::Users(vec![anna]))
        .await
        .expect("visible"));
    assert!(!s
        .call_visible(call.id, &Scope::Users(vec![ben]))
        .await
        .expect("visible"));
    assert!(!s.call_visible(call.id, &Scope::Users(vec![])).await.expect("visible"));

    let rec = s
        .create_recording(&new_recording(call.id, 1, t))
        .await
        .expect("recording");
    assert!(matches!(
        s.create_recording(&new_recording(call.id, 1, t)).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(
        s.recording_by_path(&format!("recordings/2026/03/02/c{}_001.wav", call.id.0))
            .await
            .expect("by path"),
        Some(rec.id),
        "a recording is found by its path"
    );
    assert_eq!(
        s.recording_by_path("recordings/2026/03/02/none_001.wav")
            .await
            .expect("by path"),
        None,
        "no row names this path"
    );
    // Issue #11.1: the pauses are written while the recording runs and survive its finish.
    assert!(rec.pauses.is_empty(), "a new recording has no pauses");
    let pauses = vec![RecordingPause {
        from_ms: 3000,
        to_ms: Some(6000),
        by: "anna (201)".into(),
        user_id: Some(anna),
    }];
    s.set_recording_pauses(rec.id, &pauses).await.expect("pauses");
    assert!(matches!(
        s.set_recording_pauses(RecordingId(999_999), &pauses).await,
        Err(StoreError::NotFound)
    ));
    // Issue #15.1: the spans the call was on hold, for the waveform's markers.
    assert!(rec.holds.is_empty(), "a new recording has no holds");
    let holds = vec![
        RecordingHold {
            from_ms: 8000,
            to_ms: Some(9500),
        },
        RecordingHold {
            from_ms: 12_000,
            to_ms: None,
        },
    ];
    s.set_recording_holds(rec.id, &holds).await.expect("holds");
    assert_eq!(s.get_recording(rec.id).await.expect("rec").recording.holds, holds);
    assert!(matches!(
        s.set_recording_holds(RecordingId(999_999), &holds).await,
        Err(StoreError::NotFound)
    ));
    let holds = vec![
        holds[0],
        RecordingHold {
            from_ms: 12_000,
            to_ms: Some(14_000),
        },
    ];
    s.set_recording_holds(rec.id, &holds).await.expect("the hold closes");
    let unfinished = s.unfinished_recordings().await.expect("unfinished");
    assert_eq!(unfinished.len(), 1);
    assert_eq!(unfinished[0].call_key, "c1");
    let gaps = vec![RecordingGap {
        offset_ms: 1000,
        duration_ms: 500,
    }];
    let fin = s
        .finish_recording(
            rec.id,
            &FinishedRecording {
                duration_ms: 30_000,
                bytes: 480_044,
                sha256: "ab".repeat(32),
                codec: AudioCodec::Pcmu,
                sample_rate: 8000,
                channels: 2,
                gaps: gaps.clone(),
            },
        )
        .await
        .expect("finished");
    assert_eq!(
        (fin.state, fin.bytes, fin.gaps.clone()),
        (RecordingState::Complete, 480_044, gaps)
    );
    assert_eq!(fin.pauses, pauses, "the pauses are kept when the recording is finished");
    assert_eq!(fin.holds, holds, "so are the holds");
    assert!(s.unfinished_recordings().await.expect("unfinished").is_empty());

    let mut ended = call.clone();
    ended.state = CallState::Ended;
    ended.answered_at = Some(t + Duration::seconds(2));
    ended.ended_at = Some(t + Duration::seconds(32));
    ended.participants[1].user_id = Some(ben);
    s.update_call(&ended, &[]).await.expect("update call");
    let (got, trace) = s.get_call(call.id).await.expect("get call");
    assert_eq!((got.state, got.recording_count, trace.len()), (CallState::Ended, 1, 0));
    assert!(s.unfinished_calls().await.expect("unfinished").is_empty());
    assert!(
        s.call_visible(call.id, &Scope::Users(vec![ben]))
            .await
            .expect("visible"),
        "who took part follows the update"
    );
    assert!(matches!(s.get_call(CallId(999)).await, Err(StoreError::NotFound)));

    let totals = s.storage_totals(t - Duration::days(1)).await.expect("totals");
    assert_eq!(
        (totals.bytes, totals.recordings, totals.bytes_since),
        (480_044, 1, 480_044)
    );
    assert_eq!(totals.oldest_since, Some(t));

    let queued = s
        .queue_dispatch(
            rec.id,
            &[
                NewDispatch {
                    rule_id: None,
                    target: Dispatch::Email {
                        recipients: vec!["qa@example.com".into()],
                    },
                },
                NewDispatch {
                    rule_id: None,
                    target: Dispatch::Script {
                        script: "/bin/true".into(),
                    },
                },
            ],
            t,
        )
        .await
        .expect("queued");
    assert_eq!(queued.len(), 2);
    assert_eq!(
        s.queue_dispatch(
            rec.id,
            &[NewDispatch {
                rule_id: None,
                target: Dispatch::Email {
                    recipients: vec!["qa@example.com".into()],
                },
            }],
            t
        )
        .await
        .expect("queued again")
        .len(),
        2,
        "the same target is queued once"
    );
    let (d1, d2) = (queued[0].id, queued[1].id);
    assert!(s.dispatch_key(d1).await.expect("key").starts_with("callrec-"));
    assert!(matches!(
        s.dispatch_key(DispatchId(999)).await,
        Err(StoreError::NotFound)
    ));
    let listed = s.list_dispatch(&DispatchFilter::default()).await.expect("list");
    assert_eq!(
        listed.iter().map(|d| d.id).collect::<Vec<_>>(),
        vec![d2, d1],
        "newest first"
    );
    assert_eq!(listed[0].call.as_ref().map(|c| c.id), Some(call.id));
    assert!(
        s.expired_recordings(t + Duration::days(1), 10)
            .await
            .expect("expired")
            .is_empty(),
        "a pending dispatch keeps the recording"
    );
    assert_eq!(s.due_dispatch(t, 10).await.expect("due").len(), 2);
    let lease = t + Duration::minutes(5);
    assert!(s.claim_dispatch(d1, t, lease).await.expect("claim"));
    assert!(!s.claim_dispatch(d1, t, lease).await.expect("claim"), "claimed once");
    assert_eq!(
        s.due_dispatch(t, 10).await.expect("due").len(),
        1,
        "a leased target is not due"
    );
    assert!(matches!(s.retry_dispatch(d1, t).await, Err(StoreError::Conflict(_))));
    let failed = s
        .record_dispatch_attempt(
            d1,
            &DispatchOutcome {
                status: DispatchStatus::Pending,
                at: t,
                error: Some("smtp down".into()),
                detail: None,
                next_attempt_at: Some(t + Duration::hours(1)),
            },
        )
        .await
        .expect("attempt");
    assert_eq!((failed.attempts, failed.last_error.as_deref()), (1, Some("smtp down")));
    assert_eq!(s.expedite_dispatch(t).await.expect("expedite"), 1);
    let sent = s
        .record_dispatch_attempt(
            d1,
            &DispatchOutcome {
                status: DispatchStatus::Sent,
                at: t,
                error: None,
                detail: Some("250 ok".into()),
                next_attempt_at: None,
            },
        )
        .await
        .expect("sent");
    assert_eq!((sent.status, sent.sent_at), (DispatchStatus::Sent, Some(t)));
    let retried = s.retry_dispatch(d1, t).await.expect("retry");
    assert_eq!((retried.status, retried.attempts), (DispatchStatus::Pending, 2));
    for id in [d1, d2] {
        s.record_dispatch_attempt(
            id,
            &DispatchOutcome {
                status: DispatchStatus::Failed,
                at: t,
                error: Some("gave up".into()),
                detail: None,
                next_attempt_at: None,
            },
        )
        .await
        .expect("failed");
    }
    assert_eq!(s.get_dispatch(d2).await.expect("get").status, DispatchStatus::Failed);
    let held = s.set_legal_hold(rec.id, true).await.expect("hold");
    assert!(held.legal_hold);
    assert!(s
        .expired_recordings(t + Duration::days(1), 10)
        .await
        .expect("expired")
        .is_empty());
    s.set_legal_hold(rec.id, false).await.expect("release");
    let expired = s.expired_recordings(t + Duration::days(1), 10).await.expect("expired");
    assert_eq!(expired.iter().map(|r| r.recording.id).collect::<Vec<_>>(), vec![rec.id]);
    assert_eq!(s.list_recordings(call.id).await.expect("list")[0].dispatch.len(), 2);
    let gone = s.delete_recording(rec.id).await.expect("deleted");
    assert_eq!(
        gone.rel_path,
        "recordings/2026/03/02/c1_001.wav".replace("c1", &format!("c{}", call.id.0))
    );
    assert!(matches!(s.get_recording(rec.id).await, Err(StoreError::NotFound)));
    assert!(matches!(s.delete_recording(rec.id).await, Err(StoreError::NotFound)));
    assert_eq!(s.get_call(call.id).await.expect("call").0.recording_count, 0);
    assert!(matches!(
        s.set_legal_hold(RecordingId(999), true).await,
        Err(StoreError::NotFound)
    ));

    // Bulk import, as the benchmark seeds.
    let imported: Vec<(NewCall, Vec<NewRecording>)> = (0..3)
        .map(|i| {
            let mut c = new_call(&format!("bulk{i}"), t + Duration::minutes(i), anna);
            c.state = CallState::Ended;
            (c, vec![new_recording(CallId(0), 1, t + Duration::minutes(i))])
        })
        .collect();
    let mut imported = imported;
    for (i, (_, recs)) in imported.iter_mut().enumerate() {
        recs[0].rel_path = format!("recordings/bulk{i}_001.wav");
    }
    s.import_calls(&imported).await.expect("imported");
    assert_eq!(s.storage_totals(t).await.expect("totals").recordings, 3);
}

async fn the_audit_log_is_append_only(kind: Kind) {
    let s = backend::open(kind).await;
    let t = t0();
    let mut ids = Vec::new();
    for (i, action) in ["login", "rule_update", "login"].iter().enumerate() {
        let e = s
            .append_audit(&NewAudit {
                at: t + Duration::seconds(i as i64),
                user_id: None,
                actor: "admin".into(),
                action: (*action).into(),
                target: format!("t{i}"),
                detail: String::new(),
            })
            .await
            .expect("appended");
        ids.push(e.id);
    }
    let all = s
        .list_audit(&AuditFilter {
            limit: 10,
            ..Default::default()
        })
        .await
        .expect("list");
    assert_eq!(
        all.iter().map(|e| e.id).collect::<Vec<_>>(),
        vec![ids[2], ids[1], ids[0]]
    );
    let logins = s
        .list_audit(&AuditFilter {
            action: Some("login".into()),
            before: Some(ids[2]),
            limit: 10,
            ..Default::default()
        })
        .await
        .expect("list");
    assert_eq!(logins.iter().map(|e| e.id).collect::<Vec<_>>(), vec![ids[0]]);
    for sql in ["UPDATE audit SET detail = 'changed'", "DELETE FROM audit"] {
        let err = write(&s, sql).await.expect_err("the database refuses it");
        assert!(err.to_string().contains("append-only"), "{sql}: {err}");
    }
    assert_eq!(
        s.list_audit(&AuditFilter {
            limit: 10,
            ..Default::default()
        })
        .await
        .expect("list")
        .len(),
        3,
        "nothing changed"
    );
}

/// Runs a statement straight on the backend's database, bypassing the store.
async fn write(s: &TestStore, sql: &str) -> Result<(), sqlx::Error> {
    match &s.concrete {
        Concrete::Sqlite(db) => sqlx::query(sql).execute(db.pool()).await.map(|_| ()),
        Concrete::Postgres(db) => sqlx::query(sql).execute(db.pool()).await.map(|_| ()),
    }
}

/// The transcription queue (issue #16): queue, claim under a lease, a lease that ends and is
/// taken over, a result or failure taken only from the lease holder, retries, the search text,
/// and the transcript deleted with its recording.
async fn transcripts_queue_lease_and_result(kind: Kind) {
    let s = backend::open(kind).await;
    let anna = s.create_user(&new_user("anna", "201")).await.expect("anna").id;
    let t = t0();
    let (call, rec) = backend::recorded_call(&*s, anna, "t1", t).await;
    let (other_call, other) = backend::recorded_call(&*s, anna, "t2", t + Duration::minutes(1)).await;
    let lease_ms = 60_000;
    assert_eq!(
        s.claim_transcript("w1", "lease-0", t, lease_ms).await.expect("claim"),
        None,
        "nothing queued, nothing to claim"
    );
    s.queue_transcript(rec, call, t).await.expect("queue");
    s.queue_transcript(rec, call, t + Duration::seconds(5))
        .await
        .expect("a second queue of the same recording is no error");
    let queued = s.get_transcript(rec).await.expect("get").expect("queued");
    assert_eq!(
        (queued.status, queued.attempts, queued.queued_at),
        (TranscriptStatus::Queued, 0, t)
    );
    assert!(
        s.get_transcript(other).await.expect("get").is_none(),
        "the other is not queued"
    );
    assert!(
        matches!(
            s.queue_transcript(RecordingId(9_999), call, t).await,
            Err(StoreError::Conflict(_))
        ),
        "a recording that does not exist cannot be queued"
    );

    // Claimed under a lease of 60 s plus the recording's 10 s; nobody else gets it meanwhile.
    let c1 = s
        .claim_transcript("w1", "lease-1", t, lease_ms)
        .await
        .expect("claim")
        .expect("the queued job");
    assert_eq!(c1.recording_id, rec);
    assert_eq!(c1.attempt, 1);
    assert_eq!(c1.lease_until, t + Duration::seconds(70));
    assert_eq!(
        s.get_transcript(rec).await.expect("get").expect("job").status,
        TranscriptStatus::Running
    );
    assert!(s.transcript_lease_held(rec, "lease-1").await.expect("held"));
    assert!(!s.transcript_lease_held(rec, "lease-x").await.expect("held"));
    assert_eq!(
        s.claim_transcript("w2", "lease-2", t + Duration::seconds(69), lease_ms)
            .await
            .expect("claim"),
        None,
        "a running job is not handed out before its lease ends"
    );

    // The lease ends (w1 died): w2 takes the job over; w1's late result and failure change nothing.
    let at = t + Duration::seconds(70);
    let c2 = s
        .claim_transcript("w2", "lease-2", at, lease_ms)
        .await
        .expect("claim")
        .expect("the job whose lease ended");
    assert_eq!((c2.recording_id, c2.attempt), (rec, 2));
    assert!(!s.transcript_lease_held(rec, "lease-1").await.expect("held"));
    let lines = br#"[{"channel":0}]"#;
    let late = NewTranscript {
        recording_id: rec,
        lease: "lease-1",
        lines,
        search: "good morning i would like to cancel ",
        at,
    };
    assert!(
        !s.put_transcript(&late).await.expect("put"),
        "the old lease's result is refused"
    );
    assert!(!s
        .fail_transcript(&TranscriptFailure {
            recording_id: rec,
            lease: "lease-1",
            error: "late",
            retry_at: None,
            at,
        })
        .await
        .expect("fail"));
    let journal = |q: &str| JournalQuery {
        scope: Scope::All,
        q: Some(q.into()),
        from: None,
        to: None,
        direction: None,
        has_recordings: None,
        user_id: None,
        reviewed: None,
        cursor: None,
        limit: 50,
    };
    let found =
        |items: Vec<callrec_types::calls::JournalItem>| items.into_iter().map(|i| i.call.id).collect::<Vec<_>>();
    assert!(
        found(s.journal(&journal("cancel")).await.expect("journal").0).is_empty(),
        "no transcript, no match"
    );

    // w2 fails once: queued again for the retry time, not before.
    let retry_at = at + Duration::seconds(30);
    assert!(s
        .fail_transcript(&TranscriptFailure {
            recording_id: rec,
            lease: "lease-2",
            error: "the model crashed",
            retry_at: Some(retry_at),
            at,
        })
        .await
        .expect("fail"));
    let failed = s.get_transcript(rec).await.expect("get").expect("job");
    assert_eq!(
        (failed.status, failed.attempts, failed.error.as_deref()),
        (TranscriptStatus::Queued, 2, Some("the model crashed"))
    );
    assert_eq!(
        s.claim_transcript("w2", "lease-3", at + Duration::seconds(29), lease_ms)
            .await
            .expect("claim"),
        None,
        "not before the retry time"
    );
    let c3 = s
        .claim_transcript("w2", "lease-3", retry_at, lease_ms)
        .await
        .expect("claim")
        .expect("the retry");
    assert_eq!(c3.attempt, 3);

    // The holder's result is stored and searchable.
    let done_at = retry_at + Duration::seconds(20);
    assert!(s
        .put_transcript(&NewTranscript {
            lease: "lease-3",
            at: done_at,
            ..late
        })
        .await
        .expect("put"));
    let done = s.get_transcript(rec).await.expect("get").expect("job");
    assert_eq!(
        (
            done.status,
            done.attempts,
            done.error,
            done.finished_at,
            done.lines.as_deref()
        ),
        (TranscriptStatus::Done, 3, None, Some(done_at), Some(&lines[..]))
    );
    assert!(
        !s.put_transcript(&NewTranscript {
            lease: "lease-3",
            at: done_at,
            ..late
        })
        .await
        .expect("put"),
        "a finished job takes no second result"
    );
    assert_eq!(
        found(s.journal(&journal("cancel")).await.expect("journal").0),
        vec![call]
    );
    assert_eq!(
        found(s.journal(&journal("agent")).await.expect("journal").0).len(),
        2,
        "names are still searched after the transcript's text was added"
    );
    let listed = s.call_transcripts(call).await.expect("call transcripts");
    assert_eq!(listed.iter().map(|t| t.recording_id).collect::<Vec<_>>(), vec![rec]);
    assert_eq!(
        s.claim_transcript("w2", "lease-4", done_at + Duration::hours(1), lease_ms)
            .await
            .expect("claim"),
        None,
        "a done job is never handed out again"
    );

    // A job whose leases keep ending is failed after the last attempt.
    s.queue_transcript(other, other_call, t).await.expect("queue the other");
    let mut now = done_at;
    for n in 1..=callrec_types::transcripts::MAX_TRANSCRIPT_ATTEMPTS {
        let c = s
            .claim_transcript("w3", &format!("l{n}"), now, lease_ms)
            .await
            .expect("claim")
            .expect("taken again after its lease");
        assert_eq!((c.recording_id, c.attempt), (other, n));
        now = c.lease_until;
    }
    assert_eq!(
        s.claim_transcript("w3", "last", now, lease_ms).await.expect("claim"),
        None
    );
    let gave_up = s.get_transcript(other).await.expect("get").expect("job");
    assert_eq!(gave_up.status, TranscriptStatus::Failed);
    assert!(
        gave_up.error.as_deref().is_some_and(|e| e.contains("gave up after")),
        "{:?}",
        gave_up.error
    );

    // Deleted with its recording: the job, the lines and the words in the search text.
    s.delete_recording(rec).await.expect("delete");
    assert!(
        s.get_transcript(rec).await.expect("get").is_none(),
        "the transcript went with it"
    );
    assert!(s.call_transcripts(call).await.expect("call transcripts").is_empty());
    assert!(
        found(s.journal(&journal("cancel")).await.expect("journal").0).is_empty(),
        "its words are no longer found"
    );
    assert_eq!(
        found(s.journal(&journal("agent")).await.expect("journal").0).len(),
        2,
        "the names are still found"
    );
}

on_every_backend!(
    directory_sessions_and_settings,
    calls_recordings_and_dispatch,
    the_audit_log_is_append_only,
    transcripts_queue_lease_and_result,
);
