// Pieces of scorecards and reviews (issue #15.4) that several screens show: a score, one
// criterion's answer, a review as a card (the call's reviews, "My reviews"), and the journal's
// "reviewed" filter and score cell. Scores come from the server (or, while a form is being
// filled, from the Rust side's `score_answers`); nothing here computes one.
import type { ComponentChildren } from 'preact';
import type { Answer, Criterion, CriterionKind, CriterionSummary, Review } from '../api';
import { formatDateTime } from '../format';
import './scores.css';

/** A score (0–100) as people read it: `41.7 %`, `100 %`; `–` when there is none. */
export function formatScore(score: number | null | undefined): string {
  if (score == null || !Number.isFinite(score)) return '–';
  const rounded = Math.round(score * 10) / 10;
  return `${Number.isInteger(rounded) ? rounded.toFixed(0) : rounded.toFixed(1)} %`;
}

/** Good, middling or poor, for the colour of a score. */
export function scoreTone(score: number): 'good' | 'fair' | 'poor' {
  return score >= 80 ? 'good' : score >= 50 ? 'fair' : 'poor';
}

export function ScoreBadge({ score, testId }: { score: number; testId?: string }) {
  return (
    <span class={`score-badge score-${scoreTone(score)}`} title={`Score ${score} of 100`} data-testid={testId} data-score={score}>
      {formatScore(score)}
    </span>
  );
}

export const KIND_LABEL: Record<CriterionKind, string> = { yes_no: 'Yes / no', scale_1_5: 'Scale 1–5' };

/** One answer in words: `Yes`, `No`, `4 of 5`. */
export function answerLabel(answer: Answer | undefined): string {
  if (answer === true) return 'Yes';
  if (answer === false) return 'No';
  if (typeof answer === 'number') return `${answer} of 5`;
  return '–';
}

/** A criterion's average over reviews: `67 % yes` for yes/no, `4.2 of 5` for a scale. */
export function averageLabel(c: Pick<CriterionSummary, 'kind' | 'average'>): string {
  return c.kind === 'yes_no' ? `${Math.round(c.average * 100)} % yes` : `${c.average.toFixed(1)} of 5`;
}

/** Whether an answer counts fully (yes, 5), not at all (no, 1) or in between. */
function answerTone(c: Criterion, a: Answer | undefined): string {
  if (a === true || a === 5) return 'good';
  if (a === false || a === 1) return 'poor';
  return c.kind === 'scale_1_5' && typeof a === 'number' ? (a >= 4 ? 'good' : a <= 2 ? 'poor' : 'fair') : '';
}

/** A filled scorecard: its score, who reviewed whom and when, each answer, the note. */
export function ReviewCard(props: { review: Review; showAgent?: boolean; showCall?: boolean; onOpenCall?: () => void; actions?: ComponentChildren }) {
  const r = props.review;
  return (
    <article class="review-card" data-testid="review-card" data-review-id={r.id}>
      <header class="review-card-head">
        <div class="review-card-title">
          <strong>{r.scorecard_name}</strong>
          <span class="muted small">v{r.scorecard_version}</span>
        </div>
        <ScoreBadge score={r.score} testId="review-score" />
      </header>
      <p class="review-meta muted small">
        {props.showAgent && (
          <>
            For <b data-testid="review-agent">{r.agent_name ?? `user ${r.agent_id}`}</b> ·{' '}
          </>
        )}
        By <span data-testid="review-reviewer">{r.reviewer_name ?? `user ${r.reviewer_id}`}</span> · {formatDateTime(r.updated_at)}
        {props.showCall && (
          <>
            {' · '}
            {props.onOpenCall ? (
              <button type="button" class="link" onClick={props.onOpenCall} data-testid="review-open-call">
                call of {formatDateTime(r.call_started_at)}
              </button>
            ) : (
              <span>call of {formatDateTime(r.call_started_at)}</span>
            )}
          </>
        )}
      </p>
      <ul class="review-answers">
        {r.criteria.map((c, i) => (
          <li key={i} class="review-answer">
            <span class="review-criterion" title={`Weight ${c.weight}`}>
              {c.name}
            </span>
            <span class={`review-value tone-${answerTone(c, r.answers[i])}`}>{answerLabel(r.answers[i])}</span>
          </li>
        ))}
      </ul>
      {r.comment && (
        <p class="review-note" data-testid="review-note">
          {r.comment}
        </p>
      )}
      {props.actions && <div class="review-actions">{props.actions}</div>}
    </article>
  );
}

export type ReviewedChoice = '' | 'yes' | 'no';

/** The journal's filter: all calls, reviewed ones, or not reviewed ones. */
export function ReviewedFilter(props: { value: ReviewedChoice; onChange: (v: ReviewedChoice) => void }) {
  return (
    <select
      class="input"
      value={props.value}
      onChange={(e) => props.onChange((e.target as HTMLSelectElement).value as ReviewedChoice)}
      title="Calls with or without a scorecard review"
      data-testid="journal-reviewed"
    >
      <option value="">Reviewed or not</option>
      <option value="yes">Reviewed</option>
      <option value="no">Not reviewed</option>
    </select>
  );
}

/** `reviewed` of the journal filter for a choice. */
export function reviewedParam(v: ReviewedChoice): boolean | undefined {
  return v === 'yes' ? true : v === 'no' ? false : undefined;
}

/** The journal's score column: the average of the call's reviews, blank without one. */
export function ScoreCell({ score }: { score: number | null }) {
  return (
    <span class="jcol score" data-testid="journal-score">
      {score != null && (
        <span class={`score-text score-${scoreTone(score)}`} title={`Average review score ${score} of 100`}>
          {/* Narrow (the call panel open on a small window): the whole percent. */}
          <span class="label-full">{formatScore(score)}</span>
          <span class="label-short">{Math.round(score)}%</span>
        </span>
      )}
    </span>
  );
}
