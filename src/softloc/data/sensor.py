"""Wearable-sensor puff detection data: a realistic generator and a puffMarker loader.

The paper's section 6.2 detects smoking puffs in the puffMarker data set (Saleheen et al. 2015),
which cannot be had offline. This module gives (1) :func:`generate_sensor_dataset`, a seeded
generator of series in the same shape, whose properties that decide a benchmark's outcome are
explicit options of :class:`SensorConfig`, and (2) :func:`load_puffmarker`, a reader of the real
data's CSV layout for a user who has it. Both return a :class:`SensorDataset`.

Conventions
-----------
* One **step** is one respiration cycle (an inhalation and the exhalation that follows it), as
  in puffMarker. Lengths, gaps and offsets are in steps (cycles). Timestamps are in the files'
  unit, milliseconds in puffMarker (a respiration cycle lasts about 3 to 5 s, so the authors'
  session split at gaps above ``5e6`` is a pause of about 83 minutes).
* A **session** is one continuous recording: ``features`` ``(T, F)`` float32, ``labels``
  ``(T,)`` int64 puff counts per step (0 or 1 for ground truth: the exact puff cycles),
  optional ``timestamps`` ``(T, 2)`` float64 (cycle start and end). Synthetic sessions also carry
  ``kinds`` ``(T,)`` int8, the true type of each cycle (an index into :data:`CYCLE_KINDS`), and
  ``artifacts`` ``(T,)`` bool.
* **Subjects** are integers: ``0 .. num_subjects - 1`` for generated data, the puffMarker user
  ids for loaded data. Evaluation is leave-one-subject-out
  (:meth:`SensorDataset.leave_one_subject_out`), as in the paper.
* **Normalisation** is a z-score per feature, ``(x - mean) / std`` with the mean and the
  population standard deviation (``ddof = 0``) pooled over every step of the *training*
  sessions only (:class:`FeatureNormalizer`); the held-out subject is transformed with the
  training statistics and never contributes to them. A feature that is constant in training
  (std below ``1e-12`` times its scale) is only centred. The authors' code trained on raw,
  unnormalised features.
* **Windows** (:meth:`SensorDataset.windows`) start at every ``stride``-th step of a session, as
  in the authors' code (length 50, stride 1); a window that runs past the session's end is
  zero-padded and comes with ``mask`` False on the padded steps. The authors' code used such
  windows *unmasked*, training on zero padding as if it were data; with the mask, a loss can
  ignore it (``softloc.losses`` take ``mask``).
* Randomness: :func:`generate_sensor_dataset` draws from ``numpy.random.SeedSequence(seed)``
  children with fixed spawn keys, ``(0,)`` for the population, ``(1, s)`` for subject ``s`` and
  ``(2, s, k)`` for session ``k`` of subject ``s``: the same seed and configuration give
  bit-identical arrays, and a subject's sessions do not change when subjects or sessions are
  added.

The generative model
--------------------
Each cycle has nine latent physiological factors (:data:`FACTORS`, unit variance at rest):
five from the chest band (inhalation depth and duration, exhalation duration, breath hold,
speech irregularity), three from the wrist (hand at mouth, wrist roll, gesture motion) and a slow
activity level (posture, walking). At rest they follow AR(1) processes from cycle to cycle
(coefficient ``background_correlation``; 0.98 for activity). The ``F`` features are noisy linear
mixtures of the factors, the way puffMarker's 37 features (durations, ratios, stretches, wrist
angles, and their differences) are redundant views of a few physiological quantities: 60 % load
mainly on one chest factor, 40 % on one wrist factor, each also on two factors of its own group
and on activity, plus independent noise (``feature_noise``). Chest features are positive and
log-normal (durations, amplitudes), wrist features are linear (angles); raw locations and scales
differ by orders of magnitude, as in the unnormalised CSVs.

Cycle types add a **signature** (in factor standard deviations) to the cycle's factors:

============== =========================================================================
puff           deep (+2.0), long (+1.5) inhalation, long exhalation (+1.0), smoke hold
               (+1.5), less speech (-0.5); hand at mouth (+2.0), cigarette roll (+1.0),
               hand still (-0.5). Scaled by ``puff_strength``, a per-subject style factor and
               a per-puff log-normal jitter (``puff_variability``). A share
               ``evidence_before`` / ``evidence_after`` of it lies in the previous / next
               cycle instead (smoke exhaled in the next cycle, cycle segmentation, features
               that are differences with neighbouring cycles).
context        the hand rising to the mouth in the previous cycle (gesture motion +1.5, hand
               +0.8, roll +0.3; ``context_before``) and lowering in the next (gesture +1.5,
               hand +0.5, roll +0.3, exhalation +0.3; ``context_after``). Not puff-specific:
               bites and sips have the same gestures.
eat (bite)     shares hand at mouth and breath hold (swallowing); own: fork roll (-1.0),
               gesture (+0.5), shallow inhalation (-0.5). Bouts of about 8 bites, 5 cycles
               apart. Gesture context as a puff.
drink (sip)    shares hand at mouth, roll (cup tilt) and breath hold; own: shallow inhalation
               (-0.5), short exhalation (-0.3). Bouts of about 3 sips, 8 cycles apart.
               Gesture context as a puff.
talk           shares deep inhalation and long exhalation; own: speech (+2.0), quick
               inhalation (-1.0), no hold (-0.5). Runs of about 6 consecutive cycles.
deep_breath    a sigh: shares the puff's depth and durations; own: less speech (-0.3).
               Single cycles.
============== =========================================================================

A distractor's shared factors take ``distractor_similarity`` times the puff's values (times
``puff_strength``): at similarity 1 a bite is a puff on the wrist, a sigh a puff on the chest.
Puffs win collisions with distractors. Motion artifacts (chest band slips) add large deviations
to half of the chest features of a cycle at ``artifact_rate``.

Subjects differ (``subject_variation`` = ``v``): per-feature offsets ``v N(0, 1)`` and gains
``exp(0.3 v N(0, 1))`` (feature standard deviations at rest), loadings perturbed by
``0.3 v N(0, 1)`` (each subject has its own feature covariance and its own signature direction
in feature space), noise scales ``exp(0.3 v N(0, 1))``, and a puff style ``exp(0.2 v N(0, 1))``.

Why the defaults (chosen for realism, not to reproduce a score)
---------------------------------------------------------------
* 6 subjects, 5 sessions each, sessions of 300 to 700 cycles: the authors' code holds at most
  30 sessions of at most 700 steps for the 6 users (its ``[30, 700]`` test arrays); 700 cycles
  are about 45 minutes of breathing.
* 37 features: puffMarker's count.
* ``puffs_per_episode = 10``: a cigarette takes about 8 to 12 puffs. ``inter_puff_gap = 6``
  cycles with a minimum of 2 (right-skewed): inter-puff intervals of about 20 to 40 s are 4 to 10
  cycles of 4 s, and the cycle after a puff is the smoke's exhalation and the hand's descent.
  These make puffs dense, as the paper says ("multiple consecutive smoking episodes").
* ``episodes_per_session = 1.5``, ``episode_gap = 150`` cycles (at least 60): sessions were cut
  around smoking, so each holds at least one cigarette; two cigarettes are rarely closer than
  4 to 5 minutes, typically 10 or more.
* ``evidence_after = 0.1`` and ``evidence_before = 0``: a puff cycle is distinctive in itself
  (deep inhalation, smoke hold, hand at mouth); only a little of it spills into the next cycle
  (smoke exhaled late). The paper's causal LSTM reaches 93 % F1 at zero tolerance with clean
  labels, which requires the evidence at the labelled step. With a large share after the
  label a causal model fires late (sensor notes).
* ``context_before = context_after = 0.5``: the gestures around a puff are clear on the wrist but
  are not specific to smoking.
* ``subject_variation = 0.5``: moderate; about a sixth of a resting feature's variance is then
  the person (between-subject over within-subject variance of about 0.2). Cycle features of this
  kind are usually expressed relative to the person's own breathing (ratios to a running median,
  differences with neighbouring cycles), which removes much of the between-person level
  difference; strong variation made leave-one-subject-out unlearnable even with clean labels
  (sensor notes).
* ``distractor_rate = 0.08`` (8 % of cycles), ``distractor_similarity = 0.8``, mix 30 % eating,
  20 % drinking, 40 % talking, 10 % sighs: eating, drinking and talking are puffMarker's known
  confounders; on the wrist a bite looks almost like a puff.
* ``feature_noise = 0.6``: cycle features are estimates (segmentation errors, short wrist
  windows); each feature keeps about 80 % of its variance from the physiology.
* ``puff_variability = 0.3``: puff volumes vary by about 30 % within a smoker.
* ``background_correlation = 0.5``: breathing varies slowly from cycle to cycle.
* ``artifact_rate = 0.01``: the band slips now and then in the field.

Examples
--------
>>> config = SensorConfig(num_subjects=3, sessions_per_subject=2, session_length=(100, 150))
>>> data = generate_sensor_dataset(config, seed=0)
>>> data.subjects, data.num_sessions, data.num_features
((0, 1, 2), 6, 37)
>>> session = data.sessions[0]
>>> session.features.dtype, session.labels.dtype, session.features.shape[1]
(dtype('float32'), dtype('int64'), 37)
>>> folds = data.leave_one_subject_out()
>>> [fold.held_out for fold in folds]
[(0,), (1,), (2,)]
>>> batch = folds[0].train.windows(length=50)
>>> batch.features.shape[1:], batch.mask.dtype
((50, 37), dtype('bool'))
"""

from __future__ import annotations

import csv
import math
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import numpy as np
import torch
from scipy.signal import lfilter

from .._checks import check_int, check_real

__all__ = [
    "CYCLE_KINDS",
    "DISTRACTOR_KINDS",
    "FACTORS",
    "PUFFMARKER_SESSION_GAP",
    "PUFFMARKER_USERS",
    "BurstStatistics",
    "FeatureNormalizer",
    "SensorBatch",
    "SensorConfig",
    "SensorDataset",
    "SensorFold",
    "SensorSession",
    "generate_sensor_dataset",
    "load_puffmarker",
    "save_puffmarker",
]

FACTORS = (
    "inhalation_depth",
    "inhalation_duration",
    "exhalation_duration",
    "breath_hold",
    "speech",
    "hand_at_mouth",
    "wrist_roll",
    "gesture_motion",
    "activity",
)
"""Latent physiological factors of a respiration cycle (see the module docstring)."""

DISTRACTOR_KINDS = ("eat", "drink", "talk", "deep_breath")
"""Cycle types that share part of the puff signature, in the order of ``distractor_mix``."""

CYCLE_KINDS = ("normal", "puff") + DISTRACTOR_KINDS
"""Names of the codes in :attr:`SensorSession.kinds`: ``CYCLE_KINDS[code]``."""

PUFFMARKER_USERS = (10, 11, 12, 14, 15, 16)
"""User ids of the puffMarker files the authors' code reads."""

PUFFMARKER_SESSION_GAP = 5e6
"""Timestamp gap (file units, milliseconds) above which the authors' code starts a new session."""

_CHEST = (0, 1, 2, 3, 4)
_WRIST = (5, 6, 7)
_ACTIVITY = 8
_ACTIVITY_CORRELATION = 0.98
_CHEST_SHARE = 0.6
_LOG_SPREAD = 0.3  # chest features: x = location * exp(0.3 y)
_DISTRACTOR_REACH = 200  # steps before a session from which a distractor bout may reach into it
_MIN_MARGIN = 10  # normal cycles at least before the first and after the last puff
_GAP_SHAPE = 4.0  # negative-binomial shape of the within-episode gaps (right-skewed)
_DEFAULT_EPISODE_GAP = 30
_NUM_FACTORS = len(FACTORS)


def _factors(**values: float) -> np.ndarray:
    vector = np.zeros(_NUM_FACTORS)
    for name, value in values.items():
        vector[FACTORS.index(name)] = value
    return vector


_PUFF = _factors(inhalation_depth=2.0, inhalation_duration=1.5, exhalation_duration=1.0,
                 breath_hold=1.5, speech=-0.5, hand_at_mouth=2.0, wrist_roll=1.0,
                 gesture_motion=-0.5)
_RAISE = _factors(hand_at_mouth=0.8, wrist_roll=0.3, gesture_motion=1.5)
_LOWER = _factors(exhalation_duration=0.3, hand_at_mouth=0.5, wrist_roll=0.3, gesture_motion=1.5)


@dataclass(frozen=True)
class _Distractor:
    shared: tuple[str, ...]  # factors copied from the puff signature, times the similarity
    own: np.ndarray  # the distractor's own deviations
    gesture: bool  # hand raised before and lowered after, like a puff
    cycles: float  # mean cycles per bout
    gap: float  # mean steps between cycles of a bout (1 = consecutive)

    def signature(self, similarity: float) -> np.ndarray:
        mask = np.zeros(_NUM_FACTORS)
        mask[[FACTORS.index(name) for name in self.shared]] = 1.0
        return similarity * mask * _PUFF + self.own


_DISTRACTORS = {
    "eat": _Distractor(("hand_at_mouth", "breath_hold"),
                       _factors(inhalation_depth=-0.5, wrist_roll=-1.0, gesture_motion=0.5),
                       gesture=True, cycles=8.0, gap=5.0),
    "drink": _Distractor(("hand_at_mouth", "wrist_roll", "breath_hold"),
                         _factors(inhalation_depth=-0.5, exhalation_duration=-0.3),
                         gesture=True, cycles=3.0, gap=8.0),
    "talk": _Distractor(("inhalation_depth", "exhalation_duration"),
                        _factors(inhalation_duration=-1.0, breath_hold=-0.5, speech=2.0),
                        gesture=False, cycles=6.0, gap=1.0),
    "deep_breath": _Distractor(("inhalation_depth", "inhalation_duration", "exhalation_duration"),
                               _factors(speech=-0.3), gesture=False, cycles=1.0, gap=1.0),
}


# ----------------------------------------------------------------------------------------------
# Validation helpers
# ----------------------------------------------------------------------------------------------


# ----------------------------------------------------------------------------------------------
# Configuration
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SensorConfig:
    """Options of :func:`generate_sensor_dataset`; the defaults and their reasons are in the
    module docstring ("Why the defaults").

    Attributes
    ----------
    num_subjects:
        Subjects (people), each with their own signal statistics. Default 6 (puffMarker's users).
    sessions_per_subject:
        Recordings per subject. Default 5.
    num_features:
        Features per step. Default 37 (puffMarker's).
    session_length:
        ``(low, high)``: a session's target length in steps is uniform on ``[low, high]``; it is
        longer only when its smoking episodes need more (``10`` normal cycles are kept before the
        first and after the last puff). Default ``(300, 700)``.
    episodes_per_session:
        Mean smoking episodes (cigarettes) per session, ``1 + Poisson(mean - 1)``, so at least
        one. Default 1.5.
    puffs_per_episode:
        Mean puffs per episode, ``1 + Poisson(mean - 1)``. Default 10.
    inter_puff_gap:
        Mean steps from one puff to the next within an episode. Default 6.
    min_inter_puff_gap:
        Smallest such gap in steps; the gap is ``min + NegativeBinomial`` (shape 4, right-skewed)
        with the mean above, capped at ``min_episode_gap - 1``. Default 2.
    episode_gap:
        Mean steps from the last puff of an episode to the first of the next,
        ``min_episode_gap + Exponential``. Default 150.
    min_episode_gap:
        Smallest gap between episodes in steps. Default 60.
    puff_strength:
        Multiplier of the puff signature (1: the table of the module docstring). Default 1.
    puff_variability:
        Standard deviation of the log of a puff's (or distractor's) amplitude. Default 0.3.
    evidence_before, evidence_after:
        Shares of a puff's own signature that lie in the previous / next cycle instead of the
        puff's cycle (which keeps ``1 - before - after``). Defaults 0 and 0.1.
    context_before, context_after:
        Amplitude of the hand-raising / hand-lowering gesture in the previous / next cycle.
        Defaults 0.5 and 0.5.
    distractor_rate:
        Expected distractor cycles per step before overlaps (distractor cycles that fall on a
        puff or on another distractor are dropped, a few percent of them). Default 0.08.
    distractor_similarity:
        In ``[0, 1]``: the share of the puff's values that a distractor's shared factors take.
        Default 0.8.
    distractor_mix:
        Non-negative weights of :data:`DISTRACTOR_KINDS` (eat, drink, talk, deep_breath): their
        shares of distractor cycles. Default ``(0.3, 0.2, 0.4, 0.1)``.
    subject_variation:
        Strength ``v >= 0`` of the differences between subjects (0: all subjects draw from one
        distribution). Default 0.5.
    feature_noise:
        Standard deviation of each feature's independent noise relative to a unit factor
        loading. Default 0.6.
    background_correlation:
        AR(1) coefficient in ``[0, 1)`` of the resting factors from cycle to cycle. Default 0.5.
    artifact_rate:
        Probability in ``[0, 1]`` that a cycle carries a motion artifact. Default 0.01.

    Examples
    --------
    >>> config = SensorConfig(evidence_after=0.5)
    >>> config.evidence_after, SensorConfig(**config.to_dict()) == config
    (0.5, True)
    """

    num_subjects: int = 6
    sessions_per_subject: int = 5
    num_features: int = 37
    session_length: tuple[int, int] = (300, 700)
    episodes_per_session: float = 1.5
    puffs_per_episode: float = 10.0
    inter_puff_gap: float = 6.0
    min_inter_puff_gap: int = 2
    episode_gap: float = 150.0
    min_episode_gap: int = 60
    puff_strength: float = 1.0
    puff_variability: float = 0.3
    evidence_before: float = 0.0
    evidence_after: float = 0.1
    context_before: float = 0.5
    context_after: float = 0.5
    distractor_rate: float = 0.08
    distractor_similarity: float = 0.8
    distractor_mix: tuple[float, float, float, float] = (0.3, 0.2, 0.4, 0.1)
    subject_variation: float = 0.5
    feature_noise: float = 0.6
    background_correlation: float = 0.5
    artifact_rate: float = 0.01

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        for name in ("num_subjects", "sessions_per_subject", "num_features",
                     "min_inter_puff_gap"):
            set_(self, name, check_int(getattr(self, name), name, minimum=1))
        set_(self, "min_episode_gap", check_int(self.min_episode_gap, "min_episode_gap",
                                                 minimum=self.min_inter_puff_gap + 1))
        length = self.session_length
        if not isinstance(length, (tuple, list)) or len(length) != 2:
            raise TypeError(f"session_length must be a (low, high) pair of ints, got {length!r}")
        low = check_int(length[0], "session_length[0]", minimum=1)
        high = check_int(length[1], "session_length[1]", minimum=low)
        set_(self, "session_length", (low, high))
        for name in ("episodes_per_session", "puffs_per_episode"):
            set_(self, name, check_real(getattr(self, name), name, minimum=1.0))
        set_(self, "inter_puff_gap", check_real(self.inter_puff_gap, "inter_puff_gap",
                                                  minimum=self.min_inter_puff_gap))
        if self.inter_puff_gap >= self.min_episode_gap - 1 and self.inter_puff_gap > \
                self.min_inter_puff_gap:
            raise ValueError(
                f"inter_puff_gap must be < min_episode_gap - 1 = {self.min_episode_gap - 1} "
                f"(within-episode gaps are capped there), got {self.inter_puff_gap}"
            )
        set_(self, "episode_gap", check_real(self.episode_gap, "episode_gap",
                                               minimum=self.min_episode_gap))
        for name in ("puff_strength", "puff_variability", "context_before", "context_after",
                     "subject_variation", "feature_noise"):
            set_(self, name, check_real(getattr(self, name), name, minimum=0.0))
        for name in ("evidence_before", "evidence_after", "distractor_rate",
                     "distractor_similarity", "artifact_rate"):
            set_(self, name, check_real(getattr(self, name), name, minimum=0.0, maximum=1.0))
        if self.evidence_before + self.evidence_after > 1.0 + 1e-12:
            raise ValueError(
                "evidence_before + evidence_after must be <= 1 (shares of the puff signature), "
                f"got {self.evidence_before} + {self.evidence_after}"
            )
        set_(self, "background_correlation",
             check_real(self.background_correlation, "background_correlation", minimum=0.0,
                          maximum=1.0, high_open=True))
        mix = self.distractor_mix
        if not isinstance(mix, (tuple, list)) or len(mix) != len(DISTRACTOR_KINDS):
            raise TypeError(
                f"distractor_mix must be {len(DISTRACTOR_KINDS)} weights for {DISTRACTOR_KINDS}, "
                f"got {mix!r}"
            )
        mix = tuple(check_real(w, f"distractor_mix[{i}]", minimum=0.0) for i, w in enumerate(mix))
        if self.distractor_rate > 0 and sum(mix) <= 0:
            raise ValueError("distractor_mix must have a positive weight when distractor_rate > 0")
        set_(self, "distractor_mix", mix)

    def to_dict(self) -> dict:
        """All options; tuples become lists (JSON). ``SensorConfig(**d)`` rebuilds it."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}


# ----------------------------------------------------------------------------------------------
# Data containers
# ----------------------------------------------------------------------------------------------


def _as_labels(labels, length: int | None, name: str) -> np.ndarray:
    array = np.asarray(labels)
    if array.ndim != 1 or (length is not None and array.shape[0] != length):
        expected = "(T,)" if length is None else f"({length},)"
        raise ValueError(f"{name} must have shape {expected}, got {array.shape}")
    if array.dtype == object or array.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold puff counts (numbers), got dtype {array.dtype}")
    if array.dtype.kind == "f" and (not np.all(np.isfinite(array))
                                    or np.any(array != np.round(array))):
        raise ValueError(f"{name} must hold whole puff counts per step")
    if np.any(array < 0):
        raise ValueError(f"{name} must hold puff counts >= 0")
    return array.astype(np.int64)


@dataclass(frozen=True, eq=False)
class SensorSession:
    """One continuous recording of one subject.

    Attributes
    ----------
    subject:
        Subject id.
    index:
        The session's number within its subject (0, 1, ... in time order).
    features:
        ``(T, F)`` float32, one row per respiration cycle.
    labels:
        ``(T,)`` int64 puff counts per step: 0/1 ground truth, or counts after misalignment.
    timestamps:
        ``(T, 2)`` float64 start and end of each cycle (milliseconds), or ``None``.
    kinds:
        ``(T,)`` int8 true cycle type, an index into :data:`CYCLE_KINDS`; ``None`` for real data.
    artifacts:
        ``(T,)`` bool, True on cycles with a motion artifact; ``None`` for real data.
    """

    subject: int
    index: int
    features: np.ndarray
    labels: np.ndarray
    timestamps: np.ndarray | None = None
    kinds: np.ndarray | None = None
    artifacts: np.ndarray | None = None

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "subject", check_int(self.subject, "subject", minimum=-(2**62)))
        set_(self, "index", check_int(self.index, "index", minimum=0))
        features = np.asarray(self.features)
        if features.ndim != 2 or features.shape[0] == 0 or features.shape[1] == 0:
            raise ValueError(
                f"features must have shape (T, F) with T, F >= 1, got {features.shape}")
        if features.dtype.kind not in "biuf":
            raise TypeError(f"features must be numeric, got dtype {features.dtype}")
        set_(self, "features", np.ascontiguousarray(features, dtype=np.float32))
        length = features.shape[0]
        set_(self, "labels", _as_labels(self.labels, length, "labels"))
        if self.timestamps is not None:
            stamps = np.asarray(self.timestamps, dtype=np.float64)
            if stamps.shape != (length, 2):
                raise ValueError(f"timestamps must have shape ({length}, 2), got {stamps.shape}")
            set_(self, "timestamps", stamps)
        if self.kinds is not None:
            kinds = np.asarray(self.kinds)
            if kinds.shape != (length,) or kinds.dtype.kind not in "iu" or \
                    np.any((kinds < 0) | (kinds >= len(CYCLE_KINDS))):
                raise ValueError(f"kinds must be ({length},) integer codes into CYCLE_KINDS")
            set_(self, "kinds", kinds.astype(np.int8))
        if self.artifacts is not None:
            artifacts = np.asarray(self.artifacts)
            if artifacts.shape != (length,) or artifacts.dtype != np.bool_:
                raise ValueError(f"artifacts must be a ({length},) bool array")
            set_(self, "artifacts", artifacts)

    @property
    def length(self) -> int:
        """Steps ``T``."""
        return int(self.features.shape[0])

    @property
    def num_events(self) -> int:
        """Puffs in the labels (their sum)."""
        return int(self.labels.sum())

    def replace(self, **changes) -> "SensorSession":
        """A copy with some fields changed (validated again)."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values.update(changes)
        return SensorSession(**values)

    def to_dict(self) -> dict:
        return {"subject": self.subject, "index": self.index, "length": self.length,
                "num_features": int(self.features.shape[1]), "num_events": self.num_events}


@dataclass(frozen=True)
class FeatureNormalizer:
    """Per-feature z-score ``(x - mean) / std`` fitted on training data.

    ``mean`` and ``std`` are float64 ``(F,)``: the mean and the population standard deviation
    (``ddof = 0``) pooled over every step of the sessions it was fitted on, each step weighing
    the same. A feature whose standard deviation is below ``1e-12 * max(1, |mean|)`` gets
    ``std = 1`` (only centred), so that constant features do not divide by zero.

    Examples
    --------
    >>> normalizer = FeatureNormalizer.fit([np.array([[1.0, 5.0], [3.0, 5.0]])])
    >>> normalizer.mean.tolist(), normalizer.std.tolist()
    ([2.0, 5.0], [1.0, 1.0])
    >>> normalizer.transform(np.array([[3.0, 6.0]])).tolist()
    [[1.0, 1.0]]
    """

    mean: np.ndarray
    std: np.ndarray

    def __post_init__(self) -> None:
        mean = np.asarray(self.mean, dtype=np.float64)
        std = np.asarray(self.std, dtype=np.float64)
        if mean.ndim != 1 or std.shape != mean.shape:
            raise ValueError(f"mean and std must be (F,) arrays, got {mean.shape} and {std.shape}")
        if not (np.all(np.isfinite(mean)) and np.all(np.isfinite(std)) and np.all(std > 0)):
            raise ValueError("mean must be finite and std finite and > 0")
        object.__setattr__(self, "mean", mean)
        object.__setattr__(self, "std", std)

    @classmethod
    def fit(cls, data) -> "FeatureNormalizer":
        """Fit on a :class:`SensorDataset`, a sequence of sessions or of ``(T, F)`` arrays."""
        if isinstance(data, SensorDataset):
            arrays = [s.features for s in data.sessions]
        else:
            arrays = [s.features if isinstance(s, SensorSession) else np.asarray(s) for s in data]
        if not arrays or any(a.ndim != 2 for a in arrays):
            raise ValueError("data must hold at least one (T, F) feature array")
        stacked = np.concatenate([a.astype(np.float64) for a in arrays], axis=0)
        if not np.all(np.isfinite(stacked)):
            raise ValueError("data must hold finite features; found NaN or inf")
        mean = stacked.mean(axis=0)
        std = stacked.std(axis=0)
        std = np.where(std > 1e-12 * np.maximum(1.0, np.abs(mean)), std, 1.0)
        return cls(mean=mean, std=std)

    @property
    def num_features(self) -> int:
        return int(self.mean.shape[0])

    def transform(self, features) -> np.ndarray:
        """``(..., F)`` features, z-scored, float32 (computed in float64)."""
        array = np.asarray(features, dtype=np.float64)
        if array.shape[-1:] != self.mean.shape:
            raise ValueError(
                f"features must have {self.num_features} features in the last axis, "
                f"got shape {array.shape}"
            )
        return ((array - self.mean) / self.std).astype(np.float32)

    def to_dict(self) -> dict:
        return {"mean": self.mean.tolist(), "std": self.std.tolist()}


@dataclass(frozen=True, eq=False)
class SensorBatch:
    """Fixed-length sequences cut from sessions (training windows or whole padded sessions).

    Attributes
    ----------
    features:
        ``(N, L, F)`` float32; zero on padded steps.
    labels:
        ``(N, L)`` int64 puff counts; zero on padded steps.
    mask:
        ``(N, L)`` bool, True on valid steps (a prefix of each row).
    session:
        ``(N,)`` int64: index of the source session in the dataset's ``sessions``.
    subject:
        ``(N,)`` int64: subject of the source session.
    start:
        ``(N,)`` int64: step of the session where the row starts.
    """

    features: np.ndarray
    labels: np.ndarray
    mask: np.ndarray
    session: np.ndarray
    subject: np.ndarray
    start: np.ndarray

    @property
    def num_sequences(self) -> int:
        return int(self.features.shape[0])

    @property
    def length(self) -> int:
        return int(self.features.shape[1])

    def tensors(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(features, labels, mask)`` as torch tensors: float32 ``(N, L, F)``, float32
        ``(N, L)`` (the losses' targets) and bool ``(N, L)``."""
        return (torch.from_numpy(self.features), torch.from_numpy(self.labels.astype(np.float32)),
                torch.from_numpy(self.mask))

    def to_dict(self) -> dict:
        return {"num_sequences": self.num_sequences, "length": self.length,
                "num_features": int(self.features.shape[2]),
                "valid_steps": int(self.mask.sum()), "events": int(self.labels.sum())}


@dataclass(frozen=True)
class BurstStatistics:
    """How puffs cluster into episodes (cigarettes), from labels.

    Consecutive puffs of a session belong to one episode when they are fewer than
    ``episode_gap`` steps apart. Means are over all sessions; NaN when there is nothing to
    average. ``distractor_fraction`` is the share of non-puff steps that are distractor cycles
    (synthetic data; NaN for real data).
    """

    num_sessions: int
    num_steps: int
    num_puffs: int
    num_episodes: int
    episode_gap: int
    puff_rate: float
    mean_puffs_per_episode: float
    mean_inter_puff_gap: float
    mean_episode_gap: float
    distractor_fraction: float

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True, eq=False)
class SensorFold:
    """One leave-subjects-out split.

    ``train`` and ``test`` are :class:`SensorDataset` s; when ``normalizer`` is not ``None`` both
    are z-scored with it, and it was fitted on the ``train`` sessions only.
    """

    held_out: tuple[int, ...]
    train: "SensorDataset"
    test: "SensorDataset"
    normalizer: FeatureNormalizer | None

    def to_dict(self) -> dict:
        return {"held_out": list(self.held_out), "train": self.train.to_dict(),
                "test": self.test.to_dict(), "normalized": self.normalizer is not None}


@dataclass(frozen=True, eq=False)
class SensorDataset:
    """Sessions of wearable-sensor features with puff labels.

    Attributes
    ----------
    sessions:
        Tuple of :class:`SensorSession`, in the order given (generated and loaded data: by
        subject, then session index).
    feature_names:
        ``F`` names.
    source:
        ``'synthetic'`` or ``'puffmarker'``.
    config, seed:
        The generator's configuration and seed (``None`` for loaded data).
    normalizer:
        The :class:`FeatureNormalizer` the features were transformed with, or ``None`` (raw).
    """

    sessions: tuple[SensorSession, ...]
    feature_names: tuple[str, ...]
    source: str
    config: SensorConfig | None = None
    seed: int | None = None
    normalizer: FeatureNormalizer | None = None

    def __post_init__(self) -> None:
        sessions = tuple(self.sessions)
        if not sessions:
            raise ValueError("sessions must hold at least one SensorSession")
        if not all(isinstance(s, SensorSession) for s in sessions):
            raise TypeError("sessions must hold SensorSession objects")
        names = tuple(str(n) for n in self.feature_names)
        widths = {int(s.features.shape[1]) for s in sessions}
        if widths != {len(names)}:
            raise ValueError(
                f"every session must have len(feature_names) = {len(names)} features, "
                f"got {sorted(widths)}"
            )
        object.__setattr__(self, "sessions", sessions)
        object.__setattr__(self, "feature_names", names)

    # -- summaries -----------------------------------------------------------------------------

    @property
    def subjects(self) -> tuple[int, ...]:
        """Distinct subject ids, ascending."""
        return tuple(sorted({s.subject for s in self.sessions}))

    @property
    def num_sessions(self) -> int:
        return len(self.sessions)

    @property
    def num_features(self) -> int:
        return len(self.feature_names)

    @property
    def num_steps(self) -> int:
        return sum(s.length for s in self.sessions)

    @property
    def num_events(self) -> int:
        return sum(s.num_events for s in self.sessions)

    def to_dict(self) -> dict:
        """Summary (no arrays): source, sizes, events per subject, config and seed."""
        per_subject = {
            subject: {"sessions": sum(s.subject == subject for s in self.sessions),
                      "steps": sum(s.length for s in self.sessions if s.subject == subject),
                      "events": sum(s.num_events for s in self.sessions if s.subject == subject)}
            for subject in self.subjects
        }
        return {"source": self.source, "num_subjects": len(self.subjects),
                "num_sessions": self.num_sessions, "num_steps": self.num_steps,
                "num_events": self.num_events, "num_features": self.num_features,
                "per_subject": per_subject, "normalized": self.normalizer is not None,
                "config": None if self.config is None else self.config.to_dict(),
                "seed": self.seed}

    def burst_statistics(self, episode_gap: int | None = None) -> BurstStatistics:
        """Episode structure of the labels (:class:`BurstStatistics`).

        ``episode_gap`` defaults to the configuration's ``min_episode_gap`` for generated data
        (which recovers the generated episodes exactly) and to 30 steps (about 2 minutes)
        otherwise.
        """
        if episode_gap is None:
            episode_gap = self.config.min_episode_gap if self.config else _DEFAULT_EPISODE_GAP
        episode_gap = check_int(episode_gap, "episode_gap", minimum=1)
        sizes, inner, outer = [], [], []
        puffs = distractors = non_puff = 0
        for session in self.sessions:
            steps = np.repeat(np.arange(session.length), session.labels)
            puffs += steps.size
            if session.kinds is not None:
                free = session.labels == 0
                non_puff += int(free.sum())
                distractors += int(np.count_nonzero(session.kinds[free] >= 2))
            if steps.size == 0:
                continue
            gaps = np.diff(steps)
            breaks = np.flatnonzero(gaps >= episode_gap)
            bounds = np.concatenate([[0], breaks + 1, [steps.size]])
            sizes.extend(np.diff(bounds).tolist())
            inner.extend(gaps[gaps < episode_gap].tolist())
            outer.extend(gaps[gaps >= episode_gap].tolist())

        def mean(values):
            return float(np.mean(values)) if len(values) else math.nan

        has_kinds = all(s.kinds is not None for s in self.sessions)
        return BurstStatistics(
            num_sessions=self.num_sessions, num_steps=self.num_steps, num_puffs=puffs,
            num_episodes=len(sizes), episode_gap=episode_gap,
            puff_rate=puffs / self.num_steps, mean_puffs_per_episode=mean(sizes),
            mean_inter_puff_gap=mean(inner), mean_episode_gap=mean(outer),
            distractor_fraction=distractors / non_puff if has_kinds and non_puff else math.nan,
        )

    # -- selection and transformation ----------------------------------------------------------

    def _replace(self, **changes) -> "SensorDataset":
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values.update(changes)
        return SensorDataset(**values)

    def select(self, subjects: Sequence[int]) -> "SensorDataset":
        """The sessions of ``subjects`` (each must be present)."""
        wanted = _check_subjects(subjects, self.subjects, "subjects")
        return self._replace(sessions=tuple(s for s in self.sessions if s.subject in wanted))

    def normalize(self, normalizer: FeatureNormalizer) -> "SensorDataset":
        """Features z-scored with ``normalizer`` (which must have this dataset's ``F``)."""
        if not isinstance(normalizer, FeatureNormalizer):
            raise TypeError(
                f"normalizer must be a FeatureNormalizer, got {type(normalizer).__name__}")
        if self.normalizer is not None:
            raise ValueError("this dataset is already normalised; normalise the raw dataset")
        sessions = tuple(s.replace(features=normalizer.transform(s.features))
                         for s in self.sessions)
        return self._replace(sessions=sessions, normalizer=normalizer)

    def with_labels(self, labels) -> "SensorDataset":
        """The same sessions with other labels, e.g. misaligned ones.

        ``labels`` is a sequence of ``(T_i,)`` arrays, one per session, or an ``(N, T_max)``
        array (as :meth:`stack` gives) whose steps past each session's end must be zero.
        Counts above 1 are kept (the counting loss uses them).
        """
        if isinstance(labels, (np.ndarray, torch.Tensor)) and np.ndim(labels) == 2:
            array = labels.detach().cpu().numpy() if isinstance(labels, torch.Tensor) else labels
            if array.shape[0] != self.num_sessions or array.shape[1] < max(
                    s.length for s in self.sessions):
                raise ValueError(
                    f"labels must have shape ({self.num_sessions}, >= longest session), "
                    f"got {array.shape}"
                )
            rows = []
            for i, session in enumerate(self.sessions):
                if np.any(array[i, session.length:] != 0):
                    raise ValueError(f"labels[{i}] has events past the end of session {i} "
                                     f"(length {session.length})")
                rows.append(array[i, :session.length])
        else:
            rows = list(labels)
            if len(rows) != self.num_sessions:
                raise ValueError(f"labels must hold {self.num_sessions} arrays (one per session), "
                                 f"got {len(rows)}")
        sessions = tuple(
            s.replace(labels=_as_labels(row, s.length, f"labels[{i}]"))
            for i, (s, row) in enumerate(zip(self.sessions, rows))
        )
        return self._replace(sessions=sessions)

    def split(self, held_out: Sequence[int], *, normalize: bool = True) -> SensorFold:
        """Train on every subject but ``held_out``, test on ``held_out``.

        With ``normalize`` (the default) a :class:`FeatureNormalizer` is fitted on the training
        sessions only and applied to both parts.
        """
        held = _check_subjects(held_out, self.subjects, "held_out")
        train_subjects = [s for s in self.subjects if s not in held]
        if not train_subjects:
            raise ValueError("held_out must leave at least one subject for training")
        train, test = self.select(train_subjects), self.select(sorted(held))
        normalizer = None
        if normalize:
            normalizer = FeatureNormalizer.fit(train)
            train, test = train.normalize(normalizer), test.normalize(normalizer)
        return SensorFold(held_out=tuple(sorted(held)), train=train, test=test,
                          normalizer=normalizer)

    def leave_one_subject_out(self, *, normalize: bool = True) -> tuple[SensorFold, ...]:
        """One :class:`SensorFold` per subject (ascending), holding that subject out.

        Every session is a test session in exactly one fold. With ``normalize``, each fold's
        normalizer is fitted on its training subjects only.
        """
        if len(self.subjects) < 2:
            raise ValueError(f"leave-one-subject-out needs >= 2 subjects, got {self.subjects}")
        return tuple(self.split([subject], normalize=normalize) for subject in self.subjects)

    # -- batches -------------------------------------------------------------------------------

    def windows(self, length: int = 50, stride: int = 1, pad: bool = True) -> SensorBatch:
        """Training windows of ``length`` steps starting every ``stride`` steps of each session.

        With ``pad`` (the default) windows start at ``0, stride, ...`` up to the session's last
        step, and the part past the end is zero with ``mask`` False (the authors' windows,
        masked). Without it only windows that lie inside a session are made; a session shorter
        than ``length`` gives none.
        """
        length = check_int(length, "length", minimum=1)
        stride = check_int(stride, "stride", minimum=1)
        if not isinstance(pad, (bool, np.bool_)):
            raise TypeError(f"pad must be a bool, got {type(pad).__name__}")
        parts = []
        for i, session in enumerate(self.sessions):
            last = session.length if pad else session.length - length + 1
            starts = np.arange(0, max(last, 0), stride)
            if starts.size:
                parts.append(_cut(session, i, starts, length))
        if not parts:
            raise ValueError(f"no window of length {length} fits in any session (pad=False)")
        return _concatenate(parts, self.num_features, length)

    def stack(self, length: int | None = None) -> SensorBatch:
        """Every whole session as one row, zero-padded to ``length`` (default: the longest).

        The authors' evaluation padded test sessions to 700 steps: ``stack(700)``.
        """
        longest = max(s.length for s in self.sessions)
        if length is None:
            length = longest
        length = check_int(length, "length", minimum=1)
        if length < longest:
            raise ValueError(f"length must be >= the longest session ({longest}), got {length}")
        parts = [_cut(s, i, np.array([0]), length) for i, s in enumerate(self.sessions)]
        return _concatenate(parts, self.num_features, length)


def _check_subjects(subjects, available: tuple[int, ...], name: str) -> set[int]:
    if isinstance(subjects, (int, np.integer)) and not isinstance(subjects, bool):
        raise TypeError(f"{name} must be a sequence of subject ids, got a single int; "
                        f"wrap it: [{subjects}]")
    wanted = set()
    for subject in subjects:
        subject = check_int(subject, name, minimum=-(2**62))
        if subject not in available:
            raise ValueError(f"{name}: subject {subject} is not in the dataset {available}")
        wanted.add(subject)
    if not wanted:
        raise ValueError(f"{name} must name at least one subject")
    return wanted


def _cut(session: SensorSession, index: int, starts: np.ndarray, length: int) -> SensorBatch:
    positions = starts[:, None] + np.arange(length)[None, :]
    valid = positions < session.length
    clipped = np.where(valid, positions, session.length)  # the extra zero row
    features = np.concatenate([session.features,
                               np.zeros((1, session.features.shape[1]), np.float32)])[clipped]
    labels = np.concatenate([session.labels, [0]])[clipped]
    n = starts.size
    return SensorBatch(features=features, labels=labels, mask=valid,
                       session=np.full(n, index, np.int64),
                       subject=np.full(n, session.subject, np.int64),
                       start=starts.astype(np.int64))


def _concatenate(parts: list[SensorBatch], num_features: int, length: int) -> SensorBatch:
    return SensorBatch(
        features=np.concatenate([p.features for p in parts]).reshape(-1, length, num_features),
        labels=np.concatenate([p.labels for p in parts]).astype(np.int64),
        mask=np.concatenate([p.mask for p in parts]),
        session=np.concatenate([p.session for p in parts]),
        subject=np.concatenate([p.subject for p in parts]),
        start=np.concatenate([p.start for p in parts]),
    )


# ----------------------------------------------------------------------------------------------
# Generator
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class _Population:
    loadings: np.ndarray  # (F, K)
    scale: np.ndarray  # (F,) resting standard deviation of the linear mixture
    chest: np.ndarray  # (F,) bool: positive log-normal feature
    location: np.ndarray  # (F,)
    spread: np.ndarray  # (F,) linear features' raw scale
    names: tuple[str, ...]


@dataclass(frozen=True, eq=False)
class _Subject:
    loadings: np.ndarray
    offset: np.ndarray
    gain: np.ndarray
    noise_scale: np.ndarray
    style: float
    period_ms: float
    clock_ms: float


def _rng(seed: int, *key: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=key))


def _population(config: SensorConfig, rng: np.random.Generator) -> _Population:
    f = config.num_features
    num_chest = int(round(_CHEST_SHARE * f)) if f > 1 else 1
    loadings = np.zeros((f, _NUM_FACTORS))
    names = []
    for j in range(f):
        group, label = (_CHEST, "chest") if j < num_chest else (_WRIST, "wrist")
        position = j if j < num_chest else j - num_chest
        primary = group[position % len(group)]
        loadings[j, primary] = 1.0 if rng.random() < 0.75 else -1.0
        others = [k for k in group if k != primary]
        for k in rng.choice(others, size=min(2, len(others)), replace=False):
            loadings[j, k] = 0.35 * rng.standard_normal()
        loadings[j, _ACTIVITY] = 0.3 * rng.standard_normal()
        names.append(f"{label}_{j:02d}_{FACTORS[primary]}")
    chest = np.arange(f) < num_chest
    scale = np.sqrt((loadings**2).sum(axis=1) + config.feature_noise**2)
    location = np.where(chest, 10.0 ** rng.uniform(-0.5, 2.5, f), rng.uniform(-90.0, 90.0, f))
    spread = 10.0 ** rng.uniform(0.0, 1.5, f)
    return _Population(loadings, scale, chest, location, spread, tuple(names))


def _subject(config: SensorConfig, population: _Population, rng: np.random.Generator,
             subject: int) -> _Subject:
    v = config.subject_variation
    f = config.num_features
    return _Subject(
        loadings=population.loadings + 0.3 * v * rng.standard_normal((f, _NUM_FACTORS)),
        offset=v * rng.standard_normal(f),
        gain=np.exp(0.3 * v * rng.standard_normal(f)),
        noise_scale=np.exp(0.3 * v * rng.standard_normal(f)),
        style=float(np.exp(0.2 * v * rng.standard_normal())),
        period_ms=float(rng.uniform(3200.0, 4800.0)),
        clock_ms=1.4e12 + 1e9 * subject + float(rng.uniform(0.0, 5e8)),
    )


def _gaps(rng: np.random.Generator, n: int, mean: float, minimum: int, cap: int) -> np.ndarray:
    """``n`` gaps ``minimum + NegativeBinomial(shape 4, mean - minimum)``, at most ``cap``."""
    extra = mean - minimum
    if extra <= 0:
        return np.full(n, minimum, np.int64)
    draws = rng.negative_binomial(_GAP_SHAPE, _GAP_SHAPE / (_GAP_SHAPE + extra), size=n)
    return np.minimum(minimum + draws, cap).astype(np.int64)


def _puff_schedule(config: SensorConfig, rng: np.random.Generator) -> tuple[int, np.ndarray]:
    """Session length and the puff steps (ascending)."""
    num_episodes = 1 + int(rng.poisson(config.episodes_per_session - 1.0))
    offsets, position = [], 0
    for e in range(num_episodes):
        if e:
            position += config.min_episode_gap + int(
                round(rng.exponential(config.episode_gap - config.min_episode_gap)))
        puffs = 1 + int(rng.poisson(config.puffs_per_episode - 1.0))
        gaps = _gaps(rng, puffs - 1, config.inter_puff_gap, config.min_inter_puff_gap,
                     config.min_episode_gap - 1)
        steps = position + np.concatenate([[0], np.cumsum(gaps)])
        offsets.append(steps)
        position = int(steps[-1])
    relative = np.concatenate(offsets)
    span = int(relative[-1]) + 1
    low, high = config.session_length
    target = int(rng.integers(low, high + 1))
    length = max(target, span + 2 * _MIN_MARGIN)
    lead = _MIN_MARGIN + int(rng.integers(0, length - span - 2 * _MIN_MARGIN + 1))
    return length, lead + relative


def _distractor_schedule(config: SensorConfig, rng: np.random.Generator, kinds: np.ndarray,
                         amplitudes: np.ndarray) -> None:
    """Mark distractor cycles in ``kinds`` (in place) and draw their amplitudes."""
    length = kinds.size
    weights = np.asarray(config.distractor_mix, dtype=np.float64)
    if config.distractor_rate == 0 or weights.sum() == 0:
        return
    shares = weights / weights.sum()
    for code, (name, share) in enumerate(zip(DISTRACTOR_KINDS, shares), start=2):
        if share == 0:
            continue
        kind = _DISTRACTORS[name]
        per_step = config.distractor_rate * share / kind.cycles  # bouts per step
        bouts = rng.poisson(per_step * (length + _DISTRACTOR_REACH))
        for start in rng.integers(-_DISTRACTOR_REACH, length, size=bouts):
            cycles = 1 + int(rng.poisson(kind.cycles - 1.0))
            gaps = _gaps(rng, cycles - 1, kind.gap, 1, _DISTRACTOR_REACH)
            steps = start + np.concatenate([[0], np.cumsum(gaps)])
            jitter = np.exp(config.puff_variability * rng.standard_normal(cycles))
            inside = (steps >= 0) & (steps < length)
            steps, jitter = steps[inside], jitter[inside]
            free = kinds[steps] == 0
            kinds[steps[free]] = code
            amplitudes[steps[free]] = jitter[free]


def _session(config: SensorConfig, population: _Population, subject_params: _Subject,
             rng: np.random.Generator, subject: int, index: int) -> SensorSession:
    length, puffs = _puff_schedule(config, rng)
    kinds = np.zeros(length, np.int8)
    kinds[puffs] = 1
    amplitudes = np.zeros(length)
    amplitudes[puffs] = (config.puff_strength * subject_params.style
                         * np.exp(config.puff_variability * rng.standard_normal(puffs.size)))
    _distractor_schedule(config, rng, kinds, amplitudes)

    # resting factors: AR(1) with unit stationary variance
    phi = np.full(_NUM_FACTORS, config.background_correlation)
    phi[_ACTIVITY] = _ACTIVITY_CORRELATION
    innovations = rng.standard_normal((length, _NUM_FACTORS))
    factors = np.empty_like(innovations)
    for k in range(_NUM_FACTORS):
        gain = math.sqrt(1.0 - phi[k] ** 2)
        driven = innovations[:, k].copy()
        driven[0] /= gain
        factors[:, k] = lfilter([gain], [1.0, -phi[k]], driven)

    # signatures
    signature = np.zeros_like(factors)
    own = 1.0 - config.evidence_before - config.evidence_after

    def around(steps: np.ndarray, amplitude: np.ndarray, offset: int, vector: np.ndarray,
               weight: float) -> None:
        if weight == 0 or steps.size == 0:
            return
        target = steps + offset
        keep = (target >= 0) & (target < length)
        np.add.at(signature, target[keep], weight * amplitude[keep, None] * vector[None, :])

    a = amplitudes[puffs]
    around(puffs, a, 0, _PUFF, own)
    around(puffs, a, -1, _PUFF, config.evidence_before)
    around(puffs, a, 1, _PUFF, config.evidence_after)
    around(puffs, a, -1, _RAISE, config.context_before)
    around(puffs, a, 1, _LOWER, config.context_after)
    for code, name in enumerate(DISTRACTOR_KINDS, start=2):
        steps = np.flatnonzero(kinds == code)
        kind = _DISTRACTORS[name]
        b = amplitudes[steps]
        around(steps, b, 0, kind.signature(config.distractor_similarity * config.puff_strength),
               1.0)
        if kind.gesture:
            around(steps, b, -1, _RAISE, config.context_before)
            around(steps, b, 1, _LOWER, config.context_after)
    factors += signature

    # features: subject mixture + noise, standardised at the population level, subject offsets
    noise = config.feature_noise * subject_params.noise_scale * rng.standard_normal(
        (length, config.num_features))
    mixed = (factors @ subject_params.loadings.T + noise) / population.scale
    mixed = subject_params.offset + subject_params.gain * mixed
    artifacts = rng.random(length) < config.artifact_rate
    chest_columns = np.flatnonzero(population.chest)
    for t in np.flatnonzero(artifacts):
        hit = rng.choice(chest_columns, size=max(1, chest_columns.size // 2), replace=False)
        mixed[t, hit] += 3.0 * rng.standard_normal(hit.size)
    raw = np.where(population.chest,
                   population.location * np.exp(_LOG_SPREAD * np.clip(mixed, -60, 60)),
                   population.location + population.spread * mixed)

    durations = subject_params.period_ms * np.exp(
        0.12 * (factors[:, FACTORS.index("inhalation_duration")]
                + factors[:, FACTORS.index("exhalation_duration")]))
    session_start = subject_params.clock_ms + index * 1.2e8 + float(rng.uniform(0.0, 4e7))
    ends = session_start + np.cumsum(durations)
    starts = np.concatenate([[session_start], ends[:-1]])
    labels = (kinds == 1).astype(np.int64)
    return SensorSession(subject=subject, index=index, features=raw.astype(np.float32),
                         labels=labels, timestamps=np.stack([starts, ends], axis=1),
                         kinds=kinds, artifacts=artifacts)


def generate_sensor_dataset(config: SensorConfig | None = None, *, seed: int = 0) -> SensorDataset:
    """Generate puffMarker-like sessions (see the module docstring for the model).

    Parameters
    ----------
    config:
        A :class:`SensorConfig` (default: ``SensorConfig()``).
    seed:
        Int >= 0. The same seed and configuration give bit-identical data; subject ``s``'s
        sessions depend only on the seed, ``s``, its session numbers and the options that shape
        them (not on ``num_subjects`` or ``sessions_per_subject``).

    Returns
    -------
    SensorDataset
        Raw (unnormalised) features, ``source='synthetic'``; sessions ordered by subject, then
        session index. Each session's ``kinds`` and ``artifacts`` give the true cycle types.
    """
    if config is None:
        config = SensorConfig()
    if not isinstance(config, SensorConfig):
        raise TypeError(f"config must be a SensorConfig, got {type(config).__name__}")
    seed = check_int(seed, "seed", minimum=0)
    population = _population(config, _rng(seed, 0))
    sessions = []
    for subject in range(config.num_subjects):
        params = _subject(config, population, _rng(seed, 1, subject), subject)
        for index in range(config.sessions_per_subject):
            sessions.append(_session(config, population, params, _rng(seed, 2, subject, index),
                                     subject, index))
    return SensorDataset(sessions=tuple(sessions), feature_names=population.names,
                         source="synthetic", config=config, seed=seed)


# ----------------------------------------------------------------------------------------------
# puffMarker CSV layout
# ----------------------------------------------------------------------------------------------


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _read_csv(path: Path, *, columns: int | None, min_columns: int = 1,
              numeric: Sequence[int] | None,
              what: str) -> tuple[list[str] | None, np.ndarray, list[int]]:
    """Rows of a comma-separated file as float64, the header and each row's line number.

    ``numeric``: the columns that must be finite numbers (all when ``None``); others are read as
    NaN when they are not numbers. The first non-blank row is a header when one of those columns
    is not a number."""
    if not path.is_file():
        raise FileNotFoundError(f"puffMarker {what} file not found: {path}")
    header, rows, lines = None, [], []
    with open(path, newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        for fields_ in reader:
            line = reader.line_num
            if not fields_ or all(not f.strip() for f in fields_):
                continue
            fields_ = [f.strip() for f in fields_]
            required = range(len(fields_)) if numeric is None else numeric
            if header is None and not rows and not all(
                    c < len(fields_) and _is_number(fields_[c]) for c in required):
                header = fields_
                if columns is not None and len(header) != columns:
                    raise ValueError(f"{path}, line {line} (header): expected {columns} "
                                     f"comma-separated columns, found {len(header)}")
                if len(header) < min_columns:
                    raise ValueError(f"{path}, line {line} (header): expected at least "
                                     f"{min_columns} comma-separated columns, found {len(header)}")
                continue
            if columns is not None and len(fields_) != columns:
                raise ValueError(f"{path}, line {line}: expected {columns} comma-separated "
                                 f"columns, found {len(fields_)}")
            if len(fields_) < min_columns:
                raise ValueError(f"{path}, line {line}: expected at least {min_columns} "
                                 f"comma-separated columns, found {len(fields_)}")
            values = []
            for c, text in enumerate(fields_):
                must = numeric is None or c in numeric
                try:
                    value = float(text)
                except ValueError:
                    if must:
                        raise ValueError(f"{path}, line {line}, column {c}: {text!r} is not a "
                                         "number") from None
                    value = math.nan
                if must and not math.isfinite(value):
                    raise ValueError(f"{path}, line {line}, column {c}: {text!r} is not finite")
                values.append(value)
            if rows and len(values) != len(rows[0]):
                raise ValueError(f"{path}, line {line}: expected {len(rows[0])} comma-separated "
                                 f"columns like line {lines[0]}, found {len(values)}")
            rows.append(values)
            lines.append(line)
    if not rows:
        raise ValueError(f"{path} holds no data rows")
    return header, np.asarray(rows, dtype=np.float64), lines


def load_puffmarker(folder, users: Sequence[int] = PUFFMARKER_USERS, *,
                    num_features: int = 37,
                    session_gap: float = PUFFMARKER_SESSION_GAP) -> SensorDataset:
    """Read puffMarker CSVs (reference-spec section 3.2) into a :class:`SensorDataset`.

    Layout, per user ``u``: ``features_{u}.csv`` with ``2 + num_features`` comma-separated columns
    (columns 0 and 1: cycle start and end timestamps; the rest: features, used raw) and
    ``predictions_{u}.csv`` with at least 4 columns whose column 3 is the puff label (0 or 1) of
    the same row's cycle. A first row that is not all numbers is a header (the authors read the
    files with ``numpy.genfromtxt(..., names=True)``); feature names come from the first user's
    header, else ``feature_00`` .... Blank lines are skipped.

    Sessions: a user's rows are cut where the start timestamp jumps by more than
    ``session_gap`` (default ``5e6``, the authors' rule) or goes backwards. Unlike the authors'
    code, which cut the concatenation of all users, a session never spans two users.

    Raises
    ------
    FileNotFoundError
        ``folder`` or one of the files is missing.
    ValueError
        Naming the file and line: a row with the wrong number of columns, a value that is not a
        finite number (features, timestamps, labels), a label other than 0 or 1, an empty file,
        or feature and label files of different lengths.
    """
    folder = Path(os.fspath(folder))
    if not folder.exists():
        raise FileNotFoundError(f"folder not found: {folder}")
    if not folder.is_dir():
        raise NotADirectoryError(f"folder must be a directory, got the file {folder}")
    if isinstance(users, (int, np.integer)):
        raise TypeError(
            f"users must be a sequence of user ids, got a single int; wrap it: [{users}]")
    users = [check_int(u, "users", minimum=0) for u in users]
    if not users:
        raise ValueError("users must name at least one user")
    if len(set(users)) != len(users):
        raise ValueError(f"users must not repeat ids, got {users}")
    num_features = check_int(num_features, "num_features", minimum=1)
    session_gap = check_real(session_gap, "session_gap", minimum=0.0)
    width = num_features + 2

    sessions, names = [], None
    for user in users:
        feature_path = folder / f"features_{user}.csv"
        label_path = folder / f"predictions_{user}.csv"
        header, table, feature_lines = _read_csv(feature_path, columns=width, numeric=None,
                                                 what="features")
        _, labels_table, label_lines = _read_csv(label_path, columns=None, min_columns=4,
                                                 numeric=(3,), what="predictions")
        if labels_table.shape[0] != table.shape[0]:
            shorter, longer = sorted([(table.shape[0], feature_path, feature_lines),
                                      (labels_table.shape[0], label_path, label_lines)],
                                     key=lambda item: item[0])
            raise ValueError(
                f"{feature_path} has {table.shape[0]} data rows but {label_path} has "
                f"{labels_table.shape[0]}: line {longer[2][shorter[0]]} of {longer[1]} has no "
                f"matching row in {shorter[1]}"
            )
        labels = labels_table[:, 3]
        bad = np.flatnonzero((labels != 0) & (labels != 1))
        if bad.size:
            i = int(bad[0])
            raise ValueError(f"{label_path}, line {label_lines[i]}, column 3: the puff label "
                             f"must be 0 or 1, got {labels[i]:g}")
        if names is None:
            names = (tuple(header[2:]) if header is not None
                     else tuple(f"feature_{j:02d}" for j in range(num_features)))
        jumps = np.diff(table[:, 0])
        cuts = np.flatnonzero((jumps > session_gap) | (jumps < 0)) + 1
        bounds = np.concatenate([[0], cuts, [table.shape[0]]])
        for index, (lo, hi) in enumerate(zip(bounds[:-1], bounds[1:])):
            sessions.append(SensorSession(
                subject=user, index=index, features=table[lo:hi, 2:].astype(np.float32),
                labels=labels[lo:hi].astype(np.int64), timestamps=table[lo:hi, :2]))
    return SensorDataset(sessions=tuple(sessions), feature_names=names, source="puffmarker")


def save_puffmarker(dataset: SensorDataset, folder) -> list[Path]:
    """Write ``dataset`` in the puffMarker layout that :func:`load_puffmarker` reads.

    One ``features_{subject}.csv`` (header ``start_timestamp,end_timestamp,<feature names>``)
    and one ``predictions_{subject}.csv`` (header ``start_timestamp,end_timestamp,session,label``)
    per subject, sessions in order. Subject ids must be >= 0; timestamps are the sessions' own
    or, when missing, made up (4 s cycles, sessions a day apart) so that the loader splits the
    sessions as they are. Values are written with ``repr`` so a round trip is exact. The folder
    is created if needed. Returns the paths written.
    """
    if not isinstance(dataset, SensorDataset):
        raise TypeError(f"dataset must be a SensorDataset, got {type(dataset).__name__}")
    folder = Path(os.fspath(folder))
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for subject in dataset.subjects:
        if subject < 0:
            raise ValueError(f"subject ids must be >= 0 to name files, got {subject}")
        feature_path = folder / f"features_{subject}.csv"
        label_path = folder / f"predictions_{subject}.csv"
        with open(feature_path, "w", newline="", encoding="utf-8") as feature_file, \
                open(label_path, "w", newline="", encoding="utf-8") as label_file:
            feature_writer, label_writer = csv.writer(feature_file), csv.writer(label_file)
            feature_writer.writerow(["start_timestamp", "end_timestamp", *dataset.feature_names])
            label_writer.writerow(["start_timestamp", "end_timestamp", "session", "label"])
            previous_end = None
            for session in (s for s in dataset.sessions if s.subject == subject):
                if int(session.labels.max(initial=0)) > 1:
                    raise ValueError(f"session {session.index} of subject {subject} has steps "
                                     "with more than one puff; the layout holds 0/1 labels")
                stamps = session.timestamps
                if stamps is None:
                    begin = 0.0 if previous_end is None else previous_end + 8.64e7
                    starts = begin + 4000.0 * np.arange(session.length)
                    stamps = np.stack([starts, starts + 4000.0], axis=1)
                previous_end = float(stamps[-1, 1])
                for row, label, stamp in zip(session.features, session.labels, stamps):
                    feature_writer.writerow([repr(float(stamp[0])), repr(float(stamp[1])),
                                             *(repr(float(x)) for x in row)])
                    label_writer.writerow([repr(float(stamp[0])), repr(float(stamp[1])),
                                           session.index, int(label)])
        written += [feature_path, label_path]
    return written
