// Scorecards and reviews (issue #15.4): one typed function per command, named as on the Rust
// side. The server decides who may do what; `scoreAnswers` runs the domain's scoring rule on
// the Rust side without the server (the review form's live score).
import { call } from './index';
import type {
  Answer,
  CallId,
  Criterion,
  Review,
  ReviewId,
  ReviewInput,
  ReviewUpdate,
  ScoreSummary,
  Scorecard,
  ScorecardId,
  ScorecardInput,
  UserId,
} from './bindings';

export const scoresApi = {
  listScorecards: (archived = false) => call<Scorecard[]>('list_scorecards', { archived }),
  createScorecard: (scorecard: ScorecardInput) => call<Scorecard>('create_scorecard', { scorecard }),
  updateScorecard: (scorecardId: ScorecardId, scorecard: ScorecardInput) => call<Scorecard>('update_scorecard', { scorecardId, scorecard }),
  deleteScorecard: (scorecardId: ScorecardId) => call<null>('delete_scorecard', { scorecardId }),

  listCallReviews: (callId: CallId) => call<Review[]>('list_call_reviews', { callId }),
  createReview: (callId: CallId, review: ReviewInput) => call<Review>('create_review', { callId, review }),
  updateReview: (reviewId: ReviewId, review: ReviewUpdate) => call<Review>('update_review', { reviewId, review }),
  deleteReview: (reviewId: ReviewId) => call<null>('delete_review', { reviewId }),
  listMyReviews: () => call<Review[]>('list_my_reviews'),
  /** Averages over the agent's reviews of calls that started in `[from, to)` (ISO times). */
  agentScores: (agentId: UserId, from: string | null, to: string | null, scorecardId: ScorecardId | null = null) =>
    call<ScoreSummary>('agent_scores', { agentId, from, to, scorecardId }),
  /** The score the server will store for these answers; rejects (`invalid`) until every criterion is answered. */
  scoreAnswers: (criteria: Criterion[], answers: Answer[]) => call<number>('score_answers', { criteria, answers }),
};

export type ScoresApi = typeof scoresApi;
