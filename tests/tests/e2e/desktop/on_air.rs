//! Agents know when they are recorded (issue #15.6), in the real window: alice is signed in,
//! a call to her extension is answered, she records it, pauses and resumes, stops; each time the
//! window title follows ("● Recording — callrec", "Ⅱ Recording paused — callrec", "callrec"),
//! both the page's (WebDriver) and the native window's (`xwininfo` on the X server), and the
//! app logs the notification it showed and what its tray icon says. There is no notification
//! daemon and no tray host on the test's X server: the app must go on without them. Screenshots `40-…` to `42-…`.

use super::admin::shot;
use super::webdriver::Driver;
use super::{app_binary, connect_and_sign_in, customer_calls_alice, screens, Recorder, TauriDriver, SERIAL};
use std::time::{Duration, Instant};

/// Waits until the page's title is `want`; returns it.
async fn wait_title(d: &Driver, want: &str, secs: u64) -> String {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let title = d.title().await;
        if title == want {
            return title;
        }
        assert!(
            Instant::now() < deadline,
            "the title is {title:?}, not {want:?} after {secs} s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The names of the X server's top-level windows (what a task bar shows).
fn native_titles() -> Option<String> {
    let out = std::process::Command::new("xwininfo")
        .args(["-root", "-tree"])
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Waits until a native window is called `want` (when `xwininfo` is there to ask).
async fn wait_native_title(want: &str, secs: u64) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let Some(tree) = native_titles() else {
            println!("xwininfo is not installed: the native title is not checked");
            return;
        };
        if tree.contains(&format!("\"{want}\"")) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "no native window is called {want:?}:\n{tree}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The app's log (shared by every real-window test of the run: read it from an offset).
fn app_log() -> String {
    std::fs::read_to_string(screens().join("app.log")).unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs a display, tauri-driver and the built app: run tests/desktop/run-e2e.sh"]
#[allow(clippy::await_holding_lock)] // SERIAL: one window at a time, held on purpose
async fn the_window_title_says_when_the_agents_call_is_recorded() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let shots = screens();
    let server = Recorder::start().await;
    let log_start = app_log().len();
    let driver = TauriDriver::start();
    let d = Driver::start(driver.port, &app_binary()).await;
    connect_and_sign_in(&d, &server.url, "alice", None).await;
    d.wait("[data-testid=live-empty]", 20).await;
    assert_eq!(d.title().await, "callrec", "nothing recorded yet");

    let call = customer_calls_alice(&server)
        .await
        .invite()
        .await
        .expect("the recorder answers");
    d.wait("[data-testid=record-toggle]", 20).await;
    assert_eq!(d.title().await, "callrec", "a call that is not recorded");

    d.click_css("[data-testid=record-toggle]").await;
    wait_title(&d, "● Recording — callrec", 10).await;
    wait_native_title("● Recording — callrec", 10).await;
    shot(&d, &shots.join("40-on-air-recording.png")).await;

    // The rules let alice pause her own recording (as in the main desktop test).
    d.click_css("[data-testid=pause-toggle]").await;
    wait_title(&d, "Ⅱ Recording paused — callrec", 10).await;
    wait_native_title("Ⅱ Recording paused — callrec", 10).await;
    shot(&d, &shots.join("41-on-air-paused.png")).await;
    d.click_css("[data-testid=pause-toggle]").await;
    wait_title(&d, "● Recording — callrec", 10).await;

    d.click_css("[data-testid=record-toggle]").await;
    wait_title(&d, "callrec", 10).await;
    wait_native_title("callrec", 10).await;
    shot(&d, &shots.join("42-on-air-stopped.png")).await;
    call.bye().await.expect("the call hangs up");
    d.wait_gone("[data-testid=live-call]", 20).await;
    assert_eq!(d.title().await, "callrec");

    // `tray.rs` logs each notification before showing it, and what the tray says.
    let log = app_log().get(log_start..).unwrap_or_default().to_string();
    let logged: Vec<&str> = log.lines().filter(|l| l.contains("recording notification")).collect();
    let logged = logged.join("\n");
    for said in [
        "Recording started",
        "Recording paused",
        "Recording resumed",
        "Recording stopped",
    ] {
        assert!(
            logged.contains(said),
            "the app showed (and logged) a notification {said:?}:\n{logged}"
        );
    }
    assert!(
        !log.contains("no tray icon"),
        "the tray icon was set up (a bare X server has no tray host to show it, but the icon exists):\n{log}"
    );
    for label in [
        "Your call is being recorded",
        "The recording of your call is paused",
        "Your call is not being recorded",
    ] {
        assert!(
            log.contains(&format!("tray: {label}")),
            "the tray icon and its menu said {label:?}:\n{log}"
        );
    }
    d.quit().await;
    drop(driver);
}
