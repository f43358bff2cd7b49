//! Build script of the desktop app: makes sure there is a UI to embed, then lets tauri-build
//! read `tauri.conf.json` (at the repository root, beside the root Cargo.toml) and the
//! capabilities inlined in it.

use std::path::Path;

fn main() {
    // `generate_context!` embeds ui/dist and fails to compile without it. A workspace build
    // (clippy, tests of other crates) should not need Node, so a missing UI becomes a page
    // that says how to build it instead of a compile error. ui/dist is git-ignored.
    let dist = Path::new("ui/dist");
    if !dist.join("index.html").exists() {
        std::fs::create_dir_all(dist).expect("ui/dist can be created");
        std::fs::write(
            dist.join("index.html"),
            "<!doctype html><meta charset=utf-8><title>callrec</title>\
             <body style=\"font-family:sans-serif;padding:2rem\"><h1>The UI is not built</h1>\
             <p>Run <code>npm --prefix ui ci &amp;&amp; npm --prefix ui run build</code>, \
             then rebuild the app.</p>",
        )
        .expect("the placeholder page can be written");
    }
    println!("cargo:rerun-if-changed=ui/dist");
    tauri_build::build();
}
