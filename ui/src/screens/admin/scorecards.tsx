// Scorecards (issue #15.4): the team's checklists that supervisors fill for calls. The list
// (live ones, or archived ones too), a side form to create one or edit it — an edit is a new
// version; reviews already filled keep the criteria they were filled against — and delete,
// which the server turns into "archive" when reviews use the scorecard. Criteria are named,
// answered yes/no or on a 1–5 scale, and weighted; the server checks the form and its refusals
// show at their fields (`name`, `criteria`, `criteria[i].name`, `criteria[i].weight`).
import { useEffect, useState } from 'preact/hooks';
import { toApiError, type CriterionKind, type Scorecard, type ScorecardInput } from '../../api';
import { scoresApi } from '../../api/scorecards';
import { useShared } from '../../context';
import { formatDateTime, plural } from '../../format';
import { KIND_LABEL } from '../../components/scores';
import { DeleteButton, Field, Panel, inputValue } from './form';
import { formErrors, hasErrors, type Errors } from './validate';

export interface CriterionForm {
  name: string;
  kind: CriterionKind;
  weight: string;
}

export const NEW_CRITERION: CriterionForm = { name: '', kind: 'yes_no', weight: '1' };

/** The form as the server takes it, or the fields whose text is not a number. */
export function toScorecardInput(name: string, rows: CriterionForm[]): { input: ScorecardInput; errors: Errors } {
  const errors: Errors = {};
  const criteria = rows.map((r, i) => {
    const text = r.weight.trim().replace(',', '.');
    const weight = text === '' ? NaN : Number(text);
    if (!Number.isFinite(weight)) errors[`criteria[${i}].weight`] = 'Enter a number, e.g. 1 or 2.5.';
    return { name: r.name.trim(), kind: r.kind, weight };
  });
  return { input: { name: name.trim(), criteria }, errors };
}

export function ScorecardsPanel() {
  const { report, notify } = useShared();
  const [cards, setCards] = useState<Scorecard[] | null>(null);
  const [archived, setArchived] = useState(false);
  const [editing, setEditing] = useState<Scorecard | 'new' | null>(null);

  const load = () => scoresApi.listScorecards(archived).then(setCards, report);
  useEffect(() => {
    load();
  }, [archived]);

  const remove = async (c: Scorecard) => {
    try {
      await scoresApi.deleteScorecard(c.id);
      // The server archives a scorecard that reviews use: say which happened.
      const kept = (await scoresApi.listScorecards(true)).some((x) => x.id === c.id);
      notify(kept ? `${c.name} is archived: reviews use it, so it is kept for them.` : `${c.name} was deleted.`, 'success');
    } catch (e) {
      report(e);
    }
    if (editing !== 'new' && editing?.id === c.id) setEditing(null);
    load();
  };

  return (
    <div class="admin-split">
      <div class="admin-main" data-testid="admin-scorecards">
        <div class="admin-head">
          <div>
            <h2>Scorecards</h2>
            <p class="muted">The checklists supervisors fill when they review a call. Editing one makes a new version; old reviews keep theirs.</p>
          </div>
          <div class="head-actions">
            <label class="check">
              <input type="checkbox" checked={archived} onChange={(e) => setArchived((e.target as HTMLInputElement).checked)} data-testid="scorecards-archived" />
              Show archived
            </label>
            <button class="btn btn-primary" onClick={() => setEditing('new')} data-testid="scorecard-new">
              New scorecard
            </button>
          </div>
        </div>
        {cards && cards.length === 0 && (
          <div class="empty" data-testid="scorecards-empty">
            <h3>No scorecards yet</h3>
            <p class="muted">Define one so supervisors can score calls against it.</p>
          </div>
        )}
        {cards && cards.length > 0 && (
          <table class="atable" data-testid="scorecards-table">
            <thead>
              <tr>
                <th>Name</th>
                <th>Criteria</th>
                <th class="num">Version</th>
                <th>Changed</th>
                <th class="actions" />
              </tr>
            </thead>
            <tbody>
              {cards.map((c) => (
                <tr key={c.id} class={c.archived ? 'off' : ''} data-testid="scorecard-row" data-scorecard-id={c.id}>
                  <td class="desc">
                    {c.archived ? (
                      <span class="strong">{c.name}</span>
                    ) : (
                      <button class="link strong" onClick={() => setEditing(c)} data-testid="scorecard-edit">
                        {c.name}
                      </button>
                    )}
                    {c.archived && <span class="tag">archived</span>}
                  </td>
                  <td class="ellipsis wide-cell" title={c.criteria.map((x) => x.name).join(', ')}>
                    {plural(c.criteria.length, 'criterion', 'criteria')}
                    <span class="muted small"> · {c.criteria.map((x) => x.name).join(', ')}</span>
                  </td>
                  <td class="num">v{c.version}</td>
                  <td class="nowrap muted">{formatDateTime(c.updated_at)}</td>
                  <td class="actions">{!c.archived && <DeleteButton what={c.name} onDelete={() => remove(c)} testId="scorecard-delete" />}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
      {editing != null && (
        <ScorecardEditor
          key={editing === 'new' ? 'new' : editing.id}
          scorecard={editing === 'new' ? null : editing}
          onClose={() => setEditing(null)}
          onSaved={(c) => {
            setEditing(null);
            notify(editing === 'new' ? `Scorecard ${c.name} created.` : `Scorecard ${c.name} saved as version ${c.version}.`, 'success');
            load();
          }}
        />
      )}
    </div>
  );
}

export function ScorecardEditor(props: { scorecard: Scorecard | null; onClose: () => void; onSaved: (c: Scorecard) => void }) {
  const { report } = useShared();
  const s = props.scorecard;
  const [name, setName] = useState(s?.name ?? '');
  const [rows, setRows] = useState<CriterionForm[]>(s ? s.criteria.map((c) => ({ name: c.name, kind: c.kind, weight: String(c.weight) })) : [{ ...NEW_CRITERION }]);
  const [errors, setErrors] = useState<Errors>({});
  const [busy, setBusy] = useState(false);

  const setRow = (i: number, patch: Partial<CriterionForm>) => {
    setRows((cur) => cur.map((r, j) => (j === i ? { ...r, ...patch } : r)));
    const touched = Object.keys(patch).map((k) => `criteria[${i}].${k}`);
    setErrors((e) => Object.fromEntries(Object.entries(e).filter(([k]) => !touched.includes(k))));
  };
  const removeRow = (i: number) => {
    setRows((cur) => cur.filter((_, j) => j !== i));
    // Errors are by position: they no longer point at the right rows.
    setErrors((e) => Object.fromEntries(Object.entries(e).filter(([k]) => !k.startsWith('criteria['))));
  };

  const save = async (e: Event) => {
    e.preventDefault();
    const { input, errors: local } = toScorecardInput(name, rows);
    setErrors(local);
    if (hasErrors(local)) return;
    setBusy(true);
    try {
      props.onSaved(s ? await scoresApi.updateScorecard(s.id, input) : await scoresApi.createScorecard(input));
    } catch (err) {
      const fields = formErrors(err);
      const apiErr = toApiError(err);
      if (fields) setErrors(fields);
      // Another live scorecard has this name (409): said at the name.
      else if (/named .* exists/i.test(apiErr.message)) setErrors({ name: apiErr.message });
      else report(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Panel title={s ? `Scorecard ${s.name} (v${s.version})` : 'New scorecard'} onClose={props.onClose} testId="scorecard-form">
      <form class="aform" onSubmit={save} noValidate>
        <Field label="Name" name="name" error={errors.name}>
          <input class="input" value={name} maxLength={200} onInput={(e) => {
            setName(inputValue(e));
            setErrors(({ name: _, ...rest }) => rest);
          }} data-testid="scorecard-name" />
        </Field>
        <fieldset class="afieldset">
          <legend>Criteria</legend>
          <div class="criteria-head" aria-hidden="true">
            <span>Name</span>
            <span>Answer</span>
            <span>Weight</span>
            <span />
          </div>
          <div class="criteria-rows">
            {rows.map((r, i) => {
              const nameError = errors[`criteria[${i}].name`];
              const weightError = errors[`criteria[${i}].weight`];
              return (
                <div class="criterion-row" key={i} data-testid="criterion-row">
                  <input
                    class={nameError ? 'input invalid' : 'input'}
                    value={r.name}
                    maxLength={200}
                    placeholder="e.g. Greets the caller by name"
                    aria-label={`Criterion ${i + 1} name`}
                    onInput={(e) => setRow(i, { name: inputValue(e) })}
                    data-testid={`criterion-name-${i}`}
                  />
                  <select class="input" value={r.kind} aria-label={`Criterion ${i + 1} answer`} onChange={(e) => setRow(i, { kind: (e.target as HTMLSelectElement).value as CriterionKind })} data-testid={`criterion-kind-${i}`}>
                    <option value="yes_no">{KIND_LABEL.yes_no}</option>
                    <option value="scale_1_5">{KIND_LABEL.scale_1_5}</option>
                  </select>
                  <input
                    class={weightError ? 'input invalid' : 'input'}
                    value={r.weight}
                    inputMode="decimal"
                    aria-label={`Criterion ${i + 1} weight`}
                    onInput={(e) => setRow(i, { weight: inputValue(e) })}
                    data-testid={`criterion-weight-${i}`}
                  />
                  <button type="button" class="icon-btn" title="Remove this criterion" aria-label={`Remove criterion ${i + 1}`} disabled={rows.length === 1} onClick={() => removeRow(i)} data-testid={`criterion-remove-${i}`}>
                    ×
                  </button>
                  {nameError && (
                    <span class="afield-error" role="alert" data-testid={`error-criteria[${i}].name`}>
                      {nameError}
                    </span>
                  )}
                  {weightError && (
                    <span class="afield-error" role="alert" data-testid={`error-criteria[${i}].weight`}>
                      {weightError}
                    </span>
                  )}
                </div>
              );
            })}
          </div>
          {errors.criteria && (
            <span class="afield-error" role="alert" data-testid="error-criteria">
              {errors.criteria}
            </span>
          )}
          <button type="button" class="btn btn-ghost btn-sm" style={{ alignSelf: 'flex-start' }} disabled={rows.length >= 50} onClick={() => setRows((cur) => [...cur, { ...NEW_CRITERION }])} data-testid="criterion-add">
            + Add criterion
          </button>
          <span class="afield-hint">Yes counts fully, no not at all; on a scale 1 counts nothing and 5 fully. A criterion’s share of the score is its weight over the sum of weights.</span>
        </fieldset>
        {s && <p class="afield-hint">Saving makes version {s.version + 1}. Reviews already filled keep version {s.version} and their score.</p>}
        <div class="aform-actions">
          <button type="button" class="btn btn-ghost" onClick={props.onClose}>
            Cancel
          </button>
          <button type="submit" class="btn btn-primary" disabled={busy} data-testid="scorecard-save">
            {busy ? 'Saving…' : s ? 'Save new version' : 'Create scorecard'}
          </button>
        </div>
      </form>
    </Panel>
  );
}
