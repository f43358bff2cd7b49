//! Quality review and training (issue #15), the server's side: who may see a recording for
//! review (by their scope, or by a live share to them — [`access`]), its waveform peaks
//! computed once and cached ([`peaks`]), timestamped comments ([`comments`]) and time-limited
//! shares with a trainee ([`shares`]). Every rule lives here; the routes (`routes::review`)
//! only parse, call and answer.
//!
//! A share grants one recording, as the issue says: the trainee sees that recording (metadata,
//! audio, peaks, comments, evidence) and its call's facts with only the shared recordings, and
//! nothing else of the call (not its trace, its journal document or its other recordings).
//! The journal list stays each user's own scope; shared recordings are listed by
//! `GET /api/v1/me/shared`, which the desktop shows as "Shared with me".

pub mod access;
pub mod comments;
pub mod peaks;
pub mod shares;
