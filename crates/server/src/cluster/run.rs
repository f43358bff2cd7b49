//! The cluster's tasks on one node: the publisher (drains the outgoing queue in order), the
//! listener (events and requests from the other nodes; after a lost connection it listens
//! again and asks every node to publish its live calls again) and the heartbeat, whose every
//! beat also sweeps dead nodes: the calls of a node whose heartbeat is older than the lease
//! are ended by exactly one other node. Heartbeats use the wall clock, not the injected one:
//! liveness is between processes, which a test's manual clock does not move.

use super::handle::{node_channel, Outbox, Outgoing, EVENTS_CHANNEL};
use super::messages::{LiveDoc, Message};
use super::{serve_consent, serve_toggle};
use crate::calls;
use crate::envelope::Envelope;
use crate::live;
use crate::state::AppState;
use callrec_types::calls::{CallDetail, CallState};
use callrec_types::wire::Event;
use chrono::Utc;
use std::sync::Arc;
use std::time::Duration;

/// How often the publisher tries to send one message.
const NOTIFY_ATTEMPTS: u32 = 5;

/// The running tasks; dropping them stops them.
pub struct Tasks(Vec<tokio::task::JoinHandle<()>>);

impl Drop for Tasks {
    fn drop(&mut self) {
        for t in &self.0 {
            t.abort();
        }
    }
}

/// Starts the node: forgets what a previous run of it left live, beats once (so the sweep of
/// another node does not take it for dead), then starts the tasks. `None` without a cluster.
pub async fn start(state: &AppState, outbox: Option<Outbox>) -> anyhow::Result<Option<Tasks>> {
    let (Some(c), Some(Outbox(rx))) = (&state.cluster, outbox) else {
        return Ok(None);
    };
    c.pg.drop_live_of(c.node()).await?;
    c.pg.beat(Utc::now()).await?;
    let me = node_channel(c.node());
    let listener = c.pg.listener(&[EVENTS_CHANNEL, &me]).await?;
    Ok(Some(Tasks(vec![
        tokio::spawn(publish(state.clone(), rx)),
        tokio::spawn(listen(state.clone(), listener, me)),
        tokio::spawn(heartbeat(state.clone())),
    ])))
}

async fn publish(state: AppState, mut rx: tokio::sync::mpsc::UnboundedReceiver<Outgoing>) {
    let Some(c) = &state.cluster else { return };
    while let Some(out) = rx.recv().await {
        let (channel, message) = match out {
            Outgoing::Flush(done) => {
                let _ = done.send(());
                continue;
            }
            Outgoing::To(channel, m) => (channel, *m),
            Outgoing::Event(env) => {
                keep_live_row(&state, &env).await;
                (EVENTS_CHANNEL.to_owned(), Message::event(c.node(), &env))
            }
        };
        let payload = serde_json::to_string(&message).expect("messages serialise");
        // A connection the database dropped fails once and is replaced by the pool: try a
        // few times. A message still lost is logged: after the database comes back the
        // listeners ask every node to publish its live state again.
        for attempt in 1..=NOTIFY_ATTEMPTS {
            match c.pg.notify(&channel, &payload, Utc::now()).await {
                Ok(()) => break,
                Err(e) if attempt == NOTIFY_ATTEMPTS => {
                    tracing::warn!(error = %e, channel, "could not notify the other nodes")
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
            }
        }
    }
}

/// Keeps the `live_calls` row of a local call as its latest `call` event tells it.
async fn keep_live_row(state: &AppState, env: &Envelope) {
    let Some(c) = &state.cluster else { return };
    let r = match (&env.event, &env.decision) {
        // Only while the call is registered here: a `call` event still queued when the call
        // ended must not write its row back after `call_ended` removed it.
        (Event::Call(d), Some(decision)) if state.live.contains(d.call.id) => {
            let doc = LiveDoc {
                detail: CallDetail { ..d.clone() },
                decision: (**decision).clone(),
            };
            c.pg.put_live(d.call.id, &serde_json::to_string(&doc).expect("live docs serialise"))
                .await
        }
        (Event::CallEnded { call_id }, _) => c.pg.drop_live(*call_id).await,
        _ => Ok(()),
    };
    if let Err(e) = r {
        tracing::warn!(error = %e, "could not write a live call's state for the other nodes");
    }
}

async fn listen(state: AppState, mut listener: callrec_store::PgListener, me: String) {
    let Some(c) = &state.cluster else { return };
    loop {
        match listener.try_recv().await {
            Ok(Some(n)) => {
                let payload = match c.pg.resolve(n.payload()).await {
                    Ok(Some(p)) => p,
                    Ok(None) => continue,
                    Err(e) => {
                        tracing::warn!(error = %e, "could not read a parked cluster message");
                        continue;
                    }
                };
                match serde_json::from_str::<Message>(&payload) {
                    Ok(m) => receive(&state, m),
                    Err(e) => tracing::warn!(error = %e, "unreadable cluster message"),
                }
            }
            // The connection was lost (a cut, a database restart). What was sent meanwhile is
            // lost: listen again on a new connection — retried until the database answers,
            // so that nothing waits on a listener that never hears the database come back —
            // then every node publishes its live calls again (this one too).
            lost => {
                if let Err(e) = lost {
                    tracing::warn!(error = %e, "the cluster listener lost the database");
                } else {
                    tracing::warn!("the cluster listener lost its connection");
                }
                listener = loop {
                    match c.pg.listener(&[EVENTS_CHANNEL, &me]).await {
                        Ok(l) => break l,
                        Err(e) => {
                            tracing::warn!(error = %e, "the cluster listener cannot reach the database; retrying");
                            tokio::time::sleep(Duration::from_millis(500)).await;
                        }
                    }
                };
                tracing::warn!("the cluster listener is back; live calls are published again");
                c.send_to_all(Message::Republish {
                    from: c.node().to_owned(),
                });
                tokio::spawn(republish(state.clone()));
            }
        }
    }
}

fn receive(state: &AppState, m: Message) {
    let Some(c) = &state.cluster else { return };
    match m {
        Message::Event { from, .. } | Message::Republish { from } if from == c.node() => {}
        Message::Event {
            event, users, decision, ..
        } => {
            let _ = state.events.send(Arc::new(Envelope {
                event: *event,
                users,
                decision: decision.map(|d| Arc::new(*d)),
            }));
        }
        Message::Republish { .. } => {
            tokio::spawn(republish(state.clone()));
        }
        Message::Toggle {
            from,
            request,
            call_id,
            user,
            action,
            via,
        } => {
            tokio::spawn(serve_toggle(state.clone(), from, request, call_id, user, action, via));
        }
        Message::Consent {
            from,
            request,
            call_id,
            consent,
        } => {
            tokio::spawn(serve_consent(state.clone(), from, request, call_id, consent));
        }
        Message::Reply { request, result } => c.answered(request, result),
    }
}

async fn republish(state: AppState) {
    for id in state.live.ids() {
        live::republish(&state, id).await;
    }
}

async fn heartbeat(state: AppState) {
    let Some(c) = &state.cluster else { return };
    let mut every = tokio::time::interval((c.lease / 3).max(Duration::from_millis(100)));
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        let now = Utc::now();
        match c.pg.beat(now).await {
            Ok(false) => {}
            // Our row was gone: a database outage longer than the lease, and another node
            // took this one for dead and ended its calls in the journal while they went on
            // here. Write them back from the live state and announce them again.
            Ok(true) => {
                let ids = state.live.ids();
                tracing::warn!(
                    calls = ids.len(),
                    "this node was taken for dead; its live calls are written back"
                );
                for id in ids {
                    live::reassert(&state, id).await;
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "could not renew this node's heartbeat");
                continue;
            }
        }
        let lease = chrono::Duration::from_std(c.lease).unwrap_or(chrono::Duration::MAX);
        match c.pg.take_dead_nodes(now - lease).await {
            Ok(dead) => {
                for (node, seen) in dead {
                    end_calls_of(&state, &node, seen).await;
                }
            }
            Err(e) => tracing::warn!(error = %e, "could not look for dead nodes"),
        }
        let _ = c.pg.prune_messages(now - chrono::Duration::minutes(1)).await;
    }
}

/// Ends the calls of a dead node at the moment it was last seen and writes their journal
/// JSON. Its recordings stay in progress: the node repairs them from its spool when it
/// restarts.
async fn end_calls_of(state: &AppState, node: &str, seen: chrono::DateTime<Utc>) {
    let Some(c) = &state.cluster else { return };
    tracing::warn!(node, last_seen = %seen, "a node stopped renewing its heartbeat; ending its live calls");
    let ids = match c.pg.open_calls_of(node).await {
        Ok(ids) => ids,
        Err(e) => {
            tracing::error!(error = %e, node, "cannot list a dead node's calls");
            return;
        }
    };
    for id in ids {
        let r = async {
            let (mut call, trace) = state.store.get_call(id).await?;
            call.state = CallState::Ended;
            call.ended_at = Some(seen.max(call.started_at));
            state.store.update_call(&call, &trace).await?;
            Ok::<_, callrec_store::StoreError>(calls::internal_users(&call))
        }
        .await;
        match r {
            Ok(users) => {
                // The call's journal JSON is archived now, not only when the dead node comes
                // back (it may never): with its recordings still in progress; the node
                // rewrites it once it has repaired them.
                if let Err(e) = calls::write_journal(state, id).await {
                    tracing::warn!(error = %e, call = %id, "cannot write a dead node's call journal");
                }
                state
                    .publish(Event::CallEnded { call_id: id }, users.clone(), None)
                    .await;
                state.publish(Event::Journal { call_id: id }, users, None).await;
            }
            Err(e) => tracing::error!(error = %e, call = %id, "cannot end a dead node's call"),
        }
    }
    if let Err(e) = c.pg.drop_live_of(node).await {
        tracing::error!(error = %e, node, "cannot forget a dead node's live calls");
    }
}
