//! Missing-recording alarms (issue #11.3): the list and the acknowledgement, admins only.

use crate::alarms;
use crate::auth::Admin;
use crate::error::ApiResult;
use crate::extract::{ApiQuery, Id};
use crate::state::AppState;
use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use callrec_types::alarms::{Alarm, AlarmQuery};
use callrec_types::AlarmId;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/alarms", get(list_alarms))
        .route("/api/v1/alarms/{id}/ack", post(ack_alarm))
}

async fn list_alarms(
    State(s): State<AppState>,
    _: Admin,
    ApiQuery(q): ApiQuery<AlarmQuery>,
) -> ApiResult<Json<Vec<Alarm>>> {
    let limit = q.limit.unwrap_or(1000).clamp(1, 10_000);
    Ok(Json(s.store.list_alarms(q.unacknowledged, limit).await?))
}

async fn ack_alarm(State(s): State<AppState>, Admin(c): Admin, Id(id): Id<AlarmId>) -> ApiResult<Json<Alarm>> {
    Ok(Json(alarms::acknowledge(&s, &c, id).await?))
}
