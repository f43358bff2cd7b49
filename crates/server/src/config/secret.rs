//! [`Secret`]: a password or token that prints as `<redacted>` and compares in constant time.

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::tests::{load_with, message, parse_file};
    use crate::config::ServeArgs;

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
