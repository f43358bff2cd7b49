//! Issue #16.5 in the real window: a supervisor opens a transcribed call — its transcript was
//! stored through the real worker API with a worker token (the speech engine is the only part
//! replaced: a known result is posted as the worker would) — and switches the pane beside the
//! player to "Transcript": the lines show with their speakers; playing moves the highlight; a
//! click on a line moves the player there; Ctrl+F finds a word (Enter: the next match); Copy
//! puts the dialogue on the clipboard, read back by pasting it into a text area of the page;
//! the journal's search for a word said in the call shows the transcript's snippet under the row.
//! Screenshots go to `target/e2e-screens/transcript-*.png`, at 1200×760, 900×640 and 1600×1000.

use crate::desktop::uploads::{upload_customer_call, CustomerCall};
use crate::desktop::webdriver::Driver;
use crate::desktop::{app_binary, connect_and_sign_in, login, screens, Recorder, TauriDriver, SERIAL};
use callrec_client::Client;
use callrec_tests::directory;
use callrec_tests::{wav, ADMIN_PASSWORD};
use callrec_types::rules::{Dispatch, RuleDirection, RuleMode, RuleOrigin};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

fn shot(name: &str) -> std::path::PathBuf {
    screens().join(format!("transcript-{name}.png"))
}

/// The call's turns: two seconds each, the caller first (as `wav::conversation_ulaw` speaks).
const TURNS: [&str; 10] = [
    "Good morning, I am calling about my last invoice.",
    "Good morning, thank you for calling. Can I have your customer number?",
    "Yes, it is four seven one one.",
    "Thank you. I see the invoice from November here.",
    "You charged me twice for the same month, I would like a refund.",
    "I am sorry about that. Let me check the payments on your account.",
    "Take your time.",
    "You are right, there are two payments. I will send the refund today.",
    "Great, how long does it take to arrive?",
    "Three to five working days. Is there anything else I can do for you?",
];

/// The admin's automatic rule that records and transcribes the support team's calls.
async fn record_and_transcribe_support(server: &Recorder, admin: &Client) {
    let mut rule = directory::rule(
        "Support, always, transcribed",
        RuleMode::Automatic,
        server.cast.support_role,
        RuleDirection::Both,
        RuleOrigin::Both,
        Dispatch::Store,
    );
    rule.transcribe = true;
    directory::add_rule(admin, rule).await;
}

/// A worker with a token from the admin: claims the job, fetches both channels' audio and
/// posts the turns as the engine's segments, each on its speaker's channel.
async fn work_the_queue(url: &str, admin: &Client) {
    let token = admin
        .create_worker_token("e2e-worker")
        .await
        .expect("a worker token")
        .token
        .expect("shown on creation");
    let http = reqwest::Client::new();
    let res = http
        .post(format!("{url}/api/v1/transcription/claim"))
        .bearer_auth(&token)
        .json(&json!({"worker": "e2e-worker", "wait_secs": 10}))
        .send()
        .await
        .expect("claim");
    assert_eq!(res.status(), 200, "a job is handed out");
    let job: Value = res.json().await.expect("the job");
    let id = job["recording_id"].as_i64().expect("the recording");
    let lease = job["lease"].as_str().expect("a lease");
    for channel in 0..2 {
        let res = http
            .get(format!("{url}/api/v1/transcription/jobs/{id}/audio"))
            .query(&[("channel", channel.to_string()), ("lease", lease.to_string())])
            .bearer_auth(&token)
            .send()
            .await
            .expect("audio");
        assert_eq!(res.status(), 200, "channel {channel}'s audio");
    }
    let segments = |ch: usize| -> Vec<Value> {
        TURNS
            .iter()
            .enumerate()
            .filter(|(i, _)| i % 2 == ch)
            .map(|(i, t)| json!({"start_ms": i * 2000, "end_ms": i * 2000 + 1900, "text": t}))
            .collect()
    };
    let res = http
        .post(format!("{url}/api/v1/transcription/jobs/{id}/result"))
        .bearer_auth(&token)
        .json(&json!({"lease": lease, "channels": [
            {"channel": 0, "segments": segments(0)},
            {"channel": 1, "segments": segments(1)},
        ]}))
        .send()
        .await
        .expect("result");
    assert!(res.status().is_success(), "the result is taken: {}", res.status());
}

/// Scrolls the call panel to the transcript (for the screenshots).
const SHOW_PANE: &str =
    "document.querySelector('[data-testid=transcript]').scrollIntoView({ block: 'start' }); return true;";

/// Records, from now on, each line that is lit (its start, ms, in order, once per change) and
/// each position the player bar shows.
const WATCH: &str = "if (window.__watch) window.__watch.o.disconnect(); const w = { lit: [], pos: [] }; const look = () => { const l = document.querySelector('[data-testid=transcript-line][data-active=true]'); const s = l ? Number(l.dataset.startMs) : null; if (s !== null && w.lit[w.lit.length - 1] !== s) w.lit.push(s); const p = document.querySelector('[data-testid=player-position]'); const t = p ? p.textContent : ''; if (w.pos[w.pos.length - 1] !== t) w.pos.push(t); }; w.o = new MutationObserver(look); w.o.observe(document.body, { subtree: true, attributes: true, childList: true, characterData: true }); window.__watch = w; return true;";

/// Scrolls line `i` into the middle of the list (WebKitWebDriver does not scroll nested
/// scroll boxes itself) and returns the lines.
async fn reveal(d: &Driver, i: usize) -> Vec<crate::desktop::webdriver::Element> {
    d.execute(&format!(
        "document.querySelectorAll('[data-testid=transcript-line]')[{i}].scrollIntoView({{ block: 'center' }}); return true;"
    ))
    .await;
    d.find_all("[data-testid=transcript-line]").await
}

/// What [`WATCH`] recorded: the lit lines' starts and the positions shown.
async fn watched(d: &Driver) -> (Vec<i64>, Vec<String>) {
    let v = d
        .execute("const w = window.__watch; return w ? { lit: w.lit, pos: w.pos } : { lit: [], pos: [] };")
        .await;
    let lit = v["lit"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_i64).collect())
        .unwrap_or_default();
    let pos = v["pos"]
        .as_array()
        .map(|a| a.iter().filter_map(|p| p.as_str().map(String::from)).collect())
        .unwrap_or_default();
    (lit, pos)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs a display, tauri-driver and the built app: run tests/desktop/run-e2e.sh"]
#[allow(clippy::await_holding_lock)] // SERIAL: one window at a time, held on purpose
async fn issue_16_a_supervisor_reads_follows_searches_and_copies_a_transcript() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let server = Recorder::start().await;
    let admin = login(&server.url, "admin", ADMIN_PASSWORD).await;
    record_and_transcribe_support(&server, &admin).await;
    upload_customer_call(
        &server.url,
        CustomerCall {
            sip_call_id: "transcript-desktop@pbx",
            ext: "201",
            agent_name: "Alice",
            minutes_ago: 20,
            ended_after_secs: 22,
            audio: wav::conversation_ulaw(20.0),
        },
    )
    .await;

    let driver = TauriDriver::start();
    let d = Driver::start(driver.port, &app_binary()).await;
    d.resize(1200, 760).await;
    connect_and_sign_in(&d, &server.url, "sam", None).await;
    d.click_css("[data-testid=tab-journal]").await;
    d.click_css("[data-testid=journal-row]").await;
    d.wait("[data-testid=recording]", 10).await;

    // Before the worker: queued, said plainly (and asked again by itself).
    d.click_css("[data-testid=review-side-transcript]").await;
    let waiting = d
        .wait_text("[data-testid=transcript-status]", "Waiting to be transcribed", 10)
        .await;
    println!("before the worker: {waiting}");
    d.execute(SHOW_PANE).await;
    d.screenshot(&shot("1-queued")).await;
    work_the_queue(&server.url, &admin).await;

    // The poll brings the lines: ten, with their speakers.
    let deadline = Instant::now() + Duration::from_secs(15);
    while d.find_all("[data-testid=transcript-line]").await.len() < TURNS.len() {
        assert!(Instant::now() < deadline, "the transcript shows by itself once done");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let first = d.text_of("[data-testid=transcript-line]").await.unwrap_or_default();
    assert!(
        first.contains("0:00") && first.contains("Caller") && first.contains("last invoice"),
        "{first}"
    );
    let speakers = d
        .execute("return [...document.querySelectorAll('[data-testid=transcript-line] .line-speaker')].map((e) => e.textContent);")
        .await;
    assert_eq!(speakers[1], "Agent (Alice)", "{speakers}");
    assert_eq!(speakers[2], "Caller", "{speakers}");
    d.execute(SHOW_PANE).await;
    d.screenshot(&shot("2-lines")).await;

    // Play. The ALSA null device takes the audio faster than real time, so what the window
    // showed on the way is recorded by a MutationObserver: the lit lines and the position.
    d.execute(WATCH).await;
    d.click_css("[data-testid=play-recording]").await;
    d.wait_text("[data-testid=player-state]", "Finished", 40).await;
    let (lit, positions) = watched(&d).await;
    println!(
        "while playing: lines lit (start ms) {lit:?}, positions shown {}",
        positions.len()
    );
    assert!(
        lit.len() >= 2,
        "the highlight moves from line to line while playing (how many lines it is seen on depends on how fast the null device takes the audio): {lit:?}"
    );
    let followed = d
        .execute("return document.querySelector('[data-testid=transcript-lines]').scrollTop;")
        .await;
    // A line from 0:12 on is below the list's fold at this size: lit, it was scrolled to.
    if lit.last().is_some_and(|&at| at >= 12_000) {
        assert!(
            followed.as_f64().unwrap_or(0.0) > 0.0,
            "the list scrolled itself to the lit line: {followed}"
        );
    }
    d.screenshot(&shot("3-played")).await;

    // A click on the 8th line (0:14): the player goes there and that line is the one lit.
    d.execute(WATCH).await;
    let lines = reveal(&d, 7).await;
    d.click(&lines[7]).await;
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (lit, positions) = watched(&d).await;
        if lit.first() == Some(&14_000) && positions.iter().any(|p| p == "0:14") {
            println!("after the click: lit {lit:?}, positions {positions:?}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the position jumps to the clicked line: lit {lit:?}, positions {positions:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    d.wait_text("[data-testid=player-state]", "Finished", 40).await;

    // Ctrl+F on a line (not a text field): the find box; "refund" twice, Enter goes to the 2nd.
    let lines = reveal(&d, 0).await;
    d.send_keys(&lines[0], "\u{E009}f\u{E000}").await;
    d.wait("[data-testid=transcript-find]", 5).await;
    assert_eq!(
        d.focused_testid().await,
        "transcript-find",
        "Ctrl+F puts the focus in the find box"
    );
    let find = d.wait("[data-testid=transcript-find]", 5).await;
    d.send_keys(&find, "refund").await;
    d.wait_text("[data-testid=transcript-find-count]", "1 of 2", 5).await;
    d.send_keys(&find, "\u{E007}").await;
    d.wait_text("[data-testid=transcript-find-count]", "2 of 2", 5).await;
    let current = d
        .execute("const m = document.querySelector('[data-testid=transcript-match-current]'); return m ? m.closest('[data-testid=transcript-line]').dataset.startMs : '';")
        .await;
    assert_eq!(current, "14000", "the second 'refund' is on the 8th line");
    d.screenshot(&shot("4-find")).await;
    d.send_keys(&find, "\u{E00C}").await;
    d.wait_gone("[data-testid=transcript-find]", 5).await;

    // Copy: read back by pasting into a text area of the page (Ctrl+V).
    d.click_css("[data-testid=transcript-copy]").await;
    let copied = d.wait_text("[data-testid=transcript-copy-status]", "Copied", 5).await;
    assert_eq!(copied, "Copied 10 lines to the clipboard.");
    d.execute("const t = document.createElement('textarea'); t.setAttribute('data-testid', 'paste-here'); document.body.appendChild(t); return true;")
        .await;
    let area = d.wait("[data-testid=paste-here]", 5).await;
    d.send_keys(&area, "\u{E009}v\u{E000}").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let pasted = d
        .execute(
            "const t = document.querySelector('[data-testid=paste-here]'); const v = t.value; t.remove(); return v;",
        )
        .await;
    let pasted = pasted.as_str().unwrap_or_default();
    let expected: String = TURNS
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let who = if i % 2 == 0 { "Caller" } else { "Agent (Alice)" };
            format!("[00:{:02}] {who}: {t}\n", i * 2)
        })
        .collect();
    assert_eq!(pasted, expected, "the dialogue, pasted back from the clipboard");
    d.screenshot(&shot("5-copied")).await;

    // Tidy at the smallest size the window allows and at a large one.
    for (w, h, name) in [(900, 640, "6-small"), (1600, 1000, "7-large")] {
        if d.resize(w, h).await.is_some() {
            tokio::time::sleep(Duration::from_millis(500)).await;
            let lines = reveal(&d, 0).await;
            d.send_keys(&lines[0], "\u{E009}f\u{E000}").await;
            let find = d.wait("[data-testid=transcript-find]", 5).await;
            d.send_keys(&find, "invoice").await;
            d.wait_text("[data-testid=transcript-find-count]", "1 of 2", 5).await;
            d.screenshot(&shot(name)).await;
            d.send_keys(&find, "\u{E00C}").await;
        }
    }

    // Issue #16.4/5: the journal's search finds the call by a word said in it and shows why —
    // the transcript's snippet under the row, at the usual size and the smallest.
    d.type_into("[data-testid=journal-search]", "refund").await;
    let said = d.wait_text("[data-testid=journal-match]", "refund", 15).await;
    assert!(
        said.contains("Caller") || said.contains("Agent"),
        "the snippet names the speaker: {said}"
    );
    let m = d.wait("[data-testid=journal-match]", 5).await;
    assert_eq!(d.attribute(&m, "data-field").await.as_deref(), Some("transcript"));
    for (w, h, name) in [(1200, 760, "8-search"), (900, 640, "9-search-small")] {
        if d.resize(w, h).await.is_some() {
            tokio::time::sleep(Duration::from_millis(500)).await;
            d.screenshot(&shot(name)).await;
        }
    }
    d.quit().await;
}
