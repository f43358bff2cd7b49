//! The backends every store test runs against — one story, every backend (atuin's pattern):
//! SQLite in a temporary directory, and PostgreSQL on a real server that this harness starts
//! itself, never a mock.
//!
//! The PostgreSQL server is one per test binary, started on first use: `initdb` into a
//! temporary directory (owned by `postgres` when the tests run as root, as in CI), a free
//! port on 127.0.0.1, the socket in the same directory, SCRAM passwords. Each test gets a
//! fresh database (`CREATE DATABASE`). The server runs under a small watcher shell whose
//! standard input is a pipe from this process: when the test binary exits — however it exits
//! — the pipe closes, and the watcher stops the server (fast shutdown) and removes the
//! directory, so nothing is left behind.
//!
//! Missing PostgreSQL binaries fail the PostgreSQL tests with a message saying what to
//! install; there is no skip. `CALLREC_PG_BIN` names another directory of binaries.

// Each test binary uses its own part of this module.
#![allow(dead_code)]

use callrec_store::{PgStore, SqliteStore, Store};
use sqlx::Connection;
use std::io::{BufRead, BufReader};
use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

/// Which backend a test runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Sqlite,
    Postgres,
}

/// The backend behind a [`TestStore`], for the few tests that speak SQL to it directly.
pub enum Concrete {
    Sqlite(Arc<SqliteStore>),
    Postgres(Arc<PgStore>),
}

/// An open store of either backend and what keeps it alive (the SQLite file's directory).
pub struct TestStore {
    pub store: Arc<dyn Store>,
    pub concrete: Concrete,
    _dir: Option<tempfile::TempDir>,
}

impl Deref for TestStore {
    type Target = dyn Store;
    fn deref(&self) -> &(dyn Store + 'static) {
        &*self.store
    }
}

/// Generates, for each named `async fn name(kind: Kind)`, one test per backend:
/// `sqlite::name` and `postgres::name`.
macro_rules! on_every_backend {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    super::$name(crate::backend::Kind::Sqlite).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    super::$name(crate::backend::Kind::Postgres).await
                }
            )*
        }
    };
}

/// A fresh, migrated store of `kind`.
pub async fn open(kind: Kind) -> TestStore {
    match kind {
        Kind::Sqlite => {
            let dir = tempfile::tempdir().expect("temp dir");
            let url = format!("sqlite://{}?mode=rwc", dir.path().join("store.db").display());
            let store = Arc::new(
                SqliteStore::open(&url)
                    .await
                    .expect("the SQLite store opens and migrates"),
            );
            TestStore {
                store: store.clone(),
                concrete: Concrete::Sqlite(store),
                _dir: Some(dir),
            }
        }
        Kind::Postgres => {
            let url = server().fresh_database().await;
            let store = Arc::new(
                PgStore::open(&url)
                    .await
                    .expect("the PostgreSQL store opens and migrates"),
            );
            TestStore {
                store: store.clone(),
                concrete: Concrete::Postgres(store),
                _dir: None,
            }
        }
    }
}

/// The throw-away PostgreSQL server of this test binary.
struct Server {
    port: u16,
    password: String,
    /// The watcher: its stdin is the pipe whose end stops the server.
    _watcher: Child,
}

static SERVER: OnceLock<Result<Server, String>> = OnceLock::new();
static DATABASES: AtomicUsize = AtomicUsize::new(0);

fn server() -> &'static Server {
    match SERVER.get_or_init(start) {
        Ok(s) => s,
        Err(e) => panic!("the PostgreSQL test server did not start: {e}"),
    }
}

impl Server {
    fn url(&self, db: &str) -> String {
        format!("postgres://callrec:{}@127.0.0.1:{}/{db}", self.password, self.port)
    }

    async fn fresh_database(&self) -> String {
        let name = format!("store_test_{}", DATABASES.fetch_add(1, Ordering::SeqCst));
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
fn binaries() -> Result<PathBuf, String> {
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
        "PostgreSQL is not installed (no /usr/lib/postgresql/<version>/bin/initdb). The store tests \
         run against a real PostgreSQL: install Debian's `postgresql postgresql-contrib` (CI does, \
         scripts/test.sh), or set CALLREC_PG_BIN to a directory holding initdb and postgres."
            .to_string()
    })
}

fn running_as_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .map(|l| l.split_whitespace().nth(1) == Some("0"))
        })
        .unwrap_or(false)
}

/// `program args…`, run as `postgres` when we are root (PostgreSQL refuses to run as root).
fn as_server_user(root: bool, program: &Path) -> Command {
    if root {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    }
}

/// Stops the server with a fast shutdown (SIGINT to the postmaster) once stdin closes, then
/// removes the directory. Arguments: data directory, directory to remove, server command.
const WATCHER: &str = r#"
data=$1; dir=$2; shift 2
"$@" 2>&1 &
pid=$!
cat >/dev/null
if [ -f "$data/postmaster.pid" ]; then kill -INT "$(head -n 1 "$data/postmaster.pid")" 2>/dev/null; fi
wait "$pid"
rm -rf "$dir"
"#;

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
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| format!("a free port: {e}"))?
        .port();
    let server = as_server_user(root, &bin.join("postgres"));
    let mut watcher = Command::new("sh");
    watcher
        .args(["-c", WATCHER, "sh"])
        .arg(&data)
        .arg(dir)
        .arg(server.get_program())
        .args(server.get_args())
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
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut watcher = watcher.spawn().map_err(|e| format!("starting postgres: {e}"))?;
    // Readiness from the server's own log line, then the log is drained (and dropped) so the
    // server never blocks on a full pipe.
    let log = watcher.stdout.take().expect("stdout is piped");
    let (ready_tx, ready_rx) = std::sync::mpsc::channel::<Result<(), String>>();
    std::thread::spawn(move || {
        let mut seen = Vec::new();
        let mut ready = Some(ready_tx);
        for line in BufReader::new(log).lines().map_while(std::result::Result::ok) {
            if let Some(tx) = &ready {
                if line.contains("ready to accept connections") {
                    let _ = tx.send(Ok(()));
                    ready = None;
                } else {
                    seen.push(line);
                }
            }
        }
        if let Some(tx) = ready {
            let _ = tx.send(Err(format!(
                "postgres exited before it was ready:\n{}",
                seen.join("\n")
            )));
        }
    });
    ready_rx
        .recv_timeout(std::time::Duration::from_secs(60))
        .map_err(|e| format!("postgres did not become ready: {e}"))??;
    Ok(Server {
        port,
        password,
        _watcher: watcher,
    })
}
