//! Issue #16.5 through the commands (mock runtime, real server): `recording_transcript` says
//! "not transcribed" (`null`) for a recording no rule transcribes, follows a transcribed one
//! from queued to running to done while a worker — the real worker API with an admin's worker
//! token; only the speech engine is replaced by a known result — claims the job, fetches each
//! channel's audio and posts the lines; then answers the lines with their speakers and the
//! dialogue the Copy button puts on the clipboard. An agent who may not see the call gets an
//! error, never "not transcribed".

use crate::admin::Admin;
use crate::support::{self, TestServer, ADMIN_PASSWORD, PASSWORD};
use callrec_client::Client;
use callrec_types::rules::{Dispatch, RuleDirection, RuleInput, RuleMode, RuleOrigin};
use serde_json::{json, Value};

/// Turns on transcription for the Support team's calls: an automatic rule with `transcribe`.
fn transcribe_support(server: &TestServer, admin: &Client) {
    server.block_on(async {
        let roles = admin.list_roles().await.expect("roles");
        let role = roles
            .iter()
            .find(|r| r.name == "Support staff")
            .expect("the cast's role");
        admin
            .create_rule(&RuleInput {
                description: "Support calls are transcribed".into(),
                enabled: true,
                mode: RuleMode::Automatic,
                role_id: role.id,
                direction: RuleDirection::Both,
                origin: RuleOrigin::Both,
                dispatch: Dispatch::Store,
                position: None,
                require_consent: false,
                transcribe: true,
            })
            .await
            .expect("the rule");
    });
}

#[test]
fn issue_16_a_supervisor_follows_a_transcript_from_queued_to_its_dialogue() {
    let server = TestServer::start();
    let admin = server.block_on(async {
        let mut c = Client::new(&server.url).expect("valid URL");
        c.login("admin", ADMIN_PASSWORD).await.expect("admin logs in");
        c
    });
    // Before any rule transcribes: not transcribed, said as `null`.
    let (_, plain) = server.ingest(support::ulaw_wav(4));
    transcribe_support(&server, &admin);
    let (_, rec) = server.ingest(support::ulaw_wav(20));
    let sam = Admin::sign_in(&server, "sam", PASSWORD);

    assert_eq!(
        sam.ok("recording_transcript", json!({"recordingId": plain})),
        Value::Null,
        "no rule transcribes the first recording"
    );
    let queued = sam.ok("recording_transcript", json!({"recordingId": rec}));
    assert_eq!(queued["transcript"]["status"], "queued", "{queued}");
    assert_eq!(queued["transcript"]["lines"], json!([]));
    assert_eq!(queued["dialogue"], "");

    // A worker with an admin's token takes the job as `scripts/transcribe-worker.py` does.
    let token = server
        .block_on(admin.create_worker_token("desktop-test"))
        .expect("a worker token")
        .token
        .expect("shown on creation");
    let http = reqwest::Client::new();
    let url = |path: &str| format!("{}{path}", server.url);
    let job: Value = server.block_on(async {
        let res = http
            .post(url("/api/v1/transcription/claim"))
            .bearer_auth(&token)
            .json(&json!({"worker": "desktop-test", "wait_secs": 5}))
            .send()
            .await
            .expect("claim");
        assert_eq!(res.status(), 200, "a job is handed out");
        res.json().await.expect("the job")
    });
    assert_eq!(job["recording_id"], json!(rec), "{job}");
    let lease = job["lease"].as_str().expect("a lease").to_string();
    let running = sam.ok("recording_transcript", json!({"recordingId": rec}));
    assert_eq!(running["transcript"]["status"], "running", "{running}");

    for channel in 0..job["channels"].as_u64().expect("channels") {
        let wav = server.block_on(async {
            let res = http
                .get(url(&format!("/api/v1/transcription/jobs/{rec}/audio")))
                .query(&[("channel", channel.to_string()), ("lease", lease.clone())])
                .bearer_auth(&token)
                .send()
                .await
                .expect("audio");
            assert_eq!(res.status(), 200, "channel {channel}");
            res.bytes().await.expect("the WAV")
        });
        assert_eq!(&wav[..4], b"RIFF", "channel {channel} is a WAV");
        assert!(wav.len() > 20 * 8000, "20 s of 16-bit audio: {} bytes", wav.len());
    }
    // What the speech engine would have heard (the only part not real here).
    let result = json!({"lease": lease, "channels": [
        {"channel": 1, "segments": [{"start_ms": 5200, "end_ms": 8000, "text": " Certainly, may I have your account number? ",
                                     "words": [{"start_ms": 5200, "end_ms": 5900, "text": "Certainly,"}]}]},
        {"channel": 0, "segments": [{"start_ms": 1000, "end_ms": 4000, "text": "Good morning, I would like to cancel."},
                                    {"start_ms": 12000, "end_ms": 14500, "text": "It is 4711."}]},
    ]});
    let posted = server.block_on(async {
        http.post(url(&format!("/api/v1/transcription/jobs/{rec}/result")))
            .bearer_auth(&token)
            .json(&result)
            .send()
            .await
            .expect("result")
            .status()
    });
    assert!(posted.is_success(), "the result is taken: {posted}");

    let done = sam.ok("recording_transcript", json!({"recordingId": rec}));
    let t = &done["transcript"];
    assert_eq!(t["status"], "done", "{done}");
    let speakers: Vec<&str> = t["lines"]
        .as_array()
        .expect("lines")
        .iter()
        .map(|l| l["speaker"].as_str().expect("speaker"))
        .collect();
    assert_eq!(
        speakers,
        ["Caller", "Agent (Alice)", "Caller"],
        "merged by time, named by channel"
    );
    assert_eq!(t["lines"][1]["words"][0]["text"], "Certainly,");
    assert_eq!(
        done["dialogue"],
        "[00:01] Caller: Good morning, I would like to cancel.\n\
         [00:05] Agent (Alice): Certainly, may I have your account number?\n\
         [00:12] Caller: It is 4711.\n",
        "the text Copy puts on the clipboard"
    );

    // Bob (an agent of the team) may not see alice's call: an error, not "not transcribed".
    let bob = Admin::sign_in(&server, "bob", PASSWORD);
    let refused = bob.err("recording_transcript", json!({"recordingId": rec}));
    assert_eq!(refused["code"], "failed", "{refused}");
    assert!(
        refused["message"]
            .as_str()
            .is_some_and(|m| m.contains("no longer exists")),
        "{refused}"
    );
}
