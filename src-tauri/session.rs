//! Connecting and signing in: the first-run choice (a remote URL or this computer), login
//! with the token kept in the OS keyring, restoring the session at start-up, logout.

use crate::error::{AppError, AppResult, ErrorCode};
use crate::link::{Link, Server, Session};
use crate::local_server::LocalServerStatus;
use crate::settings::ServerChoice;
use crate::state::AppState;
use crate::tokens::TokenStorage;
use callrec_types::directory::User;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use tokio_util::sync::CancellationToken;
use ts_rs::TS;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ConnectionInfo {
    pub choice: ServerChoice,
    pub url: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct SessionInfo {
    pub user: User,
    pub url: String,
    pub token_storage: TokenStorage,
}

/// What the window needs to pick its first screen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Startup {
    /// `None`: the first run, show the connect screen.
    pub connection: Option<ConnectionInfo>,
    /// `Some`: a restored session, straight to the app.
    pub session: Option<SessionInfo>,
    pub last_username: Option<String>,
    /// Where a session would be kept (`memory`: the window warns that a restart logs out).
    pub token_storage: TokenStorage,
    /// Why the saved server could not be reached, if it could not.
    pub error: Option<AppError>,
    /// The saved choice, even when connecting to it failed (to prefill the form).
    pub saved: Option<ServerChoice>,
}

/// `startup`: reconnects to the saved server and restores the saved session, if any.
pub async fn startup(state: &AppState) -> Startup {
    let settings = state.settings.load();
    let mut startup = Startup {
        connection: None,
        session: None,
        last_username: settings.last_username.clone(),
        token_storage: state.auth.tokens.storage(),
        error: None,
        saved: settings.server.clone(),
    };
    // A reload of the window keeps what is there.
    match state.auth.link() {
        Link::LoggedIn(session) => {
            startup.session = Some(session_info(state, &session.server, session.user.clone()));
            startup.connection = Some(connection_info(&session.server));
            return startup;
        }
        Link::Connected(server) => {
            startup.connection = Some(connection_info(&server));
            return startup;
        }
        Link::Disconnected => {}
    }
    let Some(choice) = settings.server else {
        return startup;
    };
    let server = match open(state, choice).await {
        Ok(server) => server,
        Err(e) => {
            startup.error = Some(e);
            return startup;
        }
    };
    startup.connection = Some(connection_info(&server));
    state.auth.set_link(Link::Connected(server.clone()));
    if let Some(token) = state.auth.tokens.load(&server.token_key()) {
        let client = server.client.clone().with_token(token);
        match client.me().await {
            Ok(user) => {
                state.auth.set_link(Link::LoggedIn(Arc::new(Session {
                    server: server.clone(),
                    client: client.clone(),
                    user: user.clone(),
                })));
                state.feed.start(client, state.auth.clone());
                startup.session = Some(session_info(state, &server, user));
            }
            Err(e) => {
                let e = AppError::from(e);
                if e.is_session_expired() {
                    state.auth.tokens.clear(&server.token_key());
                } else {
                    startup.error = Some(e);
                }
            }
        }
    }
    startup
}

/// `connect`: checks that a callrec server answers (starting this computer's first if
/// chosen) and remembers the choice. [`cancel_connect`] ends it early with `cancelled`;
/// otherwise a server that never answers is given up after the client's timeouts.
pub async fn connect(state: &AppState, choice: ServerChoice) -> AppResult<ConnectionInfo> {
    let cancel = CancellationToken::new();
    if let Some(previous) = state
        .connecting
        .lock()
        .expect("connecting lock")
        .replace(cancel.clone())
    {
        previous.cancel();
    }
    let result = tokio::select! {
        r = connect_now(state, choice) => r,
        () = cancel.cancelled() => Err(AppError::new(ErrorCode::Cancelled, "Connecting was cancelled.")),
    };
    let mut connecting = state.connecting.lock().expect("connecting lock");
    if connecting.as_ref().is_some_and(|c| c.is_cancelled() || result.is_ok()) {
        *connecting = None;
    }
    result
}

/// `cancel_connect`: gives up the `connect` in progress, if any; `true` when there was one.
pub fn cancel_connect(state: &AppState) -> bool {
    match state.connecting.lock().expect("connecting lock").take() {
        Some(c) => {
            c.cancel();
            true
        }
        None => false,
    }
}

/// `restart_local_server`: starts this computer's server again on its data (after it died);
/// a signed-in session stays valid, and the live feed reconnects by itself.
pub async fn restart_local_server(state: &AppState) -> AppResult<LocalServerStatus> {
    if !state.on_local_server() {
        return Err(AppError::new(
            ErrorCode::Invalid,
            "The app is not using the server on this computer.",
        ));
    }
    let url = state.local.start().await?;
    // The port is new: every client of the link must follow it.
    let server = Server {
        choice: ServerChoice::Local,
        url: url.clone(),
        client: state.client_for(&url)?,
    };
    match state.auth.link() {
        Link::LoggedIn(session) => {
            let mut client = server.client.clone();
            client.set_token(session.client.token().map(str::to_string));
            state.auth.set_link(Link::LoggedIn(Arc::new(Session {
                server,
                client: client.clone(),
                user: session.user.clone(),
            })));
            state.feed.start(client, state.auth.clone());
        }
        _ => state.auth.set_link(Link::Connected(server)),
    }
    Ok(state.local.status())
}

async fn connect_now(state: &AppState, choice: ServerChoice) -> AppResult<ConnectionInfo> {
    let choice = match choice {
        ServerChoice::Remote { url, fallbacks } => {
            let url = normalize_url(&url)?;
            let mut others: Vec<String> = Vec::new();
            for f in fallbacks.iter().filter(|f| !f.trim().is_empty()) {
                let f = normalize_url(f)?;
                if f != url && !others.contains(&f) {
                    others.push(f);
                }
            }
            ServerChoice::Remote { url, fallbacks: others }
        }
        ServerChoice::Local => ServerChoice::Local,
    };
    if let Link::LoggedIn(_) = state.auth.link() {
        logout(state).await?;
    }
    if choice != ServerChoice::Local {
        state.local.stop();
    }
    let server = open(state, choice.clone()).await?;
    state.auth.set_link(Link::Connected(server.clone()));
    let mut settings = state.settings.load();
    settings.server = Some(choice);
    state.settings.save(&settings)?;
    Ok(connection_info(&server))
}

/// Reaches the server of `choice`: starts the local one, then asks `/healthz`. Of a remote
/// installation with several addresses, the first that answers is used; when none does, the
/// error is the first address's.
async fn open(state: &AppState, choice: ServerChoice) -> AppResult<Server> {
    let urls = match &choice {
        ServerChoice::Remote { url, fallbacks } => std::iter::once(url).chain(fallbacks).cloned().collect(),
        ServerChoice::Local => vec![state.local.start().await?],
    };
    let mut first_error = None;
    for url in urls {
        match open_one(state, choice.clone(), url).await {
            Ok(server) => return Ok(server),
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    Err(first_error.unwrap_or_else(|| AppError::new(ErrorCode::Invalid, "Enter the server's address.")))
}

async fn open_one(state: &AppState, choice: ServerChoice, url: String) -> AppResult<Server> {
    let client = state.client_for(&url)?;
    match client.healthz().await {
        Ok(true) => Ok(Server { choice, url, client }),
        Ok(false) => Err(AppError::new(
            ErrorCode::Unreachable,
            format!("The server at {url} answers but is not ready (its health check failed). Try again shortly."),
        )),
        Err(e) if choice == ServerChoice::Local => {
            tracing::warn!(error = %e, "the local server does not answer");
            Err(AppError::new(
                ErrorCode::Unreachable,
                "The callrec server on this computer started but does not answer.",
            ))
        }
        Err(callrec_client::ClientError::Transport(t)) if t.is_timeout() => Err(AppError::new(
            ErrorCode::Unreachable,
            format!(
                "{url} accepted the connection but did not answer within {} seconds. \
                 Check the address: it may not be a callrec server.",
                callrec_client::HEALTH_TIMEOUT.as_secs()
            ),
        )),
        Err(_) => Err(AppError::new(
            ErrorCode::Unreachable,
            format!("No callrec server answers at {url}. Check the address and that the server is running."),
        )),
    }
}

/// `login`: signs in on the connected server and keeps the token.
pub async fn login(state: &AppState, username: &str, password: &str) -> AppResult<SessionInfo> {
    let server = state.auth.server()?;
    let username = username.trim();
    if username.is_empty() || password.is_empty() {
        return Err(AppError::new(
            ErrorCode::BadCredentials,
            "Enter your username and password.",
        ));
    }
    let mut client = server.client.clone();
    let response = client
        .login(username, password)
        .await
        .map_err(|e| state.check(e.into()))?;
    state.auth.tokens.save(&server.token_key(), &response.token);
    state.auth.set_link(Link::LoggedIn(Arc::new(Session {
        server: server.clone(),
        client: client.clone(),
        user: response.user.clone(),
    })));
    state.feed.start(client, state.auth.clone());
    let mut settings = state.settings.load();
    settings.last_username = Some(username.to_string());
    if let Err(e) = state.settings.save(&settings) {
        tracing::warn!(error = %e, "cannot remember the username");
    }
    Ok(session_info(state, &server, response.user))
}

/// `logout`: ends the session on the server (if it answers) and forgets the token.
pub async fn logout(state: &AppState) -> AppResult<()> {
    state.feed.stop();
    state.player.stop().await;
    state.downloads.cancel_all();
    if let Link::LoggedIn(session) = state.auth.link() {
        let mut client = session.client.clone();
        if let Err(e) = client.logout().await {
            tracing::info!(error = %e, "the server did not confirm the logout; forgetting the token anyway");
        }
        state.auth.tokens.clear(&session.server.token_key());
        state.auth.set_link(Link::Connected(session.server.clone()));
    }
    Ok(())
}

/// `disconnect`: back to the connect screen ("change server"); stops this computer's server.
pub async fn disconnect(state: &AppState) -> AppResult<()> {
    logout(state).await?;
    state.auth.set_link(Link::Disconnected);
    state.local.stop();
    let mut settings = state.settings.load();
    settings.server = None;
    state.settings.save(&settings)
}

/// `local_server`: the state and output of this computer's server.
pub fn local_server(state: &AppState) -> LocalServerStatus {
    state.local.status()
}

fn connection_info(server: &Server) -> ConnectionInfo {
    ConnectionInfo {
        choice: server.choice.clone(),
        url: server.url.clone(),
    }
}

fn session_info(state: &AppState, server: &Server, user: User) -> SessionInfo {
    SessionInfo {
        user,
        url: server.url.clone(),
        token_storage: state.auth.tokens.storage(),
    }
}

/// `recorder.example:8080` → `http://recorder.example:8080`; refuses what is not a URL.
pub fn normalize_url(raw: &str) -> AppResult<String> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Err(AppError::new(ErrorCode::Invalid, "Enter the server's address."));
    }
    let url = if raw.contains("://") {
        raw.to_string()
    } else {
        format!("http://{raw}")
    };
    callrec_client::Client::new(&url).map_err(AppError::from)?;
    Ok(url.trim_end_matches('/').to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_addresses_get_a_scheme_and_lose_the_trailing_slash() {
        assert_eq!(
            normalize_url(" 10.0.0.5:8080/ ").ok().as_deref(),
            Some("http://10.0.0.5:8080")
        );
        assert_eq!(
            normalize_url("https://rec.example/callrec/").ok().as_deref(),
            Some("https://rec.example/callrec")
        );
        for bad in ["", "ftp://x", "http://"] {
            assert_eq!(
                normalize_url(bad).map_err(|e| e.code),
                Err(ErrorCode::Invalid),
                "{bad:?}"
            );
        }
    }
}
