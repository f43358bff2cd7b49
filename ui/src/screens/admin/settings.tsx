// Settings: how long recordings are kept, what happens to a recording whose caller refused
// consent, what fills a paused recording and when a forgotten pause ends, who is mailed a
// missing-recording alarm, when the dispatch job runs (with its next three
// runs, previewed by the server as the expression is typed), the SMTP server with a test
// message, and the disk: used, free, growth per day and the days until it is full.
import { useEffect, useState } from 'preact/hooks';
import type { ConsentRefused, PauseFill, Settings, SmtpSecurity, StorageReport } from '../../api';
import { adminApi } from '../../api/admin';
import { toApiError } from '../../api';
import { useShared } from '../../context';
import { formatBytes, formatDateTime } from '../../format';
import { Field, inputValue } from './form';
import { formErrors, hasErrors, isPlausibleEmail, plainCronError, validateCron, validateRetention, without, type Errors } from './validate';

interface Form {
  retention: string;
  consentRefused: ConsentRefused;
  pauseFill: PauseFill;
  pauseAutoResume: string;
  alarmRecipients: string;
  cron: string;
  host: string;
  port: string;
  security: SmtpSecurity;
  username: string;
  password: string;
  from: string;
}

const toForm = (s: Settings): Form => ({
  retention: String(s.retention_days),
  consentRefused: s.consent_refused ?? 'delete',
  pauseFill: s.pause_fill ?? 'silence',
  pauseAutoResume: String(s.pause_auto_resume_secs ?? 0),
  alarmRecipients: (s.alarm_recipients ?? []).join(', '),
  cron: s.dispatch_schedule,
  host: s.smtp.host,
  port: String(s.smtp.port),
  security: s.smtp.security,
  username: s.smtp.username,
  password: s.smtp.password,
  from: s.smtp.from,
});

/** The alarm recipients as typed: addresses separated by commas, spaces or new lines. */
export const recipientList = (text: string): string[] => text.split(/[\s,;]+/).map((r) => r.trim()).filter(Boolean);

export function validateSettings(f: Form): Errors {
  const e: Errors = { ...validateRetention(f.retention), ...validateCron(f.cron) };
  const resume = Number(f.pauseAutoResume);
  if (!/^\d+$/.test(f.pauseAutoResume.trim()) || resume > 86400) e.pause_auto_resume_secs = 'Seconds from 0 (never) to 86400.';
  const bad = recipientList(f.alarmRecipients).filter((r) => !isPlausibleEmail(r));
  if (bad.length) e.alarm_recipients = `Not an e-mail address: ${bad.join(', ')}`;
  const port = Number(f.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) e['smtp.port'] = 'A port from 1 to 65535.';
  if (f.host.trim() && !isPlausibleEmail(f.from.trim())) e['smtp.from'] = 'The sender address is needed once an SMTP host is set.';
  return e;
}

export function SettingsPanel() {
  const { report, notify } = useShared();
  const [saved, setSaved] = useState<Settings | null>(null);
  const [form, setForm] = useState<Form | null>(null);
  const [errors, setErrors] = useState<Errors>({});
  const [preview, setPreview] = useState<{ next: string[]; error?: string } | null>(null);
  const [storage, setStorage] = useState<StorageReport | null>(null);
  const [testTo, setTestTo] = useState('');
  const [testState, setTestState] = useState<{ kind: 'idle' | 'sending' | 'sent' | 'error'; text?: string }>({ kind: 'idle' });

  useEffect(() => {
    adminApi.getSettings().then((s) => {
      setSaved(s);
      setForm(toForm(s));
    }, report);
    adminApi.storage().then(setStorage, report);
  }, []);

  // The next runs of the schedule as typed (debounced; the server's parser decides).
  const cron = form?.cron;
  useEffect(() => {
    if (cron == null) return;
    // What can be said here is said at once, in words; the server is asked about the rest.
    const local = validateCron(cron).dispatch_schedule;
    if (local) {
      setPreview({ next: [], error: local });
      return;
    }
    const t = setTimeout(() => {
      adminApi.schedulePreview(cron).then(
        (p) => setPreview({ next: p.next }),
        (e) => {
          const fields = formErrors(e);
          setPreview({ next: [], error: plainCronError(fields?.dispatch_schedule ?? toApiError(e).message) });
        },
      );
    }, 300);
    return () => clearTimeout(t);
  }, [cron]);

  if (!form || !saved) return <p class="muted pad">Loading settings…</p>;
  const names: Record<keyof Form, string> = {
    retention: 'retention_days',
    consentRefused: 'consent_refused',
    pauseFill: 'pause_fill',
    pauseAutoResume: 'pause_auto_resume_secs',
    alarmRecipients: 'alarm_recipients',
    cron: 'dispatch_schedule',
    host: 'smtp.host',
    port: 'smtp.port',
    security: 'smtp.security',
    username: 'smtp.username',
    password: 'smtp.password',
    from: 'smtp.from',
  };
  const set = (patch: Partial<Form>) => {
    setForm((f) => (f ? { ...f, ...patch } : f));
    setErrors((e) => without(e, Object.keys(patch).map((k) => names[k as keyof Form])));
  };

  const save = async (e: Event) => {
    e.preventDefault();
    const local = validateSettings(form);
    setErrors(local);
    if (hasErrors(local)) return;
    try {
      const next = await adminApi.updateSettings({
        retention_days: Number(form.retention),
        consent_refused: form.consentRefused,
        pause_fill: form.pauseFill,
        pause_auto_resume_secs: Number(form.pauseAutoResume.trim()),
        alarm_recipients: recipientList(form.alarmRecipients),
        dispatch_schedule: form.cron.trim(),
        smtp: {
          host: form.host.trim(),
          port: Number(form.port),
          security: form.security,
          username: form.username.trim(),
          // The redacted placeholder means "unchanged".
          password: form.password === saved.smtp.password ? null : form.password,
          from: form.from.trim(),
        },
      });
      setSaved(next);
      setForm(toForm(next));
      notify('Settings saved.', 'success');
    } catch (err) {
      const fields = formErrors(err);
      if (fields?.dispatch_schedule) fields.dispatch_schedule = plainCronError(fields.dispatch_schedule);
      if (fields) setErrors(fields);
      else report(err);
    }
  };

  const sendTest = async () => {
    if (!isPlausibleEmail(testTo.trim())) {
      setTestState({ kind: 'error', text: 'Enter the address to send the test message to.' });
      return;
    }
    setTestState({ kind: 'sending' });
    try {
      await adminApi.smtpTest(testTo.trim());
      setTestState({ kind: 'sent', text: `Test message sent to ${testTo.trim()}.` });
    } catch (err) {
      const fields = formErrors(err);
      setTestState({ kind: 'error', text: fields ? Object.values(fields).join(' ') : toApiError(err).message });
    }
  };

  return (
    <div class="admin-main admin-scroll" data-testid="admin-settings">
      <div class="admin-head">
        <div>
          <h2>Settings</h2>
          <p class="muted">Retention and consent, the dispatch schedule, pauses and alarms, the mail server. Saved settings apply at once.</p>
        </div>
      </div>
      <form class="settings-grid" onSubmit={save} noValidate>
        <section class="acard">
          <h3>Retention</h3>
          <Field label="Keep recordings for" name="retention_days" error={errors.retention_days} hint="Days; recordings on legal hold are kept regardless.">
            <div class="input-suffix">
              <input class="input" inputMode="numeric" value={form.retention} onInput={(e) => set({ retention: inputValue(e) })} data-testid="settings-retention" />
              <span class="muted">days</span>
            </div>
          </Field>
          <Field
            label="When a caller refuses consent"
            name="consent_refused"
            error={errors.consent_refused}
            hint="The recording stops at once; what was recorded before the refusal is deleted or kept."
          >
            <select
              class="input"
              value={form.consentRefused}
              onChange={(e) => set({ consentRefused: inputValue(e) as ConsentRefused })}
              data-testid="settings-consent-refused"
            >
              <option value="delete">Delete what was recorded</option>
              <option value="keep">Keep what was recorded</option>
            </select>
          </Field>
        </section>
        <section class="acard">
          <h3>Dispatch schedule</h3>
          <Field label="Cron expression" name="dispatch_schedule" error={errors.dispatch_schedule} hint="minute hour day month weekday, in the server's time zone">
            <input class="input mono" value={form.cron} onInput={(e) => set({ cron: inputValue(e) })} data-testid="settings-cron" />
          </Field>
          <div class="preview" data-testid="schedule-preview">
            {preview?.error ? (
              <span class="afield-error">{preview.error}</span>
            ) : (
              <>
                <span class="muted">Next runs</span>
                <ol>
                  {(preview?.next ?? []).map((t) => (
                    <li key={t}>{formatDateTime(t)}</li>
                  ))}
                </ol>
              </>
            )}
          </div>
        </section>
        <section class="acard wide">
          <h3>Pause and alarms</h3>
          <div class="arow">
          <Field label="A paused recording holds" name="pause_fill" error={errors.pause_fill} hint="Never the call's audio: the file keeps the call's length.">
            <select class="input" value={form.pauseFill} onChange={(e) => set({ pauseFill: inputValue(e) as PauseFill })} data-testid="settings-pause-fill">
              <option value="silence">Silence</option>
              <option value="tone">A soft tone</option>
            </select>
          </Field>
          <Field label="Resume a forgotten pause after" name="pause_auto_resume_secs" error={errors.pause_auto_resume_secs} hint="Seconds; 0 never resumes by itself.">
            <div class="input-suffix">
              <input class="input" inputMode="numeric" value={form.pauseAutoResume} onInput={(e) => set({ pauseAutoResume: inputValue(e) })} data-testid="settings-pause-auto-resume" />
              <span class="muted">s</span>
            </div>
          </Field>
          <Field label="Mail missing-recording alarms to" name="alarm_recipients" error={errors.alarm_recipients} hint="Addresses separated by commas; sent when the SMTP server is set.">
            <input class="input" value={form.alarmRecipients} onInput={(e) => set({ alarmRecipients: inputValue(e) })} data-testid="settings-alarm-recipients" />
          </Field>
          </div>
        </section>
        <section class="acard wide">
          <h3>E-mail (SMTP)</h3>
          <div class="arow">
            <Field label="Host" name="smtp.host" error={errors['smtp.host']}>
              <input class="input" value={form.host} onInput={(e) => set({ host: inputValue(e) })} data-testid="settings-smtp-host" />
            </Field>
            <Field label="Port" name="smtp.port" error={errors['smtp.port']}>
              <input class="input" inputMode="numeric" value={form.port} onInput={(e) => set({ port: inputValue(e) })} data-testid="settings-smtp-port" />
            </Field>
            <Field label="Security" name="smtp.security" error={errors['smtp.security']}>
              <select class="input" value={form.security} onChange={(e) => set({ security: inputValue(e) as SmtpSecurity })} data-testid="settings-smtp-security">
                <option value="none">None</option>
                <option value="starttls">STARTTLS</option>
                <option value="tls">TLS</option>
              </select>
            </Field>
          </div>
          <div class="arow">
            <Field label="Username" name="smtp.username" error={errors['smtp.username']}>
              <input class="input" value={form.username} onInput={(e) => set({ username: inputValue(e) })} data-testid="settings-smtp-username" />
            </Field>
            <Field label="Password" name="smtp.password" error={errors['smtp.password']}>
              <input class="input" type="password" value={form.password} onInput={(e) => set({ password: inputValue(e) })} data-testid="settings-smtp-password" />
            </Field>
            <Field label="Sender address" name="smtp.from" error={errors['smtp.from']}>
              <input class="input" value={form.from} onInput={(e) => set({ from: inputValue(e) })} data-testid="settings-smtp-from" />
            </Field>
          </div>
          <div class="smtp-test">
            <input class="input" placeholder="Send a test message to…" value={testTo} onInput={(e) => setTestTo(inputValue(e))} data-testid="smtp-test-to" />
            <button type="button" class="btn btn-ghost" onClick={sendTest} disabled={testState.kind === 'sending'} data-testid="smtp-test">
              {testState.kind === 'sending' ? 'Sending…' : 'Send test message'}
            </button>
            {testState.text && (
              <span class={testState.kind === 'sent' ? 'ok-text' : 'afield-error'} data-testid="smtp-test-result">
                {testState.text}
              </span>
            )}
          </div>
          <p class="muted small">The test uses the saved settings: save first.</p>
        </section>
        <div class="aform-actions wide">
          <button type="button" class="btn btn-ghost" onClick={() => (setForm(toForm(saved)), setErrors({}))}>
            Discard changes
          </button>
          <button type="submit" class="btn btn-primary" data-testid="settings-save">
            Save settings
          </button>
        </div>
      </form>
      <section class="acard storage" data-testid="storage">
        <h3>Storage</h3>
        {storage ? <StorageView s={storage} /> : <p class="muted">Loading…</p>}
      </section>
    </div>
  );
}

/**
 * What a full disk is costing, in plain words, or null when it has never refused a write. The
 * server keeps a call's audio in memory while the disk is full and drops (and lists as a gap of
 * the recording) what does not fit; new calls are refused meanwhile.
 */
export function diskWarning(s: StorageReport): string | null {
  const lost = `${((s.audio_lost_ms ?? 0) / 1000).toFixed(1)} s of audio lost`;
  if (s.disk_full) {
    const n = s.calls_waiting ?? 0;
    const waiting = `${n.toLocaleString()} ${n === 1 ? 'call' : 'calls'} waiting to write`;
    return `The disk is full: ${waiting}, ${lost}. New calls are refused until space is freed.`;
  }
  if ((s.audio_lost_ms ?? 0) > 0) {
    return `The disk was full: ${lost} since the server started. The affected recordings list their gaps.`;
  }
  return null;
}

export function StorageView({ s }: { s: StorageReport }) {
  const total = s.bytes_used + s.bytes_free;
  const pct = total > 0 ? Math.min(100, (s.bytes_used / total) * 100) : 0;
  const days = s.days_until_full;
  const warning = diskWarning(s);
  return (
    <div class="storage-view">
      {warning && (
        <p class={s.disk_full ? 'disk-warning full' : 'disk-warning'} role="alert" data-testid="disk-warning">
          {warning}
        </p>
      )}
      <div class="progress big" title={`${pct.toFixed(1)} %`}>
        <div class={days != null && days < 30 ? 'progress-bar warn' : 'progress-bar'} style={{ width: `${pct}%` }} />
      </div>
      <dl class="facts plain">
        <dt>Recordings</dt>
        <dd>
          {s.recordings.toLocaleString()} · {formatBytes(s.bytes_used)}
        </dd>
        <dt>Free</dt>
        <dd>{formatBytes(s.bytes_free)}</dd>
        <dt>Growth</dt>
        <dd>{formatBytes(s.bytes_per_day)} per day</dd>
        <dt>Full in</dt>
        <dd data-testid="days-until-full">{days == null ? 'never at the current rate' : `${Math.floor(days).toLocaleString()} days`}</dd>
        {s.object_store != null && (
          <>
            <dt>Object store</dt>
            <dd data-testid="object-store">
              {s.object_store} · {s.bucket_bytes == null ? 'use unknown (not reachable)' : formatBytes(s.bucket_bytes)}
            </dd>
            <dt>Waiting for upload</dt>
            <dd data-testid="spool-backlog">{spoolBacklog(s)}</dd>
          </>
        )}
      </dl>
    </div>
  );
}

/**
 * What waits in the local spool for the object store, and why, when uploads are failing
 * (issue #10.2: nothing is lost, it is retried).
 */
export function spoolBacklog(s: StorageReport): string {
  const n = s.spool_backlog ?? 0;
  const files = `${n.toLocaleString()} ${n === 1 ? 'file' : 'files'} (${formatBytes(s.spool_backlog_bytes ?? 0)})`;
  if (s.last_upload_error) {
    return `${files} — uploads are failing and are retried: ${s.last_upload_error}`;
  }
  return n === 0 ? 'nothing' : files;
}
