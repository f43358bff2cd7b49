// The player bar: play/pause, ±10 s, a seek slider, position/duration, speed 0.5–2×.
// Keys: space plays/pauses, ←/→ jump 10 s (not while typing in a field).
import { useEffect, useState } from 'preact/hooks';
import { api } from '../api';
import { useShared } from '../context';
import { formatDuration, partiesLabel, recordingTitle } from '../format';

export const SPEEDS = [0.5, 0.75, 1, 1.25, 1.5, 2];
const SKIP_MS = 10_000;

function typingIn(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  if (target instanceof HTMLInputElement) return target.type !== 'range' && target.type !== 'checkbox' && target.type !== 'radio';
  return target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement || target.isContentEditable;
}

export function PlayerBar() {
  const { player, nowPlaying, setNowPlaying, report } = useShared();
  const [dragging, setDragging] = useState<number | null>(null);
  const status = player;
  const state = status?.state ?? 'idle';
  const running = state === 'playing' || state === 'loading';

  const toggle = () => (running ? api.playerPause() : api.playerResume()).catch(report);
  const skip = (delta: number) => api.playerSkip(delta).catch(report);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (typingIn(e.target) || e.altKey || e.ctrlKey || e.metaKey) return;
      if (e.code === 'Space' || e.key === ' ') {
        e.preventDefault();
        toggle();
      } else if (e.key === 'ArrowLeft') {
        e.preventDefault();
        skip(-SKIP_MS);
      } else if (e.key === 'ArrowRight') {
        e.preventDefault();
        skip(SKIP_MS);
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [running]);

  if (!status) return null;
  const duration = status.duration_ms;
  const position = dragging ?? status.position_ms;
  const close = () => {
    setNowPlaying(null);
    api.playerStop().catch(report);
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
    <div class="player" data-testid="player" data-state={state}>
      <div class="player-title">
        <strong>{nowPlaying ? recordingTitle(nowPlaying.recording) : `Recording ${status.recording_id}`}</strong>
        <span class="muted">{nowPlaying ? partiesLabel(nowPlaying.call) : ''}</span>
      </div>
      <div class="player-controls">
        <button class="icon-btn" onClick={() => skip(-SKIP_MS)} title="Back 10 seconds (←)" aria-label="Back 10 seconds" data-testid="player-back">
          <svg viewBox="0 0 24 24" width="18" height="18"><path d="M12 5V1L7 6l5 5V7a6 6 0 1 1-6 6H4a8 8 0 1 0 8-8z" fill="currentColor" /></svg>
        </button>
        <button class="play-btn" onClick={toggle} title={running ? 'Pause (space)' : 'Play (space)'} aria-label={running ? 'Pause' : 'Play'} data-testid="play-pause">
          {running ? (
            <svg viewBox="0 0 24 24" width="20" height="20"><rect x="6" y="5" width="4" height="14" rx="1" fill="currentColor" /><rect x="14" y="5" width="4" height="14" rx="1" fill="currentColor" /></svg>
          ) : (
            <svg viewBox="0 0 24 24" width="20" height="20"><path d="M8 5.5v13a1 1 0 0 0 1.5.86l10.2-6.5a1 1 0 0 0 0-1.72L9.5 4.64A1 1 0 0 0 8 5.5z" fill="currentColor" /></svg>
          )}
        </button>
        <button class="icon-btn" onClick={() => skip(SKIP_MS)} title="Forward 10 seconds (→)" aria-label="Forward 10 seconds" data-testid="player-forward">
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
      <span class={`player-state state-${state}`} data-testid="player-state">
        {status.error ? status.error.message : stateLabel[state]}
      </span>
      <button class="icon-btn" onClick={close} title="Close the player" aria-label="Close the player" data-testid="player-close">
        ×
      </button>
    </div>
  );
}
