//! The jitter buffer and mixer driven by random operations: output always covers exactly
//! the requested span, positions only move forward, nothing panics.
#![no_main]

use callrec_media::g711::Law;
use callrec_media::jitter::{JitterConfig, Packet, Side, StereoMixer};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let config = JitterConfig {
        max_drift: 800,
        max_packets: 32,
        max_payload: 400,
    };
    let mut m = StereoMixer::new(Law::Ulaw, 0, config);
    let payload = [0x55u8; 400];
    let mut clock: u64 = 0;
    let mut out = Vec::new();
    for op in data.chunks_exact(8) {
        let side = if op[0] & 1 == 0 { Side::Caller } else { Side::Callee };
        clock += u64::from(op[1]) * 4;
        match op[0] >> 5 {
            0..=4 => {
                let p = Packet {
                    sequence: u16::from_le_bytes([op[2], op[3]]),
                    timestamp: u32::from(u16::from_le_bytes([op[4], op[5]])) * 8,
                    ssrc: u32::from(op[6] & 3),
                    law: if op[0] & 2 == 0 { Law::Ulaw } else { Law::Alaw },
                    payload: &payload[..usize::from(op[7]) * 2 % 401],
                };
                m.push(side, p, clock);
            }
            5 => {
                m.mark_received(side, u16::from_le_bytes([op[2], op[3]]), u32::from(op[6] & 3));
            }
            6 => {
                let before = m.position();
                let until = clock.saturating_sub(u64::from(op[2]) * 4);
                out.clear();
                let frames = m.drain_to(until, &mut out);
                assert_eq!(frames as u64, until.saturating_sub(before), "exact span");
                assert_eq!(out.len(), frames * 2, "stereo frames");
                assert_eq!(m.position(), before.max(until), "position advanced to until");
            }
            _ => m.discard_to(clock),
        }
    }
    out.clear();
    let before = m.position();
    let frames = m.flush(&mut out);
    assert_eq!(m.position(), before + frames as u64, "flush advances by what it emits");
});
