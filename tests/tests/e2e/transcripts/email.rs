//! The e-mail dispatch waits for the transcript, and no longer than `transcription_wait_secs`.

use super::*;

/// A server with an SMTP sink and a rule that transcribes and mails Alice's incoming calls.
async fn mailing_server(
    mail: &Path,
    tweak: impl FnOnce(&mut callrec_server::config::Config),
) -> (TestServer, Client, Sink) {
    let sink = Sink::start(mail, 0).await;
    let server = TestServer::start_with(tweak).await;
    let admin = server.admin().await;
    use_smtp(&admin, sink.port).await;
    let cast = directory::build(&admin).await;
    transcribing_rule(
        &admin,
        &cast,
        "Support incoming, transcribed and mailed",
        Dispatch::Email {
            recipients: vec!["qa@example.com".into()],
        },
    )
    .await;
    (server, admin, sink)
}

/// The recording's dispatch target once its attempt is recorded (the sink has the message
/// before the server records the attempt), at most 10 s.
async fn sent_target(admin: &Client, rec: RecordingId) -> callrec_types::calls::DispatchTarget {
    let start = Instant::now();
    loop {
        let t = target(admin, rec).await;
        if t.status != DispatchStatus::Pending || start.elapsed().as_secs() >= 10 {
            return t;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_16_the_email_waits_for_the_transcript_and_carries_the_dialogue() {
    let tmp = tempfile::tempdir().expect("a temp dir");
    let speech = speech_call(tmp.path(), "mail", CALLER_SAYS, AGENT_SAYS, 6.0, 1);
    let worker = worker_command();
    let mail = tempfile::tempdir().expect("mail dir");
    let (server, admin, sink) = mailing_server(mail.path(), move |c| {
        c.transcription = true;
        c.transcription_command = worker;
    })
    .await;
    let up = server
        .client()
        .ingest_bytes(INGEST_TOKEN, &ingest_call("stt-mail-1", 12), speech)
        .await
        .expect("the upload is stored");

    // "Run now" while the transcript is being made: the e-mail waits, it is not an attempt.
    let before = admin.get_transcript(up.recording_id).await.expect("the status");
    assert!(
        matches!(before.status, TranscriptStatus::Queued | TranscriptStatus::Running),
        "the run comes before the transcript: {:?}",
        before.status
    );
    let report = run_now(&admin).await;
    assert_eq!((report.attempted, report.sent), (0, 0), "the e-mail waits: {report:?}");
    let waiting = target(&admin, up.recording_id).await;
    assert_eq!((waiting.status, waiting.attempts), (DispatchStatus::Pending, 0));
    assert!(
        sink.messages().is_empty(),
        "nothing is sent before the transcript is done"
    );

    let t = wait_for(&admin, up.recording_id, 300, "the transcript", |t| {
        matches!(t.status, TranscriptStatus::Done | TranscriptStatus::Failed)
    })
    .await;
    assert_eq!(t.status, TranscriptStatus::Done, "{:?}", t.error);
    let mails = sink.wait_for(1).await;
    let m = &mails[0];
    let key = admin.get_call(up.call_id).await.expect("the call").call.call_key;
    assert_eq!(m.attachments.len(), 3, "the WAV, the journal and the transcript: {m:?}");
    let part = m
        .attachments
        .iter()
        .find(|a| a.filename.as_deref() == Some(format!("{key}.txt").as_str()))
        .unwrap_or_else(|| panic!("{key}.txt is attached: {m:?}"));
    assert!(part.content_type.starts_with("text/plain"), "{}", part.content_type);
    let text = String::from_utf8(sink.attachment(part)).expect("UTF-8 text");
    println!("the e-mail's {key}.txt:\n{text}");
    assert_eq!(text, t.dialogue(), "the attachment is the transcript's dialogue");
    assert!(
        text.starts_with("[00:00] Caller: ") && text.contains("] Agent (Alice): "),
        "{text}"
    );
    assert!(m.text.contains(&format!("{key}.txt (the transcript)")), "{}", m.text);
    let sent = sent_target(&admin, up.recording_id).await;
    assert_eq!((sent.status, sent.attempts), (DispatchStatus::Sent, 1));
    assert!(
        sent.detail.as_deref().unwrap_or("").contains("and the transcript"),
        "{:?}",
        sent.detail
    );
    let again = run_now(&admin).await;
    assert_eq!(again.attempted, 0, "a sent e-mail is not sent again");
    assert_eq!(sink.messages().len(), 1, "exactly one message");
    sink.stop().await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_16_an_email_waits_no_longer_than_transcription_wait_secs_and_says_the_transcript_was_not_ready() {
    // No worker: the transcript stays queued.
    let mail = tempfile::tempdir().expect("mail dir");
    let (server, admin, sink) = mailing_server(mail.path(), |c| c.transcription_wait_secs = 3).await;
    let up = server
        .client()
        .ingest_bytes(
            INGEST_TOKEN,
            &ingest_call("stt-mail-2", 3),
            callrec_tests::wav::stereo_ulaw(3.0),
        )
        .await
        .expect("the upload is stored");
    let start = Instant::now();
    let report = run_now(&admin).await;
    assert_eq!(report.attempted, 0, "the e-mail waits: {report:?}");
    assert!(sink.messages().is_empty());
    let mails = sink.wait_for(1).await;
    let waited = start.elapsed().as_secs_f64();
    assert!(
        waited < 15.0,
        "sent when the wait ended (3 s after the recording's end), not later: {waited:.1} s"
    );
    let m = &mails[0];
    assert_eq!(m.attachments.len(), 2, "the WAV and the journal, no transcript: {m:?}");
    assert!(
        m.text
            .contains("The transcript was not ready when this was sent (queued)"),
        "the body says so: {}",
        m.text
    );
    let sent = sent_target(&admin, up.recording_id).await;
    assert_eq!((sent.status, sent.attempts), (DispatchStatus::Sent, 1));
    let t = admin.get_transcript(up.recording_id).await.expect("the status");
    assert_eq!(
        t.status,
        TranscriptStatus::Queued,
        "still queued: the e-mail did not wait for it"
    );
    sink.stop().await;
    server.stop().await;
}
