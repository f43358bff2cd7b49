// The caller's consent to being recorded (issue #11.2), as a small badge beside the REC state:
// on the live card, in the journal row and in the call's facts. Nothing is shown while nobody
// has said anything (unknown), unless the call waits for it.
import type { CallConsent, ConsentState } from '../api';
import { formatTime } from '../format';

/** Short words for the narrow journal column (the title has the whole sentence). */
const SHORT: Record<ConsentState, string> = {
  unknown: 'Unknown',
  announced: 'Announced',
  granted: 'Consent',
  refused: 'Refused',
};

const WORD: Record<ConsentState, string> = {
  unknown: 'Consent unknown',
  announced: 'Recording announced',
  granted: 'Consent given',
  refused: 'Consent refused',
};

/** The consent in words, with who said so and when when known. */
export function consentTitle(c: CallConsent): string {
  const who = c.by ? ` by ${c.by}` : '';
  const via = c.via === 'sip' ? ' (phone system)' : c.via === 'ingest' ? ' (upload)' : '';
  const when = c.at ? ` at ${formatTime(c.at)}` : '';
  return `${WORD[c.state]}${who}${via}${when}`;
}

export function ConsentBadge({
  consent,
  waiting = false,
  showUnknown = false,
  short = false,
}: {
  consent: ConsentState | CallConsent;
  waiting?: boolean;
  /** Say "Consent unknown" rather than nothing (the live card, where the agent may record it). */
  showUnknown?: boolean;
  /** Short words (the journal row). */
  short?: boolean;
}) {
  const c: CallConsent = typeof consent === 'string' ? { state: consent } : consent;
  if (c.state === 'unknown' && !waiting && !showUnknown) return null;
  const label = waiting && c.state !== 'granted' && c.state !== 'refused' ? 'Waiting for consent' : (short ? SHORT : WORD)[c.state];
  return (
    <span class={`consent-badge consent-${c.state}${waiting ? ' consent-waiting' : ''}`} title={consentTitle(c)} data-testid="consent-badge" data-consent={c.state}>
      {label}
    </span>
  );
}
