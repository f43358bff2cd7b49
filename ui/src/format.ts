// How numbers, times and people read in the window.
import { plainMessage, type CallDetail, type CallDirection, type Call, type LivePause, type LiveRecording, type Participant, type Recording, type RecordingPause, type Trigger } from './api';

export function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** 75_000 → "1:15"; 3_725_000 → "1:02:05". */
export function formatDuration(ms: number | null | undefined): string {
  if (ms == null || !Number.isFinite(ms) || ms < 0) return '–';
  const total = Math.floor(ms / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  return h > 0 ? `${h}:${pad2(m)}:${pad2(s)}` : `${m}:${pad2(s)}`;
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  if (bytes < 1024 * 1024 * 1024) return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
  return `${(bytes / 1024 / 1024 / 1024).toFixed(2)} GB`;
}

/** 10000 → "10,000", without Intl: `toLocaleString` pages in ICU's locale data (~3 MB). */
export function formatCount(n: number): string {
  return String(Math.trunc(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** An ISO time or epoch milliseconds → "Today 14:05" or "2024-05-01 14:05". */
export function formatDateTime(when: string | number): string {
  const d = new Date(when);
  if (Number.isNaN(d.getTime())) return String(when);
  const today = new Date();
  const time = `${pad2(d.getHours())}:${pad2(d.getMinutes())}`;
  if (d.toDateString() === today.toDateString()) return `Today ${time}`;
  return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ${time}`;
}

export function formatTime(iso: string): string {
  const d = new Date(iso);
  return `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
}

export function directionLabel(d: CallDirection): string {
  return { incoming: 'Incoming', outgoing: 'Outgoing', internal: 'Internal' }[d];
}

/** What people call a number: `sip:201@pbx.example;transport=udp` → `201`. */
export function displayNumber(raw: string): string {
  const s = raw.trim().replace(/^<|>$/g, '');
  const m = /^(?:sips?|tel):([^@;?]+)/i.exec(s);
  return m ? m[1] : s;
}

/**
 * The name to show for a participant: the directory's name of an internal participant
 * (`user_name`, e.g. "Alice Adams") before what the PBX sent (often just "Caller"), else "".
 */
export function participantName(p: Participant): string {
  const directory = p.user_id != null ? (p.user_name ?? '').trim() : '';
  return directory || p.name.trim();
}

export function participantLabel(p: Participant): string {
  const name = participantName(p);
  const number = displayNumber(p.number);
  return name && name !== number && name !== p.number ? `${name} (${number})` : number;
}

/** "1 recording", "3 recordings". */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${formatCount(n)} ${n === 1 ? one : many}`;
}

/** Anything with participants: a call, a journal row, the dispatch queue's call. */
type WithParties = Pick<Call, 'participants'>;

export function caller(call: WithParties): Participant | undefined {
  return call.participants.find((p) => p.role === 'caller');
}

export function callee(call: WithParties): Participant | undefined {
  return call.participants.find((p) => p.role === 'callee');
}

/** "Alice (201) → +49 30 1234" */
export function partiesLabel(call: WithParties): string {
  const from = caller(call);
  const to = callee(call);
  const others = call.participants.filter((p) => p !== from && p !== to);
  const parts = [from ? participantLabel(from) : '?', to ? participantLabel(to) : '?'];
  const text = parts.join(' → ');
  return others.length ? `${text} +${others.length}` : text;
}

/** The state line next to the red toggle (SPEC §5). */
export function recordingStateLabel(d: CallDetail): string {
  const r: LiveRecording = d.recording;
  if (r.kind === 'recording_auto') return d.mon_mode === 'force' ? 'Recording (required by the phone system)' : 'Recording (automatic)';
  if (r.kind === 'recording_manual') {
    const who = d.participants.find((p) => p.user_id != null && p.user_id === r.user_id);
    return `Recording (manual, by ${(who && participantName(who)) || r.by})`;
  }
  if (d.consent_required && d.consent?.state === 'refused') return 'Not recording: the caller refused';
  if (d.consent_required && d.state !== 'ended') return "Waiting for the caller's consent";
  if (!d.can_toggle && d.not_allowed_reason) return `Recording not allowed: ${plainMessage('not_permitted', d.not_allowed_reason)}`;
  return 'Not recording';
}

export function isRecording(d: CallDetail): boolean {
  return d.recording.kind !== 'not_recording';
}

/** The running recording's PCI pause (issue #11.1), if it is paused. */
export function pauseOf(d: CallDetail): LivePause | null {
  const r = d.recording;
  return r.kind === 'not_recording' ? null : (r.paused ?? null);
}

/** "PAUSED by Alice · 0:12": who paused the recording (by the directory's name when they take
 *  part in the call) and for how long, by the window's clock. */
export function pausedLabel(d: CallDetail, p: LivePause, now: number): string {
  const who = d.participants.find((x) => x.user_id != null && x.user_id === p.user_id);
  return `PAUSED by ${(who && participantName(who)) || p.by} · ${formatDuration(Math.max(0, now - Date.parse(p.since)))}`;
}

/** A recording's pauses as a line for the call panel: "paused 0:03–0:06 by Alice". */
export function pausesLabel(pauses: RecordingPause[]): string {
  return pauses
    .map((p) => `paused ${formatDuration(p.from_ms)}–${p.to_ms == null ? 'now' : formatDuration(p.to_ms)} by ${p.by}`)
    .join(', ');
}

/** Who or what started a recording. */
export function triggerLabel(t: Trigger, call?: Call): string {
  switch (t.kind) {
    case 'auto': {
      // Never "rule 1": an id means nothing to the reader; the rule's description does.
      const name = t.rule_name?.trim();
      return name ? `Automatic (rule “${name}”)` : 'Automatic (a recording rule)';
    }
    case 'force':
      return 'Required by the phone system';
    case 'manual': {
      const who = call?.participants.find((p) => p.user_id != null && p.user_id === t.user_id);
      const name = who ? participantName(who) || displayNumber(who.number) : t.user_id != null ? 'a user' : 'the phone system';
      const via = { client: 'app', phone: 'phone key', pbx: 'PBX' }[t.via];
      return `Manual by ${name} (${via})`;
    }
  }
}

export function recordingTitle(r: Recording): string {
  return `Recording ${seqLabel(r.seq)}`;
}

/** A recording's number within its call: 1 → "001". */
export function seqLabel(seq: number): string {
  return String(seq).padStart(3, '0');
}

/** Characters no file system or file dialog takes in a name, and control characters. */
const UNSAFE_FILE_CHARS = /[\\/:*?"<>|\u0000-\u001f]/g;
const MAX_FILE_NAME = 120;

function fileWho(p: Participant | undefined): string {
  if (!p) return 'unknown';
  return participantName(p) || displayNumber(p.number) || 'unknown';
}

/**
 * The name a download is offered under: `2026-12-02 14-05 Alice Adams to +49 30 1234 001.wav`
 * (the call's local start, its parties, the recording's number), with nothing a file system
 * refuses and at most 120 characters (the parties are shortened, the rest kept).
 */
export function downloadFileName(call: Call, recording: Recording): string {
  const d = new Date(call.started_at);
  const when = Number.isNaN(d.getTime())
    ? ''
    : `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ${pad2(d.getHours())}-${pad2(d.getMinutes())} `;
  const clean = (s: string) => s.replace(UNSAFE_FILE_CHARS, ' ').replace(/\s+/g, ' ').trim();
  const suffix = ` ${seqLabel(recording.seq)}.wav`;
  let parties = clean(`${fileWho(caller(call))} to ${fileWho(callee(call))}`);
  const room = MAX_FILE_NAME - when.length - suffix.length;
  if (parties.length > room) parties = parties.slice(0, Math.max(0, room)).trim();
  return clean(`${when}${parties}`) + suffix;
}

/** The live timer: from answer (or ring) to now. */
export function elapsedMs(call: Call, now: number): number {
  const from = Date.parse(call.answered_at ?? call.started_at);
  return Math.max(0, now - from);
}
