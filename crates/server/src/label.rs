//! How a participant is written for people: "Name (number)", or whichever of the two is known.

use callrec_types::calls::Participant;

pub fn label(p: &Participant) -> String {
    match (p.name.trim(), p.number.trim()) {
        ("", n) => n.to_string(),
        (name, "") => name.to_string(),
        (name, n) => format!("{name} ({n})"),
    }
}
