// The comments of a recording (issue #15.3), beside the player in the call panel: each with its
// time (click: the player jumps there, starting the recording if another plays), author and
// text; a form adds one at the player's position (or any typed time), or on a span when "to"
// is filled in. The author edits and deletes their own; an admin deletes any. What the server
// refuses comes back next to its field (422); anything else as a plain sentence.
import { useEffect, useState } from 'preact/hooks';
import { api, toApiError, type Call, type Comment, type NewComment, type Recording } from '../api';
import { useShared } from '../context';
import { reloadComments, useComments } from '../comments-store';
import { usePlayAt } from '../play-at';
import { formatDateTime, formatDuration, recordingTitle } from '../format';

/** "1:05", "65", "1:02:05" or "0:05.5" → milliseconds; `null` when it is not a time. */
export function parsePosition(text: string): number | null {
  const t = text.trim();
  if (!/^\d+(:\d{1,2}){0,2}(\.\d+)?$/.test(t)) return null;
  const [whole, frac] = t.split('.');
  const parts = whole.split(':').map(Number);
  if (parts.slice(1).some((p) => p >= 60)) return null;
  const secs = parts.reduce((acc, p) => acc * 60 + p, 0);
  return Math.round((secs + (frac ? Number(`0.${frac}`) : 0)) * 1000);
}

type Fields = Partial<Record<'at_ms' | 'to_ms' | 'text' | 'form', string>>;

/** The refused fields of an error by name, or the whole message under `form`. */
function fieldErrors(e: unknown): Fields {
  const err = toApiError(e);
  if (err.fields.length === 0) return { form: err.message };
  const out: Fields = {};
  for (const f of err.fields) {
    const key = (['at_ms', 'to_ms', 'text'] as const).find((k) => k === f.field) ?? 'form';
    const label = key === 'at_ms' ? 'Time' : key === 'to_ms' ? 'End' : key === 'text' ? 'Comment' : f.field;
    out[key] = `${label} ${f.message}`.replace(/ at_ms\b/, ' the time');
  }
  return out;
}

/** The form for a new comment or an edit. */
function CommentForm({
  initial,
  submitLabel,
  onSubmit,
  onCancel,
  testId,
}: {
  initial: { at: string; to: string; text: string };
  submitLabel: string;
  onSubmit: (c: NewComment) => Promise<void>;
  onCancel?: () => void;
  testId: string;
}) {
  const [at, setAt] = useState(initial.at);
  const [to, setTo] = useState(initial.to);
  const [text, setText] = useState(initial.text);
  const [errors, setErrors] = useState<Fields>({});
  const [busy, setBusy] = useState(false);
  // The time follows the player until the user types one.
  const [atTyped, setAtTyped] = useState(false);
  useEffect(() => {
    if (!atTyped) setAt(initial.at);
  }, [initial.at]);

  const submit = async (e: Event) => {
    e.preventDefault();
    const atMs = parsePosition(at);
    const toMs = to.trim() ? parsePosition(to) : undefined;
    const local: Fields = {};
    if (atMs == null) local.at_ms = 'Time: type it as m:ss, e.g. 0:05.';
    if (toMs === null) local.to_ms = 'End: type it as m:ss, or leave it empty.';
    if (!text.trim()) local.text = 'Write the comment first.';
    setErrors(local);
    if (Object.keys(local).length > 0 || atMs == null || toMs === null) return;
    setBusy(true);
    try {
      await onSubmit({ at_ms: atMs, ...(toMs != null ? { to_ms: toMs } : {}), text });
      setText('');
      setTo('');
      setAtTyped(false);
      setAt(initial.at);
    } catch (err) {
      setErrors(fieldErrors(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form class="comment-form" onSubmit={submit} data-testid={testId} noValidate>
      <div class="row">
        <label class="pos">
          At
          <input
            class="input input-sm"
            value={at}
            onInput={(e) => {
              setAtTyped(true);
              setAt((e.target as HTMLInputElement).value);
            }}
            aria-invalid={errors.at_ms ? 'true' : undefined}
            data-testid="comment-at"
          />
        </label>
        <label class="pos">
          To (optional)
          <input
            class="input input-sm"
            value={to}
            placeholder="–"
            onInput={(e) => setTo((e.target as HTMLInputElement).value)}
            aria-invalid={errors.to_ms ? 'true' : undefined}
            data-testid="comment-to"
          />
        </label>
      </div>
      {errors.at_ms && <span class="field-error" data-testid="comment-error-at_ms">{errors.at_ms}</span>}
      {errors.to_ms && <span class="field-error" data-testid="comment-error-to_ms">{errors.to_ms}</span>}
      <textarea
        class="input"
        value={text}
        placeholder="What happens here?"
        aria-label="Comment"
        aria-invalid={errors.text ? 'true' : undefined}
        onInput={(e) => setText((e.target as HTMLTextAreaElement).value)}
        data-testid="comment-text"
      />
      {errors.text && <span class="field-error" data-testid="comment-error-text">{errors.text}</span>}
      {errors.form && <span class="field-error" data-testid="comment-error">{errors.form}</span>}
      <div class="actions">
        {onCancel && (
          <button type="button" class="btn btn-ghost btn-sm" onClick={onCancel} disabled={busy}>
            Cancel
          </button>
        )}
        <button type="submit" class="btn btn-primary btn-sm" disabled={busy} data-testid={`${testId}-submit`}>
          {busy ? 'Saving…' : submitLabel}
        </button>
      </div>
    </form>
  );
}

export function CommentsPane({ recording, call }: { recording: Recording; call: Call }) {
  const { session, player } = useShared();
  const { comments, error } = useComments(recording.id);
  const [editing, setEditing] = useState<number | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const isCurrent = player?.recording_id === recording.id;
  const here = isCurrent ? formatDuration(player?.position_ms ?? 0) : '0:00';
  const isAdmin = session.user.level === 'admin';

  // Fresh each time the pane shows a recording: others may have commented since.
  useEffect(() => {
    reloadComments(recording.id);
  }, [recording.id]);

  const jump = usePlayAt(recording, call);

  const add = async (c: NewComment) => {
    await api.createComment(recording.id, c);
    await reloadComments(recording.id);
  };
  const save = (id: number) => async (c: NewComment) => {
    await api.updateComment(id, c);
    setEditing(null);
    await reloadComments(recording.id);
  };
  const remove = async (c: Comment) => {
    setProblem(null);
    try {
      await api.deleteComment(c.id);
    } catch (e) {
      setProblem(toApiError(e).message);
    }
    await reloadComments(recording.id);
  };

  return (
    <section class="comments" data-testid="comments" aria-label={`Comments on ${recordingTitle(recording)}`}>
      <div class="comments-head">
        <h4>
          Comments <span class="muted">({comments?.length ?? '…'})</span>
        </h4>
        <span class="muted">{recordingTitle(recording)}</span>
      </div>
      {error && <p class="field-error">{error}</p>}
      {problem && <p class="field-error" data-testid="comment-problem">{problem}</p>}
      {comments && comments.length === 0 && <p class="muted">No comments yet. Add one at the player's position below.</p>}
      {comments && comments.length > 0 && (
        <ul class="comment-list">
          {comments.map((c) => {
            const mine = c.author_id === session.user.id;
            return (
              <li key={c.id} class="comment" data-testid="comment" data-comment-id={c.id} data-at-ms={c.at_ms}>
                <div class="comment-meta">
                  <button type="button" class="comment-time" onClick={() => jump(c.at_ms)} title="Play from here" data-testid="comment-time">
                    {formatDuration(c.at_ms)}
                    {c.to_ms != null ? `–${formatDuration(c.to_ms)}` : ''}
                  </button>
                  <strong>{c.author_name}</strong>
                  <span title={c.created_at}>
                    {formatDateTime(c.created_at)}
                    {c.edited_at ? ' · edited' : ''}
                  </span>
                  <span class="spacer" />
                  {mine && editing !== c.id && (
                    <button type="button" class="link" onClick={() => setEditing(c.id)} data-testid="comment-edit">
                      Edit
                    </button>
                  )}
                  {(mine || isAdmin) && editing !== c.id && (
                    <button type="button" class="link danger" onClick={() => remove(c)} data-testid="comment-delete">
                      Delete
                    </button>
                  )}
                </div>
                {editing === c.id ? (
                  <CommentForm
                    initial={{ at: formatDuration(c.at_ms), to: c.to_ms != null ? formatDuration(c.to_ms) : '', text: c.text }}
                    submitLabel="Save"
                    onSubmit={save(c.id)}
                    onCancel={() => setEditing(null)}
                    testId="comment-edit-form"
                  />
                ) : (
                  <div class="comment-text">{c.text}</div>
                )}
              </li>
            );
          })}
        </ul>
      )}
      <CommentForm initial={{ at: here, to: '', text: '' }} submitLabel="Add comment" onSubmit={add} testId="comment-form" />
    </section>
  );
}
