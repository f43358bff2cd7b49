//! The values of the header fields a recorder reads: Via, From/To/Contact (name-addr),
//! CSeq, generic parameters, and comma-separated lists (RFC 3261 §7.3.1, §20, §25.1).

use std::fmt;

use super::Method;

/// Splits `s` at `sep` where it is outside a quoted string and outside `<…>`.
fn split_outside(s: &str, sep: u8) -> Vec<&str> {
    let bytes = s.as_bytes();
    let mut parts = Vec::new();
    let (mut quoted, mut escaped, mut angle) = (false, false, false);
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if quoted {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => quoted = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => quoted = true,
            b'<' => angle = true,
            b'>' => angle = false,
            _ if b == sep && !angle => {
                parts.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&s[start..]);
    parts
}

/// The index of the first `target` byte outside a quoted string.
fn find_unquoted(s: &str, target: u8) -> Option<usize> {
    let (mut quoted, mut escaped) = (false, false);
    for (i, &b) in s.as_bytes().iter().enumerate() {
        if quoted {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => quoted = false,
                _ => {}
            }
        } else if b == b'"' {
            quoted = true;
        } else if b == target {
            return Some(i);
        }
    }
    None
}

/// The items of a comma-separated header value (`Via: a, b`), trimmed, empty ones dropped
/// (§7.3.1: a list field is equivalent to one field per item).
pub fn split_list(value: &str) -> Vec<&str> {
    split_outside(value, b',')
        .into_iter()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect()
}

/// Generic parameters: `;name=value;flag` (§7.3.1 `generic-param`). Names compare
/// case-insensitively; values are kept as received.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params(Vec<(String, Option<String>)>);

impl Params {
    /// Parses the text after the first `;` of a header value (`tag=x;lr`).
    pub fn parse(s: &str) -> Params {
        Params(
            split_outside(s, b';')
                .into_iter()
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(|p| match p.split_once('=') {
                    Some((n, v)) => (n.trim().to_owned(), Some(v.trim().to_owned())),
                    None => (p.to_owned(), None),
                })
                .collect(),
        )
    }

    /// The value of `name`; `None` when absent or present without a value.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .and_then(|(_, v)| v.as_deref())
    }

    /// Whether `name` is present (with or without a value).
    pub fn has(&self, name: &str) -> bool {
        self.0.iter().any(|(n, _)| n.eq_ignore_ascii_case(name))
    }

    /// Adds a parameter at the end.
    pub fn push(&mut self, name: &str, value: Option<&str>) {
        self.0.push((name.to_owned(), value.map(str::to_owned)));
    }

    /// The parameters in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, Option<&str>)> {
        self.0.iter().map(|(n, v)| (n.as_str(), v.as_deref()))
    }
}

impl fmt::Display for Params {
    /// `;name=value;flag` (empty when there are none).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (n, v) in &self.0 {
            match v {
                Some(v) => write!(f, ";{n}={v}")?,
                None => write!(f, ";{n}")?,
            }
        }
        Ok(())
    }
}

/// One Via entry (§20.42): `SIP/2.0/UDP host:port;branch=z9hG4bK…`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Via {
    /// Transport (`UDP`, `TCP`, `TLS`, …) as received.
    pub transport: String,
    /// The sent-by host (an IPv6 reference keeps its brackets).
    pub host: String,
    /// The sent-by port, if given.
    pub port: Option<u16>,
    /// `branch`, `received`, `rport`, …
    pub params: Params,
}

impl Via {
    /// Parses one Via entry (not a list: see [`split_list`]).
    pub fn parse(s: &str) -> Option<Via> {
        // sent-protocol = "SIP" SLASH "2.0" SLASH transport, with optional LWS around slashes.
        let mut parts = s.trim().splitn(3, '/');
        let name = parts.next()?.trim();
        let version = parts.next()?.trim();
        if !name.eq_ignore_ascii_case("SIP") || version != "2.0" {
            return None;
        }
        let rest = parts.next()?.trim_start();
        let split = rest.find(|c: char| c.is_ascii_whitespace())?;
        let transport = &rest[..split];
        let (sent_by, params) = match rest[split..].trim_start().split_once(';') {
            Some((sb, p)) => (sb.trim(), Params::parse(p)),
            None => (rest[split..].trim(), Params::default()),
        };
        let (host, port) = split_host_port(sent_by)?;
        if transport.is_empty() || !transport.bytes().all(is_token_byte) {
            return None;
        }
        Some(Via {
            transport: transport.to_owned(),
            host: host.to_owned(),
            port,
            params,
        })
    }

    /// The branch parameter: the transaction id (§8.1.1.7, `z9hG4bK` prefix for RFC 3261).
    pub fn branch(&self) -> Option<&str> {
        self.params.get("branch")
    }
}

impl fmt::Display for Via {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SIP/2.0/{} {}", self.transport, self.host)?;
        if let Some(port) = self.port {
            write!(f, ":{port}")?;
        }
        write!(f, "{}", self.params)
    }
}

fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-.!%*_+`'~".contains(&b)
}

/// `host[:port]` with IPv6 references in brackets (§25.1 `hostport`).
fn split_host_port(s: &str) -> Option<(&str, Option<u16>)> {
    let (host, port) = if s.starts_with('[') {
        let end = s.find(']')?;
        let rest = &s[end + 1..];
        let port = match rest.strip_prefix(':') {
            Some(p) => Some(p),
            None if rest.is_empty() => None,
            None => return None,
        };
        (&s[..=end], port)
    } else {
        match s.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (s, None),
        }
    };
    if host.is_empty() || host.contains(|c: char| c.is_whitespace()) {
        return None;
    }
    let port = match port {
        Some(p) => Some(p.trim().parse::<u16>().ok()?),
        None => None,
    };
    Some((host, port))
}

/// A From, To or Contact value (§20.10, §20.20, §20.39): optional display name, URI, and
/// header parameters such as `tag`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameAddr {
    /// The display name without quotes, if any.
    pub display_name: Option<String>,
    /// The URI (`sip:alice@atlanta.example.com`).
    pub uri: String,
    /// Header parameters (after `>`, or after the URI when there are no brackets).
    pub params: Params,
}

impl NameAddr {
    /// Parses a name-addr (`"Alice" <sip:a@b>;tag=1`) or addr-spec (`sip:a@b;tag=1`).
    pub fn parse(s: &str) -> Option<NameAddr> {
        let s = s.trim();
        if let Some(lt) = find_unquoted(s, b'<') {
            // name-addr: display name before '<', URI up to '>', parameters after.
            let display = s[..lt].trim();
            let after_lt = &s[lt + 1..];
            let (uri, rest) = after_lt.split_once('>')?;
            let rest = rest.trim_start();
            let params = match rest.strip_prefix(';') {
                Some(p) => Params::parse(p),
                None if rest.is_empty() => Params::default(),
                None => return None,
            };
            let uri = uri.trim();
            if uri.is_empty() {
                return None;
            }
            Some(NameAddr {
                display_name: unquote(display),
                uri: uri.to_owned(),
                params,
            })
        } else {
            // addr-spec: parameters after the URI belong to the header (§20.10).
            let (uri, params) = match s.split_once(';') {
                Some((u, p)) => (u.trim(), Params::parse(p)),
                None => (s, Params::default()),
            };
            if uri.is_empty() || uri.contains(|c: char| c.is_whitespace()) {
                return None;
            }
            Some(NameAddr {
                display_name: None,
                uri: uri.to_owned(),
                params,
            })
        }
    }

    /// The `tag` parameter (§19.3).
    pub fn tag(&self) -> Option<&str> {
        self.params.get("tag")
    }

    /// The user part of a `sip:`/`sips:`/`tel:` URI (`201` of `sip:201@pbx`), if any.
    pub fn user(&self) -> Option<&str> {
        let rest = self
            .uri
            .strip_prefix("sip:")
            .or_else(|| self.uri.strip_prefix("sips:"))
            .or_else(|| self.uri.strip_prefix("tel:"))?;
        let user = match rest.split_once('@') {
            Some((u, _)) => u,
            None if self.uri.starts_with("tel:") => rest,
            None => return None,
        };
        let user = user.split([';', ':']).next().unwrap_or(user);
        (!user.is_empty()).then_some(user)
    }
}

impl fmt::Display for NameAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(name) = &self.display_name {
            let escaped = name.replace('\\', "\\\\").replace('"', "\\\"");
            write!(f, "\"{escaped}\" ")?;
        }
        write!(f, "<{}>{}", self.uri, self.params)
    }
}

/// A display name with its quotes and escapes removed; `None` when empty.
fn unquote(s: &str) -> Option<String> {
    let s = s.trim();
    let inner = match s.strip_prefix('"').and_then(|r| r.strip_suffix('"')) {
        Some(inner) => {
            let mut out = String::with_capacity(inner.len());
            let mut chars = inner.chars();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => out.extend(chars.next()),
                    c => out.push(c),
                }
            }
            out
        }
        None => s.to_owned(),
    };
    (!inner.is_empty()).then_some(inner)
}

/// A CSeq value (§20.16): sequence number and method.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CSeq {
    /// The sequence number (less than 2^31 per §8.1.1.5; any u32 is accepted).
    pub seq: u32,
    /// The method it numbers.
    pub method: Method,
}

impl CSeq {
    /// Parses `4711 INVITE`.
    pub fn parse(s: &str) -> Option<CSeq> {
        let mut it = s.split_ascii_whitespace();
        let seq = it.next()?.parse().ok()?;
        let method = it.next()?;
        if it.next().is_some() || !method.bytes().all(is_token_byte) {
            return None;
        }
        Some(CSeq {
            seq,
            method: Method::from_token(method),
        })
    }
}

impl fmt::Display for CSeq {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.seq, self.method)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn via_with_params_and_ipv6() {
        let v = Via::parse("SIP / 2.0 / UDP [2001:db8::1]:5062;branch=z9hG4bK776;rport").expect("valid Via");
        assert_eq!(v.transport, "UDP", "transport");
        assert_eq!(v.host, "[2001:db8::1]", "IPv6 host keeps brackets");
        assert_eq!(v.port, Some(5062), "port");
        assert_eq!(v.branch(), Some("z9hG4bK776"), "branch");
        assert!(v.params.has("rport"), "flag param");
        assert_eq!(
            v.to_string(),
            "SIP/2.0/UDP [2001:db8::1]:5062;branch=z9hG4bK776;rport",
            "canonical form"
        );
        assert!(Via::parse("SIP/3.0/UDP a").is_none(), "wrong version");
        assert!(Via::parse("SIP/2.0/UDP").is_none(), "no sent-by");
        assert!(Via::parse("SIP/2.0/UDP a:99999").is_none(), "port out of range");
    }

    #[test]
    fn lists_split_outside_quotes_and_brackets() {
        assert_eq!(
            split_list(r#""Smith, J" <sip:a@b>, <sip:c@d;x=1,2>,, sip:e@f"#),
            [r#""Smith, J" <sip:a@b>"#, "<sip:c@d;x=1,2>", "sip:e@f"],
            "commas in quotes and <> do not split"
        );
    }

    #[test]
    fn name_addr_forms() {
        let a = NameAddr::parse(r#""Alice \"A\"" <sip:alice@atlanta.example.com;transport=tcp>;tag=1928301774"#)
            .expect("name-addr");
        assert_eq!(a.display_name.as_deref(), Some(r#"Alice "A""#), "unescaped display");
        assert_eq!(a.uri, "sip:alice@atlanta.example.com;transport=tcp", "URI params stay");
        assert_eq!(a.tag(), Some("1928301774"), "tag");
        assert_eq!(a.user(), Some("alice"), "user part");

        let b = NameAddr::parse("sip:201@pbx.example;tag=xyz").expect("addr-spec");
        assert_eq!(b.uri, "sip:201@pbx.example", "addr-spec URI");
        assert_eq!(b.tag(), Some("xyz"), "params belong to the header");
        assert_eq!(b.to_string(), "<sip:201@pbx.example>;tag=xyz", "display form");

        let c = NameAddr::parse("Bob <tel:+15551234>").expect("token display name");
        assert_eq!(c.display_name.as_deref(), Some("Bob"), "unquoted display");
        assert_eq!(c.user(), Some("+15551234"), "tel user");
        assert!(NameAddr::parse("<>").is_none(), "empty URI");
        assert!(NameAddr::parse("<sip:a@b> junk").is_none(), "junk after >");
    }

    #[test]
    fn cseq_forms() {
        let c = CSeq::parse("  314159   INVITE ").expect("valid");
        assert_eq!(c.seq, 314159, "number");
        assert_eq!(c.method, Method::Invite, "method");
        assert!(CSeq::parse("x INVITE").is_none(), "not a number");
        assert!(CSeq::parse("1").is_none(), "no method");
        assert!(CSeq::parse("1 INVITE extra").is_none(), "extra token");
    }
}
