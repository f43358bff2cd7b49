//! The live call: the user's current calls kept from the server's push stream
//! (`GET /api/v1/events`), reconnecting by itself with backoff after a drop, and the red
//! toggle (`POST /api/v1/calls/{id}/recording`).

use crate::error::{AppError, AppResult};
use crate::events::{FeedState, Notifier, UiEvent};
use crate::state::{AppState, Auth};
use callrec_client::Client;
use callrec_types::calls::{CallDetail, CallState};
use callrec_types::wire::{Event, RecordingAction, RecordingActionResponse};
use callrec_types::CallId;
use futures::StreamExt;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Reconnect delays: doubled from the first up to the last.
const BACKOFF_FIRST: Duration = Duration::from_millis(500);
const BACKOFF_MAX: Duration = Duration::from_secs(5);
/// A connection that lasted this long resets the backoff.
const HEALTHY: Duration = Duration::from_secs(10);

type Calls = Arc<Mutex<BTreeMap<CallId, CallDetail>>>;

pub struct LiveFeed {
    calls: Calls,
    task: Mutex<Option<tokio::task::JoinHandle<()>>>,
    notify: Notifier,
}

impl LiveFeed {
    pub fn new(notify: Notifier) -> LiveFeed {
        LiveFeed {
            calls: Arc::default(),
            task: Mutex::new(None),
            notify,
        }
    }

    /// The live calls, newest first.
    pub fn calls(&self) -> Vec<CallDetail> {
        sorted(&self.calls)
    }

    /// (Re)starts following the stream for `client`'s user.
    pub fn start(&self, client: Client, auth: Arc<Auth>) {
        self.stop();
        let task = tokio::spawn(follow(client, auth, self.calls.clone(), self.notify.clone()));
        *self.task.lock().expect("feed lock") = Some(task);
    }

    pub fn stop(&self) {
        if let Some(task) = self.task.lock().expect("feed lock").take() {
            task.abort();
        }
        self.calls.lock().expect("calls lock").clear();
        (self.notify)(UiEvent::LiveCalls { calls: Vec::new() });
        (self.notify)(UiEvent::Feed {
            state: FeedState::Stopped,
            message: None,
        });
    }

    /// Puts a fresher view of a call in place (after the toggle).
    fn upsert(&self, detail: CallDetail) {
        if apply(&self.calls, Event::Call(detail)) {
            (self.notify)(UiEvent::LiveCalls { calls: self.calls() });
        }
    }
}

impl Drop for LiveFeed {
    fn drop(&mut self) {
        if let Some(task) = self.task.lock().expect("feed lock").take() {
            task.abort();
        }
    }
}

fn sorted(calls: &Calls) -> Vec<CallDetail> {
    let mut v: Vec<CallDetail> = calls.lock().expect("calls lock").values().cloned().collect();
    v.sort_by(|a, b| {
        b.call
            .started_at
            .cmp(&a.call.started_at)
            .then(b.call.id.cmp(&a.call.id))
    });
    v
}

/// Applies one event to the live calls; `true` when the list changed.
fn apply(calls: &Calls, event: Event) -> bool {
    let mut calls = calls.lock().expect("calls lock");
    match event {
        Event::Call(detail) if detail.call.state == CallState::Ended => calls.remove(&detail.call.id).is_some(),
        Event::Call(detail) => {
            calls.insert(detail.call.id, detail);
            true
        }
        Event::CallEnded { call_id } => calls.remove(&call_id).is_some(),
        Event::Recording(_) | Event::Journal { .. } => false,
    }
}

async fn follow(client: Client, auth: Arc<Auth>, calls: Calls, notify: Notifier) {
    let mut delay = BACKOFF_FIRST;
    let mut first = true;
    loop {
        notify(UiEvent::Feed {
            state: if first {
                FeedState::Connecting
            } else {
                FeedState::Reconnecting
            },
            message: None,
        });
        first = false;
        let opened = Instant::now();
        let result = follow_once(&client, &calls, &notify).await;
        let error = match result {
            Ok(()) => AppError::failed("The server closed the live stream."),
            Err(e) => e,
        };
        if error.is_session_expired() {
            auth.expire(&error.message);
            return;
        }
        if opened.elapsed() >= HEALTHY {
            delay = BACKOFF_FIRST;
        }
        tracing::info!(error = %error.message, retry_in = ?delay, "live stream lost");
        notify(UiEvent::Feed {
            state: FeedState::Reconnecting,
            message: Some(error.message),
        });
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(BACKOFF_MAX);
    }
}

/// One connection: opens the stream, takes the current list, then applies events until the
/// stream ends or fails.
async fn follow_once(client: &Client, calls: &Calls, notify: &Notifier) -> AppResult<()> {
    let mut stream = client.events().await?;
    let current = client.live_calls().await?;
    {
        let mut map = calls.lock().expect("calls lock");
        map.clear();
        map.extend(
            current
                .into_iter()
                .filter(|d| d.call.state != CallState::Ended)
                .map(|d| (d.call.id, d)),
        );
    }
    notify(UiEvent::LiveCalls { calls: sorted(calls) });
    notify(UiEvent::Feed {
        state: FeedState::Connected,
        message: None,
    });
    // A stream silent past the client's limit (no keep-alive either) ends with an error.
    while let Some(event) = stream.next().await {
        let event = event?;
        match &event {
            Event::CallEnded { call_id } | Event::Journal { call_id } => {
                notify(UiEvent::JournalChanged { call_id: *call_id })
            }
            Event::Recording(r) => notify(UiEvent::RecordingChanged { recording: r.clone() }),
            Event::Call(_) => {}
        }
        if apply(calls, event) {
            notify(UiEvent::LiveCalls { calls: sorted(calls) });
        }
    }
    Ok(())
}

/// `live_calls`: the current list (the window asks once, then follows events).
pub fn live_calls(state: &AppState) -> AppResult<Vec<CallDetail>> {
    state.client()?;
    Ok(state.feed.calls())
}

/// `set_recording`: the red toggle.
pub async fn set_recording(
    state: &AppState,
    call_id: CallId,
    action: RecordingAction,
) -> AppResult<RecordingActionResponse> {
    let client = state.client()?;
    let response = client
        .set_recording(call_id, action)
        .await
        .map_err(|e| state.check(e.into()))?;
    // The push stream brings the change too; fetching it now makes the button answer at once.
    if let Ok(detail) = client.get_call(call_id).await {
        state.feed.upsert(detail);
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;
    use callrec_types::calls::{Call, CallDirection, CallSource, LiveRecording};
    use callrec_types::engine::CallOrigin;
    use callrec_types::rules::MonMode;

    fn detail(id: i64, minute: u32, state: CallState) -> CallDetail {
        CallDetail {
            call: Call {
                id: CallId(id),
                call_key: format!("k{id}"),
                sip_call_ids: vec![],
                participants: vec![],
                direction: CallDirection::Incoming,
                origin: CallOrigin::External,
                mon_mode: MonMode::Auto,
                source: CallSource::Siprec,
                started_at: chrono::DateTime::from_timestamp(1_700_000_000 + i64::from(minute) * 60, 0)
                    .expect("valid time"),
                answered_at: None,
                ended_at: None,
                state,
                recording_count: 0,
            },
            recordings: vec![],
            trace: vec![],
            recording: LiveRecording::NotRecording,
            can_toggle: false,
            not_allowed_reason: None,
        }
    }

    #[test]
    fn events_keep_the_live_list_newest_first_and_drop_ended_calls() {
        let calls: Calls = Arc::default();
        assert!(apply(&calls, Event::Call(detail(1, 0, CallState::Ringing))));
        assert!(apply(&calls, Event::Call(detail(2, 5, CallState::Active))));
        let ids: Vec<_> = sorted(&calls).iter().map(|d| d.call.id.0).collect();
        assert_eq!(ids, vec![2, 1], "newest first");
        assert!(apply(&calls, Event::CallEnded { call_id: CallId(2) }));
        assert!(apply(&calls, Event::Call(detail(1, 0, CallState::Ended))));
        assert!(sorted(&calls).is_empty(), "ended calls leave the live list");
        assert!(
            !apply(&calls, Event::Journal { call_id: CallId(1) }),
            "journal events do not touch it"
        );
    }
}
