//! callrec-types: the nouns every other crate speaks — ids, the directory, rules, calls,
//! recordings, the journal and the wire shapes of the HTTP API — and the rule engine, a pure
//! function from call facts + rules + directory to a decision with its trace (SPEC §2).
//!
//! No I/O lives here, so the server, the client and the desktop share one definition.

pub mod alarms;
pub mod calls;
pub mod directory;
pub mod engine;
pub mod evidence;
pub mod ids;
pub mod pause;
pub mod review;
pub mod rules;
pub mod scorecards;
pub mod search;
pub mod transcripts;
pub mod wire;

pub use ids::*;
