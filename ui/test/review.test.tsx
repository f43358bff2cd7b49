// Issue #15 in the window: the waveform (peaks sized by its width, seek by click/drag/keys,
// pins), the comments pane (add at the player's position, field errors, own edit/delete),
// the share dialog (presets, custom day ≤ 90 days, revoke) and "Shared with me".
import { afterEach, describe, expect, test } from 'vitest';
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { act } from 'preact/test-utils';
import type { Comment, Peaks, SessionInfo, Share, SharedItem } from '../src/api';
import { Waveform, channelLabels, drawPeaks } from '../src/components/waveform';
import { CommentsPane, parsePosition } from '../src/components/comments';
import { ShareDialog, expiryFor, customDayRange } from '../src/components/share';
import { SharedWithMe } from '../src/screens/shared';
import { CallDetailPanel } from '../src/components/call-detail';
import { forgetComments } from '../src/comments-store';
import { cleanup, click, finishedRecording, liveCall, mount, playing, session, settle, shared, type, waitFor, withShared } from './helpers';

afterEach(async () => {
  await cleanup();
  clearMocks();
  forgetComments();
});

const sam: SessionInfo = { ...session, user: { id: 5, username: 'sam', display_name: 'Sam', level: 'supervisor', extensions: ['300'] } };
const admin: SessionInfo = { ...session, user: { id: 9, username: 'admin', display_name: 'Admin', level: 'admin', extensions: [] } };

function peaks(buckets: number): Peaks {
  const ch = (amp: number) => ({
    min: Array.from({ length: buckets }, (_, i) => (i % 2 ? -amp : 0)),
    max: Array.from({ length: buckets }, (_, i) => (i % 2 ? amp : 0)),
  });
  return { recording_id: 3, buckets, frames: 480_000, sample_rate: 8000, channels: [ch(9000), ch(4000)] };
}

function comment(over: Partial<Comment> = {}): Comment {
  return { id: 1, recording_id: 3, author_id: 5, author_name: 'Sam', at_ms: 5000, text: 'Greeting too short', created_at: '2026-12-02T13:10:00Z', ...over };
}

const call = liveCall({ state: 'ended', ended_at: new Date().toISOString() });

describe('the waveform', () => {
  test('draws every bucket with sound on both lanes, labelled caller and agent', () => {
    const rects: number[][] = [];
    const ctx = { setTransform() {}, clearRect() {}, fillStyle: '', fillRect: (...a: number[]) => rects.push(a) };
    const canvas = { width: 0, height: 0, getContext: () => ctx } as unknown as HTMLCanvasElement;
    const drawn = drawPeaks(canvas, peaks(100), 400);
    // Half the buckets are silent (min = max = 0) on each of the two channels.
    expect(drawn).toBe(100);
    expect(rects.length).toBe(2 + 200); // two centre lines, one bar per bucket
    expect(channelLabels(call, 2)).toEqual(['Caller · Customer', 'Agent · Alice']);
    expect(channelLabels(call, 1)).toEqual(['Both parties']);
  });

  test('asks for peaks by width; click, drag and keys seek; pins jump; pauses and holds are marked', async () => {
    const sent: [string, unknown][] = [];
    mockIPC((cmd, args) => {
      sent.push([cmd, args]);
      if (cmd === 'recording_peaks') return peaks((args as { buckets: number }).buckets);
      return playing();
    });
    const seeks: number[] = [];
    const rec = finishedRecording({
      pauses: [{ from_ms: 30_000, to_ms: 45_000, by: 'Alice (201)', user_id: 1 }],
      holds: [{ from_ms: 6_000, to_ms: 12_000 }],
    });
    const root = await mount(
      <Waveform recording={rec} call={call} positionMs={12_000} comments={[comment(), comment({ id: 2, at_ms: 40_000 })]} onSeek={(ms) => seeks.push(ms)} />,
    );
    await waitFor(() => expect(sent.some(([c]) => c === 'recording_peaks')).toBe(true));
    const [, args] = sent.find(([c]) => c === 'recording_peaks')!;
    expect(args).toMatchObject({ recordingId: 3 });
    expect((args as { buckets: number }).buckets % 50).toBe(0);
    const wave = root.querySelector('[data-testid=waveform]') as HTMLElement;
    await waitFor(() => expect(wave.dataset.buckets).not.toBe('0'));
    expect(root.textContent).toContain('Caller · Customer');
    expect(root.textContent).toContain('Agent · Alice');

    const area = root.querySelector('[data-testid=waveform-area]') as HTMLElement;
    area.getBoundingClientRect = () => ({ left: 100, width: 600, top: 0, height: 52, right: 700, bottom: 52, x: 100, y: 0, toJSON: () => '' });
    expect(area.getAttribute('role')).toBe('slider');
    expect(area.getAttribute('aria-valuetext')).toBe('0:12');
    // The playhead at 12 s of 60 s.
    expect((root.querySelector('[data-testid=wave-playhead]') as HTMLElement).style.left).toBe('20%');
    // Click at the middle: 30 s. Drag from a quarter to three quarters: 45 s on release.
    const pointer = (type: string, x: number) =>
      act(() => {
        area.dispatchEvent(new MouseEvent(type, { clientX: x, button: 0, bubbles: true }) as unknown as PointerEvent);
      });
    await pointer('pointerdown', 400);
    await pointer('pointerup', 400);
    await pointer('pointerdown', 250);
    await pointer('pointermove', 400);
    expect(area.getAttribute('aria-valuetext'), 'the position follows the drag').toBe('0:30');
    await pointer('pointerup', 550);
    // Keys: → 5 s on, End the end.
    await act(() => {
      area.dispatchEvent(new KeyboardEvent('keydown', { key: 'ArrowRight', bubbles: true }));
      area.dispatchEvent(new KeyboardEvent('keydown', { key: 'End', bubbles: true }));
    });
    const pins = root.querySelectorAll('[data-testid=comment-pin]');
    expect(pins.length).toBe(2);
    expect((pins[1] as HTMLElement).style.left).toBe(`${(40 / 60) * 100}%`);
    await click(pins[1]);
    expect(seeks).toEqual([30_000, 45_000, 17_000, 60_000, 40_000]);
    const pause = root.querySelector('[data-testid=wave-pause]') as HTMLElement;
    expect(pause.style.left).toBe('50%');
    expect(pause.title).toContain('Alice (201)');
    const hold = root.querySelector('[data-testid=wave-hold]') as HTMLElement;
    expect(hold.style.left).toBe('10%');
    expect(hold.title).toBe('On hold 0:06–0:12');
  });

  test('a refused peaks request is said in words over the waveform', async () => {
    mockIPC((cmd) => {
      if (cmd === 'recording_peaks') throw { code: 'failed', message: 'This item no longer exists or you may not see it.' };
      return null;
    });
    const root = await mount(<Waveform recording={finishedRecording()} call={call} positionMs={0} comments={null} onSeek={() => undefined} />);
    await waitFor(() => expect(root.querySelector('[data-testid=waveform-error]')?.textContent).toContain('no longer exists'));
  });
});

describe('the comments pane', () => {
  test('adds a comment at the player position, shows field errors at their field, edits and deletes its own', async () => {
    let list: Comment[] = [comment({ id: 1, author_id: 1, author_name: 'Alice', at_ms: 2000, text: 'Not mine' })];
    const sent: [string, unknown][] = [];
    mockIPC((cmd, args) => {
      sent.push([cmd, args]);
      const a = args as { comment: { at_ms: number; to_ms?: number; text: string }; commentId: number };
      if (cmd === 'list_comments') return list;
      if (cmd === 'create_comment') {
        if (a.comment.at_ms > 60_000) throw { code: 'invalid', message: 'Invalid.', fields: [{ field: 'at_ms', message: 'must be within the recording: 0 to 60000' }] };
        const c = comment({ id: 2, ...a.comment });
        list = [...list, c];
        return c;
      }
      if (cmd === 'update_comment') {
        list = list.map((c) => (c.id === a.commentId ? { ...c, ...a.comment, edited_at: '2026-12-02T13:20:00Z' } : c));
        return list.find((c) => c.id === a.commentId);
      }
      if (cmd === 'delete_comment') {
        list = list.filter((c) => c.id !== a.commentId);
        return null;
      }
      return playing({ position_ms: 5_400 });
    });
    const root = await mount(withShared(shared({ session: sam, player: playing({ position_ms: 5_400 }) }), <CommentsPane recording={finishedRecording()} call={call} />));
    await waitFor(() => expect(root.querySelectorAll('[data-testid=comment]').length).toBe(1));
    // Alice's comment: no edit or delete for sam.
    expect(root.querySelector('[data-testid=comment-edit]')).toBeNull();
    expect(root.querySelector('[data-testid=comment-delete]')).toBeNull();
    const at = root.querySelector('[data-testid=comment-at]') as HTMLInputElement;
    expect(at.value, "the player's position").toBe('0:05');

    await type(root.querySelector('[data-testid=comment-form] [data-testid=comment-text]'), 'Greeting too short');
    await click(root.querySelector('[data-testid=comment-form-submit]'));
    await waitFor(() => expect(root.querySelectorAll('[data-testid=comment]').length).toBe(2));
    expect(sent).toContainEqual(['create_comment', { recordingId: 3, comment: { at_ms: 5000, text: 'Greeting too short' } }]);

    // Past the end: the server's refusal next to the time.
    await type(root.querySelector('[data-testid=comment-at]'), '2:00');
    await type(root.querySelector('[data-testid=comment-form] [data-testid=comment-text]'), 'Too late');
    await click(root.querySelector('[data-testid=comment-form-submit]'));
    await waitFor(() => expect(root.querySelector('[data-testid=comment-error-at_ms]')?.textContent).toContain('within the recording'));
    // Not a time at all: said before asking anyone.
    await type(root.querySelector('[data-testid=comment-at]'), 'soon');
    await click(root.querySelector('[data-testid=comment-form-submit]'));
    expect(root.querySelector('[data-testid=comment-error-at_ms]')?.textContent).toContain('m:ss');

    // Its own: edit into a span, then delete.
    await click(root.querySelector('[data-testid=comment-edit]'));
    await type(root.querySelector('[data-testid=comment-edit-form] [data-testid=comment-to]'), '0:08');
    await click(root.querySelector('[data-testid=comment-edit-form-submit]'));
    await waitFor(() => expect(root.textContent).toContain('0:05–0:08'));
    expect(root.textContent).toContain('edited');
    await click(root.querySelector('[data-testid=comment-delete]'));
    await waitFor(() => expect(root.querySelectorAll('[data-testid=comment]').length).toBe(1));

    // The time jumps the player there.
    await click(root.querySelector('[data-testid=comment-time]'));
    expect(sent).toContainEqual(['player_seek', { positionMs: 2000 }]);
  });

  test("an admin may delete anyone's comment but edits none", async () => {
    mockIPC((cmd) => (cmd === 'list_comments' ? [comment({ author_id: 1, author_name: 'Alice' })] : null));
    const root = await mount(withShared(shared({ session: admin }), <CommentsPane recording={finishedRecording()} call={call} />));
    await waitFor(() => expect(root.querySelector('[data-testid=comment-delete]')).not.toBeNull());
    expect(root.querySelector('[data-testid=comment-edit]')).toBeNull();
  });

  test('positions are typed as m:ss', () => {
    expect(parsePosition('0:05')).toBe(5000);
    expect(parsePosition('65')).toBe(65_000);
    expect(parsePosition('1:02:05')).toBe(3_725_000);
    expect(parsePosition('0:05.5')).toBe(5500);
    expect(parsePosition('1:75')).toBeNull();
    expect(parsePosition('-1')).toBeNull();
    expect(parsePosition('')).toBeNull();
  });
});

describe('sharing for training', () => {
  const now = new Date(2026, 11, 4, 13, 0, 0);
  test('expiry presets and a custom day at most 90 days ahead', () => {
    expect(expiryFor('1', '', now)).toEqual({ at: new Date(now.getTime() + 86_400_000) });
    expect(expiryFor('30', '', now)).toEqual({ at: new Date(now.getTime() + 30 * 86_400_000) });
    expect(expiryFor('custom', '2026-12-10', now)).toEqual({ at: new Date(2026, 11, 10, 23, 59, 0) });
    expect(expiryFor('custom', '', now)).toEqual({ error: 'Choose the day the share ends.' });
    expect('error' in expiryFor('custom', '2026-12-03', now)).toBe(true);
    const range = customDayRange(now);
    expect(range.min).toBe('2026-12-05');
    const last = expiryFor('custom', range.max, now);
    expect('at' in last && last.at.getTime() <= now.getTime() + 90 * 86_400_000).toBe(true);
    const over = expiryFor('custom', '2027-03-20', now);
    expect('error' in over && over.error).toContain('90 days');
  });

  test('shares with a chosen person for 7 days, lists the shares and revokes one', async () => {
    const share = (over: Partial<Share> = {}): Share => ({
      id: 11,
      recording_id: 3,
      call_id: 7,
      user_id: 2,
      user_name: 'Bob',
      granted_by: 5,
      granted_by_name: 'Sam',
      granted_at: new Date().toISOString(),
      expires_at: new Date(Date.now() + 7 * 86_400_000).toISOString(),
      ...over,
    });
    let shares: Share[] = [share({ id: 10, user_name: 'Carol', revoked_at: new Date().toISOString() })];
    const sent: [string, unknown][] = [];
    mockIPC((cmd, args) => {
      sent.push([cmd, args]);
      if (cmd === 'share_recipients')
        return [
          { id: 2, username: 'bob', display_name: 'Bob', level: 'agent' },
          { id: 5, username: 'sam', display_name: 'Sam', level: 'supervisor' },
        ];
      if (cmd === 'list_shares') return shares;
      if (cmd === 'create_share') {
        shares = [share(), ...shares];
        return shares[0];
      }
      if (cmd === 'revoke_share') {
        shares = shares.map((s) => (s.id === 11 ? { ...s, revoked_at: new Date().toISOString() } : s));
        return shares[0];
      }
      return null;
    });
    const root = await mount(withShared(shared({ session: sam }), <ShareDialog recording={finishedRecording()} onClose={() => undefined} />));
    await waitFor(() => expect(root.querySelectorAll('[data-testid=share-user] option').length).toBe(2));
    expect(root.textContent, 'not oneself').not.toContain('(sam,');
    // Nobody chosen: said at the field.
    await click(root.querySelector('[data-testid=share-submit]'));
    expect(root.querySelector('[data-testid=share-error-user_id]')).not.toBeNull();
    const who = root.querySelector('[data-testid=share-user]') as HTMLSelectElement;
    await act(() => {
      who.value = '2';
      who.dispatchEvent(new Event('change', { bubbles: true }));
    });
    const before = Date.now();
    await click(root.querySelector('[data-testid=share-submit]'));
    await waitFor(() => expect(root.querySelectorAll('[data-testid=share-item]').length).toBe(2));
    const created = sent.find(([c]) => c === 'create_share')![1] as { recordingId: number; share: { user_id: number; expires_at: string } };
    expect(created.recordingId).toBe(3);
    expect(created.share.user_id).toBe(2);
    const days = (Date.parse(created.share.expires_at) - before) / 86_400_000;
    expect(days).toBeGreaterThan(6.99);
    expect(days).toBeLessThan(7.01);
    const items = root.querySelectorAll('[data-testid=share-item]');
    expect(items[0].getAttribute('data-live')).toBe('true');
    expect(items[1].textContent).toContain('revoked');
    expect(items[1].querySelector('[data-testid=share-revoke]'), 'nothing to revoke').toBeNull();
    await click(items[0].querySelector('[data-testid=share-revoke]'));
    await waitFor(() => expect(root.querySelectorAll('[data-testid=share-item][data-live=true]').length).toBe(0));
    expect(sent).toContainEqual(['revoke_share', { shareId: 11 }]);
  });

  test('a refused expiry is shown at its field', async () => {
    mockIPC((cmd) => {
      if (cmd === 'share_recipients') return [{ id: 2, username: 'bob', display_name: 'Bob', level: 'agent' }];
      if (cmd === 'list_shares') return [];
      if (cmd === 'create_share') throw { code: 'invalid', message: 'Invalid.', fields: [{ field: 'expires_at', message: 'at most 90 days ahead' }] };
      return null;
    });
    const root = await mount(withShared(shared({ session: sam }), <ShareDialog recording={finishedRecording()} onClose={() => undefined} />));
    await waitFor(() => expect(root.querySelectorAll('[data-testid=share-user] option').length).toBe(2));
    const who = root.querySelector('[data-testid=share-user]') as HTMLSelectElement;
    await act(() => {
      who.value = '2';
      who.dispatchEvent(new Event('change', { bubbles: true }));
    });
    await click(root.querySelector('[data-testid=share-submit]'));
    await waitFor(() => expect(root.querySelector('[data-testid=share-error-expires_at]')?.textContent).toContain('90 days'));
  });
});

describe('shared with me', () => {
  function item(id: number, expiresInMs: number): SharedItem {
    return {
      share: {
        id,
        recording_id: 3,
        call_id: 7,
        user_id: 1,
        user_name: 'Alice',
        granted_by: 5,
        granted_by_name: 'Sam',
        granted_at: new Date().toISOString(),
        expires_at: new Date(Date.now() + expiresInMs).toISOString(),
      },
      recording: finishedRecording(),
      call: { ...call, id: 7 + id },
    };
  }

  test('lists who shared what until when; a revoked share leaves on focus, an expired one on its own', async () => {
    let list = [item(1, 86_400_000), item(2, 300)];
    let asked = 0;
    mockIPC((cmd) => {
      if (cmd === 'list_shared') {
        asked++;
        return list;
      }
      return null;
    });
    const opened: number[] = [];
    let gone = 0;
    const root = await mount(
      withShared(shared(), <SharedWithMe selected={9} onOpen={(id) => opened.push(id)} onGone={() => gone++} modes={null} />),
    );
    await waitFor(() => expect(root.querySelectorAll('[data-testid=shared-row]').length).toBe(2));
    expect(root.textContent).toContain('Shared by Sam');
    await click(root.querySelector('[data-testid=shared-row]'));
    expect(opened).toEqual([8]);
    // The second expires 300 ms from now: it leaves without anyone asking, and the open call closes.
    await waitFor(() => expect(root.querySelectorAll('[data-testid=shared-row]').length).toBe(1));
    expect(gone).toBeGreaterThan(0);
    // Revoked on the server: the next focus asks again.
    list = [];
    const before = asked;
    await act(() => {
      window.dispatchEvent(new Event('focus'));
    });
    await settle(5);
    expect(asked).toBeGreaterThan(before);
    await waitFor(() => expect(root.querySelector('[data-testid=shared-empty]')).not.toBeNull());
    // And the Refresh button asks too.
    await click(root.querySelector('[data-testid=shared-refresh]'));
    expect(asked).toBeGreaterThan(before + 1);
  });
});

describe('the call panel', () => {
  test('shows the comments beside the player and offers Share… to supervisors only', async () => {
    const detail = { ...call, recordings: [finishedRecording()], recording_count: 1 };
    mockIPC((cmd) => {
      if (cmd === 'get_call') return detail;
      if (cmd === 'list_comments') return [comment()];
      if (cmd === 'share_recipients') return [];
      if (cmd === 'list_shares') return [];
      return null;
    });
    const asSam = await mount(withShared(shared({ session: sam }), <CallDetailPanel callId={7} onClose={() => undefined} />));
    await waitFor(() => expect(asSam.querySelector('[data-testid=comment]')).not.toBeNull());
    await click(asSam.querySelector('[data-testid=share-recording]'));
    await waitFor(() => expect(asSam.querySelector('[data-testid=share-dialog]')).not.toBeNull());
    await cleanup();
    forgetComments();
    const asAlice = await mount(withShared(shared(), <CallDetailPanel callId={7} onClose={() => undefined} />));
    await waitFor(() => expect(asAlice.querySelector('[data-testid=comment]')).not.toBeNull());
    expect(asAlice.querySelector('[data-testid=share-recording]'), 'an agent shares nothing').toBeNull();
  });
});
