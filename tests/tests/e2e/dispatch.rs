//! End-to-end: the dispatch queue (issue #5). Recordings uploaded through ingest queue their
//! rule's targets; the job sends e-mail to a real SMTP server (aiosmtpd, started here) and runs
//! real bash scripts; the schedule runs on the server's injected clock.
//!
//! The at-least-once window: a copy whose send succeeded but whose bookkeeping did not (a
//! crash in between) is sent again after its lease ends, with the same idempotency key — see
//! `a_crash_between_send_and_bookkeeping_loses_nothing_and_resends_with_the_same_key`.

use crate::post_call;

use callrec_client::{AudioFormat, Method};
use callrec_server::dispatch::{self, email::MAX_ATTACHMENT_BYTES, script::MAX_OUTPUT, MAX_ATTEMPTS};
use callrec_tests::directory::{add_rule, rule};
use callrec_tests::wav;
use callrec_types::calls::{DispatchStatus, JournalDocument};
use callrec_types::rules::{Dispatch, RuleDirection, RuleMode, RuleOrigin};
use callrec_types::wire::{SettingsPatch, SmtpPatch};
use callrec_types::RecordingId;
use chrono::Duration;
use post_call::*;
use std::ops::ControlFlow;

const QA: &str = "qa@example.com";
const LEAD: &str = "lead@example.com";

fn t0() -> chrono::DateTime<chrono::Utc> {
    local(2026, 3, 10, 12, 0, 0)
}

async fn auto_rule(w: &World, dispatch: Dispatch) {
    add_rule(
        &w.admin,
        rule(
            "Support is recorded",
            RuleMode::Automatic,
            w.cast.support_role,
            RuleDirection::Both,
            RuleOrigin::Both,
            dispatch,
        ),
    )
    .await;
}

fn email_rule() -> Dispatch {
    Dispatch::Email {
        recipients: vec![QA.into(), LEAD.into()],
    }
}

/// Alice (201) takes a call from outside; the upload returns the recording.
async fn alice_call(w: &World, id: &str, secs: f64) -> RecordingId {
    ingest(
        &w.srv,
        &call(id, w.srv.now(), "+4930999000", "201"),
        wav::stereo_ulaw(secs),
    )
    .await
    .recording_id
}

async fn journal_bytes(w: &World, rec: RecordingId) -> Vec<u8> {
    let call_id = w.admin.get_recording(rec).await.expect("the recording").call_id;
    let r = w
        .admin
        .raw(Method::GET, &format!("/api/v1/calls/{call_id}/journal.json"))
        .send()
        .await
        .expect("the journal answers");
    assert_eq!(r.status().as_u16(), 200, "the journal JSON is served");
    r.bytes().await.expect("journal body").to_vec()
}

async fn stored_wav(w: &World, rec: RecordingId) -> Vec<u8> {
    let (status, _, body) = w
        .admin
        .audio_bytes(rec, AudioFormat::Original, None)
        .await
        .expect("the audio answers");
    assert_eq!(status, 200);
    body.to_vec()
}

#[tokio::test]
async fn one_message_per_recording_reaches_every_recipient_with_both_files_byte_equal() {
    let w = world(t0(), |_| {}).await;
    let mail = tempfile::tempdir().expect("mail dir");
    let sink = Sink::start(mail.path(), 0).await;
    use_smtp(&w.admin, sink.port).await;
    auto_rule(&w, email_rule()).await;
    let rec = alice_call(&w, "mail-1@pbx", 3.0).await;

    let queued = target(&w.admin, rec).await;
    assert_eq!(queued.status, DispatchStatus::Pending, "the upload queues the e-mail");
    assert_eq!(queued.attempts, 0);

    let report = run_now(&w.admin).await;
    assert_eq!((report.sent, report.failed, report.pending), (1, 0, 0), "{report:?}");

    let mails = sink.wait_for(1).await;
    assert_eq!(mails.len(), 1, "one message for the recording, not one per recipient");
    let m = &mails[0];
    let mut rcpt = m.rcpt_tos.clone();
    rcpt.sort();
    assert_eq!(rcpt, [LEAD, QA], "every recipient of the rule is in the envelope");
    assert_eq!(m.mail_from, "callrec@example.com", "sent from the configured sender");

    let recording = w.admin.get_recording(rec).await.expect("recording");
    let key = m.dispatch_key.clone().expect("the dispatch key header is set");
    assert!(
        key.starts_with(&format!("callrec-{rec}-")),
        "the key names the recording: {key}"
    );
    assert_eq!(
        m.message_id.as_deref(),
        Some(format!("<{key}@example.com>").as_str()),
        "the Message-ID carries the same key, so a receiver can drop a duplicate"
    );

    assert_eq!(m.attachments.len(), 2, "the WAV and the journal are attached: {m:?}");
    let wav_part = m
        .attachments
        .iter()
        .find(|a| a.content_type == "audio/wav")
        .expect("a WAV attachment");
    assert_eq!(wav_part.filename.as_deref(), Some(recording.file_name.as_str()));
    assert!(
        sink.attachment(wav_part) == stored_wav(&w, rec).await,
        "the attached WAV is byte for byte the stored recording"
    );
    let json_part = m
        .attachments
        .iter()
        .find(|a| a.content_type == "application/json")
        .expect("a JSON attachment");
    let attached_json = sink.attachment(json_part);
    assert!(
        attached_json == journal_bytes(&w, rec).await,
        "the attached JSON is byte for byte the stored journal"
    );
    let doc: JournalDocument = serde_json::from_slice(&attached_json).expect("the journal parses");
    assert!(
        doc.recordings.iter().any(|r| r.id == rec),
        "the journal lists the recording"
    );
    assert!(
        m.text.contains(&recording.sha256),
        "the body states the facts, checksum included"
    );

    let sent = target(&w.admin, rec).await;
    assert_eq!(sent.status, DispatchStatus::Sent);
    assert_eq!(sent.attempts, 1);
    assert!(sent.sent_at.is_some(), "the time it was sent is kept");
    assert!(
        sent.detail
            .as_deref()
            .unwrap_or("")
            .contains("with the WAV and the journal"),
        "the detail says what went out: {:?}",
        sent.detail
    );

    // Another run sends nothing again.
    let again = run_now(&w.admin).await;
    assert_eq!(again.attempted, 0, "a sent target is not sent again");
    // The run is over when it answers, and the sink files a message before it answers 250.
    assert_eq!(sink.messages().len(), 1, "still exactly one message");
    sink.stop().await;
}

#[tokio::test]
async fn with_the_smtp_server_down_targets_stay_pending_and_go_out_once_it_is_back() {
    let w = world(t0(), |_| {}).await;
    let mail = tempfile::tempdir().expect("mail dir");
    // Learn a port that is ours, then take the server down.
    let sink = Sink::start(mail.path(), 0).await;
    let port = sink.port;
    sink.stop().await;
    use_smtp(&w.admin, port).await;
    auto_rule(&w, email_rule()).await;
    let rec = alice_call(&w, "down-1@pbx", 1.0).await;

    let report = run_now(&w.admin).await;
    assert_eq!((report.sent, report.failed, report.pending), (0, 1, 1), "{report:?}");
    let t = target(&w.admin, rec).await;
    assert_eq!(t.status, DispatchStatus::Pending, "a dead SMTP server drops nothing");
    assert_eq!(t.attempts, 1, "the attempt is counted");
    assert!(
        t.last_error.as_deref().unwrap_or("").contains("SMTP"),
        "the error is kept in words: {:?}",
        t.last_error
    );
    assert_eq!(
        t.next_attempt_at,
        Some(w.srv.now() + Duration::minutes(1)),
        "the first retry is a minute later"
    );

    // The schedule's next runs retry with growing waits while the server stays down.
    w.srv.clock.advance(Duration::seconds(61));
    let (sent, _) = dispatch_counts(&w).await;
    assert_eq!(sent, 0);
    let t = target(&w.admin, rec).await;
    assert_eq!(t.attempts, 2, "retried once the minute was up");
    assert_eq!(
        t.next_attempt_at,
        Some(w.srv.now() + Duration::minutes(2)),
        "then two minutes"
    );

    // Back up on the same port: the next run delivers it, once.
    let sink = Sink::start(mail.path(), port).await;
    w.srv.clock.advance(Duration::minutes(3));
    let (sent, _) = dispatch_counts(&w).await;
    assert_eq!(sent, 1, "delivered once the server is back");
    let mails = sink.wait_for(1).await;
    assert_eq!(mails.len(), 1);
    let t = target(&w.admin, rec).await;
    assert_eq!((t.status, t.attempts), (DispatchStatus::Sent, 3));
    assert_eq!(t.last_error, None, "a success clears the error");
    sink.stop().await;
}

/// Runs the due queue in-process as the scheduled job does (without "run now", which would
/// also send targets still waiting for their backoff).
async fn dispatch_counts(w: &World) -> (u64, u64) {
    let c = dispatch::run_due(&w.srv.state).await.expect("the run works");
    (c.sent, c.failed)
}

#[tokio::test]
async fn a_crash_between_send_and_bookkeeping_loses_nothing_and_resends_with_the_same_key() {
    let w = world(t0(), |_| {}).await;
    let mail = tempfile::tempdir().expect("mail dir");
    let sink = Sink::start(mail.path(), 0).await;
    use_smtp(&w.admin, sink.port).await;
    auto_rule(&w, email_rule()).await;
    let rec = alice_call(&w, "crash-1@pbx", 1.0).await;

    // The message goes out, then the server "dies" before it records that.
    let counts = dispatch::run_due_with(&w.srv.state, &|_, attempt| {
        assert!(attempt.ok, "the send itself works: {attempt:?}");
        ControlFlow::Break(())
    })
    .await
    .expect("the run works");
    assert_eq!(counts.sent, 0, "nothing was recorded as sent");
    let first = sink.wait_for(1).await;
    let World { dir, srv, admin: _, .. } = w;
    let clock = srv.clock.clone();
    srv.crash().await;

    // Restarted on the same data: the target is still there, pending, its attempt unrecorded.
    let srv = Srv::start(dir.path(), clock.clone(), |_| {}).await;
    let admin = srv.admin().await;
    let t = target(&admin, rec).await;
    assert_eq!(t.status, DispatchStatus::Pending, "the crash lost no queued target");
    assert_eq!(t.attempts, 0, "the interrupted attempt was never recorded");

    // While the interrupted attempt's lease lasts, nobody sends it again (a slow send in
    // another run is not doubled)…
    let report = run_now(&admin).await;
    assert_eq!(report.attempted, 0, "a leased target waits: {report:?}");
    // …and once the lease is over, it goes out again with the same key.
    clock.advance(dispatch::lease(&srv.state) + Duration::seconds(1));
    let report = run_now(&admin).await;
    assert_eq!(report.sent, 1, "{report:?}");
    let mails = sink.wait_for(2).await;
    assert_eq!(mails.len(), 2, "at least once: the copy is sent again");
    assert_eq!(
        mails[1].dispatch_key, first[0].dispatch_key,
        "the second copy has the same idempotency key"
    );
    assert_eq!(
        mails[1].message_id, first[0].message_id,
        "and the same Message-ID, so the receiver keeps one"
    );
    let t = target(&admin, rec).await;
    assert_eq!((t.status, t.attempts), (DispatchStatus::Sent, 1));
    sink.stop().await;
    drop(srv);
    drop(dir);
}

#[tokio::test]
async fn a_recording_over_the_attachment_limit_goes_without_its_audio_and_says_so() {
    let w = world(t0(), |_| {}).await;
    let mail = tempfile::tempdir().expect("mail dir");
    let sink = Sink::start(mail.path(), 0).await;
    use_smtp(&w.admin, sink.port).await;
    auto_rule(&w, email_rule()).await;
    let data_len = (MAX_ATTACHMENT_BYTES + 1024 * 1024) as u32;
    let mut big = callrec_media::wav::wav_header(callrec_media::wav::Codec::Ulaw, 8000, 2, data_len);
    big.resize(big.len() + data_len as usize, 0xFF); // µ-law silence
    let rec = ingest(&w.srv, &call("big-1@pbx", w.srv.now(), "201", "+4930999000"), big)
        .await
        .recording_id;

    let report = run_now(&w.admin).await;
    assert_eq!(report.sent, 1, "{report:?}");
    let m = &sink.wait_for(1).await[0];
    assert_eq!(m.attachments.len(), 1, "only the journal is attached: {m:?}");
    assert_eq!(m.attachments[0].content_type, "application/json");
    assert!(m.text.contains("not attached"), "the body says why: {}", m.text);
    let t = target(&w.admin, rec).await;
    assert_eq!(t.status, DispatchStatus::Sent);
    assert!(
        t.detail.as_deref().unwrap_or("").contains("without the WAV"),
        "the target says the audio was left out: {:?}",
        t.detail
    );
    sink.stop().await;
}

#[tokio::test]
async fn bad_recipients_and_bad_smtp_settings_are_refused_by_field_and_the_password_never_shows() {
    let w = world(t0(), |_| {}).await;
    let err = w
        .admin
        .create_rule(&rule(
            "bad",
            RuleMode::Automatic,
            w.cast.support_role,
            RuleDirection::Both,
            RuleOrigin::Both,
            Dispatch::Email {
                recipients: vec!["qa@example.com>\r\nBcc: everyone@example.com".into()],
            },
        ))
        .await
        .expect_err("a header injection is not a recipient");
    assert_eq!(err.status(), Some(422));
    assert_eq!(
        err.body().and_then(|b| b.fields.as_ref()).map(|f| f[0].field.clone()),
        Some("dispatch.recipients".into()),
        "the form field is named"
    );

    let err = w
        .admin
        .update_settings(&SettingsPatch {
            smtp: Some(SmtpPatch {
                host: Some("mail example".into()),
                from: Some("nobody".into()),
                port: Some(0),
                ..Default::default()
            }),
            ..Default::default()
        })
        .await
        .expect_err("nonsense SMTP settings are refused");
    let fields: Vec<String> = err
        .body()
        .and_then(|b| b.fields.clone())
        .unwrap_or_default()
        .into_iter()
        .map(|f| f.field)
        .collect();
    for f in ["smtp.host", "smtp.from", "smtp.port"] {
        assert!(fields.contains(&f.to_string()), "{f} is named in {fields:?}");
    }
    assert_eq!(
        w.admin.get_settings().await.expect("settings").smtp.host,
        "",
        "a refused change changes nothing"
    );

    let s = w
        .admin
        .update_settings(&SettingsPatch {
            smtp: Some(SmtpPatch {
                host: Some("127.0.0.1".into()),
                port: Some(2525),
                from: Some("callrec@example.com".into()),
                username: Some("callrec".into()),
                password: Some("very-secret-smtp-password".into()),
                ..Default::default()
            }),
            ..Default::default()
        })
        .await
        .expect("good settings are saved");
    assert_eq!(s.smtp.password, "********", "the answer masks the password");
    let s = w.admin.get_settings().await.expect("settings");
    assert_eq!(s.smtp.password, "********", "GET masks the password");
    let audit = w.admin.audit(None, Some(50)).await.expect("audit");
    let change = audit
        .items
        .iter()
        .find(|e| e.action == "settings_update")
        .expect("the change is audited");
    assert!(change.detail.contains("smtp.password changed"), "{}", change.detail);
    assert!(
        !audit.items.iter().any(|e| e.detail.contains("very-secret")),
        "the password is in no audit row"
    );

    // Sending the mask back keeps the password; the test message goes to a bad address: 422.
    w.admin
        .update_settings(&SettingsPatch {
            smtp: Some(SmtpPatch {
                password: Some("********".into()),
                ..Default::default()
            }),
            ..Default::default()
        })
        .await
        .expect("the mask round-trips");
    let r = w
        .admin
        .raw(Method::POST, "/api/v1/settings/smtp/test")
        .json(&serde_json::json!({"to": "not an address"}))
        .send()
        .await
        .expect("answers");
    assert_eq!(r.status().as_u16(), 422, "a bad test recipient is refused");
}

#[tokio::test]
async fn the_smtp_test_message_arrives() {
    let w = world(t0(), |_| {}).await;
    let mail = tempfile::tempdir().expect("mail dir");
    let sink = Sink::start(mail.path(), 0).await;
    use_smtp(&w.admin, sink.port).await;
    let r = w
        .admin
        .raw(Method::POST, "/api/v1/settings/smtp/test")
        .json(&serde_json::json!({"to": QA}))
        .send()
        .await
        .expect("answers");
    assert_eq!(r.status().as_u16(), 200, "the test message is sent");
    let m = &sink.wait_for(1).await[0];
    assert_eq!(m.rcpt_tos, [QA]);
    assert!(m.subject.as_deref().unwrap_or("").contains("SMTP test"));
    sink.stop().await;
    let r = w
        .admin
        .raw(Method::POST, "/api/v1/settings/smtp/test")
        .json(&serde_json::json!({"to": QA}))
        .send()
        .await
        .expect("answers");
    assert_eq!(
        r.status().as_u16(),
        502,
        "a dead server is a bad gateway, said in words"
    );
}

// --- scripts ---------------------------------------------------------------------------------

fn sh_quote(p: &std::path::Path) -> String {
    format!("'{}'", p.display().to_string().replace('\'', "'\\''"))
}

#[tokio::test]
async fn a_script_gets_the_absolute_wav_and_journal_paths_and_the_key() {
    let w = world(t0(), |_| {}).await;
    let out = tempfile::tempdir().expect("out dir");
    let o = sh_quote(out.path());
    auto_rule(
        &w,
        Dispatch::Script {
            script: format!(
                "set -e\nprintf '%s\\n%s\\n%s\\n%s\\n' \"$1\" \"$2\" \"$CALLREC_DISPATCH_KEY\" \"$HOME\" > {o}/args\n\
                 cp \"$1\" {o}/audio.wav\ncp \"$2\" {o}/journal.json\necho copied\n"
            ),
        },
    )
    .await;
    let rec = alice_call(&w, "script-1@pbx", 2.0).await;
    let report = run_now(&w.admin).await;
    assert_eq!(report.sent, 1, "exit 0 means sent: {report:?}");

    let args = std::fs::read_to_string(out.path().join("args")).expect("the script ran");
    let lines: Vec<&str> = args.lines().collect();
    assert!(
        lines[0].starts_with('/') && lines[0].ends_with(".wav"),
        "$1 is the absolute WAV path: {}",
        lines[0]
    );
    assert!(
        lines[1].starts_with('/') && lines[1].ends_with(".json"),
        "$2 is the absolute JSON path: {}",
        lines[1]
    );
    assert!(
        lines[2].starts_with(&format!("callrec-{rec}-")),
        "the key is in the environment"
    );
    let data_dir = std::fs::canonicalize(w.dir.path()).expect("data dir");
    assert_eq!(lines[3], data_dir.display().to_string(), "HOME is the data directory");
    assert!(
        std::fs::read(out.path().join("audio.wav")).expect("copied") == stored_wav(&w, rec).await,
        "$1 is the stored recording"
    );
    let json = std::fs::read(out.path().join("journal.json")).expect("copied");
    assert!(json == journal_bytes(&w, rec).await, "$2 is the call's journal JSON");
    let t = target(&w.admin, rec).await;
    assert_eq!(t.status, DispatchStatus::Sent);
    let detail = t.detail.unwrap_or_default();
    assert!(
        detail.contains("exit status 0") && detail.contains("copied"),
        "{detail}"
    );
}

#[tokio::test]
async fn a_failing_script_is_retried_with_backoff_and_its_output_kept() {
    let w = world(t0(), |_| {}).await;
    auto_rule(
        &w,
        Dispatch::Script {
            script: "echo \"attempt $CALLREC_ATTEMPT\"\nif [ \"$CALLREC_ATTEMPT\" -lt 3 ]; then echo 'disk not mounted' >&2; exit 3; fi\necho delivered\n".into(),
        },
    )
    .await;
    let rec = alice_call(&w, "retry-1@pbx", 1.0).await;

    let report = run_now(&w.admin).await;
    assert_eq!((report.sent, report.failed), (0, 1));
    let t = target(&w.admin, rec).await;
    assert_eq!(
        (t.status, t.attempts),
        (DispatchStatus::Pending, 1),
        "a failure is retried"
    );
    assert_eq!(t.last_error.as_deref(), Some("the script exited with status 3"));
    let detail = t.detail.clone().unwrap_or_default();
    assert!(
        detail.contains("attempt 1") && detail.contains("disk not mounted"),
        "stdout and stderr are kept: {detail}"
    );
    assert_eq!(t.next_attempt_at, Some(w.srv.now() + Duration::minutes(1)));

    // Not due yet: the schedule leaves it alone.
    w.srv.clock.advance(Duration::seconds(30));
    assert_eq!(dispatch_counts(&w).await, (0, 0), "not before its backoff");
    w.srv.clock.advance(Duration::seconds(31));
    assert_eq!(dispatch_counts(&w).await, (0, 1), "the second attempt fails too");
    let t = target(&w.admin, rec).await;
    assert_eq!(t.attempts, 2);
    assert_eq!(
        t.next_attempt_at,
        Some(w.srv.now() + Duration::minutes(2)),
        "the wait doubles"
    );
    w.srv.clock.advance(Duration::minutes(2));
    assert_eq!(dispatch_counts(&w).await, (1, 0), "the third attempt succeeds");
    let t = target(&w.admin, rec).await;
    assert_eq!((t.status, t.attempts), (DispatchStatus::Sent, 3));
    assert!(t.detail.unwrap_or_default().contains("delivered"));
}

#[tokio::test]
async fn after_its_attempts_a_target_is_failed_and_an_admin_can_retry_it() {
    let w = world(t0(), |_| {}).await;
    let flag = tempfile::tempdir().expect("flag dir");
    let ok = flag.path().join("ok");
    auto_rule(
        &w,
        Dispatch::Script {
            script: format!("test -e {} || {{ echo 'not yet' >&2; exit 1; }}\n", sh_quote(&ok)),
        },
    )
    .await;
    let rec = alice_call(&w, "fail-1@pbx", 1.0).await;
    for n in 1..=MAX_ATTEMPTS {
        let r = run_now(&w.admin).await;
        assert_eq!(r.attempted, 1, "attempt {n} runs");
    }
    let t = target(&w.admin, rec).await;
    assert_eq!(
        t.status,
        DispatchStatus::Failed,
        "after {MAX_ATTEMPTS} attempts it is failed"
    );
    assert_eq!(t.attempts, MAX_ATTEMPTS);
    assert_eq!(
        run_now(&w.admin).await.attempted,
        0,
        "a failed target is not retried by itself"
    );

    std::fs::write(&ok, b"").expect("flag");
    let r = w
        .admin
        .raw(Method::POST, &format!("/api/v1/dispatch/{}/retry", t.id))
        .send()
        .await
        .expect("answers");
    assert_eq!(r.status().as_u16(), 200, "an admin may retry");
    let t: callrec_types::calls::DispatchTarget = r.json().await.expect("the target");
    assert_eq!(t.status, DispatchStatus::Sent, "the retry ran at once and worked");
    let r = w
        .admin
        .raw(Method::POST, &format!("/api/v1/dispatch/{}/retry", t.id))
        .send()
        .await
        .expect("answers");
    assert_eq!(r.status().as_u16(), 409, "a sent target is not sent again");
    let agent = w.srv.login("alice").await;
    let r = agent
        .raw(Method::POST, &format!("/api/v1/dispatch/{}/retry", t.id))
        .send()
        .await
        .expect("answers");
    assert_eq!(r.status().as_u16(), 403, "only admins retry");
}

#[tokio::test]
async fn a_hanging_script_is_killed_at_the_timeout() {
    let w = world(t0(), |c| c.script_timeout_secs = 1).await;
    auto_rule(
        &w,
        Dispatch::Script {
            script: "echo started\nsleep 600\necho never\n".into(),
        },
    )
    .await;
    let rec = alice_call(&w, "hang-1@pbx", 1.0).await;
    let started = std::time::Instant::now();
    let report = run_now(&w.admin).await;
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "the run ends soon after the 1 s timeout, not after the sleep"
    );
    assert_eq!(report.failed, 1);
    let t = target(&w.admin, rec).await;
    assert_eq!(t.status, DispatchStatus::Pending, "a timeout is retried later");
    assert!(
        t.last_error.unwrap_or_default().contains("longer than 1 s"),
        "said in words"
    );
    let detail = t.detail.unwrap_or_default();
    assert!(
        detail.contains("killed after") && detail.contains("started"),
        "{detail}"
    );
    assert!(!detail.contains("never"));
}

#[tokio::test]
async fn a_script_printing_megabytes_is_truncated_and_nothing_is_lost() {
    let w = world(t0(), |_| {}).await;
    let out = tempfile::tempdir().expect("out dir");
    let done = out.path().join("done");
    auto_rule(
        &w,
        Dispatch::Script {
            script: format!(
                "head -c 5000000 /dev/zero | tr '\\0' 'y'\nhead -c 300000 /dev/zero | tr '\\0' 'e' >&2\ntouch {}\n",
                sh_quote(&done)
            ),
        },
    )
    .await;
    let rec = alice_call(&w, "loud-1@pbx", 1.0).await;
    let report = run_now(&w.admin).await;
    assert_eq!(report.sent, 1, "a chatty script runs to its end: {report:?}");
    assert!(done.exists(), "the script finished its work");
    let t = target(&w.admin, rec).await;
    let detail = t.detail.unwrap_or_default();
    assert!(
        detail.len() < 2 * MAX_OUTPUT + 1024,
        "the detail is bounded: {} bytes",
        detail.len()
    );
    assert!(
        detail.contains(&format!("{} more bytes of stdout dropped", 5_000_000 - MAX_OUTPUT)),
        "the truncation is marked with what was dropped"
    );
    assert!(detail.contains("more bytes of stderr dropped"));
}

// --- the schedule -----------------------------------------------------------------------------

#[tokio::test]
async fn the_default_schedule_sends_the_queue_at_eight_pm_local_time() {
    let w = world(local(2026, 3, 10, 19, 0, 0), |_| {}).await;
    let s = w.admin.get_settings().await.expect("settings");
    assert_eq!(s.dispatch_schedule, "0 20 * * *", "the default is daily at 20:00");
    auto_rule(
        &w,
        Dispatch::Script {
            script: "echo ok\n".into(),
        },
    )
    .await;
    let rec = alice_call(&w, "sched-1@pbx", 1.0).await;

    w.srv.set_clock(local(2026, 3, 10, 19, 59, 30)).await;
    assert_eq!(
        target(&w.admin, rec).await.status,
        DispatchStatus::Pending,
        "nothing is sent before 20:00"
    );
    w.srv.set_clock(local(2026, 3, 10, 20, 0, 5)).await;
    assert_eq!(
        target(&w.admin, rec).await.status,
        DispatchStatus::Sent,
        "the 20:00 run sent it"
    );

    let preview: serde_json::Value = w
        .admin
        .raw(Method::GET, "/api/v1/settings/schedule/preview")
        .send()
        .await
        .expect("answers")
        .json()
        .await
        .expect("json");
    let next: Vec<String> = preview["next"]
        .as_array()
        .expect("next runs")
        .iter()
        .map(|v| v.as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(next.len(), 3, "three run times are shown");
    for (i, day) in ["2026-03-11T20:00:00", "2026-03-12T20:00:00", "2026-03-13T20:00:00"]
        .iter()
        .enumerate()
    {
        assert!(next[i].starts_with(day), "run {i} is {day} local: {}", next[i]);
    }
}

#[tokio::test]
async fn a_custom_cron_runs_every_fifteen_minutes() {
    let w = world(local(2026, 3, 10, 10, 7, 0), |_| {}).await;
    w.admin
        .update_settings(&SettingsPatch {
            dispatch_schedule: Some("*/15 * * * *".into()),
            ..Default::default()
        })
        .await
        .expect("a custom cron is accepted");
    // A script that always fails, so each run shows as one more attempt.
    auto_rule(
        &w,
        Dispatch::Script {
            script: "exit 1\n".into(),
        },
    )
    .await;
    let rec = alice_call(&w, "cron-1@pbx", 1.0).await;
    let admin = &w.admin;

    w.srv.set_clock(local(2026, 3, 10, 10, 14, 50)).await;
    assert_eq!(target(admin, rec).await.attempts, 0, "no run before 10:15");
    w.srv.set_clock(local(2026, 3, 10, 10, 15, 1)).await;
    assert_eq!(target(admin, rec).await.attempts, 1, "the 10:15 run");
    w.srv.set_clock(local(2026, 3, 10, 10, 29, 0)).await;
    assert_eq!(target(admin, rec).await.attempts, 1, "no run between the quarters");
    w.srv.set_clock(local(2026, 3, 10, 10, 30, 0)).await;
    assert_eq!(target(admin, rec).await.attempts, 2, "the 10:30 run");
}

#[tokio::test]
async fn a_malformed_cron_is_refused_naming_the_field_and_the_preview_explains() {
    let w = world(local(2026, 3, 10, 10, 7, 0), |_| {}).await;
    for bad in ["every evening", "0 25 * * *", "0 0 31 2 *", "*/0 * * * *"] {
        let err = w
            .admin
            .update_settings(&SettingsPatch {
                dispatch_schedule: Some(bad.into()),
                ..Default::default()
            })
            .await
            .expect_err("a malformed cron is refused");
        assert_eq!(err.status(), Some(422), "{bad:?} is a 422");
        assert_eq!(
            err.body().and_then(|b| b.fields.clone()).map(|f| f[0].field.clone()),
            Some("dispatch_schedule".into()),
            "{bad:?}: the field is named"
        );
    }
    assert_eq!(
        w.admin.get_settings().await.expect("settings").dispatch_schedule,
        "0 20 * * *",
        "nothing changed"
    );
    let r = w
        .admin
        .raw(Method::GET, "/api/v1/settings/schedule/preview?cron=every%20evening")
        .send()
        .await
        .expect("answers");
    assert_eq!(r.status().as_u16(), 422);
    let preview: serde_json::Value = w
        .admin
        .raw(
            Method::GET,
            "/api/v1/settings/schedule/preview?cron=*/15%20*%20*%20*%20*",
        )
        .send()
        .await
        .expect("answers")
        .json()
        .await
        .expect("json");
    let next: Vec<&str> = preview["next"]
        .as_array()
        .expect("next")
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    assert!(next[0].starts_with("2026-03-10T10:15:00"), "{next:?}");
    assert!(next[1].starts_with("2026-03-10T10:30:00"), "{next:?}");
    assert!(next[2].starts_with("2026-03-10T10:45:00"), "{next:?}");
}

#[tokio::test]
async fn the_queue_lists_by_status_and_recording_and_only_for_admins() {
    let w = world(t0(), |_| {}).await;
    auto_rule(
        &w,
        Dispatch::Script {
            script: "exit 0\n".into(),
        },
    )
    .await;
    let a = alice_call(&w, "list-1@pbx", 1.0).await;
    let _b = alice_call(&w, "list-2@pbx", 1.0).await;
    let pending: Vec<callrec_types::calls::DispatchTarget> = w
        .admin
        .raw(
            Method::GET,
            &format!("/api/v1/dispatch?status=pending&recording_id={a}"),
        )
        .send()
        .await
        .expect("answers")
        .json()
        .await
        .expect("json");
    assert_eq!(pending.len(), 1, "filtered to one recording");
    assert_eq!(pending[0].recording_id, a);
    let r = w
        .admin
        .raw(Method::GET, "/api/v1/dispatch?status=lost")
        .send()
        .await
        .expect("answers");
    assert_eq!(r.status().as_u16(), 400, "an unknown status is a clear 400");
    let agent = w.srv.login("alice").await;
    let r = agent
        .raw(Method::GET, "/api/v1/dispatch")
        .send()
        .await
        .expect("answers");
    assert_eq!(r.status().as_u16(), 403);
    let r = agent
        .raw(Method::POST, "/api/v1/dispatch/run")
        .send()
        .await
        .expect("answers");
    assert_eq!(r.status().as_u16(), 403, "only admins run the job");
}
