// "Shared with me" (issue #15.5): the recordings a supervisor shared with the signed-in user
// for training, live now — the call, who shared it and until when. Opening one shows the call
// with its shared recording, to play, read and comment. Never stale: asked again when the
// view opens, when the window gets focus back, on any pushed journal change, every minute,
// when a share's expiry passes, and by "Refresh"; an expired share leaves the list at once.
import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, toApiError, type CallId, type SharedItem } from '../api';
import { useShared } from '../context';
import { formatDateTime, formatDuration, partiesLabel, plural, recordingTitle } from '../format';

const EVERY_MS = 60_000;

export function useSharedWithMe() {
  const { journalChange, report } = useShared();
  const [items, setItems] = useState<SharedItem[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [now, setNow] = useState(Date.now());
  const generation = useRef(0);

  const load = () => {
    const mine = ++generation.current;
    return api.listShared().then(
      (list) => {
        if (mine !== generation.current) return;
        setItems(list);
        setError(null);
        setNow(Date.now());
      },
      (e) => {
        if (mine !== generation.current) return;
        report(e);
        setError(toApiError(e).message);
      },
    );
  };

  useEffect(() => {
    load();
    const onFocus = () => load();
    const onVisible = () => document.visibilityState === 'visible' && load();
    window.addEventListener('focus', onFocus);
    document.addEventListener('visibilitychange', onVisible);
    const t = setInterval(load, EVERY_MS);
    return () => {
      window.removeEventListener('focus', onFocus);
      document.removeEventListener('visibilitychange', onVisible);
      clearInterval(t);
    };
  }, []);

  useEffect(() => {
    if (journalChange.seq > 0) load();
  }, [journalChange.seq]);

  // The next expiry takes its entry off the list at that moment (and asks the server again).
  const live = (items ?? []).filter((i) => Date.parse(i.share.expires_at) > now);
  useEffect(() => {
    if (live.length === 0) return;
    const next = Math.min(...live.map((i) => Date.parse(i.share.expires_at)));
    const t = setTimeout(() => {
      setNow(Date.now());
      load();
    }, Math.min(2 ** 31 - 1, Math.max(0, next - Date.now()) + 50));
    return () => clearTimeout(t);
  }, [items, now]);

  return { items: items == null ? null : live, error, reload: load };
}

export function SharedWithMe({
  selected,
  onOpen,
  onGone,
  modes,
}: {
  selected: CallId | null;
  onOpen: (call: CallId) => void;
  /** The open call is no longer shared (revoked, expired): close it. */
  onGone: () => void;
  modes: ComponentChildren;
}) {
  const { items, error, reload } = useSharedWithMe();
  useEffect(() => {
    if (selected != null && items && !items.some((i) => i.call.id === selected)) onGone();
  }, [items, selected]);
  return (
    <div class="journal-main" data-testid="shared-view">
      <SharedHead count={items?.length ?? null} reload={reload} modes={modes} />
      {error && (
        <p class="pad error-text" data-testid="shared-error">
          {error}
        </p>
      )}
      {items && items.length === 0 && !error && (
        <div class="empty" data-testid="shared-empty">
          <h3>Nothing is shared with you</h3>
          <p class="muted">When a supervisor shares a recording with you for training, it appears here until the share ends.</p>
        </div>
      )}
      {items && items.length > 0 && (
        <div class="shared-list" role="list" data-testid="shared-list">
          {items.map((i) => (
            <button
              key={i.share.id}
              type="button"
              role="listitem"
              class={selected === i.call.id ? 'shared-row selected' : 'shared-row'}
              onClick={() => onOpen(i.call.id)}
              data-testid="shared-row"
              data-call-id={i.call.id}
              data-share-id={i.share.id}
            >
              <span class="cell when">
                {formatDateTime(i.call.started_at)}
                <span class="sub">{formatDuration(i.recording.duration_ms)}</span>
              </span>
              <span class="cell parties">
                <strong>{partiesLabel(i.call)}</strong>
                <span class="sub">{recordingTitle(i.recording)}</span>
              </span>
              <span class="cell by">
                Shared by {i.share.granted_by_name}
                <span class="sub">{formatDateTime(i.share.granted_at)}</span>
              </span>
              <span class="cell until" data-testid="shared-until" title={`Shared until ${i.share.expires_at}`}>
                Until {formatDateTime(i.share.expires_at)}
                <span class="sub">{leftLabel(Date.parse(i.share.expires_at) - Date.now())}</span>
              </span>
            </button>
          ))}
        </div>
      )}
      {items == null && !error && <p class="muted pad">Loading…</p>}
    </div>
  );
}

/** How long a share has left, roughly: "2 days left", "5 hours left", "under an hour left". */
export function leftLabel(ms: number): string {
  const hours = Math.floor(ms / 3_600_000);
  if (hours >= 48) return `${Math.round(hours / 24)} days left`;
  if (hours >= 1) return `${plural(hours, 'hour')} left`;
  return 'under an hour left';
}

function SharedHead({ count, reload, modes }: { count: number | null; reload: () => void; modes: ComponentChildren }) {
  return (
    <div class="shared-head">
      {modes}
      <span class="muted" data-testid="shared-count">
        {count ? `${plural(count, 'recording')} shared with you` : ''}
      </span>
      <span class="spacer" />
      <button class="btn btn-ghost btn-sm" onClick={reload} data-testid="shared-refresh">
        Refresh
      </button>
    </div>
  );
}
