//! How the window's web engine is set up to stay small. The window is forms and lists: it needs
//! no GPU and no optimising JavaScript compiler, and on Linux both cost resident memory in the
//! app's three processes (the app, WebKit's web process and its network process). What each
//! variable saves was measured by the memory benchmark (`tests/tests/e2e/desktop/memory.rs`,
//! figures and the per-mapping breakdown in `docs/desktop.md`).
//!
//! [`prepare_environment`] runs first thing in `run`, before GTK or WebKit start: they read
//! these variables once, and WebKit's processes inherit them. A variable already set in the
//! environment wins, so each can be turned back: `WEBKIT_DISABLE_DMABUF_RENDERER=0` brings GPU
//! compositing back (and then GL stays enabled in GTK), `JSC_useJIT=true` the JIT.

/// Sets the environment WebKitGTK and GTK read at start-up; a variable the user set is left
/// alone. Call before anything starts GTK or a thread.
pub fn prepare_environment() {
    #[cfg(target_os = "linux")]
    {
        // JavaScriptCore's interpreter only: no machine code, and the JIT compilers' own code
        // is never paged in. The window's scripts are small and event-driven; loading 10,000
        // journal rows takes as long either way.
        set_default("JSC_useJIT", "false".into());
        // Paint in software into shared memory. With the default (DMA-BUF) renderer the web
        // process composites with OpenGL (without a GPU: Mesa's llvmpipe), the largest cost.
        set_default("WEBKIT_DISABLE_DMABUF_RENDERER", "1".into());
        // WebKit's own test: any value but "0" disables the renderer.
        if std::env::var_os("WEBKIT_DISABLE_DMABUF_RENDERER").is_some_and(|v| v != "0") {
            // Painting in software, nothing in the app process draws with GL, yet two things
            // would still load Mesa (and with it libLLVM) there: GTK 3 opens GLX with the X
            // display to pick visuals, and WebKit initialises EGL only to ask which GPU render
            // node the web process should use. Naming the node skips the question: the first
            // one if there is one, else /dev/null (no GPU buffers come from it, and software
            // painting makes none).
            set_default("GDK_GL", "disable".into());
            set_default("WEBKIT_WEB_RENDER_DEVICE_FILE", render_node().into());
        }
    }
}

#[cfg(target_os = "linux")]
fn set_default(key: &str, value: std::ffi::OsString) {
    if std::env::var_os(key).is_none() {
        std::env::set_var(key, value);
    }
}

/// The first DRM render node (`/dev/dri/renderD128`, …), or `/dev/null` without a GPU.
#[cfg(target_os = "linux")]
fn render_node() -> std::path::PathBuf {
    let mut nodes: Vec<_> = std::fs::read_dir("/dev/dri")
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| {
            path.file_name()
                .is_some_and(|name| name.to_string_lossy().starts_with("renderD"))
        })
        .collect();
    nodes.sort();
    nodes.into_iter().next().unwrap_or_else(|| "/dev/null".into())
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    #[test]
    fn the_render_node_is_a_device_or_dev_null() {
        let node = super::render_node();
        assert!(node.starts_with("/dev/dri/renderD") || node == std::path::Path::new("/dev/null"));
    }
}
