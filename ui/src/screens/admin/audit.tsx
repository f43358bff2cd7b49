// The audit log, newest first: who did what to which object, filtered by action and user,
// paged with the server's cursor. An entry's detail (JSON from the server) reads as
// "key: value" lines in a row that opens below the entry, not as raw JSON in a tooltip.
import { Fragment } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import type { AuditEntry, User } from '../../api';
import { adminApi } from '../../api/admin';
import { useShared } from '../../context';
import { formatDateTime } from '../../format';

/** The actions the server records, for the filter (any other can be typed). */
export const ACTIONS = [
  'login',
  'login_failed',
  'logout',
  'user_create',
  'user_update',
  'user_delete',
  'team_create',
  'team_update',
  'team_delete',
  'role_create',
  'role_update',
  'role_delete',
  'rule_create',
  'rule_update',
  'rule_delete',
  'phone_create',
  'phone_update',
  'phone_delete',
  'settings_update',
  'smtp_test',
  'dispatch_run',
  'dispatch_retry',
  'record_start',
  'record_stop',
  'record_refused',
  'recording_hold',
  'recording_release',
  'recording_delete',
  'recording_expire',
  'ingest',
];

/** "old_value" → "Old value". */
function keyLabel(k: string): string {
  const s = k.replace(/[_.]+/g, ' ').trim();
  return s ? s[0].toUpperCase() + s.slice(1) : k;
}

function valueText(v: unknown): string {
  if (v == null) return '–';
  if (typeof v === 'string') return v || '–';
  if (typeof v === 'number' || typeof v === 'boolean') return v === true ? 'yes' : v === false ? 'no' : String(v);
  if (Array.isArray(v)) return v.length ? v.map(valueText).join(', ') : '–';
  return JSON.stringify(v);
}

/**
 * An audit detail as readable lines: a JSON object → one `[key, value]` per field (nested
 * objects as `outer inner`); anything else → one line without a key.
 */
export function detailLines(detail: string): [string, string][] {
  const text = detail.trim();
  if (!text) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return [['', text]];
  }
  if (parsed == null || typeof parsed !== 'object' || Array.isArray(parsed)) return [['', valueText(parsed)]];
  const out: [string, string][] = [];
  const walk = (o: Record<string, unknown>, prefix: string) => {
    for (const [k, v] of Object.entries(o)) {
      const key = prefix ? `${prefix} ${k}` : k;
      if (v && typeof v === 'object' && !Array.isArray(v)) walk(v as Record<string, unknown>, key);
      else out.push([keyLabel(key), valueText(v)]);
    }
  };
  walk(parsed as Record<string, unknown>, '');
  return out;
}

export function AuditPanel() {
  const { report } = useShared();
  const [action, setAction] = useState('');
  const [userId, setUserId] = useState('');
  const [users, setUsers] = useState<User[]>([]);
  const [items, setItems] = useState<AuditEntry[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const [open, setOpen] = useState<number | null>(null);

  const filter = (c: string | null) => ({ action: action || null, user_id: userId ? Number(userId) : null, cursor: c, limit: 100 });
  const load = async (more: boolean) => {
    setLoading(true);
    try {
      const page = await adminApi.audit(filter(more ? cursor : null));
      setItems((cur) => (more ? [...cur, ...page.items] : page.items));
      setCursor(page.next_cursor);
    } catch (e) {
      report(e);
    } finally {
      setLoading(false);
    }
  };
  useEffect(() => {
    adminApi.listUsers().then(setUsers, report);
  }, []);
  useEffect(() => {
    load(false);
  }, [action, userId]);

  return (
    <div class="admin-main" data-testid="admin-audit">
      <div class="admin-head">
        <div>
          <h2>Audit log</h2>
          <p class="muted">Every change and every recording action, newest first.</p>
        </div>
        <div class="head-actions" role="search">
          <select class="input" value={action} onChange={(e) => setAction((e.target as HTMLSelectElement).value)} data-testid="audit-action">
            <option value="">All actions</option>
            {ACTIONS.map((a) => (
              <option key={a} value={a}>
                {a.replace(/_/g, ' ')}
              </option>
            ))}
          </select>
          <select class="input" value={userId} onChange={(e) => setUserId((e.target as HTMLSelectElement).value)} data-testid="audit-user">
            <option value="">Everyone</option>
            {users.map((u) => (
              <option key={u.id} value={String(u.id)}>
                {u.display_name || u.username}
              </option>
            ))}
          </select>
        </div>
      </div>
      <div class="admin-scroll">
        <table class="atable" data-testid="audit-table">
          <thead>
            <tr>
              <th>When</th>
              <th>Who</th>
              <th>Action</th>
              <th>Object</th>
              <th>Detail</th>
            </tr>
          </thead>
          <tbody>
            {items.map((a) => {
              const lines = detailLines(a.detail);
              const isOpen = open === a.id;
              const summary = lines.map(([k, v]) => (k ? `${k}: ${v}` : v)).join(' · ');
              return (
                <Fragment key={a.id}>
                  <tr data-testid="audit-row" class={isOpen ? 'open' : ''}>
                    <td class="nowrap">{formatDateTime(a.at)}</td>
                    <td>{a.actor}</td>
                    <td>
                      <span class="chip">{a.action.replace(/_/g, ' ')}</span>
                    </td>
                    <td>{a.target}</td>
                    <td class="ellipsis wide-cell">
                      {lines.length > 0 && (
                        <button
                          class="link detail-toggle"
                          aria-expanded={isOpen}
                          onClick={() => setOpen(isOpen ? null : a.id)}
                          data-testid="audit-detail-toggle"
                        >
                          <span aria-hidden="true">{isOpen ? '▾' : '▸'}</span> {summary}
                        </button>
                      )}
                    </td>
                  </tr>
                  {isOpen && (
                    <tr class="audit-detail" data-testid="audit-detail">
                      <td colSpan={5}>
                        <dl class="facts plain">
                          {lines.map(([k, v], i) => (
                            <Fragment key={i}>
                              <dt>{k || 'Detail'}</dt>
                              <dd>{v}</dd>
                            </Fragment>
                          ))}
                        </dl>
                      </td>
                    </tr>
                  )}
                </Fragment>
              );
            })}
          </tbody>
        </table>
        {items.length === 0 && !loading && <p class="muted pad">No entries match.</p>}
        {cursor && (
          <div class="pad center">
            <button class="btn btn-ghost" onClick={() => load(true)} disabled={loading} data-testid="audit-more">
              {loading ? 'Loading…' : 'Load older entries'}
            </button>
          </div>
        )}
      </div>
    </div>
  );
}
