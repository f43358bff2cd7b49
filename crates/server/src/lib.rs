//! callrec-server (being written).
