// The waveform of the recording in the player (issue #15.1): both channels from the server's
// peaks — the caller above, the other party (the agent of an incoming call) below, each
// labelled — drawn on a canvas at one bucket per pixel of its width (asked again when the
// width changes). Over it: the playhead, the PCI pauses (amber) and lost audio (grey) as
// bands, and a pin per comment (click: jump there).
//
// Seeking: click or drag on the waveform (the position follows the pointer while dragging, the
// player seeks on release). Keys while the waveform has focus (it is a slider): ← → 5 seconds,
// Page Up/Down 30 seconds, Home/End the ends — it owns those keys, so the player bar's
// shortcuts leave them alone.
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { api, toApiError, type Call, type Comment, type Peaks, type Recording, type RecordingId } from '../api';
import { formatDuration } from '../format';

const STEP_MS = 5_000;
const PAGE_MS = 30_000;
/** Height of one channel's lane, CSS pixels. */
const LANE = 30;
/** The quietest full scale: a near-silent recording is not blown up into noise bars. */
const MIN_SCALE = 2_000;

/** The two lanes' names: the caller's side and the other's, with who they are. */
export function channelLabels(call: Call | null, channels: number): string[] {
  if (channels < 2) return ['Both parties'];
  const caller = call?.participants.find((p) => p.role === 'caller');
  const callee = call?.participants.find((p) => p.role === 'callee');
  const name = (p: typeof caller) => (p ? p.name || p.number : '');
  // The side with a user of this installation is the agent's.
  const calleeIsAgent = callee?.user_id != null && caller?.user_id == null;
  const callerIsAgent = caller?.user_id != null && callee?.user_id == null;
  const word = (agent: boolean, fallback: string) => (agent ? 'Agent' : fallback);
  return [
    [word(callerIsAgent, 'Caller'), name(caller)].filter(Boolean).join(' · '),
    [word(calleeIsAgent, 'Callee'), name(callee)].filter(Boolean).join(' · '),
  ];
}

/** The loudest sample of any channel (at least [`MIN_SCALE`]): the lanes' full height. */
export function peakScale(peaks: Peaks): number {
  let loudest = MIN_SCALE;
  for (const ch of peaks.channels) {
    for (const v of ch.max) if (v > loudest) loudest = v;
    for (const v of ch.min) if (-v > loudest) loudest = -v;
  }
  return loudest;
}

/**
 * Draws `peaks` into `canvas`, scaled to the recording's loudest sample (both channels alike,
 * so their loudness compares); answers the number of buckets drawn with any sound.
 */
export function drawPeaks(canvas: HTMLCanvasElement, peaks: Peaks, cssWidth: number): number {
  const lanes = Math.max(1, peaks.channels.length);
  const ratio = (typeof window !== 'undefined' && window.devicePixelRatio) || 1;
  const height = lanes * LANE;
  canvas.width = Math.max(1, Math.round(cssWidth * ratio));
  canvas.height = Math.round(height * ratio);
  const ctx = canvas.getContext('2d');
  if (!ctx) return 0;
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  ctx.clearRect(0, 0, cssWidth, height);
  const colours = ['#2563eb', '#0f766e'];
  let drawn = 0;
  const scale = peakScale(peaks);
  peaks.channels.forEach((ch, lane) => {
    const mid = lane * LANE + LANE / 2;
    ctx.fillStyle = '#e2e8f0';
    ctx.fillRect(0, mid, cssWidth, 1);
    ctx.fillStyle = colours[lane % colours.length];
    const n = ch.min.length;
    const w = cssWidth / Math.max(1, n);
    for (let i = 0; i < n; i++) {
      const top = (ch.max[i] / scale) * (LANE / 2 - 1);
      const bottom = (ch.min[i] / scale) * (LANE / 2 - 1);
      const h = Math.max(1, top - bottom);
      if (ch.max[i] !== ch.min[i]) drawn++;
      ctx.fillRect(i * w, mid - top, Math.max(1, w - (w > 2 ? 0.5 : 0)), h);
    }
  });
  return drawn;
}

interface Props {
  recording: Recording;
  call: Call | null;
  positionMs: number;
  comments: Comment[] | null;
  onSeek: (ms: number) => void;
}

export function Waveform({ recording, call, positionMs, comments, onSeek }: Props) {
  const box = useRef<HTMLDivElement>(null);
  const canvas = useRef<HTMLCanvasElement>(null);
  const [width, setWidth] = useState(0);
  const [peaks, setPeaks] = useState<{ id: RecordingId; peaks: Peaks } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [drawn, setDrawn] = useState(0);
  const [drag, setDrag] = useState<number | null>(null);
  const duration = Math.max(1, recording.duration_ms);

  // The width in pixels: one bucket each (asked again, rounded to 50 px, when it changes).
  useLayoutEffect(() => {
    const el = box.current;
    if (!el) return;
    const measure = () => setWidth(Math.round(el.clientWidth));
    measure();
    if (typeof ResizeObserver === 'undefined') return;
    const ro = new ResizeObserver(measure);
    ro.observe(el);
    return () => ro.disconnect();
  }, []);
  const buckets = Math.min(10_000, Math.max(50, Math.ceil((width || 600) / 50) * 50));

  useEffect(() => {
    let gone = false;
    setError(null);
    api.recordingPeaks(recording.id, buckets).then(
      (p) => !gone && setPeaks({ id: recording.id, peaks: p }),
      (e) => !gone && setError(toApiError(e).message),
    );
    return () => {
      gone = true;
    };
  }, [recording.id, buckets]);

  const current = peaks && peaks.id === recording.id ? peaks.peaks : null;
  useEffect(() => {
    if (!canvas.current || !current) return;
    setDrawn(drawPeaks(canvas.current, current, width || 600));
  }, [current, width]);

  const lanes = current ? Math.max(1, current.channels.length) : Math.min(2, recording.channels || 2);
  const labels = channelLabels(call, lanes);
  const at = (clientX: number) => {
    const r = box.current?.getBoundingClientRect();
    if (!r || r.width <= 0) return 0;
    return Math.round(Math.min(1, Math.max(0, (clientX - r.left) / r.width)) * duration);
  };
  const pct = (ms: number) => `${(Math.min(duration, Math.max(0, ms)) / duration) * 100}%`;
  const shown = drag ?? positionMs;

  const onPointerDown = (e: PointerEvent) => {
    if (e.button !== 0) return;
    (e.currentTarget as HTMLElement).setPointerCapture?.(e.pointerId);
    setDrag(at(e.clientX));
  };
  const onPointerMove = (e: PointerEvent) => {
    if (drag != null) setDrag(at(e.clientX));
  };
  const onPointerUp = (e: PointerEvent) => {
    if (drag == null) return;
    const to = at(e.clientX);
    setDrag(null);
    onSeek(to);
  };
  const onKey = (e: KeyboardEvent) => {
    if (e.altKey || e.ctrlKey || e.metaKey) return;
    const moves: Record<string, number> = {
      ArrowLeft: positionMs - STEP_MS,
      ArrowRight: positionMs + STEP_MS,
      ArrowDown: positionMs - STEP_MS,
      ArrowUp: positionMs + STEP_MS,
      PageDown: positionMs - PAGE_MS,
      PageUp: positionMs + PAGE_MS,
      Home: 0,
      End: duration,
    };
    if (!(e.key in moves)) return;
    e.preventDefault();
    e.stopPropagation();
    onSeek(Math.min(duration, Math.max(0, moves[e.key])));
  };

  return (
    <div class="waveform" data-testid="waveform" data-buckets={current?.buckets ?? 0} data-drawn-buckets={drawn} data-channels={lanes}>
      <div class="wave-labels" aria-hidden="true">
        {labels.map((l) => (
          <span key={l} class="wave-label" title={l}>
            {l}
          </span>
        ))}
      </div>
      <div
        class="wave-area"
        ref={box}
        style={{ height: `${lanes * LANE}px` }}
        role="slider"
        tabIndex={0}
        aria-label="Position in the waveform"
        aria-valuemin={0}
        aria-valuemax={duration}
        aria-valuenow={Math.round(shown)}
        aria-valuetext={formatDuration(shown)}
        title="Click or drag to move the position · ← → 5 s · Page Up/Down 30 s · Home/End"
        onPointerDown={onPointerDown}
        onPointerMove={onPointerMove}
        onPointerUp={onPointerUp}
        onPointerCancel={() => setDrag(null)}
        onKeyDown={onKey}
        data-testid="waveform-area"
      >
        <canvas ref={canvas} class="wave-canvas" data-testid="waveform-canvas" />
        {(recording.pauses ?? []).map((p, i) => (
          <span
            key={`p${i}`}
            class="wave-band wave-pause"
            style={{ left: pct(p.from_ms), width: `calc(${pct((p.to_ms ?? duration) - p.from_ms)} + 1px)` }}
            title={`Paused (PCI) ${formatDuration(p.from_ms)}–${p.to_ms != null ? formatDuration(p.to_ms) : 'end'} by ${p.by}`}
            data-testid="wave-pause"
          />
        ))}
        {(recording.gaps ?? []).map((g, i) => (
          <span
            key={`g${i}`}
            class="wave-band wave-gap"
            style={{ left: pct(g.offset_ms), width: `calc(${pct(g.duration_ms)} + 1px)` }}
            title={`Audio lost ${formatDuration(g.offset_ms)}–${formatDuration(g.offset_ms + g.duration_ms)}`}
            data-testid="wave-gap"
          />
        ))}
        {(comments ?? []).map((c) =>
          c.to_ms != null && c.to_ms > c.at_ms ? (
            <span key={`s${c.id}`} class="wave-band wave-span" style={{ left: pct(c.at_ms), width: pct(c.to_ms - c.at_ms) }} />
          ) : null,
        )}
        <span class="wave-playhead" style={{ left: pct(shown) }} data-testid="wave-playhead" />
        {error && (
          <span class="wave-error" data-testid="waveform-error">
            {error}
          </span>
        )}
        {!current && !error && <span class="wave-loading">Loading the waveform…</span>}
      </div>
      <div class="wave-pins">
        {(comments ?? []).map((c) => (
          <button
            key={c.id}
            type="button"
            class="wave-pin"
            style={{ left: pct(c.at_ms) }}
            title={`${formatDuration(c.at_ms)} ${c.author_name}: ${c.text}`}
            aria-label={`Comment at ${formatDuration(c.at_ms)} by ${c.author_name}: jump there`}
            onClick={() => onSeek(c.at_ms)}
            data-testid="comment-pin"
            data-at-ms={c.at_ms}
          />
        ))}
      </div>
    </div>
  );
}
