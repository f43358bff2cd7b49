//! Commands: connect, sign in, restore, sign out.

use crate::error::AppError;
use crate::local_server::LocalServerStatus;
use crate::session::{self, ConnectionInfo, SessionInfo, Startup};
use crate::settings::ServerChoice;
use crate::state::AppState;
use tauri::State;

#[tauri::command]
pub async fn startup(state: State<'_, AppState>) -> Result<Startup, AppError> {
    Ok(session::startup(&state).await)
}

#[tauri::command]
pub async fn connect(state: State<'_, AppState>, choice: ServerChoice) -> Result<ConnectionInfo, AppError> {
    session::connect(&state, choice).await
}

#[tauri::command]
pub async fn login(state: State<'_, AppState>, username: String, password: String) -> Result<SessionInfo, AppError> {
    session::login(&state, &username, &password).await
}

#[tauri::command]
pub async fn logout(state: State<'_, AppState>) -> Result<(), AppError> {
    session::logout(&state).await
}

#[tauri::command]
pub async fn disconnect(state: State<'_, AppState>) -> Result<(), AppError> {
    session::disconnect(&state).await
}

#[tauri::command]
pub fn local_server(state: State<'_, AppState>) -> LocalServerStatus {
    session::local_server(&state)
}

#[tauri::command]
pub fn cancel_connect(state: State<'_, AppState>) -> bool {
    session::cancel_connect(&state)
}

#[tauri::command]
pub async fn restart_local_server(state: State<'_, AppState>) -> Result<LocalServerStatus, AppError> {
    session::restart_local_server(&state).await
}
