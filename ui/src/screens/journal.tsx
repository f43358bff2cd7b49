// The journal: every call the user may see, newest first, in a virtualised list paged by the
// server's keyset cursor; filters (text, dates, direction, with recordings, user for
// supervisors, reviewed or not); the REC badge and the review score; on a search, why each call
// matched (a snippet under its parties, `search-match.tsx`); opening a call shows its
// recordings and reviews.
// Keys: ↑/↓ move the selection (and open the call, like a click), Home/End go to the ends,
// Enter opens; focus stays on the rows. New calls never push the list under the pointer: while
// it is scrolled away from the top or the pointer is over it, they wait behind a "N new calls"
// bar (issue #17).
// "Shared with me" (issue #15.5), beside "All calls": the recordings shared with the user for
// training (`shared.tsx`), opened in the same call panel.
import type { ComponentChildren } from 'preact';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { api, type CallDirection, type CallId, type ConsentState, type JournalFilter, type JournalItem, type SearchMatch, type UserId } from '../api';
import { useShared } from '../context';
import { VirtualList } from '../components/virtual-list';
import { CallDetailPanel } from '../components/call-detail';
import { SharedWithMe } from './shared';
import { SearchMatchLine } from './search-match';
import { ConsentBadge } from '../components/consent';
import { ReviewedFilter, ScoreCell, reviewedParam, type ReviewedChoice } from '../components/scores';
import { directionLabel, formatDateTime, formatDuration, pad2, partiesLabel, plural } from '../format';

export const ROW_HEIGHT = 52;
const PAGE = 200;

export interface Filters {
  q: string;
  from: string;
  to: string;
  direction: '' | CallDirection;
  hasRecordings: boolean;
  userId: string;
  reviewed: ReviewedChoice;
}

const EMPTY: Filters = { q: '', from: '', to: '', direction: '', hasRecordings: false, userId: '', reviewed: '' };

/**
 * A typed day as `YYYY-MM-DD`: `2026-12-02`, `2026-12-2` or `2.12.2026` (day first); `''` for
 * nothing typed; `null` when it is not a date of the calendar.
 */
export function parseDay(text: string): string | null {
  const t = text.trim();
  if (!t) return '';
  let y: number, m: number, d: number;
  let match = /^(\d{4})-(\d{1,2})-(\d{1,2})$/.exec(t);
  if (match) [y, m, d] = [Number(match[1]), Number(match[2]), Number(match[3])];
  else if ((match = /^(\d{1,2})\.(\d{1,2})\.(\d{4})$/.exec(t))) [d, m, y] = [Number(match[1]), Number(match[2]), Number(match[3])];
  else return null;
  const date = new Date(y, m - 1, d);
  if (date.getFullYear() !== y || date.getMonth() !== m - 1 || date.getDate() !== d) return null;
  return `${y}-${pad2(m)}-${pad2(d)}`;
}

/** The filters as the API takes them: local dates become the day's bounds in UTC. */
export function toApiFilter(f: Filters): JournalFilter {
  const out: JournalFilter = { limit: PAGE };
  if (f.q.trim()) out.q = f.q.trim();
  if (f.from) out.from = new Date(`${f.from}T00:00:00`).toISOString();
  if (f.to) out.to = new Date(`${f.to}T23:59:59.999`).toISOString();
  if (f.direction) out.direction = f.direction;
  if (f.hasRecordings) out.has_recordings = true;
  if (f.userId) out.user_id = Number(f.userId) as UserId;
  const reviewed = reviewedParam(f.reviewed);
  if (reviewed !== undefined) out.reviewed = reviewed;
  return out;
}

/**
 * One journal row as the list keeps it: only what the row shows, so 10,000 loaded entries
 * stay small in the window's memory (eight fields, one string and one of the four consent
 * words; the full call is fetched when a row is opened).
 */
export interface Row {
  id: CallId;
  /** Epoch milliseconds (a number costs nothing more; an ISO string is one more string). */
  startedMs: number;
  direction: CallDirection;
  parties: string;
  durationMs: number | null;
  recordings: number;
  consent: ConsentState;
  /** The average review score, `null` when nobody reviewed the call. */
  score: number | null;
  /** Why a search matched the call (issue #16); only on a search's rows. */
  matched?: SearchMatch;
}

/**
 * The direction and consent words as one shared string each: a row points at these rather
 * than at its own copy of the word parsed from the page's JSON (10,000 rows, 20,000 strings).
 */
const DIRECTIONS: Readonly<Record<CallDirection, CallDirection>> = { incoming: 'incoming', outgoing: 'outgoing', internal: 'internal' };
const CONSENTS: Readonly<Record<ConsentState, ConsentState>> = { unknown: 'unknown', announced: 'announced', granted: 'granted', refused: 'refused' };

export function toRow(i: JournalItem): Row {
  return {
    id: i.id,
    startedMs: Date.parse(i.started_at),
    direction: DIRECTIONS[i.direction] ?? i.direction,
    parties: partiesLabel(i),
    durationMs: i.duration_ms ?? null,
    recordings: i.recording_count,
    consent: CONSENTS[i.consent?.state ?? 'unknown'] ?? 'unknown',
    score: i.score ?? null,
    ...(i.matched ? { matched: i.matched } : {}),
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
  /** New rows held back (the list is scrolled or under the pointer), newest first. */
  pending: Row[];
  people: People;
  cursor: string | null;
  loading: boolean;
  done: boolean;
  error: string | null;
}

export function useJournal(filter: JournalFilter, report: (e: unknown) => void) {
  const [page, setPage] = useState<Page>({ items: [], pending: [], people: new Map(), cursor: null, loading: true, done: false, error: null });
  const generation = useRef(0);
  const busy = useRef(false);
  const pageRef = useRef(page);
  pageRef.current = page;
  const key = JSON.stringify(filter);

  const load = async (reset: boolean) => {
    if (busy.current && !reset) return;
    const gen = reset ? ++generation.current : generation.current;
    busy.current = true;
    setPage((p) => (reset ? { items: [], pending: [], people: new Map(), cursor: null, loading: true, done: false, error: null } : { ...p, loading: true, error: null }));
    try {
      const cursor = reset ? null : pageRef.current.cursor;
      const res = await api.journal({ ...filter, cursor });
      if (gen !== generation.current) return;
      const rows = res.items.map(toRow);
      setPage((p) => ({
        items: reset ? rows : p.items.concat(rows),
        pending: reset ? [] : p.pending,
        people: addPeople(p.people, res.items),
        cursor: res.next_cursor ?? null,
        loading: false,
        done: !res.next_cursor,
        error: null,
      }));
    } catch (e) {
      if (gen !== generation.current) return;
      report(e);
      setPage((p) => ({ ...p, loading: false, error: p.items.length > 0 ? 'More calls could not be loaded.' : 'The journal could not be loaded.' }));
    } finally {
      if (gen === generation.current) busy.current = false;
    }
  };

  useEffect(() => {
    busy.current = false;
    load(true);
  }, [key]);

  /**
   * Brings in rows that changed or appeared since the list was loaded. Changed rows update in
   * place; new ones go on top, or wait in `pending` while `hold()` says the list is in use.
   */
  const refreshHead = async (hold: () => boolean = () => false) => {
    try {
      const res = await api.journal({ ...filter, cursor: null, limit: 50 });
      const rows = res.items.map(toRow);
      const holding = hold();
      setPage((p) => {
        const fresh = new Map(rows.map((r) => [r.id, r]));
        const items = p.items.map((r) => fresh.get(r.id) ?? r);
        const pending = p.pending.map((r) => fresh.get(r.id) ?? r);
        const known = new Set(items.map((r) => r.id));
        for (const r of pending) known.add(r.id);
        const newest = pending[0]?.startedMs ?? items[0]?.startedMs ?? -Infinity;
        const added = rows.filter((r) => !known.has(r.id) && r.startedMs >= newest);
        const people = addPeople(p.people, res.items);
        if (holding) return { ...p, items, pending: [...added, ...pending], people };
        return { ...p, items: [...added, ...pending, ...items], pending: [], people };
      });
    } catch (e) {
      report(e);
    }
  };

  /** Puts the held-back rows on top. */
  const showPending = () => setPage((p) => (p.pending.length ? { ...p, items: [...p.pending, ...p.items], pending: [] } : p));

  return {
    ...page,
    loadMore: () => {
      // Not while the first page is on its way (the list asks as soon as it mounts).
      if (!pageRef.current.done && !pageRef.current.loading && !busy.current) load(false);
    },
    reload: () => load(true),
    refreshHead,
    showPending,
  };
}

export function JournalView() {
  const [mode, setMode] = useState<'all' | 'shared'>('all');
  const [sharedOpen, setSharedOpen] = useState<CallId | null>(null);
  const modes = (
    <div class="journal-modes" role="group" aria-label="Which calls">
      <button type="button" aria-pressed={mode === 'all'} onClick={() => setMode('all')} data-testid="journal-mode-all">
        All calls
      </button>
      <button type="button" aria-pressed={mode === 'shared'} onClick={() => setMode('shared')} data-testid="journal-mode-shared">
        Shared with me
      </button>
    </div>
  );
  if (mode === 'shared') {
    return (
      <section class={sharedOpen != null ? 'page journal-page has-detail' : 'page journal-page'} data-testid="journal-view">
        <SharedWithMe selected={sharedOpen} onOpen={setSharedOpen} onGone={() => setSharedOpen(null)} modes={modes} />
        {sharedOpen != null && <CallDetailPanel callId={sharedOpen} onClose={() => setSharedOpen(null)} />}
      </section>
    );
  }
  return <AllCalls modes={modes} />;
}

function AllCalls({ modes }: { modes: ComponentChildren }) {
  const { session, journalChange, report } = useShared();
  const [filters, setFilters] = useState<Filters>(EMPTY);
  const [text, setText] = useState('');
  const [selected, setSelected] = useState<CallId | null>(null);
  const [users, setUsers] = useState<{ id: number; name: string }[]>([]);
  const [reveal, setReveal] = useState<{ index: number; seq: number; align?: 'top' | 'nearest' } | null>(null);
  /** The row the keyboard moved to: it takes focus once rendered. */
  const [keyFocus, setKeyFocus] = useState<CallId | null>(null);
  const canFilterUsers = session.user.level !== 'agent';
  const scrolledAway = useRef(false);
  const hovered = useRef(false);

  // Typing waits for a pause before asking the server.
  useEffect(() => {
    const t = setTimeout(() => setFilters((f) => (f.q === text ? f : { ...f, q: text })), 300);
    return () => clearTimeout(t);
  }, [text]);

  const apiFilter = useMemo(() => toApiFilter(filters), [filters]);
  const journal = useJournal(apiFilter, report);
  useEffect(() => {
    scrolledAway.current = false;
    setReveal(null);
  }, [JSON.stringify(apiFilter)]);

  // Pushed changes: refresh the head of the list (debounced: a busy PBX sends many). New rows
  // wait while the list is in use, so the row under the pointer never moves.
  useEffect(() => {
    if (journalChange.seq === 0) return;
    const t = setTimeout(() => journal.refreshHead(() => scrolledAway.current || hovered.current), 400);
    return () => clearTimeout(t);
  }, [journalChange.seq]);

  useEffect(() => {
    if (!canFilterUsers) return;
    // The people in my scope: everybody for an admin, a supervisor's teams' members.
    api.myTeam().then(
      (list) => setUsers(list.map((u) => ({ id: u.id, name: u.display_name || u.username }))),
      () => undefined,
    );
  }, [canFilterUsers]);

  // Until the team has arrived (or if it could not be read): the people seen in the journal.
  const userOptions = useMemo(() => {
    if (users.length > 0) return users;
    return [...journal.people].map(([id, name]) => ({ id, name })).sort((a, b) => a.name.localeCompare(b.name));
  }, [users, journal.people]);

  const set = (patch: Partial<Filters>) => setFilters((f) => ({ ...f, ...patch }));
  const active = filters.from || filters.to || filters.direction || filters.hasRecordings || filters.userId || filters.reviewed || filters.q;

  const moveTo = (index: number) => {
    const items = journal.items;
    if (items.length === 0) return;
    const i = Math.max(0, Math.min(items.length - 1, index));
    setSelected(items[i].id);
    setKeyFocus(items[i].id);
    setReveal((r) => ({ index: i, seq: (r?.seq ?? 0) + 1 }));
  };

  const onListKey = (e: KeyboardEvent) => {
    if (e.altKey || e.ctrlKey || e.metaKey) return;
    const current = selected == null ? -1 : journal.items.findIndex((r) => r.id === selected);
    const page = Math.max(1, Math.floor(((e.currentTarget as HTMLElement | null)?.clientHeight || 520) / ROW_HEIGHT) - 1);
    const to: Record<string, number> = {
      ArrowDown: current + 1,
      ArrowUp: current < 0 ? 0 : current - 1,
      Home: 0,
      End: journal.items.length - 1,
      PageDown: current + page,
      PageUp: Math.max(0, current - page),
    };
    if (!(e.key in to)) return;
    e.preventDefault();
    moveTo(to[e.key]);
  };

  const showNew = () => {
    journal.showPending();
    scrolledAway.current = false;
    setReveal((r) => ({ index: 0, seq: (r?.seq ?? 0) + 1, align: 'top' }));
  };

  const seesAll = session.user.level !== 'agent';
  return (
    <section class={selected != null ? 'page journal-page has-detail' : 'page journal-page'} data-testid="journal-view">
      <div class="journal-main">
        <div class="filters" role="search">
          {modes}
          <input
            class="input search"
            type="search"
            placeholder="Search names and numbers"
            value={text}
            onInput={(e) => setText((e.target as HTMLInputElement).value)}
            data-testid="journal-search"
          />
          <DateField label="From" value={filters.from} onChange={(from) => set({ from })} testId="journal-from" />
          <DateField label="To" value={filters.to} onChange={(to) => set({ to })} testId="journal-to" />
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
          <ReviewedFilter value={filters.reviewed} onChange={(reviewed) => set({ reviewed })} />
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
          <span class="jcol dur">
            <span class="label-full">Duration</span>
            <span class="label-short">Length</span>
          </span>
          <span class="jcol rec">
            <span class="label-full">Recordings</span>
            <span class="label-short">Rec</span>
          </span>
          <span class="jcol score">Score</span>
        </div>
        {journal.items.length === 0 && !journal.loading ? (
          <div class="empty" data-testid="journal-empty">
            <h3>{journal.error ?? (active ? 'No calls match these filters' : 'No calls yet')}</h3>
            <p class="muted">
              {journal.error
                ? 'Check the connection and try again.'
                : seesAll
                  ? 'Calls appear here when they end.'
                  : 'Calls you take part in appear here when they end.'}
            </p>
            {journal.error && (
              <button class="btn btn-ghost" onClick={journal.reload}>
                Try again
              </button>
            )}
          </div>
        ) : (
          <div
            class="jlist"
            onMouseEnter={() => (hovered.current = true)}
            onMouseLeave={() => (hovered.current = false)}
          >
            {journal.pending.length > 0 && (
              <button class="jnew" onClick={showNew} data-testid="journal-new">
                {plural(journal.pending.length, 'new call')} — show
              </button>
            )}
            <VirtualList
              key={JSON.stringify(apiFilter)}
              items={journal.items}
              rowHeight={ROW_HEIGHT}
              onNearEnd={journal.loadMore}
              testId="journal-list"
              reveal={reveal}
              onScrollChange={(top) => (scrolledAway.current = top > 0)}
              onKeyDown={onListKey}
              render={(item) => (
                <JournalRow
                  item={item}
                  selected={item.id === selected}
                  focused={item.id === keyFocus}
                  query={filters.q}
                  onOpen={() => {
                    setSelected(item.id);
                    setKeyFocus(null);
                  }}
                />
              )}
            />
          </div>
        )}
        <div class="jfoot" data-testid="journal-count">
          {journal.error && journal.items.length === 0 ? (
            <span class="error-text">{journal.error}</span>
          ) : (
            <>
              {plural(journal.items.length, 'call')}
              {journal.loading ? ' · loading…' : journal.error ? '' : journal.done ? '' : ' · scroll for more'}
              {journal.error && (
                <>
                  {' · '}
                  <span class="error-text">{journal.error}</span>{' '}
                  <button class="link" onClick={journal.loadMore}>
                    Try again
                  </button>
                </>
              )}
            </>
          )}
        </div>
      </div>
      {selected != null && <CallDetailPanel callId={selected} onClose={() => setSelected(null)} />}
    </section>
  );
}

/**
 * A date filter typed as text (WebKitGTK's date input takes no typing and shows a grey US date
 * when empty): `YYYY-MM-DD`, also `2026-12-2` or `2.12.2026`. A date that is not one is marked
 * and not applied; × clears it.
 */
export function DateField(props: { label: string; value: string; onChange: (day: string) => void; testId: string }) {
  const [text, setText] = useState(props.value);
  // A reset from outside (Clear) shows here; a valid typed form of the same day stays as typed.
  useEffect(() => {
    if (parseDay(text) !== props.value) setText(props.value);
  }, [props.value]);
  const day = parseDay(text);
  const invalid = day === null;
  return (
    <label class="filter">
      <span>{props.label}</span>
      <span class="date-field">
        <input
          class={invalid ? 'input date invalid' : 'input date'}
          type="text"
          inputMode="numeric"
          placeholder="YYYY-MM-DD"
          value={text}
          title={invalid ? 'Not a date: type it as YYYY-MM-DD (or D.M.YYYY). The filter applies once it is one.' : undefined}
          aria-invalid={invalid}
          onInput={(e) => {
            const t = (e.target as HTMLInputElement).value;
            setText(t);
            const d = parseDay(t);
            if (d !== null && d !== props.value) props.onChange(d);
          }}
          data-testid={props.testId}
        />
        {text && (
          <button
            type="button"
            class="date-clear"
            title={`Clear the ${props.label.toLowerCase()} date`}
            aria-label={`Clear the ${props.label.toLowerCase()} date`}
            onClick={() => {
              setText('');
              if (props.value) props.onChange('');
            }}
            data-testid={`${props.testId}-clear`}
          >
            ×
          </button>
        )}
      </span>
    </label>
  );
}

export function JournalRow({
  item,
  selected,
  focused = false,
  query = '',
  onOpen,
}: {
  item: Row;
  selected: boolean;
  focused?: boolean;
  /** The search the rows answer, marked in their snippets. */
  query?: string;
  onOpen: () => void;
}) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!focused) return;
    // Only while the keyboard is in the list (or nowhere): a row scrolled back into view must
    // not take focus from the search field.
    const active = document.activeElement;
    if (!active || active === document.body || active.closest('[data-testid=journal-list]')) ref.current?.focus({ preventScroll: true });
  }, [focused, item.id]);
  const [day, time] = formatDateTime(item.startedMs).split(/ (?=\d\d:\d\d$)/);
  return (
    <div
      ref={ref}
      class={selected ? 'jrow selected' : 'jrow'}
      onClick={onOpen}
      role="button"
      tabIndex={0}
      aria-current={selected ? 'true' : undefined}
      onKeyDown={(e) => e.key === 'Enter' && onOpen()}
      data-testid="journal-row"
      data-call-id={item.id}
    >
      <span class="jcol when">
        <span class="when-day">{day}</span> <span class="when-time">{time}</span>
      </span>
      <span class="jcol dir">
        <span class={`chip chip-${item.direction}`} title={directionLabel(item.direction)}>
          <span class="chip-text">{directionLabel(item.direction)}</span>
        </span>
      </span>
      {item.matched ? (
        <span class="jcol parties has-match">
          <span class="parties-text" title={item.parties}>
            {item.parties}
          </span>
          <SearchMatchLine matched={item.matched} query={query} />
        </span>
      ) : (
        <span class="jcol parties" title={item.parties}>
          {item.parties}
        </span>
      )}
      <span class="jcol dur">{formatDuration(item.durationMs)}</span>
      <span class="jcol rec">
        {item.recordings > 0 && (
          <span class="rec-badge" title={plural(item.recordings, 'recording')} data-testid="rec-badge">
            <span class="rec-word">REC</span> <b>{item.recordings}</b>
          </span>
        )}
        <ConsentBadge consent={item.consent} short />
      </span>
      <ScoreCell score={item.score} />
    </div>
  );
}
