// Issue #16.5 in the window: the transcript pane beside the player — status in plain words
// (polled while queued or running), lines with time and speaker, the played line highlighted,
// click / Enter seeks, Ctrl+F find with next / previous (never taken from the comment editor),
// Copy puts the dialogue on the clipboard or says why not.
import { afterEach, describe, expect, test, vi } from 'vitest';
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { act } from 'preact/test-utils';
import { render } from 'preact';
import type { Recording, Transcript, TranscriptView } from '../src/api';
import { TranscriptPane, activeLines, findMatches, statusText } from '../src/components/transcript';
import { CallDetailPanel } from '../src/components/call-detail';
import { forgetComments } from '../src/comments-store';
import { cleanup, click, finishedRecording, liveCall, mount, playing, session, settle, shared, type, waitFor, withShared } from './helpers';

afterEach(async () => {
  await cleanup();
  clearMocks();
  forgetComments();
  vi.restoreAllMocks();
  vi.useRealTimers();
});

const sam = { ...session, user: { id: 5, username: 'sam', display_name: 'Sam', level: 'supervisor' as const, extensions: ['300'] } };
const call = liveCall({ state: 'ended', ended_at: new Date().toISOString() });

function recording(over: Partial<Recording> = {}): Recording {
  return finishedRecording({ call_id: call.id, trigger: { kind: 'auto', rule_id: 1, rule_name: 'Support' }, ...over });
}

const LINES = [
  { channel: 0, speaker: 'Caller', start_ms: 1_000, end_ms: 4_000, text: 'Good morning, I would like to cancel my subscription.' },
  { channel: 1, speaker: 'Agent (Alice Adams)', start_ms: 5_000, end_ms: 8_000, text: 'Certainly. May I have your account number?' },
  { channel: 0, speaker: 'Caller', start_ms: 12_000, end_ms: 15_000, text: 'Yes, and please cancel the second one too.' },
];
const DIALOGUE = '[00:01] Caller: Good morning, I would like to cancel my subscription.\n[00:05] Agent (Alice Adams): Certainly. May I have your account number?\n[00:12] Caller: Yes, and please cancel the second one too.\n';

function view(over: Partial<Transcript> = {}): TranscriptView {
  const t: Transcript = { recording_id: 3, status: 'done', attempts: 1, queued_at: '2026-12-02T13:06:00Z', finished_at: '2026-12-02T13:07:00Z', lines: LINES, ...over };
  return { transcript: t, dialogue: t.status === 'done' ? DIALOGUE : '' };
}

const lineEls = (root: HTMLElement) => [...root.querySelectorAll<HTMLElement>('[data-testid=transcript-line]')];
const activeIdx = (root: HTMLElement) => lineEls(root).flatMap((el, i) => (el.dataset.active === 'true' ? [i] : []));

async function key(target: EventTarget, init: KeyboardEventInit) {
  await act(() => {
    target.dispatchEvent(new KeyboardEvent('keydown', { bubbles: true, cancelable: true, ...init }));
  });
  await settle();
}

describe('the transcript pane', () => {
  test('status messages are plain words, for each state', () => {
    expect(statusText(undefined)).toContain('Loading');
    expect(statusText(null)).toBe('Not transcribed: no recording rule asks for this recording to be transcribed.');
    expect(statusText(view({ status: 'queued', attempts: 0, lines: [] }))).toBe('Waiting to be transcribed. It shows here by itself when it is ready.');
    expect(statusText(view({ status: 'queued', attempts: 2, error: 'the model ran out of memory', lines: [] }))).toBe(
      'Waiting to be transcribed again (attempt 2 failed: the model ran out of memory).',
    );
    expect(statusText(view({ status: 'running', lines: [] }))).toContain('Being transcribed now');
    expect(statusText(view({ status: 'failed', attempts: 5, error: 'the worker could not read the audio.', lines: [] }))).toBe(
      'Transcription failed: the worker could not read the audio.',
    );
    expect(statusText(view({ lines: [] }))).toBe('Transcribed: nothing was said in this recording.');
    expect(statusText(view())).toBeNull();
  });

  test('a queued transcript is asked for again until it is done, then shows its lines', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'], shouldAdvanceTime: true });
    try {
      const answers = [view({ status: 'queued', attempts: 0, lines: [] }), view({ status: 'running', lines: [] }), view()];
      let asked = 0;
      mockIPC((cmd) => {
        if (cmd === 'recording_transcript') return answers[Math.min(asked++, answers.length - 1)];
        return null;
      });
      const root = await mount(withShared(shared({ session: sam }), <TranscriptPane recording={recording()} call={call} />));
      expect(root.querySelector('[data-testid=transcript-status]')?.textContent).toContain('Waiting to be transcribed');
      await act(async () => {
        await vi.advanceTimersByTimeAsync(5_000);
      });
      expect(root.querySelector('[data-testid=transcript-status]')?.textContent).toContain('Being transcribed now');
      await act(async () => {
        await vi.advanceTimersByTimeAsync(5_000);
      });
      expect(lineEls(root).length).toBe(3);
      expect(root.querySelector('[data-testid=transcript-status]')).toBeNull();
      await act(async () => {
        await vi.advanceTimersByTimeAsync(30_000);
      });
      expect(asked, 'no more asking once done').toBe(3);
    } finally {
      vi.useRealTimers();
    }
  });

  test('not transcribed and failed say so', async () => {
    mockIPC((cmd) => (cmd === 'recording_transcript' ? null : null));
    const none = await mount(withShared(shared({ session: sam }), <TranscriptPane recording={recording()} call={call} />));
    expect(none.querySelector('[data-testid=transcript]')?.getAttribute('data-status')).toBe('none');
    expect(none.querySelector('[data-testid=transcript-status]')?.textContent).toContain('Not transcribed');
    await cleanup();
    mockIPC((cmd) => (cmd === 'recording_transcript' ? view({ status: 'failed', attempts: 5, error: 'no speech model in /opt/models', lines: [] }) : null));
    const failed = await mount(withShared(shared({ session: sam }), <TranscriptPane recording={recording()} call={call} />));
    const msg = failed.querySelector('[data-testid=transcript-status]');
    expect(msg?.textContent).toBe('Transcription failed: no speech model in /opt/models.');
    expect(msg?.className).toBe('field-error');
  });

  test('lines show time and speaker; the highlight follows the player; click and Enter seek', async () => {
    const sent: [string, unknown][] = [];
    mockIPC((cmd, args) => {
      sent.push([cmd, args]);
      if (cmd === 'recording_transcript') return view();
      if (cmd === 'player_seek') return playing({ recording_id: 3 });
      return null;
    });
    const at = (ms: number) => shared({ session: sam, player: playing({ recording_id: 3, position_ms: ms }) });
    const root = await mount(withShared(at(2_000), <TranscriptPane recording={recording()} call={call} />));
    const lines = lineEls(root);
    expect(lines.length).toBe(3);
    expect(lines[1].textContent).toContain('0:05');
    expect(lines[1].querySelector('.line-speaker')?.textContent).toBe('Agent (Alice Adams)');
    expect(lines[0].querySelector('.line-speaker')?.textContent).toBe('Caller');
    expect(activeIdx(root)).toEqual([0]);

    // The player moves on: the highlight moves with it (and is gone in a pause between lines).
    const rerender = async (ms: number) => {
      await act(() => {
        render(withShared(at(ms), <TranscriptPane recording={recording()} call={call} />), root);
      });
      await settle();
    };
    await rerender(6_500);
    expect(activeIdx(root)).toEqual([1]);
    await rerender(10_000);
    expect(activeIdx(root)).toEqual([]);
    await rerender(13_000);
    expect(activeIdx(root)).toEqual([2]);
    expect(lineEls(root)[2].getAttribute('aria-current')).toBe('true');

    // Click seeks to the line's start; Enter on a focused line too.
    await click(lineEls(root)[1]);
    expect(sent).toContainEqual(['player_seek', { positionMs: 5_000 }]);
    lineEls(root)[0].focus();
    await key(lineEls(root)[0], { key: 'Enter' });
    expect(sent).toContainEqual(['player_seek', { positionMs: 1_000 }]);
  });

  test('a line of a recording not in the player starts it there', async () => {
    const sent: [string, unknown][] = [];
    mockIPC((cmd, args) => {
      sent.push([cmd, args]);
      if (cmd === 'recording_transcript') return view();
      return playing({ recording_id: 3 });
    });
    const root = await mount(withShared(shared({ session: sam, player: null }), <TranscriptPane recording={recording()} call={call} />));
    expect(activeIdx(root), 'nothing plays: no highlight').toEqual([]);
    await click(lineEls(root)[2]);
    expect(sent).toContainEqual(['player_play', { recordingId: 3, startMs: 12_000 }]);
  });

  test('Ctrl+F finds words: matches marked, Enter / Shift+Enter next / previous, Esc closes', async () => {
    mockIPC((cmd) => (cmd === 'recording_transcript' ? view() : null));
    const root = await mount(withShared(shared({ session: sam }), <TranscriptPane recording={recording()} call={call} />));
    await key(document.body, { key: 'f', ctrlKey: true });
    await settle(5);
    const box = root.querySelector<HTMLInputElement>('[data-testid=transcript-find]');
    expect(box, 'the find box opened').not.toBeNull();
    expect(document.activeElement).toBe(box);
    await type(box, 'CANCEL');
    expect(root.querySelectorAll('mark').length).toBe(2);
    const currentLine = () => root.querySelector('[data-testid=transcript-match-current]')?.closest<HTMLElement>('[data-testid=transcript-line]')?.dataset.line;
    expect(root.querySelector('[data-testid=transcript-find-count]')?.textContent).toBe('1 of 2');
    expect(currentLine()).toBe('0');
    await key(box!, { key: 'Enter' });
    expect(root.querySelector('[data-testid=transcript-find-count]')?.textContent).toBe('2 of 2');
    expect(currentLine()).toBe('2');
    await key(box!, { key: 'Enter' });
    expect(currentLine(), 'wraps around').toBe('0');
    await key(box!, { key: 'Enter', shiftKey: true });
    expect(currentLine(), 'Shift+Enter goes back').toBe('2');
    await type(box, 'refund');
    expect(root.querySelector('[data-testid=transcript-find-count]')?.textContent).toBe('No match');
    await key(box!, { key: 'Escape' });
    expect(root.querySelector('[data-testid=transcript-find]')).toBeNull();
    expect(root.querySelectorAll('mark').length).toBe(0);
    expect(findMatches(LINES, 'the')).toHaveLength(1);
  });

  test('Ctrl+F in the comment editor stays with the editor', async () => {
    mockIPC((cmd) => (cmd === 'recording_transcript' ? view() : cmd === 'list_comments' ? [] : null));
    const root = await mount(withShared(shared({ session: sam }), <TranscriptPane recording={recording()} call={call} />));
    const editor = document.createElement('textarea');
    document.body.appendChild(editor);
    editor.focus();
    const e = new KeyboardEvent('keydown', { key: 'f', ctrlKey: true, bubbles: true, cancelable: true });
    await act(() => {
      editor.dispatchEvent(e);
    });
    await settle(5);
    expect(e.defaultPrevented, 'not taken').toBe(false);
    expect(root.querySelector('[data-testid=transcript-find]')).toBeNull();
    expect(document.activeElement).toBe(editor);
  });

  test('Copy puts the dialogue on the clipboard, or says plainly why not', async () => {
    mockIPC((cmd) => (cmd === 'recording_transcript' ? view() : null));
    const written: string[] = [];
    Object.defineProperty(navigator, 'clipboard', { configurable: true, value: { writeText: async (t: string) => void written.push(t) } });
    const root = await mount(withShared(shared({ session: sam }), <TranscriptPane recording={recording()} call={call} />));
    await click(root.querySelector('[data-testid=transcript-copy]'));
    await waitFor(() => expect(written).toEqual([DIALOGUE]));
    expect(root.querySelector('[data-testid=transcript-copy-status]')?.textContent).toBe('Copied 3 lines to the clipboard.');

    Object.defineProperty(navigator, 'clipboard', { configurable: true, value: { writeText: async () => Promise.reject(new Error('denied')) } });
    Object.defineProperty(document, 'execCommand', { configurable: true, value: () => false });
    await click(root.querySelector('[data-testid=transcript-copy]'));
    await waitFor(() =>
      expect(root.querySelector('[data-testid=transcript-copy-status]')?.textContent).toBe('Could not copy the transcript: the clipboard is not available.'),
    );
    expect(root.querySelector('[data-testid=transcript-copy-status]')?.className).toBe('field-error');
  });

  test('the call panel switches between comments and transcript', async () => {
    mockIPC((cmd) => {
      if (cmd === 'get_call') return { ...call, recordings: [recording()] };
      if (cmd === 'list_comments') return [];
      if (cmd === 'recording_transcript') return view();
      if (cmd === 'list_call_reviews' || cmd === 'list_scorecards') return [];
      return null;
    });
    const root = await mount(withShared(shared({ session: sam }), <CallDetailPanel callId={call.id} onClose={() => undefined} />));
    await waitFor(() => expect(root.querySelector('[data-testid=comments]')).not.toBeNull());
    expect(root.querySelector('[data-testid=transcript]')).toBeNull();
    await click(root.querySelector('[data-testid=review-side-transcript]'));
    await waitFor(() => expect(lineEls(root).length).toBe(3));
    expect(root.querySelector('[data-testid=comments]')).toBeNull();
    expect(root.querySelector('[data-testid=review-side-transcript]')?.getAttribute('aria-selected')).toBe('true');
  });

  test('activeLines: the lines at a position, both when the parties overlap', () => {
    const overlap = [...LINES, { channel: 1, speaker: 'Agent (Alice Adams)', start_ms: 13_000, end_ms: 14_000, text: 'Of course.' }];
    expect(activeLines(overlap, 13_500)).toEqual([2, 3]);
    expect(activeLines(overlap, null)).toEqual([]);
    expect(activeLines(overlap, 0)).toEqual([]);
  });
});
