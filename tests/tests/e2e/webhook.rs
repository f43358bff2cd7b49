//! End-to-end: the recording-finished webhook (issue #11.4). A real HTTP receiver (axum on
//! 127.0.0.1:0, in this test) gets a signed JSON POST as soon as an uploaded recording is
//! stored — no scheduled run involved — is retried with the queue's backoff (on the server's
//! manual clock) while it answers 500, and never gets a success twice across a restart.

use crate::post_call::*;
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use callrec_client::{ClientError, Method};
use callrec_tests::directory::{add_rule, rule};
use callrec_tests::wav;
use callrec_types::calls::{DispatchStatus, WebhookPayload, WEBHOOK_EVENT};
use callrec_types::rules::{Dispatch, Rule, RuleDirection, RuleMode, RuleOrigin, SECRET_MASK};
use callrec_types::wire::ErrorCode;
use callrec_types::RecordingId;
use chrono::Duration;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

const SECRET: &str = "webhook-secret-4f1c";

fn t0() -> chrono::DateTime<chrono::Utc> {
    local(2026, 3, 10, 12, 0, 0)
}

/// One POST as the receiver got it.
#[derive(Debug, Clone)]
struct Received {
    signature: Option<String>,
    key: Option<String>,
    content_type: Option<String>,
    body: Vec<u8>,
}

#[derive(Default)]
struct Inbox {
    got: Vec<Received>,
    /// Statuses to answer, in order; 200 once they run out.
    answers: VecDeque<u16>,
}

/// A real HTTP server on 127.0.0.1:0 that keeps what it is sent.
struct Receiver {
    url: String,
    inbox: Arc<Mutex<Inbox>>,
    task: tokio::task::JoinHandle<()>,
}

impl Receiver {
    async fn start(answers: &[u16]) -> Receiver {
        let inbox = Arc::new(Mutex::new(Inbox {
            got: Vec::new(),
            answers: answers.iter().copied().collect(),
        }));
        let state = inbox.clone();
        let app = axum::Router::new().route(
            "/hooks/callrec",
            axum::routing::post(move |headers: HeaderMap, body: Bytes| {
                let state = state.clone();
                async move {
                    let h = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).map(str::to_owned);
                    let mut inbox = state.lock().expect("inbox lock");
                    inbox.got.push(Received {
                        signature: h("x-callrec-signature"),
                        key: h("x-callrec-dispatch-key"),
                        content_type: h("content-type"),
                        body: body.to_vec(),
                    });
                    let status = inbox.answers.pop_front().unwrap_or(200);
                    (StatusCode::from_u16(status).expect("a status"), "noted")
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the receiver");
        let url = format!("http://{}/hooks/callrec", listener.local_addr().expect("addr"));
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Receiver { url, inbox, task }
    }

    fn got(&self) -> Vec<Received> {
        self.inbox.lock().expect("inbox lock").got.clone()
    }

    async fn wait_for(&self, n: usize) -> Vec<Received> {
        eventually(20, &format!("{n} webhook request(s)"), || async {
            let got = self.got();
            (got.len() >= n).then_some(got)
        })
        .await
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn hook(url: &str, secret: &str) -> Dispatch {
    Dispatch::Webhook {
        url: url.into(),
        secret: secret.into(),
    }
}

async fn webhook_rule(w: &World, url: &str) -> Rule {
    add_rule(
        &w.admin,
        rule(
            "Support is announced",
            RuleMode::Automatic,
            w.cast.support_role,
            RuleDirection::Both,
            RuleOrigin::Both,
            hook(url, SECRET),
        ),
    )
    .await
}

async fn alice_call(w: &World, id: &str) -> RecordingId {
    ingest(
        &w.srv,
        &call(id, w.srv.now(), "+4930999000", "201"),
        wav::stereo_ulaw(2.0),
    )
    .await
    .recording_id
}

/// Checks the signature the way a receiver would: HMAC-SHA256 of the raw body.
fn assert_signed(r: &Received) {
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).expect("a key");
    mac.update(&r.body);
    let expected = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
    assert_eq!(
        r.signature.as_deref(),
        Some(expected.as_str()),
        "X-Callrec-Signature is the HMAC-SHA256 of the body with the rule's secret"
    );
}

#[tokio::test]
async fn a_webhook_reaches_a_real_receiver_signed_at_once_and_is_retried_until_it_answers_2xx() {
    let w = world(t0(), |_| {}).await;
    let receiver = Receiver::start(&[500, 500]).await;
    let rule = webhook_rule(&w, &receiver.url).await;
    assert_eq!(
        rule.dispatch,
        hook(&receiver.url, SECRET_MASK),
        "the answer masks the secret"
    );
    let rec = alice_call(&w, "hook-1@pbx").await;

    // At once: nobody runs the job, the clock does not move.
    let first = receiver.wait_for(1).await;
    let r = &first[0];
    assert_signed(r);
    assert_eq!(r.content_type.as_deref(), Some("application/json"));
    let payload: WebhookPayload = serde_json::from_slice(&r.body).expect("the body is the documented JSON");
    let recording = w.admin.get_recording(rec).await.expect("the recording");
    assert_eq!(payload.event, WEBHOOK_EVENT);
    assert_eq!(payload.recording.id, rec, "the body names the recording");
    assert_eq!(payload.call.id, recording.call_id, "and the call");
    assert_eq!(payload.recording.sha256, recording.sha256, "with its SHA-256");
    assert_eq!(payload.recording.duration_ms, recording.duration_ms, "and duration");
    assert_eq!(payload.download_path, format!("/api/v1/recordings/{rec}/audio"));
    assert_eq!(payload.attempt, 1);
    let key = r.key.clone().expect("the idempotency key header");
    assert_eq!(payload.idempotency_key, key, "the body carries the header's key");
    assert!(key.starts_with(&format!("callrec-{rec}-")), "the queue's key: {key}");
    // The download path works for an authorised caller.
    let audio = w
        .admin
        .raw(Method::GET, &payload.download_path)
        .send()
        .await
        .expect("the audio answers");
    assert_eq!(audio.status().as_u16(), 200, "the download path serves the audio");

    // The 500 is kept on the target, which waits its backoff.
    let t = eventually(10, "the first attempt is recorded", || async {
        let t = target(&w.admin, rec).await;
        (t.attempts == 1).then_some(t)
    })
    .await;
    assert_eq!(t.status, DispatchStatus::Pending, "a 500 is retried, nothing dropped");
    assert!(
        t.last_error.as_deref().unwrap_or("").contains("HTTP 500"),
        "the error says what the receiver answered: {:?}",
        t.last_error
    );
    assert_eq!(t.next_attempt_at, Some(w.srv.now() + Duration::minutes(1)));
    assert_eq!(t.target, hook(&receiver.url, SECRET_MASK), "the queue shows the mask");

    // The backoff passes on the server's clock: retried (500 again), then 2 minutes later sent.
    w.srv.clock.advance(Duration::seconds(61));
    receiver.wait_for(2).await;
    w.srv.clock.advance(Duration::seconds(121));
    let got = receiver.wait_for(3).await;
    for r in &got {
        assert_signed(r);
        assert_eq!(
            r.key.as_deref(),
            Some(key.as_str()),
            "every attempt carries the same key"
        );
    }
    let attempts: Vec<i64> = got
        .iter()
        .map(|r| serde_json::from_slice::<WebhookPayload>(&r.body).expect("json").attempt)
        .collect();
    assert_eq!(attempts, [1, 2, 3], "each attempt numbered");
    let t = eventually(10, "the target is sent", || async {
        let t = target(&w.admin, rec).await;
        (t.status == DispatchStatus::Sent).then_some(t)
    })
    .await;
    assert_eq!(t.attempts, 3);
    assert_eq!(
        t.detail.as_deref(),
        Some("HTTP 200: noted"),
        "the receiver's answer is kept"
    );

    // Nothing more goes out, whatever runs.
    let report = run_now(&w.admin).await;
    assert_eq!(report.attempted, 0, "a sent webhook is not sent again: {report:?}");
    assert_eq!(receiver.got().len(), 3);

    // The secret is in no answer: rules, queue, audit.
    for path in ["/api/v1/rules", "/api/v1/dispatch", "/api/v1/audit"] {
        let body = w
            .admin
            .raw(Method::GET, path)
            .send()
            .await
            .expect("answers")
            .text()
            .await
            .expect("body");
        assert!(!body.contains(SECRET), "{path} never shows the webhook secret");
    }
}

#[tokio::test]
async fn a_webhook_is_never_sent_twice_across_restarts_and_a_pending_one_goes_out_after_one() {
    let w = world(t0(), |_| {}).await;
    let receiver = Receiver::start(&[500]).await;
    webhook_rule(&w, &receiver.url).await;
    let failed = alice_call(&w, "hook-restart-1@pbx").await;
    receiver.wait_for(1).await;
    eventually(10, "the 500 is recorded", || async {
        (target(&w.admin, failed).await.attempts == 1).then_some(())
    })
    .await;
    let sent = alice_call(&w, "hook-restart-2@pbx").await;
    receiver.wait_for(2).await;
    eventually(10, "the second is sent", || async {
        (target(&w.admin, sent).await.status == DispatchStatus::Sent).then_some(())
    })
    .await;

    let World { dir, srv, admin: _, .. } = w;
    let clock = srv.clock.clone();
    srv.crash().await;
    let srv = Srv::start(dir.path(), clock.clone(), |_| {}).await;
    let admin = srv.admin().await;
    assert_eq!(
        target(&admin, failed).await.status,
        DispatchStatus::Pending,
        "kept across the restart"
    );
    assert_eq!(receiver.got().len(), 2, "the restart itself sends nothing");

    // The pending one comes due: sent once, by the restarted server's sender.
    clock.advance(Duration::seconds(61));
    let got = receiver.wait_for(3).await;
    let failed_rec = serde_json::from_slice::<WebhookPayload>(&got[2].body).expect("json");
    assert_eq!(failed_rec.recording.id, failed, "the retry is the pending one");
    eventually(10, "the retried one is sent", || async {
        (target(&admin, failed).await.status == DispatchStatus::Sent).then_some(())
    })
    .await;

    // Restarted again, long after every lease and backoff: nothing goes out twice.
    drop(admin);
    srv.crash().await;
    let srv = Srv::start(dir.path(), clock.clone(), |_| {}).await;
    clock.advance(Duration::hours(7));
    let admin = srv.admin().await;
    let report = run_now(&admin).await;
    assert_eq!(report.attempted, 0, "nothing is due: {report:?}");
    assert_eq!(
        receiver.got().len(),
        3,
        "each recording's webhook succeeded exactly once"
    );
    let per_recording = |rec: RecordingId| {
        receiver
            .got()
            .iter()
            .filter(|r| {
                serde_json::from_slice::<WebhookPayload>(&r.body)
                    .map(|p| p.recording.id == rec)
                    .unwrap_or(false)
            })
            .count()
    };
    assert_eq!((per_recording(failed), per_recording(sent)), (2, 1));
    drop(srv);
    drop(dir);
}

#[tokio::test]
async fn a_webhook_url_that_is_not_http_or_a_missing_secret_is_a_clear_422_and_changes_nothing() {
    let w = world(t0(), |_| {}).await;
    let before = w.admin.list_rules().await.expect("rules");
    let field_of = |e: ClientError| match e {
        ClientError::Api { status, code, body, .. } => {
            assert_eq!((status, code), (422, ErrorCode::Invalid), "{body:?}");
            body.fields
                .clone()
                .unwrap_or_default()
                .into_iter()
                .map(|f| f.field)
                .collect::<Vec<_>>()
        }
        other => panic!("expected a 422, got {other:?}"),
    };
    for (url, secret, field) in [
        ("ftp://hooks.example.com/in", SECRET, "dispatch.url"),
        ("javascript:alert(1)", SECRET, "dispatch.url"),
        ("https://hooks.example.com/in", "", "dispatch.secret"),
        // The mask can only keep a secret that exists.
        ("https://hooks.example.com/in", SECRET_MASK, "dispatch.secret"),
    ] {
        let e = w
            .admin
            .create_rule(&rule(
                "bad hook",
                RuleMode::Automatic,
                w.cast.support_role,
                RuleDirection::Both,
                RuleOrigin::Both,
                hook(url, secret),
            ))
            .await
            .expect_err("refused");
        assert_eq!(field_of(e), [field], "{url} / {secret:?}");
    }
    assert_eq!(
        w.admin.list_rules().await.expect("rules"),
        before,
        "nothing was created"
    );

    // An existing rule changed to a bad URL stays as it was; sent back masked it keeps its secret.
    let receiver = Receiver::start(&[]).await;
    let good = webhook_rule(&w, &receiver.url).await;
    let mut input = rule(
        "Support is announced",
        RuleMode::Automatic,
        w.cast.support_role,
        RuleDirection::Both,
        RuleOrigin::Both,
        hook("file:///etc/passwd", SECRET_MASK),
    );
    let e = w.admin.update_rule(good.id, &input).await.expect_err("refused");
    assert_eq!(field_of(e), ["dispatch.url"]);
    assert_eq!(w.admin.get_rule(good.id).await.expect("rule"), good, "nothing changed");
    input.dispatch = hook(&receiver.url, SECRET_MASK);
    input.description = "Support is announced (renamed)".into();
    w.admin
        .update_rule(good.id, &input)
        .await
        .expect("a masked secret is kept");
    let rec = alice_call(&w, "hook-kept@pbx").await;
    let got = receiver.wait_for(1).await;
    assert_signed(&got[0]);
    assert_eq!(
        serde_json::from_slice::<WebhookPayload>(&got[0].body)
            .expect("json")
            .recording
            .id,
        rec
    );
}
