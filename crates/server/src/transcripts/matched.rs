//! Why a journal search matched each call of a page (issue #16): the participants first, then
//! (only when they do not hold the text) the call's transcripts, opened like the transcript
//! route opens them. Runs on the page's items after the search, so the search costs the same.

use super::of_call;
use crate::state::AppState;
use callrec_types::calls::JournalItem;
use callrec_types::search::{participant_match, transcript_match};
use callrec_types::transcripts::TranscriptStatus;

/// Sets each item's `matched` for the search `q`.
pub async fn explain(state: &AppState, items: &mut [JournalItem], q: &str) {
    for item in items {
        item.matched = match participant_match(&item.call.participants, q) {
            Some(m) => Some(m),
            None => {
                let lines: Vec<_> = of_call(state, &item.call)
                    .await
                    .into_iter()
                    .filter(|t| t.status == TranscriptStatus::Done)
                    .flat_map(|t| t.lines)
                    .collect();
                transcript_match(&lines, q)
            }
        };
    }
}
