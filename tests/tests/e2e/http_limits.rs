//! End-to-end, issue #13.5: the HTTP side cannot be held open by clients that say nothing.
//! The real server on 127.0.0.1:0 with short limits, real sockets:
//!
//! - a request head cut off in the middle is closed after the header timeout;
//! - a connection that never sends anything, and a kept-alive connection after its response,
//!   are closed after the idle timeout;
//! - a push stream that is only quiet is not (its keep-alives count as traffic);
//! - at the connection limit the connection idle longest is closed and the new one served.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use callrec_tests::TestServer;

async fn server() -> TestServer {
    TestServer::start_with(|c| {
        c.http_header_timeout_secs = 1;
        c.http_idle_timeout_secs = 2;
        c.http_max_connections = 4;
    })
    .await
}

/// Reads until the server closes the connection, up to `limit`: the bytes read, or `None`
/// if it was still open at the limit.
fn read_until_closed(s: &mut TcpStream, limit: Duration) -> Option<Vec<u8>> {
    let deadline = Instant::now() + limit;
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let left = deadline.checked_duration_since(Instant::now())?;
        s.set_read_timeout(Some(left.max(Duration::from_millis(1))))
            .expect("timeout");
        match s.read(&mut buf) {
            Ok(0) => return Some(out),
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => return None,
            // A reset is a close too.
            Err(_) => return Some(out),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue13_half_sent_and_silent_connections_are_closed() {
    let server = server().await;
    let addr = server.addr;
    tokio::task::spawn_blocking(move || {
        let mut half = TcpStream::connect(addr).expect("connect");
        half.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            .expect("send");
        let mut silent = TcpStream::connect(addr).expect("connect");
        let mut kept = TcpStream::connect(addr).expect("connect");
        kept.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            .expect("send");

        assert!(
            read_until_closed(&mut half, Duration::from_secs(10)).is_some(),
            "a request head cut off in the middle is closed (header timeout 1 s)"
        );
        assert!(
            read_until_closed(&mut silent, Duration::from_secs(10)).is_some(),
            "a connection that never sends anything is closed"
        );
        let answer = read_until_closed(&mut kept, Duration::from_secs(10))
            .expect("a kept-alive connection is closed after its response when idle (2 s)");
        assert!(
            String::from_utf8_lossy(&answer).starts_with("HTTP/1.1 200"),
            "and it was served first"
        );
    })
    .await
    .expect("the checks run");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue13_a_quiet_push_stream_outlives_the_idle_timeout() {
    let server = server().await;
    let admin = server.admin().await;
    let token = admin.token().expect("a token").to_owned();
    let addr = server.addr;
    tokio::task::spawn_blocking(move || {
        let mut push = TcpStream::connect(addr).expect("connect");
        write!(
            push,
            "GET /api/v1/events HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\nAuthorization: Bearer {token}\r\n\r\n"
        )
        .expect("send");
        // Three idle timeouts with no event: only keep-alives flow.
        assert!(
            read_until_closed(&mut push, Duration::from_secs(6)).is_none(),
            "the push stream is still open after three idle timeouts"
        );
    })
    .await
    .expect("the checks run");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue13_at_the_connection_limit_the_idlest_connection_makes_room() {
    let server = server().await;
    let addr = server.addr;
    tokio::task::spawn_blocking(move || {
        // Four connections (the limit), the first one idle longest.
        let mut first = TcpStream::connect(addr).expect("connect");
        std::thread::sleep(Duration::from_millis(200));
        let _others: Vec<TcpStream> = (0..3)
            .map(|_| {
                let s = TcpStream::connect(addr).expect("connect");
                std::thread::sleep(Duration::from_millis(50));
                s
            })
            .collect();
        std::thread::sleep(Duration::from_millis(200));
        let mut fresh = TcpStream::connect(addr).expect("connect");
        fresh
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .expect("send");
        let answer = read_until_closed(&mut fresh, Duration::from_secs(5)).expect("the new connection is served");
        assert!(
            String::from_utf8_lossy(&answer).starts_with("HTTP/1.1 200"),
            "the fifth connection gets its answer: {:?}",
            String::from_utf8_lossy(&answer)
        );
        assert!(
            read_until_closed(&mut first, Duration::from_millis(500)).is_some(),
            "the connection idle longest was closed to make room"
        );
    })
    .await
    .expect("the checks run");
}
