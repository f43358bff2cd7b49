//! The webhook dispatch (issue #11.4): a signed JSON POST naming a finished recording, sent as
//! soon as the recording is finished rather than on the schedule.
//!
//! The body is a [`WebhookPayload`]; `X-Callrec-Signature: sha256=<hex>` is the HMAC-SHA256 of
//! the exact body bytes with the rule's secret, and `X-Callrec-Dispatch-Key` the target's
//! idempotency key (also in the body), the same key on every attempt. Any 2xx is success;
//! anything else (another status, a refused connection, the [`TIMEOUT`]) is retried from the
//! same persistent queue with the queue's backoff. Redirects are not followed: a 3xx is a
//! failure, so a POST never turns into a GET somewhere else.
//!
//! [`super::run_webhooks`] is the sender: it sends the due webhook targets, then sleeps on the clock until the
//! next one comes due (a retry's backoff, the end of a lease a crash left) or until a recording
//! is finished with a webhook to send ([`crate::state::App::webhooks`]). Each target is claimed
//! in the store before it is sent (see [`super`]), so several nodes — each running a sender —
//! and the scheduled job never send one success twice.

use super::Attempt;
use crate::state::AppState;
use callrec_types::calls::{DispatchTarget, WebhookPayload};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::time::Duration;

/// The whole attempt (connect, send, answer) is abandoned after this long.
pub const TIMEOUT: Duration = Duration::from_secs(30);
/// Connecting alone is abandoned after this long.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// The signature header.
pub const SIGNATURE_HEADER: &str = "X-Callrec-Signature";
/// The idempotency key header (as on the e-mail).
pub const KEY_HEADER: &str = "X-Callrec-Dispatch-Key";
/// How much of a receiver's answer is kept in the target's detail.
const MAX_ANSWER: usize = 1024;

/// `sha256=<hex HMAC-SHA256 of body with secret>`.
pub fn signature(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes a key of any length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Loads what the payload names and POSTs it once.
pub async fn attempt(state: &AppState, target: &DispatchTarget, url: &str) -> Attempt {
    let secret = match state.store.dispatch_secret(target.id).await {
        Ok(Some(s)) => s,
        // Never guess a secret: without one the receiver could not trust the request.
        Ok(None) => return Attempt::refused("the webhook has no secret (its rule was changed or deleted)"),
        Err(e) => return Attempt::failed(format!("cannot load the webhook's secret: {e}"), None),
    };
    let body = match payload(state, target).await {
        Ok(p) => p,
        Err(e) => return Attempt::failed(e, None),
    };
    post(url, &secret, &body.0, &body.1).await
}

/// The payload's bytes and the idempotency key.
async fn payload(state: &AppState, target: &DispatchTarget) -> Result<(Vec<u8>, String), String> {
    let recording = state
        .store
        .get_recording(target.recording_id)
        .await
        .map_err(|e| format!("cannot load recording {}: {e}", target.recording_id))?;
    let (mut call, _) = state
        .store
        .get_call(recording.recording.call_id)
        .await
        .map_err(|e| format!("cannot load call {}: {e}", recording.recording.call_id))?;
    let key = state
        .store
        .dispatch_key(target.id)
        .await
        .map_err(|e| format!("cannot load the idempotency key: {e}"))?;
    let mut rec = recording.recording;
    crate::names::fill_or_log(state, &mut rec).await;
    crate::names::fill_or_log(state, &mut call).await;
    let payload = WebhookPayload::new(call, &rec, key.clone(), target.attempts + 1);
    let body = serde_json::to_vec(&payload).map_err(|e| e.to_string())?;
    Ok((body, key))
}

/// One POST: a 2xx is sent, anything else a failure to retry.
pub async fn post(url: &str, secret: &str, body: &[u8], key: &str) -> Attempt {
    let client = match reqwest::Client::builder()
        .timeout(TIMEOUT)
        .connect_timeout(CONNECT_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("callrec/", env!("CARGO_PKG_VERSION")))
        .build()
    {
        Ok(c) => c,
        Err(e) => return Attempt::failed(format!("cannot make an HTTP client: {e}"), None),
    };
    let sent = client
        .post(url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header(SIGNATURE_HEADER, signature(secret, body))
        .header(KEY_HEADER, key)
        .body(body.to_vec())
        .send()
        .await;
    let res = match sent {
        Ok(r) => r,
        // reqwest's errors name the URL, never a header: the secret cannot leak into the log.
        Err(e) => return Attempt::failed(format!("the webhook could not be reached: {}", describe(&e)), None),
    };
    let status = res.status();
    let answer = res.text().await.unwrap_or_default();
    let answer = if answer.len() > MAX_ANSWER {
        let cut = (0..=MAX_ANSWER)
            .rev()
            .find(|&i| answer.is_char_boundary(i))
            .unwrap_or(0);
        format!("{}…", &answer[..cut])
    } else {
        answer
    };
    let detail = Some(if answer.trim().is_empty() {
        format!("HTTP {}", status.as_u16())
    } else {
        format!("HTTP {}: {}", status.as_u16(), answer.trim())
    });
    if status.is_success() {
        Attempt::sent(detail)
    } else {
        Attempt::failed(format!("the webhook answered HTTP {}", status.as_u16()), detail)
    }
}

fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        format!("no answer within {} s", TIMEOUT.as_secs())
    } else if e.is_connect() {
        "connection refused or unreachable".to_string()
    } else {
        e.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_the_hmac_sha256_of_the_body_in_hex() {
        // RFC 4231 test case 2.
        assert_eq!(
            signature("Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
