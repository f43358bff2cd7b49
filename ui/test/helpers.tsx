// Test helpers: mount a component into happy-dom, let effects and promises settle, fixtures.
import { render, type ComponentChildren } from 'preact';
import { act } from 'preact/test-utils';
import type { CallDetail, JournalItem, PlayerStatus, Recording, SessionInfo } from '../src/api';
import { SharedContext, type Shared } from '../src/context';

const mounted: HTMLElement[] = [];

export async function mount(node: ComponentChildren): Promise<HTMLElement> {
  const root = document.createElement('div');
  document.body.appendChild(root);
  mounted.push(root);
  await act(() => {
    render(node as never, root);
  });
  await settle();
  return root;
}

/** Unmounts everything mounted (listeners on `window` go with it). */
export async function cleanup(): Promise<void> {
  for (const root of mounted.splice(0)) {
    await act(() => {
      render(null, root);
    });
  }
  document.body.innerHTML = '';
}

/** Waits (up to 2 s) until `check` passes. */
export async function waitFor(check: () => void): Promise<void> {
  const deadline = Date.now() + 2000;
  for (;;) {
    try {
      check();
      return;
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await settle(10);
    }
  }
}

/** Lets pending promises, timers of 0 ms and Preact's effects run. */
export async function settle(ms = 0): Promise<void> {
  await act(async () => {
    await new Promise((r) => setTimeout(r, ms));
  });
}

export async function click(el: Element | null) {
  if (!el) throw new Error('nothing to click');
  await act(() => {
    (el as HTMLElement).click();
  });
  await settle();
}

export async function type(el: Element | null, value: string) {
  if (!el) throw new Error('nothing to type in');
  await act(() => {
    (el as HTMLInputElement).value = value;
    el.dispatchEvent(new Event('input', { bubbles: true }));
  });
}

export const session: SessionInfo = {
  user: { id: 1, username: 'alice', display_name: 'Alice', level: 'agent', extensions: ['201'] },
  url: 'http://127.0.0.1:8080',
  token_storage: 'keyring',
};

export function shared(overrides: Partial<Shared> = {}): Shared {
  return {
    session,
    liveCalls: [],
    feed: { state: 'connected' },
    player: null,
    nowPlaying: null,
    setNowPlaying: () => undefined,
    playerClosed: false,
    closePlayer: () => undefined,
    downloads: {},
    setDownload: () => undefined,
    journalChange: { seq: 0, callId: null },
    report: () => undefined,
    notify: () => undefined,
    ...overrides,
  };
}

export function withShared(value: Shared, node: ComponentChildren) {
  return <SharedContext.Provider value={value}>{node}</SharedContext.Provider>;
}

export function liveCall(overrides: Partial<CallDetail> = {}): CallDetail {
  return {
    id: 7,
    call_key: 'k7',
    sip_call_ids: ['a@pbx'],
    participants: [
      { name: 'Customer', number: '+49301234', user_id: null, role: 'caller' },
      { name: 'Alice', number: '201', user_id: 1, role: 'callee' },
    ],
    direction: 'incoming',
    origin: 'external',
    mon_mode: 'auto',
    source: 'siprec',
    started_at: new Date(Date.now() - 65_000).toISOString(),
    answered_at: new Date(Date.now() - 61_000).toISOString(),
    ended_at: null,
    state: 'active',
    recording_count: 0,
    recordings: [],
    trace: [],
    recording: { kind: 'not_recording' },
    can_toggle: true,
    can_pause: false,
    consent: { state: 'unknown' },
    consent_required: false,
    ...overrides,
  };
}

export function journalItem(id: number, recordings = 0): JournalItem {
  return {
    id,
    call_key: `k${id}`,
    sip_call_ids: [],
    participants: [
      { name: 'Customer', number: `+49${id}`, user_id: null, role: 'caller' },
      { name: 'Alice', number: '201', user_id: 1, role: 'callee' },
    ],
    direction: 'incoming',
    origin: 'external',
    mon_mode: 'auto',
    source: 'siprec',
    started_at: new Date(Date.UTC(2024, 4, 1, 8, 0, 0) - id * 60_000).toISOString(),
    answered_at: null,
    ended_at: null,
    state: 'ended',
    recording_count: recordings,
    duration_ms: 95_000,
    consent: { state: 'unknown' },
  };
}

export function playing(overrides: Partial<PlayerStatus> = {}): PlayerStatus {
  return { recording_id: 3, state: 'playing', position_ms: 12_000, duration_ms: 60_000, speed: 1, channels: 'both', volume: 100, ...overrides };
}

/** A finished stereo recording of a minute (call 7), `over` replacing any field. */
export function finishedRecording(over: Partial<Recording> = {}): Recording {
  return {
    id: 3,
    call_id: 7,
    seq: 1,
    file_name: 'k7_001.wav',
    started_at: '2026-12-02T13:05:00Z',
    start_offset_ms: 0,
    duration_ms: 60_000,
    bytes: 960_058,
    codec: 'pcmu',
    sample_rate: 8000,
    channels: 2,
    sha256: 'ab',
    trigger: { kind: 'auto', rule_id: 1, rule_name: 'Sales calls' },
    state: 'complete',
    legal_hold: false,
    dispatch: [],
    gaps: [],
    pauses: [],
    holds: [],
    ...over,
  };
}
