import { afterEach, describe, expect, test } from 'vitest';
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { act } from 'preact/test-utils';
import { addPeople, JournalRow, JournalView, ROW_HEIGHT, toApiFilter, toRow } from '../src/screens/journal';
import { formatCount } from '../src/format';
import { VirtualList } from '../src/components/virtual-list';
import { leadToMatch, markPieces } from '../src/screens/search-match';
import { cleanup, click, journalItem, mount, settle, shared, type, waitFor, withShared } from './helpers';

afterEach(async () => {
  await cleanup();
  clearMocks();
});

describe('the journal', () => {
  test('a search row shows why it matched: the field and the snippet, the searched words marked', async () => {
    const said = { field: 'transcript' as const, snippet: 'Caller: …I would like to Cancel my subscription, cancel it…' };
    const row = toRow({ ...journalItem(1, 1), matched: said });
    expect(row.matched).toEqual(said);
    const root = await mount(
      <div>
        <JournalRow item={row} selected={false} query=" cancel " onOpen={() => undefined} />
        <JournalRow item={toRow(journalItem(2, 0))} selected={false} query="cancel" onOpen={() => undefined} />
      </div>,
    );
    const lines = root.querySelectorAll('[data-testid=journal-match]');
    expect(lines).toHaveLength(1);
    expect(lines[0].getAttribute('data-field')).toBe('transcript');
    expect(lines[0].textContent).toBe('Said Caller: …I would like to Cancel my subscription, cancel it…');
    expect([...lines[0].querySelectorAll('mark')].map((m) => m.textContent)).toEqual(['Cancel', 'cancel']);
    // The parties stay on their line above it.
    const rows = root.querySelectorAll('[data-testid=journal-row]');
    expect(rows[0].querySelector('.parties-text')?.textContent).toBe('Customer (+491) → Alice (201)');
    expect(rows[1].querySelector('.jcol.parties')?.textContent).toBe('Customer (+492) → Alice (201)');
  });

  test('a name or number match says which, and marks what was typed', async () => {
    const root = await mount(
      <JournalRow item={toRow({ ...journalItem(3, 0), matched: { field: 'number', snippet: '+49 (30) 123-456' } })} selected={false} query="(30)" onOpen={() => undefined} />,
    );
    const line = root.querySelector('[data-testid=journal-match]')!;
    expect(line.textContent).toBe('Number +49 (30) 123-456');
    expect(line.querySelector('mark')?.textContent).toBe('(30)');
  });

  test('a transcript snippet leads with the match, so a narrow row shows it', () => {
    const said = 'Caller: …charged me twice for the same month, I would like a refund.';
    expect(leadToMatch(said, 'REFUND')).toBe('Caller: …I would like a refund.');
    expect(leadToMatch(said, 'twice'), 'near the start already').toBe(said);
    expect(leadToMatch(said, 'cancel'), 'not in it').toBe(said);
    expect(leadToMatch('Agent (Alice): we will refund it today', 'refund')).toBe('Agent (Alice): we will refund it today');
    expect(leadToMatch('Agent (Alice): thank you for waiting, yes so we will refund it', 'refund')).toBe('Agent (Alice): …yes so we will refund it');
  });

  test('marking: every place, any case, regex characters literal, nothing without a search', () => {
    expect(markPieces('Cancel or cancel', 'CANCEL')).toEqual([
      { text: 'Cancel', mark: true },
      { text: ' or ', mark: false },
      { text: 'cancel', mark: true },
    ]);
    expect(markPieces('a.b*c', '.b*')).toEqual([
      { text: 'a', mark: false },
      { text: '.b*', mark: true },
      { text: 'c', mark: false },
    ]);
    expect(markPieces('nothing here', 'refund')).toEqual([{ text: 'nothing here', mark: false }]);
    expect(markPieces('text', '  ')).toEqual([{ text: 'text', mark: false }]);
  });

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

  test('a row keeps only what the list shows: eight fields, the start as epoch milliseconds', () => {
    const item = journalItem(7, 2);
    const row = toRow(item);
    expect(row).toEqual({
      id: 7,
      startedMs: Date.parse(item.started_at),
      direction: 'incoming',
      parties: 'Customer (+497) → Alice (201)',
      durationMs: 95_000,
      recordings: 2,
      consent: 'unknown',
      score: null,
    });
    expect(toRow({ ...item, consent: { state: 'refused', by: 'Alice' } }).consent).toBe('refused');
    expect(toRow({ ...item, score: 41.67 }).score).toBe(41.67);
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
    const f = toApiFilter({ q: '  anna ', from: '2024-05-01', to: '2024-05-02', direction: 'incoming', hasRecordings: true, userId: '4', reviewed: 'yes' });
    expect(f.q).toBe('anna');
    expect(new Date(f.from!).getDate()).toBe(1);
    expect(new Date(f.to!).getHours()).toBe(23);
    expect(f.direction).toBe('incoming');
    expect(f.has_recordings).toBe(true);
    expect(f.user_id).toBe(4);
    expect(f.reviewed).toBe(true);
    expect(toApiFilter({ q: '', from: '', to: '', direction: '', hasRecordings: false, userId: '', reviewed: 'no' }).reviewed).toBe(false);
    expect(toApiFilter({ q: '', from: '', to: '', direction: '', hasRecordings: false, userId: '', reviewed: '' })).toEqual({ limit: 200 });
  });

  test('pages follow next_cursor as the list scrolls, and the search reaches the server', async () => {
    const asked: { cursor?: string | null; q?: string }[] = [];
    mockIPC((cmd, args) => {
      if (cmd === 'my_team') return [];
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

import { parseDay } from '../src/screens/journal';
import { session } from './helpers';

function keydown(el: Element, key: string) {
  el.dispatchEvent(new KeyboardEvent('keydown', { key, bubbles: true, cancelable: true }));
}

describe('issue 17: the journal in daily use', () => {
  const page = (ids: number[]) => ({ items: ids.map((id) => journalItem(id, id % 2)), next_cursor: null });

  test('↑/↓ move the selection, open the call and keep focus and the row in view; Home/End go to the ends', async () => {
    const opened: number[] = [];
    mockIPC((cmd, args) => {
      if (cmd === 'journal') return page(Array.from({ length: 100 }, (_, i) => i + 1));
      if (cmd === 'get_call') {
        const id = (args as { callId: number }).callId;
        opened.push(id);
        return { ...journalItem(id), recordings: [], trace: [], recording: { kind: 'not_recording' }, can_toggle: false };
      }
      return [];
    });
    const root = await mount(withShared(shared(), <JournalView />));
    await waitFor(() => expect(root.querySelector('[data-testid=journal-row]')).not.toBeNull());
    const first = root.querySelector('[data-testid=journal-row]') as HTMLElement;
    first.focus();
    await act(() => keydown(first, 'ArrowDown'));
    await settle(5);
    expect(root.querySelector('.jrow.selected')!.getAttribute('data-call-id')).toBe('1');
    await act(() => keydown(document.activeElement!, 'ArrowDown'));
    await settle(5);
    expect(root.querySelector('.jrow.selected')!.getAttribute('data-call-id')).toBe('2');
    expect(document.activeElement!.getAttribute('data-call-id'), 'focus follows the selection').toBe('2');
    await waitFor(() => expect(opened).toContain(2));
    await act(() => keydown(document.activeElement!, 'ArrowUp'));
    await settle(5);
    expect(root.querySelector('.jrow.selected')!.getAttribute('data-call-id')).toBe('1');

    await act(() => keydown(document.activeElement!, 'End'));
    await settle(30);
    const list = root.querySelector('[data-testid=journal-list]') as HTMLElement;
    expect(list.scrollTop, 'the last row is scrolled into view').toBeGreaterThan(90 * ROW_HEIGHT - 1000);
    await waitFor(() => expect(document.activeElement!.getAttribute('data-call-id')).toBe('100'));
    await act(() => keydown(document.activeElement!, 'Home'));
    await settle(30);
    expect(list.scrollTop).toBe(0);
    await waitFor(() => expect(document.activeElement!.getAttribute('data-call-id')).toBe('1'));
  });

  test('new calls wait behind a bar while the pointer is over the list; "show" puts them on top', async () => {
    let ids = [10, 11, 12];
    mockIPC((cmd) => (cmd === 'journal' ? page(ids) : []));
    let change = { seq: 0, callId: null as number | null };
    const view = () => withShared(shared({ journalChange: change }), <JournalView />);
    const root = await mount(view());
    await waitFor(() => expect(root.querySelectorAll('[data-testid=journal-row]')).toHaveLength(3));
    const firstBefore = root.querySelector('[data-testid=journal-row]')!.getAttribute('data-call-id');
    const jlist = root.querySelector('.jlist')!;
    await act(() => {
      jlist.dispatchEvent(new Event('mouseenter'));
    });

    ids = [8, 9, 10, 11, 12];
    change = { seq: 1, callId: 9 };
    const { render } = await import('preact');
    await act(() => render(view(), root));
    await settle(450);
    await waitFor(() => expect(root.querySelector('[data-testid=journal-new]')).not.toBeNull());
    expect(root.querySelector('[data-testid=journal-new]')!.textContent).toBe('2 new calls — show');
    expect(root.querySelector('[data-testid=journal-row]')!.getAttribute('data-call-id'), 'the rows stay where they were').toBe(firstBefore);
    expect(root.querySelectorAll('[data-testid=journal-row]')).toHaveLength(3);

    await click(root.querySelector('[data-testid=journal-new]'));
    expect(root.querySelector('[data-testid=journal-new]')).toBeNull();
    expect([...root.querySelectorAll('[data-testid=journal-row]')].map((r) => r.getAttribute('data-call-id'))).toEqual(['8', '9', '10', '11', '12']);
  });

  test('not hovered and at the top, new calls go straight in', async () => {
    let ids = [10, 11];
    mockIPC((cmd) => (cmd === 'journal' ? page(ids) : []));
    let change = { seq: 0, callId: null as number | null };
    const view = () => withShared(shared({ journalChange: change }), <JournalView />);
    const root = await mount(view());
    await waitFor(() => expect(root.querySelectorAll('[data-testid=journal-row]')).toHaveLength(2));
    ids = [9, 10, 11];
    change = { seq: 1, callId: 9 };
    const { render } = await import('preact');
    await act(() => render(view(), root));
    await settle(450);
    await waitFor(() => expect(root.querySelectorAll('[data-testid=journal-row]')).toHaveLength(3));
    expect(root.querySelector('[data-testid=journal-new]')).toBeNull();
  });

  test('dates are typed: YYYY-MM-DD, 2026-12-2 or 2.12.2026; anything else is marked and not applied', async () => {
    expect(parseDay('2026-12-02')).toBe('2026-12-02');
    expect(parseDay('2026-12-2')).toBe('2026-12-02');
    expect(parseDay(' 2.12.2026 ')).toBe('2026-12-02');
    expect(parseDay('')).toBe('');
    expect(parseDay('2026-02-30')).toBeNull();
    expect(parseDay('12/02/2026')).toBeNull();
    expect(parseDay('2026-13-01')).toBeNull();

    const asked: { from?: string | null }[] = [];
    mockIPC((cmd, args) => {
      if (cmd === 'journal') asked.push((args as { filter: { from?: string | null } }).filter);
      return cmd === 'journal' ? page([1]) : [];
    });
    const root = await mount(withShared(shared(), <JournalView />));
    await waitFor(() => expect(asked).toHaveLength(1));
    const from = root.querySelector('[data-testid=journal-from]') as HTMLInputElement;
    expect(from.type).toBe('text');
    expect(from.placeholder).toBe('YYYY-MM-DD');
    expect(from.value, 'empty, not a grey date that looks like a filter').toBe('');
    await type(from, '2026-12-');
    await settle(5);
    expect(from.className).toContain('invalid');
    expect(from.title).toContain('YYYY-MM-DD');
    expect(asked, 'an unfinished date is not applied').toHaveLength(1);
    await type(from, '2.12.2026');
    await waitFor(() => expect(asked).toHaveLength(2));
    expect(new Date(asked[1].from!).getDate()).toBe(2);
    expect(from.className).not.toContain('invalid');
    await click(root.querySelector('[data-testid=journal-from-clear]'));
    await waitFor(() => expect(asked).toHaveLength(3));
    expect(asked[2].from).toBeUndefined();
    expect(from.value).toBe('');
  });

  test('a failed load says so below the list too, never "0 calls · scroll for more"', async () => {
    mockIPC((cmd) => {
      if (cmd === 'journal') throw { code: 'failed', message: 'boom' };
      return [];
    });
    const root = await mount(withShared(shared(), <JournalView />));
    await waitFor(() => expect(root.querySelector('[data-testid=journal-empty]')).not.toBeNull());
    const foot = root.querySelector('[data-testid=journal-count]')!.textContent!;
    expect(foot).not.toContain('scroll for more');
    expect(foot).toContain('could not be loaded');
  });

  test('the empty journal speaks to the level; badges count properly', async () => {
    mockIPC((cmd) => (cmd === 'journal' ? { items: [], next_cursor: null } : []));
    const admin = { ...session, user: { ...session.user, level: 'admin' as const } };
    let root = await mount(withShared(shared({ session: admin }), <JournalView />));
    await waitFor(() => expect(root.querySelector('[data-testid=journal-empty]')).not.toBeNull());
    expect(root.textContent).toContain('Calls appear here when they end.');
    expect(root.textContent).not.toContain('you take part in');
    await cleanup();
    root = await mount(withShared(shared(), <JournalView />));
    await waitFor(() => expect(root.querySelector('[data-testid=journal-empty]')).not.toBeNull());
    expect(root.textContent).toContain('Calls you take part in appear here');
    await cleanup();
    root = await mount(
      <div>
        <JournalRow item={toRow(journalItem(1, 3))} selected={false} onOpen={() => undefined} />
        <JournalRow item={toRow(journalItem(2, 1))} selected={false} onOpen={() => undefined} />
      </div>,
    );
    const badges = root.querySelectorAll('[data-testid=rec-badge]');
    expect(badges[0].getAttribute('title')).toBe('3 recordings');
    expect(badges[1].getAttribute('title')).toBe('1 recording');
  });
});
