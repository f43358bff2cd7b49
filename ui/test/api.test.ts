import { afterEach, describe, expect, test } from 'vitest';
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { api, ApiError } from '../src/api';

afterEach(() => clearMocks());

describe('the api layer', () => {
  test('commands go out under their names with the arguments the Rust side expects', async () => {
    const calls: [string, unknown][] = [];
    mockIPC((cmd, args) => {
      calls.push([cmd, args]);
      if (cmd === 'journal') return { items: [], next_cursor: null };
      if (cmd === 'set_recording') return { state: { kind: 'recording_manual', by: 'Alice', user_id: 1 } };
      return null;
    });
    await api.journal({ q: 'anna', limit: 50 });
    await api.setRecording(7, 'start');
    await api.playerSeek(1234.6);
    await api.downloadRecording({ download_id: 'd', recording_id: 2, format: 'pcm16', path: '/tmp/x.wav' });
    expect(calls).toEqual([
      ['journal', { filter: { q: 'anna', limit: 50 } }],
      ['set_recording', { callId: 7, action: 'start' }],
      ['player_seek', { positionMs: 1235 }],
      ['download_recording', { request: { download_id: 'd', recording_id: 2, format: 'pcm16', path: '/tmp/x.wav' } }],
    ]);
  });

  test('errors arrive as ApiError with the code and the message', async () => {
    mockIPC(() => {
      throw { code: 'not_permitted', message: 'No manual rule lets you record this call.' };
    });
    const err = await api.setRecording(1, 'start').catch((e) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err.code).toBe('not_permitted');
    expect(err.message).toBe('No manual rule lets you record this call.');
  });

  test('a broken bridge never shows a stack trace', async () => {
    mockIPC(() => {
      throw new Error('TypeError: x is undefined at foo.js:12');
    });
    const err = await api.liveCalls().catch((e) => e);
    expect(err.code).toBe('failed');
    expect(err.message).not.toMatch(/foo\.js|TypeError/);
  });
});
