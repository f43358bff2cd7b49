//! [`Secret`]: a password or token that prints as `<redacted>` and compares in constant time;
//! [`DatabaseUrl`]: a database URL that prints without its password.

use std::fmt;

use serde::Deserialize;

/// A secret value (password, token): `Debug` and `Display` print `<redacted>`.
///
/// `==` compares in time independent of where the values differ, so comparing a presented
/// token against a configured one does not leak its prefix.
#[derive(Clone, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The secret itself; call sites that use it are easy to find.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl PartialEq for Secret {
    fn eq(&self, other: &Secret) -> bool {
        let (a, b) = (self.0.as_bytes(), other.0.as_bytes());
        a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }
}

impl Eq for Secret {}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// The database URL (`sqlite:…`, `postgres://user:password@host/db`): `Debug` and `Display`
/// print it with the password — of the user part or a `password=` parameter — replaced by
/// `<redacted>`, so logging the configuration never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl(String);

impl DatabaseUrl {
    /// Wraps a URL.
    pub fn new(value: impl Into<String>) -> DatabaseUrl {
        DatabaseUrl(value.into())
    }

    /// The URL itself, password included: for opening the database only.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The URL with any password replaced by `<redacted>`.
    pub fn redacted(&self) -> String {
        let url = &self.0;
        let mut out = match url.split_once("://") {
            Some((scheme, rest)) => match rest.rsplit_once('@') {
                Some((userinfo, host)) => match userinfo.split_once(':') {
                    Some((user, _)) => format!("{scheme}://{user}:<redacted>@{host}"),
                    None => url.clone(),
                },
                None => url.clone(),
            },
            None => url.clone(),
        };
        if let Some((base, query)) = out.split_once('?') {
            let query: Vec<String> = query
                .split('&')
                .map(|kv| match kv.split_once('=') {
                    Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=<redacted>"),
                    _ => kv.to_owned(),
                })
                .collect();
            out = format!("{base}?{}", query.join("&"));
        }
        out
    }
}

impl From<&str> for DatabaseUrl {
    fn from(value: &str) -> DatabaseUrl {
        DatabaseUrl::new(value)
    }
}

impl From<String> for DatabaseUrl {
    fn from(value: String) -> DatabaseUrl {
        DatabaseUrl(value)
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.redacted())
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::tests::{load_with, message, parse_file};
    use crate::config::ServeArgs;

    #[test]
    fn database_passwords_are_redacted() {
        let url = DatabaseUrl::from("postgres://callrec:s3cret@db.example:5432/callrec?sslmode=require");
        assert_eq!(
            format!("{url:?} {url}"),
            "\"postgres://callrec:<redacted>@db.example:5432/callrec?sslmode=require\" \
             postgres://callrec:<redacted>@db.example:5432/callrec?sslmode=require"
        );
        let url = DatabaseUrl::from("postgresql://db/callrec?user=u&password=s3cret");
        assert_eq!(url.to_string(), "postgresql://db/callrec?user=u&password=<redacted>");
        let url = DatabaseUrl::from("sqlite:///srv/callrec.db?mode=rwc");
        assert_eq!(url.to_string(), "sqlite:///srv/callrec.db?mode=rwc", "nothing to hide");
        let config = crate::config::Config {
            database_url: Some("postgres://u:s3cret@h/db".into()),
            ..crate::config::Config::default()
        };
        assert!(
            !format!("{config:?}").contains("s3cret"),
            "the logged configuration hides it"
        );
        assert_eq!(
            config.database_url(),
            "postgres://u:s3cret@h/db",
            "what opens the database keeps it"
        );
    }

    #[test]
    fn secrets_are_redacted_and_compared_whole() {
        let c = load_with(
            &ServeArgs::default(),
            &[
                ("CALLREC_INGEST_TOKEN", "tok-123"),
                ("CALLREC_BOOTSTRAP_ADMIN_PASSWORD", "pw-456"),
            ],
        )
        .expect("loads");
        let debug = format!("{c:?}");
        assert!(
            !debug.contains("tok-123") && !debug.contains("pw-456"),
            "redacted: {debug}"
        );
        assert!(debug.contains("<redacted>"), "marker shown");
        assert_eq!(c.ingest_token.as_ref().map(Secret::expose), Some("tok-123"), "exposed");
        assert_eq!(Secret::new("ab"), Secret::new("ab"), "equal");
        assert_ne!(Secret::new("ab"), Secret::new("ac"), "differ in last byte");
        assert_ne!(Secret::new("ab"), Secret::new("abc"), "differ in length");
        let e = message(parse_file("ingest_token = \"  \""));
        assert_eq!(
            e,
            "callrec.toml: ingest_token: is empty; leave the key out to keep it unset"
        );
    }
}
