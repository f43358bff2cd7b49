//! What the window does with a recording: play it through the [`crate::player`], choose where
//! to save it, and download it through [`crate::download`]. Each function takes the logged-in
//! client from the state and lets an expired session send the window back to the login form.

use crate::download::{DownloadFormat, DownloadRequest, DownloadResult};
use crate::error::{AppError, AppResult};
use crate::player::PlayerStatus;
use crate::state::AppState;
use callrec_types::calls::Recording;
use callrec_types::RecordingId;
use std::path::PathBuf;

/// `player_play`: loads a recording and plays it from `start_ms`.
pub async fn player_play(state: &AppState, recording_id: RecordingId, start_ms: u64) -> AppResult<PlayerStatus> {
    let client = state.client()?;
    state
        .player
        .play(client, recording_id, start_ms)
        .await
        .map_err(|e| state.check(e.into()))
}

/// Longest file name offered (characters, before the extension).
const NAME_CHARS: usize = 120;

/// The file name offered in the save dialog: the window's name for the recording (date,
/// parties, sequence), made safe for any file system — no path separators, no characters
/// Windows refuses, no control characters, no leading dot — with the format in it for
/// `pcm16`.
pub fn suggested_file_name(wanted: &str, pcm16: bool) -> String {
    let safe: String = wanted
        .trim()
        .trim_end_matches(".wav")
        .chars()
        .map(|c| {
            if c.is_alphanumeric()
                || matches!(
                    c,
                    ' ' | '-' | '_' | '.' | '(' | ')' | '+' | ',' | '&' | '#' | '@' | '\''
                )
            {
                c
            } else {
                '_'
            }
        })
        .take(NAME_CHARS)
        .collect();
    let base = safe.trim_start_matches(['.', ' ']).trim_end_matches([' ', '.']);
    let base = if base.trim_matches(['.', '_', ' ']).is_empty() {
        "recording"
    } else {
        base
    };
    if pcm16 {
        format!("{base} pcm16.wav")
    } else {
        format!("{base}.wav")
    }
}

/// `choose_download_path`: the save dialog (or the configured folder); `None` when the user
/// cancels the dialog.
pub async fn choose_download_path<R: tauri::Runtime>(
    app: &tauri::AppHandle<R>,
    state: &AppState,
    file_name: &str,
    format: DownloadFormat,
) -> AppResult<Option<String>> {
    let name = suggested_file_name(file_name, format == DownloadFormat::Pcm16);
    if let Some(dir) = &state.save_dir {
        return Ok(Some(dir.join(name).display().to_string()));
    }
    use tauri_plugin_dialog::DialogExt;
    let (tx, rx) = tokio::sync::oneshot::channel();
    let mut dialog = app
        .dialog()
        .file()
        .set_title("Save the recording")
        .set_file_name(name)
        .add_filter("WAV audio", &["wav"]);
    if let Some(downloads) = dirs_download() {
        dialog = dialog.set_directory(downloads);
    }
    dialog.save_file(move |path| {
        let _ = tx.send(path);
    });
    let chosen = rx
        .await
        .map_err(|_| AppError::failed("The save dialog closed unexpectedly."))?;
    chosen
        .map(|p| {
            p.into_path()
                .map(|p| p.display().to_string())
                .map_err(|_| AppError::failed("Choose a folder on this computer."))
        })
        .transpose()
}

fn dirs_download() -> Option<PathBuf> {
    let home = std::env::var_os("HOME").map(PathBuf::from)?;
    let downloads = home.join("Downloads");
    Some(if downloads.is_dir() { downloads } else { home })
}

/// `hold_recording`: sets or clears a recording's legal hold (admins).
pub async fn hold_recording(state: &AppState, recording_id: RecordingId, legal_hold: bool) -> AppResult<Recording> {
    let client = state.client()?;
    client
        .hold_recording(recording_id, legal_hold)
        .await
        .map_err(|e| state.check(e.into()))
}

/// `delete_recording`: deletes a recording for good (admins; refused while on hold).
pub async fn delete_recording(state: &AppState, recording_id: RecordingId) -> AppResult<()> {
    let client = state.client()?;
    client
        .delete_recording(recording_id)
        .await
        .map_err(|e| state.check(e.into()))
}

/// `download_recording`: streams a recording to the chosen file.
pub async fn download_recording(state: &AppState, request: DownloadRequest) -> AppResult<DownloadResult> {
    let client = state.client()?;
    state.downloads.run(&client, request).await.map_err(|e| state.check(e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offered_file_names_are_safe() {
        assert_eq!(
            suggested_file_name("2026-12-02 14-05 Alice Adams (201) to +49 30 1234 001.wav", false),
            "2026-12-02 14-05 Alice Adams (201) to +49 30 1234 001.wav"
        );
        assert_eq!(
            suggested_file_name("Jürgen Groß 001", true),
            "Jürgen Groß 001 pcm16.wav"
        );
        assert_eq!(suggested_file_name("../../etc/passwd", false), "_.._etc_passwd.wav");
        assert_eq!(
            suggested_file_name("a:b*c?d\"e<f>g|h\\i\u{7}", false),
            "a_b_c_d_e_f_g_h_i_.wav"
        );
        assert_eq!(suggested_file_name("", false), "recording.wav");
        assert_eq!(suggested_file_name(" .. ", false), "recording.wav");
        let long = "x".repeat(500);
        assert_eq!(suggested_file_name(&long, false).chars().count(), NAME_CHARS + 4);
    }
}
