// The first-run screen: a server somewhere else (its URL), or this computer (the bundled
// server, started with the demo directory). A connect in progress can be cancelled; one that
// times out says the server could not be reached (issue #17).
import { useState } from 'preact/hooks';
import { api, toApiError, type ConnectionInfo, type ServerChoice } from '../api';
import { Logo } from '../components/logo';

export function ConnectScreen(props: {
  error?: string;
  saved: ServerChoice | null;
  onConnected: (c: ConnectionInfo) => void;
}) {
  const [mode, setMode] = useState<'remote' | 'local'>(props.saved?.kind === 'local' ? 'local' : 'remote');
  const [url, setUrl] = useState(props.saved?.kind === 'remote' ? props.saved.url : '');
  // Other nodes of the same installation (scale-out, issue #10): used when the first stops answering.
  const [others, setOthers] = useState(props.saved?.kind === 'remote' ? (props.saved.fallbacks ?? []).join(', ') : '');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>(props.error);
  const [note, setNote] = useState<string | null>(null);
  const [cancelling, setCancelling] = useState(false);

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    setNote(null);
    try {
      const fallbacks = others
        .split(/[\s,]+/)
        .map((u) => u.trim())
        .filter((u) => u !== '');
      const choice: ServerChoice = mode === 'local' ? { kind: 'local' } : { kind: 'remote', url, fallbacks };
      props.onConnected(await api.connect(choice));
    } catch (err) {
      const ae = toApiError(err);
      // Cancelled by the user: nothing went wrong, back to the form.
      if (ae.code === 'cancelled') setNote('Cancelled.');
      else setError(ae.message);
    } finally {
      setBusy(false);
      setCancelling(false);
    }
  };

  const cancel = async () => {
    setCancelling(true);
    try {
      await api.cancelConnect();
    } catch {
      // Nothing to cancel any more (it just finished): the pending connect settles by itself.
      setCancelling(false);
    }
  };

  return (
    <div class="center-screen">
      <form class="card auth-card" onSubmit={submit} data-testid="connect-form">
        <div class="card-brand">
          <Logo size={36} />
          <div>
            <h1>callrec</h1>
            <p class="muted">Call recording for your team</p>
          </div>
        </div>
        <h2>Where is your callrec server?</h2>
        <label class={mode === 'remote' ? 'choice selected' : 'choice'}>
          <input type="radio" name="mode" checked={mode === 'remote'} onChange={() => setMode('remote')} data-testid="mode-remote" />
          <div>
            <strong>Another computer</strong>
            <span class="muted">Connect to the server your administrator runs.</span>
            {mode === 'remote' && (
              <input
                class="input"
                type="text"
                placeholder="http://recorder.example.com:8080"
                value={url}
                autoFocus
                onInput={(e) => setUrl((e.target as HTMLInputElement).value)}
                data-testid="server-url"
              />
            )}
            {mode === 'remote' && (
              <input
                class="input"
                type="text"
                placeholder="Other nodes, if any (optional)"
                title="Addresses of the installation's other nodes, separated by commas. When the server in use stops answering, the app moves to the next one and you stay signed in."
                value={others}
                onInput={(e) => setOthers((e.target as HTMLInputElement).value)}
                data-testid="server-fallbacks"
              />
            )}
          </div>
        </label>
        <label class={mode === 'local' ? 'choice selected' : 'choice'}>
          <input type="radio" name="mode" checked={mode === 'local'} onChange={() => setMode('local')} data-testid="mode-local" />
          <div>
            <strong>This computer</strong>
            <span class="muted">Start the bundled server here, with demo users and calls to try things out.</span>
          </div>
        </label>
        {error && (
          <p class="form-error" role="alert" data-testid="connect-error">
            {error}
          </p>
        )}
        {note && !error && (
          <p class="muted" role="status" data-testid="connect-note">
            {note}
          </p>
        )}
        <div class="connect-actions">
          <button class="btn btn-primary btn-block" type="submit" disabled={busy || (mode === 'remote' && !url.trim())} data-testid="connect">
            {busy ? (mode === 'local' ? 'Starting the server…' : 'Connecting…') : 'Connect'}
          </button>
          {busy && (
            <button type="button" class="btn btn-ghost" onClick={cancel} disabled={cancelling} data-testid="connect-cancel">
              {cancelling ? 'Cancelling…' : 'Cancel'}
            </button>
          )}
        </div>
      </form>
    </div>
  );
}
