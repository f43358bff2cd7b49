// Rules: the list in the order the engine reads it (first match wins per user), with enable
// switches, move up/down and delete; the form with every field of a rule, checked here first
// and then by the server, whose refusals show at their fields.
import { useEffect, useState } from 'preact/hooks';
import type { Dispatch, Role, Rule, RuleInput } from '../../api';
import { adminApi } from '../../api/admin';
import { useShared } from '../../context';
import { DeleteButton, Field, Panel, inputValue } from './form';
import { SECRET_MASK, formErrors, hasErrors, splitList, validateRule, without, type Errors, type RuleForm } from './validate';

/** The error fields (the server's names) each form field answers for. */
const ERROR_FIELDS: Record<keyof RuleForm, string[]> = {
  description: ['description'],
  enabled: ['enabled'],
  mode: ['mode'],
  roleId: ['role_id'],
  direction: ['direction'],
  origin: ['origin'],
  dispatch: ['dispatch', 'dispatch.recipients', 'dispatch.script', 'dispatch.url', 'dispatch.secret'],
  recipients: ['dispatch.recipients'],
  script: ['dispatch.script'],
  url: ['dispatch.url'],
  secret: ['dispatch.secret'],
  requireConsent: ['require_consent'],
  transcribe: ['transcribe'],
};

export function dispatchLabel(d: Dispatch): string {
  switch (d.kind) {
    case 'store':
      return 'Store only';
    case 'email':
      return `E-mail to ${d.recipients.join(', ')}`;
    case 'script':
      return 'Run script';
    case 'webhook':
      return `Webhook to ${webhookHost(d.url)}`;
  }
}

function webhookHost(url: string): string {
  const m = /^https?:\/\/(?:[^@/]*@)?([^/?#]+)/i.exec(url);
  return m ? m[1] : url;
}

const DISPATCH_KIND = { store: 'Store only', email: 'E-mail', script: 'Script', webhook: 'Webhook' } as const;
const MODE = { automatic: 'Automatic', manual: 'Manual' } as const;
const DIRECTION = { incoming: 'Incoming', outgoing: 'Outgoing', both: 'Both directions' } as const;
const DIRECTION_SHORT = { incoming: 'Incoming', outgoing: 'Outgoing', both: 'Both ways' } as const;
const ORIGIN_SHORT = { internal: 'internal', external: 'external', both: 'any origin' } as const;
const ORIGIN = { internal: 'Internal', external: 'External', both: 'Both' } as const;

export function toForm(rule: Rule | null): RuleForm {
  return {
    description: rule?.description ?? '',
    enabled: rule?.enabled ?? true,
    mode: rule?.mode ?? 'manual',
    roleId: rule ? String(rule.role_id) : '',
    direction: rule?.direction ?? 'both',
    origin: rule?.origin ?? 'both',
    dispatch: rule?.dispatch.kind ?? 'store',
    recipients: rule?.dispatch.kind === 'email' ? rule.dispatch.recipients.join('\n') : '',
    script: rule?.dispatch.kind === 'script' ? rule.dispatch.script : '',
    url: rule?.dispatch.kind === 'webhook' ? rule.dispatch.url : '',
    // The server never shows the secret: the mask, sent back as is, keeps it.
    secret: rule?.dispatch.kind === 'webhook' ? rule.dispatch.secret : '',
    requireConsent: rule?.require_consent ?? false,
    transcribe: rule?.transcribe ?? false,
  };
}

export function toInput(f: RuleForm, position: number | null): RuleInput {
  const dispatch: Dispatch =
    f.dispatch === 'email'
      ? { kind: 'email', recipients: splitList(f.recipients) }
      : f.dispatch === 'script'
        ? { kind: 'script', script: f.script }
        : f.dispatch === 'webhook'
          ? { kind: 'webhook', url: f.url.trim(), secret: f.secret }
          : { kind: 'store' };
  return {
    description: f.description.trim(),
    enabled: f.enabled,
    mode: f.mode,
    role_id: Number(f.roleId),
    direction: f.direction,
    origin: f.origin,
    dispatch,
    position,
    // Only an automatic rule waits for consent (a manual recording stops at a refusal anyway).
    require_consent: f.mode === 'automatic' && f.requireConsent,
    transcribe: f.transcribe,
  };
}

export function RulesPanel() {
  const { report, notify } = useShared();
  const [rules, setRules] = useState<Rule[] | null>(null);
  const [roles, setRoles] = useState<Role[]>([]);
  const [editing, setEditing] = useState<Rule | 'new' | null>(null);

  const load = () =>
    Promise.all([adminApi.listRules(), adminApi.listRoles()]).then(([r, ro]) => {
      setRules(r);
      setRoles(ro);
    }, report);
  useEffect(() => {
    load();
  }, []);

  const roleName = (id: number) => roles.find((r) => r.id === id)?.name ?? `role ${id}`;
  const act = async (p: Promise<unknown>) => {
    try {
      await p;
    } catch (e) {
      report(e);
    }
    await load();
  };

  return (
    <div class="admin-split">
      <div class="admin-main" data-testid="admin-rules">
        <div class="admin-head">
          <div>
            <h2>Recording rules</h2>
            <p class="muted">Read from the top. Automatic rules record the whole call; manual rules allow the record button.</p>
          </div>
          <button class="btn btn-primary" onClick={() => setEditing('new')} data-testid="rule-new">
            New rule
          </button>
        </div>
        {rules && rules.length === 0 && (
          <div class="empty">
            <h3>No rules yet</h3>
            <p class="muted">Without rules nothing is recorded unless the PBX forces it.</p>
          </div>
        )}
        {rules && rules.length > 0 && (
          <table class="atable fit rules-table" data-testid="rules-table">
            <colgroup>
              <col class="c-num" />
              <col />
              <col class="c-role" />
              <col class="c-mode" />
              <col class="c-dispatch" />
              <col class="c-enabled" />
              <col class="c-actions" />
            </colgroup>
            <thead>
              <tr>
                <th class="num">#</th>
                <th class="desc">Description</th>
                <th>Role</th>
                <th>Mode</th>
                <th>Dispatch</th>
                <th>Enabled</th>
                <th class="actions" />
              </tr>
            </thead>
            <tbody>
              {rules.map((r, i) => (
                <tr key={r.id} class={r.enabled ? '' : 'off'} data-testid="rule-row" data-rule-id={r.id}>
                  <td class="num">{i + 1}</td>
                  <td class="desc">
                    <button class="link strong" onClick={() => setEditing(r)} title={r.description} data-testid="rule-edit">
                      {r.description}
                    </button>
                  </td>
                  <td class="ellipsis" title={roleName(r.role_id)}>
                    {roleName(r.role_id)}
                  </td>
                  <td>
                    <div class="mode-cell">
                      <span class={`chip chip-mode-${r.mode}`}>{MODE[r.mode]}</span>
                      {r.require_consent && (
                        <span class="tag" title="Records only once the caller has given consent" data-testid="rule-consent-tag">
                          consent
                        </span>
                      )}
                      <span class="muted small nowrap">
                        {DIRECTION_SHORT[r.direction]} · {ORIGIN_SHORT[r.origin]}
                      </span>
                    </div>
                  </td>
                  <td class="ellipsis" title={dispatchLabel(r.dispatch)}>
                    {dispatchLabel(r.dispatch)}
                  </td>
                  <td>
                    <label class="switch" title={r.enabled ? 'Enabled' : 'Disabled'}>
                      <input
                        type="checkbox"
                        checked={r.enabled}
                        onChange={(e) => act(adminApi.setRuleEnabled(r.id, (e.target as HTMLInputElement).checked))}
                        data-testid="rule-enabled"
                        aria-label={`Enable ${r.description}`}
                      />
                      <span class="slider" />
                    </label>
                  </td>
                  <td class="actions">
                    <button class="icon-btn" disabled={i === 0} onClick={() => act(adminApi.moveRule(r.id, 'up'))} title="Move up" aria-label="Move up" data-testid="rule-up">
                      ↑
                    </button>
                    <button
                      class="icon-btn"
                      disabled={i === rules.length - 1}
                      onClick={() => act(adminApi.moveRule(r.id, 'down'))}
                      title="Move down"
                      aria-label="Move down"
                      data-testid="rule-down"
                    >
                      ↓
                    </button>
                    <DeleteButton
                      what="this rule"
                      testId="rule-delete"
                      onDelete={() => act(adminApi.deleteRule(r.id).then(() => notify('Rule deleted.', 'success')))}
                    />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
      {editing && (
        <RuleEditor
          key={editing === 'new' ? 'new' : editing.id}
          rule={editing === 'new' ? null : editing}
          roles={roles}
          onClose={() => setEditing(null)}
          onSaved={() => {
            setEditing(null);
            notify('Rule saved.', 'success');
            load();
          }}
        />
      )}
    </div>
  );
}

export function RuleEditor(props: { rule: Rule | null; roles: Role[]; onClose: () => void; onSaved: (r: Rule) => void }) {
  const { report } = useShared();
  const [form, setForm] = useState<RuleForm>(() => toForm(props.rule));
  const [errors, setErrors] = useState<Errors>({});
  const [saving, setSaving] = useState(false);
  const set = (patch: Partial<RuleForm>) => {
    setForm((f) => ({ ...f, ...patch }));
    setErrors((e) => without(e, Object.keys(patch).flatMap((k) => ERROR_FIELDS[k as keyof RuleForm])));
  };

  const save = async (e: Event) => {
    e.preventDefault();
    const local = validateRule(form);
    setErrors(local);
    if (hasErrors(local)) return;
    setSaving(true);
    try {
      const input = toInput(form, props.rule?.position ?? null);
      const saved = props.rule ? await adminApi.updateRule(props.rule.id, input) : await adminApi.createRule(input);
      props.onSaved(saved);
    } catch (err) {
      const fields = formErrors(err);
      if (fields) setErrors(fields);
      else report(err);
    } finally {
      setSaving(false);
    }
  };

  return (
    <Panel title={props.rule ? 'Edit rule' : 'New rule'} onClose={props.onClose} testId="rule-form">
      <form class="aform" onSubmit={save} noValidate>
        <Field label="Description" name="description" error={errors.description}>
          <input class="input" value={form.description} onInput={(e) => set({ description: inputValue(e) })} data-testid="rule-description" />
        </Field>
        <label class="check">
          <input type="checkbox" checked={form.enabled} onChange={(e) => set({ enabled: (e.target as HTMLInputElement).checked })} data-testid="rule-form-enabled" />
          Enabled
        </label>
        <div class="arow">
          <Field label="Mode" name="mode" error={errors.mode}>
            <select class="input" value={form.mode} onChange={(e) => set({ mode: inputValue(e) as RuleForm['mode'] })} data-testid="rule-mode">
              {Object.entries(MODE).map(([v, l]) => (
                <option key={v} value={v}>
                  {l}
                </option>
              ))}
            </select>
          </Field>
          <Field label="Role" name="role_id" error={errors.role_id}>
            <select class="input" value={form.roleId} onChange={(e) => set({ roleId: inputValue(e) })} data-testid="rule-role">
              <option value="">Choose a role…</option>
              {props.roles.map((r) => (
                <option key={r.id} value={String(r.id)}>
                  {r.name}
                </option>
              ))}
            </select>
          </Field>
        </div>
        {form.mode === 'automatic' && (
          <label class="check" title="The recording starts when the caller gives consent and stops if they refuse">
            <input
              type="checkbox"
              checked={form.requireConsent}
              onChange={(e) => set({ requireConsent: (e.target as HTMLInputElement).checked })}
              data-testid="rule-require-consent"
            />
            Record only once the caller has given consent
          </label>
        )}
        {errors.require_consent && (
          <span class="afield-error" role="alert" data-testid="error-require_consent">
            {errors.require_consent}
          </span>
        )}
        <label class="check" title="Each recording is transcribed on this site's own machines, per speaker, and its words become searchable">
          <input
            type="checkbox"
            checked={form.transcribe}
            onChange={(e) => set({ transcribe: (e.target as HTMLInputElement).checked })}
            data-testid="rule-transcribe"
          />
          Transcribe the recordings
        </label>
        <div class="arow">
          <Field label="Direction" name="direction" error={errors.direction}>
            <select class="input" value={form.direction} onChange={(e) => set({ direction: inputValue(e) as RuleForm['direction'] })} data-testid="rule-direction">
              {Object.entries(DIRECTION).map(([v, l]) => (
                <option key={v} value={v}>
                  {l}
                </option>
              ))}
            </select>
          </Field>
          <Field label="Origin" name="origin" error={errors.origin}>
            <select class="input" value={form.origin} onChange={(e) => set({ origin: inputValue(e) as RuleForm['origin'] })} data-testid="rule-origin">
              {Object.entries(ORIGIN).map(([v, l]) => (
                <option key={v} value={v}>
                  {l}
                </option>
              ))}
            </select>
          </Field>
        </div>
        <fieldset class="afieldset">
          <legend>After the call</legend>
          <div class="segmented" role="radiogroup">
            {(['store', 'email', 'script', 'webhook'] as const).map((k) => (
              <label key={k} class={form.dispatch === k ? 'seg active' : 'seg'}>
                <input type="radio" name="dispatch" value={k} checked={form.dispatch === k} onChange={() => set({ dispatch: k })} data-testid={`rule-dispatch-${k}`} />
                {DISPATCH_KIND[k]}
              </label>
            ))}
          </div>
          {form.dispatch === 'email' && (
            <Field label="Recipients" name="dispatch.recipients" error={errors['dispatch.recipients']} hint="One address per line.">
              <textarea class="input textarea" rows={3} value={form.recipients} onInput={(e) => set({ recipients: inputValue(e) })} data-testid="rule-recipients" />
            </Field>
          )}
          {form.dispatch === 'webhook' && (
            <>
              <Field label="URL" name="dispatch.url" error={errors['dispatch.url']} hint="Gets a signed JSON POST as soon as each recording is finished.">
                <input class="input mono" type="url" spellcheck={false} placeholder="https://example.com/hooks/callrec" value={form.url} onInput={(e) => set({ url: inputValue(e) })} data-testid="rule-url" />
              </Field>
              <Field
                label="Secret"
                name="dispatch.secret"
                error={errors['dispatch.secret']}
                hint={form.secret === SECRET_MASK ? 'Stored and never shown. Leave it to keep it, or type a new one.' : 'Signs each request (X-Callrec-Signature: HMAC-SHA256). Never shown again once saved.'}
              >
                <input class="input mono" type="password" autocomplete="new-password" value={form.secret} onFocus={(e) => form.secret === SECRET_MASK && (e.currentTarget as HTMLInputElement).select()} onInput={(e) => set({ secret: inputValue(e) })} data-testid="rule-secret" />
              </Field>
            </>
          )}
          {form.dispatch === 'script' && (
            <Field label="Script" name="dispatch.script" error={errors['dispatch.script']} hint="Runs under bash: $1 is the WAV file, $2 the call's journal JSON.">
              <textarea class="input textarea mono" rows={10} spellcheck={false} value={form.script} onInput={(e) => set({ script: inputValue(e) })} data-testid="rule-script" />
            </Field>
          )}
        </fieldset>
        <div class="aform-actions">
          <button type="button" class="btn btn-ghost" onClick={props.onClose}>
            Cancel
          </button>
          <button type="submit" class="btn btn-primary" disabled={saving} data-testid="rule-save">
            {saving ? 'Saving…' : 'Save rule'}
          </button>
        </div>
      </form>
    </Panel>
  );
}
