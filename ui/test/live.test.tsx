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
