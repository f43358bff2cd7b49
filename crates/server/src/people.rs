//! People by name: the users one user may see as people (who they are, nothing of their
//! extensions, teams or rights) — whom a recording may be shared with, and the people in a
//! caller's scope (a supervisor's team members for their Team scores).

use crate::caller::Caller;
use crate::error::ApiResult;
use crate::state::AppState;
use callrec_store::Scope;
use callrec_types::directory::Person;

/// Every user of the directory, by name.
pub async fn everybody(s: &AppState) -> ApiResult<Vec<Person>> {
    let mut people: Vec<Person> = s
        .store
        .list_users()
        .await?
        .into_iter()
        .map(|u| Person {
            id: u.id,
            username: u.username,
            display_name: u.display_name,
            level: u.level,
        })
        .collect();
    people.sort_by(|a, b| {
        a.display_name
            .to_lowercase()
            .cmp(&b.display_name.to_lowercase())
            .then(a.id.cmp(&b.id))
    });
    Ok(people)
}

/// The people in `c`'s scope, themselves included: everybody for an admin, a supervisor's
/// teams' members, an agent alone.
pub async fn in_scope(s: &AppState, c: &Caller) -> ApiResult<Vec<Person>> {
    let mut people = everybody(s).await?;
    if let Scope::Users(users) = &c.scope {
        people.retain(|p| p.id == c.id() || users.contains(&p.id));
    }
    Ok(people)
}
