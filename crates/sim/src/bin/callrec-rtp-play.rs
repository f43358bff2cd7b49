//! `callrec-rtp-play`: sends one RTP stream of a G.711 tone to `HOST:PORT` for a while.
//!
//! The sipp interop test needs it: sipp streams RTP only to the first `m=audio` of the
//! answer, so its scenario captures the second port with `<ereg>` and starts this sender for
//! the second stream with `<exec command=…>` (sipp expands variables in commands).

use std::net::{SocketAddr, ToSocketAddrs, UdpSocket};
use std::time::{Duration, Instant};

use anyhow::Context;
use callrec_media::g711::Law;
use callrec_sim::signal::{tone, write_rtp_header, RTP_HEADER_LEN, SAMPLES_PER_PACKET};
use clap::Parser;

/// Sends a G.711 tone as 20 ms RTP packets.
#[derive(Parser, Debug)]
#[command(name = "callrec-rtp-play", version)]
struct Cli {
    /// Where to send.
    #[arg(long, value_name = "HOST:PORT")]
    to: String,
    /// The tone's frequency (whole Hz).
    #[arg(long, default_value_t = 1000)]
    hz: u32,
    /// Codec.
    #[arg(long, value_parser = ["pcmu", "pcma"], default_value = "pcmu")]
    codec: String,
    /// How long to send.
    #[arg(long, default_value_t = 5.0)]
    seconds: f64,
    /// Wait this long before the first packet.
    #[arg(long, default_value_t = 0.0)]
    delay: f64,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let to: SocketAddr = cli
        .to
        .to_socket_addrs()
        .with_context(|| format!("resolving {}", cli.to))?
        .next()
        .with_context(|| format!("{} has no address", cli.to))?;
    let law = if cli.codec == "pcma" { Law::Alaw } else { Law::Ulaw };
    let audio = tone(law, cli.hz);
    let bind: SocketAddr = if to.is_ipv4() {
        SocketAddr::from(([0, 0, 0, 0], 0))
    } else {
        SocketAddr::from(([0u16; 8], 0))
    };
    let sock = UdpSocket::bind(bind).context("binding a UDP socket")?;
    sock.connect(to).with_context(|| format!("connecting to {to}"))?;
    std::thread::sleep(Duration::try_from_secs_f64(cli.delay.max(0.0)).unwrap_or_default());
    let packets = (cli.seconds.max(0.0) * 50.0).round();
    // Bounded by the float above; the cast only drops a fraction already rounded away.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let packets = packets as u64;
    let ssrc = std::process::id().wrapping_mul(2_654_435_761);
    let start = Instant::now();
    let mut packet = [0u8; RTP_HEADER_LEN + SAMPLES_PER_PACKET];
    for n in 0..packets {
        let due = start + Duration::from_millis(20 * n);
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        #[allow(clippy::cast_possible_truncation)]
        let (seq, ts) = (n as u16, (n as u32).wrapping_mul(160));
        let mut header = [0u8; RTP_HEADER_LEN];
        write_rtp_header(&mut header, law.payload_type(), n == 0, seq, ts, ssrc);
        packet[..RTP_HEADER_LEN].copy_from_slice(&header);
        #[allow(clippy::cast_possible_truncation)]
        let at = (n as usize * SAMPLES_PER_PACKET) % audio.len();
        packet[RTP_HEADER_LEN..].copy_from_slice(&audio[at..at + SAMPLES_PER_PACKET]);
        // A closed port (the call ended early) is not an error worth stopping for.
        let _ = sock.send(&packet);
    }
    Ok(())
}
