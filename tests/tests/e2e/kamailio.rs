//! End-to-end, issue #10 point 4: a real Kamailio, started from the repository's
//! `deploy/kamailio/kamailio.cfg` (`callrec_testkit::kamailio`), in front of two callrec nodes
//! that share one real PostgreSQL database, each with its own data directory, SIP port and
//! RTP port range. `callrec-sim` places SIPREC calls at Kamailio only.
//!
//! Which node took a call is told two ways that must agree: each node's own
//! `callrec_sip_sessions_total` counter (in-process, not shared through the database), and the
//! RTP port of the SDP answer, which lies in the answering node's range — the answer carries
//! the node's own address, so RTP goes straight to the node (Kamailio relays no media; the
//! node's RTP counter proves the audio arrived). In-dialog requests (ACK, re-INVITE, BYE) go
//! to Kamailio too and must reach the node holding the dialog: a wrong node answers 481 and
//! the simulator fails. The simulator sends them to the node's Contact without a Route; a raw
//! SIP client covers the other two ways: following Kamailio's Record-Route (what an SBC does),
//! and ignoring it entirely (only the Call-ID hash finds the node). A node's own BYE (it ends
//! a silent call) goes through Kamailio to the client. A stopped node is taken out by
//! Kamailio's OPTIONS probes (read through `kamcmd`) and new calls go to the other.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use callrec_server::config::{Config, DatabaseUrl};
use callrec_server::state::AppState;
use callrec_server::Server;
use callrec_sim::{Sim, SimCall, Transport};
use callrec_testkit::kamailio::{self, Kamailio};
use callrec_tests::test_config;
use callrec_types::calls::CallState;

/// One callrec node in this process: its own data dir, SIP port and RTP range; the shared
/// PostgreSQL database.
struct Node {
    name: &'static str,
    sip: SocketAddr,
    rtp: (u16, u16),
    state: AppState,
    _dir: tempfile::TempDir,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

impl Node {
    async fn start(name: &'static str, database: &str, rtp: (u16, u16), tweak: &impl Fn(&mut Config)) -> Node {
        let dir = tempfile::tempdir().expect("a temp dir for the node's data");
        let mut cfg = test_config(dir.path());
        cfg.database_url = Some(DatabaseUrl::new(database));
        cfg.rtp_ports = rtp;
        tweak(&mut cfg);
        let server = Server::bind(cfg)
            .await
            .expect("the node binds and opens the shared database");
        let (sip, state) = (server.sip_addr, server.state().clone());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(server.run(async move {
            let _ = rx.await;
        }));
        Node {
            name,
            sip,
            rtp,
            state,
            _dir: dir,
            shutdown: Some(tx),
            task: Some(task),
        }
    }

    /// Stops the node: its SIP socket closes, so Kamailio's probes go unanswered.
    async fn kill(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.task.take() {
            let _ = tokio::time::timeout(Duration::from_secs(10), t).await;
        }
    }

    fn metric(&self, name: &str) -> u64 {
        callrec_tests::metric(&self.state.metrics.render(), name) as u64
    }

    /// SIPREC sessions this node accepted.
    fn sessions(&self) -> u64 {
        self.metric("callrec_sip_sessions_total")
    }

    fn owns_port(&self, port: u16) -> bool {
        (self.rtp.0..=self.rtp.1).contains(&port)
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.task.take() {
            t.abort();
        }
    }
}

/// Two nodes on one fresh PostgreSQL database and Kamailio in front of them, both nodes
/// reported active by Kamailio.
async fn cluster() -> (Node, Node, Arc<Kamailio>) {
    cluster_with(|_| {}).await
}

/// [`cluster`] with both nodes' config changed by `tweak`.
async fn cluster_with(tweak: impl Fn(&mut Config)) -> (Node, Node, Arc<Kamailio>) {
    let database = callrec_testkit::postgres::fresh_database().await;
    // Started one after the other: the first applies the migrations.
    let a = Node::start("a", &database, (41000, 41499), &tweak).await;
    let b = Node::start("b", &database, (41500, 41999), &tweak).await;
    let nodes = vec![a.sip, b.sip];
    let kam = tokio::task::spawn_blocking(move || kamailio::start(&kamailio::Options::quick(nodes)))
        .await
        .expect("the Kamailio starter ran")
        .unwrap_or_else(|e| panic!("Kamailio starts: {e}"));
    let kam = Arc::new(kam);
    for node in [&a, &b] {
        wait_node(&kam, node.sip, true).await;
    }
    (a, b, kam)
}

/// Waits (at most 20 s) until Kamailio reports `node` active (`true`) or inactive.
async fn wait_node(kam: &Arc<Kamailio>, node: SocketAddr, active: bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let k = kam.clone();
        let state = tokio::task::spawn_blocking(move || k.node(node))
            .await
            .expect("kamcmd ran")
            .unwrap_or_else(|e| panic!("Kamailio reports its nodes: {e}"));
        if state.is_active() == active {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "Kamailio marks {node} {} within 20 s (flags {})",
            if active { "active" } else { "inactive" },
            state.flags
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The RTP port of the first stream of the call's SDP answer.
fn answered_port(call: &SimCall) -> u16 {
    let answer = call.answer().expect("the INVITE was answered with SDP");
    answer.media.first().expect("an m= line in the answer").port
}

/// Waits (at most 10 s) until `node` has received RTP.
async fn wait_rtp(node: &Node) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while node.metric("callrec_rtp_packets_total") == 0 {
        assert!(
            Instant::now() < deadline,
            "node {} receives RTP directly from the client within 10 s",
            node.name
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The call's state in the shared database.
async fn call_state(node: &Node, sip_call_id: &str) -> CallState {
    let id = node
        .state
        .store
        .call_by_sip_id(sip_call_id)
        .await
        .expect("the store answers")
        .unwrap_or_else(|| panic!("a call for SIP Call-ID {sip_call_id} in the shared database"));
    node.state.store.get_call(id).await.expect("the call exists").0.state
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_through_kamailio_spread_over_both_nodes_and_their_in_dialog_requests_reach_the_same_node() {
    let (a, b, kam) = cluster().await;
    let sim = Sim::connect(kam.sip_addr(), Transport::Udp)
        .await
        .expect("the simulator reaches Kamailio");
    // 16 calls: with a Call-ID hash over two nodes, all on one node has odds of 2 in 65,536.
    const CALLS: usize = 16;
    let mut on_a = 0u64;
    let mut ended = Vec::new();
    for i in 0..CALLS {
        let mut call = sim
            .call()
            .mon_mode("force")
            .invite()
            .await
            .unwrap_or_else(|e| panic!("call {i} is answered through Kamailio: {e}"));
        let port = answered_port(&call);
        let node = match (a.owns_port(port), b.owns_port(port)) {
            (true, false) => &a,
            (false, true) => &b,
            _ => panic!("call {i}: answer port {port} belongs to node a or b"),
        };
        on_a += u64::from(node.name == "a");
        if i < 2 || node.metric("callrec_rtp_packets_total") == 0 {
            wait_rtp(node).await;
        }
        // In-dialog: a re-INVITE each way and the BYE, all sent to Kamailio.
        call.hold()
            .await
            .unwrap_or_else(|e| panic!("call {i}: the hold re-INVITE reaches node {}: {e}", node.name));
        call.resume()
            .await
            .unwrap_or_else(|e| panic!("call {i}: the resume re-INVITE reaches node {}: {e}", node.name));
        let sip_call_id = call.call_id().to_string();
        call.bye()
            .await
            .unwrap_or_else(|e| panic!("call {i}: the BYE reaches node {}: {e}", node.name));
        ended.push(sip_call_id);
    }
    let (sa, sb) = (a.sessions(), b.sessions());
    assert_eq!(sa + sb, CALLS as u64, "every call was accepted by exactly one node");
    assert_eq!(sa, on_a, "node a accepted the calls whose answers carry its RTP ports");
    assert!(sa > 0 && sb > 0, "calls spread over both nodes (a: {sa}, b: {sb})");
    for node in [&a, &b] {
        assert!(
            node.metric("callrec_rtp_packets_total") > 0,
            "node {} received RTP straight from the client",
            node.name
        );
    }
    // The BYE ended each call on the node that held it: both nodes see it in the database.
    let deadline = Instant::now() + Duration::from_secs(15);
    for sip_call_id in &ended {
        while call_state(&b, sip_call_id).await != CallState::Ended {
            assert!(Instant::now() < deadline, "call {sip_call_id} ends after its BYE");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_that_stops_answering_options_is_taken_out_and_new_calls_go_to_the_other() {
    let (a, b, kam) = cluster().await;
    let (a_sip, b_sip) = (a.sip, b.sip);
    a.kill().await;
    wait_node(&kam, a_sip, false).await;
    wait_node(&kam, b_sip, true).await;
    let sim = Sim::connect(kam.sip_addr(), Transport::Udp)
        .await
        .expect("the simulator reaches Kamailio");
    const CALLS: u64 = 8;
    for i in 0..CALLS {
        let call = sim
            .call()
            .mon_mode("force")
            .invite()
            .await
            .unwrap_or_else(|e| panic!("call {i} is answered with node a down: {e}"));
        let port = answered_port(&call);
        assert!(b.owns_port(port), "call {i}: answered by node b (RTP port {port})");
        call.bye()
            .await
            .unwrap_or_else(|e| panic!("call {i}: the BYE reaches node b: {e}"));
    }
    assert_eq!(
        b.sessions(),
        CALLS,
        "node b accepted every call placed after node a stopped"
    );
}

/// The value of the first header `name` of a SIP message (case-insensitive name).
fn header<'m>(message: &'m str, name: &str) -> Option<&'m str> {
    message.split("\r\n").find_map(|l| {
        let (n, v) = l.split_once(':')?;
        n.trim().eq_ignore_ascii_case(name).then_some(v.trim())
    })
}

/// The URI inside `<…>` of a name-addr.
fn addr_uri(value: &str) -> &str {
    value
        .split_once('<')
        .and_then(|(_, rest)| rest.split_once('>'))
        .map_or(value, |(uri, _)| uri)
}

/// Reads from `sock` until a final response with `CSeq: … method`; its text.
fn final_response(sock: &std::net::UdpSocket, method: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut buf = [0u8; 16384];
    loop {
        let left = deadline
            .checked_duration_since(Instant::now())
            .unwrap_or_else(|| panic!("a final response to the {method} within 10 s"));
        sock.set_read_timeout(Some(left.max(Duration::from_millis(1))))
            .expect("a read timeout");
        let Ok(n) = sock.recv(&mut buf) else { continue };
        let text = String::from_utf8_lossy(&buf[..n]).into_owned();
        let is_final = text.starts_with("SIP/2.0 ") && !text.starts_with("SIP/2.0 1");
        if is_final && header(&text, "CSeq").is_some_and(|c| c.ends_with(method)) {
            return text;
        }
    }
}

/// An in-dialog request of the raw call `call_id`: to `r_uri`, with `route` when given.
fn in_dialog(
    method: &str,
    seq: u32,
    r_uri: &str,
    route: Option<&str>,
    me: SocketAddr,
    call_id: &str,
    to: &str,
) -> Vec<u8> {
    let route = route.map(|r| format!("Route: {r}\r\n")).unwrap_or_default();
    format!(
        "{method} {r_uri} SIP/2.0\r\nVia: SIP/2.0/UDP {me};branch=z9hG4bK{call_id}{method}{seq}\r\n\
         {route}From: <sip:src@{me}>;tag=src1\r\nTo: {to}\r\nCall-ID: {call_id}\r\n\
         CSeq: {seq} {method}\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
    )
    .into_bytes()
}

/// A recording client that speaks raw SIP: one call whose ACK and BYE either follow the
/// Record-Route Kamailio put in the 200 OK (`route` true: Route header, R-URI the node's
/// Contact) or ignore it (R-URI Kamailio's own, no Route: only the Call-ID hash can find the
/// node). Returns the final response to the BYE.
fn raw_call(kam: SocketAddr, call_id: &str, route: bool) -> String {
    let sock = std::net::UdpSocket::bind("127.0.0.1:0").expect("a client socket");
    let me = sock.local_addr().expect("its address");
    let invite = callrec_sim::offer::raw_invite(kam, me, call_id, "UDP", "force");
    sock.send_to(&invite, kam).expect("the INVITE is sent");
    let ok = final_response(&sock, "INVITE");
    assert!(
        ok.starts_with("SIP/2.0 200"),
        "{call_id}: the INVITE is answered 200: {ok}"
    );
    let to = header(&ok, "To").expect("a To in the 200 OK").to_string();
    let (r_uri, route_header) = if route {
        let rr =
            header(&ok, "Record-Route").unwrap_or_else(|| panic!("{call_id}: Kamailio Record-Routes the INVITE: {ok}"));
        let contact = header(&ok, "Contact").expect("a Contact in the 200 OK");
        (addr_uri(contact).to_string(), Some(rr.to_string()))
    } else {
        (format!("sip:srs@{kam}"), None)
    };
    let ack = in_dialog("ACK", 1, &r_uri, route_header.as_deref(), me, call_id, &to);
    sock.send_to(&ack, kam).expect("the ACK is sent");
    let bye = in_dialog("BYE", 2, &r_uri, route_header.as_deref(), me, call_id, &to);
    sock.send_to(&bye, kam).expect("the BYE is sent");
    final_response(&sock, "BYE")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_dialog_requests_follow_record_route_or_the_call_id_hash_to_the_node_holding_the_dialog() {
    let (a, b, kam) = cluster().await;
    let sip = kam.sip_addr();
    let ids: Vec<(String, bool)> = (0..6)
        .map(|i| (format!("raw-{}-{i}@kamailio-test", std::process::id()), i % 2 == 0))
        .collect();
    let calls = ids.clone();
    let byes = tokio::task::spawn_blocking(move || {
        calls
            .iter()
            .map(|(id, route)| raw_call(sip, id, *route))
            .collect::<Vec<_>>()
    })
    .await
    .expect("the raw client ran");
    for ((id, route), bye) in ids.iter().zip(&byes) {
        let how = if *route { "by its Route" } else { "by the Call-ID hash" };
        assert!(
            bye.starts_with("SIP/2.0 200"),
            "{id}: the BYE reaches the node holding the dialog {how} (a wrong node answers 481): {bye}"
        );
    }
    assert_eq!(a.sessions() + b.sessions(), 6, "each call accepted by one node");
    let deadline = Instant::now() + Duration::from_secs(15);
    for (id, _) in &ids {
        while call_state(&a, id).await != CallState::Ended {
            assert!(Instant::now() < deadline, "call {id} ends after its BYE");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_ending_a_silent_call_sends_its_bye_through_kamailio_to_the_client() {
    let (a, b, kam) = cluster_with(|c| c.sip_session_timeout_secs = 1).await;
    let sim = Sim::connect(kam.sip_addr(), Transport::Udp)
        .await
        .expect("the simulator reaches Kamailio");
    let mut call = sim
        .call()
        .mon_mode("force")
        .invite()
        .await
        .expect("the call is answered through Kamailio");
    let sip_call_id = call.call_id().to_string();
    // No RTP and no SIP: the node holding the call ends it with a BYE, sent to Kamailio.
    call.set_sending(false);
    let report = call
        .wait_for_bye(Duration::from_secs(20))
        .await
        .expect("the node's BYE reaches the client through Kamailio");
    assert!(
        report.ended_by_server,
        "the call was ended by the node, not by the client"
    );
    let deadline = Instant::now() + Duration::from_secs(15);
    while call_state(&a, &sip_call_id).await != CallState::Ended {
        assert!(Instant::now() < deadline, "the call ends after the node's BYE");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(a.sessions() + b.sessions(), 1, "one node held the call");
}
