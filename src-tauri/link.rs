//! The app's link to a server: the server chosen ([`Server`]), the signed-in session
//! ([`Session`]), which of the two the app has now ([`Link`]), and [`Auth`] — the link with the
//! token store, which an expired session resets (shared with the live feed's task).

use crate::error::{AppError, AppResult, ErrorCode};
use crate::events::{Notifier, UiEvent};
use crate::settings::ServerChoice;
use crate::tokens::TokenStore;
use callrec_client::Client;
use callrec_types::directory::User;
use std::sync::{Arc, RwLock};

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
            ServerChoice::Remote { url, .. } => url.clone(),
        }
    }

    /// Every address of the installation: the chosen one first, then its other nodes.
    pub fn addresses(&self) -> Vec<String> {
        match &self.choice {
            ServerChoice::Remote { url, fallbacks } => std::iter::once(url).chain(fallbacks).cloned().collect(),
            ServerChoice::Local => vec![self.url.clone()],
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
    /// Not connected yet.
    pub fn new(tokens: TokenStore, notify: Notifier) -> Auth {
        Auth {
            link: RwLock::new(Link::Disconnected),
            tokens,
            notify,
        }
    }

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

    /// The server at `from` stopped answering: the installation's other addresses are asked in
    /// turn (those after `from` first, wrapping round), and the first that knows the session
    /// (`GET /api/v1/me` answers with the same user — the nodes share one database) becomes the
    /// link's server, with the same token; the window is told. `None` when no other address
    /// answers for the session. When the link already moved away from `from` (another caller
    /// failed over first), that session is returned.
    pub async fn fail_over(&self, from: &str) -> Option<Arc<Session>> {
        let session = match self.link() {
            Link::LoggedIn(session) => session,
            _ => return None,
        };
        if session.server.url != from {
            return Some(session);
        }
        let addresses = session.server.addresses();
        let at = addresses.iter().position(|a| a == from).unwrap_or(0);
        for i in 1..addresses.len() {
            let url = &addresses[(at + i) % addresses.len()];
            let Ok(plain) = Client::with_http_client(url, session.client.http().clone()) else {
                continue;
            };
            let mut client = plain.clone();
            client.set_token(session.client.token().map(str::to_string));
            match client.me().await {
                Ok(user) if user.id == session.user.id => {}
                Ok(_) => continue,
                Err(e) => {
                    tracing::info!(%url, error = %e, "not failing over to this address");
                    continue;
                }
            }
            let moved = Arc::new(Session {
                server: Server {
                    choice: session.server.choice.clone(),
                    url: url.clone(),
                    client: plain,
                },
                client,
                user: session.user.clone(),
            });
            {
                let mut link = self.link.write().expect("link lock");
                match &*link {
                    Link::LoggedIn(current) if Arc::ptr_eq(current, &session) => {
                        *link = Link::LoggedIn(moved.clone());
                    }
                    // Logged out or moved meanwhile: leave the link as it is.
                    Link::LoggedIn(current) => return Some(current.clone()),
                    _ => return None,
                }
            }
            tracing::warn!(from, to = %url, "the server stopped answering; using another node");
            (self.notify)(UiEvent::ServerChanged {
                from: from.to_string(),
                to: url.clone(),
            });
            return Some(moved);
        }
        None
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
