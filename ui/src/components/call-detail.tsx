// One call opened from the journal: its facts and every recording (seq, start, duration,
// size, who or what started it) with play and download — offered under a readable file name
// (date, parties, number). Admins also put a recording on legal hold (or release it) and
// delete one after a confirmation step; a held recording cannot be deleted.
// Review (issue #15): the comments of the recording in the player (else the call's first)
// beside it, and for supervisors and admins "Share…" on each recording. A Comments | Transcript
// switch (issue #16.5) shows that recording's transcript instead; the choice stays while the
// window is open.
import { Fragment } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, toApiError, type CallDetail, type CallId, type DownloadFormat, type Recording } from '../api';
import { useShared, type DownloadState } from '../context';
import {
  directionLabel,
  downloadFileName,
  formatBytes,
  formatDateTime,
  formatDuration,
  formatTime,
  participantLabel,
  partiesLabel,
  recordingTitle,
  pausesLabel,
  triggerLabel,
} from '../format';
import { consentTitle } from './consent';
import { CommentsPane } from './comments';
import { TranscriptPane } from './transcript';
import { ShareDialog } from './share';
import { WhyRecorded } from './trace';
import { CallReviews } from './call-reviews';

export function CallDetailPanel({ callId, onClose }: { callId: CallId; onClose: () => void }) {
  const { journalChange, report, session, player } = useShared();
  const seesTrace = session.user.level === 'admin' || session.user.level === 'supervisor';
  const isAdmin = session.user.level === 'admin';
  const [detail, setDetail] = useState<CallDetail | null>(null);
  const [error, setError] = useState<string | null>(null);

  const load = () =>
    api.getCall(callId).then(
      (d) => {
        setDetail(d);
        setError(null);
      },
      (e) => {
        report(e);
        setError(toApiError(e).message);
      },
    );

  useEffect(() => {
    setDetail(null);
    load();
  }, [callId]);

  useEffect(() => {
    if (journalChange.callId === callId) load();
  }, [journalChange.seq]);

  return (
    <aside class="detail" data-testid="call-detail">
      <header class="detail-head">
        <h3>{detail ? partiesLabel(detail) : 'Call'}</h3>
        <button class="icon-btn" onClick={onClose} title="Close" aria-label="Close">
          ×
        </button>
      </header>
      {error && <p class="form-error">{error}</p>}
      {!detail && !error && <p class="muted pad">Loading…</p>}
      {detail && <CallFacts detail={detail} />}
      {detail && seesTrace && <WhyRecorded trace={detail.trace} recorded={detail.recordings.length > 0} />}
      {detail && (
        <div class="recordings">
          <h4>
            Recordings <span class="muted">({detail.recordings.length})</span>
          </h4>
          {detail.recordings.length === 0 ? (
            <p class="muted">This call was not recorded.</p>
          ) : (
            detail.recordings.map((r) => (
              <RecordingRow key={r.id} recording={r} detail={detail} isAdmin={isAdmin} mayShare={seesTrace} onChanged={load} />
            ))
          )}
        </div>
      )}
      {detail && reviewed(detail, player?.recording_id ?? null) && (
        <ReviewSide recording={reviewed(detail, player?.recording_id ?? null)!} call={detail} />
      )}
      {detail && <CallReviews detail={detail} />}
    </aside>
  );
}

type Side = 'comments' | 'transcript';
/** The side last chosen, for the next call opened. */
let lastSide: Side = 'comments';

/** The Comments | Transcript switch over the reviewed recording. */
function ReviewSide({ recording, call }: { recording: Recording; call: CallDetail }) {
  const [side, setSide] = useState<Side>(lastSide);
  const choose = (s: Side) => {
    lastSide = s;
    setSide(s);
  };
  const tab = (s: Side, label: string) => (
    <button
      type="button"
      role="tab"
      class={side === s ? 'segment active' : 'segment'}
      aria-selected={side === s}
      onClick={() => choose(s)}
      data-testid={`review-side-${s}`}
    >
      {label}
    </button>
  );
  return (
    <div class="review-side">
      <div class="segmented review-switch" role="tablist" aria-label="Comments or transcript">
        {tab('comments', 'Comments')}
        {tab('transcript', 'Transcript')}
      </div>
      {side === 'comments' ? <CommentsPane recording={recording} call={call} /> : <TranscriptPane recording={recording} call={call} />}
    </div>
  );
}

/** The recording whose comments show: the one in the player when it is of this call, else the first finished one. */
function reviewed(detail: CallDetail, playing: number | null): Recording | null {
  return detail.recordings.find((r) => r.id === playing) ?? detail.recordings.find((r) => r.state !== 'recording') ?? null;
}

function CallFacts({ detail }: { detail: CallDetail }) {
  const c = detail;
  const duration = c.ended_at ? Date.parse(c.ended_at) - Date.parse(c.answered_at ?? c.started_at) : null;
  return (
    <dl class="facts">
      <dt>Started</dt>
      <dd>{formatDateTime(c.started_at)}</dd>
      <dt>Direction</dt>
      <dd>
        {directionLabel(c.direction)} · {c.origin}
      </dd>
      <dt>Duration</dt>
      <dd>{duration != null ? formatDuration(duration) : c.state === 'ended' ? '–' : 'In progress'}</dd>
      <dt>Consent</dt>
      <dd data-testid="call-consent">{consentTitle(c.consent ?? { state: 'unknown' })}</dd>
      {c.participants.map((p, i) => (
        <Fragment key={i}>
          <dt>{p.role === 'caller' ? 'From' : 'To'}</dt>
          <dd>{participantLabel(p)}</dd>
        </Fragment>
      ))}
    </dl>
  );
}

function RecordingRow({
  recording: r,
  detail,
  isAdmin,
  mayShare,
  onChanged,
}: {
  recording: Recording;
  detail: CallDetail;
  isAdmin: boolean;
  mayShare: boolean;
  onChanged: () => void;
}) {
  const { setNowPlaying, report, downloads, setDownload, notify, player } = useShared();
  const [format, setFormat] = useState<DownloadFormat>('original');
  const [sharing, setSharing] = useState(false);
  const download = Object.values(downloads)
    .filter((d) => d.recordingId === r.id)
    .sort((a, b) => (a.downloadId < b.downloadId ? 1 : -1))[0];
  const isCurrent = player?.recording_id === r.id;

  const play = async () => {
    setNowPlaying({ recording: r, call: detail });
    try {
      await api.playerPlay(r.id, 0);
    } catch (e) {
      report(e);
    }
  };

  const save = async () => {
    let path: string | null;
    try {
      path = await api.chooseDownloadPath(downloadFileName(detail, r), format);
    } catch (e) {
      report(e);
      return;
    }
    if (!path) return;
    const start: DownloadState = {
      downloadId: `${r.id}-${Date.now()}`,
      recordingId: r.id,
      path,
      done: 0,
      total: format === 'original' ? r.bytes : null,
      state: 'running',
    };
    setDownload(start);
    try {
      const res = await api.downloadRecording({ download_id: start.downloadId, recording_id: r.id, format, path });
      setDownload({ ...start, done: res.bytes, total: res.bytes, state: 'done', verified: res.verified });
      notify(`Saved ${baseName(res.path)}${res.verified ? ' — checksum verified' : ''}`, 'success');
    } catch (e) {
      const err = toApiError(e);
      setDownload({ ...start, state: err.code === 'cancelled' ? 'cancelled' : 'failed', message: err.message });
      report(e);
    }
  };

  return (
    <div class={isCurrent ? 'rec-item current' : 'rec-item'} data-testid="recording" data-recording-id={r.id}>
      <div class="recording-main">
        <div class="recording-title">
          <strong>{recordingTitle(r)}</strong>
          {r.state === 'recording' && <span class="chip chip-live">recording…</span>}
          {mayShare && (
            <button
              class="btn btn-ghost btn-sm share-btn"
              onClick={() => setSharing((v) => !v)}
              disabled={r.state === 'recording'}
              aria-expanded={sharing}
              title="Share this recording with a trainee for a limited time"
              data-testid="share-recording"
            >
              Share…
            </button>
          )}
        </div>
        <div class="recording-meta muted">
          <span title={r.started_at}>{formatTime(r.started_at)}</span>
          <span>+{formatDuration(r.start_offset_ms)} into the call</span>
          <span>{formatDuration(r.duration_ms)}</span>
          <span>{formatBytes(r.bytes)}</span>
        </div>
        <div class="recording-trigger muted">{triggerLabel(r.trigger, detail)}</div>
        {/* An older server sends no `pauses`. */}
        {(r.pauses ?? []).length > 0 && (
          <div class="recording-pauses" data-testid="recording-pauses" title="Paused spans hold silence (or a soft tone): nothing of the call was recorded there">
            {pausesLabel(r.pauses)}
          </div>
        )}
      </div>
      <div class="recording-actions">
        <button class="btn btn-primary btn-sm" onClick={play} disabled={r.state === 'recording'} data-testid="play-recording">
          ▶ Play
        </button>
        <select class="input input-sm" value={format} onChange={(e) => setFormat((e.target as HTMLSelectElement).value as DownloadFormat)} title="Original: the WAV as recorded (G.711). PCM16: 16-bit PCM WAV, converted by the server." data-testid="download-format">
          <option value="original">Original</option>
          <option value="pcm16">PCM16</option>
        </select>
        <button class="btn btn-ghost btn-sm" onClick={save} disabled={r.state === 'recording' || download?.state === 'running'} data-testid="download-recording">
          Download
        </button>
      </div>
      {sharing && <ShareDialog recording={r} onClose={() => setSharing(false)} />}
      {download && <DownloadLine d={download} />}
      {isAdmin && <AdminActions recording={r} onChanged={onChanged} />}
    </div>
  );
}

/** Legal hold and delete, for admins: each acts at once on the server, then the call reloads. */
function AdminActions({ recording: r, onChanged }: { recording: Recording; onChanged: () => void }) {
  const { report, notify } = useShared();
  const [busy, setBusy] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const title = recordingTitle(r);

  const hold = async (legalHold: boolean) => {
    setBusy(true);
    try {
      await api.holdRecording(r.id, legalHold);
      notify(legalHold ? `${title} is on legal hold.` : `${title} is no longer on legal hold.`, 'success');
    } catch (e) {
      report(e);
    } finally {
      setBusy(false);
      onChanged();
    }
  };

  const remove = async () => {
    setBusy(true);
    try {
      await api.deleteRecording(r.id);
      notify(`${title} was deleted.`, 'success');
    } catch (e) {
      report(e);
    } finally {
      setBusy(false);
      setConfirming(false);
      onChanged();
    }
  };

  const noDelete = r.legal_hold
    ? 'On legal hold: release the hold before deleting it.'
    : r.state === 'recording'
      ? 'Still recording: it can be deleted once the recording ends.'
      : null;
  return (
    <div class="rec-admin">
      <label
        class="check"
        title={r.legal_hold ? 'On legal hold: kept regardless of retention, and cannot be deleted. Untick to release.' : 'Keep regardless of retention and protect from deletion.'}
      >
        <input type="checkbox" checked={r.legal_hold} disabled={busy} onChange={(e) => hold((e.target as HTMLInputElement).checked)} data-testid="legal-hold" />
        Legal hold{r.legal_hold ? ' (on)' : ''}
      </label>
      <span class="spacer" />
      {!confirming && (
        <button
          type="button"
          class="btn btn-ghost btn-sm danger"
          disabled={busy || noDelete != null}
          title={noDelete ?? `Delete ${title} from the server`}
          onClick={() => setConfirming(true)}
          data-testid="delete-recording"
        >
          Delete…
        </button>
      )}
      {confirming && (
        <div class="rec-confirm" role="alertdialog" aria-label={`Delete ${title}?`}>
          <p>
            Delete <strong>{title}</strong> of this call? Its audio is removed from the server for good.
          </p>
          <div class="rec-confirm-actions">
            <button type="button" class="btn btn-ghost btn-sm" onClick={() => setConfirming(false)} disabled={busy}>
              Keep it
            </button>
            <button type="button" class="btn btn-danger btn-sm" onClick={remove} disabled={busy} data-testid="delete-confirm">
              {busy ? 'Deleting…' : `Delete ${title}`}
            </button>
          </div>
        </div>
      )}
    </div>
  );
}

function baseName(path: string): string {
  return path.split(/[\\/]/).pop() || path;
}

function DownloadLine({ d }: { d: DownloadState }) {
  const pct = d.total ? Math.min(100, Math.round((d.done / d.total) * 100)) : null;
  if (d.state === 'running') {
    return (
      <div class="download" data-testid="download-progress">
        <div class="progress">
          <div class="progress-bar" style={{ width: `${pct ?? 30}%` }} />
        </div>
        <span class="muted">{pct != null ? `${pct}%` : formatBytes(d.done)}</span>
        <button class="link" onClick={() => api.cancelDownload(d.downloadId)} data-testid="download-cancel">
          Cancel
        </button>
      </div>
    );
  }
  return (
    <div class={`download download-${d.state}`} data-testid="download-result" data-state={d.state}>
      {d.state === 'done' && (
        <span>
          ✓ Saved {formatBytes(d.done)} as <span title={d.path}>{baseName(d.path)}</span>
          {d.verified ? ' · SHA-256 matches the server' : ' · converted on the fly (no server checksum)'}
        </span>
      )}
      {d.state === 'cancelled' && <span>Download cancelled.</span>}
      {d.state === 'failed' && <span>{d.message ?? 'The download failed.'}</span>}
    </div>
  );
}
