//! The `callrec-server` command line as API.md specifies it: `default-config` prints a
//! template that loads back into the defaults, and a bad configuration exits with status 2
//! and one line naming its source, before anything is bound or written.

use std::process::{Command, Output};

use callrec_server::config::{Config, ServeArgs};

/// The binary with no inherited `CALLREC_*` variables, so the host environment cannot leak
/// into the assertions.
fn server() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_callrec-server"));
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("CALLREC_") {
            cmd.env_remove(name);
        }
    }
    cmd
}

fn run(cmd: &mut Command) -> Output {
    cmd.output().expect("the callrec-server binary runs")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn default_config_prints_a_template_that_loads_as_the_defaults() {
    let out = run(server().arg("default-config"));
    assert!(out.status.success(), "default-config succeeds: {}", stderr(&out));
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("callrec.toml");
    std::fs::write(&path, &out.stdout).expect("write the template");
    let args = ServeArgs {
        config: Some(path),
        ..ServeArgs::default()
    };
    let loaded = Config::load(&args, &|_| None).expect("the printed template loads");
    assert_eq!(loaded, Config::default(), "the template holds the defaults");
}

#[test]
fn bad_flag_value_exits_2_with_one_line_naming_the_flag() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = run(server()
        .args(["serve", "--http", "localhost:80x", "--data-dir"])
        .arg(dir.path()));
    assert_eq!(out.status.code(), Some(2), "bad config is a usage error");
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "one line, no backtrace: {err}");
    assert!(
        err.contains("--http: \"localhost:80x\" is not ADDR:PORT"),
        "names the flag: {err}"
    );
    assert_eq!(
        std::fs::read_dir(dir.path()).expect("data dir").count(),
        0,
        "nothing written before the config is valid"
    );
}

#[test]
fn bad_environment_value_exits_2_naming_the_variable() {
    let out = run(server().arg("serve").env("CALLREC_RTP_PORTS", "20001-29999"));
    assert_eq!(out.status.code(), Some(2), "bad config is a usage error");
    assert!(
        stderr(&out).contains("CALLREC_RTP_PORTS: \"20001-29999\""),
        "names the variable: {}",
        stderr(&out)
    );
}

#[test]
fn bad_config_file_exits_2_naming_file_and_key() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("callrec.toml");
    std::fs::write(&path, "http = \"127.0.0.1:8080\"\nhtp = \"typo\"\n").expect("write");
    let out = run(server().arg("serve").arg("--config").arg(&path));
    assert_eq!(out.status.code(), Some(2), "unknown key is refused");
    let err = stderr(&out);
    assert!(
        err.contains("callrec.toml:2:1") && err.contains("htp"),
        "file, line and key: {err}"
    );

    let out = run(server()
        .args(["serve", "--config"])
        .arg(dir.path().join("missing.toml")));
    assert_eq!(out.status.code(), Some(2), "missing file is refused");
    assert!(
        stderr(&out).contains("missing.toml"),
        "names the file: {}",
        stderr(&out)
    );
}

#[test]
fn unknown_subcommand_or_flag_is_a_usage_error() {
    let out = run(server().args(["serve", "--no-such-flag"]));
    assert_eq!(out.status.code(), Some(2), "clap usage error");
}
