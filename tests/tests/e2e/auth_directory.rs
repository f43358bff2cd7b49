//! End-to-end: login, sessions, throttling, levels, the directory CRUD and its audit rows, and
//! bad input answered with a clear 4xx that changes nothing.

use callrec_server::auth::token_hash;
use callrec_tests::directory::{self, PASSWORD};
use callrec_tests::TestServer;
use callrec_types::directory::{Level, NewUser, PhoneInput, UserPatch};
use callrec_types::rules::{Dispatch, RuleDirection, RuleMode, RuleMove, RuleOrigin};
use callrec_types::wire::ErrorCode;
use chrono::{Duration, Utc};
use reqwest::Method;

#[tokio::test]
async fn login_me_logout_and_the_token_is_stored_only_hashed() {
    let server = TestServer::start().await;
    let mut admin = server.admin().await;
    let me = admin.me().await.expect("me");
    assert_eq!(me.username, "admin");
    assert_eq!(me.level, Level::Admin);

    let token = admin.token().expect("a token after login").to_string();
    let user = server
        .state
        .store
        .session_user(&token_hash(&token), Utc::now())
        .await
        .expect("store answers");
    assert_eq!(
        user.map(|u| u.user.username).as_deref(),
        Some("admin"),
        "the session is found by the token's hash"
    );
    // The raw token never reaches the database file.
    let mut db = std::fs::read(server.data_dir().join("callrec.db")).unwrap_or_default();
    db.extend(std::fs::read(server.data_dir().join("callrec.db-wal")).unwrap_or_default());
    assert!(
        !db.windows(token.len()).any(|w| w == token.as_bytes()),
        "the bearer token must not be stored in clear"
    );
    assert!(
        !db.windows(ADMIN_PW.len()).any(|w| w == ADMIN_PW.as_bytes()),
        "nor the password"
    );

    let stolen = admin.clone();
    admin.logout().await.expect("logout");
    let err = stolen.me().await.expect_err("a logged-out token must not work");
    assert_eq!(err.status(), Some(401));
    assert_eq!(err.code(), Some(ErrorCode::SessionExpired));
}

const ADMIN_PW: &str = callrec_tests::ADMIN_PASSWORD;

#[tokio::test]
async fn wrong_passwords_are_refused_and_then_slowed_down() {
    let server = TestServer::start().await;
    let mut c = server.client();
    let e = c.login("admin", "wrong").await.expect_err("wrong password");
    assert_eq!((e.status(), e.code()), (Some(401), Some(ErrorCode::BadCredentials)));
    let e = c.login("nobody", "wrong").await.expect_err("unknown user");
    assert_eq!(
        e.code(),
        Some(ErrorCode::BadCredentials),
        "an unknown user looks like a wrong password"
    );
    for _ in 0..4 {
        let _ = c.login("admin", "wrong").await;
    }
    let e = c
        .login("admin", ADMIN_PW)
        .await
        .expect_err("after five failures even the right password waits");
    assert_eq!((e.status(), e.code()), (Some(429), Some(ErrorCode::TooManyAttempts)));
}

#[tokio::test]
async fn sessions_expire() {
    let t0 = Utc::now();
    let server = TestServer::start_with_manual_clock(t0).await;
    let admin = server.admin().await;
    assert!(admin.me().await.is_ok());
    server
        .clock
        .as_ref()
        .expect("manual clock")
        .advance(Duration::hours(13));
    let e = admin
        .me()
        .await
        .expect_err("a 13-hour-old session (TTL 12 h) must be refused");
    assert_eq!(e.code(), Some(ErrorCode::SessionExpired));
}

#[tokio::test]
async fn directory_crud_levels_and_audit() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let cast = directory::build(&admin).await;
    assert_eq!(admin.list_users().await.expect("users").len(), 5, "admin + four users");
    let team = admin.get_team(cast.support).await.expect("team");
    assert_eq!(team.members, vec![cast.alice.id, cast.bob.id]);
    assert_eq!(team.supervisors, vec![cast.sam.id]);

    // Passwords are argon2 hashes.
    let (_, hash) = server
        .state
        .store
        .user_credentials("alice")
        .await
        .expect("store")
        .expect("alice exists");
    assert!(hash.starts_with("$argon2id$"), "argon2id expected, got {hash}");

    // An agent reaches no admin route.
    let alice = server.login("alice", PASSWORD).await;
    for e in [
        alice.list_users().await.map(|_| ()).expect_err("agent lists users"),
        alice.list_rules().await.map(|_| ()).expect_err("agent lists rules"),
        alice
            .audit(None, None)
            .await
            .map(|_| ())
            .expect_err("agent reads the audit log"),
    ] {
        assert_eq!((e.status(), e.code()), (Some(403), Some(ErrorCode::Forbidden)));
    }

    // Duplicate username and extension conflicts.
    let dup = admin
        .create_user(&NewUser {
            username: "alice".into(),
            display_name: String::new(),
            password: PASSWORD.into(),
            level: Level::Agent,
            extensions: vec![],
        })
        .await
        .expect_err("duplicate username");
    assert_eq!((dup.status(), dup.code()), (Some(409), Some(ErrorCode::Conflict)));
    let dup = admin
        .create_user(&NewUser {
            username: "eve".into(),
            display_name: String::new(),
            password: PASSWORD.into(),
            level: Level::Agent,
            extensions: vec!["201".into()],
        })
        .await
        .expect_err("an extension belongs to one user");
    assert_eq!(dup.status(), Some(409));
    let short = admin
        .create_user(&NewUser {
            username: "eve".into(),
            display_name: String::new(),
            password: "short".into(),
            level: Level::Agent,
            extensions: vec![],
        })
        .await
        .expect_err("a short password is refused");
    assert_eq!((short.status(), short.code()), (Some(422), Some(ErrorCode::Invalid)));
    assert_eq!(
        short
            .body()
            .and_then(|b| b.fields.clone())
            .map(|f| f[0].field.clone())
            .as_deref(),
        Some("password")
    );

    // A password reset ends the user's sessions.
    admin
        .update_user(
            cast.alice.id,
            &UserPatch {
                password: Some("another-password".into()),
                ..Default::default()
            },
        )
        .await
        .expect("reset");
    assert_eq!(
        alice.me().await.expect_err("old session").code(),
        Some(ErrorCode::SessionExpired)
    );
    server.login("alice", "another-password").await;

    // Phones: MACs normalised; a wrong shape is a field error.
    let phone = admin
        .create_phone(&PhoneInput {
            mac: "00:04:13:2C:D0:C5".into(),
            user_id: cast.alice.id,
        })
        .await
        .expect("phone");
    assert_eq!(phone.mac, "0004132cd0c5");
    let bad = admin
        .create_phone(&PhoneInput {
            mac: "00:04:13".into(),
            user_id: cast.alice.id,
        })
        .await
        .expect_err("bad mac");
    assert_eq!(bad.status(), Some(422));

    let audit = admin.audit(None, Some(200)).await.expect("audit");
    let actions: Vec<&str> = audit.items.iter().map(|e| e.action.as_str()).collect();
    for want in [
        "login",
        "user_create",
        "team_create",
        "role_create",
        "user_update",
        "phone_create",
    ] {
        assert!(actions.contains(&want), "the audit log has a {want} row: {actions:?}");
    }
    let upd = audit
        .items
        .iter()
        .find(|e| e.action == "user_update")
        .expect("user_update row");
    assert_eq!(upd.actor, "admin");
    assert!(!upd.detail.contains("another-password"), "no secret in the audit log");
}

#[tokio::test]
async fn bad_input_is_a_clear_4xx_and_changes_nothing() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let users_before = admin.list_users().await.expect("users").len();

    let cases: Vec<(Method, &str, Option<&str>, u16, &str)> = vec![
        (Method::POST, "/api/v1/users", Some("{not json"), 400, "malformed_json"),
        (
            Method::POST,
            "/api/v1/users",
            Some(r#"{"username":"x"}"#),
            422,
            "malformed_json",
        ),
        (
            Method::POST,
            "/api/v1/users",
            Some(r#"{"username":"x","password":"12345678","level":"god"}"#),
            422,
            "malformed_json",
        ),
        (Method::GET, "/api/v1/users/..%2F..%2Fetc%2Fpasswd", None, 400, "bad_id"),
        (Method::GET, "/api/v1/recordings/0", None, 400, "bad_id"),
        (Method::GET, "/api/v1/recordings/-1/audio", None, 400, "bad_id"),
        (Method::GET, "/api/v1/calls/abc", None, 400, "bad_id"),
        (Method::GET, "/api/v1/users/999999", None, 404, "not_found"),
        (Method::GET, "/api/v1/calls/424242", None, 404, "not_found"),
        (Method::GET, "/api/v1/journal?limit=100000", None, 400, "bad_query"),
        (Method::GET, "/api/v1/journal?from=yesterday", None, 400, "bad_query"),
        (Method::GET, "/api/v1/journal?cursor=../../x", None, 400, "bad_query"),
        (Method::GET, "/api/v1/audit?limit=0", None, 400, "bad_query"),
        (Method::GET, "/api/v1/audit?cursor=../../x", None, 400, "bad_query"),
        (Method::GET, "/api/v1/me/listens?limit=1001", None, 400, "bad_query"),
        (Method::GET, "/api/v1/me/listens?cursor=-5", None, 400, "bad_query"),
        (Method::GET, "/api/v1/recordings/0/peaks", None, 400, "bad_id"),
        (
            Method::GET,
            "/api/v1/recordings/424242/peaks?buckets=0",
            None,
            404,
            "not_found",
        ),
        (Method::GET, "/api/v1/recordings/abc/comments", None, 400, "bad_id"),
        (
            Method::POST,
            "/api/v1/recordings/424242/comments",
            Some("{not json"),
            400,
            "malformed_json",
        ),
        (
            Method::POST,
            "/api/v1/recordings/424242/comments",
            Some(r#"{"at_ms":0,"text":"x"}"#),
            404,
            "not_found",
        ),
        (Method::PATCH, "/api/v1/comments/x", Some("{}"), 400, "bad_id"),
        (Method::DELETE, "/api/v1/comments/424242", None, 404, "not_found"),
        (
            Method::POST,
            "/api/v1/recordings/1/shares",
            Some("{not json"),
            400,
            "malformed_json",
        ),
        (Method::DELETE, "/api/v1/shares/0", None, 400, "bad_id"),
        (Method::DELETE, "/api/v1/shares/424242", None, 404, "not_found"),
        // Scorecards and reviews (issue #15.4).
        (
            Method::POST,
            "/api/v1/scorecards",
            Some(r#"{"name":"x","criteria":[{"name":"a","kind":"stars","weight":1}]}"#),
            422,
            "malformed_json",
        ),
        (
            Method::POST,
            "/api/v1/scorecards",
            Some(r#"{"name":"x","criteria":[]}"#),
            422,
            "invalid",
        ),
        (Method::GET, "/api/v1/scorecards/0", None, 400, "bad_id"),
        (Method::GET, "/api/v1/scorecards/999999", None, 404, "not_found"),
        (Method::GET, "/api/v1/scorecards?archived=maybe", None, 400, "bad_query"),
        (Method::GET, "/api/v1/reviews/abc", None, 400, "bad_id"),
        (Method::GET, "/api/v1/reviews/999999", None, 404, "not_found"),
        (
            Method::POST,
            "/api/v1/calls/424242/reviews",
            Some(r#"{"scorecard_id":1,"agent_id":2,"answers":[true]}"#),
            404,
            "not_found",
        ),
        (
            Method::GET,
            "/api/v1/agents/1/scores?from=yesterday",
            None,
            400,
            "bad_query",
        ),
        (
            Method::GET,
            "/api/v1/agents/1/scores?scorecard_id=-1",
            None,
            400,
            "bad_query",
        ),
        (Method::GET, "/api/v1/agents/999999/scores", None, 404, "not_found"),
        (Method::GET, "/api/v1/journal?reviewed=maybe", None, 400, "bad_query"),
        (Method::GET, "/api/v1/nope", None, 404, "not_found"),
    ];
    for (method, path, body, status, code) in cases {
        let mut req = admin.raw(method.clone(), path);
        if let Some(b) = body {
            req = req.header("content-type", "application/json").body(b.to_string());
        }
        let res = req.send().await.expect("the server answers");
        assert_eq!(res.status().as_u16(), status, "{method} {path}");
        let body: serde_json::Value = res.json().await.expect("errors are JSON");
        assert_eq!(body["code"], code, "{method} {path}: {body}");
        assert!(
            body["message"].as_str().is_some_and(|m| !m.is_empty()),
            "a message in words"
        );
    }
    // A body over the JSON limit.
    let huge = format!(r#"{{"username":"{}"}}"#, "x".repeat(2 * 1024 * 1024));
    let res = admin
        .raw(Method::POST, "/api/v1/users")
        .header("content-type", "application/json")
        .body(huge)
        .send()
        .await
        .expect("answer");
    assert_eq!(res.status().as_u16(), 413);
    // No token, a forged token.
    let anon = server.client();
    assert_eq!(anon.me().await.expect_err("no token").status(), Some(401));
    let forged = server.client().with_token("forged-token");
    assert_eq!(
        forged.me().await.expect_err("forged token").code(),
        Some(ErrorCode::SessionExpired)
    );
    assert_eq!(
        admin.list_users().await.expect("users").len(),
        users_before,
        "nothing was created"
    );
}

/// Issue #14: on an admin route the caller is checked before the path id, the query or the
/// body is parsed, so a non-admin sending a malformed body gets 403 `forbidden`, never a 400 or
/// 422 that describes the admin API.
#[tokio::test]
async fn a_non_admin_is_refused_before_the_body_of_an_admin_route_is_read() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let cast = directory::build(&admin).await;
    let sam = server.login("sam", PASSWORD).await;
    let carol = server.login("carol", PASSWORD).await;
    let user = format!("/api/v1/users/{}", cast.carol.id);
    let cases: Vec<(Method, &str)> = vec![
        (Method::POST, "/api/v1/users"),
        (Method::PATCH, &user),
        (Method::PATCH, "/api/v1/users/not-an-id"),
        (Method::POST, "/api/v1/teams"),
        (Method::POST, "/api/v1/roles"),
        (Method::POST, "/api/v1/phones"),
        (Method::POST, "/api/v1/rules"),
        (Method::PUT, "/api/v1/rules/1"),
        (Method::PUT, "/api/v1/rules/1/enabled"),
        (Method::POST, "/api/v1/rules/1/move"),
        (Method::PUT, "/api/v1/settings"),
        (Method::POST, "/api/v1/settings/smtp/test"),
        (Method::PUT, "/api/v1/recordings/1/hold"),
        (Method::POST, "/api/v1/scorecards"),
        (Method::PUT, "/api/v1/scorecards/1"),
        (Method::DELETE, "/api/v1/scorecards/not-an-id"),
    ];
    for (who, client) in [("supervisor sam", &sam), ("agent carol", &carol)] {
        for (method, path) in &cases {
            for body in ["{not json", r#"{"unexpected":true}"#] {
                let res = client
                    .raw(method.clone(), path)
                    .header("content-type", "application/json")
                    .body(body)
                    .send()
                    .await
                    .expect("the server answers");
                assert_eq!(res.status().as_u16(), 403, "{who}: {method} {path} {body}");
                let answer: serde_json::Value = res.json().await.expect("errors are JSON");
                assert_eq!(answer["code"], "forbidden", "{who}: {method} {path}: {answer}");
                assert!(
                    answer["message"].as_str().is_some_and(|m| !m.is_empty()),
                    "a message in words: {answer}"
                );
            }
        }
    }
    // The admin still gets the body's own errors.
    let res = admin
        .raw(Method::PUT, "/api/v1/settings")
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .expect("the server answers");
    assert_eq!(res.status().as_u16(), 400, "an admin's malformed body is a 400");
}

/// #14: switching a rule and moving it are one request each, carried out by the store in one
/// statement or transaction, audited, and refused to non-admins.
#[tokio::test]
async fn rules_are_switched_and_moved_by_the_server_in_one_request() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let cast = directory::build(&admin).await;
    let mut ids = Vec::new();
    for name in ["first", "second", "third"] {
        let input = directory::rule(
            name,
            RuleMode::Manual,
            cast.support_role,
            RuleDirection::Both,
            RuleOrigin::Both,
            Dispatch::Store,
        );
        ids.push(directory::add_rule(&admin, input).await.id);
    }
    let before = admin.list_rules().await.expect("rules");
    let order = |rules: &[callrec_types::rules::Rule]| rules.iter().map(|r| r.id).collect::<Vec<_>>();
    let at = |rules: &[callrec_types::rules::Rule], id| order(rules).iter().position(|x| *x == id).expect("listed");

    let moved = admin.move_rule(ids[2], RuleMove::Up).await.expect("moved");
    assert_eq!(
        at(&moved, ids[2]) + 1,
        at(&moved, ids[1]),
        "third is now just above second"
    );
    assert_eq!(moved.len(), before.len(), "no rule lost");
    assert_eq!(
        order(&admin.list_rules().await.expect("rules")),
        order(&moved),
        "saved as answered"
    );

    let off = admin.set_rule_enabled(ids[0], false).await.expect("switched off");
    assert!(!off.enabled);
    assert_eq!(off.description, "first", "the rest of the rule is kept");

    let carol = server.login("carol", PASSWORD).await;
    let refused = carol
        .move_rule(ids[0], RuleMove::Down)
        .await
        .expect_err("an agent moves a rule");
    assert_eq!(refused.code(), Some(ErrorCode::Forbidden), "{refused:?}");
    let missing = admin
        .move_rule(callrec_types::RuleId(9999), RuleMove::Down)
        .await
        .expect_err("unknown rule");
    assert_eq!(missing.code(), Some(ErrorCode::NotFound), "{missing:?}");

    let audit = admin.audit(None, Some(200)).await.expect("audit");
    let actions: Vec<&str> = audit.items.iter().map(|e| e.action.as_str()).collect();
    assert!(actions.contains(&"rule_move"), "moves are audited: {actions:?}");
    assert!(
        audit
            .items
            .iter()
            .any(|e| e.action == "rule_update" && e.target == format!("rule {}", ids[0])),
        "switching is audited"
    );
}
