// "Why recorded": a call's decision trace in plain words — the PBX's mon mode, which rule
// matched (or did not) whom, the decision, and who pressed record or stop and when. The
// server writes the sentences; this orders them and marks each line's kind.
import { useState } from 'preact/hooks';
import type { TraceKind, TraceLine } from '../api';
import { formatTime } from '../format';

export const TRACE_KIND: Record<TraceKind, string> = {
  mon_mode: 'PBX mode',
  rule_matched: 'Rule matched',
  rule_not_matched: 'No match',
  rule_disabled: 'Rule off',
  decision: 'Decision',
  manual_start: 'Record pressed',
  manual_stop: 'Stop pressed',
  refused: 'Refused',
  paused: 'Paused',
  resumed: 'Resumed',
  consent: 'Consent',
};

/** The decision first (lines without a time, in the engine's order), then the events by time. */
export function orderTrace(trace: TraceLine[]): TraceLine[] {
  const decision = trace.filter((l) => !l.at);
  const events = trace.filter((l) => l.at).sort((a, b) => Date.parse(a.at!) - Date.parse(b.at!));
  return [...decision, ...events];
}

/** The server's line as a sentence: capital first letter, no trailing punctuation added. */
function sentence(m: string): string {
  return m ? m[0].toUpperCase() + m.slice(1) : m;
}

export function TraceView({ trace }: { trace: TraceLine[] }) {
  if (trace.length === 0) return <p class="muted" data-testid="trace-empty">No decision was recorded for this call.</p>;
  return (
    <ol class="trace" data-testid="trace">
      {orderTrace(trace).map((l, i) => (
        <li key={i} class={`trace-line trace-${l.kind}`} data-testid="trace-line" data-kind={l.kind}>
          <span class="trace-kind">{TRACE_KIND[l.kind] ?? l.kind}</span>
          <span class="trace-message">{sentence(l.message)}</span>
          {l.at && (
            <time class="trace-at" dateTime={l.at} title={l.at}>
              {formatTime(l.at)}
            </time>
          )}
        </li>
      ))}
    </ol>
  );
}

/** The collapsible section in the call panel (admins and supervisors). */
export function WhyRecorded({ trace, recorded }: { trace: TraceLine[]; recorded: boolean }) {
  const [open, setOpen] = useState(false);
  return (
    <div class="why">
      <button class="link" onClick={() => setOpen(!open)} aria-expanded={open} data-testid="why-recorded">
        {open ? '▾' : '▸'} {recorded ? 'Why recorded' : 'Why not recorded'}
      </button>
      {open && <TraceView trace={trace} />}
    </div>
  );
}
