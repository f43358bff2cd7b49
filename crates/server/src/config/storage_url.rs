//! The `storage_url` value: where closed recordings are kept (a directory or an S3 bucket), a
//! leaf that the value parsers and the configuration both use.

use std::path::PathBuf;

/// The `storage_url` key: where closed recordings are stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StorageUrl {
    /// `file:///abs/dir`: a directory (another disk, a mount), same key layout.
    File(PathBuf),
    /// `s3://bucket[/prefix]`: endpoint, region and credentials from the standard `AWS_*`
    /// environment variables.
    S3 {
        bucket: String,
        /// Without leading or trailing `/`; empty for the bucket's root.
        prefix: String,
    },
}

impl StorageUrl {
    /// Parses `file:///abs/dir` or `s3://bucket[/prefix]`; the error says what is expected.
    pub fn parse(value: &str) -> Result<StorageUrl, &'static str> {
        const EXPECTED: &str = "file:///ABSOLUTE/DIR or s3://BUCKET[/PREFIX]";
        if let Some(path) = value.strip_prefix("file://") {
            let p = PathBuf::from(path);
            if !p.is_absolute() || path.contains(['?', '#']) {
                return Err(EXPECTED);
            }
            return Ok(StorageUrl::File(p));
        }
        if let Some(rest) = value.strip_prefix("s3://") {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            let bucket_ok = (3..=63).contains(&bucket.len())
                && bucket
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.');
            let prefix = prefix.trim_matches('/');
            let prefix_ok = prefix
                .split('/')
                .all(|seg| prefix.is_empty() || (!seg.is_empty() && seg != "." && seg != ".."))
                && !prefix.contains(['?', '#', '\\']);
            if !bucket_ok || !prefix_ok {
                return Err(EXPECTED);
            }
            return Ok(StorageUrl::S3 {
                bucket: bucket.to_owned(),
                prefix: prefix.to_owned(),
            });
        }
        Err(EXPECTED)
    }
}

impl std::fmt::Display for StorageUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StorageUrl::File(p) => write!(f, "file://{}", p.display()),
            StorageUrl::S3 { bucket, prefix } if prefix.is_empty() => write!(f, "s3://{bucket}"),
            StorageUrl::S3 { bucket, prefix } => write!(f, "s3://{bucket}/{prefix}"),
        }
    }
}
