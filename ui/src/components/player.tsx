// The player bar: play/pause, ±10 s, a seek slider, position/duration, speed 0.5–2×.
//
// Keys (issue #17: a shortcut never steals a key from a focused control):
// - Space plays/pauses when nothing in particular has focus (the page itself) or the bar itself
//   has it (the bar is focusable: click its background or Tab to it).
// - ←/→ jump 10 s only while the bar itself has focus; on the page they are left to scrolling
//   and to the journal's list, on the seek slider they move the slider natively.
// - On any control — a button (the red Record button, the player's own buttons), link, field,
//   select, tab, summary, editable text, a journal row or anything else focusable — the key
//   does that control's own thing and the player does nothing.
// - 1/2/3 (both / caller / callee) and +/− (volume; ↑/↓ on the bar): see channel-controls.tsx.
// After an error (no audio device…) Play starts the recording again from where it was; × hides
// the bar at once, whatever the Rust side answers, until the next Play.
//
// Evidence (issue #12.3): once the whole file has streamed through the player (a play to the
// end), its SHA-256 is judged against the recording's signed evidence on the Rust side: a green
// tick "verified" or a red cross "altered" (or "not signed") beside the state.
//
// The waveform (issue #15.1, `waveform.tsx`) spans the bar's first row: click, drag or keys to
// seek; the comments' pins jump to them.
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, type EvidenceCheck, type RecordingId } from '../api';
import { useShared } from '../context';
import { useComments } from '../comments-store';
import { Waveform } from './waveform';
import { formatDuration, partiesLabel, recordingTitle } from '../format';
import { ChannelControls, channelShortcut } from './channel-controls';

export const SPEEDS = [0.5, 0.75, 1, 1.25, 1.5, 2];
const SKIP_MS = 10_000;

/** What owns its keys: focus on (or inside) one of these means "not a shortcut". */
const CONTROL =
  'button, a[href], input, select, textarea, summary, [role=button], [role=tab], [role=link], [role=option], [role=listbox], [role=slider], [contenteditable]:not([contenteditable=false]), [data-testid=journal-row], [data-testid=journal-list], [tabindex]';

/** Where a key went: the page, the player bar itself, or a control (which keeps it). */
export function keyTarget(target: EventTarget | null): 'page' | 'bar' | 'control' {
  if (!(target instanceof Element)) return 'page';
  if (target === document.body || target === document.documentElement) return 'page';
  if (target instanceof HTMLElement && target.isContentEditable) return 'control';
  // The bar is focusable itself, so inside it the nearest "control" is the bar for its text.
  const control = target.closest(CONTROL);
  if (target.closest('[data-player-bar]') && (control === null || control.hasAttribute('data-player-bar'))) return 'bar';
  return control ? 'control' : 'page';
}

export function PlayerBar() {
  const { player, nowPlaying, closePlayer, report } = useShared();
  const [dragging, setDragging] = useState<number | null>(null);
  const [check, setCheck] = useState<{ id: RecordingId; sha: string; result: EvidenceCheck | null } | null>(null);
  const status = player;
  const state = status?.state ?? 'idle';
  const running = state === 'playing' || state === 'loading';

  /**
   * Play or pause. After an error, at the end, or with nothing loaded, "resume" has nothing to
   * resume ("Nothing is loaded"): start the recording again, from where it was (or the start).
   */
  const toggle = () => {
    if (running) return api.playerPause().catch(report);
    if (status?.recording_id != null && (status.error || state === 'failed' || state === 'idle' || state === 'ended')) {
      const from = state === 'ended' ? 0 : status.position_ms;
      return api.playerPlay(status.recording_id, from).catch(report);
    }
    return api.playerResume().catch(report);
  };
  const skip = (delta: number) => api.playerSkip(delta).catch(report);
  const toggleRef = useRef(toggle);
  toggleRef.current = toggle;
  const statusRef = useRef(status);
  statusRef.current = status;

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.defaultPrevented || e.altKey || e.ctrlKey || e.metaKey) return;
      const where = keyTarget(e.target);
      if (where === 'control') return;
      if (e.code === 'Space' || e.key === ' ') {
        e.preventDefault();
        toggleRef.current();
      } else if (where === 'bar' && e.key === 'ArrowLeft') {
        e.preventDefault();
        skip(-SKIP_MS);
      } else if (where === 'bar' && e.key === 'ArrowRight') {
        e.preventDefault();
        skip(SKIP_MS);
      } else if (channelShortcut(e, where, statusRef.current, report)) {
        e.preventDefault();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  const waveFor = nowPlaying && nowPlaying.recording.id === status?.recording_id ? nowPlaying : null;
  const { comments } = useComments(waveFor?.recording.id ?? null);
  /** Seeks; a recording that ended or stopped is started again from there. */
  const seekTo = (ms: number) => {
    const s = status;
    if (s?.recording_id != null && (s.state === 'ended' || s.state === 'idle' || s.state === 'failed')) {
      return api.playerPlay(s.recording_id, ms).catch(report);
    }
    return api.playerSeek(ms).catch(report);
  };

  const checkedId = status?.recording_id ?? null;
  const streamed = status?.streamed_sha256 ?? null;
  useEffect(() => {
    if (checkedId == null || !streamed) return;
    setCheck({ id: checkedId, sha: streamed, result: null });
    api.checkRecordingEvidence(checkedId, streamed).then(
      (result) => setCheck((c) => (c && c.id === checkedId && c.sha === streamed ? { ...c, result } : c)),
      report,
    );
  }, [checkedId, streamed]);

  if (!status) return null;
  const verdict = check && check.id === status.recording_id && check.sha === streamed ? check.result : null;
  const duration = status.duration_ms;
  const position = dragging ?? status.position_ms;
  const close = () => {
    // Hidden at once: a Rust side that cannot stop (no device, gone) must not keep it open.
    closePlayer();
    api.playerStop().catch(() => undefined);
  };
  const stateLabel: Record<string, string> = {
    loading: 'Loading…',
    playing: 'Playing',
    paused: 'Paused',
    ended: 'Finished',
    failed: 'Stopped',
    idle: '',
  };

  return (
    <div
      class={waveFor ? 'player with-wave' : 'player'}
      data-testid="player"
      data-state={state}
      data-player-bar
      tabIndex={0}
      role="region"
      aria-label="Player"
      title="Space: play or pause · ← →: 10 seconds back or forward (while the player has focus) · 1 2 3: both, caller, callee · + −: volume"
    >
      {waveFor && (
        <Waveform recording={waveFor.recording} call={waveFor.call} positionMs={position} comments={comments} onSeek={seekTo} />
      )}
      <div class="player-title">
        {/* Never "Recording <database id>": the title and parties when known, else just "Recording". */}
        <strong>{nowPlaying ? recordingTitle(nowPlaying.recording) : 'Recording'}</strong>
        <span class="muted">{nowPlaying ? partiesLabel(nowPlaying.call) : ''}</span>
      </div>
      <div class="player-controls">
        <button class="icon-btn" onClick={() => skip(-SKIP_MS)} title="Back 10 seconds (← while the player has focus)" aria-label="Back 10 seconds" data-testid="player-back">
          <svg viewBox="0 0 24 24" width="18" height="18"><path d="M12 5V1L7 6l5 5V7a6 6 0 1 1-6 6H4a8 8 0 1 0 8-8z" fill="currentColor" /></svg>
        </button>
        <button class="play-btn" onClick={toggle} title={running ? 'Pause (space)' : 'Play (space)'} aria-label={running ? 'Pause' : 'Play'} data-testid="play-pause">
          {running ? (
            <svg viewBox="0 0 24 24" width="20" height="20"><rect x="6" y="5" width="4" height="14" rx="1" fill="currentColor" /><rect x="14" y="5" width="4" height="14" rx="1" fill="currentColor" /></svg>
          ) : (
            <svg viewBox="0 0 24 24" width="20" height="20"><path d="M8 5.5v13a1 1 0 0 0 1.5.86l10.2-6.5a1 1 0 0 0 0-1.72L9.5 4.64A1 1 0 0 0 8 5.5z" fill="currentColor" /></svg>
          )}
        </button>
        <button class="icon-btn" onClick={() => skip(SKIP_MS)} title="Forward 10 seconds (→ while the player has focus)" aria-label="Forward 10 seconds" data-testid="player-forward">
          <svg viewBox="0 0 24 24" width="18" height="18"><path d="M12 5V1l5 5-5 5V7a6 6 0 1 0 6 6h2a8 8 0 1 1-8-8z" fill="currentColor" /></svg>
        </button>
      </div>
      <span class="time" data-testid="player-position">{formatDuration(position)}</span>
      <input
        class="seek"
        type="range"
        min={0}
        max={Math.max(duration, 1)}
        step={100}
        value={position}
        onInput={(e) => setDragging(Number((e.target as HTMLInputElement).value))}
        onChange={(e) => {
          const to = Number((e.target as HTMLInputElement).value);
          setDragging(null);
          api.playerSeek(to).catch(report);
        }}
        aria-label="Position"
        data-testid="player-seek"
      />
      <span class="time">{formatDuration(duration)}</span>
      <select
        class="input input-sm speed"
        value={String(status.speed)}
        onChange={(e) => api.playerSpeed(Number((e.target as HTMLSelectElement).value)).catch(report)}
        aria-label="Speed"
        data-testid="player-speed"
      >
        {SPEEDS.map((s) => (
          <option key={s} value={String(s)}>
            {s}×
          </option>
        ))}
      </select>
      <ChannelControls status={status} />
      <div class="player-status">
        <span class={`player-state state-${state}`} data-testid="player-state" title={status.error?.message ?? undefined}>
          {status.error ? status.error.message : stateLabel[state]}
        </span>
        {verdict ? (
          <span class={`evidence evidence-${verdict.verdict}`} data-testid="evidence" data-verdict={verdict.verdict} title={verdict.detail}>
            <span aria-hidden="true">{verdict.verdict === 'verified' ? '✓' : '✗'}</span>{' '}
            {verdict.verdict === 'verified' ? 'verified' : verdict.verdict === 'altered' ? 'altered' : 'not signed'}
          </span>
        ) : (
          streamed == null &&
          (state === 'playing' || state === 'loading') && (
            <span class="evidence evidence-checking" data-testid="evidence" data-verdict="checking" title="The recording is checked against its signed evidence when it has played to the end.">
              checking…
            </span>
          )
        )}
        {status.notice && (
          <span class="player-notice" data-testid="player-notice" title={status.notice}>
            {status.notice}
          </span>
        )}
      </div>
      <button class="icon-btn" onClick={close} title="Close the player" aria-label="Close the player" data-testid="player-close">
        ×
      </button>
    </div>
  );
}
