//! Issue #15 through the commands (mock runtime, real server): the supervisor reads a
//! recording's peaks, comments on it (a position past its end comes back as a field error),
//! shares it with bob; bob finds it under "Shared with me", opens the call and its peaks, and
//! after the revocation no longer.

use crate::admin::{field_names, Admin};
use crate::support::{self, TestServer, PASSWORD};
use chrono::{Duration, Utc};
use serde_json::{json, Value};

fn ids(list: &Value) -> Vec<i64> {
    list.as_array()
        .expect("a list")
        .iter()
        .filter_map(|v| v["id"].as_i64().or_else(|| v["share"]["id"].as_i64()))
        .collect()
}

#[test]
fn a_supervisor_comments_and_shares_a_recording_and_the_trainee_sees_it_until_revoked() {
    let server = TestServer::start();
    let (call_id, rec) = server.ingest(support::ulaw_wav(10));
    let sam = Admin::sign_in(&server, "sam", PASSWORD);

    // Peaks sized by the window's width; an impossible width is kept within the server's range.
    let peaks = sam.ok("recording_peaks", json!({"recordingId": rec, "buckets": 300}));
    assert_eq!(peaks["buckets"], 300);
    let channels = peaks["channels"].as_array().expect("channels");
    assert_eq!(channels.len(), 2, "caller and agent");
    let loudest = channels[0]["max"]
        .as_array()
        .expect("max")
        .iter()
        .filter_map(Value::as_i64)
        .max();
    assert!(loudest.is_some_and(|m| m > 5000), "the 440 Hz tone: {loudest:?}");
    let one = sam.ok("recording_peaks", json!({"recordingId": rec, "buckets": 0}));
    assert_eq!(one["buckets"], 1, "0 is asked as 1, not refused");

    // Comments: one at 0:05, one past the end refused at its field.
    let added = sam.ok(
        "create_comment",
        json!({"recordingId": rec, "comment": {"at_ms": 5000, "text": "Greeting is too short"}}),
    );
    assert_eq!(added["author_name"], "Sam");
    let late = sam.err(
        "create_comment",
        json!({"recordingId": rec, "comment": {"at_ms": 60_000, "text": "after the end"}}),
    );
    assert_eq!(late["code"], "invalid");
    assert_eq!(field_names(&late), ["at_ms"], "{late}");
    let edited = sam.ok(
        "update_comment",
        json!({"commentId": added["id"], "comment": {"at_ms": 5000, "to_ms": 7000, "text": "Greeting is too short here"}}),
    );
    assert_eq!(edited["to_ms"], 7000);
    assert!(edited["edited_at"].is_string(), "{edited}");
    let listed = sam.ok("list_comments", json!({"recordingId": rec}));
    assert_eq!(ids(&listed), [added["id"].as_i64().expect("id")]);

    // Share with bob for a day; bob is offered by name although sam may not list the directory.
    let people = sam.ok("share_recipients", json!({}));
    let bob_id = people
        .as_array()
        .expect("people")
        .iter()
        .find(|p| p["username"] == "bob")
        .map(|p| p["id"].clone())
        .expect("bob is offered");
    let too_far = sam.err(
        "create_share",
        json!({"recordingId": rec, "share": {"user_id": bob_id, "expires_at": Utc::now() + Duration::days(91)}}),
    );
    assert_eq!(field_names(&too_far), ["expires_at"], "{too_far}");
    let share = sam.ok(
        "create_share",
        json!({"recordingId": rec, "share": {"user_id": bob_id, "expires_at": Utc::now() + Duration::days(1)}}),
    );
    let shares = sam.ok("list_shares", json!({"recordingId": rec}));
    assert_eq!(ids(&shares), [share["id"].as_i64().expect("id")]);

    // bob, another agent: not his call, but shared with him.
    let bob = Admin::sign_in(&server, "bob", PASSWORD);
    assert_eq!(
        bob.err("share_recipients", json!({}))["code"],
        "not_permitted",
        "an agent shares nothing"
    );
    let shared = bob.ok("list_shared", json!({}));
    assert_eq!(ids(&shared), [share["id"].as_i64().expect("id")]);
    assert_eq!(shared[0]["share"]["granted_by_name"], "Sam");
    assert_eq!(shared[0]["call"]["id"], call_id.0);
    let detail = bob.ok("get_call", json!({"callId": call_id.0}));
    assert_eq!(detail["recordings"][0]["id"], rec.0);
    bob.ok("recording_peaks", json!({"recordingId": rec, "buckets": 100}));
    let comments = bob.ok("list_comments", json!({"recordingId": rec}));
    assert_eq!(comments[0]["text"], "Greeting is too short here");
    let refused = bob.err("delete_comment", json!({"commentId": added["id"]}));
    assert_eq!(refused["code"], "not_permitted", "not his comment: {refused}");

    // Revoked: gone from "Shared with me", and the call is as any call he may not see.
    let revoked = sam.ok("revoke_share", json!({"shareId": share["id"]}));
    assert!(revoked["revoked_at"].is_string(), "{revoked}");
    assert_eq!(bob.ok("list_shared", json!({})), json!([]));
    let gone = bob.err("get_call", json!({"callId": call_id.0}));
    assert_eq!(gone["code"], "failed");
    assert!(
        gone["message"]
            .as_str()
            .unwrap_or_default()
            .contains("no longer exists"),
        "{gone}"
    );
    sam.ok("delete_comment", json!({"commentId": added["id"]}));
    assert_eq!(sam.ok("list_comments", json!({"recordingId": rec})), json!([]));
}
