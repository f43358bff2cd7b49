//! The `callrec-desktop` binary: everything lives in the library (`src-tauri/lib.rs`).
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    callrec_desktop::run();
}
