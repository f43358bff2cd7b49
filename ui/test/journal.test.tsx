import { afterEach, describe, expect, test } from 'vitest';
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { act } from 'preact/test-utils';
import { addPeople, JournalRow, JournalView, ROW_HEIGHT, toApiFilter, toRow } from '../src/screens/journal';
import { formatCount } from '../src/format';
import { VirtualList } from '../src/components/virtual-list';
import { cleanup, click, journalItem, mount, settle, shared, type, waitFor, withShared } from './helpers';

afterEach(async () => {
  await cleanup();
  clearMocks();
});

describe('the journal', () => {
  test('the REC badge shows the number of recordings, and only when there are some', async () => {
    const root = await mount(
      <div>
        <JournalRow item={toRow(journalItem(1, 3))} selected={false} onOpen={() => undefined} />
        <JournalRow item={toRow(journalItem(2, 0))} selected={false} onOpen={() => undefined} />
      </div>,
    );
    const badges = root.querySelectorAll('[data-testid=rec-badge]');
    expect(badges).toHaveLength(1);
    expect(badges[0].textContent).toBe('REC 3');
  });

  test('a row keeps only what the list shows: six fields, the start as epoch milliseconds', () => {
    const item = journalItem(7, 2);
    const row = toRow(item);
    expect(row).toEqual({
      id: 7,
      startedMs: Date.parse(item.started_at),
      direction: 'incoming',
      parties: 'Customer (+497) → Alice (201)',
      durationMs: 95_000,
      recordings: 2,
    });
  });

  test('the people seen in the journal are gathered once per page, not kept per row', () => {
    const none = new Map<number, string>();
    const seen = addPeople(none, [journalItem(1), journalItem(2)]);
    expect([...seen]).toEqual([[1, 'Alice']]);
    // Nobody new: the same map, so the user filter is not rebuilt.
    expect(addPeople(seen, [journalItem(3)])).toBe(seen);
    const bob = { ...journalItem(4), participants: [{ name: '', number: '202', user_id: 2, role: 'callee' as const }] };
    expect([...addPeople(seen, [bob])]).toEqual([
      [1, 'Alice'],
      [2, '202'],
    ]);
  });

  test('counts read with thousands separators', () => {
    expect(formatCount(0)).toBe('0');
    expect(formatCount(999)).toBe('999');
    expect(formatCount(10_000)).toBe('10,000');
    expect(formatCount(1_234_567)).toBe('1,234,567');
  });

  test('100,000 entries put only the visible rows in the DOM', async () => {
    const items = Array.from({ length: 100_000 }, (_, i) => i);
    const root = await mount(
      <div style={{ height: '600px' }}>
        <VirtualList items={items} rowHeight={ROW_HEIGHT} render={(i) => <span class="cell">{i}</span>} />
      </div>,
    );
    const rows = root.querySelectorAll('.cell');
    expect(rows.length).toBeGreaterThan(5);
    expect(rows.length).toBeLessThan(60);
    const inner = root.querySelector('.vlist-inner') as HTMLElement;
    expect(inner.style.height).toBe(`${100_000 * ROW_HEIGHT}px`);

    const list = root.querySelector('.vlist') as HTMLElement;
    await act(() => {
      list.scrollTop = 50_000 * ROW_HEIGHT;
      list.dispatchEvent(new Event('scroll'));
    });
    await settle(30);
    const shown = [...root.querySelectorAll('.cell')].map((c) => Number(c.textContent));
    expect(shown).toContain(50_000);
    expect(shown.length).toBeLessThan(60);
  });

  test('filters become API filters: dates as day bounds, blank fields left out', () => {
    const f = toApiFilter({ q: '  anna ', from: '2024-05-01', to: '2024-05-02', direction: 'incoming', hasRecordings: true, userId: '4' });
    expect(f.q).toBe('anna');
    expect(new Date(f.from!).getDate()).toBe(1);
    expect(new Date(f.to!).getHours()).toBe(23);
    expect(f.direction).toBe('incoming');
    expect(f.has_recordings).toBe(true);
    expect(f.user_id).toBe(4);
    expect(toApiFilter({ q: '', from: '', to: '', direction: '', hasRecordings: false, userId: '' })).toEqual({ limit: 200 });
  });

  test('pages follow next_cursor as the list scrolls, and the search reaches the server', async () => {
    const asked: { cursor?: string | null; q?: string }[] = [];
    mockIPC((cmd, args) => {
      if (cmd === 'list_users') return [];
      if (cmd !== 'journal') return null;
      const filter = (args as { filter: { cursor?: string | null; q?: string } }).filter;
      asked.push(filter);
      const page = filter.cursor ? Number(filter.cursor) : 0;
      const items = Array.from({ length: 200 }, (_, i) => journalItem(page * 200 + i + 1, i % 3));
      return { items, next_cursor: page < 2 ? String(page + 1) : null };
    });
    const root = await mount(withShared(shared(), <JournalView />));
    await waitFor(() => expect(root.querySelector('[data-testid=journal-count]')!.textContent).toContain('200 calls'));
    expect(asked[0].cursor).toBeNull();
    expect(root.querySelector('[data-testid=journal-count]')!.textContent).toContain('200 calls');
    const list = root.querySelector('[data-testid=journal-list]') as HTMLElement;
    await act(() => {
      list.scrollTop = 190 * ROW_HEIGHT;
      list.dispatchEvent(new Event('scroll'));
    });
    await waitFor(() => expect(asked.map((a) => a.cursor)).toContain('1'));
    await waitFor(() => expect(root.querySelector('[data-testid=journal-count]')!.textContent).toContain('400 calls'));

    await type(root.querySelector('[data-testid=journal-search]'), 'anna');
    await settle(350);
    await settle(10);
    expect(asked[asked.length - 1].q).toBe('anna');
    expect(asked[asked.length - 1].cursor).toBeNull();
  });

  test('opening a call lists its recordings with seq, start, duration, size and trigger', async () => {
    mockIPC((cmd) => {
      if (cmd === 'journal') return { items: [journalItem(5, 2)], next_cursor: null };
      if (cmd === 'get_call') {
        const rec = (seq: number) => ({
          id: 10 + seq,
          call_id: 5,
          seq,
          file_name: `k5_00${seq}.wav`,
          started_at: '2024-05-01T08:01:00Z',
          start_offset_ms: 60_000,
          duration_ms: 42_000,
          bytes: 672_058,
          codec: 'pcmu',
          sample_rate: 8000,
          channels: 2,
          sha256: 'ab',
          trigger: seq === 1 ? { kind: 'manual', user_id: 1, via: 'client' } : { kind: 'auto', rule_id: 3 },
          state: 'complete',
          legal_hold: false,
          dispatch: [],
        });
        return { ...journalItem(5, 2), recordings: [rec(1), rec(2)], trace: [], recording: { kind: 'not_recording' }, can_toggle: false };
      }
      return [];
    });
    const root = await mount(withShared(shared(), <JournalView />));
    await waitFor(() => expect(root.querySelector('[data-testid=journal-row]')).not.toBeNull());
    await click(root.querySelector('[data-testid=journal-row]'));
    await waitFor(() => expect(root.querySelectorAll('[data-testid=recording]')).toHaveLength(2));
    const recs = root.querySelectorAll('[data-testid=recording]');
    expect(recs[0].textContent).toContain('Recording 001');
    expect(recs[0].textContent).toContain('0:42');
    expect(recs[0].textContent).toContain('656.3 KB');
    expect(recs[0].textContent).toContain('+1:00 into the call');
    expect(recs[0].textContent).toContain('Manual by Alice (app)');
    expect(recs[1].textContent, 'issue 17: never "rule 3"').toContain('Automatic (a recording rule)');
  });
});
