"""The music experiments (paper sections 6.3-6.4, Tables 3-5, Fig. 3) as sweeps: ``softloc bench
piano``, ``softloc bench drums`` and ``softloc bench drums-softness``.

MAPS and IDMT-SMT-Drums cannot be had offline, so the data are rendered
(:mod:`softloc.data.music`): works of the music21 corpus on two General-MIDI pianos, and
generated grooves on two drum kits, with exact onset times.

One run (:func:`run_one`):

1. **Data and split.** Piano: the works are split by work (:meth:`MusicDataset.split_by_work`,
   ``split_seed``) into train, validation and test works; training and validation pieces are
   played on ``train_instruments``, test pieces on ``test_instruments`` (``None``: all). MAPS
   tests on a piano never heard in training; ``train_instruments=('TimGM6mb',),
   test_instruments=('Merlin',)`` does that here. Drums: a random split of the grooves (70/15/15 as the authors'
   IDMT split), every kit on every side (IDMT mixes its kits too). The piano default also puts
   both pianos on every side (see :class:`PianoExperimentConfig` for why).
2. **Features**: log-mel spectrograms (:func:`softloc.data.log_mel_spectrogram`, ``config.mel``;
   100 frames/s by default, half the paper's 200: the CPU budget) standardised per band with
   the training frames' mean and standard deviation (stored in the model). Drums: each training
   groove also appears ``augment`` more times with sample-rate variation (factor ~ U[7/8, 9/8],
   labels divided by the factor), the authors' drum augmentation.
3. **Noise**: every training onset is shifted once per run by ``N(0, sigma^2)`` seconds
   (continuous, quantised by the frame rule; shifted onsets are clipped to the piece), as the
   authors' piano and drum code; the draw depends on (seed, noise level) only, so every loss of a
   sweep sees the same noisy labels. Validation and test labels stay clean.
4. **Training**: :class:`~softloc.models.ConvRecurrentDetector` on random crops of
   ``window_seconds`` (1.5 s, as the paper) from the training pieces (piece chosen in proportion
   to its length), batches of ``batch_size``, Adam with a cosine-decayed learning rate, global-norm
   clipping, ``iterations`` steps; one learning rate for every loss.
5. **Decoding** (one fixed rule for every loss, reported with every number): peak picking per
   class (:func:`softloc.decode.peak_picking`: local maxima over +-``peak_window`` seconds,
   peaks closer than ``combine`` seconds merged) above a threshold, every time then moved by a
   constant offset (a latency correction); threshold (from :data:`THRESHOLDS`) and offset
   (whole frames within +-``max_offset``, 100 ms) are the pair of best mean per-piece F1 **on
   the validation pieces with clean labels** (:class:`DecoderSettings`). The offset corrects a
   model that fires a constant time late, which the causal network does, the more so the
   noisier its labels (offsets chosen on the quick piano sweep at sigma = 0 / 100 / 200 ms: CE
   0 / -30 / -60 ms, LS|SE -20 / -40 / -60, SoftLoc -30 / -50 / -60). Two causes: a causal
   network cannot fire before it hears an onset, so of the labels that noise moved, the early
   ones are learnt at the onset and the late ones after it, and the learnt position is late by
   a share of sigma (every loss); and L_SLL barely penalises a shift that is small against
   s_M (a spike d frames off costs ``1 - exp(-d^2 / (4 s^2))`` of its unit-spike loss: 1 % for
   d = 2, s = 10 frames), so the smoothed losses put their peak where the evidence is
   strongest, after the onset, even without noise. The row also has the score without the
   correction.
6. **Score**: onset F1 with a ``tolerance`` of 50 ms per piece (classes matched separately: keys
   for the piano, as ``mir_eval.transcription`` with pitch; KD/SD/HH for the drums), the mean over
   test pieces (:func:`softloc.metrics.corpus_f_measure`, ``decimals=4`` as mir_eval's
   transcription matching).

Losses and hyper-parameters
---------------------------
Piano (Table 3): ``ce`` (the "original" onset loss), ``extended`` (targets extended over
``extended_seconds``, 32 ms as Onsets and Frames' onset length), ``bootstrap`` (Reed soft,
beta 0.95), ``ls-se``, ``sll``, ``pb`` and ``softloc``; s_M = ``softness_seconds`` (100 ms).
SoftLoc's alpha follows the authors' schedule mapped to this package's balance (see
:func:`authors_alpha_schedule`).

The result row
--------------
``f1``, ``precision``, ``recall`` (mean over test pieces), ``threshold``, ``offset``
(seconds) and ``decode_rule``; ``validation_f1`` (at the chosen decoder); ``f1_no_offset``
(the test F1 of the best validation threshold with no offset, and ``threshold_no_offset``,
``validation_f1_no_offset``); ``oracle_f1`` (best threshold **on the test set** at the chosen
offset, a diagnostic only); pooled counts ``predicted_events``, ``true_events``, ``count_ratio``;
``mean_error`` and ``median_absolute_error`` of the matched onsets (seconds, estimate minus
reference); for the drums ``f1_<class>``, ``precision_<class>``, ``recall_<class>`` (mean over
pieces of each class alone, the paper's per-instrument numbers); the noise applied
(``labels_within_tolerance``: share of training onsets still within 50 ms of the truth);
``final_loss``; sizes; ``device`` (where it trained). The same parameters and configuration
give the identical row on one device.
"""

from __future__ import annotations

import functools
import math
import zlib
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .._checks import check_int, check_real
from ..data.audio import MelConfig, log_mel_spectrogram
from ..data.augmentation import AudioAugmentation, augment_audio
from ..data.music import (
    HUMANISED_PIANO,
    DrumConfig,
    MusicDataset,
    MusicPiece,
    PianoConfig,
    render_drum_dataset,
    render_piano_dataset,
)
from ..decode import peak_picking
from ..events import TimeBase, events_to_frames
from ..losses import AlphaSchedule
from ..metrics import corpus_f_measure
from ..models import ConvRecurrentDetector
from ..noise import Normal, misalign_events
from .._io import write_atomic
from ..runner import SweepExperiment, SweepResults
from ..training import LossSpec, train
from ._params import check_noise_level, check_run_params

__all__ = [
    "PIANO_LOSSES",
    "DRUM_LOSSES",
    "PIANO_NOISE_LEVELS",
    "DRUM_NOISE_LEVELS",
    "THRESHOLDS",
    "MusicExperimentConfig",
    "PianoExperimentConfig",
    "DrumExperimentConfig",
    "DecoderSettings",
    "TrainedMusicModel",
    "authors_alpha_schedule",
    "split_pieces",
    "softness_heatmap",
    "train_music_model",
    "evaluate_music_model",
    "run_one",
    "PIANO_EXPERIMENT",
    "DRUM_EXPERIMENT",
    "DRUM_SOFTNESS_EXPERIMENT",
]

PIANO_LOSSES = ("ce", "extended", "bootstrap", "ls-se", "sll", "pb", "softloc")
#: Losses :func:`train_music_model` accepts.
TRAINING_LOSSES = ("ce", "ls-ce", "extended", "bootstrap", "ls-se", "sll", "pb", "softloc")
DRUM_LOSSES = ("ce", "ls-se", "softloc")
#: Noise sigma in seconds (paper Table 3: 0 to 200 ms).
PIANO_NOISE_LEVELS = (0.0, 0.05, 0.1, 0.15, 0.2)
#: Drum noise sigma in seconds (paper Fig. 3: 0 to 100 ms).
DRUM_NOISE_LEVELS = (0.0, 0.025, 0.05, 0.075, 0.1)
#: Thresholds the validation search tries (log-spaced: smoothed-label losses peak far below 1).
THRESHOLDS = tuple(float(x) for x in np.round(np.geomspace(0.004, 0.9, 36), 5))


def authors_alpha_schedule(iterations: int, *, hold: float, end: float, low: float = 0.2,
                           high: float = 0.9, batch_size: int = 32) -> AlphaSchedule:
    """The authors' alpha ramp scaled to ``iterations`` steps and mapped to this package's
    balance of the two terms.

    The authors' code weighs ``(1 - a) * sum_{b,k,t} SLL / K + a * mean_{b,k} PB`` over a batch
    of ``batch_size`` (32) sequences and ``K`` classes, which is ``a' = a / (a + B (1 - a))``
    in :func:`softloc.losses.softloc_loss`'s per-(sequence, class) mean (README, "alpha"). Their
    ramp holds ``a = low`` until the fraction ``hold`` of training, then rises linearly to
    ``a(end)`` at the end (piano: 0.2 until 120k of 160k, 0.6 at 160k, so ``hold = 0.75`` and
    ``high = 0.6``; drums: 0.2 until 50k of 150k, 0.9 at 120k, ``hold = 1/3``, ``end = 0.8``).
    The result ramps linearly in ``a'`` between the mapped end points (an approximation of the
    mapped ramp, which is not linear), holding ``a'(high)`` after ``end``.

    Examples
    --------
    >>> s = authors_alpha_schedule(1000, hold=0.75, end=1.0, high=0.6)
    >>> round(s(0), 4), round(s(750), 4), round(s(1000), 4)
    (0.0078, 0.0078, 0.0448)
    """
    iterations = check_int(iterations, "iterations", 1)
    hold = check_real(hold, "hold", 0.0, 1.0)
    end = check_real(end, "end", hold, 1.0, low_open=True)
    low, high = check_real(low, "low", 0.0, 1.0), check_real(high, "high", low, 1.0)

    def mapped(a: float) -> float:
        return a / (a + batch_size * (1.0 - a))

    lo, hi = mapped(low), mapped(high)
    if hi == lo:
        return AlphaSchedule.constant(lo)
    length = (end - hold) * iterations / (hi - lo)
    start = hold * iterations - lo * length
    return AlphaSchedule(start=start, length=length, low=lo, high=hi)


@dataclass(frozen=True)
class DecoderSettings:
    """The fixed decoding rule: per-class peak picking above ``threshold`` (probability),
    local maxima over +-``peak_window`` seconds, peaks within ``combine`` seconds of the last
    kept one dropped, then every time moved by ``offset`` seconds (negative: earlier; a time
    moved before 0 is put at 0). The offset is a constant latency correction: a model may fire
    a fixed few frames after (or before) the onsets it learnt, and a correction chosen on clean
    validation works removes that bias from its times."""

    threshold: float
    peak_window: float = 0.02
    combine: float = 0.03
    offset: float = 0.0

    def __post_init__(self) -> None:
        check_real(self.threshold, "threshold", 0.0, 1.0)
        check_real(self.peak_window, "peak_window", 0.0)
        check_real(self.combine, "combine", 0.0)
        check_real(self.offset, "offset")

    def frames(self, fps: float) -> dict:
        """Peak-picking arguments in frames at ``fps``."""
        window = int(round(self.peak_window * fps))
        return {"pre_max": window, "post_max": window, "combine": int(round(self.combine * fps))}

    def decode(self, probabilities: np.ndarray, time_base: TimeBase
               ) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Per class, the sorted event times (seconds, ``offset`` applied) and their scores (the
        probability at each peak) of ``(C, T)`` ``probabilities`` on the frame grid
        ``time_base``."""
        det = peak_picking(probabilities, self.threshold, **self.frames(time_base.fps))
        return _shift_times(det.times(time_base)[0], self.offset), det.scores[0]

    def describe(self, fps: float) -> str:
        f = self.frames(fps)
        return (f"peaks p >= {self.threshold:g} (local max over +-{f['pre_max']} frames, "
                f"combine {f['combine']} frames), times moved by {self.offset * 1e3:+g} ms; "
                f"threshold and offset chosen on clean validation works")

    def to_dict(self) -> dict:
        return asdict(self)


def _shift_times(times: Sequence[np.ndarray], offset: float) -> list[np.ndarray]:
    """Each array of event times (seconds) moved by ``offset`` seconds, times before 0 put at 0
    (order kept)."""
    if offset == 0:
        return list(times)
    return [np.maximum(t + offset, 0.0) for t in times]


@dataclass(frozen=True)
class MusicExperimentConfig:
    """Options shared by the piano and drum sweeps (times in seconds).

    Attributes
    ----------
    data:
        :class:`~softloc.data.music.PianoConfig` or :class:`~softloc.data.music.DrumConfig`.
    cache_dir:
        Cache folder of the rendered audio (``None``: ``~/.cache/softloc/music``).
    train_instruments, test_instruments:
        Soundfonts of the training/validation and of the test pieces (``None``: all).
    validation_fraction, test_fraction, split_seed:
        The split by work (:meth:`~softloc.data.music.MusicDataset.split_by_work`).
    mel:
        Feature settings (:class:`~softloc.data.MelConfig`).
    model:
        Keyword arguments of :class:`~softloc.models.ConvRecurrentDetector` besides
        ``in_features``, ``num_classes`` and the output-bias steps (the training window).
    window_seconds, batch_size, iterations, learning_rate, warmup_steps, gradient_clip:
        Training crops, batch, optimiser steps, peak Adam rate (cosine decay after a linear
        warm-up), global-norm clip.
    softness_seconds:
        s_M of ``ls-se``, ``sll``, ``softloc`` (and ``ls-ce``).
    extended_seconds:
        Target length of ``extended``.
    alpha_hold, alpha_end, alpha_high:
        SoftLoc's alpha schedule (:func:`authors_alpha_schedule`).
    augment, rate_range:
        Extra sample-rate-varied copies of each training piece and the factor range.
    effects:
        A recording chain (:class:`~softloc.data.augmentation.AudioAugmentation`: reverb, EQ,
        noise, band limits, gain) applied to each extra copy before its features, drawn per
        run seed, piece and copy (the same for every loss); ``None``: clean copies. The
        original of each piece stays clean.
    tolerance:
        Onset tolerance of the F-measure.
    peak_window, combine:
        The decoder's local-maximum half-window and merge distance (:class:`DecoderSettings`).
    max_offset:
        Largest latency correction the validation search tries (seconds, whole frames from
        ``-max_offset`` to ``+max_offset``; 0: none).
    """

    data: PianoConfig | DrumConfig = field(default_factory=PianoConfig)
    cache_dir: str | None = None
    train_instruments: tuple[str, ...] | None = None
    test_instruments: tuple[str, ...] | None = None
    validation_fraction: float = 0.15
    test_fraction: float = 0.15
    split_seed: int = 0
    mel: MelConfig = field(default_factory=lambda: MelConfig(
        hop_seconds=0.01, window_seconds=0.05, n_fft=1024, n_mels=128, fmin=30.0))
    model: dict = field(default_factory=dict)
    window_seconds: float = 1.5
    batch_size: int = 16
    iterations: int = 3000
    learning_rate: float = 2e-3
    warmup_steps: int = 100
    gradient_clip: float | None = 10.0
    softness_seconds: float = 0.1
    extended_seconds: float = 0.032
    alpha_hold: float = 0.75
    alpha_end: float = 1.0
    alpha_high: float = 0.6
    augment: int = 0
    rate_range: tuple[float, float] = (7 / 8, 9 / 8)
    effects: AudioAugmentation | None = None
    tolerance: float = 0.05
    peak_window: float = 0.02
    combine: float = 0.03
    max_offset: float = 0.1

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        if isinstance(self.data, dict):
            kind = DrumConfig if "num_grooves" in self.data else PianoConfig
            set_(self, "data", kind(**{k: tuple(v) if isinstance(v, list) else v
                                       for k, v in self.data.items()}))
        if not isinstance(self.data, (PianoConfig, DrumConfig)):
            raise TypeError(f"data must be a PianoConfig or DrumConfig, got "
                            f"{type(self.data).__name__}")
        if isinstance(self.mel, dict):
            set_(self, "mel", MelConfig(**self.mel))
        if isinstance(self.effects, dict):
            set_(self, "effects", AudioAugmentation(**{
                k: tuple(v) if isinstance(v, list) else v for k, v in self.effects.items()}))
        if self.effects is not None and not isinstance(self.effects, AudioAugmentation):
            raise TypeError(f"effects must be an AudioAugmentation or None, got "
                            f"{type(self.effects).__name__}")
        if not isinstance(self.mel, MelConfig):
            raise TypeError(f"mel must be a MelConfig, got {type(self.mel).__name__}")
        if self.mel.sample_rate != self.data.sample_rate:
            raise ValueError(f"mel.sample_rate ({self.mel.sample_rate}) must equal "
                             f"data.sample_rate ({self.data.sample_rate})")
        for name in ("train_instruments", "test_instruments"):
            value = getattr(self, name)
            if value is not None:
                value = tuple(value)
                unknown = set(value) - set(self.data.soundfonts)
                if not value or unknown:
                    raise ValueError(f"{name} must be soundfonts of data.soundfonts "
                                     f"{self.data.soundfonts}, got {value}")
                set_(self, name, value)
        if not isinstance(self.model, dict):
            raise TypeError(f"model must be a dict of ConvRecurrentDetector options, got "
                            f"{type(self.model).__name__}")
        reserved = {"in_features", "num_classes", "bias_steps"} & set(self.model)
        if reserved:
            raise ValueError(f"model must not set {sorted(reserved)} (the experiment does)")
        check_real(self.validation_fraction, "validation_fraction", 0.0, 1.0, low_open=True)
        check_real(self.test_fraction, "test_fraction", 0.0, 1.0, low_open=True)
        check_int(self.split_seed, "split_seed", 0)
        check_real(self.window_seconds, "window_seconds", 0.0, low_open=True)
        check_int(self.batch_size, "batch_size", 1)
        check_int(self.iterations, "iterations", 1)
        check_real(self.learning_rate, "learning_rate", 0.0, low_open=True)
        check_int(self.warmup_steps, "warmup_steps", 0)
        if self.gradient_clip is not None:
            check_real(self.gradient_clip, "gradient_clip", 0.0, low_open=True)
        check_real(self.softness_seconds, "softness_seconds", 0.0, low_open=True)
        check_real(self.extended_seconds, "extended_seconds", 0.0, low_open=True)
        authors_alpha_schedule(self.iterations, hold=self.alpha_hold, end=self.alpha_end,
                               high=self.alpha_high)
        check_int(self.augment, "augment", 0)
        low, high = (check_real(v, "rate_range", 0.5, 2.0) for v in self.rate_range)
        if low > high:
            raise ValueError(f"rate_range must be (low, high) with low <= high, got "
                             f"{self.rate_range}")
        set_(self, "rate_range", (low, high))
        check_real(self.tolerance, "tolerance", 0.0, low_open=True)
        DecoderSettings(0.5, self.peak_window, self.combine)
        check_real(self.max_offset, "max_offset", 0.0)

    @property
    def fps(self) -> float:
        return self.mel.fps

    @property
    def window_frames(self) -> int:
        return max(2, int(round(self.window_seconds * self.fps)))

    def to_dict(self) -> dict:
        out = asdict(self)
        out["data"] = self.data.to_dict()
        out["mel"] = self.mel.to_dict()
        out["effects"] = None if self.effects is None else self.effects.to_dict()
        return out


@dataclass(frozen=True)
class PianoExperimentConfig(MusicExperimentConfig):
    """The piano sweep (Table 3): 30 Bach chorales on both pianos (TimGM6mb and Merlin),
    split by work; no augmentation.

    ``train_instruments=('TimGM6mb',), test_instruments=('Merlin',)`` tests on a piano never
    heard in training, as MAPS does; with only one training piano that does not transfer (CE
    at sigma = 0 after 2,000 steps: F1 0.70 on unseen works of the training piano, 0.18 on the
    other piano, 0.18 even at the best test threshold), so the default trains and tests on both
    pianos and holds out works only.

    The options are those of ``MusicExperimentConfig`` (times in seconds; listed in the
    source); ``fps`` is the feature frame rate and ``window_frames`` the training crop in
    frames.

    Examples
    --------
    >>> config = PianoExperimentConfig()
    >>> config.fps, config.window_frames, config.mel.n_mels, config.data.soundfonts[:2]
    (100.0, 150, 128, ('TimGM6mb', 'Merlin'))
    >>> PianoExperimentConfig(**config.to_dict()) == config  # JSON round trip
    True
    >>> PIANO_EXPERIMENT.config(preset="paper").iterations  # softloc bench piano --preset paper
    160000
    """

    data: PianoConfig = field(default_factory=PianoConfig)


@dataclass(frozen=True)
class DrumExperimentConfig(MusicExperimentConfig):
    """The drum sweep (Table 5, Fig. 3): generated grooves on both kits, random split by
    groove, sample-rate augmentation; a smaller network (3 classes), 64 mel bands.

    Examples
    --------
    >>> config = DrumExperimentConfig()
    >>> config.data.num_grooves, config.mel.n_mels, config.augment, config.rate_range
    (40, 64, 2, (0.875, 1.125))
    >>> DrumExperimentConfig(**config.to_dict()) == config  # JSON round trip
    True
    >>> DRUM_EXPERIMENT.config(quick=True).data.num_grooves  # softloc bench drums --quick
    24
    """

    data: DrumConfig = field(default_factory=lambda: DrumConfig(num_grooves=40))
    mel: MelConfig = field(default_factory=lambda: MelConfig(
        hop_seconds=0.01, window_seconds=0.05, n_fft=1024, n_mels=64, fmin=30.0))
    model: dict = field(default_factory=lambda: {
        "channels": [8, 16, 16], "pools": [2, 4, 4], "hidden": 32, "fc": 16})
    iterations: int = 2000
    augment: int = 2
    alpha_hold: float = 1 / 3
    alpha_end: float = 0.8
    alpha_high: float = 0.9


# ---------------------------------------------------------------------------------------------
# Data and features
# ---------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=2)
def _dataset(data: PianoConfig | DrumConfig, cache_dir: str | None) -> MusicDataset:
    if isinstance(data, PianoConfig):
        return render_piano_dataset(data, cache_dir=cache_dir)
    return render_drum_dataset(data, cache_dir=cache_dir)


@dataclass(frozen=True)
class _Parts:
    train: tuple[MusicPiece, ...]
    validation: tuple[MusicPiece, ...]
    test: tuple[MusicPiece, ...]


def split_pieces(config: MusicExperimentConfig) -> _Parts:
    """The experiment's training, validation and test pieces (``.train``, ``.validation``,
    ``.test`` tuples of :class:`~softloc.data.music.MusicPiece`), rendering them if needed."""
    dataset = _dataset(config.data, config.cache_dir)
    split = dataset.split_by_work(validation_fraction=config.validation_fraction,
                                  test_fraction=config.test_fraction, seed=config.split_seed)

    def keep(pieces, instruments):
        return tuple(p for p in pieces if instruments is None or p.instrument in instruments)

    parts = _Parts(keep(split.train.pieces, config.train_instruments),
                   keep(split.validation.pieces, config.train_instruments),
                   keep(split.test.pieces, config.test_instruments))
    for name in ("train", "validation", "test"):
        if not getattr(parts, name):
            raise ValueError(f"the {name} split is empty: {len(dataset.works)} works with "
                             f"validation_fraction={config.validation_fraction}, "
                             f"test_fraction={config.test_fraction}; render more works")
    return parts


_FEATURES: dict = {}
_FEATURES_MAX = 1024


def _features_cached(piece: MusicPiece, mel: MelConfig, rate: float):
    """Log-mel features of a piece at a sample-rate factor, cached per process (keyed by the
    piece's name and a checksum of its audio)."""
    key = (piece.name, piece.sample_rate, zlib.crc32(piece.audio.tobytes()), mel, rate)
    if key not in _FEATURES:
        if len(_FEATURES) >= _FEATURES_MAX:
            _FEATURES.pop(next(iter(_FEATURES)))
        _FEATURES[key] = log_mel_spectrogram(piece.audio, mel, rate_factor=rate,
                                             sample_rate=piece.sample_rate)
    return _FEATURES[key]


def _labels(events: Sequence[np.ndarray], spec, num_frames: int) -> np.ndarray:
    """``(C, T)`` float32 0/1 onset labels of event times (seconds of the real audio)."""
    scaled = [spec.label_times(t) for t in events]
    return events_to_frames(scaled, time_base=spec.time_base, num_frames=num_frames,
                            collisions="merge", outside="drop").labels


def _seed(*words: int) -> int:
    return int(np.random.SeedSequence([int(w) for w in words]).generate_state(1)[0]) % 2**31


# ---------------------------------------------------------------------------------------------
# Training
# ---------------------------------------------------------------------------------------------


@dataclass
class TrainedMusicModel:
    """A trained music model with everything needed to apply it (see
    :mod:`softloc.detector`).

    Attributes
    ----------
    model:
        The :class:`~softloc.models.ConvRecurrentDetector` (eval mode, CPU).
    mel:
        The feature settings it was trained on.
    class_names:
        Output channels in order.
    decoder:
        The decoding rule with the threshold chosen on the validation pieces.
    info:
        What was trained (experiment, loss, noise, iterations, seed, validation F1...).
    """

    model: ConvRecurrentDetector
    mel: MelConfig
    class_names: tuple[str, ...]
    decoder: DecoderSettings
    info: dict


def _loss_spec(loss: str, config: MusicExperimentConfig) -> LossSpec:
    s = config.softness_seconds * config.fps
    if loss in ("ls-ce", "ls-se", "sll"):
        return LossSpec(loss, softness=s)
    if loss == "softloc":
        return LossSpec(loss, softness=s, alpha=authors_alpha_schedule(
            config.iterations, hold=config.alpha_hold, end=config.alpha_end,
            high=config.alpha_high))
    if loss == "extended":
        return LossSpec(loss, width=max(1, int(round(config.extended_seconds * config.fps))))
    return LossSpec(loss)


def _training_set(parts: _Parts, config: MusicExperimentConfig, noise_level: float, seed: int):
    """Features and noisy labels of the training pieces (and their augmented copies)."""
    features, labels = [], []
    moved = within = total = 0
    rng = np.random.default_rng(_seed(3, seed, round(noise_level * 1e6)))
    for piece in parts.train:
        events = piece.events()
        if noise_level > 0:
            noisy = misalign_events(events, Normal(noise_level, unit="seconds"),
                                    generator=_seed(1, seed, round(noise_level * 1e6),
                                                    zlib.crc32(piece.name.encode())),
                                    outside="clip", span=(0.0, piece.duration))
            events = noisy.events
            moved += noisy.report.num_moved
            within += int(round(noisy.report.fraction_within(config.tolerance) *
                                noisy.report.num_events))
        else:
            within += piece.num_events
        total += piece.num_events
        rates = [1.0] + [float(r) for r in rng.uniform(*config.rate_range, config.augment)]
        for copy, rate in enumerate(rates):
            source = piece
            if copy and config.effects is not None:
                effects_rng = np.random.default_rng(
                    _seed(5, seed, zlib.crc32(piece.name.encode()), copy))
                audio, _ = augment_audio(piece.audio, piece.sample_rate, config.effects,
                                         effects_rng)
                source = replace(piece, audio=audio)
            spec = _features_cached(source, config.mel, rate)
            features.append(torch.from_numpy(spec.features))
            labels.append(torch.from_numpy(_labels(events, spec, spec.num_frames)))
    info = {"train_pieces": len(parts.train), "train_events": total,
            "train_instruments": sorted({piece.instrument for piece in parts.train}),
            "train_sequences": len(features), "labels_moved": moved,
            "labels_within_tolerance": within / total if total else float("nan")}
    return features, labels, info


def _crop_batches(features: list, labels: list, window: int, batch_size: int):
    """``batches(step, generator)``: random ``window``-frame crops (piece in proportion to its
    length, start uniform), zero-padded and masked where a piece is shorter."""
    lengths = torch.tensor([f.shape[1] for f in features], dtype=torch.float64)
    weights = lengths / lengths.sum()
    n_features, n_classes = features[0].shape[0], labels[0].shape[0]

    def batches(step: int, generator: torch.Generator):
        index = torch.multinomial(weights, batch_size, replacement=True, generator=generator)
        u = torch.rand(batch_size, generator=generator, dtype=torch.float64)
        x = torch.zeros(batch_size, n_features, window)
        y = torch.zeros(batch_size, n_classes, window)
        mask = torch.zeros(batch_size, window, dtype=torch.bool)
        for row, (i, v) in enumerate(zip(index.tolist(), u.tolist())):
            length = features[i].shape[1]
            start = int(v * max(length - window + 1, 1))
            stop = min(start + window, length)
            x[row, :, :stop - start] = features[i][:, start:stop]
            y[row, :, :stop - start] = labels[i][:, start:stop]
            mask[row, :stop - start] = True
        return x, y, mask

    return batches


def _probabilities(model: ConvRecurrentDetector, pieces: Sequence[MusicPiece],
                   mel: MelConfig) -> list[tuple[np.ndarray, Any]]:
    """Per piece ``(C, T)`` probabilities and the spectrogram (whole pieces at once)."""
    out = []
    model.eval()
    device = next(model.parameters()).device
    with torch.no_grad():
        for piece in pieces:
            spec = _features_cached(piece, mel, 1.0)
            logits = model(torch.from_numpy(spec.features)[None].to(device))[0]
            out.append((torch.sigmoid(logits.double()).cpu().numpy(), spec))
    return out


def _decode(probabilities, decoder: DecoderSettings) -> list[list[np.ndarray]]:
    return [decoder.decode(probs, spec.time_base)[0] for probs, spec in probabilities]


def _score(reference, estimated, config: MusicExperimentConfig):
    return corpus_f_measure(reference, estimated, tolerance=config.tolerance, decimals=4)


def _choose_decoders(probabilities, pieces, config: MusicExperimentConfig):
    """The decoding rule chosen on (validation) ``pieces``: the threshold of :data:`THRESHOLDS`
    and the offset (whole frames within +-``config.max_offset``) of the best mean per-piece F1,
    ties to the smaller median absolute error of the matched onsets, then to the smaller
    offset. Returns ``(decoder, f1, decoder_without_offset, its_f1)``, the latter the best
    threshold with the offset held at 0."""
    reference = [p.events() for p in pieces]
    steps = int(round(config.max_offset * config.fps))
    offsets = sorted((k / config.fps for k in range(-steps, steps + 1)), key=abs)
    best = {offset: ((-1.0, -math.inf), THRESHOLDS[0]) for offset in offsets}
    for threshold in THRESHOLDS:
        decoded = _decode(probabilities, DecoderSettings(threshold, config.peak_window,
                                                         config.combine))
        for offset in offsets:
            scores = _score(reference, [_shift_times(t, offset) for t in decoded], config)
            error = scores.pooled.median_absolute_error
            key = (scores.file_mean.f1, -math.inf if math.isnan(error) else -error)
            if key > best[offset][0]:
                best[offset] = (key, threshold)
    chosen = max(offsets, key=lambda offset: best[offset][0])

    def settings(offset: float) -> DecoderSettings:
        return DecoderSettings(best[offset][1], config.peak_window, config.combine, offset)

    return settings(chosen), best[chosen][0][0], settings(0.0), best[0.0][0][0]


def train_music_model(config: MusicExperimentConfig, *, loss: str, noise_level: float = 0.0,
                      seed: int = 0, progress: bool = False,
                      checkpoint_path: str | Path | None = None,
                      device: str = "cpu") -> TrainedMusicModel:
    """Train one model of a music experiment and choose its threshold on the validation works.

    ``loss``: a name of :data:`PIANO_LOSSES` (any training loss of :mod:`softloc.training`
    works); ``noise_level``: sigma of the training label noise in seconds; ``seed``: noise draw,
    initialisation and batches. ``checkpoint_path``: resumable training state
    (:func:`softloc.training.train`). ``device``: where to train and evaluate (``'cpu'``,
    ``'cuda'``, ``'auto'``: :func:`~softloc.training.resolve_device`); the model stays there.
    """
    if not isinstance(config, MusicExperimentConfig):
        raise TypeError(f"config must be a MusicExperimentConfig, got {type(config).__name__}")
    if loss not in TRAINING_LOSSES:
        raise ValueError(f"unknown loss {loss!r}; the music models train with "
                         f"{', '.join(TRAINING_LOSSES)}")
    noise_level = check_noise_level(noise_level, "seconds")
    seed = check_int(seed, "seed", 0)
    parts = split_pieces(config)
    features, labels, info = _training_set(parts, config, noise_level, seed)
    stacked = torch.cat(features, dim=1)
    mean, std = stacked.mean(dim=1), stacked.std(dim=1).clamp_min(1e-3)
    class_names = parts.train[0].class_names
    run_seed = _seed(2, seed, round(noise_level * 1e6), zlib.crc32(loss.encode()))
    state = torch.random.get_rng_state()
    try:
        torch.manual_seed(run_seed)
        model = ConvRecurrentDetector(config.mel.n_mels, len(class_names),
                                      bias_steps=config.window_frames,
                                      **{"no_event_probability": 0.9, **config.model})
    finally:
        torch.random.set_rng_state(state)
    model.set_input_normalization(mean, std)
    spec = _loss_spec(loss, config)
    result = train(model, spec, _crop_batches(features, labels, config.window_frames,
                                              config.batch_size),
                   steps=config.iterations, learning_rate=config.learning_rate,
                   lr_schedule="cosine", warmup_steps=min(config.warmup_steps,
                                                          config.iterations - 1),
                   gradient_clip=config.gradient_clip, seed=run_seed,
                   log_every=max(1, config.iterations // 20), progress=progress, device=device,
                   checkpoint_path=checkpoint_path,
                   checkpoint_every=None if checkpoint_path is None else max(
                       1, config.iterations // 10),
                   resume=checkpoint_path is not None)  # afresh while no file
    model.eval()
    decoder, validation_f1, plain, plain_f1 = _choose_decoders(
        _probabilities(model, parts.validation, config.mel), parts.validation, config)
    info.update({"loss": spec.to_dict(), "noise_level": noise_level, "seed": seed,
                 "iterations": config.iterations, "final_loss": result.final_loss,
                 "validation_f1": validation_f1, "validation_pieces": len(parts.validation),
                 "threshold_no_offset": plain.threshold,
                 "validation_f1_no_offset": plain_f1,
                 "parameters": sum(p.numel() for p in model.parameters()),
                 "device": str(next(model.parameters()).device)})
    return TrainedMusicModel(model=model, mel=config.mel, class_names=tuple(class_names),
                             decoder=decoder, info=info)


def evaluate_music_model(trained: TrainedMusicModel, pieces: Sequence[MusicPiece],
                         config: MusicExperimentConfig) -> dict:
    """Score ``trained`` on ``pieces`` with their clean onsets (the row of :func:`run_one`
    without the training information)."""
    probabilities = _probabilities(trained.model, pieces, trained.mel)
    reference = [p.events() for p in pieces]
    decoder = trained.decoder
    scores = _score(reference, _decode(probabilities, decoder), config)
    # the oracle: the best threshold on these pieces, at the chosen offset
    oracle = max(_score(reference, _decode(probabilities, replace(decoder, threshold=t)),
                        config).file_mean.f1 for t in THRESHOLDS)
    n_ref, n_est = int(scores.n_reference.sum()), int(scores.n_estimated.sum())
    row = {"f1": scores.file_mean.f1, "precision": scores.file_mean.precision,
           "recall": scores.file_mean.recall, "threshold": decoder.threshold,
           "offset": decoder.offset, "decode_rule": decoder.describe(config.fps),
           "oracle_f1": oracle, "predicted_events": n_est, "true_events": n_ref,
           "count_ratio": n_est / n_ref if n_ref else float("nan"),
           "mean_error": scores.pooled.mean_error,
           "median_absolute_error": scores.pooled.median_absolute_error,
           "test_pieces": len(pieces)}
    if "threshold_no_offset" in trained.info:
        plain = DecoderSettings(trained.info["threshold_no_offset"], decoder.peak_window,
                                decoder.combine)
        row["f1_no_offset"] = _score(reference, _decode(probabilities, plain),
                                     config).file_mean.f1
    if len(trained.class_names) <= 8:
        for name, s in zip(trained.class_names, scores.per_class_file_mean):
            row[f"f1_{name}"] = s.f1
            row[f"precision_{name}"] = s.precision
            row[f"recall_{name}"] = s.recall
    return row


def run_one(params: dict, config: MusicExperimentConfig, device: str = "cpu") -> dict:
    """Train on noisy labels, choose the threshold on clean validation works, score the test
    works. ``params``: ``loss``, ``noise_level`` (seconds), ``distribution`` (``'normal'``),
    ``seed``; the drum-softness sweep adds nothing: its ``noise_level`` may be ``'random'`` (see
    :data:`DRUM_SOFTNESS_EXPERIMENT`). ``device``: where to train (the row records it)."""
    if not isinstance(config, MusicExperimentConfig):
        raise TypeError(f"config must be a MusicExperimentConfig, got {type(config).__name__}")
    losses = PIANO_LOSSES if isinstance(config.data, PianoConfig) else DRUM_LOSSES
    extra = {}
    if isinstance(params, dict) and params.get("noise_level") == "random":
        # Fig. 3: (sigma, s_M) drawn uniformly per seed
        rng = np.random.default_rng(_seed(4, check_int(params.get("seed"), "seed", 0)))
        sigma = float(rng.uniform(*SOFTNESS_PAIRS["sigma"]))
        softness = float(rng.uniform(*SOFTNESS_PAIRS["softness"]))
        config = replace(config, softness_seconds=softness)
        params = {**params, "noise_level": sigma}
        extra = {"sigma": sigma, "softness": softness}
    name = "piano" if isinstance(config.data, PianoConfig) else "drums"
    loss, level, _, seed = check_run_params(params, experiment=name, losses=losses,
                                            distributions=("normal",), noise_unit="seconds")
    trained = train_music_model(config, loss=loss, noise_level=level, seed=seed, device=device)
    row = evaluate_music_model(trained, split_pieces(config).test, config)
    info = dict(trained.info)
    info["loss"] = info["loss"]["name"]
    row.update({k: v for k, v in info.items() if k not in ("noise_level", "seed")})
    row.update(extra)
    return row


# ---------------------------------------------------------------------------------------------
# Registration
# ---------------------------------------------------------------------------------------------

QUICK_PIANO = PianoExperimentConfig(iterations=1000)
QUICK_DRUMS = DrumExperimentConfig(data=DrumConfig(num_grooves=24), iterations=1800)

#: ``--preset release``: the configurations the shipped detectors
#: (:data:`softloc.detector.PRETRAINED`) were trained with, pinned here so that
#: ``softloc train piano --preset release --seed 0`` reproduces them when the research
#: defaults move on.
RELEASE_PIANO = PianoExperimentConfig()
RELEASE_DRUMS = DrumExperimentConfig()

#: ``--preset robust``: humanised renders (:data:`~softloc.data.music.HUMANISED_PIANO`) and one
#: extra copy of each training piece through a recording chain
#: (:class:`~softloc.data.augmentation.AudioAugmentation`), for audio the detector never heard.
ROBUST_PIANO = PianoExperimentConfig(data=PianoConfig(**HUMANISED_PIANO), augment=1,
                                     effects=AudioAugmentation())

#: ``--preset paper``: the authors' piano set-up (reference-spec section 3.3) at the paper's
#: scale, sensible on a GPU only (160,000 steps of batch 32 on 1.5 s windows at 200 frames/s:
#: days on 2 CPU cores). Features: 384 log-mel bands up to 7.27 kHz (the authors' lowest 384
#: of 550), 25 ms Hamming window, 5 ms hop, pre-emphasis 0.97; network: 9 convolutions
#: (32, 32, 64, 64, 64, 64, 64, 128, 128 filters, 3 x 3 kernels where the authors had 3 x 4:
#: odd sizes only here), frequency pooling down to one band, no normalisation, a 128-unit
#: LSTM and a 96-unit dense layer (0.55 M parameters for 88 keys; the authors' 70 keys and
#: 3 x 4 kernels: 0.68 M); Adam at 3e-4, clip 10, s_M = 100 ms, the authors' alpha schedule.
#: The data stay this package's rendered pianos (MAPS is not redistributable: see
#: :func:`softloc.data.load_maps` for a user's copy). Not the authors' derivative features
#: (their 768 inputs) or their 7-way augmentation.
PAPER_PIANO = PianoExperimentConfig(
    mel=MelConfig(hop_seconds=0.005, window_seconds=0.025, n_fft=4096, n_mels=384, fmin=0.0,
                  fmax=7270.0, window="hamming", preemphasis=0.97),
    model={"channels": [32, 32, 64, 64, 64, 64, 64, 128, 128],
           "pools": [3, 2, 2, 2, 2, 2, 2, 2, 1], "kernel": [3, 3], "hidden": 128, "fc": 96,
           "batch_norm": False},
    window_seconds=1.5, batch_size=32, iterations=160_000, learning_rate=3e-4,
    warmup_steps=0, gradient_clip=10.0, softness_seconds=0.1)

PIANO_EXPERIMENT = SweepExperiment(
    name="piano",
    summary=("the paper's piano-onset experiment (section 6.3, Table 3) on Bach chorales "
             "rendered on two GM pianos: conv + LSTM onset network trained on misaligned onsets, "
             "mean per-piece F1 (50 ms) on works never seen in training"),
    config_type=PianoExperimentConfig,
    run_one=run_one,
    axes={"loss": PIANO_LOSSES, "noise_level": PIANO_NOISE_LEVELS,
          "distribution": ("normal",), "seed": (0,)},
    quick_axes={"loss": ("ce", "ls-se", "softloc"), "noise_level": (0.0, 0.1, 0.2),
                "distribution": ("normal",), "seed": (0,)},
    quick_config=QUICK_PIANO,
    presets={"release": RELEASE_PIANO, "robust": ROBUST_PIANO, "paper": PAPER_PIANO},
    score="f1",
    score_label="F1 (50 ms, mean over test pieces)",
    noise_unit="s",
    takes_device=True,
)
"""The piano sweep (``softloc bench piano``): losses x noise levels (seconds) x seeds, scored
by the mean per-piece F1 at 50 ms; presets ``release`` and ``paper``."""

DRUM_EXPERIMENT = SweepExperiment(
    name="drums",
    summary=("the paper's drum-detection experiment (section 6.4, Table 5) on generated "
             "grooves rendered on two GM drum kits: KD/SD/HH onsets, mean per-piece F1 (50 ms)"),
    config_type=DrumExperimentConfig,
    run_one=run_one,
    axes={"loss": DRUM_LOSSES, "noise_level": DRUM_NOISE_LEVELS,
          "distribution": ("normal",), "seed": (0, 1)},
    quick_axes={"loss": DRUM_LOSSES, "noise_level": (0.0, 0.05, 0.1),
                "distribution": ("normal",), "seed": (0,)},
    quick_config=QUICK_DRUMS,
    presets={"release": RELEASE_DRUMS},
    score="f1",
    score_label="F1 (50 ms, mean over test pieces)",
    noise_unit="s",
    takes_device=True,
)
"""The drum sweep (``softloc bench drums``): losses x noise levels (seconds) x seeds, scored by
the mean per-piece F1 at 50 ms; preset ``release``."""


#: Fig. 3's ranges: sigma ~ U[0, 100] ms, s_M ~ U[5, 150] ms per seed (s_M = 0 is no loss).
SOFTNESS_PAIRS = {"sigma": (0.0, 0.1), "softness": (0.005, 0.15)}
#: Bandwidth of the Nadaraya-Watson heat map (seconds, both axes; the authors: 10 ms).
HEATMAP_BANDWIDTH = 0.01


def softness_heatmap(results: SweepResults, *, bandwidth: float = HEATMAP_BANDWIDTH,
                     resolution: int = 101) -> dict[str, Path]:
    """Fig. 3: a Nadaraya-Watson estimate of F1 over (noise sigma, softness s_M) from the runs
    of a ``drums-softness`` sweep, ``F(x) = sum_i K(x - x_i) f_i / sum_i K(x - x_i)`` with a
    2-D Gaussian kernel K of ``bandwidth`` seconds; writes ``softness_heatmap.png`` (the
    estimate, the drawn pairs as dots and the line s_M = sigma) and ``softness_pairs.csv``
    (sigma, s_M, F1 per run) into ``results.out_dir``."""
    rows = [r["result"] for r in results.rows if "sigma" in r["result"]]
    if not rows:
        return {}
    sigma = np.array([r["sigma"] for r in rows]) * 1000
    soft = np.array([r["softness"] for r in rows]) * 1000
    f1 = np.array([r["f1"] for r in rows])
    gx = np.linspace(SOFTNESS_PAIRS["sigma"][0], SOFTNESS_PAIRS["sigma"][1], resolution) * 1000
    gy = np.linspace(0.0, SOFTNESS_PAIRS["softness"][1], resolution) * 1000
    h = bandwidth * 1000
    wx = np.exp(-0.5 * ((gx[:, None] - sigma[None]) / h) ** 2)  # (X, R)
    wy = np.exp(-0.5 * ((gy[:, None] - soft[None]) / h) ** 2)  # (Y, R)
    weights = wy[:, None, :] * wx[None, :, :]  # (Y, X, R)
    total = weights.sum(-1)
    estimate = np.where(total > 1e-12, (weights * f1).sum(-1) / np.maximum(total, 1e-300),
                        np.nan)

    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(5.4, 4.2), layout="constrained")
    FigureCanvasAgg(figure)
    ax = figure.subplots()
    image = ax.imshow(estimate, origin="lower", aspect="auto", cmap="viridis",
                      extent=(gx[0], gx[-1], gy[0], gy[-1]))
    ax.scatter(sigma, soft, c="white", s=10, edgecolors="black", linewidths=0.4)
    ax.plot([0, gx[-1]], [0, gx[-1]], color="white", linestyle="--", linewidth=1,
            label="s_M = sigma")
    ax.set_xlabel("label noise sigma (ms)")
    ax.set_ylabel("softness s_M (ms)")
    ax.legend(fontsize=8, loc="upper left")
    figure.colorbar(image, ax=ax, label="F1 (mean over test pieces)")
    ax.set_title(f"drums: Nadaraya-Watson F1 over {len(rows)} runs (bandwidth {h:g} ms)",
                 fontsize=9)
    out = Path(results.out_dir)
    png, table = out / "softness_heatmap.png", out / "softness_pairs.csv"
    write_atomic(png, lambda f: figure.savefig(f, format="png", dpi=110), binary=True)

    def write(f) -> None:
        f.write("sigma_s,softness_s,f1\n")
        for r in sorted(rows, key=lambda r: (r["sigma"], r["softness"])):
            f.write(f"{r['sigma']!r},{r['softness']!r},{r['f1']!r}\n")
    write_atomic(table, write)
    return {"heatmap": png, "pairs": table}


DRUM_SOFTNESS_EXPERIMENT = SweepExperiment(
    name="drums-softness",
    summary=("the paper's Fig. 3: SoftLoc drum runs over random (noise sigma, softness s_M) "
             "pairs, sigma ~ U[0, 100] ms, s_M ~ U[5, 150] ms (one pair per seed), shown as a "
             "Nadaraya-Watson heat map of F1 (softness_heatmap.png)"),
    config_type=DrumExperimentConfig,
    run_one=run_one,
    axes={"loss": ("softloc",), "noise_level": ("random",), "distribution": ("normal",),
          "seed": tuple(range(40))},
    quick_axes={"loss": ("softloc",), "noise_level": ("random",),
                "distribution": ("normal",), "seed": tuple(range(6))},
    quick_config=QUICK_DRUMS,
    score="f1",
    score_label="F1 (50 ms, mean over test pieces)",
    noise_unit="s",
    takes_device=True,
    extra_report=softness_heatmap,
)
