//! Commands: the player (play, pause, resume, seek, skip, speed, party and volume, stop, status).

use crate::error::AppError;
use crate::player::{Channels, PlayerStatus};
use crate::recordings;
use crate::state::AppState;
use callrec_types::RecordingId;
use tauri::State;

#[tauri::command]
pub async fn player_play(
    state: State<'_, AppState>,
    recording_id: RecordingId,
    start_ms: u64,
) -> Result<PlayerStatus, AppError> {
    recordings::player_play(&state, recording_id, start_ms).await
}

#[tauri::command]
pub async fn player_pause(state: State<'_, AppState>) -> Result<PlayerStatus, AppError> {
    Ok(state.player.pause().await?)
}

#[tauri::command]
pub async fn player_resume(state: State<'_, AppState>) -> Result<PlayerStatus, AppError> {
    Ok(state.player.resume().await?)
}

#[tauri::command]
pub async fn player_seek(state: State<'_, AppState>, position_ms: u64) -> Result<PlayerStatus, AppError> {
    Ok(state.player.seek(position_ms).await?)
}

#[tauri::command]
pub async fn player_skip(state: State<'_, AppState>, delta_ms: i64) -> Result<PlayerStatus, AppError> {
    Ok(state.player.skip(delta_ms).await?)
}

#[tauri::command]
pub async fn player_speed(state: State<'_, AppState>, speed: f32) -> Result<PlayerStatus, AppError> {
    Ok(state.player.set_speed(speed).await?)
}

#[tauri::command]
pub async fn player_stop(state: State<'_, AppState>) -> Result<(), AppError> {
    state.player.stop().await;
    Ok(())
}

#[tauri::command]
pub async fn player_status(state: State<'_, AppState>) -> Result<PlayerStatus, AppError> {
    Ok(state.player.status().await)
}

/// Which party is heard: both, the caller only or the callee only (issue #15.2).
#[tauri::command]
pub async fn player_channels(state: State<'_, AppState>, channels: Channels) -> Result<PlayerStatus, AppError> {
    Ok(state.player.set_channels(channels).await)
}

/// The volume in percent, 0–100.
#[tauri::command]
pub async fn player_volume(state: State<'_, AppState>, volume: u8) -> Result<PlayerStatus, AppError> {
    Ok(state.player.set_volume(volume).await)
}
