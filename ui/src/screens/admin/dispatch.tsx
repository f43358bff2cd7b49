// The dispatch queue: one row per recording and target (e-mail, script or webhook) with its status,
// attempts and last error; "run now" runs the job at once, "retry" sends a failed one again.
// Each row names its call (when, who, which recording), not a database id (issue #17).
import { useEffect, useState } from 'preact/hooks';
import type { DispatchStatus, DispatchTarget } from '../../api';
import { adminApi } from '../../api/admin';
import { useShared } from '../../context';
import { formatDateTime, partiesLabel, seqLabel } from '../../format';
import { dispatchLabel } from './rules';

const STATUS: Record<DispatchStatus, string> = { pending: 'Pending', sent: 'Sent', failed: 'Failed' };

/** "2026-12-02 14:05 · Alice (201) → +49 30 1234 · recording 001". */
export function dispatchCallLabel(t: DispatchTarget): string {
  if (!t.call) return 'A recording (its call is not known to this window)';
  return `${formatDateTime(t.call.started_at)} · ${partiesLabel(t.call)} · recording ${seqLabel(t.call.recording_seq)}`;
}

export function DispatchPanel() {
  const { report, notify } = useShared();
  const [items, setItems] = useState<DispatchTarget[] | null>(null);
  const [status, setStatus] = useState<DispatchStatus | ''>('');
  const [busy, setBusy] = useState(false);

  const load = () => adminApi.listDispatch().then(setItems, report);
  useEffect(() => {
    load();
  }, []);

  const runNow = async () => {
    setBusy(true);
    try {
      const r = await adminApi.runDispatch();
      notify(`Dispatch ran: ${r.sent} sent, ${r.failed} failed, ${r.pending} waiting.`, r.failed > 0 ? 'error' : 'success');
    } catch (e) {
      report(e);
    } finally {
      setBusy(false);
    }
    load();
  };

  const retry = async (t: DispatchTarget) => {
    try {
      const after = await adminApi.retryDispatch(t.id);
      notify(after.status === 'sent' ? 'Sent.' : `Still ${after.status}: ${after.last_error ?? 'see the queue'}`, after.status === 'sent' ? 'success' : 'error');
    } catch (e) {
      report(e);
    }
    load();
  };

  const shown = (items ?? []).filter((t) => !status || t.status === status);
  const count = (s: DispatchStatus) => (items ?? []).filter((t) => t.status === s).length;

  return (
    <div class="admin-main" data-testid="admin-dispatch">
      <div class="admin-head">
        <div>
          <h2>Dispatch queue</h2>
          <p class="muted">
            {count('pending')} pending · {count('sent')} sent · {count('failed')} failed
          </p>
        </div>
        <div class="head-actions">
          <select class="input" value={status} onChange={(e) => setStatus((e.target as HTMLSelectElement).value as DispatchStatus | '')} data-testid="dispatch-status">
            <option value="">All</option>
            <option value="pending">Pending</option>
            <option value="sent">Sent</option>
            <option value="failed">Failed</option>
          </select>
          <button class="btn btn-ghost" onClick={load}>
            Refresh
          </button>
          <button class="btn btn-primary" onClick={runNow} disabled={busy} data-testid="dispatch-run">
            {busy ? 'Running…' : 'Run now'}
          </button>
        </div>
      </div>
      {items && shown.length === 0 ? (
        <div class="empty">
          <h3>{items.length === 0 ? 'Nothing to dispatch' : 'Nothing with this status'}</h3>
          <p class="muted">Recordings matched by a rule with e-mail, script or webhook dispatch appear here.</p>
        </div>
      ) : (
        <table class="atable" data-testid="dispatch-table">
          <thead>
            <tr>
              <th class="call-col">Call</th>
              <th>Target</th>
              <th>Status</th>
              <th class="num">Attempts</th>
              <th>Last error</th>
              <th>When</th>
              <th class="actions" />
            </tr>
          </thead>
          <tbody>
            {shown.map((t) => (
              <tr key={t.id} data-testid="dispatch-row" data-status={t.status}>
                <td class="ellipsis call-col" title={dispatchCallLabel(t)} data-testid="dispatch-call">
                  {dispatchCallLabel(t)}
                </td>
                <td class="ellipsis" title={dispatchLabel(t.target)}>
                  {dispatchLabel(t.target)}
                </td>
                <td>
                  <span class={`chip chip-status-${t.status}`}>{STATUS[t.status]}</span>
                </td>
                <td class="num">{t.attempts}</td>
                <td class="ellipsis error-text" title={[t.last_error, t.detail].filter(Boolean).join('\n')}>
                  {t.last_error ?? ''}
                </td>
                <td class="muted">
                  {t.sent_at ? `sent ${formatDateTime(t.sent_at)}` : t.next_attempt_at && t.status === 'pending' ? `next ${formatDateTime(t.next_attempt_at)}` : ''}
                </td>
                <td class="actions">
                  {t.status === 'failed' && (
                    <button class="btn btn-sm btn-ghost" onClick={() => retry(t)} title="Send this one again now" data-testid="dispatch-retry">
                      Retry
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
