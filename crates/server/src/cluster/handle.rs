//! This node's handle on the cluster, held by the application state: the queue of what goes
//! to the other nodes (drained in order by the publisher task in [`super::run`]) and the
//! requests waiting for another node's answer. A leaf below the state: it knows envelopes
//! and messages, not the live calls.

use super::messages::{Message, ToggleReply};
use crate::envelope::Envelope;
use callrec_store::PgCluster;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// The channel every node listens on: events and requests to re-publish live state.
pub const EVENTS_CHANNEL: &str = "callrec_events";

/// The channel of one node: requests to it and answers to its requests.
pub fn node_channel(node: &str) -> String {
    format!("callrec_node_{node}")
}

/// How long a node waits for the node holding a call to act on a toggle; then the request
/// is answered 503 `node_unavailable`.
pub const ACTION_TIMEOUT: Duration = Duration::from_secs(5);

/// The cluster-wide lock key of the scheduled job (dispatch and retention).
pub const SCHEDULE_LOCK: i64 = 0x63_616c_6c72_6563; // "callrec"

/// What the publisher task sends, in order.
pub(crate) enum Outgoing {
    Event(Arc<Envelope>),
    To(String, Box<Message>),
    /// Answered once everything queued before it is sent (a stopping server's last events).
    Flush(oneshot::Sender<()>),
}

/// This node's handle on the cluster, in the application state.
pub struct Cluster {
    pub pg: PgCluster,
    out: mpsc::UnboundedSender<Outgoing>,
    pending: Mutex<HashMap<u64, oneshot::Sender<ToggleReply>>>,
    next_request: AtomicU64,
    pub lease: Duration,
}

/// The other half of [`Cluster::new`]: the queue the publisher task drains.
pub struct Outbox(pub(crate) mpsc::UnboundedReceiver<Outgoing>);

impl Cluster {
    pub fn new(pg: PgCluster, lease: Duration) -> (Cluster, Outbox) {
        let (out, rx) = mpsc::unbounded_channel();
        (
            Cluster {
                pg,
                out,
                pending: Mutex::new(HashMap::new()),
                next_request: AtomicU64::new(1),
                lease,
            },
            Outbox(rx),
        )
    }

    pub fn node(&self) -> &str {
        self.pg.node()
    }

    /// Queues a local event for the other nodes (never waits).
    pub fn forward(&self, env: Arc<Envelope>) {
        let _ = self.out.send(Outgoing::Event(env));
    }

    pub(super) fn send_to_all(&self, m: Message) {
        let _ = self.out.send(Outgoing::To(EVENTS_CHANNEL.to_owned(), Box::new(m)));
    }

    pub(super) fn send_to(&self, node: &str, m: Message) {
        let _ = self.out.send(Outgoing::To(node_channel(node), Box::new(m)));
    }

    /// Waits until everything queued so far has been sent (or `timeout`).
    pub async fn flush(&self, timeout: Duration) {
        let (tx, rx) = oneshot::channel();
        if self.out.send(Outgoing::Flush(tx)).is_ok() {
            let _ = tokio::time::timeout(timeout, rx).await;
        }
    }

    /// Sends a request made by `make` from its id to `node`; the answer arrives on the
    /// receiver (see [`Cluster::answered`]).
    pub(super) fn ask(&self, node: &str, make: impl FnOnce(u64) -> Message) -> (u64, oneshot::Receiver<ToggleReply>) {
        let request = self.next_request.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        self.pending.lock().expect("pending lock").insert(request, tx);
        self.send_to(node, make(request));
        (request, rx)
    }

    /// The request is answered or given up.
    pub(super) fn forget(&self, request: u64) {
        self.pending.lock().expect("pending lock").remove(&request);
    }

    /// An answer to one of this node's requests arrived.
    pub(super) fn answered(&self, request: u64, result: ToggleReply) {
        if let Some(tx) = self.pending.lock().expect("pending lock").remove(&request) {
            let _ = tx.send(result);
        }
    }
}
