//! callrec-server as a library: `Server::bind` opens the store, repairs what a crash left and
//! binds every socket (port 0 allowed, so tests bind first and then serve); `Server::run`
//! serves until the shutdown future completes, then stops within `shutdown_grace_secs`
//! whatever the clients do: push streams end, SIP sessions end and their recordings are
//! finalised, calls announced over HTTP are ended, HTTP clients get until the deadline to
//! finish their responses and are then disconnected. `run` is what the binary calls.

pub mod alarms;
pub mod audio;
pub mod audit;
pub mod auth;
pub mod caller;
pub mod calls;
pub mod clock;
pub mod cluster;
pub mod config;
pub mod cron;
pub mod demo;
pub mod disk;
pub mod dispatch;
pub mod envelope;
pub mod error;
pub mod evidence;
pub mod extract;
pub mod files;
pub mod heartbeat;
pub mod http;
pub mod hub;
pub mod ingest;
pub mod label;
pub mod live;
pub mod metrics;
pub mod names;
pub mod objects;
pub mod people;
pub mod record_key;
pub mod repair;
pub mod retention;
pub mod review;
pub mod routes;
pub mod rtp;
pub mod schedule;
pub mod scorecards;
pub mod sealed;
pub mod settings;
pub mod sip;
pub mod state;
pub mod storage;
pub mod throttle;
pub mod transcripts;

use crate::clock::{Clock, SystemClock};
use crate::config::Config;
use crate::state::AppState;
use anyhow::Context;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

pub struct Server {
    state: AppState,
    http: tokio::net::TcpListener,
    pub http_addr: SocketAddr,
    sip: sip::SipSockets,
    outbox: Option<cluster::Outbox>,
    /// The calls start-up repair closed: announced once this node has joined the others.
    repaired: Vec<callrec_types::CallId>,
    /// The SIP (SIPREC) address, UDP and TCP.
    pub sip_addr: SocketAddr,
    /// The SIP over TLS address, when `sips` is set.
    pub sips_addr: Option<SocketAddr>,
}

impl Server {
    /// Builds the whole state and binds the HTTP listener.
    pub async fn bind(config: Config) -> anyhow::Result<Server> {
        Self::bind_with_clock(config, Arc::new(SystemClock)).await
    }

    pub async fn bind_with_clock(config: Config, clock: Arc<dyn Clock>) -> anyhow::Result<Server> {
        Self::bind_with(config, clock, state::EVENT_BUFFER).await
    }

    /// [`Server::bind_with_clock`] with the push streams' event buffer set (see
    /// [`AppState::with_event_buffer`]).
    pub async fn bind_with(config: Config, clock: Arc<dyn Clock>, event_buffer: usize) -> anyhow::Result<Server> {
        tokio::fs::create_dir_all(&config.data_dir)
            .await
            .with_context(|| format!("cannot create the data directory {}", config.data_dir.display()))?;
        // Encryption at rest: the key must open what the data directory holds (one line if not).
        let vault = sealed::Vault::from_key_file(config.encryption_key_file.as_deref())?;
        sealed::check::at_startup(&config.data_dir, &vault)?;
        let url = config.database_url();
        // PostgreSQL: this node shares the database with others (module `cluster`).
        let (store, cluster): (Arc<dyn callrec_store::Store>, _) = if callrec_store::is_postgres_url(&url) {
            let pg = callrec_store::PgStore::open_node(&url, &config.node_id())
                .await
                .with_context(|| "cannot open the database".to_string())?;
            let lease = std::time::Duration::from_secs(config.node_lease_secs.into());
            let (c, outbox) = cluster::Cluster::new(pg.cluster(), lease);
            (Arc::new(pg), Some((c, outbox)))
        } else {
            let store = callrec_store::open(&url)
                .await
                .with_context(|| "cannot open the database".to_string())?;
            (store, None)
        };
        let (cluster, outbox) = cluster.unzip();
        let http = tokio::net::TcpListener::bind(config.http)
            .await
            .with_context(|| format!("cannot listen for HTTP on {}", config.http))?;
        let http_addr = http.local_addr()?;
        let mut sip = sip::bind(config.sip).with_context(|| format!("cannot listen for SIP on {}", config.sip))?;
        if let (Some(addr), Some(tls)) = (config.sips, sip::tls::server_config(&config)?) {
            sip.listen_tls(addr, tls)
                .with_context(|| format!("cannot listen for SIP over TLS on {addr}"))?;
        }
        let sip_addr = sip.addr;
        let sips_addr = sip.tls_addr;
        let key_path = evidence::key::key_path(&config.data_dir);
        let signer = evidence::key::Signer::load_or_create(&key_path)
            .with_context(|| format!("cannot read or create the evidence signing key {}", key_path.display()))?;
        let state = AppState::build(config, store, clock, event_buffer, cluster, vault, Arc::new(signer))
            .context("cannot configure the object store (storage_url, AWS_*)")?;
        state
            .store
            .register_evidence_key(state.evidence.public_key(), &state.node_id, state.clock.now())
            .await
            .context("cannot register the evidence signing key")?;
        auth::bootstrap_admin(&state).await?;
        let repaired = repair::at_startup(&state).await?;
        ingest::remove_leftover_uploads(&state.files).await?;
        Ok(Server {
            state,
            http,
            http_addr,
            sip,
            outbox,
            repaired,
            sip_addr,
            sips_addr,
        })
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves HTTP, SIP and the schedule until `shutdown` completes, then stops (module doc).
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
        let state = self.state;
        let app = routes::router(state.clone());
        // Dispatch and retention run on the schedule while we serve; dropped, it stops. A
        // dispatch cut off mid-send keeps its lease and is sent again: nothing queued is lost.
        let scheduler = schedule::start(state.clone());
        // Webhooks go out as soon as their recording is finished, and are retried, from the
        // same queue; aborted mid-send, a target keeps its lease and is sent again.
        let webhooks = tokio::spawn(dispatch::run_webhooks(state.clone()));
        let heartbeat = heartbeat::start(state.clone());
        let cluster_tasks = cluster::run::start(&state, self.outbox)
            .await
            .context("cannot join the other nodes")?;
        if state.cluster.is_some() {
            // The other nodes showed these calls live until this node's previous run died.
            for id in self.repaired {
                if let Ok((call, _)) = state.store.get_call(id).await {
                    let users = calls::internal_users(&call);
                    state
                        .publish(callrec_types::wire::Event::CallEnded { call_id: id }, users, None)
                        .await;
                }
            }
        }
        // Ends the disk-full condition when space returns while no call is writing.
        let disk_watch = disk::watch(state.clone());
        // Uploads closed recordings to the object store, if one is configured; aborted
        // mid-upload it leaves the note, so the next start sends the file again.
        let uploader = tokio::spawn(objects::upload::run(state.clone()));
        // Signs finished recordings whose evidence entry could not be appended at once.
        let evidence_sweeps = tokio::spawn(evidence::run_sweeps(state.clone()));
        // The SIPREC recorder: SIP tasks and RTP workers.
        let sip = sip::SipService::start(state.clone(), self.sip)?;
        let demo = state.config.demo.then(|| demo::start(state.clone(), self.sip_addr));
        let http = http::HttpServer::start(self.http, app, http::Limits::of(&state.config));
        // The local transcription worker, if `transcription` is on (issue #16).
        let transcriber = transcripts::worker::start(state.clone(), self.http_addr);
        tracing::info!(http = %self.http_addr, data_dir = %state.config.data_dir.display(), "callrec-server is serving");
        shutdown.await;

        let grace = std::time::Duration::from_secs(state.config.shutdown_grace_secs.into());
        let deadline = tokio::time::Instant::now() + grace;
        tracing::info!(
            grace_secs = grace.as_secs(),
            "stopping: ending push streams, calls and recordings"
        );
        state.stopping.cancel();
        if let Some(demo) = demo {
            demo.abort();
        }
        drop(scheduler);
        webhooks.abort();
        // HTTP drains while the calls are finalised; both are bounded by the deadline.
        let http_done = tokio::spawn(http.shutdown(deadline));
        let calls = async {
            sip.stop().await;
            end_live_calls(&state).await;
        };
        if tokio::time::timeout_at(deadline, calls).await.is_err() {
            tracing::warn!(
                "calls still finishing at the shutdown deadline; their recordings are repaired at the next start"
            );
        }
        let _ = http_done.await;
        if let (Some(c), Some(tasks)) = (&state.cluster, cluster_tasks) {
            // The calls' last events reach the other nodes; then this node leaves cleanly.
            c.flush(std::time::Duration::from_secs(1)).await;
            drop(tasks);
            let _ = c.pg.drop_live_of(c.node()).await;
            let _ = c.pg.leave().await;
        }
        if let Some(t) = transcriber {
            // Stopping was signalled above: it sends the worker SIGTERM and waits for it.
            let _ = t.await;
        }
        heartbeat.abort();
        disk_watch.abort();
        uploader.abort();
        evidence_sweeps.abort();
        tracing::info!("stopped");
        Ok(())
    }
}

/// Ends the calls still live after SIP stopped: those announced over HTTP (`POST
/// /api/v1/calls`), whose recordings are finalised like at a hang-up.
async fn end_live_calls(state: &AppState) {
    for id in state.live.ids() {
        if let Err(e) = live::end(state, id).await {
            tracing::warn!(call = %id, error = ?e, "could not end a live call at shutdown");
        }
    }
}

/// Binds, serves, and stops on Ctrl-C or SIGTERM.
pub async fn run(config: Config) -> anyhow::Result<()> {
    let server = Server::bind(config).await?;
    eprintln!("callrec-server: HTTP on http://{}", server.http_addr);
    eprintln!("callrec-server: SIP on {} (UDP and TCP)", server.sip_addr);
    if let Some(sips) = server.sips_addr {
        eprintln!("callrec-server: SIP over TLS on {sips}");
    }
    server.run(shutdown_signal()).await
}

/// Completes on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down");
}
