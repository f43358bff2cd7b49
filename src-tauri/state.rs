//! `AppState`: everything the commands share, built whole at start-up and managed by Tauri.
//! The only things that change over a run are the link to the server (disconnected →
//! connected → logged in) and what is playing or downloading; each sits behind its own lock.

use crate::download::Downloads;
use crate::error::{AppError, AppResult, ErrorCode};
use crate::events::{Notifier, UiEvent};
use crate::live::LiveFeed;
use crate::local_server::LocalServer;
use crate::player::Player;
use crate::settings::{ServerChoice, SettingsFile};
use crate::tokens::TokenStore;
use callrec_client::Client;
use callrec_types::directory::User;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// What the window is told when this computer's server stopped.
pub const LOCAL_STOPPED: &str = "The callrec server on this computer has stopped. Restart it to go on.";

/// The server the app is connected to.
#[derive(Debug, Clone)]
pub struct Server {
    pub choice: ServerChoice,
    /// The base URL (for `Local`, the child server's loopback URL).
    pub url: String,
    /// A client without a session.
    pub client: Client,
}

impl Server {
    /// The key the session token is filed under: the URL, or `local` for this computer (its
    /// port changes between runs, its database does not).
    pub fn token_key(&self) -> String {
        match &self.choice {
            ServerChoice::Local => "local".to_string(),
            ServerChoice::Remote { url } => url.clone(),
        }
    }
}

/// A signed-in user on a server.
#[derive(Debug)]
pub struct Session {
    pub server: Server,
    /// The client carrying the session token.
    pub client: Client,
    pub user: User,
}

#[derive(Debug, Clone)]
pub enum Link {
    Disconnected,
    Connected(Server),
    LoggedIn(Arc<Session>),
}

/// The link and the token store: what an expired session must reset, shared with the live
/// feed's task.
pub struct Auth {
    link: RwLock<Link>,
    pub tokens: TokenStore,
    notify: Notifier,
}

impl Auth {
    pub fn link(&self) -> Link {
        self.link.read().expect("link lock").clone()
    }

    pub fn set_link(&self, link: Link) {
        *self.link.write().expect("link lock") = link;
    }

    pub fn server(&self) -> AppResult<Server> {
        match self.link() {
            Link::Disconnected => Err(AppError::new(ErrorCode::Unreachable, "Choose a server first.")),
            Link::Connected(server) => Ok(server),
            Link::LoggedIn(session) => Ok(session.server.clone()),
        }
    }

    /// The logged-in client.
    pub fn client(&self) -> AppResult<Client> {
        match self.link() {
            Link::LoggedIn(session) => Ok(session.client.clone()),
            _ => Err(AppError::not_logged_in()),
        }
    }

    /// Forgets the session if `error` says it has expired; passes the error on.
    pub fn check(&self, error: AppError) -> AppError {
        if error.is_session_expired() {
            self.expire(&error.message);
        }
        error
    }

    /// The session ended on the server: forget the token, go back to the login form.
    pub fn expire(&self, message: &str) {
        let mut link = self.link.write().expect("link lock");
        if let Link::LoggedIn(session) = &*link {
            let server = session.server.clone();
            self.tokens.clear(&server.token_key());
            *link = Link::Connected(server);
            drop(link);
            (self.notify)(UiEvent::SessionExpired {
                message: message.to_string(),
            });
        }
    }
}

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
        let auth = Arc::new(Auth {
            link: RwLock::new(Link::Disconnected),
            tokens: config.tokens,
            notify: notify.clone(),
        });
        AppState {
            settings: SettingsFile::new(config.config_dir.join("settings.json")),
            local: LocalServer::new(config.data_dir.join("local-server")),
            feed: LiveFeed::new(notify.clone()),
            player: Player::new(notify.clone()),
            downloads: Downloads::default(),
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
