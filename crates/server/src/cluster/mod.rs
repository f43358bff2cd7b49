//! Several nodes, one system (issue #10.3). With PostgreSQL every node answers every request:
//! live calls held by another node are listed and pushed here, and an in-call action (the
//! record toggle) on another node's call is carried to that node, which acts and answers.
//! With SQLite there is one node and none of this runs (`AppState::cluster` is `None`): the
//! in-process hub stays the whole path.
//!
//! Why `NOTIFY`/`LISTEN` and a few rows rather than a network between nodes: the nodes
//! already share the database, so they need no extra port, address list or secret. The media
//! path never waits on it: the recorder publishes into an unbounded queue that one task
//! drains in order (write the live row, then notify), as it published into the hub before.
//!
//! - `messages`: what travels between nodes;
//! - [`run`]: the tasks (publisher, listener, heartbeat and dead-node sweep);
//! - [`handle`]: this node's handle in the application state (the outgoing queue, the
//!   requests waiting for an answer);
//! - here: the live calls of other nodes, the toggle and the caller's consent routed to
//!   the node holding the call.

pub mod handle;
mod messages;
pub mod run;

use crate::error::{ApiError, ToggleError};
use crate::live;
use crate::state::AppState;
use axum::http::StatusCode;
use callrec_types::calls::{Call, CallConsent, LiveRecording, ManualVia};
use callrec_types::engine::{Decision, TraceLine};
use callrec_types::wire::{ErrorCode, RecordingAction};
use callrec_types::{CallId, RecordingId, UserId};
pub use handle::{Cluster, Outbox, ACTION_TIMEOUT, SCHEDULE_LOCK};
pub use messages::LiveDoc;
use messages::Message;
use std::sync::Arc;

/// A live call held by another node, as this node shows it.
pub type RemoteLive = (Call, Vec<TraceLine>, Arc<Decision>, LiveRecording);

/// The live calls held by the other nodes (none without a cluster, or when the database
/// cannot be read: the local ones are still shown).
pub async fn remote_live(state: &AppState) -> Vec<RemoteLive> {
    let Some(c) = &state.cluster else { return Vec::new() };
    match c.pg.remote_live().await {
        Ok(rows) => rows
            .into_iter()
            .filter_map(|(_, _, doc)| LiveDoc::parse(&doc))
            .collect(),
        Err(e) => {
            tracing::warn!(error = %e, "cannot read the other nodes' live calls");
            Vec::new()
        }
    }
}

/// One live call, held here or by another node.
pub async fn live_snapshot(state: &AppState, id: CallId) -> Option<RemoteLive> {
    if let Some(s) = state.live.snapshot(id).await {
        return Some(s);
    }
    let c = state.cluster.as_ref()?;
    let (node, doc) = c.pg.live_call(id).await.ok()??;
    (node != c.node()).then(|| LiveDoc::parse(&doc)).flatten()
}

/// The record toggle and the phone's record key on any node: acted on here when this node
/// holds the call's media, else carried to the node that does, which checks the same
/// permissions and answers once its recorder has acted.
pub async fn toggle(
    state: &AppState,
    id: CallId,
    user: UserId,
    action: Option<RecordingAction>,
    via: ManualVia,
) -> Result<(LiveRecording, Option<RecordingId>), ToggleError> {
    let Some((c, node)) = holder(state, id).await? else {
        return live::toggle(state, id, user, action, via).await;
    };
    ask_holder(c, &node, |request| Message::Toggle {
        from: c.node().to_owned(),
        request,
        call_id: id,
        user,
        action,
        via,
    })
    .await
}

/// The caller's consent on any node (issue #11.2): set here when this node holds the call,
/// else carried to the node that does, which acts on it (starts or stops the recording)
/// and answers.
pub async fn set_consent(
    state: &AppState,
    id: CallId,
    consent: CallConsent,
) -> Result<(LiveRecording, Option<RecordingId>), ToggleError> {
    let Some((c, node)) = holder(state, id).await? else {
        return live::set_consent(state, id, consent).await;
    };
    ask_holder(c, &node, |request| Message::Consent {
        from: c.node().to_owned(),
        request,
        call_id: id,
        consent: consent.clone(),
    })
    .await
}

/// The other node holding live call `id`; `None` when it is held here, or nowhere.
async fn holder(state: &AppState, id: CallId) -> Result<Option<(&Cluster, String)>, ToggleError> {
    Ok(match &state.cluster {
        Some(c) if !state.live.contains(id) => match c.pg.live_call(id).await.map_err(ApiError::from)? {
            Some((node, _)) if node != c.node() => Some((c, node)),
            _ => None,
        },
        _ => None,
    })
}

/// Sends the request `make` builds to `node` and waits for its answer (or
/// [`ACTION_TIMEOUT`]: 503 `node_unavailable`).
async fn ask_holder(
    c: &Cluster,
    node: &str,
    make: impl FnOnce(u64) -> Message,
) -> Result<(LiveRecording, Option<RecordingId>), ToggleError> {
    let (request, rx) = c.ask(node, make);
    let answer = tokio::time::timeout(ACTION_TIMEOUT, rx).await;
    c.forget(request);
    match answer {
        Ok(Ok(Ok(done))) => Ok(done),
        Ok(Ok(Err((status, body)))) => Err(ApiError {
            status: StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            body,
        }
        .into()),
        _ => Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::NodeUnavailable,
            format!(
                "node {node}, which holds this call, did not answer within {} s",
                ACTION_TIMEOUT.as_secs()
            ),
        )
        .into()),
    }
}

/// Acts on a consent another node carried here and answers it.
async fn serve_consent(state: AppState, from: String, request: u64, id: CallId, consent: CallConsent) {
    let result = live::set_consent(&state, id, consent).await.map_err(|e| {
        let e = ApiError::from(e);
        (e.status.as_u16(), e.body)
    });
    if let Some(c) = &state.cluster {
        c.send_to(&from, Message::Reply { request, result });
    }
}

/// Acts on a toggle another node carried here and answers it.
async fn serve_toggle(
    state: AppState,
    from: String,
    request: u64,
    id: CallId,
    user: UserId,
    action: Option<RecordingAction>,
    via: ManualVia,
) {
    let result = live::toggle(&state, id, user, action, via).await.map_err(|e| {
        let e = ApiError::from(e);
        (e.status.as_u16(), e.body)
    });
    if let Some(c) = &state.cluster {
        c.send_to(&from, Message::Reply { request, result });
    }
}
