//! Parsing and validating one configuration value: addresses, the RTP port range, numbers
//! within their bounds, the database URL, secrets, booleans, the log filter and the dispatch
//! schedule. Each validator takes the value's [`Origin`] so that a refusal names the file
//! key, environment variable or flag it came from.

use super::storage_url::StorageUrl;
use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::str::FromStr;

use super::error::{ConfigError, Origin};
use super::secret::{DatabaseUrl, Secret};

// Bounds for the numeric keys: wide enough for tests that want short timeouts, narrow enough
// to catch a value in the wrong unit (milliseconds for seconds, a size in KiB for bytes).
pub(super) const SESSION_TTL_HOURS: (u32, u32) = (1, 24 * 366);
pub(super) const SIP_SESSION_TIMEOUT_SECS: (u32, u32) = (1, 24 * 3600);
// T1 may be raised on slow links (RFC 3261 §17.1.1.1), and 64·T1 with it; five minutes is
// already a very slow network.
pub(super) const SIP_ACK_TIMEOUT_SECS: (u32, u32) = (1, 300);
pub(super) const SIP_UNACKNOWLEDGED_PER_SOURCE: (u32, u32) = (1, 1_000_000);
pub(super) const SIP_TCP_MAX_CONNECTIONS: (u32, u32) = (1, 1_000_000);
pub(super) const SIP_TCP_IDLE_TIMEOUT_SECS: (u32, u32) = (1, 24 * 3600);
pub(super) const SIP_TCP_FD_RESERVE: (u32, u32) = (0, 10_000_000);
pub(super) const RETENTION_DAYS: (u32, u32) = (1, 100 * 366);
pub(super) const SCRIPT_TIMEOUT_SECS: (u32, u32) = (1, 24 * 3600);
pub(super) const TRANSCRIPTION_LEASE_SECS: (u32, u32) = (5, 86_400);
pub(super) const TRANSCRIPTION_WAIT_SECS: (u32, u32) = (0, 7 * 86_400);
pub(super) const SHUTDOWN_GRACE_SECS: (u32, u32) = (1, 3600);
pub(super) const HTTP_HEADER_TIMEOUT_SECS: (u32, u32) = (1, 3600);
pub(super) const HTTP_IDLE_TIMEOUT_SECS: (u32, u32) = (1, 24 * 3600);
pub(super) const HTTP_MAX_CONNECTIONS: (u32, u32) = (1, 1_000_000);
pub(super) const NODE_LEASE_SECS: (u32, u32) = (1, 3600);
pub(super) const PAUSE_AUTO_RESUME_SECS: (u32, u32) = (0, 24 * 3600);
/// A node id names PostgreSQL notification channels (`callrec_node_<id>`, at most 63 bytes).
pub(super) const NODE_ID_MAX_LEN: usize = 40;

pub(super) fn is_node_id_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')
}

/// A command line (a program and its arguments, split at white space): not empty, no control
/// characters, at most 4 KiB.
pub(super) fn command(origin: Origin, value: String) -> Result<String, ConfigError> {
    if !value.trim().is_empty() && value.len() <= 4096 && !value.chars().any(char::is_control) {
        Ok(value)
    } else {
        Err(ConfigError::Invalid {
            origin,
            value,
            expected: "a program and its arguments, separated by spaces".to_string(),
        })
    }
}

pub(super) fn node_id(origin: Origin, value: String) -> Result<String, ConfigError> {
    if !value.is_empty() && value.len() <= NODE_ID_MAX_LEN && value.chars().all(is_node_id_char) {
        Ok(value)
    } else {
        Err(ConfigError::Invalid {
            origin,
            value,
            expected: format!("1 to {NODE_ID_MAX_LEN} letters, digits, '-', '_' or '.'"),
        })
    }
}
pub(super) const MAX_UPLOAD_BYTES: (u64, u64) = (1024, u64::MAX);
// At least two seconds: a recording holds up to one second (plus a tick) in memory between
// writes even when the disk is fine. Ten minutes of stereo G.711 is 9.6 MB per call: more is
// a memory risk, not a safety margin.
pub(super) const DISK_FULL_BUFFER_SECS: (u32, u32) = (2, 600);

fn invalid(origin: Origin, value: impl fmt::Display, expected: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        origin,
        value: value.to_string(),
        expected: expected.into(),
    }
}

pub(super) fn data_dir(origin: Origin, dir: PathBuf) -> Result<PathBuf, ConfigError> {
    if dir.as_os_str().is_empty() {
        return Err(invalid(origin, "", "a directory"));
    }
    // The database URL and journals carry the path as text.
    if dir.to_str().is_none() {
        return Err(invalid(origin, dir.display(), "a UTF-8 directory path"));
    }
    Ok(dir)
}

/// `silence` or `tone`: what fills a paused recording (issue #11.1).
/// A file named in the configuration (a certificate, a key): not empty, UTF-8. Whether it
/// exists and holds what it should is checked when the server starts, with the file named.
pub(super) fn file_path(origin: Origin, path: PathBuf) -> Result<PathBuf, ConfigError> {
    if path.as_os_str().is_empty() || path.to_str().is_none() {
        return Err(invalid(origin, path.display(), "a file path"));
    }
    Ok(path)
}

pub(super) fn pause_fill(origin: Origin, value: &str) -> Result<callrec_types::wire::PauseFill, ConfigError> {
    callrec_types::wire::PauseFill::parse(value.trim()).ok_or_else(|| invalid(origin, value, "silence or tone"))
}

/// `file:///abs/dir` or `s3://bucket[/prefix]` (issue #10.2); see [`StorageUrl`].
pub(super) fn storage_url(origin: Origin, value: &str) -> Result<StorageUrl, ConfigError> {
    StorageUrl::parse(value).map_err(|why| invalid(origin, value, why))
}

pub(super) fn socket_addr(origin: Origin, value: &str) -> Result<SocketAddr, ConfigError> {
    // Only literal addresses: resolving a name at start-up would make the bound address
    // depend on DNS, and `localhost` may mean ::1 or 127.0.0.1.
    SocketAddr::from_str(value).map_err(|_| invalid(origin, value, "ADDR:PORT (e.g. 127.0.0.1:8080 or [::1]:8080)"))
}

pub(super) fn rtp_ports(origin: Origin, value: &str) -> Result<(u16, u16), ConfigError> {
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

pub(super) fn database_url(origin: Origin, url: String) -> Result<DatabaseUrl, ConfigError> {
    const SCHEMES: [&str; 3] = ["sqlite:", "postgres:", "postgresql:"];
    if SCHEMES.iter().any(|s| url.starts_with(s)) {
        Ok(DatabaseUrl::new(url))
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

pub(super) fn secret(origin: Origin, value: Secret) -> Result<Secret, ConfigError> {
    if value.expose().trim().is_empty() {
        return Err(ConfigError::Refused {
            origin,
            problem: "is empty; leave the key out to keep it unset",
        });
    }
    Ok(value)
}

pub(super) fn boolean(origin: Origin, value: &str) -> Result<bool, ConfigError> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        _ => Err(invalid(origin, value, "a boolean (true or false)")),
    }
}

pub(super) fn number<T>(origin: Origin, value: &str, bounds: (T, T), unit: &str) -> Result<T, ConfigError>
where
    T: FromStr + PartialOrd + fmt::Display + Copy,
{
    match value.trim().parse::<T>() {
        Ok(n) => in_range(origin, n, bounds, unit),
        Err(_) => Err(invalid(origin, value, range_text(bounds, unit))),
    }
}

pub(super) fn in_range<T>(origin: Origin, n: T, (min, max): (T, T), unit: &str) -> Result<T, ConfigError>
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

pub(super) fn log_filter(origin: Origin, value: String) -> Result<String, ConfigError> {
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
pub(super) fn cron(origin: Origin, value: String) -> Result<String, ConfigError> {
    match crate::cron::Schedule::parse(&value) {
        Ok(_) => Ok(value),
        Err(e) => Err(invalid(origin, value, format!("a cron schedule ({e})"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::tests::{load_with, message, parse_file};
    use crate::config::ServeArgs;

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
            ("CALLREC_DISK_FULL_BUFFER_SECS", "0"),
            ("CALLREC_DISK_FULL_BUFFER_SECS", "30000"),
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
}
