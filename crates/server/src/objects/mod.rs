//! Object storage for audio (issue #10.2): where closed recordings and journals live when
//! `storage_url` names somewhere other than the data directory.
//!
//! A recording is always written to the node's local spool (`data_dir/recordings/…`, crash-safe
//! and repaired at start-up, exactly as without object storage); when it is closed it is queued
//! in the [`queue`] and uploaded under the same key (`recordings/YYYY/MM/DD/<callkey>_<seq>.wav`,
//! below the URL's prefix), read back and checked against the row's SHA-256, and only then
//! removed from the spool. Readers look in the spool first and then in the store, so a recording
//! plays the same before, during and after its upload.
//!
//! Built on the `object_store` crate (Apache Arrow): one [`ObjectStore`] trait over S3 and the
//! local file system with streaming multipart upload and ranged GET, so there is no hand-written
//! S3 client here. The default (`storage_url` unset or `file://<data_dir>`) builds no
//! [`Objects`] at all: the spool is the store and nothing changes.

pub mod queue;
pub mod upload;

use crate::config::{Config, StorageUrl};
use bytes::Bytes;
use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};
use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
use object_store::local::LocalFileSystem;
use object_store::path::Path as Key;
use object_store::prefix::PrefixStore;
use object_store::{GetOptions, GetRange, ObjectStore, ObjectStoreExt, PutPayload, WriteMultipart};
use sha2::{Digest, Sha256};
use std::ops::Range;
use std::path::Path;
use std::sync::Arc;
use std::time::SystemTime;
use tokio::io::AsyncReadExt;

/// Files up to this size are uploaded with one PUT; larger ones stream as a multipart upload
/// in parts of this size, so memory stays bounded whatever the recording's length.
pub const PART_BYTES: usize = 8 * 1024 * 1024;
/// Parts of one multipart upload in flight at once.
const PARTS_IN_FLIGHT: usize = 2;

#[derive(Debug, thiserror::Error)]
pub enum ObjectsError {
    #[error("object store: {0}")]
    Store(#[from] object_store::Error),
    #[error("object store: local file: {0}")]
    Io(#[from] std::io::Error),
    #[error("object store: {key} holds {got} but the recording's SHA-256 is {want}")]
    Mismatch { key: String, want: String, got: String },
}

impl ObjectsError {
    /// The object does not exist (deleted, or never uploaded).
    pub fn is_not_found(&self) -> bool {
        matches!(self, ObjectsError::Store(object_store::Error::NotFound { .. }))
    }
}

/// What a stored object is: its size and when it was written.
#[derive(Debug, Clone)]
pub struct ObjectInfo {
    pub len: u64,
    pub modified: SystemTime,
}

/// The configured object store, with the URL's prefix applied: keys are the data directory's
/// relative paths (`recordings/…`).
#[derive(Debug, Clone)]
pub struct Objects {
    store: Arc<dyn ObjectStore>,
    url: String,
}

impl Objects {
    /// The store `config` names, or `None` when recordings stay in the data directory.
    pub fn from_config(config: &Config) -> Result<Option<Objects>, ObjectsError> {
        let Some(url) = config.storage() else { return Ok(None) };
        let store: Arc<dyn ObjectStore> = match url {
            StorageUrl::File(dir) => {
                std::fs::create_dir_all(dir)?;
                Arc::new(LocalFileSystem::new_with_prefix(dir)?.with_automatic_cleanup(true))
            }
            StorageUrl::S3 { bucket, prefix } => {
                // The standard AWS_* variables, as captured at configuration time (not read
                // from the process here), so tests can run servers with different stores.
                // Few, quick retries inside one request: the uploader retries with its own
                // backoff, and a store that is down must not hold a reader for minutes.
                let retry = object_store::RetryConfig {
                    max_retries: 2,
                    retry_timeout: std::time::Duration::from_secs(10),
                    ..object_store::RetryConfig::default()
                };
                let mut b = AmazonS3Builder::new().with_bucket_name(bucket).with_retry(retry);
                for (k, v) in &config.aws {
                    if let Ok(key) = k.to_ascii_lowercase().parse::<AmazonS3ConfigKey>() {
                        b = b.with_config(key, v.expose());
                    }
                }
                let s3: Arc<dyn ObjectStore> = Arc::new(b.build()?);
                if prefix.is_empty() {
                    s3
                } else {
                    Arc::new(PrefixStore::new(s3, prefix.as_str()))
                }
            }
        };
        Ok(Some(Objects::new(store, url.to_string())))
    }

    /// Objects in `store` (tests and the benchmark use `InMemory` or a bucket they made).
    pub fn new(store: Arc<dyn ObjectStore>, url: String) -> Objects {
        Objects { store, url }
    }

    /// The URL it was built from, for logs and the storage report.
    pub fn url(&self) -> &str {
        &self.url
    }

    fn key(rel: &str) -> Result<Key, ObjectsError> {
        Key::parse(rel).map_err(|e| ObjectsError::Store(e.into()))
    }

    /// Uploads the local file `local` as `rel`, streaming; returns its SHA-256 and length as
    /// read while uploading.
    pub async fn put_file(&self, rel: &str, local: &Path) -> Result<(String, u64), ObjectsError> {
        let key = Self::key(rel)?;
        let mut file = tokio::fs::File::open(local).await?;
        let len = file.metadata().await?.len();
        let mut hash = Sha256::new();
        if len <= PART_BYTES as u64 {
            let mut buf = Vec::with_capacity(len as usize);
            file.read_to_end(&mut buf).await?;
            hash.update(&buf);
            let n = buf.len() as u64;
            self.store.put(&key, PutPayload::from(buf)).await?;
            return Ok((hex::encode(hash.finalize()), n));
        }
        let upload = self.store.put_multipart(&key).await?;
        let mut w = WriteMultipart::new_with_chunk_size(upload, PART_BYTES);
        let mut buf = vec![0u8; 1024 * 1024];
        let mut n = 0u64;
        let result: Result<(), ObjectsError> = async {
            loop {
                let k = file.read(&mut buf).await?;
                if k == 0 {
                    break;
                }
                hash.update(&buf[..k]);
                n += k as u64;
                w.wait_for_capacity(PARTS_IN_FLIGHT).await?;
                w.write(&buf[..k]);
            }
            Ok(())
        }
        .await;
        match result {
            Ok(()) => {
                w.finish().await?;
                Ok((hex::encode(hash.finalize()), n))
            }
            Err(e) => {
                let _ = w.abort().await;
                Err(e)
            }
        }
    }

    /// Stores `bytes` as `rel` (journals: small).
    pub async fn put_bytes(&self, rel: &str, bytes: Vec<u8>) -> Result<(), ObjectsError> {
        self.store.put(&Self::key(rel)?, PutPayload::from(bytes)).await?;
        Ok(())
    }

    /// SHA-256 (hex) and length of the stored object, read back in full: what the store holds,
    /// not what it says it holds.
    pub async fn sha256(&self, rel: &str) -> Result<(String, u64), ObjectsError> {
        let mut stream = self.store.get(&Self::key(rel)?).await?.into_stream();
        let mut hash = Sha256::new();
        let mut n = 0u64;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk?;
            n += chunk.len() as u64;
            hash.update(&chunk);
        }
        Ok((hex::encode(hash.finalize()), n))
    }

    pub async fn head(&self, rel: &str) -> Result<ObjectInfo, ObjectsError> {
        let meta = self.store.head(&Self::key(rel)?).await?;
        Ok(ObjectInfo {
            len: meta.size,
            modified: meta.last_modified.into(),
        })
    }

    /// The bytes `range` of `rel`, streamed (a ranged GET).
    pub async fn get_range(
        &self,
        rel: &str,
        range: Range<u64>,
    ) -> Result<BoxStream<'static, std::io::Result<Bytes>>, ObjectsError> {
        if range.is_empty() {
            return Ok(futures::stream::empty().boxed());
        }
        let opts = GetOptions {
            range: Some(GetRange::Bounded(range)),
            ..GetOptions::default()
        };
        let got = self.store.get_opts(&Self::key(rel)?, opts).await?;
        Ok(got.into_stream().map_err(std::io::Error::other).boxed())
    }

    /// The whole object in memory (journals: small).
    pub async fn get_bytes(&self, rel: &str) -> Result<Bytes, ObjectsError> {
        Ok(self.store.get(&Self::key(rel)?).await?.bytes().await?)
    }

    /// Copies `rel` to the local file `dest` (dispatch scripts get a local copy).
    pub async fn copy_to_file(&self, rel: &str, dest: &Path) -> Result<u64, ObjectsError> {
        use tokio::io::AsyncWriteExt;
        let mut stream = self.store.get(&Self::key(rel)?).await?.into_stream();
        let mut f = tokio::fs::File::create(dest).await?;
        let mut n = 0u64;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk?;
            n += chunk.len() as u64;
            f.write_all(&chunk).await?;
        }
        f.flush().await?;
        Ok(n)
    }

    /// Deletes `rel`; an object that is already gone is not an error.
    pub async fn delete(&self, rel: &str) -> Result<(), ObjectsError> {
        match self.store.delete(&Self::key(rel)?).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// The keys of every object under `recordings/` (rekey and encrypt-existing, issue #12.1).
    pub async fn list_recordings(&self) -> Result<Vec<String>, ObjectsError> {
        let prefix = Self::key("recordings")?;
        let mut list = self.store.list(Some(&prefix));
        let mut keys = Vec::new();
        while let Some(meta) = list.next().await {
            keys.push(meta?.location.to_string());
        }
        keys.sort();
        Ok(keys)
    }

    /// Bytes stored under `recordings/` (the bucket's use, for the storage screen).
    pub async fn bytes_used(&self) -> Result<u64, ObjectsError> {
        let prefix = Self::key("recordings")?;
        let mut list = self.store.list(Some(&prefix));
        let mut total = 0u64;
        while let Some(meta) = list.next().await {
            total += meta?.size;
        }
        Ok(total)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use object_store::memory::InMemory;

    fn objects() -> Objects {
        Objects::new(Arc::new(InMemory::new()), "memory://".into())
    }

    #[tokio::test]
    async fn a_file_url_elsewhere_stores_under_the_same_layout_and_the_data_dir_means_none() {
        let data = tempfile::tempdir().expect("data dir");
        let other = tempfile::tempdir().expect("other dir");
        let mut config = Config::for_data_dir(data.path().to_path_buf());
        assert!(
            Objects::from_config(&config).expect("default").is_none(),
            "default: no store"
        );
        config.storage_url = Some(StorageUrl::File(data.path().to_path_buf()));
        assert!(
            Objects::from_config(&config).expect("the data dir").is_none(),
            "file://<data_dir> is the default"
        );
        config.storage_url = Some(StorageUrl::File(other.path().to_path_buf()));
        let o = Objects::from_config(&config).expect("another dir").expect("a store");
        let local = data.path().join("a.wav");
        std::fs::write(&local, b"RIFF....").expect("write");
        o.put_file("recordings/2026/06/01/k_001.wav", &local)
            .await
            .expect("upload");
        assert_eq!(
            std::fs::read(other.path().join("recordings/2026/06/01/k_001.wav")).expect("stored there"),
            b"RIFF....",
            "the same key layout below the other directory"
        );
    }

    #[tokio::test]
    async fn a_file_uploaded_in_parts_reads_back_whole_and_by_range() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("big.wav");
        let data: Vec<u8> = (0..(PART_BYTES * 2 + 12_345)).map(|i| (i % 251) as u8).collect();
        std::fs::write(&path, &data).expect("write");
        let o = objects();
        let (sha, n) = o.put_file("recordings/a.wav", &path).await.expect("upload");
        assert_eq!(n, data.len() as u64, "every byte uploaded");
        assert_eq!(o.sha256("recordings/a.wav").await.expect("read back"), (sha, n));
        let part: Vec<u8> = o
            .get_range("recordings/a.wav", 100..PART_BYTES as u64 + 200)
            .await
            .expect("ranged get")
            .try_collect::<Vec<Bytes>>()
            .await
            .expect("stream")
            .concat();
        assert_eq!(part, data[100..PART_BYTES + 200], "the range's bytes");
        assert_eq!(o.bytes_used().await.expect("list"), n, "the bucket's use");
        o.delete("recordings/a.wav").await.expect("delete");
        o.delete("recordings/a.wav").await.expect("deleting twice is fine");
        assert!(o.head("recordings/a.wav").await.expect_err("gone").is_not_found());
    }
}
