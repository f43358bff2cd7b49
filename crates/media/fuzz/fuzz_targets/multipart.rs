//! multipart/mixed: the first line is the Content-Type, the rest the body.
#![no_main]

use callrec_media::multipart::{parse, MediaType, MAX_PARTS};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let split = data.iter().position(|&b| b == b'\n').unwrap_or(data.len());
    let Ok(content_type) = std::str::from_utf8(&data[..split]) else {
        return;
    };
    let body = data.get(split + 1..).unwrap_or(&[]);
    let _ = MediaType::parse(content_type);
    if let Ok(parts) = parse(content_type, body) {
        assert!(parts.len() <= MAX_PARTS, "part limit holds");
        let total: usize = parts.iter().map(|p| p.body.len()).sum();
        assert!(total <= body.len(), "parts come from the body");
        for p in &parts {
            let _ = p.content_type();
        }
    }
});
