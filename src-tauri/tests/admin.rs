//! The admin commands through Tauri's mock runtime against a real server: an admin builds a
//! team, a role, users and rules, reorders and switches rules, sees refused fields come back
//! at their names, previews the schedule, runs the dispatch queue and filters the audit log;
//! an agent is refused; a supervisor reads why a call was recorded.

use crate::support::{self, invoke_on, TestServer};
use callrec_desktop::state::{AppState, StateConfig};
use callrec_desktop::tokens::TokenStore;
use serde_json::{json, Value};
use std::sync::Arc;
use tauri::test::{mock_builder, mock_context, noop_assets, MockRuntime};
use tauri::WebviewWindow;

/// The app on the mock runtime, signed in as `username` (the scorecard tests sign in with it too).
pub(crate) struct Admin {
    _app: tauri::App<MockRuntime>,
    window: WebviewWindow<MockRuntime>,
    _dirs: tempfile::TempDir,
}

impl Admin {
    pub(crate) fn sign_in(server: &TestServer, username: &str, password: &str) -> Admin {
        let dirs = tempfile::tempdir().expect("temp dirs");
        let state = AppState::new(
            StateConfig {
                config_dir: dirs.path().join("config"),
                data_dir: dirs.path().join("data"),
                tokens: TokenStore::memory(),
                save_dir: None,
            },
            Arc::new(|_| {}),
        );
        let app = callrec_desktop::builder(mock_builder())
            .manage(state)
            .build(mock_context(noop_assets()))
            .expect("the app builds on the mock runtime");
        let window = tauri::WebviewWindowBuilder::new(&app, "main", Default::default())
            .build()
            .expect("a mock window");
        let admin = Admin {
            _app: app,
            window,
            _dirs: dirs,
        };
        admin.ok("connect", json!({"choice": {"kind": "remote", "url": server.url}}));
        admin.ok("login", json!({"username": username, "password": password}));
        admin
    }

    pub(crate) fn invoke(&self, cmd: &str, args: Value) -> Result<Value, Value> {
        invoke_on(&self.window, cmd, args)
    }

    pub(crate) fn ok(&self, cmd: &str, args: Value) -> Value {
        self.invoke(cmd, args)
            .unwrap_or_else(|e| panic!("{cmd} must succeed, got {e}"))
    }

    pub(crate) fn err(&self, cmd: &str, args: Value) -> Value {
        self.invoke(cmd, args).expect_err(&format!("{cmd} must fail"))
    }
}

pub(crate) fn field_names(err: &Value) -> Vec<String> {
    err["fields"]
        .as_array()
        .map(|f| {
            f.iter()
                .filter_map(|f| f["field"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn an_admin_manages_rules_and_the_directory_and_refused_fields_come_back_by_name() {
    let server = TestServer::start();
    let admin = Admin::sign_in(&server, "admin", support::ADMIN_PASSWORD);

    // The directory: two users, a team, a role of that team.
    let user = |name: &str, ext: &str| {
        json!({"user": {"username": name, "display_name": name, "password": support::PASSWORD,
                        "level": "agent", "extensions": [ext]}})
    };
    let carol = admin.ok("create_user", user("carol", "211"));
    let dave = admin.ok("create_user", user("dave", "212"));
    let short = admin.err(
        "create_user",
        json!({"user": {"username": "eve", "password": "x", "level": "agent"}}),
    );
    assert_eq!(short["code"], "invalid");
    assert_eq!(
        field_names(&short),
        vec!["password"],
        "the refusal names its field: {short}"
    );
    let team = admin.ok(
        "create_team",
        json!({"team": {"name": "Sales", "members": [carol["id"], dave["id"]], "supervisors": []}}),
    );
    let role = admin.ok(
        "create_role",
        json!({"role": {"name": "Sales staff", "users": [], "teams": [team["id"]]}}),
    );
    let reset = admin.ok(
        "update_user",
        json!({"userId": carol["id"], "patch": {"password": "another-password-2"}}),
    );
    assert_eq!(reset["username"], "carol", "a password reset keeps the user");
    let phone = admin.ok(
        "create_phone",
        json!({"phone": {"mac": "00-04-13-2C-D0-C5", "user_id": carol["id"]}}),
    );
    assert_eq!(phone["mac"], "0004132cd0c5");
    let bad_mac = admin.err(
        "create_phone",
        json!({"phone": {"mac": "nope", "user_id": carol["id"]}}),
    );
    assert_eq!(field_names(&bad_mac), vec!["mac"]);

    // Rules: a refused form names description and recipients.
    let refused = admin.err(
        "create_rule",
        json!({"rule": {"description": " ", "enabled": true, "mode": "manual", "role_id": role["id"],
                        "direction": "both", "origin": "both",
                        "dispatch": {"kind": "email", "recipients": ["not-an-address"]}}}),
    );
    assert_eq!(refused["code"], "invalid");
    let names = field_names(&refused);
    assert!(
        names.contains(&"description".to_string()) && names.contains(&"dispatch.recipients".to_string()),
        "both refused fields reach the window: {refused}"
    );
    let mail = admin.ok(
        "create_rule",
        json!({"rule": {"description": "Sales record on demand, mail QA", "enabled": true, "mode": "manual",
                        "role_id": role["id"], "direction": "both", "origin": "external",
                        "dispatch": {"kind": "email", "recipients": ["qa@example.com"]}}}),
    );
    let rules = admin.ok("list_rules", json!({}));
    let ids = |rules: &Value| -> Vec<Value> {
        rules
            .as_array()
            .expect("a list")
            .iter()
            .map(|r| r["id"].clone())
            .collect()
    };
    assert_eq!(ids(&rules).last(), Some(&mail["id"]), "a new rule goes last");

    let moved = admin.ok("move_rule", json!({"ruleId": mail["id"], "to": "up"}));
    assert_eq!(ids(&moved)[0], mail["id"], "moved above the cast's rule");
    assert_eq!(
        ids(&admin.ok("list_rules", json!({})))[0],
        mail["id"],
        "the order is saved"
    );
    let off = admin.ok("set_rule_enabled", json!({"ruleId": mail["id"], "enabled": false}));
    assert_eq!(off["enabled"], false);
    assert_eq!(off["description"], mail["description"], "the rest of the rule is kept");

    // The audit log, filtered by action.
    let page = admin.ok("audit", json!({"filter": {"action": "rule_create"}}));
    let items = page["items"].as_array().expect("items");
    assert!(!items.is_empty(), "rule creations are audited");
    assert!(items.iter().all(|i| i["action"] == "rule_create"), "{page}");

    admin.ok("delete_rule", json!({"ruleId": mail["id"]}));
    admin.ok("delete_phone", json!({"phoneId": phone["id"]}));
    assert_eq!(admin.ok("list_phones", json!({})), json!([]));
}

#[test]
fn settings_schedule_preview_dispatch_queue_and_storage() {
    let server = TestServer::start();
    let admin = Admin::sign_in(&server, "admin", support::ADMIN_PASSWORD);

    let preview = admin.ok("schedule_preview", json!({"cron": "*/15 * * * *"}));
    assert_eq!(
        preview["next"].as_array().map(Vec::len),
        Some(3),
        "three next runs: {preview}"
    );
    let bad = admin.err("schedule_preview", json!({"cron": "every tuesday"}));
    assert_eq!(field_names(&bad), vec!["dispatch_schedule"]);

    let settings = admin.ok("update_settings", json!({"patch": {"retention_days": 30}}));
    assert_eq!(settings["retention_days"], 30);
    assert_eq!(admin.ok("get_settings", json!({}))["retention_days"], 30);
    let refused = admin.err("update_settings", json!({"patch": {"retention_days": 0}}));
    assert_eq!(field_names(&refused), vec!["retention_days"]);
    let unconfigured = admin.err("smtp_test", json!({"to": "qa@example.com"}));
    assert_eq!(
        field_names(&unconfigured),
        vec!["smtp.host"],
        "no SMTP host yet: {unconfigured}"
    );

    assert!(admin.ok("storage", json!({}))["bytes_free"].as_u64().is_some());
    assert_eq!(admin.ok("list_dispatch", json!({})), json!([]));
    let run = admin.ok("run_dispatch", json!({}));
    assert_eq!(run["sent"], 0, "an empty queue sends nothing: {run}");
    assert_eq!(
        admin.err("retry_dispatch", json!({"dispatchId": 999}))["code"],
        "failed"
    );
}

#[test]
fn agents_are_refused_and_a_supervisor_reads_why_a_call_was_recorded() {
    let server = TestServer::start();
    let alice = Admin::sign_in(&server, "alice", support::PASSWORD);
    for cmd in ["list_rules", "list_teams", "get_settings", "list_dispatch", "storage"] {
        assert_eq!(alice.err(cmd, json!({}))["code"], "not_permitted", "{cmd}");
    }
    assert_eq!(alice.err("audit", json!({"filter": {}}))["code"], "not_permitted");

    let (call_id, _) = server.ingest(support::ulaw_wav(1));
    let sam = Admin::sign_in(&server, "sam", support::PASSWORD);
    let detail = sam.ok("get_call", json!({"callId": call_id.0}));
    let trace = detail["trace"].as_array().expect("a trace");
    assert!(
        trace.iter().any(|l| l["kind"] == "mon_mode"),
        "the trace says the mon mode: {detail}"
    );
    assert!(
        trace
            .iter()
            .all(|l| l["message"].as_str().is_some_and(|m| !m.is_empty())),
        "every line is in words"
    );
}
