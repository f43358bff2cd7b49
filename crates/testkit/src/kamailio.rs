//! A real Kamailio in front of callrec nodes, run from the configuration users deploy
//! (`deploy/kamailio/kamailio.cfg`, unchanged): the node list is a `dispatcher.list` written per
//! instance, the listen address a `-l` flag, the rest `-A` defines (probe interval, INVITE
//! timeout). Kamailio runs in the foreground (`-DD -E`) with its runtime directory (`-Y`,
//! where its control socket lives) in a temporary directory, under the [`watch`] shell so it
//! stops when the test process exits. Ready means it answers an OPTIONS over UDP with 200.
//!
//! A missing `kamailio` fails with a message saying what to install; there is no skip.

use crate::watch;
use std::net::{SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

/// How Kamailio is started.
#[derive(Clone, Debug)]
pub struct Options {
    /// The SIP addresses (UDP) of the callrec nodes, dispatcher set 1.
    pub nodes: Vec<SocketAddr>,
    /// Seconds between OPTIONS probes of each node (`DS_PING_INTERVAL`).
    pub ping_interval_secs: u32,
    /// Unanswered probes in a row before a node is taken out (`DS_FAIL_THRESHOLD`).
    pub fail_threshold: u32,
    /// How long a node may stay silent on a request, probes included (`INVITE_TIMEOUT_MS`).
    pub invite_timeout_ms: u32,
}

impl Options {
    /// Quick probing (every second, out at the first unanswered probe), so a test sees a
    /// stopped node taken out within seconds. A node still has 3 s to answer, as on a busy
    /// machine it may need.
    pub fn quick(nodes: Vec<SocketAddr>) -> Options {
        Options {
            nodes,
            ping_interval_secs: 1,
            fail_threshold: 1,
            invite_timeout_ms: 3000,
        }
    }
}

/// A running Kamailio.
pub struct Kamailio {
    sip: SocketAddr,
    runtime_dir: PathBuf,
    /// The watcher: its stdin is the pipe whose end stops Kamailio.
    _watcher: Child,
}

/// Whether a node is taking calls, as the dispatcher module says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeState {
    /// `sip:host:port`, as in the dispatcher list.
    pub uri: String,
    /// The dispatcher flags: `A…` active, `I…` inactive, `D…` disabled; `…P` probed.
    pub flags: String,
}

impl NodeState {
    /// Whether new calls may go to this node.
    pub fn is_active(&self) -> bool {
        self.flags.starts_with('A')
    }
}

/// The repository's Kamailio configuration (the file users deploy).
pub fn config_file() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/kamailio/kamailio.cfg")
}

/// The `dispatcher.list` line of a node.
pub fn node_uri(node: SocketAddr) -> String {
    format!("sip:{node}")
}

/// Finds `name` on `PATH`, then in `/usr/sbin` (not on a plain user's `PATH` on Debian).
fn binary(name: &str) -> Result<PathBuf, String> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/usr/local/sbin")])
        .map(|d| d.join(name))
        .find(|p| p.is_file())
        .ok_or_else(|| {
            format!(
                "`{name}` is not installed. These tests run a real Kamailio in front of callrec: \
                 install Debian's `kamailio` package (apt-get install kamailio; CI does, \
                 scripts/test.sh)."
            )
        })
}

/// A UDP port free on 127.0.0.1 for UDP and TCP both (Kamailio listens on both).
fn free_sip_port() -> Result<u16, String> {
    for _ in 0..50 {
        let udp = UdpSocket::bind("127.0.0.1:0").map_err(|e| format!("a free UDP port: {e}"))?;
        let port = udp.local_addr().map_err(|e| format!("a free UDP port: {e}"))?.port();
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return Ok(port);
        }
    }
    Err("no port free for both UDP and TCP on 127.0.0.1".into())
}

/// Starts Kamailio on 127.0.0.1 (UDP and TCP) in front of `options.nodes`.
pub fn start(options: &Options) -> Result<Kamailio, String> {
    let kamailio = binary("kamailio")?;
    let dir = tempfile::Builder::new()
        .prefix("callrec-kamailio-")
        .tempdir()
        .map_err(|e| format!("temp dir: {e}"))?
        .keep();
    launch(&kamailio, options, &dir).inspect_err(|_| {
        let _ = std::fs::remove_dir_all(&dir);
    })
}

fn launch(kamailio: &Path, options: &Options, dir: &Path) -> Result<Kamailio, String> {
    let list = dir.join("dispatcher.list");
    let lines: String = options.nodes.iter().map(|n| format!("1 {}\n", node_uri(*n))).collect();
    std::fs::write(&list, lines).map_err(|e| format!("dispatcher.list: {e}"))?;
    let port = free_sip_port()?;
    let sip = SocketAddr::from(([127, 0, 0, 1], port));
    let mut server = Command::new(kamailio);
    server
        .args(["-DD", "-E", "-f"])
        .arg(config_file())
        .arg("-Y")
        .arg(dir)
        .args(["-l", &format!("udp:{sip}"), "-l", &format!("tcp:{sip}")])
        .arg("-A")
        .arg(format!("DISPATCHER_LIST=\"{}\"", list.display()))
        .arg("-A")
        .arg(format!("DS_PING_INTERVAL={}", options.ping_interval_secs))
        .arg("-A")
        .arg(format!("DS_FAIL_THRESHOLD={}", options.fail_threshold))
        .arg("-A")
        .arg(format!("INVITE_TIMEOUT_MS={}", options.invite_timeout_ms))
        // Small shared memory (default 64 MB): a test process may run several.
        .args(["-m", "32"])
        .current_dir(dir);
    // Kamailio prints the sockets it listens on once its configuration is loaded.
    let watcher = watch::spawn(
        &server,
        "kill -TERM \"$pid\" 2>/dev/null",
        dir,
        "Listening on",
        Duration::from_secs(30),
    )?;
    let k = Kamailio {
        sip,
        runtime_dir: dir.to_path_buf(),
        _watcher: watcher,
    };
    k.wait_answering(Duration::from_secs(30))?;
    Ok(k)
}

impl Kamailio {
    /// Where SIP clients connect (UDP and TCP).
    pub fn sip_addr(&self) -> SocketAddr {
        self.sip
    }

    /// Sends OPTIONS over UDP until Kamailio answers 200 (its workers are up).
    fn wait_answering(&self, within: Duration) -> Result<(), String> {
        let sock = UdpSocket::bind("127.0.0.1:0").map_err(|e| format!("probe socket: {e}"))?;
        let me = sock.local_addr().map_err(|e| format!("probe socket: {e}"))?;
        sock.set_read_timeout(Some(Duration::from_millis(200)))
            .map_err(|e| format!("probe socket: {e}"))?;
        let deadline = Instant::now() + within;
        let mut n = 0u32;
        while Instant::now() < deadline {
            n += 1;
            let probe = format!(
                "OPTIONS sip:{sip} SIP/2.0\r\nVia: SIP/2.0/UDP {me};branch=z9hG4bKready{n}\r\n\
                 Max-Forwards: 70\r\nFrom: <sip:testkit@{me}>;tag=ready\r\nTo: <sip:{sip}>\r\n\
                 Call-ID: ready-{n}@testkit\r\nCSeq: {n} OPTIONS\r\nContent-Length: 0\r\n\r\n",
                sip = self.sip
            );
            sock.send_to(probe.as_bytes(), self.sip)
                .map_err(|e| format!("sending OPTIONS to Kamailio: {e}"))?;
            let mut buf = [0u8; 4096];
            // A timeout (nothing yet) or a refused port (not bound yet): probe again.
            if let Ok((len, _)) = sock.recv_from(&mut buf) {
                let reply = String::from_utf8_lossy(&buf[..len]);
                if reply.starts_with("SIP/2.0 200") {
                    return Ok(());
                }
            }
        }
        Err(format!(
            "Kamailio did not answer OPTIONS on {} within {within:?}",
            self.sip
        ))
    }

    /// The state of every node, read through Kamailio's control socket (`kamcmd`).
    pub fn nodes(&self) -> Result<Vec<NodeState>, String> {
        let kamcmd = binary("kamcmd")?;
        let socket = format!("unix:{}", self.runtime_dir.join("kamailio_ctl").display());
        let out = Command::new(kamcmd)
            .args(["-s", &socket, "dispatcher.list"])
            .output()
            .map_err(|e| format!("kamcmd: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "kamcmd dispatcher.list failed: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        Ok(parse_dispatcher_list(&String::from_utf8_lossy(&out.stdout)))
    }

    /// The state of `node`.
    pub fn node(&self, node: SocketAddr) -> Result<NodeState, String> {
        let uri = node_uri(node);
        self.nodes()?
            .into_iter()
            .find(|n| n.uri == uri)
            .ok_or_else(|| format!("{uri} is not in Kamailio's dispatcher list"))
    }
}

/// The `URI:` / `FLAGS:` pairs of `kamcmd dispatcher.list`.
fn parse_dispatcher_list(text: &str) -> Vec<NodeState> {
    let mut out = Vec::new();
    let mut uri = None;
    for line in text.lines().map(str::trim) {
        if let Some(u) = line.strip_prefix("URI:") {
            uri = Some(u.trim().to_string());
        } else if let Some(f) = line.strip_prefix("FLAGS:") {
            if let Some(uri) = uri.take() {
                out.push(NodeState {
                    uri,
                    flags: f.trim().to_string(),
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_each_nodes_flags_from_kamcmd_output() {
        let text = "{\n\tNRSETS: 1\n\tRECORDS: {\n\t\tSET: {\n\t\t\tID: 1\n\t\t\tTARGETS: {\n\
                    \t\t\t\tDEST: {\n\t\t\t\t\tURI: sip:127.0.0.1:15062\n\t\t\t\t\tFLAGS: IP\n\
                    \t\t\t\t\tPRIORITY: 0\n\t\t\t\t}\n\t\t\t\tDEST: {\n\t\t\t\t\tURI: sip:127.0.0.1:15061\n\
                    \t\t\t\t\tFLAGS: AP\n\t\t\t\t}\n}}}}\n";
        let nodes = parse_dispatcher_list(text);
        assert_eq!(nodes.len(), 2, "two nodes listed");
        assert!(!nodes[0].is_active(), "IP is inactive");
        assert_eq!(nodes[1].uri, "sip:127.0.0.1:15061", "the second node's URI");
        assert!(nodes[1].is_active(), "AP is active");
    }
}
