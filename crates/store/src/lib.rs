//! callrec-store (being written).
