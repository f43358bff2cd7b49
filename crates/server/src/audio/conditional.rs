//! Conditional requests (RFC 9110 §13): entity tags, `If-Match`, `If-None-Match`,
//! `If-Modified-Since`, `If-Unmodified-Since`, `If-Range`, and the HTTP dates they carry.

use std::time::SystemTime;

use chrono::{DateTime, NaiveDateTime, Utc};
use http::{header, HeaderMap, HeaderName};

use super::representation::{ETag, Representation};

/// One entity tag from a request header.
#[derive(Debug, PartialEq, Eq)]
struct RequestTag<'a> {
    weak: bool,
    opaque: &'a str,
}

/// The tags of an `If-Match` / `If-None-Match` value: `None` for `*`, `Some(tags)`
/// otherwise; a malformed list yields the tags before the error (RFC 9110 §8.8.3).
fn parse_etag_list(value: &str) -> Option<Vec<RequestTag<'_>>> {
    if value.trim() == "*" {
        return None;
    }
    let mut tags = Vec::new();
    let mut rest = value;
    loop {
        rest = rest.trim_start_matches([' ', '\t', ',']);
        if rest.is_empty() {
            break;
        }
        let weak = rest.starts_with("W/");
        if weak {
            rest = &rest[2..];
        }
        let Some(body) = rest.strip_prefix('"') else { break };
        let Some(end) = body.find('"') else { break };
        tags.push(RequestTag {
            weak,
            opaque: &body[..end],
        });
        rest = &body[end + 1..];
    }
    Some(tags)
}

/// Whether any of the header's lines lists `etag` (weak comparison when `weak_ok`).
fn etag_list_matches(values: &[&str], etag: &ETag, weak_ok: bool) -> bool {
    values.iter().any(|v| match parse_etag_list(v) {
        None => true,
        Some(tags) => tags.iter().any(|t| t.opaque == etag.0 && (weak_ok || !t.weak)),
    })
}

#[derive(Debug, PartialEq, Eq)]
pub(super) enum Precondition {
    Proceed,
    NotModified,
    Failed,
}

/// RFC 9110 §13.2.2, steps 1 to 4 (the order matters: If-Match before If-None-Match, and
/// a date is only consulted when no tag header is present).
pub(super) fn preconditions(headers: &HeaderMap, rep: &Representation) -> Precondition {
    let lines = |name: HeaderName| -> Option<Vec<&str>> {
        let v: Vec<&str> = headers.get_all(name).iter().filter_map(|v| v.to_str().ok()).collect();
        (!v.is_empty()).then_some(v)
    };
    let date = |name: HeaderName| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_http_date)
    };
    if let Some(values) = lines(header::IF_MATCH) {
        if !etag_list_matches(&values, &rep.etag, false) {
            return Precondition::Failed;
        }
    } else if let (Some(since), Some(lm)) = (date(header::IF_UNMODIFIED_SINCE), rep.last_modified) {
        if whole_seconds(lm) > since {
            return Precondition::Failed;
        }
    }
    if let Some(values) = lines(header::IF_NONE_MATCH) {
        if etag_list_matches(&values, &rep.etag, true) {
            return Precondition::NotModified;
        }
    } else if let (true, Some(since), Some(lm)) = (rep.finished, date(header::IF_MODIFIED_SINCE), rep.last_modified) {
        if whole_seconds(lm) <= since {
            return Precondition::NotModified;
        }
    }
    Precondition::Proceed
}

/// RFC 9110 §13.1.5: a Range applies only if `If-Range` is absent or names the current
/// representation (a strong tag match, or exactly its `Last-Modified` date once finished).
pub(super) fn if_range_allows(headers: &HeaderMap, rep: &Representation) -> bool {
    let mut values = headers.get_all(header::IF_RANGE).iter();
    let Some(value) = values.next() else { return true };
    if values.next().is_some() {
        return false;
    }
    let Ok(value) = value.to_str() else { return false };
    let value = value.trim();
    if value.starts_with('"') || value.starts_with("W/") {
        return matches!(
            parse_etag_list(value).as_deref(),
            Some([RequestTag { weak: false, opaque }]) if *opaque == rep.etag.0
        );
    }
    // A date is a weak validator for a file that may still change within its second
    // (RFC 9110 §8.8.2.2), so it only matches once the recording is finished.
    match (rep.finished, parse_http_date(value), rep.last_modified) {
        (true, Some(date), Some(lm)) => whole_seconds(lm) == date,
        _ => false,
    }
}

fn whole_seconds(t: SystemTime) -> i64 {
    DateTime::<Utc>::from(t).timestamp()
}

/// IMF-fixdate (RFC 9110 §5.6.7).
pub(super) fn http_date(t: SystemTime) -> String {
    DateTime::<Utc>::from(t).format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

/// Seconds since the epoch of an HTTP-date in any of the three formats RFC 9110 §5.6.7
/// obliges recipients to accept.
fn parse_http_date(s: &str) -> Option<i64> {
    let s = s.trim();
    [
        "%a, %d %b %Y %H:%M:%S GMT",
        "%A, %d-%b-%y %H:%M:%S GMT",
        "%a %b %e %H:%M:%S %Y",
    ]
    .iter()
    .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
    .map(|t| t.and_utc().timestamp())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audio::tests::headers;
    use http::HeaderMap;
    use std::time::{Duration, UNIX_EPOCH};

    fn rep(etag: &str, lm_secs: u64, finished: bool) -> Representation {
        Representation {
            len: 10,
            transcoder: None,
            etag: ETag(etag.into()),
            last_modified: Some(UNIX_EPOCH + Duration::from_secs(lm_secs)),
            finished,
        }
    }

    const T: u64 = 784_111_777; // Sun, 06 Nov 1994 08:49:37 GMT

    #[test]
    fn http_dates_round_trip_in_all_three_formats() {
        let t = UNIX_EPOCH + Duration::from_secs(T);
        assert_eq!(http_date(t), "Sun, 06 Nov 1994 08:49:37 GMT");
        for s in [
            "Sun, 06 Nov 1994 08:49:37 GMT",
            "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun Nov  6 08:49:37 1994",
        ] {
            assert_eq!(parse_http_date(s), Some(T as i64), "{s}");
        }
        assert_eq!(parse_http_date("yesterday"), None, "garbage");
    }

    #[test]
    fn if_none_match_uses_weak_comparison_and_star() {
        let r = rep("abc-orig", T, true);
        let check = |v: &str| preconditions(&headers(&[(header::IF_NONE_MATCH, v)]), &r);
        assert_eq!(check("\"abc-orig\""), Precondition::NotModified, "exact");
        assert_eq!(check("W/\"abc-orig\""), Precondition::NotModified, "weak matches too");
        assert_eq!(check("\"x\", \"abc-orig\""), Precondition::NotModified, "in a list");
        assert_eq!(check("*"), Precondition::NotModified, "star");
        assert_eq!(check("\"abc-pcm16v1\""), Precondition::Proceed, "other rendition");
        assert_eq!(check("abc-orig"), Precondition::Proceed, "unquoted is malformed");
        let both = headers(&[
            (header::IF_NONE_MATCH, "\"other\""),
            (header::IF_MODIFIED_SINCE, "Sun, 06 Nov 1994 08:49:37 GMT"),
        ]);
        assert_eq!(
            preconditions(&both, &r),
            Precondition::Proceed,
            "If-None-Match overrides the date"
        );
    }

    #[test]
    fn if_modified_since_only_for_finished_recordings() {
        let ims = headers(&[(header::IF_MODIFIED_SINCE, "Sun, 06 Nov 1994 08:49:37 GMT")]);
        assert_eq!(
            preconditions(&ims, &rep("t", T, true)),
            Precondition::NotModified,
            "same second"
        );
        assert_eq!(
            preconditions(&ims, &rep("t", T + 1, true)),
            Precondition::Proceed,
            "newer"
        );
        assert_eq!(
            preconditions(&ims, &rep("t", T, false)),
            Precondition::Proceed,
            "in progress"
        );
    }

    #[test]
    fn if_match_uses_strong_comparison() {
        let r = rep("abc", T, true);
        let check = |v: &str| preconditions(&headers(&[(header::IF_MATCH, v)]), &r);
        assert_eq!(check("\"abc\""), Precondition::Proceed, "strong match");
        assert_eq!(check("W/\"abc\""), Precondition::Failed, "weak never matches");
        assert_eq!(check("*"), Precondition::Proceed, "star");
        assert_eq!(check("\"zzz\""), Precondition::Failed, "other");
        let ius = headers(&[(header::IF_UNMODIFIED_SINCE, "Sun, 06 Nov 1994 08:49:36 GMT")]);
        assert_eq!(preconditions(&ius, &r), Precondition::Failed, "modified since");
    }

    #[test]
    fn if_range_needs_a_strong_tag_or_the_exact_date() {
        let r = rep("abc", T, true);
        let check = |v: &str| if_range_allows(&headers(&[(header::IF_RANGE, v)]), &r);
        assert!(if_range_allows(&HeaderMap::new(), &r), "absent");
        assert!(check("\"abc\""), "same tag");
        assert!(!check("W/\"abc\""), "weak tag");
        assert!(!check("\"old\""), "other tag");
        assert!(!check("\"abc\", \"x\""), "a list is not an If-Range value");
        assert!(check("Sun, 06 Nov 1994 08:49:37 GMT"), "same date");
        assert!(!check("Sun, 06 Nov 1994 08:49:38 GMT"), "later date");
        assert!(!check("Sun, 06 Nov 1994 08:49:36 GMT"), "earlier date");
        assert!(!check("garbage"), "garbage");
        let unfinished = rep("abc", T, false);
        let date = headers(&[(header::IF_RANGE, "Sun, 06 Nov 1994 08:49:37 GMT")]);
        assert!(
            !if_range_allows(&date, &unfinished),
            "a date cannot validate a growing file"
        );
    }
}
