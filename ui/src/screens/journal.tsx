// The journal: every call the user may see, newest first, in a virtualised list paged by the
// server's keyset cursor; filters (text, dates, direction, with recordings, user for
// supervisors); the REC badge; opening a call shows its recordings.
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { api, type CallDirection, type CallId, type JournalFilter, type JournalItem, type UserId } from '../api';
import { useShared } from '../context';
import { VirtualList } from '../components/virtual-list';
import { CallDetailPanel } from '../components/call-detail';
import { directionLabel, formatCount, formatDateTime, formatDuration, partiesLabel } from '../format';

export const ROW_HEIGHT = 52;
const PAGE = 200;

export interface Filters {
  q: string;
  from: string;
  to: string;
  direction: '' | CallDirection;
  hasRecordings: boolean;
  userId: string;
}

const EMPTY: Filters = { q: '', from: '', to: '', direction: '', hasRecordings: false, userId: '' };

/** The filters as the API takes them: local dates become the day's bounds in UTC. */
export function toApiFilter(f: Filters): JournalFilter {
  const out: JournalFilter = { limit: PAGE };
  if (f.q.trim()) out.q = f.q.trim();
  if (f.from) out.from = new Date(`${f.from}T00:00:00`).toISOString();
  if (f.to) out.to = new Date(`${f.to}T23:59:59.999`).toISOString();
  if (f.direction) out.direction = f.direction;
  if (f.hasRecordings) out.has_recordings = true;
  if (f.userId) out.user_id = Number(f.userId) as UserId;
  return out;
}

/**
 * One journal row as the list keeps it: only what the row shows, so 10,000 loaded entries
 * stay small in the window's memory (six fields, one string; the full call is fetched when a
 * row is opened).
 */
export interface Row {
  id: CallId;
  /** Epoch milliseconds (a number costs nothing more; an ISO string is one more string). */
  startedMs: number;
  direction: CallDirection;
  parties: string;
  durationMs: number | null;
  recordings: number;
}

export function toRow(i: JournalItem): Row {
  return {
    id: i.id,
    startedMs: Date.parse(i.started_at),
    direction: i.direction,
    parties: partiesLabel(i),
    durationMs: i.duration_ms ?? null,
    recordings: i.recording_count,
  };
}

/** The users seen in the journal so far, `id → name`, for the supervisor's user filter. */
export type People = ReadonlyMap<number, string>;

/** Most people the filter offers from what the journal showed. */
const MAX_PEOPLE = 500;

/** `people` with the users taking part in `items` added; the same map when none is new. */
export function addPeople(people: People, items: JournalItem[]): People {
  let out: Map<number, string> | null = null;
  for (const item of items) {
    for (const p of item.participants) {
      if (p.user_id == null || (out ?? people).has(p.user_id)) continue;
      if ((out ?? people).size >= MAX_PEOPLE) return out ?? people;
      out ??= new Map(people);
      out.set(p.user_id, p.name || p.number);
    }
  }
  return out ?? people;
}

interface Page {
  items: Row[];
  people: People;
  cursor: string | null;
  loading: boolean;
  done: boolean;
  error: string | null;
}

export function useJournal(filter: JournalFilter, report: (e: unknown) => void) {
  const [page, setPage] = useState<Page>({ items: [], people: new Map(), cursor: null, loading: true, done: false, error: null });
  const generation = useRef(0);
  const busy = useRef(false);
  const pageRef = useRef(page);
  pageRef.current = page;
  const key = JSON.stringify(filter);

  const load = async (reset: boolean) => {
    if (busy.current && !reset) return;
    const gen = reset ? ++generation.current : generation.current;
    busy.current = true;
    setPage((p) => (reset ? { items: [], people: new Map(), cursor: null, loading: true, done: false, error: null } : { ...p, loading: true }));
    try {
      const cursor = reset ? null : pageRef.current.cursor;
      const res = await api.journal({ ...filter, cursor });
      if (gen !== generation.current) return;
      const rows = res.items.map(toRow);
      setPage((p) => ({
        items: reset ? rows : p.items.concat(rows),
        people: addPeople(p.people, res.items),
        cursor: res.next_cursor ?? null,
        loading: false,
        done: !res.next_cursor,
        error: null,
      }));
    } catch (e) {
      if (gen !== generation.current) return;
      report(e);
      setPage((p) => ({ ...p, loading: false, error: 'The journal could not be loaded.' }));
    } finally {
      if (gen === generation.current) busy.current = false;
    }
  };

  useEffect(() => {
    busy.current = false;
    load(true);
  }, [key]);

  /** Brings in rows that changed or appeared since the list was loaded. */
  const refreshHead = async () => {
    try {
      const res = await api.journal({ ...filter, cursor: null, limit: 50 });
      const rows = res.items.map(toRow);
      setPage((p) => {
        const fresh = new Map(rows.map((r) => [r.id, r]));
        const items = p.items.map((r) => fresh.get(r.id) ?? r);
        const known = new Set(items.map((r) => r.id));
        const newest = items[0]?.startedMs ?? -Infinity;
        const added = rows.filter((r) => !known.has(r.id) && r.startedMs >= newest);
        return { ...p, items: [...added, ...items], people: addPeople(p.people, res.items) };
      });
    } catch (e) {
      report(e);
    }
  };

  return {
    ...page,
    loadMore: () => {
      if (!pageRef.current.done && !busy.current) load(false);
    },
    reload: () => load(true),
    refreshHead,
  };
}

export function JournalView() {
  const { session, journalChange, report } = useShared();
  const [filters, setFilters] = useState<Filters>(EMPTY);
  const [text, setText] = useState('');
  const [selected, setSelected] = useState<CallId | null>(null);
  const [users, setUsers] = useState<{ id: number; name: string }[]>([]);
  const canFilterUsers = session.user.level !== 'agent';

  // Typing waits for a pause before asking the server.
  useEffect(() => {
    const t = setTimeout(() => setFilters((f) => (f.q === text ? f : { ...f, q: text })), 300);
    return () => clearTimeout(t);
  }, [text]);

  const apiFilter = useMemo(() => toApiFilter(filters), [filters]);
  const journal = useJournal(apiFilter, report);

  // Pushed changes: refresh the head of the list (debounced: a busy PBX sends many).
  useEffect(() => {
    if (journalChange.seq === 0) return;
    const t = setTimeout(() => journal.refreshHead(), 400);
    return () => clearTimeout(t);
  }, [journalChange.seq]);

  useEffect(() => {
    if (!canFilterUsers) return;
    api.listUsers().then(
      (list) => setUsers(list.map((u) => ({ id: u.id, name: u.display_name || u.username }))),
      () => undefined,
    );
  }, [canFilterUsers]);

  // Supervisors may not list the directory: offer the people seen in the journal instead.
  const userOptions = useMemo(() => {
    if (users.length > 0) return users;
    return [...journal.people].map(([id, name]) => ({ id, name })).sort((a, b) => a.name.localeCompare(b.name));
  }, [users, journal.people]);

  const set = (patch: Partial<Filters>) => setFilters((f) => ({ ...f, ...patch }));
  const active = filters.from || filters.to || filters.direction || filters.hasRecordings || filters.userId || filters.q;

  return (
    <section class="page journal-page" data-testid="journal-view">
      <div class="journal-main">
        <div class="filters" role="search">
          <input
            class="input search"
            type="search"
            placeholder="Search names and numbers"
            value={text}
            onInput={(e) => setText((e.target as HTMLInputElement).value)}
            data-testid="journal-search"
          />
          <label class="filter">
            <span>From</span>
            <input class="input" type="date" value={filters.from} onChange={(e) => set({ from: (e.target as HTMLInputElement).value })} data-testid="journal-from" />
          </label>
          <label class="filter">
            <span>To</span>
            <input class="input" type="date" value={filters.to} onChange={(e) => set({ to: (e.target as HTMLInputElement).value })} data-testid="journal-to" />
          </label>
          <select
            class="input"
            value={filters.direction}
            onChange={(e) => set({ direction: (e.target as HTMLSelectElement).value as Filters['direction'] })}
            data-testid="journal-direction"
          >
            <option value="">All directions</option>
            <option value="incoming">Incoming</option>
            <option value="outgoing">Outgoing</option>
            <option value="internal">Internal</option>
          </select>
          {canFilterUsers && (
            <select class="input" value={filters.userId} onChange={(e) => set({ userId: (e.target as HTMLSelectElement).value })} data-testid="journal-user">
              <option value="">Everyone</option>
              {userOptions.map((u) => (
                <option key={u.id} value={String(u.id)}>
                  {u.name}
                </option>
              ))}
            </select>
          )}
          <label class="check">
            <input type="checkbox" checked={filters.hasRecordings} onChange={(e) => set({ hasRecordings: (e.target as HTMLInputElement).checked })} data-testid="journal-has-recordings" />
            With recordings
          </label>
          {active && (
            <button
              class="link"
              onClick={() => {
                setText('');
                setFilters(EMPTY);
              }}
            >
              Clear
            </button>
          )}
        </div>
        <div class="jhead" aria-hidden="true">
          <span class="jcol when">When</span>
          <span class="jcol dir">Direction</span>
          <span class="jcol parties">Parties</span>
          <span class="jcol dur">Duration</span>
          <span class="jcol rec">Recordings</span>
        </div>
        {journal.items.length === 0 && !journal.loading ? (
          <div class="empty" data-testid="journal-empty">
            <h3>{journal.error ?? (active ? 'No calls match these filters' : 'No calls yet')}</h3>
            <p class="muted">{journal.error ? 'Check the connection and try again.' : 'Calls you take part in appear here when they end.'}</p>
            {journal.error && (
              <button class="btn btn-ghost" onClick={journal.reload}>
                Try again
              </button>
            )}
          </div>
        ) : (
          <VirtualList
            key={JSON.stringify(apiFilter)}
            items={journal.items}
            rowHeight={ROW_HEIGHT}
            onNearEnd={journal.loadMore}
            testId="journal-list"
            render={(item) => <JournalRow item={item} selected={item.id === selected} onOpen={() => setSelected(item.id)} />}
          />
        )}
        <div class="jfoot" data-testid="journal-count">
          {formatCount(journal.items.length)} {journal.items.length === 1 ? 'call' : 'calls'}
          {journal.loading ? ' · loading…' : journal.done ? '' : ' · scroll for more'}
        </div>
      </div>
      {selected != null && <CallDetailPanel callId={selected} onClose={() => setSelected(null)} />}
    </section>
  );
}

export function JournalRow({ item, selected, onOpen }: { item: Row; selected: boolean; onOpen: () => void }) {
  return (
    <div
      class={selected ? 'jrow selected' : 'jrow'}
      onClick={onOpen}
      role="button"
      tabIndex={0}
      onKeyDown={(e) => e.key === 'Enter' && onOpen()}
      data-testid="journal-row"
      data-call-id={item.id}
    >
      <span class="jcol when">{formatDateTime(item.startedMs)}</span>
      <span class="jcol dir">
        <span class={`chip chip-${item.direction}`}>{directionLabel(item.direction)}</span>
      </span>
      <span class="jcol parties" title={item.parties}>
        {item.parties}
      </span>
      <span class="jcol dur">{formatDuration(item.durationMs)}</span>
      <span class="jcol rec">
        {item.recordings > 0 && (
          <span class="rec-badge" title={`${item.recordings} recording(s)`} data-testid="rec-badge">
            REC <b>{item.recordings}</b>
          </span>
        )}
      </span>
    </div>
  );
}
