//! What a journal query walks: whose calls ([`Walk`], from the viewer's scope and the user
//! filter) and from where the page starts ([`Upper`]).

use super::super::ms;
use crate::{JournalCursor, JournalQuery, Scope};
use callrec_types::UserId;

/// Whose calls a query walks.
pub(super) enum Walk {
    /// Every call: an admin without a user filter.
    All,
    /// The calls of `users`; with `within`, only those in which one of each list of `within`
    /// took part too (a user filter naming someone outside the viewer's scope, users found by
    /// name: the intersection).
    Users { users: Vec<i64>, within: Vec<Vec<i64>> },
}

impl Walk {
    pub(super) fn of(q: &JournalQuery) -> Walk {
        let ids = |l: &[UserId]| l.iter().map(|u| u.0).collect::<Vec<_>>();
        match (&q.scope, q.user_id) {
            (Scope::All, None) => Walk::All,
            (Scope::All, Some(u)) => Walk::Users {
                users: vec![u.0],
                within: Vec::new(),
            },
            (Scope::Users(list), None) => Walk::Users {
                users: ids(list),
                within: Vec::new(),
            },
            (Scope::Users(list), Some(u)) => Walk::Users {
                users: vec![u.0],
                within: if list.contains(&u) { Vec::new() } else { vec![ids(list)] },
            },
        }
    }

    /// This walk narrowed to the calls in which one of `users` took part: the smallest list is
    /// walked, every other one checked per call.
    pub(super) fn narrowed_to(&self, users: Vec<i64>) -> (Vec<i64>, Vec<Vec<i64>>) {
        let mut lists = match self {
            Walk::All => Vec::new(),
            Walk::Users { users, within } => {
                let mut l = vec![users.clone()];
                l.extend(within.iter().cloned());
                l
            }
        };
        lists.push(users);
        lists.sort_by_key(Vec::len);
        let walked = lists.remove(0);
        (walked, lists)
    }
}

/// The newest end of the page: `to` (exclusive) or the cursor, whichever is tighter. Only one
/// is given to SQLite, so that it can start its index walk there (with both, it may start
/// at `to` and step over every row down to the cursor).
pub(super) enum Upper {
    None,
    Before(i64),
    Cursor(JournalCursor),
}

impl Upper {
    pub(super) fn of(q: &JournalQuery) -> Upper {
        match (q.to.map(ms), q.cursor) {
            (None, None) => Upper::None,
            (Some(to), None) => Upper::Before(to),
            (None, Some(c)) => Upper::Cursor(c),
            (Some(to), Some(c)) if c.started_at_ms < to => Upper::Cursor(c),
            (Some(to), Some(_)) => Upper::Before(to),
        }
    }
}
