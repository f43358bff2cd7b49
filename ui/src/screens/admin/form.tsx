// Small pieces every admin form shares: a labelled field with its error underneath, a side
// panel for the form, a two-step delete button, and a checkbox list for picking members.
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';

export function Field(props: { label: string; name: string; error?: string; hint?: string; children: ComponentChildren }) {
  return (
    <label class={props.error ? 'afield has-error' : 'afield'} data-field={props.name}>
      <span class="afield-label">{props.label}</span>
      {props.children}
      {props.error ? (
        <span class="afield-error" role="alert" data-testid={`error-${props.name}`}>
          {props.error}
        </span>
      ) : (
        props.hint && <span class="afield-hint">{props.hint}</span>
      )}
    </label>
  );
}

export function Panel(props: { title: string; onClose: () => void; children: ComponentChildren; testId?: string }) {
  return (
    <aside class="admin-panel" data-testid={props.testId}>
      <header class="detail-head">
        <h3>{props.title}</h3>
        <button type="button" class="icon-btn" onClick={props.onClose} title="Close" aria-label="Close">
          ×
        </button>
      </header>
      <div class="admin-panel-body">{props.children}</div>
    </aside>
  );
}

/** "Delete" that asks once more before it acts. */
export function DeleteButton(props: { what: string; onDelete: () => void; testId?: string }) {
  const [asking, setAsking] = useState(false);
  if (!asking)
    return (
      <button type="button" class="btn btn-sm btn-ghost danger" onClick={() => setAsking(true)} data-testid={props.testId}>
        Delete
      </button>
    );
  return (
    <span class="confirm" role="group" aria-label={`Delete ${props.what}?`}>
      <span>Delete {props.what}?</span>
      <button
        type="button"
        class="btn btn-sm btn-danger"
        onClick={() => {
          setAsking(false);
          props.onDelete();
        }}
        data-testid={props.testId ? `${props.testId}-confirm` : undefined}
      >
        Delete
      </button>
      <button type="button" class="btn btn-sm btn-ghost" onClick={() => setAsking(false)}>
        Keep
      </button>
    </span>
  );
}

export function CheckList<T extends number>(props: {
  options: { id: T; label: string }[];
  selected: T[];
  onChange: (ids: T[]) => void;
  testId?: string;
  empty?: string;
}) {
  if (props.options.length === 0) return <p class="muted small">{props.empty ?? 'Nothing to choose from yet.'}</p>;
  return (
    <div class="checklist" data-testid={props.testId}>
      {props.options.map((o) => (
        <label key={o.id} class="check">
          <input
            type="checkbox"
            checked={props.selected.includes(o.id)}
            data-label={o.label}
            onChange={(e) => {
              const on = (e.target as HTMLInputElement).checked;
              props.onChange(on ? [...props.selected, o.id] : props.selected.filter((x) => x !== o.id));
            }}
          />
          {o.label}
        </label>
      ))}
    </div>
  );
}

export const inputValue = (e: Event) => (e.target as HTMLInputElement).value;
