//! Set-up shared by the real-window tests that start from finished, recorded calls: the admin's
//! automatic "Support, always" rule, and a call of an agent with a customer uploaded through the
//! ingest API.

use crate::desktop::Recorder;
use callrec_client::Client;
use callrec_tests::directory;
use callrec_tests::INGEST_TOKEN;
use callrec_types::rules::{Dispatch, RuleDirection, RuleMode, RuleOrigin};
use callrec_types::wire::IngestResponse;
use chrono::{Duration, Utc};

/// The admin records every call of the support team, automatically, kept in the store.
pub async fn record_support_always(server: &Recorder, admin: &Client) {
    directory::add_rule(
        admin,
        directory::rule(
            "Support, always",
            RuleMode::Automatic,
            server.cast.support_role,
            RuleDirection::Both,
            RuleOrigin::Both,
            Dispatch::Store,
        ),
    )
    .await;
}

/// A finished call of the customer (+4930777000) to an agent, answered 2 s after it started.
pub struct CustomerCall<'a> {
    pub sip_call_id: &'a str,
    /// The agent's extension and the name the PBX gives.
    pub ext: &'a str,
    pub agent_name: &'a str,
    pub minutes_ago: i64,
    /// When the call ended, counted from its start.
    pub ended_after_secs: i64,
    /// The recording's WAV.
    pub audio: Vec<u8>,
}

/// Uploads `call` and returns what the server answered.
pub async fn upload_customer_call(url: &str, call: CustomerCall<'_>) -> IngestResponse {
    let at = Utc::now() - Duration::minutes(call.minutes_ago);
    let ingest = callrec_tests::upload::two_party(
        call.sip_call_id,
        at,
        2,
        call.ended_after_secs,
        ("+4930777000", "Customer"),
        (call.ext, call.agent_name),
    );
    Client::new(url)
        .expect("url")
        .ingest_bytes(INGEST_TOKEN, &ingest, call.audio)
        .await
        .expect("the upload is accepted")
}
