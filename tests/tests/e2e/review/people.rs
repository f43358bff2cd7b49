//! Whom a user sees by name: `GET /api/v1/me/team` (the people in the caller's scope — Team
//! scores' picker and the journal's user filter) follows the teams as an admin changes them.

use super::*;
use callrec_types::directory::TeamInput;

async fn team_names(c: &Client) -> Vec<String> {
    let mut names: Vec<String> = c
        .my_team()
        .await
        .expect("my team")
        .into_iter()
        .map(|p| p.username)
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn my_team_is_the_callers_scope_and_follows_the_teams() {
    let w = world(now_ms(), |_| {}).await;
    let alice = w.srv.login("alice").await;
    let sam = w.srv.login("sam").await;
    assert_eq!(
        team_names(&w.admin).await,
        ["admin", "alice", "bob", "carol", "sam"],
        "an admin: everybody"
    );
    assert_eq!(
        team_names(&sam).await,
        ["alice", "bob", "sam"],
        "a supervisor: the members of the teams he supervises (Support), and himself"
    );
    assert_eq!(team_names(&alice).await, ["alice"], "an agent: herself");
    let who = sam.my_team().await.expect("my team");
    let a = who.iter().find(|p| p.username == "alice").expect("alice");
    assert_eq!((a.id, a.display_name.as_str()), (w.cast.alice.id, "Alice"));

    // Carol joins Support: sam's next answer has her, without signing in again.
    w.admin
        .update_team(
            w.cast.support,
            &TeamInput {
                name: "Support".into(),
                members: vec![w.cast.alice.id, w.cast.bob.id, w.cast.carol.id],
                supervisors: vec![w.cast.sam.id],
            },
        )
        .await
        .expect("carol joins Support");
    assert_eq!(team_names(&sam).await, ["alice", "bob", "carol", "sam"]);

    let anonymous = Client::new(&w.srv.url)
        .expect("a valid URL")
        .raw(reqwest::Method::GET, "/api/v1/me/team")
        .send()
        .await
        .expect("an answer");
    assert_eq!(anonymous.status().as_u16(), 401, "signed in only");
}
