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
    expect(document.activeElement, 'issue 17: the username has focus after Connect').toBe(root.querySelector('[data-testid=username]'));

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

import { LoginScreen } from '../src/screens/login';
import { ConnectScreen } from '../src/screens/connect';

describe('issue 17: connecting and signing in', () => {
  const localConn = { choice: { kind: 'local' as const }, url: 'http://127.0.0.1:9' };
  const status = (over: object = {}) => ({
    running: true,
    url: 'http://127.0.0.1:9',
    data_dir: '/d',
    log: ['callrec-server: HTTP on http://127.0.0.1:9'],
    sign_ins: ['Log in as any of (password "callrec-demo"):', 'alice  agent, Support, ext 201', 'created user "admin" with password abc123'],
    exit: null,
    ...over,
  });
  const login = (over: Partial<Parameters<typeof LoginScreen>[0]> = {}) => (
    <LoginScreen connection={localConn} tokenStorage="keyring" lastUsername="" onSignedIn={() => undefined} onChangeServer={() => undefined} {...over} />
  );

  test("this computer's sign-ins come from the server status, always, not parsed here", async () => {
    mockIPC((cmd) => (cmd === 'local_server' ? status() : null));
    const root = await mount(login());
    expect(root.querySelector('[data-testid=demo-logins]')).not.toBeNull();
    expect(root.querySelector('[data-testid=sign-ins]')!.textContent).toContain('created user "admin" with password abc123');
    expect(root.querySelector('[data-testid=restart-local]')).toBeNull();
  });

  test('a stopped local server says so with its exit and Restart; never "check the address"; no message twice', async () => {
    let running = false;
    const calls: string[] = [];
    mockIPC((cmd) => {
      calls.push(cmd);
      if (cmd === 'local_server') return status({ running, url: null, exit: running ? null : 'exited with status 1' });
      if (cmd === 'restart_local_server') {
        running = true;
        return status();
      }
      if (cmd === 'login') throw { code: 'unreachable', message: 'Cannot reach http://127.0.0.1:9 — check the address.' };
      return null;
    });
    const root = await mount(login({ message: 'Cannot reach http://127.0.0.1:9 — check the address.', lastUsername: 'alice' }));
    expect(root.querySelector('[data-testid=local-stopped]')!.textContent).toContain('The callrec server on this computer has stopped. It exited with status 1.');
    expect(root.textContent).not.toContain('check the address');
    expect(root.querySelector('[data-testid=sign-ins]'), 'sign-ins stay after a stop').not.toBeNull();
    await type(root.querySelector('[data-testid=password]'), 'x');
    await click(root.querySelector('[data-testid=sign-in]'));
    await settle(5);
    expect(root.textContent).not.toContain('check the address');
    expect(root.textContent!.split('has stopped').length - 1, 'said once').toBe(1);
    await click(root.querySelector('[data-testid=restart-local]'));
    await settle(5);
    expect(calls).toContain('restart_local_server');
    expect(root.querySelector('[data-testid=local-stopped]')).toBeNull();
  });

  test('the username field has focus when the form shows; the password when the username is known', async () => {
    mockIPC(() => null);
    let root = await mount(login({ connection: { choice: { kind: 'remote', url: 'http://rec' }, url: 'http://rec' } }));
    expect(document.activeElement).toBe(root.querySelector('[data-testid=username]'));
    await cleanup();
    root = await mount(login({ connection: { choice: { kind: 'remote', url: 'http://rec' }, url: 'http://rec' }, lastUsername: 'alice' }));
    expect(document.activeElement).toBe(root.querySelector('[data-testid=password]'));
  });

  test('a connect in progress can be cancelled, which is no error; a timeout says the server is unreachable', async () => {
    let reject: (e: unknown) => void = () => undefined;
    const calls: string[] = [];
    mockIPC((cmd) => {
      calls.push(cmd);
      if (cmd === 'connect') return new Promise((_, rej) => (reject = rej));
      if (cmd === 'cancel_connect') {
        reject({ code: 'cancelled', message: 'Cancelled.' });
        return null;
      }
      return null;
    });
    const root = await mount(<ConnectScreen saved={null} onConnected={() => undefined} />);
    await type(root.querySelector('[data-testid=server-url]'), 'rec:8080');
    expect(root.querySelector('[data-testid=connect-cancel]')).toBeNull();
    await act(() => {
      (root.querySelector('[data-testid=connect-form]') as HTMLFormElement).dispatchEvent(new Event('submit', { cancelable: true }));
    });
    await settle(5);
    expect((root.querySelector('[data-testid=connect]') as HTMLButtonElement).disabled).toBe(true);
    await click(root.querySelector('[data-testid=connect-cancel]'));
    await settle(5);
    expect(calls).toContain('cancel_connect');
    expect(root.querySelector('[data-testid=connect-error]')).toBeNull();
    expect(root.querySelector('[data-testid=connect-cancel]')).toBeNull();
    expect((root.querySelector('[data-testid=connect]') as HTMLButtonElement).disabled).toBe(false);

    await act(() => {
      (root.querySelector('[data-testid=connect-form]') as HTMLFormElement).dispatchEvent(new Event('submit', { cancelable: true }));
    });
    await settle(5);
    await act(() => reject({ code: 'unreachable', message: 'No answer from http://rec:8080 within 10 seconds.' }));
    await settle(5);
    expect(root.querySelector('[data-testid=connect-error]')!.textContent).toBe('No answer from http://rec:8080 within 10 seconds.');
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

describe('issue 10: an installation of several nodes', () => {
  test('the connect screen takes the other nodes; a move to another node is said and the session stays', async () => {
    let sent: unknown = null;
    mockIPC(
      (cmd, args) => {
        if (cmd === 'startup') return noStartup;
        if (cmd === 'connect') {
          sent = (args as { choice: unknown }).choice;
          return { choice: sent, url: 'http://a:8080' };
        }
        if (cmd === 'login') return session;
        return [];
      },
      { shouldMockEvents: true },
    );
    const root = await mount(<App />);
    await type(root.querySelector('[data-testid=server-url]'), 'a:8080');
    await type(root.querySelector('[data-testid=server-fallbacks]'), 'b:8080, c:8080\n');
    await act(() => {
      (root.querySelector('[data-testid=connect-form]') as HTMLFormElement).dispatchEvent(new Event('submit', { cancelable: true }));
    });
    await settle(5);
    expect(sent).toEqual({ kind: 'remote', url: 'a:8080', fallbacks: ['b:8080', 'c:8080'] });
    await type(root.querySelector('[data-testid=username]'), 'alice');
    await type(root.querySelector('[data-testid=password]'), 'pw');
    await click(root.querySelector('[data-testid=sign-in]'));
    expect(root.querySelector('[data-testid=live-view]')).not.toBeNull();

    await act(async () => {
      await emit(EVENT, { kind: 'server_changed', from: 'http://a:8080', to: 'http://b:8080' });
    });
    await settle(5);
    expect(document.body.textContent).toContain('The server at http://a:8080 stopped answering. Now using http://b:8080; you are still signed in.');
    expect(root.querySelector('[data-testid=live-view]'), 'still signed in').not.toBeNull();
    expect(root.querySelector('[data-testid=login-form]')).toBeNull();
  });
});

describe('issue 15.6: the title says when my call is recorded', () => {
  test('the title the Rust side decided becomes the page title', async () => {
    mockIPC(
      (cmd) => {
        if (cmd === 'startup') return { ...noStartup, connection: { choice: { kind: 'remote', url: 'http://rec' }, url: 'http://rec' }, session };
        return null;
      },
      { shouldMockEvents: true },
    );
    await mount(<App />);
    await act(async () => {
      await emit(EVENT, { kind: 'on_air', state: 'recording', title: '● Recording — callrec', change: 'started' });
    });
    await settle(5);
    expect(document.title).toBe('● Recording — callrec');
    await act(async () => {
      await emit(EVENT, { kind: 'on_air', state: 'not_recording', title: 'callrec', change: 'stopped' });
    });
    await settle(5);
    expect(document.title).toBe('callrec');
  });
});
