//! E-mail dispatch over SMTP (lettre, rustls): one message per recording to all of the rule's
//! recipients, with the WAV and the call's journal JSON attached (base64, so they arrive
//! byte for byte). A recording over [`MAX_ATTACHMENT_BYTES`] goes without its audio: the
//! message carries the facts and a note, and the target's detail says so.
//!
//! Each message carries the target's idempotency key as its `Message-ID` and as
//! `X-Callrec-Dispatch-Key`, so a copy sent twice (a crash between the SMTP server's "250" and
//! our bookkeeping) can be recognised and dropped. The SMTP password never leaves
//! [`SmtpSettings`]; errors carry the server's reply, not our credentials.

use super::attempt::{Attempt, MailTranscript, Material};
use crate::calls::label;
use callrec_types::calls::{ParticipantRole, Trigger};
use callrec_types::wire::{SmtpSecurity, SmtpSettings};
use lettre::message::header::{ContentTransferEncoding, ContentType, HeaderName, HeaderValue};
use lettre::message::{Attachment, Body, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::time::Duration;

/// Above this many bytes of audio the WAV is left out of the message.
pub const MAX_ATTACHMENT_BYTES: u64 = 20 * 1024 * 1024;
/// Each SMTP command's timeout.
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);
/// The whole attempt's timeout (connect, TLS, login, upload).
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(600);
/// The header that carries the idempotency key.
pub const KEY_HEADER: &str = "X-Callrec-Dispatch-Key";

#[derive(Debug, thiserror::Error)]
pub enum EmailError {
    #[error("no SMTP server is configured (settings: smtp.host and smtp.from)")]
    NotConfigured,
    #[error("not an e-mail address: {0:?}")]
    BadAddress(String),
    #[error("cannot build the message: {0}")]
    Build(String),
    #[error("cannot read {0}")]
    Read(String),
    /// The server refused for good (5xx).
    #[error("the SMTP server refused: {0}")]
    Refused(String),
    #[error("SMTP failed: {0}")]
    Smtp(String),
    #[error("SMTP timed out after {0} s")]
    Timeout(u64),
}

impl EmailError {
    /// Retrying will not help.
    pub fn is_permanent(&self) -> bool {
        matches!(self, EmailError::BadAddress(_) | EmailError::Refused(_))
    }
}

fn mailbox(s: &str) -> Result<Mailbox, EmailError> {
    s.trim()
        .parse::<Mailbox>()
        .map_err(|_| EmailError::BadAddress(s.to_string()))
}

fn transport(smtp: &SmtpSettings) -> Result<AsyncSmtpTransport<Tokio1Executor>, EmailError> {
    if smtp.host.is_empty() || smtp.from.is_empty() {
        return Err(EmailError::NotConfigured);
    }
    let host = smtp.host.trim_start_matches('[').trim_end_matches(']').to_string();
    let tls = || TlsParameters::new(host.clone()).map_err(|e| EmailError::Smtp(format!("TLS setup: {e}")));
    let mut b = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host.clone())
        .port(smtp.port)
        .timeout(Some(COMMAND_TIMEOUT));
    b = match smtp.security {
        SmtpSecurity::None => b.tls(Tls::None),
        SmtpSecurity::Starttls => b.tls(Tls::Required(tls()?)),
        SmtpSecurity::Tls => b.tls(Tls::Wrapper(tls()?)),
    };
    if !smtp.username.is_empty() {
        b = b.credentials(Credentials::new(smtp.username.clone(), smtp.password.clone()));
    }
    Ok(b.build())
}

async fn send(smtp: &SmtpSettings, message: Message) -> Result<(), EmailError> {
    let t = transport(smtp)?;
    match tokio::time::timeout(ATTEMPT_TIMEOUT, t.send(message)).await {
        Err(_) => Err(EmailError::Timeout(ATTEMPT_TIMEOUT.as_secs())),
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) if e.is_permanent() => Err(EmailError::Refused(e.to_string())),
        Ok(Err(e)) => Err(EmailError::Smtp(e.to_string())),
    }
}

/// The domain of the sender, for `Message-ID`s.
fn id_domain(from: &str) -> String {
    from.rsplit_once('@')
        .map(|(_, d)| d.trim_end_matches('>').to_string())
        .filter(|d| !d.is_empty())
        .unwrap_or_else(|| "callrec.invalid".to_string())
}

fn attachment(name: &str, bytes: Vec<u8>, content_type: &str) -> Result<SinglePart, EmailError> {
    let ct = ContentType::parse(content_type).map_err(|e| EmailError::Build(e.to_string()))?;
    let body = Body::new_with_encoding(bytes, ContentTransferEncoding::Base64)
        .map_err(|_| EmailError::Build("cannot encode the attachment".into()))?;
    Ok(Attachment::new(name.to_string()).body(body, ct))
}

/// The facts of the recording in plain words, the body of the message.
fn facts(m: &Material, audio_note: Option<&str>) -> String {
    let r = &m.recording.recording;
    let who = |role: ParticipantRole| {
        m.call
            .participants
            .iter()
            .filter(|p| p.role == role)
            .map(label)
            .collect::<Vec<_>>()
            .join(", ")
    };
    let trigger = match &r.trigger {
        Trigger::Auto {
            rule_name: Some(name), ..
        } => format!("automatic (rule “{name}”)"),
        Trigger::Auto { rule_id: Some(id), .. } => format!("automatic (rule {id})"),
        Trigger::Auto { rule_id: None, .. } => "automatic".to_string(),
        Trigger::Force => "forced by the PBX (MDC_MON_MODE=force)".to_string(),
        Trigger::Manual { user_id, via } => {
            let by = user_id
                .and_then(|u| m.call.participants.iter().find(|p| p.user_id == Some(u)))
                .map(label)
                .unwrap_or_else(|| "the PBX".to_string());
            format!("manual, by {by} via {via:?}").to_lowercase()
        }
    };
    let journal_name = m
        .journal
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut text = format!(
        "A call recording from callrec.\n\n\
         Caller:       {caller}\n\
         Callee:       {callee}\n\
         Direction:    {direction}\n\
         Call started: {started}\n\
         Recording:    {file} (number {seq} of the call)\n\
         Started:      {rec_started}\n\
         Duration:     {secs:.1} s\n\
         Size:         {bytes} bytes ({codec}, {rate} Hz, {ch} channels)\n\
         SHA-256:      {sha}\n\
         Trigger:      {trigger}\n\
         Ids:          recording {rid}, call {cid}\n\n",
        caller = who(ParticipantRole::Caller),
        callee = who(ParticipantRole::Callee),
        direction = m.call.direction.as_str(),
        started = m.call.started_at.format("%Y-%m-%d %H:%M:%S UTC"),
        file = r.file_name,
        seq = r.seq,
        rec_started = r.started_at.format("%Y-%m-%d %H:%M:%S UTC"),
        secs = r.duration_ms as f64 / 1000.0,
        bytes = r.bytes,
        codec = r.codec.as_str(),
        rate = r.sample_rate,
        ch = r.channels,
        sha = r.sha256,
        rid = r.id,
        cid = m.call.id,
    );
    let mut attached = Vec::new();
    match audio_note {
        None => attached.push(format!("{} (the audio)", r.file_name)),
        Some(note) => {
            text.push_str(note);
            text.push('\n');
        }
    }
    attached.push(format!("{journal_name} (the call's journal)"));
    match &m.transcript {
        MailTranscript::NotAsked => {}
        MailTranscript::Done(_) => attached.push(format!("{} (the transcript)", transcript_name(m))),
        MailTranscript::NotReady(status) => text.push_str(&format!(
            "The transcript was not ready when this was sent ({}); read it in callrec (recording {}).\n",
            status.as_str(),
            r.id
        )),
        MailTranscript::Failed(error) => text.push_str(&format!("The transcript could not be made: {error}\n")),
    }
    let last = attached.pop().unwrap_or_default();
    if attached.is_empty() {
        text.push_str(&format!("Attached: {last}.\n"));
    } else {
        text.push_str(&format!("Attached: {} and {last}.\n", attached.join(", ")));
    }
    text
}

/// The transcript's attachment: `<callkey>.txt`.
fn transcript_name(m: &Material) -> String {
    format!("{}.txt", m.call.call_key)
}

/// Builds the message of one recording for `recipients`; returns it with the note for the
/// target's detail when the audio was left out.
pub async fn recording_message(
    from: &str,
    recipients: &[String],
    m: &Material,
) -> Result<(Message, Option<String>), EmailError> {
    let r = &m.recording.recording;
    let mut builder = Message::builder()
        .from(mailbox(from)?)
        .subject(format!(
            "Call recording {} ({})",
            r.file_name,
            m.call.started_at.format("%Y-%m-%d %H:%M UTC")
        ))
        .message_id(Some(format!("<{}@{}>", m.key, id_domain(from))))
        .raw_header(HeaderValue::new(
            HeaderName::new_from_ascii_str(KEY_HEADER),
            m.key.clone(),
        ))
        .date_now();
    if recipients.is_empty() {
        return Err(EmailError::BadAddress(String::new()));
    }
    for to in recipients {
        builder = builder.to(mailbox(to)?);
    }
    let wav_len = tokio::fs::metadata(&m.wav)
        .await
        .map_err(|e| EmailError::Read(format!("{}: {e}", m.wav.display())))?
        .len();
    let note = (wav_len > MAX_ATTACHMENT_BYTES).then(|| {
        format!(
            "The audio is not attached: it is {wav_len} bytes, over the {MAX_ATTACHMENT_BYTES}-byte attachment \
             limit. Download it from callrec (recording {}).",
            r.id
        )
    });
    let journal = tokio::fs::read(&m.journal)
        .await
        .map_err(|e| EmailError::Read(format!("{}: {e}", m.journal.display())))?;
    let journal_name = m
        .journal
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "journal.json".to_string());
    let mut parts = MultiPart::mixed().singlepart(SinglePart::plain(facts(m, note.as_deref())));
    if note.is_none() {
        let wav = tokio::fs::read(&m.wav)
            .await
            .map_err(|e| EmailError::Read(format!("{}: {e}", m.wav.display())))?;
        parts = parts.singlepart(attachment(&r.file_name, wav, "audio/wav")?);
    }
    parts = parts.singlepart(attachment(&journal_name, journal, "application/json")?);
    if let MailTranscript::Done(dialogue) = &m.transcript {
        parts = parts.singlepart(attachment(
            &transcript_name(m),
            dialogue.clone().into_bytes(),
            "text/plain; charset=utf-8",
        )?);
    }
    let message = builder.multipart(parts).map_err(|e| EmailError::Build(e.to_string()))?;
    Ok((message, note))
}

/// Sends one recording to `recipients`.
pub async fn send_recording(smtp: &SmtpSettings, recipients: &[String], m: &Material) -> Attempt {
    let result = async {
        transport(smtp)?; // refuse early when SMTP is not configured
        let (message, note) = recording_message(&smtp.from, recipients, m).await?;
        send(smtp, message).await?;
        Ok::<_, EmailError>(note)
    }
    .await;
    let transcript = match &m.transcript {
        MailTranscript::NotAsked => "",
        MailTranscript::Done(_) => ", and the transcript",
        MailTranscript::NotReady(_) => " (the transcript was not ready)",
        MailTranscript::Failed(_) => " (the transcript failed)",
    };
    match result {
        Ok(None) => Attempt::sent(Some(format!(
            "sent to {} with the WAV and the journal attached{transcript}",
            recipients.join(", ")
        ))),
        Ok(Some(note)) => Attempt::sent(Some(format!(
            "sent to {} without the WAV: {note}",
            recipients.join(", ")
        ))),
        Err(e) if e.is_permanent() => Attempt::refused(e.to_string()),
        Err(e) => Attempt::failed(e.to_string(), None),
    }
}

/// Sends a plain-text message to every address of `to` (a missing-recording alarm).
pub async fn send_text(smtp: &SmtpSettings, to: &[String], subject: &str, text: String) -> Result<(), EmailError> {
    transport(smtp)?;
    let mut builder = Message::builder().from(mailbox(&smtp.from)?);
    for r in to {
        builder = builder.to(mailbox(r)?);
    }
    let message = builder
        .subject(subject)
        .date_now()
        .body(text)
        .map_err(|e| EmailError::Build(e.to_string()))?;
    send(smtp, message).await
}

/// Sends a short test message to `to` with `smtp` (the settings page's "send test").
pub async fn send_test(smtp: &SmtpSettings, to: &str) -> Result<(), EmailError> {
    transport(smtp)?;
    let message = Message::builder()
        .from(mailbox(&smtp.from)?)
        .to(mailbox(to)?)
        .subject("callrec: SMTP test")
        .date_now()
        .body(String::from(
            "This is a test message from callrec. If you can read it, recordings can be sent by e-mail.\n",
        ))
        .map_err(|e| EmailError::Build(e.to_string()))?;
    send(smtp, message).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_ids_use_the_senders_domain() {
        assert_eq!(id_domain("callrec@example.com"), "example.com");
        assert_eq!(id_domain("nobody"), "callrec.invalid");
    }

    #[test]
    fn an_unconfigured_server_is_a_clear_transient_error() {
        let e = transport(&SmtpSettings::default()).expect_err("no host");
        assert!(matches!(e, EmailError::NotConfigured));
        assert!(!e.is_permanent(), "configuring SMTP later must let the target go out");
    }
}
