//! The sources of configuration values, each read into a `Layer` of optional,
//! already-validated values: the TOML file (`file_layer`: at most
//! [`MAX_CONFIG_FILE_BYTES`], unknown keys refused, syntax errors with line and column), the
//! `CALLREC_*` environment (`env_layer`) and the `serve` flags (`flag_layer`).
//! [`Config::load`] lays them over the defaults in that order.

use std::io::Read;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::error::{ConfigError, Origin, MAX_CONFIG_FILE_BYTES};
use super::secret::{DatabaseUrl, Secret};
use super::values::{
    boolean, command, cron, data_dir, database_url, file_path, in_range, log_filter, node_id, number, pause_fill,
    rtp_ports, secret, socket_addr, storage_url, DISK_FULL_BUFFER_SECS, HTTP_HEADER_TIMEOUT_SECS,
    HTTP_IDLE_TIMEOUT_SECS, HTTP_MAX_CONNECTIONS, MAX_UPLOAD_BYTES, NODE_LEASE_SECS, PAUSE_AUTO_RESUME_SECS,
    RETENTION_DAYS, SCRIPT_TIMEOUT_SECS, SESSION_TTL_HOURS, SHUTDOWN_GRACE_SECS, SIP_ACK_TIMEOUT_SECS,
    SIP_SESSION_TIMEOUT_SECS, SIP_TCP_FD_RESERVE, SIP_TCP_IDLE_TIMEOUT_SECS, SIP_TCP_MAX_CONNECTIONS,
    SIP_UNACKNOWLEDGED_PER_SOURCE, TRANSCRIPTION_LEASE_SECS, TRANSCRIPTION_WAIT_SECS,
};
use super::{Config, ServeArgs, StorageUrl, CONFIG_FILE_ENV, ENV_ALIASES};
use callrec_types::wire::PauseFill;

/// One source's values, each already validated.
#[derive(Debug, Default)]
pub(super) struct Layer {
    data_dir: Option<PathBuf>,
    http: Option<SocketAddr>,
    sip: Option<SocketAddr>,
    sips: Option<SocketAddr>,
    tls_cert_file: Option<PathBuf>,
    tls_key_file: Option<PathBuf>,
    tls_client_ca_file: Option<PathBuf>,
    require_srtp: Option<bool>,
    rtp_ports: Option<(u16, u16)>,
    database_url: Option<DatabaseUrl>,
    bootstrap_admin_password: Option<Secret>,
    ingest_token: Option<Secret>,
    demo: Option<bool>,
    session_ttl_hours: Option<u32>,
    max_upload_bytes: Option<u64>,
    sip_session_timeout_secs: Option<u32>,
    sip_ack_timeout_secs: Option<u32>,
    sip_unacknowledged_per_source: Option<u32>,
    sip_tcp_max_connections: Option<u32>,
    sip_tcp_idle_timeout_secs: Option<u32>,
    sip_tcp_fd_reserve: Option<u32>,
    retention_days: Option<u32>,
    dispatch_schedule: Option<String>,
    script_timeout_secs: Option<u32>,
    shutdown_grace_secs: Option<u32>,
    http_header_timeout_secs: Option<u32>,
    http_idle_timeout_secs: Option<u32>,
    http_max_connections: Option<u32>,
    disk_full_buffer_secs: Option<u32>,
    storage_url: Option<StorageUrl>,
    node_id: Option<String>,
    encryption_key_file: Option<PathBuf>,
    node_lease_secs: Option<u32>,
    pause_fill: Option<PauseFill>,
    pause_auto_resume_secs: Option<u32>,
    transcription: Option<bool>,
    transcription_command: Option<String>,
    transcription_model_dir: Option<PathBuf>,
    transcription_lease_secs: Option<u32>,
    transcription_wait_secs: Option<u32>,
    log: Option<String>,
}

impl Layer {
    /// Overrides `config` with every value this layer sets.
    pub(super) fn apply(self, config: &mut Config) {
        fn set<T>(slot: &mut T, value: Option<T>) {
            if let Some(v) = value {
                *slot = v;
            }
        }
        set(&mut config.data_dir, self.data_dir);
        set(&mut config.http, self.http);
        set(&mut config.sip, self.sip);
        if self.sips.is_some() {
            config.sips = self.sips;
        }
        if self.tls_cert_file.is_some() {
            config.tls_cert_file = self.tls_cert_file;
        }
        if self.tls_key_file.is_some() {
            config.tls_key_file = self.tls_key_file;
        }
        if self.tls_client_ca_file.is_some() {
            config.tls_client_ca_file = self.tls_client_ca_file;
        }
        set(&mut config.require_srtp, self.require_srtp);
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
        set(&mut config.sip_ack_timeout_secs, self.sip_ack_timeout_secs);
        set(
            &mut config.sip_unacknowledged_per_source,
            self.sip_unacknowledged_per_source,
        );
        set(&mut config.sip_tcp_max_connections, self.sip_tcp_max_connections);
        set(&mut config.sip_tcp_idle_timeout_secs, self.sip_tcp_idle_timeout_secs);
        set(&mut config.sip_tcp_fd_reserve, self.sip_tcp_fd_reserve);
        set(&mut config.retention_days, self.retention_days);
        set(&mut config.dispatch_schedule, self.dispatch_schedule);
        set(&mut config.script_timeout_secs, self.script_timeout_secs);
        set(&mut config.shutdown_grace_secs, self.shutdown_grace_secs);
        set(&mut config.http_header_timeout_secs, self.http_header_timeout_secs);
        set(&mut config.http_idle_timeout_secs, self.http_idle_timeout_secs);
        set(&mut config.http_max_connections, self.http_max_connections);
        set(&mut config.disk_full_buffer_secs, self.disk_full_buffer_secs);
        if let Some(url) = self.storage_url {
            config.storage_url = Some(url);
        }
        if self.node_id.is_some() {
            config.node_id = self.node_id;
        }
        if self.encryption_key_file.is_some() {
            config.encryption_key_file = self.encryption_key_file;
        }
        set(&mut config.node_lease_secs, self.node_lease_secs);
        set(&mut config.pause_fill, self.pause_fill);
        set(&mut config.pause_auto_resume_secs, self.pause_auto_resume_secs);
        set(&mut config.transcription, self.transcription);
        set(&mut config.transcription_command, self.transcription_command);
        set(&mut config.transcription_lease_secs, self.transcription_lease_secs);
        set(&mut config.transcription_wait_secs, self.transcription_wait_secs);
        if self.transcription_model_dir.is_some() {
            config.transcription_model_dir = self.transcription_model_dir;
        }
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
    sips: Option<String>,
    tls_cert_file: Option<PathBuf>,
    tls_key_file: Option<PathBuf>,
    tls_client_ca_file: Option<PathBuf>,
    require_srtp: Option<bool>,
    rtp_ports: Option<String>,
    database_url: Option<String>,
    bootstrap_admin_password: Option<Secret>,
    ingest_token: Option<Secret>,
    demo: Option<bool>,
    session_ttl_hours: Option<u32>,
    max_upload_bytes: Option<u64>,
    sip_session_timeout_secs: Option<u32>,
    sip_ack_timeout_secs: Option<u32>,
    sip_unacknowledged_per_source: Option<u32>,
    sip_tcp_max_connections: Option<u32>,
    sip_tcp_idle_timeout_secs: Option<u32>,
    sip_tcp_fd_reserve: Option<u32>,
    retention_days: Option<u32>,
    dispatch_schedule: Option<String>,
    script_timeout_secs: Option<u32>,
    shutdown_grace_secs: Option<u32>,
    http_header_timeout_secs: Option<u32>,
    http_idle_timeout_secs: Option<u32>,
    http_max_connections: Option<u32>,
    disk_full_buffer_secs: Option<u32>,
    storage_url: Option<String>,
    node_id: Option<String>,
    encryption_key_file: Option<String>,
    node_lease_secs: Option<u32>,
    pause_fill: Option<String>,
    pause_auto_resume_secs: Option<u32>,
    transcription: Option<bool>,
    transcription_command: Option<String>,
    transcription_model_dir: Option<String>,
    transcription_lease_secs: Option<u32>,
    transcription_wait_secs: Option<u32>,
    log: Option<String>,
}

pub(super) fn read_config_file(path: &Path) -> Result<String, ConfigError> {
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
pub(super) fn file_layer(path: &Path, text: &str) -> Result<Layer, ConfigError> {
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
        sips: raw.sips.map(|v| socket_addr(origin("sips"), &v)).transpose()?,
        tls_cert_file: raw
            .tls_cert_file
            .map(|v| file_path(origin("tls_cert_file"), v))
            .transpose()?,
        tls_key_file: raw
            .tls_key_file
            .map(|v| file_path(origin("tls_key_file"), v))
            .transpose()?,
        tls_client_ca_file: raw
            .tls_client_ca_file
            .map(|v| file_path(origin("tls_client_ca_file"), v))
            .transpose()?,
        require_srtp: raw.require_srtp,
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
        sip_ack_timeout_secs: raw
            .sip_ack_timeout_secs
            .map(|v| in_range(origin("sip_ack_timeout_secs"), v, SIP_ACK_TIMEOUT_SECS, "seconds"))
            .transpose()?,
        sip_unacknowledged_per_source: raw
            .sip_unacknowledged_per_source
            .map(|v| {
                in_range(
                    origin("sip_unacknowledged_per_source"),
                    v,
                    SIP_UNACKNOWLEDGED_PER_SOURCE,
                    "sessions",
                )
            })
            .transpose()?,
        sip_tcp_max_connections: raw
            .sip_tcp_max_connections
            .map(|v| {
                in_range(
                    origin("sip_tcp_max_connections"),
                    v,
                    SIP_TCP_MAX_CONNECTIONS,
                    "connections",
                )
            })
            .transpose()?,
        sip_tcp_idle_timeout_secs: raw
            .sip_tcp_idle_timeout_secs
            .map(|v| {
                in_range(
                    origin("sip_tcp_idle_timeout_secs"),
                    v,
                    SIP_TCP_IDLE_TIMEOUT_SECS,
                    "seconds",
                )
            })
            .transpose()?,
        sip_tcp_fd_reserve: raw
            .sip_tcp_fd_reserve
            .map(|v| in_range(origin("sip_tcp_fd_reserve"), v, SIP_TCP_FD_RESERVE, "file descriptors"))
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
        shutdown_grace_secs: raw
            .shutdown_grace_secs
            .map(|v| in_range(origin("shutdown_grace_secs"), v, SHUTDOWN_GRACE_SECS, "seconds"))
            .transpose()?,
        http_header_timeout_secs: raw
            .http_header_timeout_secs
            .map(|v| {
                in_range(
                    origin("http_header_timeout_secs"),
                    v,
                    HTTP_HEADER_TIMEOUT_SECS,
                    "seconds",
                )
            })
            .transpose()?,
        http_idle_timeout_secs: raw
            .http_idle_timeout_secs
            .map(|v| in_range(origin("http_idle_timeout_secs"), v, HTTP_IDLE_TIMEOUT_SECS, "seconds"))
            .transpose()?,
        http_max_connections: raw
            .http_max_connections
            .map(|v| in_range(origin("http_max_connections"), v, HTTP_MAX_CONNECTIONS, "connections"))
            .transpose()?,
        disk_full_buffer_secs: raw
            .disk_full_buffer_secs
            .map(|v| in_range(origin("disk_full_buffer_secs"), v, DISK_FULL_BUFFER_SECS, "seconds"))
            .transpose()?,
        storage_url: raw
            .storage_url
            .map(|v| storage_url(origin("storage_url"), &v))
            .transpose()?,
        node_id: raw.node_id.map(|v| node_id(origin("node_id"), v)).transpose()?,
        encryption_key_file: raw
            .encryption_key_file
            .map(|v| data_dir(origin("encryption_key_file"), PathBuf::from(v)))
            .transpose()?,
        node_lease_secs: raw
            .node_lease_secs
            .map(|v| in_range(origin("node_lease_secs"), v, NODE_LEASE_SECS, "seconds"))
            .transpose()?,
        pause_fill: raw
            .pause_fill
            .map(|v| pause_fill(origin("pause_fill"), &v))
            .transpose()?,
        pause_auto_resume_secs: raw
            .pause_auto_resume_secs
            .map(|v| in_range(origin("pause_auto_resume_secs"), v, PAUSE_AUTO_RESUME_SECS, "seconds"))
            .transpose()?,
        transcription: raw.transcription,
        transcription_command: raw
            .transcription_command
            .map(|v| command(origin("transcription_command"), v))
            .transpose()?,
        transcription_model_dir: raw
            .transcription_model_dir
            .map(|v| file_path(origin("transcription_model_dir"), PathBuf::from(v)))
            .transpose()?,
        transcription_lease_secs: raw
            .transcription_lease_secs
            .map(|v| {
                in_range(
                    origin("transcription_lease_secs"),
                    v,
                    TRANSCRIPTION_LEASE_SECS,
                    "seconds",
                )
            })
            .transpose()?,
        transcription_wait_secs: raw
            .transcription_wait_secs
            .map(|v| in_range(origin("transcription_wait_secs"), v, TRANSCRIPTION_WAIT_SECS, "seconds"))
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
pub(super) fn env_layer(env: &dyn Fn(&str) -> Option<String>) -> Result<Layer, ConfigError> {
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
    if let Some((o, v)) = get("sips") {
        l.sips = Some(socket_addr(o, &v)?);
    }
    for (key, alias) in ENV_ALIASES {
        let value = get(key).or_else(|| env(alias).map(|v| (Origin::Env(alias.to_owned()), v)));
        if let Some((o, v)) = value {
            let path = Some(file_path(o, PathBuf::from(v))?);
            match key {
                "tls_cert_file" => l.tls_cert_file = path,
                _ => l.tls_key_file = path,
            }
        }
    }
    if let Some((o, v)) = get("tls_client_ca_file") {
        l.tls_client_ca_file = Some(file_path(o, PathBuf::from(v))?);
    }
    if let Some((o, v)) = get("require_srtp") {
        l.require_srtp = Some(boolean(o, &v)?);
    }
    if let Some((o, v)) = get("rtp_ports") {
        l.rtp_ports = Some(rtp_ports(o, &v)?);
    }
    if let Some((o, v)) = get("database_url") {
        l.database_url = Some(database_url(o, v)?);
    }
    if let Some((o, v)) = get("bootstrap_admin_password") {
        l.bootstrap_admin_password = Some(secret(o, Secret::new(v))?);
    }
    if let Some((o, v)) = get("ingest_token") {
        l.ingest_token = Some(secret(o, Secret::new(v))?);
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
    if let Some((o, v)) = get("sip_ack_timeout_secs") {
        l.sip_ack_timeout_secs = Some(number(o, &v, SIP_ACK_TIMEOUT_SECS, "seconds")?);
    }
    if let Some((o, v)) = get("sip_unacknowledged_per_source") {
        l.sip_unacknowledged_per_source = Some(number(o, &v, SIP_UNACKNOWLEDGED_PER_SOURCE, "sessions")?);
    }
    if let Some((o, v)) = get("sip_tcp_max_connections") {
        l.sip_tcp_max_connections = Some(number(o, &v, SIP_TCP_MAX_CONNECTIONS, "connections")?);
    }
    if let Some((o, v)) = get("sip_tcp_idle_timeout_secs") {
        l.sip_tcp_idle_timeout_secs = Some(number(o, &v, SIP_TCP_IDLE_TIMEOUT_SECS, "seconds")?);
    }
    if let Some((o, v)) = get("sip_tcp_fd_reserve") {
        l.sip_tcp_fd_reserve = Some(number(o, &v, SIP_TCP_FD_RESERVE, "file descriptors")?);
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
    if let Some((o, v)) = get("shutdown_grace_secs") {
        l.shutdown_grace_secs = Some(number(o, &v, SHUTDOWN_GRACE_SECS, "seconds")?);
    }
    if let Some((o, v)) = get("http_header_timeout_secs") {
        l.http_header_timeout_secs = Some(number(o, &v, HTTP_HEADER_TIMEOUT_SECS, "seconds")?);
    }
    if let Some((o, v)) = get("http_idle_timeout_secs") {
        l.http_idle_timeout_secs = Some(number(o, &v, HTTP_IDLE_TIMEOUT_SECS, "seconds")?);
    }
    if let Some((o, v)) = get("http_max_connections") {
        l.http_max_connections = Some(number(o, &v, HTTP_MAX_CONNECTIONS, "connections")?);
    }
    if let Some((o, v)) = get("disk_full_buffer_secs") {
        l.disk_full_buffer_secs = Some(number(o, &v, DISK_FULL_BUFFER_SECS, "seconds")?);
    }
    if let Some((o, v)) = get("storage_url") {
        l.storage_url = Some(storage_url(o, &v)?);
    }
    if let Some((o, v)) = get("node_id") {
        l.node_id = Some(node_id(o, v)?);
    }
    if let Some((o, v)) = get("encryption_key_file") {
        l.encryption_key_file = Some(data_dir(o, PathBuf::from(v))?);
    }
    if let Some((o, v)) = get("node_lease_secs") {
        l.node_lease_secs = Some(number(o, &v, NODE_LEASE_SECS, "seconds")?);
    }
    if let Some((o, v)) = get("pause_fill") {
        l.pause_fill = Some(pause_fill(o, &v)?);
    }
    if let Some((o, v)) = get("pause_auto_resume_secs") {
        l.pause_auto_resume_secs = Some(number(o, &v, PAUSE_AUTO_RESUME_SECS, "seconds")?);
    }
    if let Some((o, v)) = get("transcription") {
        l.transcription = Some(boolean(o, &v)?);
    }
    if let Some((o, v)) = get("transcription_command") {
        l.transcription_command = Some(command(o, v)?);
    }
    if let Some((o, v)) = get("transcription_model_dir") {
        l.transcription_model_dir = Some(file_path(o, PathBuf::from(v))?);
    }
    if let Some((o, v)) = get("transcription_lease_secs") {
        l.transcription_lease_secs = Some(number(o, &v, TRANSCRIPTION_LEASE_SECS, "seconds")?);
    }
    if let Some((o, v)) = get("transcription_wait_secs") {
        l.transcription_wait_secs = Some(number(o, &v, TRANSCRIPTION_WAIT_SECS, "seconds")?);
    }
    if let Some((o, v)) = get("log") {
        l.log = Some(log_filter(o, v)?);
    }
    Ok(l)
}

/// The command-line flags of `serve`.
pub(super) fn flag_layer(args: &ServeArgs) -> Result<Layer, ConfigError> {
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
        sips: args
            .sips
            .as_deref()
            .map(|v| socket_addr(Origin::Flag("--sips"), v))
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
        config.aws = super::AWS_VARS
            .iter()
            .filter_map(|k| env(k).map(|v| ((*k).to_owned(), Secret::new(v))))
            .collect();
        config.check_consistency()?;
        Ok(config)
    }
}

#[cfg(test)]
#[path = "layer_tests.rs"]
mod tests;
