//! Tests of SIP parsing and stream framing.

use super::*;
use crate::sip::Method;

const OPTIONS: &str = "OPTIONS sip:rec@example.com SIP/2.0\r\n\
    Via: SIP/2.0/TCP src.example.com;branch=z9hG4bK1\r\n\
    From: <sip:src@example.com>;tag=1\r\n\
    To: <sip:rec@example.com>\r\n\
    Call-ID: opt-1\r\n\
    CSeq: 7 OPTIONS\r\n\
    Content-Length: 4\r\n\r\nbody";

fn small() -> Limits {
    Limits {
        max_message: 512,
        max_headers: 8,
        max_header_line: 80,
        max_body: 64,
    }
}

#[test]
fn parses_a_request_with_body() {
    let m = parse_datagram(OPTIONS.as_bytes(), &Limits::DEFAULT).expect("valid");
    assert_eq!(m.method(), Some(&Method::Options), "method");
    assert_eq!(m.call_id(), Ok("opt-1"), "Call-ID");
    assert_eq!(m.cseq().expect("CSeq").seq, 7, "CSeq number");
    assert_eq!(m.from().expect("From").tag(), Some("1"), "From tag");
    assert_eq!(m.to().expect("To").tag(), None, "no To tag");
    assert_eq!(m.top_via().expect("Via").branch(), Some("z9hG4bK1"), "branch");
    assert_eq!(m.body, b"body", "body");
}

#[test]
fn parses_a_response_with_folding_and_bare_lf() {
    let text = "SIP/2.0 183 Session Progress\n\
        Via: SIP/2.0/UDP a;branch=z9hG4bKx\n\
        Subject: first\n  second\n\tthird\n\
        l: 0\n\n";
    let m = parse_datagram(text.as_bytes(), &Limits::DEFAULT).expect("valid");
    assert_eq!(m.status(), Some(183), "status");
    assert_eq!(m.headers.get("Subject"), Some("first second third"), "unfolded");
    assert!(m.body.is_empty(), "no body");
}

#[test]
fn datagram_body_is_cut_to_content_length_or_refused_when_short() {
    let mut text = OPTIONS.to_owned();
    text.push_str("trailing junk");
    let m = parse_datagram(text.as_bytes(), &Limits::DEFAULT).expect("extra bytes ignored");
    assert_eq!(m.body, b"body", "body cut to Content-Length (§18.3)");
    let short = &OPTIONS.as_bytes()[..OPTIONS.len() - 1];
    assert_eq!(
        parse_datagram(short, &Limits::DEFAULT),
        Err(SipError::TruncatedBody),
        "datagram shorter than Content-Length"
    );
    let no_cl = OPTIONS.replace("Content-Length: 4\r\n", "");
    let m = parse_datagram(no_cl.as_bytes(), &Limits::DEFAULT).expect("UDP needs no CL");
    assert_eq!(m.body, b"body", "body is the rest of the datagram");
}

#[test]
fn stream_framing_reports_consumed_bytes_and_waits_for_more() {
    let mut buf = b"\r\n\r\n".to_vec();
    assert_eq!(
        parse_stream(&buf, &Limits::DEFAULT),
        Ok(Streamed::KeepAlive { consumed: 4 }),
        "keep-alive CRLFs"
    );
    buf.extend_from_slice(OPTIONS.as_bytes());
    buf.extend_from_slice(OPTIONS.as_bytes());
    for cut in 5..OPTIONS.len() + 4 {
        assert_eq!(
            parse_stream(&buf[..cut], &Limits::DEFAULT),
            Ok(Streamed::Incomplete),
            "incomplete at {cut}"
        );
    }
    let Ok(Streamed::Message { message, consumed }) = parse_stream(&buf, &Limits::DEFAULT) else {
        panic!("expected a message");
    };
    assert_eq!(consumed, 4 + OPTIONS.len(), "CRLFs plus one message");
    assert_eq!(message.body, b"body", "first body");
    let Ok(Streamed::Message { consumed, .. }) = parse_stream(&buf[consumed..], &Limits::DEFAULT) else {
        panic!("expected the second message");
    };
    assert_eq!(consumed, OPTIONS.len(), "second message");
    assert_eq!(parse_stream(b"", &Limits::DEFAULT), Ok(Streamed::Incomplete), "empty");
}

#[test]
fn stream_requires_content_length() {
    let no_cl = OPTIONS.replace("Content-Length: 4\r\n", "");
    assert_eq!(
        parse_stream(no_cl.as_bytes(), &Limits::DEFAULT),
        Err(SipError::MissingContentLength),
        "§18.3"
    );
}

#[test]
fn limits_are_enforced() {
    let l = small();
    let big = vec![b'a'; 600];
    assert_eq!(parse_datagram(&big, &l), Err(SipError::TooLarge(512)), "datagram size");
    assert_eq!(parse_stream(&big, &l), Err(SipError::TooLarge(512)), "stream size");

    let many = format!("BYE sip:a SIP/2.0\r\n{}\r\n", "X-A: 1\r\n".repeat(9));
    assert_eq!(
        parse_datagram(many.as_bytes(), &l),
        Err(SipError::TooManyHeaders(8)),
        "headers"
    );

    let long = format!("BYE sip:a SIP/2.0\r\nX-A: {}\r\n\r\n", "b".repeat(100));
    assert_eq!(
        parse_datagram(long.as_bytes(), &l),
        Err(SipError::HeaderLineTooLong(80)),
        "line length"
    );
    let folded = format!(
        "BYE sip:a SIP/2.0\r\nX-A: {}\r\n {}\r\n\r\n",
        "b".repeat(50),
        "c".repeat(50)
    );
    assert_eq!(
        parse_datagram(folded.as_bytes(), &l),
        Err(SipError::HeaderLineTooLong(80)),
        "folded value length"
    );
    let body = "BYE sip:a SIP/2.0\r\nContent-Length: 65\r\n\r\n";
    assert_eq!(
        parse_datagram(body.as_bytes(), &l),
        Err(SipError::BadContentLength),
        "body"
    );
    let body_in_stream = "BYE sip:a SIP/2.0\r\nContent-Length: 60\r\n\r\n";
    let l2 = Limits { max_message: 64, ..l };
    assert_eq!(
        parse_stream(body_in_stream.as_bytes(), &l2),
        Err(SipError::TooLarge(64)),
        "declared body past the message limit"
    );
}

#[test]
fn malformed_input_gets_named_errors() {
    let cases: [(&str, SipError); 10] = [
        ("HELLO\r\n\r\n", SipError::BadStartLine),
        ("INVITE sip:a SIP/3.0\r\n\r\n", SipError::BadVersion),
        ("INVITE  SIP/2.0\r\n\r\n", SipError::BadStartLine),
        ("SIP/2.0 99 Odd\r\n\r\n", SipError::BadStatus),
        ("SIP/2.0 700 Odd\r\n\r\n", SipError::BadStatus),
        ("SIP/2.0 2000 OK\r\n\r\n", SipError::BadStatus),
        ("BYE sip:a SIP/2.0\r\nNoColon\r\n\r\n", SipError::BadHeader),
        ("BYE sip:a SIP/2.0\r\n folded-first\r\n\r\n", SipError::BadHeader),
        (
            "BYE sip:a SIP/2.0\r\nl: 1\r\nl: 2\r\n\r\nxx",
            SipError::BadContentLength,
        ),
        ("BYE sip:a SIP/2.0\r\nl: -1\r\n\r\n", SipError::BadContentLength),
    ];
    for (text, want) in cases {
        assert_eq!(
            parse_datagram(text.as_bytes(), &Limits::DEFAULT),
            Err(want.clone()),
            "{text:?} should be {want}"
        );
    }
    assert_eq!(
        parse_datagram(b"BYE sip:a SIP/2.0\r\nX: \xff\r\n\r\n", &Limits::DEFAULT),
        Err(SipError::NotUtf8),
        "non-UTF-8 header"
    );
    // Regression (fuzz/sip): a multi-byte character across byte 4 of the version.
    assert_eq!(
        parse_datagram("OPTIONS .com SIP\u{74c}ip\n\n".as_bytes(), &Limits::DEFAULT),
        Err(SipError::BadStartLine),
        "non-ASCII version"
    );
    // Regression (fuzz/sip, crash-63f1bd04): a bare CR inside a header value.
    assert_eq!(
        parse_datagram(b"BYE sip:a SIP/2.0\r\nCSeq: 1 BYE\rK\r\n\r\n", &Limits::DEFAULT),
        Err(SipError::BadHeader),
        "bare CR in a value"
    );
    assert_eq!(
        parse_datagram(b"BYE sip:a\x00 SIP/2.0\r\n\r\n", &Limits::DEFAULT),
        Err(SipError::BadStartLine),
        "NUL in the start line"
    );
    assert_eq!(
        parse_datagram(b"BYE sip:a SIP/2.0\r\nX: 1\r\n", &Limits::DEFAULT),
        Err(SipError::UnterminatedHeaders),
        "no empty line"
    );
}

#[test]
fn parse_serialise_round_trip() {
    let m = parse_datagram(OPTIONS.as_bytes(), &Limits::DEFAULT).expect("valid");
    let again = parse_datagram(&m.to_bytes(), &Limits::DEFAULT).expect("re-parse");
    assert_eq!(again, m, "serialising and parsing gives the same message");
    assert_eq!(
        m.to_bytes(),
        OPTIONS.as_bytes(),
        "canonical input is reproduced exactly"
    );
}
