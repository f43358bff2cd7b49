//! A canned HTTP/1.1 server on 127.0.0.1:0 for the client's unit tests: it answers each
//! connection with the next prepared response and records what the client sent. Just
//! enough HTTP for these tests (Content-Length or chunked request bodies, one request per
//! connection), so the client is tested over a real socket without a server framework.

use crate::Client;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// One prepared response. `chunks` are written one after another with a flush between.
pub struct Canned {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub chunks: Vec<Vec<u8>>,
}

impl Canned {
    pub fn json(status: u16, body: &str) -> Canned {
        Canned {
            status,
            headers: vec![
                ("Content-Type", "application/json".to_string()),
                ("Content-Length", body.len().to_string()),
            ],
            chunks: vec![body.as_bytes().to_vec()],
        }
    }

    pub fn text(status: u16, body: &str) -> Canned {
        Canned {
            status,
            headers: vec![
                ("Content-Type", "text/plain".to_string()),
                ("Content-Length", body.len().to_string()),
            ],
            chunks: vec![body.as_bytes().to_vec()],
        }
    }

    pub fn empty(status: u16) -> Canned {
        Canned {
            status,
            headers: vec![("Content-Length", "0".to_string())],
            chunks: Vec::new(),
        }
    }

    /// A body without Content-Length, ended by closing the connection.
    pub fn streamed(status: u16, content_type: &str, chunks: &[&[u8]]) -> Canned {
        Canned {
            status,
            headers: vec![("Content-Type", content_type.to_string())],
            chunks: chunks.iter().map(|c| c.to_vec()).collect(),
        }
    }
}

/// What the client sent: the request line and headers as text, and the body.
#[derive(Debug)]
pub struct Recorded {
    pub head: String,
    pub body: Vec<u8>,
}

impl Recorded {
    pub fn request_line(&self) -> &str {
        self.head.lines().next().unwrap_or("")
    }

    /// A header's value (name compared case-insensitively).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().skip(1).find_map(|line| {
            let (n, v) = line.split_once(':')?;
            n.eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }
}

/// Starts the server; the handle resolves to the recorded requests once every canned
/// response has been served.
pub async fn serve(responses: Vec<Canned>) -> (Client, JoinHandle<Vec<Recorded>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("bound address");
    let handle = tokio::spawn(async move {
        let mut recorded = Vec::new();
        for canned in responses {
            let (mut stream, _) = listener.accept().await.expect("accept");
            recorded.push(read_request(&mut stream).await);
            write_response(&mut stream, canned).await;
        }
        recorded
    });
    let client = Client::new(&format!("http://{addr}")).expect("a valid local URL");
    (client, handle)
}

async fn read_request(stream: &mut TcpStream) -> Recorded {
    let mut buf = Vec::new();
    let mut tmp = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = stream.read(&mut tmp).await.expect("read request");
        assert!(n > 0, "the client closed before sending a whole head");
        buf.extend_from_slice(&tmp[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut body = buf[head_end..].to_vec();
    let probe = Recorded { head, body: Vec::new() };
    let length = probe.header("content-length").and_then(|v| v.parse::<usize>().ok());
    let chunked = probe
        .header("transfer-encoding")
        .is_some_and(|v| v.eq_ignore_ascii_case("chunked"));
    loop {
        let complete = match length {
            Some(len) => body.len() >= len,
            None if chunked => body.ends_with(b"0\r\n\r\n"),
            None => true,
        };
        if complete {
            break;
        }
        let n = stream.read(&mut tmp).await.expect("read body");
        if n == 0 {
            break;
        }
        body.extend_from_slice(&tmp[..n]);
    }
    Recorded { head: probe.head, body }
}

async fn write_response(stream: &mut TcpStream, canned: Canned) {
    let mut head = format!("HTTP/1.1 {} Canned\r\nConnection: close\r\n", canned.status);
    for (name, value) in &canned.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    // The client may hang up early (e.g. a HEAD or an error it stops reading); ignore that.
    if stream.write_all(head.as_bytes()).await.is_err() {
        return;
    }
    for chunk in canned.chunks {
        if stream.write_all(&chunk).await.is_err() || stream.flush().await.is_err() {
            return;
        }
        tokio::task::yield_now().await;
    }
    let _ = stream.shutdown().await;
}
