//! `callrec-empty-window`: an empty Tauri window with the app's own web engine settings
//! (`src-tauri/webview.rs`) and window size, and nothing else — no UI, no state, no plugins.
//! The memory benchmark (`tests/tests/e2e/desktop/memory.rs`) measures it under the same
//! conditions as the app and reports the app as a ratio to it (issue #15.7). Built by the same
//! cargo run as the app, with the same features.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    callrec_desktop::webview::prepare_environment();
    let mut context = callrec_desktop::context();
    // Only the window made below: the app's configured one would load the app's UI.
    let window = context.config_mut().app.windows.remove(0);
    context.config_mut().app.windows.clear();
    tauri::Builder::default()
        .register_uri_scheme_protocol("empty", |_, _| {
            tauri::http::Response::builder()
                .header("Content-Type", "text/html")
                .body(b"<!doctype html><meta charset=utf-8><title>empty</title><body></body>".to_vec())
                .expect("a static response")
        })
        .setup(move |app| {
            let url = "empty://localhost/".parse().expect("a valid URL");
            tauri::WebviewWindowBuilder::new(app, &window.label, tauri::WebviewUrl::CustomProtocol(url))
                .title("empty")
                .inner_size(window.width, window.height)
                .build()?;
            Ok(())
        })
        .run(context)
        .expect("the empty window runs");
}
