// A recording's transcript (issue #16.5), beside the player in the call panel (the "Transcript"
// side of its Comments | Transcript switch):
// - its status in plain words (queued, being transcribed, failed and why, not transcribed),
//   asked again every few seconds while queued or running — the server pushes no event for it;
// - its lines with time and speaker; the line the player is at is highlighted and kept in view
//   while it plays, unless the user scrolled the list in the last few seconds;
// - a click on a line, or Enter on a focused one, plays from there;
// - Ctrl+F opens a find box (matches marked, Enter / Shift+Enter next / previous, Esc closes)
//   — except when the focus is in a text field outside the pane, which keeps the key;
// - Copy puts the dialogue (`[00:12] Caller: …`, made on the Rust side) on the clipboard.
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { ComponentChildren } from 'preact';
import { api, toApiError, type Call, type Recording, type TranscriptLine, type TranscriptView } from '../api';
import { useShared } from '../context';
import { usePlayAt } from '../play-at';
import { formatDuration, recordingTitle } from '../format';

/** How often a queued or running transcript is asked for again. */
export const POLL_MS = 5000;
/** After the user scrolls the lines, the list stops following the player for this long. */
export const HOLD_SCROLL_MS = 4000;

/** The status in plain words; `null` once there are lines to show. */
export function statusText(view: TranscriptView | null | undefined): string | null {
  if (view === undefined) return 'Loading the transcript…';
  if (view === null) return 'Not transcribed: no recording rule asks for this recording to be transcribed.';
  const t = view.transcript;
  switch (t.status) {
    case 'queued':
      return t.error
        ? `Waiting to be transcribed again (attempt ${t.attempts} failed: ${t.error}).`
        : 'Waiting to be transcribed. It shows here by itself when it is ready.';
    case 'running':
      return 'Being transcribed now. It shows here by itself when it is ready.';
    case 'failed':
      return `Transcription failed: ${t.error ?? 'the reason was not recorded'}.`.replace(/\.\.$/, '.');
    case 'done':
      return t.lines.length === 0 ? 'Transcribed: nothing was said in this recording.' : null;
  }
}

/** The lines being played at `positionMs` (more than one when both parties talk at once). */
export function activeLines(lines: TranscriptLine[], positionMs: number | null): number[] {
  if (positionMs == null) return [];
  const out: number[] = [];
  lines.forEach((l, i) => {
    if (l.start_ms <= positionMs && positionMs < Math.max(l.end_ms, l.start_ms + 500)) out.push(i);
  });
  return out;
}

export interface Match {
  line: number;
  at: number;
  len: number;
}

/** Every place `query` occurs in the lines' text, case-insensitively, in order. */
export function findMatches(lines: TranscriptLine[], query: string): Match[] {
  const q = query.trim().toLowerCase();
  if (!q) return [];
  const out: Match[] = [];
  lines.forEach((l, line) => {
    const text = l.text.toLowerCase();
    for (let at = text.indexOf(q); at >= 0; at = text.indexOf(q, at + q.length)) out.push({ line, at, len: q.length });
  });
  return out;
}

/** A text entry (where Ctrl+F belongs to the field) — not a button, link or list. */
function isTextField(el: Element | null): boolean {
  if (!(el instanceof HTMLElement)) return false;
  if (el.isContentEditable || el instanceof HTMLTextAreaElement) return true;
  if (el instanceof HTMLInputElement) return !['button', 'checkbox', 'radio', 'range', 'submit', 'reset', 'file', 'color'].includes(el.type);
  return false;
}

/** Writes `text` to the clipboard: the async API, else a selected text area and "copy". */
async function writeClipboard(text: string): Promise<void> {
  if (navigator.clipboard?.writeText) {
    try {
      await navigator.clipboard.writeText(text);
      return;
    } catch {
      // Refused (no permission in this webview): the older way below.
    }
  }
  const area = document.createElement('textarea');
  area.value = text;
  area.setAttribute('readonly', '');
  area.style.position = 'fixed';
  area.style.opacity = '0';
  document.body.appendChild(area);
  area.select();
  const ok = document.execCommand?.('copy') ?? false;
  area.remove();
  if (!ok) throw new Error('the clipboard is not available');
}

/** `text` with the matches in it marked, the current one apart. */
function marked(text: string, matches: Match[], current: Match | null): ComponentChildren {
  if (matches.length === 0) return text;
  const parts: ComponentChildren[] = [];
  let at = 0;
  for (const m of matches) {
    if (m.at > at) parts.push(text.slice(at, m.at));
    const isCurrent = current != null && current.line === m.line && current.at === m.at;
    parts.push(
      <mark key={m.at} class={isCurrent ? 'current' : undefined} data-testid={isCurrent ? 'transcript-match-current' : 'transcript-match'}>
        {text.slice(m.at, m.at + m.len)}
      </mark>,
    );
    at = m.at + m.len;
  }
  if (at < text.length) parts.push(text.slice(at));
  return parts;
}

export function TranscriptPane({ recording, call }: { recording: Recording; call: Call }) {
  const { player } = useShared();
  const playAt = usePlayAt(recording, call);
  const [view, setView] = useState<TranscriptView | null | undefined>(undefined);
  const [error, setError] = useState<string | null>(null);
  const [findOpen, setFindOpen] = useState(false);
  const [query, setQuery] = useState('');
  const [matchAt, setMatchAt] = useState(0);
  const [copied, setCopied] = useState<{ ok: boolean; text: string } | null>(null);
  const pane = useRef<HTMLElement>(null);
  const list = useRef<HTMLOListElement>(null);
  const findInput = useRef<HTMLInputElement>(null);
  const userScrolledAt = useRef(0);
  const autoTop = useRef<number | null>(null);

  // Asked when shown, and again every few seconds while it is not finished.
  const status = view?.transcript.status;
  useEffect(() => {
    setView(undefined);
    setError(null);
    setCopied(null);
  }, [recording.id]);
  useEffect(() => {
    let stop = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const load = () =>
      api.recordingTranscript(recording.id).then(
        (v) => {
          if (stop) return;
          setView(v);
          setError(null);
          if (v && (v.transcript.status === 'queued' || v.transcript.status === 'running')) timer = setTimeout(load, POLL_MS);
        },
        (e) => {
          if (stop) return;
          setError(toApiError(e).message);
          timer = setTimeout(load, POLL_MS);
        },
      );
    load();
    return () => {
      stop = true;
      if (timer) clearTimeout(timer);
    };
  }, [recording.id]);

  const lines = view?.transcript.lines ?? [];
  const position = player?.recording_id === recording.id ? player.position_ms : null;
  const active = activeLines(lines, position);
  const first = active.length > 0 ? active[0] : null;
  const matches = useMemo(() => (findOpen ? findMatches(lines, query) : []), [lines, query, findOpen]);
  const current = matches.length > 0 ? matches[((matchAt % matches.length) + matches.length) % matches.length] : null;

  /** Scrolls the list (never the page) so line `i` is in view, a third from the top. */
  const bringIntoView = (i: number, always: boolean) => {
    const box = list.current;
    const row = box?.querySelector<HTMLElement>(`[data-line="${i}"]`);
    if (!box || !row) return;
    const top = row.getBoundingClientRect().top - box.getBoundingClientRect().top + box.scrollTop;
    const visible = top >= box.scrollTop && top + row.offsetHeight <= box.scrollTop + box.clientHeight;
    if (visible && !always) return;
    const to = Math.max(0, top - box.clientHeight / 3);
    autoTop.current = to;
    box.scrollTop = to;
  };

  // Follows the player, unless the user is reading elsewhere.
  useEffect(() => {
    if (first == null || Date.now() - userScrolledAt.current < HOLD_SCROLL_MS) return;
    bringIntoView(first, false);
  }, [first]);

  // Shows the current match (the user asked for it: the player stops pulling the list away).
  useEffect(() => {
    if (!current) return;
    userScrolledAt.current = Date.now();
    bringIntoView(current.line, false);
  }, [current?.line, current?.at]);

  const onScroll = () => {
    const box = list.current;
    if (!box) return;
    if (autoTop.current != null && Math.abs(box.scrollTop - autoTop.current) < 2) {
      autoTop.current = null;
      return;
    }
    userScrolledAt.current = Date.now();
  };

  // Ctrl+F opens the find box, unless a text field elsewhere has the focus (it keeps the key).
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (!(e.ctrlKey || e.metaKey) || e.altKey || e.key.toLowerCase() !== 'f') return;
      const focused = document.activeElement;
      const inPane = focused instanceof Element && pane.current?.contains(focused);
      if (!inPane && isTextField(focused)) return;
      e.preventDefault();
      openFind();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  /** Opens the find box with the focus in it (its text selected, to type over). */
  function openFind() {
    setFindOpen(true);
    setTimeout(() => {
      findInput.current?.focus();
      findInput.current?.select();
    });
  }
  const closeFind = () => {
    setFindOpen(false);
    setQuery('');
    setMatchAt(0);
    list.current?.focus();
  };
  const onFindKey = (e: KeyboardEvent) => {
    if (e.key === 'Enter') {
      e.preventDefault();
      setMatchAt((n) => n + (e.shiftKey ? -1 : 1));
    } else if (e.key === 'Escape') {
      e.preventDefault();
      e.stopPropagation();
      closeFind();
    }
  };

  const copy = async () => {
    if (!view) return;
    try {
      await writeClipboard(view.dialogue);
      setCopied({ ok: true, text: `Copied ${lines.length} ${lines.length === 1 ? 'line' : 'lines'} to the clipboard.` });
    } catch (e) {
      setCopied({ ok: false, text: `Could not copy the transcript: ${e instanceof Error ? e.message : String(e)}.` });
    }
  };

  const said = statusText(view);
  const matchesOf = (i: number) => matches.filter((m) => m.line === i);

  return (
    <section class="transcript" ref={pane} data-testid="transcript" data-status={view === null ? 'none' : (status ?? 'loading')} aria-label={`Transcript of ${recordingTitle(recording)}`}>
      <div class="comments-head">
        <h4>
          Transcript {lines.length > 0 && <span class="muted">({lines.length})</span>}
        </h4>
        {lines.length > 0 && (
          <>
            <button type="button" class="btn btn-ghost btn-sm" onClick={() => (findOpen ? closeFind() : openFind())} title="Find in the transcript (Ctrl+F)" data-testid="transcript-find-toggle">
              Find
            </button>
            <button type="button" class="btn btn-ghost btn-sm" onClick={copy} title="Copy the whole dialogue as text" data-testid="transcript-copy">
              Copy
            </button>
          </>
        )}
      </div>
      {findOpen && (
        <div class="transcript-find" role="search">
          <input
            ref={findInput}
            class="input input-sm"
            type="search"
            value={query}
            placeholder="Find in the transcript"
            aria-label="Find in the transcript"
            onInput={(e) => {
              setQuery((e.target as HTMLInputElement).value);
              setMatchAt(0);
            }}
            onKeyDown={onFindKey}
            data-testid="transcript-find"
          />
          <span class="muted find-count" data-testid="transcript-find-count">
            {query.trim() ? (matches.length ? `${((matchAt % matches.length) + matches.length) % matches.length + 1} of ${matches.length}` : 'No match') : ''}
          </span>
          <button type="button" class="icon-btn" onClick={() => setMatchAt((n) => n - 1)} disabled={matches.length === 0} title="Previous (Shift+Enter)" aria-label="Previous match" data-testid="transcript-find-prev">
            ↑
          </button>
          <button type="button" class="icon-btn" onClick={() => setMatchAt((n) => n + 1)} disabled={matches.length === 0} title="Next (Enter)" aria-label="Next match" data-testid="transcript-find-next">
            ↓
          </button>
          <button type="button" class="icon-btn" onClick={closeFind} title="Close (Esc)" aria-label="Close find" data-testid="transcript-find-close">
            ×
          </button>
        </div>
      )}
      {copied && (
        <p class={copied.ok ? 'muted' : 'field-error'} data-testid="transcript-copy-status" role="status">
          {copied.text}
        </p>
      )}
      {said && (
        <p class={status === 'failed' ? 'field-error' : 'muted'} data-testid="transcript-status">
          {said}
        </p>
      )}
      {error && (
        <p class="field-error" data-testid="transcript-error">
          {error}
        </p>
      )}
      {lines.length > 0 && (
        <ol class="transcript-lines" ref={list} onScroll={onScroll} tabIndex={-1} data-testid="transcript-lines">
          {lines.map((l, i) => {
            const isActive = active.includes(i);
            return (
              <li
                key={i}
                data-line={i}
                class={`transcript-line ch-${l.channel}${isActive ? ' active' : ''}`}
                tabIndex={0}
                role="button"
                aria-current={isActive ? 'true' : undefined}
                title="Play from here (click or Enter)"
                onClick={() => playAt(l.start_ms)}
                onKeyDown={(e) => {
                  if (e.key === 'Enter') {
                    e.preventDefault();
                    playAt(l.start_ms);
                  }
                }}
                data-testid="transcript-line"
                data-start-ms={l.start_ms}
                data-active={isActive ? 'true' : undefined}
              >
                <span class="line-meta">
                  <span class="line-time">{formatDuration(l.start_ms)}</span>
                  <span class="line-speaker">{l.speaker}</span>
                </span>
                <span class="line-text">{marked(l.text, matchesOf(i), current)}</span>
              </li>
            );
          })}
        </ol>
      )}
    </section>
  );
}
