"""Evaluation of detected events: tolerance matching, F-measure, frame F1, PCE, average precision.

Conventions (shared by every module; each module's docstring states its own details)
-----------------------------------------------------------------------------------
* Event times are 1-D float arrays **sorted ascending** and finite, in seconds (in frames where
  a function says so). A multi-class sequence is an *event list*: ``C`` per-class arrays, class
  ``c`` at index ``c`` (:mod:`softloc.events`); a *corpus* is a sequence of event lists, one per
  file. Unsorted or non-finite times raise ``ValueError`` naming the argument.
* ``tolerance`` is a **half-width**, inclusive: a match needs ``|estimate - reference| <=
  tolerance``, compared as ``mir_eval.util.match_events`` compares (``decimals=None``), or
  after rounding distances to ``decimals`` places as ``mir_eval.transcription`` does
  (``decimals=4``).
* Matching is one-to-one; :func:`match_events` finds a **maximum** matching (the F-measure's),
  :func:`match_events_by_confidence` the greedy-by-confidence one (average precision's).
* Empty input: a ratio with a zero denominator is 0 (mir_eval's convention, without its
  warning); an AP without reference events is NaN and left out of means.
* Results are frozen dataclasses with ``to_dict()``.

Which metric for which experiment of the paper (reference-spec section 3):

=========== ===================================================================================
golf        :func:`percentage_of_correct_events` (adaptive tolerance, GolfDB)
puff        :func:`frame_f_measure` without a mask (padding counts as negatives)
piano       ``corpus_f_measure(..., tolerance=0.05, decimals=4).file_mean.f1``
drums       ``corpus_f_measure(..., tolerance=0.05, decimals=4).per_class_file_mean``
spotting    :func:`mean_average_precision`
=========== ===================================================================================

In a training or validation loop, :class:`EventFMeasure` (a ``torchmetrics.Metric``, with the
extra ``softloc[metrics]``) accumulates the event F-measure over batches of frame probabilities.
"""

from .average_precision import (
    INTERPOLATIONS,
    AveragePrecisionScores,
    average_precision,
    mean_average_precision,
)
from .f_measure import (
    AveragedScores,
    CorpusScores,
    EventScores,
    MulticlassScores,
    corpus_f_measure,
    event_f_measure,
    multiclass_f_measure,
)
from .frame import FrameScores, frame_f_measure
from .matching import match_events, match_events_by_confidence
from .pce import GOLF_EVENTS, CorrectEventScores, golf_tolerance, percentage_of_correct_events

__all__ = [
    "GOLF_EVENTS",
    "INTERPOLATIONS",
    "AveragePrecisionScores",
    "AveragedScores",
    "CorpusScores",
    "CorrectEventScores",
    "EventFMeasure",
    "EventScores",
    "FrameScores",
    "MulticlassScores",
    "average_precision",
    "corpus_f_measure",
    "event_f_measure",
    "frame_f_measure",
    "golf_tolerance",
    "match_events",
    "match_events_by_confidence",
    "mean_average_precision",
    "multiclass_f_measure",
    "percentage_of_correct_events",
]


def __getattr__(name: str):
    # EventFMeasure needs the optional torchmetrics: imported on first use only.
    if name == "EventFMeasure":
        from .streaming import EventFMeasure

        return EventFMeasure
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
