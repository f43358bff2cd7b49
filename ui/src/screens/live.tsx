// The live call(s): who is on it, which way, for how long, whether it is recorded — and the
// red toggle, enabled only where the rules permit (otherwise the reason is shown).
import { useEffect, useState } from 'preact/hooks';
import { api, type CallDetail } from '../api';
import { useShared } from '../context';
import { directionLabel, displayNumber, elapsedMs, formatDuration, isRecording, recordingStateLabel } from '../format';

export function LiveView({ onOpenJournal }: { onOpenJournal: () => void }) {
  const { liveCalls, feed } = useShared();
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, []);

  return (
    <section class="page live-page" data-testid="live-view">
      <div class="page-head">
        <h2>Live calls</h2>
        <p class="muted">Your calls in progress. Press the red button to record, press it again to stop.</p>
      </div>
      {liveCalls.length === 0 ? (
        <div class="empty" data-testid="live-empty">
          <div class="empty-icon" aria-hidden="true">
            <svg viewBox="0 0 24 24" width="28" height="28">
              <path
                d="M6.6 10.8a15.1 15.1 0 0 0 6.6 6.6l2.2-2.2a1 1 0 0 1 1-.25 11.4 11.4 0 0 0 3.6.57 1 1 0 0 1 1 1V20a1 1 0 0 1-1 1A17 17 0 0 1 3 4a1 1 0 0 1 1-1h3.5a1 1 0 0 1 1 1c0 1.25.2 2.45.57 3.57a1 1 0 0 1-.25 1z"
                fill="currentColor"
              />
            </svg>
          </div>
          <h3>No calls right now</h3>
          <p class="muted">
            {feed.state === 'connected'
              ? 'Your calls appear here the moment they ring.'
              : 'Waiting for the connection to the server…'}
          </p>
          <button class="btn btn-ghost" onClick={onOpenJournal}>
            Open the journal
          </button>
        </div>
      ) : (
        <div class="call-list">
          {liveCalls.map((d) => (
            <LiveCallCard key={d.id} detail={d} now={now} />
          ))}
        </div>
      )}
    </section>
  );
}

export function LiveCallCard({ detail, now }: { detail: CallDetail; now: number }) {
  const { report } = useShared();
  const [busy, setBusy] = useState(false);
  const call = detail;
  const recording = isRecording(detail);

  const toggle = async () => {
    setBusy(true);
    try {
      await api.setRecording(call.id, recording ? 'stop' : 'start');
    } catch (e) {
      report(e);
    } finally {
      setBusy(false);
    }
  };

  const stateClass = recording ? 'rec-state on' : !detail.can_toggle && detail.not_allowed_reason ? 'rec-state denied' : 'rec-state';
  return (
    <article class={recording ? 'call-card recording' : 'call-card'} data-testid="live-call" data-call-id={call.id}>
      <header class="call-card-head">
        <span class={`chip chip-${call.direction}`}>{directionLabel(call.direction)}</span>
        <span class={`chip chip-state-${call.state}`}>{call.state === 'ringing' ? 'Ringing' : call.state === 'held' ? 'On hold' : 'Active'}</span>
        <span class="spacer" />
        <span class="timer" data-testid="live-timer">
          {formatDuration(elapsedMs(call, now))}
        </span>
      </header>
      <div class="parties">
        {call.participants.map((p, i) => (
          <div class="party" key={i}>
            <span class="party-role">{p.role === 'caller' ? 'From' : 'To'}</span>
            <div class="party-who" title={p.number}>
              <span class="party-name">{p.name.trim() || displayNumber(p.number)}</span>
              {p.name.trim() && <span class="party-number">{displayNumber(p.number)}</span>}
            </div>
            {p.user_id == null && <span class="tag">external</span>}
          </div>
        ))}
      </div>
      <footer class="call-card-foot">
        <span class={stateClass} data-testid="recording-state">
          {recording && <span class="rec-dot" aria-hidden="true" />}
          {recordingStateLabel(detail)}
        </span>
        <button
          class={recording ? 'rec-toggle on' : 'rec-toggle'}
          onClick={toggle}
          disabled={busy || !detail.can_toggle}
          aria-pressed={recording}
          title={!detail.can_toggle ? detail.not_allowed_reason ?? 'Recording cannot be changed for this call' : recording ? 'Stop recording' : 'Start recording'}
          data-testid="record-toggle"
        >
          <span class="rec-icon" aria-hidden="true" />
          {recording ? 'Stop' : 'Record'}
        </button>
      </footer>
    </article>
  );
}
