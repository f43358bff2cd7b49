import { afterEach, describe, expect, test } from 'vitest';
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { act } from 'preact/test-utils';
import { PlayerBar } from '../src/components/player';
import { mount, playing, settle, shared, withShared, cleanup } from './helpers';

afterEach(async () => {
  await cleanup();
  clearMocks();
});

function key(k: string, target: EventTarget = window) {
  target.dispatchEvent(new KeyboardEvent('keydown', { key: k, code: k === ' ' ? 'Space' : k, bubbles: true }));
}

describe('the player bar', () => {
  test('shows position and duration; space pauses, arrows on the bar jump 10 s, speed goes to the Rust side', async () => {
    const sent: [string, unknown][] = [];
    mockIPC((cmd, args) => {
      sent.push([cmd, args]);
      return playing();
    });
    const root = await mount(withShared(shared({ player: playing() }), <PlayerBar />));
    expect(root.querySelector('[data-testid=player-position]')!.textContent).toBe('0:12');
    expect(root.textContent).toContain('1:00');
    const bar = root.querySelector('[data-testid=player]')!;
    await act(() => key(' '));
    await act(() => key('ArrowRight', bar));
    await act(() => key('ArrowLeft', bar));
    const speed = root.querySelector('[data-testid=player-speed]') as HTMLSelectElement;
    await act(() => {
      speed.value = '1.5';
      speed.dispatchEvent(new Event('change', { bubbles: true }));
    });
    await settle();
    expect(sent).toEqual([
      ['player_pause', {}],
      ['player_skip', { deltaMs: 10000 }],
      ['player_skip', { deltaMs: -10000 }],
      ['player_speed', { speed: 1.5 }],
    ]);
  });

  test('keys typed into a field are not shortcuts', async () => {
    const sent: string[] = [];
    mockIPC((cmd) => {
      sent.push(cmd);
      return playing();
    });
    await mount(withShared(shared({ player: playing({ state: 'paused' }) }), <PlayerBar />));
    const input = document.createElement('input');
    document.body.appendChild(input);
    await act(() => key(' ', input));
    expect(sent).toEqual([]);
    await act(() => key(' '));
    expect(sent).toEqual(['player_resume']);
  });

  test('no audio device: the message shows in the bar', async () => {
    const status = playing({ state: 'failed', error: { code: 'no_audio_device', message: 'No audio output device was found.' } });
    const root = await mount(withShared(shared({ player: status }), <PlayerBar />));
    expect(root.querySelector('[data-testid=player-state]')!.textContent).toBe('No audio output device was found.');
  });
});

import { App } from '../src/app';
import { LiveCallCard } from '../src/screens/live';
import { EVENT } from '../src/api';
import { emit } from '@tauri-apps/api/event';
import { click, journalItem, liveCall, session, waitFor } from './helpers';

describe('issue 17: keys and the player after an error', () => {
  test('Space on the focused red Record button records; the player does not take it', async () => {
    const sent: string[] = [];
    mockIPC((cmd) => {
      sent.push(cmd);
      return cmd === 'set_recording' ? { state: { kind: 'recording_manual', by: 'Alice', user_id: 1 } } : playing();
    });
    const root = await mount(
      withShared(
        shared({ player: playing({ state: 'paused' }) }),
        <>
          <LiveCallCard detail={liveCall()} now={Date.now()} />
          <PlayerBar />
        </>,
      ),
    );
    const record = root.querySelector('[data-testid=record-toggle]') as HTMLButtonElement;
    record.focus();
    await act(() => key(' ', record));
    expect(sent, 'the player stays out of it').toEqual([]);
    for (const sel of ['a', 'select', 'textarea', 'summary', '[role=tab]', '[role=button]', '[contenteditable=true]']) {
      const holder = document.createElement('div');
      holder.innerHTML = sel.startsWith('[') ? `<div ${sel.slice(1, -1)}><span>x</span></div>` : `<${sel}${sel === 'a' ? ' href="#"' : ''}><span>x</span></${sel}>`;
      document.body.appendChild(holder);
      await act(() => key(' ', holder.querySelector('span')!));
      await act(() => key('ArrowRight', holder.querySelector('span')!));
    }
    expect(sent, 'no control loses its keys').toEqual([]);
  });

  test('arrows on the page are not the player\'s; on the bar they are; the bar\'s own buttons keep Space', async () => {
    const sent: string[] = [];
    mockIPC((cmd) => {
      sent.push(cmd);
      return playing();
    });
    const root = await mount(withShared(shared({ player: playing() }), <PlayerBar />));
    await act(() => key('ArrowRight', document.body));
    expect(sent).toEqual([]);
    const back = root.querySelector('[data-testid=player-back]')!;
    await act(() => key(' ', back));
    expect(sent, 'Space on a player button is left to the button').toEqual([]);
    await act(() => key('ArrowLeft', root.querySelector('.player-title strong')!));
    expect(sent).toEqual(['player_skip']);
    expect(root.querySelector('[data-testid=player-forward]')!.getAttribute('title')).toContain('while the player has focus');
  });

  test('after "No audio output device", Space plays the recording again from where it was, not resume', async () => {
    const sent: [string, unknown][] = [];
    mockIPC((cmd, args) => {
      sent.push([cmd, args]);
      return playing();
    });
    const status = playing({ recording_id: 10, state: 'failed', position_ms: 4_000, error: { code: 'no_audio_device', message: 'No audio output device was found.' } });
    const root = await mount(withShared(shared({ player: status }), <PlayerBar />));
    expect(root.querySelector('[data-testid=player]')!.textContent, 'no database id as a title').not.toContain('Recording 10');
    await act(() => key(' '));
    await settle();
    expect(sent).toEqual([['player_play', { recordingId: 10, startMs: 4000 }]]);
  });

  test('the notice of the Rust side shows in the bar', async () => {
    const notice = "Finished sooner than the recording's length: the audio output is not a real sound device";
    const root = await mount(withShared(shared({ player: playing({ state: 'ended', notice }) }), <PlayerBar />));
    expect(root.querySelector('[data-testid=player-notice]')!.textContent).toBe(notice);
  });

  test('× closes the bar at once even when stopping fails, and the next play shows it again', async () => {
    mockIPC(
      (cmd) => {
        if (cmd === 'startup')
          return { connection: { choice: { kind: 'remote', url: 'http://rec' }, url: 'http://rec' }, session, last_username: null, token_storage: 'keyring', error: null, saved: null };
        if (cmd === 'player_stop') throw { code: 'no_audio_device', message: 'No audio output device was found.' };
        return [];
      },
      { shouldMockEvents: true },
    );
    const root = await mount(<App />);
    const failed = playing({ recording_id: 10, state: 'failed', error: { code: 'no_audio_device', message: 'No audio output device was found.' } });
    await act(async () => {
      await emit(EVENT, { kind: 'player', status: failed });
    });
    await settle(5);
    expect(root.querySelector('[data-testid=player]')).not.toBeNull();
    await click(root.querySelector('[data-testid=player-close]'));
    await settle(5);
    expect(root.querySelector('[data-testid=player]'), 'closed although player_stop failed').toBeNull();
    await act(async () => {
      await emit(EVENT, { kind: 'player', status: failed });
    });
    await settle(5);
    expect(root.querySelector('[data-testid=player]'), 'stays closed until the next play').toBeNull();
  });

  test('after ×, the next Play in the call panel shows the bar again with the recording\'s title', async () => {
    const rec = {
      id: 11, call_id: 5, seq: 1, file_name: 'k5_001.wav', started_at: '2024-05-01T08:01:00Z', start_offset_ms: 0, duration_ms: 42_000, bytes: 1000,
      codec: 'pcmu', sample_rate: 8000, channels: 2, sha256: 'ab', trigger: { kind: 'force' }, state: 'complete', legal_hold: false, dispatch: [], gaps: [],
    };
    mockIPC(
      (cmd) => {
        if (cmd === 'startup')
          return { connection: { choice: { kind: 'remote', url: 'http://rec' }, url: 'http://rec' }, session, last_username: null, token_storage: 'keyring', error: null, saved: null };
        if (cmd === 'player_stop') throw { code: 'failed', message: 'x' };
        if (cmd === 'journal') return { items: [journalItem(5, 1)], next_cursor: null };
        if (cmd === 'get_call') return { ...journalItem(5, 1), recordings: [rec], trace: [], recording: { kind: 'not_recording' }, can_toggle: false };
        if (cmd === 'player_play') return playing({ recording_id: 11, state: 'loading' });
        return [];
      },
      { shouldMockEvents: true },
    );
    const root = await mount(<App />);
    await act(async () => {
      await emit(EVENT, { kind: 'player', status: playing({ recording_id: 10, state: 'failed', error: { code: 'no_audio_device', message: 'No audio output device was found.' } }) });
    });
    await settle(5);
    await click(root.querySelector('[data-testid=player-close]'));
    expect(root.querySelector('[data-testid=player]')).toBeNull();
    await click(root.querySelector('[data-testid=tab-journal]'));
    await waitFor(() => expect(root.querySelector('[data-testid=journal-row]')).not.toBeNull());
    await click(root.querySelector('[data-testid=journal-row]'));
    await waitFor(() => expect(root.querySelector('[data-testid=play-recording]')).not.toBeNull());
    await click(root.querySelector('[data-testid=play-recording]'));
    await act(async () => {
      await emit(EVENT, { kind: 'player', status: playing({ recording_id: 11, state: 'playing' }) });
    });
    await settle(5);
    expect(root.querySelector('[data-testid=player]')).not.toBeNull();
    expect(root.querySelector('.player-title')!.textContent).toContain('Recording 001');
  });
});

describe('issue 15.2: who is heard and the volume', () => {
  test('the buttons and slider send the party and the volume; the status shows them', async () => {
    const sent: [string, unknown][] = [];
    mockIPC((cmd, args) => {
      sent.push([cmd, args]);
      return playing();
    });
    const root = await mount(withShared(shared({ player: playing({ channels: 'caller', volume: 60 }) }), <PlayerBar />));
    const group = root.querySelector('[data-testid=player-channels]')!;
    expect(group.getAttribute('data-channels')).toBe('caller');
    expect(root.querySelector('[data-testid=player-channels-caller]')!.getAttribute('aria-pressed')).toBe('true');
    expect(root.querySelector('[data-testid=player-channels-both]')!.getAttribute('aria-pressed')).toBe('false');
    const volume = root.querySelector('[data-testid=player-volume]') as HTMLInputElement;
    expect(volume.value).toBe('60');
    await act(() => (root.querySelector('[data-testid=player-channels-callee]') as HTMLButtonElement).click());
    await act(() => {
      volume.value = '30';
      volume.dispatchEvent(new Event('change', { bubbles: true }));
    });
    await settle();
    expect(sent).toEqual([
      ['player_channels', { channels: 'callee' }],
      ['player_volume', { volume: 30 }],
    ]);
  });

  test('1/2/3 and +/− on the page; ↑/↓ only on the bar; never from a focused field', async () => {
    const sent: [string, unknown][] = [];
    mockIPC((cmd, args) => {
      sent.push([cmd, args]);
      return playing();
    });
    const root = await mount(withShared(shared({ player: playing({ volume: 100 }) }), <PlayerBar />));
    const bar = root.querySelector('[data-testid=player]')!;
    await act(() => key('2'));
    await act(() => key('3'));
    await act(() => key('1'));
    await act(() => key('-'));
    await act(() => key('+'));
    await act(() => key('ArrowDown'));
    await act(() => key('ArrowDown', bar));
    const input = document.createElement('input');
    document.body.appendChild(input);
    await act(() => key('2', input));
    await act(() => key('-', input));
    await settle();
    expect(sent).toEqual([
      ['player_channels', { channels: 'caller' }],
      ['player_channels', { channels: 'callee' }],
      ['player_channels', { channels: 'both' }],
      ['player_volume', { volume: 90 }],
      ['player_volume', { volume: 100 }],
      ['player_volume', { volume: 90 }],
    ]);
  });
});
