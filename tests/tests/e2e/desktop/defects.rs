//! What a day of real use broke (issue #17), each reproduced in the real window and checked
//! fixed: live calls after the connection is lost (1), Space on the focused Record button and
//! the journal's arrow keys (2), the player bar after "no audio output device" and the null
//! device's hint (3), the live card that jumped when recording started (5), connecting to a
//! server that never answers (6), and focus after Connect with the layout at 880×560 (8).
//! Screenshots go to `target/e2e-screens/defects-*.png`.

use crate::desktop::webdriver::{Driver, ARROW_DOWN, ARROW_RIGHT, ARROW_UP};
use crate::desktop::{
    app_binary, connect_and_sign_in, journal_ids, login, screens, Recorder, TauriDriver, ALSA_NONE, SERIAL,
};
use callrec_sim::{Sim, Transport};
use callrec_tests::directory::PASSWORD;
use callrec_types::wire::RecordingAction;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// A TCP proxy in front of the server's HTTP port: [`Proxy::cut`] drops every connection
/// and stops listening — to the app the server is gone (as after a SIGKILL) while the call
/// goes on at the recorder; [`Proxy::restore`] listens again on the same port.
struct Proxy {
    addr: SocketAddr,
    upstream: SocketAddr,
    accept: Option<JoinHandle<()>>,
    links: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl Proxy {
    async fn start(upstream: &str) -> Proxy {
        let upstream: SocketAddr = upstream
            .trim_start_matches("http://")
            .parse()
            .expect("the server's address");
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("the proxy binds");
        let addr = listener.local_addr().expect("addr");
        let mut p = Proxy {
            addr,
            upstream,
            accept: None,
            links: Arc::default(),
        };
        p.serve(listener);
        p
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn serve(&mut self, listener: TcpListener) {
        let (upstream, links) = (self.upstream, self.links.clone());
        self.accept = Some(tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let link = tokio::spawn(async move {
                    if let Ok(mut outbound) = tokio::net::TcpStream::connect(upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                links.lock().expect("links").push(link);
            }
        }));
    }

    fn cut(&mut self) {
        if let Some(a) = self.accept.take() {
            a.abort();
        }
        for link in self.links.lock().expect("links").drain(..) {
            link.abort();
        }
    }

    async fn restore(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        let listener = loop {
            match TcpListener::bind(self.addr).await {
                Ok(l) => break l,
                Err(e) => {
                    assert!(Instant::now() < deadline, "the proxy rebinds {}: {e}", self.addr);
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        };
        self.serve(listener);
    }
}

fn shot(name: &str) -> std::path::PathBuf {
    screens().join(format!("defects-{name}.png"))
}

/// A customer calls alice (201); the call is live in the recorder.
async fn call_alice(sim: &Sim, from: &str) -> callrec_sim::SimCall {
    sim.call()
        .caller(&format!("sip:{from}@carrier.example"))
        .caller_name("Customer")
        .callee("sip:201@pbx.example")
        .callee_name("Alice")
        .invite()
        .await
        .expect("the recorder answers the SIPREC INVITE")
}

/// The live timer's text, twice `gap` apart.
async fn timer_twice(d: &Driver, gap: Duration) -> (String, String) {
    let a = d.text_of("[data-testid=live-timer]").await.unwrap_or_default();
    tokio::time::sleep(gap).await;
    let b = d.text_of("[data-testid=live-timer]").await.unwrap_or_default();
    (a, b)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs a display, tauri-driver and the built app: run tests/desktop/run-e2e.sh"]
#[allow(clippy::await_holding_lock)] // SERIAL: one window at a time, held on purpose
async fn a_lost_connection_marks_live_calls_unknown_at_once_and_the_list_is_refreshed_when_it_returns() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let server = Recorder::start().await;
    let mut proxy = Proxy::start(&server.url).await;
    let driver = TauriDriver::start();
    let d = Driver::start(driver.port, &app_binary()).await;
    connect_and_sign_in(&d, &proxy.url(), "alice", None).await;
    d.wait_text("[data-testid=feed]", "Live", 20).await;

    let sim = Sim::connect(server.sip, Transport::Udp).await.expect("sim");
    let first = call_alice(&sim, "+4930111").await;
    let second = call_alice(&sim, "+4930222").await;
    let deadline = Instant::now() + Duration::from_secs(20);
    while d.find_all("[data-testid=live-call]").await.len() < 2 {
        assert!(Instant::now() < deadline, "both calls show: {}", d.page_text().await);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (a, b) = timer_twice(&d, Duration::from_millis(2500)).await;
    assert_ne!(a, b, "the timer runs while connected: {}", d.page_text().await);

    // The server vanishes: every card says so at once, the timers stop, the toggle is off.
    proxy.cut();
    let lost_at = Instant::now();
    let deadline = Instant::now() + Duration::from_secs(5);
    while d.find_all("[data-testid=live-lost]").await.len() < 2 {
        assert!(
            Instant::now() < deadline,
            "both cards say the connection is lost within 5 s: {}",
            d.page_text().await
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    println!("cards marked lost {} ms after the cut", lost_at.elapsed().as_millis());
    let lost = d.text_of("[data-testid=live-lost]").await.unwrap_or_default();
    assert!(lost.to_lowercase().contains("connection lost"), "{lost}");
    let states = d
        .execute(
            "return [...document.querySelectorAll('[data-testid=recording-state]')].map(e => e.innerText).join('|');",
        )
        .await;
    assert!(
        !states.as_str().unwrap_or_default().contains("Not recording"),
        "no recording state is claimed while it is unknown: {states}"
    );
    let (a, b) = timer_twice(&d, Duration::from_millis(1500)).await;
    assert_eq!(a, b, "the timers stop while the state is unknown");
    for toggle in d.find_all("[data-testid=record-toggle]").await {
        assert!(
            !d.enabled(&toggle).await,
            "the toggle is disabled while the connection is lost"
        );
    }
    let feed = d.text_of("[data-testid=feed]").await.unwrap_or_default();
    assert!(!feed.contains("Live"), "no green Live without a connection: {feed}");
    assert!(
        d.rect_of("[data-testid=banner]").await.is_none() || !feed.contains("Live"),
        "never Live under the banner"
    );
    d.screenshot(&shot("1-connection-lost")).await;

    // While away, one call ends; when the connection returns the list is the server's again.
    first.bye().await.expect("the first call hangs up");
    tokio::time::sleep(Duration::from_millis(500)).await;
    proxy.restore().await;
    d.wait_text("[data-testid=feed]", "Live", 30).await;
    d.wait_gone("[data-testid=live-lost]", 10).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while d.find_all("[data-testid=live-call]").await.len() != 1 {
        assert!(
            Instant::now() < deadline,
            "only the call still going is shown after the refresh: {}",
            d.page_text().await
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    d.wait_text("[data-testid=recording-state]", "Not recording", 10).await;
    let (a, b) = timer_twice(&d, Duration::from_millis(1500)).await;
    assert_ne!(a, b, "the timer runs again");
    let toggle = d.wait("[data-testid=record-toggle]", 5).await;
    assert!(d.enabled(&toggle).await, "the toggle works again");
    d.screenshot(&shot("1-connection-back")).await;
    second.bye().await.expect("hang up");
    d.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs a display, tauri-driver and the built app: run tests/desktop/run-e2e.sh"]
#[allow(clippy::await_holding_lock)] // SERIAL: one window at a time, held on purpose
async fn keys_go_to_the_focused_control_space_records_and_arrows_walk_the_journal() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let server = Recorder::start().await;
    let driver = TauriDriver::start();
    let d = Driver::start(driver.port, &app_binary()).await;
    let alice = login(&server.url, "alice", PASSWORD).await;
    let sim = Sim::connect(server.sip, Transport::Udp).await.expect("sim");

    // Two earlier calls, the first one recorded, so that the player has something to play.
    for (n, from) in ["+4930100", "+4930200"].iter().enumerate() {
        let call = call_alice(&sim, from).await;
        if n == 0 {
            let live = wait_live(&alice, 1).await;
            alice
                .set_recording(live[0], RecordingAction::Start)
                .await
                .expect("alice records the first call");
            tokio::time::sleep(Duration::from_millis(1500)).await;
        }
        call.bye().await.expect("hang up");
    }
    connect_and_sign_in(&d, &server.url, "alice", None).await;
    d.click_css("[data-testid=tab-journal]").await;
    d.wait_text("[data-testid=rec-badge]", "REC 1", 20).await;
    let ids = journal_ids(&d).await;
    assert_eq!(ids.len(), 2, "two calls: {ids:?}");

    // ↓ in the journal walks the rows and opens each; the player takes no arrow keys there.
    let first_row = d.wait("[data-testid=journal-row]", 10).await;
    d.click(&first_row).await;
    d.wait("[data-testid=call-detail]", 10).await;
    assert_eq!(selected(&d).await.as_deref(), Some(ids[0].as_str()));
    let focused = d
        .execute("const e = document.activeElement; return e ? (e.dataset.testid || e.className) : '';")
        .await;
    println!("focus after clicking a row: {focused}");
    let row = d.wait("[data-testid=journal-row].selected", 5).await;
    d.send_keys(&row, ARROW_DOWN).await;
    let deadline = Instant::now() + Duration::from_secs(5);
    while selected(&d).await.as_deref() != Some(ids[1].as_str()) {
        assert!(
            Instant::now() < deadline,
            "↓ selects the next call: {:?}",
            selected(&d).await
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let row = d.wait("[data-testid=journal-row].selected", 5).await;
    d.send_keys(&row, ARROW_UP).await;
    let deadline = Instant::now() + Duration::from_secs(5);
    while selected(&d).await.as_deref() != Some(ids[0].as_str()) {
        assert!(
            Instant::now() < deadline,
            "↑ selects the previous call: {:?}",
            selected(&d).await
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Play the recorded call (the null device finishes it quickly), then go back to live.
    let recorded = d
        .execute("const b = document.querySelector('[data-testid=rec-badge]'); return b ? b.closest('[data-testid=journal-row]').dataset.callId : null;")
        .await;
    let recorded = recorded.as_str().expect("the recorded call's row").to_string();
    d.click_css(&format!("[data-testid=journal-row][data-call-id=\"{recorded}\"]"))
        .await;
    d.wait("[data-testid=play-recording]", 10).await;
    d.click_css("[data-testid=play-recording]").await;
    d.wait_text("[data-testid=player-state]", "Finished", 30).await;
    let position_before = d.text_of("[data-testid=player-position]").await;
    // → on a journal row is not the player's: the position stays.
    let row = d.wait("[data-testid=journal-row]", 5).await;
    d.send_keys(&row, ARROW_RIGHT).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        d.text_of("[data-testid=player-position]").await,
        position_before,
        "→ in the journal does not skip the player"
    );

    // A new call: Space on the focused Record button records it and plays nothing.
    d.click_css("[data-testid=tab-live]").await;
    let live = call_alice(&sim, "+4930300").await;
    let toggle = d.wait("[data-testid=record-toggle]", 20).await;
    d.wait_text("[data-testid=recording-state]", "Not recording", 10).await;
    d.send_keys(&toggle, " ").await;
    d.wait_text("[data-testid=recording-state]", "Recording (manual", 10)
        .await;
    let player = d.text_of("[data-testid=player-state]").await.unwrap_or_default();
    assert!(
        player.contains("Finished"),
        "Space on Record did not start the player: {player}"
    );
    let title = d
        .attribute(&d.wait("[data-testid=record-toggle]", 5).await, "title")
        .await
        .unwrap_or_default();
    assert_eq!(title, "Stop recording", "the tooltip names what the button does now");
    d.screenshot(&shot("2-space-records")).await;
    live.bye().await.expect("hang up");
    d.quit().await;
}

/// The call id of the selected journal row.
async fn selected(d: &Driver) -> Option<String> {
    d.execute(
        "const e = document.querySelector('[data-testid=journal-row].selected'); return e ? e.dataset.callId : null;",
    )
    .await
    .as_str()
    .map(str::to_string)
}

/// The call ids alice sees live, waiting until there are `n`.
async fn wait_live(c: &callrec_client::Client, n: usize) -> Vec<callrec_types::CallId> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let live = c.live_calls().await.expect("live calls");
        if live.len() >= n {
            return live.iter().map(|d| d.call.id).collect();
        }
        assert!(Instant::now() < deadline, "{n} live calls within 20 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs a display, tauri-driver and the built app: run tests/desktop/run-e2e.sh"]
#[allow(clippy::await_holding_lock)] // SERIAL: one window at a time, held on purpose
async fn the_player_bar_closes_after_no_audio_device_and_says_why_nothing_was_heard() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let server = Recorder::start().await;
    let alice = login(&server.url, "alice", PASSWORD).await;
    let sim = Sim::connect(server.sip, Transport::Udp).await.expect("sim");
    let call = call_alice(&sim, "+4930400").await;
    let live = wait_live(&alice, 1).await;
    alice
        .set_recording(live[0], RecordingAction::Start)
        .await
        .expect("record");
    tokio::time::sleep(Duration::from_millis(3000)).await;
    call.bye().await.expect("hang up");

    // No audio device at all.
    {
        let driver = TauriDriver::start_with(ALSA_NONE);
        let d = Driver::start(driver.port, &app_binary()).await;
        connect_and_sign_in(&d, &server.url, "alice", None).await;
        d.click_css("[data-testid=tab-journal]").await;
        d.click_css("[data-testid=journal-row]").await;
        d.click_css("[data-testid=play-recording]").await;
        let player = d.wait("[data-testid=player]", 10).await;
        let deadline = Instant::now() + Duration::from_secs(20);
        while d.attribute(&player, "data-state").await.as_deref() != Some("failed") {
            assert!(
                Instant::now() < deadline,
                "the play fails without a device: {}",
                d.page_text().await
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let bar = d.text_of("[data-testid=player]").await.unwrap_or_default();
        assert!(bar.contains("No audio output device"), "{bar}");
        assert!(
            !bar.contains(&format!("Recording {}", live[0].0)) && !bar.contains("Recording 1 "),
            "no database id as a title: {bar}"
        );
        d.screenshot(&shot("3-no-device")).await;
        // Space on the page retries the play (not "Nothing is loaded").
        let body = d.wait("body", 5).await;
        d.send_keys(&body, " ").await;
        tokio::time::sleep(Duration::from_millis(1000)).await;
        let bar = d.text_of("[data-testid=player]").await.unwrap_or_default();
        assert!(!bar.contains("Nothing is loaded"), "{bar}");
        d.click_css("[data-testid=player-close]").await;
        d.wait_gone("[data-testid=player]", 3).await;
        tokio::time::sleep(Duration::from_millis(1000)).await;
        assert!(d.find("[data-testid=player]").await.is_none(), "the bar stays closed");
        d.quit().await;
    }

    // The null device: "plays" the whole recording in a moment, and the bar says why nothing
    // was heard.
    let driver = TauriDriver::start();
    let d = Driver::start(driver.port, &app_binary()).await;
    connect_and_sign_in(&d, &server.url, "alice", None).await;
    d.click_css("[data-testid=tab-journal]").await;
    d.click_css("[data-testid=journal-row]").await;
    d.click_css("[data-testid=play-recording]").await;
    d.wait_text("[data-testid=player-state]", "Finished", 30).await;
    let notice = d.wait_text("[data-testid=player]", "not a real sound device", 10).await;
    println!("player with the null device: {notice}");
    d.screenshot(&shot("3-null-device")).await;
    d.click_css("[data-testid=player-close]").await;
    d.wait_gone("[data-testid=player]", 3).await;
    d.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs a display, tauri-driver and the built app: run tests/desktop/run-e2e.sh"]
#[allow(clippy::await_holding_lock)] // SERIAL: one window at a time, held on purpose
async fn the_live_card_keeps_its_shape_when_recording_starts() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let server = Recorder::start().await;
    let driver = TauriDriver::start();
    let d = Driver::start(driver.port, &app_binary()).await;
    connect_and_sign_in(&d, &server.url, "alice", None).await;
    let sim = Sim::connect(server.sip, Transport::Udp).await.expect("sim");
    let call = call_alice(&sim, "+4930500").await;
    d.wait_text("[data-testid=recording-state]", "Not recording", 20).await;
    let card = d.rect_of("[data-testid=live-call]").await.expect("the card");
    let before = d.rect_of("[data-testid=record-toggle]").await.expect("the toggle");
    let title = d
        .attribute(&d.wait("[data-testid=record-toggle]", 5).await, "title")
        .await;
    assert_eq!(title.as_deref(), Some("Start recording"));
    d.click_css("[data-testid=record-toggle]").await;
    d.wait_text("[data-testid=recording-state]", "Recording (manual", 10)
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let after = d.rect_of("[data-testid=record-toggle]").await.expect("the toggle");
    let card_after = d.rect_of("[data-testid=live-call]").await.expect("the card");
    println!("toggle before {before:?} after {after:?}; card {card:?} → {card_after:?}");
    // The button's right edge and vertical centre stay put (its label may be a little shorter).
    assert!(
        ((before[0] + before[2]) - (after[0] + after[2])).abs() <= 1.0,
        "the toggle's right edge moved: {before:?} → {after:?}"
    );
    assert!(
        ((before[1] + before[3] / 2.0) - (after[1] + after[3] / 2.0)).abs() <= 1.0,
        "the toggle moved up or down: {before:?} → {after:?}"
    );
    assert!(
        (card[3] - card_after[3]).abs() <= 1.0 && (card[2] - card_after[2]).abs() <= 1.0,
        "the card kept its size: {card:?} → {card_after:?}"
    );
    let title = d
        .attribute(&d.wait("[data-testid=record-toggle]", 5).await, "title")
        .await;
    assert_eq!(title.as_deref(), Some("Stop recording"));
    d.screenshot(&shot("5-recording-card")).await;
    call.bye().await.expect("hang up");
    d.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs a display, tauri-driver and the built app: run tests/desktop/run-e2e.sh"]
#[allow(clippy::await_holding_lock)] // SERIAL: one window at a time, held on purpose
async fn connecting_to_a_server_that_never_answers_can_be_cancelled_and_gives_up_by_itself() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    // Accepts connections, reads, never answers.
    let mute = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", mute.local_addr().expect("addr"));
    let held = Arc::new(Mutex::new(Vec::new()));
    let keep = held.clone();
    let silent = tokio::spawn(async move {
        while let Ok((socket, _)) = mute.accept().await {
            keep.lock().expect("held").push(socket);
        }
    });
    let driver = TauriDriver::start();
    let d = Driver::start(driver.port, &app_binary()).await;
    d.wait("[data-testid=connect-form]", 30).await;
    d.type_into("[data-testid=server-url]", &url).await;
    d.click_css("[data-testid=connect]").await;
    d.wait_text("[data-testid=connect]", "Connecting", 5).await;
    d.screenshot(&shot("6-connecting")).await;
    d.click_css("[data-testid=connect-cancel]").await;
    d.wait_text("[data-testid=connect]", "Connect", 3).await;
    let label = d.text_of("[data-testid=connect]").await.unwrap_or_default();
    assert!(!label.contains("Connecting"), "cancelled at once: {label}");
    assert!(d.find("[data-testid=login-form]").await.is_none());

    // Left alone, it gives up with a reason.
    let started = Instant::now();
    d.click_css("[data-testid=connect]").await;
    let error = d.wait_text("[data-testid=connect-error]", "", 40).await;
    println!("gave up after {} ms: {error}", started.elapsed().as_millis());
    assert!(error.contains("did not answer"), "{error}");
    d.screenshot(&shot("6-gave-up")).await;
    d.quit().await;
    silent.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs a display, tauri-driver and the built app: run tests/desktop/run-e2e.sh"]
#[allow(clippy::await_holding_lock)] // SERIAL: one window at a time, held on purpose
async fn the_username_is_focused_after_connect_and_the_journal_fits_880_by_560() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let server = Recorder::start().await;
    let alice = login(&server.url, "alice", PASSWORD).await;
    let sim = Sim::connect(server.sip, Transport::Udp).await.expect("sim");
    let call = call_alice(&sim, "+4930600").await;
    wait_live(&alice, 1).await;
    call.bye().await.expect("hang up");
    let driver = TauriDriver::start();
    let d = Driver::start(driver.port, &app_binary()).await;
    d.wait("[data-testid=connect-form]", 30).await;
    d.type_into("[data-testid=server-url]", &server.url).await;
    d.click_css("[data-testid=connect]").await;
    d.wait("[data-testid=login-form]", 20).await;
    let deadline = Instant::now() + Duration::from_secs(3);
    while d.focused_testid().await != "username" {
        assert!(
            Instant::now() < deadline,
            "the username field has the focus after Connect (focus: {:?})",
            d.focused_testid().await
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    crate::desktop::sign_in(&d, "alice", Some(&shot("8-login"))).await;

    d.click_css("[data-testid=tab-journal]").await;
    d.click_css("[data-testid=journal-row]").await;
    d.wait("[data-testid=call-detail]", 10).await;
    match d.resize(880, 560).await {
        Some((w, h)) => {
            println!("window inner size {w}×{h}");
            let parties = d
                .rect_of("[data-testid=journal-row] .parties")
                .await
                .expect("the Parties column");
            assert!(
                parties[2] >= 120.0,
                "the Parties column keeps room at {w}×{h} with the call open: {parties:?}"
            );
            let text = d
                .text_of("[data-testid=journal-row] .parties")
                .await
                .unwrap_or_default();
            assert!(text.contains("4930600"), "the parties are readable: {text:?}");
            d.screenshot(&shot("8-journal-880x560")).await;
        }
        None => println!("this WebDriver cannot resize the window: the 880×560 layout is checked by vitest only"),
    }
    d.quit().await;
}
