//! A throw-away PostgreSQL server, one per test process, started on first use: `initdb` into a
//! temporary directory (owned by `postgres` when the tests run as root, as in CI), a free port
//! on 127.0.0.1, the socket in the same directory, SCRAM passwords, durability off (tests do
//! not survive a power cut). Each caller of [`fresh_database`] gets its own database.
//!
//! Missing PostgreSQL binaries fail with a message saying what to install; there is no skip.
//! `CALLREC_PG_BIN` names another directory of binaries.

use crate::{free_port, running_as_root, watch};
use sqlx::Connection;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

/// A PostgreSQL server: the one of this test process ([`server`]), or one of a test's own
/// ([`own`]) that it may restart.
pub struct Server {
    port: u16,
    password: String,
    bin: PathBuf,
    root: bool,
    dir: PathBuf,
    /// The watcher: its stdin is the pipe whose end stops the server.
    _watcher: Child,
}

static SERVER: OnceLock<Result<Server, String>> = OnceLock::new();
static DATABASES: AtomicUsize = AtomicUsize::new(0);

/// The server, started on first use; panics with what went wrong when it cannot start.
pub fn server() -> &'static Server {
    match SERVER.get_or_init(start) {
        Ok(s) => s,
        Err(e) => panic!("the PostgreSQL test server did not start: {e}"),
    }
}

/// A server of the caller's own (stopped when it is dropped or the process ends), for a test
/// that restarts it; panics with what went wrong when it cannot start.
pub fn own() -> Server {
    start().unwrap_or_else(|e| panic!("a PostgreSQL test server did not start: {e}"))
}

/// The URL of a new, empty database on the test server.
pub async fn fresh_database() -> String {
    server().fresh_database().await
}

impl Server {
    /// `postgres://callrec:…@127.0.0.1:PORT/db`.
    pub fn url(&self, db: &str) -> String {
        format!("postgres://callrec:{}@127.0.0.1:{}/{db}", self.password, self.port)
    }

    /// The port the server listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Restarts the server as an operator would (`pg_ctl restart -m fast`: every connection is
    /// closed, the port refuses connections until the new server is up) and returns once it
    /// accepts connections again.
    pub fn restart(&self) -> Result<(), String> {
        let out = as_server_user(self.root, &self.bin.join("pg_ctl"))
            .arg("restart")
            .arg("-D")
            .arg(self.dir.join("data"))
            .args(["-m", "fast", "-w", "-t", "60", "-l"])
            .arg(self.dir.join("restart.log"))
            .output()
            .map_err(|e| format!("pg_ctl: {e}"))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(format!(
                "pg_ctl restart failed: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ))
        }
    }

    /// Creates a new database and returns its URL.
    pub async fn fresh_database(&self) -> String {
        let name = format!(
            "test_{}_{}",
            std::process::id(),
            DATABASES.fetch_add(1, Ordering::SeqCst)
        );
        let mut conn = sqlx::PgConnection::connect(&self.url("postgres"))
            .await
            .expect("the test server accepts connections");
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .await
            .expect("a fresh database");
        conn.close().await.ok();
        self.url(&name)
    }
}

/// The directory of the PostgreSQL binaries: `CALLREC_PG_BIN`, else the newest
/// `/usr/lib/postgresql/<version>/bin` (Debian's layout).
pub fn binaries() -> Result<PathBuf, String> {
    if let Some(dir) = std::env::var_os("CALLREC_PG_BIN") {
        let dir = PathBuf::from(dir);
        return if dir.join("initdb").exists() {
            Ok(dir)
        } else {
            Err(format!("CALLREC_PG_BIN={} holds no initdb", dir.display()))
        };
    }
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, bin)| bin).ok_or_else(|| {
        "PostgreSQL is not installed (no /usr/lib/postgresql/<version>/bin/initdb). These tests \
         run against a real PostgreSQL: install Debian's `postgresql postgresql-contrib` (CI does, \
         scripts/test.sh), or set CALLREC_PG_BIN to a directory holding initdb and postgres."
            .to_string()
    })
}

/// `program`, run as `postgres` when we are root (PostgreSQL refuses to run as root).
fn as_server_user(root: bool, program: &Path) -> Command {
    if root {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    }
}

fn start() -> Result<Server, String> {
    let bin = binaries()?;
    let root = running_as_root();
    let dir = tempfile::Builder::new()
        .prefix("callrec-pg-")
        .tempdir()
        .map_err(|e| format!("temp dir: {e}"))?
        .keep();
    // Until the watcher owns the directory, a failure removes it here.
    launch(&bin, root, &dir).inspect_err(|_| {
        let _ = std::fs::remove_dir_all(&dir);
    })
}

fn launch(bin: &Path, root: bool, dir: &Path) -> Result<Server, String> {
    let data = dir.join("data");
    let password = format!(
        "pw{}x{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0)
    );
    let pwfile = dir.join("pw");
    std::fs::write(&pwfile, &password).map_err(|e| format!("password file: {e}"))?;
    if root {
        let ok = Command::new("chown")
            .args(["-R", "postgres:postgres"])
            .arg(dir)
            .status()
            .map_err(|e| format!("chown: {e}"))?
            .success();
        if !ok {
            return Err(format!(
                "chown postgres {} failed (is there a `postgres` user?)",
                dir.display()
            ));
        }
    }
    let out = as_server_user(root, &bin.join("initdb"))
        .arg("-D")
        .arg(&data)
        .args([
            "-U",
            "callrec",
            "-A",
            "scram-sha-256",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
            "--no-sync",
        ])
        .arg("--pwfile")
        .arg(&pwfile)
        .output()
        .map_err(|e| format!("initdb: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "initdb failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let port = free_port()?;
    let mut server = as_server_user(root, &bin.join("postgres"));
    server
        .arg("-D")
        .arg(&data)
        .arg("-p")
        .arg(port.to_string())
        .arg("-k")
        .arg(dir)
        .args([
            "-c",
            "listen_addresses=127.0.0.1",
            "-c",
            "fsync=off",
            "-c",
            "synchronous_commit=off",
            "-c",
            "full_page_writes=off",
            "-c",
            "max_connections=300",
        ]);
    // Fast shutdown: SIGINT to the postmaster (its pid is the first line of postmaster.pid).
    let stop = format!(
        "if [ -f '{0}/postmaster.pid' ]; then kill -INT \"$(head -n 1 '{0}/postmaster.pid')\" 2>/dev/null; fi",
        data.display()
    );
    let watcher = watch::spawn(
        &server,
        &stop,
        dir,
        "ready to accept connections",
        Duration::from_secs(60),
    )?;
    Ok(Server {
        port,
        password,
        bin: bin.to_path_buf(),
        root,
        dir: dir.to_path_buf(),
        _watcher: watcher,
    })
}
