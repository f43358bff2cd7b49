// Sign in on the chosen server. Shows why we are here (an expired session), whether the
// session will survive a restart, and for this computer's server its output (demo logins).
import { useEffect, useState } from 'preact/hooks';
import { api, toApiError, type ConnectionInfo, type SessionInfo, type TokenStorage } from '../api';
import { Logo } from '../components/logo';

/** The demo directory's sign-ins as the local server printed them (`callrec demo: …`). */
export function demoLogins(log: string[]): string[] {
  const start = log.findIndex((l) => l.startsWith('callrec demo:') && l.includes('Log in'));
  if (start < 0) return [];
  const out = [log[start].replace(/^callrec demo:\s*/, '')];
  for (const line of log.slice(start + 1)) {
    if (!line.startsWith('  ')) break;
    out.push(line.trim());
  }
  const admin = log.find((l) => l.includes('created user "admin" with password'));
  if (admin) out.push(admin.replace(/^callrec:\s*/, '').replace(/\s*\(set CALLREC.*$/, ''));
  return out;
}

export function LoginScreen(props: {
  connection: ConnectionInfo;
  message?: string;
  tokenStorage: TokenStorage;
  lastUsername: string;
  onSignedIn: (s: SessionInfo) => void;
  onChangeServer: () => void;
}) {
  const [username, setUsername] = useState(props.lastUsername);
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<{ text: string; field?: 'password' } | null>(null);
  const [serverLog, setServerLog] = useState<string[]>([]);
  const local = props.connection.choice.kind === 'local';

  // The demo directory is seeded just after the server answers: read its output a few times.
  useEffect(() => {
    if (!local) return;
    let tries = 0;
    const read = () =>
      api.localServer().then(
        (s) => {
          setServerLog(s.log);
          if (demoLogins(s.log).length > 0 || ++tries >= 15) clearInterval(timer);
        },
        () => clearInterval(timer),
      );
    const timer = setInterval(read, 1000);
    read();
    return () => clearInterval(timer);
  }, [local]);

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      props.onSignedIn(await api.login(username, password));
    } catch (err) {
      const ae = toApiError(err);
      setError({ text: ae.message, field: ae.code === 'bad_credentials' ? 'password' : undefined });
      setPassword('');
    } finally {
      setBusy(false);
    }
  };

  return (
    <div class="center-screen">
      <form class="card auth-card" onSubmit={submit} data-testid="login-form">
        <div class="card-brand">
          <Logo size={36} />
          <div>
            <h1>Sign in</h1>
            <p class="muted" data-testid="server-label">
              {local ? 'This computer' : props.connection.url}
            </p>
          </div>
        </div>
        {props.message && !error && (
          <p class="form-note" role="status" data-testid="login-message">
            {props.message}
          </p>
        )}
        <label class="field">
          <span>Username</span>
          <input
            class="input"
            type="text"
            autocomplete="username"
            value={username}
            autoFocus={!username}
            onInput={(e) => setUsername((e.target as HTMLInputElement).value)}
            data-testid="username"
          />
        </label>
        <label class="field">
          <span>Password</span>
          <input
            class={error?.field === 'password' ? 'input invalid' : 'input'}
            type="password"
            autocomplete="current-password"
            value={password}
            autoFocus={!!username}
            onInput={(e) => setPassword((e.target as HTMLInputElement).value)}
            data-testid="password"
          />
        </label>
        {error && (
          <p class="form-error" role="alert" data-testid="login-error">
            {error.text}
          </p>
        )}
        <button class="btn btn-primary btn-block" type="submit" disabled={busy || !username || !password} data-testid="sign-in">
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
        {props.tokenStorage === 'memory' && (
          <p class="hint">No system keyring is available on this computer, so you will be asked to sign in again after a restart.</p>
        )}
        <div class="card-footer">
          <button type="button" class="link" onClick={props.onChangeServer} data-testid="change-server">
            Use another server
          </button>
        </div>
        {local && demoLogins(serverLog).length > 0 && (
          <div class="demo-logins" data-testid="demo-logins">
            <strong>Demo sign-ins</strong>
            <pre>{demoLogins(serverLog).join('\n')}</pre>
          </div>
        )}
        {local && serverLog.length > 0 && (
          <details class="server-log">
            <summary>Server output</summary>
            <pre>{serverLog.slice(-40).join('\n')}</pre>
          </details>
        )}
      </form>
    </div>
  );
}
