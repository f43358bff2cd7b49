//! The commands through Tauri's mock runtime (`tauri::test`), exactly as the window invokes
//! them — argument names, JSON shapes and `{code, message}` errors — against a real server.

use crate::support::{self, invoke_on, TestServer};
use callrec_desktop::events::{Notifier, UiEvent};
use callrec_desktop::state::{AppState, StateConfig};
use callrec_desktop::tokens::TokenStore;
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tauri::test::{mock_builder, mock_context, noop_assets, MockRuntime};
use tauri::{Manager, WebviewWindow};

struct App {
    _app: tauri::App<MockRuntime>,
    window: WebviewWindow<MockRuntime>,
    events: Arc<Mutex<Vec<UiEvent>>>,
    _dirs: tempfile::TempDir,
    save_dir: std::path::PathBuf,
}

impl App {
    fn new() -> App {
        let dirs = tempfile::tempdir().expect("temp dirs");
        let save_dir = dirs.path().join("downloads");
        std::fs::create_dir_all(&save_dir).expect("downloads dir");
        let events = Arc::new(Mutex::new(Vec::new()));
        let sink = events.clone();
        let notify: Notifier = Arc::new(move |e| sink.lock().expect("events").push(e));
        let state = AppState::new(
            StateConfig {
                config_dir: dirs.path().join("config"),
                data_dir: dirs.path().join("data"),
                tokens: TokenStore::memory(),
                save_dir: Some(save_dir.clone()),
            },
            notify,
        );
        let app = callrec_desktop::builder(mock_builder())
            .manage(state)
            .build(mock_context(noop_assets()))
            .expect("the app builds on the mock runtime");
        let window = tauri::WebviewWindowBuilder::new(&app, "main", Default::default())
            .build()
            .expect("a mock window");
        App {
            _app: app,
            window,
            events,
            _dirs: dirs,
            save_dir,
        }
    }

    /// Invokes `cmd` with `args` as the window would; `Err` is the error's JSON.
    fn invoke(&self, cmd: &str, args: Value) -> Result<Value, Value> {
        invoke_on(&self.window, cmd, args)
    }

    fn ok(&self, cmd: &str, args: Value) -> Value {
        self.invoke(cmd, args)
            .unwrap_or_else(|e| panic!("{cmd} must succeed, got {e}"))
    }

    /// The error code `cmd` fails with.
    fn code(&self, cmd: &str, args: Value) -> String {
        let err = self.invoke(cmd, args).expect_err(&format!("{cmd} must fail"));
        assert!(
            err["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty() && !m.contains("panicked")),
            "errors carry a readable message: {err}"
        );
        err["code"].as_str().expect("errors carry a code").to_string()
    }

    fn saw(&self, pred: impl Fn(&UiEvent) -> bool) -> bool {
        self.events.lock().expect("events").iter().any(pred)
    }

    fn wait_for(&self, what: &str, pred: impl Fn(&UiEvent) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !self.saw(&pred) {
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

#[test]
fn first_run_connect_errors_are_codes_a_person_understands() {
    let app = App::new();
    let startup = app.ok("startup", json!({}));
    assert_eq!(startup["connection"], Value::Null, "first run: nothing chosen yet");
    assert_eq!(startup["token_storage"], "memory");

    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = closed.local_addr().expect("addr");
    drop(closed);
    let choice = json!({"choice": {"kind": "remote", "url": format!("http://{addr}")}});
    assert_eq!(app.code("connect", choice), "unreachable");
    assert_eq!(
        app.code("connect", json!({"choice": {"kind": "remote", "url": "ftp://x"}})),
        "invalid"
    );
    assert_eq!(
        app.code("journal", json!({"filter": {}})),
        "session_expired",
        "not signed in: to the login form"
    );
}

#[test]
fn sign_in_see_the_live_call_toggle_recording_and_find_it_in_the_journal() {
    support::null_audio();
    let server = TestServer::start();
    let app = App::new();
    let conn = app.ok("connect", json!({"choice": {"kind": "remote", "url": server.url}}));
    assert_eq!(conn["url"], server.url.as_str());
    assert_eq!(
        app.code("login", json!({"username": "alice", "password": "wrong"})),
        "bad_credentials"
    );
    let session = app.ok("login", json!({"username": "alice", "password": support::PASSWORD}));
    assert_eq!(session["user"]["username"], "alice");
    app.wait_for("the live stream", |e| {
        matches!(
            e,
            UiEvent::Feed {
                state: callrec_desktop::events::FeedState::Connected,
                ..
            }
        )
    });

    // A call rings and is answered: it arrives by the push stream with the toggle enabled.
    let call_id = server.live_call();
    app.wait_for(
        "the live call",
        |e| matches!(e, UiEvent::LiveCalls { calls } if calls.iter().any(|c| c.call.id == call_id && c.can_toggle)),
    );
    let live = app.ok("live_calls", json!({}));
    assert_eq!(live[0]["id"], call_id.0);
    assert_eq!(live[0]["recording"]["kind"], "not_recording");

    let started = app.ok("set_recording", json!({"callId": call_id.0, "action": "start"}));
    assert_eq!(started["state"]["kind"], "recording_manual");
    // Issue #11.1: the same command pauses and resumes; the push stream shows who paused it.
    let paused = app.ok("set_recording", json!({"callId": call_id.0, "action": "pause"}));
    assert_eq!(
        paused["state"]["paused"]["user_id"], session["user"]["id"],
        "paused by alice"
    );
    app.wait_for(
        "the paused state on the live call",
        |e| matches!(e, UiEvent::LiveCalls { calls } if calls.iter().any(|c| c.call.id == call_id && c.recording.paused().is_some() && c.can_pause)),
    );
    let again = app
        .invoke("set_recording", json!({"callId": call_id.0, "action": "pause"}))
        .expect_err("a second pause is refused");
    assert!(
        again["message"].as_str().is_some_and(|m| m.contains("already paused")),
        "in plain words: {again}"
    );
    let resumed = app.ok("set_recording", json!({"callId": call_id.0, "action": "resume"}));
    assert!(resumed["state"].get("paused").is_none(), "recording again: {resumed}");
    std::thread::sleep(Duration::from_millis(300));
    app.ok("set_recording", json!({"callId": call_id.0, "action": "stop"}));

    // bob is no participant: the server refuses, and the error says so.
    let bob = server.client("bob");
    let refused = server.block_on(bob.set_recording(call_id, callrec_types::wire::RecordingAction::Start));
    assert!(refused.is_err(), "bob may not record alice's call");
    server.end_call(call_id);
    app.wait_for(
        "the call to leave the live list",
        |e| matches!(e, UiEvent::LiveCalls { calls } if calls.is_empty()),
    );

    // The journal shows it with one recording (the REC badge's count).
    let page = app.ok("journal", json!({"filter": {"has_recordings": true}}));
    let row = page["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|i| i["id"] == call_id.0)
        .expect("the call is in the journal")
        .clone();
    assert_eq!(row["recording_count"], 1);
    let detail = app.ok("get_call", json!({"callId": call_id.0}));
    let rec = &detail["recordings"][0];
    assert_eq!(rec["seq"], 1);
    assert_eq!(rec["trigger"]["kind"], "manual");
    assert_eq!(
        rec["pauses"].as_array().map(Vec::len),
        Some(1),
        "the pause is listed: {rec}"
    );
    let recording_id = rec["id"].as_i64().expect("a recording id");

    // Download it: the bytes are the server's and the checksum is checked.
    let path = app.ok(
        "choose_download_path",
        json!({"fileName": rec["file_name"], "format": "original"}),
    );
    let path = path.as_str().expect("a path in the configured folder").to_string();
    assert!(path.starts_with(app.save_dir.to_str().expect("utf-8")));
    let done = app.ok(
        "download_recording",
        json!({"request": {"download_id": "d1", "recording_id": recording_id, "format": "original", "path": path}}),
    );
    assert_eq!(done["verified"], true, "the SHA-256 matches the server's");
    let alice = server.client("alice");
    let (_, _, original) = server
        .block_on(alice.audio_bytes(
            callrec_types::RecordingId(recording_id),
            callrec_client::AudioFormat::Original,
            None,
        ))
        .expect("the server's bytes");
    assert_eq!(std::fs::read(&path).expect("the file"), original.to_vec());
    assert!(
        app.saw(|e| matches!(e, UiEvent::Download { .. })),
        "progress was reported"
    );
    assert_eq!(app.ok("cancel_download", json!({"downloadId": "nope"})), false);

    // Play it through the commands.
    let status = app.ok("player_play", json!({"recordingId": recording_id, "startMs": 0}));
    assert_eq!(status["recording_id"], recording_id);
    app.ok("player_pause", json!({}));
    app.ok("player_seek", json!({"positionMs": 0}));
    app.ok("player_speed", json!({"speed": 1.5}));
    app.ok("player_stop", json!({}));

    app.ok("logout", json!({}));
    assert_eq!(app.code("journal", json!({"filter": {}})), "session_expired");
    let startup = app.ok("startup", json!({}));
    assert_eq!(startup["session"], Value::Null, "logged out: the token is gone");
    assert_eq!(startup["last_username"], "alice", "the username is remembered");
}

#[test]
fn an_expired_session_sends_the_window_back_to_the_login_form() {
    let server = TestServer::start();
    let app = App::new();
    app.ok("connect", json!({"choice": {"kind": "remote", "url": server.url}}));
    app.ok("login", json!({"username": "sam", "password": support::PASSWORD}));
    // End the app's session on the server, behind the app's back.
    let token = app
        ._app
        .state::<AppState>()
        .auth
        .tokens
        .load(&server.url)
        .expect("the token is kept");
    let state = server.state.clone();
    server.block_on(async move {
        state
            .store
            .delete_session(&callrec_server::auth::token_hash(&token))
            .await
            .expect("the session ends");
    });
    assert_eq!(app.code("journal", json!({"filter": {}})), "session_expired");
    app.wait_for("the session-expired event", |e| {
        matches!(e, UiEvent::SessionExpired { .. })
    });
    let startup = app.ok("startup", json!({}));
    assert_eq!(startup["session"], Value::Null);
    assert!(
        startup["connection"].is_object(),
        "still connected: the login form shows"
    );
}

#[test]
fn the_live_stream_reconnects_by_itself_after_the_server_comes_back() {
    let mut server = TestServer::start();
    let app = App::new();
    app.ok("connect", json!({"choice": {"kind": "remote", "url": server.url}}));
    app.ok("login", json!({"username": "alice", "password": support::PASSWORD}));
    app.wait_for("the live stream", |e| {
        matches!(
            e,
            UiEvent::Feed {
                state: callrec_desktop::events::FeedState::Connected,
                ..
            }
        )
    });
    app.events.lock().expect("events").clear();

    server.restart();
    app.wait_for("the drop to be noticed", |e| {
        matches!(
            e,
            UiEvent::Feed {
                state: callrec_desktop::events::FeedState::Reconnecting,
                ..
            }
        )
    });
    app.wait_for("the stream to come back", |e| {
        matches!(
            e,
            UiEvent::Feed {
                state: callrec_desktop::events::FeedState::Connected,
                ..
            }
        )
    });
    // And it carries calls again: one rings on the restarted server.
    let call_id = server.live_call();
    app.wait_for(
        "the live call after the reconnect",
        |e| matches!(e, UiEvent::LiveCalls { calls } if calls.iter().any(|c| c.call.id == call_id)),
    );
}

/// Issue #10.5: an installation of several nodes is one choice with several addresses; when
/// the node in use dies, the app moves to the next, says so, and the session goes on there —
/// no new sign-in, live calls and the journal from the other node.
#[test]
fn when_the_node_in_use_dies_the_app_moves_to_the_next_and_keeps_the_session() {
    let (mut a, b) = TestServer::pair_on_postgres();
    let app = App::new();
    let connected = app.ok(
        "connect",
        json!({"choice": {"kind": "remote", "url": a.url, "fallbacks": [b.url, a.url, " "]}}),
    );
    assert_eq!(connected["url"], json!(a.url), "the first address that answers is used");
    assert_eq!(
        connected["choice"]["fallbacks"],
        json!([b.url]),
        "blank and repeated addresses are dropped"
    );
    let session = app.ok("login", json!({"username": "alice", "password": support::PASSWORD}));
    let alice = session["user"]["id"].clone();
    app.wait_for("the live stream", |e| {
        matches!(
            e,
            UiEvent::Feed {
                state: callrec_desktop::events::FeedState::Connected,
                ..
            }
        )
    });
    app.events.lock().expect("events").clear();

    a.kill();
    let (from, to) = (a.url.clone(), b.url.clone());
    app.wait_for(
        "the move to the other node",
        |e| matches!(e, UiEvent::ServerChanged { from: f, to: t } if *f == from && *t == to),
    );
    app.wait_for("the stream from the other node", |e| {
        matches!(
            e,
            UiEvent::Feed {
                state: callrec_desktop::events::FeedState::Connected,
                ..
            }
        )
    });
    // The same session, now on node B: the window's startup sees it without a sign-in.
    let startup = app.ok("startup", json!({}));
    assert_eq!(startup["session"]["user"]["id"], alice, "still signed in as alice");
    assert_eq!(startup["session"]["url"], json!(b.url), "on node B");
    // A call on node B reaches the live list, and the journal answers from B.
    let call_id = b.live_call();
    app.wait_for(
        "the live call on node B",
        |e| matches!(e, UiEvent::LiveCalls { calls } if calls.iter().any(|c| c.call.id == call_id)),
    );
    let page = app.ok("journal", json!({"filter": {}}));
    assert!(page["items"].is_array(), "the journal answers after the move: {page}");
}

/// `callrec-server` as `cargo test --workspace` built it, beside this test's `deps/` folder.
fn server_binary() -> Option<std::path::PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let path = exe.parent()?.parent()?.join("callrec-server");
    path.is_file().then_some(path)
}

#[test]
fn this_computers_server_shows_its_sign_ins_says_when_it_died_and_restarts_with_the_session_kept() {
    let Some(binary) = server_binary() else {
        panic!("target/<profile>/callrec-server is missing: run the whole workspace's `cargo test`");
    };
    std::env::set_var("CALLREC_SERVER_BIN", &binary);
    let app = App::new();
    let connected = app.ok("connect", json!({"choice": {"kind": "local"}}));
    assert_eq!(connected["choice"]["kind"], "local");
    // The demo prints its sign-ins once, just after it answers.
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        let s = app.ok("local_server", json!({}));
        if s["sign_ins"].as_array().is_some_and(|a| a.len() >= 3) {
            break s;
        }
        assert!(Instant::now() < deadline, "the sign-ins within 20 s: {s}");
        std::thread::sleep(Duration::from_millis(100));
    };
    let sign_ins = status["sign_ins"].to_string();
    assert!(sign_ins.contains("alice") && sign_ins.contains("admin"), "{sign_ins}");
    assert!(
        !status["log"].to_string().contains("\\u001b"),
        "no terminal colour codes: {}",
        status["log"]
    );
    app.ok("login", json!({"username": "alice", "password": "callrec-demo"}));
    app.ok("journal", json!({"filter": {}}));

    // It dies (as after a crash): the window is told so, with no address to check.
    let data_dir = status["data_dir"].as_str().expect("its data dir").to_string();
    let killed = std::process::Command::new("pkill")
        .args(["-KILL", "-f", &data_dir])
        .status()
        .expect("pkill runs");
    assert!(killed.success(), "the server process was found and killed");
    let deadline = Instant::now() + Duration::from_secs(10);
    let dead = loop {
        let s = app.ok("local_server", json!({}));
        if s["running"] == false {
            break s;
        }
        assert!(Instant::now() < deadline, "the death is noticed: {s}");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(
        dead["exit"]
            .as_str()
            .is_some_and(|e| e.contains('9') || e.contains("KILL")),
        "{dead}"
    );
    let err = app
        .invoke("journal", json!({"filter": {}}))
        .expect_err("the server is gone");
    assert_eq!(err["code"], "unreachable");
    let message = err["message"].as_str().unwrap_or_default();
    assert!(message.contains("on this computer has stopped"), "{message}");
    assert!(!message.contains("address"), "{message}");

    // Restart: the same data, the session still valid, the sign-ins still known.
    let back = app.ok("restart_local_server", json!({}));
    assert_eq!(back["running"], true, "{back}");
    assert_eq!(back["sign_ins"].to_string(), sign_ins, "remembered across the restart");
    app.ok("journal", json!({"filter": {}}));
    app.ok("logout", json!({}));
    app.ok("disconnect", json!({}));
}

#[test]
fn a_connect_to_a_server_that_never_answers_can_be_cancelled() {
    // Accepts connections, never answers.
    let mute = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", mute.local_addr().expect("addr"));
    let held = std::thread::spawn(move || mute.incoming().take(4).collect::<Vec<_>>());
    let app = App::new();
    assert_eq!(app.ok("cancel_connect", json!({})), false, "nothing to cancel yet");
    let connecting = {
        let window = app.window.clone();
        std::thread::spawn(move || {
            let started = Instant::now();
            let r = invoke_on(&window, "connect", json!({"choice": {"kind": "remote", "url": url}}));
            (r, started.elapsed())
        })
    };
    std::thread::sleep(Duration::from_millis(700));
    assert_eq!(app.ok("cancel_connect", json!({})), true, "a connect was in progress");
    let (result, took) = connecting.join().expect("the connect returns");
    let err = result.expect_err("a cancelled connect fails");
    assert_eq!(err["code"], "cancelled", "{err}");
    assert!(
        took < Duration::from_secs(5),
        "cancelled at once, not after a timeout: {took:?}"
    );
    let startup = app.ok("startup", json!({}));
    assert_eq!(startup["connection"], Value::Null, "nothing was connected");
    drop(held);
}

/// Issue #12.3/#12.4 through the commands: a play to the end yields the SHA-256 of what
/// streamed, which `check_recording_evidence` finds verified against the signed entry (and
/// another digest altered); `list_listens` shows the supervisor's play of alice's call.
#[test]
fn a_played_recording_is_verified_against_its_signed_evidence_and_listens_are_listed() {
    support::null_audio();
    let server = TestServer::start();
    let (_, recording) = server.ingest(support::ulaw_wav(2));
    let sam = server.client("sam");
    let rec = server.block_on(sam.get_recording(recording)).expect("the recording");
    server
        .block_on(sam.audio_bytes(recording, callrec_client::AudioFormat::Original, None))
        .expect("sam plays it");
    let app = App::new();
    app.ok("connect", json!({"choice": {"kind": "remote", "url": server.url}}));
    app.ok("login", json!({"username": "alice", "password": support::PASSWORD}));
    app.ok("player_play", json!({"recordingId": recording, "startMs": 0}));
    let deadline = Instant::now() + Duration::from_secs(20);
    let streamed = loop {
        let status = app.ok("player_status", json!({}));
        if let Some(sha) = status["streamed_sha256"].as_str() {
            break sha.to_string();
        }
        assert!(Instant::now() < deadline, "the play reaches the end: {status}");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(streamed, rec.sha256, "the player hashed exactly the file");
    let check = app.ok(
        "check_recording_evidence",
        json!({"recordingId": recording, "sha256": streamed}),
    );
    assert_eq!(check["verdict"], "verified", "{check}");
    let check = app.ok(
        "check_recording_evidence",
        json!({"recordingId": recording, "sha256": "00".repeat(32)}),
    );
    assert_eq!(check["verdict"], "altered", "{check}");
    assert!(check["detail"]
        .as_str()
        .unwrap_or_default()
        .contains("signed evidence says"));
    app.ok("player_stop", json!({}));

    let page = app.ok("list_listens", json!({"cursor": null}));
    let who: Vec<&str> = page["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|l| l["actor"].as_str())
        .collect();
    assert!(who.contains(&"sam"), "alice sees the supervisor's play: {page}");
    assert!(who.contains(&"alice"), "and her own: {page}");
}
