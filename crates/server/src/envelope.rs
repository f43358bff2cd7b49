//! One event on its way to the push streams, with what the hub needs to decide who may see
//! it. A leaf: the state's hub, the cluster's messages and the push streams all carry it.

use callrec_types::engine::Decision;
use callrec_types::wire::Event;
use callrec_types::UserId;
use std::sync::Arc;

/// One event with what the hub needs to decide who may see it.
#[derive(Debug, Clone)]
pub struct Envelope {
    pub event: Event,
    /// The internal participants of the call the event is about.
    pub users: Vec<UserId>,
    /// For `call` events of live calls: the decision, to tell each viewer whether they may
    /// press record.
    pub decision: Option<Arc<Decision>>,
}
