"""Trained detectors on disk, and applying them to recordings (``softloc train`` / ``detect``).

A **detector checkpoint** is one self-describing file (``torch.save`` of plain data, read back
with ``weights_only=True``, written atomically)::

    {"format": "softloc-detector", "version": 1,
     "experiment": "piano" | "drums",          # what it was trained for
     "input": {"kind": "audio", "mel": {...}},  # MelConfig fields: sample rate, hop, bands...
     "fps": 100.0,                              # frames per second of its outputs
     "class_names": [...],                      # output channels in order
     "model": {"type": "ConvRecurrentDetector", "config": {...}, "state_dict": {...}},
     "decoder": {"threshold": ..., "peak_window": ..., "combine": ...},   # seconds
     "training": {...}}                         # loss, noise, iterations, validation F1, ...

:func:`load_detector` checks all of it and names what is wrong (not a checkpoint, another
format version, another kind of input, weights that do not fit the architecture).
:meth:`Detector.detect` takes audio of any sample rate, mono ``(n,)`` or multichannel
``(channels, n)``; it is mixed down, resampled to the model's rate, turned into the same
log-mel features as in training, and decoded with the stored rule into
:class:`DetectedEvents` (time in seconds, class, score).
"""

from __future__ import annotations

import csv
import io
import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ._io import write_atomic
from .data.audio import MelConfig, log_mel_spectrogram, read_wav, resample, to_mono
from .decode import peak_picking
from .experiments.music import DecoderSettings
from .models import ConvRecurrentDetector

__all__ = [
    "CHECKPOINT_FORMAT",
    "CHECKPOINT_VERSION",
    "AUDIO_EXPERIMENTS",
    "DetectedEvents",
    "Detector",
    "detect_events",
    "load_detector",
    "save_detector",
]

CHECKPOINT_FORMAT = "softloc-detector"
CHECKPOINT_VERSION = 1
#: Experiments whose detectors take audio.
AUDIO_EXPERIMENTS = ("piano", "drums")
#: Audio whose peak magnitude is below this is refused as silent.
SILENCE = 1e-6


@dataclass(frozen=True)
class DetectedEvents:
    """Detected events sorted by time: ``times`` (seconds, float64), ``classes`` (int64 indices
    into ``class_names``) and ``scores`` (the probability at each event, float64)."""

    times: np.ndarray
    classes: np.ndarray
    scores: np.ndarray
    class_names: tuple[str, ...]

    def __len__(self) -> int:
        return int(self.times.size)

    def events(self) -> list[np.ndarray]:
        """Event list (:mod:`softloc.events`): one sorted array of times per class."""
        return [self.times[self.classes == c] for c in range(len(self.class_names))]

    def rows(self) -> list[tuple[str, str, str]]:
        """``(time, class, score)`` per event as written to CSV: seconds and score with 6
        decimals, the class name."""
        return [(f"{t:.6f}", self.class_names[c], f"{s:.6f}")
                for t, c, s in zip(self.times, self.classes, self.scores)]

    def to_csv(self, path) -> None:
        """Write a ``time,class,score`` table (:meth:`rows`) atomically."""
        def write(f) -> None:
            writer = csv.writer(f)
            writer.writerow(["time", "class", "score"])
            writer.writerows(self.rows())
        write_atomic(path, write)


@dataclass
class Detector:
    """A trained audio event detector (see the module docstring)."""

    experiment: str
    model: ConvRecurrentDetector
    mel: MelConfig
    class_names: tuple[str, ...]
    decoder: DecoderSettings
    training: dict

    @property
    def fps(self) -> float:
        return self.mel.fps

    def probabilities(self, samples, sample_rate: int) -> tuple[np.ndarray, Any]:
        """``(C, T)`` event probabilities of audio and the spectrogram (its time base)."""
        audio = _check_audio(samples, sample_rate)
        if sample_rate != self.mel.sample_rate:
            audio = resample(audio, sample_rate, self.mel.sample_rate)
        spec = log_mel_spectrogram(audio, self.mel)
        self.model.eval()
        with torch.no_grad():
            logits = self.model(torch.from_numpy(spec.features)[None])[0]
        return torch.sigmoid(logits.double()).numpy(), spec

    def detect(self, samples, sample_rate: int, *, threshold: float | None = None
               ) -> DetectedEvents:
        """Events of ``samples`` (``(n,)`` or ``(channels, n)``, any sample rate in Hz).

        ``threshold`` overrides the stored one (the probability a peak must reach).
        """
        decoder = self.decoder if threshold is None else replace(self.decoder,
                                                                  threshold=threshold)
        probs, spec = self.probabilities(samples, sample_rate)
        det = peak_picking(probs, decoder.threshold, **decoder.frames(self.fps))
        times = det.times(spec.time_base)[0]
        scores = det.scores[0]
        classes = [np.full(t.size, c, dtype=np.int64) for c, t in enumerate(times)]
        all_times = np.concatenate(times) if times else np.zeros(0)
        order = np.lexsort((np.concatenate(classes), all_times))
        return DetectedEvents(times=all_times[order], classes=np.concatenate(classes)[order],
                              scores=np.concatenate(scores)[order],
                              class_names=self.class_names)

    def detect_file(self, path, *, threshold: float | None = None) -> DetectedEvents:
        """:meth:`detect` on a WAV file (any sample rate, mono or multichannel)."""
        audio = read_wav(path, mono=True)
        try:
            return self.detect(audio.samples, audio.sample_rate, threshold=threshold)
        except ValueError as error:
            raise ValueError(f"{path}: {error}") from None


def _check_audio(samples, sample_rate: int) -> np.ndarray:
    if isinstance(sample_rate, bool) or not isinstance(sample_rate, (int, np.integer)) or \
            sample_rate < 1000:
        raise ValueError(f"sample_rate must be a whole number of Hz >= 1000, got {sample_rate!r}")
    if isinstance(samples, torch.Tensor):
        samples = samples.detach().cpu().numpy()
    mono = to_mono(samples)  # checks dtype, (n,) or (channels, n), NaN and inf
    if mono.size < sample_rate // 20:
        raise ValueError(f"audio is too short: {mono.size} samples, at least 50 ms needed")
    if float(np.max(np.abs(mono))) < SILENCE:
        raise ValueError("audio is silent (peak magnitude below 1e-6): nothing to detect")
    return mono


def save_detector(path, trained, *, experiment: str) -> Path:
    """Write a :class:`~softloc.experiments.music.TrainedMusicModel` as a detector checkpoint
    (atomically). Returns the path."""
    if experiment not in AUDIO_EXPERIMENTS:
        raise ValueError(f"experiment must be one of {AUDIO_EXPERIMENTS}, got {experiment!r}")
    if not isinstance(trained.model, ConvRecurrentDetector):
        raise TypeError(f"the model must be a ConvRecurrentDetector, got "
                        f"{type(trained.model).__name__}")
    payload = {
        "format": CHECKPOINT_FORMAT,
        "version": CHECKPOINT_VERSION,
        "experiment": experiment,
        "input": {"kind": "audio", "mel": trained.mel.to_dict()},
        "fps": trained.mel.fps,
        "class_names": list(trained.class_names),
        "model": {"type": "ConvRecurrentDetector", "config": trained.model.config(),
                  "state_dict": {k: v.detach().cpu().clone()
                                 for k, v in trained.model.state_dict().items()}},
        "decoder": trained.decoder.to_dict(),
        "training": _plain(trained.info),
    }
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    write_atomic(path, lambda f: f.write(buffer.getvalue()), binary=True)
    return Path(path)


def _plain(value: Any) -> Any:
    """JSON-like copy (dicts, lists, str, int, float, bool, None) for ``weights_only`` loads."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value)
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return repr(value)


def load_detector(path, *, experiment: str | None = None) -> Detector:
    """Read a detector checkpoint written by :func:`save_detector` / ``softloc train --save``.

    ``experiment``: refuse a checkpoint trained for another experiment. Raises
    ``FileNotFoundError`` for a missing file and ``ValueError`` naming the problem for
    anything that is not a usable audio detector checkpoint.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # noqa: BLE001 - any unpickling failure means "not ours"
        raise ValueError(f"{path}: not a softloc detector checkpoint ({type(error).__name__}: "
                         f"{error})") from None
    if not isinstance(payload, dict) or payload.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(f"{path}: not a softloc detector checkpoint (write one with "
                         f"`softloc train EXPERIMENT --save {path.name}`; training checkpoints "
                         f"of softloc.training.train are not detectors)")
    if payload.get("version") != CHECKPOINT_VERSION:
        raise ValueError(f"{path}: checkpoint format version {payload.get('version')!r}, this "
                         f"softloc reads version {CHECKPOINT_VERSION}")
    kind = payload.get("experiment")
    if experiment is not None and kind != experiment:
        raise ValueError(f"{path}: a {kind!r} detector, not a {experiment!r} one")
    if payload.get("input", {}).get("kind") != "audio" or kind not in AUDIO_EXPERIMENTS:
        raise ValueError(f"{path}: a {kind!r} detector takes {payload.get('input', {}).get('kind')!r} "
                         f"input, not audio")
    try:
        mel = MelConfig(**payload["input"]["mel"])
        spec = payload["model"]
        if spec["type"] != "ConvRecurrentDetector":
            raise ValueError(f"unknown model type {spec['type']!r}")
        model = ConvRecurrentDetector(**spec["config"])
        model.load_state_dict(spec["state_dict"])
        class_names = tuple(payload["class_names"])
        decoder = DecoderSettings(**payload["decoder"])
        if len(class_names) != spec["config"]["num_classes"] or \
                spec["config"]["in_features"] != mel.n_mels:
            raise ValueError("classes or bands do not match the model")
    except (KeyError, TypeError, RuntimeError, ValueError) as error:
        raise ValueError(f"{path}: damaged detector checkpoint ({type(error).__name__}: "
                         f"{error})") from None
    model.eval()
    return Detector(experiment=kind, model=model, mel=mel, class_names=class_names,
                    decoder=decoder, training=dict(payload.get("training", {})))


def detect_events(detector: Detector | str | os.PathLike, samples, sample_rate: int, *,
                  threshold: float | None = None) -> DetectedEvents:
    """Detect events in audio with a :class:`Detector` or the path of its checkpoint.

    ``samples``: ``(n,)`` or ``(channels, n)`` array or tensor; ``sample_rate`` in Hz (any; the
    audio is resampled to the model's rate). Returns :class:`DetectedEvents`.
    """
    if not isinstance(detector, Detector):
        detector = load_detector(detector)
    return detector.detect(samples, sample_rate, threshold=threshold)
