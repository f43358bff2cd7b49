// The reviews of one call (issue #15.4), under the call's recordings: every review the user may
// read, and for supervisors and admins the review form — pick the agent (the call's people of
// the directory; the server refuses anyone the supervisor may not review) and a scorecard,
// answer each criterion, add a note; the live score comes from the Rust side's copy of the
// domain's rule and the saved one from the server. Authors (and admins) edit and delete theirs.
import { useEffect, useMemo, useState } from 'preact/hooks';
import { toApiError, type Answer, type CallDetail, type Criterion, type Review, type Scorecard, type UserId } from '../api';
import { scoresApi } from '../api/scorecards';
import { useShared } from '../context';
import { participantName, plural } from '../format';
import { formErrors, type Errors } from '../screens/admin/validate';
import { ReviewCard, ScoreBadge } from './scores';

export function CallReviews({ detail }: { detail: CallDetail }) {
  const { session, journalChange, report, notify } = useShared();
  const [reviews, setReviews] = useState<Review[] | null>(null);
  const [editing, setEditing] = useState<Review | 'new' | null>(null);
  const [confirming, setConfirming] = useState<number | null>(null);
  const me = session.user;
  const reviewer = me.level === 'admin' || me.level === 'supervisor';

  const load = () => scoresApi.listCallReviews(detail.id).then(setReviews, (e) => {
    report(e);
    setReviews([]);
  });
  useEffect(() => {
    setReviews(null);
    setEditing(null);
    load();
  }, [detail.id]);
  useEffect(() => {
    if (journalChange.callId === detail.id) load();
  }, [journalChange.seq]);

  const remove = async (r: Review) => {
    setConfirming(null);
    try {
      await scoresApi.deleteReview(r.id);
      notify('The review was deleted.', 'success');
    } catch (e) {
      report(e);
    }
    load();
  };

  const mayChange = (r: Review) => r.reviewer_id === me.id || me.level === 'admin';
  return (
    <section class="call-reviews" data-testid="call-reviews">
      <div class="call-reviews-head">
        <h4>
          Reviews <span class="muted">({reviews?.length ?? '…'})</span>
        </h4>
        {reviewer && editing == null && (
          <button class="btn btn-primary btn-sm" onClick={() => setEditing('new')} data-testid="review-new">
            Score this call
          </button>
        )}
      </div>
      {editing != null && (
        <ReviewForm
          detail={detail}
          review={editing === 'new' ? null : editing}
          onClose={() => setEditing(null)}
          onSaved={(r) => {
            setEditing(null);
            notify(`Review saved: ${r.score} of 100.`, 'success');
            load();
          }}
        />
      )}
      {reviews != null && reviews.length === 0 && editing == null && (
        <p class="muted small" data-testid="reviews-empty">
          {reviewer ? 'Nobody has scored this call yet.' : 'No review of yours on this call.'}
        </p>
      )}
      {(reviews ?? [])
        .filter((r) => editing === 'new' || editing == null || editing.id !== r.id)
        .map((r) => (
          <ReviewCard
            key={r.id}
            review={r}
            showAgent
            actions={
              mayChange(r) &&
              (confirming === r.id ? (
                <span class="confirm" role="group" aria-label="Delete this review?">
                  <span class="small">Delete this review?</span>
                  <button type="button" class="btn btn-sm btn-danger" onClick={() => remove(r)} data-testid="review-delete-confirm">
                    Delete
                  </button>
                  <button type="button" class="btn btn-sm btn-ghost" onClick={() => setConfirming(null)}>
                    Keep
                  </button>
                </span>
              ) : (
                <>
                  <button type="button" class="btn btn-sm btn-ghost" onClick={() => setEditing(r)} data-testid="review-edit">
                    Edit
                  </button>
                  <button type="button" class="btn btn-sm btn-ghost danger" onClick={() => setConfirming(r.id)} data-testid="review-delete">
                    Delete
                  </button>
                </>
              ))
            }
          />
        ))}
    </section>
  );
}

/** The people of the directory who took part in the call, except the signed-in user. */
export function reviewableAgents(detail: CallDetail, me: UserId): { id: UserId; name: string }[] {
  const seen = new Map<UserId, string>();
  for (const p of detail.participants) {
    if (p.user_id != null && p.user_id !== me && !seen.has(p.user_id)) seen.set(p.user_id, participantName(p));
  }
  return [...seen].map(([id, name]) => ({ id, name }));
}

/** The live score: the Rust side's answer once every criterion is answered, else how many are. */
function useLiveScore(criteria: Criterion[], answers: (Answer | null)[]): number | null {
  const [score, setScore] = useState<number | null>(null);
  const complete = criteria.length > 0 && answers.length === criteria.length && answers.every((a) => a != null);
  const key = JSON.stringify([criteria, answers]);
  useEffect(() => {
    if (!complete) {
      setScore(null);
      return;
    }
    let current = true;
    scoresApi.scoreAnswers(criteria, answers as Answer[]).then(
      (s) => current && setScore(s),
      () => current && setScore(null),
    );
    return () => {
      current = false;
    };
  }, [key]);
  return complete ? score : null;
}

export function ReviewForm(props: { detail: CallDetail; review: Review | null; onClose: () => void; onSaved: (r: Review) => void }) {
  const { session, report } = useShared();
  const r = props.review;
  const agents = useMemo(() => reviewableAgents(props.detail, session.user.id), [props.detail, session.user.id]);
  const [cards, setCards] = useState<Scorecard[] | null>(r ? [] : null);
  const [agentId, setAgentId] = useState<string>(r ? String(r.agent_id) : agents.length === 1 ? String(agents[0].id) : '');
  const [cardId, setCardId] = useState<string>(r ? String(r.scorecard_id) : '');
  const [answers, setAnswers] = useState<(Answer | null)[]>(r ? [...r.answers] : []);
  const [comment, setComment] = useState(r?.comment ?? '');
  const [errors, setErrors] = useState<Errors>({});
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    if (r) return;
    scoresApi.listScorecards(false).then(
      (list) => {
        setCards(list);
        if (list.length === 1) setCardId(String(list[0].id));
      },
      (e) => {
        report(e);
        setCards([]);
      },
    );
  }, []);

  const card = cards?.find((c) => String(c.id) === cardId) ?? null;
  const criteria: Criterion[] = r ? r.criteria : card?.criteria ?? [];
  useEffect(() => {
    if (!r) setAnswers(criteria.map(() => null));
  }, [cardId, cards]);
  const score = useLiveScore(criteria, answers);
  const answered = answers.filter((a) => a != null).length;

  const answer = (i: number, a: Answer) => {
    setAnswers((cur) => cur.map((x, j) => (j === i ? a : x)));
    setErrors((e) => {
      const { [`answers[${i}]`]: _, answers: __, ...rest } = e;
      return rest;
    });
  };

  const save = async (e: Event) => {
    e.preventDefault();
    const local: Errors = {};
    if (!r && !agentId) local.agent_id = 'Choose the agent you are scoring.';
    if (!r && !cardId) local.scorecard_id = 'Choose a scorecard.';
    answers.forEach((a, i) => {
      if (a == null) local[`answers[${i}]`] = 'Answer this criterion.';
    });
    setErrors(local);
    if (Object.keys(local).length > 0) return;
    setBusy(true);
    try {
      const note = comment.trim() ? comment : undefined;
      const saved = r
        ? await scoresApi.updateReview(r.id, { answers: answers as Answer[], comment: note })
        : await scoresApi.createReview(props.detail.id, {
            scorecard_id: Number(cardId),
            agent_id: Number(agentId),
            answers: answers as Answer[],
            comment: note,
          });
      props.onSaved(saved);
    } catch (err) {
      const fields = formErrors(err);
      if (fields) setErrors(fields);
      else {
        const apiErr = toApiError(err);
        // A second review of the same agent on the same scorecard: said at the form.
        if (apiErr.code === 'failed' && /exists|already|conflict/i.test(apiErr.message))
          setErrors({ form: 'This agent already has a review of this call on this scorecard: edit that one instead.' });
        else report(err);
      }
    } finally {
      setBusy(false);
    }
  };

  return (
    <form class="review-form" onSubmit={save} noValidate data-testid="review-form">
      {r ? (
        <p class="small">
          <b>{r.scorecard_name}</b> for <b>{r.agent_name ?? `user ${r.agent_id}`}</b>
        </p>
      ) : (
        <>
          <label class="rf-field">
            <span class="rf-label">Agent</span>
            {agents.length === 0 ? (
              <span class="muted">Nobody of the directory took part in this call.</span>
            ) : (
              <select class={errors.agent_id ? 'input invalid' : 'input'} value={agentId} onChange={(e) => setAgentId((e.target as HTMLSelectElement).value)} data-testid="review-agent-select">
                {agents.length > 1 && <option value="">Choose…</option>}
                {agents.map((a) => (
                  <option key={a.id} value={String(a.id)}>
                    {a.name}
                  </option>
                ))}
              </select>
            )}
            {errors.agent_id && (
              <span class="rf-error" role="alert" data-testid="error-agent_id">
                {errors.agent_id}
              </span>
            )}
          </label>
          <label class="rf-field">
            <span class="rf-label">Scorecard</span>
            {cards != null && cards.length === 0 ? (
              <span class="muted">No scorecards yet: an administrator defines them under Administration → Scorecards.</span>
            ) : (
              <select class={errors.scorecard_id ? 'input invalid' : 'input'} value={cardId} onChange={(e) => setCardId((e.target as HTMLSelectElement).value)} data-testid="review-scorecard-select">
                <option value="">{cards == null ? 'Loading…' : 'Choose…'}</option>
                {(cards ?? []).map((c) => (
                  <option key={c.id} value={String(c.id)}>
                    {c.name}
                  </option>
                ))}
              </select>
            )}
            {errors.scorecard_id && (
              <span class="rf-error" role="alert" data-testid="error-scorecard_id">
                {errors.scorecard_id}
              </span>
            )}
          </label>
        </>
      )}
      {criteria.length > 0 && (
        <div class="criteria" data-testid="review-criteria">
          {criteria.map((c, i) => (
            <div class="criterion" key={`${cardId}-${i}`} data-testid="review-criterion">
              <span class="criterion-name">
                {c.name} <span class="muted small">· weight {c.weight}</span>
              </span>
              <CriterionInput criterion={c} value={answers[i] ?? null} onChange={(a) => answer(i, a)} index={i} />
              {errors[`answers[${i}]`] && (
                <span class="rf-error" role="alert" data-testid={`error-answers[${i}]`}>
                  {errors[`answers[${i}]`]}
                </span>
              )}
            </div>
          ))}
        </div>
      )}
      {criteria.length > 0 && (
        <label class="rf-field">
          <span class="rf-label">Note (optional)</span>
          <textarea class="input" value={comment} maxLength={4000} onInput={(e) => setComment((e.target as HTMLTextAreaElement).value)} placeholder="What went well, what to practise" data-testid="review-comment" />
          {errors.comment && <span class="rf-error">{errors.comment}</span>}
        </label>
      )}
      {errors.answers && <span class="rf-error">{errors.answers}</span>}
      {errors.form && (
        <p class="form-error small" role="alert" data-testid="review-form-error">
          {errors.form}
        </p>
      )}
      <div class="rf-foot">
        {criteria.length > 0 && (
          <div class="live-score" data-testid="review-live-score">
            <span>{score != null ? 'Score' : `${answered} of ${plural(criteria.length, 'criterion', 'criteria')} answered`}</span>
            {score != null && <ScoreBadge score={score} testId="review-live-value" />}
          </div>
        )}
        <div class="rf-actions">
          <button type="button" class="btn btn-ghost btn-sm" onClick={props.onClose}>
            Cancel
          </button>
          <button type="submit" class="btn btn-primary btn-sm" disabled={busy || criteria.length === 0} data-testid="review-save">
            {busy ? 'Saving…' : r ? 'Save changes' : 'Save review'}
          </button>
        </div>
      </div>
    </form>
  );
}

/** Yes/No or 1–5 as buttons that say whether they are pressed. */
function CriterionInput(props: { criterion: Criterion; value: Answer | null; onChange: (a: Answer) => void; index: number }) {
  const options: { value: Answer; label: string }[] =
    props.criterion.kind === 'yes_no'
      ? [
          { value: true, label: 'Yes' },
          { value: false, label: 'No' },
        ]
      : [1, 2, 3, 4, 5].map((v) => ({ value: v, label: String(v) }));
  return (
    <span class="choices" role="group" aria-label={props.criterion.name}>
      {options.map((o) => (
        <button
          type="button"
          key={String(o.value)}
          class="choice-btn"
          aria-pressed={props.value === o.value}
          onClick={() => props.onChange(o.value)}
          data-testid={`answer-${props.index}-${String(o.value)}`}
        >
          {o.label}
        </button>
      ))}
    </span>
  );
}
