"""Tolerance-based average precision of scored detections (the action-spotting convention).

Conventions
-----------
* References are event times; detections are event times with a confidence score (higher =
  more confident), both sorted by time within each class of each file. A corpus is a sequence
  of files, each an event list (``C`` per-class arrays); ``confidence`` has the layout of
  ``estimated``.
* Matching at a tolerance (a half-width, inclusive, floating-point rule of
  :func:`~softloc.metrics.match_events`) is greedy by confidence
  (:func:`~softloc.metrics.match_events_by_confidence`): detections in decreasing confidence each
  take the nearest unmatched reference of their class and file within the tolerance. A detection
  is a true positive when it gets one. The matches above a threshold do not depend on the
  detections below it, so one matching serves every threshold.
  (SoccerNet's ``delta`` is a full window width: ``tolerance = delta / 2``.)
* Per class, detections of all files are pooled and ranked by confidence. At a threshold
  ``theta`` the kept detections are those with ``confidence >= theta``::

      precision(theta) = TP(theta) / kept(theta)        recall(theta) = TP(theta) / n_ref

  ``thresholds=None`` uses every distinct confidence (the full curve); otherwise the given
  values, which must lie in [0, 1] (scores are then meant to be probabilities). Thresholds that
  keep no detection give no point.
* Interpolation. ``'all-point'`` (default; PASCAL VOC 2010 and later): the area under the
  precision envelope ``p_interp(r) = max_{r' >= r} precision(r')``::

      AP = sum_k (R_k - R_{k-1}) p_interp(R_k),   points k by increasing recall, R_0 = 0

  ``'11-point'`` (PASCAL VOC 2007, SoccerNet's ``compute_mAP``):
  ``AP = 1/11 sum_{j = 0, 0.1, ..., 1} max{precision_k : R_k >= j}`` (0 where no point).
* Empty input. A class without reference events has no AP (NaN) and is left out of the means;
  a class with references but no detections has AP 0. The mean over classes of a tolerance with
  no class left is NaN.
* ``mean_average_precision`` averages the AP over classes for each tolerance, then over the
  tolerances (SoccerNet's "average-mAP").

Examples
--------
>>> average_precision([1.0, 2.0], [1.01, 1.5, 2.02], [0.9, 0.8, 0.3], tolerance=0.05)
0.8333333333333333
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np

from .._checks import check_choice
from ._validation import (
    as_confidence,
    as_corpus,
    as_real_array,
    as_times,
    check_decimals,
    check_tolerance,
)
from .matching import confidence_match

__all__ = ["INTERPOLATIONS", "AveragePrecisionScores", "average_precision", "mean_average_precision"]

INTERPOLATIONS = ("all-point", "11-point")


@dataclass(frozen=True)
class AveragePrecisionScores:
    """AP per tolerance and class, its means over classes and over tolerances.

    ``per_class[t, c]`` is the AP of class ``c`` at ``tolerances[t]`` (NaN for a class without
    reference events); ``per_tolerance[t]`` its mean over the classes with references;
    ``mean`` the mean of ``per_tolerance`` (average-mAP). Tolerances are half-widths in the
    unit of the event times (seconds); AP values are fractions in [0, 1].

    Examples
    --------
    :func:`mean_average_precision` returns one; class 1 has no reference events (NaN):

    >>> scores = mean_average_precision([[[1.0, 2.0], []]], [[[1.02, 2.3], [4.0]]],
    ...                                 [[[0.9, 0.5], [0.8]]], tolerances=[0.05, 0.5])
    >>> scores.tolerances, scores.per_class.shape
    ((0.05, 0.5), (2, 2))
    >>> scores.per_class[:, 0].tolist(), scores.per_tolerance.tolist(), scores.mean
    ([0.5, 1.0], [0.5, 1.0], 0.75)
    """

    tolerances: tuple[float, ...]
    per_class: np.ndarray
    per_tolerance: np.ndarray
    mean: float

    def to_dict(self) -> dict:
        return {
            "tolerances": list(self.tolerances),
            "per_class": self.per_class.tolist(),
            "per_tolerance": self.per_tolerance.tolist(),
            "mean": self.mean,
        }


def _check_thresholds(thresholds) -> np.ndarray | None:
    if thresholds is None:
        return None
    values = as_real_array(thresholds, "thresholds")
    if values.ndim != 1 or values.size == 0:
        raise ValueError(f"thresholds must be a non-empty 1-D array, got shape {values.shape}")
    if not np.all((values >= 0.0) & (values <= 1.0)):
        bad = values[~((values >= 0.0) & (values <= 1.0))][0]
        raise ValueError(f"thresholds must lie in [0, 1], found {bad}")
    return values


def _check_interpolation(interpolation) -> str:
    return check_choice(interpolation, "interpolation", INTERPOLATIONS)


def _check_tolerances(tolerances) -> tuple[float, ...]:
    if isinstance(tolerances, numbers.Real) and not isinstance(tolerances, bool):
        return (check_tolerance(tolerances, "tolerances"),)
    if isinstance(tolerances, (str, bytes)) or not hasattr(tolerances, "__len__"):
        raise TypeError(f"tolerances must be a number or a sequence of numbers, "
                        f"got {type(tolerances).__name__}")
    if len(tolerances) == 0:
        raise ValueError("tolerances must hold at least one tolerance")
    return tuple(check_tolerance(t, f"tolerances[{i}]") for i, t in enumerate(tolerances))


def _area(true_positive: np.ndarray, confidence: np.ndarray, n_reference: int,
          thresholds: np.ndarray | None, interpolation: str) -> float:
    """AP of one class from its pooled detections' true-positive flags and confidences."""
    if n_reference == 0:
        return float("nan")
    order = np.argsort(-confidence, kind="stable")
    ranked = confidence[order]
    hits = np.cumsum(true_positive[order])
    if thresholds is None:
        last = np.flatnonzero(np.append(ranked[1:] != ranked[:-1], True)) if ranked.size else ranked
        kept = np.asarray(last, dtype=np.int64) + 1
    else:
        kept = np.searchsorted(-ranked, -np.sort(thresholds)[::-1], side="right")
        kept = kept[kept > 0]
    if kept.size == 0:
        return 0.0
    tp = hits[kept - 1]
    precision = tp / kept
    recall = tp / n_reference
    if interpolation == "all-point":
        envelope = np.maximum.accumulate(precision[::-1])[::-1]
        return float(np.sum(np.diff(recall, prepend=0.0) * envelope))
    total = 0.0
    for j in np.arange(11) / 10:
        reached = precision[recall >= j]
        total += float(reached.max()) if reached.size else 0.0
    return total / 11


def average_precision(reference, estimated, confidence, *, tolerance: float, thresholds=None,
                      interpolation: str = "all-point", decimals: int | None = None) -> float:
    """Average precision of scored detections of one class in one sequence.

    Parameters
    ----------
    reference:
        ``(n,)`` reference event times, sorted ascending.
    estimated:
        ``(m,)`` detection times, sorted ascending.
    confidence:
        ``(m,)`` detection scores.
    tolerance:
        Half-width of the window, ``>= 0``.
    thresholds:
        ``None`` (every distinct confidence) or 1-D values in [0, 1].
    interpolation:
        ``'all-point'`` or ``'11-point'`` (module docstring).
    decimals:
        Floating-point rule of :func:`~softloc.metrics.match_events`.

    Returns
    -------
    float
        AP in [0, 1]; NaN without reference events.

    Examples
    --------
    >>> average_precision([1.0], [1.0, 3.0], [0.4, 0.9], tolerance=0.1)
    0.5
    >>> average_precision([1.0], [1.0, 3.0], [0.4, 0.9], tolerance=0.1, thresholds=[0.5])
    0.0
    """
    reference = as_times(reference, "reference")
    estimated = as_times(estimated, "estimated")
    confidence = as_confidence(confidence, "confidence", estimated.size)
    tolerance = check_tolerance(tolerance)
    thresholds = _check_thresholds(thresholds)
    interpolation = _check_interpolation(interpolation)
    decimals = check_decimals(decimals)
    matched = confidence_match(reference, estimated, confidence, tolerance, decimals)
    return _area(matched >= 0, confidence, reference.size, thresholds, interpolation)


def mean_average_precision(reference, estimated, confidence, *, tolerances, thresholds=None,
                           interpolation: str = "all-point",
                           decimals: int | None = None) -> AveragePrecisionScores:
    """AP per class and tolerance over a corpus, averaged over classes and over tolerances.

    Parameters
    ----------
    reference:
        Corpus: ``F`` event lists with ``C`` classes (reference times).
    estimated:
        Corpus of detection times, the same files and classes.
    confidence:
        Scores with the layout of ``estimated`` (``confidence[f][c]`` has one score per
        detection of ``estimated[f][c]``).
    tolerances:
        A tolerance (half-width, ``>= 0``) or a sequence of them.
    thresholds, interpolation, decimals:
        As in :func:`average_precision`.

    Returns
    -------
    AveragePrecisionScores

    Examples
    --------
    >>> reference = [[[1.0, 2.0], [5.0]]]
    >>> estimated = [[[1.02, 2.3], [5.0]]]
    >>> confidence = [[[0.9, 0.5], [0.7]]]
    >>> s = mean_average_precision(reference, estimated, confidence, tolerances=[0.05, 0.5])
    >>> s.per_class.tolist(), s.per_tolerance.tolist(), s.mean
    ([[0.5, 1.0], [1.0, 1.0]], [0.75, 1.0], 0.875)
    """
    reference, ref_times, ref_groups = as_corpus(reference, "reference")
    estimated, est_times, est_groups = as_corpus(estimated, "estimated")
    if len(reference) != len(estimated) or len(reference[0]) != len(estimated[0]):
        raise ValueError(
            f"reference and estimated must have the same files and classes, got "
            f"{len(reference)} x {len(reference[0])} and {len(estimated)} x {len(estimated[0])}"
        )
    if isinstance(confidence, (str, bytes)) or not hasattr(confidence, "__len__") \
            or len(confidence) != len(estimated):
        raise ValueError("confidence must have the layout of estimated (one list per file)")
    scores = []
    for f, (events, per_file) in enumerate(zip(estimated, confidence)):
        if isinstance(per_file, (str, bytes)) or not hasattr(per_file, "__len__") \
                or len(per_file) != len(events):
            raise ValueError(f"confidence[{f}] must hold one array per class ({len(events)})")
        scores.append([as_confidence(s, f"confidence[{f}][{c}]", times.size)
                       for c, (times, s) in enumerate(zip(events, per_file))])
    tolerance_values = _check_tolerances(tolerances)
    thresholds = _check_thresholds(thresholds)
    interpolation = _check_interpolation(interpolation)
    decimals = check_decimals(decimals)

    classes = len(reference[0])
    est_scores = np.concatenate([s for per_file in scores for s in per_file])
    n_reference = np.bincount(ref_groups % classes, minlength=classes)
    est_classes = est_groups % classes
    single = len(reference) * classes == 1

    table = np.empty((len(tolerance_values), classes))
    for t, tolerance in enumerate(tolerance_values):
        matched = confidence_match(ref_times, est_times, est_scores, tolerance, decimals,
                                   None if single else ref_groups, None if single else est_groups)
        for c in range(classes):
            rows = est_classes == c
            table[t, c] = _area(matched[rows] >= 0, est_scores[rows], int(n_reference[c]),
                                thresholds, interpolation)
    with_reference = n_reference > 0
    if with_reference.any():
        per_tolerance = table[:, with_reference].mean(axis=1)
    else:
        per_tolerance = np.full(len(tolerance_values), np.nan)
    return AveragePrecisionScores(
        tolerances=tolerance_values,
        per_class=table,
        per_tolerance=per_tolerance,
        mean=float(per_tolerance.mean()),
    )
