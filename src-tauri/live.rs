//! The live feed: the user's current calls kept from the server's push stream
//! (`GET /api/v1/events`), reconnecting by itself with backoff after a drop. The commands over
//! it (the list, the red toggle) are in `calls.rs`. Every new list is also judged for the
//! signed-in user's own recording state ([`crate::on_air`]): a change becomes a
//! [`UiEvent::OnAir`] (notification, window title, tray).

use crate::error::{AppError, AppResult};
use crate::events::{FeedState, Notifier, UiEvent};
use crate::link::{Auth, Link};
use crate::on_air::Watch;
use callrec_client::Client;
use callrec_types::calls::{CallDetail, CallState};
use callrec_types::wire::Event;
use callrec_types::{CallId, UserId};
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

/// Who is signed in, and whether their calls were being recorded at the last list.
#[derive(Default)]
struct Mine {
    me: Option<UserId>,
    watch: Watch,
}

type OnAirWatch = Arc<Mutex<Mine>>;

pub struct LiveFeed {
    calls: Calls,
    mine: OnAirWatch,
    task: Mutex<Option<tokio::task::JoinHandle<()>>>,
    notify: Notifier,
}

impl LiveFeed {
    pub fn new(notify: Notifier) -> LiveFeed {
        LiveFeed {
            calls: Arc::default(),
            mine: Arc::default(),
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
        self.mine.lock().expect("mine lock").me = match auth.link() {
            Link::LoggedIn(session) => Some(session.user.id),
            _ => None,
        };
        let task = tokio::spawn(follow(
            client,
            auth,
            self.calls.clone(),
            self.mine.clone(),
            self.notify.clone(),
        ));
        *self.task.lock().expect("feed lock") = Some(task);
    }

    pub fn stop(&self) {
        if let Some(task) = self.task.lock().expect("feed lock").take() {
            task.abort();
        }
        self.calls.lock().expect("calls lock").clear();
        self.mine.lock().expect("mine lock").me = None;
        publish(&self.calls, &self.mine, &self.notify);
        (self.notify)(UiEvent::Feed {
            state: FeedState::Stopped,
            message: None,
        });
    }

    /// Puts a fresher view of a call in place (after the toggle).
    pub fn upsert(&self, detail: CallDetail) {
        if apply(&self.calls, Event::Call(detail)) {
            publish(&self.calls, &self.mine, &self.notify);
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

/// Tells the window the live list, and what changed for the signed-in user's own recording.
fn publish(calls: &Calls, mine: &OnAirWatch, notify: &Notifier) {
    let list = sorted(calls);
    let change = {
        let mut mine = mine.lock().expect("mine lock");
        let me = mine.me;
        mine.watch.update(me, &list)
    };
    notify(UiEvent::LiveCalls { calls: list });
    if let Some((state, change)) = change {
        notify(UiEvent::OnAir {
            state,
            title: state.title(),
            change,
        });
    }
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
        Event::Recording(_) | Event::Journal { .. } | Event::Alarm(_) | Event::Lagged {} => false,
    }
}

/// Replaces the live calls with `current` (a fresh `GET /api/v1/calls/live`).
fn replace(calls: &Calls, current: Vec<CallDetail>) {
    let mut map = calls.lock().expect("calls lock");
    map.clear();
    map.extend(
        current
            .into_iter()
            .filter(|d| d.call.state != CallState::Ended)
            .map(|d| (d.call.id, d)),
    );
}

async fn follow(mut client: Client, auth: Arc<Auth>, calls: Calls, mine: OnAirWatch, notify: Notifier) {
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
        let result = follow_once(&client, &calls, &mine, &notify).await;
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
        // A node of a scale-out installation that stopped answering: move to another node
        // at once (the session is valid on each) instead of waiting for this one.
        if let Some(moved) = fail_over_if_gone(&client, &auth).await {
            client = moved;
            delay = BACKOFF_FIRST;
            continue;
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

/// The client of another node when the one `client` talks to no longer answers its health
/// check and the installation has other addresses; `None` otherwise (reconnect as before).
async fn fail_over_if_gone(client: &Client, auth: &Auth) -> Option<Client> {
    let session = match auth.link() {
        Link::LoggedIn(session) if session.server.addresses().len() > 1 => session,
        _ => return None,
    };
    let url = client.base_url().as_str().trim_end_matches('/').to_string();
    if session.server.url == url && matches!(client.healthz().await, Ok(true)) {
        return None;
    }
    auth.fail_over(&url).await.map(|s| s.client.clone())
}

/// One connection: opens the stream, takes the current list, then applies events until the
/// stream ends or fails.
async fn follow_once(client: &Client, calls: &Calls, mine: &OnAirWatch, notify: &Notifier) -> AppResult<()> {
    let mut stream = client.events().await?;
    replace(calls, client.live_calls().await?);
    publish(calls, mine, notify);
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
            Event::Alarm(a) => notify(UiEvent::AlarmChanged { alarm: a.clone() }),
            Event::Call(_) => {}
            // We fell behind and missed events: fetch the list again and let the window
            // refresh the journal, as after a reconnect.
            Event::Lagged {} => {
                replace(calls, client.live_calls().await?);
                publish(calls, mine, notify);
                notify(UiEvent::JournalStale);
                continue;
            }
        }
        if apply(calls, event) {
            publish(calls, mine, notify);
        }
    }
    Ok(())
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
                consent: Default::default(),
            },
            recordings: vec![],
            trace: vec![],
            recording: LiveRecording::NotRecording,
            can_toggle: false,
            can_pause: false,
            not_allowed_reason: None,
            consent_required: false,
        }
    }

    /// A server for `follow_once`, one connection at a time: `GET /api/v1/events` answers
    /// `events` and ends; each `GET /api/v1/calls/live` answers the next of `lists`.
    async fn canned(events: &'static str, lists: Vec<Vec<CallDetail>>) -> String {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            let mut lists = lists.into_iter();
            while let Ok((mut socket, _)) = listener.accept().await {
                let mut head = Vec::new();
                let mut buf = [0u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut buf).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let (content_type, body) = if head.starts_with(b"GET /api/v1/events ") {
                    ("text/event-stream", events.to_owned())
                } else {
                    let list = lists.next().unwrap_or_default();
                    ("application/json", serde_json::to_string(&list).expect("serialises"))
                };
                let response = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = socket.write_all(response.as_bytes()).await;
            }
        });
        format!("http://{addr}")
    }

    /// Issue #14: a stream that fell behind says `lagged`; the live list is fetched again and
    /// the window is told the journal may be stale.
    #[tokio::test]
    async fn a_lagged_stream_reloads_the_live_list_and_marks_the_journal_stale() {
        let url = canned(
            "event: lagged\ndata: {}\n\n",
            vec![Vec::new(), vec![detail(7, 0, CallState::Active)]],
        )
        .await;
        let client = Client::new(&url).expect("valid URL");
        let seen = Arc::new(Mutex::new(Vec::new()));
        let notify: Notifier = {
            let seen = seen.clone();
            Arc::new(move |e| seen.lock().expect("seen lock").push(e))
        };
        let calls: Calls = Arc::default();
        follow_once(&client, &calls, &Arc::default(), &notify)
            .await
            .expect("the stream ends without an error");
        let ids: Vec<_> = sorted(&calls).iter().map(|d| d.call.id.0).collect();
        assert_eq!(ids, vec![7], "the list is the one fetched after the lag");
        let seen = seen.lock().expect("seen lock");
        assert_eq!(
            seen[seen.len() - 2..],
            [
                UiEvent::LiveCalls {
                    calls: vec![detail(7, 0, CallState::Active)]
                },
                UiEvent::JournalStale
            ],
            "the window gets the reloaded list, then the journal notice: {seen:?}"
        );
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
