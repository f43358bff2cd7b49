//! SRTP round trip with libsrtp 2, the reference implementation (Debian's `libsrtp2-dev`,
//! installed by scripts/test.sh): packets we protect open in libsrtp, packets libsrtp protects
//! open here, across a sequence-number rollover, and a tampered packet is refused by both.
//!
//! The helper (tests/libsrtp/srtp_ref.c) is compiled with the system C compiler when the
//! test runs; a missing compiler or library fails the test with the command that failed.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use callrec_media::rtp::{write_packet, RtpHeader};
use callrec_media::sdp::{CryptoSuite, MasterKey};
use callrec_media::srtp::{SrtpError, SrtpReceiver, SrtpSender};

fn helper(dir: &Path) -> PathBuf {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/libsrtp/srtp_ref.c");
    let bin = dir.join("srtp_ref");
    let out = Command::new("cc")
        .arg("-O2")
        .arg("-o")
        .arg(&bin)
        .arg(&src)
        .arg("-lsrtp2")
        .output()
        .expect("run cc (install build-essential)");
    assert!(
        out.status.success(),
        "cc {} -lsrtp2 failed (install libsrtp2-dev): {}",
        src.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    bin
}

/// Runs the helper over `packets`; each answer is the packet or `Err(status)`.
fn libsrtp(bin: &Path, mode: &str, suite: &str, key: &MasterKey, packets: &[Vec<u8>]) -> Vec<Result<Vec<u8>, String>> {
    let key_hex = hex::encode([key.key(), key.salt()].concat());
    let mut child = Command::new(bin)
        .args([mode, suite, &key_hex])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the libsrtp helper");
    let mut stdin = child.stdin.take().expect("stdin");
    for p in packets {
        writeln!(stdin, "{}", hex::encode(p)).expect("write");
    }
    drop(stdin);
    let lines: Vec<String> = BufReader::new(child.stdout.take().expect("stdout"))
        .lines()
        .map(|l| l.expect("line"))
        .collect();
    assert!(
        child.wait().expect("wait").success(),
        "the helper failed ({mode} {suite})"
    );
    assert_eq!(lines.len(), packets.len(), "one answer per packet");
    lines
        .into_iter()
        .map(|l| match l.strip_prefix("ERR ") {
            Some(e) => Err(e.to_owned()),
            None => Ok(hex::decode(l).expect("hex")),
        })
        .collect()
}

fn packets(ssrc: u32) -> Vec<Vec<u8>> {
    (0..25u16)
        .map(|i| {
            let seq = 65_520u16.wrapping_add(i); // wraps to 0 after 16 packets
            let header = RtpHeader {
                padding: false,
                extension: false,
                csrc_count: 0,
                marker: i == 0,
                payload_type: 8,
                sequence: seq,
                timestamp: u32::from(i) * 160,
                ssrc,
            };
            let payload: Vec<u8> = (0..160u32).map(|b| (b as u8) ^ (i as u8)).collect();
            let mut out = Vec::new();
            write_packet(&header, &payload, &mut out);
            out
        })
        .collect()
}

#[test]
fn libsrtp_and_callrec_open_each_others_packets() {
    let dir = tempfile_dir();
    let bin = helper(&dir);
    for (suite, name) in [
        (CryptoSuite::AesCm128HmacSha1_80, "80"),
        (CryptoSuite::AesCm128HmacSha1_32, "32"),
        (CryptoSuite::AesCm256HmacSha1_80, "256_80"),
    ] {
        let bytes: Vec<u8> = (0..suite.key_len() + suite.salt_len())
            .map(|i| (i * 7 + 3) as u8)
            .collect();
        let key = MasterKey::new(suite, bytes).expect("key");
        let plain = packets(0x5EC0_0001);

        // Ours → libsrtp.
        let mut tx = SrtpSender::new(&key).expect("sender");
        let mut ours: Vec<Vec<u8>> = plain.iter().map(|p| tx.protect(p).expect("protect").to_vec()).collect();
        // The last packet, never seen before, with one payload bit flipped.
        ours[24][30] ^= 0x04;
        let opened = libsrtp(&bin, "unprotect", name, &key, &ours);
        for (i, p) in plain.iter().enumerate().take(24) {
            assert_eq!(
                opened[i].as_ref().ok(),
                Some(p),
                "{suite}: libsrtp opens our packet {i} (rollover at 16)"
            );
        }
        assert!(opened[24].is_err(), "{suite}: libsrtp refuses our tampered packet");

        // libsrtp → ours.
        let theirs = libsrtp(&bin, "protect", name, &key, &plain);
        let mut rx = SrtpReceiver::new(&key).expect("receiver");
        for (i, p) in plain.iter().enumerate().take(24) {
            let sealed = theirs[i].as_ref().expect("libsrtp protects");
            assert_eq!(sealed, &ours[i], "{suite}: both produce the same bytes for packet {i}");
            assert_eq!(
                &rx.unprotect(sealed).expect("we open libsrtp's packet")[..],
                &p[..],
                "{suite}: packet {i}"
            );
        }
        let mut tampered = theirs[24].clone().expect("sealed");
        tampered[12] ^= 0x01;
        assert_eq!(
            rx.unprotect(&tampered).err(),
            Some(SrtpError::Auth),
            "{suite}: we refuse libsrtp's tampered packet"
        );
    }
}

fn tempfile_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("callrec-srtp-ref-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}
