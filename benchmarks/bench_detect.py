"""Speed and memory of ``softloc detect`` on long recordings.

A piano detector of the piano experiment's architecture (``ConvRecurrentDetector`` with its
default size, 128 mel bands at 100 frames/s, 88 keys; random weights: speed and memory do not
depend on them) is applied with :meth:`softloc.detector.Detector.detect_file` to a recording of
``--minutes`` minutes written beforehand as 44.1 kHz stereo FLAC (decaying piano-like partials
at random times, 8 notes per second), which softloc decodes, mixes down, resamples to 16 kHz,
turns into log-mel features and runs through the network ``chunk_seconds`` at a time.

Each measurement runs in a fresh process, so its peak resident memory (``ru_maxrss``) is its
own; "at rest" is the same process after importing softloc and loading the model, before the
file. Printed: seconds per minute of audio and the real-time factor (audio duration / wall
time). Run ``python benchmarks/bench_detect.py`` (60 minutes; ``--minutes 5`` for a check).
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile
import torch

from _tables import write_tables

RATE = 44100


def write_recording(path: Path, minutes: float, seed: int = 0) -> None:
    """``minutes`` of stereo piano-like tones at 44.1 kHz, written a block of 10 s at a time."""
    rng = np.random.default_rng(seed)
    block = 10 * RATE
    total = int(minutes * 60 * RATE)
    tail = np.zeros(2 * RATE)  # decays that run over into the next block
    with soundfile.SoundFile(path, "w", RATE, 2, subtype="PCM_16", format="FLAC") as f:
        for start in range(0, total, block):
            n = min(block, total - start)
            mono = np.zeros(n + 2 * RATE)
            mono[:tail.size] += tail
            t = np.arange(2 * RATE) / RATE
            for onset in rng.integers(0, n, size=max(1, int(8 * n / RATE))):
                pitch = rng.integers(21, 109)
                frequency = 440.0 * 2 ** ((pitch - 69) / 12)
                note = sum(np.sin(2 * np.pi * k * frequency * t) / k for k in (1, 2, 3)
                           if k * frequency < RATE / 2)
                mono[onset:onset + t.size] += 0.05 * note * np.exp(-3.0 * t)
            tail = mono[n:].copy()
            f.write(np.stack([mono[:n], 0.8 * mono[:n]], axis=1))


def _measure(path: str, chunk_seconds: float, queue) -> None:
    from softloc.data.audio import MelConfig
    from softloc.detector import Detector
    from softloc.experiments.music import DecoderSettings, PianoExperimentConfig
    from softloc.models import ConvRecurrentDetector

    config = PianoExperimentConfig()
    torch.manual_seed(0)
    detector = Detector(experiment="piano",
                        model=ConvRecurrentDetector(config.mel.n_mels, 88).eval(),
                        mel=MelConfig(**config.mel.to_dict()),
                        class_names=tuple(f"k{i}" for i in range(88)),
                        decoder=DecoderSettings(0.5), training={})
    at_rest = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    start = time.perf_counter()
    events = detector.detect_file(path, chunk_seconds=chunk_seconds)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    queue.put((seconds, at_rest, peak, len(events)))


def measure(path: Path, chunk_seconds: float) -> tuple[float, float, float, int]:
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=_measure, args=(str(path), chunk_seconds, queue))
    process.start()
    result = queue.get()
    process.join()
    return result


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=60.0, help="length of the recording")
    parser.add_argument("--chunk-seconds", type=float, nargs="+", default=[30.0],
                        help="seconds of audio per piece (one row each)")
    parser.add_argument("--out", type=Path, default=Path("results/benchmarks"),
                        help="folder for bench_detect.csv and bench_detect.md")
    args = parser.parse_args(argv)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "recording.flac"
        start = time.perf_counter()
        write_recording(path, args.minutes)
        print(f"wrote {args.minutes:g} min of 44.1 kHz stereo FLAC "
              f"({path.stat().st_size / 2**20:.0f} MB) in {time.perf_counter() - start:.0f} s")
        for chunk in args.chunk_seconds:
            seconds, at_rest, peak, found = measure(path, chunk)
            rows.append({"minutes of audio": args.minutes, "chunk (s)": chunk,
                         "seconds": seconds, "seconds per minute": seconds / args.minutes,
                         "x real time": args.minutes * 60 / seconds,
                         "peak memory (MB)": peak, "at rest (MB)": at_rest, "events": found})
            print(" | ".join(f"{k} {v:.2f}" if isinstance(v, float) else f"{k} {v}"
                             for k, v in rows[-1].items()))
    write_tables(rows, args.out, "bench_detect")


if __name__ == "__main__":
    main()
