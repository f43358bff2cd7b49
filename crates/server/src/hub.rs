//! Publishing to the event hub: an event gets the directory's names filled in once, here, and
//! goes to every push stream whose viewer may see it (see [`crate::state::Envelope`]).

use crate::state::{AppState, Envelope};
use callrec_types::engine::Decision;
use callrec_types::wire::Event;
use callrec_types::UserId;
use std::sync::Arc;

impl AppState {
    /// Sends an event to the push streams, with the directory's names filled in (once here,
    /// not once per viewer).
    pub async fn publish(&self, mut event: Event, users: Vec<UserId>, decision: Option<Arc<Decision>>) {
        crate::names::fill_or_log(self, &mut event).await;
        let env = Arc::new(Envelope { event, users, decision });
        // Several nodes: the others' push streams get it too (queued, never waited on).
        if let Some(c) = &self.cluster {
            c.forward(env.clone());
        }
        // No receivers is fine: nobody is listening.
        let _ = self.events.send(env);
    }
}
