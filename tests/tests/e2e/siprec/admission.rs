//! What the recorder lets in (issue #13, items 4 and 5), with real sockets against the real
//! server: a session whose 200 OK is never acknowledged leaves no recording and no file; a
//! source with too many such sessions gets 503 + Retry-After; SIP over TCP closes idle
//! connections (not those a call still uses), closes connections beyond its limit at once,
//! and takes none while the file-descriptor reserve is not free. Timeouts are configured
//! short; no assertion is about speed.

use std::io::{Read, Write as _};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::time::{Duration, Instant};

use super::{cast_with, wait_ended, Recorder};
use callrec_sim::Transport;
use callrec_types::calls::CallState;

/// A SIPREC INVITE in `force` mode from `me` (over `transport`), as raw bytes.
fn force_invite(sip: SocketAddr, me: SocketAddr, call_id: &str, transport: &str) -> Vec<u8> {
    callrec_sim::offer::raw_invite(sip, me, call_id, transport, "force")
}

/// The ACK of the 200 OK to [`force_invite`] (the recorder matches it by Call-ID and CSeq).
fn ack(sip: SocketAddr, me: SocketAddr, call_id: &str) -> Vec<u8> {
    format!(
        "ACK sip:srs@{sip} SIP/2.0\r\nVia: SIP/2.0/UDP {me};branch=z9hG4bK{call_id}ack\r\n\
         From: <sip:src@{me}>;tag=src1\r\nTo: <sip:srs@{sip}>;tag=x\r\nCall-ID: {call_id}\r\n\
         CSeq: 1 ACK\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
    )
    .into_bytes()
}

fn options(sip: SocketAddr, me: SocketAddr, call_id: &str) -> Vec<u8> {
    format!(
        "OPTIONS sip:srs@{sip} SIP/2.0\r\nVia: SIP/2.0/TCP {me};branch=z9hG4bK{call_id}\r\n\
         From: <sip:t@x>;tag=a\r\nTo: <sip:srs@x>\r\nCall-ID: {call_id}\r\nCSeq: 1 OPTIONS\r\n\
         Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
    )
    .into_bytes()
}

/// SIP messages read from `sock` until `deadline` or until `enough` says so.
fn messages_until(sock: &UdpSocket, deadline: Instant, enough: impl Fn(&[String]) -> bool) -> Vec<String> {
    let mut out = Vec::new();
    let mut buf = [0u8; 8192];
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        if enough(&out) {
            break;
        }
        sock.set_read_timeout(Some(left.max(Duration::from_millis(1))))
            .expect("timeout");
        let Ok(n) = sock.recv(&mut buf) else { break };
        out.push(String::from_utf8_lossy(&buf[..n]).into_owned());
    }
    out
}

/// The status of a response, if `m` is one.
fn status(m: &str) -> Option<u16> {
    m.strip_prefix("SIP/2.0 ")?.get(..3)?.parse().ok()
}

/// The Call-ID header of `m`.
fn call_id_of(m: &str) -> Option<&str> {
    m.lines()
        .find_map(|l| l.strip_prefix("Call-ID:").or_else(|| l.strip_prefix("i:")))
        .map(str::trim)
}

/// The final status the recorder gave the INVITE of `call_id`, among `messages`.
fn final_status(messages: &[String], call_id: &str) -> Option<u16> {
    messages
        .iter()
        .filter(|m| call_id_of(m) == Some(call_id))
        .filter_map(|m| status(m))
        .find(|c| *c >= 200)
}

/// Every file under `dir`, recursively.
fn files_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out
}

#[tokio::test]
async fn issue_13_4_an_invite_never_acknowledged_leaves_no_recording_and_no_file() {
    let recorder = Recorder::start_with(|c| c.sip_ack_timeout_secs = 2).await;
    let (_admin, _cast) = cast_with(&recorder, &[]).await;
    let sip = recorder.sip;
    let mut events = recorder.state.events.subscribe();
    let sock = UdpSocket::bind("127.0.0.1:0").expect("bind");
    let me = sock.local_addr().expect("addr");
    let invite = force_invite(sip, me, "noack-1", "UDP");
    let (sock, answered) = tokio::task::spawn_blocking(move || {
        sock.send_to(&invite, sip).expect("send INVITE");
        // Long enough for a recording of silence to have started, if one were.
        let m = messages_until(&sock, Instant::now() + Duration::from_millis(1200), |_| false);
        (sock, m)
    })
    .await
    .expect("task");
    assert_eq!(
        final_status(&answered, "noack-1"),
        Some(200),
        "the force-mode INVITE is answered 200"
    );
    let id = recorder.call_id("noack-1").await;
    assert!(
        recorder.wav_files().is_empty(),
        "nothing is written while the 200 OK waits for its ACK"
    );
    let until_bye = tokio::task::spawn_blocking(move || {
        messages_until(&sock, Instant::now() + Duration::from_secs(15), |m| {
            m.iter().any(|m| m.starts_with("BYE "))
        })
    })
    .await
    .expect("task");
    assert!(
        until_bye.iter().any(|m| m.starts_with("BYE ")),
        "the recorder ends the unacknowledged session with a BYE (RFC 3261 §13.3.1.4)"
    );
    wait_ended(&mut events, Some(id)).await;

    let (call, trace) = recorder.state.store.get_call(id).await.expect("the call row");
    assert_eq!(call.state, CallState::Ended, "the call is closed");
    assert!(
        call.answered_at.is_none(),
        "a session never established was never answered"
    );
    assert!(
        trace.iter().any(|t| t.message.contains("never acknowledged")),
        "the trace says why nothing was recorded: {trace:?}"
    );
    assert!(
        recorder
            .state
            .store
            .list_recordings(id)
            .await
            .expect("recordings")
            .is_empty(),
        "no recording row"
    );
    let on_disk = files_under(&recorder.data_dir.join("recordings"));
    assert!(on_disk.is_empty(), "no file in the data directory: {on_disk:?}");
    assert_eq!(
        recorder.metric("callrec_sip_unacknowledged_total").await,
        1,
        "the session is counted as unacknowledged"
    );
    recorder.stop().await;
}

#[tokio::test]
async fn issue_13_4_a_source_over_its_limit_of_unacknowledged_sessions_gets_503_with_retry_after() {
    let recorder = Recorder::start_with(|c| c.sip_unacknowledged_per_source = 3).await;
    let (_admin, _cast) = cast_with(&recorder, &[]).await;
    let sip = recorder.sip;
    let sock = UdpSocket::bind("127.0.0.1:0").expect("bind");
    let me = sock.local_addr().expect("addr");
    let (sock, first, fourth) = tokio::task::spawn_blocking(move || {
        for n in 1..=3 {
            sock.send_to(&force_invite(sip, me, &format!("flood-{n}"), "UDP"), sip)
                .expect("send INVITE");
        }
        let first = messages_until(&sock, Instant::now() + Duration::from_secs(10), |m| {
            (1..=3).all(|n| final_status(m, &format!("flood-{n}")).is_some())
        });
        sock.send_to(&force_invite(sip, me, "flood-4", "UDP"), sip)
            .expect("send INVITE");
        let fourth = messages_until(&sock, Instant::now() + Duration::from_secs(5), |m| {
            final_status(m, "flood-4").is_some()
        });
        (sock, first, fourth)
    })
    .await
    .expect("task");
    for n in 1..=3 {
        assert_eq!(
            final_status(&first, &format!("flood-{n}")),
            Some(200),
            "INVITE {n} of 3 is within the limit"
        );
    }
    assert_eq!(
        final_status(&fourth, "flood-4"),
        Some(503),
        "a fourth unacknowledged session from the same source is refused 503 (RFC 3261 §21.5.4)"
    );
    let refusal = fourth
        .iter()
        .find(|m| call_id_of(m) == Some("flood-4") && status(m) == Some(503))
        .expect("the 503");
    assert!(
        refusal.lines().any(|l| l.starts_with("Retry-After: ")),
        "the 503 says when to try again: {refusal}"
    );
    assert_eq!(
        recorder.metric("callrec_sip_source_limited_total").await,
        1,
        "the refusal is counted"
    );

    // An ACK frees its session's place: the source is admitted again.
    let after_ack = tokio::task::spawn_blocking(move || {
        sock.send_to(&ack(sip, me, "flood-1"), sip).expect("send ACK");
        // The ACK and the INVITE may be taken in either order by different tasks: retry.
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut n = 5;
        loop {
            let call_id = format!("flood-{n}");
            sock.send_to(&force_invite(sip, me, &call_id, "UDP"), sip)
                .expect("send INVITE");
            let m = messages_until(&sock, Instant::now() + Duration::from_secs(3), |m| {
                final_status(m, &call_id).is_some()
            });
            let code = final_status(&m, &call_id);
            if code == Some(200) || Instant::now() > deadline {
                return code;
            }
            n += 1;
        }
    })
    .await
    .expect("task");
    assert_eq!(after_ack, Some(200), "after an ACK the source has room for one more");
    recorder.stop().await;
}

/// Reads from `stream` until the server closes it (true) or `within` passes (false).
fn closed_within(stream: &mut TcpStream, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    let mut buf = [0u8; 4096];
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        stream
            .set_read_timeout(Some(left.max(Duration::from_millis(1))))
            .expect("timeout");
        match stream.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return true,
            Err(_) => return false,
        }
    }
    false
}

/// Sends OPTIONS on `stream` and returns the status of the answer (None: closed, no answer).
fn options_over(stream: &mut TcpStream, sip: SocketAddr, call_id: &str) -> Option<u16> {
    let me = stream.local_addr().expect("addr");
    stream.write_all(&options(sip, me, call_id)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).expect("timeout");
    let mut buf = [0u8; 4096];
    let n = stream.read(&mut buf).ok()?;
    status(&String::from_utf8_lossy(&buf[..n]))
}

#[tokio::test]
async fn issue_13_5_an_idle_sip_tcp_connection_is_closed_but_one_carrying_a_call_is_not() {
    let recorder = Recorder::start_with(|c| c.sip_tcp_idle_timeout_secs = 1).await;
    let (admin, _cast) = cast_with(&recorder, &[]).await;
    let sip = recorder.sip;
    // A call over TCP whose connection then carries no SIP for longer than the timeout.
    let sim = callrec_sim::Sim::connect(sip, Transport::Tcp)
        .await
        .expect("the simulator connects over TCP");
    let call = sim
        .call()
        .mon_mode("force")
        .invite()
        .await
        .expect("the recorder answers");
    let id = recorder.call_id(call.call_id()).await;

    let idle = tokio::task::spawn_blocking(move || {
        let mut s = TcpStream::connect(sip).expect("connect");
        let answered = options_over(&mut s, sip, "idle-1");
        (answered, closed_within(&mut s, Duration::from_secs(10)))
    })
    .await
    .expect("task");
    assert_eq!(idle.0, Some(200), "the connection is served at first");
    assert!(
        idle.1,
        "a connection with no traffic and no session is closed after the idle timeout"
    );
    assert!(
        recorder.metric("callrec_sip_tcp_idle_closed_total").await >= 1,
        "the idle close is counted"
    );
    // The call's connection has been quiet for as long: it must still carry the BYE.
    recorder.hang_up(call, id).await;
    let detail = super::finished_call(&admin, id).await;
    assert_eq!(
        detail.recordings.len(),
        1,
        "the call over the quiet connection was recorded"
    );
    recorder.stop().await;
}

#[tokio::test]
async fn issue_13_5_sip_tcp_connections_beyond_the_limit_are_closed_at_once() {
    let recorder = Recorder::start_with(|c| c.sip_tcp_max_connections = 2).await;
    let sip = recorder.sip;
    let (third_closed, reopened) = tokio::task::spawn_blocking(move || {
        let mut one = TcpStream::connect(sip).expect("connect 1");
        let mut two = TcpStream::connect(sip).expect("connect 2");
        assert_eq!(
            options_over(&mut one, sip, "lim-1"),
            Some(200),
            "first connection served"
        );
        assert_eq!(
            options_over(&mut two, sip, "lim-2"),
            Some(200),
            "second connection served"
        );
        let mut three = TcpStream::connect(sip).expect("the kernel accepts the third");
        let third_closed = closed_within(&mut three, Duration::from_secs(10));
        drop(one);
        // The server notices the close when it reads; then a new connection fits again.
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut reopened = None;
        let mut n = 0;
        while reopened != Some(200) && Instant::now() < deadline {
            n += 1;
            let mut again = TcpStream::connect(sip).expect("connect again");
            reopened = options_over(&mut again, sip, &format!("lim-again-{n}"));
            if reopened != Some(200) {
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        (third_closed, reopened)
    })
    .await
    .expect("task");
    assert!(
        third_closed,
        "a connection beyond sip_tcp_max_connections is closed at once"
    );
    assert_eq!(reopened, Some(200), "once one closes, a new connection is served");
    assert!(
        recorder.metric("callrec_sip_tcp_refused_total").await >= 1,
        "the refusal is counted"
    );
    recorder.stop().await;
}

#[tokio::test]
async fn issue_13_5_no_sip_tcp_connection_is_taken_from_the_file_descriptor_reserve() {
    // A reserve larger than the open-file limit: no descriptor may go to a TCP connection.
    let recorder = Recorder::start_with(|c| c.sip_tcp_fd_reserve = 10_000_000).await;
    let sip = recorder.sip;
    let (tcp_closed, udp) = tokio::task::spawn_blocking(move || {
        let mut s = TcpStream::connect(sip).expect("the kernel accepts the connection");
        let me = s.local_addr().expect("addr");
        let _ = s.write_all(&options(sip, me, "reserve-1"));
        let tcp_closed = closed_within(&mut s, Duration::from_secs(10));
        let u = UdpSocket::bind("127.0.0.1:0").expect("bind");
        let me = u.local_addr().expect("addr");
        u.send_to(&options(sip, me, "reserve-2"), sip).expect("send");
        let udp = messages_until(&u, Instant::now() + Duration::from_secs(5), |m| !m.is_empty());
        (tcp_closed, udp.first().and_then(|m| status(m)))
    })
    .await
    .expect("task");
    assert!(
        tcp_closed,
        "the connection is closed without an answer below the reserve"
    );
    assert_eq!(
        udp,
        Some(200),
        "SIP over UDP, which needs no new descriptor, is still served"
    );
    assert!(
        recorder.metric("callrec_sip_tcp_refused_total").await >= 1,
        "the refusal is counted"
    );
    recorder.stop().await;
}
