#!/usr/bin/env python3
"""Transcription benchmark (issue #16): the real-time factor of the worker's engine on 8 kHz
G.711 calls, per core.

Makes a call of known speech with espeak-ng — the caller and the agent taking turns, one party
per channel, silence on a channel while the other party speaks, µ-law companded at 8 kHz like a
recording — and transcribes each channel the way scripts/transcribe-worker.py does (same model,
int8, beam 1, VAD on, word timestamps), with 1 and with 2 threads. Prints, per thread count: the
audio's length, the wall time, the process CPU time and the real-time factor per core
(wall time x threads / audio length; lower is better, 1.0 = one core keeps up with one call).

Run with the worker's virtualenv: V/bin/python scripts/transcribe-bench.py [--minutes 5]. With
`--wav PATH` it only writes the call (the end-to-end benchmark in tests/tests/e2e/transcripts.rs
uploads it to a real server and times hang-up to transcript).
"""
import argparse
import io
import os
import subprocess
import tempfile
import time
import warnings
import wave

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import audioop  # G.711 µ-law, as the recorder stores it (Python 3.11: still here)

import numpy as np

CALLER = [
    "Good morning, I would like to cancel my subscription because the price went up last month.",
    "I have been a customer for six years and I never had a problem before.",
    "The invoice says forty nine euros but I signed up for thirty nine.",
    "Can you tell me why nobody told me about the new price?",
    "My account number is four five six seven eight nine.",
    "Yes, the address is still the same, twelve Market Street.",
]
AGENT = [
    "Certainly, I can help you with that. May I have your account number, please?",
    "Thank you. I can see the change on your contract from the first of March.",
    "I am sorry that the letter did not reach you in time.",
    "I can offer you the old price for the next twelve months if you stay with us.",
    "Let me confirm your address before I send the new contract.",
    "Is there anything else I can do for you today?",
]


def speak(text, voice):
    with tempfile.NamedTemporaryFile(suffix=".wav") as f:
        subprocess.run(["espeak-ng", "-v", voice, "-w", f.name, text], check=True)
        with wave.open(f.name) as w:
            rate = w.getframerate()
            pcm = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float32)
    n = int(len(pcm) * 8000 / rate)
    return np.interp(np.linspace(0, len(pcm) - 1, n), np.arange(len(pcm)), pcm)


def call(seconds):
    """Two channels of 8 kHz int16 with the parties taking turns, µ-law companded."""
    said = [[speak(t, "en") for t in CALLER], [speak(t, "en-us") for t in AGENT]]
    chans = [np.zeros(seconds * 8000, dtype=np.float32) for _ in range(2)]
    at, turn, i = 0, 0, 0
    while True:
        s = said[turn][i % len(said[turn])]
        if at + len(s) > len(chans[turn]):
            break
        chans[turn][at : at + len(s)] = s
        at += len(s) + 4000  # half a second between turns
        if turn == 1:
            i += 1
        turn = 1 - turn
    out = []
    for c in chans:
        lin = np.clip(c, -32768, 32767).astype("<i2").tobytes()
        out.append(np.frombuffer(audioop.ulaw2lin(audioop.lin2ulaw(lin, 2), 2), dtype="<i2"))
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--minutes", type=float, default=5)
    p.add_argument("--threads", default="1,2")
    p.add_argument("--wav", help="only write the call as a 16-bit stereo WAV here (for the end-to-end benchmark)")
    a = p.parse_args()
    if a.wav:
        left, right = call(int(a.minutes * 60))
        with wave.open(a.wav, "wb") as w:
            w.setnchannels(2)
            w.setsampwidth(2)
            w.setframerate(8000)
            w.writeframes(np.stack([left, right], axis=1).astype("<i2").tobytes())
        return
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import importlib.util

    spec = importlib.util.spec_from_file_location("worker", os.path.join(os.path.dirname(__file__), "transcribe-worker.py"))
    worker = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(worker)
    from faster_whisper import WhisperModel

    secs = int(a.minutes * 60)
    chans = call(secs)
    print(f"call: {secs} s, 2 channels, 8 kHz µ-law (espeak-ng, turns); load average {os.getloadavg()[0]:.1f}")
    for threads in [int(t) for t in a.threads.split(",")]:
        model = WhisperModel(worker.default_model_dir(), device="cpu", compute_type="int8", cpu_threads=threads)
        wall0, cpu0 = time.monotonic(), time.process_time()
        words = 0
        for c in chans:
            buf = io.BytesIO()
            with wave.open(buf, "wb") as w:
                w.setnchannels(1)
                w.setsampwidth(2)
                w.setframerate(8000)
                w.writeframes(c.tobytes())
            segs = worker.transcribe(model, worker.wav_to_float(buf.getvalue()))
            words += sum(len(s["text"].split()) for s in segs)
        wall, cpu = time.monotonic() - wall0, time.process_time() - cpu0
        print(
            f"threads {threads}: {wall:.1f} s wall, {cpu:.1f} s CPU for {secs} s of call ({words} words); "
            f"real-time factor per core {wall * threads / secs:.3f} (CPU time / call length {cpu / secs:.3f}); "
            f"load average {os.getloadavg()[0]:.1f}"
        )


if __name__ == "__main__":
    main()
