//! The `Range` header (RFC 9110 §14): parsing `bytes=` range sets, resolving them against
//! the representation's length into the ranges to send (or 200, or 416), and the
//! `Content-Range` value of each.

use std::ops::Range;

use http::{header, HeaderMap};

/// The most ranges one `Range` header may ask for; more are answered with 416.
pub const MAX_RANGES: usize = 16;

/// The outcome of a `Range` header for a representation of known length.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum RangeRequest {
    /// No usable `Range`: send everything with 200.
    Full,
    /// 416 with `Content-Range: bytes */len`.
    Unsatisfiable,
    /// 206 with these half-open byte ranges, in request order, all within the length.
    Ranges(Vec<Range<u64>>),
}

/// One `range-spec` of RFC 9110 §14.1.1, before the length is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RangeSpec {
    /// `first-` or `first-last` (inclusive).
    From { first: u64, last: Option<u64> },
    /// `-n`: the last `n` bytes.
    Suffix(u64),
}

/// Why a `Range` value is not used as ranges.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RangeSyntax {
    /// Not `bytes=` followed by valid specs: ignore the header.
    Malformed,
    /// More than [`MAX_RANGES`] specs: refuse with 416.
    TooMany,
}

/// Parses `bytes=spec, spec, …` (unit case-insensitive, OWS around list elements, empty
/// elements skipped as RFC 9110 §5.6.1 asks).
fn parse_range_specs(value: &str) -> Result<Vec<RangeSpec>, RangeSyntax> {
    let (unit, set) = value.trim().split_once('=').ok_or(RangeSyntax::Malformed)?;
    if !unit.eq_ignore_ascii_case("bytes") {
        return Err(RangeSyntax::Malformed);
    }
    // Digits only: u64::from_str would accept a leading '+'.
    let number = |s: &str| -> Result<u64, RangeSyntax> {
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(RangeSyntax::Malformed);
        }
        s.parse().map_err(|_| RangeSyntax::Malformed)
    };
    let mut specs = Vec::new();
    for element in set.split(',').map(|e| e.trim_matches([' ', '\t'])) {
        if element.is_empty() {
            continue;
        }
        if specs.len() == MAX_RANGES {
            return Err(RangeSyntax::TooMany);
        }
        let (first, last) = element.split_once('-').ok_or(RangeSyntax::Malformed)?;
        let spec = if first.is_empty() {
            RangeSpec::Suffix(number(last)?)
        } else {
            let first = number(first)?;
            let last = if last.is_empty() { None } else { Some(number(last)?) };
            if last.is_some_and(|l| l < first) {
                return Err(RangeSyntax::Malformed);
            }
            RangeSpec::From { first, last }
        };
        specs.push(spec);
    }
    if specs.is_empty() {
        return Err(RangeSyntax::Malformed);
    }
    Ok(specs)
}

/// Resolves specs against a length: drops unsatisfiable ones (RFC 9110 §14.1.1), clamps
/// the rest, and answers 200 when honouring them would send more than the whole file.
fn resolve_ranges(specs: &[RangeSpec], len: u64) -> RangeRequest {
    if len == 0 {
        // RFC 9110 §14.2: a server MAY ignore Range for an empty representation.
        return RangeRequest::Full;
    }
    let ranges: Vec<Range<u64>> = specs
        .iter()
        .filter_map(|spec| match *spec {
            RangeSpec::From { first, .. } if first >= len => None,
            RangeSpec::From { first, last } => Some(first..last.map_or(len, |l| l.saturating_add(1).min(len))),
            RangeSpec::Suffix(0) => None,
            RangeSpec::Suffix(n) => Some(len.saturating_sub(n)..len),
        })
        .collect();
    if ranges.is_empty() {
        return RangeRequest::Unsatisfiable;
    }
    let total = ranges.iter().try_fold(0u64, |acc, r| acc.checked_add(r.end - r.start));
    if ranges.len() > 1 && total.is_none_or(|t| t > len) {
        return RangeRequest::Full;
    }
    RangeRequest::Ranges(ranges)
}

pub(super) fn requested_ranges(headers: &HeaderMap, len: u64) -> RangeRequest {
    let mut values = headers.get_all(header::RANGE).iter();
    let (Some(value), None) = (values.next(), values.next()) else {
        return RangeRequest::Full;
    };
    let Ok(value) = value.to_str() else {
        return RangeRequest::Full;
    };
    match parse_range_specs(value) {
        Ok(specs) => resolve_ranges(&specs, len),
        Err(RangeSyntax::Malformed) => RangeRequest::Full,
        Err(RangeSyntax::TooMany) => RangeRequest::Unsatisfiable,
    }
}

pub(super) fn content_range(range: &Range<u64>, len: u64) -> String {
    format!("bytes {}-{}/{len}", range.start, range.end - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn specs(v: &str) -> Result<Vec<RangeSpec>, RangeSyntax> {
        parse_range_specs(v)
    }

    fn one(range: Range<u64>) -> RangeRequest {
        RangeRequest::Ranges(vec![range])
    }

    fn ranges(v: &str, len: u64) -> RangeRequest {
        match parse_range_specs(v) {
            Ok(s) => resolve_ranges(&s, len),
            Err(RangeSyntax::Malformed) => RangeRequest::Full,
            Err(RangeSyntax::TooMany) => RangeRequest::Unsatisfiable,
        }
    }

    #[test]
    fn single_ranges_resolve_to_half_open_byte_ranges() {
        assert_eq!(ranges("bytes=0-9", 100), one(0..10), "first-last");
        assert_eq!(ranges("bytes=90-", 100), one(90..100), "open end");
        assert_eq!(ranges("bytes=-10", 100), one(90..100), "suffix");
        assert_eq!(ranges("bytes=-500", 100), one(0..100), "long suffix is all");
        assert_eq!(ranges("bytes=50-500", 100), one(50..100), "last clamped");
        assert_eq!(ranges("bytes=99-99", 100), one(99..100), "last byte");
        assert_eq!(ranges("BYTES=0-0", 100), one(0..1), "unit case-insensitive");
        assert_eq!(ranges("bytes=0-18446744073709551615", 10), one(0..10), "u64::MAX last");
    }

    #[test]
    fn unsatisfiable_ranges_give_416() {
        assert_eq!(
            ranges("bytes=100-", 100),
            RangeRequest::Unsatisfiable,
            "start at length"
        );
        assert_eq!(
            ranges("bytes=200-300", 100),
            RangeRequest::Unsatisfiable,
            "past the end"
        );
        assert_eq!(ranges("bytes=-0", 100), RangeRequest::Unsatisfiable, "empty suffix");
        assert_eq!(
            ranges("bytes=0-1,200-300", 100),
            one(0..2),
            "one satisfiable range is enough"
        );
        assert_eq!(ranges("bytes=0-1", 0), RangeRequest::Full, "empty file ignores Range");
    }

    #[test]
    fn malformed_ranges_are_ignored() {
        for bad in [
            "bytes=5-2",
            "bytes=",
            "bytes=,",
            "bytes",
            "items=0-1",
            "bytes=a-b",
            "bytes=+1-2",
            "bytes=1-+2",
            "bytes=--1",
            "bytes=1",
            "bytes=0-1;2-3",
            "bytes=1 -2",
            "bytes=99999999999999999999-",
            "bytes=0-99999999999999999999",
            "bytes=-99999999999999999999",
            "bytes=0-1,5-2",
        ] {
            assert_eq!(specs(bad).err(), Some(RangeSyntax::Malformed), "{bad:?} is malformed");
            assert_eq!(ranges(bad, 100), RangeRequest::Full, "{bad:?} is ignored");
        }
    }

    #[test]
    fn whitespace_and_empty_list_elements_are_tolerated() {
        assert_eq!(
            ranges(" bytes= 0-1 ,\t, 4-5 , ", 100),
            RangeRequest::Ranges(vec![0..2, 4..6]),
            "OWS around elements and empty elements"
        );
    }

    #[test]
    fn at_most_sixteen_ranges() {
        let sixteen: Vec<String> = (0..16).map(|i| format!("{i}-{i}")).collect();
        let want: Vec<Range<u64>> = (0..16).map(|i| i..i + 1).collect();
        assert_eq!(
            ranges(&format!("bytes={}", sixteen.join(",")), 100),
            RangeRequest::Ranges(want),
            "16 ok"
        );
        let seventeen = format!("bytes={},16-16", sixteen.join(","));
        assert_eq!(specs(&seventeen).err(), Some(RangeSyntax::TooMany), "17 too many");
        assert_eq!(
            ranges(&seventeen, 100),
            RangeRequest::Unsatisfiable,
            "17 refused with 416"
        );
        let many = format!("bytes={}", vec!["0-0"; 10_000].join(","));
        assert_eq!(specs(&many).err(), Some(RangeSyntax::TooMany), "parsing stops early");
    }

    #[test]
    fn overlapping_ranges_larger_than_the_file_are_ignored() {
        assert_eq!(ranges("bytes=0-,0-", 100), RangeRequest::Full, "the file twice");
        assert_eq!(
            ranges("bytes=0-49,25-74", 100),
            RangeRequest::Ranges(vec![0..50, 25..75]),
            "small overlap kept"
        );
        assert_eq!(ranges("bytes=-100", 100), one(0..100), "single whole range");
    }
}
