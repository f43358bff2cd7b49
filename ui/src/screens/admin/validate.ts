// Client-side checks of the admin forms, mirroring the server's (which stay the authority):
// each returns the problems by field name — the same names the server uses in `fields`, so
// its refusals land at the same places.
import type { FieldError, Level, RuleDirection, RuleMode, RuleOrigin } from '../../api';
import { toApiError } from '../../api';

export type Errors = Record<string, string>;

export const MAX_DESCRIPTION = 200;
export const MAX_RECIPIENTS = 50;
export const MAX_SCRIPT_BYTES = 64 * 1024;
export const MIN_PASSWORD = 8;

export function isPlausibleEmail(s: string): boolean {
  if (s.length > 254 || /[\s<>,;"()[\]\\]/.test(s)) return false;
  const at = s.lastIndexOf('@');
  if (at <= 0) return false;
  const local = s.slice(0, at);
  const domain = s.slice(at + 1);
  return !local.includes('@') && domain.includes('.') && !domain.startsWith('.') && !domain.endsWith('.');
}

/** `aa:bb:…`, `aa-bb-…`, `aabb.ccdd.eeff` or 12 hex digits → 12 lower-case hex digits. */
export function normalizeMac(raw: string): string | null {
  const s = raw.trim();
  if (s.length > 17) return null;
  const hex = s.replace(/[:.-]/g, '');
  return /^[0-9a-fA-F]{12}$/.test(hex) ? hex.toLowerCase() : null;
}

/** A list typed one per line or separated by commas. */
export function splitList(text: string): string[] {
  return text
    .split(/[\n,;]/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

export interface RuleForm {
  description: string;
  enabled: boolean;
  mode: RuleMode;
  roleId: string;
  direction: RuleDirection;
  origin: RuleOrigin;
  dispatch: 'store' | 'email' | 'script' | 'webhook';
  recipients: string;
  script: string;
  /** The webhook's URL and secret; an existing rule's secret shows as the mask "********". */
  url: string;
  secret: string;
  /** Automatic rules only: record once the caller has given consent. */
  requireConsent: boolean;
  /** The rule's recordings are transcribed (issue #16). */
  transcribe: boolean;
}

/** What the server shows instead of a webhook's secret; sent back, it keeps the stored one. */
export const SECRET_MASK = '********';

/** An absolute http(s) URL with a host, no spaces, no fragment (the server checks the same). */
export function webhookUrlProblem(url: string): string | null {
  const u = url.trim();
  if (!u) return 'A webhook needs a URL.';
  if (/\s/.test(u)) return 'The URL contains spaces.';
  const m = /^(https?):\/\/([^/?#]*)/i.exec(u);
  if (!m) return 'The URL must start with http:// or https://.';
  const host = m[2].split('@').pop() ?? '';
  if (!host || host.startsWith(':')) return 'The URL names no host.';
  if (u.includes('#')) return 'A webhook URL has no fragment (#…).';
  return null;
}

export function validateRule(f: RuleForm): Errors {
  const e: Errors = {};
  const description = f.description.trim();
  if (!description) e.description = 'A rule needs a description.';
  else if ([...description].length > MAX_DESCRIPTION) e.description = `At most ${MAX_DESCRIPTION} characters.`;
  if (!f.roleId) e.role_id = 'Choose the role the rule applies to.';
  if (f.dispatch === 'email') {
    const list = splitList(f.recipients);
    const bad = list.filter((r) => !isPlausibleEmail(r));
    if (list.length === 0) e['dispatch.recipients'] = 'E-mail dispatch needs at least one recipient.';
    else if (list.length > MAX_RECIPIENTS) e['dispatch.recipients'] = `At most ${MAX_RECIPIENTS} recipients.`;
    else if (bad.length > 0) e['dispatch.recipients'] = `Not an e-mail address: ${bad.join(', ')}.`;
  }
  if (f.dispatch === 'webhook') {
    const problem = webhookUrlProblem(f.url);
    if (problem) e['dispatch.url'] = problem;
    if (!f.secret.trim()) e['dispatch.secret'] = 'A webhook needs a secret to sign its requests with.';
  }
  if (f.dispatch === 'script') {
    if (!f.script.trim()) e['dispatch.script'] = 'Script dispatch needs a script body.';
    else if (new TextEncoder().encode(f.script).length > MAX_SCRIPT_BYTES) e['dispatch.script'] = 'At most 64 KiB.';
  }
  return e;
}

export interface UserForm {
  username: string;
  displayName: string;
  level: Level;
  extensions: string;
  password: string;
}

export function validateUser(f: UserForm, isNew: boolean): Errors {
  const e: Errors = {};
  const name = f.username.trim();
  if (!name) e.username = 'Enter a username.';
  else if (name.length > 64) e.username = 'At most 64 characters.';
  else if (!/^[\p{L}\p{N}._\-@]+$/u.test(name)) e.username = 'Letters, digits and . _ - @ only.';
  if (splitList(f.extensions).length > 16) e.extensions = 'At most 16 extensions.';
  if (isNew || f.password) {
    const p = validatePassword(f.password);
    if (p) e.password = p;
  }
  return e;
}

export function validatePassword(p: string): string | null {
  return [...p].length < MIN_PASSWORD ? `At least ${MIN_PASSWORD} characters.` : null;
}

export function validateName(name: string): Errors {
  const n = name.trim();
  if (!n) return { name: 'Enter a name.' };
  if (n.length > 128) return { name: 'At most 128 characters.' };
  return {};
}

export function validatePhone(mac: string, userId: string): Errors {
  const e: Errors = {};
  if (!normalizeMac(mac)) e.mac = 'A MAC address has 12 hex digits, e.g. 00:04:13:2c:d0:c5.';
  if (!userId) e.user_id = 'Choose the phone’s user.';
  return e;
}

export function validateRetention(days: string): Errors {
  const n = Number(days);
  return Number.isInteger(n) && n >= 1 && n <= 36500 ? {} : { retention_days: 'Whole days, 1 or more.' };
}

const CRON_FIELDS: { name: string; min: number; max: number; names?: string[] }[] = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'] },
  { name: 'weekday', min: 0, max: 7, names: ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] },
];

/** What is wrong with one cron field, in words, or null. */
function cronFieldError(text: string, f: (typeof CRON_FIELDS)[number]): string | null {
  const value = (v: string): number | null => {
    if (/^\d+$/.test(v)) return Number(v);
    const i = f.names?.indexOf(v.toLowerCase()) ?? -1;
    return i >= 0 ? i + (f.name === 'month' ? 1 : 0) : null;
  };
  const range = `${f.min}–${f.max}`;
  for (const item of text.split(',')) {
    const [base, step, extra] = item.split('/');
    if (extra !== undefined || base === '') return `The ${f.name} “${text}” is not a value, a range or a list.`;
    if (step !== undefined && !/^[1-9]\d*$/.test(step)) return `The step “/${step}” of the ${f.name} must be a whole number from 1.`;
    if (base === '*') continue;
    const bounds = base.split('-');
    if (bounds.length > 2) return `The ${f.name} “${text}” is not a value, a range or a list.`;
    const nums = bounds.map(value);
    if (nums.some((n) => n == null)) return `The ${f.name} “${text}” is not a value, a range or a list.`;
    for (const n of nums as number[]) if (n < f.min || n > f.max) return `The ${f.name} must be ${range}, not ${n}.`;
    if (nums.length === 2 && (nums[0] as number) > (nums[1] as number)) return `The ${f.name} range ${base} runs backwards.`;
  }
  return null;
}

/** A dispatch schedule: five fields (minute hour day month weekday), each in its range. */
export function validateCron(cron: string): Errors {
  const parts = cron.trim().split(/\s+/).filter(Boolean);
  if (parts.length !== 5) return { dispatch_schedule: 'Five fields: minute hour day month weekday.' };
  for (let i = 0; i < 5; i++) {
    const problem = cronFieldError(parts[i], CRON_FIELDS[i]);
    if (problem) return { dispatch_schedule: problem };
  }
  return {};
}

/** The schedule parser's own words ("Component error: Number out of bounds") as a sentence. */
export function plainCronError(message: string): string {
  if (/component|out of bounds|parse|invalid|error:/i.test(message)) return 'The server cannot read this schedule: check each field is in its range.';
  return message;
}

/** A sentence from a server field message ("must not be empty" → "Must not be empty."). */
function sentence(m: string): string {
  const t = m.trim();
  if (!t) return t;
  const s = t[0].toUpperCase() + t.slice(1);
  return /[.!?]$/.test(s) ? s : `${s}.`;
}

/** The server's refused fields by name (the first message of each). */
export function byField(fields: FieldError[]): Errors {
  const e: Errors = {};
  for (const f of fields) if (!(f.field in e)) e[f.field] = sentence(f.message);
  return e;
}

/**
 * What a failed save shows: the refused fields at their fields, or `null` when the error is
 * not about the form (the caller reports it the usual way).
 */
export function formErrors(err: unknown): Errors | null {
  const e = toApiError(err);
  if (e.code === 'invalid' && e.fields.length > 0) return byField(e.fields);
  return null;
}

export const hasErrors = (e: Errors) => Object.keys(e).length > 0;

/** `errors` without those of `fields` (a field's message goes once the field is edited). */
export function without(errors: Errors, fields: string[]): Errors {
  if (!fields.some((f) => f in errors)) return errors;
  const rest = { ...errors };
  for (const f of fields) delete rest[f];
  return rest;
}
