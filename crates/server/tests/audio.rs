//! `callrec_server::audio::respond` behind a real HTTP/1.1 connection: what hyper sends on
//! the wire, not just what the handler returns. Checks that bodies larger than one chunk
//! arrive whole in both renditions, that ranges crossing chunk boundaries are exact, and that
//! HEAD keeps the Content-Length a GET would have (hyper must not replace it with 0).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use callrec_media::g711::Law;
use callrec_media::wav::{wav_header, Codec};
use callrec_server::audio::{respond, AudioFormat, AudioSource, CHUNK_BYTES};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

async fn handler(
    State(src): State<Arc<AudioSource>>,
    Path(format): Path<String>,
    method: Method,
    headers: HeaderMap,
) -> Response {
    let format: AudioFormat = format.parse().expect("test route uses a known format");
    respond(&src, format, false, &method, &headers)
        .await
        .expect("fixture is readable")
}

/// Serves `src` at `/original` and `/pcm16` on an ephemeral port.
async fn serve(src: AudioSource) -> SocketAddr {
    let app = Router::new().route("/{format}", get(handler)).with_state(Arc::new(src));
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("local addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

struct Reply {
    status: u16,
    headers: HashMap<String, String>,
    body: Vec<u8>,
}

/// One request on its own connection, read until the server closes it.
async fn request(addr: SocketAddr, method: &str, path: &str, extra: &[(&str, &str)]) -> Reply {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n");
    for (k, v) in extra {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    stream.write_all(req.as_bytes()).await.expect("send");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.expect("receive");
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").expect("a header block");
    let head = String::from_utf8(raw[..split].to_vec()).expect("ASCII headers");
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .expect("status line");
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Reply {
        status,
        headers,
        body: raw[split + 4..].to_vec(),
    }
}

/// A stereo µ-law recording several chunks long, and its PCM16 rendition computed
/// independently of the server.
fn fixture() -> (tempfile::TempDir, AudioSource, Vec<u8>, Vec<u8>) {
    let data: Vec<u8> = (0..3 * CHUNK_BYTES + 1234)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 7) as u8)
        .collect();
    let data = &data[..data.len() - data.len() % 2];
    let mut original = wav_header(Codec::Ulaw, 8000, 2, data.len() as u32);
    original.extend_from_slice(data);
    let mut pcm = wav_header(Codec::Pcm16, 8000, 2, 2 * data.len() as u32);
    for b in data {
        pcm.extend_from_slice(&Law::Ulaw.decode(*b).to_le_bytes());
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("20261126-101500-42_001.wav");
    std::fs::write(&path, &original).expect("write fixture");
    let src = AudioSource {
        path,
        sha256: String::new(),
        file_name: "20261126-101500-42_001.wav".into(),
        vault: Default::default(),
    };
    (dir, src, original, pcm)
}

#[tokio::test]
async fn whole_files_arrive_with_exact_content_length() {
    let (_dir, src, original, pcm) = fixture();
    let addr = serve(src).await;
    for (path, want) in [("/original", &original), ("/pcm16", &pcm)] {
        let r = request(addr, "GET", path, &[]).await;
        assert_eq!(r.status, 200, "{path} status");
        assert_eq!(
            r.headers.get("content-length"),
            Some(&want.len().to_string()),
            "{path} length"
        );
        assert!(!r.headers.contains_key("transfer-encoding"), "{path} is not chunked");
        assert_eq!(r.headers.get("content-type").map(String::as_str), Some("audio/wav"));
        assert!(r.body == *want, "{path} body is byte-exact ({} bytes)", r.body.len());
    }
}

#[tokio::test]
async fn ranges_across_chunk_boundaries_are_exact() {
    let (_dir, src, original, pcm) = fixture();
    let addr = serve(src).await;
    let a = CHUNK_BYTES - 3;
    let b = 2 * CHUNK_BYTES + 5;
    for (path, want) in [("/original", &original), ("/pcm16", &pcm)] {
        let r = request(addr, "GET", path, &[("Range", &format!("bytes={a}-{b}"))]).await;
        assert_eq!(r.status, 206, "{path} partial");
        assert_eq!(
            r.headers.get("content-range"),
            Some(&format!("bytes {a}-{b}/{}", want.len())),
            "{path} content-range"
        );
        assert!(r.body == want[a..=b], "{path} range body is byte-exact");
    }
}

#[tokio::test]
async fn head_keeps_the_get_content_length_and_sends_no_body() {
    let (_dir, src, original, pcm) = fixture();
    let addr = serve(src).await;
    let r = request(addr, "HEAD", "/original", &[]).await;
    assert_eq!(r.status, 200, "HEAD status");
    assert_eq!(
        r.headers.get("content-length"),
        Some(&original.len().to_string()),
        "full length"
    );
    assert!(r.body.is_empty(), "HEAD has no body");
    assert_eq!(r.headers.get("accept-ranges").map(String::as_str), Some("bytes"));

    let r = request(addr, "HEAD", "/pcm16", &[("Range", "bytes=100-")]).await;
    assert_eq!(r.status, 206, "HEAD with Range");
    assert_eq!(
        r.headers.get("content-length"),
        Some(&(pcm.len() - 100).to_string()),
        "range length"
    );
    assert!(r.body.is_empty(), "HEAD has no body");
}

#[tokio::test]
async fn unsatisfiable_range_is_416_with_the_length() {
    let (_dir, src, original, _) = fixture();
    let addr = serve(src).await;
    let r = request(
        addr,
        "GET",
        "/original",
        &[("Range", &format!("bytes={}-", original.len()))],
    )
    .await;
    assert_eq!(r.status, 416, "past the end");
    assert_eq!(
        r.headers.get("content-range"),
        Some(&format!("bytes */{}", original.len()))
    );
}
