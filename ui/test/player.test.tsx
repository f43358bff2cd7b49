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
  test('shows position and duration; space pauses, arrows jump 10 s, speed goes to the Rust side', async () => {
    const sent: [string, unknown][] = [];
    mockIPC((cmd, args) => {
      sent.push([cmd, args]);
      return playing();
    });
    const root = await mount(withShared(shared({ player: playing() }), <PlayerBar />));
    expect(root.querySelector('[data-testid=player-position]')!.textContent).toBe('0:12');
    expect(root.textContent).toContain('1:00');
    await act(() => key(' '));
    await act(() => key('ArrowRight'));
    await act(() => key('ArrowLeft'));
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
