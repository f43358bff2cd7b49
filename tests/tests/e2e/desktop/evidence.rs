//! Issue #12.3 and #12.4 in the real window: the player hashes what it streams and shows
//! **verified** on a recording whose bytes match its signed evidence, then **altered** once its
//! file on the server's disk has one byte changed; and "Who listened" shows the agent the
//! supervisor's play of her call, and nothing of another agent's calls. Screenshots go to
//! `target/e2e-screens/evidence-*.png`.

use crate::desktop::uploads::{record_support_always, upload_customer_call, CustomerCall};
use crate::desktop::webdriver::Driver;
use crate::desktop::{app_binary, connect_and_sign_in, login, screens, Recorder, TauriDriver, SERIAL};
use callrec_client::AudioFormat;
use callrec_tests::directory::PASSWORD;
use callrec_tests::{files_under, wav, ADMIN_PASSWORD};
use callrec_types::RecordingId;
use std::time::Instant;

fn shot(name: &str) -> std::path::PathBuf {
    screens().join(format!("evidence-{name}.png"))
}

/// An uploaded call of `ext` with a customer, recorded by an automatic rule.
async fn upload(url: &str, sip_call_id: &str, ext: &str) -> RecordingId {
    let call = CustomerCall {
        sip_call_id,
        ext,
        agent_name: "Agent",
        minutes_ago: 30,
        ended_after_secs: 12,
        audio: wav::stereo_ulaw(3.0),
    };
    upload_customer_call(url, call).await.recording_id
}

/// Plays the journal's first recording to the end and waits for the evidence verdict.
async fn play_and_judge(d: &Driver, verdict: &str) -> String {
    d.click_css("[data-testid=play-recording]").await;
    d.wait_text("[data-testid=player-state]", "Finished", 30).await;
    let css = format!("[data-testid=evidence][data-verdict={verdict}]");
    let deadline = Instant::now() + std::time::Duration::from_secs(20);
    loop {
        if let Some(text) = d.text_of(&css).await {
            return text;
        }
        assert!(
            Instant::now() < deadline,
            "the player shows {verdict:?}: {}",
            d.page_text().await
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs a display, tauri-driver and the built app: run tests/desktop/run-e2e.sh"]
#[allow(clippy::await_holding_lock)] // SERIAL: one window at a time, held on purpose
async fn the_player_shows_verified_then_altered_after_the_file_is_tampered_with_and_alice_sees_who_listened() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let server = Recorder::start().await;
    let admin = login(&server.url, "admin", ADMIN_PASSWORD).await;
    record_support_always(&server, &admin).await;
    let alice_rec = upload(&server.url, "evidence-desktop@pbx", "201").await;
    let bob_rec = upload(&server.url, "evidence-desktop-bob@pbx", "202").await;
    // The supervisor plays both; bob's call is not alice's business.
    let sam = login(&server.url, "sam", PASSWORD).await;
    for id in [alice_rec, bob_rec] {
        sam.audio_bytes(id, AudioFormat::Original, None)
            .await
            .expect("sam plays");
    }

    let driver = TauriDriver::start();
    let d = Driver::start(driver.port, &app_binary()).await;
    connect_and_sign_in(&d, &server.url, "alice", None).await;
    d.click_css("[data-testid=tab-journal]").await;
    d.click_css("[data-testid=journal-row]").await;
    d.wait("[data-testid=play-recording]", 10).await;
    let verified = play_and_judge(&d, "verified").await;
    assert!(verified.contains("verified"), "{verified}");
    d.screenshot(&shot("1-verified")).await;

    // One byte of the audio changed on the server's disk, behind the product's back.
    let rec = admin.get_recording(alice_rec).await.expect("the recording");
    let path = files_under(&server.state.config.data_dir.join("recordings"), "wav")
        .into_iter()
        .find(|p| p.file_name().is_some_and(|n| n == rec.file_name.as_str()))
        .expect("the stored file");
    let mut bytes = std::fs::read(&path).expect("read");
    let at = bytes.len() / 2;
    bytes[at] ^= 0x55;
    std::fs::write(&path, &bytes).expect("tamper");
    let altered = play_and_judge(&d, "altered").await;
    assert!(altered.contains("altered"), "{altered}");
    let title = d
        .attribute(&d.wait("[data-testid=evidence]", 5).await, "title")
        .await
        .unwrap_or_default();
    assert!(title.contains("signed evidence says"), "the tooltip says why: {title}");
    d.screenshot(&shot("2-altered")).await;

    // Who listened: sam's play of alice's call, not of bob's.
    d.click_css("[data-testid=player-close]").await;
    d.click_css("[data-testid=tab-listens]").await;
    d.wait("[data-testid=listen-row]", 10).await;
    let rows = d.find_all("[data-testid=listen-row]").await;
    let table = d.text_of("[data-testid=listens-table]").await.unwrap_or_default();
    println!("alice's listens:\n{table}");
    // alice's own plays (two, or more if the player reopened from byte 0) and sam's one, all of
    // recording alice_rec; bob's never.
    assert!(rows.len() >= 3, "{table}");
    assert!(table.contains("sam") && table.contains("Played"), "{table}");
    assert!(table.contains(&format!("Recording {alice_rec}")), "{table}");
    assert!(
        !table.contains(&format!("Recording {bob_rec} ")),
        "bob's call never shows: {table}"
    );
    d.screenshot(&shot("3-who-listened")).await;
    d.quit().await;
}
