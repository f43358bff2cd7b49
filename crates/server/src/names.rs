//! Directory names on what the server sends (#17): each internal participant's `user_name` and
//! each automatic recording's `rule_name`, looked up from the directory and the rules as they
//! are now — so old calls and renamed users show the right name — and never stored. One
//! statement for the users and one for the rules of a whole response, however many calls it
//! holds (the two at once), and none when it names no user or rule.

use crate::error::ApiError;
use crate::state::AppState;
use callrec_types::calls::{
    Call, CallDetail, DispatchTarget, JournalDocument, JournalItem, Participant, Recording, Trigger,
};
use callrec_types::scorecards::Review;
use callrec_types::wire::Event;
use callrec_types::{RuleId, UserId};
use std::collections::HashMap;

/// The names a response needs.
#[derive(Debug, Default)]
pub struct Names {
    users: HashMap<UserId, String>,
    rules: HashMap<RuleId, String>,
}

/// Something sent to people that names users or rules.
pub trait Named {
    /// Adds the users and rules it names to `users` and `rules`.
    fn names_wanted(&self, users: &mut Vec<UserId>, rules: &mut Vec<RuleId>);
    /// Fills in their names (and clears a name whose user or rule is gone).
    fn fill_names(&mut self, names: &Names);
}

impl Names {
    /// Looks up the names `item` needs.
    pub async fn of<T: Named + ?Sized>(state: &AppState, item: &T) -> Result<Names, ApiError> {
        let (mut users, mut rules) = (Vec::new(), Vec::new());
        item.names_wanted(&mut users, &mut rules);
        users.sort_unstable();
        users.dedup();
        rules.sort_unstable();
        rules.dedup();
        // Both at once: on PostgreSQL each is a round trip to the database.
        let (users, rules) = tokio::try_join!(
            async {
                if users.is_empty() {
                    Ok(HashMap::new())
                } else {
                    state.store.user_names(&users).await
                }
            },
            async {
                if rules.is_empty() {
                    Ok(HashMap::new())
                } else {
                    state.store.rule_names(&rules).await
                }
            },
        )?;
        Ok(Names { users, rules })
    }
}

/// Fills in the directory names of `item`.
pub async fn fill<T: Named + ?Sized>(state: &AppState, item: &mut T) -> Result<(), ApiError> {
    let names = Names::of(state, item).await?;
    item.fill_names(&names);
    Ok(())
}

/// [`fill`] for what is pushed or written in the background: a failed lookup is logged and the
/// item goes out without names (the PBX's names are still there) rather than not at all.
pub async fn fill_or_log<T: Named + ?Sized>(state: &AppState, item: &mut T) {
    if let Err(e) = fill(state, item).await {
        tracing::warn!(error = %e, "could not look up directory names; sending without them");
    }
}

impl Named for Participant {
    fn names_wanted(&self, users: &mut Vec<UserId>, _: &mut Vec<RuleId>) {
        users.extend(self.user_id);
    }
    fn fill_names(&mut self, names: &Names) {
        self.user_name = self.user_id.and_then(|u| names.users.get(&u).cloned());
    }
}

impl Named for Trigger {
    fn names_wanted(&self, _: &mut Vec<UserId>, rules: &mut Vec<RuleId>) {
        if let Trigger::Auto { rule_id: Some(r), .. } = self {
            rules.push(*r);
        }
    }
    fn fill_names(&mut self, names: &Names) {
        if let Trigger::Auto { rule_id, rule_name } = self {
            *rule_name = rule_id.and_then(|r| names.rules.get(&r).cloned());
        }
    }
}

impl Named for Review {
    fn names_wanted(&self, users: &mut Vec<UserId>, _: &mut Vec<RuleId>) {
        users.extend([self.agent_id, self.reviewer_id]);
    }
    fn fill_names(&mut self, names: &Names) {
        self.agent_name = names.users.get(&self.agent_id).cloned();
        self.reviewer_name = names.users.get(&self.reviewer_id).cloned();
    }
}

impl<T: Named> Named for [T] {
    fn names_wanted(&self, users: &mut Vec<UserId>, rules: &mut Vec<RuleId>) {
        for t in self {
            t.names_wanted(users, rules);
        }
    }
    fn fill_names(&mut self, names: &Names) {
        for t in self {
            t.fill_names(names);
        }
    }
}

impl<T: Named> Named for Vec<T> {
    fn names_wanted(&self, users: &mut Vec<UserId>, rules: &mut Vec<RuleId>) {
        Named::names_wanted(self.as_slice(), users, rules);
    }
    fn fill_names(&mut self, names: &Names) {
        Named::fill_names(self.as_mut_slice(), names);
    }
}

impl Named for Call {
    fn names_wanted(&self, users: &mut Vec<UserId>, rules: &mut Vec<RuleId>) {
        self.participants.names_wanted(users, rules);
    }
    fn fill_names(&mut self, names: &Names) {
        self.participants.fill_names(names);
    }
}

impl Named for Recording {
    fn names_wanted(&self, users: &mut Vec<UserId>, rules: &mut Vec<RuleId>) {
        self.trigger.names_wanted(users, rules);
    }
    fn fill_names(&mut self, names: &Names) {
        self.trigger.fill_names(names);
    }
}

impl Named for CallDetail {
    fn names_wanted(&self, users: &mut Vec<UserId>, rules: &mut Vec<RuleId>) {
        self.call.names_wanted(users, rules);
        self.recordings.names_wanted(users, rules);
    }
    fn fill_names(&mut self, names: &Names) {
        self.call.fill_names(names);
        self.recordings.fill_names(names);
    }
}

impl Named for JournalItem {
    fn names_wanted(&self, users: &mut Vec<UserId>, rules: &mut Vec<RuleId>) {
        self.call.names_wanted(users, rules);
    }
    fn fill_names(&mut self, names: &Names) {
        self.call.fill_names(names);
    }
}

impl Named for JournalDocument {
    fn names_wanted(&self, users: &mut Vec<UserId>, rules: &mut Vec<RuleId>) {
        self.call.names_wanted(users, rules);
        self.recordings.names_wanted(users, rules);
    }
    fn fill_names(&mut self, names: &Names) {
        self.call.fill_names(names);
        self.recordings.fill_names(names);
    }
}

impl Named for DispatchTarget {
    fn names_wanted(&self, users: &mut Vec<UserId>, rules: &mut Vec<RuleId>) {
        if let Some(c) = &self.call {
            c.participants.names_wanted(users, rules);
        }
    }
    fn fill_names(&mut self, names: &Names) {
        if let Some(c) = &mut self.call {
            c.participants.fill_names(names);
        }
    }
}

impl Named for Event {
    fn names_wanted(&self, users: &mut Vec<UserId>, rules: &mut Vec<RuleId>) {
        match self {
            Event::Call(d) => d.names_wanted(users, rules),
            Event::Recording(r) => r.names_wanted(users, rules),
            Event::CallEnded { .. } | Event::Journal { .. } | Event::Alarm(_) | Event::Lagged {} => {}
        }
    }
    fn fill_names(&mut self, names: &Names) {
        match self {
            Event::Call(d) => d.fill_names(names),
            Event::Recording(r) => r.fill_names(names),
            Event::CallEnded { .. } | Event::Journal { .. } | Event::Alarm(_) | Event::Lagged {} => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use callrec_types::calls::ParticipantRole;

    #[test]
    fn fills_known_users_and_rules_and_clears_what_is_gone() {
        let names = Names {
            users: HashMap::from([(UserId(1), "Alice Adams".to_string())]),
            rules: HashMap::from([(RuleId(7), "Support incoming".to_string())]),
        };
        let p = |user_id, user_name: Option<&str>| Participant {
            name: "Caller".into(),
            number: "201".into(),
            user_id,
            role: ParticipantRole::Caller,
            user_name: user_name.map(str::to_string),
        };
        let mut ps = vec![
            p(Some(UserId(1)), None),
            p(Some(UserId(2)), Some("stale")),
            p(None, None),
        ];
        let (mut users, mut rules) = (Vec::new(), Vec::new());
        ps.names_wanted(&mut users, &mut rules);
        assert_eq!(users, vec![UserId(1), UserId(2)], "internal participants only");
        ps.fill_names(&names);
        let got: Vec<Option<&str>> = ps.iter().map(|p| p.user_name.as_deref()).collect();
        assert_eq!(
            got,
            vec![Some("Alice Adams"), None, None],
            "the directory's name; none for a deleted user or an external party"
        );
        let mut t = Trigger::Auto {
            rule_id: Some(RuleId(7)),
            rule_name: None,
        };
        t.fill_names(&names);
        assert_eq!(
            t,
            Trigger::Auto {
                rule_id: Some(RuleId(7)),
                rule_name: Some("Support incoming".into())
            }
        );
        let mut gone = Trigger::Auto {
            rule_id: Some(RuleId(8)),
            rule_name: Some("old".into()),
        };
        gone.fill_names(&names);
        assert_eq!(
            gone,
            Trigger::Auto {
                rule_id: Some(RuleId(8)),
                rule_name: None
            },
            "a deleted rule has no name"
        );
    }
}
