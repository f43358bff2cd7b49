// Generated from the Rust types by src-tauri/tests/bindings.rs — do not edit by hand.
// Regenerate: CALLREC_UPDATE_BINDINGS=1 cargo test -p callrec-desktop --test desktop bindings

// ---- crates/types/src/ids.rs

/** A positive integer id. */
export type UserId = number;

/** A positive integer id. */
export type TeamId = number;

/** A positive integer id. */
export type RoleId = number;

/** A positive integer id. */
export type PhoneId = number;

/** A positive integer id. */
export type RuleId = number;

/** A positive integer id. */
export type CallId = number;

/** A positive integer id. */
export type RecordingId = number;

/** A positive integer id. */
export type DispatchId = number;

/** A positive integer id. */
export type AuditId = number;

// ---- crates/types/src/directory.rs

/**
 * Access level. Ordered: an admin can do what a supervisor can, a supervisor what an agent can.
 */
export type Level =
  | "agent"
  | "supervisor"
  | "admin";

/**
 * A user as the API shows it (never with a password hash).
 */
export type User = {
  id: UserId;
  username: string;
  display_name: string;
  level: Level;
  /**
   * Extensions (`201`) and SIP addresses of record (`sip:201@pbx.example`).
   */
  extensions: string[];
};

/**
 * `POST /api/v1/users`.
 */
export type NewUser = {
  username: string;
  display_name: string;
  password: string;
  level: Level;
  extensions: string[];
};

/**
 * `PATCH /api/v1/users/{id}`: every field optional.
 */
export type UserPatch = {
  username?: string | null;
  display_name?: string | null;
  password?: string | null;
  level?: Level | null;
  extensions?: string[] | null;
};

export type Team = {
  id: TeamId;
  name: string;
  members: UserId[];
  supervisors: UserId[];
};

export type TeamInput = {
  name: string;
  members: UserId[];
  supervisors: UserId[];
};

/**
 * A role only groups users and whole teams; it grants nothing by itself.
 */
export type Role = {
  id: RoleId;
  name: string;
  users: UserId[];
  teams: TeamId[];
};

export type RoleInput = {
  name: string;
  users: UserId[];
  teams: TeamId[];
};

export type Phone = {
  id: PhoneId;
  /**
   * 12 lower-case hex digits.
   */
  mac: string;
  user_id: UserId;
};

export type PhoneInput = {
  mac: string;
  user_id: UserId;
};

// ---- crates/types/src/rules.rs

/**
 * `automatic`: the call is recorded from answer to hangup. `manual`: the participant may
 * start/stop recordings.
 */
export type RuleMode =
  | "automatic"
  | "manual";

/**
 * The direction of a call *for one participant*: outgoing for the caller, incoming for the
 * callee.
 */
export type RuleDirection =
  | "incoming"
  | "outgoing"
  | "both";

export type RuleOrigin =
  | "internal"
  | "external"
  | "both";

/**
 * Where a recording goes besides the store (`store` is always implied).
 */
export type Dispatch =
  | { kind: "store" }
  | {
    kind: "email";
    recipients: string[];
  }
  | {
    kind: "script";
    script: string;
  };

/**
 * Per-call `MDC_MON_MODE` set by the PBX dial plan.
 */
export type MonMode =
  | "auto"
  | "force"
  | "deny"
  | "manual";

export type Rule = {
  id: RuleId;
  description: string;
  enabled: boolean;
  mode: RuleMode;
  role_id: RoleId;
  direction: RuleDirection;
  origin: RuleOrigin;
  dispatch: Dispatch;
  position: number;
};

/**
 * `POST /api/v1/rules` and `PUT /api/v1/rules/{id}`. A missing position appends the rule.
 */
export type RuleInput = {
  description: string;
  enabled: boolean;
  mode: RuleMode;
  role_id: RoleId;
  direction: RuleDirection;
  origin: RuleOrigin;
  dispatch: Dispatch;
  position?: number | null;
};

/**
 * Which way a rule moves in the list: `POST /api/v1/rules/{id}/move` with `{"to": "up"}`.
 */
export type RuleMove =
  | "up"
  | "down";

/**
 * `POST /api/v1/rules/{id}/move`.
 */
export type RuleMoveInput = {
  to: RuleMove;
};

/**
 * `PUT /api/v1/rules/{id}/enabled`: switches one rule on or off, leaving the rest of it alone.
 */
export type RuleEnabledInput = {
  enabled: boolean;
};

/**
 * One problem with a field, so a form can show it where it belongs.
 */
export type FieldError = {
  field: string;
  message: string;
};

// ---- crates/types/src/engine.rs

/**
 * How a user belongs to a role.
 */
export type Via =
  | { kind: "direct" }
  | {
    kind: "team";
    team_id: TeamId;
    team: string;
  };

/**
 * Whether a call is internal (every participant is a user) or external.
 */
export type CallOrigin =
  | "internal"
  | "external";

/**
 * A rule that matched one internal participant.
 */
export type RuleMatch = {
  rule_id: RuleId;
  user_id: UserId;
  mode: RuleMode;
  dispatch: Dispatch;
};

/**
 * One line of the decision trace. `message` is plain words for people; the other fields let a
 * program find the rule or user it is about.
 */
export type TraceLine = {
  kind: TraceKind;
  rule_id?: RuleId | null;
  user_id?: UserId | null;
  message: string;
  /**
   * Set for events during the call (button presses); the decision itself has no time.
   */
  at?: string | null;
};

export type TraceKind =
  | "mon_mode"
  | "rule_matched"
  | "rule_not_matched"
  | "rule_disabled"
  | "decision"
  | "manual_start"
  | "manual_stop"
  | "refused";

/**
 * The outcome for one call.
 */
export type Decision = {
  mon_mode: MonMode;
  origin: CallOrigin;
  /**
   * Recorded from answer to hangup (an automatic rule matched, or `force`).
   */
  automatic: boolean;
  /**
   * Never recorded (`deny`).
   */
  denied: boolean;
  auto_matches: RuleMatch[];
  manual_matches: RuleMatch[];
  /**
   * Users who may start/stop a manual recording.
   */
  manual_allowed: UserId[];
  trace: TraceLine[];
};

// ---- crates/types/src/calls.rs

export type CallState =
  | "ringing"
  | "active"
  | "held"
  | "ended";

export type ParticipantRole =
  | "caller"
  | "callee";

export type Participant = {
  name: string;
  /**
   * Extension, phone number or SIP AoR as the PBX reported it.
   */
  number: string;
  /**
   * The user this number belongs to; `None` for an external party.
   */
  user_id: UserId | null;
  role: ParticipantRole;
  /**
   * The directory's name of `user_id` (its display name, or its username when that is
   * empty), filled by the server from the directory as it is now whenever it sends a call,
   * so old calls and renamed users show the right name. Never stored: `name` is what the
   * PBX said, this is who the user is.
   */
  user_name?: string | null;
};

/**
 * The direction of the call as a whole, used by the journal filter: `incoming` when the caller
 * is external, `outgoing` when an internal caller reaches an external party, `internal` when
 * every participant is a user. (Per-participant direction is the rule engine's business.)
 */
export type CallDirection =
  | "incoming"
  | "outgoing"
  | "internal";

/**
 * Where a call came from.
 */
export type CallSource =
  | "siprec"
  | "ingest"
  | "demo";

export type Call = {
  id: CallId;
  /**
   * The key of the call's files on disk (`<callkey>_<seq>.wav`, `<callkey>.json`).
   */
  call_key: string;
  sip_call_ids: string[];
  participants: Participant[];
  direction: CallDirection;
  origin: CallOrigin;
  mon_mode: MonMode;
  source: CallSource;
  started_at: string;
  answered_at: string | null;
  ended_at: string | null;
  state: CallState;
  recording_count: number;
};

/**
 * How a manual recording was started.
 */
export type ManualVia =
  | "client"
  | "phone"
  | "pbx";

/**
 * What caused a recording.
 */
export type Trigger =
  | {
    kind: "auto";
    rule_id?: RuleId | null;
    /**
     * The rule's description as it is now, filled by the server whenever it sends a
     * recording; `None` when the rule was deleted. Never stored.
     */
    rule_name?: string | null;
  }
  | { kind: "force" }
  | {
    kind: "manual";
    user_id?: UserId | null;
    via: ManualVia;
  };

export type AudioCodec =
  | "pcmu"
  | "pcma"
  | "pcm16";

export type RecordingState =
  /**
   * Still being written (a live call).
   */
  | "recording"
  | "complete";

export type Recording = {
  id: RecordingId;
  call_id: CallId;
  seq: number;
  /**
   * `<callkey>_<seq>.wav`, the name it is downloaded as.
   */
  file_name: string;
  started_at: string;
  /**
   * Milliseconds from the call's answer (or start) to this recording's start.
   */
  start_offset_ms: number;
  duration_ms: number;
  bytes: number;
  codec: AudioCodec;
  sample_rate: number;
  channels: number;
  /**
   * Hex SHA-256 of the stored file; empty while recording.
   */
  sha256: string;
  trigger: Trigger;
  state: RecordingState;
  legal_hold: boolean;
  dispatch: DispatchTarget[];
  /**
   * Spans of the call whose audio was lost (the disk refused it for longer than the
   * recorder could hold it in memory), in order. The file holds silence there, so its
   * timeline stays the call's; a span at the very end may be missing from the file when
   * the call ended before the disk recovered.
   */
  gaps: RecordingGap[];
};

/**
 * A span of a recording whose audio was lost.
 */
export type RecordingGap = {
  /**
   * Milliseconds from the recording's start to the first lost audio.
   */
  offset_ms: number;
  /**
   * Milliseconds of audio lost.
   */
  duration_ms: number;
};

export type DispatchStatus =
  | "pending"
  | "sent"
  | "failed";

/**
 * One copy of one recording to send (e-mail or script), with its bookkeeping.
 */
export type DispatchTarget = {
  id: DispatchId;
  recording_id: RecordingId;
  rule_id: RuleId | null;
  target: Dispatch;
  status: DispatchStatus;
  attempts: number;
  last_error: string | null;
  next_attempt_at: string | null;
  sent_at: string | null;
  /**
   * Extra facts of the last attempt (script output, "attachment too large", …).
   */
  detail: string | null;
  /**
   * The call of the recording, so a queue names the call rather than a recording id;
   * filled by the dispatch queue route (`GET /api/v1/dispatch`).
   */
  call?: DispatchCall | null;
};

/**
 * The call a dispatch target's recording belongs to, as the dispatch queue shows it.
 */
export type DispatchCall = {
  id: CallId;
  started_at: string;
  /**
   * With `user_name` filled from the directory.
   */
  participants: Participant[];
  /**
   * The recording's sequence number within the call (`<callkey>_<seq>.wav`).
   */
  recording_seq: number;
};

/**
 * The recording state next to the red toggle, as seen by one user.
 */
export type LiveRecording =
  /**
   * An automatic (rule or force) recording is running.
   */
  | { kind: "recording_auto" }
  /**
   * A manual recording is running, started by `by` (display name).
   */
  | {
    kind: "recording_manual";
    by: string;
    user_id: UserId | null;
  }
  | { kind: "not_recording" };

/**
 * A call with everything a viewer may know of it.
 */
export type CallDetail = Call & {
  recordings: Recording[];
  trace: TraceLine[];
  /**
   * The recording state right now (`not_recording` for ended calls).
   */
  recording: LiveRecording;
  /**
   * Whether the viewer may press the record toggle now.
   */
  can_toggle: boolean;
  /**
   * Why the viewer may not, in plain words, when `can_toggle` is false.
   */
  not_allowed_reason?: string | null;
};

/**
 * The per-call journal document on disk (`<callkey>.json`), the `$2` of a script dispatch.
 */
export type JournalDocument = {
  version: number;
  call: Call;
  recordings: Recording[];
  decision_trace: TraceLine[];
};

/**
 * One row of the journal list.
 */
export type JournalItem = Call & {
  duration_ms: number | null;
};

export type JournalPage = {
  items: JournalItem[];
  next_cursor: string | null;
};

// ---- crates/types/src/wire.rs

/**
 * Every error the API returns: `{code, message}`; `fields` for validation problems and
 * `trace` for a rule decision that refused an upload.
 */
export type ErrorBody = {
  code: string;
  message: string;
  fields?: FieldError[] | null;
  trace?: TraceLine[] | null;
};

export type LoginRequest = {
  username: string;
  password: string;
};

export type LoginResponse = {
  token: string;
  user: User;
  expires_at: string;
};

export type IngestRole =
  | "caller"
  | "callee";

export type IngestParticipant = {
  number: string;
  name: string;
  role: IngestRole;
};

export type IngestTrigger =
  | "auto"
  | "manual";

/**
 * The `call` part of `POST /api/v1/ingest`.
 */
export type IngestCall = {
  sip_call_id: string;
  started_at: string;
  answered_at?: string | null;
  ended_at?: string | null;
  participants: IngestParticipant[];
  mon_mode?: string | null;
  trigger: IngestTrigger;
  /**
   * For a manual recording: the extension, AoR or username of who pressed record.
   */
  triggered_by?: string | null;
  recording_started_at?: string | null;
};

export type IngestResponse = {
  call_id: CallId;
  recording_id: RecordingId;
};

export type RecordingAction =
  | "start"
  | "stop";

export type RecordingActionRequest = {
  action: RecordingAction;
};

export type RecordingActionResponse = {
  state: LiveRecording;
  recording_id?: RecordingId | null;
};

export type SmtpSecurity =
  | "none"
  | "starttls"
  | "tls";

export type SmtpSettings = {
  host: string;
  port: number;
  security: SmtpSecurity;
  username: string;
  /**
   * Write-only: `GET` shows `""` when unset and `"********"` when set.
   */
  password: string;
  from: string;
};

export type Settings = {
  retention_days: number;
  dispatch_schedule: string;
  smtp: SmtpSettings;
};

/**
 * `PUT /api/v1/settings` may send a subset.
 */
export type SettingsPatch = {
  retention_days?: number | null;
  dispatch_schedule?: string | null;
  smtp?: SmtpPatch | null;
};

export type SmtpPatch = {
  host?: string | null;
  port?: number | null;
  security?: SmtpSecurity | null;
  username?: string | null;
  password?: string | null;
  from?: string | null;
};

export type StorageReport = {
  bytes_used: number;
  bytes_free: number;
  bytes_per_day: number;
  /**
   * `None` when nothing is being recorded (the disk never fills).
   */
  days_until_full: number | null;
  recordings: number;
  /**
   * The disk refused a recording write and has taken none since: new calls are refused
   * until it does.
   */
  disk_full: boolean;
  /**
   * Calls holding audio in memory until the disk takes it.
   */
  calls_waiting: number;
  /**
   * Milliseconds of audio lost to a full disk since the server started; each loss is a
   * gap of its recording.
   */
  audio_lost_ms: number;
  /**
   * Recording writes the disk refused since the server started (retries included).
   */
  write_errors: number;
};

export type AuditEntry = {
  id: AuditId;
  at: string;
  user_id: UserId | null;
  /**
   * Who did it: a username, `ingest`, `phone:<mac>` or `system`.
   */
  actor: string;
  action: string;
  target: string;
  detail: string;
};

export type AuditPage = {
  items: AuditEntry[];
  next_cursor: string | null;
};

export type HoldRequest = {
  legal_hold: boolean;
};

/**
 * Server-sent events of `GET /api/v1/events`; the SSE event name is the variant name.
 */
export type Event =
  /**
   * A live call appeared or changed (state, participants, recording state).
   */
  | { event: "call"; data: CallDetail }
  | { event: "call_ended"; data: {
    call_id: CallId;
  } }
  /**
   * A recording started, stopped or was finished.
   */
  | { event: "recording"; data: Recording }
  /**
   * The journal gained or changed a row.
   */
  | { event: "journal"; data: {
    call_id: CallId;
  } }
  /**
   * This subscriber fell behind and missed events: what it shows (live calls, journal) may
   * be stale and should be fetched again. The data is `{}` (hence the empty braces).
   */
  | { event: "lagged"; data: {
  } };

// ---- src-tauri/error.rs

/**
 * What the UI does differently per error; everything else is `failed` with a message.
 */
export type ErrorCode =
  /**
   * The server cannot be reached (refused, timed out, name not found): show the banner.
   */
  | "unreachable"
  /**
   * The session ended or expired: back to the login form.
   */
  | "session_expired"
  /**
   * Wrong username or password: keep the login form, mark the password.
   */
  | "bad_credentials"
  /**
   * The server refused the action for this user (rules, visibility).
   */
  | "not_permitted"
  /**
   * Input the app refuses before asking anyone (a malformed server address), or a form the
   * server refused (422, with `fields`).
   */
  | "invalid"
  /**
   * There is no audio output to play through.
   */
  | "no_audio_device"
  /**
   * The user cancelled (a download).
   */
  | "cancelled"
  /**
   * Anything else; the message says what.
   */
  | "failed";

/**
 * The error every command returns.
 */
export type AppError = {
  code: ErrorCode;
  message: string;
  /**
   * The fields the server refused (code `invalid`), each with its message.
   */
  fields?: FieldError[];
};

// ---- src-tauri/settings.rs

/**
 * Where the server is.
 */
export type ServerChoice =
  /**
   * A server somewhere else, by URL (`http://recorder.example:8080`).
   */
  | {
    kind: "remote";
    url: string;
  }
  /**
   * "This computer": the bundled `callrec-server`, started by the app and stopped on exit.
   */
  | { kind: "local" };

export type AppSettings = {
  /**
   * `None` until the first successful connect (the first-run screen).
   */
  server?: ServerChoice | null;
  /**
   * The last username used, to prefill the login form.
   */
  last_username?: string | null;
};

// ---- src-tauri/tokens.rs

/**
 * Which store holds the token.
 */
export type TokenStorage =
  /**
   * The OS keyring: the session survives a restart.
   */
  | "keyring"
  /**
   * No keyring available: the session ends with the app.
   */
  | "memory";

// ---- src-tauri/session.rs

export type ConnectionInfo = {
  choice: ServerChoice;
  url: string;
};

export type SessionInfo = {
  user: User;
  url: string;
  token_storage: TokenStorage;
};

/**
 * What the window needs to pick its first screen.
 */
export type Startup = {
  /**
   * `None`: the first run, show the connect screen.
   */
  connection: ConnectionInfo | null;
  /**
   * `Some`: a restored session, straight to the app.
   */
  session: SessionInfo | null;
  last_username: string | null;
  /**
   * Where a session would be kept (`memory`: the window warns that a restart logs out).
   */
  token_storage: TokenStorage;
  /**
   * Why the saved server could not be reached, if it could not.
   */
  error: AppError | null;
  /**
   * The saved choice, even when connecting to it failed (to prefill the form).
   */
  saved: ServerChoice | null;
};

// ---- src-tauri/local_server.rs

export type LocalServerStatus = {
  running: boolean;
  /**
   * `http://127.0.0.1:PORT` while running.
   */
  url: string | null;
  data_dir: string;
  /**
   * The last lines the server printed, without terminal colour codes.
   */
  log: string[];
  /**
   * How to sign in: the demo users and the first admin password, as the server printed
   * them when it created them (remembered across restarts; empty until it did).
   */
  sign_ins: string[];
  /**
   * Why it is not running any more ("exit status: 1"), after it stopped by itself.
   */
  exit?: string | null;
};

/**
 * The sign-ins the local server printed: the demo block (`callrec demo: … Log in …` and
 * the indented lines after it) and the bootstrap admin's password.
 */
export type SignIns = {
  demo: string[];
  admin: string | null;
};

// ---- src-tauri/journal.rs

/**
 * The journal's filters as the window sends them; empty strings mean "no filter".
 */
export type JournalFilter = {
  q?: string | null;
  from?: string | null;
  to?: string | null;
  direction?: CallDirection | null;
  has_recordings?: boolean | null;
  user_id?: UserId | null;
  cursor?: string | null;
  limit?: number | null;
};

// ---- src-tauri/player/mod.rs

export type PlaybackState =
  | "idle"
  /**
   * Waiting for the first audio (start or seek).
   */
  | "loading"
  | "playing"
  | "paused"
  | "ended"
  | "failed";

export type PlayerStatus = {
  recording_id: RecordingId | null;
  state: PlaybackState;
  position_ms: number;
  duration_ms: number;
  speed: number;
  error?: AppError | null;
  /**
   * Something the listener should know that is not an error (the output played far
   * faster than real time: no real sound device, nothing was heard).
   */
  notice?: string | null;
};

// ---- src-tauri/download.rs

export type DownloadFormat =
  /**
   * The stored file as recorded (G.711 WAV).
   */
  | "original"
  /**
   * 16-bit PCM WAV, converted by the server on the fly.
   */
  | "pcm16";

export type DownloadRequest = {
  /**
   * Chosen by the window, so it can match progress events and cancel.
   */
  download_id: string;
  recording_id: RecordingId;
  format: DownloadFormat;
  path: string;
};

export type DownloadProgress = {
  download_id: string;
  done: number;
  total: number | null;
};

export type DownloadResult = {
  download_id: string;
  path: string;
  bytes: number;
  sha256: string;
  /**
   * `true` when the SHA-256 equals the server's (only the original has one: `pcm16` is made
   * on the fly, so it is `false` there and the window says so).
   */
  verified: boolean;
};

// ---- src-tauri/events.rs

/**
 * The state of the server's push stream as the window shows it.
 */
export type FeedState =
  | "connecting"
  | "connected"
  /**
   * Lost; the app retries by itself.
   */
  | "reconnecting"
  | "stopped";

export type UiEvent =
  /**
   * The user's live calls changed (the whole list, newest first).
   */
  | {
    kind: "live_calls";
    calls: CallDetail[];
  }
  | {
    kind: "feed";
    state: FeedState;
    message?: string | null;
  }
  /**
   * A journal row appeared or changed.
   */
  | {
    kind: "journal_changed";
    call_id: CallId;
  }
  /**
   * The push stream missed events: journal rows may have changed without a `journal_changed`.
   */
  | { kind: "journal_stale" }
  /**
   * A recording started, stopped or was finished.
   */
  | {
    kind: "recording_changed";
    recording: Recording;
  }
  /**
   * The session ended: back to the login form.
   */
  | {
    kind: "session_expired";
    message: string;
  }
  | {
    kind: "player";
    status: PlayerStatus;
  }
  | {
    kind: "download";
    progress: DownloadProgress;
  }
  | {
    kind: "local_server";
    status: LocalServerStatus;
  };

// ---- crates/client/src/admin.rs

/**
 * `GET /api/v1/settings/schedule/preview`: a dispatch schedule and its next run times (in
 * the server's time zone, with its offset).
 */
export type SchedulePreview = {
  cron: string;
  next: string[];
};

// ---- src-tauri/admin.rs

/**
 * What "run now" did, as the window reports it.
 */
export type DispatchRun = {
  /**
   * Targets tried in this run.
   */
  attempted: number;
  sent: number;
  /**
   * Attempts that failed in this run.
   */
  failed: number;
  /**
   * Of `failed`, targets with no automatic retries left.
   */
  gave_up: number;
  /**
   * Targets still waiting after the run.
   */
  pending: number;
  /**
   * Recordings retention deleted in this run.
   */
  deleted_recordings: RecordingId[];
};

/**
 * The audit log's filters as the window sends them; empty strings mean "no filter".
 */
export type AuditFilter = {
  action?: string | null;
  user_id?: UserId | null;
  cursor?: string | null;
  limit?: number | null;
};
