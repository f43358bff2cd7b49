// Why a journal search matched a call (issue #16): the field that held the searched text and
// a snippet of it, the searched words marked, shown under the call's parties in its row.
import type { SearchField, SearchMatch } from '../api';

/** A piece of a snippet: plain text, or text that matched the search. */
export interface Piece {
  text: string;
  mark: boolean;
}

/** `text` cut into pieces where it holds `q` (trimmed, case-insensitive); all plain without a `q`. */
export function markPieces(text: string, q: string): Piece[] {
  const needle = q.trim();
  if (!needle) return [{ text, mark: false }];
  const re = new RegExp(needle.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'giu');
  const out: Piece[] = [];
  let at = 0;
  for (const m of text.matchAll(re)) {
    const from = m.index ?? 0;
    if (from > at) out.push({ text: text.slice(at, from), mark: false });
    out.push({ text: m[0], mark: true });
    at = from + m[0].length;
  }
  if (at < text.length || out.length === 0) out.push({ text: text.slice(at), mark: false });
  return out;
}

/**
 * A transcript's snippet with at most `before` words between its speaker (`Caller: `) and the
 * first place that holds `q`, cut words marked `…` — so the match shows in a narrow row, which
 * cuts the end. Unchanged when the match is near the start already (a cut under 12 characters),
 * or not in it.
 */
export function leadToMatch(text: string, q: string, before = 4): string {
  const needle = q.trim().toLowerCase();
  const at = needle ? text.toLowerCase().indexOf(needle) : -1;
  if (at < 0) return text;
  const colon = text.indexOf(': ');
  const start = colon >= 0 && colon < at ? colon + 2 : 0;
  const space = (c: string) => /\s/.test(c);
  let from = at;
  for (let words = 0; from > start; words++) {
    let j = from;
    while (j > start && space(text[j - 1])) j--;
    while (j > start && !space(text[j - 1])) j--;
    if (words === before || j === from) break;
    from = j;
  }
  // Not worth a cut of a word or two.
  if (from - start < 12) return text;
  return `${text.slice(0, start)}…${text.slice(from).trimStart()}`;
}

const FIELD_LABEL: Record<SearchField, string> = { number: 'Number', name: 'Name', transcript: 'Said' };

/** One line: what matched (`Said`, `Name`, `Number`) and the snippet with the search marked. */
export function SearchMatchLine({ matched, query }: { matched: SearchMatch; query: string }) {
  return (
    <span class="jmatch" data-testid="journal-match" data-field={matched.field} title={matched.snippet}>
      <span class="jmatch-field">{FIELD_LABEL[matched.field]}</span>{' '}
      {markPieces(matched.field === 'transcript' ? leadToMatch(matched.snippet, query) : matched.snippet, query).map((p, i) => (p.mark ? <mark key={i}>{p.text}</mark> : p.text))}
    </span>
  );
}
