import { afterEach, describe, expect, test } from 'vitest';
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import type { CallDetail, Recording, SessionInfo } from '../src/api';
import { CallDetailPanel } from '../src/components/call-detail';
import { downloadFileName, participantLabel, triggerLabel } from '../src/format';
import { cleanup, click, finishedRecording, liveCall, mount, session, settle, shared, waitFor, withShared } from './helpers';

afterEach(async () => {
  await cleanup();
  clearMocks();
});

const admin: SessionInfo = { ...session, user: { id: 9, username: 'admin', display_name: 'Admin', level: 'admin', extensions: [] } };

/** The panel's recording: the shared finished recording as recording 339, 42 s long. */
function recording(over: Partial<Recording> = {}): Recording {
  return finishedRecording({ id: 339, duration_ms: 42_000, bytes: 672_058, ...over });
}

function ended(rec: Partial<Recording> = {}): CallDetail {
  return liveCall({ ended_at: new Date().toISOString(), state: 'ended', recordings: [recording(rec)], recording_count: 1 });
}

describe('issue 17: the call panel', () => {
  test('admins put a recording on legal hold; the call reloads', async () => {
    const calls: [string, unknown][] = [];
    let held = false;
    mockIPC((cmd, args) => {
      calls.push([cmd, args]);
      if (cmd === 'get_call') return ended({ legal_hold: held });
      if (cmd === 'hold_recording') {
        held = (args as { legalHold: boolean }).legalHold;
        return recording({ legal_hold: held });
      }
      return null;
    });
    const root = await mount(withShared(shared({ session: admin }), <CallDetailPanel callId={7} onClose={() => undefined} />));
    await waitFor(() => expect(root.querySelector('[data-testid=legal-hold]')).not.toBeNull());
    const box = root.querySelector('[data-testid=legal-hold]') as HTMLInputElement;
    expect(box.checked).toBe(false);
    box.checked = true;
    box.dispatchEvent(new Event('change', { bubbles: true }));
    await settle(5);
    expect(calls).toContainEqual(['hold_recording', { recordingId: 339, legalHold: true }]);
    await waitFor(() => expect((root.querySelector('[data-testid=legal-hold]') as HTMLInputElement).checked).toBe(true));
    expect(calls.filter(([c]) => c === 'get_call')).toHaveLength(2);
    const del = root.querySelector('[data-testid=delete-recording]') as HTMLButtonElement;
    expect(del.disabled, 'a held recording cannot be deleted').toBe(true);
    expect(del.title).toContain('legal hold');
  });

  test('delete asks first, naming the recording, then deletes and reloads', async () => {
    const calls: [string, unknown][] = [];
    let gone = false;
    mockIPC((cmd, args) => {
      calls.push([cmd, args]);
      if (cmd === 'get_call') return gone ? { ...ended(), recordings: [], recording_count: 0 } : ended();
      if (cmd === 'delete_recording') {
        gone = true;
        return null;
      }
      return null;
    });
    const root = await mount(withShared(shared({ session: admin }), <CallDetailPanel callId={7} onClose={() => undefined} />));
    await waitFor(() => expect(root.querySelector('[data-testid=delete-recording]')).not.toBeNull());
    await click(root.querySelector('[data-testid=delete-recording]'));
    expect(calls.map(([c]) => c)).not.toContain('delete_recording');
    const confirm = root.querySelector('[data-testid=delete-confirm]')!;
    expect(confirm.closest('[role=alertdialog]')!.textContent).toContain('Recording 001');
    await click(confirm);
    await settle(5);
    expect(calls).toContainEqual(['delete_recording', { recordingId: 339 }]);
    await waitFor(() => expect(root.textContent).toContain('This call was not recorded.'));
  });

  test('agents see neither legal hold nor delete', async () => {
    mockIPC((cmd) => (cmd === 'get_call' ? ended() : null));
    const root = await mount(withShared(shared(), <CallDetailPanel callId={7} onClose={() => undefined} />));
    await waitFor(() => expect(root.querySelector('[data-testid=recording]')).not.toBeNull());
    expect(root.querySelector('[data-testid=legal-hold]')).toBeNull();
    expect(root.querySelector('[data-testid=delete-recording]')).toBeNull();
  });

  test('a running call lasts "In progress"; triggers name the rule, never its id', async () => {
    mockIPC((cmd) => (cmd === 'get_call' ? liveCall({ recordings: [recording({ trigger: { kind: 'auto', rule_id: 1 }, state: 'recording' })] }) : null));
    const root = await mount(withShared(shared(), <CallDetailPanel callId={7} onClose={() => undefined} />));
    await waitFor(() => expect(root.querySelector('.facts')).not.toBeNull());
    expect(root.querySelector('.facts')!.textContent).toContain('In progress');
    expect(root.querySelector('.facts')!.textContent).not.toContain('active');
    await waitFor(() => expect(root.querySelector('[data-testid=recording]')).not.toBeNull());
    expect(root.querySelector('[data-testid=recording]')!.textContent).toContain('Automatic (a recording rule)');
    expect(triggerLabel({ kind: 'auto', rule_id: 1, rule_name: 'Sales calls' })).toBe('Automatic (rule “Sales calls”)');
    expect(triggerLabel({ kind: 'force' })).toContain('phone system');
  });

  test('the download is offered as "date time caller to callee 001.wav", not the call key', async () => {
    const asked: unknown[] = [];
    mockIPC((cmd, args) => {
      if (cmd === 'get_call') return ended();
      if (cmd === 'choose_download_path') {
        asked.push(args);
        return null;
      }
      return null;
    });
    const root = await mount(withShared(shared(), <CallDetailPanel callId={7} onClose={() => undefined} />));
    await waitFor(() => expect(root.querySelector('[data-testid=download-recording]')).not.toBeNull());
    await click(root.querySelector('[data-testid=download-recording]'));
    await settle(5);
    const name = (asked[0] as { fileName: string }).fileName;
    expect(name).toMatch(/^\d{4}-\d\d-\d\d \d\d-\d\d Customer to Alice 001\.wav$/);
  });

  test('file names: local time, directory names, nothing a file system refuses, at most 120 characters', () => {
    const call = liveCall({
      started_at: new Date(2026, 11, 2, 14, 5).toISOString(),
      participants: [
        { name: 'A/B: "C" <d>|e*?', number: 'sip:+4930@pbx', user_id: null, role: 'caller' },
        { name: 'Caller', number: '201', user_id: 1, user_name: 'Alice Adams', role: 'callee' },
      ],
    });
    expect(downloadFileName(call, recording({ seq: 2 }))).toBe('2026-12-02 14-05 A B C d e to Alice Adams 002.wav');
    const long = liveCall({ started_at: call.started_at, participants: [{ name: 'x'.repeat(300), number: '1', user_id: null, role: 'caller' }] });
    const n = downloadFileName(long, recording());
    expect(n.length).toBeLessThanOrEqual(120);
    expect(n.endsWith(' 001.wav')).toBe(true);
    expect(n.startsWith('2026-12-02 14-05 ')).toBe(true);
    expect(participantLabel({ name: 'Caller', number: '201', user_id: 1, user_name: 'Alice Adams', role: 'caller' })).toBe('Alice Adams (201)');
  });
});
