//! The app's own settings: which server it talks to. Kept as JSON in the app's config
//! directory; loading never writes, and only a successful connect saves. Runtime settings
//! never go into `tauri.conf.json`.

use crate::error::{AppError, AppResult, ErrorCode};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use ts_rs::TS;

/// Where the server is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ServerChoice {
    /// A server somewhere else, by URL (`http://recorder.example:8080`), and the other nodes
    /// of the same installation (scale-out: they share one database, so a session is valid on
    /// each), tried in order when the one in use stops answering.
    Remote {
        url: String,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        fallbacks: Vec<String>,
    },
    /// "This computer": the bundled `callrec-server`, started by the app and stopped on exit.
    Local,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct AppSettings {
    /// `None` until the first successful connect (the first-run screen).
    #[serde(default)]
    pub server: Option<ServerChoice>,
    /// The last username used, to prefill the login form.
    #[serde(default)]
    pub last_username: Option<String>,
}

/// The settings file.
#[derive(Debug, Clone)]
pub struct SettingsFile {
    path: PathBuf,
}

impl SettingsFile {
    pub fn new(path: PathBuf) -> SettingsFile {
        SettingsFile { path }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The saved settings; a missing file is the first run. A damaged file is reported and
    /// treated as the first run rather than blocking the app.
    pub fn load(&self) -> AppSettings {
        match std::fs::read(&self.path) {
            Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or_else(|e| {
                tracing::warn!(path = %self.path.display(), error = %e, "ignoring unreadable settings");
                AppSettings::default()
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => AppSettings::default(),
            Err(e) => {
                tracing::warn!(path = %self.path.display(), error = %e, "cannot read settings");
                AppSettings::default()
            }
        }
    }

    /// Writes atomically (temp file + rename) so a crash never leaves half a file.
    pub fn save(&self, settings: &AppSettings) -> AppResult<()> {
        let fail = |e: std::io::Error| {
            AppError::new(
                ErrorCode::Failed,
                format!("Cannot save the settings in {}: {e}.", self.path.display()),
            )
        };
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir).map_err(fail)?;
        }
        let tmp = self.path.with_extension("json.tmp");
        let json = serde_json::to_vec_pretty(settings).map_err(|e| AppError::failed(e.to_string()))?;
        std::fs::write(&tmp, json).map_err(fail)?;
        std::fs::rename(&tmp, &self.path).map_err(fail)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_round_trip_and_a_missing_file_is_the_first_run() {
        let dir = tempfile::tempdir().expect("temp dir");
        let file = SettingsFile::new(dir.path().join("sub/settings.json"));
        assert_eq!(file.load(), AppSettings::default(), "no file: first run");
        let s = AppSettings {
            server: Some(ServerChoice::Remote {
                url: "http://127.0.0.1:8080".into(),
                fallbacks: vec!["http://127.0.0.1:8081".into()],
            }),
            last_username: Some("alice".into()),
        };
        file.save(&s).expect("saves");
        assert_eq!(file.load(), s);
        std::fs::write(file.path(), b"{not json").expect("write");
        assert_eq!(
            file.load(),
            AppSettings::default(),
            "a damaged file does not block the app"
        );
    }

    #[test]
    fn settings_saved_before_fallbacks_existed_still_load() {
        let dir = tempfile::tempdir().expect("temp dir");
        let file = SettingsFile::new(dir.path().join("settings.json"));
        std::fs::write(file.path(), br#"{"server":{"kind":"remote","url":"http://a:8080"}}"#).expect("write");
        assert_eq!(
            file.load().server,
            Some(ServerChoice::Remote {
                url: "http://a:8080".into(),
                fallbacks: vec![],
            })
        );
    }
}
