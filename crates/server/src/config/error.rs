//! Why a configuration is refused ([`ConfigError`]) and where a refused value came from
//! ([`Origin`]): every message is one line that names its file key, variable or flag.

use std::fmt;
use std::path::PathBuf;

/// The largest configuration file accepted; a real one is a few KiB.
pub const MAX_CONFIG_FILE_BYTES: u64 = 1024 * 1024;

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
