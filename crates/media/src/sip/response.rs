//! Building responses to requests (RFC 3261 §8.2.6 and §12.1.1).

use super::message::{Headers, Message, StartLine};
use super::{split_list, NameAddr, SipError};

/// The standard reason phrase of a status code (§21), or `""` for unknown codes.
pub fn reason_phrase(code: u16) -> &'static str {
    match code {
        100 => "Trying",
        180 => "Ringing",
        183 => "Session Progress",
        200 => "OK",
        202 => "Accepted",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        413 => "Request Entity Too Large",
        415 => "Unsupported Media Type",
        420 => "Bad Extension",
        481 => "Call/Transaction Does Not Exist",
        486 => "Busy Here",
        487 => "Request Terminated",
        488 => "Not Acceptable Here",
        491 => "Request Pending",
        500 => "Server Internal Error",
        501 => "Not Implemented",
        503 => "Service Unavailable",
        513 => "Message Too Large",
        603 => "Decline",
        _ => "",
    }
}

/// A response to `request` with status `code` (§8.2.6.2): Via fields copied in order,
/// From, Call-ID and CSeq copied, To copied with `to_tag` added when the request's To has
/// no tag and the code is not 100 (a 100 never establishes a dialog, §8.2.6.2). For 101–299
/// responses Record-Route is copied too (§12.1.1). Content-Length is written on
/// serialisation. `reason` defaults to [`reason_phrase`] when empty.
pub fn response_to(request: &Message, code: u16, reason: &str, to_tag: Option<&str>) -> Result<Message, SipError> {
    if !request.is_request() {
        return Err(SipError::NotARequest);
    }
    if !(100..=699).contains(&code) {
        return Err(SipError::BadStatus);
    }
    let mut headers = Headers::new();
    let mut vias = 0;
    for via in request.headers.get_all("Via") {
        headers.push("Via", via);
        vias += split_list(via).len();
    }
    if vias == 0 {
        return Err(SipError::MissingHeader("Via"));
    }
    let from = request.headers.get("From").ok_or(SipError::MissingHeader("From"))?;
    headers.push("From", from);
    let to = request.headers.get("To").ok_or(SipError::MissingHeader("To"))?;
    let parsed_to = NameAddr::parse(to).ok_or(SipError::MalformedHeader("To"))?;
    match to_tag {
        Some(tag) if code != 100 && parsed_to.tag().is_none() => {
            headers.push("To", &format!("{to};tag={tag}"));
        }
        _ => headers.push("To", to),
    }
    headers.push("Call-ID", request.call_id()?);
    let cseq = request.cseq()?;
    headers.push("CSeq", &cseq.to_string());
    if (101..300).contains(&code) {
        for rr in request.headers.get_all("Record-Route") {
            headers.push("Record-Route", rr);
        }
    }
    let reason = if reason.is_empty() { reason_phrase(code) } else { reason };
    Ok(Message {
        start: StartLine::Response {
            code,
            reason: reason.replace(['\r', '\n'], " "),
        },
        headers,
        body: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::{parse_datagram, Limits, Method};

    const INVITE: &str = "INVITE sip:rec@10.0.0.2 SIP/2.0\r\n\
        Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKa, SIP/2.0/UDP 10.0.0.9;branch=z9hG4bKb\r\n\
        v: SIP/2.0/TCP 10.0.0.8;branch=z9hG4bKc\r\n\
        Record-Route: <sip:10.0.0.1;lr>\r\n\
        f: \"SRC\" <sip:src@10.0.0.1>;tag=abc\r\n\
        t: <sip:rec@10.0.0.2>\r\n\
        i: call-1@10.0.0.1\r\n\
        CSeq: 1 INVITE\r\n\
        Content-Length: 0\r\n\r\n";

    fn invite() -> Message {
        parse_datagram(INVITE.as_bytes(), &Limits::DEFAULT).expect("valid INVITE")
    }

    #[test]
    fn copies_dialog_headers_and_adds_a_to_tag() {
        let resp = response_to(&invite(), 200, "", Some("rec42")).expect("response");
        let text = String::from_utf8(resp.to_bytes()).expect("ASCII");
        assert_eq!(
            text,
            "SIP/2.0 200 OK\r\n\
             Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKa, SIP/2.0/UDP 10.0.0.9;branch=z9hG4bKb\r\n\
             Via: SIP/2.0/TCP 10.0.0.8;branch=z9hG4bKc\r\n\
             From: \"SRC\" <sip:src@10.0.0.1>;tag=abc\r\n\
             To: <sip:rec@10.0.0.2>;tag=rec42\r\n\
             Call-ID: call-1@10.0.0.1\r\n\
             CSeq: 1 INVITE\r\n\
             Record-Route: <sip:10.0.0.1;lr>\r\n\
             Content-Length: 0\r\n\r\n",
            "200 OK wire form"
        );
        let back = parse_datagram(text.as_bytes(), &Limits::DEFAULT).expect("parses back");
        assert_eq!(back.to().expect("To").tag(), Some("rec42"), "tag readable");
        assert_eq!(back.vias().expect("Vias").len(), 3, "all Via entries kept");
        assert_eq!(back.cseq().expect("CSeq").method, Method::Invite, "CSeq method");
    }

    #[test]
    fn trying_gets_no_tag_and_no_record_route() {
        let resp = response_to(&invite(), 100, "", Some("x")).expect("response");
        assert_eq!(resp.to().expect("To").tag(), None, "100 has no To tag");
        assert_eq!(resp.headers.get("Record-Route"), None, "no Record-Route in 100");
        assert_eq!(
            resp.start,
            StartLine::Response {
                code: 100,
                reason: "Trying".into()
            },
            "default reason"
        );
    }

    #[test]
    fn existing_to_tag_is_kept() {
        let mut req = invite();
        req.headers.set("To", "<sip:rec@10.0.0.2>;tag=old");
        let resp = response_to(&req, 488, "No G.711", Some("new")).expect("response");
        assert_eq!(resp.to().expect("To").tag(), Some("old"), "in-dialog tag kept");
        assert_eq!(resp.headers.get("Record-Route"), None, "no Record-Route in 4xx");
    }

    #[test]
    fn refuses_responses_and_requests_missing_headers() {
        let resp = response_to(&invite(), 200, "", None).expect("response");
        assert_eq!(
            response_to(&resp, 200, "", None).err(),
            Some(SipError::NotARequest),
            "cannot answer a response"
        );
        let mut req = invite();
        req.headers.remove("Call-ID");
        assert_eq!(
            response_to(&req, 200, "", None).err(),
            Some(SipError::MissingHeader("Call-ID")),
            "Call-ID needed"
        );
    }
}
