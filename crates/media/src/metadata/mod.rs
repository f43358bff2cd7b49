//! Recording metadata (`application/rs-metadata+xml`, RFC 7865): who takes part in the
//! recorded call, which RTP streams exist (by SDP `a=label`), and who sends on which.
//!
//! [`Metadata::parse`] reads one document into plain structs (participants and streams in
//! document order). [`Metadata::apply`] folds a later document (re-INVITE or UPDATE) into the
//! current state: a `complete` document replaces it, a `partial` one adds or modifies the
//! objects it names (RFC 7865 §5, "datamode").
//!
//! The first participant is the caller (SPEC §4.1) unless the recorder knows better: keep
//! the caller's `participant_id` from the first document, since a later complete document
//! may list participants in another order.

mod parse;

pub use parse::{MAX_DEPTH, MAX_ELEMENTS, MAX_METADATA_LEN, MAX_OBJECTS, RECORDING_NS};

/// Why a metadata document was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MetadataError {
    /// Larger than [`MAX_METADATA_LEN`].
    #[error("recording metadata exceeds {MAX_METADATA_LEN} bytes")]
    TooLarge,
    /// Not UTF-8.
    #[error("recording metadata is not UTF-8")]
    NotUtf8,
    /// Not well-formed XML (the parser's message).
    #[error("recording metadata is not well-formed XML: {0}")]
    Xml(String),
    /// A `<!DOCTYPE>`: never needed, and the door to entity expansion attacks.
    #[error("recording metadata must not contain a DTD")]
    Dtd,
    /// An entity other than the five predefined ones or a character reference.
    #[error("recording metadata uses an unknown entity")]
    UnknownEntity,
    /// The root is not `<recording>` in the RFC 7865 namespace.
    #[error("root element is not <recording> in {RECORDING_NS}")]
    NotRecording,
    /// Nesting deeper than [`MAX_DEPTH`].
    #[error("recording metadata nests deeper than {MAX_DEPTH} elements")]
    TooDeep,
    /// More than [`MAX_ELEMENTS`] elements, or more than [`MAX_OBJECTS`] of one kind.
    #[error("recording metadata has too many elements")]
    TooManyElements,
    /// A text value longer than 1 KiB.
    #[error("recording metadata text value too long")]
    TextTooLong,
    /// An element lacks its identifying attribute.
    #[error("<{element}> lacks the {attribute} attribute")]
    MissingAttribute {
        /// The element.
        element: &'static str,
        /// The attribute.
        attribute: &'static str,
    },
    /// `<datamode>` is neither `complete` nor `partial`.
    #[error("unknown datamode {0:?}")]
    BadDataMode(String),
}

/// Whether a document is the whole state or a change (RFC 7865 §6.1.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DataMode {
    /// The document describes everything (the default).
    #[default]
    Complete,
    /// The document only adds or modifies objects.
    Partial,
}

/// A communication session group (§6.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    /// `group_id`.
    pub id: String,
    /// `<associate-time>`.
    pub associate_time: Option<String>,
}

/// A recorded communication session (§6.3): the original call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// `session_id`.
    pub id: String,
    /// `<sipSessionID>` values (RFC 7989 Session-IDs of the original call).
    pub sip_session_ids: Vec<String>,
    /// `<group-ref>`.
    pub group_ref: Option<String>,
    /// `<start-time>`.
    pub start_time: Option<String>,
    /// `<stop-time>`.
    pub stop_time: Option<String>,
}

/// A participant (§6.5): a party of the original call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Participant {
    /// `participant_id`.
    pub id: String,
    /// `<nameID aor="…">` (or a draft-style `<aor>`): the address of record.
    pub aor: Option<String>,
    /// `<name>`: the display name.
    pub name: Option<String>,
}

/// A media stream (§6.6), tied to an SDP m-line by its label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stream {
    /// `stream_id`.
    pub id: String,
    /// `session_id`: the session it belongs to.
    pub session_id: Option<String>,
    /// `<label>`: equals the `a=label` of the SDP m-line carrying it.
    pub label: Option<String>,
}

/// Which streams a participant sends and receives (`<participantstreamassoc>`, §6.9).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamAssoc {
    /// `participant_id`.
    pub participant_id: String,
    /// `<send>` stream ids.
    pub send: Vec<String>,
    /// `<recv>` stream ids.
    pub recv: Vec<String>,
}

/// A participant joining or leaving a session (`<participantsessionassoc>`, §6.8).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionAssoc {
    /// `participant_id`.
    pub participant_id: String,
    /// `session_id`.
    pub session_id: String,
    /// `<associate-time>`.
    pub associate_time: Option<String>,
    /// `<disassociate-time>`: the participant left.
    pub disassociate_time: Option<String>,
}

/// One rs-metadata document, or the state after folding several together.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Metadata {
    /// `<datamode>` of the (last applied) document.
    pub data_mode: DataMode,
    /// Groups in document order.
    pub groups: Vec<Group>,
    /// Sessions in document order.
    pub sessions: Vec<Session>,
    /// Participants in document order (first = caller unless the SRC says otherwise).
    pub participants: Vec<Participant>,
    /// Streams in document order.
    pub streams: Vec<Stream>,
    /// Participant/stream associations.
    pub stream_assocs: Vec<StreamAssoc>,
    /// Participant/session associations.
    pub session_assocs: Vec<SessionAssoc>,
}

/// Replaces the element with the same key, or appends.
fn upsert<T>(list: &mut Vec<T>, item: T, same: impl Fn(&T, &T) -> bool, merge: impl Fn(&mut T, T)) {
    match list.iter_mut().find(|x| same(x, &item)) {
        Some(existing) => merge(existing, item),
        None => list.push(item),
    }
}

fn keep_or<T>(old: &mut Option<T>, new: Option<T>) {
    if new.is_some() {
        *old = new;
    }
}

impl Metadata {
    /// The participant with this id.
    pub fn participant(&self, id: &str) -> Option<&Participant> {
        self.participants.iter().find(|p| p.id == id)
    }

    /// The participant with this address of record.
    pub fn participant_by_aor(&self, aor: &str) -> Option<&Participant> {
        self.participants
            .iter()
            .find(|p| p.aor.as_deref().is_some_and(|a| a.eq_ignore_ascii_case(aor)))
    }

    /// The first participant: the caller, by SPEC §4.1's convention.
    pub fn caller(&self) -> Option<&Participant> {
        self.participants.first()
    }

    /// The stream with this SDP label.
    pub fn stream_by_label(&self, label: &str) -> Option<&Stream> {
        self.streams.iter().find(|s| s.label.as_deref() == Some(label))
    }

    /// The participant that sends on stream `stream_id`.
    pub fn sender_of(&self, stream_id: &str) -> Option<&Participant> {
        let assoc = self
            .stream_assocs
            .iter()
            .find(|a| a.send.iter().any(|s| s == stream_id))?;
        self.participant(&assoc.participant_id)
    }

    /// The participant that sends on the stream carried by the SDP m-line with `label`.
    pub fn sender_of_label(&self, label: &str) -> Option<&Participant> {
        self.sender_of(&self.stream_by_label(label)?.id)
    }

    /// Whether the participant has left every session it was associated with.
    pub fn has_left(&self, participant_id: &str) -> bool {
        let mut assocs = self
            .session_assocs
            .iter()
            .filter(|a| a.participant_id == participant_id)
            .peekable();
        assocs.peek().is_some() && assocs.all(|a| a.disassociate_time.is_some())
    }

    /// Folds a later document into this state: `complete` replaces everything, `partial`
    /// adds new objects and modifies existing ones (by id; absent fields are kept).
    pub fn apply(&mut self, update: Metadata) {
        if update.data_mode == DataMode::Complete {
            *self = update;
            return;
        }
        self.data_mode = DataMode::Partial;
        for g in update.groups {
            upsert(
                &mut self.groups,
                g,
                |a, b| a.id == b.id,
                |a, b| keep_or(&mut a.associate_time, b.associate_time),
            );
        }
        for s in update.sessions {
            upsert(
                &mut self.sessions,
                s,
                |a, b| a.id == b.id,
                |a, b| {
                    if !b.sip_session_ids.is_empty() {
                        a.sip_session_ids = b.sip_session_ids;
                    }
                    keep_or(&mut a.group_ref, b.group_ref);
                    keep_or(&mut a.start_time, b.start_time);
                    keep_or(&mut a.stop_time, b.stop_time);
                },
            );
        }
        for p in update.participants {
            upsert(
                &mut self.participants,
                p,
                |a, b| a.id == b.id,
                |a, b| {
                    keep_or(&mut a.aor, b.aor);
                    keep_or(&mut a.name, b.name);
                },
            );
        }
        for s in update.streams {
            upsert(
                &mut self.streams,
                s,
                |a, b| a.id == b.id,
                |a, b| {
                    keep_or(&mut a.session_id, b.session_id);
                    keep_or(&mut a.label, b.label);
                },
            );
        }
        for sa in update.stream_assocs {
            // An association lists the participant's current streams: it replaces.
            upsert(
                &mut self.stream_assocs,
                sa,
                |a, b| a.participant_id == b.participant_id,
                |a, b| *a = b,
            );
        }
        for sa in update.session_assocs {
            upsert(
                &mut self.session_assocs,
                sa,
                |a, b| a.participant_id == b.participant_id && a.session_id == b.session_id,
                |a, b| {
                    keep_or(&mut a.associate_time, b.associate_time);
                    keep_or(&mut a.disassociate_time, b.disassociate_time);
                },
            );
        }
    }
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
