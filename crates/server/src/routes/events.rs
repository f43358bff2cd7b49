//! `GET /api/v1/events`: server-sent events, filtered per viewer. A new subscriber first gets
//! the live calls it may see, then every change. `call` events carry the viewer's own
//! permission to press record. The stream ends when the server starts to stop.

use crate::auth::Caller;
use crate::calls::{self, detail_for};
use crate::names;
use crate::state::AppState;
use axum::extract::State;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::routing::get;
use axum::Router;
use callrec_types::wire::Event;
use futures::Stream;
use std::convert::Infallible;
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/events", get(events))
}

fn frame(e: &Event) -> Option<SseEvent> {
    let data = match e {
        Event::Call(d) => serde_json::to_string(d),
        Event::CallEnded { call_id } => serde_json::to_string(&serde_json::json!({ "call_id": call_id })),
        Event::Recording(r) => serde_json::to_string(r),
        Event::Alarm(a) => serde_json::to_string(a),
        Event::Journal { call_id } => serde_json::to_string(&serde_json::json!({ "call_id": call_id })),
        Event::Lagged {} => Ok("{}".to_owned()),
    }
    .ok()?;
    Some(SseEvent::default().event(e.name()).data(data))
}

async fn events(State(s): State<AppState>, c: Caller) -> Sse<impl Stream<Item = Result<SseEvent, Infallible>>> {
    let mut rx = s.events.subscribe();
    // Every 15 s, or more often when the idle timeout is shorter, so an idle-timeout sweep
    // never closes a push stream that is only quiet.
    let every = Duration::from_secs(15).min(Duration::from_secs(s.config.http_idle_timeout_secs.into()) / 3);
    let stream = async_stream::stream! {
        let mut live = Vec::new();
        for id in s.live.ids() {
            if let Some((call, trace, decision, rec)) = s.live.snapshot(id).await {
                if calls::visible(&c.scope, &calls::internal_users(&call)) {
                    live.push(detail_for(call, Vec::new(), trace, Some((&decision, rec)), &c));
                }
            }
        }
        for (call, trace, decision, rec) in crate::cluster::remote_live(&s).await {
            if calls::visible(&c.scope, &calls::internal_users(&call)) {
                live.push(detail_for(call, Vec::new(), trace, Some((&decision, rec)), &c));
            }
        }
        names::fill_or_log(&s, &mut live).await;
        for d in live {
            if let Some(f) = frame(&Event::Call(d)) { yield Ok(f); }
        }
        loop {
            // The server is stopping: end the stream so the client's connection can close
            // (it reconnects to the next server, or sees it gone).
            let received = tokio::select! {
                r = rx.recv() => r,
                _ = s.stopping.cancelled() => break,
            };
            match received {
                Ok(env) => {
                    if !calls::visible(&c.scope, &env.users) {
                        continue;
                    }
                    let event = match (&env.event, &env.decision) {
                        (Event::Call(d), Some(decision)) => {
                            let d = d.clone();
                            Event::Call(detail_for(d.call, d.recordings, d.trace, Some((decision, d.recording)), &c))
                        }
                        (e, _) => e.clone(),
                    };
                    if let Some(f) = frame(&event) { yield Ok(f); }
                }
                // A slow reader missed events: tell it to reload what it shows. A named event,
                // not a comment: SSE parsers drop comments, so the client would never know.
                Err(RecvError::Lagged(_)) => {
                    if let Some(f) = frame(&Event::Lagged {}) { yield Ok(f); }
                }
                Err(RecvError::Closed) => break,
            }
        }
    };
    Sse::new(stream).keep_alive(KeepAlive::new().interval(every).text("keep-alive"))
}
