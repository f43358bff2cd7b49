//! The caller's consent in the real window (issue #11.2): an IVR announced the recording
//! (`X-Callrec-Consent: announced` on the INVITE), alice records the caller's verbal consent,
//! records the call by hand, then the caller refuses: the recording stops, the badge says so on
//! the live card, in the journal row and in the call's facts. The admin's rule form offers
//! "Record only once the caller has given consent" for automatic rules. Screenshots
//! `30-…` to `34-…` in `target/e2e-screens/`.

use super::admin::{choose, shot, sign_in_admin};
use super::webdriver::Driver;
use super::{app_binary, connect_and_sign_in, customer_calls_alice, screens, sign_out, Recorder, TauriDriver, SERIAL};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs a display, tauri-driver and the built app: run tests/desktop/run-e2e.sh"]
#[allow(clippy::await_holding_lock)] // SERIAL: one window at a time, held on purpose
async fn consent_shows_on_the_live_card_the_journal_and_the_call_and_the_rule_form_offers_it() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let shots = screens();
    let server = Recorder::start().await;
    let driver = TauriDriver::start();
    let d = Driver::start(driver.port, &app_binary()).await;
    connect_and_sign_in(&d, &server.url, "alice", None).await;
    d.wait("[data-testid=live-empty]", 20).await;

    let call = customer_calls_alice(&server)
        .await
        .consent("announced;by=IVR")
        .invite()
        .await
        .expect("the recorder answers");
    d.wait_text("[data-testid=consent-badge]", "Recording announced", 20)
        .await;
    shot(&d, &shots.join("30-consent-announced.png")).await;

    d.click_css("[data-testid=consent-granted]").await;
    d.wait_text("[data-testid=consent-badge]", "Consent given", 10).await;
    d.click_css("[data-testid=record-toggle]").await;
    d.wait_text("[data-testid=recording-state]", "Recording (manual, by Alice", 10)
        .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    shot(&d, &shots.join("31-consent-given-recording.png")).await;

    d.click_css("[data-testid=consent-refused]").await;
    d.wait_text("[data-testid=consent-badge]", "Consent refused", 10).await;
    d.wait_text("[data-testid=recording-state]", "the caller refused to be recorded", 10)
        .await;
    let toggle = d.wait("[data-testid=record-toggle]", 5).await;
    assert!(!d.enabled(&toggle).await, "nobody records a caller who refused");
    shot(&d, &shots.join("32-consent-refused.png")).await;
    call.bye().await.expect("the call hangs up");
    d.wait_gone("[data-testid=live-call]", 20).await;

    d.click_css("[data-testid=tab-journal]").await;
    d.wait_text("[data-testid=journal-row] [data-testid=consent-badge]", "Refused", 20)
        .await;
    assert!(
        d.find("[data-testid=rec-badge]").await.is_none(),
        "what was recorded before the refusal is deleted (the default)"
    );
    d.click_css("[data-testid=journal-row]").await;
    d.wait_text("[data-testid=call-consent]", "Consent refused by Alice", 10)
        .await;
    shot(&d, &shots.join("33-consent-journal.png")).await;

    sign_out(&d).await;
    sign_in_admin(&d).await;
    d.click_css("[data-testid=tab-admin]").await;
    d.click_css("[data-testid=admin-rules-tab]").await;
    d.click_css("[data-testid=rule-new]").await;
    assert!(
        d.find("[data-testid=rule-require-consent]").await.is_none(),
        "a manual rule is not offered the consent checkbox"
    );
    choose(&d, "[data-testid=rule-mode]", "automatic").await;
    d.wait("[data-testid=rule-require-consent]", 10).await;
    d.click_css("[data-testid=rule-require-consent]").await;
    shot(&d, &shots.join("34-rule-form-consent.png")).await;
    d.quit().await;
}
