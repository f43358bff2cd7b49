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

const FIELD_LABEL: Record<SearchField, string> = { number: 'Number', name: 'Name', transcript: 'Said' };

/** One line: what matched (`Said`, `Name`, `Number`) and the snippet with the search marked. */
export function SearchMatchLine({ matched, query }: { matched: SearchMatch; query: string }) {
  return (
    <span class="jmatch" data-testid="journal-match" data-field={matched.field} title={matched.snippet}>
      <span class="jmatch-field">{FIELD_LABEL[matched.field]}</span>{' '}
      {markPieces(matched.snippet, query).map((p, i) => (p.mark ? <mark key={i}>{p.text}</mark> : p.text))}
    </span>
  );
}
