//! End-to-end (issue #18): SIPREC over TLS with SRTP media, as enterprise SBCs send it. The
//! real recorder with a `sips` listener on 127.0.0.1:0, certificates made for the test by the
//! `openssl` command (a CA, the recorder's certificate for 127.0.0.1, a client certificate for
//! mutual TLS, and an unrelated CA), and `callrec-sim` placing calls over TLS with SRTP keys
//! of its own (SDES, `a=crypto`).
//!
//! Cases: a call over TLS with SRTP on both streams is recorded stereo with each channel's
//! tone; tampered packets are dropped and counted; the wrong key gives counted
//! authentication failures and a silent recording, not noise; certificate problems are clear
//! errors (at start-up, and at the handshake); mutual TLS refuses a client without a
//! certificate from the configured CA; `require_srtp` refuses plain RTP with 488 and keeps
//! taking SRTP; a re-INVITE with a new key re-keys the stream.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use callrec_media::sdp::CryptoSuite;
use callrec_server::config::Config;
use callrec_server::Server;
use callrec_sim::{Sim, SimError, TlsClient};
use callrec_tests::test_config;
use callrec_types::rules::RuleMode;

use crate::siprec::{audio, cast_with, finished_call, Recorder};

/// Certificates for one test, made with the `openssl` command in a temporary directory.
struct Pki {
    dir: tempfile::TempDir,
}

impl Pki {
    fn new() -> Pki {
        let dir = tempfile::tempdir().expect("a temp dir for certificates");
        let pki = Pki { dir };
        pki.ca("ca");
        pki.ca("other-ca");
        pki.issue(
            "server",
            "ca",
            "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n",
        );
        pki.issue("client", "ca", "extendedKeyUsage=clientAuth\n");
        pki
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn openssl(&self, args: &[&str]) {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(self.dir.path())
            .output()
            .expect("run openssl");
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn ca(&self, name: &str) {
        self.openssl(&[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            &format!("{name}.key"),
            "-out",
            &format!("{name}.pem"),
            "-days",
            "2",
            "-subj",
            &format!("/CN=callrec test {name}"),
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ]);
    }

    fn issue(&self, name: &str, ca: &str, extensions: &str) {
        std::fs::write(self.path(&format!("{name}.ext")), extensions).expect("write extensions");
        self.openssl(&[
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            &format!("{name}.key"),
            "-out",
            &format!("{name}.csr"),
            "-subj",
            &format!("/CN=callrec test {name}"),
        ]);
        self.openssl(&[
            "x509",
            "-req",
            "-in",
            &format!("{name}.csr"),
            "-CA",
            &format!("{ca}.pem"),
            "-CAkey",
            &format!("{ca}.key"),
            "-CAcreateserial",
            "-out",
            &format!("{name}.pem"),
            "-days",
            "2",
            "-extfile",
            &format!("{name}.ext"),
        ]);
    }

    /// The recorder's TLS settings: its certificate and key, `sips` on an ephemeral port.
    fn serve(&self, c: &mut Config) {
        c.sips = Some(SocketAddr::from(([127, 0, 0, 1], 0)));
        c.tls_cert_file = Some(self.path("server.pem"));
        c.tls_key_file = Some(self.path("server.key"));
    }

    /// A client that trusts `ca` and, when `with_cert`, shows the client certificate.
    fn client(&self, ca: &str, with_cert: bool) -> TlsClient {
        let (cert, key) = (self.path("client.pem"), self.path("client.key"));
        let client = with_cert.then_some((cert.as_path(), key.as_path()));
        TlsClient::new(&self.path(&format!("{ca}.pem")), "127.0.0.1", client).expect("TLS client settings")
    }
}

async fn tls_sim(recorder: &Recorder, tls: &TlsClient) -> Result<Sim, SimError> {
    Sim::connect_tls(recorder.sips.expect("the recorder listens for TLS"), tls).await
}

/// A half-second SRTP call (`AES_CM_128_HMAC_SHA1_80`) answered, then hung up; `what` says
/// why it must be answered.
async fn short_srtp_call(recorder: &Recorder, sim: &Sim, what: &str) {
    let call = sim
        .call()
        .srtp(CryptoSuite::AesCm128HmacSha1_80)
        .invite()
        .await
        .expect(what);
    let id = recorder.call_id(call.call_id()).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    recorder.hang_up(call, id).await;
}

#[tokio::test]
async fn siprec_over_tls_with_srtp_on_both_streams_is_recorded_stereo() {
    let pki = Pki::new();
    let recorder = Recorder::start_with(|c| pki.serve(c)).await;
    let (admin, _cast) = cast_with(&recorder, &[(RuleMode::Automatic, true)]).await;
    let sim = tls_sim(&recorder, &pki.client("ca", false))
        .await
        .expect("TLS handshake");
    let call = sim
        .call()
        .caller("sip:+4930111222@carrier.example")
        .callee("sip:201@pbx.example")
        .srtp(CryptoSuite::AesCm128HmacSha1_80)
        .invite()
        .await
        .expect("the recorder answers over TLS");
    let answer = call.answer().expect("an SDP answer").clone();
    for m in &answer.media {
        assert!(m.is_srtp(), "answered RTP/SAVP: {:?}", m.proto);
        let crypto = m.crypto().expect("our a=crypto parses");
        assert_eq!(crypto.suite, CryptoSuite::AesCm128HmacSha1_80, "the offered suite");
    }
    let keys: Vec<String> = answer
        .media
        .iter()
        .filter_map(|m| m.crypto().ok())
        .map(|c| c.key.inline())
        .collect();
    assert_ne!(keys[0], keys[1], "a key of our own per stream");
    let id = recorder.call_id(call.call_id()).await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let report = recorder.hang_up(call, id).await;
    recorder.rtp_settled().await;
    assert!(
        report.caller_packets >= 100 && report.callee_packets >= 100,
        "both streams sent: {report:?}"
    );

    let detail = finished_call(&admin, id).await;
    assert_eq!(detail.recordings.len(), 1, "one automatic recording");
    let rec = &detail.recordings[0];
    assert_eq!(rec.channels, 2, "stereo");
    let a = audio(&admin, rec).await;
    a.assert_channels("SIPREC over TLS with SRTP");
    assert_eq!(
        recorder.metric("callrec_rtp_srtp_auth_failures_total").await,
        0,
        "every packet authenticated"
    );
    assert_eq!(
        recorder.metric("callrec_rtp_lost_total").await,
        0,
        "nothing lost on loopback"
    );
    assert_eq!(
        recorder.metric("callrec_sip_tls_handshake_failures_total").await,
        0,
        "no failed handshake"
    );
    recorder.stop().await;
}

#[tokio::test]
async fn tampered_srtp_packets_are_dropped_and_counted() {
    let pki = Pki::new();
    let recorder = Recorder::start_with(|c| pki.serve(c)).await;
    let (admin, _cast) = cast_with(&recorder, &[(RuleMode::Automatic, true)]).await;
    let sim = tls_sim(&recorder, &pki.client("ca", false))
        .await
        .expect("TLS handshake");
    let call = sim
        .call()
        .srtp(CryptoSuite::AesCm128HmacSha1_32)
        .srtp_tamper_every(10)
        .invite()
        .await
        .expect("the recorder answers");
    let id = recorder.call_id(call.call_id()).await;
    tokio::time::sleep(Duration::from_millis(2000)).await;
    let report = recorder.hang_up(call, id).await;
    recorder.rtp_settled().await;
    let tampered = report.caller_packets / 10 + report.callee_packets / 10;
    assert!(tampered >= 18, "the simulator tampered with packets: {report:?}");
    assert_eq!(
        recorder.metric("callrec_rtp_srtp_auth_failures_total").await,
        tampered,
        "every tampered packet, and only those, failed authentication"
    );
    assert!(
        recorder.metric("callrec_rtp_lost_total").await >= tampered - 2,
        "the dropped packets are gaps of the recording, not audio"
    );
    let detail = finished_call(&admin, id).await;
    let a = audio(&admin, &detail.recordings[0]).await;
    a.assert_channels("with tampered packets dropped");
    recorder.stop().await;
}

#[tokio::test]
async fn the_wrong_key_is_counted_and_records_silence_not_noise() {
    let pki = Pki::new();
    let recorder = Recorder::start_with(|c| pki.serve(c)).await;
    let (admin, _cast) = cast_with(&recorder, &[(RuleMode::Automatic, true)]).await;
    let sim = tls_sim(&recorder, &pki.client("ca", false))
        .await
        .expect("TLS handshake");
    let call = sim
        .call()
        .srtp(CryptoSuite::AesCm128HmacSha1_80)
        .srtp_wrong_key()
        .invite()
        .await
        .expect("the recorder answers: the key is only wrong in the media");
    let id = recorder.call_id(call.call_id()).await;
    tokio::time::sleep(Duration::from_millis(2000)).await;
    let report = recorder.hang_up(call, id).await;
    let sent = report.caller_packets + report.callee_packets;
    assert!(sent >= 150, "packets were sent: {report:?}");
    recorder.rtp_settled().await;
    let failures = recorder.metric("callrec_rtp_srtp_auth_failures_total").await;
    assert_eq!(failures, sent, "every packet failed authentication");
    let detail = finished_call(&admin, id).await;
    assert_eq!(detail.recordings.len(), 1, "the call was recorded");
    let a = audio(&admin, &detail.recordings[0]).await;
    assert!(a.duration_ms() >= 1500, "the recording spans the call");
    let loud = a
        .caller
        .iter()
        .chain(&a.callee)
        .filter(|s| s.unsigned_abs() > 64)
        .count();
    assert_eq!(loud, 0, "silence, not decrypted noise: {loud} loud samples");
    recorder.stop().await;
}

#[tokio::test]
async fn certificate_problems_are_clear_errors() {
    let pki = Pki::new();
    // At start-up: a missing certificate, a key of another certificate.
    let dir = tempfile::tempdir().expect("dir");
    let start = |tweak: &dyn Fn(&mut Config)| {
        let mut c = test_config(dir.path());
        pki.serve(&mut c);
        tweak(&mut c);
        async move {
            match Server::bind(c).await {
                Ok(_) => panic!("the server must refuse to start"),
                Err(e) => format!("{e:#}"),
            }
        }
    };
    let missing = pki.path("nope.pem");
    let e = start(&|c| c.tls_cert_file = Some(missing.clone())).await;
    assert!(
        e.contains("TLS certificate file") && e.contains("nope.pem"),
        "names the file: {e}"
    );
    assert!(!e.contains('\n'), "one line: {e}");
    let e = start(&|c| c.tls_key_file = Some(pki.path("client.key"))).await;
    assert!(
        e.contains("does not fit the certificate"),
        "a key of another certificate: {e}"
    );
    let e = start(&|c| c.tls_cert_file = Some(pki.path("server.ext"))).await;
    assert!(e.contains("holds no PEM certificate"), "not a certificate: {e}");

    // At the handshake: a client that does not trust the recorder's issuer.
    let recorder = Recorder::start_with(|c| pki.serve(c)).await;
    let err = tls_sim(&recorder, &pki.client("other-ca", false))
        .await
        .err()
        .expect("refused");
    let text = err.to_string();
    assert!(
        text.starts_with("TLS: handshake with") && text.contains("certificate"),
        "clear: {text}"
    );
    let mut failures = 0;
    for _ in 0..50 {
        failures = recorder.metric("callrec_sip_tls_handshake_failures_total").await;
        if failures > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(failures, 1, "the recorder counted the failed handshake");
    recorder.stop().await;
}

#[tokio::test]
async fn mutual_tls_takes_only_clients_with_a_certificate_from_the_ca() {
    let pki = Pki::new();
    let ca = pki.path("ca.pem");
    let recorder = Recorder::start_with(|c| {
        pki.serve(c);
        c.tls_client_ca_file = Some(ca.clone());
    })
    .await;
    let _ = cast_with(&recorder, &[(RuleMode::Automatic, true)]).await;
    // Without a client certificate the handshake (or, in TLS 1.3, the first request) fails.
    let refused = match tls_sim(&recorder, &pki.client("ca", false)).await {
        Err(e) => Err(e),
        Ok(sim) => sim.call().invite().await.map(|_| ()),
    };
    assert!(refused.is_err(), "a client without a certificate is refused");
    let sim = tls_sim(&recorder, &pki.client("ca", true))
        .await
        .expect("TLS handshake with a client cert");
    short_srtp_call(&recorder, &sim, "a client with a certificate from the CA is answered").await;
    assert!(
        recorder.metric("callrec_sip_tls_handshake_failures_total").await >= 1,
        "the refused handshake is counted"
    );
    recorder.stop().await;
}

#[tokio::test]
async fn require_srtp_refuses_plain_rtp_with_488() {
    let recorder = Recorder::start_with(|c| c.require_srtp = true).await;
    let _ = cast_with(&recorder, &[(RuleMode::Automatic, true)]).await;
    let sim = recorder.sim().await;
    match sim.call().invite().await {
        Err(SimError::Rejected(code)) => assert_eq!(code, 488, "plain RTP is not acceptable here"),
        Ok(_) => panic!("plain RTP must be refused"),
        Err(e) => panic!("expected a 488, got {e}"),
    }
    short_srtp_call(&recorder, &sim, "SRTP is taken").await;
    assert!(
        recorder.metric("callrec_sip_rejected_total").await >= 1,
        "the refusal is counted"
    );
    recorder.stop().await;
}

#[tokio::test]
async fn a_reinvite_with_new_keys_rekeys_the_streams() {
    let pki = Pki::new();
    let recorder = Recorder::start_with(|c| pki.serve(c)).await;
    let (admin, _cast) = cast_with(&recorder, &[(RuleMode::Automatic, true)]).await;
    let sim = tls_sim(&recorder, &pki.client("ca", false))
        .await
        .expect("TLS handshake");
    let mut call = sim
        .call()
        .srtp(CryptoSuite::AesCm128HmacSha1_80)
        .invite()
        .await
        .expect("the recorder answers");
    let first: Vec<String> = call
        .answer()
        .expect("answer")
        .media
        .iter()
        .filter_map(|m| m.crypto().ok())
        .map(|c| c.key.inline())
        .collect();
    let id = recorder.call_id(call.call_id()).await;
    tokio::time::sleep(Duration::from_millis(1200)).await;
    call.rekey().await.expect("the re-INVITE with new keys is answered");
    let again: Vec<String> = call
        .answer()
        .expect("answer")
        .media
        .iter()
        .filter_map(|m| m.crypto().ok())
        .map(|c| c.key.inline())
        .collect();
    assert_eq!(first, again, "our own keys stay (the suite did not change)");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let report = recorder.hang_up(call, id).await;
    recorder.rtp_settled().await;
    assert!(
        report.caller_packets >= 120,
        "packets before and after the re-key: {report:?}"
    );
    assert_eq!(
        recorder.metric("callrec_rtp_srtp_auth_failures_total").await,
        0,
        "packets under the new key authenticate, and those in flight under the old one too"
    );
    let detail = finished_call(&admin, id).await;
    let a = audio(&admin, &detail.recordings[0]).await;
    a.assert_channels("across a re-key");
    let blocks = a.caller_blocks();
    let tail = &blocks[blocks.len().saturating_sub(40)..blocks.len().saturating_sub(5)];
    assert!(tail.iter().all(|b| *b), "audio after the re-key is recorded: {tail:?}");
    recorder.stop().await;
}
