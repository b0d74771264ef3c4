"""The data set of sessions (:class:`SensorDataset`): summaries and burst statistics, selection,
z-score normalisation fitted on training subjects (:class:`FeatureNormalizer`),
leave-subjects-out folds (:class:`SensorFold`) and batches."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields

import numpy as np
import torch

from ..._checks import check_int
from .batch import SensorBatch, _concatenate, _cut
from .config import SensorConfig
from .session import SensorSession, _as_labels

_DEFAULT_EPISODE_GAP = 30


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


@dataclass(frozen=True)
class BurstStatistics:
    """How puffs cluster into episodes (cigarettes), from labels.

    Consecutive puffs of a session belong to one episode when they are fewer than
    ``episode_gap`` steps apart. Means are over all sessions; NaN when there is nothing to
    average. ``distractor_fraction`` is the share of non-puff steps that are distractor cycles
    (synthetic data; NaN for real data). Gaps are in steps (respiration cycles).

    Examples
    --------
    :meth:`SensorDataset.burst_statistics` returns one:

    >>> from softloc.data.sensor import SensorConfig, generate_sensor_dataset
    >>> config = SensorConfig(num_subjects=2, sessions_per_subject=1, session_length=(100, 150))
    >>> data = generate_sensor_dataset(config, seed=0)
    >>> stats = data.burst_statistics()
    >>> stats.num_sessions, stats.num_steps, stats.num_puffs, stats.num_episodes
    (2, 777, 43, 4)
    >>> stats.episode_gap, stats.mean_puffs_per_episode, round(stats.puff_rate, 4)
    (60, 10.75, 0.0553)
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

    Examples
    --------
    :meth:`SensorDataset.split` and :meth:`SensorDataset.leave_one_subject_out` return them:

    >>> import numpy as np
    >>> from softloc.data.sensor import SensorConfig, generate_sensor_dataset
    >>> config = SensorConfig(num_subjects=2, sessions_per_subject=1, session_length=(100, 150))
    >>> data = generate_sensor_dataset(config, seed=0)
    >>> fold = data.split([1])
    >>> fold.held_out, fold.train.subjects, fold.test.subjects
    ((1,), (0,), (1,))
    >>> train = np.concatenate([s.features for s in fold.train.sessions])
    >>> bool(np.allclose(train.mean(axis=0), 0, atol=1e-4))  # z-scored on the training part
    True
    >>> fold.to_dict()["normalized"], fold.test.normalizer is fold.normalizer
    (True, True)
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

    Examples
    --------
    :func:`generate_sensor_dataset` and :func:`load_puffmarker` return one; it can also be
    built from sessions:

    >>> import numpy as np
    >>> sessions = (SensorSession(subject=0, index=0, features=np.ones((6, 2)),
    ...                           labels=[0, 1, 0, 0, 1, 0]),
    ...             SensorSession(subject=1, index=0, features=np.ones((4, 2)),
    ...                           labels=[0, 0, 1, 0]))
    >>> data = SensorDataset(sessions=sessions, feature_names=("a", "b"), source="puffmarker")
    >>> data.subjects, data.num_sessions, data.num_steps, data.num_events
    ((0, 1), 2, 10, 3)
    >>> stacked = data.stack()  # whole sessions, padded to the longest
    >>> stacked.features.shape, stacked.mask.sum(axis=1).tolist()
    ((2, 6, 2), [6, 4])
    >>> data.with_labels(stacked.labels * 0).num_events  # e.g. misaligned labels
    0
    >>> [fold.held_out for fold in data.leave_one_subject_out(normalize=False)]
    [(0,), (1,)]
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
