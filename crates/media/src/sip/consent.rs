//! `X-Callrec-Consent` (issue #11.2): the caller's consent to recording as an IVR or the PBX
//! learnt it ("press 1 to allow recording"), on the initial INVITE or a re-INVITE.
//!
//! ```text
//! X-Callrec-Consent: granted
//! X-Callrec-Consent: refused;by="IVR main menu"
//! ```
//!
//! The value is one of `unknown`, `announced`, `granted`, `refused` (case-insensitive),
//! optionally followed by generic parameters (RFC 3261 §25.1 `generic-param`): `by` names who
//! asked, other parameters are ignored. The header appears at most once; its value is at
//! most [`MAX_VALUE`] bytes and `by` at most [`MAX_BY`] characters of printable text.

use super::{Message, Params};

/// The header's name.
pub const HEADER: &str = "X-Callrec-Consent";
/// The longest value accepted, parameters included.
pub const MAX_VALUE: usize = 256;
/// The longest `by` accepted, in characters.
pub const MAX_BY: usize = 64;

/// The caller's consent as the header states it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Consent {
    Unknown,
    Announced,
    Granted,
    Refused,
}

/// A valid `X-Callrec-Consent`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentHeader {
    pub consent: Consent,
    /// Who asked (the `by` parameter), unquoted.
    pub by: Option<String>,
}

/// Why an `X-Callrec-Consent` was refused; the text goes into the 400's `Warning`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConsentError {
    #[error("X-Callrec-Consent appears more than once")]
    Repeated,
    #[error("X-Callrec-Consent is longer than {MAX_VALUE} bytes")]
    TooLong,
    #[error("X-Callrec-Consent must be unknown, announced, granted or refused")]
    BadValue,
    #[error("the by parameter of X-Callrec-Consent must be 1 to {MAX_BY} printable characters")]
    BadBy,
}

/// The consent a request states: `None` without the header.
pub fn consent(request: &Message) -> Result<Option<ConsentHeader>, ConsentError> {
    let mut values = request.headers.get_all(HEADER);
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(ConsentError::Repeated);
    }
    parse(value).map(Some)
}

/// Parses one header value.
pub fn parse(value: &str) -> Result<ConsentHeader, ConsentError> {
    if value.len() > MAX_VALUE {
        return Err(ConsentError::TooLong);
    }
    let (word, params) = match value.split_once(';') {
        Some((w, p)) => (w, Some(p)),
        None => (value, None),
    };
    let consent = match word.trim().to_ascii_lowercase().as_str() {
        "unknown" => Consent::Unknown,
        "announced" => Consent::Announced,
        "granted" => Consent::Granted,
        "refused" => Consent::Refused,
        _ => return Err(ConsentError::BadValue),
    };
    let by = match params.map(Params::parse) {
        Some(p) if p.has("by") => {
            let raw = p.get("by").ok_or(ConsentError::BadBy)?;
            let text = unquote(raw);
            if text.is_empty() || text.chars().count() > MAX_BY || text.chars().any(char::is_control) {
                return Err(ConsentError::BadBy);
            }
            Some(text)
        }
        _ => None,
    };
    Ok(ConsentHeader { consent, by })
}

/// `"a \"b\""` → `a "b"`; a token stays as it is.
fn unquote(s: &str) -> String {
    let Some(inner) = s.strip_prefix('"').and_then(|s| s.strip_suffix('"')) else {
        return s.to_owned();
    };
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(n) = chars.next() {
                out.push(n);
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::{parse_datagram, Limits};

    fn invite(extra: &str) -> Message {
        let text = format!(
            "INVITE sip:rec@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK1\r\n\
             From: <sip:src@example.com>;tag=a\r\nTo: <sip:rec@example.com>\r\nCall-ID: c1\r\n\
             CSeq: 1 INVITE\r\n{extra}Content-Length: 0\r\n\r\n"
        );
        parse_datagram(text.as_bytes(), &Limits::DEFAULT).expect("a valid INVITE")
    }

    #[test]
    fn the_four_values_case_insensitively_with_who_asked() {
        assert_eq!(consent(&invite("")), Ok(None), "no header, no consent");
        let got = consent(&invite("X-Callrec-Consent: GRANTED\r\n")).expect("valid");
        assert_eq!(
            got,
            Some(ConsentHeader {
                consent: Consent::Granted,
                by: None
            })
        );
        let got = consent(&invite("x-callrec-consent: refused;by=\"IVR \\\"main\\\"\";x=1\r\n")).expect("valid");
        assert_eq!(
            got,
            Some(ConsentHeader {
                consent: Consent::Refused,
                by: Some("IVR \"main\"".into())
            })
        );
        assert_eq!(parse(" announced ").map(|h| h.consent), Ok(Consent::Announced));
        assert_eq!(parse("unknown;by=ivr").map(|h| h.by), Ok(Some("ivr".into())));
    }

    #[test]
    fn bad_values_are_refused_with_a_reason() {
        assert_eq!(parse("maybe"), Err(ConsentError::BadValue));
        assert_eq!(parse(""), Err(ConsentError::BadValue));
        assert_eq!(parse("granted;by="), Err(ConsentError::BadBy));
        assert_eq!(parse("granted;by"), Err(ConsentError::BadBy));
        assert_eq!(
            parse(&format!("granted;by={}", "x".repeat(MAX_BY + 1))),
            Err(ConsentError::BadBy)
        );
        assert_eq!(
            parse(&format!("granted;{}", "x".repeat(MAX_VALUE))),
            Err(ConsentError::TooLong)
        );
        assert_eq!(
            consent(&invite("X-Callrec-Consent: granted\r\nX-Callrec-Consent: refused\r\n")),
            Err(ConsentError::Repeated)
        );
        assert_eq!(
            ConsentError::BadValue.to_string(),
            "X-Callrec-Consent must be unknown, announced, granted or refused"
        );
    }
}
