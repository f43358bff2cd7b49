//! Reading an rs-metadata document with quick-xml, within fixed limits.
//!
//! The size is checked before parsing; depth, element count, object count and text length
//! while parsing. A DTD is refused (no entity can be declared, so none can expand), and only
//! the five predefined entities and character references are resolved. Elements in other
//! namespaces (vendor extensions, RFC 7865 §6.10 `extensiondata`) are skipped with their
//! content. Unknown elements of the recording namespace are skipped too.

use quick_xml::events::{BytesRef, BytesStart, Event};
use quick_xml::name::{Namespace, ResolveResult};
use quick_xml::NsReader;

use super::{DataMode, Group, Metadata, MetadataError, Participant, Session, SessionAssoc, Stream, StreamAssoc};

/// The RFC 7865 namespace.
pub const RECORDING_NS: &str = "urn:ietf:params:xml:ns:recording:1";
/// The largest document accepted.
pub const MAX_METADATA_LEN: usize = 64 * 1024;
/// The deepest element nesting accepted.
pub const MAX_DEPTH: usize = 16;
/// The most elements accepted.
pub const MAX_ELEMENTS: usize = 4096;
/// The most objects of one kind (participants, streams, sessions, …).
pub const MAX_OBJECTS: usize = 64;
/// The longest text value.
const MAX_TEXT: usize = 1024;

/// What an open element means to the parser.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Frame {
    Recording,
    Group(usize),
    Session(usize),
    Participant(usize),
    NameId(usize),
    Stream(usize),
    StreamAssoc(usize),
    SessionAssoc(usize),
    Leaf(Leaf),
    Skip,
}

/// An element whose text is a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Leaf {
    DataMode,
    GroupAssociate(usize),
    SipSessionId(usize),
    GroupRef(usize),
    StartTime(usize),
    StopTime(usize),
    Aor(usize),
    Name(usize),
    Label(usize),
    Send(usize),
    Recv(usize),
    Associate(usize),
    Disassociate(usize),
    Ignored,
}

impl Metadata {
    /// Parses one rs-metadata document.
    pub fn parse(xml: &[u8]) -> Result<Metadata, MetadataError> {
        if xml.len() > MAX_METADATA_LEN {
            return Err(MetadataError::TooLarge);
        }
        let text = std::str::from_utf8(xml).map_err(|_| MetadataError::NotUtf8)?;
        let mut reader = NsReader::from_str(text);
        // No text trimming: it would also trim around entity references (`a &amp; b`);
        // values are trimmed when their element closes.
        let mut doc = Doc::default();
        let mut stack: Vec<Frame> = Vec::new();
        let mut value = String::new();
        let mut elements = 0usize;
        let mut saw_root = false;
        loop {
            let (resolved, event) = reader.read_resolved_event().map_err(xml_error)?;
            let ours = match resolved {
                ResolveResult::Bound(Namespace(ns)) => ns == RECORDING_NS.as_bytes(),
                // Lenient: a document that forgot its default namespace.
                ResolveResult::Unbound => true,
                ResolveResult::Unknown(_) => false,
            };
            match event {
                Event::Start(ref e) | Event::Empty(ref e) => {
                    elements += 1;
                    if elements > MAX_ELEMENTS {
                        return Err(MetadataError::TooManyElements);
                    }
                    if stack.len() >= MAX_DEPTH {
                        return Err(MetadataError::TooDeep);
                    }
                    let frame = match stack.last() {
                        None if saw_root => return Err(MetadataError::NotRecording),
                        None if ours && e.local_name().as_ref() == b"recording" => {
                            saw_root = true;
                            Frame::Recording
                        }
                        None => return Err(MetadataError::NotRecording),
                        Some(_) if !ours => Frame::Skip,
                        Some(&parent) => doc.open(parent, e)?,
                    };
                    value.clear();
                    if matches!(event, Event::Start(_)) {
                        stack.push(frame);
                    } else {
                        doc.close(frame, "")?;
                    }
                }
                Event::End(_) => {
                    let frame = stack.pop().ok_or(MetadataError::NotRecording)?;
                    doc.close(frame, &value)?;
                    value.clear();
                }
                Event::Text(t) => {
                    if matches!(stack.last(), Some(Frame::Leaf(_))) {
                        let s = t.xml10_content().map_err(|e| MetadataError::Xml(e.to_string()))?;
                        push_text(&mut value, &s)?;
                    }
                }
                Event::CData(t) => {
                    if matches!(stack.last(), Some(Frame::Leaf(_))) {
                        let s = t.decode().map_err(|e| MetadataError::Xml(e.to_string()))?;
                        push_text(&mut value, &s)?;
                    }
                }
                Event::GeneralRef(r) => {
                    let resolved = resolve_ref(&r)?;
                    if matches!(stack.last(), Some(Frame::Leaf(_))) {
                        let mut buf = [0u8; 4];
                        push_text(&mut value, resolved.encode_utf8(&mut buf))?;
                    }
                }
                Event::DocType(_) => return Err(MetadataError::Dtd),
                Event::Eof => break,
                Event::Comment(_) | Event::Decl(_) | Event::PI(_) => {}
            }
        }
        if !saw_root || !stack.is_empty() {
            return Err(MetadataError::NotRecording);
        }
        doc.finish()
    }
}

fn xml_error(e: quick_xml::Error) -> MetadataError {
    MetadataError::Xml(e.to_string())
}

fn push_text(value: &mut String, s: &str) -> Result<(), MetadataError> {
    if value.len() + s.len() > MAX_TEXT {
        return Err(MetadataError::TextTooLong);
    }
    value.push_str(s);
    Ok(())
}

/// One of the five predefined entities or a character reference.
fn resolve_ref(r: &BytesRef<'_>) -> Result<char, MetadataError> {
    if let Some(c) = r.resolve_char_ref().map_err(xml_error)? {
        return Ok(c);
    }
    let name = r.decode().map_err(|e| MetadataError::Xml(e.to_string()))?;
    match quick_xml::escape::resolve_xml_entity(&name).and_then(|s| s.chars().next()) {
        Some(c) => Ok(c),
        None => Err(MetadataError::UnknownEntity),
    }
}

fn attr(e: &BytesStart<'_>, name: &str) -> Result<Option<String>, MetadataError> {
    match e
        .try_get_attribute(name)
        .map_err(|e| MetadataError::Xml(e.to_string()))?
    {
        Some(a) => {
            let v = a.unescape_value().map_err(xml_error)?;
            if v.len() > MAX_TEXT {
                return Err(MetadataError::TextTooLong);
            }
            Ok(Some(v.trim().to_owned()))
        }
        None => Ok(None),
    }
}

fn required(e: &BytesStart<'_>, element: &'static str, attribute: &'static str) -> Result<String, MetadataError> {
    attr(e, attribute)?
        .filter(|v| !v.is_empty())
        .ok_or(MetadataError::MissingAttribute { element, attribute })
}

/// The document being built.
#[derive(Default)]
struct Doc {
    data_mode: Option<DataMode>,
    groups: Vec<Group>,
    sessions: Vec<Session>,
    participants: Vec<Participant>,
    streams: Vec<Stream>,
    stream_assocs: Vec<StreamAssoc>,
    session_assocs: Vec<SessionAssoc>,
}

/// The index of the object with this id, created if new (so repeated ids merge).
fn index_of<T>(
    list: &mut Vec<T>,
    matches: impl Fn(&T) -> bool,
    create: impl FnOnce() -> T,
) -> Result<usize, MetadataError> {
    if let Some(i) = list.iter().position(matches) {
        return Ok(i);
    }
    if list.len() >= MAX_OBJECTS {
        return Err(MetadataError::TooManyElements);
    }
    list.push(create());
    Ok(list.len() - 1)
}

impl Doc {
    /// What a child element named by `e` of `parent` means.
    fn open(&mut self, parent: Frame, e: &BytesStart<'_>) -> Result<Frame, MetadataError> {
        let name = e.local_name();
        let frame = match (parent, name.as_ref()) {
            (Frame::Recording, b"datamode") => Frame::Leaf(Leaf::DataMode),
            (Frame::Recording, b"group") => {
                let id = required(e, "group", "group_id")?;
                Frame::Group(index_of(
                    &mut self.groups,
                    |g| g.id == id,
                    || Group {
                        id: id.clone(),
                        associate_time: None,
                    },
                )?)
            }
            (Frame::Recording, b"session") => {
                let id = required(e, "session", "session_id")?;
                Frame::Session(index_of(
                    &mut self.sessions,
                    |s| s.id == id,
                    || Session {
                        id: id.clone(),
                        sip_session_ids: Vec::new(),
                        group_ref: None,
                        start_time: None,
                        stop_time: None,
                    },
                )?)
            }
            (Frame::Recording, b"participant") => {
                let id = required(e, "participant", "participant_id")?;
                Frame::Participant(self.participant(&id)?)
            }
            (Frame::Recording, b"stream") => {
                let id = required(e, "stream", "stream_id")?;
                let session_id = attr(e, "session_id")?;
                let i = index_of(
                    &mut self.streams,
                    |s| s.id == id,
                    || Stream {
                        id: id.clone(),
                        session_id: None,
                        label: None,
                    },
                )?;
                if session_id.is_some() {
                    self.streams[i].session_id = session_id;
                }
                Frame::Stream(i)
            }
            (Frame::Recording, b"participantstreamassoc") => {
                let id = required(e, "participantstreamassoc", "participant_id")?;
                Frame::StreamAssoc(self.stream_assoc(&id)?)
            }
            (Frame::Recording, b"participantsessionassoc") => {
                let pid = required(e, "participantsessionassoc", "participant_id")?;
                let sid = required(e, "participantsessionassoc", "session_id")?;
                Frame::SessionAssoc(index_of(
                    &mut self.session_assocs,
                    |a| a.participant_id == pid && a.session_id == sid,
                    || SessionAssoc {
                        participant_id: pid.clone(),
                        session_id: sid.clone(),
                        associate_time: None,
                        disassociate_time: None,
                    },
                )?)
            }
            (Frame::Group(g), b"associate-time") => Frame::Leaf(Leaf::GroupAssociate(g)),
            (Frame::Session(s), b"sipSessionID") => Frame::Leaf(Leaf::SipSessionId(s)),
            (Frame::Session(s), b"group-ref") => Frame::Leaf(Leaf::GroupRef(s)),
            (Frame::Session(s), b"start-time") => Frame::Leaf(Leaf::StartTime(s)),
            (Frame::Session(s), b"stop-time") => Frame::Leaf(Leaf::StopTime(s)),
            (Frame::Participant(p), b"nameID") => {
                if let Some(aor) = attr(e, "aor")?.filter(|a| !a.is_empty()) {
                    self.participants[p].aor.get_or_insert(aor);
                }
                Frame::NameId(p)
            }
            (Frame::Participant(p), b"aor") => Frame::Leaf(Leaf::Aor(p)),
            (Frame::Participant(p) | Frame::NameId(p), b"name") => Frame::Leaf(Leaf::Name(p)),
            // Pre-RFC drafts put send/recv inside <participant>.
            (Frame::Participant(p), b"send" | b"recv") => {
                let id = self.participants[p].id.clone();
                let a = self.stream_assoc(&id)?;
                if name.as_ref() == b"send" {
                    Frame::Leaf(Leaf::Send(a))
                } else {
                    Frame::Leaf(Leaf::Recv(a))
                }
            }
            (Frame::Stream(s), b"label") => Frame::Leaf(Leaf::Label(s)),
            (Frame::StreamAssoc(a), b"send") => Frame::Leaf(Leaf::Send(a)),
            (Frame::StreamAssoc(a), b"recv") => Frame::Leaf(Leaf::Recv(a)),
            (Frame::SessionAssoc(a), b"associate-time") => Frame::Leaf(Leaf::Associate(a)),
            (Frame::SessionAssoc(a), b"disassociate-time") => Frame::Leaf(Leaf::Disassociate(a)),
            (Frame::Leaf(_), _) => Frame::Leaf(Leaf::Ignored),
            _ => Frame::Skip,
        };
        Ok(frame)
    }

    fn participant(&mut self, id: &str) -> Result<usize, MetadataError> {
        index_of(
            &mut self.participants,
            |p| p.id == id,
            || Participant {
                id: id.to_owned(),
                aor: None,
                name: None,
            },
        )
    }

    fn stream_assoc(&mut self, id: &str) -> Result<usize, MetadataError> {
        index_of(
            &mut self.stream_assocs,
            |a| a.participant_id == id,
            || StreamAssoc {
                participant_id: id.to_owned(),
                send: Vec::new(),
                recv: Vec::new(),
            },
        )
    }

    /// Stores the text of a closed leaf element.
    fn close(&mut self, frame: Frame, text: &str) -> Result<(), MetadataError> {
        let Frame::Leaf(leaf) = frame else {
            return Ok(());
        };
        let text = text.trim();
        let value = || (!text.is_empty()).then(|| text.to_owned());
        let ids = || text.split_ascii_whitespace().map(str::to_owned);
        match leaf {
            Leaf::DataMode => {
                self.data_mode = Some(match text {
                    "complete" => DataMode::Complete,
                    "partial" => DataMode::Partial,
                    other => return Err(MetadataError::BadDataMode(other.to_owned())),
                })
            }
            Leaf::GroupAssociate(g) => self.groups[g].associate_time = value(),
            Leaf::SipSessionId(s) => self.sessions[s].sip_session_ids.extend(value()),
            Leaf::GroupRef(s) => self.sessions[s].group_ref = value(),
            Leaf::StartTime(s) => self.sessions[s].start_time = value(),
            Leaf::StopTime(s) => self.sessions[s].stop_time = value(),
            Leaf::Aor(p) => {
                if let Some(v) = value() {
                    self.participants[p].aor.get_or_insert(v);
                }
            }
            Leaf::Name(p) => {
                if let Some(v) = value() {
                    self.participants[p].name.get_or_insert(v);
                }
            }
            Leaf::Label(s) => self.streams[s].label = value(),
            Leaf::Send(a) | Leaf::Recv(a) => {
                let assoc = &mut self.stream_assocs[a];
                let list = if matches!(leaf, Leaf::Send(_)) {
                    &mut assoc.send
                } else {
                    &mut assoc.recv
                };
                list.extend(ids());
                if assoc.send.len() + assoc.recv.len() > MAX_OBJECTS {
                    return Err(MetadataError::TooManyElements);
                }
            }
            Leaf::Associate(a) => self.session_assocs[a].associate_time = value(),
            Leaf::Disassociate(a) => self.session_assocs[a].disassociate_time = value(),
            Leaf::Ignored => {}
        }
        Ok(())
    }

    fn finish(self) -> Result<Metadata, MetadataError> {
        Ok(Metadata {
            data_mode: self.data_mode.unwrap_or_default(),
            groups: self.groups,
            sessions: self.sessions,
            participants: self.participants,
            streams: self.streams,
            stream_assocs: self.stream_assocs,
            session_assocs: self.session_assocs,
        })
    }
}
