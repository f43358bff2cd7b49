//! PCI pause and resume of a running recording (issue #11.1): the list of a recording's
//! pauses as it grows — one pause open at a time, closed by a resume or by the recording's
//! end — and why a pause or resume is refused. Pure: the caller passes the times in.

use crate::calls::RecordingPause;
use crate::ids::UserId;

/// Why a pause or resume does not fit the recording's state (HTTP 409).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PauseConflict {
    #[error("nothing is being recorded on this call, so there is nothing to pause")]
    NotRecording,
    #[error("the recording is already paused")]
    AlreadyPaused,
    #[error("the recording is not paused")]
    NotPaused,
}

/// The open pause of `pauses` (the last one, while it has no end).
pub fn open(pauses: &[RecordingPause]) -> Option<&RecordingPause> {
    pauses.last().filter(|p| p.to_ms.is_none())
}

/// Opens a pause at `at_ms` (from the recording's start).
pub fn begin(
    pauses: &mut Vec<RecordingPause>,
    at_ms: i64,
    by: String,
    user_id: Option<UserId>,
) -> Result<(), PauseConflict> {
    if open(pauses).is_some() {
        return Err(PauseConflict::AlreadyPaused);
    }
    let from_ms = at_ms.max(pauses.last().and_then(|p| p.to_ms).unwrap_or(0));
    pauses.push(RecordingPause {
        from_ms,
        to_ms: None,
        by,
        user_id,
    });
    Ok(())
}

/// Closes the open pause at `at_ms` (a resume, or the recording's end).
pub fn end(pauses: &mut [RecordingPause], at_ms: i64) -> Result<(), PauseConflict> {
    match pauses.last_mut() {
        Some(p) if p.to_ms.is_none() => {
            p.to_ms = Some(at_ms.max(p.from_ms));
            Ok(())
        }
        _ => Err(PauseConflict::NotPaused),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issue_11_a_pause_opens_once_and_closes_once() {
        let mut p = Vec::new();
        assert_eq!(end(&mut p, 10), Err(PauseConflict::NotPaused), "nothing to resume");
        begin(&mut p, 3000, "Alice".into(), Some(UserId(1))).expect("first pause");
        assert!(open(&p).is_some(), "open while paused");
        assert_eq!(
            begin(&mut p, 3500, "Bob".into(), None),
            Err(PauseConflict::AlreadyPaused),
            "a second pause is refused"
        );
        end(&mut p, 6000).expect("resume");
        assert_eq!(end(&mut p, 6100), Err(PauseConflict::NotPaused), "resumed already");
        assert_eq!(
            p,
            [RecordingPause {
                from_ms: 3000,
                to_ms: Some(6000),
                by: "Alice".into(),
                user_id: Some(UserId(1))
            }]
        );
        assert!(open(&p).is_none(), "closed");
    }

    #[test]
    fn issue_11_pauses_never_overlap_or_run_backwards() {
        let mut p = Vec::new();
        begin(&mut p, 5000, "A".into(), None).expect("pause");
        end(&mut p, 4000).expect("a resume before the pause (clock skew) is an empty pause");
        assert_eq!(p[0].to_ms, Some(5000), "never before its start");
        begin(&mut p, 4500, "A".into(), None).expect("pause again");
        assert_eq!(p[1].from_ms, 5000, "never before the last resume");
    }
}
