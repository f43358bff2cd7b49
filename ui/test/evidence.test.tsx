import { afterEach, describe, expect, test } from 'vitest';
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { PlayerBar } from '../src/components/player';
import { ListensView } from '../src/screens/listens';
import type { EvidenceCheck, Listen, ListensPage } from '../src/api';
import { cleanup, mount, playing, shared, waitFor, withShared } from './helpers';

afterEach(async () => {
  await cleanup();
  clearMocks();
});

describe('issue 12.3: the evidence verdict in the player bar', () => {
  test('checking while it plays; verified once the whole file streamed and the Rust side judged it', async () => {
    const asked: unknown[] = [];
    mockIPC((cmd, args) => {
      if (cmd === 'check_recording_evidence') {
        asked.push(args);
        return { verdict: 'verified', detail: 'what was played matches the evidence signed on 2026-12-03 10:15:02 UTC' } satisfies EvidenceCheck;
      }
      return playing();
    });
    const root = await mount(withShared(shared({ player: playing() }), <PlayerBar />));
    expect(root.querySelector('[data-testid=evidence]')!.getAttribute('data-verdict')).toBe('checking');
    expect(asked).toEqual([]);
    await cleanup();
    const done = await mount(withShared(shared({ player: playing({ state: 'ended', streamed_sha256: 'ab'.repeat(32) }) }), <PlayerBar />));
    await waitFor(() => expect(done.querySelector('[data-testid=evidence]')!.getAttribute('data-verdict')).toBe('verified'));
    expect(asked).toEqual([{ recordingId: 3, sha256: 'ab'.repeat(32) }]);
    const mark = done.querySelector('[data-testid=evidence]')!;
    expect(mark.textContent).toContain('✓');
    expect(mark.textContent).toContain('verified');
    expect(mark.getAttribute('title')).toContain('matches');
  });

  test('altered shows a cross and says why', async () => {
    mockIPC((cmd) =>
      cmd === 'check_recording_evidence'
        ? ({ verdict: 'altered', detail: 'what was played hashes to 5c1e…, the signed evidence says 9af0…' } satisfies EvidenceCheck)
        : playing(),
    );
    const root = await mount(withShared(shared({ player: playing({ state: 'ended', streamed_sha256: 'cd'.repeat(32) }) }), <PlayerBar />));
    await waitFor(() => expect(root.querySelector('[data-testid=evidence]')!.getAttribute('data-verdict')).toBe('altered'));
    expect(root.querySelector('[data-testid=evidence]')!.textContent).toContain('✗');
    expect(root.querySelector('[data-testid=evidence]')!.getAttribute('title')).toContain('signed evidence says');
  });
});

function listen(id: number, actor: string, action: 'play' | 'download'): Listen {
  return { id, at: '2026-12-03T10:15:00Z', user_id: 4, actor, action, recording_id: 7, call_id: 5, detail: 'format original' };
}

describe('issue 12.4: who listened to my calls', () => {
  test('lists who played or downloaded which recording, and pages on', async () => {
    const cursors: unknown[] = [];
    mockIPC((cmd, args) => {
      if (cmd !== 'list_listens') return null;
      const cursor = (args as { cursor: string | null }).cursor;
      cursors.push(cursor);
      const page: ListensPage =
        cursor == null ? { items: [listen(9, 'sam', 'download'), listen(8, 'sam', 'play')], next_cursor: '8' } : { items: [listen(3, 'bob', 'play')], next_cursor: null };
      return page;
    });
    const root = await mount(withShared(shared(), <ListensView />));
    await waitFor(() => expect(root.querySelectorAll('[data-testid=listen-row]').length).toBe(2));
    const text = root.querySelector('[data-testid=listens-table]')!.textContent!;
    expect(text).toContain('sam');
    expect(text).toContain('Downloaded');
    expect(text).toContain('Played');
    expect(text).toContain('Recording 7 of call 5');
    (root.querySelector('[data-testid=listens-more]') as HTMLButtonElement).click();
    await waitFor(() => expect(root.querySelectorAll('[data-testid=listen-row]').length).toBe(3));
    expect(cursors).toEqual([null, '8']);
    expect(root.querySelector('[data-testid=listens-more]')).toBeNull();
  });

  test('nobody listened: says so', async () => {
    mockIPC(() => ({ items: [], next_cursor: null }));
    const root = await mount(withShared(shared(), <ListensView />));
    await waitFor(() => expect(root.querySelector('[data-testid=listens-empty]')).not.toBeNull());
  });
});
