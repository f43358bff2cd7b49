//! Commands: journal pages, one call, the user filter.

use crate::error::AppError;
use crate::journal::{self, JournalFilter};
use crate::state::AppState;
use callrec_types::calls::{CallDetail, JournalPage};
use callrec_types::directory::{Person, User};
use callrec_types::CallId;
use tauri::State;

#[tauri::command]
pub async fn journal(state: State<'_, AppState>, filter: JournalFilter) -> Result<JournalPage, AppError> {
    journal::journal(&state, filter).await
}

#[tauri::command]
pub async fn get_call(state: State<'_, AppState>, call_id: CallId) -> Result<CallDetail, AppError> {
    journal::get_call(&state, call_id).await
}

#[tauri::command]
pub async fn my_team(state: State<'_, AppState>) -> Result<Vec<Person>, AppError> {
    journal::my_team(&state).await
}

#[tauri::command]
pub async fn list_users(state: State<'_, AppState>) -> Result<Vec<User>, AppError> {
    journal::list_users(&state).await
}
