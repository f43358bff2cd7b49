//! Calls: the ingest upload, live calls and the record toggle, the event stream, the journal
//! (list and per-call document) and the record keys of the phones.

use crate::error::ClientError;
use crate::sse::{event_stream, EventStream};
use crate::{check, Client, Result};
use callrec_types::calls::{CallDetail, CallDirection, ConsentState, JournalDocument, JournalPage};
use callrec_types::wire::{
    ConsentRequest, ConsentResponse, IngestCall, IngestResponse, RecordingAction, RecordingActionRequest,
    RecordingActionResponse,
};
use callrec_types::{CallId, UserId};
use chrono::{DateTime, SecondsFormat, Utc};
use reqwest::multipart::{Form, Part};
use reqwest::{header, Method, Url};
use std::path::Path;

/// The filters of `GET /api/v1/journal`; unset fields are left out of the query string.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JournalQuery {
    /// Free text (numbers, names).
    pub q: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub direction: Option<CallDirection>,
    pub has_recordings: Option<bool>,
    pub user_id: Option<UserId>,
    /// Only calls with (`true`) or without (`false`) a review (issue #15.4).
    pub reviewed: Option<bool>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    pub limit: Option<u32>,
}

impl JournalQuery {
    /// The query pairs in a fixed order, times as RFC 3339 (UTC, `Z`).
    pub fn to_pairs(&self) -> Vec<(&'static str, String)> {
        let time = |t: &DateTime<Utc>| t.to_rfc3339_opts(SecondsFormat::AutoSi, true);
        let mut pairs = Vec::new();
        if let Some(q) = &self.q {
            pairs.push(("q", q.clone()));
        }
        if let Some(from) = &self.from {
            pairs.push(("from", time(from)));
        }
        if let Some(to) = &self.to {
            pairs.push(("to", time(to)));
        }
        if let Some(direction) = self.direction {
            pairs.push(("direction", direction.as_str().to_string()));
        }
        if let Some(has) = self.has_recordings {
            pairs.push(("has_recordings", has.to_string()));
        }
        if let Some(user_id) = self.user_id {
            pairs.push(("user_id", user_id.to_string()));
        }
        if let Some(cursor) = &self.cursor {
            pairs.push(("cursor", cursor.clone()));
        }
        if let Some(limit) = self.limit {
            pairs.push(("limit", limit.to_string()));
        }
        if let Some(reviewed) = self.reviewed {
            pairs.push(("reviewed", reviewed.to_string()));
        }
        pairs
    }
}

/// Sets `url`'s query to `pairs`, form-urlencoded; no `?` at all when there are none.
pub(crate) fn set_query(url: &mut Url, pairs: &[(&str, String)]) {
    if pairs.is_empty() {
        url.set_query(None);
    } else {
        url.query_pairs_mut()
            .clear()
            .extend_pairs(pairs.iter().map(|(k, v)| (*k, v.as_str())));
    }
}

impl Client {
    /// `POST /api/v1/ingest` with the audio as any body (streamed with chunked encoding when
    /// its length is unknown). `ingest_token` is the server's ingest token, not a session.
    /// Refusals: `422 not_permitted_by_rules` (with the decision `trace`), `409
    /// recording_denied`.
    pub async fn ingest(
        &self,
        ingest_token: &str,
        call: &IngestCall,
        wav: impl Into<reqwest::Body>,
    ) -> Result<IngestResponse> {
        self.ingest_part(ingest_token, call, Part::stream(wav)).await
    }

    /// [`Client::ingest`] with the WAV in memory.
    pub async fn ingest_bytes(&self, ingest_token: &str, call: &IngestCall, wav: Vec<u8>) -> Result<IngestResponse> {
        self.ingest_part(ingest_token, call, Part::bytes(wav)).await
    }

    /// [`Client::ingest`] with the WAV streamed from a file, never held in memory whole.
    pub async fn ingest_file(&self, ingest_token: &str, call: &IngestCall, wav: &Path) -> Result<IngestResponse> {
        let context = || format!("opening {}", wav.display());
        let file = tokio::fs::File::open(wav)
            .await
            .map_err(|e| ClientError::io(context(), e))?;
        let len = file.metadata().await.map_err(|e| ClientError::io(context(), e))?.len();
        let body = reqwest::Body::wrap_stream(tokio_util::io::ReaderStream::new(file));
        self.ingest_part(ingest_token, call, Part::stream_with_length(body, len))
            .await
    }

    async fn ingest_part(&self, ingest_token: &str, call: &IngestCall, audio: Part) -> Result<IngestResponse> {
        let json = serde_json::to_string(call).map_err(ClientError::Encode)?;
        let form = Form::new()
            .part("call", Part::text(json).mime_str("application/json")?)
            .part("audio", audio.file_name("audio.wav").mime_str("audio/wav")?);
        let builder = self
            .anonymous(Method::POST, self.url("/api/v1/ingest"))
            .bearer_auth(ingest_token)
            .multipart(form);
        self.send_json(builder).await
    }

    /// `GET /api/v1/calls/live`: the live calls this user may see.
    pub async fn live_calls(&self) -> Result<Vec<CallDetail>> {
        self.get_json("/api/v1/calls/live").await
    }

    /// `GET /api/v1/calls/{id}`: the call with participants, recordings and decision trace.
    pub async fn get_call(&self, id: CallId) -> Result<CallDetail> {
        self.get_json(&format!("/api/v1/calls/{id}")).await
    }

    /// `POST /api/v1/calls/{id}/recording`: the red toggle. `403 not_permitted` when this
    /// user may not, `409 recording_denied` when the call's mode forbids it.
    pub async fn set_recording(&self, id: CallId, action: RecordingAction) -> Result<RecordingActionResponse> {
        let request = RecordingActionRequest { action };
        self.send_body(Method::POST, &format!("/api/v1/calls/{id}/recording"), &request)
            .await
    }

    /// `PUT /api/v1/calls/{id}/consent`: records the caller's consent (the agent heard it).
    /// `403 not_permitted` for someone neither taking part nor an admin, `409 call_not_live`
    /// once the call has ended.
    pub async fn set_consent(&self, id: CallId, consent: ConsentState) -> Result<ConsentResponse> {
        let request = ConsentRequest { consent };
        self.send_body(Method::PUT, &format!("/api/v1/calls/{id}/consent"), &request)
            .await
    }

    /// `GET /api/v1/calls/{id}/journal.json`: the per-call journal document.
    pub async fn call_journal_json(&self, id: CallId) -> Result<JournalDocument> {
        self.get_json(&format!("/api/v1/calls/{id}/journal.json")).await
    }

    /// `GET /api/v1/journal`: one page, newest first, only calls this user may see.
    pub async fn journal(&self, query: &JournalQuery) -> Result<JournalPage> {
        let mut url = self.url("/api/v1/journal");
        set_query(&mut url, &query.to_pairs());
        self.send_json(self.limited(self.request(Method::GET, url))).await
    }

    /// `GET /api/v1/events`: opens the server-sent event stream. An HTTP error (401 …) is
    /// returned here; afterwards the stream yields events until the server closes it.
    /// Keep-alive comments and events this client does not know are skipped. A stream
    /// silent for [`crate::sse::MAX_SILENCE`] (no keep-alive either) ends with
    /// [`crate::sse::SseError::Silent`].
    pub async fn events(&self) -> Result<EventStream> {
        let builder = self
            .request(Method::GET, self.url("/api/v1/events"))
            .header(header::ACCEPT, "text/event-stream");
        let response = check(builder.send().await?).await?;
        Ok(event_stream(response, Some(crate::sse::MAX_SILENCE)))
    }

    /// `GET /mobydickcmd/provisioning/snom/snom-record.php?mac=&sipcallid=`: a snom phone's
    /// record key. No auth (the phone has none); returns the status and body as the phone
    /// would see them.
    pub async fn snom_record(&self, mac: &str, sip_call_id: &str) -> Result<(u16, String)> {
        let mut url = self.url("/mobydickcmd/provisioning/snom/snom-record.php");
        set_query(
            &mut url,
            &[("mac", mac.to_string()), ("sipcallid", sip_call_id.to_string())],
        );
        self.phone_request(url).await
    }

    /// `GET /provisioning/{mac}/pui/monitor/record?callid=`: a PUI phone's record key. No
    /// auth; returns the status and body.
    pub async fn pui_record(&self, mac: &str, call_id: &str) -> Result<(u16, String)> {
        let mut url = self.url_segments(&["provisioning", mac, "pui", "monitor", "record"])?;
        set_query(&mut url, &[("callid", call_id.to_string())]);
        self.phone_request(url).await
    }

    /// `GET /mobydickcmd/provisioning/snom/snom-pause.php?mac=&sipcallid=`: a Snom phone's
    /// pause key (PCI, issue #11.1): pauses the call's recording, or resumes it when paused.
    /// No auth; returns the status and body.
    pub async fn snom_pause(&self, mac: &str, sip_call_id: &str) -> Result<(u16, String)> {
        let mut url = self.url("/mobydickcmd/provisioning/snom/snom-pause.php");
        set_query(
            &mut url,
            &[("mac", mac.to_string()), ("sipcallid", sip_call_id.to_string())],
        );
        self.phone_request(url).await
    }

    /// `GET /provisioning/{mac}/pui/monitor/pause?callid=`: a PUI phone's pause key. No
    /// auth; returns the status and body.
    pub async fn pui_pause(&self, mac: &str, call_id: &str) -> Result<(u16, String)> {
        let mut url = self.url_segments(&["provisioning", mac, "pui", "monitor", "pause"])?;
        set_query(&mut url, &[("callid", call_id.to_string())]);
        self.phone_request(url).await
    }

    async fn phone_request(&self, url: Url) -> Result<(u16, String)> {
        let response = self.anonymous(Method::GET, url).send().await?;
        let status = response.status().as_u16();
        Ok((status, response.text().await?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn an_empty_journal_query_has_no_query_string() {
        let c = Client::new("http://h:1").expect("valid");
        let mut url = c.url("/api/v1/journal");
        set_query(&mut url, &JournalQuery::default().to_pairs());
        assert_eq!(url.as_str(), "http://h:1/api/v1/journal");
    }

    #[test]
    fn a_full_journal_query_is_encoded_in_order() {
        let c = Client::new("http://h:1").expect("valid");
        let from = Utc.with_ymd_and_hms(2024, 5, 1, 8, 0, 0).single().expect("valid time");
        let query = JournalQuery {
            q: Some("Anna & +49 30/1".to_string()),
            from: Some(from),
            to: Some(from + chrono::Duration::milliseconds(1500)),
            direction: Some(CallDirection::Incoming),
            has_recordings: Some(true),
            user_id: Some(UserId(7)),
            reviewed: Some(true),
            cursor: Some("abc=/+".to_string()),
            limit: Some(50),
        };
        let mut url = c.url("/api/v1/journal");
        set_query(&mut url, &query.to_pairs());
        assert_eq!(
            url.query(),
            Some(
                "q=Anna+%26+%2B49+30%2F1&from=2024-05-01T08%3A00%3A00Z\
                 &to=2024-05-01T08%3A00%3A01.500Z&direction=incoming&has_recordings=true\
                 &user_id=7&cursor=abc%3D%2F%2B&limit=50&reviewed=true"
            ),
            "every value is form-encoded, times are RFC 3339 in UTC"
        );
        let decoded: Vec<(String, String)> = url.query_pairs().into_owned().collect();
        assert_eq!(decoded[0], ("q".into(), "Anna & +49 30/1".into()), "q round-trips");
        assert_eq!(decoded[6], ("cursor".into(), "abc=/+".into()), "the cursor round-trips");
    }
}

#[cfg(test)]
mod wire_tests {
    use super::*;
    use crate::test_server::{serve, Canned};
    use callrec_types::wire::{Event, IngestParticipant, IngestRole, IngestTrigger};
    use futures::StreamExt;

    fn call() -> IngestCall {
        IngestCall {
            sip_call_id: "abc@pbx".to_string(),
            started_at: DateTime::parse_from_rfc3339("2024-05-01T08:00:00Z")
                .expect("valid time")
                .with_timezone(&Utc),
            answered_at: None,
            ended_at: None,
            participants: vec![IngestParticipant {
                number: "201".to_string(),
                name: "Anna".to_string(),
                role: IngestRole::Caller,
            }],
            mon_mode: None,
            trigger: IngestTrigger::Auto,
            triggered_by: None,
            recording_started_at: None,
            consent: None,
        }
    }

    fn assert_multipart(body: &[u8], wav: &[u8]) {
        let text = String::from_utf8_lossy(body);
        assert!(
            text.contains("name=\"call\"\r\nContent-Type: application/json\r\n\r\n{\"sip_call_id\":\"abc@pbx\""),
            "the call part is JSON: {text}"
        );
        assert!(
            text.contains("name=\"audio\"; filename=\"audio.wav\"\r\nContent-Type: audio/wav\r\n\r\n"),
            "the audio part is a WAV file: {text}"
        );
        assert!(
            body.windows(wav.len()).any(|w| w == wav),
            "the audio bytes are in the body"
        );
    }

    #[tokio::test]
    async fn ingest_sends_both_parts_with_the_ingest_token() {
        let ok = r#"{"call_id":5,"recording_id":6}"#;
        let (client, server) = serve(vec![
            Canned::json(201, ok),
            Canned::json(201, ok),
            Canned::json(
                422,
                r#"{"code":"not_permitted_by_rules","message":"no rule","trace":[]}"#,
            ),
        ])
        .await;
        let client = client.with_token("session");
        let wav = b"RIFF----WAVEfmt the audio".to_vec();
        let response = client
            .ingest_bytes("ingest-secret", &call(), wav.clone())
            .await
            .expect("201 decodes");
        assert_eq!((response.call_id, response.recording_id.0), (CallId(5), 6));

        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("a.wav");
        std::fs::write(&path, &wav).expect("write wav");
        client
            .ingest_file("ingest-secret", &call(), &path)
            .await
            .expect("201 decodes");

        let err = client
            .ingest("ingest-secret", &call(), wav.clone())
            .await
            .expect_err("422 is an error");
        assert_eq!(err.code(), Some(callrec_types::wire::ErrorCode::NotPermittedByRules));
        assert_eq!(
            err.body().and_then(|b| b.trace.as_ref()).map(Vec::len),
            Some(0),
            "the trace survives"
        );

        let requests = server.await.expect("server ran");
        for request in &requests {
            assert_eq!(request.request_line(), "POST /api/v1/ingest HTTP/1.1");
            assert_eq!(
                request.header("authorization"),
                Some("Bearer ingest-secret"),
                "ingest uses the ingest token, not the session"
            );
        }
        assert_multipart(&requests[0].body, &wav);
        assert_multipart(&requests[1].body, &wav);
    }

    #[tokio::test]
    async fn journal_query_goes_on_the_wire_encoded() {
        let (client, server) = serve(vec![Canned::json(200, r#"{"items":[],"next_cursor":"n1"}"#)]).await;
        let page = client
            .journal(&JournalQuery {
                q: Some("a b".to_string()),
                has_recordings: Some(false),
                ..JournalQuery::default()
            })
            .await
            .expect("page decodes");
        assert_eq!(page.next_cursor.as_deref(), Some("n1"));
        let requests = server.await.expect("server ran");
        assert_eq!(
            requests[0].request_line(),
            "GET /api/v1/journal?q=a+b&has_recordings=false HTTP/1.1"
        );
    }

    #[tokio::test]
    async fn events_skip_keep_alives_and_unknown_names() {
        let (client, server) = serve(vec![
            Canned::streamed(
                200,
                "text/event-stream",
                &[
                    b": keep-alive\n\n",
                    b"event: call_ended\ndata: {\"call_",
                    b"id\":4}\n\nevent: shiny_new\ndata: {}\n\n",
                    b"event: journal\nid: 9\ndata: {\"call_id\":4}\n\n",
                ],
            ),
            Canned::json(401, r#"{"code":"unauthorized","message":"log in"}"#),
        ])
        .await;
        let client = client.with_token("t");
        let events: Vec<Event> = client
            .events()
            .await
            .expect("stream opens")
            .map(|e| e.expect("every event decodes"))
            .collect()
            .await;
        assert_eq!(
            events,
            vec![
                Event::CallEnded { call_id: CallId(4) },
                Event::Journal { call_id: CallId(4) }
            ]
        );
        let err = client.events().await.err().expect("401 is returned at open");
        assert_eq!(err.code(), Some(callrec_types::wire::ErrorCode::Unauthorized));
        let requests = server.await.expect("server ran");
        assert_eq!(requests[0].header("accept"), Some("text/event-stream"));
    }

    #[tokio::test]
    async fn phone_record_keys_are_anonymous_and_return_status_and_body() {
        let (client, server) = serve(vec![Canned::text(200, "recording"), Canned::text(404, "unknown phone")]).await;
        let client = client.with_token("never-sent");
        assert_eq!(
            client.snom_record("00:04:13:2c:d0:c5", "a@b").await.expect("reachable"),
            (200, "recording".to_string())
        );
        assert_eq!(
            client.pui_record("0004132cd0c5", "x y").await.expect("reachable"),
            (404, "unknown phone".to_string())
        );
        let requests = server.await.expect("server ran");
        assert_eq!(
            requests[0].request_line(),
            "GET /mobydickcmd/provisioning/snom/snom-record.php?mac=00%3A04%3A13%3A2c%3Ad0%3Ac5&sipcallid=a%40b HTTP/1.1"
        );
        assert_eq!(
            requests[1].request_line(),
            "GET /provisioning/0004132cd0c5/pui/monitor/record?callid=x+y HTTP/1.1"
        );
        assert!(requests.iter().all(|r| r.header("authorization").is_none()));
    }
}
