//! `AppState`: everything the commands share, built whole at start-up and managed by Tauri.
//! The only things that change over a run are the link to the server (disconnected →
//! connected → logged in) and what is playing or downloading; each sits behind its own lock.

use crate::download::Downloads;
use crate::error::{AppError, AppResult, ErrorCode};
use crate::events::{Notifier, UiEvent};
use crate::link::{Auth, Server};
use crate::live::LiveFeed;
use crate::local_server::LocalServer;
use crate::player::Player;
use crate::settings::{ServerChoice, SettingsFile};
use crate::tokens::TokenStore;
use callrec_client::Client;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// What the window is told when this computer's server stopped.
pub const LOCAL_STOPPED: &str = "The callrec server on this computer has stopped. Restart it to go on.";

/// Where the app keeps its files, and how it stores tokens; given by the caller so tests run
/// in temp dirs with a memory token store.
pub struct StateConfig {
    /// `settings.json` lives here.
    pub config_dir: PathBuf,
    /// The local server's data directory lives under here.
    pub data_dir: PathBuf,
    pub tokens: TokenStore,
    /// Save downloads here without asking (`CALLREC_DESKTOP_SAVE_DIR`: kiosks and the
    /// end-to-end test, which cannot drive a native dialog).
    pub save_dir: Option<PathBuf>,
}

pub struct AppState {
    pub settings: SettingsFile,
    pub auth: Arc<Auth>,
    pub local: LocalServer,
    pub feed: LiveFeed,
    pub player: Player,
    pub downloads: Downloads,
    pub notify: Notifier,
    pub save_dir: Option<PathBuf>,
    /// Cancels the `connect` in progress (the window's Cancel button).
    pub connecting: Mutex<Option<CancellationToken>>,
    http: reqwest::Client,
}

impl AppState {
    pub fn new(config: StateConfig, notify: Notifier) -> AppState {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            // Notices a dead link under a quiet event stream.
            .tcp_keepalive(Duration::from_secs(15))
            .build()
            .expect("the HTTP client builds with static settings");
        let auth = Arc::new(Auth::new(config.tokens, notify.clone()));
        // The player and downloads report through typed callbacks; here they become the
        // window's events.
        let player_events = notify.clone();
        let download_events = notify.clone();
        AppState {
            settings: SettingsFile::new(config.config_dir.join("settings.json")),
            local: LocalServer::new(config.data_dir.join("local-server")),
            feed: LiveFeed::new(notify.clone()),
            player: Player::new(Arc::new(move |status| player_events(UiEvent::Player { status }))),
            downloads: Downloads::new(Arc::new(move |progress| {
                download_events(UiEvent::Download { progress })
            })),
            save_dir: config.save_dir,
            connecting: Mutex::new(None),
            auth,
            notify,
            http,
        }
    }

    /// A client for `url` sharing the app's connection pool.
    pub fn client_for(&self, url: &str) -> AppResult<Client> {
        Ok(Client::with_http_client(url, self.http.clone())?)
    }

    /// The logged-in client, or "please sign in".
    pub fn client(&self) -> AppResult<Client> {
        self.auth.client()
    }

    /// Runs after every server call that failed: an expired session sends the window back to
    /// the login form; "cannot reach the server" on this computer's server that died says so
    /// (the window then offers to restart it) instead of asking to check an address the user
    /// never typed.
    pub fn check(&self, error: AppError) -> AppError {
        let error = self.auth.check(error);
        if error.code == ErrorCode::Unreachable && self.on_local_server() && self.local.died() {
            return AppError::new(ErrorCode::Unreachable, LOCAL_STOPPED);
        }
        error
    }

    /// Whether the chosen server is this computer's.
    pub fn on_local_server(&self) -> bool {
        matches!(
            self.auth.server(),
            Ok(Server {
                choice: ServerChoice::Local,
                ..
            })
        )
    }

    /// Stops what runs in the background: the feed, the player, downloads, the local server.
    pub async fn shutdown(&self) {
        self.feed.stop();
        self.player.stop().await;
        self.downloads.cancel_all();
        self.local.stop();
    }
}
