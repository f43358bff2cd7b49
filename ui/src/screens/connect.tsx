// The first-run screen: a server somewhere else (its URL), or this computer (the bundled
// server, started with the demo directory).
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
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>(props.error);

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const choice: ServerChoice = mode === 'local' ? { kind: 'local' } : { kind: 'remote', url };
      props.onConnected(await api.connect(choice));
    } catch (err) {
      setError(toApiError(err).message);
    } finally {
      setBusy(false);
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
        <button class="btn btn-primary btn-block" type="submit" disabled={busy || (mode === 'remote' && !url.trim())} data-testid="connect">
          {busy ? (mode === 'local' ? 'Starting the server…' : 'Connecting…') : 'Connect'}
        </button>
      </form>
    </div>
  );
}
