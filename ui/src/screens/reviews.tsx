// "Reviews" (issue #15.4): every user reads their own reviews — score, each answer, the note,
// who reviewed, and the call (opened beside the list, to play it again): that is the training.
// Supervisors and admins also read a team member's averages per criterion over a date range
// (the last 30 days unless changed), from the server's summary.
import { useEffect, useMemo, useState } from 'preact/hooks';
import { api, type CallId, type Review, type ScoreSummary, type Scorecard, type UserId } from '../api';
import { scoresApi } from '../api/scorecards';
import { useShared } from '../context';
import { CallDetailPanel } from '../components/call-detail';
import { KIND_LABEL, ReviewCard, ScoreBadge, averageLabel } from '../components/scores';
import { pad2, plural } from '../format';
import { DateField, addPeople, type People } from './journal';

type Part = 'mine' | 'team';

export function ReviewsView() {
  const { session } = useShared();
  const reviewer = session.user.level !== 'agent';
  const [part, setPart] = useState<Part>(reviewer ? 'team' : 'mine');
  const [openCall, setOpenCall] = useState<CallId | null>(null);
  return (
    <section class={openCall != null ? 'page reviews-page-wrap has-detail' : 'page reviews-page-wrap'} data-testid="reviews-view">
      <div class="page reviews-page">
        <div class="listens-head">
          <div>
            <h2>{part === 'mine' ? 'My reviews' : 'Team scores'}</h2>
            <p class="muted">
              {part === 'mine'
                ? 'Scorecards your supervisors filled for your calls, newest call first.'
                : 'A team member’s average per criterion over the reviews of calls in a date range.'}
            </p>
          </div>
          {reviewer && (
            <div class="subtabs" role="tablist">
              <button role="tab" aria-selected={part === 'team'} class={part === 'team' ? 'subtab active' : 'subtab'} onClick={() => setPart('team')} data-testid="reviews-team-tab">
                Team scores
              </button>
              <button role="tab" aria-selected={part === 'mine'} class={part === 'mine' ? 'subtab active' : 'subtab'} onClick={() => setPart('mine')} data-testid="reviews-mine-tab">
                My reviews
              </button>
            </div>
          )}
        </div>
        <div class="reviews-body">{part === 'mine' ? <MyReviews onOpenCall={setOpenCall} /> : <TeamScores />}</div>
      </div>
      {openCall != null && <CallDetailPanel callId={openCall} onClose={() => setOpenCall(null)} />}
    </section>
  );
}

function MyReviews({ onOpenCall }: { onOpenCall: (id: CallId) => void }) {
  const { report, journalChange } = useShared();
  const [reviews, setReviews] = useState<Review[] | null>(null);
  const load = () => scoresApi.listMyReviews().then(setReviews, (e) => {
    report(e);
    setReviews([]);
  });
  useEffect(() => {
    load();
  }, []);
  // A review written or changed announces its call's journal row.
  useEffect(() => {
    if (journalChange.seq > 0) load();
  }, [journalChange.seq]);
  if (reviews == null) return <p class="muted">Loading…</p>;
  if (reviews.length === 0)
    return (
      <div class="empty" data-testid="my-reviews-empty">
        <h3>No reviews yet</h3>
        <p class="muted">When a supervisor scores one of your calls, the review shows here.</p>
      </div>
    );
  return (
    <div class="reviews-grid" data-testid="my-reviews">
      {reviews.map((r) => (
        <ReviewCard key={r.id} review={r} showCall onOpenCall={() => onOpenCall(r.call_id)} />
      ))}
    </div>
  );
}

/** `YYYY-MM-DD` of a local day. */
export function dayOf(d: Date): string {
  return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())}`;
}

/** The default range: the last 30 days, today included. */
export function last30Days(now = new Date()): { from: string; to: string } {
  const from = new Date(now.getFullYear(), now.getMonth(), now.getDate() - 29);
  return { from: dayOf(from), to: dayOf(now) };
}

/** Local days as the summary's `[from, to)` in UTC: from the first day's start to the day after the last. */
export function rangeOf(from: string, to: string): { from: string | null; to: string | null } {
  const start = from ? new Date(`${from}T00:00:00`) : null;
  let end: Date | null = null;
  if (to) {
    end = new Date(`${to}T00:00:00`);
    end.setDate(end.getDate() + 1);
  }
  return { from: start?.toISOString() ?? null, to: end?.toISOString() ?? null };
}

function TeamScores() {
  const { session, report } = useShared();
  const [people, setPeople] = useState<{ id: UserId; name: string }[]>([]);
  const [cards, setCards] = useState<Scorecard[]>([]);
  const [agent, setAgent] = useState('');
  const [card, setCard] = useState('');
  const [range, setRange] = useState(last30Days);
  const [summary, setSummary] = useState<ScoreSummary | null>(null);
  const [loading, setLoading] = useState(false);

  useEffect(() => {
    // Admins list the directory; a supervisor may not, and is offered the people of the
    // calls they see (their teams' members) instead.
    const me = session.user.id;
    api.listUsers().then(
      async (users) => {
        let list = users.filter((u) => u.id !== me && u.level !== 'admin').map((u) => ({ id: u.id, name: u.display_name || u.username }));
        if (list.length === 0) {
          let seen: People = new Map();
          try {
            seen = addPeople(seen, (await api.journal({ limit: 500 })).items);
          } catch (e) {
            report(e);
          }
          list = [...seen].filter(([id]) => id !== me).map(([id, name]) => ({ id, name }));
        }
        list.sort((a, b) => a.name.localeCompare(b.name));
        setPeople(list);
        if (list.length > 0) setAgent((cur) => cur || String(list[0].id));
      },
      report,
    );
    scoresApi.listScorecards(true).then(setCards, () => undefined);
  }, []);

  const key = `${agent}|${card}|${range.from}|${range.to}`;
  useEffect(() => {
    if (!agent) return;
    let current = true;
    setLoading(true);
    const r = rangeOf(range.from, range.to);
    scoresApi.agentScores(Number(agent), r.from, r.to, card ? Number(card) : null).then(
      (s) => current && setSummary(s),
      (e) => {
        if (!current) return;
        report(e);
        setSummary(null);
      },
    ).finally(() => current && setLoading(false));
    return () => {
      current = false;
    };
  }, [key]);

  const cardName = useMemo(() => new Map(cards.map((c) => [c.id, c.name])), [cards]);
  const several = new Set(summary?.criteria.map((c) => c.scorecard_id) ?? []).size > 1;
  const name = people.find((p) => String(p.id) === agent)?.name ?? '';
  return (
    <div class="reviews-section">
      <div class="summary-filters" role="search">
        <select class="input" value={agent} onChange={(e) => setAgent((e.target as HTMLSelectElement).value)} data-testid="summary-agent" aria-label="Team member">
          {people.length === 0 && <option value="">No team members seen yet</option>}
          {people.map((p) => (
            <option key={p.id} value={String(p.id)}>
              {p.name}
            </option>
          ))}
        </select>
        <select class="input" value={card} onChange={(e) => setCard((e.target as HTMLSelectElement).value)} data-testid="summary-scorecard" aria-label="Scorecard">
          <option value="">All scorecards</option>
          {cards.map((c) => (
            <option key={c.id} value={String(c.id)}>
              {c.name}
              {c.archived ? ' (archived)' : ''}
            </option>
          ))}
        </select>
        <DateField label="From" value={range.from} onChange={(from) => setRange((r) => ({ ...r, from }))} testId="summary-from" />
        <DateField label="To" value={range.to} onChange={(to) => setRange((r) => ({ ...r, to }))} testId="summary-to" />
      </div>
      {summary && (
        <div class="summary-card" data-testid="summary" aria-busy={loading}>
          <div class="summary-total">
            {summary.average_score != null ? <ScoreBadge score={summary.average_score} testId="summary-average" /> : <span class="muted">No score</span>}
            <span>
              <b>{name}</b> · {plural(summary.reviews, 'review')}
              {range.from || range.to ? ` · ${range.from || '…'} to ${range.to || 'today'}` : ''}
            </span>
          </div>
          {summary.criteria.length === 0 ? (
            <p class="muted" data-testid="summary-empty">
              No reviews of {name || 'this person'}’s calls in this range.
            </p>
          ) : (
            <table class="summary-table" data-testid="summary-table">
              <thead>
                <tr>
                  <th>Criterion</th>
                  {several && <th>Scorecard</th>}
                  <th>Kind</th>
                  <th class="num">Reviews</th>
                  <th class="num">Average</th>
                </tr>
              </thead>
              <tbody>
                {summary.criteria.map((c, i) => {
                  const share = c.kind === 'yes_no' ? c.average : (c.average - 1) / 4;
                  return (
                    <tr key={i} data-testid="summary-row">
                      <td>{c.criterion}</td>
                      {several && <td class="muted">{cardName.get(c.scorecard_id) ?? `Scorecard ${c.scorecard_id}`}</td>}
                      <td class="muted">{KIND_LABEL[c.kind]}</td>
                      <td class="num">{c.count}</td>
                      <td class="num">
                        <span class="summary-bar" aria-hidden="true">
                          <span style={{ width: `${Math.round(Math.max(0, Math.min(1, share)) * 100)}%` }} />
                        </span>
                        {averageLabel(c)}
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          )}
        </div>
      )}
    </div>
  );
}
