// One call opened from the journal: its facts and every recording (seq, start, duration,
// size, who or what started it) with play and download.
import { Fragment } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, toApiError, type CallDetail, type CallId, type DownloadFormat, type Recording } from '../api';
import { useShared, type DownloadState } from '../context';
import {
  directionLabel,
  formatBytes,
  formatDateTime,
  formatDuration,
  formatTime,
  participantLabel,
  partiesLabel,
  recordingTitle,
  triggerLabel,
} from '../format';
import { WhyRecorded } from './trace';

export function CallDetailPanel({ callId, onClose }: { callId: CallId; onClose: () => void }) {
  const { journalChange, report, session } = useShared();
  const seesTrace = session.user.level === 'admin' || session.user.level === 'supervisor';
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
            detail.recordings.map((r) => <RecordingRow key={r.id} recording={r} detail={detail} />)
          )}
        </div>
      )}
    </aside>
  );
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
      <dd>{duration != null ? formatDuration(duration) : c.state}</dd>
      {c.participants.map((p, i) => (
        <Fragment key={i}>
          <dt>{p.role === 'caller' ? 'From' : 'To'}</dt>
          <dd>{participantLabel(p)}</dd>
        </Fragment>
      ))}
    </dl>
  );
}

function RecordingRow({ recording: r, detail }: { recording: Recording; detail: CallDetail }) {
  const { setNowPlaying, report, downloads, setDownload, notify, player } = useShared();
  const [format, setFormat] = useState<DownloadFormat>('original');
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
      path = await api.chooseDownloadPath(r.file_name, format);
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
        </div>
        <div class="recording-meta muted">
          <span title={r.started_at}>{formatTime(r.started_at)}</span>
          <span>+{formatDuration(r.start_offset_ms)} into the call</span>
          <span>{formatDuration(r.duration_ms)}</span>
          <span>{formatBytes(r.bytes)}</span>
        </div>
        <div class="recording-trigger muted">{triggerLabel(r.trigger, detail)}</div>
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
      {download && <DownloadLine d={download} />}
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
