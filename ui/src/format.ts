// How numbers, times and people read in the window.
import type { CallDetail, CallDirection, Call, LiveRecording, Participant, Recording, Trigger } from './api';

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

export function participantLabel(p: Participant): string {
  const name = p.name.trim();
  const number = displayNumber(p.number);
  return name && name !== number && name !== p.number ? `${name} (${number})` : number;
}

export function caller(call: Call): Participant | undefined {
  return call.participants.find((p) => p.role === 'caller');
}

export function callee(call: Call): Participant | undefined {
  return call.participants.find((p) => p.role === 'callee');
}

/** "Alice (201) → +49 30 1234" */
export function partiesLabel(call: Call): string {
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
  if (r.kind === 'recording_auto') return 'Recording (automatic)';
  if (r.kind === 'recording_manual') {
    const who = d.participants.find((p) => p.user_id != null && p.user_id === r.user_id);
    return `Recording (manual, by ${who?.name.trim() || r.by})`;
  }
  if (!d.can_toggle && d.not_allowed_reason) return `Recording not allowed: ${d.not_allowed_reason}`;
  return 'Not recording';
}

export function isRecording(d: CallDetail): boolean {
  return d.recording.kind !== 'not_recording';
}

/** Who or what started a recording. */
export function triggerLabel(t: Trigger, call?: Call): string {
  switch (t.kind) {
    case 'auto':
      return t.rule_id != null ? `Automatic (rule ${t.rule_id})` : 'Automatic';
    case 'force':
      return 'Forced by the PBX';
    case 'manual': {
      const who = call?.participants.find((p) => p.user_id != null && p.user_id === t.user_id);
      const name = who ? who.name || who.number : t.user_id != null ? `user ${t.user_id}` : 'the PBX';
      const via = { client: 'app', phone: 'phone key', pbx: 'PBX' }[t.via];
      return `Manual by ${name} (${via})`;
    }
  }
}

export function recordingTitle(r: Recording): string {
  return `Recording ${String(r.seq).padStart(3, '0')}`;
}

/** The live timer: from answer (or ring) to now. */
export function elapsedMs(call: Call, now: number): number {
  const from = Date.parse(call.answered_at ?? call.started_at);
  return Math.max(0, now - from);
}
