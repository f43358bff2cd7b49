//! The phone's record key (Snom action URLs, SPEC §5), both forms:
//! `GET /mobydickcmd/provisioning/snom/snom-record.php?mac=&sipcallid=` and
//! `GET /provisioning/{mac}/pui/monitor/record?callid=`; and beside it the pause key (PCI,
//! issue #11.1) in the same two forms, `snom-pause.php` and `…/monitor/pause`. No session (the phone has none): the
//! MAC names the phone and so the user. Answers are short `text/plain` lines a phone can show.

use crate::record_key::{self, refusal_text, Key};
use crate::state::AppState;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde::Deserialize;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/mobydickcmd/provisioning/snom/snom-record.php", get(snom_record))
        .route("/provisioning/{mac}/pui/monitor/record", get(pui_record))
        .route("/mobydickcmd/provisioning/snom/snom-pause.php", get(snom_pause))
        .route("/provisioning/{mac}/pui/monitor/pause", get(pui_pause))
}

fn text(status: StatusCode, body: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        body + "\n",
    )
        .into_response()
}

async fn press(state: &AppState, key: Key, mac: Option<&str>, call_id: Option<&str>) -> Response {
    match record_key::press_key(state, key, mac.unwrap_or(""), call_id.unwrap_or("")).await {
        Ok(p) => text(StatusCode::OK, p.text().to_string()),
        Err(e) => text(e.status(), refusal_text(&e)),
    }
}

#[derive(Deserialize)]
struct SnomParams {
    mac: Option<String>,
    sipcallid: Option<String>,
}

async fn snom_record(
    State(s): State<AppState>,
    q: Result<Query<SnomParams>, axum::extract::rejection::QueryRejection>,
) -> Response {
    match q {
        Ok(Query(p)) => press(&s, Key::Record, p.mac.as_deref(), p.sipcallid.as_deref()).await,
        Err(_) => text(StatusCode::BAD_REQUEST, "Malformed request".into()),
    }
}

#[derive(Deserialize)]
struct PuiParams {
    callid: Option<String>,
}

async fn pui_record(
    State(s): State<AppState>,
    Path(mac): Path<String>,
    q: Result<Query<PuiParams>, axum::extract::rejection::QueryRejection>,
) -> Response {
    match q {
        Ok(Query(p)) => press(&s, Key::Record, Some(&mac), p.callid.as_deref()).await,
        Err(_) => text(StatusCode::BAD_REQUEST, "Malformed request".into()),
    }
}

async fn snom_pause(
    State(s): State<AppState>,
    q: Result<Query<SnomParams>, axum::extract::rejection::QueryRejection>,
) -> Response {
    match q {
        Ok(Query(p)) => press(&s, Key::Pause, p.mac.as_deref(), p.sipcallid.as_deref()).await,
        Err(_) => text(StatusCode::BAD_REQUEST, "Malformed request".into()),
    }
}

async fn pui_pause(
    State(s): State<AppState>,
    Path(mac): Path<String>,
    q: Result<Query<PuiParams>, axum::extract::rejection::QueryRejection>,
) -> Response {
    match q {
        Ok(Query(p)) => press(&s, Key::Pause, Some(&mac), p.callid.as_deref()).await,
        Err(_) => text(StatusCode::BAD_REQUEST, "Malformed request".into()),
    }
}
