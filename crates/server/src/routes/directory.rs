//! Admin CRUD of the directory: users, teams, roles and phones. Every change is audited.

use crate::auth::{self, Admin};
use crate::calls::audit;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, Id};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use callrec_store::{NewUserRecord, UserUpdate};
use callrec_types::directory::*;
use callrec_types::rules::FieldError;
use callrec_types::wire::ErrorCode;
use callrec_types::*;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/users", get(list_users).post(create_user))
        .route(
            "/api/v1/users/{id}",
            get(get_user).patch(update_user).delete(delete_user),
        )
        .route("/api/v1/teams", get(list_teams).post(create_team))
        .route(
            "/api/v1/teams/{id}",
            get(get_team).put(update_team).patch(update_team).delete(delete_team),
        )
        .route("/api/v1/roles", get(list_roles).post(create_role))
        .route(
            "/api/v1/roles/{id}",
            get(get_role).put(update_role).patch(update_role).delete(delete_role),
        )
        .route("/api/v1/phones", get(list_phones).post(create_phone))
        .route(
            "/api/v1/phones/{id}",
            get(get_phone)
                .put(update_phone)
                .patch(update_phone)
                .delete(delete_phone),
        )
}

/// 422 with the fields' errors.
fn fields(checked: Result<(), Vec<FieldError>>) -> ApiResult<()> {
    checked.map_err(ApiError::invalid_fields)
}

async fn list_users(State(s): State<AppState>, _: Admin) -> ApiResult<Json<Vec<User>>> {
    Ok(Json(s.store.list_users().await?))
}

async fn create_user(
    State(s): State<AppState>,
    Admin(c): Admin,
    ApiJson(u): ApiJson<NewUser>,
) -> ApiResult<(StatusCode, Json<User>)> {
    fields(u.validate())?;
    auth::check_password_policy(&u.password)?;
    let display_name = if u.display_name.trim().is_empty() {
        u.username.clone()
    } else {
        u.display_name.clone()
    };
    let hash = auth::hash_password_blocking(u.password).await?;
    let user = s
        .store
        .create_user(&NewUserRecord {
            username: u.username,
            display_name,
            password_hash: hash,
            level: u.level,
            extensions: u.extensions,
        })
        .await?;
    audit(
        &s,
        Some(&c),
        "",
        "user_create",
        format!("user {}", user.id),
        format!("{} ({})", user.username, user.level.as_str()),
    )
    .await;
    Ok((StatusCode::CREATED, Json(user)))
}

async fn get_user(State(s): State<AppState>, _: Admin, Id(id): Id<UserId>) -> ApiResult<Json<User>> {
    Ok(Json(s.store.get_user(id).await?))
}

async fn update_user(
    State(s): State<AppState>,
    Admin(c): Admin,
    Id(id): Id<UserId>,
    ApiJson(p): ApiJson<UserPatch>,
) -> ApiResult<Json<User>> {
    match p.validate(id, c.id()) {
        Ok(()) => {}
        Err(UserPatchError::Fields(errs)) => return Err(ApiError::invalid_fields(errs)),
        Err(UserPatchError::SelfDemotion) => {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                ErrorCode::Conflict,
                "you cannot take away your own admin level",
            ))
        }
    }
    let password_hash = match p.password.clone() {
        Some(pw) => {
            auth::check_password_policy(&pw)?;
            Some(auth::hash_password_blocking(pw).await?)
        }
        None => None,
    };
    let changed: Vec<&str> = [
        p.username.as_ref().map(|_| "username"),
        p.display_name.as_ref().map(|_| "display_name"),
        p.password.as_ref().map(|_| "password"),
        p.level.as_ref().map(|_| "level"),
        p.extensions.as_ref().map(|_| "extensions"),
    ]
    .into_iter()
    .flatten()
    .collect();
    let user = s
        .store
        .update_user(
            id,
            &UserUpdate {
                username: p.username,
                display_name: p.display_name,
                password_hash,
                level: p.level,
                extensions: p.extensions,
            },
        )
        .await?;
    audit(
        &s,
        Some(&c),
        "",
        "user_update",
        format!("user {id}"),
        format!("changed {}", changed.join(", ")),
    )
    .await;
    Ok(Json(user))
}

async fn delete_user(State(s): State<AppState>, Admin(c): Admin, Id(id): Id<UserId>) -> ApiResult<StatusCode> {
    if id == c.id() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            ErrorCode::Conflict,
            "you cannot delete yourself",
        ));
    }
    s.store.delete_user(id).await?;
    audit(&s, Some(&c), "", "user_delete", format!("user {id}"), String::new()).await;
    Ok(StatusCode::NO_CONTENT)
}

async fn list_teams(State(s): State<AppState>, _: Admin) -> ApiResult<Json<Vec<Team>>> {
    Ok(Json(s.store.list_teams().await?))
}

async fn create_team(
    State(s): State<AppState>,
    Admin(c): Admin,
    ApiJson(t): ApiJson<TeamInput>,
) -> ApiResult<(StatusCode, Json<Team>)> {
    fields(t.validate())?;
    let team = s.store.create_team(&t).await?;
    audit(
        &s,
        Some(&c),
        "",
        "team_create",
        format!("team {}", team.id),
        team.name.clone(),
    )
    .await;
    Ok((StatusCode::CREATED, Json(team)))
}

async fn get_team(State(s): State<AppState>, _: Admin, Id(id): Id<TeamId>) -> ApiResult<Json<Team>> {
    Ok(Json(s.store.get_team(id).await?))
}

async fn update_team(
    State(s): State<AppState>,
    Admin(c): Admin,
    Id(id): Id<TeamId>,
    ApiJson(t): ApiJson<TeamInput>,
) -> ApiResult<Json<Team>> {
    fields(t.validate())?;
    let team = s.store.update_team(id, &t).await?;
    audit(
        &s,
        Some(&c),
        "",
        "team_update",
        format!("team {id}"),
        format!("{} members, {} supervisors", team.members.len(), team.supervisors.len()),
    )
    .await;
    Ok(Json(team))
}

async fn delete_team(State(s): State<AppState>, Admin(c): Admin, Id(id): Id<TeamId>) -> ApiResult<StatusCode> {
    s.store.delete_team(id).await?;
    audit(&s, Some(&c), "", "team_delete", format!("team {id}"), String::new()).await;
    Ok(StatusCode::NO_CONTENT)
}

async fn list_roles(State(s): State<AppState>, _: Admin) -> ApiResult<Json<Vec<Role>>> {
    Ok(Json(s.store.list_roles().await?))
}

async fn create_role(
    State(s): State<AppState>,
    Admin(c): Admin,
    ApiJson(r): ApiJson<RoleInput>,
) -> ApiResult<(StatusCode, Json<Role>)> {
    fields(r.validate())?;
    let role = s.store.create_role(&r).await?;
    audit(
        &s,
        Some(&c),
        "",
        "role_create",
        format!("role {}", role.id),
        role.name.clone(),
    )
    .await;
    Ok((StatusCode::CREATED, Json(role)))
}

async fn get_role(State(s): State<AppState>, _: Admin, Id(id): Id<RoleId>) -> ApiResult<Json<Role>> {
    Ok(Json(s.store.get_role(id).await?))
}

async fn update_role(
    State(s): State<AppState>,
    Admin(c): Admin,
    Id(id): Id<RoleId>,
    ApiJson(r): ApiJson<RoleInput>,
) -> ApiResult<Json<Role>> {
    fields(r.validate())?;
    let role = s.store.update_role(id, &r).await?;
    audit(
        &s,
        Some(&c),
        "",
        "role_update",
        format!("role {id}"),
        format!("{} users, {} teams", role.users.len(), role.teams.len()),
    )
    .await;
    Ok(Json(role))
}

async fn delete_role(State(s): State<AppState>, Admin(c): Admin, Id(id): Id<RoleId>) -> ApiResult<StatusCode> {
    s.store.delete_role(id).await?;
    audit(&s, Some(&c), "", "role_delete", format!("role {id}"), String::new()).await;
    Ok(StatusCode::NO_CONTENT)
}

fn phone_input(p: PhoneInput) -> ApiResult<PhoneInput> {
    let mac = normalize_mac(&p.mac).ok_or_else(|| {
        ApiError::invalid_fields(vec![FieldError::new(
            "mac",
            "a MAC address has 12 hex digits, e.g. 00:04:13:2c:d0:c5",
        )])
    })?;
    Ok(PhoneInput {
        mac,
        user_id: p.user_id,
    })
}

async fn list_phones(State(s): State<AppState>, _: Admin) -> ApiResult<Json<Vec<Phone>>> {
    Ok(Json(s.store.list_phones().await?))
}

async fn create_phone(
    State(s): State<AppState>,
    Admin(c): Admin,
    ApiJson(p): ApiJson<PhoneInput>,
) -> ApiResult<(StatusCode, Json<Phone>)> {
    let phone = s.store.create_phone(&phone_input(p)?).await?;
    audit(
        &s,
        Some(&c),
        "",
        "phone_create",
        format!("phone {}", phone.id),
        format!("{} → user {}", phone.mac, phone.user_id),
    )
    .await;
    Ok((StatusCode::CREATED, Json(phone)))
}

async fn get_phone(State(s): State<AppState>, _: Admin, Id(id): Id<PhoneId>) -> ApiResult<Json<Phone>> {
    Ok(Json(s.store.get_phone(id).await?))
}

async fn update_phone(
    State(s): State<AppState>,
    Admin(c): Admin,
    Id(id): Id<PhoneId>,
    ApiJson(p): ApiJson<PhoneInput>,
) -> ApiResult<Json<Phone>> {
    let phone = s.store.update_phone(id, &phone_input(p)?).await?;
    audit(
        &s,
        Some(&c),
        "",
        "phone_update",
        format!("phone {id}"),
        format!("{} → user {}", phone.mac, phone.user_id),
    )
    .await;
    Ok(Json(phone))
}

async fn delete_phone(State(s): State<AppState>, Admin(c): Admin, Id(id): Id<PhoneId>) -> ApiResult<StatusCode> {
    s.store.delete_phone(id).await?;
    audit(&s, Some(&c), "", "phone_delete", format!("phone {id}"), String::new()).await;
    Ok(StatusCode::NO_CONTENT)
}
