import { afterEach, describe, expect, test } from 'vitest';
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { emit } from '@tauri-apps/api/event';
import { act } from 'preact/test-utils';
import { App } from '../src/app';
import { EVENT } from '../src/api';
import { click, liveCall, mount, session, settle, type, cleanup } from './helpers';

afterEach(async () => {
  await cleanup();
  clearMocks();
});

const noStartup = {
  connection: null,
  session: null,
  last_username: null,
  token_storage: 'keyring',
  error: null,
  saved: null,
};

describe('the window', () => {
  test('first run: connect, then sign in; a wrong password is said plainly', async () => {
    const calls: string[] = [];
    mockIPC(
      (cmd, args) => {
        calls.push(cmd);
        if (cmd === 'startup') return noStartup;
        if (cmd === 'connect') return { choice: (args as { choice: unknown }).choice, url: 'http://rec:8080' };
        if (cmd === 'login') {
          const { password } = args as { password: string };
          if (password !== 'right') throw { code: 'bad_credentials', message: 'Wrong username or password.' };
          return session;
        }
        if (cmd === 'live_calls') return [];
        return null;
      },
      { shouldMockEvents: true },
    );
    const root = await mount(<App />);
    expect(root.querySelector('[data-testid=connect-form]')).not.toBeNull();
    await type(root.querySelector('[data-testid=server-url]'), 'rec:8080');
    await act(() => {
      (root.querySelector('[data-testid=connect-form]') as HTMLFormElement).dispatchEvent(new Event('submit', { cancelable: true }));
    });
    await settle(5);
    expect(root.querySelector('[data-testid=login-form]')).not.toBeNull();
    expect(root.querySelector('[data-testid=server-label]')!.textContent).toBe('http://rec:8080');

    await type(root.querySelector('[data-testid=username]'), 'alice');
    await type(root.querySelector('[data-testid=password]'), 'wrong');
    await click(root.querySelector('[data-testid=sign-in]'));
    expect(root.querySelector('[data-testid=login-error]')!.textContent).toBe('Wrong username or password.');

    await type(root.querySelector('[data-testid=password]'), 'right');
    await click(root.querySelector('[data-testid=sign-in]'));
    expect(root.querySelector('[data-testid=live-view]')).not.toBeNull();
    expect(root.querySelector('[data-testid=user]')!.textContent).toContain('Alice');
  });

  test('pushed live calls appear; an expired session goes back to the login form with the reason', async () => {
    mockIPC(
      (cmd) => {
        if (cmd === 'startup') return { ...noStartup, connection: { choice: { kind: 'remote', url: 'http://rec' }, url: 'http://rec' }, session };
        return null;
      },
      { shouldMockEvents: true },
    );
    const root = await mount(<App />);
    expect(root.querySelector('[data-testid=live-empty]')).not.toBeNull();
    await act(async () => {
      await emit(EVENT, { kind: 'live_calls', calls: [liveCall()] });
      await emit(EVENT, { kind: 'feed', state: 'connected' });
    });
    await settle(5);
    expect(root.querySelectorAll('[data-testid=live-call]')).toHaveLength(1);
    expect(root.querySelector('[data-testid=feed]')!.textContent).toContain('Live');

    await act(async () => {
      await emit(EVENT, { kind: 'session_expired', message: 'Your session has expired or was ended. Please sign in again.' });
    });
    await settle(5);
    expect(root.querySelector('[data-testid=login-form]')).not.toBeNull();
    expect(root.querySelector('[data-testid=login-message]')!.textContent).toContain('session has expired');
  });

  test('an unreachable server is a banner, not a crash', async () => {
    mockIPC(
      (cmd) => {
        if (cmd === 'startup') return { ...noStartup, connection: { choice: { kind: 'remote', url: 'http://rec' }, url: 'http://rec' }, session };
        if (cmd === 'journal') throw { code: 'unreachable', message: 'Cannot reach the server.' };
        return [];
      },
      { shouldMockEvents: true },
    );
    const root = await mount(<App />);
    await click(root.querySelector('[data-testid=tab-journal]'));
    await settle(5);
    expect(root.querySelector('[data-testid=banner]')!.textContent).toContain('Cannot reach the server.');
    expect(root.querySelector('[data-testid=journal-empty]')!.textContent).toContain('could not be loaded');
  });
});

import { demoLogins } from '../src/screens/login';

describe('this computer', () => {
  test('the demo sign-ins are picked out of the local server output', () => {
    const log = [
      'callrec: created user "admin" with password abc123  (set CALLREC_BOOTSTRAP_ADMIN_PASSWORD to choose it)',
      'callrec-server: HTTP on http://127.0.0.1:1',
      'callrec demo: seeded a demo directory. Log in as any of (password "callrec-demo"):',
      '  alice  agent, Support, ext 201',
      '  sam    supervisor of Support and Sales, ext 300',
      'callrec demo: placing simulated calls',
    ];
    expect(demoLogins(log)).toEqual([
      'seeded a demo directory. Log in as any of (password "callrec-demo"):',
      'alice  agent, Support, ext 201',
      'sam    supervisor of Support and Sales, ext 300',
      'created user "admin" with password abc123',
    ]);
    expect(demoLogins(['nothing here'])).toEqual([]);
  });
});

describe('issue 17: the window after a day of real use', () => {
  const remote = { ...noStartup, connection: { choice: { kind: 'remote', url: 'http://rec' }, url: 'http://rec' }, session };
  const local = { ...noStartup, connection: { choice: { kind: 'local' }, url: 'http://127.0.0.1:9' }, session };

  test('the top bar never says Live while the banner says the server cannot be reached; reconnecting clears it', async () => {
    mockIPC(
      (cmd) => {
        if (cmd === 'startup') return remote;
        if (cmd === 'journal') throw { code: 'unreachable', message: 'Cannot reach the server.' };
        return [];
      },
      { shouldMockEvents: true },
    );
    const root = await mount(<App />);
    await act(async () => {
      await emit(EVENT, { kind: 'feed', state: 'connected' });
    });
    await settle(5);
    expect(root.querySelector('[data-testid=feed]')!.textContent).toContain('Live');
    await click(root.querySelector('[data-testid=tab-journal]'));
    await settle(5);
    expect(root.querySelector('[data-testid=banner]')).not.toBeNull();
    expect(root.querySelector('[data-testid=feed]')!.textContent).not.toContain('Live');
    await act(async () => {
      await emit(EVENT, { kind: 'feed', state: 'reconnecting' });
      await emit(EVENT, { kind: 'feed', state: 'connected' });
    });
    await settle(5);
    expect(root.querySelector('[data-testid=banner]'), 'the banner goes when the feed is back').toBeNull();
    expect(root.querySelector('[data-testid=feed]')!.textContent).toContain('Live');
  });

  test('the live cards say the state is unknown while the feed is lost, and come back with it', async () => {
    mockIPC((cmd) => (cmd === 'startup' ? remote : null), { shouldMockEvents: true });
    const root = await mount(<App />);
    await act(async () => {
      await emit(EVENT, { kind: 'live_calls', calls: [liveCall({ recording: { kind: 'recording_auto' } })] });
      await emit(EVENT, { kind: 'feed', state: 'connected' });
    });
    await settle(5);
    expect(root.querySelector('[data-testid=live-lost]')).toBeNull();
    expect(root.querySelector('.rec-dot')).not.toBeNull();
    await act(async () => {
      await emit(EVENT, { kind: 'feed', state: 'reconnecting' });
    });
    await settle(5);
    expect(root.querySelector('[data-testid=live-lost]')).not.toBeNull();
    expect(root.querySelector('.rec-dot')).toBeNull();
    expect((root.querySelector('[data-testid=record-toggle]') as HTMLButtonElement).disabled).toBe(true);
  });

  test("this computer's server stopped: the banner says so and Restart starts it again", async () => {
    const calls: string[] = [];
    mockIPC(
      (cmd) => {
        calls.push(cmd);
        if (cmd === 'startup') return local;
        if (cmd === 'journal') throw { code: 'unreachable', message: 'Cannot reach http://127.0.0.1:9 — check the address.' };
        if (cmd === 'local_server') return { running: false, url: null, data_dir: '/d', log: [], sign_ins: [], exit: 'exited with status 1' };
        if (cmd === 'restart_local_server') return { running: true, url: 'http://127.0.0.1:9', data_dir: '/d', log: [], sign_ins: [], exit: null };
        return [];
      },
      { shouldMockEvents: true },
    );
    const root = await mount(<App />);
    await click(root.querySelector('[data-testid=tab-journal]'));
    await settle(5);
    const banner = root.querySelector('[data-testid=banner]')!;
    expect(banner.textContent).toContain('The callrec server on this computer has stopped.');
    expect(banner.textContent).toContain('exited with status 1');
    expect(banner.textContent).not.toContain('check the address');
    await click(root.querySelector('[data-testid=restart-local]'));
    await settle(5);
    expect(calls).toContain('restart_local_server');
    expect(root.querySelector('[data-testid=banner]')).toBeNull();
  });
});
