//! The server-transaction layer (RFC 3261 §17.2), reduced to what a recorder needs.
//!
//! - Completed transactions: the final response to every request (except the 2xx to an
//!   INVITE, which the dialog retransmits itself, §13.3.1.4) is kept for 64·T1 keyed by the
//!   top Via branch, the method and the Call-ID (§17.2.3), and a retransmitted request gets
//!   it again without reaching the dialog. That is Timer J for non-INVITE requests and, for
//!   INVITEs answered 3xx–6xx, the effect of Timer G: the client's retransmissions are
//!   answered until it ACKs or gives up.
//! - The 2xx retransmission schedule of an INVITE (§13.3.1.4): T1, doubling up to T2,
//!   until the ACK arrives or 64·T1 pass (`sip_ack_timeout_secs`).
//! - A 400 built from raw bytes that did not parse, when they look like a request (start
//!   line + Via/From/To/Call-ID/CSeq lines), so even a malformed request gets an answer.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use callrec_media::sip::Message;

/// T1: RTT estimate (§17.1.1.1).
pub const T1: Duration = Duration::from_millis(500);
/// T2: the longest retransmission interval (§17.1.2.2).
pub const T2: Duration = Duration::from_secs(4);
/// 64·T1: how long transactions and 2xx retransmissions last.
pub const TIMEOUT: Duration = Duration::from_secs(32);
/// Completed transactions kept at most (oldest dropped first beyond this).
const MAX_COMPLETED: usize = 100_000;

/// The identity of a server transaction (§17.2.3, RFC 3261 branches only).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TxKey {
    branch: String,
    method: String,
    call_id: String,
}

impl TxKey {
    /// The key of a request; CANCEL and ACK have their own (ACK is never cached).
    pub fn of(request: &Message) -> Option<TxKey> {
        let via = request.top_via().ok()?;
        Some(TxKey {
            branch: via.branch()?.to_owned(),
            method: request.method()?.as_str().to_owned(),
            call_id: request.call_id().ok()?.to_owned(),
        })
    }
}

/// Final responses of recently completed transactions.
#[derive(Default)]
pub struct Completed {
    map: HashMap<TxKey, (Instant, Vec<u8>)>,
}

impl Completed {
    /// The response to send again for a retransmitted request.
    pub fn get(&self, key: &TxKey, now: Instant) -> Option<Vec<u8>> {
        self.map
            .get(key)
            .filter(|(expires, _)| *expires > now)
            .map(|(_, bytes)| bytes.clone())
    }

    /// Remembers a final response for [`TIMEOUT`].
    pub fn insert(&mut self, key: TxKey, response: Vec<u8>, now: Instant) {
        if self.map.len() >= MAX_COMPLETED {
            self.purge(now);
        }
        if self.map.len() >= MAX_COMPLETED {
            return; // flooded: retransmissions will reach the dialog (or get a 481)
        }
        self.map.insert(key, (now + TIMEOUT, response));
    }

    /// Drops expired entries.
    pub fn purge(&mut self, now: Instant) {
        self.map.retain(|_, (expires, _)| *expires > now);
    }

    /// Entries held.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

/// When to send a 2xx again and when to give up waiting for its ACK (§13.3.1.4).
#[derive(Debug, Clone)]
pub struct Retransmit {
    /// The 2xx on the wire.
    pub bytes: Vec<u8>,
    /// The INVITE's CSeq number, matched by the ACK.
    pub cseq: u32,
    /// Next retransmission.
    pub next: Instant,
    /// The current interval.
    pub interval: Duration,
    /// No ACK by then: the dialog is given up.
    pub deadline: Instant,
}

impl Retransmit {
    /// The schedule of a 2xx sent at `now`, given up after `give_up` without its ACK
    /// ([`TIMEOUT`] unless configured otherwise).
    pub fn new(bytes: Vec<u8>, cseq: u32, now: Instant, give_up: Duration) -> Retransmit {
        Retransmit {
            bytes,
            cseq,
            next: now + T1,
            interval: T1,
            deadline: now + give_up,
        }
    }

    /// Moves to the next interval after a retransmission at `now`.
    pub fn backoff(&mut self, now: Instant) {
        self.interval = (self.interval * 2).min(T2);
        self.next = now + self.interval;
    }
}

/// Header names (full and compact, §7.3.3) copied into a 400 built from raw bytes.
const COPIED: [(&str, &str); 5] = [("via", "v"), ("from", "f"), ("to", "t"), ("call-id", "i"), ("cseq", "")];

/// A `400 Bad Request` for a request that failed to parse, or `None` when the bytes are
/// not recognisably a request with a Via (nothing could route the answer).
pub fn bad_request_from_raw(raw: &[u8], why: &str) -> Option<Vec<u8>> {
    let head_end = find(raw, b"\r\n\r\n")
        .or_else(|| find(raw, b"\n\n"))
        .unwrap_or(raw.len());
    let head = String::from_utf8_lossy(&raw[..head_end.min(16 * 1024)]);
    let mut lines = head.lines();
    let start = lines.next()?.trim();
    let mut words = start.split_whitespace();
    let method = words.next()?;
    let _uri = words.next()?;
    if words.next()? != "SIP/2.0" || !method.bytes().all(|b| b.is_ascii_uppercase()) || method == "ACK" {
        return None;
    }
    let mut out = String::from("SIP/2.0 400 Bad Request\r\n");
    let mut has_via = false;
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let name = name.trim().to_ascii_lowercase();
        let Some((full, _)) = COPIED.iter().find(|(f, c)| name == *f || (!c.is_empty() && name == *c)) else {
            continue;
        };
        let value = value.trim();
        if value.is_empty() || value.len() > 1024 {
            continue;
        }
        has_via |= *full == "via";
        let proper = match *full {
            "via" => "Via",
            "from" => "From",
            "to" => "To",
            "call-id" => "Call-ID",
            _ => "CSeq",
        };
        out.push_str(proper);
        out.push_str(": ");
        out.push_str(value);
        out.push_str("\r\n");
    }
    if !has_via {
        return None;
    }
    let reason: String = why
        .chars()
        .filter(|c| !c.is_control())
        .take(200)
        .collect::<String>()
        .replace('"', "'");
    out.push_str(&format!(
        "Warning: 399 callrec \"{reason}\"\r\nContent-Length: 0\r\n\r\n"
    ));
    Some(out.into_bytes())
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;
    use callrec_media::sip::{parse_datagram, Limits};

    #[test]
    fn a_request_that_does_not_parse_still_gets_a_400() {
        let raw = b"INVITE sip:srs@x SIP/2.0\r\nv: SIP/2.0/UDP 1.2.3.4:5060;branch=z9hG4bKa\r\n\
            f: <sip:a@b>;tag=1\r\nt: <sip:srs@x>\r\ni: abc\r\nCSeq: 1 INVITE\r\nContent-Length: nope\r\n\r\n";
        assert!(parse_datagram(raw, &Limits::DEFAULT).is_err(), "the parser refuses it");
        let resp = bad_request_from_raw(raw, "malformed \"Content-Length\"").expect("answerable");
        let parsed = parse_datagram(&resp, &Limits::DEFAULT).expect("the 400 itself parses");
        assert_eq!(parsed.status(), Some(400), "400");
        assert_eq!(
            parsed.call_id().ok(),
            Some("abc"),
            "Call-ID copied from the compact form"
        );
        assert_eq!(
            parsed
                .top_via()
                .ok()
                .and_then(|v| v.branch().map(str::to_owned))
                .as_deref(),
            Some("z9hG4bKa"),
            "Via copied so the client can match it"
        );
    }

    #[test]
    fn garbage_and_responses_get_nothing() {
        assert!(bad_request_from_raw(b"\x00\x01garbage", "x").is_none(), "garbage");
        assert!(
            bad_request_from_raw(b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP a\r\n\r\n", "x").is_none(),
            "a response is never answered"
        );
        assert!(
            bad_request_from_raw(b"OPTIONS sip:a SIP/2.0\r\nTo: <sip:a>\r\n\r\n", "x").is_none(),
            "no Via, nowhere to answer"
        );
    }

    #[test]
    fn retransmit_schedule_doubles_up_to_t2() {
        let now = Instant::now();
        let mut r = Retransmit::new(Vec::new(), 1, now, TIMEOUT);
        let mut intervals = vec![r.interval];
        for _ in 0..5 {
            r.backoff(now);
            intervals.push(r.interval);
        }
        assert_eq!(
            intervals.iter().map(Duration::as_millis).collect::<Vec<_>>(),
            [500, 1000, 2000, 4000, 4000, 4000],
            "T1, doubling, capped at T2"
        );
        assert_eq!(r.deadline, now + TIMEOUT, "gives up after 64·T1");
    }

    #[test]
    fn completed_transactions_expire() {
        let raw = b"BYE sip:a SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a>;tag=1\r\n\
            To: <sip:b>;tag=2\r\nCall-ID: c\r\nCSeq: 2 BYE\r\n\r\n";
        let req = parse_datagram(raw, &Limits::DEFAULT).expect("parses");
        let key = TxKey::of(&req).expect("a key");
        let mut c = Completed::default();
        let t0 = Instant::now();
        c.insert(key.clone(), b"200".to_vec(), t0);
        assert_eq!(c.get(&key, t0).as_deref(), Some(&b"200"[..]), "answered again");
        c.purge(t0 + TIMEOUT + Duration::from_secs(1));
        assert!(c.is_empty(), "gone after 64·T1");
    }
}
