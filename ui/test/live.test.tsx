import { afterEach, describe, expect, test } from 'vitest';
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { LiveCallCard, LiveView } from '../src/screens/live';
import { click, liveCall, mount, shared, withShared, cleanup } from './helpers';

afterEach(async () => {
  await cleanup();
  clearMocks();
});

describe('the live call', () => {
  test('shows who, which way, the timer and an enabled red toggle that starts recording', async () => {
    const sent: unknown[] = [];
    mockIPC((cmd, args) => {
      if (cmd === 'set_recording') {
        sent.push(args);
        return { state: { kind: 'recording_manual', by: 'Alice', user_id: 1 } };
      }
    });
    const root = await mount(withShared(shared(), <LiveCallCard detail={liveCall()} now={Date.now()} />));
    const parties = root.querySelectorAll('.party');
    expect(parties[0].textContent).toContain('Customer');
    expect(parties[0].textContent).toContain('+49301234');
    expect(parties[0].textContent).toContain('external');
    expect(parties[1].textContent).toContain('Alice');
    expect(root.textContent).toContain('Incoming');
    expect(root.querySelector('[data-testid=live-timer]')!.textContent).toBe('1:01');
    expect(root.querySelector('[data-testid=recording-state]')!.textContent).toBe('Not recording');
    const toggle = root.querySelector('[data-testid=record-toggle]') as HTMLButtonElement;
    expect(toggle.disabled).toBe(false);
    expect(toggle.textContent).toContain('Record');
    await click(toggle);
    expect(sent).toEqual([{ callId: 7, action: 'start' }]);
  });

  test('a running manual recording says who started it and the toggle stops it', async () => {
    const sent: unknown[] = [];
    mockIPC((cmd, args) => {
      if (cmd === 'set_recording') sent.push(args);
      return { state: { kind: 'not_recording' } };
    });
    const detail = liveCall({ recording: { kind: 'recording_manual', by: 'Alice', user_id: 1 } });
    const root = await mount(withShared(shared(), <LiveCallCard detail={detail} now={Date.now()} />));
    expect(root.querySelector('[data-testid=recording-state]')!.textContent).toBe('Recording (manual, by Alice)');
    const toggle = root.querySelector('[data-testid=record-toggle]')!;
    expect(toggle.getAttribute('aria-pressed')).toBe('true');
    expect(toggle.className).toContain('on');
    await click(toggle);
    expect(sent).toEqual([{ callId: 7, action: 'stop' }]);
  });

  test('issue 11: a call that waits for consent says so, and the REC state shows the consent given', async () => {
    const waiting = await mount(withShared(shared(), <LiveCallCard detail={liveCall({ consent_required: true, can_toggle: false })} now={Date.now()} />));
    expect(waiting.querySelector('[data-testid=recording-state]')!.textContent).toContain("Waiting for the caller's consent");
    expect(waiting.querySelector('[data-testid=consent-badge]')!.textContent).toBe('Waiting for consent');
    await cleanup();
    const granted = liveCall({
      consent_required: true,
      recording: { kind: 'recording_auto' },
      consent: { state: 'granted', by: 'IVR', via: 'sip', at: new Date(Date.UTC(2026, 2, 2, 10, 2, 11)).toISOString() },
    });
    const root = await mount(withShared(shared(), <LiveCallCard detail={granted} now={Date.now()} />));
    const badge = root.querySelector('[data-testid=consent-badge]')!;
    expect(badge.textContent).toBe('Consent given');
    expect(badge.getAttribute('data-consent')).toBe('granted');
    expect(badge.getAttribute('title')).toMatch(/^Consent given by IVR \(phone system\) at \d\d:\d\d:11$/);
    expect(root.querySelector('[data-testid=recording-state]')!.textContent).toContain('Recording (automatic)');
  });

  test('issue 11: the agent records a refusal; an unknown consent says so on the card of someone who may record it', async () => {
    const sent: unknown[] = [];
    mockIPC((cmd, args) => {
      if (cmd === 'set_consent') {
        sent.push(args);
        return { consent: { state: 'refused' }, state: { kind: 'not_recording' } };
      }
    });
    const root = await mount(withShared(shared(), <LiveCallCard detail={liveCall()} now={Date.now()} />));
    expect(root.querySelector('[data-testid=consent-badge]')!.textContent).toBe('Consent unknown');
    await click(root.querySelector('[data-testid=consent-refused]'));
    expect(sent).toEqual([{ callId: 7, consent: 'refused' }]);
    await cleanup();
    const refused = liveCall({ consent_required: true, consent: { state: 'refused', by: 'Alice', via: 'client' } });
    const after = await mount(withShared(shared(), <LiveCallCard detail={refused} now={Date.now()} />));
    expect(after.querySelector('[data-testid=recording-state]')!.textContent).toContain('Not recording: the caller refused');
    expect((after.querySelector('[data-testid=consent-refused]') as HTMLButtonElement).disabled).toBe(true);
    // Someone who does not take part is not offered the buttons.
    await cleanup();
    const stranger = liveCall({ participants: [{ name: 'Customer', number: '+49301234', user_id: null, role: 'caller' }] });
    const other = await mount(withShared(shared(), <LiveCallCard detail={stranger} now={Date.now()} />));
    expect(other.querySelector('[data-testid=consent-granted]')).toBeNull();
    expect(other.querySelector('[data-testid=consent-badge]')).toBeNull();
  });

  test('where the rules do not permit, the toggle is disabled and the reason is shown', async () => {
    const detail = liveCall({ can_toggle: false, not_allowed_reason: 'no manual recording rule applies to you' });
    const root = await mount(withShared(shared(), <LiveCallCard detail={detail} now={Date.now()} />));
    const toggle = root.querySelector('[data-testid=record-toggle]') as HTMLButtonElement;
    expect(toggle.disabled).toBe(true);
    expect(root.textContent).toContain('Recording not allowed: no manual recording rule applies to you');
  });

  test('a refused toggle is reported, not swallowed', async () => {
    mockIPC(() => {
      throw { code: 'not_permitted', message: 'Recording is denied for this call.' };
    });
    const reported: unknown[] = [];
    const root = await mount(
      withShared(shared({ report: (e) => reported.push(e) }), <LiveCallCard detail={liveCall()} now={Date.now()} />),
    );
    await click(root.querySelector('[data-testid=record-toggle]'));
    expect(reported).toHaveLength(1);
    expect((reported[0] as { code: string }).code).toBe('not_permitted');
  });

  test('no calls: an empty state, not an empty page', async () => {
    const root = await mount(withShared(shared(), <LiveView onOpenJournal={() => undefined} />));
    expect(root.querySelector('[data-testid=live-empty]')!.textContent).toContain('No calls right now');
  });
});

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LOST_REASON, LOST_STATE } from '../src/screens/live';
import { recordingStateLabel } from '../src/format';
import { session } from './helpers';

/** The selectors of styles.css whose rules set `property`, each with the rule's body. */
function selectorsSetting(property: string): string[] {
  const css = readFileSync(join(__dirname, '../src/styles.css'), 'utf8').replace(/\/\*[\s\S]*?\*\//g, '');
  const out: string[] = [];
  for (const m of css.matchAll(/([^{}@]+)\{([^{}]*)\}/g)) {
    if (!new RegExp(`(^|[;\\s])${property}\\s*:`).test(m[2])) continue;
    for (const sel of m[1].split(',')) if (sel.trim() && !sel.includes('%')) out.push(sel.trim());
  }
  return out;
}

describe('issue 17: the live card', () => {
  test('while the feed is not connected every card says the state is unknown, with no clock, dot or toggle', async () => {
    for (const state of ['reconnecting', 'connecting', 'stopped'] as const) {
      const detail = liveCall({ recording: { kind: 'recording_manual', by: 'Alice', user_id: 1 } });
      const root = await mount(withShared(shared({ feed: { state } }), <LiveCallCard detail={detail} now={Date.now()} />));
      const card = root.querySelector('[data-testid=live-call]')!;
      expect(root.querySelector('[data-testid=recording-state]')!.textContent).toBe(LOST_STATE);
      expect(root.querySelector('[data-testid=live-lost]'), 'the lost state is marked').not.toBeNull();
      expect(root.querySelector('.rec-dot'), 'no pulsing dot').toBeNull();
      expect(root.querySelector('[data-testid=live-timer]')!.textContent, 'no running clock').not.toMatch(/\d/);
      const toggle = root.querySelector('[data-testid=record-toggle]') as HTMLButtonElement;
      expect(toggle.disabled).toBe(true);
      expect(toggle.title).toBe(LOST_REASON);
      expect(card.className).not.toContain('is-recording');
      await cleanup();
    }
  });

  test('the live view stops ticking while the connection is lost', async () => {
    const root = await mount(withShared(shared({ feed: { state: 'reconnecting' }, liveCalls: [liveCall()] }), <LiveView onOpenJournal={() => undefined} />));
    expect(root.querySelector('[data-testid=live-lost]')).not.toBeNull();
    expect(root.querySelector('[data-testid=live-timer]')!.textContent).toBe('–:––');
  });

  test('a recording card keeps the card rule: no class the recording items’ rules match, and the padding only from .call-card', async () => {
    const detail = liveCall({ recording: { kind: 'recording_auto' }, can_toggle: true });
    const root = await mount(withShared(shared(), <LiveCallCard detail={detail} now={Date.now()} />));
    const card = root.querySelector('[data-testid=live-call]')!;
    expect(card.matches('.recording')).toBe(false);
    expect(card.className).toContain('is-recording');
    const padding = selectorsSetting('padding').filter((sel) => {
      try {
        return card.matches(sel);
      } catch {
        return false;
      }
    });
    expect(padding).toEqual(['.call-card']);
    const toggle = root.querySelector('[data-testid=record-toggle]') as HTMLButtonElement;
    expect(toggle.textContent).toContain('Stop');
    expect(toggle.title).toBe('Stop recording');
  });

  test('a refused Stop says what is refused, never "Start recording"', async () => {
    const detail = liveCall({ recording: { kind: 'recording_auto' }, can_toggle: false, not_allowed_reason: 'MDC_MON_MODE=force' });
    const root = await mount(withShared(shared(), <LiveCallCard detail={detail} now={Date.now()} />));
    const toggle = root.querySelector('[data-testid=record-toggle]') as HTMLButtonElement;
    expect(toggle.title).toMatch(/^Stop recording/);
    expect(toggle.title).not.toContain('MDC_');
  });

  test('a call the phone system must record says so; names come from the directory', () => {
    expect(recordingStateLabel(liveCall({ mon_mode: 'force', recording: { kind: 'recording_auto' } }))).toBe('Recording (required by the phone system)');
    expect(recordingStateLabel(liveCall({ recording: { kind: 'recording_auto' } }))).toBe('Recording (automatic)');
    const denied = recordingStateLabel(liveCall({ can_toggle: false, not_allowed_reason: 'MDC_MON_MODE=deny' }));
    expect(denied).not.toContain('MDC_');
    expect(denied).toContain('phone system');
  });

  test('the internal party shows its directory name', async () => {
    const detail = liveCall({
      participants: [
        { name: 'Customer', number: '+49301234', user_id: null, role: 'caller' },
        { name: 'Caller', number: '201', user_id: 1, user_name: 'Alice Adams', role: 'callee' },
      ],
    });
    const root = await mount(withShared(shared(), <LiveCallCard detail={detail} now={Date.now()} />));
    expect(root.querySelectorAll('.party')[1].textContent).toContain('Alice Adams');
    expect(root.querySelectorAll('.party')[1].textContent).not.toContain('Caller');
  });

  test('the page says whose calls it shows, by level', async () => {
    const level = (l: 'agent' | 'supervisor' | 'admin') => ({ ...session, user: { ...session.user, level: l } });
    let root = await mount(withShared(shared({ session: level('supervisor') }), <LiveView onOpenJournal={() => undefined} />));
    expect(root.textContent).toContain('Calls of your teams in progress');
    await cleanup();
    root = await mount(withShared(shared({ session: level('admin') }), <LiveView onOpenJournal={() => undefined} />));
    expect(root.textContent).toContain('All calls in progress');
    await cleanup();
    root = await mount(withShared(shared(), <LiveView onOpenJournal={() => undefined} />));
    expect(root.textContent).toContain('Your calls in progress');
  });
});

describe('PCI pause (issue #11.1)', () => {
  test('Pause beside the red toggle pauses an automatic recording the agent cannot stop', async () => {
    const sent: unknown[] = [];
    mockIPC((cmd, args) => {
      if (cmd === 'set_recording') sent.push(args);
      return { state: { kind: 'recording_auto' } };
    });
    const detail = liveCall({ recording: { kind: 'recording_auto' }, can_toggle: false, can_pause: true });
    const root = await mount(withShared(shared(), <LiveCallCard detail={detail} now={Date.now()} />));
    expect((root.querySelector('[data-testid=record-toggle]') as HTMLButtonElement).disabled).toBe(true);
    const pause = root.querySelector('[data-testid=pause-toggle]') as HTMLButtonElement;
    expect(pause.disabled).toBe(false);
    expect(pause.textContent).toBe('Pause');
    await click(pause);
    expect(sent).toEqual([{ callId: 7, action: 'pause' }]);
  });

  test('the paused state is unmistakable: amber, who paused it and its own timer; Resume resumes', async () => {
    const sent: unknown[] = [];
    mockIPC((cmd, args) => {
      if (cmd === 'set_recording') sent.push(args);
      return { state: { kind: 'recording_auto' } };
    });
    const since = new Date(Date.now() - 12_000).toISOString();
    const detail = liveCall({ recording: { kind: 'recording_auto', paused: { by: 'Alice', user_id: 1, since } }, can_pause: true });
    const root = await mount(withShared(shared(), <LiveCallCard detail={detail} now={Date.now()} />));
    expect(root.querySelector('[data-testid=pause-state]')!.textContent).toBe('PAUSED by Alice · 0:12');
    expect(root.querySelector('[data-testid=live-call]')!.className).toContain('is-paused');
    const resume = root.querySelector('[data-testid=pause-toggle]') as HTMLButtonElement;
    expect(resume.textContent).toBe('Resume');
    expect(resume.getAttribute('aria-pressed')).toBe('true');
    await click(resume);
    expect(sent).toEqual([{ callId: 7, action: 'resume' }]);
  });

  test('no Pause button when nothing is recorded', async () => {
    const root = await mount(withShared(shared(), <LiveCallCard detail={liveCall({ can_pause: false })} now={Date.now()} />));
    expect(root.querySelector('[data-testid=pause-toggle]')).toBeNull();
  });

  test('key P pauses the live call, but never while a field or a button has focus', async () => {
    const sent: unknown[] = [];
    mockIPC((cmd, args) => {
      if (cmd === 'set_recording') sent.push(args);
      return { state: { kind: 'recording_auto' } };
    });
    const detail = liveCall({ recording: { kind: 'recording_auto' }, can_pause: true });
    const root = await mount(withShared(shared({ liveCalls: [detail] }), <LiveView onOpenJournal={() => undefined} />));
    const input = document.createElement('input');
    root.appendChild(input);
    input.focus();
    input.dispatchEvent(new KeyboardEvent('keydown', { key: 'p', bubbles: true }));
    (root.querySelector('[data-testid=pause-toggle]') as HTMLButtonElement).focus();
    root.querySelector('[data-testid=pause-toggle]')!.dispatchEvent(new KeyboardEvent('keydown', { key: 'p', bubbles: true }));
    expect(sent).toEqual([]);
    (document.activeElement as HTMLElement).blur();
    document.body.dispatchEvent(new KeyboardEvent('keydown', { key: 'p', bubbles: true }));
    await new Promise((r) => setTimeout(r, 0));
    expect(sent).toEqual([{ callId: 7, action: 'pause' }]);
  });
});
