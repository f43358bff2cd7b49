//! Tests of the configuration sources (`layer`): every key from the file and the environment,
//! flags, refusals with their origin, TLS keys.

use super::*;
use crate::config::tests::{load_with, message, parse_file};
use crate::config::KEYS;

#[test]
fn every_key_has_a_file_key_and_env_var() {
    // A key missing from FileConfig is refused by deny_unknown_fields; a key missing from
    // env_layer leaves the default. Setting each to a non-default value catches both.
    let values: [(&str, &str, &str); 41] = [
        ("data_dir", "\"/srv/rec\"", "/srv/rec"),
        ("http", "\"0.0.0.0:80\"", "0.0.0.0:80"),
        ("sip", "\"0.0.0.0:5080\"", "0.0.0.0:5080"),
        ("sips", "\"0.0.0.0:5061\"", "0.0.0.0:5061"),
        ("tls_cert_file", "\"/etc/callrec/cert.pem\"", "/etc/callrec/cert.pem"),
        ("tls_key_file", "\"/etc/callrec/key.pem\"", "/etc/callrec/key.pem"),
        (
            "tls_client_ca_file",
            "\"/etc/callrec/sbc-ca.pem\"",
            "/etc/callrec/sbc-ca.pem",
        ),
        ("require_srtp", "true", "true"),
        ("rtp_ports", "\"30000-30099\"", "30000-30099"),
        ("database_url", "\"sqlite::memory:\"", "sqlite::memory:"),
        ("bootstrap_admin_password", "\"pw\"", "pw"),
        ("ingest_token", "\"tok\"", "tok"),
        ("demo", "true", "true"),
        ("session_ttl_hours", "3", "3"),
        ("max_upload_bytes", "4096", "4096"),
        ("sip_session_timeout_secs", "5", "5"),
        ("sip_ack_timeout_secs", "3", "3"),
        ("sip_unacknowledged_per_source", "7", "7"),
        ("sip_tcp_max_connections", "9", "9"),
        ("sip_tcp_idle_timeout_secs", "11", "11"),
        ("sip_tcp_fd_reserve", "13", "13"),
        ("retention_days", "7", "7"),
        ("dispatch_schedule", "\"30 2 * * 1-5\"", "30 2 * * 1-5"),
        ("script_timeout_secs", "9", "9"),
        ("shutdown_grace_secs", "7", "7"),
        ("http_header_timeout_secs", "7", "7"),
        ("http_idle_timeout_secs", "7", "7"),
        ("http_max_connections", "7", "7"),
        ("disk_full_buffer_secs", "2", "2"),
        ("storage_url", "\"s3://rec/p\"", "s3://rec/p"),
        ("node_id", "\"rec-2\"", "rec-2"),
        ("encryption_key_file", "\"/etc/k\"", "/etc/k"),
        ("node_lease_secs", "3", "3"),
        ("pause_fill", "\"tone\"", "tone"),
        ("pause_auto_resume_secs", "90", "90"),
        ("transcription", "true", "true"),
        ("transcription_command", "\"python3 w.py\"", "python3 w.py"),
        ("transcription_model_dir", "\"/opt/m\"", "/opt/m"),
        ("transcription_lease_secs", "60", "60"),
        ("transcription_wait_secs", "120", "120"),
        ("log", "\"debug\"", "debug"),
    ];
    assert_eq!(values.map(|v| v.0), KEYS, "test covers every key");
    for (key, toml_value, env_value) in values {
        // A TLS listener needs its certificate and key; both sources name the same ones.
        let (extra_file, extra_env): (&str, &[(&str, &str)]) = if key == "sips" {
            (
                "tls_cert_file = \"c.pem\"\ntls_key_file = \"k.pem\"\n",
                &[("CALLREC_TLS_CERT_FILE", "c.pem"), ("CALLREC_TLS_KEY_FILE", "k.pem")],
            )
        } else {
            ("", &[])
        };
        let from_file = parse_file(&format!("{key} = {toml_value}\n{extra_file}"))
            .unwrap_or_else(|e| panic!("file key {key}: {e}"));
        let var = format!("CALLREC_{}", key.to_ascii_uppercase());
        let mut vars = vec![(var.as_str(), env_value)];
        vars.extend_from_slice(extra_env);
        let from_env = load_with(&ServeArgs::default(), &vars).unwrap_or_else(|e| panic!("{var}: {e}"));
        assert_ne!(from_file, Config::default(), "file key {key} takes effect");
        assert_eq!(from_file, from_env, "{var} means the same as file key {key}");
    }
}

#[test]
fn demo_flag_switches_on_and_absent_flag_keeps_env() {
    let on = ServeArgs {
        demo: true,
        ..ServeArgs::default()
    };
    assert!(
        load_with(&on, &[("CALLREC_DEMO", "false")]).expect("loads").demo,
        "flag wins"
    );
    assert!(
        load_with(&ServeArgs::default(), &[("CALLREC_DEMO", "yes")])
            .expect("loads")
            .demo,
        "env yes"
    );
    assert!(message(load_with(&ServeArgs::default(), &[("CALLREC_DEMO", "maybe")])).contains("CALLREC_DEMO"));
}

#[test]
fn unknown_file_key_is_named_with_its_position() {
    let e = message(parse_file("http = \"127.0.0.1:80\"\nhtp = \"x\"\n"));
    assert!(e.starts_with("config file callrec.toml:2:1:"), "position: {e}");
    assert!(e.contains("htp"), "names the key: {e}");
    assert!(!e.contains('\n'), "one line: {e}");
    let e = message(parse_file("http = "));
    assert!(e.starts_with("config file callrec.toml:1:"), "syntax error: {e}");
}

#[test]
fn missing_and_oversized_files_are_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let missing = ServeArgs {
        config: Some(dir.path().join("nope.toml")),
        ..ServeArgs::default()
    };
    assert!(
        message(load_with(&missing, &[])).starts_with("cannot read config file"),
        "missing"
    );
    let big = dir.path().join("big.toml");
    let mut text = String::from("log = \"info\"\n");
    text.push_str(&"#".repeat(MAX_CONFIG_FILE_BYTES as usize));
    std::fs::write(&big, text).expect("write");
    let args = ServeArgs {
        config: Some(big),
        ..ServeArgs::default()
    };
    assert!(message(load_with(&args, &[])).contains("larger than"), "size limit");
}

#[test]
fn sips_needs_a_certificate_and_key_and_a_port_of_its_own() {
    let e = message(load_with(&ServeArgs::default(), &[("CALLREC_SIPS", "127.0.0.1:5061")]));
    assert!(
        e.contains("tls_cert_file") && e.contains("CALLREC_TLS_CERT"),
        "names the missing key: {e}"
    );
    let c = load_with(
        &ServeArgs::default(),
        &[
            ("CALLREC_SIPS", "127.0.0.1:5061"),
            ("CALLREC_TLS_CERT", "/etc/callrec/cert.pem"),
            ("CALLREC_TLS_KEY", "/etc/callrec/key.pem"),
        ],
    )
    .expect("the short variable names work");
    assert_eq!(
        c.tls_key_file.as_deref(),
        Some(Path::new("/etc/callrec/key.pem")),
        "CALLREC_TLS_KEY"
    );
    let e = message(load_with(
        &ServeArgs {
            sips: Some("127.0.0.1:5060".into()),
            ..ServeArgs::default()
        },
        &[("CALLREC_TLS_CERT", "c.pem"), ("CALLREC_TLS_KEY", "k.pem")],
    ));
    assert!(e.contains("sip and sips"), "same TCP port as sip: {e}");
}

#[test]
fn line_column_counts_from_one() {
    assert_eq!(line_column("ab\ncd", 0), (1, 1));
    assert_eq!(line_column("ab\ncd", 4), (2, 2));
}
