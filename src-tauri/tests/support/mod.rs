//! Test support: the real `callrec-server` in-process on 127.0.0.1:0 (on its own runtime, so
//! tests may block their own thread on Tauri's mock IPC), a small cast (agents alice and
//! bob, supervisor sam, a manual rule for the team), recordings uploaded through the ingest
//! API, live calls opened with `SilentMedia`, and an ALSA null device for rodio.

#![allow(dead_code)] // shared by the tests and the benchmark; each uses a part

use callrec_client::Client;
use callrec_server::calls::RawParticipant;
use callrec_server::config::{Config, Secret};
use callrec_server::live::{self, NewLiveCall, SilentMedia};
use callrec_server::state::AppState as ServerState;
use callrec_types::calls::{CallSource, ParticipantRole};
use callrec_types::directory::{Level, NewUser, RoleInput, TeamInput, User};
use callrec_types::rules::{Dispatch, MonMode, RuleDirection, RuleInput, RuleMode, RuleOrigin};
use callrec_types::wire::{IngestCall, IngestParticipant, IngestRole, IngestTrigger};
use callrec_types::{CallId, RecordingId};
use std::future::Future;
use std::sync::{Arc, Once};

pub const ADMIN_PASSWORD: &str = "admin-password-for-desktop-tests";
pub const INGEST_TOKEN: &str = "ingest-token-for-desktop-tests-0123";
pub const PASSWORD: &str = "secret-password-1";

/// Makes rodio's default device the ALSA null device (audio "plays" faster than real time,
/// nothing is heard), unless the caller configured one. Call before the first playback.
pub fn null_audio() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        if std::env::var_os("ALSA_CONFIG_PATH").is_some() {
            return;
        }
        let path = std::env::temp_dir().join("callrec-desktop-tests-asound.conf");
        std::fs::write(&path, "pcm.!default { type null }\nctl.!default { type hw card 0 }\n")
            .expect("the ALSA config can be written");
        // Set once, before any thread touches ALSA.
        std::env::set_var("ALSA_CONFIG_PATH", &path);
    });
}

pub struct Cast {
    pub alice: User,
    pub bob: User,
    pub sam: User,
}

/// A running server with the cast. Dropping it stops the server.
pub struct TestServer {
    pub url: String,
    pub state: ServerState,
    pub cast: Cast,
    /// The server's own runtime; dropping it drops every connection, like a crash.
    rt: Option<tokio::runtime::Runtime>,
    dir: tempfile::TempDir,
}

impl TestServer {
    pub fn start() -> TestServer {
        let dir = tempfile::tempdir().expect("a temp dir for the server");
        let rt = runtime();
        let config = config_for(dir.path(), None);
        let (url, state) = rt.block_on(serve(config));
        let cast = rt.block_on(build_cast(&url));
        TestServer {
            url,
            state,
            cast,
            rt: Some(rt),
            dir,
        }
    }

    /// Two nodes of one scale-out installation: two servers on one real PostgreSQL
    /// (`callrec-testkit` starts it), each with its own data directory; the cast is created
    /// once, through the first.
    pub fn pair_on_postgres() -> (TestServer, TestServer) {
        let database = runtime().block_on(callrec_testkit::postgres::fresh_database());
        let node = |cast: Option<Cast>| {
            let dir = tempfile::tempdir().expect("a temp dir for the server");
            let rt = runtime();
            let mut config = config_for(dir.path(), None);
            config.database_url = Some(callrec_server::config::DatabaseUrl::new(database.clone()));
            let (url, state) = rt.block_on(serve(config));
            let cast = cast.unwrap_or_else(|| rt.block_on(build_cast(&url)));
            TestServer {
                url,
                state,
                cast,
                rt: Some(rt),
                dir,
            }
        };
        let a = node(None);
        let b = node(Some(Cast {
            alice: a.cast.alice.clone(),
            bob: a.cast.bob.clone(),
            sam: a.cast.sam.clone(),
        }));
        (a, b)
    }

    /// Stops the server abruptly and for good (every connection drops; its address refuses
    /// new ones), as when its machine dies.
    pub fn kill(&mut self) {
        if let Some(rt) = self.rt.take() {
            rt.shutdown_timeout(std::time::Duration::from_secs(2));
        }
    }

    /// Stops the server abruptly (every connection drops, as in a crash or a network cut)
    /// and starts it again on the same address and data directory.
    pub fn restart(&mut self) {
        if let Some(rt) = self.rt.take() {
            rt.shutdown_timeout(std::time::Duration::from_secs(2));
        }
        let addr: std::net::SocketAddr = self.url.trim_start_matches("http://").parse().expect("host:port");
        let rt = runtime();
        let (url, state) = rt.block_on(serve(config_for(self.dir.path(), Some(addr))));
        assert_eq!(url, self.url, "the server came back on the same address");
        self.state = state;
        self.rt = Some(rt);
    }

    /// Runs `f` on the server's runtime and waits for it.
    pub fn block_on<F: Future>(&self, f: F) -> F::Output {
        self.rt.as_ref().expect("the server runs").block_on(f)
    }

    pub fn client(&self, username: &str) -> Client {
        self.block_on(login(&self.url, username, PASSWORD))
    }

    /// Uploads `wav` as a finished call of alice (201) with an external party, recorded by
    /// force; returns the call and the recording.
    pub fn ingest(&self, wav: Vec<u8>) -> (CallId, RecordingId) {
        let client = Client::new(&self.url).expect("valid URL");
        let now = chrono::Utc::now();
        let call = IngestCall {
            sip_call_id: format!("desktop-test-{}@pbx", now.timestamp_nanos_opt().unwrap_or_default()),
            started_at: now - chrono::Duration::minutes(5),
            answered_at: Some(now - chrono::Duration::minutes(5)),
            ended_at: Some(now),
            participants: vec![
                IngestParticipant {
                    number: "+49301234567".into(),
                    name: "Customer".into(),
                    role: IngestRole::Caller,
                },
                IngestParticipant {
                    number: "201".into(),
                    name: "Alice".into(),
                    role: IngestRole::Callee,
                },
            ],
            mon_mode: Some("force".into()),
            trigger: IngestTrigger::Auto,
            triggered_by: None,
            recording_started_at: Some(now - chrono::Duration::minutes(5)),
            consent: None,
        };
        let r = self
            .block_on(client.ingest_bytes(INGEST_TOKEN, &call, wav))
            .expect("the ingest is accepted");
        (r.call_id, r.recording_id)
    }

    /// Opens and answers a live call from an external caller to alice (201).
    pub fn live_call(&self) -> CallId {
        let state = self.state.clone();
        self.block_on(async move {
            let id = live::open(
                &state,
                NewLiveCall {
                    sip_call_id: format!(
                        "live-{}@pbx",
                        chrono::Utc::now().timestamp_nanos_opt().unwrap_or_default()
                    ),
                    participants: vec![
                        RawParticipant {
                            number: "+4930999888".into(),
                            name: "Customer".into(),
                            role: ParticipantRole::Caller,
                        },
                        RawParticipant {
                            number: "201".into(),
                            name: "Alice".into(),
                            role: ParticipantRole::Callee,
                        },
                    ],
                    mon_mode: MonMode::Auto,
                    source: CallSource::Demo,
                    started_at: chrono::Utc::now(),
                    consent: Default::default(),
                },
                Arc::new(SilentMedia::default()),
            )
            .await
            .expect("the live call opens");
            live::answer(&state, id).await.expect("the live call is answered");
            id
        })
    }

    pub fn end_call(&self, id: CallId) {
        let state = self.state.clone();
        self.block_on(async move { live::end(&state, id).await.expect("the call ends") });
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(rt) = self.rt.take() {
            rt.shutdown_background();
        }
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime for the server")
}

fn config_for(dir: &std::path::Path, http: Option<std::net::SocketAddr>) -> Config {
    let mut config = Config::for_data_dir(dir.to_path_buf());
    if let Some(addr) = http {
        config.http = addr;
    }
    config.bootstrap_admin_password = Some(Secret::new(ADMIN_PASSWORD));
    config.ingest_token = Some(Secret::new(INGEST_TOKEN));
    config
}

/// Binds (so the address is known before anyone connects) and serves in the background.
async fn serve(config: Config) -> (String, ServerState) {
    let server = callrec_server::Server::bind(config).await.expect("the server binds");
    let url = format!("http://{}", server.http_addr);
    let state = server.state().clone();
    tokio::spawn(server.run(std::future::pending::<()>()));
    (url, state)
}

async fn login(url: &str, username: &str, password: &str) -> Client {
    let mut c = Client::new(url).expect("valid URL");
    c.login(username, password)
        .await
        .unwrap_or_else(|e| panic!("{username} logs in: {e}"));
    c
}

async fn build_cast(url: &str) -> Cast {
    let admin = login(url, "admin", ADMIN_PASSWORD).await;
    let user = |name: &str, level, ext: &str| NewUser {
        username: name.into(),
        display_name: format!("{}{}", name[..1].to_uppercase(), &name[1..]),
        password: PASSWORD.into(),
        level,
        extensions: vec![ext.into()],
    };
    let alice = admin
        .create_user(&user("alice", Level::Agent, "201"))
        .await
        .expect("alice");
    let bob = admin.create_user(&user("bob", Level::Agent, "202")).await.expect("bob");
    let sam = admin
        .create_user(&user("sam", Level::Supervisor, "300"))
        .await
        .expect("sam");
    let team = admin
        .create_team(&TeamInput {
            name: "Support".into(),
            members: vec![alice.id, bob.id],
            supervisors: vec![sam.id],
        })
        .await
        .expect("team");
    let role = admin
        .create_role(&RoleInput {
            name: "Support staff".into(),
            users: vec![],
            teams: vec![team.id],
        })
        .await
        .expect("role");
    admin
        .create_rule(&RuleInput {
            description: "Support may record on demand".into(),
            enabled: true,
            mode: RuleMode::Manual,
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
    Cast { alice, bob, sam }
}

/// `secs` of stereo µ-law at 8 kHz: a 440 Hz tone left, a 1 kHz tone right, and a counter in
/// the low bits so that every position is distinguishable.
pub fn ulaw_wav(secs: u32) -> Vec<u8> {
    use callrec_media::g711::Law;
    use callrec_media::wav::{wav_header, Codec};
    let frames = secs as usize * 8000;
    let mut data = Vec::with_capacity(frames * 2);
    for i in 0..frames {
        let t = i as f64 / 8000.0;
        let l = (9000.0 * (2.0 * std::f64::consts::PI * 440.0 * t).sin()) as i16;
        let r = (9000.0 * (2.0 * std::f64::consts::PI * 1000.0 * t).sin()) as i16 ^ ((i % 64) as i16);
        data.push(Law::Ulaw.encode(l));
        data.push(Law::Ulaw.encode(r));
    }
    let mut wav = wav_header(Codec::Ulaw, 8000, 2, data.len() as u32);
    wav.extend_from_slice(&data);
    wav
}

/// The G.711 expansion of a µ-law WAV's data chunk, by callrec-media (the server's codec).
pub fn expand_ulaw(wav: &[u8]) -> Vec<i16> {
    let at = wav.windows(4).position(|w| w == b"data").expect("a data chunk") + 8;
    wav[at..]
        .iter()
        .map(|&b| callrec_media::g711::Law::Ulaw.decode(b))
        .collect()
}

/// Invokes `cmd` on `window` as the window's script would; `Err` is the error's JSON.
pub fn invoke_on(
    window: &tauri::WebviewWindow<tauri::test::MockRuntime>,
    cmd: &str,
    args: serde_json::Value,
) -> Result<serde_json::Value, serde_json::Value> {
    tauri::test::get_ipc_response(
        window,
        tauri::webview::InvokeRequest {
            cmd: cmd.into(),
            callback: tauri::ipc::CallbackFn(0),
            error: tauri::ipc::CallbackFn(1),
            // The app's own origin (remote origins may not call app commands).
            url: if cfg!(windows) {
                "http://tauri.localhost"
            } else {
                "tauri://localhost"
            }
            .parse()
            .expect("a URL"),
            body: tauri::ipc::InvokeBody::Json(args),
            headers: Default::default(),
            invoke_key: tauri::test::INVOKE_KEY.to_string(),
        },
    )
    .map(|body| body.deserialize::<serde_json::Value>().expect("a JSON answer"))
}
