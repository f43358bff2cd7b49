//! Issue #15 in the real window: the supervisor opens a recorded call and plays it — the
//! waveform is drawn (its canvas has painted pixels, and it counts the buckets it drew) —,
//! comments at 0:05 (the pin appears on the waveform) and shares the recording with bob, an
//! agent of the team who is no party to the call. bob finds it under "Shared with me" and plays
//! it; after sam revokes the share, bob no longer sees it. Screenshots go to
//! `target/e2e-screens/review-*.png`.

use crate::desktop::uploads::{record_support_always, upload_customer_call, CustomerCall};
use crate::desktop::webdriver::Driver;
use crate::desktop::{
    app_binary, connect_and_sign_in, login, screens, sign_in, sign_out, Recorder, TauriDriver, SERIAL,
};
use callrec_tests::{wav, ADMIN_PASSWORD};
use std::time::Instant;

fn shot(name: &str) -> std::path::PathBuf {
    screens().join(format!("review-{name}.png"))
}

/// alice's 12-second call with a customer (turns of two seconds), recorded by an automatic rule.
async fn upload(url: &str) {
    let call = CustomerCall {
        sip_call_id: "review-desktop@pbx",
        ext: "201",
        agent_name: "Alice",
        minutes_ago: 30,
        ended_after_secs: 14,
        audio: wav::conversation_ulaw(12.0),
    };
    upload_customer_call(url, call).await;
}

/// Polls `script` (which returns a number) until it is above `min`; returns it.
async fn wait_number(d: &Driver, script: &str, min: f64, what: &str) -> f64 {
    let deadline = Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let n = d.execute(script).await.as_f64().unwrap_or(0.0);
        if n > min {
            return n;
        }
        assert!(Instant::now() < deadline, "{what}: {n} ≤ {min}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// Painted pixels of the waveform's canvas (alpha ≠ 0).
const PAINTED: &str = "const c = document.querySelector('[data-testid=waveform-canvas]'); if (!c || !c.width) return 0; const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i] !== 0) n++; return n;";
const DRAWN: &str =
    "const w = document.querySelector('[data-testid=waveform]'); return w ? Number(w.dataset.drawnBuckets) : 0;";

/// Plays the open call's first recording and waits until the waveform is drawn.
async fn play_and_see_the_waveform(d: &Driver) -> (f64, f64) {
    d.click_css("[data-testid=play-recording]").await;
    d.wait("[data-testid=waveform]", 10).await;
    let drawn = wait_number(d, DRAWN, 50.0, "buckets drawn with sound").await;
    let painted = wait_number(d, PAINTED, 1000.0, "painted pixels of the canvas").await;
    (drawn, painted)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs a display, tauri-driver and the built app: run tests/desktop/run-e2e.sh"]
#[allow(clippy::await_holding_lock)] // SERIAL: one window at a time, held on purpose
async fn a_supervisor_comments_on_a_call_and_shares_it_with_a_trainee_until_revoked() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let server = Recorder::start().await;
    let admin = login(&server.url, "admin", ADMIN_PASSWORD).await;
    record_support_always(&server, &admin).await;
    upload(&server.url).await;

    let driver = TauriDriver::start();
    let d = Driver::start(driver.port, &app_binary()).await;
    connect_and_sign_in(&d, &server.url, "sam", None).await;
    d.click_css("[data-testid=tab-journal]").await;
    d.click_css("[data-testid=journal-row]").await;
    d.wait("[data-testid=recording]", 10).await;

    // The waveform: both lanes labelled, drawn from the peaks.
    let (drawn, painted) = play_and_see_the_waveform(&d).await;
    println!("sam's waveform: {drawn} buckets with sound, {painted} painted pixels");
    let labels = d.text_of("[data-testid=waveform]").await.unwrap_or_default();
    assert!(
        labels.contains("Caller · Customer") && labels.contains("Agent · Alice"),
        "{labels}"
    );
    d.wait_text("[data-testid=player-state]", "Finished", 30).await;
    d.screenshot(&shot("1-waveform")).await;

    // A comment at 0:05: listed beside the player and pinned on the waveform at 5 s.
    d.wait("[data-testid=comments]", 10).await;
    d.type_into("[data-testid=comment-form] [data-testid=comment-at]", "0:05")
        .await;
    d.type_into(
        "[data-testid=comment-form] [data-testid=comment-text]",
        "The greeting is missing the company name.",
    )
    .await;
    d.click_css("[data-testid=comment-form-submit]").await;
    d.wait("[data-testid=comment-pin][data-at-ms='5000']", 10).await;
    let listed = d.wait_text("[data-testid=comment]", "0:05", 10).await;
    assert!(listed.contains("Sam") && listed.contains("company name"), "{listed}");
    // A click on the pin plays from there (the recording had ended).
    d.click_css("[data-testid=comment-pin]").await;
    d.screenshot(&shot("2-comment")).await;
    // A small window: the waveform is asked again for its new width and stays on its row.
    if d.resize(900, 640).await.is_some() {
        tokio::time::sleep(std::time::Duration::from_millis(800)).await;
        let buckets = wait_number(&d, DRAWN, 50.0, "buckets drawn in the small window").await;
        println!("small window: {buckets} buckets with sound");
        d.screenshot(&shot("2b-small-window")).await;
        d.resize(1200, 760).await;
    }

    // Share with bob for 7 days.
    d.click_css("[data-testid=share-recording]").await;
    d.wait("[data-testid=share-dialog]", 10).await;
    let chosen = d
        .execute(
            "const s = document.querySelector('[data-testid=share-user]'); const o = [...s.options].find((o) => o.textContent.includes('(bob,')); if (!o) return ''; s.value = o.value; s.dispatchEvent(new Event('change', { bubbles: true })); return o.textContent;",
        )
        .await;
    let deadline = Instant::now() + std::time::Duration::from_secs(10);
    let mut chosen = chosen.as_str().unwrap_or_default().to_string();
    while chosen.is_empty() {
        assert!(Instant::now() < deadline, "bob is offered in the share dialog");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        chosen = d
            .execute(
                "const s = document.querySelector('[data-testid=share-user]'); const o = [...s.options].find((o) => o.textContent.includes('(bob,')); if (!o) return ''; s.value = o.value; s.dispatchEvent(new Event('change', { bubbles: true })); return o.textContent;",
            )
            .await
            .as_str()
            .unwrap_or_default()
            .to_string();
    }
    d.click_css("[data-testid=share-submit]").await;
    let item = d.wait_text("[data-testid=share-item]", "Bob", 10).await;
    assert!(item.contains("until") && item.contains("by Sam"), "{item}");
    d.screenshot(&shot("3-shared")).await;

    // bob: not his call, so not in his journal — but under "Shared with me", and it plays.
    d.click_css("[data-testid=player-close]").await;
    sign_out(&d).await;
    sign_in(&d, "bob", None).await;
    d.click_css("[data-testid=tab-journal]").await;
    d.wait("[data-testid=journal-empty]", 20).await;
    d.click_css("[data-testid=journal-mode-shared]").await;
    let row = d.wait_text("[data-testid=shared-row]", "Shared by Sam", 10).await;
    assert!(row.contains("Customer") && row.contains("Until"), "{row}");
    d.screenshot(&shot("4-shared-with-me")).await;
    d.click_css("[data-testid=shared-row]").await;
    d.wait("[data-testid=recording]", 10).await;
    let (drawn, _) = play_and_see_the_waveform(&d).await;
    println!("bob's waveform: {drawn} buckets with sound");
    d.wait_text("[data-testid=player-state]", "Finished", 30).await;
    d.wait("[data-testid=comment-pin][data-at-ms='5000']", 10).await;
    d.wait_text("[data-testid=comment]", "company name", 10).await;
    d.screenshot(&shot("5-trainee-plays")).await;

    // sam revokes it.
    d.click_css("[data-testid=player-close]").await;
    sign_out(&d).await;
    sign_in(&d, "sam", None).await;
    d.click_css("[data-testid=tab-journal]").await;
    d.click_css("[data-testid=journal-row]").await;
    d.click_css("[data-testid=share-recording]").await;
    d.wait("[data-testid=share-revoke]", 10).await;
    d.click_css("[data-testid=share-revoke]").await;
    d.wait_text("[data-testid=share-item][data-live=false]", "revoked", 10)
        .await;
    d.screenshot(&shot("6-revoked")).await;

    // bob no longer sees it.
    sign_out(&d).await;
    sign_in(&d, "bob", None).await;
    d.click_css("[data-testid=tab-journal]").await;
    d.click_css("[data-testid=journal-mode-shared]").await;
    d.wait("[data-testid=shared-empty]", 10).await;
    assert!(d.find("[data-testid=shared-row]").await.is_none());
    d.screenshot(&shot("7-gone")).await;
    d.quit().await;
}
