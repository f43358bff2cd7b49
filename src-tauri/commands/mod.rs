//! The Tauri commands, one module per area. Each is a one-liner over a plain function that
//! tests call directly; they exist to name the operation for the window (the same name as the
//! route and the client method) and to cross errors as `{code, message}`.

pub mod admin;
pub mod evidence;
pub mod journal;
pub mod live;
pub mod player;
pub mod recordings;
pub mod review;
pub mod scorecards;
pub mod session;
pub mod transcripts;
