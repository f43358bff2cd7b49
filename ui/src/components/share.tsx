// Share a recording for training (issue #15.5), for supervisors and admins: choose a user and
// how long (1, 7 or 30 days, or until a chosen day at most 90 days ahead), share; below, the
// recording's shares — live ones with Revoke, expired and revoked ones as such. The server
// checks everything again; what it refuses is shown next to the field.
import { useEffect, useState } from 'preact/hooks';
import { api, toApiError, type Recording, type Share, type ShareRecipient } from '../api';
import { useShared } from '../context';
import { formatDateTime, pad2, recordingTitle } from '../format';

export const MAX_SHARE_DAYS = 90;
const DAY_MS = 86_400_000;
export const PRESETS = [
  { value: '1', label: '1 day' },
  { value: '7', label: '7 days' },
  { value: '30', label: '30 days' },
  { value: 'custom', label: 'Until a day…' },
] as const;

function dayString(d: Date): string {
  return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())}`;
}

/** The first and last day a custom expiry may name (local `YYYY-MM-DD`). */
export function customDayRange(now: Date): { min: string; max: string } {
  return { min: dayString(new Date(now.getTime() + DAY_MS)), max: dayString(new Date(now.getTime() + MAX_SHARE_DAYS * DAY_MS)) };
}

/**
 * When a share chosen as `choice` ends: `now` + 1/7/30 days, or the end of the chosen local
 * day (no later than 90 days from now). An error sentence when the day is missing or outside.
 */
export function expiryFor(choice: string, customDay: string, now: Date): { at: Date } | { error: string } {
  if (choice !== 'custom') return { at: new Date(now.getTime() + Number(choice) * DAY_MS) };
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(customDay);
  if (!m) return { error: 'Choose the day the share ends.' };
  const end = new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]), 23, 59, 0);
  const latest = new Date(now.getTime() + MAX_SHARE_DAYS * DAY_MS);
  if (Number.isNaN(end.getTime()) || end.getTime() <= now.getTime()) return { error: 'Choose a day after today.' };
  if (dayString(end) > dayString(latest)) return { error: `At most ${MAX_SHARE_DAYS} days ahead (until ${dayString(latest)}).` };
  return { at: end.getTime() > latest.getTime() ? latest : end };
}

/** How a share stands now, in words. */
export function shareStatus(s: Share, now: number): { live: boolean; text: string } {
  if (s.revoked_at) return { live: false, text: `revoked ${formatDateTime(s.revoked_at)}` };
  if (Date.parse(s.expires_at) <= now) return { live: false, text: `expired ${formatDateTime(s.expires_at)}` };
  return { live: true, text: `until ${formatDateTime(s.expires_at)}` };
}

type Errors = Partial<Record<'user_id' | 'expires_at' | 'form', string>>;

export function ShareDialog({ recording, onClose }: { recording: Recording; onClose: () => void }) {
  const { session, report, notify } = useShared();
  const [people, setPeople] = useState<ShareRecipient[] | null>(null);
  const [shares, setShares] = useState<Share[] | null>(null);
  const [userId, setUserId] = useState('');
  const [choice, setChoice] = useState<string>('7');
  const [day, setDay] = useState('');
  const [errors, setErrors] = useState<Errors>({});
  const [busy, setBusy] = useState(false);
  const range = customDayRange(new Date());

  const loadShares = () =>
    api.listShares(recording.id).then(setShares, (e) => setErrors((x) => ({ ...x, form: toApiError(e).message })));

  useEffect(() => {
    api.shareRecipients().then(
      (list) => setPeople(list.filter((p) => p.id !== session.user.id)),
      (e) => {
        report(e);
        setErrors((x) => ({ ...x, form: toApiError(e).message }));
      },
    );
    loadShares();
  }, [recording.id]);

  const share = async (e: Event) => {
    e.preventDefault();
    const local: Errors = {};
    if (!userId) local.user_id = 'Choose whom to share it with.';
    const until = expiryFor(choice, day, new Date());
    if ('error' in until) local.expires_at = until.error;
    setErrors(local);
    if (Object.keys(local).length > 0 || 'error' in until) return;
    setBusy(true);
    try {
      const s = await api.createShare(recording.id, { user_id: Number(userId), expires_at: until.at.toISOString() });
      notify(`${recordingTitle(recording)} is shared with ${s.user_name} until ${formatDateTime(s.expires_at)}.`, 'success');
      setUserId('');
      await loadShares();
    } catch (err) {
      const x = toApiError(err);
      const out: Errors = {};
      for (const f of x.fields) {
        if (f.field === 'user_id') out.user_id = `User: ${f.message}.`;
        else if (f.field === 'expires_at') out.expires_at = `Ends: ${f.message}.`;
      }
      if (Object.keys(out).length === 0) out.form = x.message;
      setErrors(out);
    } finally {
      setBusy(false);
    }
  };

  const revoke = async (s: Share) => {
    try {
      await api.revokeShare(s.id);
      notify(`${s.user_name} no longer has ${recordingTitle(recording)}.`, 'success');
    } catch (e) {
      setErrors({ form: toApiError(e).message });
    }
    await loadShares();
  };

  const now = Date.now();
  return (
    <div class="share-dialog" role="dialog" aria-label={`Share ${recordingTitle(recording)} for training`} data-testid="share-dialog">
      <h5>Share {recordingTitle(recording)} for training</h5>
      <form onSubmit={share} noValidate>
        <div class="row">
          <label>
            With
            <select
              class="input input-sm"
              value={userId}
              onChange={(e) => setUserId((e.target as HTMLSelectElement).value)}
              aria-invalid={errors.user_id ? 'true' : undefined}
              data-testid="share-user"
            >
              <option value="">{people ? 'Choose a person…' : 'Loading…'}</option>
              {(people ?? []).map((p) => (
                <option key={p.id} value={String(p.id)}>
                  {p.display_name || p.username} ({p.username}, {p.level})
                </option>
              ))}
            </select>
          </label>
          <label>
            For
            <select class="input input-sm" value={choice} onChange={(e) => setChoice((e.target as HTMLSelectElement).value)} data-testid="share-expiry">
              {PRESETS.map((p) => (
                <option key={p.value} value={p.value}>
                  {p.label}
                </option>
              ))}
            </select>
          </label>
          {choice === 'custom' && (
            <label>
              Until (end of the day)
              <input
                class="input input-sm"
                type="date"
                min={range.min}
                max={range.max}
                value={day}
                onInput={(e) => setDay((e.target as HTMLInputElement).value)}
                aria-invalid={errors.expires_at ? 'true' : undefined}
                data-testid="share-day"
              />
            </label>
          )}
        </div>
        {errors.user_id && <span class="field-error" data-testid="share-error-user_id">{errors.user_id}</span>}
        {errors.expires_at && <span class="field-error" data-testid="share-error-expires_at">{errors.expires_at}</span>}
        {errors.form && <span class="field-error" data-testid="share-error">{errors.form}</span>}
        <div class="actions">
          <button type="button" class="btn btn-ghost btn-sm" onClick={onClose} data-testid="share-close">
            Close
          </button>
          <button type="submit" class="btn btn-primary btn-sm" disabled={busy} data-testid="share-submit">
            {busy ? 'Sharing…' : 'Share'}
          </button>
        </div>
      </form>
      {shares && shares.length > 0 && (
        <ul class="share-list" aria-label="Shares of this recording" data-testid="share-list">
          {shares.map((s) => {
            const st = shareStatus(s, now);
            return (
              <li key={s.id} class={st.live ? 'share-item' : 'share-item over'} data-testid="share-item" data-live={st.live ? 'true' : 'false'}>
                <div class="who">
                  <strong>{s.user_name}</strong>
                  <span>
                    {st.text} · by {s.granted_by_name}
                  </span>
                </div>
                {st.live && (
                  <button type="button" class="btn btn-ghost btn-sm danger" onClick={() => revoke(s)} data-testid="share-revoke">
                    Revoke
                  </button>
                )}
              </li>
            );
          })}
        </ul>
      )}
      {shares && shares.length === 0 && <p class="muted">Not shared with anyone yet.</p>}
    </div>
  );
}
