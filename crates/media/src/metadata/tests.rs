//! Tests of rs-metadata parsing and updates.

use super::*;

/// A complete document in the shape of RFC 7865 §A / RFC 7866 §A.1: one session, two
/// participants, two streams, and who sends what.
pub(crate) const COMPLETE: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<recording xmlns="urn:ietf:params:xml:ns:recording:1">
  <datamode>complete</datamode>
  <group group_id="7+OTCyoxTmqmqyA/1weDAg==">
    <associate-time>2010-12-16T23:41:07Z</associate-time>
  </group>
  <session session_id="hVpd7YQgRW2nD22h7q60JQ==">
    <sipSessionID>ab30317f1a784dc48ff824d0d3715d86;remote=47755a9de7794ba387653f2099600ef2</sipSessionID>
    <group-ref>7+OTCyoxTmqmqyA/1weDAg==</group-ref>
  </session>
  <participant participant_id="srfBElmCRp2QB23b7Mpk0w==">
    <nameID aor="sip:201@pbx.example.com">
      <name xml:lang="en">Alice &amp; Co</name>
    </nameID>
  </participant>
  <participant participant_id="zSfPoSvdSDCmU3A3TRDxAw==">
    <nameID aor="sip:+4930123456@carrier.example.net">
      <name xml:lang="en">Bob</name>
    </nameID>
  </participant>
  <stream stream_id="UAAMm5GRQKSCMVvLyl4rFw==" session_id="hVpd7YQgRW2nD22h7q60JQ==">
    <label>96</label>
  </stream>
  <stream stream_id="i1Pz3to5hGk8fuXl+PbwCw==" session_id="hVpd7YQgRW2nD22h7q60JQ==">
    <label>97</label>
  </stream>
  <sessionrecordingassoc session_id="hVpd7YQgRW2nD22h7q60JQ==">
    <associate-time>2010-12-16T23:41:07Z</associate-time>
  </sessionrecordingassoc>
  <participantsessionassoc participant_id="srfBElmCRp2QB23b7Mpk0w==" session_id="hVpd7YQgRW2nD22h7q60JQ==">
    <associate-time>2010-12-16T23:41:07Z</associate-time>
  </participantsessionassoc>
  <participantsessionassoc participant_id="zSfPoSvdSDCmU3A3TRDxAw==" session_id="hVpd7YQgRW2nD22h7q60JQ==">
    <associate-time>2010-12-16T23:41:07Z</associate-time>
  </participantsessionassoc>
  <participantstreamassoc participant_id="srfBElmCRp2QB23b7Mpk0w==">
    <send>i1Pz3to5hGk8fuXl+PbwCw==</send>
    <recv>UAAMm5GRQKSCMVvLyl4rFw==</recv>
  </participantstreamassoc>
  <participantstreamassoc participant_id="zSfPoSvdSDCmU3A3TRDxAw==">
    <send>UAAMm5GRQKSCMVvLyl4rFw==</send>
    <recv>i1Pz3to5hGk8fuXl+PbwCw==</recv>
  </participantstreamassoc>
  <vendor:extensiondata xmlns:vendor="urn:example:vendor">
    <vendor:participant participant_id="ignored"/>
  </vendor:extensiondata>
</recording>"#;

#[test]
fn parses_participants_streams_and_associations() {
    let m = Metadata::parse(COMPLETE.as_bytes()).expect("valid metadata");
    assert_eq!(m.data_mode, DataMode::Complete, "datamode");
    assert_eq!(m.participants.len(), 2, "vendor extension participant skipped");
    let caller = m.caller().expect("a caller");
    assert_eq!(
        caller.aor.as_deref(),
        Some("sip:201@pbx.example.com"),
        "first is the caller"
    );
    assert_eq!(caller.name.as_deref(), Some("Alice & Co"), "entity resolved");
    assert_eq!(m.sessions[0].sip_session_ids.len(), 1, "Session-ID");
    assert_eq!(m.streams.len(), 2, "two streams");
    assert_eq!(
        m.stream_by_label("97").map(|s| s.id.as_str()),
        Some("i1Pz3to5hGk8fuXl+PbwCw==")
    );
    assert_eq!(
        m.sender_of_label("97").and_then(|p| p.name.as_deref()),
        Some("Alice & Co"),
        "label 97 carries the caller"
    );
    assert_eq!(
        m.sender_of_label("96").and_then(|p| p.name.as_deref()),
        Some("Bob"),
        "label 96 carries the callee"
    );
    assert!(!m.has_left("srfBElmCRp2QB23b7Mpk0w=="), "still in the call");
}

#[test]
fn partial_update_adds_and_modifies() {
    let mut m = Metadata::parse(COMPLETE.as_bytes()).expect("valid");
    let update = r#"<recording xmlns='urn:ietf:params:xml:ns:recording:1'>
        <datamode>partial</datamode>
        <participant participant_id="zSfPoSvdSDCmU3A3TRDxAw==">
          <nameID aor="sip:+4930123456@carrier.example.net"><name>Bob Smith</name></nameID>
        </participant>
        <participant participant_id="newCarol"><nameID aor="sip:205@pbx.example.com"/></participant>
        <stream stream_id="s3" session_id="hVpd7YQgRW2nD22h7q60JQ=="><label>98</label></stream>
        <participantstreamassoc participant_id="newCarol"><send>s3</send></participantstreamassoc>
        <participantsessionassoc participant_id="zSfPoSvdSDCmU3A3TRDxAw==" session_id="hVpd7YQgRW2nD22h7q60JQ==">
          <disassociate-time>2010-12-16T23:45:00Z</disassociate-time>
        </participantsessionassoc>
      </recording>"#;
    m.apply(Metadata::parse(update.as_bytes()).expect("valid update"));
    assert_eq!(m.participants.len(), 3, "Carol added");
    assert_eq!(
        m.participants[1].name.as_deref(),
        Some("Bob Smith"),
        "Bob renamed in place"
    );
    assert_eq!(
        m.caller().map(|p| p.id.as_str()),
        Some("srfBElmCRp2QB23b7Mpk0w=="),
        "caller kept"
    );
    assert_eq!(m.streams.len(), 3, "stream added");
    assert_eq!(
        m.sender_of_label("98").map(|p| p.id.as_str()),
        Some("newCarol"),
        "new sender"
    );
    assert_eq!(
        m.sender_of_label("96").map(|p| p.id.as_str()),
        Some("zSfPoSvdSDCmU3A3TRDxAw==")
    );
    assert!(m.has_left("zSfPoSvdSDCmU3A3TRDxAw=="), "Bob left");
    assert_eq!(m.data_mode, DataMode::Partial, "state records the last mode");

    let complete = r#"<recording xmlns="urn:ietf:params:xml:ns:recording:1">
        <participant participant_id="only"/></recording>"#;
    m.apply(Metadata::parse(complete.as_bytes()).expect("valid"));
    assert_eq!(m.participants.len(), 1, "a complete document replaces the state");
}

#[test]
fn draft_style_aor_and_send_inside_participant() {
    let doc = r#"<recording xmlns="urn:ietf:params:xml:ns:recording:1">
        <participant participant_id="p1"><aor>sip:a@b</aor><name>A</name><send>s1</send></participant>
        <stream stream_id="s1"><label>1</label></stream></recording>"#;
    let m = Metadata::parse(doc.as_bytes()).expect("valid");
    assert_eq!(m.participants[0].aor.as_deref(), Some("sip:a@b"), "aor element");
    assert_eq!(
        m.sender_of_label("1").map(|p| p.id.as_str()),
        Some("p1"),
        "send inside participant"
    );
}

#[test]
fn refusals_are_named() {
    let cases: [(&str, MetadataError); 6] = [
        (
            "<other xmlns='urn:ietf:params:xml:ns:recording:1'/>",
            MetadataError::NotRecording,
        ),
        ("<recording xmlns='urn:example'/>", MetadataError::NotRecording),
        (
            "<!DOCTYPE r [<!ENTITY a 'b'>]><recording xmlns='urn:ietf:params:xml:ns:recording:1'/>",
            MetadataError::Dtd,
        ),
        (
            "<recording xmlns='urn:ietf:params:xml:ns:recording:1'><participant/></recording>",
            MetadataError::MissingAttribute {
                element: "participant",
                attribute: "participant_id",
            },
        ),
        (
            "<recording xmlns='urn:ietf:params:xml:ns:recording:1'><datamode>x</datamode></recording>",
            MetadataError::BadDataMode("x".into()),
        ),
        (
            "<recording xmlns='urn:ietf:params:xml:ns:recording:1'><participant participant_id='a'>\
             <name>&foo;</name></participant></recording>",
            MetadataError::UnknownEntity,
        ),
    ];
    for (doc, want) in cases {
        assert_eq!(
            Metadata::parse(doc.as_bytes()),
            Err(want.clone()),
            "{doc} should be {want}"
        );
    }
    assert_eq!(
        Metadata::parse(&vec![b' '; MAX_METADATA_LEN + 1]),
        Err(MetadataError::TooLarge),
        "size"
    );
    let deep = format!(
        "<recording xmlns='urn:ietf:params:xml:ns:recording:1'>{}{}</recording>",
        "<x>".repeat(MAX_DEPTH),
        "</x>".repeat(MAX_DEPTH)
    );
    assert_eq!(Metadata::parse(deep.as_bytes()), Err(MetadataError::TooDeep), "depth");
    let many = format!(
        "<recording xmlns='urn:ietf:params:xml:ns:recording:1'>{}</recording>",
        (0..=MAX_OBJECTS)
            .map(|i| format!("<participant participant_id='p{i}'/>"))
            .collect::<String>()
    );
    assert_eq!(
        Metadata::parse(many.as_bytes()),
        Err(MetadataError::TooManyElements),
        "count"
    );
    assert!(
        Metadata::parse(b"<recording xmlns='urn:ietf:params:xml:ns:recording:1'>").is_err(),
        "unclosed root"
    );
    assert!(
        matches!(
            Metadata::parse(b"<recording xmlns='urn:ietf:params:xml:ns:recording:1'></b>"),
            Err(MetadataError::Xml(_))
        ),
        "mismatched tags"
    );
}
