import { afterEach, describe, expect, test } from 'vitest';
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { act } from 'preact/test-utils';
import type { Review, Scorecard, ScoreSummary, SessionInfo } from '../src/api';
import { ScorecardEditor, toScorecardInput } from '../src/screens/admin/scorecards';
import { CallReviews, reviewableAgents } from '../src/components/call-reviews';
import { ReviewsView, last30Days, rangeOf } from '../src/screens/reviews';
import { JournalRow, toRow } from '../src/screens/journal';
import { averageLabel, formatScore } from '../src/components/scores';
import { cleanup, click, journalItem, liveCall, mount, session, settle, shared, type, waitFor, withShared } from './helpers';

afterEach(async () => {
  await cleanup();
  clearMocks();
});

const sam: SessionInfo = { ...session, user: { id: 5, username: 'sam', display_name: 'Sam', level: 'supervisor', extensions: ['300'] } };
const t = '2026-12-01T10:00:00Z';
const card: Scorecard = {
  id: 3,
  name: 'Support call',
  version: 1,
  archived: false,
  created_at: t,
  updated_at: t,
  criteria: [
    { name: 'greeting', kind: 'yes_no', weight: 1 },
    { name: 'empathy', kind: 'scale_1_5', weight: 2 },
    { name: 'solved', kind: 'yes_no', weight: 3 },
  ],
};
const review = (over: Partial<Review> = {}): Review => ({
  id: 11,
  call_id: 7,
  call_started_at: t,
  agent_id: 1,
  reviewer_id: 5,
  scorecard_id: 3,
  scorecard_name: 'Support call',
  scorecard_version: 1,
  criteria: card.criteria,
  answers: [true, 4, false],
  comment: 'Offer the callback.',
  score: 41.67,
  created_at: t,
  updated_at: t,
  agent_name: 'Alice',
  reviewer_name: 'Sam',
  ...over,
});

async function choose(el: Element | null, value: string) {
  if (!el) throw new Error('nothing to choose in');
  await act(() => {
    (el as HTMLSelectElement).value = value;
    el.dispatchEvent(new Event('change', { bubbles: true }));
  });
}

const q = (root: HTMLElement, id: string) => root.querySelector(`[data-testid="${id}"]`);

describe('what a score looks like', () => {
  test('scores, averages and the journal column', async () => {
    expect(formatScore(41.67)).toBe('41.7 %');
    expect(formatScore(100)).toBe('100 %');
    expect(formatScore(null)).toBe('–');
    expect(averageLabel({ kind: 'yes_no', average: 0.67 })).toBe('67 % yes');
    expect(averageLabel({ kind: 'scale_1_5', average: 4 })).toBe('4.0 of 5');
    const root = await mount(
      <div>
        <JournalRow item={toRow({ ...journalItem(1), score: 41.67 })} selected={false} onOpen={() => undefined} />
        <JournalRow item={toRow(journalItem(2))} selected={false} onOpen={() => undefined} />
      </div>,
    );
    const cells = [...root.querySelectorAll('[data-testid=journal-score]')].map((c) => c.querySelector('.label-full')?.textContent ?? '');
    expect(cells).toEqual(['41.7 %', '']);
    expect(root.querySelector('[data-testid=journal-score] .label-short')?.textContent).toBe('42%');
  });

  test('the summary range covers whole local days, the last 30 by default', () => {
    const d = last30Days(new Date(2026, 11, 4, 15, 0));
    expect(d).toEqual({ from: '2026-11-05', to: '2026-12-04' });
    const r = rangeOf('2026-11-05', '2026-12-04');
    expect(new Date(r.from!).getDate()).toBe(5);
    expect(new Date(r.to!).getDate()).toBe(5);
    expect(new Date(r.to!).getHours()).toBe(0);
    expect(rangeOf('', '')).toEqual({ from: null, to: null });
  });
});

describe('the admin scorecard editor', () => {
  test('a weight that is no number is marked at once; the server refusals show at their fields', async () => {
    const sent: unknown[] = [];
    let refuse = true;
    mockIPC((cmd, args) => {
      if (cmd === 'create_scorecard') {
        sent.push((args as { scorecard: unknown }).scorecard);
        if (refuse) throw { code: 'invalid', message: 'x', fields: [{ field: 'criteria[0].name', message: 'must not be empty' }] };
        return { ...card, name: 'Support' };
      }
    });
    let saved: Scorecard | null = null;
    const root = await mount(withShared(shared(), <ScorecardEditor scorecard={null} onClose={() => undefined} onSaved={(c) => (saved = c)} />));
    await type(q(root, 'scorecard-name'), 'Support');
    await type(q(root, 'criterion-weight-0'), 'heavy');
    await click(q(root, 'scorecard-save'));
    expect(q(root, 'error-criteria[0].weight')?.textContent).toBe('Enter a number, e.g. 1 or 2.5.');
    expect(sent).toHaveLength(0);

    await type(q(root, 'criterion-weight-0'), '2,5');
    expect(q(root, 'error-criteria[0].weight')).toBeNull();
    await click(q(root, 'scorecard-save'));
    await settle(5);
    expect(q(root, 'error-criteria[0].name')?.textContent).toBe('Must not be empty.');
    expect(sent[0]).toEqual({ name: 'Support', criteria: [{ name: '', kind: 'yes_no', weight: 2.5 }] });

    refuse = false;
    await type(q(root, 'criterion-name-0'), 'greeting');
    await click(q(root, 'criterion-add'));
    await choose(q(root, 'criterion-kind-1'), 'scale_1_5');
    await type(q(root, 'criterion-name-1'), 'empathy');
    await click(q(root, 'scorecard-save'));
    await waitFor(() => expect(saved).not.toBeNull());
    expect(sent[1]).toEqual({
      name: 'Support',
      criteria: [
        { name: 'greeting', kind: 'yes_no', weight: 2.5 },
        { name: 'empathy', kind: 'scale_1_5', weight: 1 },
      ],
    });
  });

  test('an edit starts from the scorecard and says it makes a new version', async () => {
    const root = await mount(withShared(shared(), <ScorecardEditor scorecard={card} onClose={() => undefined} onSaved={() => undefined} />));
    expect(root.querySelectorAll('[data-testid=criterion-row]')).toHaveLength(3);
    expect((q(root, 'criterion-weight-2') as HTMLInputElement).value).toBe('3');
    expect(root.textContent).toContain('Saving makes version 2');
    expect(toScorecardInput(' x ', [{ name: ' a ', kind: 'yes_no', weight: '' }]).errors).toEqual({ 'criteria[0].weight': 'Enter a number, e.g. 1 or 2.5.' });
  });
});

describe('the review form on a call', () => {
  test('the agent comes from the call, the live score from the Rust side, the saved review from the server', async () => {
    const calls: { cmd: string; args: unknown }[] = [];
    let reviews: Review[] = [];
    mockIPC((cmd, args) => {
      calls.push({ cmd, args });
      if (cmd === 'list_call_reviews') return reviews;
      if (cmd === 'list_scorecards') return [card];
      if (cmd === 'score_answers') return 41.67;
      if (cmd === 'create_review') {
        reviews = [review()];
        return reviews[0];
      }
    });
    const detail = liveCall({ state: 'ended' });
    expect(reviewableAgents(detail, 5)).toEqual([{ id: 1, name: 'Alice' }]);
    expect(reviewableAgents(detail, 1)).toEqual([]);
    const root = await mount(withShared(shared({ session: sam }), <CallReviews detail={detail} />));
    expect(q(root, 'reviews-empty')?.textContent).toContain('Nobody has scored this call yet');
    await click(q(root, 'review-new'));
    await settle(5);
    // One agent and one scorecard: both chosen already.
    expect((q(root, 'review-agent-select') as HTMLSelectElement).value).toBe('1');
    expect((q(root, 'review-scorecard-select') as HTMLSelectElement).value).toBe('3');
    expect(root.querySelectorAll('[data-testid=review-criterion]')).toHaveLength(3);
    await click(q(root, 'answer-0-true'));
    await click(q(root, 'answer-1-4'));
    expect(q(root, 'review-live-score')?.textContent).toBe('2 of 3 criteria answered');
    expect(calls.some((c) => c.cmd === 'score_answers')).toBe(false);
    await click(q(root, 'answer-2-false'));
    await waitFor(() => expect(q(root, 'review-live-value')?.textContent).toBe('41.7 %'));
    expect(calls.find((c) => c.cmd === 'score_answers')?.args).toEqual({ criteria: card.criteria, answers: [true, 4, false] });
    await type(q(root, 'review-comment'), 'Offer the callback.');
    await click(q(root, 'review-save'));
    await waitFor(() => expect(q(root, 'review-form')).toBeNull());
    expect(calls.find((c) => c.cmd === 'create_review')?.args).toEqual({
      callId: 7,
      review: { scorecard_id: 3, agent_id: 1, answers: [true, 4, false], comment: 'Offer the callback.' },
    });
    await waitFor(() => expect(root.querySelectorAll('[data-testid=review-card]')).toHaveLength(1));
    expect(q(root, 'review-score')?.textContent).toBe('41.7 %');
    expect(q(root, 'review-agent')?.textContent).toBe('Alice');
    expect(q(root, 'review-edit')).not.toBeNull();
  });

  test('an unanswered criterion is marked, and a second review of the same is said at the form', async () => {
    mockIPC((cmd) => {
      if (cmd === 'list_call_reviews') return [];
      if (cmd === 'list_scorecards') return [card];
      if (cmd === 'create_review') throw { code: 'failed', message: 'This call already has a review of this agent on this scorecard; edit that one.' };
    });
    const root = await mount(withShared(shared({ session: sam }), <CallReviews detail={liveCall({ state: 'ended' })} />));
    await click(q(root, 'review-new'));
    await settle(5);
    await click(q(root, 'answer-0-true'));
    await click(q(root, 'review-save'));
    expect(q(root, 'error-answers[1]')?.textContent).toBe('Answer this criterion.');
    expect(q(root, 'error-answers[0]')).toBeNull();
    await click(q(root, 'answer-1-3'));
    await click(q(root, 'answer-2-true'));
    await click(q(root, 'review-save'));
    await waitFor(() => expect(q(root, 'review-form-error')?.textContent).toContain('edit that one instead'));
  });

  test('an agent reads the reviews of the call but gets no form, nor edit or delete of others', async () => {
    mockIPC((cmd) => (cmd === 'list_call_reviews' ? [review()] : null));
    const root = await mount(withShared(shared(), <CallReviews detail={liveCall({ state: 'ended' })} />));
    await waitFor(() => expect(root.querySelectorAll('[data-testid=review-card]')).toHaveLength(1));
    expect(q(root, 'review-new')).toBeNull();
    expect(q(root, 'review-edit')).toBeNull();
    expect(q(root, 'review-note')?.textContent).toBe('Offer the callback.');
  });
});

describe('Reviews', () => {
  test('an agent reads her own reviews: score, answers, note, reviewer', async () => {
    mockIPC((cmd) => (cmd === 'list_my_reviews' ? [review()] : null));
    const root = await mount(withShared(shared(), <ReviewsView />));
    await waitFor(() => expect(root.querySelectorAll('[data-testid=review-card]')).toHaveLength(1));
    expect(q(root, 'reviews-team-tab')).toBeNull();
    const text = q(root, 'my-reviews')?.textContent ?? '';
    expect(text).toContain('41.7 %');
    expect(text).toContain('Sam');
    expect(text).toContain('empathy');
    expect(text).toContain('4 of 5');
    expect(text).toContain('Offer the callback.');
    expect(q(root, 'review-open-call')).not.toBeNull();
  });

  test('a supervisor reads a team member’s averages over the last 30 days', async () => {
    const asked: Record<string, unknown>[] = [];
    const summary: ScoreSummary = {
      agent_id: 1,
      from: null,
      to: null,
      scorecard_id: null,
      reviews: 2,
      average_score: 62.5,
      criteria: [
        { scorecard_id: 3, criterion: 'greeting', kind: 'yes_no', count: 2, average: 1 },
        { scorecard_id: 3, criterion: 'empathy', kind: 'scale_1_5', count: 2, average: 3.5 },
      ],
    };
    mockIPC((cmd, args) => {
      if (cmd === 'list_users') return [];
      if (cmd === 'journal') return { items: [journalItem(1)], next_cursor: null };
      if (cmd === 'list_scorecards') return [card];
      if (cmd === 'agent_scores') {
        asked.push(args as Record<string, unknown>);
        return summary;
      }
    });
    const root = await mount(withShared(shared({ session: sam }), <ReviewsView />));
    await waitFor(() => expect(root.querySelectorAll('[data-testid=summary-row]')).toHaveLength(2));
    expect(asked[0].agentId).toBe(1);
    const days = (Date.parse(asked[0].to as string) - Date.parse(asked[0].from as string)) / 86_400_000;
    expect(Math.round(days)).toBe(30);
    const text = q(root, 'summary')?.textContent ?? '';
    expect(text).toContain('Alice');
    expect(text).toContain('2 reviews');
    expect(text).toContain('100 % yes');
    expect(text).toContain('3.5 of 5');
    expect(q(root, 'summary-average')?.textContent).toBe('62.5 %');
  });
});
