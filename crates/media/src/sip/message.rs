//! The SIP message model: start line, ordered header fields, body; and serialisation.

use std::fmt;

use super::header_values::{split_list, CSeq, NameAddr, Via};
use super::SipError;

/// A SIP method (RFC 3261 §7.1; methods are case-sensitive tokens).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Method {
    /// INVITE (§13).
    Invite,
    /// ACK (§13.2.2.4, §17.1.1.3).
    Ack,
    /// BYE (§15).
    Bye,
    /// CANCEL (§9).
    Cancel,
    /// OPTIONS (§11).
    Options,
    /// REGISTER (§10).
    Register,
    /// INFO (RFC 6086).
    Info,
    /// UPDATE (RFC 3311).
    Update,
    /// PRACK (RFC 3262).
    Prack,
    /// SUBSCRIBE (RFC 6665).
    Subscribe,
    /// NOTIFY (RFC 6665).
    Notify,
    /// REFER (RFC 3515).
    Refer,
    /// MESSAGE (RFC 3428).
    Message,
    /// Any other token.
    Other(String),
}

impl Method {
    /// The method of a token (exact, case-sensitive match of the standard names).
    pub fn from_token(token: &str) -> Method {
        match token {
            "INVITE" => Method::Invite,
            "ACK" => Method::Ack,
            "BYE" => Method::Bye,
            "CANCEL" => Method::Cancel,
            "OPTIONS" => Method::Options,
            "REGISTER" => Method::Register,
            "INFO" => Method::Info,
            "UPDATE" => Method::Update,
            "PRACK" => Method::Prack,
            "SUBSCRIBE" => Method::Subscribe,
            "NOTIFY" => Method::Notify,
            "REFER" => Method::Refer,
            "MESSAGE" => Method::Message,
            other => Method::Other(other.to_owned()),
        }
    }

    /// The method's token.
    pub fn as_str(&self) -> &str {
        match self {
            Method::Invite => "INVITE",
            Method::Ack => "ACK",
            Method::Bye => "BYE",
            Method::Cancel => "CANCEL",
            Method::Options => "OPTIONS",
            Method::Register => "REGISTER",
            Method::Info => "INFO",
            Method::Update => "UPDATE",
            Method::Prack => "PRACK",
            Method::Subscribe => "SUBSCRIBE",
            Method::Notify => "NOTIFY",
            Method::Refer => "REFER",
            Method::Message => "MESSAGE",
            Method::Other(s) => s,
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The first line of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartLine {
    /// `Method SP Request-URI SP SIP/2.0` (§7.1).
    Request {
        /// The method.
        method: Method,
        /// The Request-URI, as received.
        uri: String,
    },
    /// `SIP/2.0 SP Status-Code SP Reason-Phrase` (§7.2).
    Response {
        /// 100..=699.
        code: u16,
        /// The reason phrase (may be empty).
        reason: String,
    },
}

/// One header field. Compact names are stored in their full form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// The field name as received (or the full form of a compact name).
    pub name: String,
    /// The value with surrounding whitespace removed and folded lines joined.
    pub value: String,
}

/// Header fields in message order. Names compare case-insensitively (§7.3.1).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Headers(Vec<Header>);

/// The full name of a compact header name (RFC 3261 §7.3.3 and the registry).
pub(crate) fn expand_compact(name: &str) -> &str {
    if name.len() != 1 {
        return name;
    }
    match name.as_bytes()[0].to_ascii_lowercase() {
        b'i' => "Call-ID",
        b'f' => "From",
        b't' => "To",
        b'v' => "Via",
        b'm' => "Contact",
        b'l' => "Content-Length",
        b'c' => "Content-Type",
        b'k' => "Supported",
        b'e' => "Content-Encoding",
        b's' => "Subject",
        b'o' => "Event",
        b'r' => "Refer-To",
        b'u' => "Allow-Events",
        _ => name,
    }
}

impl Headers {
    /// No headers.
    pub fn new() -> Headers {
        Headers(Vec::new())
    }

    /// The first value of `name` (full or compact name, any case).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.get_all(name).next()
    }

    /// Every value of `name`, in order. A field holding a comma-separated list is one value:
    /// use [`split_list`] to split it.
    pub fn get_all<'a, 'n>(&'a self, name: &'n str) -> impl Iterator<Item = &'a str> + use<'a, 'n> {
        let name = expand_compact(name);
        self.0
            .iter()
            .filter(move |h| h.name.eq_ignore_ascii_case(name))
            .map(|h| h.value.as_str())
    }

    /// Appends a field. CR and LF in the value become spaces, so a value can never start a
    /// new header line.
    pub fn push(&mut self, name: &str, value: &str) {
        let value = if value.contains(['\r', '\n']) {
            value.replace(['\r', '\n'], " ")
        } else {
            value.to_owned()
        };
        self.0.push(Header {
            name: expand_compact(name).to_owned(),
            value,
        });
    }

    /// Removes every field named `name`; returns how many were removed.
    pub fn remove(&mut self, name: &str) -> usize {
        let name = expand_compact(name);
        let before = self.0.len();
        self.0.retain(|h| !h.name.eq_ignore_ascii_case(name));
        before - self.0.len()
    }

    /// Replaces every field named `name` by one field with `value`, at the position of the
    /// first one (or at the end).
    pub fn set(&mut self, name: &str, value: &str) {
        let full = expand_compact(name);
        match self.0.iter().position(|h| h.name.eq_ignore_ascii_case(full)) {
            Some(at) => {
                let mut rest = self.0.split_off(at + 1);
                rest.retain(|h| !h.name.eq_ignore_ascii_case(full));
                self.0.pop();
                self.push(name, value);
                self.0.append(&mut rest);
            }
            None => self.push(name, value),
        }
    }

    /// All fields in order.
    pub fn iter(&self) -> impl Iterator<Item = &Header> {
        self.0.iter()
    }

    /// Number of fields.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are no fields.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub(crate) fn push_raw(&mut self, header: Header) {
        self.0.push(header);
    }
}

/// A SIP request or response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Request-Line or Status-Line.
    pub start: StartLine,
    /// Header fields in order.
    pub headers: Headers,
    /// The body (exactly Content-Length bytes).
    pub body: Vec<u8>,
}

impl Message {
    /// A request with no headers and no body.
    pub fn request(method: Method, uri: &str) -> Message {
        Message {
            start: StartLine::Request {
                method,
                uri: uri.to_owned(),
            },
            headers: Headers::new(),
            body: Vec::new(),
        }
    }

    /// Whether this is a request.
    pub fn is_request(&self) -> bool {
        matches!(self.start, StartLine::Request { .. })
    }

    /// The method of a request.
    pub fn method(&self) -> Option<&Method> {
        match &self.start {
            StartLine::Request { method, .. } => Some(method),
            StartLine::Response { .. } => None,
        }
    }

    /// The status code of a response.
    pub fn status(&self) -> Option<u16> {
        match self.start {
            StartLine::Response { code, .. } => Some(code),
            StartLine::Request { .. } => None,
        }
    }

    /// The Call-ID (§20.8).
    pub fn call_id(&self) -> Result<&str, SipError> {
        self.headers
            .get("Call-ID")
            .filter(|v| !v.is_empty())
            .ok_or(SipError::MissingHeader("Call-ID"))
    }

    /// The CSeq (§20.16).
    pub fn cseq(&self) -> Result<CSeq, SipError> {
        let v = self.headers.get("CSeq").ok_or(SipError::MissingHeader("CSeq"))?;
        CSeq::parse(v).ok_or(SipError::MalformedHeader("CSeq"))
    }

    /// The From header (§20.20), with its tag.
    pub fn from(&self) -> Result<NameAddr, SipError> {
        let v = self.headers.get("From").ok_or(SipError::MissingHeader("From"))?;
        NameAddr::parse(v).ok_or(SipError::MalformedHeader("From"))
    }

    /// The To header (§20.39), with its tag if the dialog has one.
    pub fn to(&self) -> Result<NameAddr, SipError> {
        let v = self.headers.get("To").ok_or(SipError::MissingHeader("To"))?;
        NameAddr::parse(v).ok_or(SipError::MalformedHeader("To"))
    }

    /// Every Via entry, topmost first, across fields and comma-separated lists (§20.42).
    pub fn vias(&self) -> Result<Vec<Via>, SipError> {
        let mut vias = Vec::new();
        for field in self.headers.get_all("Via") {
            for item in split_list(field) {
                vias.push(Via::parse(item).ok_or(SipError::MalformedHeader("Via"))?);
            }
        }
        if vias.is_empty() {
            return Err(SipError::MissingHeader("Via"));
        }
        Ok(vias)
    }

    /// The topmost Via: where a response is sent (§18.2.2).
    pub fn top_via(&self) -> Result<Via, SipError> {
        let field = self.headers.get("Via").ok_or(SipError::MissingHeader("Via"))?;
        let first = split_list(field)
            .into_iter()
            .next()
            .ok_or(SipError::MalformedHeader("Via"))?;
        Via::parse(first).ok_or(SipError::MalformedHeader("Via"))
    }

    /// The Content-Type value, if any.
    pub fn content_type(&self) -> Option<&str> {
        self.headers.get("Content-Type")
    }

    /// Replaces the body and its Content-Type.
    pub fn set_body(&mut self, content_type: &str, body: Vec<u8>) {
        self.headers.set("Content-Type", content_type);
        self.body = body;
    }

    /// The message on the wire: start line, headers in order, a Content-Length equal to the
    /// body length (any stored Content-Length is replaced), an empty line, the body.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(256 + self.body.len());
        match &self.start {
            StartLine::Request { method, uri } => {
                push_line(&mut out, &format!("{method} {uri} SIP/2.0"));
            }
            StartLine::Response { code, reason } => {
                push_line(&mut out, &format!("SIP/2.0 {code} {reason}"));
            }
        }
        for h in self.headers.iter() {
            if h.name.eq_ignore_ascii_case("Content-Length") {
                continue;
            }
            push_line(&mut out, &format!("{}: {}", h.name, h.value));
        }
        push_line(&mut out, &format!("Content-Length: {}", self.body.len()));
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(&self.body);
        out
    }
}

/// Appends `line` + CRLF with any CR/LF inside the line turned into spaces.
fn push_line(out: &mut Vec<u8>, line: &str) {
    out.extend(line.bytes().map(|b| match b {
        b'\r' | b'\n' => b' ',
        b => b,
    }));
    out.extend_from_slice(b"\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_and_case_insensitive_lookup() {
        let mut h = Headers::new();
        h.push("i", "abc@host");
        h.push("VIA", "SIP/2.0/UDP a");
        h.push("v", "SIP/2.0/UDP b");
        assert_eq!(h.get("call-id"), Some("abc@host"), "compact i is Call-ID");
        assert_eq!(h.get("I"), Some("abc@host"), "compact lookup works too");
        assert_eq!(h.get_all("Via").count(), 2, "both Via fields");
    }

    #[test]
    fn set_replaces_all_in_place() {
        let mut h = Headers::new();
        h.push("A", "1");
        h.push("Content-Type", "x");
        h.push("B", "2");
        h.push("c", "y");
        h.set("content-type", "z");
        let names: Vec<_> = h.iter().map(|h| (h.name.as_str(), h.value.as_str())).collect();
        assert_eq!(
            names,
            [("A", "1"), ("content-type", "z"), ("B", "2")],
            "one field at the first position"
        );
        assert_eq!(h.remove("CONTENT-TYPE"), 1, "removed");
    }

    #[test]
    fn serialisation_recomputes_content_length_and_strips_newlines() {
        let mut m = Message::request(Method::Options, "sip:rec@example.com");
        m.headers.push("Content-Length", "999");
        m.headers.push("Subject", "evil\r\nInjected: yes");
        m.body = b"hi".to_vec();
        let text = String::from_utf8(m.to_bytes()).expect("ASCII");
        assert_eq!(
            text,
            "OPTIONS sip:rec@example.com SIP/2.0\r\nSubject: evil  Injected: yes\r\n\
             Content-Length: 2\r\n\r\nhi",
            "wire form"
        );
    }

    #[test]
    fn methods_round_trip() {
        for t in ["INVITE", "ACK", "BYE", "CANCEL", "OPTIONS", "UPDATE", "FOO"] {
            assert_eq!(Method::from_token(t).as_str(), t, "{t}");
        }
        assert_eq!(
            Method::from_token("invite"),
            Method::Other("invite".into()),
            "methods are case-sensitive"
        );
    }
}
