//! Why a journal search matched a call (issue #16 points 4 and 5): which part of the call's
//! search text holds the searched text — a participant's number, a participant's name, or the
//! words spoken in its transcript — and a short snippet of it for the journal list.
//!
//! The store's search text of a call is, lower case, each participant's name, number and
//! normalised number ([`crate::directory::normalize_address`]), then its transcripts' text; this
//! looks in the same parts in that order, so the field named is the one the store matched (a
//! match that spans two parts, which the store's text allows, names none).

use crate::calls::Participant;
use crate::directory::normalize_address;
use crate::transcripts::TranscriptLine;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// The part of a call that a journal search matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum SearchField {
    /// A participant's number or address (as dialled or normalised).
    Number,
    /// A participant's name.
    Name,
    /// Words spoken in one of the call's transcripts.
    Transcript,
}

/// Why a journal row matched the search `q`: the field, and the text around the match as the
/// journal shows it (the number or name itself; for a transcript, about
/// [`SNIPPET_WORDS`] words of the line with the match, after its speaker).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct SearchMatch {
    pub field: SearchField,
    pub snippet: String,
}

/// About how many words a transcript snippet shows.
pub const SNIPPET_WORDS: usize = 12;

/// The search text as the store compares it: trimmed, lower case; `None` when empty.
fn needle(q: &str) -> Option<String> {
    let q = q.trim().to_lowercase();
    (!q.is_empty()).then_some(q)
}

/// Which participant's number or name holds `q` (case-insensitive), numbers first; `None`
/// when neither does (then the transcript may: [`transcript_match`]).
pub fn participant_match(participants: &[Participant], q: &str) -> Option<SearchMatch> {
    let q = needle(q)?;
    let found = |field, shown: &str| SearchMatch {
        field,
        snippet: shown.to_string(),
    };
    if let Some(p) = participants
        .iter()
        .find(|p| p.number.to_lowercase().contains(&q) || normalize_address(&p.number).contains(&q))
    {
        return Some(found(SearchField::Number, &p.number));
    }
    participants
        .iter()
        .find(|p| p.name.to_lowercase().contains(&q))
        .map(|p| found(SearchField::Name, &p.name))
}

/// The first line (in time order) whose text holds `q`, as `Speaker: …words around it…`:
/// about [`SNIPPET_WORDS`] words with the matched ones, `…` where the line was cut.
pub fn transcript_match(lines: &[TranscriptLine], q: &str) -> Option<SearchMatch> {
    let q = needle(q)?;
    let mut sorted: Vec<&TranscriptLine> = lines.iter().collect();
    sorted.sort_by_key(|l| (l.start_ms, l.channel));
    sorted.into_iter().find_map(|l| {
        let around = words_around(&l.text, &q)?;
        Some(SearchMatch {
            field: SearchField::Transcript,
            snippet: format!("{}: {around}", l.speaker),
        })
    })
}

/// Why the call matched `q`: its participants first, then its transcripts' lines.
pub fn search_match(participants: &[Participant], lines: &[TranscriptLine], q: &str) -> Option<SearchMatch> {
    participant_match(participants, q).or_else(|| transcript_match(lines, q))
}

/// About [`SNIPPET_WORDS`] whole words of `text` around the first place it holds `q` (lower
/// case already), with `…` at a cut end; `None` when it does not hold it.
fn words_around(text: &str, q: &str) -> Option<String> {
    let lower = text.to_lowercase();
    // Lower-casing can change byte lengths (a few scripts): then cut the lower-case text, so
    // the offsets stay valid.
    let shown = if lower.len() == text.len() {
        text
    } else {
        lower.as_str()
    };
    let at = lower.find(q)?;
    let end = at + q.len();
    // Each word with its byte span.
    let words: Vec<(usize, usize)> = shown
        .split_whitespace()
        .map(|w| {
            let from = w.as_ptr() as usize - shown.as_ptr() as usize;
            (from, from + w.len())
        })
        .collect();
    let first = words.iter().position(|&(_, to)| to > at)?;
    let last = words
        .iter()
        .rposition(|&(from, _)| from < end)
        .unwrap_or(first)
        .max(first);
    // The matched words, and as many of the others before and after as make the snippet's
    // length, half each side, more on one side where the line ends on the other.
    let want = SNIPPET_WORDS.max(last - first + 1);
    let before = (want - (last - first + 1)) / 2;
    let from = first.saturating_sub(before);
    let to = (from + want - 1).min(words.len() - 1);
    let from = (to + 1).saturating_sub(want).min(from);
    let mut s = String::new();
    if from > 0 {
        s.push('…');
    }
    s.push_str(&shown[words[from].0..words[to].1]);
    if to + 1 < words.len() {
        s.push('…');
    }
    Some(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calls::ParticipantRole;

    fn party(name: &str, number: &str, role: ParticipantRole) -> Participant {
        Participant {
            name: name.into(),
            number: number.into(),
            user_id: None,
            role,
            user_name: None,
        }
    }

    fn parties() -> Vec<Participant> {
        vec![
            party("Customer Carla", "+49 (30) 123-456", ParticipantRole::Caller),
            party("Alice Adams", "201", ParticipantRole::Callee),
        ]
    }

    fn line(channel: u8, speaker: &str, start_ms: i64, text: &str) -> TranscriptLine {
        TranscriptLine {
            channel,
            speaker: speaker.into(),
            start_ms,
            end_ms: start_ms + 1000,
            text: text.into(),
            words: Vec::new(),
        }
    }

    fn said() -> Vec<TranscriptLine> {
        vec![
            // Out of time order on purpose: the first hit is by time.
            line(
                1,
                "Agent (Alice Adams)",
                6_000,
                "Certainly, I can cancel that for you today if you give me your account number please.",
            ),
            line(
                0,
                "Caller",
                0,
                "Good morning. I would like to cancel my subscription because the price went up last month and I am not happy.",
            ),
        ]
    }

    #[test]
    fn issue_16_the_field_that_holds_the_text_is_named() {
        let (p, l) = (parties(), said());
        let m = |q: &str| search_match(&p, &l, q).map(|m| m.field);
        assert_eq!(m("201"), Some(SearchField::Number), "an extension");
        assert_eq!(m("+49 (30"), Some(SearchField::Number), "a number as dialled");
        assert_eq!(m("4930123"), Some(SearchField::Number), "a number normalised");
        assert_eq!(m("ADAMS"), Some(SearchField::Name), "a name, case-insensitively");
        assert_eq!(m("  carla "), Some(SearchField::Name), "trimmed like the store");
        assert_eq!(m("subscription"), Some(SearchField::Transcript), "a spoken word");
        assert_eq!(m("refund"), None, "nowhere");
        assert_eq!(m("   "), None, "no search");
        // A name that is also said: the participant is named (what the row shows anyway).
        assert_eq!(m("alice"), Some(SearchField::Name));
        assert_eq!(
            search_match(&p, &l, "alice").map(|m| m.snippet).as_deref(),
            Some("Alice Adams")
        );
        assert_eq!(
            search_match(&p, &l, "123-4").map(|m| m.snippet).as_deref(),
            Some("+49 (30) 123-456"),
            "the number as the call shows it"
        );
        assert_eq!(
            participant_match(&p, "subscription"),
            None,
            "participants alone do not hold spoken words"
        );
    }

    #[test]
    fn issue_16_a_transcript_snippet_is_a_dozen_words_around_the_first_hit_by_time() {
        let got = transcript_match(&said(), "Cancel").expect("said");
        assert_eq!(got.field, SearchField::Transcript);
        assert_eq!(
            got.snippet, "Caller: …morning. I would like to cancel my subscription because the price went…",
            "the caller said it first (0 s), though the agent's line comes first in the list"
        );
        let words = got.snippet.trim_start_matches("Caller: ").split_whitespace().count();
        assert_eq!(words, SNIPPET_WORDS);
        // The start of a line: no leading cut, the words after it.
        let got = transcript_match(&said(), "good morning").expect("said").snippet;
        assert_eq!(
            got,
            "Caller: Good morning. I would like to cancel my subscription because the price…"
        );
        // The end of a line: the words before it.
        let got = transcript_match(&said(), "not happy").expect("said").snippet;
        assert_eq!(got, "Caller: …because the price went up last month and I am not happy.");
        // Part of a word shows the whole word; a hit over several words keeps them all.
        let got = transcript_match(&said(), "scrip").expect("said").snippet;
        assert!(got.contains("subscription"), "{got}");
        let got = transcript_match(&said(), "account number please")
            .expect("said")
            .snippet;
        assert!(
            got.starts_with("Agent (Alice Adams): …") && got.ends_with("account number please."),
            "{got}"
        );
        // A short line whole.
        let got = transcript_match(&[line(0, "Caller", 0, "Cancel it.")], "cancel").expect("said");
        assert_eq!(got.snippet, "Caller: Cancel it.");
        assert_eq!(transcript_match(&said(), "refund"), None);
        assert_eq!(transcript_match(&[], "cancel"), None);
    }

    #[test]
    fn issue_16_a_snippet_of_text_whose_lower_case_is_longer_stays_whole() {
        // 'İ' lower-cases to two characters: the snippet is cut from the lower-case text.
        let got = transcript_match(
            &[line(0, "Caller", 0, "İstanbul office called about the invoice")],
            "invoice",
        )
        .expect("said")
        .snippet;
        assert!(got.contains("invoice") && got.contains("stanbul"), "{got}");
    }

    #[test]
    fn issue_16_the_match_serialises_in_snake_case() {
        let m = SearchMatch {
            field: SearchField::Transcript,
            snippet: "Caller: cancel".into(),
        };
        assert_eq!(
            serde_json::to_string(&m).expect("json"),
            r#"{"field":"transcript","snippet":"Caller: cancel"}"#
        );
    }
}
