//! The RTP counters of `/metrics`, shared by the engine and its workers.

use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use crate::metrics::Metrics;

/// The RTP counters of `/metrics`.
pub struct RtpCounters {
    /// Datagrams received on RTP ports.
    pub packets: Arc<AtomicU64>,
    /// Datagrams dropped because they are not valid RTP.
    pub malformed: Arc<AtomicU64>,
    /// RTP packets with a payload type the stream did not negotiate (dropped).
    pub unexpected: Arc<AtomicU64>,
    /// Packets that never arrived (RFC 3550 §A.3), counted when a call ends.
    pub lost: Arc<AtomicU64>,
    /// Packets that arrived out of order and were still recorded.
    pub reordered: Arc<AtomicU64>,
    /// Packets that arrived after their place was written (dropped).
    pub late: Arc<AtomicU64>,
    /// Duplicate packets (dropped).
    pub duplicates: Arc<AtomicU64>,
    /// Packets dropped for size or a full reorder buffer.
    pub overflow: Arc<AtomicU64>,
    /// SRTP packets that failed authentication (tampered, or another key): dropped, never
    /// written.
    pub srtp_auth_failures: Arc<AtomicU64>,
    /// Timeline re-anchorings (timestamp jumps, new SSRCs).
    pub resyncs: Arc<AtomicU64>,
    /// Calls whose RTP was opened.
    pub calls_opened: Arc<AtomicU64>,
    /// Calls whose RTP was closed (sockets drained and closed, counters final).
    pub calls_closed: Arc<AtomicU64>,
}

impl RtpCounters {
    /// Registers the counters with the metrics registry.
    pub fn register(m: &Metrics) -> RtpCounters {
        RtpCounters {
            packets: m.counter("callrec_rtp_packets_total", "RTP datagrams received."),
            malformed: m.counter(
                "callrec_rtp_malformed_total",
                "Datagrams on RTP ports dropped as malformed RTP.",
            ),
            unexpected: m.counter(
                "callrec_rtp_unexpected_payload_total",
                "RTP packets dropped for a payload type that was not negotiated.",
            ),
            lost: m.counter(
                "callrec_rtp_lost_total",
                "RTP packets that never arrived (sequence gaps, padded with silence).",
            ),
            reordered: m.counter(
                "callrec_rtp_reordered_total",
                "RTP packets that arrived out of order and were put back in place.",
            ),
            late: m.counter(
                "callrec_rtp_late_total",
                "RTP packets that arrived after their place in the recording was written.",
            ),
            duplicates: m.counter("callrec_rtp_duplicates_total", "Duplicate RTP packets dropped."),
            overflow: m.counter(
                "callrec_rtp_overflow_total",
                "RTP packets dropped for size or a full reorder buffer.",
            ),
            srtp_auth_failures: m.counter(
                "callrec_rtp_srtp_auth_failures_total",
                "SRTP packets dropped because their authentication tag did not verify (tampered, or sent with another key).",
            ),
            resyncs: m.counter(
                "callrec_rtp_resyncs_total",
                "Times a stream's timeline was re-anchored (timestamp jump, new SSRC).",
            ),
            calls_opened: m.counter("callrec_rtp_calls_opened_total", "Calls whose RTP ports were opened."),
            calls_closed: m.counter(
                "callrec_rtp_calls_closed_total",
                "Calls whose RTP ports were drained and closed (their counters are final).",
            ),
        }
    }
}
