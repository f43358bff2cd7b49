//! A real recording of known speech: speakers, words, search, a killed worker (module doc of `transcripts`).

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_16_speech_is_transcribed_per_speaker_searchable_and_survives_a_killed_worker() {
    let tmp = tempfile::tempdir().expect("a temp dir");
    let first = speech_call(tmp.path(), "first", CALLER_SAYS, AGENT_SAYS, 6.0, 1);
    let second = speech_call(tmp.path(), "second", CALLER_SAYS, AGENT_SAYS, 6.0, 3);

    let worker = worker_command();
    let server = TestServer::start_with(move |c| {
        c.transcription = true;
        c.transcription_command = worker;
        c.transcription_lease_secs = 20;
    })
    .await;
    let admin = server.admin().await;
    let cast = directory::build(&admin).await;
    let made = transcribing_rule(&admin, &cast, "Support incoming, transcribed", Dispatch::Store).await;
    assert!(made.transcribe, "the rule keeps its transcribe option");

    let up = server
        .client()
        .ingest_bytes(INGEST_TOKEN, &ingest_call("stt-1", 12), first)
        .await
        .expect("the upload is stored");
    let alice = server.login("alice", PASSWORD).await;
    let start = Instant::now();
    let t = wait_for(&alice, up.recording_id, 300, "the first transcript", |t| {
        matches!(t.status, TranscriptStatus::Done | TranscriptStatus::Failed)
    })
    .await;
    println!(
        "transcript of a {} s call ready {:.1} s after the upload",
        12,
        start.elapsed().as_secs_f64()
    );
    assert_eq!(
        t.status,
        TranscriptStatus::Done,
        "transcribed, not failed: {:?}",
        t.error
    );
    println!("{}", t.dialogue());
    for l in &t.lines {
        let want = if l.channel == 0 { "Caller" } else { "Agent (Alice)" };
        assert_eq!(l.speaker, want, "line {:?} is its channel's speaker", l.text);
    }
    let agent_start = t
        .lines
        .iter()
        .filter(|l| l.channel == 1)
        .map(|l| l.start_ms)
        .min()
        .expect("the agent's channel has lines");
    assert!(
        agent_start >= 5_000,
        "the agent's line starts where it is spoken (~6 s), not at {agent_start} ms"
    );
    let (w0, w1) = (
        wer(CALLER_SAYS, &channel_text(&t, 0)),
        wer(AGENT_SAYS, &channel_text(&t, 1)),
    );
    println!("word error rate: caller {w0:.2}, agent {w1:.2} (bound {MAX_WER})");
    assert!(
        w0 <= MAX_WER,
        "caller's channel WER {w0:.2} > {MAX_WER}: {:?}",
        channel_text(&t, 0)
    );
    assert!(
        w1 <= MAX_WER,
        "agent's channel WER {w1:.2} > {MAX_WER}: {:?}",
        channel_text(&t, 1)
    );
    assert!(
        t.lines.iter().any(|l| !l.words.is_empty()),
        "the engine's word timestamps are kept"
    );

    // The journal's text search finds a spoken word, for the agent who took the call only.
    let spoken = words(&channel_text(&t, 0))
        .into_iter()
        .find(|w| w.len() >= 6)
        .expect("a long word was heard");
    let q = JournalQuery {
        q: Some(spoken.clone()),
        ..Default::default()
    };
    let page = alice.journal(&q).await.expect("alice's search");
    let found = page
        .items
        .iter()
        .find(|i| i.call.id == up.call_id)
        .unwrap_or_else(|| panic!("alice's search for {spoken:?} finds the call"));
    let matched = found.matched.as_ref().expect("a search result says why it matched");
    println!("search {spoken:?} matched: {matched:?}");
    assert_eq!(
        matched.field,
        SearchField::Transcript,
        "the word was spoken, not a name or number"
    );
    assert!(
        matched.snippet.starts_with("Caller: ") && matched.snippet.to_lowercase().contains(&spoken),
        "the snippet shows the speaker and the word: {:?}",
        matched.snippet
    );
    // A search for a participant's name says so, and a plain listing says nothing.
    let page = alice
        .journal(&JournalQuery {
            q: Some("customer".into()),
            ..Default::default()
        })
        .await
        .expect("alice's search for the caller's name");
    let by_name = page
        .items
        .iter()
        .find(|i| i.call.id == up.call_id)
        .expect("found by name");
    assert_eq!(
        by_name.matched.as_ref().map(|m| (m.field, m.snippet.as_str())),
        Some((SearchField::Name, "Customer"))
    );
    let page = alice.journal(&JournalQuery::default()).await.expect("alice's journal");
    assert!(page.items.iter().all(|i| i.matched.is_none()), "no search, no match");
    let bob = server.login("bob", PASSWORD).await;
    let page = bob.journal(&q).await.expect("bob's search");
    assert!(
        page.items.iter().all(|i| i.call.id != up.call_id),
        "bob's search for {spoken:?} never finds alice's call"
    );
    // The journal JSON carries the transcript.
    let doc: JournalDocument = alice
        .call_journal_json(up.call_id)
        .await
        .expect("the call's journal JSON");
    assert_eq!(doc.transcripts.len(), 1, "the journal JSON carries the transcript");
    assert_eq!(doc.transcripts[0].lines, t.lines);

    // The worker killed mid-job: taken again after the lease, one transcript.
    let up2 = server
        .client()
        .ingest_bytes(INGEST_TOKEN, &ingest_call("stt-2", 25), second)
        .await
        .expect("the second upload is stored");
    wait_for(&alice, up2.recording_id, 120, "the second job running", |t| {
        t.status == TranscriptStatus::Running
    })
    .await;
    let pid = server
        .state
        .transcription
        .worker_pid
        .load(std::sync::atomic::Ordering::Relaxed);
    assert!(pid > 0, "the local worker runs");
    // Below the recorder: nice 15 and the SCHED_IDLE class (policy 5), from /proc/PID/stat's
    // fields after the command name: nice is the 19th field, policy the 41st.
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("the worker's stat");
    let fields: Vec<&str> = stat.rsplit_once(") ").expect("a stat line").1.split(' ').collect();
    assert_eq!(
        (fields[16], fields[38]),
        ("15", "5"),
        "the worker runs at nice 15, SCHED_IDLE"
    );
    run(Command::new("kill").args(["-KILL", &pid.to_string()]));
    println!("killed the worker (pid {pid}) mid-job");
    let t2 = wait_for(
        &alice,
        up2.recording_id,
        300,
        "the second transcript after the kill",
        |t| matches!(t.status, TranscriptStatus::Done | TranscriptStatus::Failed),
    )
    .await;
    assert_eq!(t2.status, TranscriptStatus::Done, "retried and done: {:?}", t2.error);
    assert_eq!(t2.attempts, 2, "the killed attempt and the one that finished");
    let new_pid = server
        .state
        .transcription
        .worker_pid
        .load(std::sync::atomic::Ordering::Relaxed);
    assert!(new_pid > 0 && new_pid != pid, "the server restarted its worker");
    let doc: JournalDocument = alice
        .call_journal_json(up2.call_id)
        .await
        .expect("the second call's journal JSON");
    assert_eq!(doc.transcripts.len(), 1, "one transcript, not two");
    // Nothing of the killed attempt is mixed in: on each channel the lines follow each other
    // in time, none repeated over another.
    for ch in [0u8, 1] {
        let mut lines: Vec<_> = t2.lines.iter().filter(|l| l.channel == ch).collect();
        assert!(!lines.is_empty(), "channel {ch} of the second call has lines");
        lines.sort_by_key(|l| l.start_ms);
        for pair in lines.windows(2) {
            assert!(
                pair[1].start_ms >= pair[0].end_ms - 500,
                "channel {ch}: line {:?} overlaps {:?}: a result counted twice",
                pair[1].text,
                pair[0].text
            );
        }
    }
    server.stop().await;
}
