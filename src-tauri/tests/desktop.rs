//! The desktop crate's integration tests (one binary): the player pipeline against a real
//! server, the commands through Tauri's mock runtime, and the TypeScript bindings' freshness.
//! The window itself is tested by vitest (`ui/`) and end to end by `tests/desktop/`.

mod admin;
mod bindings;
mod commands;
mod player;
mod review;
mod scorecards;
mod support;
mod transcripts;
