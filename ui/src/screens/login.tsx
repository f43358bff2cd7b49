// Sign in on the chosen server. Shows why we are here (an expired session), whether the
// session will survive a restart, and for this computer's server: the sign-ins it remembers
// (the demo users, the first admin password), its output, and — when it stopped — why, with a
// button that starts it again (issue #17). The Rust side picks the sign-ins out of the output.
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, toApiError, type ConnectionInfo, type LocalServerStatus, type SessionInfo, type TokenStorage } from '../api';
import { Logo } from '../components/logo';

export const LOCAL_STOPPED = 'The callrec server on this computer has stopped.';

/** How often the login screen asks after this computer's server (a local call, cheap). */
const LOCAL_POLL_MS = 2000;

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
  const [server, setServer] = useState<LocalServerStatus | null>(null);
  const [restarting, setRestarting] = useState<string | null>(null);
  const local = props.connection.choice.kind === 'local';
  const usernameRef = useRef<HTMLInputElement>(null);
  const passwordRef = useRef<HTMLInputElement>(null);

  // autoFocus is not reliable when the screen swaps: focus by hand once shown.
  useEffect(() => {
    (props.lastUsername ? passwordRef : usernameRef).current?.focus();
  }, []);

  // This computer's server: its sign-ins and output, and whether it still runs.
  const readServer = () =>
    api.localServer().then(
      (st) => {
        setServer(st);
        return st;
      },
      () => null,
    );
  useEffect(() => {
    if (!local) return;
    readServer();
    const timer = setInterval(readServer, LOCAL_POLL_MS);
    return () => clearInterval(timer);
  }, [local]);
  const stopped = local && server != null && !server.running;

  const restart = async () => {
    setRestarting('Starting…');
    setError(null);
    try {
      setServer(await api.restartLocalServer());
      setRestarting(null);
    } catch (err) {
      setRestarting(null);
      setError({ text: `Starting it again failed: ${toApiError(err).message}` });
      readServer();
    }
  };

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      props.onSignedIn(await api.login(username, password));
    } catch (err) {
      const ae = toApiError(err);
      if (local && ae.code === 'unreachable') {
        // Not "check the address": the address is this computer's; say what is wrong with it.
        const st = await readServer();
        setError(st && !st.running ? null : { text: 'The callrec server on this computer is not answering. Try again in a moment.' });
      } else {
        setError({ text: ae.message, field: ae.code === 'bad_credentials' ? 'password' : undefined });
        setPassword('');
      }
    } finally {
      setBusy(false);
    }
  };

  // One message at a time: the reason we are here goes once there is a newer one.
  const message = props.message && !error && !stopped ? props.message : null;

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
        {stopped && (
          <div class="form-error local-stopped" role="alert" data-testid="local-stopped">
            <span>
              {LOCAL_STOPPED}
              {server?.exit ? ` It ${server.exit}.` : ''}
            </span>
            <button type="button" class="btn btn-sm btn-ghost" onClick={restart} disabled={restarting != null} data-testid="restart-local">
              {restarting ?? 'Restart it'}
            </button>
          </div>
        )}
        {message && (
          <p class="form-note" role="status" data-testid="login-message">
            {message}
          </p>
        )}
        <label class="field">
          <span>Username</span>
          <input
            class="input"
            type="text"
            autocomplete="username"
            value={username}
            ref={usernameRef}
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
            ref={passwordRef}
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
        {local && server && server.sign_ins.length > 0 && (
          <div class="demo-logins" data-testid="demo-logins">
            <strong>Sign-ins on this computer</strong>
            <pre data-testid="sign-ins">{server.sign_ins.join('\n')}</pre>
          </div>
        )}
        {local && server && server.log.length > 0 && (
          <details class="server-log">
            <summary>Server output</summary>
            <pre>{server.log.slice(-40).join('\n')}</pre>
          </details>
        )}
      </form>
    </div>
  );
}
