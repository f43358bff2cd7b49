//! The end-to-end suite: one test binary, one module per topic, so the server, the client
//! and the simulator are compiled into a test and linked once (#14.5). Every topic runs the
//! real server — in this process on 127.0.0.1:0, or as its own process where signals are the
//! subject — with real HTTP, SIP and RTP on loopback, a real SQLite file and, for dispatch, a
//! real SMTP server. `desktop` drives the built app in its real window and is `#[ignore]`d in a
//! plain `cargo test` (it needs a display: `tests/desktop/run-e2e.sh` runs it under Xvfb).

mod alarms;
mod audio_stream;
mod auth_directory;
mod consent;
mod desktop;
mod disk_full;
mod dispatch;
mod encryption;
mod evidence;
mod http_limits;
mod ingest_journal;
mod kamailio;
mod listens;
mod live_calls;
mod nodes;
mod object_storage;
mod pause;
mod post_call;
mod record_key;
mod retention;
mod review;
mod run_command;
mod scorecards;
mod shutdown;
mod sipp;
mod siprec;
mod tls_srtp;
mod transcripts;
mod webhook;
