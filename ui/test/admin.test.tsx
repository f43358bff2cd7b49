import { afterEach, describe, expect, test } from 'vitest';
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { act } from 'preact/test-utils';
import { App } from '../src/app';
import type { Alarm, CallDetail, Role, Rule, SessionInfo, StorageReport, TraceLine } from '../src/api';
import { RuleEditor, RulesPanel, toForm, toInput } from '../src/screens/admin/rules';
import { AdminView } from '../src/screens/admin';
import { UserEditor } from '../src/screens/admin/directory';
import { SettingsPanel, StorageView, diskWarning, spoolBacklog } from '../src/screens/admin/settings';
import { CallDetailPanel } from '../src/components/call-detail';
import { TraceView, orderTrace } from '../src/components/trace';
import { normalizeMac, splitList, validateRule, validateUser, type RuleForm } from '../src/screens/admin/validate';
import { cleanup, click, liveCall, mount, session, settle, shared, type, waitFor, withShared } from './helpers';

afterEach(async () => {
  await cleanup();
  clearMocks();
});

const admin: SessionInfo = { ...session, user: { id: 9, username: 'admin', display_name: 'Admin', level: 'admin', extensions: [] } };
const supervisor: SessionInfo = { ...session, user: { id: 5, username: 'sam', display_name: 'Sam', level: 'supervisor', extensions: ['300'] } };
const roles: Role[] = [{ id: 3, name: 'Support staff', users: [], teams: [1] }];

async function choose(el: Element | null, value: string) {
  if (!el) throw new Error('nothing to choose in');
  await act(() => {
    (el as HTMLSelectElement).value = value;
    el.dispatchEvent(new Event('change', { bubbles: true }));
  });
}

async function submit(root: HTMLElement, testId: string) {
  await click(root.querySelector(`[data-testid=${testId}]`));
  await settle(5);
}

const errorAt = (root: HTMLElement, field: string) => root.querySelector(`[data-testid="error-${field}"]`)?.textContent ?? null;

const form = (over: Partial<RuleForm> = {}): RuleForm => ({
  description: 'Support on demand',
  enabled: true,
  mode: 'manual',
  roleId: '3',
  direction: 'both',
  origin: 'both',
  dispatch: 'store',
  requireConsent: false,
  recipients: '',
  script: '',
  url: '',
  secret: '',
  ...over,
});

describe('form checks before asking the server', () => {
  test('a rule needs a description, a role, recipients for e-mail and a body for a script', () => {
    expect(validateRule(form())).toEqual({});
    const e = validateRule(form({ description: '  ', roleId: '', dispatch: 'email', recipients: '' }));
    expect(Object.keys(e).sort()).toEqual(['description', 'dispatch.recipients', 'role_id']);
    expect(validateRule(form({ dispatch: 'email', recipients: 'qa@example.com\nnope' }))['dispatch.recipients']).toBe('Not an e-mail address: nope.');
    expect(validateRule(form({ dispatch: 'script', script: '\n ' }))['dispatch.script']).toBe('Script dispatch needs a script body.');
    expect(validateRule(form({ description: 'x'.repeat(201) })).description).toBe('At most 200 characters.');
  });

  test('the form becomes the rule the server expects', () => {
    const input = toInput(form({ dispatch: 'email', recipients: 'a@example.com, b@example.com\n' }), 4);
    expect(input).toEqual({
      description: 'Support on demand',
      enabled: true,
      mode: 'manual',
      role_id: 3,
      direction: 'both',
      origin: 'both',
      dispatch: { kind: 'email', recipients: ['a@example.com', 'b@example.com'] },
      position: 4,
      require_consent: false,
    });
    expect(splitList(' a , b;c\n')).toEqual(['a', 'b', 'c']);
  });

  test('users need a valid username and, when new, a password of 8 characters; MACs are normalised', () => {
    const user = { username: 'carol', displayName: '', level: 'agent' as const, extensions: '211', password: 'long-enough' };
    expect(validateUser(user, true)).toEqual({});
    expect(validateUser({ ...user, username: 'ca rol', password: 'short' }, true)).toEqual({
      username: 'Letters, digits and . _ - @ only.',
      password: 'At least 8 characters.',
    });
    expect(validateUser({ ...user, password: '' }, false), 'an edit keeps the password').toEqual({});
    expect(normalizeMac('00:04:13:2C:D0:C5')).toBe('0004132cd0c5');
    expect(normalizeMac('0004.132c.d0c5')).toBe('0004132cd0c5');
    expect(normalizeMac('00:04:13')).toBeNull();
  });
});

describe('the rule form', () => {
  test('local problems show at their fields and nothing is sent', async () => {
    const calls: string[] = [];
    mockIPC((cmd) => {
      calls.push(cmd);
      return null;
    });
    const root = await mount(withShared(shared({ session: admin }), <RuleEditor rule={null} roles={roles} onClose={() => {}} onSaved={() => {}} />));
    await click(root.querySelector('[data-testid=rule-dispatch-email]'));
    await submit(root, 'rule-save');
    expect(errorAt(root, 'description')).toBe('A rule needs a description.');
    expect(errorAt(root, 'role_id')).toBe('Choose the role the rule applies to.');
    expect(errorAt(root, 'dispatch.recipients')).toBe('E-mail dispatch needs at least one recipient.');
    expect(calls).toEqual([]);
  });

  test("the server's refused fields show at the same fields", async () => {
    let sent: unknown = null;
    mockIPC((cmd, args) => {
      if (cmd === 'create_rule') {
        sent = (args as { rule: unknown }).rule;
        throw {
          code: 'invalid',
          message: 'Dispatch.recipients: not an e-mail address: "qa@localhost.".',
          fields: [
            { field: 'dispatch.recipients', message: 'not an e-mail address: "qa@localhost."' },
            { field: 'role_id', message: 'no such role' },
          ],
        };
      }
      return null;
    });
    let saved = false;
    const root = await mount(
      withShared(shared({ session: admin }), <RuleEditor rule={null} roles={roles} onClose={() => {}} onSaved={() => (saved = true)} />),
    );
    await type(root.querySelector('[data-testid=rule-description]'), 'Mail QA');
    await choose(root.querySelector('[data-testid=rule-role]'), '3');
    await click(root.querySelector('[data-testid=rule-dispatch-email]'));
    await type(root.querySelector('[data-testid=rule-recipients]'), 'qa@example.com');
    await submit(root, 'rule-save');
    expect(sent).toMatchObject({ description: 'Mail QA', role_id: 3, dispatch: { kind: 'email', recipients: ['qa@example.com'] } });
    expect(errorAt(root, 'dispatch.recipients')).toBe('Not an e-mail address: "qa@localhost.".');
    expect(errorAt(root, 'role_id')).toBe('No such role.');
    expect(errorAt(root, 'description')).toBeNull();
    expect(saved).toBe(false);
  });

  test('issue 11: an automatic rule can wait for consent; the checkbox is only offered for automatic rules', async () => {
    let sent: Record<string, unknown> | null = null;
    mockIPC((cmd, args) => {
      if (cmd === 'create_rule') {
        sent = (args as { rule: Record<string, unknown> }).rule;
        return { ...sent, id: 4, position: 1 };
      }
      return null;
    });
    const root = await mount(withShared(shared({ session: admin }), <RuleEditor rule={null} roles={roles} onClose={() => {}} onSaved={() => {}} />));
    expect(root.querySelector('[data-testid=rule-require-consent]')).toBeNull();
    await type(root.querySelector('[data-testid=rule-description]'), 'Support, with consent');
    await choose(root.querySelector('[data-testid=rule-role]'), '3');
    await choose(root.querySelector('[data-testid=rule-mode]'), 'automatic');
    const box = root.querySelector('[data-testid=rule-require-consent]') as HTMLInputElement;
    expect(box).not.toBeNull();
    expect(box.checked).toBe(false);
    await click(box);
    expect(box.checked).toBe(true);
    await submit(root, 'rule-save');
    expect(sent).toMatchObject({ mode: 'automatic', require_consent: true });
    expect(toInput(form({ mode: 'manual', requireConsent: true }), null).require_consent).toBe(false);
  });

  test('the script body is edited in a monospace editor', async () => {
    mockIPC(() => null);
    const rule: Rule = {
      id: 1,
      description: 'Copy',
      enabled: false,
      mode: 'automatic',
      role_id: 3,
      direction: 'incoming',
      origin: 'external',
      dispatch: { kind: 'script', script: 'cp "$1" /srv/' },
      position: 1,
      require_consent: false,
      transcribe: false,
    };
    const root = await mount(withShared(shared({ session: admin }), <RuleEditor rule={rule} roles={roles} onClose={() => {}} onSaved={() => {}} />));
    const script = root.querySelector('[data-testid=rule-script]') as HTMLTextAreaElement;
    expect(script.value).toBe('cp "$1" /srv/');
    expect(script.classList.contains('mono')).toBe(true);
    expect((root.querySelector('[data-testid=rule-mode]') as HTMLSelectElement).value).toBe('automatic');
    expect((root.querySelector('[data-testid=rule-form-enabled]') as HTMLInputElement).checked).toBe(false);
  });

  test('the list moves, switches and deletes rules (delete asks first)', async () => {
    const calls: [string, unknown][] = [];
    const rules: Rule[] = [1, 2].map((id) => ({
      id,
      description: `Rule ${id}`,
      enabled: true,
      mode: 'manual',
      role_id: 3,
      direction: 'both',
      origin: 'both',
      dispatch: { kind: 'store' },
      position: id,
      require_consent: false,
      transcribe: false,
    }));
    mockIPC((cmd, args) => {
      calls.push([cmd, args]);
      if (cmd === 'list_rules') return rules;
      if (cmd === 'list_roles') return roles;
      return rules[0];
    });
    const root = await mount(withShared(shared({ session: admin }), <RulesPanel />));
    const rows = root.querySelectorAll('[data-testid=rule-row]');
    expect(rows.length).toBe(2);
    expect((rows[0].querySelector('[data-testid=rule-up]') as HTMLButtonElement).disabled).toBe(true);
    await click(rows[1].querySelector('[data-testid=rule-up]'));
    expect(calls).toContainEqual(['move_rule', { ruleId: 2, to: 'up' }]);
    await click(rows[0].querySelector('[data-testid=rule-enabled]'));
    expect(calls).toContainEqual(['set_rule_enabled', { ruleId: 1, enabled: false }]);
    await click(rows[0].querySelector('[data-testid=rule-delete]'));
    expect(calls.some(([c]) => c === 'delete_rule')).toBe(false);
    await click(root.querySelector('[data-testid=rule-delete-confirm]'));
    expect(calls).toContainEqual(['delete_rule', { ruleId: 1 }]);
  });
});

describe('issue 11: the webhook kind and the alarm badge', () => {
  test('a webhook needs an http(s) URL and a secret; its secret round-trips as the mask', () => {
    expect(validateRule(form({ dispatch: 'webhook', url: 'https://hooks.example.com/in', secret: 's3cret' }))).toEqual({});
    expect(validateRule(form({ dispatch: 'webhook', url: 'ftp://hooks.example.com/in', secret: '' }))).toEqual({
      'dispatch.url': 'The URL must start with http:// or https://.',
      'dispatch.secret': 'A webhook needs a secret to sign its requests with.',
    });
    expect(validateRule(form({ dispatch: 'webhook', url: 'https://', secret: 'k' }))['dispatch.url']).toBe('The URL names no host.');
    const rule: Rule = {
      id: 7,
      description: 'Tell the CRM',
      enabled: true,
      mode: 'automatic',
      role_id: 3,
      direction: 'both',
      origin: 'both',
      dispatch: { kind: 'webhook', url: 'https://crm.example.com/hook', secret: '********' },
      position: 1,
      require_consent: false,
      transcribe: false,
    };
    const f = toForm(rule);
    expect([f.dispatch, f.url, f.secret]).toEqual(['webhook', 'https://crm.example.com/hook', '********']);
    expect(toInput(f, null).dispatch, 'sent back masked, the server keeps the stored secret').toEqual(rule.dispatch);
  });

  test('the rule form offers the webhook: a bad URL is refused at its field, a good one is sent', async () => {
    let sent: unknown = null;
    mockIPC((cmd, args) => {
      if (cmd === 'create_rule') sent = (args as { rule: unknown }).rule;
      return cmd === 'create_rule' ? { id: 1 } : null;
    });
    const root = await mount(withShared(shared({ session: admin }), <RuleEditor rule={null} roles={roles} onClose={() => {}} onSaved={() => {}} />));
    await type(root.querySelector('[data-testid=rule-description]'), 'Tell the CRM');
    await choose(root.querySelector('[data-testid=rule-role]'), '3');
    await click(root.querySelector('[data-testid=rule-dispatch-webhook]'));
    const secret = root.querySelector('[data-testid=rule-secret]') as HTMLInputElement;
    expect(secret.type, 'the secret is typed like a password').toBe('password');
    await type(root.querySelector('[data-testid=rule-url]'), 'javascript:alert(1)');
    await type(secret, 's3cret');
    await submit(root, 'rule-save');
    expect(errorAt(root, 'dispatch.url')).toBe('The URL must start with http:// or https://.');
    expect(sent).toBeNull();
    await type(root.querySelector('[data-testid=rule-url]'), 'https://crm.example.com/hook');
    await submit(root, 'rule-save');
    expect(sent).toMatchObject({ dispatch: { kind: 'webhook', url: 'https://crm.example.com/hook', secret: 's3cret' } });
  });

  test('the admin menu counts the alarms to acknowledge, and acknowledging one lowers the count', async () => {
    const alarm = (id: number): Alarm => ({
      id,
      call_id: 40 + id,
      kind: 'no_audio',
      message: 'no audio was received (no RTP) during the 10 s the call was recorded',
      expected_ms: 10000,
      recorded_ms: 10000,
      raised_at: '2026-03-10T12:00:00Z',
      acknowledged_at: null,
      acknowledged_by: null,
    });
    let open = [alarm(2), alarm(1)];
    const acked: number[] = [];
    mockIPC(
      (cmd, args) => {
        if (cmd === 'list_alarms') return open;
        if (cmd === 'ack_alarm') {
          const id = (args as { alarmId: number }).alarmId;
          acked.push(id);
          open = open.filter((a) => a.id !== id);
          return { ...alarm(id), acknowledged_at: '2026-03-10T12:05:00Z', acknowledged_by: 9 };
        }
        if (cmd === 'list_rules' || cmd === 'list_roles') return [];
        return null;
      },
      { shouldMockEvents: true },
    );
    const root = await mount(withShared(shared({ session: admin }), <AdminView />));
    await waitFor(() => expect(root.querySelector('[data-testid=alarm-badge]')?.textContent).toBe('2'));
    expect(root.querySelector('[data-testid=admin-rules]'), 'the badge shows on every admin screen').not.toBeNull();
    await click(root.querySelector('[data-testid=admin-alarms-tab]'));
    await waitFor(() => expect(root.querySelectorAll('[data-testid=alarm-row]').length).toBe(2));
    expect(root.querySelector('[data-testid=alarms-table]')?.textContent).toContain('No audio');
    await click(root.querySelector('[data-testid=alarm-ack]'));
    await settle(5);
    expect(acked).toEqual([2]);
    await waitFor(() => expect(root.querySelector('[data-testid=alarm-badge]')?.textContent).toBe('1'));
    expect(root.querySelectorAll('[data-testid=alarm-row]').length).toBe(1);
  });
});

describe('the user form', () => {
  test('a password reset refused by the server says why at the field', async () => {
    mockIPC((cmd) => {
      if (cmd === 'update_user') throw { code: 'invalid', message: 'x', fields: [{ field: 'password', message: 'at most 1024 bytes' }] };
      return null;
    });
    const user = { id: 4, username: 'carol', display_name: 'Carol', level: 'agent' as const, extensions: ['211'] };
    const root = await mount(withShared(shared({ session: admin }), <UserEditor user={user} onClose={() => {}} onSaved={() => {}} />));
    await type(root.querySelector('[data-testid=user-reset-password]'), 'short');
    await submit(root, 'user-reset');
    expect(errorAt(root, 'password')).toBe('At least 8 characters.');
    await type(root.querySelector('[data-testid=user-reset-password]'), 'long-enough-but-refused');
    await submit(root, 'user-reset');
    expect(errorAt(root, 'password')).toBe('At most 1024 bytes.');
  });
});

describe('settings', () => {
  const settings = {
    retention_days: 90,
    dispatch_schedule: '0 2 * * *',
    smtp: { host: '', port: 25, security: 'none', username: '', password: '', from: '' },
  };
  test('the schedule shows its next three runs, a bad one the reason, and saving shows refusals at the field', async () => {
    mockIPC((cmd, args) => {
      if (cmd === 'get_settings') return settings;
      if (cmd === 'storage') return { bytes_used: 5e9, bytes_free: 95e9, bytes_per_day: 1e9, days_until_full: 95.4, recordings: 1234 };
      if (cmd === 'schedule_preview') {
        const { cron } = args as { cron: string };
        if (cron === '0 2 * * *') return { cron, next: ['2026-11-27T02:00:00+01:00', '2026-11-28T02:00:00+01:00', '2026-11-29T02:00:00+01:00'] };
        throw { code: 'invalid', message: 'x', fields: [{ field: 'dispatch_schedule', message: 'day of month 32 is out of range' }] };
      }
      if (cmd === 'update_settings') throw { code: 'invalid', message: 'x', fields: [{ field: 'smtp.host', message: 'a host name or IP address' }] };
      return null;
    });
    const root = await mount(withShared(shared({ session: admin }), <SettingsPanel />));
    await waitFor(() => expect(root.querySelectorAll('[data-testid=schedule-preview] li').length).toBe(3));
    expect(root.querySelector('[data-testid=days-until-full]')!.textContent).toBe('95 days');
    await type(root.querySelector('[data-testid=settings-cron]'), '0 2 32 * *');
    await waitFor(() => expect(root.querySelector('[data-testid=schedule-preview]')!.textContent).toBe('The day of month must be 1–31, not 32.'));
    await type(root.querySelector('[data-testid=settings-cron]'), '0 2 * * *');
    await type(root.querySelector('[data-testid=settings-smtp-host]'), 'mail example');
    await type(root.querySelector('[data-testid=settings-smtp-from]'), 'rec@example.com');
    await submit(root, 'settings-save');
    expect(errorAt(root, 'smtp.host')).toBe('A host name or IP address.');
  });

  test('the pause fill, the automatic resume and the alarm recipients are shown, checked in words and saved', async () => {
    let sent: Record<string, unknown> | null = null;
    mockIPC((cmd, args) => {
      if (cmd === 'get_settings') return { ...settings, pause_fill: 'silence', pause_auto_resume_secs: 0, alarm_recipients: ['ops@example.com'], consent_refused: 'delete' };
      if (cmd === 'storage') return { bytes_used: 5e9, bytes_free: 95e9, bytes_per_day: 1e9, days_until_full: 95.4, recordings: 1234 };
      if (cmd === 'schedule_preview') return { cron: '0 2 * * *', next: [] };
      if (cmd === 'update_settings') {
        sent = (args as { patch: Record<string, unknown> }).patch;
        return { ...settings, ...sent };
      }
      return null;
    });
    const root = await mount(withShared(shared({ session: admin }), <SettingsPanel />));
    await waitFor(() => expect(root.querySelector<HTMLInputElement>('[data-testid=settings-alarm-recipients]')!.value).toBe('ops@example.com'));
    await type(root.querySelector('[data-testid=settings-pause-auto-resume]'), '-5');
    await type(root.querySelector('[data-testid=settings-alarm-recipients]'), 'ops@example.com, not mail');
    await submit(root, 'settings-save');
    expect(errorAt(root, 'pause_auto_resume_secs')).toBe('Seconds from 0 (never) to 86400.');
    expect(errorAt(root, 'alarm_recipients')).toBe('Not an e-mail address: not, mail');
    expect(sent, 'nothing is sent while the form has errors').toBeNull();
    await type(root.querySelector('[data-testid=settings-pause-auto-resume]'), '120');
    await type(root.querySelector('[data-testid=settings-alarm-recipients]'), 'ops@example.com, boss@example.com');
    const fill = root.querySelector<HTMLSelectElement>('[data-testid=settings-pause-fill]')!;
    await act(async () => {
      fill.value = 'tone';
      fill.dispatchEvent(new Event('change', { bubbles: true }));
    });
    await submit(root, 'settings-save');
    await waitFor(() => expect(sent).not.toBeNull());
    expect(sent).toMatchObject({ pause_fill: 'tone', pause_auto_resume_secs: 120, alarm_recipients: ['ops@example.com', 'boss@example.com'] });
  });
});

describe('why recorded', () => {
  const trace: TraceLine[] = [
    { kind: 'manual_start', message: 'Alice pressed record', user_id: 1, at: '2026-11-26T10:00:30Z' },
    { kind: 'mon_mode', message: 'The PBX sent mon mode auto: the rules decide' },
    { kind: 'rule_matched', rule_id: 2, user_id: 1, message: 'Rule 2 "Support may record on demand" (manual) matches Alice' },
    { kind: 'decision', message: 'Alice may record this call on demand' },
    { kind: 'manual_stop', message: 'Alice pressed stop', user_id: 1, at: '2026-11-26T10:00:10Z' },
  ];

  test('the decision comes first in the engine’s order, then the presses by time, each in plain words', async () => {
    expect(orderTrace(trace).map((l) => l.kind)).toEqual(['mon_mode', 'rule_matched', 'decision', 'manual_stop', 'manual_start']);
    const root = await mount(<TraceView trace={trace} />);
    const lines = [...root.querySelectorAll('[data-testid=trace-line]')];
    expect(lines.map((l) => l.querySelector('.trace-kind')!.textContent)).toEqual(['PBX mode', 'Rule matched', 'Decision', 'Stop pressed', 'Record pressed']);
    expect(lines[1].querySelector('.trace-message')!.textContent).toBe('Rule 2 "Support may record on demand" (manual) matches Alice');
    expect(lines[3].querySelector('time')).not.toBeNull();
    expect(lines[0].querySelector('time'), 'the decision has no time').toBeNull();
  });

  test('supervisors and admins can open it on a call; agents do not see it', async () => {
    const detail: CallDetail = { ...liveCall({ trace, ended_at: '2026-11-26T10:01:00Z', state: 'ended' }) };
    mockIPC((cmd) => (cmd === 'get_call' ? detail : null));
    const root = await mount(withShared(shared({ session: supervisor }), <CallDetailPanel callId={7} onClose={() => {}} />));
    await waitFor(() => expect(root.querySelector('[data-testid=why-recorded]')).not.toBeNull());
    expect(root.querySelector('[data-testid=trace]')).toBeNull();
    await click(root.querySelector('[data-testid=why-recorded]'));
    expect(root.querySelectorAll('[data-testid=trace-line]').length).toBe(5);
    await cleanup();

    const agentRoot = await mount(withShared(shared(), <CallDetailPanel callId={7} onClose={() => {}} />));
    await waitFor(() => expect(agentRoot.querySelector('[data-testid=call-detail] .facts')).not.toBeNull());
    expect(agentRoot.querySelector('[data-testid=why-recorded]')).toBeNull();
  });
});

describe('the admin screens are for admins', () => {
  const startup = (s: SessionInfo) => ({
    connection: { choice: { kind: 'remote', url: s.url }, url: s.url },
    session: s,
    last_username: s.user.username,
    token_storage: 'keyring',
    error: null,
    saved: null,
  });
  for (const [who, s, shown] of [
    ['an agent', session, false],
    ['a supervisor', supervisor, false],
    ['an admin', admin, true],
  ] as const) {
    test(`${who} ${shown ? 'sees' : 'does not see'} Administration`, async () => {
      mockIPC(
        (cmd) => {
          if (cmd === 'startup') return startup(s);
          if (cmd === 'list_rules' || cmd === 'list_roles' || cmd === 'live_calls') return [];
          return null;
        },
        { shouldMockEvents: true },
      );
      const root = await mount(<App />);
      await waitFor(() => expect(root.querySelector('[data-testid=tab-journal]')).not.toBeNull());
      expect(root.querySelector('[data-testid=tab-admin]') !== null).toBe(shown);
      if (shown) {
        await click(root.querySelector('[data-testid=tab-admin]'));
        expect(root.querySelector('[data-testid=admin-rules]')).not.toBeNull();
      }
    });
  }
});

describe('storage', () => {
  const fine: StorageReport = {
    bytes_used: 5e9,
    bytes_free: 0,
    bytes_per_day: 1e9,
    days_until_full: 0,
    recordings: 1234,
    disk_full: false,
    calls_waiting: 0,
    audio_lost_ms: 0,
    write_errors: 0,
  };
  test('issue 13: a full disk is a plain warning with the calls waiting and the audio lost', async () => {
    const full = { ...fine, disk_full: true, calls_waiting: 3, audio_lost_ms: 12_500, write_errors: 40 };
    const root = await mount(<StorageView s={full} />);
    const warning = root.querySelector('[data-testid=disk-warning]');
    expect(warning!.textContent).toBe(
      'The disk is full: 3 calls waiting to write, 12.5 s of audio lost. New calls are refused until space is freed.',
    );
    expect(warning!.getAttribute('role')).toBe('alert');
  });
  test('issue 13: after the disk recovers the loss is still told; a disk never full shows nothing', async () => {
    expect(diskWarning({ ...fine, audio_lost_ms: 3_000 })).toBe(
      'The disk was full: 3.0 s of audio lost since the server started. The affected recordings list their gaps.',
    );
    expect(diskWarning({ ...fine, disk_full: true, calls_waiting: 1 })).toBe(
      'The disk is full: 1 call waiting to write, 0.0 s of audio lost. New calls are refused until space is freed.',
    );
    const root = await mount(<StorageView s={fine} />);
    expect(root.querySelector('[data-testid=disk-warning]')).toBeNull();
  });
  test('issue 10: with object storage the spool backlog, the bucket use and a failing upload are shown', async () => {
    const root = await mount(<StorageView s={fine} />);
    expect(root.querySelector('[data-testid=object-store]')).toBeNull();
    const down = {
      ...fine,
      object_store: 's3://rec/site-a',
      spool_backlog: 2,
      spool_backlog_bytes: 2048,
      upload_failures: 3,
      last_upload_error: 'connection refused',
    };
    const r2 = await mount(<StorageView s={down} />);
    expect(r2.querySelector('[data-testid=object-store]')!.textContent).toContain('use unknown (not reachable)');
    expect(r2.querySelector('[data-testid=spool-backlog]')!.textContent).toContain(
      'uploads are failing and are retried: connection refused',
    );
    expect(spoolBacklog({ ...down, spool_backlog: 0, last_upload_error: undefined })).toBe('nothing');
  });
});

import { DispatchPanel, dispatchCallLabel } from '../src/screens/admin/dispatch';
import { AuditPanel, detailLines } from '../src/screens/admin/audit';
import { validateCron, plainCronError } from '../src/screens/admin/validate';
import type { DispatchTarget } from '../src/api';

describe('issue 17: admin words and details', () => {
  const target = (over: Partial<DispatchTarget>): DispatchTarget => ({
    id: 1,
    recording_id: 339,
    rule_id: 2,
    target: { kind: 'email', recipients: ['qa@example.com'] },
    status: 'pending',
    attempts: 0,
    last_error: null,
    next_attempt_at: null,
    sent_at: null,
    detail: null,
    call: {
      id: 7,
      started_at: '2024-05-01T08:00:00Z',
      participants: [
        { name: 'Customer', number: '+49301234', user_id: null, role: 'caller' },
        { name: 'Caller', number: '201', user_id: 1, user_name: 'Alice Adams', role: 'callee' },
      ],
      recording_seq: 1,
    },
    ...over,
  });

  test('the dispatch queue names the call, not the recording id; Retry only on failed items', async () => {
    expect(dispatchCallLabel(target({}))).toMatch(/^2024-05-01 \d\d:00 · Customer \(\+49301234\) → Alice Adams \(201\) · recording 001$/);
    mockIPC((cmd) =>
      cmd === 'list_dispatch' ? [target({ id: 1, status: 'pending' }), target({ id: 2, status: 'failed', last_error: 'refused' }), target({ id: 3, status: 'sent' })] : null,
    );
    const root = await mount(withShared(shared({ session: admin }), <DispatchPanel />));
    await waitFor(() => expect(root.querySelectorAll('[data-testid=dispatch-row]')).toHaveLength(3));
    expect(root.querySelector('[data-testid=dispatch-table]')!.textContent).not.toContain('339');
    const withRetry = [...root.querySelectorAll('[data-testid=dispatch-row]')].filter((r) => r.querySelector('[data-testid=dispatch-retry]'));
    expect(withRetry.map((r) => r.getAttribute('data-status'))).toEqual(['failed']);
  });

  test('an audit detail reads as key: value lines in a row that opens, not raw JSON in a tooltip', async () => {
    expect(detailLines('{"username":"bob","level":"agent","old":{"display_name":"B"}}')).toEqual([
      ['Username', 'bob'],
      ['Level', 'agent'],
      ['Old display name', 'B'],
    ]);
    expect(detailLines('plain words')).toEqual([['', 'plain words']]);
    expect(detailLines('')).toEqual([]);
    mockIPC((cmd) => {
      if (cmd === 'audit') return { items: [{ id: 1, at: '2024-05-01T08:00:00Z', user_id: 9, actor: 'admin', action: 'user_create', target: 'user 4', detail: '{"username":"bob","level":"agent"}' }], next_cursor: null };
      return [];
    });
    const root = await mount(withShared(shared({ session: admin }), <AuditPanel />));
    await waitFor(() => expect(root.querySelector('[data-testid=audit-row]')).not.toBeNull());
    expect(root.querySelector('[data-testid=audit-row] [title*="{"]'), 'no JSON tooltip').toBeNull();
    expect(root.querySelector('[data-testid=audit-detail]')).toBeNull();
    await click(root.querySelector('[data-testid=audit-detail-toggle]'));
    const detail = root.querySelector('[data-testid=audit-detail]')!;
    expect(detail.textContent).toContain('Username');
    expect(detail.textContent).toContain('bob');
    expect(detail.textContent).not.toContain('{');
  });

  test('a schedule is checked here in words; the parser’s own words never show', () => {
    expect(validateCron('0 2 * * *')).toEqual({});
    expect(validateCron('*/15 8-18 * jan-jun mon-fri')).toEqual({});
    expect(validateCron('0 25 * * *').dispatch_schedule).toBe('The hour must be 0–23, not 25.');
    expect(validateCron('0 2 * 13 *').dispatch_schedule).toBe('The month must be 1–12, not 13.');
    expect(validateCron('x 2 * * *').dispatch_schedule).toContain('minute');
    expect(validateCron('0 2 * *').dispatch_schedule).toBe('Five fields: minute hour day month weekday.');
    expect(plainCronError('Component error: Number out of bounds')).not.toMatch(/Component|bounds/);
  });
});
