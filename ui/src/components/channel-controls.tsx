// Per-party listening and volume in the player bar (issue #15.2). The Rust player applies both
// to the samples on their way out, remembers them for the session, and reports them in its
// status; this only shows them and sends changes.
//
// Keys (never taken from a focused control; the player bar passes only page and bar keys):
// 1 both parties, 2 the caller only, 3 the callee only; + / − the volume by 10 % (also ↑ / ↓
// while the bar itself has focus, where they do not scroll the page).
import { api, type Channels, type PlayerStatus } from '../api';
import { useShared } from '../context';

export const VOLUME_STEP = 10;

const CHOICES: { value: Channels; label: string; key: string; title: string }[] = [
  { value: 'both', label: 'Both', key: '1', title: 'Both parties (1)' },
  { value: 'caller', label: 'Caller', key: '2', title: 'Only the caller, on both ears (2)' },
  { value: 'callee', label: 'Callee', key: '3', title: 'Only the called party, on both ears (3)' },
];

function clampVolume(v: number): number {
  return Math.max(0, Math.min(100, Math.round(v)));
}

/**
 * A key the player bar did not take, on the page or on the bar itself: `true` when it was one
 * of ours (party or volume) and was sent to the Rust side.
 */
export function channelShortcut(e: KeyboardEvent, where: 'page' | 'bar', status: PlayerStatus | null, report: (e: unknown) => void): boolean {
  if (!status) return false;
  const choice = CHOICES.find((c) => c.key === e.key);
  if (choice) {
    api.playerChannels(choice.value).catch(report);
    return true;
  }
  const up = e.key === '+' || e.key === '=' || (where === 'bar' && e.key === 'ArrowUp');
  const down = e.key === '-' || e.key === '−' || (where === 'bar' && e.key === 'ArrowDown');
  if (!up && !down) return false;
  api.playerVolume(clampVolume(status.volume + (up ? VOLUME_STEP : -VOLUME_STEP))).catch(report);
  return true;
}

export function ChannelControls({ status }: { status: PlayerStatus }) {
  const { report } = useShared();
  return (
    <div class="channel-controls">
      <div class="segmented" role="group" aria-label="Who is heard" data-testid="player-channels" data-channels={status.channels}>
        {CHOICES.map((c) => (
          <button
            key={c.value}
            class={`segment${status.channels === c.value ? ' active' : ''}`}
            aria-pressed={status.channels === c.value}
            title={c.title}
            data-testid={`player-channels-${c.value}`}
            onClick={() => api.playerChannels(c.value).catch(report)}
          >
            {c.label}
          </button>
        ))}
      </div>
      <input
        class="volume"
        type="range"
        min={0}
        max={100}
        step={VOLUME_STEP}
        value={status.volume}
        onChange={(e) => api.playerVolume(clampVolume(Number((e.target as HTMLInputElement).value))).catch(report)}
        aria-label="Volume"
        title={`Volume ${status.volume} % (+ / −)`}
        data-testid="player-volume"
      />
    </div>
  );
}
