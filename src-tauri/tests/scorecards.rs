//! The scorecard commands through Tauri's mock runtime against a real server: an admin defines
//! a scorecard (refused fields come back at their names) and edits it into a new version; the
//! review form's live score is the domain's; sam (supervisor) scores alice's call, a second
//! review of the same is refused, he edits his; the journal's reviewed filter and score find
//! the call; alice reads her review with its names but may not write one; bob (another agent)
//! never sees it; sam reads alice's averages over a range; the used scorecard is archived on
//! delete.

use crate::admin::{field_names, Admin};
use crate::support::{self, TestServer};
use serde_json::json;

#[test]
fn an_admin_defines_a_scorecard_a_supervisor_scores_a_call_and_the_agent_reads_it() {
    let server = TestServer::start();
    let admin = Admin::sign_in(&server, "admin", support::ADMIN_PASSWORD);

    let bad = admin.err(
        "create_scorecard",
        json!({"scorecard": {"name": " ", "criteria": [{"name": "greeting", "kind": "yes_no", "weight": 0}]}}),
    );
    assert_eq!(bad["code"], "invalid");
    assert_eq!(field_names(&bad), ["name", "criteria[0].weight"], "{bad}");
    let card = admin.ok(
        "create_scorecard",
        json!({"scorecard": {"name": "Support call", "criteria": [
            {"name": "greeting", "kind": "yes_no", "weight": 1},
            {"name": "empathy", "kind": "scale_1_5", "weight": 2},
            {"name": "solved", "kind": "yes_no", "weight": 3}]}}),
    );
    assert_eq!(card["version"], 1);
    let listed = admin.ok("list_scorecards", json!({"archived": false}));
    assert_eq!(listed.as_array().map(Vec::len), Some(1), "{listed}");

    // The live score: the domain's rule, computed without the server.
    let live = admin.ok(
        "score_answers",
        json!({"criteria": card["criteria"], "answers": [true, 4, false]}),
    );
    assert_eq!(live, json!(41.67));
    let short = admin.err(
        "score_answers",
        json!({"criteria": card["criteria"], "answers": [true]}),
    );
    assert_eq!(field_names(&short), ["answers"], "{short}");

    let (call_id, _) = server.ingest(support::ulaw_wav(1));
    let alice_id = server.cast.alice.id.0;
    let sam = Admin::sign_in(&server, "sam", support::PASSWORD);
    let review = sam.ok(
        "create_review",
        json!({"callId": call_id.0, "review": {"scorecard_id": card["id"], "agent_id": alice_id,
               "answers": [true, 4, false], "comment": "Warm greeting; offer the callback next time."}}),
    );
    assert_eq!(
        review["score"],
        json!(41.67),
        "the saved score is the server's: {review}"
    );
    assert_eq!(review["agent_name"], "Alice");
    assert_eq!(review["reviewer_name"], "Sam");
    let again = sam.err(
        "create_review",
        json!({"callId": call_id.0, "review": {"scorecard_id": card["id"], "agent_id": alice_id,
               "answers": [true, 5, true]}}),
    );
    assert!(
        again["message"].as_str().is_some_and(|m| m.contains("already")),
        "one review per call, agent and scorecard: {again}"
    );
    let wrong = sam.err(
        "update_review",
        json!({"reviewId": review["id"], "review": {"answers": [true, 9, true]}}),
    );
    assert_eq!(field_names(&wrong), ["answers[1]"], "{wrong}");
    let edited = sam.ok(
        "update_review",
        json!({"reviewId": review["id"], "review": {"answers": [true, 5, false], "comment": "Better."}}),
    );
    assert_eq!(edited["score"], json!(50.0), "(1 + 2) / 6");

    // The journal: the score column and the reviewed filter.
    let reviewed = sam.ok("journal", json!({"filter": {"reviewed": true}}));
    let items = reviewed["items"].as_array().expect("items");
    assert_eq!(items.len(), 1, "{reviewed}");
    assert_eq!(items[0]["id"], json!(call_id.0));
    assert_eq!(items[0]["score"], json!(50.0));
    let not = sam.ok("journal", json!({"filter": {"reviewed": false}}));
    assert!(
        not["items"]
            .as_array()
            .is_some_and(|i| i.iter().all(|c| c["id"] != json!(call_id.0))),
        "{not}"
    );

    // A scorecard edit is a new version; the review keeps its criteria.
    let v2 = admin.ok(
        "update_scorecard",
        json!({"scorecardId": card["id"], "scorecard": {"name": "Support call", "criteria": [
            {"name": "greeting", "kind": "yes_no", "weight": 1}]}}),
    );
    assert_eq!(v2["version"], 2);

    // alice reads her review; she may not write one; bob sees nothing of it.
    let alice = Admin::sign_in(&server, "alice", support::PASSWORD);
    let mine = alice.ok("list_my_reviews", json!({}));
    let mine = mine.as_array().expect("a list");
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0]["comment"], "Better.");
    assert_eq!(mine[0]["reviewer_name"], "Sam");
    assert_eq!(
        mine[0]["criteria"].as_array().map(Vec::len),
        Some(3),
        "version 1's criteria"
    );
    assert_eq!(
        alice.err(
            "create_review",
            json!({"callId": call_id.0, "review": {"scorecard_id": card["id"], "agent_id": alice_id, "answers": [true]}}),
        )["code"],
        "not_permitted"
    );
    assert_eq!(
        alice.err("list_scorecards", json!({"archived": false}))["code"],
        "not_permitted"
    );
    let bob = Admin::sign_in(&server, "bob", support::PASSWORD);
    assert_eq!(bob.ok("list_my_reviews", json!({})), json!([]));

    // sam's summary of alice over a range that holds the call, and one that does not.
    let now = chrono::Utc::now();
    let summary = sam.ok(
        "agent_scores",
        json!({"agentId": alice_id, "from": (now - chrono::Duration::days(30)).to_rfc3339(), "to": (now + chrono::Duration::days(1)).to_rfc3339(), "scorecardId": null}),
    );
    assert_eq!(summary["reviews"], 1, "{summary}");
    assert_eq!(summary["average_score"], json!(50.0));
    let lines: Vec<(String, f64)> = summary["criteria"]
        .as_array()
        .expect("criteria")
        .iter()
        .map(|c| {
            (
                c["criterion"].as_str().unwrap_or("").to_string(),
                c["average"].as_f64().unwrap_or(-1.0),
            )
        })
        .collect();
    assert_eq!(
        lines,
        [
            ("greeting".to_string(), 1.0),
            ("empathy".to_string(), 5.0),
            ("solved".to_string(), 0.0)
        ]
    );
    let before = sam.ok(
        "agent_scores",
        json!({"agentId": alice_id, "from": null, "to": (now - chrono::Duration::days(30)).to_rfc3339()}),
    );
    assert_eq!(before["reviews"], 0, "{before}");

    // Deleting a used scorecard archives it; the author deletes the review.
    admin.ok("delete_scorecard", json!({"scorecardId": card["id"]}));
    assert_eq!(admin.ok("list_scorecards", json!({"archived": false})), json!([]));
    let all = admin.ok("list_scorecards", json!({"archived": true}));
    assert_eq!(all[0]["archived"], true, "{all}");
    sam.ok("delete_review", json!({"reviewId": review["id"]}));
    assert_eq!(alice.ok("list_my_reviews", json!({})), json!([]));
}
