"""The seeded generator of puffMarker-like sessions (:func:`generate_sensor_dataset`): population,
subjects, puff and distractor schedules, resting factors, signatures and features."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.signal import lfilter

from ..._checks import check_int
from .config import SensorConfig
from .dataset import SensorDataset
from .session import SensorSession
from .signatures import (
    _ACTIVITY,
    _CHEST,
    _DISTRACTORS,
    _LOWER,
    _NUM_FACTORS,
    _PUFF,
    _RAISE,
    _WRIST,
    DISTRACTOR_KINDS,
    FACTORS,
)

_ACTIVITY_CORRELATION = 0.98
_CHEST_SHARE = 0.6
_LOG_SPREAD = 0.3  # chest features: x = location * exp(0.3 y)
_DISTRACTOR_REACH = 200  # steps before a session from which a distractor bout may reach into it
_MIN_MARGIN = 10  # normal cycles at least before the first and after the last puff
_GAP_SHAPE = 4.0  # negative-binomial shape of the within-episode gaps (right-skewed)


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
    """Generate puffMarker-like sessions (see the package docstring for the model).

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

    Examples
    --------
    >>> import numpy as np
    >>> from softloc.data.sensor import CYCLE_KINDS
    >>> config = SensorConfig(num_subjects=2, sessions_per_subject=1, session_length=(100, 150))
    >>> data = generate_sensor_dataset(config, seed=0)
    >>> data.subjects, [s.length for s in data.sessions], data.num_features, data.source
    ((0, 1), [145, 632], 37, 'synthetic')
    >>> session = data.sessions[0]
    >>> dict(zip(CYCLE_KINDS, np.bincount(session.kinds, minlength=6).tolist()))
    {'normal': 126, 'puff': 8, 'eat': 0, 'drink': 4, 'talk': 4, 'deep_breath': 3}
    >>> bool(np.array_equal(session.labels, session.kinds == 1))  # the labels mark the puffs
    True
    >>> again = generate_sensor_dataset(config, seed=0)
    >>> bool(np.array_equal(again.sessions[1].features, data.sessions[1].features))
    True
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
