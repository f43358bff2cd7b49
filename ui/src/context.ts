// What every screen of the signed-in window shares: the session, the pushed state (live
// calls, feed, player, downloads) and how to report an error.
import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import type { Call, CallDetail, CallId, FeedState, PlayerStatus, Recording, SessionInfo } from './api';

export interface DownloadState {
  downloadId: string;
  recordingId: number;
  path: string;
  done: number;
  total: number | null;
  state: 'running' | 'done' | 'failed' | 'cancelled';
  message?: string;
  verified?: boolean;
}

export interface NowPlaying {
  recording: Recording;
  call: Call;
}

export interface Shared {
  session: SessionInfo;
  liveCalls: CallDetail[];
  feed: { state: FeedState; message?: string | null };
  player: PlayerStatus | null;
  nowPlaying: NowPlaying | null;
  /** Sets what plays; a recording (not null) also shows the player bar again after its ×. */
  setNowPlaying: (n: NowPlaying | null) => void;
  /** The player bar was closed by its × (hidden here, whatever the Rust side answered). */
  playerClosed: boolean;
  closePlayer: () => void;
  downloads: Record<string, DownloadState>;
  setDownload: (d: DownloadState) => void;
  /** Bumped whenever a journal row may have changed (with the call, when known). */
  journalChange: { seq: number; callId: CallId | null };
  /** Shows an error the way its code asks: back to login, a banner, or a notice. */
  report: (e: unknown) => void;
  notify: (text: string, kind?: 'info' | 'success' | 'error') => void;
}

export const SharedContext = createContext<Shared | null>(null);

export function useShared(): Shared {
  const s = useContext(SharedContext);
  if (!s) throw new Error('useShared outside the signed-in window');
  return s;
}
