//! Servers that stop when the test process ends. A server is started under `sh` running
//! `WATCHER`: the server runs in the background, the shell waits for its standard input (a
//! pipe from this process) to close — the test process exited, however it exited — and then
//! runs the stop command, waits for the server and removes the directory.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// Arguments: the stop command (a shell snippet; `$pid` is the server's pid), the directory to
/// remove, then the server command.
const WATCHER: &str = r#"
stop=$1; dir=$2; shift 2
"$@" 2>&1 &
pid=$!
cat >/dev/null
eval "$stop"
wait "$pid"
rm -rf "$dir"
"#;

/// Starts `server` under the watcher and waits until a line of its output contains `ready`
/// (at most `timeout`). The output is drained afterwards so the server never blocks on a full
/// pipe. Returns the watcher; dropping it does not stop the server — the process's exit does.
pub fn spawn(
    server: &Command,
    stop: &str,
    dir: &std::path::Path,
    ready: &str,
    timeout: Duration,
) -> Result<Child, String> {
    let mut watcher = Command::new("sh");
    watcher
        .args(["-c", WATCHER, "sh", stop])
        .arg(dir)
        .arg(server.get_program())
        .args(server.get_args())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    for (k, v) in server.get_envs() {
        match v {
            Some(v) => watcher.env(k, v),
            None => watcher.env_remove(k),
        };
    }
    if let Some(cwd) = server.get_current_dir() {
        watcher.current_dir(cwd);
    }
    let name = server.get_program().to_string_lossy().into_owned();
    let mut watcher = watcher.spawn().map_err(|e| format!("starting {name}: {e}"))?;
    let log = watcher.stdout.take().expect("stdout is piped");
    let (tx, rx) = std::sync::mpsc::channel::<Result<(), String>>();
    let ready = ready.to_string();
    std::thread::spawn(move || {
        let mut seen = Vec::new();
        let mut tx = Some(tx);
        for line in BufReader::new(log).lines().map_while(Result::ok) {
            if let Some(t) = &tx {
                if line.contains(&ready) {
                    let _ = t.send(Ok(()));
                    tx = None;
                } else if seen.len() < 200 {
                    seen.push(line);
                }
            }
        }
        if let Some(t) = tx {
            let _ = t.send(Err(format!("{name} exited before it was ready:\n{}", seen.join("\n"))));
        }
    });
    rx.recv_timeout(timeout)
        .map_err(|e| format!("the server did not become ready within {timeout:?}: {e}"))??;
    Ok(watcher)
}
