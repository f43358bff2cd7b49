// The window's only door to the Rust side: every command is a typed function here, every
// event arrives through `onEvent`. Errors always reach callers as `ApiError {code, message}`.
import { invoke } from '@tauri-apps/api/core';
import { listen, type UnlistenFn } from '@tauri-apps/api/event';
import type {
  AppError,
  CallDetail,
  CallId,
  ConnectionInfo,
  DownloadFormat,
  DownloadRequest,
  DownloadResult,
  ErrorCode,
  FieldError,
  JournalFilter,
  JournalPage,
  LocalServerStatus,
  PlayerStatus,
  RecordingAction,
  RecordingActionResponse,
  RecordingId,
  ServerChoice,
  SessionInfo,
  Startup,
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

/** Whatever a command threw, as an ApiError with a message a person can read. */
export function toApiError(e: unknown): ApiError {
  if (e instanceof ApiError) return e;
  if (isAppError(e)) return new ApiError(e.code, e.message, e.fields ?? []);
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
  login: (username: string, password: string) => call<SessionInfo>('login', { username, password }),
  logout: () => call<null>('logout'),
  disconnect: () => call<null>('disconnect'),
  localServer: () => call<LocalServerStatus>('local_server'),

  liveCalls: () => call<CallDetail[]>('live_calls'),
  setRecording: (callId: CallId, action: RecordingAction) =>
    call<RecordingActionResponse>('set_recording', { callId, action }),

  journal: (filter: JournalFilter) => call<JournalPage>('journal', { filter }),
  getCall: (callId: CallId) => call<CallDetail>('get_call', { callId }),
  listUsers: () => call<User[]>('list_users'),

  playerPlay: (recordingId: RecordingId, startMs = 0) => call<PlayerStatus>('player_play', { recordingId, startMs }),
  playerPause: () => call<PlayerStatus>('player_pause'),
  playerResume: () => call<PlayerStatus>('player_resume'),
  playerSeek: (positionMs: number) => call<PlayerStatus>('player_seek', { positionMs: Math.max(0, Math.round(positionMs)) }),
  playerSkip: (deltaMs: number) => call<PlayerStatus>('player_skip', { deltaMs: Math.round(deltaMs) }),
  playerSpeed: (speed: number) => call<PlayerStatus>('player_speed', { speed }),
  playerStop: () => call<null>('player_stop'),
  playerStatus: () => call<PlayerStatus>('player_status'),

  chooseDownloadPath: (fileName: string, format: DownloadFormat) =>
    call<string | null>('choose_download_path', { fileName, format }),
  downloadRecording: (request: DownloadRequest) => call<DownloadResult>('download_recording', { request }),
  cancelDownload: (downloadId: string) => call<boolean>('cancel_download', { downloadId }),
};

export type Api = typeof api;

/** Follows the Rust side's pushes; returns the function that stops following. */
export function onEvent(handler: (event: UiEvent) => void): Promise<UnlistenFn> {
  return listen<UiEvent>(EVENT, (e) => handler(e.payload));
}
