//! rs-metadata: parsing, lookups, and folding a document into itself and into an empty state.
#![no_main]

use callrec_media::metadata::Metadata;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(doc) = Metadata::parse(data) else {
        return;
    };
    for s in &doc.streams {
        if let Some(label) = &s.label {
            let _ = doc.sender_of_label(label);
        }
    }
    for p in &doc.participants {
        let _ = doc.has_left(&p.id);
    }
    let _ = doc.caller();
    let mut state = Metadata::default();
    state.apply(doc.clone());
    state.apply(doc.clone());
    assert_eq!(
        state.participants.len(),
        doc.participants.len(),
        "applying twice adds nothing"
    );
});
