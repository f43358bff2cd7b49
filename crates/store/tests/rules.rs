//! Recording rules in every store backend (SQLite in a temporary directory, a real
//! PostgreSQL server: `backend`): switching a rule on
//! and off changes nothing else, and moving rules is one transaction — many admins moving
//! rules at once leave every rule with its own position, none lost.

use callrec_store::{Store, StoreError};
use callrec_types::directory::RoleInput;
use callrec_types::rules::{Dispatch, Rule, RuleDirection, RuleInput, RuleMode, RuleMove, RuleOrigin};
use callrec_types::{RoleId, RuleId};
use std::sync::Arc;

#[macro_use]
mod backend;
use backend::{Kind, TestStore};

async fn open(kind: Kind) -> (Arc<dyn Store>, TestStore) {
    let store = backend::open(kind).await;
    (Arc::clone(&store.store), store)
}

async fn rules(store: &Arc<dyn Store>, n: usize) -> Vec<Rule> {
    let role = store
        .create_role(&RoleInput {
            name: "everyone".into(),
            users: vec![],
            teams: vec![],
        })
        .await
        .expect("role");
    let mut made = Vec::new();
    for i in 0..n {
        made.push(
            store
                .create_rule(&input(role.id, &format!("rule {i}")))
                .await
                .expect("rule"),
        );
    }
    made
}

fn input(role_id: RoleId, description: &str) -> RuleInput {
    RuleInput {
        description: description.into(),
        enabled: true,
        mode: RuleMode::Automatic,
        role_id,
        direction: RuleDirection::Both,
        origin: RuleOrigin::Both,
        dispatch: Dispatch::Email {
            recipients: vec!["qa@example.com".into()],
        },
        position: None,
        require_consent: false,
        transcribe: false,
    }
}

fn order(rules: &[Rule]) -> Vec<RuleId> {
    rules.iter().map(|r| r.id).collect()
}

async fn switching_a_rule_off_changes_nothing_else_of_it(kind: Kind) {
    let (store, _dir) = open(kind).await;
    let made = rules(&store, 2).await;
    let off = store.set_rule_enabled(made[1].id, false).await.expect("switched off");
    assert!(!off.enabled);
    assert_eq!(
        Rule {
            enabled: true,
            ..off.clone()
        },
        made[1],
        "only `enabled` changed"
    );
    assert!(
        store.get_rule(made[0].id).await.expect("other").enabled,
        "the other rule is untouched"
    );
    let on = store.set_rule_enabled(made[1].id, true).await.expect("switched on");
    assert_eq!(on, made[1]);
    assert!(matches!(
        store.set_rule_enabled(RuleId(999), false).await,
        Err(StoreError::NotFound)
    ));
}

async fn moving_a_rule_swaps_it_with_its_neighbour(kind: Kind) {
    let (store, _dir) = open(kind).await;
    let made = rules(&store, 3).await;
    let ids = order(&made);
    let moved = store.move_rule(ids[2], RuleMove::Up).await.expect("moved");
    assert_eq!(order(&moved), vec![ids[0], ids[2], ids[1]]);
    assert_eq!(moved.iter().map(|r| r.position).collect::<Vec<_>>(), vec![1, 2, 3]);
    assert_eq!(
        order(&store.list_rules().await.expect("list")),
        order(&moved),
        "what it returned is stored"
    );
    // The first rule does not move up: nothing changes.
    let same = store.move_rule(ids[0], RuleMove::Up).await.expect("no-op");
    assert_eq!(order(&same), order(&moved));
    assert!(matches!(
        store.move_rule(RuleId(999), RuleMove::Down).await,
        Err(StoreError::NotFound)
    ));
}

async fn concurrent_moves_never_leave_two_rules_at_one_position(kind: Kind) {
    let (store, _dir) = open(kind).await;
    let made = rules(&store, 6).await;
    let ids = order(&made);
    let mut tasks = Vec::new();
    for round in 0..40usize {
        let store = Arc::clone(&store);
        let id = ids[round % ids.len()];
        let to = if round % 3 == 0 { RuleMove::Down } else { RuleMove::Up };
        tasks.push(tokio::spawn(async move { store.move_rule(id, to).await }));
    }
    for t in tasks {
        t.await.expect("task").expect("every move succeeds");
    }
    let after = store.list_rules().await.expect("list");
    let mut positions: Vec<i64> = after.iter().map(|r| r.position).collect();
    positions.sort_unstable();
    assert_eq!(positions, vec![1, 2, 3, 4, 5, 6], "positions stay 1..=6, each once");
    let mut seen = order(&after);
    seen.sort();
    let mut all = ids.clone();
    all.sort();
    assert_eq!(seen, all, "no rule lost");
}

on_every_backend!(
    switching_a_rule_off_changes_nothing_else_of_it,
    moving_a_rule_swaps_it_with_its_neighbour,
    concurrent_moves_never_leave_two_rules_at_one_position,
);
