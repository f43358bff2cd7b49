//! The standard cast of the end-to-end tests: team "Support" (agents alice 201 and bob 202,
//! supervised by sam 300) and team "Sales" (agent carol 203), a role per team, plus helpers to
//! create rules.

use callrec_client::Client;
use callrec_types::directory::{Level, NewUser, RoleInput, TeamInput, User};
use callrec_types::rules::{Dispatch, Rule, RuleDirection, RuleInput, RuleMode, RuleOrigin};
use callrec_types::*;

pub const PASSWORD: &str = "secret-password-1";

pub struct Cast {
    pub alice: User,
    pub bob: User,
    pub carol: User,
    pub sam: User,
    pub support: TeamId,
    pub sales: TeamId,
    pub support_role: RoleId,
    pub sales_role: RoleId,
}

async fn user(admin: &Client, name: &str, level: Level, ext: &[&str]) -> User {
    admin
        .create_user(&NewUser {
            username: name.into(),
            display_name: format!("{}{}", name[..1].to_uppercase(), &name[1..]),
            password: PASSWORD.into(),
            level,
            extensions: ext.iter().map(|s| s.to_string()).collect(),
        })
        .await
        .unwrap_or_else(|e| panic!("creating {name} must work: {e}"))
}

pub async fn build(admin: &Client) -> Cast {
    let alice = user(admin, "alice", Level::Agent, &["201", "sip:201@pbx.example"]).await;
    let bob = user(admin, "bob", Level::Agent, &["202"]).await;
    let carol = user(admin, "carol", Level::Agent, &["203"]).await;
    let sam = user(admin, "sam", Level::Supervisor, &["300"]).await;
    let support = admin
        .create_team(&TeamInput {
            name: "Support".into(),
            members: vec![alice.id, bob.id],
            supervisors: vec![sam.id],
        })
        .await
        .expect("team Support")
        .id;
    let sales = admin
        .create_team(&TeamInput {
            name: "Sales".into(),
            members: vec![carol.id],
            supervisors: vec![],
        })
        .await
        .expect("team Sales")
        .id;
    let support_role = admin
        .create_role(&RoleInput {
            name: "Support staff".into(),
            users: vec![],
            teams: vec![support],
        })
        .await
        .expect("role")
        .id;
    let sales_role = admin
        .create_role(&RoleInput {
            name: "Sales staff".into(),
            users: vec![carol.id],
            teams: vec![],
        })
        .await
        .expect("role")
        .id;
    Cast {
        alice,
        bob,
        carol,
        sam,
        support,
        sales,
        support_role,
        sales_role,
    }
}

pub fn rule(
    description: &str,
    mode: RuleMode,
    role: RoleId,
    direction: RuleDirection,
    origin: RuleOrigin,
    dispatch: Dispatch,
) -> RuleInput {
    RuleInput {
        description: description.into(),
        enabled: true,
        mode,
        role_id: role,
        direction,
        origin,
        dispatch,
        position: None,
        require_consent: false,
        transcribe: false,
    }
}

pub async fn add_rule(admin: &Client, r: RuleInput) -> Rule {
    admin.create_rule(&r).await.expect("creating a rule must work")
}
