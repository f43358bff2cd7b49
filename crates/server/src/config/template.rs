//! [`default_config_toml`]: the commented configuration file that
//! `callrec-server default-config` prints.

use super::Config;

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
# The evidence signing key (Ed25519, issue #12.2) is generated here at the first start:
# <data_dir>/evidence-signing.key, mode 0600 — back it up with the data.
data_dir = "{data_dir}"

# HTTP API listen address, ADDR:PORT. Flag --http.
http = "{http}"

# SIP (SIPREC) listen address, UDP and TCP, ADDR:PORT. Flag --sip.
sip = "{sip}"

# SIP over TLS (sips:, RFC 3261 §26.2; SBCs use port 5061), ADDR:PORT. Unset: no TLS
# listener. The same sessions as over UDP/TCP; our Contact is a sips: URI on this port.
# Flag --sips.
# sips = "0.0.0.0:5061"

# The TLS listener's certificate chain (PEM, leaf first) and its private key (PEM: PKCS#8,
# PKCS#1 or SEC1). Env also CALLREC_TLS_CERT / CALLREC_TLS_KEY. The certificate's names (DNS
# or IP) must be what the SBC dials; the SBC must trust its issuer. A missing or unreadable
# file, or a key that does not match, stops the server at start-up naming the file.
# tls_cert_file = "/etc/callrec/tls/cert.pem"
# tls_key_file = "/etc/callrec/tls/key.pem"

# Mutual TLS: when set, an SBC must present a client certificate issued by a CA in this PEM
# file, or its connection is closed during the handshake.
# tls_client_ca_file = "/etc/callrec/tls/sbc-ca.pem"

# Refuse plain RTP: an INVITE offering RTP/AVP audio gets 488 Not Acceptable Here; only SRTP
# (RTP/SAVP with a=crypto SDES keys, RFC 4568) is recorded. SRTP is always accepted.
require_srtp = {require_srtp}

# RTP port range LOW-HIGH; LOW must be even. Flag --rtp-ports.
rtp_ports = "{rtp_low}-{rtp_high}"

# Database URL. Default: the SQLite file <data_dir>/callrec.db. A postgres:// URL
# ("postgres://callrec:PASSWORD@db.example:5432/callrec") selects PostgreSQL (needs the pg_trgm
# extension, Debian's postgresql-contrib); its password never appears in logs.
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

# A SIPREC session whose 200 OK is not acknowledged (ACK) within this many seconds is closed
# with a BYE and leaves no recording: the call is ended unanswered. RFC 3261 §13.3.1.4: 64·T1.
sip_ack_timeout_secs = {ack_timeout}

# Most SIPREC sessions one source IP address may have between its INVITE and our receipt of
# its ACK. Further INVITEs from that address get 503 Service Unavailable with Retry-After.
sip_unacknowledged_per_source = {unacked}

# Most SIP TCP connections open at once; a connection beyond it is closed as soon as it is
# accepted (the client sees the connection close, not a hang).
sip_tcp_max_connections = {tcp_max}

# A SIP TCP connection that carries no session and has received nothing (not even a CRLF
# keep-alive) for this many seconds is closed.
sip_tcp_idle_timeout_secs = {tcp_idle}

# New SIP TCP connections are refused while fewer than this many file descriptors are free
# (the open-file limit minus those open), so RTP ports and recording files still get one.
sip_tcp_fd_reserve = {fd_reserve}

# Initial retention of recordings, in days. Only used to seed a new database; afterwards
# admins change it with PUT /api/v1/settings.
retention_days = {retention}

# Initial dispatch schedule: cron "minute hour day-of-month month day-of-week", local time.
# Only used to seed a new database, like retention_days.
dispatch_schedule = "{schedule}"

# A dispatch script running longer than this many seconds is killed.
script_timeout_secs = {script_timeout}

# On SIGTERM or Ctrl-C the server stops taking calls and requests, ends push streams,
# finalises every recording and exits; clients that have not finished within this many
# seconds are disconnected.
shutdown_grace_secs = {shutdown_grace_secs}

# An HTTP client must send a whole request head within this many seconds of starting it.
http_header_timeout_secs = {http_header_timeout_secs}

# An HTTP connection with no traffic either way for this many seconds is closed. Push
# streams (GET /api/v1/events) send a keep-alive every 15 s, so keep this above 15.
http_idle_timeout_secs = {http_idle_timeout_secs}

# Most HTTP connections open at once. At the limit, the connection idle longest is closed
# to make room for the new one, so a flood of idle connections cannot lock users out.
http_max_connections = {http_max_connections}
# While the disk refuses writes (full, over quota), each call keeps up to this many seconds
# of audio in memory (16 KB a second per call) and writes it when space returns; audio beyond
# it is dropped, padded with silence and listed as a gap of the recording. 2 to 600.
disk_full_buffer_secs = {disk_full_buffer}

# Where closed recordings and their journal JSON are kept, under the same key layout
# (recordings/YYYY/MM/DD/<callkey>_<seq>.wav). Default: file://<data_dir>, i.e. kept where they
# are written. "s3://BUCKET/PREFIX" uploads each closed recording to S3 (endpoint, region and
# credentials from AWS_ENDPOINT_URL, AWS_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
# AWS_ALLOW_HTTP=true for plain http), checks its SHA-256 and only then removes the local copy;
# while the store is unreachable recordings wait under data_dir and are retried with backoff.
# "file:///OTHER/DIR" copies them to another directory the same way.
# storage_url = "s3://callrec-audio/site-a"

# This node's name when several nodes share one PostgreSQL database (database_url =
# "postgres://…"): every node answers every request, and an action on a call (the record
# toggle) is carried to the node that holds its media. Default: the host name. 1 to 40
# letters, digits, '-', '_' or '.'. Env CALLREC_NODE_ID.
# node_id = "rec-1"

# Encryption at rest: a file holding the base64 of a 32-byte master key (make one with
# `callrec-server gen-key /etc/callrec/master.key`; keep a copy somewhere safe: without it the
# recordings cannot be played). With it every new recording (the growing file, the data
# directory, the object store) and every journal JSON is stored encrypted; older plaintext
# files keep playing (`callrec-server encrypt-existing` converts them). A data directory that
# holds encrypted files refuses to start without this key or with another one. Env
# CALLREC_ENCRYPTION_KEY_FILE.
# encryption_key_file = "/etc/callrec/master.key"

# With PostgreSQL: a node that has not renewed its heartbeat for this many seconds is taken
# for dead, and another node ends its live calls (the node repairs its recordings when it
# restarts). Keep it above the time a PostgreSQL restart takes.
node_lease_secs = {node_lease_secs}

# PCI pause (POST /api/v1/calls/ID/recording {{"action":"pause"}}): what a paused recording
# holds instead of the call's audio, so its timeline still matches the call: "silence" or
# "tone" (a soft 400 Hz tone). Only used to seed a new database, like retention_days.
pause_fill = "{pause_fill}"

# A pause longer than this many seconds is resumed by the server (against a forgotten
# pause); 0 = never. 0 to 86400. Only used to seed a new database, like retention_days.
pause_auto_resume_secs = {pause_auto_resume_secs}

# Transcripts (issue #16, docs/transcripts.md): with true the server starts one transcription
# worker of its own at low priority (nice), restarts it if it dies and stops it on shutdown;
# which recordings are transcribed is a rule option (`transcribe`). More workers can run on
# other machines with a worker token. Env CALLREC_TRANSCRIPTION.
transcription = {transcription}

# The local worker's program and its arguments, separated by spaces; the server adds
# `--server URL` and hands it a token of its own in CALLREC_WORKER_TOKEN. Env
# CALLREC_TRANSCRIPTION_COMMAND.
transcription_command = "{transcription_command}"

# The speech model's directory (a faster-whisper / CTranslate2 model), passed to the local
# worker; absent: the model the worker's Python package ships (Whisper tiny.en). Env
# CALLREC_TRANSCRIPTION_MODEL_DIR.
# transcription_model_dir = "/opt/callrec/models/whisper-small.en"

# How long a worker may hold a job, in seconds, beyond the recording's own length; a worker
# silent for longer is taken for dead and the job goes to another (5 to 86400). Env
# CALLREC_TRANSCRIPTION_LEASE_SECS.
transcription_lease_secs = {transcription_lease_secs}

# How long an e-mail dispatch waits for its recording's transcript, in seconds after the
# recording ended: sent as soon as the transcript is done, without it (saying so) when the wait
# is over; a failed transcript never holds it (0 to 604800, 0 = never wait). Env
# CALLREC_TRANSCRIPTION_WAIT_SECS.
transcription_wait_secs = {transcription_wait_secs}

# Log filter in tracing EnvFilter syntax, e.g. "info" or "info,callrec_server=debug".
log = "{log}"
"#,
        data_dir = d.data_dir.display(),
        http = d.http,
        sip = d.sip,
        require_srtp = d.require_srtp,
        rtp_low = d.rtp_ports.0,
        rtp_high = d.rtp_ports.1,
        demo = d.demo,
        ttl = d.session_ttl_hours,
        max_upload = d.max_upload_bytes,
        sip_timeout = d.sip_session_timeout_secs,
        ack_timeout = d.sip_ack_timeout_secs,
        unacked = d.sip_unacknowledged_per_source,
        tcp_max = d.sip_tcp_max_connections,
        tcp_idle = d.sip_tcp_idle_timeout_secs,
        fd_reserve = d.sip_tcp_fd_reserve,
        retention = d.retention_days,
        schedule = d.dispatch_schedule,
        script_timeout = d.script_timeout_secs,
        shutdown_grace_secs = d.shutdown_grace_secs,
        http_header_timeout_secs = d.http_header_timeout_secs,
        http_idle_timeout_secs = d.http_idle_timeout_secs,
        http_max_connections = d.http_max_connections,
        disk_full_buffer = d.disk_full_buffer_secs,
        node_lease_secs = d.node_lease_secs,
        pause_fill = d.pause_fill.as_str(),
        pause_auto_resume_secs = d.pause_auto_resume_secs,
        transcription = d.transcription,
        transcription_command = d.transcription_command,
        transcription_lease_secs = d.transcription_lease_secs,
        transcription_wait_secs = d.transcription_wait_secs,
        log = d.log,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::tests::parse_file;
    use crate::config::KEYS;

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
            .replace("# ingest_token =", "ingest_token =")
            .replace("# storage_url =", "storage_url =")
            .replace("# node_id =", "node_id =")
            .replace("# encryption_key_file =", "encryption_key_file =")
            .replace("# sips =", "sips =")
            .replace("# tls_cert_file =", "tls_cert_file =")
            .replace("# tls_key_file =", "tls_key_file =")
            .replace("# tls_client_ca_file =", "tls_client_ca_file =");
        let c = parse_file(&text).expect("uncommented template parses");
        assert!(c.database_url.is_some(), "database_url example is valid");
        assert!(c.ingest_token.is_some(), "ingest_token example is valid");
        assert!(c.storage_url.is_some(), "storage_url example is valid");
        assert!(
            c.sips.is_some() && c.tls_client_ca_file.is_some(),
            "TLS examples are valid"
        );
    }
}
