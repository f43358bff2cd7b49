// One copy of each recording's comments for the whole window: the comments pane (list, add,
// edit, delete) and the waveform's pins read the same list, so a comment added in the pane is
// pinned at once and a deleted one leaves both. Loaded when first asked for, reloaded after
// every change the window makes.
import { useEffect, useState } from 'preact/hooks';
import { api, toApiError, type Comment, type RecordingId } from './api';

interface Entry {
  comments: Comment[] | null;
  error: string | null;
  listeners: Set<() => void>;
  loading: Promise<void> | null;
}

const entries = new Map<RecordingId, Entry>();

function entry(id: RecordingId): Entry {
  let e = entries.get(id);
  if (!e) {
    e = { comments: null, error: null, listeners: new Set(), loading: null };
    entries.set(id, e);
  }
  return e;
}

/** Asks the server again for the recording's comments and tells everyone showing them. */
export function reloadComments(id: RecordingId): Promise<void> {
  const e = entry(id);
  const loading = api.listComments(id).then(
    (list) => {
      e.comments = [...(list ?? [])].sort((a, b) => a.at_ms - b.at_ms || a.id - b.id);
      e.error = null;
    },
    (err) => {
      e.error = toApiError(err).message;
    },
  );
  e.loading = loading.finally(() => {
    if (e.loading === loading) e.loading = null;
    e.listeners.forEach((l) => l());
  });
  return e.loading;
}

/** Forgets every loaded list (on sign-out: another user sees other comments). */
export function forgetComments(): void {
  entries.clear();
}

/** The recording's comments (`null` while loading) and the last error, kept current. */
export function useComments(id: RecordingId | null): { comments: Comment[] | null; error: string | null } {
  const [, bump] = useState(0);
  useEffect(() => {
    if (id == null) return;
    const e = entry(id);
    const listener = () => bump((n) => n + 1);
    e.listeners.add(listener);
    if (e.comments == null && e.loading == null) reloadComments(id);
    return () => {
      e.listeners.delete(listener);
    };
  }, [id]);
  if (id == null) return { comments: null, error: null };
  const e = entries.get(id);
  return { comments: e?.comments ?? null, error: e?.error ?? null };
}
