"""Label misalignment: distributions of annotation errors and how they move events.

A misaligned label is the true event time plus a random shift ``E`` drawn independently per
event (the paper's noise model, section 3). This module gives the shift distributions of the
paper's experiments and the functions that apply them to event times or to frame labels.

Conventions
-----------
* A distribution is a small frozen dataclass with ``sample(n, generator)`` (float64 ``(n,)``),
  analytic ``mean`` and ``std``, a ``name`` and ``to_dict()``. Its ``unit`` says what its
  numbers are: ``'seconds'`` or ``'frames'``. Applying a distribution in the other unit needs a
  :class:`~softloc.events.TimeBase` (``frames = seconds * fps``).
* Randomness is explicit: every function that draws takes ``generator``, a
  ``numpy.random.Generator`` (its state advances) or an int seed (the same seed gives exactly
  the same draws). :func:`epoch_generator` derives an independent generator per ``(seed,
  epoch)`` to re-draw the noise every epoch; one fixed seed draws it once per data set.
* Shifts are drawn for the events in a fixed order: class by class, times in order within a
  class (event lists); sequence, class, frame for frame labels, a frame holding ``k`` events
  giving ``k`` independent draws.
* Events pushed outside the sequence follow the policy ``outside``:

  - ``'clip'``: moved to the nearest edge (first or last valid frame; ``span`` ends for times);
  - ``'drop'``: removed;
  - ``'keep'``: returned outside (times beyond the span; for frame labels, their frame indices
    relative to the sequence start in ``outside_frames``), for a caller that windows a longer
    recording and hands them to a neighbouring window.

* Frame labels: an event in frame ``f`` shifted by ``s`` frames lands in
  ``floor(f + s + 1/2)``, the :class:`~softloc.events.TimeBase` nearest-frame rule, so a
  continuous shift is quantised exactly as an event time would be. Events that meet on a frame
  follow ``collisions`` of :mod:`softloc.events` (``'count'``, ``'merge'``, ``'error'``).
* Every application returns a :class:`MisalignmentReport` with the realised shift of each event.

The paper's protocols (reference-spec section 3)
------------------------------------------------
* golf: ``RoundedNormal(sigma)`` frames on frame labels, drawn once per data set (one seed),
  ``outside='drop'`` (shifted events beyond the clip never appear).
* puff: ``RoundedNormal``, ``Binary`` or ``SkewNormal`` (location 0, the authors' uncentred one)
  in steps on frame labels, clipped to the session (``outside='clip'``), collisions merged
  (``collisions='merge'``).
* piano: ``Normal(sigma, unit='seconds')`` on the event times of a whole recording, no
  clipping (``outside='keep'``): windows cut afterwards see events move to neighbouring windows.

Examples
--------
>>> from softloc.events import TimeBase
>>> noisy = misalign_events([[1.0, 2.0, 3.0]], Normal(0.15, unit="seconds"), generator=0,
...                         outside="keep")
>>> noisy.report.num_events, noisy.report.num_moved
(3, 3)
>>> again = misalign_events([[1.0, 2.0, 3.0]], Normal(0.15, unit="seconds"), generator=0,
...                         outside="keep")
>>> bool((again.events[0] == noisy.events[0]).all())
True
"""

from __future__ import annotations

import abc
import math
from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import ClassVar

import numpy as np
import torch
from scipy.special import ndtr
from torch import Tensor

from ._checks import check_choice, check_int, check_real
from .events import (
    COLLISION_POLICIES,
    TimeBase,
    _as_counts,
    _check_events,
    _check_mask,
    _check_time_base,
    _place,
)

__all__ = [
    "MISALIGNMENT_POLICIES",
    "UNITS",
    "Binary",
    "CenteredSkewNormal",
    "MisalignedEvents",
    "MisalignedFrames",
    "MisalignmentReport",
    "Normal",
    "Offset",
    "RoundedNormal",
    "ShiftDistribution",
    "SkewNormal",
    "Uniform",
    "as_generator",
    "distribution_from_dict",
    "epoch_generator",
    "misalign_events",
    "misalign_frames",
]

UNITS = ("seconds", "frames")
"""Units of a shift distribution."""

MISALIGNMENT_POLICIES = ("clip", "drop", "keep")
"""What happens to events pushed outside the sequence (see the module docstring)."""

_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)


# ----------------------------------------------------------------------------------------------
# Generators
# ----------------------------------------------------------------------------------------------


def as_generator(generator: np.random.Generator | int) -> np.random.Generator:
    """``generator`` itself, or a new ``numpy.random.default_rng(seed)`` for an int seed >= 0.

    Examples
    --------
    >>> import numpy as np
    >>> float(as_generator(7).random()) == float(np.random.default_rng(7).random())
    True
    >>> rng = np.random.default_rng(0)
    >>> as_generator(rng) is rng  # shared: its state advances
    True
    """
    if isinstance(generator, np.random.Generator):
        return generator
    if isinstance(generator, (bool, np.bool_)) or not isinstance(generator, (int, np.integer)):
        raise TypeError(
            "generator must be a numpy.random.Generator or an int seed >= 0, "
            f"got {type(generator).__name__}"
        )
    if generator < 0:
        raise ValueError(f"generator must be an int seed >= 0, got {generator}")
    return np.random.default_rng(int(generator))


def epoch_generator(seed: int, epoch: int) -> np.random.Generator:
    """Independent generator for ``epoch`` of a run seeded with ``seed``.

    It is the ``epoch``-th child of ``numpy.random.SeedSequence(seed)`` (what
    ``SeedSequence(seed).spawn`` would return), so epochs draw independent noise and a rerun
    with the same ``(seed, epoch)`` draws exactly the same noise.

    Examples
    --------
    >>> a = Normal(1.0, unit="frames").sample(3, epoch_generator(7, epoch=0))
    >>> b = Normal(1.0, unit="frames").sample(3, epoch_generator(7, epoch=1))
    >>> c = Normal(1.0, unit="frames").sample(3, epoch_generator(7, epoch=0))
    >>> bool((a == c).all()), bool((a == b).any())
    (True, False)
    """
    for value, name in ((seed, "seed"), (epoch, "epoch")):
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
            raise TypeError(f"{name} must be an int, got {type(value).__name__}")
        if value < 0:
            raise ValueError(f"{name} must be >= 0, got {value}")
    return np.random.default_rng(np.random.SeedSequence(int(seed), spawn_key=(int(epoch),)))


# ----------------------------------------------------------------------------------------------
# Distributions
# ----------------------------------------------------------------------------------------------


def _check_number(value: float, name: str, *, minimum: float | None = None) -> float:
    return check_real(value, name, -math.inf if minimum is None else minimum)


def _check_unit(unit: str) -> str:
    return check_choice(unit, "unit", UNITS)


def _check_size(n: int) -> int:
    return check_int(n, "n", 0)


class ShiftDistribution(abc.ABC):
    """Base of the shift distributions: ``sample``, ``mean``, ``std``, ``name``, ``to_dict``.

    Subclasses are frozen dataclasses that implement ``_draw(n, rng)``, ``mean`` and ``std``
    and set a class-level ``name`` and a ``unit`` field (``'seconds'`` or ``'frames'``); any
    subclass works with :func:`misalign_events` and :func:`misalign_frames`.

    Examples
    --------
    A Laplace shift of scale ``b`` frames (std ``sqrt(2) b``):

    >>> import math
    >>> from dataclasses import dataclass
    >>> from typing import ClassVar
    >>> @dataclass(frozen=True)
    ... class Laplace(ShiftDistribution):
    ...     name: ClassVar[str] = "laplace"
    ...     scale: float
    ...     unit: str = "frames"
    ...     def _draw(self, n, rng):
    ...         return rng.laplace(0.0, self.scale, n)
    ...     @property
    ...     def mean(self):
    ...         return 0.0
    ...     @property
    ...     def std(self):
    ...         return math.sqrt(2.0) * self.scale
    >>> laplace = Laplace(2.0)
    >>> laplace.sample(5, generator=0).shape, round(laplace.std, 3)
    ((5,), 2.828)
    >>> laplace.to_dict()["name"], laplace.to_dict()["scale"]
    ('laplace', 2.0)
    >>> import numpy as np
    >>> labels = np.zeros((1, 20)); labels[0, [5, 12]] = 1
    >>> moved = misalign_frames(labels, laplace, generator=0, outside="clip")
    >>> int(moved.labels.sum()), moved.report.num_events
    (2, 2)
    """

    name: ClassVar[str]
    unit: str

    def sample(self, n: int, generator: np.random.Generator | int) -> np.ndarray:
        """``n`` independent shifts, float64 ``(n,)``, in ``self.unit``.

        ``generator`` is a ``numpy.random.Generator`` or an int seed (see :func:`as_generator`).
        """
        n = _check_size(n)
        return np.asarray(self._draw(n, as_generator(generator)), dtype=np.float64)

    @abc.abstractmethod
    def _draw(self, n: int, rng: np.random.Generator) -> np.ndarray: ...

    @property
    @abc.abstractmethod
    def mean(self) -> float:
        """Analytic mean, in ``self.unit``."""

    @property
    @abc.abstractmethod
    def std(self) -> float:
        """Analytic standard deviation, in ``self.unit``."""

    def _parameters(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}  # type: ignore[arg-type]

    def to_dict(self) -> dict:
        """``name``, the parameters, ``unit``, and the analytic ``mean`` and ``std``."""
        return {"name": self.name, **self._parameters(), "unit": self.unit,
                "mean": self.mean, "std": self.std}


@dataclass(frozen=True)
class Normal(ShiftDistribution):
    """Continuous normal shift ``N(0, sigma^2)`` in ``unit`` (the piano protocol, in seconds).

    Examples
    --------
    >>> Normal(0.15, unit="seconds").to_dict()
    {'name': 'normal', 'sigma': 0.15, 'unit': 'seconds', 'mean': 0.0, 'std': 0.15}
    """

    name: ClassVar[str] = "normal"
    sigma: float
    unit: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "sigma", _check_number(self.sigma, "sigma", minimum=0.0))
        _check_unit(self.unit)

    def _draw(self, n: int, rng: np.random.Generator) -> np.ndarray:
        return self.sigma * rng.standard_normal(n)

    @property
    def mean(self) -> float:
        return 0.0

    @property
    def std(self) -> float:
        return self.sigma


def _rounded_normal_variance(sigma: float) -> float:
    """``E[round(sigma Z)^2]``: an exact sum for sigma <= 50, Sheppard's ``sigma^2 + 1/12`` above.

    Above 50 the neglected terms are of order ``exp(-2 pi^2 sigma^2)``, far below float64.
    """
    if sigma == 0.0:
        return 0.0
    if sigma > 50.0:
        return sigma * sigma + 1.0 / 12.0
    k = np.arange(1, math.ceil(40.0 * sigma) + 3, dtype=np.float64)
    probability = ndtr(-(k - 0.5) / sigma) - ndtr(-(k + 0.5) / sigma)
    return float(2.0 * np.sum(k * k * probability))


@dataclass(frozen=True)
class RoundedNormal(ShiftDistribution):
    """Normal shift rounded to whole frames, ``floor(sigma Z + 1/2)`` (golf and puff protocols).

    ``sigma`` is in frames, as in the paper's tables; ``unit`` is always ``'frames'``.
    The mean is 0; the variance is ``sum_k k^2 P(round(sigma Z) = k)``, which is Sheppard's
    ``sigma^2 + 1/12`` up to terms of order ``exp(-2 pi^2 sigma^2)`` (so to float64 precision
    for sigma >= 2) and differs from it for small sigma (it tends to 0 with sigma).

    Examples
    --------
    >>> RoundedNormal(2.0).sample(5, generator=0).tolist()
    [0.0, 0.0, 1.0, 0.0, -1.0]
    >>> round(RoundedNormal(2.0).std, 4)
    2.0207
    """

    name: ClassVar[str] = "rounded_normal"
    sigma: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "sigma", _check_number(self.sigma, "sigma", minimum=0.0))

    @property
    def unit(self) -> str:  # type: ignore[override]
        return "frames"

    def _draw(self, n: int, rng: np.random.Generator) -> np.ndarray:
        return np.floor(self.sigma * rng.standard_normal(n) + 0.5)

    @property
    def mean(self) -> float:
        return 0.0

    @property
    def std(self) -> float:
        return math.sqrt(_rounded_normal_variance(self.sigma))


@dataclass(frozen=True)
class Binary(ShiftDistribution):
    """``-delta`` or ``+delta`` with probability 1/2 each (the puff protocol's B(-delta, delta)).

    Examples
    --------
    >>> sorted(set(Binary(2.0, unit="frames").sample(100, generator=1).tolist()))
    [-2.0, 2.0]
    """

    name: ClassVar[str] = "binary"
    delta: float
    unit: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "delta", _check_number(self.delta, "delta", minimum=0.0))
        _check_unit(self.unit)

    def _draw(self, n: int, rng: np.random.Generator) -> np.ndarray:
        return self.delta * (2.0 * rng.integers(0, 2, size=n) - 1.0)

    @property
    def mean(self) -> float:
        return 0.0

    @property
    def std(self) -> float:
        return self.delta


def _skew_delta(alpha: float) -> float:
    return alpha / math.sqrt(1.0 + alpha * alpha)


def _draw_skew_normal(n: int, rng: np.random.Generator, alpha: float) -> np.ndarray:
    """Standard skew-normal draws: ``delta |U| + sqrt(1 - delta^2) V`` with U, V ~ N(0, 1)."""
    delta = _skew_delta(alpha)
    u = rng.standard_normal(n)
    v = rng.standard_normal(n)
    return delta * np.abs(u) + math.sqrt(1.0 - delta * delta) * v


@dataclass(frozen=True)
class SkewNormal(ShiftDistribution):
    """Skew-normal shift with location 0 and scale ``sigma``: the authors' **uncentred** one.

    Density ``2/sigma phi(x/sigma) Phi(alpha x/sigma)`` (scipy's ``skewnorm(alpha, 0, sigma)``).
    With ``delta = alpha / sqrt(1 + alpha^2)``::

        mean = sigma delta sqrt(2/pi)            (alpha = -2: -0.7136 sigma)
        std  = sigma sqrt(1 - 2 delta^2 / pi)    (alpha = -2:  0.7005 sigma)

    so the labels are biased (early, for alpha < 0), as in the puff experiment
    (reference-spec section 3.2 and section 5, item 14). :class:`CenteredSkewNormal` is the
    zero-mean variant.

    Examples
    --------
    >>> round(SkewNormal(1.0, unit="frames").mean, 4), round(SkewNormal(1.0, unit="frames").std, 4)
    (-0.7136, 0.7005)
    """

    name: ClassVar[str] = "skew_normal"
    sigma: float
    unit: str
    alpha: float = -2.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "sigma", _check_number(self.sigma, "sigma", minimum=0.0))
        object.__setattr__(self, "alpha", _check_number(self.alpha, "alpha"))
        _check_unit(self.unit)

    @property
    def location(self) -> float:
        """Location parameter: 0 (uncentred)."""
        return 0.0

    def _draw(self, n: int, rng: np.random.Generator) -> np.ndarray:
        return self.location + self.sigma * _draw_skew_normal(n, rng, self.alpha)

    @property
    def mean(self) -> float:
        return self.location + self.sigma * _skew_delta(self.alpha) * _SQRT_2_OVER_PI

    @property
    def std(self) -> float:
        delta = _skew_delta(self.alpha)
        return self.sigma * math.sqrt(1.0 - 2.0 * delta * delta / math.pi)


@dataclass(frozen=True)
class CenteredSkewNormal(SkewNormal):
    """Zero-mean skew-normal shift: :class:`SkewNormal` moved by ``-mean``.

    Location ``-sigma delta sqrt(2/pi)`` (``+0.7136 sigma`` for alpha = -2), scale ``sigma``:
    the same shape and standard deviation as :class:`SkewNormal`, mean 0, so the labels are
    asymmetrically spread but not biased.

    Examples
    --------
    >>> d = CenteredSkewNormal(1.0, unit="frames")
    >>> round(d.location, 4), d.mean == 0.0, round(d.std, 4)
    (0.7136, True, 0.7005)
    """

    name: ClassVar[str] = "centered_skew_normal"

    @property
    def location(self) -> float:
        """Location parameter: ``-sigma delta sqrt(2/pi)``, which makes the mean 0."""
        return -self.sigma * _skew_delta(self.alpha) * _SQRT_2_OVER_PI

    @property
    def mean(self) -> float:
        return 0.0


@dataclass(frozen=True)
class Uniform(ShiftDistribution):
    """Uniform shift on ``[low, high]``: mean ``(low + high)/2``, std ``(high - low)/sqrt(12)``.

    Examples
    --------
    >>> Uniform(-3.0, 1.0, unit="frames").mean
    -1.0
    """

    name: ClassVar[str] = "uniform"
    low: float
    high: float
    unit: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "low", _check_number(self.low, "low"))
        object.__setattr__(self, "high", _check_number(self.high, "high"))
        if self.low > self.high:
            raise ValueError(f"low must be <= high, got low={self.low}, high={self.high}")
        _check_unit(self.unit)

    def _draw(self, n: int, rng: np.random.Generator) -> np.ndarray:
        return rng.uniform(self.low, self.high, size=n)

    @property
    def mean(self) -> float:
        return 0.5 * (self.low + self.high)

    @property
    def std(self) -> float:
        return (self.high - self.low) / math.sqrt(12.0)


@dataclass(frozen=True)
class Offset(ShiftDistribution):
    """A constant ``offset`` plus an optional ``jitter`` distribution (a systematic lag).

    ``jitter`` must have the same ``unit``; with ``jitter=None`` every event moves by exactly
    ``offset``. ``mean = offset + jitter.mean``, ``std = jitter.std``.

    Examples
    --------
    >>> d = Offset(0.02, unit="seconds", jitter=Normal(0.01, unit="seconds"))
    >>> d.mean, d.std
    (0.02, 0.01)
    >>> Offset(3.0, unit="frames").sample(2, generator=0).tolist()
    [3.0, 3.0]
    """

    name: ClassVar[str] = "offset"
    offset: float
    unit: str
    jitter: ShiftDistribution | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "offset", _check_number(self.offset, "offset"))
        _check_unit(self.unit)
        if self.jitter is not None:
            if not isinstance(self.jitter, ShiftDistribution):
                raise TypeError(
                    f"jitter must be a ShiftDistribution or None, got {type(self.jitter).__name__}"
                )
            if self.jitter.unit != self.unit:
                raise ValueError(
                    f"jitter must be in the offset's unit {self.unit!r}, got {self.jitter.unit!r}"
                )

    def _draw(self, n: int, rng: np.random.Generator) -> np.ndarray:
        if self.jitter is None:
            return np.full(n, self.offset)
        return self.offset + self.jitter._draw(n, rng)

    @property
    def mean(self) -> float:
        return self.offset + (0.0 if self.jitter is None else self.jitter.mean)

    @property
    def std(self) -> float:
        return 0.0 if self.jitter is None else self.jitter.std

    def to_dict(self) -> dict:
        return {"name": self.name, "offset": self.offset, "unit": self.unit,
                "jitter": None if self.jitter is None else self.jitter.to_dict(),
                "mean": self.mean, "std": self.std}


_DISTRIBUTIONS: dict[str, type[ShiftDistribution]] = {
    cls.name: cls
    for cls in (Normal, RoundedNormal, Binary, SkewNormal, CenteredSkewNormal, Uniform, Offset)
}


def distribution_from_dict(spec: dict) -> ShiftDistribution:
    """The distribution a ``to_dict()`` describes (``mean`` and ``std`` are ignored).

    Examples
    --------
    >>> distribution_from_dict({"name": "binary", "delta": 2, "unit": "frames"})
    Binary(delta=2.0, unit='frames')
    """
    if not isinstance(spec, dict):
        raise TypeError(f"spec must be a dict, got {type(spec).__name__}")
    name = spec.get("name")
    if name not in _DISTRIBUTIONS:
        raise ValueError(f"spec['name'] must be one of {tuple(_DISTRIBUTIONS)}, got {name!r}")
    cls = _DISTRIBUTIONS[name]
    kwargs = {k: v for k, v in spec.items() if k not in ("name", "mean", "std")}
    if cls is RoundedNormal:
        unit = kwargs.pop("unit", "frames")
        if unit != "frames":
            raise ValueError(f"spec['unit'] must be 'frames' for a rounded normal, got {unit!r}")
    if cls is Offset and isinstance(kwargs.get("jitter"), dict):
        kwargs["jitter"] = distribution_from_dict(kwargs["jitter"])
    try:
        return cls(**kwargs)
    except TypeError as error:
        raise ValueError(f"spec does not describe a {name} distribution: {error}") from error


# ----------------------------------------------------------------------------------------------
# Report
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class MisalignmentReport:
    """What a misalignment did to the events.

    Attributes
    ----------
    unit:
        Unit of ``shifts``: ``'seconds'`` (event times) or ``'frames'`` (frame labels).
    shifts:
        ``(num_events,)`` float64: each event's realised shift, new position minus true
        position after rounding to frames and clipping, in ``unit``; NaN for dropped events.
        Events are in the drawing order of the module docstring.
    num_clipped:
        Events moved to an edge (``outside='clip'``).
    num_dropped:
        Events removed (``outside='drop'``).
    num_outside:
        Events returned outside the sequence (``outside='keep'``).
    num_merged:
        Events lost to ``collisions='merge'`` on frame labels (0 for event times).
    num_collisions:
        Events that landed on a frame already holding an event of their class (frame labels).
    fps:
        Frame rate of the time base, when known; lets :meth:`fraction_within` convert units.

    Examples
    --------
    Every misalignment returns one; built by hand here, with one dropped event (NaN):

    >>> import numpy as np
    >>> report = MisalignmentReport(unit="frames", shifts=np.array([0.0, 2.0, -1.0, np.nan]),
    ...                             num_dropped=1, fps=100.0)
    >>> report.num_events, report.num_located, report.num_moved
    (4, 3, 3)
    >>> report.mean_abs_shift, report.max_abs_shift, report.fraction_within(1.0)
    (1.0, 2.0, 0.5)
    >>> report.fraction_within(0.015, unit="seconds")  # 1.5 frames at 100 fps
    0.5
    >>> report.shifts_in("seconds")[:3].tolist()
    [0.0, 0.02, -0.01]
    """

    unit: str
    shifts: np.ndarray
    num_clipped: int = 0
    num_dropped: int = 0
    num_outside: int = 0
    num_merged: int = 0
    num_collisions: int = 0
    fps: float | None = None

    @property
    def num_events(self) -> int:
        """Events misaligned."""
        return int(self.shifts.size)

    @property
    def num_located(self) -> int:
        """Events that still have a position (all but the dropped ones)."""
        return int(np.count_nonzero(~np.isnan(self.shifts)))

    @property
    def num_moved(self) -> int:
        """Events not at their true position: nonzero realised shift, or dropped."""
        return int(np.count_nonzero(self.shifts != 0.0))

    def _located(self) -> np.ndarray:
        return self.shifts[~np.isnan(self.shifts)]

    @property
    def mean_shift(self) -> float:
        """Mean signed shift of the located events (NaN if none), in ``unit``."""
        located = self._located()
        return float(located.mean()) if located.size else math.nan

    @property
    def std_shift(self) -> float:
        """Standard deviation (ddof = 0) of the located events' shifts (NaN if none)."""
        located = self._located()
        return float(located.std()) if located.size else math.nan

    @property
    def mean_abs_shift(self) -> float:
        """Mean absolute shift of the located events (NaN if none), in ``unit``."""
        located = self._located()
        return float(np.abs(located).mean()) if located.size else math.nan

    @property
    def std_abs_shift(self) -> float:
        """Standard deviation (ddof = 0) of the located events' absolute shifts (NaN if none)."""
        located = self._located()
        return float(np.abs(located).std()) if located.size else math.nan

    @property
    def max_abs_shift(self) -> float:
        """Largest absolute shift of the located events (NaN if none), in ``unit``."""
        located = self._located()
        return float(np.abs(located).max()) if located.size else math.nan

    def _scale_to(self, unit: str | None) -> float:
        """Factor that converts a value in the report's unit to ``unit``."""
        unit = self.unit if unit is None else _check_unit(unit)
        if unit == self.unit:
            return 1.0
        if self.fps is None:
            raise ValueError(
                f"unit={unit!r} differs from the report's unit {self.unit!r} and the report "
                "has no fps to convert; pass a time_base when misaligning"
            )
        return self.fps if unit == "frames" else 1.0 / self.fps

    def shifts_in(self, unit: str) -> np.ndarray:
        """``shifts`` converted to ``unit`` (``'seconds'`` or ``'frames'``; the other unit needs
        ``fps``)."""
        return self.shifts * self._scale_to(unit)

    def fraction_within(self, tolerance: float, *, unit: str | None = None) -> float:
        """Fraction of all events whose label lies within ``tolerance`` of their true time.

        ``|shift| <= tolerance``; dropped events count as not within. ``tolerance`` is in
        ``unit`` (default: the report's unit; the other unit needs ``fps``). NaN when there
        are no events. A normal shift of std 150 ms leaves ``2 Phi(50/150) - 1 = 26.1%`` of the
        labels within 50 ms (the paper's piano figure).
        """
        tolerance = _check_number(tolerance, "tolerance", minimum=0.0)
        tolerance = tolerance / self._scale_to(unit)
        if self.num_events == 0:
            return math.nan
        within = np.abs(self.shifts) <= tolerance  # NaN (dropped) compares False
        return float(np.count_nonzero(within) / self.num_events)

    def to_dict(self) -> dict:
        return {
            "unit": self.unit,
            "num_events": self.num_events,
            "num_moved": self.num_moved,
            "num_located": self.num_located,
            "num_clipped": self.num_clipped,
            "num_dropped": self.num_dropped,
            "num_outside": self.num_outside,
            "num_merged": self.num_merged,
            "num_collisions": self.num_collisions,
            "mean_shift": self.mean_shift,
            "std_shift": self.std_shift,
            "mean_abs_shift": self.mean_abs_shift,
            "std_abs_shift": self.std_abs_shift,
            "max_abs_shift": self.max_abs_shift,
            "fps": self.fps,
        }


@dataclass(frozen=True, eq=False)
class MisalignedEvents:
    """Misaligned event list (``C`` sorted float64 arrays, seconds) and its report.

    What :func:`misalign_events` returns: ``events`` (the shifted times, each class sorted) and
    ``report`` (a :class:`MisalignmentReport` in seconds).

    Examples
    --------
    A 2-frame shift at 10 fps; the last event is clipped to the end of the span:

    >>> from softloc.events import TimeBase
    >>> out = misalign_events([[0.5, 1.0, 1.95]], Binary(2, unit="frames"), generator=0,
    ...                       time_base=TimeBase(fps=10.0), span=(0.0, 2.0), outside="clip")
    >>> out.events[0].round(3).tolist(), out.report.num_clipped
    ([0.7, 1.2, 2.0], 1)
    >>> out.to_dict()["num_events"]
    [3]
    """

    events: list[np.ndarray]
    report: MisalignmentReport

    def to_dict(self) -> dict:
        return {"num_events": [int(t.size) for t in self.events], "report": self.report.to_dict()}


@dataclass(frozen=True, eq=False)
class MisalignedFrames:
    """Misaligned frame labels, the events kept outside, and the report.

    Attributes
    ----------
    labels:
        Same shape, array type, dtype and device as the input labels.
    outside_frames:
        With ``outside='keep'``: the frames (int64, relative to the sequence start, so ``< 0``
        or ``>= length``) of the events pushed outside, sorted, one array per class; a list of
        ``C`` arrays for ``(C, T)`` input, of ``N`` such lists for ``(N, C, T)`` input. Empty
        arrays for the other policies.
    report:
        :class:`MisalignmentReport` in frames.

    Examples
    --------
    What :func:`misalign_frames` returns; with ``outside='keep'`` the event pushed past the
    last frame comes back in ``outside_frames``:

    >>> import numpy as np
    >>> labels = np.zeros((1, 10), dtype=np.float32); labels[0, [2, 5, 9]] = 1
    >>> out = misalign_frames(labels, RoundedNormal(2.0), generator=1, outside="keep")
    >>> np.flatnonzero(out.labels[0]).tolist(), out.outside_frames[0].tolist()
    ([3, 7], [10])
    >>> out.report.shifts.tolist(), out.report.num_outside, out.labels.dtype
    ([1.0, 2.0, 1.0], 1, dtype('float32'))
    """

    labels: np.ndarray | Tensor
    outside_frames: list
    report: MisalignmentReport

    def to_dict(self) -> dict:
        return {"shape": list(self.labels.shape), "report": self.report.to_dict()}


# ----------------------------------------------------------------------------------------------
# Application
# ----------------------------------------------------------------------------------------------


def _check_distribution(distribution: ShiftDistribution) -> ShiftDistribution:
    if not isinstance(distribution, ShiftDistribution):
        raise TypeError(
            "distribution must be a softloc.noise.ShiftDistribution (Normal, RoundedNormal, ...), "
            f"got {type(distribution).__name__}"
        )
    return distribution


def _needs_time_base(
    time_base: TimeBase | None, distribution: ShiftDistribution, target: str
) -> TimeBase:
    if time_base is None:
        raise ValueError(
            f"time_base is needed to apply a distribution in {distribution.unit} to {target}; "
            "pass time_base=TimeBase(fps=...)"
        )
    return _check_time_base(time_base)


def _check_span(span, outside: str) -> tuple[float, float] | None:
    if span is None:
        if outside != "keep":
            raise ValueError(
                f"span=(start, end) in seconds is needed for outside={outside!r}; "
                "only outside='keep' works without one"
            )
        return None
    if not isinstance(span, (tuple, list)) or len(span) != 2:
        raise TypeError(f"span must be a (start, end) pair of times in seconds, got {span!r}")
    start = _check_number(span[0], "span[0]")
    end = _check_number(span[1], "span[1]")
    if start > end:
        raise ValueError(f"span must have start <= end, got {span}")
    return start, end


def misalign_events(
    events: Sequence[np.ndarray],
    distribution: ShiftDistribution,
    *,
    generator: np.random.Generator | int,
    outside: str,
    span: tuple[float, float] | None = None,
    time_base: TimeBase | None = None,
) -> MisalignedEvents:
    """Shift every event time (seconds) by an independent draw of ``distribution``.

    Parameters
    ----------
    events:
        Event list: ``C`` sorted 1-D arrays of times in seconds (see :mod:`softloc.events`).
    distribution:
        A :class:`ShiftDistribution`; one in frames needs ``time_base`` (shift ``s / fps``).
    generator:
        ``numpy.random.Generator`` or int seed (:func:`as_generator`, :func:`epoch_generator`).
    outside:
        ``'clip'`` (to the ends of ``span``), ``'drop'`` (events outside ``span`` removed) or
        ``'keep'`` (events may leave ``span``). No default: the paper's protocols differ.
    span:
        ``(start, end)`` in seconds, the closed interval the sequence covers; needed for
        ``'clip'`` and ``'drop'``, counted with ``'keep'`` (``report.num_outside``). For labels
        later put on ``T`` frames, ``(time_base.times_of(0), time_base.times_of(T - 1))``
        keeps every event on a frame.
    time_base:
        Needed for a distribution in frames; gives the report an ``fps``.

    Returns
    -------
    MisalignedEvents
        ``events``: the shifted times, each class sorted again (shifts can reorder events);
        ``report``: a :class:`MisalignmentReport` in seconds.

    Examples
    --------
    >>> out = misalign_events([[0.0, 0.5, 1.0]], Offset(0.2, unit="seconds"), generator=0,
    ...                       outside="clip", span=(0.0, 1.0))
    >>> out.events[0].tolist(), out.report.num_clipped
    ([0.2, 0.7, 1.0], 1)
    """
    checked = _check_events(events, "events")
    distribution = _check_distribution(distribution)
    outside = check_choice(outside, "outside", MISALIGNMENT_POLICIES)
    bounds = _check_span(span, outside)
    if distribution.unit == "frames":
        time_base = _needs_time_base(time_base, distribution, "event times in seconds")
    elif time_base is not None:
        time_base = _check_time_base(time_base)
    rng = as_generator(generator)
    sizes = [times.size for times in checked]
    true = np.concatenate(checked)
    draws = distribution.sample(true.size, rng)
    if distribution.unit == "frames":
        draws = draws / time_base.fps
    moved = true + draws
    keep = np.ones(true.size, dtype=bool)
    num_clipped = num_dropped = num_outside = 0
    if bounds is not None:
        beyond = (moved < bounds[0]) | (moved > bounds[1])
        count = int(np.count_nonzero(beyond))
        if outside == "clip":
            moved = np.clip(moved, bounds[0], bounds[1])
            num_clipped = count
        elif outside == "drop":
            keep = ~beyond
            num_dropped = count
        else:
            num_outside = count
    shifts = np.where(keep, moved - true, np.nan)
    pieces = np.split(np.where(keep, moved, np.nan), np.cumsum(sizes)[:-1])
    shifted = [np.sort(piece[~np.isnan(piece)]) for piece in pieces]
    report = MisalignmentReport(
        unit="seconds",
        shifts=shifts,
        num_clipped=num_clipped,
        num_dropped=num_dropped,
        num_outside=num_outside,
        fps=None if time_base is None else float(time_base.fps),
    )
    return MisalignedEvents(events=shifted, report=report)


def misalign_frames(
    labels,
    distribution: ShiftDistribution,
    *,
    generator: np.random.Generator | int,
    outside: str,
    collisions: str = "count",
    mask=None,
    time_base: TimeBase | None = None,
) -> MisalignedFrames:
    """Shift every event of frame labels by an independent draw of ``distribution``.

    Parameters
    ----------
    labels:
        numpy array or tensor ``(C, T)`` or ``(N, C, T)`` of whole event counts >= 0; a frame
        holding ``k`` events gives ``k`` independently shifted events.
    distribution:
        A :class:`ShiftDistribution`. In frames it applies directly; in seconds it needs
        ``time_base`` (``s * fps`` frames). An event in frame ``f`` moves to
        ``floor(f + s + 1/2)``.
    generator:
        ``numpy.random.Generator`` or int seed (:func:`as_generator`, :func:`epoch_generator`).
    outside:
        For events pushed outside ``[0, length)``: ``'clip'`` (to frame 0 or ``length - 1``),
        ``'drop'``, or ``'keep'`` (removed from the labels and returned in
        ``outside_frames``). No default: the paper's protocols differ.
    collisions:
        ``'count'`` (default), ``'merge'`` or ``'error'``, as in :mod:`softloc.events`, for
        events that meet on a frame after shifting.
    mask:
        Optional boolean ``(N, T)`` for ``(N, C, T)`` labels, True on valid steps (a prefix of
        each row): each sequence's length. Padded steps must hold no events and stay zero.
    time_base:
        Needed for a distribution in seconds; gives the report an ``fps``.

    Returns
    -------
    MisalignedFrames
        ``labels`` (same shape, type, dtype and device as the input), ``outside_frames`` and
        ``report`` (a :class:`MisalignmentReport` in frames).

    Examples
    --------
    >>> labels = np.array([[1, 0, 0, 1, 0]])
    >>> out = misalign_frames(labels, Offset(1.0, unit="frames"), generator=0, outside="keep")
    >>> out.labels.tolist(), [f.tolist() for f in out.outside_frames], out.report.num_outside
    ([[0, 1, 0, 0, 1]], [[]], 0)
    >>> out = misalign_frames(labels, Offset(2.0, unit="frames"), generator=0, outside="keep")
    >>> out.labels.tolist(), [f.tolist() for f in out.outside_frames], out.report.num_outside
    ([[0, 0, 1, 0, 0]], [[5]], 1)
    """
    distribution = _check_distribution(distribution)
    outside = check_choice(outside, "outside", MISALIGNMENT_POLICIES)
    collisions = check_choice(collisions, "collisions", COLLISION_POLICIES)
    if distribution.unit == "seconds":
        time_base = _needs_time_base(time_base, distribution, "frame labels")
    elif time_base is not None:
        time_base = _check_time_base(time_base)
    counts = _as_counts(labels, "labels", (2, 3))
    single = counts.ndim == 2
    if single:
        if mask is not None:
            raise ValueError("mask is for batches (N, C, T); labels of shape (C, T) take no mask")
        counts = counts[None]
    n, c, t = counts.shape
    if mask is None:
        lengths = np.full(n, t, dtype=np.int64)
    else:
        lengths = _check_mask(mask, n, t).sum(axis=1).astype(np.int64)
        if np.any(counts * (np.arange(t)[None, None, :] >= lengths[:, None, None])):
            raise ValueError("labels hold events on padded steps (mask False)")
    rng = as_generator(generator)

    seq, cls, frame = np.nonzero(counts)
    repeats = counts[seq, cls, frame]
    seq, cls, frame = (np.repeat(a, repeats) for a in (seq, cls, frame))
    draws = distribution.sample(frame.size, rng)
    if distribution.unit == "seconds":
        draws = draws * time_base.fps
    moved = frame + np.floor(draws + 0.5).astype(np.int64)
    length = lengths[seq]
    beyond = (moved < 0) | (moved >= length)
    count = int(np.count_nonzero(beyond))
    num_clipped = num_dropped = num_outside = 0
    located = np.ones(frame.size, dtype=bool)
    if outside == "clip":
        moved = np.clip(moved, 0, length - 1)
        num_clipped = count
        placed = located
    elif outside == "drop":
        located = ~beyond
        num_dropped = count
        placed = located
    else:
        num_outside = count
        placed = ~beyond
    flat = (seq[placed] * c + cls[placed]) * t + moved[placed]
    new_counts, num_collisions, num_merged = _place(flat, n * c * t, collisions)
    new_counts = new_counts.reshape(n, c, t)

    kept_out = [[np.zeros(0, dtype=np.int64) for _ in range(c)] for _ in range(n)]
    if num_outside:
        out_seq, out_cls, out_frame = seq[beyond], cls[beyond], moved[beyond]
        order = np.lexsort((out_frame, out_cls, out_seq))
        group = (out_seq * c + out_cls)[order]
        starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
        for key, piece in zip(group[starts], np.split(out_frame[order], starts[1:])):
            kept_out[key // c][key % c] = piece

    shifts = np.where(located, (moved - frame).astype(np.float64), np.nan)
    report = MisalignmentReport(
        unit="frames",
        shifts=shifts,
        num_clipped=num_clipped,
        num_dropped=num_dropped,
        num_outside=num_outside,
        num_merged=num_merged,
        num_collisions=num_collisions,
        fps=None if time_base is None else float(time_base.fps),
    )
    result = _like(new_counts[0] if single else new_counts, labels, collisions)
    return MisalignedFrames(
        labels=result, outside_frames=kept_out[0] if single else kept_out, report=report
    )


def _like(counts: np.ndarray, labels, collisions: str):
    """``counts`` in the array type, dtype and device of ``labels``; never a silent loss."""
    if isinstance(labels, Tensor):
        is_bool = labels.dtype == torch.bool
    else:
        is_bool = np.asarray(labels).dtype == np.bool_
    if is_bool and counts.size and counts.max() > 1:
        raise ValueError(
            f"labels are boolean but collisions={collisions!r} put {int(counts.max())} events on "
            "one frame; pass collisions='merge' or labels of a numeric dtype"
        )
    if isinstance(labels, Tensor):
        return torch.from_numpy(counts).to(dtype=labels.dtype, device=labels.device)
    return counts.astype(np.asarray(labels).dtype)
