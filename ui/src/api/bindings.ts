// Generated from the Rust types (ts-rs) by src-tauri/tests/bindings.rs — do not edit by hand.
// Regenerate: CALLREC_UPDATE_BINDINGS=1 cargo test -p callrec-desktop --test desktop bindings

// ---- callrec_types::ids

/**
 * A positive integer id.
 */
export type UserId = number;

/**
 * A positive integer id.
 */
export type TeamId = number;

/**
 * A positive integer id.
 */
export type RoleId = number;

/**
 * A positive integer id.
 */
export type PhoneId = number;

/**
 * A positive integer id.
 */
export type RuleId = number;

/**
 * A positive integer id.
 */
export type CallId = number;

/**
 * A positive integer id.
 */
export type RecordingId = number;

/**
 * A positive integer id.
 */
export type DispatchId = number;

/**
 * A positive integer id.
 */
export type AuditId = number;

/**
 * A positive integer id.
 */
export type AlarmId = number;

/**
 * A positive integer id.
 */
export type CommentId = number;

/**
 * A positive integer id.
 */
export type ShareId = number;

/**
 * A positive integer id.
 */
export type ScorecardId = number;

/**
 * A positive integer id.
 */
export type ReviewId = number;

// ---- callrec_types::directory

/**
 * Access level. Ordered: an admin can do what a supervisor can, a supervisor what an agent can.
 */
export type Level = "agent" | "supervisor" | "admin";

/**
 * A user as the API shows it (never with a password hash).
 */
export type User = { id: UserId, username: string, display_name: string, level: Level, 
/**
 * Extensions (`201`) and SIP addresses of record (`sip:201@pbx.example`).
 */
extensions: Array<string>, };

/**
 * A user as other users see them — who they are, nothing of their extensions, teams or
 * rights: an entry of `GET /api/v1/share-recipients` (whom a recording may be shared with)
 * and of `GET /api/v1/me/team` (the people in the caller's scope).
 */
export type Person = { id: UserId, username: string, display_name: string, level: Level, };

/**
 * `POST /api/v1/users`.
 */
export type NewUser = { username: string, display_name: string, password: string, level: Level, extensions: Array<string>, };

/**
 * `PATCH /api/v1/users/{id}`: every field optional.
 */
export type UserPatch = { username?: string | null, display_name?: string | null, password?: string | null, level?: Level | null, extensions?: Array<string> | null, };

export type Team = { id: TeamId, name: string, members: Array<UserId>, supervisors: Array<UserId>, };

export type TeamInput = { name: string, members: Array<UserId>, supervisors: Array<UserId>, };

/**
 * A role only groups users and whole teams; it grants nothing by itself.
 */
export type Role = { id: RoleId, name: string, users: Array<UserId>, teams: Array<TeamId>, };

export type RoleInput = { name: string, users: Array<UserId>, teams: Array<TeamId>, };

export type Phone = { id: PhoneId, 
/**
 * 12 lower-case hex digits.
 */
mac: string, user_id: UserId, };

export type PhoneInput = { mac: string, user_id: UserId, };

// ---- callrec_types::rules

/**
 * `automatic`: the call is recorded from answer to hangup. `manual`: the participant may
 * start/stop recordings.
 */
export type RuleMode = "automatic" | "manual";

/**
 * The direction of a call *for one participant*: outgoing for the caller, incoming for the
 * callee.
 */
export type RuleDirection = "incoming" | "outgoing" | "both";

export type RuleOrigin = "internal" | "external" | "both";

/**
 * Where a recording goes besides the store (`store` is always implied).
 */
export type Dispatch = { "kind": "store" } | { "kind": "email", recipients: Array<string>, } | { "kind": "script", script: string, } | { "kind": "webhook", url: string, secret: string, };

/**
 * Per-call `MDC_MON_MODE` set by the PBX dial plan.
 */
export type MonMode = "auto" | "force" | "deny" | "manual";

export type Rule = { id: RuleId, description: string, enabled: boolean, mode: RuleMode, role_id: RoleId, direction: RuleDirection, origin: RuleOrigin, dispatch: Dispatch, position: number, 
/**
 * An automatic rule with it records only once the caller's consent is `granted`, and
 * stops (the recording deleted or kept, by the `consent_refused` setting) when it is
 * `refused` (issue #11.2).
 */
require_consent: boolean, 
/**
 * The recordings this rule causes are transcribed (issue #16).
 */
transcribe: boolean, };

/**
 * `POST /api/v1/rules` and `PUT /api/v1/rules/{id}`. A missing position appends the rule.
 */
export type RuleInput = { description: string, enabled: boolean, mode: RuleMode, role_id: RoleId, direction: RuleDirection, origin: RuleOrigin, dispatch: Dispatch, position?: number | null, 
/**
 * See [`Rule::require_consent`]; only for automatic rules.
 */
require_consent: boolean, 
/**
 * See [`Rule::transcribe`].
 */
transcribe?: boolean, };

/**
 * Which way a rule moves in the list: `POST /api/v1/rules/{id}/move` with `{"to": "up"}`.
 */
export type RuleMove = "up" | "down";

/**
 * `POST /api/v1/rules/{id}/move`.
 */
export type RuleMoveInput = { to: RuleMove, };

/**
 * `PUT /api/v1/rules/{id}/enabled`: switches one rule on or off, leaving the rest of it alone.
 */
export type RuleEnabledInput = { enabled: boolean, };

/**
 * One problem with a field, so a form can show it where it belongs.
 */
export type FieldError = { field: string, message: string, };

// ---- callrec_types::engine

/**
 * How a user belongs to a role.
 */
export type Via = { "kind": "direct" } | { "kind": "team", team_id: TeamId, team: string, };

/**
 * Whether a call is internal (every participant is a user) or external.
 */
export type CallOrigin = "internal" | "external";

/**
 * A rule that matched one internal participant.
 */
export type RuleMatch = { rule_id: RuleId, user_id: UserId, mode: RuleMode, dispatch: Dispatch, 
/**
 * The rule asks for transcripts (issue #16).
 */
transcribe: boolean, };

/**
 * One line of the decision trace. `message` is plain words for people; the other fields let a
 * program find the rule or user it is about.
 */
export type TraceLine = { kind: TraceKind, rule_id?: RuleId | null, user_id?: UserId | null, message: string, 
/**
 * Set for events during the call (button presses); the decision itself has no time.
 */
at?: string | null, };

export type TraceKind = "mon_mode" | "rule_matched" | "rule_not_matched" | "rule_disabled" | "decision" | "manual_start" | "manual_stop" | "refused" | "paused" | "resumed" | "consent";

/**
 * The outcome for one call.
 */
export type Decision = { mon_mode: MonMode, origin: CallOrigin, 
/**
 * Recorded from answer to hangup (an automatic rule matched, or `force`).
 */
automatic: boolean, 
/**
 * Never recorded (`deny`).
 */
denied: boolean, auto_matches: Array<RuleMatch>, manual_matches: Array<RuleMatch>, 
/**
 * Users who may start/stop a manual recording.
 */
manual_allowed: Array<UserId>, trace: Array<TraceLine>, 
/**
 * The automatic recording waits for the caller's consent: every automatic rule that
 * matched has `require_consent` (one without it records regardless; `force` never waits).
 */
consent_required: boolean, };

// ---- callrec_types::calls

export type CallState = "ringing" | "active" | "held" | "ended";

export type ParticipantRole = "caller" | "callee";

export type Participant = { name: string, 
/**
 * Extension, phone number or SIP AoR as the PBX reported it.
 */
number: string, 
/**
 * The user this number belongs to; `None` for an external party.
 */
user_id: UserId | null, role: ParticipantRole, 
/**
 * The directory's name of `user_id` (its display name, or its username when that is
 * empty), filled by the server from the directory as it is now whenever it sends a call,
 * so old calls and renamed users show the right name. Never stored: `name` is what the
 * PBX said, this is who the user is.
 */
user_name?: string | null, };

/**
 * The direction of the call as a whole, used by the journal filter: `incoming` when the caller
 * is external, `outgoing` when an internal caller reaches an external party, `internal` when
 * every participant is a user. (Per-participant direction is the rule engine's business.)
 */
export type CallDirection = "incoming" | "outgoing" | "internal";

/**
 * Where a call came from.
 */
export type CallSource = "siprec" | "ingest" | "demo";

export type Call = { id: CallId, 
/**
 * The key of the call's files on disk (`<callkey>_<seq>.wav`, `<callkey>.json`).
 */
call_key: string, sip_call_ids: Array<string>, participants: Array<Participant>, direction: CallDirection, origin: CallOrigin, mon_mode: MonMode, source: CallSource, started_at: string, answered_at: string | null, ended_at: string | null, state: CallState, recording_count: number, 
/**
 * Whether the caller agreed to be recorded, who said so and when (issue #11.2).
 */
consent: CallConsent, };

/**
 * The caller's consent to being recorded: `unknown` until someone says, `announced` once
 * the caller was told the call is recorded, then `granted` or `refused`.
 */
export type ConsentState = "unknown" | "announced" | "granted" | "refused";

/**
 * Where a call's consent came from.
 */
export type ConsentVia = "sip" | "ingest" | "client";

/**
 * A call's consent with who gave it, how and when.
 */
export type CallConsent = { state: ConsentState, 
/**
 * Who said so, in words: the user who recorded it, or what the PBX named; `None` while
 * nobody has.
 */
by?: string | null, 
/**
 * The user who recorded it (through the API).
 */
user_id?: UserId | null, via?: ConsentVia | null, at?: string | null, };

/**
 * How a manual recording was started.
 */
export type ManualVia = "client" | "phone" | "pbx";

/**
 * What caused a recording.
 */
export type Trigger = { "kind": "auto", rule_id: RuleId | null, 
/**
 * The rule's description as it is now, filled by the server whenever it sends a
 * recording; `None` when the rule was deleted. Never stored.
 */
rule_name?: string | null, } | { "kind": "force" } | { "kind": "manual", user_id: UserId | null, via: ManualVia, };

export type AudioCodec = "pcmu" | "pcma" | "pcm16";

export type RecordingState = "recording" | "complete";

export type Recording = { id: RecordingId, call_id: CallId, seq: number, 
/**
 * `<callkey>_<seq>.wav`, the name it is downloaded as.
 */
file_name: string, started_at: string, 
/**
 * Milliseconds from the call's answer (or start) to this recording's start.
 */
start_offset_ms: number, duration_ms: number, bytes: number, codec: AudioCodec, sample_rate: number, channels: number, 
/**
 * Hex SHA-256 of the stored file; empty while recording.
 */
sha256: string, trigger: Trigger, state: RecordingState, legal_hold: boolean, dispatch: Array<DispatchTarget>, 
/**
 * Spans of the call whose audio was lost (the disk refused it for longer than the
 * recorder could hold it in memory), in order. The file holds silence there, so its
 * timeline stays the call's; a span at the very end may be missing from the file when
 * the call ended before the disk recovered.
 */
gaps: Array<RecordingGap>, 
/**
 * The PCI pauses of the recording, in order (issue #11.1): the file holds silence (or a
 * soft tone) there, never the call's audio. The last one is open (`to_ms` null) while
 * the recording is paused.
 */
pauses: Array<RecordingPause>, 
/**
 * The spans the call was on hold while this recording ran, in order (the PBX's
 * re-INVITE made every stream inactive; the file holds silence there). The last one is
 * open (`to_ms` null) while the call is held.
 */
holds: Array<RecordingHold>, };

/**
 * A span of a recording whose audio was lost.
 */
export type RecordingGap = { 
/**
 * Milliseconds from the recording's start to the first lost audio.
 */
offset_ms: number, 
/**
 * Milliseconds of audio lost.
 */
duration_ms: number, };

/**
 * A span of a recording during which it was paused.
 */
export type RecordingPause = { 
/**
 * Milliseconds from the recording's start to the pause.
 */
from_ms: number, 
/**
 * Milliseconds from the recording's start to the resume; `None` while still paused.
 */
to_ms: number | null, 
/**
 * Who paused it, as people read it ("Alice (201)", an admin's name).
 */
by: string, 
/**
 * The user who paused it.
 */
user_id: UserId | null, };

/**
 * A span of a recording during which the call was on hold.
 */
export type RecordingHold = { 
/**
 * Milliseconds from the recording's start to the hold.
 */
from_ms: number, 
/**
 * Milliseconds from the recording's start to the call's resumption; `None` while held.
 */
to_ms: number | null, };

export type DispatchStatus = "pending" | "sent" | "failed";

/**
 * One copy of one recording to send (e-mail or script), with its bookkeeping.
 */
export type DispatchTarget = { id: DispatchId, recording_id: RecordingId, rule_id: RuleId | null, target: Dispatch, status: DispatchStatus, attempts: number, last_error: string | null, next_attempt_at: string | null, sent_at: string | null, 
/**
 * Extra facts of the last attempt (script output, "attachment too large", …).
 */
detail: string | null, 
/**
 * The call of the recording, so a queue names the call rather than a recording id;
 * filled by the dispatch queue route (`GET /api/v1/dispatch`).
 */
call?: DispatchCall | null, };

/**
 * The call a dispatch target's recording belongs to, as the dispatch queue shows it.
 */
export type DispatchCall = { id: CallId, started_at: string, 
/**
 * With `user_name` filled from the directory.
 */
participants: Array<Participant>, 
/**
 * The recording's sequence number within the call (`<callkey>_<seq>.wav`).
 */
recording_seq: number, };

/**
 * The recording state next to the red toggle, as seen by one user.
 */
export type LiveRecording = { "kind": "recording_auto", paused?: LivePause, } | { "kind": "recording_manual", by: string, user_id: UserId | null, paused?: LivePause, } | { "kind": "not_recording" };

/**
 * A running recording's pause as the live call shows it: who paused it and since when, so
 * a client can run its own timer.
 */
export type LivePause = { 
/**
 * Who paused it (display name).
 */
by: string, user_id: UserId | null, since: string, 
/**
 * When the server resumes it by itself (setting `pause_auto_resume_secs`), if it does.
 */
auto_resume_at?: string, };

/**
 * A call with everything a viewer may know of it.
 */
export type CallDetail = { recordings: Array<Recording>, trace: Array<TraceLine>, 
/**
 * The recording state right now (`not_recording` for ended calls).
 */
recording: LiveRecording, 
/**
 * Whether the viewer may press the record toggle now.
 */
can_toggle: boolean, 
/**
 * Whether the viewer may pause or resume the running recording now (issue #11.1: any
 * participant, an admin — automatic recordings too).
 */
can_pause: boolean, 
/**
 * Why the viewer may not, in plain words, when `can_toggle` is false.
 */
not_allowed_reason?: string | null, 
/**
 * The call's automatic recording waits for the caller's consent (the deciding rule has
 * `require_consent`): with `recording` `not_recording` and consent not refused, the
 * call is "waiting for consent".
 */
consent_required: boolean, id: CallId, 
/**
 * The key of the call's files on disk (`<callkey>_<seq>.wav`, `<callkey>.json`).
 */
call_key: string, sip_call_ids: Array<string>, participants: Array<Participant>, direction: CallDirection, origin: CallOrigin, mon_mode: MonMode, source: CallSource, started_at: string, answered_at: string | null, ended_at: string | null, state: CallState, recording_count: number, 
/**
 * Whether the caller agreed to be recorded, who said so and when (issue #11.2).
 */
consent: CallConsent, };

/**
 * The per-call journal document on disk (`<callkey>.json`), the `$2` of a script dispatch.
 */
export type JournalDocument = { version: number, call: Call, recordings: Array<Recording>, decision_trace: Array<TraceLine>, 
/**
 * The call's entries of the signed evidence chain (issue #12.2), in chain order: with the
 * installation's public key anyone can check an exported call (`docs/evidence.md`).
 */
evidence: Array<EvidenceEntry>, };

/**
 * One row of the journal list.
 */
export type JournalItem = { duration_ms: number | null, 
/**
 * The average score (0–100) of the call's reviews (issue #15.4); absent when nobody
 * reviewed it.
 */
score?: number, 
/**
 * Why the search `q` matched the call — the field and a snippet (issue #16); absent when
 * the journal was not searched.
 */
matched?: SearchMatch, id: CallId, 
/**
 * The key of the call's files on disk (`<callkey>_<seq>.wav`, `<callkey>.json`).
 */
call_key: string, sip_call_ids: Array<string>, participants: Array<Participant>, direction: CallDirection, origin: CallOrigin, mon_mode: MonMode, source: CallSource, started_at: string, answered_at: string | null, ended_at: string | null, state: CallState, recording_count: number, 
/**
 * Whether the caller agreed to be recorded, who said so and when (issue #11.2).
 */
consent: CallConsent, };

export type JournalPage = { items: Array<JournalItem>, next_cursor: string | null, };

/**
 * The body of a webhook dispatch (`{"kind": "webhook"}`): POSTed as JSON as soon as a
 * recording is finished, signed with `X-Callrec-Signature: sha256=<hex HMAC-SHA256 of the
 * body with the rule's secret>` and keyed with `X-Callrec-Dispatch-Key` (the same key as
 * `idempotency_key`, stable across retries, so a receiver can drop a duplicate).
 */
export type WebhookPayload = { 
/**
 * Always `recording.finished`.
 */
event: string, idempotency_key: string, 
/**
 * 1 for the first attempt, 2 for the first retry, …
 */
attempt: number, 
/**
 * The call, participants with their directory names.
 */
call: Call, recording: WebhookRecording, 
/**
 * Where the audio is fetched (with an authorised session): `/api/v1/recordings/{id}/audio`.
 */
download_path: string, };

/**
 * The recording a webhook names.
 */
export type WebhookRecording = { id: RecordingId, seq: number, file_name: string, started_at: string, duration_ms: number, bytes: number, codec: AudioCodec, 
/**
 * Hex SHA-256 of the stored file.
 */
sha256: string, trigger: Trigger, };

// ---- callrec_types::search

/**
 * The part of a call that a journal search matched.
 */
export type SearchField = "number" | "name" | "transcript";

/**
 * Why a journal row matched the search `q`: the field, and the text around the match as the
 * journal shows it (the number or name itself; for a transcript, about
 * [`SNIPPET_WORDS`] words of the line with the match, after its speaker).
 */
export type SearchMatch = { field: SearchField, snippet: string, };

// ---- callrec_types::alarms

/**
 * What is wrong with the call's recording.
 */
export type AlarmKind = "no_recording" | "no_audio" | "one_side_silent" | "too_short";

/**
 * One alarm: at most one per call.
 */
export type Alarm = { id: AlarmId, call_id: CallId, kind: AlarmKind, 
/**
 * In plain words: "no audio was received (no RTP) during the 10 s the call was recorded".
 */
message: string, 
/**
 * Milliseconds the recording should cover (answer to hang-up).
 */
expected_ms: number, 
/**
 * Milliseconds the recordings cover.
 */
recorded_ms: number, raised_at: string, acknowledged_at: string | null, acknowledged_by: UserId | null, };

/**
 * `GET /api/v1/alarms?unacknowledged=true&limit=N`.
 */
export type AlarmQuery = { unacknowledged: boolean, limit?: number | null, };

// ---- callrec_types::scorecards

/**
 * How a criterion is answered.
 */
export type CriterionKind = "yes_no" | "scale_1_5";

/**
 * One named criterion of a scorecard.
 */
export type Criterion = { name: string, kind: CriterionKind, 
/**
 * Above 0; the criterion's share of the score is its weight over the sum of weights.
 */
weight: number, };

/**
 * `POST /api/v1/scorecards` and `PUT /api/v1/scorecards/{id}`.
 */
export type ScorecardInput = { name: string, criteria: Array<Criterion>, };

/**
 * A scorecard as stored. `version` starts at 1 and grows with every edit; reviews name the
 * version they were filled against and keep its criteria.
 */
export type Scorecard = { id: ScorecardId, name: string, criteria: Array<Criterion>, version: number, 
/**
 * Archived scorecards (deleted while reviews use them) are kept for those reviews but
 * take no new ones and are not listed.
 */
archived: boolean, created_at: string, updated_at: string, };

/**
 * One criterion's answer: `true`/`false` for yes/no, an integer 1–5 for a scale.
 */
export type Answer = boolean | number;

/**
 * `POST /api/v1/calls/{id}/reviews`: `answers[i]` answers `criteria[i]` of the scorecard.
 */
export type ReviewInput = { scorecard_id: ScorecardId, agent_id: UserId, answers: Array<Answer>, comment?: string, };

/**
 * `PUT /api/v1/reviews/{id}`: new answers (against the review's own criteria) and comment;
 * the call, the agent and the scorecard stay.
 */
export type ReviewUpdate = { answers: Array<Answer>, comment?: string, };

/**
 * A filled scorecard: one per (call, agent, scorecard).
 */
export type Review = { id: ReviewId, call_id: CallId, 
/**
 * When the call started (the summary's date range is over this).
 */
call_started_at: string, agent_id: UserId, reviewer_id: UserId, scorecard_id: ScorecardId, scorecard_name: string, scorecard_version: number, 
/**
 * The scorecard's criteria when the review was filled.
 */
criteria: Array<Criterion>, answers: Array<Answer>, comment: string | null, 
/**
 * The weighted percentage, 0–100 ([`score`]).
 */
score: number, created_at: string, updated_at: string, 
/**
 * The directory's names of the agent and the reviewer (display name, or username), filled
 * by the server whenever it sends a review, like a participant's `user_name`; never stored.
 */
agent_name?: string, reviewer_name?: string, };

/**
 * One criterion over the reviews of a summary.
 */
export type CriterionSummary = { scorecard_id: ScorecardId, criterion: string, kind: CriterionKind, 
/**
 * How many reviews answered it.
 */
count: number, 
/**
 * The average answer: the share of yes (0–1) for yes/no, the average value (1–5) for a
 * scale.
 */
average: number, };

/**
 * `GET /api/v1/agents/{id}/scores?from&to&scorecard_id`: the agent's reviews of calls that
 * started in `[from, to)`.
 */
export type ScoreSummary = { agent_id: UserId, from: string | null, to: string | null, scorecard_id: ScorecardId | null, 
/**
 * How many reviews the summary covers.
 */
reviews: number, 
/**
 * The average of their scores; `None` without reviews.
 */
average_score: number | null, 
/**
 * Per criterion — by scorecard, name and kind, so that a criterion keeps its line across
 * the scorecard's versions — in the order first met.
 */
criteria: Array<CriterionSummary>, };

// ---- callrec_types::evidence

/**
 * What an entry records.
 */
export type EvidenceKind = "recorded" | "deleted_by_retention" | "deleted_by_admin" | "deleted_by_consent";

/**
 * One entry of the chain, as stored and as sent.
 */
export type EvidenceEntry = { 
/**
 * Position in the chain: 1, 2, 3 … without gaps.
 */
seq: number, kind: EvidenceKind, recording_id: RecordingId, call_id: CallId, 
/**
 * Hex SHA-256 of the recording's plaintext audio file (as downloaded with
 * `format=original`).
 */
sha256: string, duration_ms: number, bytes: number, at: string, 
/**
 * The previous entry's `entry_hash` ([`GENESIS_HASH`] for the first).
 */
prev_hash: string, 
/**
 * Hex SHA-256 of [`EvidenceEntry::canonical`].
 */
entry_hash: string, 
/**
 * Base64 of the 32-byte Ed25519 public key that signed the entry.
 */
public_key: string, 
/**
 * Base64 of the 64-byte Ed25519 signature of [`EvidenceEntry::canonical`].
 */
signature: string, };

/**
 * What the desktop's player shows on a recording it has streamed whole (issue #12.3).
 */
export type EvidenceVerdict = "verified" | "altered" | "unsigned";

/**
 * The verdict with its reason in words.
 */
export type EvidenceCheck = { verdict: EvidenceVerdict, 
/**
 * e.g. "what was played matches the entry signed on 2026-12-03 10:15:02 UTC".
 */
detail: string, };

/**
 * A play or a download.
 */
export type ListenAction = "play" | "download";

/**
 * One play or download of a recording of a call the asking user took part in (issue #12.4),
 * read from the audit log.
 */
export type Listen = { 
/**
 * The audit row it comes from.
 */
id: AuditId, at: string, 
/**
 * Who listened: their user id and username (as the audit row holds it).
 */
user_id: UserId | null, actor: string, action: ListenAction, recording_id: RecordingId, call_id: CallId, 
/**
 * `format original` or `format pcm16`, as audited.
 */
detail: string, };

/**
 * `GET /api/v1/me/listens?cursor&limit`, newest first.
 */
export type ListensPage = { items: Array<Listen>, next_cursor: string | null, };

// ---- callrec_types::review

/**
 * One channel's peaks: per bucket the smallest and largest 16-bit linear sample (G.711 is
 * decoded first), `min[i] <= max[i]`.
 */
export type ChannelPeaks = { min: Array<number>, max: Array<number>, };

/**
 * `GET /api/v1/recordings/{id}/peaks?buckets=N`: the recording's audio cut into `buckets`
 * equal runs of frames (bucket `i` holds frames `ceil(i·F/N)..ceil((i+1)·F/N)` of `F`), and
 * the min/max of each run per channel. `channels[0]` is the caller, `channels[1]` the callee
 * (the agent, in an incoming call); a mono upload has one. A recording with fewer frames
 * than `N` has one bucket per frame.
 */
export type Peaks = { recording_id: RecordingId, 
/**
 * Buckets in each channel's `min` and `max`.
 */
buckets: number, 
/**
 * Frames (sample instants) in the audio, and their rate: a bucket spans
 * `frames / buckets / sample_rate` seconds.
 */
frames: number, sample_rate: number, channels: Array<ChannelPeaks>, };

/**
 * A comment pinned on a recording at a position (`to_ms` absent) or on a span.
 */
export type Comment = { id: CommentId, recording_id: RecordingId, 
/**
 * Who wrote it (`None` once that user is deleted) and their name: the directory's as it
 * is now, or as it was when written for a deleted user.
 */
author_id: UserId | null, author_name: string, 
/**
 * Milliseconds from the recording's start.
 */
at_ms: number, to_ms?: number, text: string, created_at: string, 
/**
 * When its author last changed it; absent when never.
 */
edited_at?: string, };

/**
 * The body of `POST /api/v1/recordings/{id}/comments` and of `PATCH /api/v1/comments/{id}`
 * (which sends the comment's content whole).
 */
export type NewComment = { at_ms: number, to_ms?: number, text: string, };

/**
 * A grant of one recording to one user until `expires_at` (issue #15.5).
 */
export type Share = { id: ShareId, recording_id: RecordingId, call_id: CallId, 
/**
 * The trainee, and their directory name as it is now.
 */
user_id: UserId, user_name: string, 
/**
 * Who granted it (`None` once that user is deleted), and their name.
 */
granted_by: UserId | null, granted_by_name: string, granted_at: string, expires_at: string, 
/**
 * Set when revoked; a revoked or expired share grants nothing.
 */
revoked_at?: string, revoked_by?: UserId, };

/**
 * The body of `POST /api/v1/recordings/{id}/shares`.
 */
export type NewShare = { user_id: UserId, expires_at: string, };

/**
 * One entry of `GET /api/v1/me/shared` ("Shared with me"): a live share, its recording and
 * the recording's call.
 */
export type SharedItem = { share: Share, recording: Recording, call: Call, };

// ---- callrec_types::transcripts

/**
 * Where a recording's transcription stands.
 */
export type TranscriptStatus = "queued" | "running" | "done" | "failed";

/**
 * One word with its times (ms from the recording's start).
 */
export type TranscriptWord = { start_ms: number, end_ms: number, text: string, };

/**
 * One line of one channel: who said it, when (ms from the recording's start) and what.
 */
export type TranscriptLine = { 
/**
 * 0 = the caller's channel, 1 = the callee's.
 */
channel: number, 
/**
 * "Caller", "Agent (Alice Adams)", … as the dialogue shows it.
 */
speaker: string, start_ms: number, end_ms: number, text: string, words?: Array<TranscriptWord>, };

/**
 * `GET /api/v1/recordings/{id}/transcript`: the status of the recording's transcription and,
 * once done, its lines in time order (all channels merged).
 */
export type Transcript = { recording_id: RecordingId, status: TranscriptStatus, attempts: number, 
/**
 * The last failure, while retried or once given up.
 */
error?: string, queued_at: string, finished_at?: string, lines: Array<TranscriptLine>, };

// ---- callrec_types::wire

/**
 * `ErrorBody.code`: what went wrong, for a program to branch on (the message is for people).
 * The strings on the wire are the variant names in snake_case.
 *
 * A code this build does not know (from a newer server) decodes as [`ErrorCode::Unknown`]; a
 * client then goes by the HTTP status, as it does for an error body that is not JSON.
 */
export type ServerErrorCode = "already_paused" | "already_sent" | "bad_credentials" | "bad_id" | "bad_query" | "busy" | "call_not_live" | "conflict" | "disk_full" | "file_missing" | "forbidden" | "internal" | "invalid" | "invalid_call" | "invalid_wav" | "legal_hold" | "malformed_json" | "malformed_upload" | "node_unavailable" | "not_found" | "not_paused" | "not_permitted" | "not_permitted_by_rules" | "not_recording" | "not_transcribed" | "recording_altered" | "recording_denied" | "recording_in_progress" | "session_expired" | "smtp_failed" | "time_in_future" | "too_large" | "too_many_attempts" | "unauthorized" | "unknown";

/**
 * Every error the API returns: `{code, message}`; `fields` for validation problems and
 * `trace` for a rule decision that refused an upload.
 */
export type ErrorBody = { code: ServerErrorCode, message: string, fields?: Array<FieldError> | null, trace?: Array<TraceLine> | null, };

export type LoginRequest = { username: string, password: string, };

export type LoginResponse = { token: string, user: User, expires_at: string, };

export type IngestRole = "caller" | "callee";

export type IngestParticipant = { number: string, name: string, role: IngestRole, };

export type IngestTrigger = "auto" | "manual";

/**
 * The `call` part of `POST /api/v1/ingest`.
 */
export type IngestCall = { sip_call_id: string, started_at: string, answered_at: string | null, ended_at: string | null, participants: Array<IngestParticipant>, mon_mode: string | null, trigger: IngestTrigger, 
/**
 * For a manual recording: the extension, AoR or username of who pressed record.
 */
triggered_by: string | null, recording_started_at: string | null, 
/**
 * The caller's consent as the PBX knows it: `unknown`, `announced`, `granted` or
 * `refused` (issue #11.2); absent is `unknown`.
 */
consent: string | null, };

export type IngestResponse = { call_id: CallId, recording_id: RecordingId, };

export type RecordingAction = "start" | "stop" | "pause" | "resume";

export type RecordingActionRequest = { action: RecordingAction, };

export type RecordingActionResponse = { state: LiveRecording, recording_id?: RecordingId | null, };

/**
 * What fills a recording's timeline while it is paused: never the call's audio.
 */
export type PauseFill = "silence" | "tone";

/**
 * `PUT /api/v1/calls/{id}/consent`: the agent records the caller's (verbal) consent.
 */
export type ConsentRequest = { consent: ConsentState, };

/**
 * The answer of `PUT /api/v1/calls/{id}/consent`: the call's consent now and what it did to
 * the recording.
 */
export type ConsentResponse = { consent: CallConsent, state: LiveRecording, recording_id?: RecordingId | null, };

/**
 * The `consent_refused` setting: what becomes of what was recorded before the caller
 * refused consent.
 */
export type ConsentRefused = "delete" | "keep";

export type SmtpSecurity = "none" | "starttls" | "tls";

export type SmtpSettings = { host: string, port: number, security: SmtpSecurity, username: string, 
/**
 * Write-only: `GET` shows `""` when unset and `"********"` when set.
 */
password: string, from: string, };

export type Settings = { retention_days: number, dispatch_schedule: string, smtp: SmtpSettings, 
/**
 * What a paused recording holds (issue #11.1).
 */
pause_fill: PauseFill, 
/**
 * A pause longer than this many seconds is resumed by the server; 0 = never.
 */
pause_auto_resume_secs: number, 
/**
 * Who is mailed a missing-recording alarm (issue #11.3) when SMTP is set; empty: nobody.
 */
alarm_recipients: Array<string>, 
/**
 * What was recorded before a caller refused consent: deleted (default) or kept.
 */
consent_refused: ConsentRefused, };

/**
 * `PUT /api/v1/settings` may send a subset.
 */
export type SettingsPatch = { retention_days?: number | null, dispatch_schedule?: string | null, smtp?: SmtpPatch | null, pause_fill?: PauseFill | null, pause_auto_resume_secs?: number | null, alarm_recipients?: Array<string> | null, consent_refused?: ConsentRefused | null, };

export type SmtpPatch = { host?: string | null, port?: number | null, security?: SmtpSecurity | null, username?: string | null, password?: string | null, from?: string | null, };

/**
 * `GET /api/v1/settings/schedule/preview`: a dispatch schedule and its next run times (in
 * the server's time zone, with its offset).
 */
export type SchedulePreview = { cron: string, next: Array<string>, };

/**
 * The body of `POST /api/v1/settings/smtp/test`.
 */
export type SmtpTestRequest = { to: string, };

/**
 * The answer of `POST /api/v1/settings/smtp/test` when the message went out.
 */
export type SmtpTestResult = { sent: boolean, 
/**
 * The address the test message went to (trimmed).
 */
to: string, };

/**
 * `POST /api/v1/dispatch/run`: what one run of the dispatch and retention job did.
 * A missing field reads as its default, so a report from an older server still decodes.
 */
export type RunReport = { started_at: string, finished_at: string, 
/**
 * Targets tried in this run.
 */
attempted: number, sent: number, 
/**
 * Attempts that failed in this run (each target stays pending for a retry, or is marked
 * failed when it has used its attempts).
 */
failed: number, 
/**
 * Of `failed`, targets now marked `failed` (no more automatic retries).
 */
gave_up: number, 
/**
 * Targets still pending after the run.
 */
pending: number, 
/**
 * Recordings deleted by retention in this run.
 */
deleted_recordings: Array<RecordingId>, 
/**
 * Expired recordings retention could not delete (see the log); tried again next run.
 */
retention_errors: number, };

export type StorageReport = { bytes_used: number, bytes_free: number, bytes_per_day: number, 
/**
 * `None` when nothing is being recorded (the disk never fills).
 */
days_until_full: number | null, recordings: number, 
/**
 * The disk refused a recording write and has taken none since: new calls are refused
 * until it does.
 */
disk_full: boolean, 
/**
 * Calls holding audio in memory until the disk takes it.
 */
calls_waiting: number, 
/**
 * Milliseconds of audio lost to a full disk since the server started; each loss is a
 * gap of its recording.
 */
audio_lost_ms: number, 
/**
 * Recording writes the disk refused since the server started (retries included).
 */
write_errors: number, 
/**
 * The object store closed recordings are uploaded to (`storage_url`, issue #10.2). This
 * and the fields below are absent when recordings stay in the data directory.
 */
object_store?: string, 
/**
 * Recordings and journals in the local spool waiting for the object store.
 */
spool_backlog?: number, 
/**
 * Bytes of those files.
 */
spool_backlog_bytes?: number, 
/**
 * Bytes of recordings in the object store; absent when it could not be listed just now.
 */
bucket_bytes?: number, 
/**
 * Failed upload attempts since the server started (each is retried with backoff).
 */
upload_failures?: number, 
/**
 * Why the last upload attempt failed, while uploads are failing.
 */
last_upload_error?: string, };

export type AuditEntry = { id: AuditId, at: string, user_id: UserId | null, 
/**
 * Who did it: a username, `ingest`, `phone:<mac>` or `system`.
 */
actor: string, action: string, target: string, detail: string, };

export type AuditPage = { items: Array<AuditEntry>, next_cursor: string | null, };

export type HoldRequest = { legal_hold: boolean, };

/**
 * Server-sent events of `GET /api/v1/events`; the SSE event name is the variant name.
 */
export type Event = { "event": "call", "data": CallDetail } | { "event": "call_ended", "data": { call_id: CallId, } } | { "event": "recording", "data": Recording } | { "event": "alarm", "data": Alarm } | { "event": "journal", "data": { call_id: CallId, } } | { "event": "lagged", "data": Record<symbol, never> };

// ---- callrec_desktop::error

/**
 * What the UI does differently per error; everything else is `failed` with a message.
 */
export type ErrorCode = "unreachable" | "session_expired" | "bad_credentials" | "not_permitted" | "invalid" | "no_audio_device" | "cancelled" | "failed";

/**
 * The error every command returns.
 */
export type AppError = { code: ErrorCode, message: string, 
/**
 * The fields the server refused (code `invalid`), each with its message.
 */
fields?: Array<FieldError>, };

// ---- callrec_desktop::settings

/**
 * Where the server is.
 */
export type ServerChoice = { "kind": "remote", url: string, fallbacks?: Array<string>, } | { "kind": "local" };

export type AppSettings = { 
/**
 * `None` until the first successful connect (the first-run screen).
 */
server: ServerChoice | null, 
/**
 * The last username used, to prefill the login form.
 */
last_username: string | null, };

// ---- callrec_desktop::tokens

/**
 * Which store holds the token.
 */
export type TokenStorage = "keyring" | "memory";

// ---- callrec_desktop::session

export type ConnectionInfo = { choice: ServerChoice, url: string, };

export type SessionInfo = { user: User, url: string, token_storage: TokenStorage, };

/**
 * What the window needs to pick its first screen.
 */
export type Startup = { 
/**
 * `None`: the first run, show the connect screen.
 */
connection: ConnectionInfo | null, 
/**
 * `Some`: a restored session, straight to the app.
 */
session: SessionInfo | null, last_username: string | null, 
/**
 * Where a session would be kept (`memory`: the window warns that a restart logs out).
 */
token_storage: TokenStorage, 
/**
 * Why the saved server could not be reached, if it could not.
 */
error: AppError | null, 
/**
 * The saved choice, even when connecting to it failed (to prefill the form).
 */
saved: ServerChoice | null, };

// ---- callrec_desktop::local_server

export type LocalServerStatus = { running: boolean, 
/**
 * `http://127.0.0.1:PORT` while running.
 */
url: string | null, data_dir: string, 
/**
 * The last lines the server printed, without terminal colour codes.
 */
log: Array<string>, 
/**
 * How to sign in: the demo users and the first admin password, as the server printed
 * them when it created them (remembered across restarts; empty until it did).
 */
sign_ins: Array<string>, 
/**
 * Why it is not running any more ("exit status: 1"), after it stopped by itself.
 */
exit?: string | null, };

// ---- callrec_desktop::journal

/**
 * The journal's filters as the window sends them; empty strings mean "no filter".
 */
export type JournalFilter = { q?: string | null, from?: string | null, to?: string | null, direction?: CallDirection | null, has_recordings?: boolean | null, user_id?: UserId | null, 
/**
 * Only calls with a review (`true`) or without one (`false`).
 */
reviewed?: boolean | null, cursor?: string | null, limit?: number | null, };

// ---- callrec_desktop::player

export type PlaybackState = "idle" | "loading" | "playing" | "paused" | "ended" | "failed";

/**
 * Which party of a stereo recording is heard.
 */
export type Channels = "both" | "caller" | "callee";

export type PlayerStatus = { recording_id: RecordingId | null, state: PlaybackState, position_ms: number, duration_ms: number, speed: number, 
/**
 * Which party is heard (both, the caller's channel, the callee's).
 */
channels: Channels, 
/**
 * The volume in percent, 0–100.
 */
volume: number, error?: AppError | null, 
/**
 * Something the listener should know that is not an error (the output played far
 * faster than real time: no real sound device, nothing was heard).
 */
notice?: string | null, 
/**
 * The hex SHA-256 of the recording's file, once every byte of it has streamed through
 * the player (a play to the end): the window checks it against the signed evidence.
 */
streamed_sha256?: string | null, };

// ---- callrec_desktop::download

export type DownloadFormat = "original" | "pcm16";

export type DownloadRequest = { 
/**
 * Chosen by the window, so it can match progress events and cancel.
 */
download_id: string, recording_id: RecordingId, format: DownloadFormat, path: string, };

export type DownloadProgress = { download_id: string, done: number, total: number | null, };

export type DownloadResult = { download_id: string, path: string, bytes: number, sha256: string, 
/**
 * `true` when the SHA-256 equals the server's (only the original has one: `pcm16` is made
 * on the fly, so it is `false` there and the window says so).
 */
verified: boolean, };

// ---- callrec_desktop::on_air

/**
 * Whether a call of the signed-in user is being recorded.
 */
export type OnAir = "not_recording" | "recording" | "paused";

/**
 * A change worth a notification.
 */
export type OnAirChange = "started" | "paused" | "resumed" | "stopped";

// ---- callrec_desktop::events

/**
 * The state of the server's push stream as the window shows it.
 */
export type FeedState = "connecting" | "connected" | "reconnecting" | "stopped";

export type UiEvent = { "kind": "live_calls", calls: Array<CallDetail>, } | { "kind": "feed", state: FeedState, message?: string | null, } | { "kind": "journal_changed", call_id: CallId, } | { "kind": "journal_stale" } | { "kind": "on_air", state: OnAir, title: string, change?: OnAirChange | null, } | { "kind": "recording_changed", recording: Recording, } | { "kind": "alarm_changed", alarm: Alarm, } | { "kind": "server_changed", from: string, to: string, } | { "kind": "session_expired", message: string, } | { "kind": "player", status: PlayerStatus, } | { "kind": "download", progress: DownloadProgress, } | { "kind": "local_server", status: LocalServerStatus, };

// ---- callrec_desktop::admin

/**
 * The audit log's filters as the window sends them; empty strings mean "no filter".
 */
export type AuditFilter = { action?: string | null, user_id?: UserId | null, cursor?: string | null, limit?: number | null, };

// ---- callrec_desktop::transcripts

/**
 * What the transcript pane shows: the transcript as the server answers it and its dialogue
 * (`[00:12] Caller: …`, one line each; empty until it is done).
 */
export type TranscriptView = { transcript: Transcript, dialogue: string, };
