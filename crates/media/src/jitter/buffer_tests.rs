//! Tests of the reorder buffer: ordering, loss, duplicates, wrap-around, resyncs.

use super::*;

const FRAME: usize = 160;

/// A 20 ms µ-law packet whose samples all equal `seq as u8` (so output shows its origin).
struct Sender {
    ssrc: u32,
    data: Vec<Vec<u8>>,
}

impl Sender {
    fn new(ssrc: u32) -> Sender {
        Sender {
            ssrc,
            data: (0..=255u8).map(|b| vec![b; FRAME]).collect(),
        }
    }

    fn packet(&self, seq: u16, ts: u32) -> Packet<'_> {
        Packet {
            sequence: seq,
            timestamp: ts,
            ssrc: self.ssrc,
            law: Law::Ulaw,
            payload: &self.data[usize::from(seq as u8)],
        }
    }
}

fn buffer() -> JitterBuffer {
    JitterBuffer::new(Law::Ulaw, 0, JitterConfig::default())
}

/// The seq-derived byte at each 20 ms frame of `out` (0xFF = silence, if no seq is 255).
fn frames(out: &[u8]) -> Vec<u8> {
    out.chunks(FRAME).map(|c| c[0]).collect()
}

#[test]
fn in_order_stream_is_emitted_as_is() {
    let s = Sender::new(1);
    let mut b = buffer();
    for i in 0..5u16 {
        let outcome = b.push(s.packet(10 + i, 1000 + u32::from(i) * 160), u64::from(i) * 160);
        assert_eq!(
            outcome,
            if i == 0 { Outcome::Resync } else { Outcome::Accepted },
            "packet {i}"
        );
    }
    let mut out = Vec::new();
    assert_eq!(b.drain_to(800, &mut out), 800, "100 ms");
    assert_eq!(frames(&out), [10, 11, 12, 13, 14], "in order");
    assert_eq!(b.stats().lost, 0, "nothing lost");
    assert_eq!(b.stats().silence_samples, 0, "no silence");
}

#[test]
fn reordered_packets_are_put_back_in_order() {
    let s = Sender::new(1);
    let mut b = buffer();
    b.push(s.packet(1, 0), 0);
    b.push(s.packet(3, 320), 330);
    assert_eq!(b.push(s.packet(2, 160), 340), Outcome::Reordered, "late but in time");
    let mut out = Vec::new();
    b.drain_to(480, &mut out);
    assert_eq!(frames(&out), [1, 2, 3], "timestamp order");
    assert_eq!(b.stats().reordered, 1, "one reordered");
    assert_eq!(b.stats().lost, 0, "nothing lost");
}

#[test]
fn lost_packets_become_silence_and_are_counted() {
    let s = Sender::new(1);
    let mut b = buffer();
    b.push(s.packet(1, 0), 0);
    b.push(s.packet(4, 480), 480);
    let mut out = Vec::new();
    b.drain_to(640, &mut out);
    assert_eq!(frames(&out), [1, 0xFF, 0xFF, 4], "two frames of µ-law silence");
    assert_eq!(b.stats().lost, 2, "seq 2 and 3 lost");
    assert_eq!(b.stats().silence_samples, 320, "320 samples padded");
    assert_eq!(b.push(s.packet(2, 160), 700), Outcome::Late, "its slot is gone");
    assert_eq!(b.stats().late, 1, "counted late");
    assert_eq!(
        b.stats().lost,
        1,
        "a late packet arrived: only seq 3 is lost (RFC 3550 §A.3)"
    );
}

#[test]
fn telephone_events_marked_received_are_not_lost() {
    let s = Sender::new(1);
    let mut b = buffer();
    b.push(s.packet(1, 0), 0);
    assert_eq!(b.mark_received(2, 1), Outcome::Accepted, "DTMF seq noted");
    assert_eq!(b.mark_received(2, 1), Outcome::Duplicate, "retransmitted event packet");
    b.push(s.packet(3, 320), 320);
    let mut out = Vec::new();
    b.drain_to(480, &mut out);
    assert_eq!(frames(&out), [1, 0xFF, 3], "the event's slot is silence");
    assert_eq!(b.stats().lost, 0, "nothing lost");
    assert_eq!(b.mark_received(4, 99), Outcome::Late, "another SSRC is ignored");
}

#[test]
fn duplicates_are_dropped() {
    let s = Sender::new(1);
    let mut b = buffer();
    b.push(s.packet(1, 0), 0);
    b.push(s.packet(2, 160), 160);
    assert_eq!(b.push(s.packet(2, 160), 170), Outcome::Duplicate, "same as newest");
    assert_eq!(b.push(s.packet(1, 0), 180), Outcome::Duplicate, "same as older");
    let mut out = Vec::new();
    b.drain_to(320, &mut out);
    assert_eq!(frames(&out), [1, 2], "each once");
    assert_eq!(b.stats().duplicates, 2, "two duplicates");
}

#[test]
fn sequence_and_timestamp_wrap_around() {
    let s = Sender::new(1);
    let mut b = buffer();
    let ts0 = u32::MAX - 159;
    b.push(s.packet(65534, ts0), 0);
    b.push(s.packet(0, ts0.wrapping_add(320)), 320);
    assert_eq!(
        b.push(s.packet(65535, ts0.wrapping_add(160)), 330),
        Outcome::Reordered,
        "across the wrap"
    );
    b.push(s.packet(1, ts0.wrapping_add(480)), 480);
    let mut out = Vec::new();
    b.drain_to(640, &mut out);
    assert_eq!(frames(&out), [254, 255, 0, 1], "65534, 65535, 0, 1");
    assert_eq!(b.stats().lost, 0, "wrap is not loss");
}

#[test]
fn ssrc_change_starts_a_new_timeline_at_arrival() {
    let (a, c) = (Sender::new(1), Sender::new(2));
    let mut b = buffer();
    b.push(a.packet(1, 0), 0);
    assert_eq!(b.push(c.packet(50, 999_999), 320), Outcome::Resync, "new SSRC");
    b.push(c.packet(51, 999_999 + 160), 480);
    let mut out = Vec::new();
    b.drain_to(640, &mut out);
    assert_eq!(frames(&out), [1, 0xFF, 50, 51], "new source placed where it arrived");
    assert_eq!(b.stats().ssrc_changes, 1, "counted");
    assert_eq!(b.stats().lost, 0, "no loss across sources");
}

#[test]
fn hold_without_timestamp_advance_resyncs_to_the_call_clock() {
    let s = Sender::new(1);
    let mut b = buffer();
    b.push(s.packet(1, 0), 0);
    let mut out = Vec::new();
    b.drain_to(8000, &mut out); // one second passes, the sender is on hold
                                // After the hold the sender continues its timestamps as if no time had passed.
    assert_eq!(
        b.push(s.packet(2, 160), 8000),
        Outcome::Resync,
        "timestamp behind the clock"
    );
    b.push(s.packet(3, 320), 8160);
    b.drain_to(8320, &mut out);
    assert_eq!(out.len(), 8320, "the file follows the call clock");
    assert_eq!(frames(&out[8000..]), [2, 3], "audio resumes where it arrived");
    assert_eq!(b.stats().resyncs, 1, "one resync");
}

#[test]
fn hold_with_timestamp_advance_keeps_the_timeline() {
    let s = Sender::new(1);
    let mut b = buffer();
    b.push(s.packet(1, 0), 0);
    // The sender kept its clock through 3 s of hold and resumes exactly in place.
    assert_eq!(b.push(s.packet(2, 24_000), 24_000), Outcome::Accepted, "consistent");
    let mut out = Vec::new();
    b.drain_to(24_160, &mut out);
    assert_eq!(out[0], 1, "before the hold");
    assert_eq!(out[24_000], 2, "after the hold, at the right place");
    assert_eq!(b.stats().resyncs, 0, "no resync");
}

#[test]
fn a_large_sequence_jump_needs_confirmation() {
    let s = Sender::new(1);
    let mut b = buffer();
    b.push(s.packet(100, 0), 0);
    assert_eq!(b.push(s.packet(30_000, 160), 160), Outcome::Late, "a stray is dropped");
    assert_eq!(b.push(s.packet(30_001, 320), 320), Outcome::Resync, "confirmed restart");
    b.push(s.packet(30_002, 480), 480);
    let mut out = Vec::new();
    b.drain_to(640, &mut out);
    assert_eq!(
        frames(&out),
        [100, 0xFF, 30_001u16 as u8, 30_002u16 as u8],
        "after restart"
    );
}

#[test]
fn drain_splits_a_packet_and_resumes_mid_packet() {
    let s = Sender::new(1);
    let mut b = buffer();
    b.push(s.packet(1, 0), 0);
    b.push(s.packet(2, 160), 160);
    let mut out = Vec::new();
    assert_eq!(b.drain_to(100, &mut out), 100, "part of the first packet");
    assert_eq!(b.drain_to(250, &mut out), 150, "rest of it and part of the next");
    assert_eq!(b.flush(&mut out), 70, "the remainder");
    assert_eq!(out.len(), 320, "all audio exactly once");
    assert!(
        out[..160].iter().all(|&x| x == 1) && out[160..].iter().all(|&x| x == 2),
        "content"
    );
    assert_eq!(b.stats().audio_samples, 320, "counted once");
}

#[test]
fn limits_drop_oversized_and_excess_packets() {
    let s = Sender::new(1);
    let config = JitterConfig {
        max_packets: 2,
        max_payload: 100,
        ..JitterConfig::default()
    };
    let mut b = JitterBuffer::new(Law::Ulaw, 0, config);
    assert_eq!(b.push(s.packet(1, 0), 0), Outcome::Overflow, "160 > 100 bytes");
    let small = [0xFFu8; 80];
    let outcomes: Vec<Outcome> = (0..3u16)
        .map(|i| {
            let p = Packet {
                payload: &small,
                ..s.packet(i + 2, u32::from(i) * 80)
            };
            b.push(p, u64::from(i) * 80)
        })
        .collect();
    assert_eq!(
        outcomes,
        [Outcome::Resync, Outcome::Accepted, Outcome::Overflow],
        "third is one too many"
    );
    assert_eq!(b.stats().overflow, 2, "one too large, one beyond two held");
}

#[test]
fn audio_before_the_start_is_late() {
    let s = Sender::new(1);
    let mut b = JitterBuffer::new(Law::Ulaw, 1000, JitterConfig::default());
    b.push(s.packet(5, 800), 1000);
    assert_eq!(
        b.push(s.packet(4, 640), 1010),
        Outcome::Late,
        "before the recording started"
    );
    let mut out = Vec::new();
    b.drain_to(1160, &mut out);
    assert_eq!(frames(&out), [5], "the first packet starts the recording");
}
