//! The backends every store test runs against — one story, every backend (atuin's pattern):
//! SQLite in a temporary directory, and PostgreSQL on a real server that this harness starts
//! itself, never a mock.
//!
//! The PostgreSQL server is one per test binary ([`callrec_testkit::postgres`]: started on
//! first use in a temporary directory, stopped and removed when the binary exits; missing
//! binaries fail the tests, no skip). Each test gets a fresh database.

// Each test binary uses its own part of this module.
#![allow(dead_code)]

use callrec_store::{FinishedRecording, NewCall, NewRecording, PgStore, SqliteStore, Store};
use callrec_types::calls::{
    AudioCodec, CallDirection, CallSource, CallState, Participant, ParticipantRole, RecordingState, Trigger,
};
use callrec_types::engine::CallOrigin;
use callrec_types::rules::MonMode;
use callrec_types::{CallId, RecordingId, UserId};
use chrono::{DateTime, Duration, Utc};
use std::ops::Deref;
use std::sync::Arc;

/// Which backend a test runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Sqlite,
    Postgres,
}

/// The backend behind a [`TestStore`], for the few tests that speak SQL to it directly.
pub enum Concrete {
    Sqlite(Arc<SqliteStore>),
    Postgres(Arc<PgStore>),
}

/// An open store of either backend and what keeps it alive (the SQLite file's directory).
pub struct TestStore {
    pub store: Arc<dyn Store>,
    pub concrete: Concrete,
    _dir: Option<tempfile::TempDir>,
}

impl Deref for TestStore {
    type Target = dyn Store;
    fn deref(&self) -> &(dyn Store + 'static) {
        &*self.store
    }
}

/// Generates, for each named `async fn name(kind: Kind)`, one test per backend:
/// `sqlite::name` and `postgres::name`.
macro_rules! on_every_backend {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    super::$name(crate::backend::Kind::Sqlite).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    super::$name(crate::backend::Kind::Postgres).await
                }
            )*
        }
    };
}

/// A fresh, migrated store of `kind`.
pub async fn open(kind: Kind) -> TestStore {
    match kind {
        Kind::Sqlite => {
            let dir = tempfile::tempdir().expect("temp dir");
            let url = format!("sqlite://{}?mode=rwc", dir.path().join("store.db").display());
            let store = Arc::new(
                SqliteStore::open(&url)
                    .await
                    .expect("the SQLite store opens and migrates"),
            );
            TestStore {
                store: store.clone(),
                concrete: Concrete::Sqlite(store),
                _dir: Some(dir),
            }
        }
        Kind::Postgres => {
            let url = callrec_testkit::postgres::fresh_database().await;
            let store = Arc::new(
                PgStore::open(&url)
                    .await
                    .expect("the PostgreSQL store opens and migrates"),
            );
            TestStore {
                store: store.clone(),
                concrete: Concrete::Postgres(store),
                _dir: None,
            }
        }
    }
}

/// A finished call of `who` started at `t`, ten seconds long, with one complete recording.
pub async fn recorded_call(s: &dyn Store, who: UserId, key: &str, t: DateTime<Utc>) -> (CallId, RecordingId) {
    let call = s
        .create_call(&NewCall {
            call_key: key.into(),
            source: CallSource::Ingest,
            sip_call_ids: vec![format!("{key}@pbx")],
            participants: vec![Participant {
                name: "Agent".into(),
                number: "201".into(),
                user_id: Some(who),
                role: ParticipantRole::Callee,
                user_name: None,
            }],
            direction: CallDirection::Incoming,
            origin: CallOrigin::External,
            mon_mode: MonMode::Auto,
            consent: Default::default(),
            started_at: t,
            answered_at: Some(t),
            ended_at: Some(t + Duration::seconds(10)),
            state: CallState::Ended,
            trace: Vec::new(),
        })
        .await
        .expect("call");
    let rec = finished_recording(s, call.id, key, t).await;
    (call.id, rec)
}

/// A finished 10-second recording of `call_id`, as `recordings/{key}_001.wav`.
pub async fn finished_recording(s: &dyn Store, call_id: CallId, key: &str, t: DateTime<Utc>) -> RecordingId {
    let rec = s
        .create_recording(&NewRecording {
            call_id,
            seq: 1,
            rel_path: format!("recordings/{key}_001.wav"),
            file_name: format!("{key}_001.wav"),
            started_at: t,
            start_offset_ms: 0,
            duration_ms: 0,
            bytes: 0,
            codec: AudioCodec::Pcmu,
            sample_rate: 8000,
            channels: 2,
            sha256: String::new(),
            trigger: Trigger::Force,
            state: RecordingState::Recording,
        })
        .await
        .expect("recording");
    s.finish_recording(
        rec.id,
        &FinishedRecording {
            duration_ms: 10_000,
            bytes: 160_044,
            sha256: "ab".repeat(32),
            codec: AudioCodec::Pcmu,
            sample_rate: 8000,
            channels: 2,
            gaps: vec![],
        },
    )
    .await
    .expect("finished");
    rec.id
}
