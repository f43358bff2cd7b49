//! Issue #15.4 in the real window: the admin defines a scorecard (the server's refusals show at
//! their fields first), sam (supervisor) opens alice's recorded call and scores it — the live
//! score as he answers, the saved one from the server —, the journal shows the score and its
//! "reviewed" filter finds the call, sam reads alice's averages per criterion, and alice signs
//! in and reads her review. Screenshots go to `target/e2e-screens/scorecards-*.png`.

use crate::desktop::admin::{choose, fill, shot, sign_in_admin};
use crate::desktop::uploads::{record_support_always, upload_customer_call, CustomerCall};
use crate::desktop::webdriver::Driver;
use crate::desktop::{app_binary, journal_ids, login, screens, sign_in, sign_out, Recorder, TauriDriver, SERIAL};
use callrec_tests::{wav, ADMIN_PASSWORD};

fn path(name: &str) -> std::path::PathBuf {
    screens().join(format!("scorecards-{name}.png"))
}

/// A finished call of alice (201) with a customer, recorded by an automatic rule.
async fn upload(url: &str, sip_call_id: &str, minutes_ago: i64) -> callrec_types::CallId {
    let call = CustomerCall {
        sip_call_id,
        ext: "201",
        agent_name: "Alice",
        minutes_ago,
        ended_after_secs: 12,
        audio: wav::stereo_ulaw(3.0),
    };
    upload_customer_call(url, call).await.call_id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs a display, tauri-driver and the built app: run tests/desktop/run-e2e.sh"]
#[allow(clippy::await_holding_lock)] // SERIAL: one window at a time, held on purpose
async fn an_admin_defines_a_scorecard_a_supervisor_scores_a_call_and_the_agent_reads_the_review() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let server = Recorder::start().await;
    let admin = login(&server.url, "admin", ADMIN_PASSWORD).await;
    record_support_always(&server, &admin).await;
    let scored = upload(&server.url, "scorecards-desktop-1@pbx", 30).await;
    let other = upload(&server.url, "scorecards-desktop-2@pbx", 60).await;

    let driver = TauriDriver::start();
    let d = Driver::start(driver.port, &app_binary()).await;
    d.wait("[data-testid=connect-form]", 30).await;
    fill(&d, "[data-testid=server-url]", &server.url).await;
    d.click_css("[data-testid=connect]").await;
    sign_in_admin(&d).await;

    // The admin defines the scorecard; the server's refusals land at their fields first.
    d.click_css("[data-testid=tab-admin]").await;
    d.click_css("[data-testid=admin-scorecards-tab]").await;
    d.wait("[data-testid=scorecards-empty]", 10).await;
    d.click_css("[data-testid=scorecard-new]").await;
    fill(&d, "[data-testid=scorecard-name]", "Support call").await;
    fill(&d, "[data-testid=criterion-name-0]", "Greets the caller by name").await;
    d.click_css("[data-testid=criterion-add]").await;
    fill(&d, "[data-testid=criterion-name-1]", "Shows empathy").await;
    choose(&d, "[data-testid=criterion-kind-1]", "scale_1_5").await;
    fill(&d, "[data-testid=criterion-weight-1]", "2").await;
    d.click_css("[data-testid=criterion-add]").await;
    fill(&d, "[data-testid=criterion-weight-2]", "0").await;
    d.click_css("[data-testid=scorecard-save]").await;
    d.wait("[data-testid='error-criteria[2].name']", 10).await;
    let weight = d
        .wait_text("[data-testid='error-criteria[2].weight']", "weight", 5)
        .await;
    assert!(weight.contains("above 0"), "{weight}");
    shot(&d, &path("1-editor-refused")).await;
    fill(&d, "[data-testid=criterion-name-2]", "Solves the problem").await;
    fill(&d, "[data-testid=criterion-weight-2]", "3").await;
    d.click_css("[data-testid=scorecard-save]").await;
    d.wait_gone("[data-testid=scorecard-form]", 10).await;
    d.wait_text("[data-testid=scorecards-table]", "Support call", 10).await;
    shot(&d, &path("2-scorecards")).await;
    sign_out(&d).await;

    // sam opens alice's call and scores it.
    sign_in(&d, "sam", None).await;
    d.click_css("[data-testid=tab-journal]").await;
    d.wait(&format!("[data-testid=journal-row][data-call-id='{scored}']"), 10)
        .await;
    d.click_css(&format!("[data-testid=journal-row][data-call-id='{scored}']"))
        .await;
    d.wait("[data-testid=play-recording]", 10).await;
    d.click_css("[data-testid=review-new]").await;
    d.wait("[data-testid=review-criteria]", 10).await;
    click_centered(&d, "[data-testid=answer-0-true]").await;
    click_centered(&d, "[data-testid=answer-1-4]").await;
    d.wait_text("[data-testid=review-live-score]", "2 of 3 criteria answered", 5)
        .await;
    click_centered(&d, "[data-testid=answer-2-false]").await;
    // (1 × 1 + 2 × 0.75 + 3 × 0) / 6 = 41.67, computed by the Rust side's domain rule.
    d.wait_text("[data-testid=review-live-score]", "41.7 %", 5).await;
    fill(
        &d,
        "[data-testid=review-comment]",
        "Warm greeting. Offer the callback before the caller asks.",
    )
    .await;
    shot(&d, &path("3-review-form")).await;
    d.click_css("[data-testid=review-save]").await;
    d.wait_gone("[data-testid=review-form]", 10).await;
    let card = d.wait_text("[data-testid=review-card]", "41.7 %", 10).await;
    assert!(card.contains("Alice") && card.contains("Sam"), "{card}");
    shot(&d, &path("4-call-reviewed")).await;
    // The smallest window: the journal keeps its Parties and Score columns beside the panel.
    if let Some((w, h)) = d.resize(880, 560).await {
        let parties = d.rect_of("[data-testid=journal-row] .parties").await.expect("Parties");
        assert!(parties[2] >= 120.0, "Parties keeps room at {w}×{h}: {parties:?}");
        let score = d.rect_of("[data-testid=journal-row] .score").await.expect("Score");
        assert!(
            score[0] + score[2] <= f64::from(u32::try_from(w).unwrap_or(880)),
            "the score column is in the window: {score:?}"
        );
        shot(&d, &path("4b-880x560")).await;
        d.resize(1200, 760).await;
    }

    // The journal: the score column, and the reviewed filter finds the call.
    d.wait_text(
        &format!("[data-testid=journal-row][data-call-id='{scored}'] [data-testid=journal-score]"),
        "41.7 %",
        10,
    )
    .await;
    let other_score = d
        .text_of(&format!(
            "[data-testid=journal-row][data-call-id='{other}'] [data-testid=journal-score]"
        ))
        .await
        .unwrap_or_default();
    assert_eq!(other_score.trim(), "", "a call nobody reviewed has no score");
    choose(&d, "[data-testid=journal-reviewed]", "yes").await;
    wait_ids(&d, &[scored.to_string()]).await;
    shot(&d, &path("5-journal-reviewed")).await;
    choose(&d, "[data-testid=journal-reviewed]", "no").await;
    wait_ids(&d, &[other.to_string()]).await;
    choose(&d, "[data-testid=journal-reviewed]", "").await;

    // The per-agent summary, last 30 days.
    d.click_css("[data-testid=tab-reviews]").await;
    d.wait("[data-testid=summary-table]", 10).await;
    let table = d.wait_text("[data-testid=summary]", "1 review", 10).await;
    assert!(
        table.contains("Alice") && table.contains("Shows empathy") && table.contains("4.0 of 5"),
        "{table}"
    );
    assert!(table.contains("100 % yes") && table.contains("0 % yes"), "{table}");
    shot(&d, &path("6-team-scores")).await;
    sign_out(&d).await;

    // alice reads her review and opens its call.
    sign_in(&d, "alice", None).await;
    d.click_css("[data-testid=tab-reviews]").await;
    let mine = d.wait_text("[data-testid=my-reviews]", "Offer the callback", 10).await;
    assert!(
        mine.contains("41.7 %") && mine.contains("Sam") && mine.contains("Solves the problem"),
        "{mine}"
    );
    d.click_css("[data-testid=review-open-call]").await;
    d.wait("[data-testid=call-detail] [data-testid=play-recording]", 10)
        .await;
    shot(&d, &path("7-my-reviews")).await;
    assert!(
        d.find("[data-testid=review-new]").await.is_none(),
        "an agent is offered no review form"
    );
    d.quit().await;
}

/// Waits until the journal lists exactly `ids`.
async fn wait_ids(d: &Driver, ids: &[String]) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let now = journal_ids(d).await;
        if now == ids {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the journal lists {now:?}, not {ids:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// Scrolls `css` to the middle of its scroller: the review form's score and Save bar stays at
/// the bottom of the call panel, and WebDriver scrolls a target only to the bottom edge,
/// under that bar.
async fn centre(d: &Driver, css: &str) {
    d.wait(css, 10).await;
    d.execute(&format!(
        "document.querySelector({css:?}).scrollIntoView({{block: 'center'}}); return 0;"
    ))
    .await;
}

async fn click_centered(d: &Driver, css: &str) {
    centre(d, css).await;
    d.click_css(css).await;
}
