//! The application state, built whole at start-up and shared as `Arc`, and the event hub that
//! feeds the server-sent events.

use crate::clock::Clock;
use crate::config::Config;
use crate::disk::Disk;
pub use crate::envelope::Envelope;
use crate::files::Files;
use crate::live::registry::LiveCalls;
use crate::metrics::Metrics;
use crate::objects::queue::Uploads;
use crate::objects::{Objects, ObjectsError};
use crate::throttle::LoginThrottle;
use callrec_store::Store;
use std::sync::Arc;
use tokio::sync::broadcast;

/// How many events the hub keeps for a subscriber that has not read them yet; one that falls
/// further behind skips what it missed and is sent a `lagged` event instead.
pub const EVENT_BUFFER: usize = 4096;

#[derive(Clone)]
pub struct AppState(Arc<App>);

pub struct App {
    pub config: Config,
    /// This node's id (`Config::node_id`), resolved once.
    pub node_id: String,
    /// Several nodes on one PostgreSQL database; `None` with SQLite (one node).
    pub cluster: Option<crate::cluster::handle::Cluster>,
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub files: Files,
    /// The master key, if any: how recordings and journals are sealed, and the one plaintext
    /// read path (issue #12.1).
    pub vault: crate::sealed::Vault,
    /// The object store closed recordings are uploaded to; `None` by default, when they stay
    /// in the data directory (issue #10.2).
    pub objects: Option<Arc<Objects>>,
    /// The upload queue's progress and the uploader's wake-up.
    pub uploads: Uploads,
    pub live: LiveCalls,
    pub metrics: Metrics,
    /// Whether recordings can be written now, and what a full disk has cost.
    pub disk: Arc<Disk>,
    pub throttle: LoginThrottle,
    pub events: broadcast::Sender<Arc<Envelope>>,
    /// Wakes the scheduler to run dispatch and retention now.
    pub run_now: tokio::sync::Notify,
    /// Missing-recording alarms this node raised (`callrec_recordings_missing_total`).
    pub recordings_missing: Arc<std::sync::atomic::AtomicU64>,
    /// Wakes the webhook sender: a recording was finished with a webhook to send.
    pub webhooks: tokio::sync::Notify,
    /// Bumped on every settings change, so readers can cache the settings until it moves.
    pub settings_epoch: std::sync::atomic::AtomicU64,
    /// Wakes the scheduler to read the schedule again (notified with the epoch's bump).
    pub settings_changed: tokio::sync::Notify,
    /// The clock time up to which the scheduler has looked, having run what was due by then:
    /// whoever moves a test's clock waits on this instead of sleeping.
    pub scheduler_checked: tokio::sync::watch::Sender<Option<chrono::DateTime<chrono::Utc>>>,
    /// Cancelled when the server starts to stop: push streams end, so clients disconnect.
    pub stopping: tokio_util::sync::CancellationToken,
    /// Signs the evidence chain's entries (issue #12.2): this data directory's key.
    pub evidence: Arc<crate::evidence::key::Signer>,
    /// Wakes the evidence sweep: an append failed and waits to be retried.
    pub evidence_retry: tokio::sync::Notify,
    /// The transcription queue's wake-up and the local worker's token (issue #16).
    pub transcription: crate::transcripts::local::Transcription,
}

impl std::ops::Deref for AppState {
    type Target = App;
    fn deref(&self) -> &App {
        &self.0
    }
}

impl AppState {
    /// Fails only when `storage_url` names an object store that cannot be configured (an
    /// unusable directory, an invalid `AWS_*` value); an unreachable store is no error, its
    /// uploads wait.
    pub fn new(config: Config, store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Result<Self, ObjectsError> {
        Self::with_event_buffer(config, store, clock, EVENT_BUFFER)
    }

    /// [`AppState::new`] with the hub keeping `event_buffer` events per subscriber (at least
    /// one) instead of [`EVENT_BUFFER`]: tests make a subscriber fall behind with a few.
    pub fn with_event_buffer(
        config: Config,
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        event_buffer: usize,
    ) -> Result<Self, ObjectsError> {
        // A key file that cannot be read is a start-up error of `Server::bind`; here it is
        // reported like a store that cannot be configured.
        let vault = crate::sealed::Vault::from_key_file(config.encryption_key_file.as_deref())
            .map_err(|e| ObjectsError::Io(std::io::Error::other(e)))?;

        let signer = crate::evidence::key::Signer::load_or_create(&crate::evidence::key::key_path(&config.data_dir))?;
        Self::build(config, store, clock, event_buffer, None, vault, Arc::new(signer))
    }

    /// The whole state, with the cluster handle when several nodes share the database.
    pub fn build(
        config: Config,
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        event_buffer: usize,
        cluster: Option<crate::cluster::handle::Cluster>,
        vault: crate::sealed::Vault,
        evidence: Arc<crate::evidence::key::Signer>,
    ) -> Result<Self, ObjectsError> {
        let (events, _) = broadcast::channel(event_buffer.max(1));
        let metrics = Metrics::default();
        let objects = Objects::from_config(&config)?.map(Arc::new);
        let uploads = Uploads::new(&metrics);
        let disk = Arc::new(Disk::new(&metrics, config.disk_full_buffer_secs));
        let recordings_missing = metrics.counter(
            crate::metrics::RECORDINGS_MISSING,
            "Calls to be recorded that ended with no audio or a recording far too short (alarms raised).",
        );
        Ok(AppState(Arc::new(App {
            files: Files::new(config.data_dir.clone()),
            vault,
            objects,
            uploads,
            node_id: cluster
                .as_ref()
                .map_or_else(|| config.node_id(), |c| c.node().to_owned()),
            cluster,
            config,
            store,
            clock,
            live: LiveCalls::default(),
            metrics,
            disk,
            throttle: LoginThrottle::default(),
            events,
            run_now: tokio::sync::Notify::new(),
            webhooks: tokio::sync::Notify::new(),
            recordings_missing,
            settings_epoch: std::sync::atomic::AtomicU64::new(0),
            settings_changed: tokio::sync::Notify::new(),
            scheduler_checked: tokio::sync::watch::Sender::new(None),
            stopping: tokio_util::sync::CancellationToken::new(),
            evidence,
            evidence_retry: tokio::sync::Notify::new(),
            transcription: crate::transcripts::local::Transcription::default(),
        })))
    }
}
