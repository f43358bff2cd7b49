// The window: picks the screen (connect → sign in → the app), follows the Rust side's pushes,
// and routes errors by code (expired session → sign in; unreachable → banner; else a notice).
// A banner about an unreachable server wins over the feed: the top bar never says "Live"
// while it shows; the feed's reconnecting clears it. When the server is this computer's own,
// the banner says it stopped and offers to start it again.
import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import {
  api,
  onEvent,
  toApiError,
  type CallDetail,
  type CallId,
  type ConnectionInfo,
  type FeedState,
  type PlayerStatus,
  type ServerChoice,
  type SessionInfo,
  type Startup,
  type TokenStorage,
  type UiEvent,
} from './api';
import type { ComponentChildren } from 'preact';
import { SharedContext, useShared, type DownloadState, type NowPlaying, type Shared } from './context';
import { ConnectScreen } from './screens/connect';
import { LOCAL_STOPPED, LoginScreen } from './screens/login';
import { LiveView } from './screens/live';
import { JournalView } from './screens/journal';
import { AdminView } from './screens/admin';
import { ListensView } from './screens/listens';
import { ReviewsView } from './screens/reviews';
import { PlayerBar } from './components/player';
import { forgetComments } from './comments-store';
import { Logo } from './components/logo';

/** The banner over every screen: the server cannot be reached (`local`: this computer's stopped). */
const LOCAL_NOT_ANSWERING = 'The callrec server on this computer is not answering.';

export interface Banner {
  text: string;
  local: boolean;
}

type Screen =
  | { kind: 'starting' }
  | { kind: 'connect'; error?: string; saved?: ServerChoice | null }
  | { kind: 'login'; connection: ConnectionInfo; message?: string }
  | { kind: 'main'; session: SessionInfo; connection: ConnectionInfo | null };

interface Toast {
  id: number;
  kind: 'info' | 'success' | 'error';
  text: string;
}

export function App() {
  const [screen, setScreen] = useState<Screen>({ kind: 'starting' });
  const [tokenStorage, setTokenStorage] = useState<TokenStorage>('keyring');
  const [lastUsername, setLastUsername] = useState<string>('');
  const [banner, setBanner] = useState<Banner | null>(null);
  const [restarting, setRestarting] = useState(false);
  const [toasts, setToasts] = useState<Toast[]>([]);
  const [liveCalls, setLiveCalls] = useState<CallDetail[]>([]);
  const [feed, setFeed] = useState<{ state: FeedState; message?: string | null }>({ state: 'stopped' });
  const [player, setPlayer] = useState<PlayerStatus | null>(null);
  const [nowPlaying, setNowPlayingState] = useState<NowPlaying | null>(null);
  // The bar closed by its ×: hidden here at once, whatever the Rust side answers, until the next play.
  const [playerClosed, setPlayerClosed] = useState(false);
  const [downloads, setDownloads] = useState<Record<string, DownloadState>>({});
  const [journalChange, setJournalChange] = useState<{ seq: number; callId: CallId | null }>({ seq: 0, callId: null });
  const toastSeq = useRef(0);
  const connectionRef = useRef<ConnectionInfo | null>(null);
  const screenRef = useRef(screen);
  screenRef.current = screen;

  const notify = useCallback((text: string, kind: Toast['kind'] = 'info') => {
    const id = ++toastSeq.current;
    setToasts((t) => [...t.slice(-3), { id, kind, text }]);
    setTimeout(() => setToasts((t) => t.filter((x) => x.id !== id)), kind === 'error' ? 8000 : 5000);
  }, []);

  const setNowPlaying = useCallback((n: NowPlaying | null) => {
    setNowPlayingState(n);
    if (n) setPlayerClosed(false);
  }, []);
  const closePlayer = useCallback(() => {
    setPlayerClosed(true);
    setNowPlayingState(null);
  }, []);

  /** The local server's own words on why it stopped, added to the banner when it says. */
  const explainLocalStop = useCallback(() => {
    api.localServer().then(
      (s) => {
        // Still running: it does not answer (busy, hung) — say that, not "stopped".
        const text = s.running ? LOCAL_NOT_ANSWERING : s.exit ? `${LOCAL_STOPPED} (${s.exit})` : LOCAL_STOPPED;
        setBanner((b) => (b?.local ? { text, local: true } : b));
      },
      () => undefined,
    );
  }, []);

  const toLogin = useCallback((message?: string) => {
    const connection = connectionRef.current;
    // Nothing of one user's session stays on screen for the next (the login screen says the
    // rest, so the banner goes too: one message, not the same twice).
    setBanner(null);
    setLiveCalls([]);
    setNowPlaying(null);
    setPlayer(null);
    setDownloads({});
    setToasts([]);
    if (connection) setScreen({ kind: 'login', connection, message });
    else setScreen({ kind: 'connect', error: message });
  }, []);

  const report = useCallback(
    (e: unknown) => {
      const err = toApiError(e);
      if (err.code === 'session_expired') {
        toLogin(err.message);
      } else if (err.code === 'unreachable') {
        if (connectionRef.current?.choice.kind === 'local') {
          setBanner({ text: LOCAL_STOPPED, local: true });
          explainLocalStop();
        } else {
          setBanner({ text: err.message, local: false });
        }
      } else if (err.code !== 'cancelled') {
        notify(err.message, 'error');
      }
    },
    [notify, toLogin, explainLocalStop],
  );

  const restartLocal = async () => {
    setRestarting(true);
    try {
      const s = await api.restartLocalServer();
      if (s.running) setBanner(null);
      else setBanner({ text: s.exit ? `${LOCAL_STOPPED} (${s.exit})` : LOCAL_STOPPED, local: true });
    } catch (e) {
      const err = toApiError(e);
      setBanner({ text: `${LOCAL_STOPPED} Starting it again failed: ${err.message}`, local: true });
    } finally {
      setRestarting(false);
    }
  };

  const applyStartup = useCallback((s: Startup) => {
    setTokenStorage(s.token_storage);
    setLastUsername(s.last_username ?? '');
    connectionRef.current = s.connection;
    if (s.session) {
      setScreen({ kind: 'main', session: s.session, connection: s.connection });
    } else if (s.connection) {
      setScreen({ kind: 'login', connection: s.connection, message: s.error?.message });
    } else {
      setScreen({ kind: 'connect', error: s.error?.message, saved: s.saved });
    }
  }, []);

  useEffect(() => {
    let stop: (() => void) | undefined;
    let cancelled = false;
    const handler = (e: UiEvent) => {
      switch (e.kind) {
        case 'live_calls':
          setLiveCalls(e.calls);
          break;
        case 'feed':
          setFeed({ state: e.state, message: e.message });
          if (e.state === 'connected') setBanner(null);
          break;
        case 'journal_changed':
          setJournalChange((j) => ({ seq: j.seq + 1, callId: e.call_id }));
          break;
        case 'journal_stale':
          setJournalChange((j) => ({ seq: j.seq + 1, callId: null }));
          break;
        case 'recording_changed':
          setJournalChange((j) => ({ seq: j.seq + 1, callId: e.recording.call_id }));
          break;
        case 'server_changed': {
          // Another node of the installation took over: same session, new address.
          const c = connectionRef.current;
          if (c) connectionRef.current = { ...c, url: e.to };
          setScreen((s) => (s.kind === 'main' ? { ...s, session: { ...s.session, url: e.to }, connection: connectionRef.current } : s));
          notify(`The server at ${e.from} stopped answering. Now using ${e.to}; you are still signed in.`, 'info');
          break;
        }
        case 'session_expired':
          toLogin(e.message);
          break;
        case 'player':
          setPlayer(e.status);
          break;
        case 'download':
          setDownloads((d) => {
            const cur = d[e.progress.download_id];
            if (!cur || cur.state !== 'running') return d;
            return { ...d, [cur.downloadId]: { ...cur, done: e.progress.done, total: e.progress.total ?? null } };
          });
          break;
        case 'local_server':
          // This computer's server stopped or came back: say so, or take the banner down.
          if (connectionRef.current?.choice.kind !== 'local') break;
          if (e.status.running) setBanner((b) => (b?.local ? null : b));
          else {
            const text = e.status.exit ? `${LOCAL_STOPPED} (${e.status.exit})` : LOCAL_STOPPED;
            if (screenRef.current.kind === 'main') setBanner({ text, local: true });
          }
          break;
      }
    };
    onEvent(handler).then((unlisten) => {
      if (cancelled) unlisten();
      else stop = unlisten;
    });
    api.startup().then(applyStartup, (e) => setScreen({ kind: 'connect', error: toApiError(e).message }));
    return () => {
      cancelled = true;
      stop?.();
    };
  }, [applyStartup, toLogin, notify]);

  const onConnected = (connection: ConnectionInfo) => {
    connectionRef.current = connection;
    setBanner(null);
    setScreen({ kind: 'login', connection });
  };

  const onSignedIn = (session: SessionInfo) => {
    // Another user may see other comments: nothing of the last session's is kept.
    forgetComments();
    setBanner(null);
    setLastUsername(session.user.username);
    setScreen({ kind: 'main', session, connection: connectionRef.current });
  };

  const signOut = async () => {
    try {
      await api.logout();
    } catch (e) {
      report(e);
    }
    toLogin();
  };

  const changeServer = async () => {
    try {
      await api.disconnect();
    } catch (e) {
      report(e);
    }
    connectionRef.current = null;
    setScreen({ kind: 'connect' });
  };

  const setDownload = useCallback((d: DownloadState) => setDownloads((all) => ({ ...all, [d.downloadId]: d })), []);

  const shared: Shared | null = useMemo(
    () =>
      screen.kind === 'main'
        ? {
            session: screen.session,
            liveCalls,
            feed,
            player,
            nowPlaying,
            setNowPlaying,
            playerClosed,
            closePlayer,
            downloads,
            setDownload,
            journalChange,
            report,
            notify,
          }
        : null,
    [screen, liveCalls, feed, player, nowPlaying, setNowPlaying, playerClosed, closePlayer, downloads, setDownload, journalChange, report, notify],
  );

  return (
    <div class="app">
      {banner && (
        <div class="banner" role="alert" data-testid="banner">
          <span>{banner.text}</span>
          {banner.local && screen.kind === 'main' && (
            <button class="btn btn-sm btn-ghost" onClick={restartLocal} disabled={restarting} data-testid="restart-local">
              {restarting ? 'Starting…' : 'Restart it'}
            </button>
          )}
          <button class="link" onClick={() => setBanner(null)}>
            Dismiss
          </button>
        </div>
      )}
      {screen.kind === 'starting' && (
        <div class="splash">
          <Logo size={40} />
          <p class="muted">Starting…</p>
        </div>
      )}
      {screen.kind === 'connect' && <ConnectScreen error={screen.error} saved={screen.saved ?? null} onConnected={onConnected} />}
      {screen.kind === 'login' && (
        <LoginScreen
          connection={screen.connection}
          message={screen.message}
          tokenStorage={tokenStorage}
          lastUsername={lastUsername}
          onSignedIn={onSignedIn}
          onChangeServer={changeServer}
        />
      )}
      {screen.kind === 'main' && shared && (
        <SharedContext.Provider value={shared}>
          <Main onSignOut={signOut} unreachable={banner != null} />
        </SharedContext.Provider>
      )}
      <div class="toasts" aria-live="polite">
        {toasts.map((t) => (
          <div key={t.id} class={`toast toast-${t.kind}`} data-testid={`toast-${t.kind}`}>
            {t.text}
          </div>
        ))}
      </div>
    </div>
  );
}

type Tab = 'live' | 'journal' | 'reviews' | 'listens' | 'admin';

function Main({ onSignOut, unreachable }: { onSignOut: () => void; unreachable: boolean }) {
  const [tab, setTab] = useState<Tab>('live');
  return (
    <MainShell tab={tab} setTab={setTab} onSignOut={onSignOut} unreachable={unreachable}>
      {tab === 'live' ? (
        <LiveView onOpenJournal={() => setTab('journal')} />
      ) : tab === 'journal' ? (
        <JournalView />
      ) : tab === 'reviews' ? (
        <ReviewsView />
      ) : tab === 'listens' ? (
        <ListensView />
      ) : (
        <AdminView />
      )}
    </MainShell>
  );
}

function MainShell(props: {
  tab: Tab;
  setTab: (t: Tab) => void;
  onSignOut: () => void;
  /** A banner says the server cannot be reached. */
  unreachable: boolean;
  children: ComponentChildren;
}) {
  const { session, liveCalls, feed, player, playerClosed } = useShared();
  const shown = feedShown(feed.state, props.unreachable);
  const feedLabel =
    shown === 'connected' ? 'Live' : shown === 'stopped' ? 'Offline' : shown === 'connecting' ? 'Connecting…' : 'Reconnecting…';
  const showPlayer = player?.recording_id != null && !playerClosed;
  return (
    <div class="shell">
      <header class="topbar">
        <div class="brand">
          <Logo size={22} />
          <span>callrec</span>
        </div>
        <nav class="tabs" role="tablist">
          <button
            role="tab"
            aria-selected={props.tab === 'live'}
            class={props.tab === 'live' ? 'tab active' : 'tab'}
            onClick={() => props.setTab('live')}
            data-testid="tab-live"
          >
            Live calls
            {liveCalls.length > 0 && <span class="count">{liveCalls.length}</span>}
          </button>
          <button
            role="tab"
            aria-selected={props.tab === 'journal'}
            class={props.tab === 'journal' ? 'tab active' : 'tab'}
            onClick={() => props.setTab('journal')}
            data-testid="tab-journal"
          >
            Journal
          </button>
          <button
            role="tab"
            aria-selected={props.tab === 'reviews'}
            class={props.tab === 'reviews' ? 'tab active' : 'tab'}
            onClick={() => props.setTab('reviews')}
            data-testid="tab-reviews"
          >
            Reviews
          </button>
          <button
            role="tab"
            aria-selected={props.tab === 'listens'}
            class={props.tab === 'listens' ? 'tab active' : 'tab'}
            onClick={() => props.setTab('listens')}
            data-testid="tab-listens"
          >
            Who listened
          </button>
          {session.user.level === 'admin' && (
            <button
              role="tab"
              aria-selected={props.tab === 'admin'}
              class={props.tab === 'admin' ? 'tab active' : 'tab'}
              onClick={() => props.setTab('admin')}
              data-testid="tab-admin"
            >
              Administration
            </button>
          )}
        </nav>
        <div class="spacer" />
        <span class={`feed feed-${shown}`} title={feed.message ?? ''} data-testid="feed" data-state={shown}>
          <span class="dot" />
          {feedLabel}
        </span>
        <div class="user" data-testid="user">
          <span class="user-name">{session.user.display_name || session.user.username}</span>
          <span class="user-level">{session.user.level}</span>
        </div>
        <button class="btn btn-ghost" onClick={props.onSignOut} data-testid="sign-out">
          Sign out
        </button>
      </header>
      {session.token_storage === 'memory' && (
        <div class="notice-strip">No system keyring is available: you will be asked to sign in again after a restart.</div>
      )}
      <main class={showPlayer ? 'content with-player' : 'content'}>{props.children}</main>
      {showPlayer && <PlayerBar />}
    </div>
  );
}

/** The feed as the top bar shows it: never "connected" (Live) while a banner says the server cannot be reached. */
export function feedShown(state: FeedState, unreachable: boolean): FeedState {
  return unreachable && state === 'connected' ? 'reconnecting' : state;
}
