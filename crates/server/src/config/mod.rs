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

use std::fmt;
use std::io::Read;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde::Deserialize;

/// The largest configuration file accepted; a real one is a few KiB.
pub const MAX_CONFIG_FILE_BYTES: u64 = 1024 * 1024;

/// Every key of the configuration file; key `k` is also read from `CALLREC_<K>` (upper case).
pub const KEYS: [&str; 15] = [
    "data_dir",
    "http",
    "sip",
    "rtp_ports",
    "database_url",
    "bootstrap_admin_password",
    "ingest_token",
    "demo",
    "session_ttl_hours",
    "max_upload_bytes",
    "sip_session_timeout_secs",
    "retention_days",
    "dispatch_schedule",
    "script_timeout_secs",
    "log",
];

/// The environment variable that names the configuration file when `--config` is absent.
pub const CONFIG_FILE_ENV: &str = "CALLREC_CONFIG";

const DEFAULT_DATA_DIR: &str = "./callrec-data";
const DEFAULT_RTP_PORTS: (u16, u16) = (20000, 29999);
const DEFAULT_SESSION_TTL_HOURS: u32 = 12;
const DEFAULT_MAX_UPLOAD_BYTES: u64 = 2 * 1024 * 1024 * 1024;
const DEFAULT_SIP_SESSION_TIMEOUT_SECS: u32 = 60;
const DEFAULT_RETENTION_DAYS: u32 = 90;
const DEFAULT_DISPATCH_SCHEDULE: &str = "0 20 * * *";
const DEFAULT_SCRIPT_TIMEOUT_SECS: u32 = 60;
const DEFAULT_LOG: &str = "info";

// Bounds for the numeric keys: wide enough for tests that want short timeouts, narrow enough
// to catch a value in the wrong unit (milliseconds for seconds, a size in KiB for bytes).
const SESSION_TTL_HOURS: (u32, u32) = (1, 24 * 366);
const SIP_SESSION_TIMEOUT_SECS: (u32, u32) = (1, 24 * 3600);
const RETENTION_DAYS: (u32, u32) = (1, 100 * 366);
const SCRIPT_TIMEOUT_SECS: (u32, u32) = (1, 24 * 3600);
const MAX_UPLOAD_BYTES: (u64, u64) = (1024, u64::MAX);

/// The validated configuration the server runs with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Recordings, journals and (by default) the SQLite database live here.
    pub data_dir: PathBuf,
    /// The HTTP API listens here.
    pub http: SocketAddr,
    /// SIP (SIPREC) listens here on UDP and TCP.
    pub sip: SocketAddr,
    /// Inclusive RTP port range; `low` is even (RTP even, RTCP odd, RFC 3550 §11).
    pub rtp_ports: (u16, u16),
    /// `None`: the SQLite file `<data_dir>/callrec.db`; see [`Config::database_url`].
    pub database_url: Option<String>,
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
    /// Initial retention; admins change it through the API afterwards.
    pub retention_days: u32,
    /// Initial dispatch schedule (cron, local time); admins change it through the API.
    pub dispatch_schedule: String,
    /// A dispatch script running longer than this is killed.
    pub script_timeout_secs: u32,
    /// Log filter in `tracing_subscriber::EnvFilter` syntax.
    pub log: String,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            data_dir: PathBuf::from(DEFAULT_DATA_DIR),
            http: SocketAddr::from(([127, 0, 0, 1], 8080)),
            sip: SocketAddr::from(([127, 0, 0, 1], 5060)),
            rtp_ports: DEFAULT_RTP_PORTS,
            database_url: None,
            bootstrap_admin_password: None,
            ingest_token: None,
            demo: false,
            session_ttl_hours: DEFAULT_SESSION_TTL_HOURS,
            max_upload_bytes: DEFAULT_MAX_UPLOAD_BYTES,
            sip_session_timeout_secs: DEFAULT_SIP_SESSION_TIMEOUT_SECS,
            retention_days: DEFAULT_RETENTION_DAYS,
            dispatch_schedule: DEFAULT_DISPATCH_SCHEDULE.to_owned(),
            script_timeout_secs: DEFAULT_SCRIPT_TIMEOUT_SECS,
            log: DEFAULT_LOG.to_owned(),
        }
    }
}

impl Config {
    /// Loads and validates the configuration: defaults, then the file named by `--config`
    /// (or `CALLREC_CONFIG`), then `CALLREC_*` variables, then flags.
    ///
    /// `env` looks up one environment variable (tests pass a map; `main` passes
    /// `std::env::var`). An empty variable counts as unset, as shells make unsetting awkward.
    pub fn load(args: &ServeArgs, env: &dyn Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let env = |name: &str| env(name).filter(|v| !v.is_empty());
        let mut config = Config::default();
        let file = args.config.clone().or_else(|| env(CONFIG_FILE_ENV).map(PathBuf::from));
        if let Some(path) = file {
            let text = read_config_file(&path)?;
            file_layer(&path, &text)?.apply(&mut config);
        }
        env_layer(&env)?.apply(&mut config);
        flag_layer(args)?.apply(&mut config);
        config.check_consistency()?;
        Ok(config)
    }

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

    /// The database URL: `database_url` when set, else the SQLite file
    /// `<data_dir>/callrec.db`, created if missing.
    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.clone(),
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

    /// Checks between keys, after all layers are applied.
    fn check_consistency(&self) -> Result<(), ConfigError> {
        // SIP listens on TCP too, so the same non-ephemeral address cannot serve both.
        if self.http == self.sip && self.http.port() != 0 {
            return Err(ConfigError::Conflict(format!(
                "http and sip are both {}; SIP also listens on TCP, so they need different ports",
                self.http
            )));
        }
        Ok(())
    }
}

/// A secret value (password, token): `Debug` and `Display` print `<redacted>`.
///
/// `==` compares in time independent of where the values differ, so comparing a presented
/// token against a configured one does not leak its prefix.
#[derive(Clone, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The secret itself; call sites that use it are easy to find.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl PartialEq for Secret {
    fn eq(&self, other: &Secret) -> bool {
        let (a, b) = (self.0.as_bytes(), other.0.as_bytes());
        a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }
}

impl Eq for Secret {}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
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
    /// RTP port range, LOW even [default: 20000-29999]
    #[arg(long, value_name = "LOW-HIGH")]
    pub rtp_ports: Option<String>,
    /// Demo mode
    #[arg(long)]
    pub demo: bool,
}

/// Where a configuration value came from; errors name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// A key of the configuration file.
    File {
        /// The file.
        path: PathBuf,
        /// The key.
        key: &'static str,
    },
    /// An environment variable (`CALLREC_HTTP`).
    Env(String),
    /// A command-line flag (`--http`).
    Flag(&'static str),
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::File { path, key } => write!(f, "{}: {key}", path.display()),
            Origin::Env(var) => f.write_str(var),
            Origin::Flag(flag) => f.write_str(flag),
        }
    }
}

/// Why the configuration was refused. Every message is one line and names its source.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A value does not parse or is out of range.
    #[error("{origin}: {value:?} is not {expected}")]
    Invalid {
        /// Where it came from.
        origin: Origin,
        /// The value as given (never a secret).
        value: String,
        /// What was expected, e.g. `ADDR:PORT`.
        expected: String,
    },
    /// A value is refused for a reason that must not echo it (secrets).
    #[error("{origin}: {problem}")]
    Refused {
        /// Where it came from.
        origin: Origin,
        /// What is wrong.
        problem: &'static str,
    },
    /// The configuration file cannot be read.
    #[error("cannot read config file {}: {source}", path.display())]
    ReadFile {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The configuration file exceeds [`MAX_CONFIG_FILE_BYTES`].
    #[error("config file {} is larger than {MAX_CONFIG_FILE_BYTES} bytes", path.display())]
    FileTooLarge {
        /// The file.
        path: PathBuf,
    },
    /// The configuration file is not valid TOML or has an unknown key or a wrongly typed value.
    #[error("config file {}:{line}:{column}: {message}", path.display())]
    Syntax {
        /// The file.
        path: PathBuf,
        /// 1-based line of the error (0 when unknown).
        line: usize,
        /// 1-based column of the error (0 when unknown).
        column: usize,
        /// The parser's message, e.g. ``unknown field `htp`, expected one of …``.
        message: String,
    },
    /// Two keys that are valid alone do not go together.
    #[error("{0}")]
    Conflict(String),
}

/// One source's values, each already validated.
#[derive(Debug, Default)]
struct Layer {
    data_dir: Option<PathBuf>,
    http: Option<SocketAddr>,
    sip: Option<SocketAddr>,
    rtp_ports: Option<(u16, u16)>,
    database_url: Option<String>,
    bootstrap_admin_password: Option<Secret>,
    ingest_token: Option<Secret>,
    demo: Option<bool>,
    session_ttl_hours: Option<u32>,
    max_upload_bytes: Option<u64>,
    sip_session_timeout_secs: Option<u32>,
    retention_days: Option<u32>,
    dispatch_schedule: Option<String>,
    script_timeout_secs: Option<u32>,
    log: Option<String>,
}

impl Layer {
    /// Overrides `config` with every value this layer sets.
    fn apply(self, config: &mut Config) {
        fn set<T>(slot: &mut T, value: Option<T>) {
            if let Some(v) = value {
                *slot = v;
            }
        }
        set(&mut config.data_dir, self.data_dir);
        set(&mut config.http, self.http);
        set(&mut config.sip, self.sip);
        set(&mut config.rtp_ports, self.rtp_ports);
        if self.database_url.is_some() {
            config.database_url = self.database_url;
        }
        if self.bootstrap_admin_password.is_some() {
            config.bootstrap_admin_password = self.bootstrap_admin_password;
        }
        if self.ingest_token.is_some() {
            config.ingest_token = self.ingest_token;
        }
        set(&mut config.demo, self.demo);
        set(&mut config.session_ttl_hours, self.session_ttl_hours);
        set(&mut config.max_upload_bytes, self.max_upload_bytes);
        set(&mut config.sip_session_timeout_secs, self.sip_session_timeout_secs);
        set(&mut config.retention_days, self.retention_days);
        set(&mut config.dispatch_schedule, self.dispatch_schedule);
        set(&mut config.script_timeout_secs, self.script_timeout_secs);
        set(&mut config.log, self.log);
    }
}

/// The configuration file as written: every key optional, unknown keys refused.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    data_dir: Option<PathBuf>,
    http: Option<String>,
    sip: Option<String>,
    rtp_ports: Option<String>,
    database_url: Option<String>,
    bootstrap_admin_password: Option<Secret>,
    ingest_token: Option<Secret>,
    demo: Option<bool>,
    session_ttl_hours: Option<u32>,
    max_upload_bytes: Option<u64>,
    sip_session_timeout_secs: Option<u32>,
    retention_days: Option<u32>,
    dispatch_schedule: Option<String>,
    script_timeout_secs: Option<u32>,
    log: Option<String>,
}

fn read_config_file(path: &Path) -> Result<String, ConfigError> {
    let read_err = |source| ConfigError::ReadFile {
        path: path.to_owned(),
        source,
    };
    let file = std::fs::File::open(path).map_err(read_err)?;
    // Read one byte past the limit rather than trusting the metadata: the file may be a pipe
    // or grow while we read.
    let mut bytes = Vec::new();
    file.take(MAX_CONFIG_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(read_err)?;
    if bytes.len() as u64 > MAX_CONFIG_FILE_BYTES {
        return Err(ConfigError::FileTooLarge { path: path.to_owned() });
    }
    String::from_utf8(bytes)
        .map_err(|_| read_err(std::io::Error::new(std::io::ErrorKind::InvalidData, "not UTF-8 text")))
}

/// Parses the text of a configuration file into a validated layer.
fn file_layer(path: &Path, text: &str) -> Result<Layer, ConfigError> {
    let raw: FileConfig = toml::from_str(text).map_err(|e| {
        let (line, column) = e.span().map(|span| line_column(text, span.start)).unwrap_or((0, 0));
        ConfigError::Syntax {
            path: path.to_owned(),
            line,
            column,
            message: e.message().trim().replace('\n', " "),
        }
    })?;
    let origin = |key: &'static str| Origin::File {
        path: path.to_owned(),
        key,
    };
    Ok(Layer {
        data_dir: raw.data_dir.map(|d| data_dir(origin("data_dir"), d)).transpose()?,
        http: raw.http.map(|v| socket_addr(origin("http"), &v)).transpose()?,
        sip: raw.sip.map(|v| socket_addr(origin("sip"), &v)).transpose()?,
        rtp_ports: raw.rtp_ports.map(|v| rtp_ports(origin("rtp_ports"), &v)).transpose()?,
        database_url: raw
            .database_url
            .map(|v| database_url(origin("database_url"), v))
            .transpose()?,
        bootstrap_admin_password: raw
            .bootstrap_admin_password
            .map(|v| secret(origin("bootstrap_admin_password"), v))
            .transpose()?,
        ingest_token: raw
            .ingest_token
            .map(|v| secret(origin("ingest_token"), v))
            .transpose()?,
        demo: raw.demo,
        session_ttl_hours: raw
            .session_ttl_hours
            .map(|v| in_range(origin("session_ttl_hours"), v, SESSION_TTL_HOURS, "hours"))
            .transpose()?,
        max_upload_bytes: raw
            .max_upload_bytes
            .map(|v| in_range(origin("max_upload_bytes"), v, MAX_UPLOAD_BYTES, "bytes"))
            .transpose()?,
        sip_session_timeout_secs: raw
            .sip_session_timeout_secs
            .map(|v| {
                in_range(
                    origin("sip_session_timeout_secs"),
                    v,
                    SIP_SESSION_TIMEOUT_SECS,
                    "seconds",
                )
            })
            .transpose()?,
        retention_days: raw
            .retention_days
            .map(|v| in_range(origin("retention_days"), v, RETENTION_DAYS, "days"))
            .transpose()?,
        dispatch_schedule: raw
            .dispatch_schedule
            .map(|v| cron(origin("dispatch_schedule"), v))
            .transpose()?,
        script_timeout_secs: raw
            .script_timeout_secs
            .map(|v| in_range(origin("script_timeout_secs"), v, SCRIPT_TIMEOUT_SECS, "seconds"))
            .transpose()?,
        log: raw.log.map(|v| log_filter(origin("log"), v)).transpose()?,
    })
}

/// 1-based line and column (in characters) of byte offset `at`.
fn line_column(text: &str, at: usize) -> (usize, usize) {
    let before = text.get(..at).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// Reads `CALLREC_<KEY>` for every key.
fn env_layer(env: &dyn Fn(&str) -> Option<String>) -> Result<Layer, ConfigError> {
    let get = |key: &str| {
        let var = format!("CALLREC_{}", key.to_ascii_uppercase());
        env(&var).map(|value| (Origin::Env(var), value))
    };
    let mut l = Layer::default();
    if let Some((o, v)) = get("data_dir") {
        l.data_dir = Some(data_dir(o, PathBuf::from(v))?);
    }
    if let Some((o, v)) = get("http") {
        l.http = Some(socket_addr(o, &v)?);
    }
    if let Some((o, v)) = get("sip") {
        l.sip = Some(socket_addr(o, &v)?);
    }
    if let Some((o, v)) = get("rtp_ports") {
        l.rtp_ports = Some(rtp_ports(o, &v)?);
    }
    if let Some((o, v)) = get("database_url") {
        l.database_url = Some(database_url(o, v)?);
    }
    if let Some((o, v)) = get("bootstrap_admin_password") {
        l.bootstrap_admin_password = Some(secret(o, Secret(v))?);
    }
    if let Some((o, v)) = get("ingest_token") {
        l.ingest_token = Some(secret(o, Secret(v))?);
    }
    if let Some((o, v)) = get("demo") {
        l.demo = Some(boolean(o, &v)?);
    }
    if let Some((o, v)) = get("session_ttl_hours") {
        l.session_ttl_hours = Some(number(o, &v, SESSION_TTL_HOURS, "hours")?);
    }
    if let Some((o, v)) = get("max_upload_bytes") {
        l.max_upload_bytes = Some(number(o, &v, MAX_UPLOAD_BYTES, "bytes")?);
    }
    if let Some((o, v)) = get("sip_session_timeout_secs") {
        l.sip_session_timeout_secs = Some(number(o, &v, SIP_SESSION_TIMEOUT_SECS, "seconds")?);
    }
    if let Some((o, v)) = get("retention_days") {
        l.retention_days = Some(number(o, &v, RETENTION_DAYS, "days")?);
    }
    if let Some((o, v)) = get("dispatch_schedule") {
        l.dispatch_schedule = Some(cron(o, v)?);
    }
    if let Some((o, v)) = get("script_timeout_secs") {
        l.script_timeout_secs = Some(number(o, &v, SCRIPT_TIMEOUT_SECS, "seconds")?);
    }
    if let Some((o, v)) = get("log") {
        l.log = Some(log_filter(o, v)?);
    }
    Ok(l)
}

/// The command-line flags of `serve`.
fn flag_layer(args: &ServeArgs) -> Result<Layer, ConfigError> {
    Ok(Layer {
        data_dir: args
            .data_dir
            .clone()
            .map(|d| data_dir(Origin::Flag("--data-dir"), d))
            .transpose()?,
        http: args
            .http
            .as_deref()
            .map(|v| socket_addr(Origin::Flag("--http"), v))
            .transpose()?,
        sip: args
            .sip
            .as_deref()
            .map(|v| socket_addr(Origin::Flag("--sip"), v))
            .transpose()?,
        rtp_ports: args
            .rtp_ports
            .as_deref()
            .map(|v| rtp_ports(Origin::Flag("--rtp-ports"), v))
            .transpose()?,
        // A flag can switch demo mode on; absent, it leaves the file/env value alone.
        demo: args.demo.then_some(true),
        ..Layer::default()
    })
}

fn invalid(origin: Origin, value: impl fmt::Display, expected: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        origin,
        value: value.to_string(),
        expected: expected.into(),
    }
}

fn data_dir(origin: Origin, dir: PathBuf) -> Result<PathBuf, ConfigError> {
    if dir.as_os_str().is_empty() {
        return Err(invalid(origin, "", "a directory"));
    }
    // The database URL and journals carry the path as text.
    if dir.to_str().is_none() {
        return Err(invalid(origin, dir.display(), "a UTF-8 directory path"));
    }
    Ok(dir)
}

fn socket_addr(origin: Origin, value: &str) -> Result<SocketAddr, ConfigError> {
    // Only literal addresses: resolving a name at start-up would make the bound address
    // depend on DNS, and `localhost` may mean ::1 or 127.0.0.1.
    SocketAddr::from_str(value).map_err(|_| invalid(origin, value, "ADDR:PORT (e.g. 127.0.0.1:8080 or [::1]:8080)"))
}

fn rtp_ports(origin: Origin, value: &str) -> Result<(u16, u16), ConfigError> {
    let bad = |why: &str| invalid(origin.clone(), value, format!("LOW-HIGH ({why})"));
    let (low, high) = value
        .split_once('-')
        .ok_or_else(|| bad("two ports joined by '-', e.g. 20000-29999"))?;
    let port = |s: &str| {
        s.trim()
            .parse::<u16>()
            .ok()
            .filter(|p| *p != 0)
            .ok_or_else(|| bad("ports are 1 to 65535"))
    };
    let (low, high) = (port(low)?, port(high)?);
    if low > high {
        return Err(bad("LOW must not exceed HIGH"));
    }
    if low % 2 != 0 {
        return Err(bad("LOW must be even: RTP uses even ports, RTCP the odd port above"));
    }
    Ok((low, high))
}

fn database_url(origin: Origin, url: String) -> Result<String, ConfigError> {
    const SCHEMES: [&str; 3] = ["sqlite:", "postgres:", "postgresql:"];
    if SCHEMES.iter().any(|s| url.starts_with(s)) {
        Ok(url)
    } else {
        // The URL may carry a password: show only its scheme.
        let scheme = url.split_once(':').map_or("", |(s, _)| s);
        Err(ConfigError::Invalid {
            origin,
            value: format!("{scheme}:…"),
            expected: "a sqlite: or postgres: URL".to_owned(),
        })
    }
}

fn secret(origin: Origin, value: Secret) -> Result<Secret, ConfigError> {
    if value.expose().trim().is_empty() {
        return Err(ConfigError::Refused {
            origin,
            problem: "is empty; leave the key out to keep it unset",
        });
    }
    Ok(value)
}

fn boolean(origin: Origin, value: &str) -> Result<bool, ConfigError> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        _ => Err(invalid(origin, value, "a boolean (true or false)")),
    }
}

fn number<T>(origin: Origin, value: &str, bounds: (T, T), unit: &str) -> Result<T, ConfigError>
where
    T: FromStr + PartialOrd + fmt::Display + Copy,
{
    match value.trim().parse::<T>() {
        Ok(n) => in_range(origin, n, bounds, unit),
        Err(_) => Err(invalid(origin, value, range_text(bounds, unit))),
    }
}

fn in_range<T>(origin: Origin, n: T, (min, max): (T, T), unit: &str) -> Result<T, ConfigError>
where
    T: PartialOrd + fmt::Display + Copy,
{
    if n < min || n > max {
        return Err(invalid(origin, n, range_text((min, max), unit)));
    }
    Ok(n)
}

fn range_text<T: fmt::Display>((min, max): (T, T), unit: &str) -> String {
    format!("a whole number of {unit} from {min} to {max}")
}

fn log_filter(origin: Origin, value: String) -> Result<String, ConfigError> {
    if value.trim().is_empty() {
        return Err(invalid(
            origin,
            value,
            "a log filter such as info or callrec_server=debug",
        ));
    }
    match tracing_subscriber::EnvFilter::try_new(&value) {
        Ok(_) => Ok(value),
        Err(e) => Err(invalid(origin, value, format!("a log filter ({e})"))),
    }
}

/// Validates the dispatch schedule with the scheduler's own parser, so a typo fails at
/// start-up naming its source instead of at 20:00, and "valid" means the same in both places.
fn cron(origin: Origin, value: String) -> Result<String, ConfigError> {
    match crate::schedule::Schedule::parse(&value) {
        Ok(_) => Ok(value),
        Err(e) => Err(invalid(origin, value, format!("a cron schedule ({e})"))),
    }
}

/// A commented TOML file with every key at its default. Parsing it yields the defaults;
/// keys without a default are present but commented out.
pub fn default_config_toml() -> String {
    let d = Config::default();
    format!(
        r#"# callrec-server configuration.
#
# Precedence: built-in defaults < this file < CALLREC_<KEY> environment variables < flags.
# Every key below has an environment variable of its name in upper case, e.g. http ->
# CALLREC_HTTP. Use it with `callrec-server serve --config FILE` (or CALLREC_CONFIG=FILE).
# Unknown keys are errors.

# Recordings, journals and (unless database_url is set) the SQLite database. Flag --data-dir.
data_dir = "{data_dir}"

# HTTP API listen address, ADDR:PORT. Flag --http.
http = "{http}"

# SIP (SIPREC) listen address, UDP and TCP, ADDR:PORT. Flag --sip.
sip = "{sip}"

# RTP port range LOW-HIGH; LOW must be even. Flag --rtp-ports.
rtp_ports = "{rtp_low}-{rtp_high}"

# Database URL. Default: the SQLite file <data_dir>/callrec.db.
# database_url = "sqlite:///var/lib/callrec/callrec.db"

# When the database has no users, create user "admin" (level admin) with this password.
# Without it a random password is printed once. Prefer the environment variable
# CALLREC_BOOTSTRAP_ADMIN_PASSWORD to keeping a password in a file.
# bootstrap_admin_password = "change me"

# Bearer token for POST /api/v1/ingest. Unset: ingest is disabled. CALLREC_INGEST_TOKEN.
# ingest_token = "a long random string"

# Demo mode. Flag --demo.
demo = {demo}

# Lifetime of a login session, in hours.
session_ttl_hours = {ttl}

# Largest accepted upload, in bytes (default 2 GiB).
max_upload_bytes = {max_upload}

# A SIPREC session with neither RTP nor SIP traffic for this many seconds is closed.
sip_session_timeout_secs = {sip_timeout}

# Initial retention of recordings, in days. Only used to seed a new database; afterwards
# admins change it with PUT /api/v1/settings.
retention_days = {retention}

# Initial dispatch schedule: cron "minute hour day-of-month month day-of-week", local time.
# Only used to seed a new database, like retention_days.
dispatch_schedule = "{schedule}"

# A dispatch script running longer than this many seconds is killed.
script_timeout_secs = {script_timeout}

# Log filter in tracing EnvFilter syntax, e.g. "info" or "info,callrec_server=debug".
log = "{log}"
"#,
        data_dir = d.data_dir.display(),
        http = d.http,
        sip = d.sip,
        rtp_low = d.rtp_ports.0,
        rtp_high = d.rtp_ports.1,
        demo = d.demo,
        ttl = d.session_ttl_hours,
        max_upload = d.max_upload_bytes,
        sip_timeout = d.sip_session_timeout_secs,
        retention = d.retention_days,
        schedule = d.dispatch_schedule,
        script_timeout = d.script_timeout_secs,
        log = d.log,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn load_with(args: &ServeArgs, vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Config::load(args, &|name| map.get(name).cloned())
    }

    fn parse_file(text: &str) -> Result<Config, ConfigError> {
        let mut config = Config::default();
        file_layer(Path::new("callrec.toml"), text)?.apply(&mut config);
        Ok(config)
    }

    fn message(result: Result<Config, ConfigError>) -> String {
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
    }

    #[test]
    fn default_config_toml_parses_back_into_the_defaults() {
        let text = default_config_toml();
        assert_eq!(parse_file(&text).expect("template parses"), Config::default());
        for key in KEYS {
            assert!(
                text.contains(&format!("\n{key} = ")) || text.contains(&format!("\n# {key} = ")),
                "template documents key {key}"
            );
        }
    }

    #[test]
    fn default_config_toml_commented_keys_parse_when_uncommented() {
        let text = default_config_toml()
            .replace("# database_url =", "database_url =")
            .replace("# bootstrap_admin_password =", "bootstrap_admin_password =")
            .replace("# ingest_token =", "ingest_token =");
        let c = parse_file(&text).expect("uncommented template parses");
        assert!(c.database_url.is_some(), "database_url example is valid");
        assert!(c.ingest_token.is_some(), "ingest_token example is valid");
    }

    #[test]
    fn every_key_has_a_file_key_and_env_var() {
        // A key missing from FileConfig is refused by deny_unknown_fields; a key missing from
        // env_layer leaves the default. Setting each to a non-default value catches both.
        let values: [(&str, &str, &str); 15] = [
            ("data_dir", "\"/srv/rec\"", "/srv/rec"),
            ("http", "\"0.0.0.0:80\"", "0.0.0.0:80"),
            ("sip", "\"0.0.0.0:5080\"", "0.0.0.0:5080"),
            ("rtp_ports", "\"30000-30099\"", "30000-30099"),
            ("database_url", "\"sqlite::memory:\"", "sqlite::memory:"),
            ("bootstrap_admin_password", "\"pw\"", "pw"),
            ("ingest_token", "\"tok\"", "tok"),
            ("demo", "true", "true"),
            ("session_ttl_hours", "3", "3"),
            ("max_upload_bytes", "4096", "4096"),
            ("sip_session_timeout_secs", "5", "5"),
            ("retention_days", "7", "7"),
            ("dispatch_schedule", "\"30 2 * * 1-5\"", "30 2 * * 1-5"),
            ("script_timeout_secs", "9", "9"),
            ("log", "\"debug\"", "debug"),
        ];
        assert_eq!(values.map(|v| v.0), KEYS, "test covers every key");
        for (key, toml_value, env_value) in values {
            let from_file =
                parse_file(&format!("{key} = {toml_value}\n")).unwrap_or_else(|e| panic!("file key {key}: {e}"));
            let var = format!("CALLREC_{}", key.to_ascii_uppercase());
            let from_env =
                load_with(&ServeArgs::default(), &[(&var, env_value)]).unwrap_or_else(|e| panic!("{var}: {e}"));
            assert_ne!(from_file, Config::default(), "file key {key} takes effect");
            assert_eq!(from_file, from_env, "{var} means the same as file key {key}");
        }
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
    fn bad_addresses_name_their_source() {
        assert_eq!(
            message(load_with(&ServeArgs::default(), &[("CALLREC_HTTP", "localhost:80x")])),
            "CALLREC_HTTP: \"localhost:80x\" is not ADDR:PORT (e.g. 127.0.0.1:8080 or [::1]:8080)"
        );
        let args = ServeArgs {
            sip: Some("5060".into()),
            ..ServeArgs::default()
        };
        assert!(
            message(load_with(&args, &[])).starts_with("--sip: \"5060\""),
            "flag named"
        );
        assert!(
            message(parse_file("http = \"1.2.3.4\"")).starts_with("callrec.toml: http: \"1.2.3.4\""),
            "file key named"
        );
        assert!(SocketAddr::from_str("[::1]:8080").is_ok(), "IPv6 literal accepted");
    }

    #[test]
    fn bad_rtp_ports_are_refused() {
        let o = || Origin::Flag("--rtp-ports");
        assert_eq!(rtp_ports(o(), "20000-29999").expect("default"), (20000, 29999));
        assert_eq!(rtp_ports(o(), "4000-4000").expect("single"), (4000, 4000));
        assert_eq!(rtp_ports(o(), " 4000 - 4001 ").expect("spaces"), (4000, 4001));
        for bad in [
            "",
            "20000",
            "20001-29999",
            "30000-20000",
            "0-10",
            "2-70000",
            "a-b",
            "-5",
            "10-",
            "1-2-3",
        ] {
            let e = rtp_ports(o(), bad).expect_err(bad).to_string();
            assert!(e.starts_with("--rtp-ports:"), "{bad:?} refused naming the flag: {e}");
        }
        assert!(
            rtp_ports(o(), "20001-29999")
                .expect_err("odd")
                .to_string()
                .contains("even"),
            "odd low explains why"
        );
    }

    #[test]
    fn numbers_out_of_range_or_unparsable_are_refused() {
        for (var, value) in [
            ("CALLREC_SESSION_TTL_HOURS", "0"),
            ("CALLREC_SESSION_TTL_HOURS", "12h"),
            ("CALLREC_SESSION_TTL_HOURS", "-1"),
            ("CALLREC_MAX_UPLOAD_BYTES", "18446744073709551616"),
            ("CALLREC_MAX_UPLOAD_BYTES", "10"),
            ("CALLREC_SIP_SESSION_TIMEOUT_SECS", "0"),
            ("CALLREC_RETENTION_DAYS", "0"),
            ("CALLREC_SCRIPT_TIMEOUT_SECS", "99999999"),
        ] {
            let e = message(load_with(&ServeArgs::default(), &[(var, value)]));
            assert!(
                e.starts_with(&format!("{var}: \"{value}\" is not a whole number")),
                "{e}"
            );
        }
        let e = message(parse_file("session_ttl_hours = 0"));
        assert!(
            e.contains("session_ttl_hours: \"0\" is not a whole number of hours"),
            "{e}"
        );
        let e = message(parse_file("session_ttl_hours = -3"));
        assert!(e.starts_with("config file callrec.toml:1:"), "negative in file: {e}");
        let e = message(parse_file("session_ttl_hours = \"12\""));
        assert!(e.contains("callrec.toml:1:"), "string for a number: {e}");
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
    fn secrets_are_redacted_and_compared_whole() {
        let c = load_with(
            &ServeArgs::default(),
            &[
                ("CALLREC_INGEST_TOKEN", "tok-123"),
                ("CALLREC_BOOTSTRAP_ADMIN_PASSWORD", "pw-456"),
            ],
        )
        .expect("loads");
        let debug = format!("{c:?}");
        assert!(
            !debug.contains("tok-123") && !debug.contains("pw-456"),
            "redacted: {debug}"
        );
        assert!(debug.contains("<redacted>"), "marker shown");
        assert_eq!(c.ingest_token.as_ref().map(Secret::expose), Some("tok-123"), "exposed");
        assert_eq!(Secret::new("ab"), Secret::new("ab"), "equal");
        assert_ne!(Secret::new("ab"), Secret::new("ac"), "differ in last byte");
        assert_ne!(Secret::new("ab"), Secret::new("abc"), "differ in length");
        let e = message(parse_file("ingest_token = \"  \""));
        assert_eq!(
            e,
            "callrec.toml: ingest_token: is empty; leave the key out to keep it unset"
        );
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
    fn log_filter_and_cron_are_validated() {
        assert!(message(load_with(&ServeArgs::default(), &[("CALLREC_LOG", "info,[[")])).starts_with("CALLREC_LOG:"));
        for good in ["0 20 * * *", "*/15 8-18 * * mon-fri", "0 0 1,15 jan,jul 0"] {
            cron(Origin::Flag("x"), good.into()).unwrap_or_else(|e| panic!("{good}: {e}"));
        }
        for bad in [
            "",
            "0 20 * *",
            "60 20 * * *",
            "0 24 * * *",
            "0 20 * * * *",
            "x 0 * * *",
            "0 0 31 2 *",
        ] {
            let e = cron(Origin::Env("CALLREC_DISPATCH_SCHEDULE".into()), bad.into()).expect_err(bad);
            assert!(
                e.to_string().starts_with("CALLREC_DISPATCH_SCHEDULE: "),
                "{bad:?} refused naming the source: {e}"
            );
        }
    }

    #[test]
    fn same_http_and_sip_address_conflicts() {
        let e = message(load_with(&ServeArgs::default(), &[("CALLREC_HTTP", "127.0.0.1:5060")]));
        assert!(e.contains("http and sip are both 127.0.0.1:5060"), "{e}");
    }

    #[test]
    fn line_column_counts_from_one() {
        assert_eq!(line_column("ab\ncd", 0), (1, 1));
        assert_eq!(line_column("ab\ncd", 4), (2, 2));
    }
}
