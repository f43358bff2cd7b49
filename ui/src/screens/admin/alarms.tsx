// Missing-recording alarms (issue #11.3): calls that should have been recorded and were not
// (no audio, one side silent, far too short). The badge on the admin menu counts those not yet
// acknowledged, on every admin screen, and follows the server's pushes; the list acknowledges.
import { useEffect, useState } from 'preact/hooks';
import { onEvent, type Alarm, type AlarmKind } from '../../api';
import { adminApi } from '../../api/admin';
import { useShared } from '../../context';
import { formatDateTime } from '../../format';

const KIND: Record<AlarmKind, string> = {
  no_recording: 'Not recorded',
  no_audio: 'No audio',
  one_side_silent: 'One side silent',
  too_short: 'Too short',
};

/** The unacknowledged alarms, kept current from the server's pushes. */
export function useOpenAlarms(): [Alarm[], () => void] {
  const [open, setOpen] = useState<Alarm[]>([]);
  const load = () => {
    // A failed count shows no badge; the list itself reports why.
    adminApi.listAlarms(true).then((v) => setOpen(v ?? []), () => {});
  };
  useEffect(() => {
    load();
    let unlisten: (() => void) | null = null;
    let gone = false;
    onEvent((e) => {
      if (e.kind === 'alarm_changed') load();
    }).then((u) => {
      if (gone) u();
      else unlisten = u;
    });
    return () => {
      gone = true;
      unlisten?.();
    };
  }, []);
  return [open, load];
}

/** The count on the menu: nothing when there is nothing to acknowledge. */
export function AlarmBadge({ count }: { count: number }) {
  if (count === 0) return null;
  return (
    <span class="alarm-badge" title={`${count} missing-recording alarm${count === 1 ? '' : 's'} to acknowledge`} data-testid="alarm-badge">
      {count}
    </span>
  );
}

export function AlarmsPanel({ onChange }: { onChange: () => void }) {
  const { report, notify } = useShared();
  const [items, setItems] = useState<Alarm[] | null>(null);
  const [all, setAll] = useState(false);

  const load = () => adminApi.listAlarms(!all).then(setItems, report);
  useEffect(() => {
    load();
  }, [all]);

  const ack = async (a: Alarm) => {
    try {
      await adminApi.ackAlarm(a.id);
      notify('Alarm acknowledged.', 'success');
    } catch (e) {
      report(e);
    }
    load();
    onChange();
  };

  return (
    <div class="admin-main" data-testid="admin-alarms">
      <div class="admin-head">
        <div>
          <h2>Missing recordings</h2>
          <p class="muted">Calls the rules said to record that ended with no audio, one side silent, or a recording far too short.</p>
        </div>
        <div class="head-actions">
          <label class="check">
            <input type="checkbox" checked={all} onChange={(e) => setAll((e.target as HTMLInputElement).checked)} data-testid="alarms-all" />
            Show acknowledged
          </label>
          <button class="btn btn-ghost" onClick={load}>
            Refresh
          </button>
        </div>
      </div>
      {items && items.length === 0 ? (
        <div class="empty">
          <h3>{all ? 'No alarms' : 'Nothing to acknowledge'}</h3>
          <p class="muted">Every call that was to be recorded was recorded.</p>
        </div>
      ) : (
        <table class="atable" data-testid="alarms-table">
          <thead>
            <tr>
              <th>Raised</th>
              <th class="num">Call</th>
              <th>Problem</th>
              <th>What happened</th>
              <th class="actions" />
            </tr>
          </thead>
          <tbody>
            {(items ?? []).map((a) => (
              <tr key={a.id} data-testid="alarm-row" data-acknowledged={a.acknowledged_at ? 'yes' : 'no'}>
                <td class="muted">{formatDateTime(a.raised_at)}</td>
                <td class="num">{a.call_id}</td>
                <td>
                  <span class="chip chip-status-failed">{KIND[a.kind]}</span>
                </td>
                <td class="ellipsis" title={a.message}>
                  {a.message}
                </td>
                <td class="actions">
                  {a.acknowledged_at ? (
                    <span class="muted">acknowledged {formatDateTime(a.acknowledged_at)}</span>
                  ) : (
                    <button class="btn btn-sm btn-ghost" onClick={() => ack(a)} data-testid="alarm-ack">
                      Acknowledge
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
