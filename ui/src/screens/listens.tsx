// "Who listened to my calls" (issue #12.4): every play and download of a recording of a call the
// signed-in user took part in — who, when, which recording, play or download — newest first,
// paged with the server's cursor. Everyone has it, agents included; it shows only their calls.
import { useEffect, useState } from 'preact/hooks';
import { api, type Listen } from '../api';
import { useShared } from '../context';
import { formatDateTime } from '../format';

export function ListensView() {
  const { report } = useShared();
  const [items, setItems] = useState<Listen[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);

  const load = async (more: boolean) => {
    setLoading(true);
    try {
      const page = await api.listListens(more ? cursor : null);
      setItems((cur) => (more ? [...cur, ...page.items] : page.items));
      setCursor(page.next_cursor);
    } catch (e) {
      report(e);
    } finally {
      setLoading(false);
    }
  };
  useEffect(() => {
    load(false);
  }, []);

  return (
    <div class="page listens-page" data-testid="listens">
      <div class="listens-head">
        <div>
          <h2>Who listened to my calls</h2>
          <p class="muted">Every play and download of a recording of a call you took part in, newest first.</p>
        </div>
        <div class="head-actions">
          <button class="btn btn-ghost" onClick={() => load(false)} disabled={loading} data-testid="listens-refresh">
            Refresh
          </button>
        </div>
      </div>
      <div class="listens-scroll">
        <table class="listens-table" data-testid="listens-table">
          <thead>
            <tr>
              <th>When</th>
              <th>Who</th>
              <th>What</th>
              <th>Recording</th>
              <th>Format</th>
            </tr>
          </thead>
          <tbody>
            {items.map((l) => (
              <tr key={l.id} data-testid="listen-row" data-action={l.action}>
                <td class="nowrap">{formatDateTime(l.at)}</td>
                <td data-testid="listen-who">{l.actor}</td>
                <td>
                  <span class={`chip listen-${l.action}`}>{l.action === 'download' ? 'Downloaded' : 'Played'}</span>
                </td>
                <td>
                  Recording {l.recording_id} of call {l.call_id}
                </td>
                <td class="muted">{l.detail.replace(/^format /, '')}</td>
              </tr>
            ))}
          </tbody>
        </table>
        {items.length === 0 && !loading && (
          <p class="muted pad" data-testid="listens-empty">
            Nobody has played or downloaded a recording of your calls.
          </p>
        )}
        {cursor && (
          <div class="pad center">
            <button class="btn" onClick={() => load(true)} disabled={loading} data-testid="listens-more">
              Show older
            </button>
          </div>
        )}
      </div>
    </div>
  );
}
