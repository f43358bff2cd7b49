//! The README's run command (`scripts/run.sh`) builds, in release, every binary it then starts.
//! CI does not run it (a release build of the app would add minutes to every run), and a warm
//! target directory hides a binary the script no longer builds: `cargo build -p callrec-server
//! --bin callrec-server -p callrec-desktop` built only the server (a `--bin` applies to every
//! `-p`), so on a fresh machine with a display the command failed at `exec`. This reads the
//! script and the workspace's manifests instead.

use std::collections::BTreeSet;
use std::path::Path;

/// The workspace root (this crate is `tests/`).
fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the workspace root")
}

/// The `[[bin]]` names declared in the workspace's manifests.
fn declared_binaries() -> BTreeSet<String> {
    let mut manifests = vec![root().join("Cargo.toml")];
    for entry in std::fs::read_dir(root().join("crates")).expect("crates/") {
        manifests.push(entry.expect("an entry").path().join("Cargo.toml"));
    }
    let mut names = BTreeSet::new();
    for manifest in manifests.iter().filter(|m| m.is_file()) {
        let text = std::fs::read_to_string(manifest).expect("a manifest");
        let mut in_bin = false;
        for line in text.lines().map(str::trim) {
            if line.starts_with('[') {
                in_bin = line == "[[bin]]";
            } else if let Some(name) = line.strip_prefix("name = ").filter(|_| in_bin) {
                names.insert(name.trim_matches('"').to_owned());
            }
        }
    }
    names
}

#[test]
fn the_run_command_builds_every_binary_it_starts() {
    let script = std::fs::read_to_string(root().join("scripts/run.sh")).expect("scripts/run.sh");
    let declared = declared_binaries();
    // What the `cargo build --release` lines so far have built, in script order.
    let mut built = BTreeSet::new();
    let mut started = Vec::new();
    for line in script.lines().map(str::trim).filter(|l| !l.starts_with('#')) {
        let words: Vec<&str> = line.split_whitespace().collect();
        if words.starts_with(&["cargo", "build"]) && words.contains(&"--release") {
            for pair in words.windows(2).filter(|p| p[0] == "--bin") {
                assert!(
                    declared.contains(pair[1]),
                    "run.sh builds `{}`, which no manifest declares ({declared:?})",
                    pair[1]
                );
                built.insert(pair[1].to_owned());
            }
        }
        if let Some(binary) = words
            .iter()
            .find_map(|w| w.strip_prefix("./target/release/"))
            .filter(|_| words.first() == Some(&"exec"))
        {
            assert!(
                built.contains(binary),
                "run.sh starts ./target/release/{binary}, but its cargo build lines before that build only {built:?}"
            );
            started.push(binary.to_owned());
        }
    }
    assert_eq!(
        started,
        ["callrec-desktop", "callrec-server"],
        "the desktop app with a display, else the server"
    );
}
