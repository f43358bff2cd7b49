//! Administration, for admins: the recording rules in order (edit, enable, reorder), the
//! directory (users, teams, roles, phones), settings with the schedule preview and an SMTP
//! test, the storage forecast, the dispatch queue (run now, retry one) and the audit log.
//! Plain functions over the signed-in client, named after their routes; the server checks
//! the caller's level on every request, so a non-admin gets `not_permitted` whatever the
//! window shows. A form the server refuses comes back as `invalid` with its `fields`.
//! ("Why recorded" needs nothing here: `get_call` carries the decision trace.)

use crate::error::AppResult;
use crate::state::AppState;
use callrec_client::admin::AuditQuery;
use callrec_client::{Client, ClientError};
use callrec_types::calls::DispatchTarget;
use callrec_types::directory::{NewUser, Phone, PhoneInput, Role, RoleInput, Team, TeamInput, User, UserPatch};
use callrec_types::rules::{Rule, RuleInput};
use callrec_types::wire::{
    AuditPage, RunReport, SchedulePreview, Settings, SettingsPatch, SmtpTestResult, StorageReport,
};
use callrec_types::{DispatchId, PhoneId, RoleId, RuleId, TeamId, UserId};
use serde::{Deserialize, Serialize};
use std::future::Future;
use ts_rs::TS;

/// Audit entries per page unless the window asks otherwise, and the most it may ask for.
const AUDIT_LIMIT: u32 = 100;
const AUDIT_MAX: u32 = 1000;

/// Runs one request with the signed-in client; an expired session goes back to the login form.
async fn with<T, F>(state: &AppState, request: impl FnOnce(Client) -> F) -> AppResult<T>
where
    F: Future<Output = Result<T, ClientError>>,
{
    let client = state.client()?;
    request(client).await.map_err(|e| state.check(e.into()))
}

// ---------------------------------------------------------------------------------------------
// Rules

/// Which way a rule moves in the list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum RuleMove {
    Up,
    Down,
}

/// A rule as the form that would save it unchanged.
pub fn rule_input(rule: &Rule) -> RuleInput {
    RuleInput {
        description: rule.description.clone(),
        enabled: rule.enabled,
        mode: rule.mode,
        role_id: rule.role_id,
        direction: rule.direction,
        origin: rule.origin,
        dispatch: rule.dispatch.clone(),
        position: Some(rule.position),
    }
}

/// The positions to save so that `id` swaps places with its neighbour: the rules in their
/// order (position, then id, as the server lists them) numbered 1, 2, 3, … — only those whose
/// position changes. Renumbering rather than swapping two numbers also repairs equal
/// positions. Empty when the rule is unknown or already first (up) or last (down).
pub fn reorder(rules: &[Rule], id: RuleId, to: RuleMove) -> Vec<(RuleId, i64)> {
    let mut order: Vec<&Rule> = rules.iter().collect();
    order.sort_by_key(|r| (r.position, r.id));
    let Some(at) = order.iter().position(|r| r.id == id) else {
        return Vec::new();
    };
    let other = match to {
        RuleMove::Up if at > 0 => at - 1,
        RuleMove::Down if at + 1 < order.len() => at + 1,
        _ => return Vec::new(),
    };
    order.swap(at, other);
    order
        .iter()
        .enumerate()
        .filter_map(|(i, r)| {
            let position = i as i64 + 1;
            (r.position != position).then_some((r.id, position))
        })
        .collect()
}

/// `list_rules`: every rule, in the order the engine reads them.
pub async fn list_rules(state: &AppState) -> AppResult<Vec<Rule>> {
    with(state, |c| async move { c.list_rules().await }).await
}

/// `create_rule`: a new rule (last unless `position` is given).
pub async fn create_rule(state: &AppState, rule: RuleInput) -> AppResult<Rule> {
    with(state, |c| async move { c.create_rule(&rule).await }).await
}

/// `update_rule`: saves the whole form.
pub async fn update_rule(state: &AppState, id: RuleId, rule: RuleInput) -> AppResult<Rule> {
    with(state, |c| async move { c.update_rule(id, &rule).await }).await
}

/// `delete_rule`.
pub async fn delete_rule(state: &AppState, id: RuleId) -> AppResult<()> {
    with(state, |c| async move { c.delete_rule(id).await }).await
}

/// `set_rule_enabled`: switches one rule on or off, leaving the rest of it as it is now.
pub async fn set_rule_enabled(state: &AppState, id: RuleId, enabled: bool) -> AppResult<Rule> {
    with(state, |c| async move {
        let mut input = rule_input(&c.get_rule(id).await?);
        input.enabled = enabled;
        c.update_rule(id, &input).await
    })
    .await
}

/// `move_rule`: moves a rule one place up or down (saving the new positions of the rules that
/// change); returns the list in its new order.
pub async fn move_rule(state: &AppState, id: RuleId, to: RuleMove) -> AppResult<Vec<Rule>> {
    with(state, |c| async move {
        let rules = c.list_rules().await?;
        for (rule_id, position) in reorder(&rules, id, to) {
            let rule = rules
                .iter()
                .find(|r| r.id == rule_id)
                .expect("reorder only names rules of the list it was given");
            let mut input = rule_input(rule);
            input.position = Some(position);
            c.update_rule(rule_id, &input).await?;
        }
        c.list_rules().await
    })
    .await
}

// ---------------------------------------------------------------------------------------------
// Directory (`list_users` is the journal's command: the same route, the same list)

/// `create_user`.
pub async fn create_user(state: &AppState, user: NewUser) -> AppResult<User> {
    with(state, |c| async move { c.create_user(&user).await }).await
}

/// `update_user`: only the fields present change (a `password` resets it).
pub async fn update_user(state: &AppState, id: UserId, patch: UserPatch) -> AppResult<User> {
    with(state, |c| async move { c.update_user(id, &patch).await }).await
}

/// `delete_user`.
pub async fn delete_user(state: &AppState, id: UserId) -> AppResult<()> {
    with(state, |c| async move { c.delete_user(id).await }).await
}

/// `list_teams`.
pub async fn list_teams(state: &AppState) -> AppResult<Vec<Team>> {
    with(state, |c| async move { c.list_teams().await }).await
}

/// `create_team`.
pub async fn create_team(state: &AppState, team: TeamInput) -> AppResult<Team> {
    with(state, |c| async move { c.create_team(&team).await }).await
}

/// `update_team`: name, members and supervisors as given.
pub async fn update_team(state: &AppState, id: TeamId, team: TeamInput) -> AppResult<Team> {
    with(state, |c| async move { c.update_team(id, &team).await }).await
}

/// `delete_team`.
pub async fn delete_team(state: &AppState, id: TeamId) -> AppResult<()> {
    with(state, |c| async move { c.delete_team(id).await }).await
}

/// `list_roles`.
pub async fn list_roles(state: &AppState) -> AppResult<Vec<Role>> {
    with(state, |c| async move { c.list_roles().await }).await
}

/// `create_role`.
pub async fn create_role(state: &AppState, role: RoleInput) -> AppResult<Role> {
    with(state, |c| async move { c.create_role(&role).await }).await
}

/// `update_role`: name, users and teams as given.
pub async fn update_role(state: &AppState, id: RoleId, role: RoleInput) -> AppResult<Role> {
    with(state, |c| async move { c.update_role(id, &role).await }).await
}

/// `delete_role`.
pub async fn delete_role(state: &AppState, id: RoleId) -> AppResult<()> {
    with(state, |c| async move { c.delete_role(id).await }).await
}

/// `list_phones`.
pub async fn list_phones(state: &AppState) -> AppResult<Vec<Phone>> {
    with(state, |c| async move { c.list_phones().await }).await
}

/// `create_phone`: a phone's MAC (any common spelling) for a user.
pub async fn create_phone(state: &AppState, phone: PhoneInput) -> AppResult<Phone> {
    with(state, |c| async move { c.create_phone(&phone).await }).await
}

/// `update_phone`.
pub async fn update_phone(state: &AppState, id: PhoneId, phone: PhoneInput) -> AppResult<Phone> {
    with(state, |c| async move { c.update_phone(id, &phone).await }).await
}

/// `delete_phone`.
pub async fn delete_phone(state: &AppState, id: PhoneId) -> AppResult<()> {
    with(state, |c| async move { c.delete_phone(id).await }).await
}

// ---------------------------------------------------------------------------------------------
// Settings and storage

/// `get_settings` (the SMTP password shows as `""` or `"********"`).
pub async fn get_settings(state: &AppState) -> AppResult<Settings> {
    with(state, |c| async move { c.get_settings().await }).await
}

/// `update_settings`: only the fields present change; returns the whole result.
pub async fn update_settings(state: &AppState, patch: SettingsPatch) -> AppResult<Settings> {
    with(state, |c| async move { c.update_settings(&patch).await }).await
}

/// `schedule_preview`: the next three runs of `cron` (of the saved schedule when empty).
pub async fn schedule_preview(state: &AppState, cron: Option<String>) -> AppResult<SchedulePreview> {
    let cron = cron.map(|c| c.trim().to_string()).filter(|c| !c.is_empty());
    with(state, |c| async move { c.schedule_preview(cron.as_deref()).await }).await
}

/// `smtp_test`: sends a test message to `to` with the saved SMTP settings.
pub async fn smtp_test(state: &AppState, to: String) -> AppResult<SmtpTestResult> {
    with(state, |c| async move { c.smtp_test(to.trim()).await }).await
}

/// `storage`: bytes used and free, growth per day, days until full.
pub async fn storage(state: &AppState) -> AppResult<StorageReport> {
    with(state, |c| async move { c.storage().await }).await
}

// ---------------------------------------------------------------------------------------------
// Dispatch queue

/// `list_dispatch`: every target with its status, attempts and last error.
pub async fn list_dispatch(state: &AppState) -> AppResult<Vec<DispatchTarget>> {
    with(state, |c| async move { c.list_dispatch().await }).await
}

/// `run_dispatch`: runs the dispatch job now (targets waiting for their backoff included).
pub async fn run_dispatch(state: &AppState) -> AppResult<RunReport> {
    with(state, |c| async move { c.run_dispatch().await }).await
}

/// `retry_dispatch`: sends one target again now; returns it afterwards.
pub async fn retry_dispatch(state: &AppState, id: DispatchId) -> AppResult<DispatchTarget> {
    with(state, |c| async move { c.retry_dispatch(id).await }).await
}

// ---------------------------------------------------------------------------------------------
// Audit log

/// The audit log's filters as the window sends them; empty strings mean "no filter".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct AuditFilter {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<UserId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}

impl AuditFilter {
    pub fn to_query(&self) -> AuditQuery {
        let text = |s: &Option<String>| {
            s.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        AuditQuery {
            cursor: text(&self.cursor),
            limit: Some(self.limit.unwrap_or(AUDIT_LIMIT).clamp(1, AUDIT_MAX)),
            action: text(&self.action),
            user_id: self.user_id,
        }
    }
}

/// `audit`: one page of the audit log, newest first.
pub async fn audit(state: &AppState, filter: AuditFilter) -> AppResult<AuditPage> {
    let query = filter.to_query();
    with(state, |c| async move { c.audit_filtered(&query).await }).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use callrec_types::rules::{Dispatch, RuleDirection, RuleMode, RuleOrigin};

    fn rule(id: i64, position: i64) -> Rule {
        Rule {
            id: RuleId(id),
            description: format!("rule {id}"),
            enabled: true,
            mode: RuleMode::Manual,
            role_id: RoleId(1),
            direction: RuleDirection::Both,
            origin: RuleOrigin::Both,
            dispatch: Dispatch::Store,
            position,
        }
    }

    #[test]
    fn moving_a_rule_swaps_it_with_its_neighbour_and_renumbers_only_what_changes() {
        let rules = [rule(1, 1), rule(2, 2), rule(3, 3)];
        assert_eq!(
            reorder(&rules, RuleId(3), RuleMove::Up),
            vec![(RuleId(3), 2), (RuleId(2), 3)]
        );
        assert_eq!(
            reorder(&rules, RuleId(1), RuleMove::Down),
            vec![(RuleId(2), 1), (RuleId(1), 2)]
        );
        assert!(
            reorder(&rules, RuleId(1), RuleMove::Up).is_empty(),
            "the first stays first"
        );
        assert!(
            reorder(&rules, RuleId(3), RuleMove::Down).is_empty(),
            "the last stays last"
        );
        assert!(
            reorder(&rules, RuleId(9), RuleMove::Up).is_empty(),
            "an unknown rule moves nothing"
        );
    }

    #[test]
    fn equal_or_sparse_positions_are_repaired_in_list_order() {
        // Listed by (position, id): 1, 2, 3; rule 3 swaps with rule 2 and all are renumbered.
        let rules = [rule(2, 5), rule(1, 5), rule(3, 9)];
        let moves = reorder(&rules, RuleId(3), RuleMove::Up);
        assert_eq!(moves, vec![(RuleId(1), 1), (RuleId(3), 2), (RuleId(2), 3)]);
    }

    #[test]
    fn blank_audit_filters_are_left_out_and_the_limit_is_bounded() {
        let q = AuditFilter {
            action: Some("  ".into()),
            limit: Some(100_000),
            ..AuditFilter::default()
        }
        .to_query();
        assert_eq!(q.action, None);
        assert_eq!(q.limit, Some(AUDIT_MAX));
        assert_eq!(AuditFilter::default().to_query().limit, Some(AUDIT_LIMIT));
    }
}
