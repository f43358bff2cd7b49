//! Several nodes when the database goes away under them: connections cut, a real restart, a
//! node whose heartbeat lapsed while it was alive — nothing is lost and the live calls come back.

use super::*;

/// Cuts every connection to the database at `url` but this one, as a PostgreSQL restart does
/// from the nodes' side (the shared test server itself cannot restart under the other tests).
async fn cut_connections(url: &str) -> u64 {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(url).await.expect("the test database");
    let cut: Vec<bool> = sqlx::query_scalar(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE datname = current_database() AND pid <> pg_backend_pid()",
    )
    .fetch_all(&mut conn)
    .await
    .expect("terminate the other connections");
    cut.into_iter().filter(|ok| *ok).count() as u64
}

#[tokio::test]
async fn lost_database_connections_are_ridden_out_and_live_calls_published_again() {
    let url = callrec_testkit::postgres::fresh_database().await;
    ride_out(&url, || async {
        assert!(
            cut_connections(&url).await >= 4,
            "both nodes' pools and listeners were cut"
        );
    })
    .await;
}

#[tokio::test]
async fn a_postgresql_restart_is_ridden_out_and_live_calls_published_again() {
    // A server of this test's own, restarted for real: connections closed, the port refusing
    // new ones for a while, then a new server.
    let pg = std::sync::Arc::new(callrec_testkit::postgres::own());
    let url = pg.fresh_database().await;
    ride_out(&url, || async {
        let pg = pg.clone();
        tokio::task::spawn_blocking(move || pg.restart())
            .await
            .expect("the restart task")
            .expect("PostgreSQL restarts");
    })
    .await;
}

/// Two nodes on the database at `url` with a live call on node B seen on node A; `disrupt`
/// breaks the database under them; then the call is published again and toggled across nodes.
async fn ride_out<F, Fut>(url: &str, disrupt: F)
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let url = url.to_owned();
    let a = node(&url, "node-a").await;
    let b = node(&url, "node-b").await;
    let admin = a.admin().await;
    let cast = directory::build(&admin).await;
    add_rule(
        &admin,
        rule(
            "sales may record",
            RuleMode::Manual,
            cast.sales_role,
            RuleDirection::Both,
            RuleOrigin::Both,
            Dispatch::Store,
        ),
    )
    .await;
    let carol_a = a.login("carol", PASSWORD).await;
    let mut events = carol_a.events().await.expect("carol subscribes on node A");
    let sim = Sim::connect(b.sip, Transport::Udp).await.expect("sim");
    let sip_call = sim
        .call()
        .caller("sip:+4930555@carrier.example")
        .callee("sip:203@pbx.example")
        .invite()
        .await
        .expect("node B answers");
    let id = call_id(&b, sip_call.call_id()).await;
    wait_for(&mut events, id, false, 10).await;
    // Drain what was already on its way (the answer's events), so the next `call` event for
    // the call can only be the re-publication.
    let settle = eventually(10, "node B's call is active on node A", || async {
        let live = carol_a.live_calls().await.ok()?;
        live.into_iter()
            .find(|d| d.call.id == id && d.call.state == CallState::Active)
    })
    .await;
    assert!(settle.can_toggle);
    while tokio::time::timeout(Duration::from_millis(300), events.next())
        .await
        .is_ok()
    {}

    // The journal's reads have connections of their own (one generic plan per statement):
    // found before, by number and unsearched, they must answer at once after the disruption.
    let journal = |q: Option<&str>| {
        let admin = &admin;
        let query = callrec_client::JournalQuery {
            q: q.map(str::to_string),
            ..Default::default()
        };
        async move { admin.journal(&query).await }
    };
    for q in [Some("4930555"), None] {
        let page = journal(q).await.expect("the journal answers");
        assert!(
            page.items.iter().any(|i| i.call.id == id),
            "the call is in the journal ({q:?})"
        );
    }

    disrupt().await;
    for q in [Some("4930555"), None] {
        let page = journal(q)
            .await
            .expect("the journal answers at once after the disruption");
        assert!(
            page.items.iter().any(|i| i.call.id == id),
            "the call is still found ({q:?})"
        );
    }
    // Nothing changed on the call: a `call` event now is node B publishing it again after
    // the nodes listened again.
    let Event::Call(again) = wait_for(&mut events, id, false, 15).await else {
        unreachable!()
    };
    assert_eq!(again.call.id, id, "the live call is published again");
    let started = carol_a
        .set_recording(id, RecordingAction::Start)
        .await
        .expect("the toggle works again across nodes");
    assert!(matches!(started.state, LiveRecording::RecordingManual { .. }));
    carol_a.set_recording(id, RecordingAction::Stop).await.expect("stop");
    let mut admin_events = admin.events().await.expect("admin subscribes");
    sip_call.bye().await.expect("BYE");
    wait_for(&mut admin_events, id, true, 10).await;
    a.stop().await;
    b.stop().await;
}

#[tokio::test]
async fn a_node_taken_for_dead_while_alive_writes_its_call_back_and_it_ends_normally() {
    use sqlx::Connection;
    let url = callrec_testkit::postgres::fresh_database().await;
    let (a_dir, b_dir) = (
        tempfile::tempdir().expect("data dir"),
        tempfile::tempdir().expect("data dir"),
    );
    let a = TestServer::start_with_config(node_config(a_dir.path(), &url, "node-a", 2)).await;
    let b = TestServer::start_with_config(node_config(b_dir.path(), &url, "node-b", 2)).await;
    let admin = a.admin().await;
    let mut events = admin.events().await.expect("admin subscribes on node A");
    let sim = Sim::connect(b.sip, Transport::Udp).await.expect("sim");
    let sip_call = sim.call().mon_mode("force").invite().await.expect("node B answers");
    let id = call_id(&a, sip_call.call_id()).await;
    wait_for(&mut events, id, false, 10).await;

    // What node A sees when node B's heartbeats stall longer than the lease (a database
    // outage on B's side) while B goes on recording: B's heartbeat row ages past the lease.
    // Aged again until A's sweep takes it (B may renew it in between).
    let mut conn = sqlx::PgConnection::connect(&url).await.expect("the test database");
    let mut swept = false;
    for _ in 0..20 {
        sqlx::query("UPDATE nodes SET seen_at = 0 WHERE node_id = 'node-b'")
            .execute(&mut conn)
            .await
            .expect("age node B's heartbeat");
        let ended = tokio::time::timeout(Duration::from_secs(1), async {
            while let Some(Ok(e)) = events.next().await {
                if matches!(e, Event::CallEnded { call_id } if call_id == id) {
                    return;
                }
            }
        })
        .await;
        if ended.is_ok() {
            swept = true;
            break;
        }
    }
    assert!(swept, "node A took node B for dead and ended its call");
    // Node B's next beat finds its row gone: it writes the call back and announces it.
    wait_for(&mut events, id, false, 10).await;
    let detail = admin.get_call(id).await.expect("the call");
    assert_ne!(
        detail.call.state,
        CallState::Ended,
        "the call is live again in the journal"
    );
    assert_eq!(detail.call.ended_at, None, "with no end");
    assert!(
        admin.live_calls().await.expect("live").iter().any(|d| d.call.id == id),
        "and live on node A again"
    );
    sip_call.bye().await.expect("BYE");
    wait_for(&mut events, id, true, 10).await;
    let rec = eventually(10, "the recording is finished", || async {
        let r = admin.get_call(id).await.ok()?.recordings.into_iter().next()?;
        (r.state == RecordingState::Complete).then_some(r)
    })
    .await;
    assert!(rec.bytes > 0, "node B kept recording throughout");
    a.stop().await;
    b.stop().await;
}
