//! Administration end to end in the real window (issue #6): the admin creates a team, a role,
//! two users and a manual rule with e-mail dispatch, points SMTP at the test sink and sends a
//! test message; an agent of that role gets a SIPREC call and records it; the admin runs
//! dispatch now and the message reaches the sink; "why recorded" on the call names the rule.
//! Every admin screen is photographed to `target/e2e-screens/admin-*.png`.

use crate::desktop::webdriver::Driver;
use crate::desktop::{app_binary, screens, sign_in, sign_out, Recorder, TauriDriver, SERIAL};
use callrec_sim::{Sim, Transport};
use serde_json::Value;
use std::time::{Duration, Instant};

/// The SMTP sink of the dispatch tests (`tests/support/smtp_sink.py`, aiosmtpd): one JSON
/// summary per message in `dir`. Killed when dropped.
struct Sink {
    _child: tokio::process::Child,
    port: u16,
    dir: std::path::PathBuf,
}

impl Sink {
    async fn start(dir: &std::path::Path) -> Sink {
        use tokio::io::{AsyncBufReadExt, BufReader};
        let script = crate::desktop::workspace().join("tests/support/smtp_sink.py");
        let mut child = tokio::process::Command::new(
            std::env::var("CALLREC_TEST_PYTHON").unwrap_or_else(|_| "/usr/bin/python3".into()),
        )
        .arg(script)
        .arg("--dir")
        .arg(dir)
        .args(["--port", "0"])
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("the SMTP sink starts (Debian python3 with python3-aiosmtpd, or CALLREC_TEST_PYTHON)");
        let stdout = child.stdout.take().expect("piped stdout");
        let line = tokio::time::timeout(Duration::from_secs(20), BufReader::new(stdout).lines().next_line())
            .await
            .expect("the SMTP sink says its port within 20 s")
            .expect("its stdout is readable")
            .expect("it printed a line");
        let port = line
            .strip_prefix("PORT ")
            .and_then(|p| p.trim().parse().ok())
            .unwrap_or_else(|| panic!("the SMTP sink printed {line:?}, not PORT <n>"));
        Sink {
            _child: child,
            port,
            dir: dir.to_path_buf(),
        }
    }

    /// The recipients of each message so far, in order of arrival, once there are `n`.
    async fn wait_for(&self, n: usize) -> Vec<Vec<String>> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let mut numbered: Vec<(u64, std::path::PathBuf)> = std::fs::read_dir(&self.dir)
                .map(|rd| {
                    rd.filter_map(|e| e.ok())
                        .filter_map(|e| {
                            let n = e.file_name().to_string_lossy().strip_suffix(".json")?.parse().ok()?;
                            Some((n, e.path()))
                        })
                        .collect()
                })
                .unwrap_or_default();
            numbered.sort();
            if numbered.len() >= n {
                return numbered
                    .iter()
                    .map(|(_, p)| {
                        let v: Value = serde_json::from_slice(&std::fs::read(p).expect("a summary")).expect("JSON");
                        v["rcpt_tos"]
                            .as_array()
                            .map(|a| a.iter().filter_map(|r| r.as_str().map(str::to_string)).collect())
                            .unwrap_or_default()
                    })
                    .collect();
            }
            assert!(Instant::now() < deadline, "{n} message(s) did not arrive");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// Selects, hidden radios and checkboxes are set from script, with the events Preact listens
/// to (WebKitWebDriver refuses clicks on the visually hidden inputs).
async fn js(d: &Driver, script: &str) -> Value {
    d.execute(script).await
}

pub(super) async fn choose(d: &Driver, css: &str, value: &str) {
    d.wait(css, 10).await;
    js(
        d,
        &format!(
            "const e = document.querySelector({css:?}); e.value = {value:?}; \
             e.dispatchEvent(new Event('change', {{bubbles: true}})); return e.value;"
        ),
    )
    .await;
}

async fn js_click(d: &Driver, css: &str) {
    d.wait(css, 10).await;
    js(d, &format!("document.querySelector({css:?}).click(); return 0;")).await;
}

/// The id of the option labelled `label` in the select `css`.
async fn option_value(d: &Driver, css: &str, label: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let v = js(
            d,
            &format!(
                "const o = [...document.querySelectorAll({css:?} + ' option')].find(o => o.textContent.trim() === {label:?}); \
                 return o ? o.value : null;"
            ),
        )
        .await;
        if let Some(v) = v.as_str() {
            return v.to_string();
        }
        assert!(Instant::now() < deadline, "no option {label:?} in {css}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A screenshot once the notices have faded (they stack up while the test clicks fast).
pub(super) async fn shot(d: &Driver, path: &std::path::Path) {
    d.wait_gone(".toast", 15).await;
    d.screenshot(path).await;
}

/// Types `text` into the field `css`, starting from an empty field in both the DOM and the
/// form's state: WebDriver's own "clear" only empties the DOM, and a re-render before the keys
/// arrive (a notice fading, a preview arriving) would put the old value back in front of them.
pub(super) async fn fill(d: &Driver, css: &str, text: &str) {
    d.wait(css, 10).await;
    js(
        d,
        &format!(
            "const e = document.querySelector({css:?}); e.value = ''; \
             e.dispatchEvent(new Event('input', {{bubbles: true}})); return 0;"
        ),
    )
    .await;
    d.type_into(css, text).await;
    let value = js(d, &format!("return document.querySelector({css:?}).value;")).await;
    assert_eq!(value.as_str(), Some(text), "{css} holds what was typed");
}

pub(super) async fn sign_in_admin(d: &Driver) {
    d.wait("[data-testid=login-form]", 20).await;
    fill(d, "[data-testid=username]", "admin").await;
    fill(d, "[data-testid=password]", callrec_tests::ADMIN_PASSWORD).await;
    d.click_css("[data-testid=sign-in]").await;
    d.wait("[data-testid=tab-admin]", 20).await;
}

async fn connect(d: &Driver, url: &str) {
    d.wait("[data-testid=connect-form]", 30).await;
    fill(d, "[data-testid=server-url]", url).await;
    d.click_css("[data-testid=connect]").await;
}

async fn new_user(d: &Driver, username: &str, display: &str, ext: &str) {
    d.click_css("[data-testid=users-new]").await;
    fill(d, "[data-testid=user-username]", username).await;
    fill(d, "[data-testid=user-display-name]", display).await;
    fill(d, "[data-testid=user-extensions]", ext).await;
    fill(d, "[data-testid=user-password]", callrec_tests::directory::PASSWORD).await;
    d.click_css("[data-testid=user-save]").await;
    d.wait_gone("[data-testid=user-form]", 10).await;
    d.wait_text("[data-testid=users-table]", display, 10).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
// The guard is held on purpose for the whole test: one window on the display at a time.
#[allow(clippy::await_holding_lock)]
#[ignore = "needs a display, tauri-driver and the built app: run tests/desktop/run-e2e.sh"]
async fn an_admin_sets_up_a_mailed_manual_rule_an_agent_records_and_the_mail_arrives_with_its_reason() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let shots = screens();
    let server = Recorder::start().await;
    let mail = tempfile::tempdir().expect("a mail dir");
    let sink = Sink::start(mail.path()).await;
    let driver = TauriDriver::start();
    let d = Driver::start(driver.port, &app_binary()).await;

    connect(&d, &server.url).await;
    sign_in_admin(&d).await;
    // Script errors show in failure messages (`page_text`).
    js(
        &d,
        "window.__e2eErrors = []; \
         window.addEventListener('error', (e) => window.__e2eErrors.push(String(e.message))); \
         window.addEventListener('unhandledrejection', (e) => window.__e2eErrors.push('rejection: ' + String(e.reason && (e.reason.message || JSON.stringify(e.reason))))); \
         return 0;",
    )
    .await;
    d.click_css("[data-testid=tab-admin]").await;
    d.wait("[data-testid=rules-table]", 10).await;

    // Directory: team, role of the team, two users, then the users join the team.
    d.click_css("[data-testid=admin-directory-tab]").await;
    d.click_css("[data-testid=dir-teams]").await;
    d.click_css("[data-testid=teams-new]").await;
    fill(&d, "[data-testid=team-name]", "Quality").await;
    d.click_css("[data-testid=team-save]").await;
    d.wait_text("[data-testid=teams-table]", "Quality", 10).await;

    d.click_css("[data-testid=dir-roles]").await;
    d.click_css("[data-testid=roles-new]").await;
    fill(&d, "[data-testid=role-name]", "Quality staff").await;
    js_click(&d, "[data-testid=role-teams] input[data-label=\"Quality\"]").await;
    d.click_css("[data-testid=role-save]").await;
    d.wait_text("[data-testid=roles-table]", "Quality staff", 10).await;

    d.click_css("[data-testid=dir-users]").await;
    // A refused form first: the password is too short, said at the field.
    d.click_css("[data-testid=users-new]").await;
    fill(&d, "[data-testid=user-username]", "dora").await;
    fill(&d, "[data-testid=user-password]", "short").await;
    d.click_css("[data-testid=user-save]").await;
    d.wait_text("[data-testid=error-password]", "At least 8 characters", 5)
        .await;
    shot(&d, &shots.join("admin-01-user-form-refused.png")).await;
    d.click_css("[data-testid=user-form] .icon-btn").await;
    new_user(&d, "dora", "Dora", "221").await;
    new_user(&d, "emil", "Emil", "222").await;
    shot(&d, &shots.join("admin-02-directory-users.png")).await;

    d.click_css("[data-testid=dir-teams]").await;
    d.wait_text("[data-testid=teams-table]", "Quality", 10).await;
    js(
        &d,
        "[...document.querySelectorAll('[data-testid=team-row] button.link')].find(b => b.textContent === 'Quality').click(); return 0;",
    )
    .await;
    js_click(&d, "[data-testid=team-members] input[data-label=\"Dora\"]").await;
    js_click(&d, "[data-testid=team-members] input[data-label=\"Emil\"]").await;
    shot(&d, &shots.join("admin-03-team-form.png")).await;
    d.click_css("[data-testid=team-save]").await;
    d.wait_text("[data-testid=teams-table]", "Dora, Emil", 10).await;
    shot(&d, &shots.join("admin-04-directory-teams.png")).await;
    d.click_css("[data-testid=dir-roles]").await;
    d.wait_text("[data-testid=roles-table]", "Quality staff", 10).await;
    shot(&d, &shots.join("admin-05-directory-roles.png")).await;
    d.click_css("[data-testid=dir-phones]").await;
    d.click_css("[data-testid=phones-new]").await;
    fill(&d, "[data-testid=phone-mac]", "00-04-13-2C-D0-C5").await;
    let dora = option_value(&d, "[data-testid=phone-user]", "Dora").await;
    choose(&d, "[data-testid=phone-user]", &dora).await;
    d.click_css("[data-testid=phone-save]").await;
    d.wait_text("[data-testid=phones-table]", "00:04:13:2c:d0:c5", 10).await;
    shot(&d, &shots.join("admin-05b-directory-phones.png")).await;

    // The rule: manual, e-mail to QA; the form refuses an empty description first.
    d.click_css("[data-testid=admin-rules-tab]").await;
    d.click_css("[data-testid=rule-new]").await;
    js_click(&d, "[data-testid=rule-dispatch-email]").await;
    d.click_css("[data-testid=rule-save]").await;
    d.wait_text("[data-testid=error-description]", "needs a description", 5)
        .await;
    fill(
        &d,
        "[data-testid=rule-description]",
        "Quality may record on demand, mailed to QA",
    )
    .await;
    let role = option_value(&d, "[data-testid=rule-role]", "Quality staff").await;
    choose(&d, "[data-testid=rule-role]", &role).await;
    choose(&d, "[data-testid=rule-mode]", "manual").await;
    fill(&d, "[data-testid=rule-recipients]", "qa@example.com").await;
    shot(&d, &shots.join("admin-06-rule-form.png")).await;
    // The webhook kind's fields (looked at, then back to e-mail).
    js_click(&d, "[data-testid=rule-dispatch-webhook]").await;
    d.wait("[data-testid=rule-secret]", 5).await;
    fill(&d, "[data-testid=rule-url]", "https://crm.example.com/hooks/callrec").await;
    shot(&d, &shots.join("admin-06b-rule-form-webhook.png")).await;
    js_click(&d, "[data-testid=rule-dispatch-email]").await;
    fill(&d, "[data-testid=rule-recipients]", "qa@example.com").await;
    d.click_css("[data-testid=rule-save]").await;
    d.wait_gone("[data-testid=rule-form]", 10).await;
    d.wait_text("[data-testid=rules-table]", "E-mail to qa@example.com", 10)
        .await;
    shot(&d, &shots.join("admin-07-rules.png")).await;

    // Settings: SMTP to the sink, saved, and a test message.
    d.click_css("[data-testid=admin-settings-tab]").await;
    d.wait("[data-testid=settings-smtp-host]", 10).await;
    d.wait_text("[data-testid=schedule-preview]", "Next runs", 10).await;
    fill(&d, "[data-testid=settings-smtp-host]", "127.0.0.1").await;
    fill(&d, "[data-testid=settings-smtp-port]", &sink.port.to_string()).await;
    fill(&d, "[data-testid=settings-smtp-from]", "callrec@example.com").await;
    d.click_css("[data-testid=settings-save]").await;
    d.wait_text("[data-testid=toast-success]", "Settings saved", 10).await;
    d.wait_text("[data-testid=schedule-preview]", "Next runs", 10).await;
    fill(&d, "[data-testid=smtp-test-to]", "admin@example.com").await;
    d.click_css("[data-testid=smtp-test]").await;
    d.wait_text("[data-testid=smtp-test-result]", "Test message sent", 30)
        .await;
    let test_mail = sink.wait_for(1).await;
    assert_eq!(test_mail[0], vec!["admin@example.com".to_string()]);
    shot(&d, &shots.join("admin-08-settings.png")).await;
    d.wait_text("[data-testid=storage]", "Full in", 10).await;
    js(
        &d,
        "document.querySelector('[data-testid=storage]').scrollIntoView(); return 0;",
    )
    .await;
    shot(&d, &shots.join("admin-08b-settings-storage.png")).await;
    d.click_css("[data-testid=admin-alarms-tab]").await;
    d.wait("[data-testid=admin-alarms]", 10).await;
    shot(&d, &shots.join("admin-08c-alarms.png")).await;

    // Dora gets a call and records it with the red toggle.
    sign_out(&d).await;
    sign_in(&d, "dora", None).await;
    let sim = Sim::connect(server.sip, Transport::Udp)
        .await
        .expect("the simulator reaches the recorder");
    let call = sim
        .call()
        .caller("sip:+4930555777@carrier.example")
        .caller_name("Customer")
        .callee("sip:221@pbx.example")
        .callee_name("Dora")
        .invite()
        .await
        .expect("the recorder answers the SIPREC INVITE");
    let toggle = d.wait("[data-testid=record-toggle]", 20).await;
    assert!(d.enabled(&toggle).await, "the new rule lets dora record");
    d.click(&toggle).await;
    d.wait_text("[data-testid=recording-state]", "Recording (manual, by Dora", 10)
        .await;
    tokio::time::sleep(Duration::from_millis(2000)).await;
    d.click_css("[data-testid=record-toggle]").await;
    d.wait_text("[data-testid=recording-state]", "Not recording", 10).await;
    call.bye().await.expect("the call hangs up");
    d.wait_gone("[data-testid=live-call]", 20).await;

    // The admin runs dispatch now: the recording goes out by mail.
    sign_out(&d).await;
    sign_in_admin(&d).await;
    d.click_css("[data-testid=tab-admin]").await;
    d.click_css("[data-testid=admin-dispatch-tab]").await;
    d.wait("[data-testid=dispatch-row]", 20).await;
    d.click_css("[data-testid=dispatch-run]").await;
    d.wait("[data-testid=dispatch-row][data-status=sent]", 30).await;
    let mails = sink.wait_for(2).await;
    assert_eq!(mails[1], vec!["qa@example.com".to_string()], "the rule's recipient");
    shot(&d, &shots.join("admin-09-dispatch.png")).await;

    d.click_css("[data-testid=admin-audit-tab]").await;
    d.wait("[data-testid=audit-row]", 10).await;
    choose(&d, "[data-testid=audit-action]", "rule_create").await;
    d.wait_text("[data-testid=audit-table]", "rule create", 10).await;
    shot(&d, &shots.join("admin-10-audit.png")).await;

    // Why recorded: the call in the journal names the rule and Dora's press.
    d.click_css("[data-testid=tab-journal]").await;
    d.wait_text("[data-testid=rec-badge]", "REC 1", 20).await;
    d.click_css("[data-testid=journal-row]").await;
    d.click_css("[data-testid=why-recorded]").await;
    let trace = d
        .wait_text("[data-testid=trace]", "Quality may record on demand", 10)
        .await;
    assert!(trace.contains("Dora"), "the trace says who: {trace}");
    shot(&d, &shots.join("admin-11-why-recorded.png")).await;

    d.quit().await;
    drop(driver);
    drop(sim);
    drop(sink);
}
