"""Argument validation shared by the metrics (one place; every error names the argument).

Event times are finite real numbers in a one-dimensional array sorted ascending; an *event list*
is a sequence of ``C`` such arrays (one per class, the convention of :mod:`softloc.events`); a
*corpus* is a sequence of event lists (one per file), all with the same number of classes.
"""

from __future__ import annotations

from collections.abc import Sequence

import numbers

import numpy as np

from .._checks import check_int

MAX_DECIMALS = 15
_FLOAT64 = np.dtype(np.float64)


def as_real_array(values, name: str) -> np.ndarray:
    """``values`` as a float64 array; ``TypeError`` unless it holds real numbers (not bool)."""
    if type(values) is np.ndarray and values.dtype == np.float64:
        return values
    if isinstance(values, (str, bytes)):
        raise TypeError(f"{name} must be an array of real numbers, got {type(values).__name__}")
    try:
        array = np.asarray(values)
    except (TypeError, ValueError) as error:  # ragged nested sequences
        raise TypeError(f"{name} must be an array of real numbers: {error}") from None
    if array.dtype.kind not in "iuf" and not (array.size == 0 and array.dtype.kind in "O"):
        raise TypeError(f"{name} must hold real numbers, got dtype {array.dtype}")
    return array.astype(np.float64, copy=False)


def _as_1d(values, name: str) -> np.ndarray:
    times = as_real_array(values, name)
    if times.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array of event times, got shape {times.shape}")
    return times


def _check_finite_sorted(times: np.ndarray, groups: np.ndarray | None, names) -> None:
    """Raise naming the array (``names(k)`` for group ``k``) with a non-finite or decreasing time."""
    finite = np.isfinite(times)
    if not finite.all():
        bad = int(np.flatnonzero(~finite)[0])
        group, index = _locate(bad, groups)
        raise ValueError(f"{names(group)} must hold finite times; found {times[bad]} at index {index}")
    if times.size > 1:
        decreasing = times[1:] < times[:-1]
        if groups is not None:
            decreasing &= groups[1:] == groups[:-1]
        if decreasing.any():
            bad = int(np.flatnonzero(decreasing)[0]) + 1
            group, index = _locate(bad, groups)
            raise ValueError(
                f"{names(group)} must be sorted ascending; found {times[bad - 1]!r} before "
                f"{times[bad]!r} at index {index}"
            )


def _locate(position: int, groups: np.ndarray | None) -> tuple[int, int]:
    if groups is None:
        return 0, position
    group = int(groups[position])
    return group, position - int(np.searchsorted(groups, group, side="left"))


def as_times(values, name: str) -> np.ndarray:
    """A float64 1-D array of finite times sorted ascending (ties allowed)."""
    times = _as_1d(values, name)
    _check_finite_sorted(times, None, lambda _: name)
    return times


def as_confidence(values, name: str, size: int) -> np.ndarray:
    """A float64 1-D array of ``size`` finite confidence scores."""
    scores = as_real_array(values, name)
    if scores.ndim != 1 or scores.size != size:
        raise ValueError(
            f"{name} must be a 1-D array with one score per estimated event ({size}), "
            f"got shape {scores.shape}"
        )
    if not np.all(np.isfinite(scores)):
        bad = int(np.flatnonzero(~np.isfinite(scores))[0])
        raise ValueError(f"{name} must hold finite scores; found {scores[bad]} at index {bad}")
    return scores


def _is_sequence(value) -> bool:
    return isinstance(value, (Sequence, np.ndarray)) and not isinstance(value, (str, bytes))


def _event_list_arrays(events, name: str) -> list[np.ndarray]:
    if not _is_sequence(events):
        raise TypeError(
            f"{name} must be a sequence of per-class 1-D arrays of times, got {type(events).__name__}"
        )
    if isinstance(events, np.ndarray) and events.ndim == 1 and events.dtype.kind in "iuf":
        raise TypeError(
            f"{name} must be a sequence of per-class arrays (an event list); got one 1-D array "
            f"of times: wrap it in a list for a single class"
        )
    if len(events) == 0:
        raise ValueError(f"{name} must hold at least one class")
    return [times if type(times) is np.ndarray and times.dtype is _FLOAT64 and times.ndim == 1
            else _as_1d(times, f"{name}[{c}]") for c, times in enumerate(events)]


def _check_arrays(arrays: list[np.ndarray], names) -> tuple[np.ndarray, np.ndarray]:
    """Finite and sorted, checked on the concatenation (one pass for thousands of arrays).

    Returns the concatenated times and their int64 array index (the group of each time).
    """
    sizes = [a.size for a in arrays]
    times = np.concatenate(arrays) if arrays else np.zeros(0)
    groups = np.repeat(np.arange(len(arrays), dtype=np.int64), sizes)
    _check_finite_sorted(times, groups, names)
    return times, groups


def as_event_list(events, name: str) -> list[np.ndarray]:
    """A sequence of ``C >= 1`` per-class time arrays (each finite and sorted ascending)."""
    arrays = _event_list_arrays(events, name)
    _check_arrays(arrays, lambda k: f"{name}[{k}]")
    return arrays


def as_corpus(files, name: str):
    """A sequence of ``F >= 1`` event lists with the same number of classes.

    Returns ``(corpus, times, groups)``: the event lists, and all times concatenated in file
    then class order with their group ``file * C + class``.
    """
    if not _is_sequence(files):
        raise TypeError(f"{name} must be a sequence of event lists (one per file), "
                        f"got {type(files).__name__}")
    if len(files) == 0:
        raise ValueError(f"{name} must hold at least one file")
    corpus = [_event_list_arrays(events, f"{name}[{f}]") for f, events in enumerate(files)]
    classes = len(corpus[0])
    for f, events in enumerate(corpus):
        if len(events) != classes:
            raise ValueError(
                f"{name}[{f}] has {len(events)} classes, but {name}[0] has {classes}: every file "
                f"must list the same classes"
            )
    times, groups = _check_arrays([a for events in corpus for a in events],
                                  lambda k: f"{name}[{k // classes}][{k % classes}]")
    return corpus, times, groups


def check_tolerance(value, name: str = "tolerance") -> float:
    """A finite real number >= 0."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    value = float(value)
    if not (value >= 0.0 and value < float("inf")):
        raise ValueError(f"{name} must be a finite number >= 0, got {value}")
    return value


def check_decimals(value) -> int | None:
    """``None`` or an int in ``[0, MAX_DECIMALS]``."""
    return check_int(value, "decimals", 0, maximum=MAX_DECIMALS, optional=True)
