//! callrec-client: a typed async client for the callrec HTTP API v1, one method per route,
//! named after the operation (`GET /api/v1/rules` ↔ [`Client::list_rules`]). It is what the
//! end-to-end tests, the benchmark and the desktop app speak to the server with.
//!
//! The methods live beside their nouns: [`directory`] (session, users, teams, roles, phones,
//! rules), [`calls`] (ingest, live calls, events, journal, phone record keys), [`recordings`]
//! (metadata, audio, downloads, hold), [`evidence`] (the signed chain, who listened), [`review`]
//! (peaks, comments, shares), [`scorecards`] (scorecards, reviews, score summaries) and
//! [`admin`] (settings, dispatch, audit, storage, health). This file owns the client itself:
//! base URL, token and the request/response plumbing every method shares.

pub mod admin;
pub mod calls;
pub mod directory;
pub mod error;
pub mod evidence;
pub mod recordings;
pub mod review;
pub mod scorecards;
pub mod sse;
pub mod transcripts;

pub use calls::JournalQuery;
pub use error::ClientError;
pub use recordings::{AudioFormat, DownloadReport};
pub use scorecards::ScoresQuery;
pub use sse::{EventStream, SseFrame, SseParser};

pub use reqwest::{Method, StatusCode, Url};

use serde::de::DeserializeOwned;
use serde::Serialize;
use std::time::Duration;

/// The result of every client method.
pub type Result<T, E = ClientError> = std::result::Result<T, E>;

/// A connection to one callrec server, optionally logged in. Cheap to clone (the connection
/// pool is shared); each clone carries its own token, so tests can hold one client per user.
#[derive(Clone)]
pub struct Client {
    /// Always `http(s)`, without query or fragment; its path (usually `/`) is the prefix
    /// every route is appended to.
    base: Url,
    http: reqwest::Client,
    token: Option<String>,
    /// The limit for one plain JSON request (see [`Client::with_request_timeout`]).
    request_timeout: Option<Duration>,
}

/// How long a plain JSON request may take by default, from connecting to the last byte of
/// the answer. Streams (events, audio, downloads, uploads) have none: they run for long.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// How long `GET /healthz` may take: a server that accepts connections and never answers
/// must not leave "Connecting…" on screen for minutes.
pub const HEALTH_TIMEOUT: Duration = Duration::from_secs(10);

/// How long establishing a TCP (and TLS) connection may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base", &self.base.as_str())
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl Client {
    /// A client for the server at `base_url` (`http://127.0.0.1:8080`; a path prefix such
    /// as `https://host/callrec/` is kept). Not logged in.
    pub fn new(base_url: &str) -> Result<Client> {
        // No overall timeout here: event streams and downloads legitimately run for long. The
        // plain JSON requests get theirs per request ([`REQUEST_TIMEOUT`]).
        let http = reqwest::Client::builder().connect_timeout(CONNECT_TIMEOUT).build()?;
        Self::with_http_client(base_url, http)
    }

    /// Like [`Client::new`] with a caller-configured `reqwest::Client` (timeouts, proxies,
    /// TLS roots).
    pub fn with_http_client(base_url: &str, http: reqwest::Client) -> Result<Client> {
        let invalid = |reason: &str| ClientError::InvalidUrl {
            url: base_url.to_string(),
            reason: reason.to_string(),
        };
        let mut base = Url::parse(base_url).map_err(|e| invalid(&e.to_string()))?;
        if !matches!(base.scheme(), "http" | "https") || base.cannot_be_a_base() {
            return Err(invalid("expected an http:// or https:// URL"));
        }
        if base.host_str().is_none_or(str::is_empty) {
            return Err(invalid("the URL has no host"));
        }
        base.set_query(None);
        base.set_fragment(None);
        let path = base.path().trim_end_matches('/').to_string();
        base.set_path(&path);
        Ok(Client {
            base,
            http,
            token: None,
            request_timeout: Some(REQUEST_TIMEOUT),
        })
    }

    /// The same client with another limit for plain JSON requests (`None`: wait forever).
    /// Event streams, audio, downloads and uploads are never limited as a whole.
    pub fn with_request_timeout(mut self, timeout: Option<Duration>) -> Client {
        self.request_timeout = timeout;
        self
    }

    /// The plain-request timeout, capped at `cap`.
    pub(crate) fn request_timeout_or(&self, cap: Duration) -> Duration {
        self.request_timeout.map_or(cap, |t| t.min(cap))
    }

    /// `builder` with the plain-request timeout, if one is set.
    pub(crate) fn limited(&self, builder: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match self.request_timeout {
            Some(t) => builder.timeout(t),
            None => builder,
        }
    }

    /// The same client carrying `token` as its bearer token.
    pub fn with_token(mut self, token: impl Into<String>) -> Client {
        self.token = Some(token.into());
        self
    }

    /// The session token in use, if logged in.
    pub fn token(&self) -> Option<&str> {
        self.token.as_deref()
    }

    /// Replaces (or with `None` forgets) the session token.
    pub fn set_token(&mut self, token: Option<String>) {
        self.token = token;
    }

    /// The base URL as given (normalised, without a trailing slash).
    pub fn base_url(&self) -> &Url {
        &self.base
    }

    /// The underlying `reqwest::Client`.
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// An escape hatch for tests of bad input: a request to `path` (appended verbatim to the
    /// base URL, query included, e.g. `/api/v1/calls/abc`) with the token attached. Send it
    /// yourself and inspect the raw response; [`ClientError::from_response`] decodes errors.
    pub fn raw(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        let base = self.base.as_str().trim_end_matches('/');
        self.authed(self.http.request(method, format!("{base}{path}")))
    }

    /// The URL of a route: `path` (starting with `/`) appended to the base path. Callers pass
    /// fixed paths with integer ids only; anything chosen by a user goes through
    /// [`Client::url_segments`], which percent-encodes.
    pub(crate) fn url(&self, path: &str) -> Url {
        let mut url = self.base.clone();
        let joined = format!("{}{}", self.base.path().trim_end_matches('/'), path);
        url.set_path(&joined);
        url
    }

    /// The URL of a route made of segments, each percent-encoded as one path segment.
    pub(crate) fn url_segments(&self, segments: &[&str]) -> Result<Url> {
        let mut url = self.base.clone();
        url.path_segments_mut()
            .map_err(|()| ClientError::InvalidUrl {
                url: self.base.to_string(),
                reason: "cannot append path segments".to_string(),
            })?
            .pop_if_empty()
            .extend(segments);
        Ok(url)
    }

    fn authed(&self, builder: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.token {
            Some(token) => builder.bearer_auth(token),
            None => builder,
        }
    }

    /// A request to `url` with the session token attached.
    pub(crate) fn request(&self, method: Method, url: Url) -> reqwest::RequestBuilder {
        self.authed(self.http.request(method, url))
    }

    /// A request to `url` without any token (phone endpoints, health, metrics).
    pub(crate) fn anonymous(&self, method: Method, url: Url) -> reqwest::RequestBuilder {
        self.http.request(method, url)
    }

    /// `GET path` → JSON.
    pub(crate) async fn get_json<T: DeserializeOwned>(&self, path: &str) -> Result<T> {
        self.send_json(self.limited(self.request(Method::GET, self.url(path))))
            .await
    }

    /// `method path` with a JSON body → JSON.
    pub(crate) async fn send_body<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: &B,
    ) -> Result<T> {
        let bytes = serde_json::to_vec(body).map_err(ClientError::Encode)?;
        let builder = self
            .request(method, self.url(path))
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(bytes);
        self.send_json(self.limited(builder)).await
    }

    /// `DELETE path` → nothing.
    pub(crate) async fn delete_path(&self, path: &str) -> Result<()> {
        self.send_empty(self.limited(self.request(Method::DELETE, self.url(path))))
            .await
    }

    /// Sends and decodes a 2xx JSON body; an empty body (204) decodes as JSON `null`, so
    /// `()`, `Option<T>` and `serde_json::Value` accept it.
    pub(crate) async fn send_json<T: DeserializeOwned>(&self, builder: reqwest::RequestBuilder) -> Result<T> {
        let response = check(builder.send().await?).await?;
        let status = response.status().as_u16();
        let body = response.bytes().await?;
        let text: &[u8] = if body.iter().all(u8::is_ascii_whitespace) {
            b"null"
        } else {
            &body
        };
        serde_json::from_slice(text).map_err(|e| ClientError::decode(status, e, &body))
    }

    /// Sends and accepts any 2xx, ignoring its body.
    pub(crate) async fn send_empty(&self, builder: reqwest::RequestBuilder) -> Result<()> {
        check(builder.send().await?).await?;
        Ok(())
    }
}

/// Passes a 2xx response through and turns anything else into [`ClientError::Api`].
pub async fn check(response: reqwest::Response) -> Result<reqwest::Response> {
    if response.status().is_success() {
        Ok(response)
    } else {
        Err(ClientError::from_response(response).await)
    }
}

#[cfg(test)]
pub(crate) mod test_server;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_are_normalised_and_bad_ones_refused() {
        let c = Client::new("http://127.0.0.1:8080/").expect("a plain base URL is fine");
        assert_eq!(c.url("/api/v1/rules").as_str(), "http://127.0.0.1:8080/api/v1/rules");
        let c = Client::new("https://host/callrec/?x=1#f").expect("a prefixed base URL is fine");
        assert_eq!(
            c.url("/api/v1/me").as_str(),
            "https://host/callrec/api/v1/me",
            "the path prefix is kept, query and fragment dropped"
        );
        for bad in ["", "127.0.0.1:8080", "ftp://host/", "mailto:a@b", "http://"] {
            assert!(
                matches!(Client::new(bad), Err(ClientError::InvalidUrl { .. })),
                "{bad:?} must be refused"
            );
        }
    }

    #[test]
    fn user_chosen_segments_are_percent_encoded() {
        let c = Client::new("http://h:1").expect("valid");
        let url = c
            .url_segments(&["provisioning", "../a b?", "pui"])
            .expect("segments append");
        assert_eq!(url.as_str(), "http://h:1/provisioning/..%2Fa%20b%3F/pui");
    }

    #[test]
    fn the_token_is_redacted_in_debug() {
        let c = Client::new("http://h:1").expect("valid").with_token("secret");
        assert_eq!(c.token(), Some("secret"));
        assert!(!format!("{c:?}").contains("secret"), "Debug must not show the token");
    }
}
