//! callrec-client (being written).
