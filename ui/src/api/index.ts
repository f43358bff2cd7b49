// The window's only door to the Rust side: every command is a typed function here, every
// event arrives through `onEvent`. Errors always reach callers as `ApiError {code, message}`.
import { invoke } from '@tauri-apps/api/core';
import { listen, type UnlistenFn } from '@tauri-apps/api/event';
import type {
  AppError,
  CallDetail,
  CallId,
  Comment,
  CommentId,
  Channels,
  ConnectionInfo,
  ConsentResponse,
  ConsentState,
  DownloadFormat,
  DownloadRequest,
  DownloadResult,
  EvidenceCheck,
  ErrorCode,
  FieldError,
  JournalFilter,
  JournalPage,
  ListensPage,
  LocalServerStatus,
  NewComment,
  NewShare,
  Peaks,
  PlayerStatus,
  Recording,
  RecordingAction,
  RecordingActionResponse,
  RecordingId,
  ServerChoice,
  SessionInfo,
  Share,
  ShareId,
  Person,
  SharedItem,
  Startup,
  TranscriptView,
  UiEvent,
  User,
} from './bindings';

export type * from './bindings';

/** The one Tauri event every push from the Rust side travels on. */
export const EVENT = 'callrec://event';

export class ApiError extends Error {
  readonly code: ErrorCode;
  /** The fields the server refused (code `invalid`), each with its message. */
  readonly fields: FieldError[];
  constructor(code: ErrorCode, message: string, fields: FieldError[] = []) {
    super(message);
    this.code = code;
    this.fields = fields;
    this.name = 'ApiError';
  }
}

function isAppError(e: unknown): e is AppError {
  return typeof e === 'object' && e !== null && 'code' in e && 'message' in e;
}

const CODES: readonly ErrorCode[] = ['unreachable', 'session_expired', 'bad_credentials', 'not_permitted', 'invalid', 'no_audio_device', 'cancelled', 'failed'];

/** What each code means, for messages that are empty or not fit to show. */
const PLAIN: Record<ErrorCode, string> = {
  unreachable: 'The server cannot be reached.',
  session_expired: 'Your session has ended. Please sign in again.',
  bad_credentials: 'Wrong username or password.',
  not_permitted: 'You are not allowed to do this.',
  invalid: 'Some of what was entered is not valid.',
  no_audio_device: 'No audio output device was found.',
  cancelled: 'Cancelled.',
  failed: 'Something went wrong. Please try again.',
};

/** A PBX or configuration variable (`MDC_MON_MODE=deny`, `CALLREC_X`): nothing an agent can read. */
const VARIABLE = /\b[A-Z][A-Z0-9]*_[A-Z0-9_]+\b/;

/**
 * A server's or the PBX's text as a person may read it: kept when it is plain words, replaced
 * by the code's sentence when it is empty or names a variable (the PBX's mon mode is said in words).
 */
export function plainMessage(code: ErrorCode, message: string | null | undefined): string {
  const m = (message ?? '').trim();
  if (!m) return PLAIN[code];
  if (/MON_MODE/.test(m)) return 'The phone system does not allow recording this call.';
  if (VARIABLE.test(m)) return PLAIN[code];
  return m;
}

/** Whatever a command threw, as an ApiError with a message a person can read. */
export function toApiError(e: unknown): ApiError {
  if (e instanceof ApiError) return e;
  if (isAppError(e)) {
    // A code this window does not know (a newer Rust side) is handled as `failed`.
    const code = CODES.includes(e.code) ? e.code : 'failed';
    return new ApiError(code, plainMessage(code, e.message), e.fields ?? []);
  }
  // A failure of the bridge itself (a command that does not exist, bad arguments).
  return new ApiError('failed', 'Something went wrong in the app. Please try again.');
}

export async function call<T>(command: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(command, args);
  } catch (e) {
    throw toApiError(e);
  }
}

export const api = {
  startup: () => call<Startup>('startup'),
  connect: (choice: ServerChoice) => call<ConnectionInfo>('connect', { choice }),
  /** Gives up a pending `connect`, which then rejects with code `cancelled`. */
  cancelConnect: () => call<null>('cancel_connect'),
  login: (username: string, password: string) => call<SessionInfo>('login', { username, password }),
  logout: () => call<null>('logout'),
  disconnect: () => call<null>('disconnect'),
  localServer: () => call<LocalServerStatus>('local_server'),
  /** Starts the bundled server again on its existing data (the session stays valid). */
  restartLocalServer: () => call<LocalServerStatus>('restart_local_server'),

  liveCalls: () => call<CallDetail[]>('live_calls'),
  setRecording: (callId: CallId, action: RecordingAction) =>
    call<RecordingActionResponse>('set_recording', { callId, action }),
  /** The agent records the caller's (verbal) consent. */
  setConsent: (callId: CallId, consent: ConsentState) => call<ConsentResponse>('set_consent', { callId, consent }),

  journal: (filter: JournalFilter) => call<JournalPage>('journal', { filter }),
  getCall: (callId: CallId) => call<CallDetail>('get_call', { callId }),
  listUsers: () => call<User[]>('list_users'),
  holdRecording: (recordingId: RecordingId, legalHold: boolean) => call<Recording>('hold_recording', { recordingId, legalHold }),
  deleteRecording: (recordingId: RecordingId) => call<null>('delete_recording', { recordingId }),

  playerPlay: (recordingId: RecordingId, startMs = 0) => call<PlayerStatus>('player_play', { recordingId, startMs }),
  playerPause: () => call<PlayerStatus>('player_pause'),
  playerResume: () => call<PlayerStatus>('player_resume'),
  playerSeek: (positionMs: number) => call<PlayerStatus>('player_seek', { positionMs: Math.max(0, Math.round(positionMs)) }),
  playerSkip: (deltaMs: number) => call<PlayerStatus>('player_skip', { deltaMs: Math.round(deltaMs) }),
  playerSpeed: (speed: number) => call<PlayerStatus>('player_speed', { speed }),
  /** Which party is heard (issue #15.2). */
  playerChannels: (channels: Channels) => call<PlayerStatus>('player_channels', { channels }),
  /** The volume in percent, 0–100. */
  playerVolume: (volume: number) => call<PlayerStatus>('player_volume', { volume: Math.max(0, Math.min(100, Math.round(volume))) }),
  playerStop: () => call<null>('player_stop'),
  playerStatus: () => call<PlayerStatus>('player_status'),

  chooseDownloadPath: (fileName: string, format: DownloadFormat) =>
    call<string | null>('choose_download_path', { fileName, format }),
  downloadRecording: (request: DownloadRequest) => call<DownloadResult>('download_recording', { request }),
  cancelDownload: (downloadId: string) => call<boolean>('cancel_download', { downloadId }),

  /** The player's digest of a whole recording judged against its signed evidence (tick or cross). */
  checkRecordingEvidence: (recordingId: RecordingId, sha256: string) =>
    call<EvidenceCheck>('check_recording_evidence', { recordingId, sha256 }),
  /** Who listened to my calls: plays and downloads of recordings of the user's calls, newest first. */
  listListens: (cursor: string | null = null) => call<ListensPage>('list_listens', { cursor }),

  /** The waveform: min/max per bucket per channel (caller first), `buckets` ≈ the width in pixels. */
  recordingPeaks: (recordingId: RecordingId, buckets: number) =>
    call<Peaks>('recording_peaks', { recordingId, buckets: Math.max(1, Math.round(buckets)) }),
  listComments: (recordingId: RecordingId) => call<Comment[]>('list_comments', { recordingId }),
  createComment: (recordingId: RecordingId, comment: NewComment) => call<Comment>('create_comment', { recordingId, comment }),
  updateComment: (commentId: CommentId, comment: NewComment) => call<Comment>('update_comment', { commentId, comment }),
  deleteComment: (commentId: CommentId) => call<null>('delete_comment', { commentId }),
  /** Whom a recording may be shared with (supervisors, admins). */
  shareRecipients: () => call<Person[]>('share_recipients'),
  myTeam: () => call<Person[]>('my_team'),
  createShare: (recordingId: RecordingId, share: NewShare) => call<Share>('create_share', { recordingId, share }),
  listShares: (recordingId: RecordingId) => call<Share[]>('list_shares', { recordingId }),
  revokeShare: (shareId: ShareId) => call<Share>('revoke_share', { shareId }),
  /** "Shared with me": the live shares of the signed-in user. */
  listShared: () => call<SharedItem[]>('list_shared'),
  /** The recording's transcript and its dialogue; `null` when no rule has it transcribed. */
  recordingTranscript: (recordingId: RecordingId) => call<TranscriptView | null>('recording_transcript', { recordingId }),
};

export type Api = typeof api;

/** Follows the Rust side's pushes; returns the function that stops following. */
export function onEvent(handler: (event: UiEvent) => void): Promise<UnlistenFn> {
  return listen<UiEvent>(EVENT, (e) => handler(e.payload));
}
