//! The sealed file format of encryption at rest (issue #12.1): the master key and its id
//! ([`key`]), and one file's header and chunks ([`format`](mod@format)) — pure functions over bytes, here
//! beside the other parsers so they have a fuzz target (`fuzz/fuzz_targets/sealed.rs`). The
//! server's `sealed` module runs them over files, objects and HTTP ranges.

pub mod format;
pub mod key;

pub use format::SealedError;
pub use key::{KeyFileError, KeyId, MasterKey};
