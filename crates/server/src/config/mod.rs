//! The server's configuration: defaults → TOML file → `CALLREC_*` environment → flags.
//!
//! Loading happens once, at start-up, in two steps (as ripgrep does): every source is read
//! into a layer of optional, already-validated values, naming the file key, environment
//! variable or flag a bad value came from; the layers are then laid over the defaults into a
//! [`Config`] that the rest of the server trusts. Loading reads at most one file and never
//! writes one. Secrets are [`Secret`]s, which print as `<redacted>`.
//!
//! The file is chosen with `--config FILE` (or `CALLREC_CONFIG`); there is no implicit
//! search path, so what a server runs with is always visible on its command line or in its
//! environment. `callrec-server default-config` prints [`default_config_toml`].
//!
//! The pieces, by noun: the sources read into layers (`layer`), the validation of single
//! values (`values`), [`Secret`], [`ConfigError`] and [`Origin`] (`error`), and the
//! [`default_config_toml`] template (`template`). [`Config::load`], which lays the sources
//! over the defaults, is in `layer`; the type here does not depend on how it is loaded.

mod error;
mod layer;
mod secret;
mod storage_url;
mod template;
mod values;

use callrec_types::wire::PauseFill;
use std::net::SocketAddr;
use std::path::PathBuf;

pub use error::{ConfigError, Origin, MAX_CONFIG_FILE_BYTES};
pub use secret::{DatabaseUrl, Secret};
pub use storage_url::StorageUrl;
pub use template::default_config_toml;

/// Every key of the configuration file; key `k` is also read from `CALLREC_<K>` (upper case).
pub const KEYS: [&str; 41] = [
    "data_dir",
    "http",
    "sip",
    "sips",
    "tls_cert_file",
    "tls_key_file",
    "tls_client_ca_file",
    "require_srtp",
    "rtp_ports",
    "database_url",
    "bootstrap_admin_password",
    "ingest_token",
    "demo",
    "session_ttl_hours",
    "max_upload_bytes",
    "sip_session_timeout_secs",
    "sip_ack_timeout_secs",
    "sip_unacknowledged_per_source",
    "sip_tcp_max_connections",
    "sip_tcp_idle_timeout_secs",
    "sip_tcp_fd_reserve",
    "retention_days",
    "dispatch_schedule",
    "script_timeout_secs",
    "shutdown_grace_secs",
    "http_header_timeout_secs",
    "http_idle_timeout_secs",
    "http_max_connections",
    "disk_full_buffer_secs",
    "storage_url",
    "node_id",
    "encryption_key_file",
    "node_lease_secs",
    "pause_fill",
    "pause_auto_resume_secs",
    "transcription",
    "transcription_command",
    "transcription_model_dir",
    "transcription_lease_secs",
    "transcription_wait_secs",
    "log",
];

/// The `AWS_*` environment variables an `s3://` storage URL is configured with (read, like the
/// AWS tools do, from the environment only, never from the file).
pub const AWS_VARS: [&str; 9] = [
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_ALLOW_HTTP",
    "AWS_VIRTUAL_HOSTED_STYLE_REQUEST",
];

/// Short names of two keys' environment variables, as issue #18 and most TLS servers spell
/// them (`CALLREC_TLS_CERT_FILE` and `CALLREC_TLS_KEY_FILE` work too and win).
pub const ENV_ALIASES: [(&str, &str); 2] = [
    ("tls_cert_file", "CALLREC_TLS_CERT"),
    ("tls_key_file", "CALLREC_TLS_KEY"),
];

/// The environment variable that names the configuration file when `--config` is absent.
pub const CONFIG_FILE_ENV: &str = "CALLREC_CONFIG";

const DEFAULT_DATA_DIR: &str = "./callrec-data";
const DEFAULT_RTP_PORTS: (u16, u16) = (20000, 29999);
const DEFAULT_SESSION_TTL_HOURS: u32 = 12;
const DEFAULT_MAX_UPLOAD_BYTES: u64 = 2 * 1024 * 1024 * 1024;
const DEFAULT_SIP_SESSION_TIMEOUT_SECS: u32 = 60;
/// 64·T1, RFC 3261 §13.3.1.4: how long a UAS retransmits a 2xx waiting for its ACK.
const DEFAULT_SIP_ACK_TIMEOUT_SECS: u32 = 32;
/// Far above what one recording client has in flight (its ACKs come one round trip after our
/// 200 OK), far below the 2,500 calls the default port range holds.
const DEFAULT_SIP_UNACKNOWLEDGED_PER_SOURCE: u32 = 50;
/// A recording client keeps one or a few connections; this bounds what a flood can hold.
const DEFAULT_SIP_TCP_MAX_CONNECTIONS: u32 = 1024;
/// Two minutes without a byte and without a session: the client opens a new connection when
/// it next has something to send (RFC 3261 §18).
const DEFAULT_SIP_TCP_IDLE_TIMEOUT_SECS: u32 = 120;
/// About 80 calls' worth (two RTP sockets and a file each), plus the database's files.
const DEFAULT_SIP_TCP_FD_RESERVE: u32 = 256;
const DEFAULT_RETENTION_DAYS: u32 = 90;
const DEFAULT_DISPATCH_SCHEDULE: &str = "0 20 * * *";
const DEFAULT_SCRIPT_TIMEOUT_SECS: u32 = 60;
const DEFAULT_SHUTDOWN_GRACE_SECS: u32 = 5;
/// Long enough to ride out a PostgreSQL restart (the heartbeat retries), short enough that
/// the calls of a dead node end within seconds.
const DEFAULT_NODE_LEASE_SECS: u32 = 15;
const DEFAULT_HTTP_HEADER_TIMEOUT_SECS: u32 = 10;
const DEFAULT_HTTP_IDLE_TIMEOUT_SECS: u32 = 60;
const DEFAULT_HTTP_MAX_CONNECTIONS: u32 = 4096;
const DEFAULT_DISK_FULL_BUFFER_SECS: u32 = 30;
const DEFAULT_LOG: &str = "info";
const DEFAULT_TRANSCRIPTION_COMMAND: &str = "callrec-transcribe";
const DEFAULT_TRANSCRIPTION_LEASE_SECS: u32 = 300;
const DEFAULT_TRANSCRIPTION_WAIT_SECS: u32 = 1800;

/// The validated configuration the server runs with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Recordings, journals and (by default) the SQLite database live here.
    pub data_dir: PathBuf,
    /// The HTTP API listens here.
    pub http: SocketAddr,
    /// SIP (SIPREC) listens here on UDP and TCP.
    pub sip: SocketAddr,
    /// SIP over TLS (`sips:`, RFC 3261 §26.2) listens here when set; needs
    /// [`Config::tls_cert_file`] and [`Config::tls_key_file`].
    pub sips: Option<SocketAddr>,
    /// The PEM certificate chain the SIP TLS listener presents (leaf first).
    pub tls_cert_file: Option<PathBuf>,
    /// The PEM private key of that certificate (PKCS#8, PKCS#1 or SEC1).
    pub tls_key_file: Option<PathBuf>,
    /// When set, SIP TLS clients must present a certificate issued by a CA in this PEM file
    /// (mutual TLS, as SBCs commonly use).
    pub tls_client_ca_file: Option<PathBuf>,
    /// Refuse plain RTP offers with 488: only SRTP (`RTP/SAVP` with `a=crypto`) is recorded.
    pub require_srtp: bool,
    /// Inclusive RTP port range; `low` is even (RTP even, RTCP odd, RFC 3550 §11).
    pub rtp_ports: (u16, u16),
    /// `None`: the SQLite file `<data_dir>/callrec.db`; see [`Config::database_url`].
    pub database_url: Option<DatabaseUrl>,
    /// Creates user `admin` with this password when the database has no users.
    pub bootstrap_admin_password: Option<Secret>,
    /// The bearer token of `POST /api/v1/ingest`; `None` disables ingest.
    pub ingest_token: Option<Secret>,
    /// Demo mode (sample data, relaxed start-up).
    pub demo: bool,
    /// Lifetime of a login session.
    pub session_ttl_hours: u32,
    /// Largest accepted upload (ingest audio).
    pub max_upload_bytes: u64,
    /// A SIPREC session with neither RTP nor SIP for this long is closed.
    pub sip_session_timeout_secs: u32,
    /// A SIPREC session whose 200 OK is not acknowledged within this long is closed without a
    /// recording.
    pub sip_ack_timeout_secs: u32,
    /// Most sessions one source IP may have waiting for their ACK; more INVITEs get 503.
    pub sip_unacknowledged_per_source: u32,
    /// Most SIP TCP connections open at once; more are closed as soon as accepted.
    pub sip_tcp_max_connections: u32,
    /// A SIP TCP connection that carries no session and has received nothing for this long is
    /// closed.
    pub sip_tcp_idle_timeout_secs: u32,
    /// New SIP TCP connections are refused while fewer file descriptors than this are free,
    /// so RTP ports and recording files still get one.
    pub sip_tcp_fd_reserve: u32,
    /// Initial retention; admins change it through the API afterwards.
    pub retention_days: u32,
    /// Initial dispatch schedule (cron, local time); admins change it through the API.
    pub dispatch_schedule: String,
    /// A dispatch script running longer than this is killed.
    pub script_timeout_secs: u32,
    /// On SIGTERM or Ctrl-C: how long to wait for recordings to be finalised and HTTP clients to finish before the process exits anyway.
    pub shutdown_grace_secs: u32,
    /// An HTTP connection that has not sent a whole request head this long after it began is closed.
    pub http_header_timeout_secs: u32,
    /// An HTTP connection with no bytes read or written for this long is closed (push streams send a keep-alive every 15 s).
    pub http_idle_timeout_secs: u32,
    /// Most HTTP connections open at once; at the limit the connection idle longest is closed to make room.
    pub http_max_connections: u32,
    /// While the disk refuses writes, each call keeps up to this many seconds of audio in
    /// memory (16 KB a second) to write when space returns; audio beyond it is dropped and
    /// recorded as a gap.
    pub disk_full_buffer_secs: u32,
    /// Where closed recordings and journals end up (issue #10.2); `None`: `file://<data_dir>`,
    /// today's layout, with nothing uploaded. See [`Config::storage`].
    pub storage_url: Option<StorageUrl>,
    /// The standard `AWS_*` variables ([`AWS_VARS`]) as the environment gave them, for an
    /// `s3://` [`Config::storage_url`]; values are [`Secret`]s so none is ever printed.
    pub aws: Vec<(String, Secret)>,
    /// This node's name among the nodes sharing one PostgreSQL database; `None`: the host
    /// name (see [`Config::node_id`]).
    pub node_id: Option<String>,
    /// A file holding the base64 of a 32-byte master key (issue #12.1): with it every new
    /// recording and journal is stored encrypted. `None`: stored as plaintext.
    pub encryption_key_file: Option<PathBuf>,
    /// With PostgreSQL: a node whose heartbeat is older than this is taken for dead and
    /// another node ends its live calls.
    pub node_lease_secs: u32,
    /// Initial fill of a paused recording (issue #11.1); admins change it through the API.
    pub pause_fill: PauseFill,
    /// Initial automatic resume of a pause, in seconds (0 = never); admins change it through
    /// the API.
    pub pause_auto_resume_secs: u32,
    /// Start one local transcription worker (issue #16) at low priority, restarted if it dies.
    pub transcription: bool,
    /// The local worker's program and arguments, split at white space; the server adds
    /// `--server URL` and passes a token it mints in `CALLREC_WORKER_TOKEN`.
    pub transcription_command: String,
    /// The speech model's directory, passed to the worker in `CALLREC_MODEL_DIR`; `None`: the
    /// worker's default (the model its Python package ships).
    pub transcription_model_dir: Option<PathBuf>,
    /// How long a worker holds a job beyond the recording's own length: a worker silent for
    /// longer is taken for dead and its job given to another.
    pub transcription_lease_secs: u32,
    /// How long an e-mail dispatch waits for its recording's transcript, counted from when the
    /// transcript was queued (the recording's end): then it goes without, saying so.
    pub transcription_wait_secs: u32,
    /// Log filter in `tracing_subscriber::EnvFilter` syntax.
    pub log: String,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            data_dir: PathBuf::from(DEFAULT_DATA_DIR),
            http: SocketAddr::from(([127, 0, 0, 1], 8080)),
            sip: SocketAddr::from(([127, 0, 0, 1], 5060)),
            sips: None,
            tls_cert_file: None,
            tls_key_file: None,
            tls_client_ca_file: None,
            require_srtp: false,
            rtp_ports: DEFAULT_RTP_PORTS,
            database_url: None,
            bootstrap_admin_password: None,
            ingest_token: None,
            demo: false,
            session_ttl_hours: DEFAULT_SESSION_TTL_HOURS,
            max_upload_bytes: DEFAULT_MAX_UPLOAD_BYTES,
            sip_session_timeout_secs: DEFAULT_SIP_SESSION_TIMEOUT_SECS,
            sip_ack_timeout_secs: DEFAULT_SIP_ACK_TIMEOUT_SECS,
            sip_unacknowledged_per_source: DEFAULT_SIP_UNACKNOWLEDGED_PER_SOURCE,
            sip_tcp_max_connections: DEFAULT_SIP_TCP_MAX_CONNECTIONS,
            sip_tcp_idle_timeout_secs: DEFAULT_SIP_TCP_IDLE_TIMEOUT_SECS,
            sip_tcp_fd_reserve: DEFAULT_SIP_TCP_FD_RESERVE,
            retention_days: DEFAULT_RETENTION_DAYS,
            dispatch_schedule: DEFAULT_DISPATCH_SCHEDULE.to_owned(),
            script_timeout_secs: DEFAULT_SCRIPT_TIMEOUT_SECS,
            shutdown_grace_secs: DEFAULT_SHUTDOWN_GRACE_SECS,
            http_header_timeout_secs: DEFAULT_HTTP_HEADER_TIMEOUT_SECS,
            http_idle_timeout_secs: DEFAULT_HTTP_IDLE_TIMEOUT_SECS,
            http_max_connections: DEFAULT_HTTP_MAX_CONNECTIONS,
            disk_full_buffer_secs: DEFAULT_DISK_FULL_BUFFER_SECS,
            storage_url: None,
            aws: Vec::new(),
            node_id: None,
            encryption_key_file: None,
            node_lease_secs: DEFAULT_NODE_LEASE_SECS,
            pause_fill: PauseFill::Silence,
            pause_auto_resume_secs: 0,
            transcription: false,
            transcription_command: DEFAULT_TRANSCRIPTION_COMMAND.to_owned(),
            transcription_model_dir: None,
            transcription_lease_secs: DEFAULT_TRANSCRIPTION_LEASE_SECS,
            transcription_wait_secs: DEFAULT_TRANSCRIPTION_WAIT_SECS,
            log: DEFAULT_LOG.to_owned(),
        }
    }
}

impl Config {
    /// The defaults with `data_dir` set and HTTP and SIP on `127.0.0.1:0`, so tests bind
    /// ephemeral ports.
    pub fn for_data_dir(dir: PathBuf) -> Config {
        Config {
            data_dir: dir,
            http: SocketAddr::from(([127, 0, 0, 1], 0)),
            sip: SocketAddr::from(([127, 0, 0, 1], 0)),
            ..Config::default()
        }
    }

    /// This node's id: `node_id` when set, else the host name (`/etc/hostname`, then
    /// `uname`), cut to what a node id may hold; `"callrec"` when neither names anything.
    pub fn node_id(&self) -> String {
        if let Some(id) = &self.node_id {
            return id.clone();
        }
        let host = std::fs::read_to_string("/etc/hostname")
            .ok()
            .map(|h| h.trim().to_owned())
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| rustix::system::uname().nodename().to_string_lossy().into_owned());
        let id: String = host
            .chars()
            .filter(|c| values::is_node_id_char(*c))
            .take(values::NODE_ID_MAX_LEN)
            .collect();
        if id.is_empty() {
            "callrec".to_owned()
        } else {
            id
        }
    }

    /// The database URL: `database_url` when set, else the SQLite file
    /// `<data_dir>/callrec.db`, created if missing.
    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.expose().to_owned(),
            None => {
                let path = self.data_dir.join("callrec.db");
                // sqlx percent-decodes the path part, so the three characters that would end
                // it or be decoded are escaped; a non-UTF-8 data dir is refused at load time.
                let path = path
                    .to_string_lossy()
                    .replace('%', "%25")
                    .replace('?', "%3F")
                    .replace('#', "%23");
                format!("sqlite://{path}?mode=rwc")
            }
        }
    }

    /// Where recordings are kept once closed: `None` when that is the data directory itself
    /// (the default), so the spool *is* the store and nothing is uploaded.
    pub fn storage(&self) -> Option<&StorageUrl> {
        match &self.storage_url {
            Some(StorageUrl::File(dir)) if same_dir(dir, &self.data_dir) => None,
            other => other.as_ref(),
        }
    }

    /// Checks between keys, after all layers are applied.
    fn check_consistency(&self) -> Result<(), ConfigError> {
        // SIP listens on TCP too, so the same non-ephemeral address cannot serve both.
        if self.http == self.sip && self.http.port() != 0 {
            return Err(ConfigError::Conflict(format!(
                "http and sip are both {}; SIP also listens on TCP, so they need different ports",
                self.http
            )));
        }
        if let Some(sips) = self.sips {
            let missing = [
                ("tls_cert_file", "CALLREC_TLS_CERT", self.tls_cert_file.is_none()),
                ("tls_key_file", "CALLREC_TLS_KEY", self.tls_key_file.is_none()),
            ];
            if let Some((key, var, _)) = missing.iter().find(|(_, _, m)| *m) {
                return Err(ConfigError::Conflict(format!(
                    "sips is {sips} but {key} is not set (file key {key} or {var}): SIP over TLS needs a certificate and its key"
                )));
            }
            for (name, other) in [("http", self.http), ("sip", self.sip)] {
                if other.port() == sips.port()
                    && sips.port() != 0
                    && (other.ip() == sips.ip() || other.ip().is_unspecified() || sips.ip().is_unspecified())
                {
                    return Err(ConfigError::Conflict(format!(
                        "{name} and sips both use TCP port {}; they need different ports",
                        sips.port()
                    )));
                }
            }
        }
        Ok(())
    }
}

/// Whether two directory paths name the same directory (canonically when both exist).
fn same_dir(a: &std::path::Path, b: &std::path::Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

/// The flags of `callrec-server serve` (API.md, "Server command line").
///
/// Addresses and ports stay strings here so that a bad value is reported by
/// [`Config::load`] like a bad file or environment value, naming the flag.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ServeArgs {
    /// TOML configuration file (print a template with `callrec-server default-config`);
    /// default: $CALLREC_CONFIG, else none.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Directory for recordings, journals and the SQLite database [default: ./callrec-data]
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// HTTP API listen address [default: 127.0.0.1:8080]
    #[arg(long, value_name = "ADDR:PORT")]
    pub http: Option<String>,
    /// SIP listen address, UDP and TCP [default: 127.0.0.1:5060]
    #[arg(long, value_name = "ADDR:PORT")]
    pub sip: Option<String>,
    /// SIP over TLS listen address (`sips:`, usually port 5061); needs tls_cert_file and
    /// tls_key_file [default: none]
    #[arg(long, value_name = "ADDR:PORT")]
    pub sips: Option<String>,
    /// RTP port range, LOW even [default: 20000-29999]
    #[arg(long, value_name = "LOW-HIGH")]
    pub rtp_ports: Option<String>,
    /// Demo mode
    #[arg(long)]
    pub demo: bool,
}

#[cfg(test)]
mod tests {
    //! Helpers shared by the configuration's unit tests, and the tests of [`Config`] itself.

    use super::layer::file_layer;
    use super::*;
    use std::collections::HashMap;
    use std::path::Path;

    pub(super) fn load_with(args: &ServeArgs, vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Config::load(args, &|name| map.get(name).cloned())
    }

    pub(super) fn parse_file(text: &str) -> Result<Config, ConfigError> {
        let mut config = Config::default();
        file_layer(Path::new("callrec.toml"), text)?.apply(&mut config);
        Ok(config)
    }

    pub(super) fn message(result: Result<Config, ConfigError>) -> String {
        match result {
            Ok(c) => panic!("expected an error, got {c:?}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn defaults_match_the_documented_values() {
        let c = load_with(&ServeArgs::default(), &[]).expect("defaults load");
        assert_eq!(c, Config::default(), "no sources means the defaults");
        assert_eq!(c.data_dir, PathBuf::from("./callrec-data"), "data dir");
        assert_eq!(c.http.to_string(), "127.0.0.1:8080", "http");
        assert_eq!(c.sip.to_string(), "127.0.0.1:5060", "sip");
        assert_eq!(c.rtp_ports, (20000, 29999), "rtp ports");
        assert_eq!(c.max_upload_bytes, 2 << 30, "2 GiB");
        assert_eq!(c.dispatch_schedule, "0 20 * * *", "schedule");
        assert_eq!(
            c.disk_full_buffer_secs, 30,
            "30 s of audio per call while the disk is full"
        );
    }

    #[test]
    fn precedence_is_defaults_file_env_flags() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("callrec.toml");
        std::fs::write(
            &path,
            "http = \"127.0.0.1:1001\"\nsip = \"127.0.0.1:2001\"\nrtp_ports = \"3000-3001\"\nlog = \"warn\"\n",
        )
        .expect("write config");
        let args = ServeArgs {
            config: Some(path.clone()),
            http: Some("127.0.0.1:1003".into()),
            ..ServeArgs::default()
        };
        let c = load_with(
            &args,
            &[("CALLREC_HTTP", "127.0.0.1:1002"), ("CALLREC_SIP", "127.0.0.1:2002")],
        )
        .expect("loads");
        assert_eq!(c.http.port(), 1003, "flag beats env and file");
        assert_eq!(c.sip.port(), 2002, "env beats file");
        assert_eq!(c.rtp_ports, (3000, 3001), "file beats default");
        assert_eq!(c.log, "warn", "file beats default");
        assert_eq!(c.session_ttl_hours, 12, "default when nothing sets it");

        let via_env = load_with(
            &ServeArgs::default(),
            &[("CALLREC_CONFIG", path.to_str().expect("utf-8"))],
        )
        .expect("CALLREC_CONFIG names the file");
        assert_eq!(via_env.http.port(), 1001, "file found through CALLREC_CONFIG");
    }

    #[test]
    fn empty_env_var_counts_as_unset() {
        let c = load_with(
            &ServeArgs::default(),
            &[("CALLREC_HTTP", ""), ("CALLREC_INGEST_TOKEN", "")],
        )
        .expect("empty vars are ignored");
        assert_eq!(c, Config::default(), "nothing changed");
    }

    #[test]
    fn database_url_defaults_to_sqlite_in_the_data_dir() {
        let c = Config::for_data_dir(PathBuf::from("/srv/rec #1?"));
        assert_eq!(c.database_url(), "sqlite:///srv/rec %231%3F/callrec.db?mode=rwc");
        assert_eq!(c.http.port(), 0, "ephemeral http");
        let c = Config {
            database_url: Some("postgres://u:p@h/db".into()),
            ..Config::default()
        };
        assert_eq!(c.database_url(), "postgres://u:p@h/db", "explicit url kept");
        let e = message(load_with(
            &ServeArgs::default(),
            &[("CALLREC_DATABASE_URL", "mysql://u:secret@h")],
        ));
        assert!(!e.contains("secret"), "url not echoed: {e}");
    }

    #[test]
    fn storage_urls_are_file_or_s3() {
        assert_eq!(
            StorageUrl::parse("s3://rec-bucket/site/a/"),
            Ok(StorageUrl::S3 {
                bucket: "rec-bucket".into(),
                prefix: "site/a".into()
            })
        );
        assert_eq!(
            StorageUrl::parse("file:///mnt/rec"),
            Ok(StorageUrl::File(PathBuf::from("/mnt/rec")))
        );
        for bad in [
            "s3://",
            "s3://B",
            "s3://ok-b/../x",
            "file://rel",
            "http://x",
            "/mnt/rec",
        ] {
            assert!(StorageUrl::parse(bad).is_err(), "{bad}");
        }
        let e = message(load_with(&ServeArgs::default(), &[("CALLREC_STORAGE_URL", "ftp://x")]));
        assert!(e.contains("CALLREC_STORAGE_URL") && e.contains("s3://BUCKET"), "{e}");
        let c = Config {
            storage_url: Some(StorageUrl::File(PathBuf::from("/srv/rec"))),
            ..Config::for_data_dir(PathBuf::from("/srv/rec"))
        };
        assert_eq!(c.storage(), None, "file:// of the data dir is the default: no upload");
    }

    #[test]
    fn same_http_and_sip_address_conflicts() {
        let e = message(load_with(&ServeArgs::default(), &[("CALLREC_HTTP", "127.0.0.1:5060")]));
        assert!(e.contains("http and sip are both 127.0.0.1:5060"), "{e}");
    }
}
