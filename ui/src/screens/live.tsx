// The live call(s): who is on it, which way, for how long, whether it is recorded — and the
// red toggle, enabled only where the rules permit (otherwise the reason is shown).
// While the push feed is not connected nothing on a card can be trusted: each card says the
// state is unknown, its clock stops and the toggle is off until a fresh list arrives (#17).
// Beside the toggle, Pause (PCI, issue #11.1) pauses and resumes the running recording —
// automatic ones too — for any participant and admins; the paused state is amber with its
// own timer. Key P does the same on the first call that may be paused, never while a control
// (a field, a button…) has focus.
import { useEffect, useState } from 'preact/hooks';
import { api, plainMessage, type CallDetail } from '../api';
import { useShared } from '../context';
import { directionLabel, displayNumber, elapsedMs, formatDuration, isRecording, participantName, pausedLabel, pauseOf, recordingStateLabel } from '../format';
import { keyTarget } from '../components/player';
import type { ConsentState, Level } from '../api';
import { ConsentBadge } from '../components/consent';

export const LOST_STATE = 'Connection lost — state unknown';
export const LOST_REASON = "The connection to the server is lost; the call's state is unknown";

const INTRO: Record<Level, string> = {
  agent: 'Your calls in progress.',
  supervisor: 'Calls of your teams in progress.',
  admin: 'All calls in progress.',
};

export function LiveView({ onOpenJournal }: { onOpenJournal: () => void }) {
  const { liveCalls, feed, session } = useShared();
  const connected = feed.state === 'connected';
  const [now, setNow] = useState(Date.now());
  // No clock runs while the calls' state is unknown.
  useEffect(() => {
    if (!connected) return;
    setNow(Date.now());
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, [connected]);
  const { report } = useShared();
  // Key P: pause or resume the first call whose recording the user may pause.
  useEffect(() => {
    if (!connected) return;
    const onKey = (e: KeyboardEvent) => {
      if (e.defaultPrevented || e.altKey || e.ctrlKey || e.metaKey || e.repeat) return;
      if (e.key !== 'p' && e.key !== 'P') return;
      if (keyTarget(e.target) === 'control') return;
      const d = liveCalls.find((c) => c.can_pause && isRecording(c));
      if (!d) return;
      e.preventDefault();
      api.setRecording(d.id, pauseOf(d) ? 'resume' : 'pause').catch(report);
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [connected, liveCalls]);

  return (
    <section class="page live-page" data-testid="live-view">
      <div class="page-head">
        <h2>Live calls</h2>
        <p class="muted">{INTRO[session.user.level] ?? INTRO.agent} Press the red button to record, press it again to stop.</p>
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
              ? session.user.level === 'agent'
                ? 'Your calls appear here the moment they ring.'
                : 'Calls appear here the moment they ring.'
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
  const { report, feed, session } = useShared();
  const [busy, setBusy] = useState(false);
  // Who may record the caller's consent: someone taking part, or an admin (the server checks).
  const mayConsent =
    session.user.level === 'admin' || detail.participants.some((p) => p.user_id != null && p.user_id === session.user.id);
  const call = detail;
  const lost = feed.state !== 'connected';
  const recording = isRecording(detail);
  // The title names what a press would do, from the same fact as the label (never "Start" on Stop).
  const action = recording ? 'Stop recording' : 'Start recording';
  const title = lost
    ? LOST_REASON
    : !detail.can_toggle
      ? detail.not_allowed_reason
        ? `${action} is not allowed: ${plainMessage('not_permitted', detail.not_allowed_reason)}`
        : recording
          ? 'This recording cannot be stopped from here'
          : 'Recording cannot be started for this call'
      : action;

  const paused = pauseOf(detail);
  const act = async (action: 'start' | 'stop' | 'pause' | 'resume') => {
    setBusy(true);
    try {
      await api.setRecording(call.id, action);
    } catch (e) {
      report(e);
    } finally {
      setBusy(false);
    }
  };
  const toggle = () => act(recording ? 'stop' : 'start');
  const pauseTitle = lost ? LOST_REASON : paused ? 'Resume recording (P)' : 'Pause recording, e.g. while a card number is given (P)';

  const consent = async (state: ConsentState) => {
    setBusy(true);
    try {
      await api.setConsent(call.id, state);
    } catch (e) {
      report(e);
    } finally {
      setBusy(false);
    }
  };

  const stateClass = lost
    ? 'rec-state lost'
    : recording
      ? 'rec-state on'
      : !detail.can_toggle && detail.not_allowed_reason
        ? 'rec-state denied'
        : 'rec-state';
  // `is-recording`, not `recording`: the call panel's recording items own that class (#17).
  const cardClass = lost ? 'call-card is-lost' : paused ? 'call-card is-paused' : recording ? 'call-card is-recording' : 'call-card';
  return (
    <article class={cardClass} data-testid="live-call" data-call-id={call.id}>
      <header class="call-card-head">
        <span class={`chip chip-${call.direction}`}>{directionLabel(call.direction)}</span>
        <span class={`chip chip-state-${call.state}`}>{call.state === 'ringing' ? 'Ringing' : call.state === 'held' ? 'On hold' : 'Active'}</span>
        <span class="spacer" />
        {lost ? (
          <span class="timer frozen" data-testid="live-timer" title="Unknown while the connection is lost">
            –:––
          </span>
        ) : (
          <span class="timer" data-testid="live-timer">
            {formatDuration(elapsedMs(call, now))}
          </span>
        )}
      </header>
      <div class="parties">
        {call.participants.map((p, i) => (
          <div class="party" key={i}>
            <span class="party-role">{p.role === 'caller' ? 'From' : 'To'}</span>
            <div class="party-who" title={p.number}>
              <span class="party-name">{participantName(p) || displayNumber(p.number)}</span>
              {participantName(p) && <span class="party-number">{displayNumber(p.number)}</span>}
            </div>
            {p.user_id == null && <span class="tag">external</span>}
          </div>
        ))}
      </div>
      {!lost && (
        <div class="consent-row" data-testid="consent-row">
          <ConsentBadge consent={detail.consent ?? { state: 'unknown' }} waiting={detail.consent_required && !recording} showUnknown={mayConsent} />
          <span class="spacer" />
          {mayConsent && (
            <span class="consent-actions">
              <button
                class="btn btn-ghost btn-small"
                onClick={() => consent('granted')}
                disabled={busy || detail.consent?.state === 'granted'}
                title="The caller agreed to be recorded"
                data-testid="consent-granted"
              >
                Caller agrees
              </button>
              <button
                class="btn btn-ghost btn-small"
                onClick={() => consent('refused')}
                disabled={busy || detail.consent?.state === 'refused'}
                title="The caller refused to be recorded: the recording stops"
                data-testid="consent-refused"
              >
                Caller refuses
              </button>
            </span>
          )}
        </div>
      )}
      <footer class="call-card-foot">
        <span class={stateClass} data-testid="recording-state">
          {lost ? (
            <span data-testid="live-lost" title={LOST_REASON}>
              {LOST_STATE}
            </span>
          ) : paused ? (
            <span class="paused-state" data-testid="pause-state" title={`Paused since ${new Date(paused.since).toLocaleTimeString()}: nothing of the call is recorded`}>
              <span class="pause-icon" aria-hidden="true" />
              {pausedLabel(detail, paused, now)}
            </span>
          ) : (
            <>
              {recording && <span class="rec-dot" aria-hidden="true" />}
              {recordingStateLabel(detail)}
            </>
          )}
        </span>
        {recording && (detail.can_pause || paused) && (
          <button
            class={paused && !lost ? 'pause-toggle on' : 'pause-toggle'}
            onClick={() => act(paused ? 'resume' : 'pause')}
            disabled={lost || busy || !detail.can_pause}
            aria-pressed={paused != null}
            title={pauseTitle}
            aria-label={paused ? 'Resume recording' : 'Pause recording'}
            aria-keyshortcuts="P"
            data-testid="pause-toggle"
          >
            {paused ? 'Resume' : 'Pause'}
          </button>
        )}
        <button
          class={recording && !lost ? 'rec-toggle on' : 'rec-toggle'}
          onClick={toggle}
          disabled={lost || busy || !detail.can_toggle}
          aria-pressed={recording}
          title={title}
          aria-label={action}
          data-testid="record-toggle"
        >
          <span class="rec-icon" aria-hidden="true" />
          {recording ? 'Stop' : 'Record'}
        </button>
      </footer>
    </article>
  );
}
