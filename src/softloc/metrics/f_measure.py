"""Event F-measure within a tolerance: one class, many classes, many files.

Conventions
-----------
* Times are 1-D arrays sorted ascending (seconds, or frames where a caller says so); a
  multi-class sequence is an **event list**, a sequence of ``C`` such arrays (one per class, as
  in :mod:`softloc.events`); a **corpus** is a sequence of event lists (one per file) with the
  same classes. Unsorted or non-finite times raise ``ValueError``.
* ``tolerance`` is a half-width (``>= 0``, inclusive) and ``decimals`` selects the floating-point
  rule, both as in :func:`softloc.metrics.match_events`: ``decimals=None`` reproduces
  ``mir_eval.onset.f_measure(reference, estimated, window=tolerance)`` exactly, and
  ``decimals=4`` reproduces the onset-only note score
  ``mir_eval.transcription.precision_recall_f1_overlap(..., offset_ratio=None,
  onset_tolerance=tolerance)`` exactly when each class is given its own pitch.
* Matches are a maximum one-to-one matching (:func:`~softloc.metrics.match_events`); events of
  different classes never match.
* **Empty input.** A ratio with a zero denominator is 0: with no estimates the precision is 0,
  with no references the recall is 0, so F1 is 0 whenever either side is empty, including when
  both are. This is mir_eval's convention (which also warns; this module does not). Averages
  over files include such files as 0 (the paper's piano protocol averages over all pieces);
  macro averages over classes skip the classes with neither a reference nor an estimated event
  (and are 0, over ``count = 0`` classes, when there is none).
* Timing errors are ``estimated - reference`` of the matched pairs, in the unit of the times:
  their mean, standard deviation (``ddof=0``) and median absolute value; NaN without matches.

Definitions
-----------
With ``n_ref`` reference events, ``n_est`` estimated events and ``n_match`` matched pairs::

    precision = n_match / n_est        recall = n_match / n_ref
    f1        = 2 precision recall / (precision + recall)      (0 when both are 0)

*Micro* (pooled) scores add the counts first; *macro* scores average the per-class values; the
*file mean* averages the per-file values (each file's counts pooled over its classes).

Examples
--------
>>> scores = event_f_measure([1.0, 2.0, 3.0], [1.02, 2.5, 3.0], tolerance=0.05)
>>> round(scores.f1, 4), scores.n_matched, round(scores.mean_error, 3)
(0.6667, 2, 0.01)
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from ._validation import as_corpus, as_event_list, as_times, check_decimals, check_tolerance
from .matching import sweep_match

__all__ = [
    "AveragedScores",
    "CorpusScores",
    "EventScores",
    "MulticlassScores",
    "corpus_f_measure",
    "event_f_measure",
    "multiclass_f_measure",
]


@dataclass(frozen=True)
class EventScores:
    """Precision, recall and F1 of matched events, with counts and timing errors.

    ``mean_error``, ``std_error`` and ``median_absolute_error`` are statistics of
    ``estimated - reference`` over the matched pairs (NaN when there is none), in the unit of
    the event times (seconds); precision, recall and F1 are fractions in [0, 1].

    Examples
    --------
    :func:`event_f_measure` returns one: two of three references found, errors +20 and -10 ms:

    >>> scores = event_f_measure([0.10, 0.50, 1.0], [0.12, 0.49, 0.90], tolerance=0.05)
    >>> scores.n_reference, scores.n_estimated, scores.n_matched
    (3, 3, 2)
    >>> round(scores.f1, 4), round(scores.mean_error, 3), round(scores.median_absolute_error, 3)
    (0.6667, 0.005, 0.015)
    >>> sorted(scores.to_dict())[:3]
    ['f1', 'mean_error', 'median_absolute_error']
    """

    precision: float
    recall: float
    f1: float
    n_reference: int
    n_estimated: int
    n_matched: int
    mean_error: float
    std_error: float
    median_absolute_error: float

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class AveragedScores:
    """Unweighted means of precision, recall and F1 over ``count`` items (files or classes).

    Examples
    --------
    The macro average of :func:`multiclass_f_measure` is one (class F1 1 and 1/3):

    >>> scores = multiclass_f_measure([[1.0, 2.0], [1.5]], [[1.0, 2.0], [1.0, 1.52, 3.0]],
    ...                               tolerance=0.05)
    >>> [round(c.f1, 4) for c in scores.per_class]
    [1.0, 0.5]
    >>> macro = scores.macro
    >>> macro.count, macro.f1, macro.precision
    (2, 0.75, 0.6666666666666666)
    """

    precision: float
    recall: float
    f1: float
    count: int

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class MulticlassScores:
    """Scores of one multi-class sequence.

    ``per_class[c]`` scores class ``c``; ``micro`` pools the counts (and timing errors) of all
    classes; ``macro`` averages ``per_class`` over the classes with at least one reference or
    estimated event.

    Examples
    --------
    :func:`multiclass_f_measure` returns one; the third class has no events and is left out
    of the macro average:

    >>> scores = multiclass_f_measure([[1.0, 2.0], [1.5], []], [[1.01], [1.0, 1.52], []],
    ...                               tolerance=0.05)
    >>> len(scores.per_class), scores.micro.n_matched, scores.macro.count
    (3, 2, 2)
    >>> round(scores.micro.f1, 4), round(scores.macro.f1, 4)
    (0.6667, 0.6667)
    >>> scores.to_dict()["micro"]["n_reference"]
    3
    """

    per_class: tuple[EventScores, ...]
    micro: EventScores
    macro: AveragedScores

    def to_dict(self) -> dict:
        return {
            "per_class": [s.to_dict() for s in self.per_class],
            "micro": self.micro.to_dict(),
            "macro": self.macro.to_dict(),
        }


@dataclass(frozen=True)
class CorpusScores:
    """Scores of a corpus of ``F`` files with ``C`` classes, aggregated both ways.

    * ``per_file[f]``: file ``f`` with its counts pooled over classes (what
      ``mir_eval.transcription`` scores for one piece); ``file_mean`` is their mean (the paper's
      piano number: the mean over pieces of the per-piece F1).
    * ``per_class[c]``: class ``c`` with its counts pooled over files; ``class_macro`` averages
      them over the classes with events; ``per_class_file_mean[c]`` is the mean over files of
      the scores of class ``c`` alone (the paper's per-instrument drum numbers).
    * ``pooled``: all counts of all files and classes.
    * ``n_reference``, ``n_estimated``, ``n_matched``: ``(F, C)`` int64 count arrays.

    Examples
    --------
    :func:`corpus_f_measure` returns one; two files, two classes:

    >>> reference = [[[1.0, 2.0], [0.3]], [[0.5], []]]
    >>> estimated = [[[1.0, 2.0], []], [[0.7], [0.1]]]
    >>> scores = corpus_f_measure(reference, estimated, tolerance=0.05)
    >>> scores.n_reference.tolist(), scores.n_matched.tolist()
    ([[2, 1], [1, 0]], [[2, 0], [0, 0]])
    >>> [round(f.f1, 4) for f in scores.per_file], round(scores.file_mean.f1, 4)
    ([0.8, 0.0], 0.4)
    >>> [round(c.f1, 4) for c in scores.per_class], scores.pooled.f1
    ([0.6667, 0.0], 0.5)
    >>> [c.f1 for c in scores.per_class_file_mean]
    [0.5, 0.0]
    """

    per_file: tuple[EventScores, ...]
    per_class: tuple[EventScores, ...]
    pooled: EventScores
    file_mean: AveragedScores
    class_macro: AveragedScores
    per_class_file_mean: tuple[AveragedScores, ...]
    n_reference: np.ndarray
    n_estimated: np.ndarray
    n_matched: np.ndarray

    def to_dict(self) -> dict:
        return {
            "per_file": [s.to_dict() for s in self.per_file],
            "per_class": [s.to_dict() for s in self.per_class],
            "pooled": self.pooled.to_dict(),
            "file_mean": self.file_mean.to_dict(),
            "class_macro": self.class_macro.to_dict(),
            "per_class_file_mean": [s.to_dict() for s in self.per_class_file_mean],
            "n_reference": self.n_reference.tolist(),
            "n_estimated": self.n_estimated.tolist(),
            "n_matched": self.n_matched.tolist(),
        }


# ----------------------------------------------------------------------------------------------
# Counting and statistics (vectorised over groups)
# ----------------------------------------------------------------------------------------------


def _ratios(n_reference: int, n_estimated: int, n_matched: int) -> tuple[float, float, float]:
    """Precision, recall, F1 from counts, computed as mir_eval computes them (bit for bit)."""
    precision = float(n_matched) / n_estimated if n_estimated else 0.0
    recall = float(n_matched) / n_reference if n_reference else 0.0
    if precision == 0 and recall == 0:
        return precision, recall, 0.0
    return precision, recall, 2.0 * precision * recall / (precision + recall)


def _error_statistics(errors: np.ndarray, labels: np.ndarray, count: int):
    """Per label: mean, std (ddof=0) and median |error| of ``errors``; NaN for no errors."""
    if count == 1:
        if errors.size == 0:
            return np.full(1, np.nan), np.full(1, np.nan), np.full(1, np.nan)
        return (np.array([errors.mean()]), np.array([errors.std()]),
                np.array([np.median(np.abs(errors))]))
    n = np.bincount(labels, minlength=count)
    mean = np.full(count, np.nan)
    std = np.full(count, np.nan)
    median = np.full(count, np.nan)
    some = n > 0
    if not some.any():
        return mean, std, median
    mean[some] = np.bincount(labels, weights=errors, minlength=count)[some] / n[some]
    deviation = errors - mean[labels]
    std[some] = np.sqrt(np.bincount(labels, weights=deviation * deviation, minlength=count)[some]
                        / n[some])
    magnitude = np.abs(errors)
    order = np.argsort(magnitude)
    small_labels = labels[order].astype(np.uint16 if count <= 1 << 16 else np.int64)
    order = order[np.argsort(small_labels, kind="stable")]  # by label, then magnitude
    ordered = magnitude[order]
    start = np.concatenate([[0], np.cumsum(n)[:-1]])
    labels_with = np.flatnonzero(some)
    upper = start[labels_with] + n[labels_with] // 2
    lower = start[labels_with] + (n[labels_with] - 1) // 2
    median[labels_with] = (ordered[lower] + ordered[upper]) / 2
    return mean, std, median


def _ratio_arrays(n_reference, n_estimated, n_matched):
    """:func:`_ratios` elementwise (the same float64 operations, so the same bits)."""
    n_reference, n_estimated, n_matched = (np.asarray(a, dtype=np.float64)
                                           for a in (n_reference, n_estimated, n_matched))
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(n_estimated > 0, n_matched / n_estimated, 0.0)
        recall = np.where(n_reference > 0, n_matched / n_reference, 0.0)
        total = precision + recall
        f1 = np.where(total > 0, 2.0 * precision * recall / total, 0.0)
    return precision, recall, f1


def _event_scores(n_reference, n_estimated, n_matched, mean, std, median) -> tuple[EventScores, ...]:
    columns = [*_ratio_arrays(n_reference, n_estimated, n_matched),
               np.asarray(n_reference), np.asarray(n_estimated), np.asarray(n_matched),
               mean, std, median]
    return tuple(EventScores(*row) for row in zip(*(c.tolist() for c in columns)))


def _average(scores, keep=None) -> AveragedScores:
    chosen = [s for i, s in enumerate(scores) if keep is None or keep[i]]
    if not chosen:
        return AveragedScores(0.0, 0.0, 0.0, 0)
    return AveragedScores(
        float(np.mean([s.precision for s in chosen])),
        float(np.mean([s.recall for s in chosen])),
        float(np.mean([s.f1 for s in chosen])),
        len(chosen),
    )


def _flatten(corpus: list[list[np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """Concatenated times and their int64 group ids ``file * C + class``."""
    arrays = [times for events in corpus for times in events]
    times = np.concatenate(arrays) if arrays else np.zeros(0)
    groups = np.repeat(np.arange(len(arrays), dtype=np.int64), [a.size for a in arrays])
    return times, groups


def _score_corpus(files, classes, reference, estimated, tolerance, decimals) -> CorpusScores:
    """Scores of a corpus given as ``(times, groups)`` pairs, groups ``file * classes + class``."""
    count = files * classes
    ref_times, ref_groups = reference
    est_times, est_groups = estimated
    single = count == 1
    matched = sweep_match(ref_times, est_times, tolerance, decimals,
                          None if single else ref_groups, None if single else est_groups)
    hit = matched >= 0
    errors = est_times[matched[hit]] - ref_times[hit]
    hit_groups = ref_groups[hit]
    n_ref = np.bincount(ref_groups, minlength=count).reshape(files, classes)
    n_est = np.bincount(est_groups, minlength=count).reshape(files, classes)
    n_hit = np.bincount(hit_groups, minlength=count).reshape(files, classes)

    pooled_statistics = _error_statistics(errors, np.zeros_like(hit_groups), 1)
    pooled = _event_scores([n_ref.sum()], [n_est.sum()], [n_hit.sum()], *pooled_statistics)[0]
    per_file = _event_scores(n_ref.sum(1), n_est.sum(1), n_hit.sum(1), *(
        pooled_statistics if files == 1 else _error_statistics(errors, hit_groups // classes, files)))
    per_class = _event_scores(n_ref.sum(0), n_est.sum(0), n_hit.sum(0), *(
        pooled_statistics if classes == 1 else _error_statistics(errors, hit_groups % classes, classes)))
    active = (n_ref.sum(0) + n_est.sum(0)) > 0
    cell_means = [values.mean(axis=0).tolist() for values in _ratio_arrays(n_ref, n_est, n_hit)]
    per_class_file_mean = [AveragedScores(p, r, f, files) for p, r, f in zip(*cell_means)]
    return CorpusScores(
        per_file=per_file,
        per_class=per_class,
        pooled=pooled,
        file_mean=_average(per_file),
        class_macro=_average(per_class, active),
        per_class_file_mean=tuple(per_class_file_mean),
        n_reference=n_ref,
        n_estimated=n_est,
        n_matched=n_hit,
    )


# ----------------------------------------------------------------------------------------------
# Public functions
# ----------------------------------------------------------------------------------------------


def event_f_measure(reference, estimated, *, tolerance: float, decimals: int | None = None) -> EventScores:
    """F-measure of estimated events against reference events of one class.

    ``precision = n_match / n_est``, ``recall = n_match / n_ref``,
    ``f1 = 2 precision recall / (precision + recall)``, with ``n_match`` the size of a maximum
    one-to-one matching with ``|e - r| <= tolerance`` (:func:`~softloc.metrics.match_events`).
    Equal, value for value, to ``mir_eval.onset.f_measure(reference, estimated,
    window=tolerance)`` (``decimals=None``). Empty input: module Conventions (0, no warning).

    Parameters
    ----------
    reference:
        ``(n,)`` reference event times, sorted ascending, finite.
    estimated:
        ``(m,)`` estimated event times, sorted ascending, finite.
    tolerance:
        Half-width of the window, ``>= 0``, in the unit of the times (0.05 s in the paper).
    decimals:
        ``None`` or the decimals distances are rounded to (mir_eval.transcription uses 4).

    Returns
    -------
    EventScores

    Examples
    --------
    >>> s = event_f_measure([0.10, 0.50], [0.12, 0.49, 0.90], tolerance=0.05)
    >>> round(s.precision, 4), s.recall, round(s.f1, 4)
    (0.6667, 1.0, 0.8)
    >>> event_f_measure([], [], tolerance=0.05).f1
    0.0
    """
    reference = as_times(reference, "reference")
    estimated = as_times(estimated, "estimated")
    tolerance = check_tolerance(tolerance)
    decimals = check_decimals(decimals)
    matched = sweep_match(reference, estimated, tolerance, decimals)
    hit = np.flatnonzero(matched >= 0)
    errors = estimated[matched[hit]] - reference[hit]
    n_matched = int(errors.size)
    precision, recall, f1 = _ratios(reference.size, estimated.size, n_matched)
    mean, std, median = _statistics(errors)
    return EventScores(precision, recall, f1, int(reference.size), int(estimated.size), n_matched,
                       mean, std, median)


def _statistics(errors: np.ndarray) -> tuple[float, float, float]:
    """Mean, std (ddof=0) and median |error| (NaN when empty); plain Python for a few values."""
    count = int(errors.size)
    if count == 0:
        return float("nan"), float("nan"), float("nan")
    if count > 256:
        mean = float(errors.mean())
        magnitude = np.sort(np.abs(errors))
        return (mean, float(np.sqrt(np.mean(np.square(errors - mean)))),
                float((magnitude[(count - 1) // 2] + magnitude[count // 2]) / 2))
    errors = errors.tolist()
    mean = math.fsum(errors) / count
    std = math.sqrt(math.fsum((e - mean) ** 2 for e in errors) / count)
    magnitude = sorted(abs(e) for e in errors)
    return mean, std, (magnitude[(count - 1) // 2] + magnitude[count // 2]) / 2


def multiclass_f_measure(reference, estimated, *, tolerance: float,
                         decimals: int | None = None) -> MulticlassScores:
    """Per-class, micro and macro F-measure of one multi-class sequence.

    Events match only within their class. ``micro`` pools the counts over classes:
    ``precision = sum_c n_match_c / sum_c n_est_c`` and so on; with ``decimals=4`` it equals
    ``mir_eval.transcription.precision_recall_f1_overlap`` on notes ``[t, t + 1]`` whose pitch
    identifies the class (``offset_ratio=None``, ``onset_tolerance=tolerance``). ``macro``
    averages the per-class precision, recall and F1 over the classes with events.

    Parameters
    ----------
    reference, estimated:
        Event lists: sequences of ``C`` 1-D arrays of sorted times, class ``c`` at index ``c``.
    tolerance:
        Half-width of the window, ``>= 0``.
    decimals:
        As in :func:`event_f_measure`.

    Returns
    -------
    MulticlassScores

    Examples
    --------
    >>> s = multiclass_f_measure([[1.0, 2.0], [1.5]], [[1.01], [1.0, 1.52]], tolerance=0.05)
    >>> [round(c.f1, 4) for c in s.per_class], round(s.micro.f1, 4), round(s.macro.f1, 4)
    ([0.6667, 0.6667], 0.6667, 0.6667)
    """
    reference = as_event_list(reference, "reference")
    estimated = as_event_list(estimated, "estimated")
    if len(reference) != len(estimated):
        raise ValueError(
            f"reference and estimated must list the same classes, got {len(reference)} and "
            f"{len(estimated)}"
        )
    tolerance = check_tolerance(tolerance)
    decimals = check_decimals(decimals)
    corpus = _score_corpus(1, len(reference), _flatten([reference]), _flatten([estimated]),
                           tolerance, decimals)
    return MulticlassScores(per_class=corpus.per_class, micro=corpus.pooled, macro=corpus.class_macro)


def corpus_f_measure(reference, estimated, *, tolerance: float,
                     decimals: int | None = None) -> CorpusScores:
    """F-measure of a corpus of multi-class files, aggregated per file, per class and pooled.

    All files and classes are matched in one vectorised pass: times are concatenated with the
    key ``(file, class)``, the window ranges are found by searches on exact ``(group, time)``
    keys, and one linear sweep matches every group (O(N log N) in the total number N of events,
    whatever the number of classes). Equal, file for file, to ``mir_eval.transcription`` with
    ``decimals=4`` (see :func:`multiclass_f_measure`), and class for class to
    ``mir_eval.onset.f_measure`` with ``decimals=None``.

    Parameters
    ----------
    reference, estimated:
        Corpora: sequences of ``F`` event lists (one per file), each with the same ``C`` classes.
        A batch decoded by :mod:`softloc.decode` or :func:`softloc.events.batch_to_events` is one.
    tolerance:
        Half-width of the window, ``>= 0``.
    decimals:
        As in :func:`event_f_measure`.

    Returns
    -------
    CorpusScores

    Examples
    --------
    >>> reference = [[[1.0, 2.0]], [[0.5]]]
    >>> estimated = [[[1.0, 2.0]], [[0.7]]]
    >>> s = corpus_f_measure(reference, estimated, tolerance=0.05)
    >>> s.file_mean.f1, round(s.pooled.f1, 4)
    (0.5, 0.6667)
    """
    reference, *flat_reference = as_corpus(reference, "reference")
    estimated, *flat_estimated = as_corpus(estimated, "estimated")
    if len(reference) != len(estimated):
        raise ValueError(
            f"reference and estimated must hold the same number of files, got {len(reference)} "
            f"and {len(estimated)}"
        )
    if len(reference[0]) != len(estimated[0]):
        raise ValueError(
            f"reference and estimated must list the same classes, got {len(reference[0])} and "
            f"{len(estimated[0])} per file"
        )
    tolerance = check_tolerance(tolerance)
    decimals = check_decimals(decimals)
    return _score_corpus(len(reference), len(reference[0]), flat_reference, flat_estimated,
                         tolerance, decimals)
