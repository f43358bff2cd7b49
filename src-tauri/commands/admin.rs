//! Commands: administration (rules, directory, settings, storage, dispatch queue, alarms, audit), one
//! line each over `crate::admin`. The server refuses every one of them to non-admins.

use crate::admin::{self, AuditFilter};
use crate::error::AppError;
use crate::state::AppState;
use callrec_types::alarms::Alarm;
use callrec_types::calls::DispatchTarget;
use callrec_types::directory::{NewUser, Phone, PhoneInput, Role, RoleInput, Team, TeamInput, User, UserPatch};
use callrec_types::rules::{Rule, RuleInput, RuleMove};
use callrec_types::wire::{
    AuditPage, RunReport, SchedulePreview, Settings, SettingsPatch, SmtpTestResult, StorageReport,
};
use callrec_types::{AlarmId, DispatchId, PhoneId, RoleId, RuleId, TeamId, UserId};
use tauri::State;

#[tauri::command]
pub async fn list_rules(state: State<'_, AppState>) -> Result<Vec<Rule>, AppError> {
    admin::list_rules(&state).await
}

#[tauri::command]
pub async fn create_rule(state: State<'_, AppState>, rule: RuleInput) -> Result<Rule, AppError> {
    admin::create_rule(&state, rule).await
}

#[tauri::command]
pub async fn update_rule(state: State<'_, AppState>, rule_id: RuleId, rule: RuleInput) -> Result<Rule, AppError> {
    admin::update_rule(&state, rule_id, rule).await
}

#[tauri::command]
pub async fn delete_rule(state: State<'_, AppState>, rule_id: RuleId) -> Result<(), AppError> {
    admin::delete_rule(&state, rule_id).await
}

#[tauri::command]
pub async fn set_rule_enabled(state: State<'_, AppState>, rule_id: RuleId, enabled: bool) -> Result<Rule, AppError> {
    admin::set_rule_enabled(&state, rule_id, enabled).await
}

#[tauri::command]
pub async fn move_rule(state: State<'_, AppState>, rule_id: RuleId, to: RuleMove) -> Result<Vec<Rule>, AppError> {
    admin::move_rule(&state, rule_id, to).await
}

#[tauri::command]
pub async fn create_user(state: State<'_, AppState>, user: NewUser) -> Result<User, AppError> {
    admin::create_user(&state, user).await
}

#[tauri::command]
pub async fn update_user(state: State<'_, AppState>, user_id: UserId, patch: UserPatch) -> Result<User, AppError> {
    admin::update_user(&state, user_id, patch).await
}

#[tauri::command]
pub async fn delete_user(state: State<'_, AppState>, user_id: UserId) -> Result<(), AppError> {
    admin::delete_user(&state, user_id).await
}

#[tauri::command]
pub async fn list_teams(state: State<'_, AppState>) -> Result<Vec<Team>, AppError> {
    admin::list_teams(&state).await
}

#[tauri::command]
pub async fn create_team(state: State<'_, AppState>, team: TeamInput) -> Result<Team, AppError> {
    admin::create_team(&state, team).await
}

#[tauri::command]
pub async fn update_team(state: State<'_, AppState>, team_id: TeamId, team: TeamInput) -> Result<Team, AppError> {
    admin::update_team(&state, team_id, team).await
}

#[tauri::command]
pub async fn delete_team(state: State<'_, AppState>, team_id: TeamId) -> Result<(), AppError> {
    admin::delete_team(&state, team_id).await
}

#[tauri::command]
pub async fn list_roles(state: State<'_, AppState>) -> Result<Vec<Role>, AppError> {
    admin::list_roles(&state).await
}

#[tauri::command]
pub async fn create_role(state: State<'_, AppState>, role: RoleInput) -> Result<Role, AppError> {
    admin::create_role(&state, role).await
}

#[tauri::command]
pub async fn update_role(state: State<'_, AppState>, role_id: RoleId, role: RoleInput) -> Result<Role, AppError> {
    admin::update_role(&state, role_id, role).await
}

#[tauri::command]
pub async fn delete_role(state: State<'_, AppState>, role_id: RoleId) -> Result<(), AppError> {
    admin::delete_role(&state, role_id).await
}

#[tauri::command]
pub async fn list_phones(state: State<'_, AppState>) -> Result<Vec<Phone>, AppError> {
    admin::list_phones(&state).await
}

#[tauri::command]
pub async fn create_phone(state: State<'_, AppState>, phone: PhoneInput) -> Result<Phone, AppError> {
    admin::create_phone(&state, phone).await
}

#[tauri::command]
pub async fn update_phone(state: State<'_, AppState>, phone_id: PhoneId, phone: PhoneInput) -> Result<Phone, AppError> {
    admin::update_phone(&state, phone_id, phone).await
}

#[tauri::command]
pub async fn delete_phone(state: State<'_, AppState>, phone_id: PhoneId) -> Result<(), AppError> {
    admin::delete_phone(&state, phone_id).await
}

#[tauri::command]
pub async fn get_settings(state: State<'_, AppState>) -> Result<Settings, AppError> {
    admin::get_settings(&state).await
}

#[tauri::command]
pub async fn update_settings(state: State<'_, AppState>, patch: SettingsPatch) -> Result<Settings, AppError> {
    admin::update_settings(&state, patch).await
}

#[tauri::command]
pub async fn schedule_preview(state: State<'_, AppState>, cron: Option<String>) -> Result<SchedulePreview, AppError> {
    admin::schedule_preview(&state, cron).await
}

#[tauri::command]
pub async fn smtp_test(state: State<'_, AppState>, to: String) -> Result<SmtpTestResult, AppError> {
    admin::smtp_test(&state, to).await
}

#[tauri::command]
pub async fn storage(state: State<'_, AppState>) -> Result<StorageReport, AppError> {
    admin::storage(&state).await
}

#[tauri::command]
pub async fn list_dispatch(state: State<'_, AppState>) -> Result<Vec<DispatchTarget>, AppError> {
    admin::list_dispatch(&state).await
}

#[tauri::command]
pub async fn run_dispatch(state: State<'_, AppState>) -> Result<RunReport, AppError> {
    admin::run_dispatch(&state).await
}

#[tauri::command]
pub async fn retry_dispatch(state: State<'_, AppState>, dispatch_id: DispatchId) -> Result<DispatchTarget, AppError> {
    admin::retry_dispatch(&state, dispatch_id).await
}

#[tauri::command]
pub async fn list_alarms(state: State<'_, AppState>, unacknowledged: bool) -> Result<Vec<Alarm>, AppError> {
    admin::list_alarms(&state, unacknowledged).await
}

#[tauri::command]
pub async fn ack_alarm(state: State<'_, AppState>, alarm_id: AlarmId) -> Result<Alarm, AppError> {
    admin::ack_alarm(&state, alarm_id).await
}

#[tauri::command]
pub async fn audit(state: State<'_, AppState>, filter: AuditFilter) -> Result<AuditPage, AppError> {
    admin::audit(&state, filter).await
}
