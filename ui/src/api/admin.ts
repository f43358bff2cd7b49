// The admin commands (rules, directory, settings, dispatch queue, alarms, audit), one typed function
// each, named as on the Rust side. The server refuses every one of them to non-admins.
import { call } from './index';
import type {
  Alarm,
  AlarmId,
  AuditFilter,
  AuditPage,
  DispatchId,
  DispatchTarget,
  NewUser,
  Phone,
  PhoneId,
  PhoneInput,
  Role,
  RoleId,
  RoleInput,
  Rule,
  RuleId,
  RuleInput,
  RuleMove,
  RunReport,
  SchedulePreview,
  Settings,
  SettingsPatch,
  SmtpTestResult,
  StorageReport,
  Team,
  TeamId,
  TeamInput,
  User,
  UserId,
  UserPatch,
} from './bindings';

export const adminApi = {
  listRules: () => call<Rule[]>('list_rules'),
  createRule: (rule: RuleInput) => call<Rule>('create_rule', { rule }),
  updateRule: (ruleId: RuleId, rule: RuleInput) => call<Rule>('update_rule', { ruleId, rule }),
  deleteRule: (ruleId: RuleId) => call<null>('delete_rule', { ruleId }),
  setRuleEnabled: (ruleId: RuleId, enabled: boolean) => call<Rule>('set_rule_enabled', { ruleId, enabled }),
  moveRule: (ruleId: RuleId, to: RuleMove) => call<Rule[]>('move_rule', { ruleId, to }),

  listUsers: () => call<User[]>('list_users'),
  createUser: (user: NewUser) => call<User>('create_user', { user }),
  updateUser: (userId: UserId, patch: UserPatch) => call<User>('update_user', { userId, patch }),
  deleteUser: (userId: UserId) => call<null>('delete_user', { userId }),
  listTeams: () => call<Team[]>('list_teams'),
  createTeam: (team: TeamInput) => call<Team>('create_team', { team }),
  updateTeam: (teamId: TeamId, team: TeamInput) => call<Team>('update_team', { teamId, team }),
  deleteTeam: (teamId: TeamId) => call<null>('delete_team', { teamId }),
  listRoles: () => call<Role[]>('list_roles'),
  createRole: (role: RoleInput) => call<Role>('create_role', { role }),
  updateRole: (roleId: RoleId, role: RoleInput) => call<Role>('update_role', { roleId, role }),
  deleteRole: (roleId: RoleId) => call<null>('delete_role', { roleId }),
  listPhones: () => call<Phone[]>('list_phones'),
  createPhone: (phone: PhoneInput) => call<Phone>('create_phone', { phone }),
  updatePhone: (phoneId: PhoneId, phone: PhoneInput) => call<Phone>('update_phone', { phoneId, phone }),
  deletePhone: (phoneId: PhoneId) => call<null>('delete_phone', { phoneId }),

  getSettings: () => call<Settings>('get_settings'),
  updateSettings: (patch: SettingsPatch) => call<Settings>('update_settings', { patch }),
  schedulePreview: (cron: string | null) => call<SchedulePreview>('schedule_preview', { cron }),
  smtpTest: (to: string) => call<SmtpTestResult>('smtp_test', { to }),
  storage: () => call<StorageReport>('storage'),

  listDispatch: () => call<DispatchTarget[]>('list_dispatch'),
  runDispatch: () => call<RunReport>('run_dispatch'),
  retryDispatch: (dispatchId: DispatchId) => call<DispatchTarget>('retry_dispatch', { dispatchId }),

  listAlarms: (unacknowledged: boolean) => call<Alarm[]>('list_alarms', { unacknowledged }),
  ackAlarm: (alarmId: AlarmId) => call<Alarm>('ack_alarm', { alarmId }),

  audit: (filter: AuditFilter) => call<AuditPage>('audit', { filter }),
};

export type AdminApi = typeof adminApi;
