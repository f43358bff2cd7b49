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
use callrec_types::alarms::{Alarm, AlarmQuery};
use callrec_types::calls::DispatchTarget;
use callrec_types::directory::{NewUser, Phone, PhoneInput, Role, RoleInput, Team, TeamInput, User, UserPatch};
use callrec_types::rules::{Rule, RuleInput, RuleMove};
use callrec_types::wire::{
    AuditPage, RunReport, SchedulePreview, Settings, SettingsPatch, SmtpTestResult, StorageReport,
};
use callrec_types::{AlarmId, DispatchId, PhoneId, RoleId, RuleId, TeamId, UserId};
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

/// `set_rule_enabled`: switches one rule on or off, leaving the rest of it as it is now (one
/// statement on the server).
pub async fn set_rule_enabled(state: &AppState, id: RuleId, enabled: bool) -> AppResult<Rule> {
    with(state, |c| async move { c.set_rule_enabled(id, enabled).await }).await
}

/// `move_rule`: moves a rule one place up or down (one transaction on the server); returns
/// the list in its new order.
pub async fn move_rule(state: &AppState, id: RuleId, to: RuleMove) -> AppResult<Vec<Rule>> {
    with(state, |c| async move { c.move_rule(id, to).await }).await
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
// Missing-recording alarms

/// `list_alarms`: the alarms, newest first (only the unacknowledged ones when asked).
pub async fn list_alarms(state: &AppState, unacknowledged: bool) -> AppResult<Vec<Alarm>> {
    let query = AlarmQuery {
        unacknowledged,
        limit: None,
    };
    with(state, |c| async move { c.list_alarms(&query).await }).await
}

/// `ack_alarm`: acknowledges an alarm; the alarm afterwards.
pub async fn ack_alarm(state: &AppState, id: AlarmId) -> AppResult<Alarm> {
    with(state, |c| async move { c.ack_alarm(id).await }).await
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
