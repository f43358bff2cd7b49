// The audit log, newest first: who did what to which object, filtered by action and user,
// paged with the server's cursor.
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

export function AuditPanel() {
  const { report } = useShared();
  const [action, setAction] = useState('');
  const [userId, setUserId] = useState('');
  const [users, setUsers] = useState<User[]>([]);
  const [items, setItems] = useState<AuditEntry[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);

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
            {items.map((a) => (
              <tr key={a.id} data-testid="audit-row">
                <td class="nowrap">{formatDateTime(a.at)}</td>
                <td>{a.actor}</td>
                <td>
                  <span class="chip">{a.action.replace(/_/g, ' ')}</span>
                </td>
                <td>{a.target}</td>
                <td class="ellipsis wide-cell" title={a.detail}>
                  {a.detail}
                </td>
              </tr>
            ))}
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
