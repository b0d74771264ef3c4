"""Percentage of correct events (PCE), the golf-swing sequencing metric of GolfDB.

Conventions
-----------
* A clip has the 8 GolfDB events in this order (index 0 to 7): address, toe-up, mid-backswing
  (arm parallel), top, mid-downswing (arm parallel), impact, mid-follow-through (shaft
  parallel), finish (:data:`GOLF_EVENTS`). Inputs are frame indices ``(N, 8)`` for ``N`` clips,
  or ``(8,)`` for one clip: one predicted frame per event (e.g. the argmax over time of the
  event's probability) and the true frame.
* The tolerance is in frames and inclusive. By default it adapts to the swing's speed, as in
  GolfDB's ``util.correct_preds``::

      tolerance = max(round((true_impact - true_address) / 30), 1)

  with ``numpy.round`` (half to even: 2.5 -> 2), so slow-motion clips get a larger tolerance and
  "one frame" is the minimum. A fixed ``tolerance`` may be given instead.
* The result is a **fraction** in [0, 1] (multiply by 100 for the paper's percentages). There is
  no empty case: at least one clip is required.

Definition
----------
::

    PCE = 1 / (8 N) sum_{clip i} sum_{event k} 1[ |predicted_ik - true_ik| <= tolerance_i ]

Examples
--------
>>> true = [10, 20, 30, 40, 50, 100, 110, 120]      # impact - address = 90 -> tolerance 3
>>> predicted = [10, 23, 34, 40, 50, 99, 110, 90]
>>> s = percentage_of_correct_events(predicted, true)
>>> s.pce, s.tolerance.tolist()
(0.75, [3.0])
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._validation import as_real_array, check_tolerance

__all__ = ["GOLF_EVENTS", "CorrectEventScores", "golf_tolerance", "percentage_of_correct_events"]

GOLF_EVENTS = (
    "address",
    "toe_up",
    "mid_backswing",
    "top",
    "mid_downswing",
    "impact",
    "mid_follow_through",
    "finish",
)
_ADDRESS, _IMPACT = GOLF_EVENTS.index("address"), GOLF_EVENTS.index("impact")


@dataclass(frozen=True)
class CorrectEventScores:
    """PCE (a fraction), its value per event (``per_event[k]`` for ``GOLF_EVENTS[k]``), the
    ``(N, 8)`` bool matrix ``correct`` and the ``(N,)`` tolerances used (frames).

    Examples
    --------
    :func:`percentage_of_correct_events` returns one; two clips, the second with two events
    off by more than its tolerance of 1 frame:

    >>> true = [[0, 10, 20, 30, 40, 50, 60, 70], [0, 5, 10, 15, 20, 25, 30, 35]]
    >>> predicted = [[0, 10, 20, 30, 40, 50, 60, 70], [0, 5, 13, 15, 20, 25, 30, 38]]
    >>> scores = percentage_of_correct_events(predicted, true)
    >>> scores.n_clips, scores.tolerance.tolist(), scores.pce
    (2, [2.0, 1.0], 0.875)
    >>> scores.per_event[2], scores.correct[1].tolist()
    (0.5, [True, True, False, True, True, True, True, False])
    >>> scores.to_dict()["per_event"]["finish"]
    0.5
    """

    pce: float
    per_event: tuple[float, ...]
    correct: np.ndarray
    tolerance: np.ndarray
    n_clips: int

    def to_dict(self) -> dict:
        return {
            "pce": self.pce,
            "per_event": dict(zip(GOLF_EVENTS, self.per_event)),
            "correct": self.correct.tolist(),
            "tolerance": self.tolerance.tolist(),
            "n_clips": self.n_clips,
        }


def _frames(values, name: str) -> np.ndarray:
    frames = as_real_array(values, name)
    if frames.ndim == 1:
        frames = frames[None, :]
    if frames.ndim != 2 or frames.shape[1] != len(GOLF_EVENTS):
        raise ValueError(
            f"{name} must have shape (N, 8) or (8,): one frame per GolfDB event, got shape "
            f"{np.shape(values)}"
        )
    if frames.shape[0] == 0:
        raise ValueError(f"{name} must hold at least one clip")
    if not np.all(np.isfinite(frames)):
        raise ValueError(f"{name} must hold finite frame indices; found NaN or inf")
    return frames


def golf_tolerance(true) -> np.ndarray:
    """GolfDB's adaptive tolerance ``max(round((impact - address) / 30), 1)`` frames per clip.

    Parameters
    ----------
    true:
        ``(N, 8)`` or ``(8,)`` true event frames (GolfDB order).

    Returns
    -------
    np.ndarray
        ``(N,)`` float64 tolerances (integers), with ``numpy.round`` (half to even).

    Examples
    --------
    >>> golf_tolerance([[0, 0, 0, 0, 0, 75, 0, 0], [0, 0, 0, 0, 0, 20, 0, 0]]).tolist()
    [2.0, 1.0]
    """
    frames = _frames(true, "true")
    return np.maximum(np.round((frames[:, _IMPACT] - frames[:, _ADDRESS]) / 30), 1.0)


def percentage_of_correct_events(predicted, true, *, tolerance: float | None = None) -> CorrectEventScores:
    """Fraction of events predicted within the tolerance, over clips and the 8 golf events.

    Parameters
    ----------
    predicted:
        ``(N, 8)`` or ``(8,)`` predicted event frames.
    true:
        True event frames, the same shape.
    tolerance:
        ``None`` (default): GolfDB's adaptive tolerance (:func:`golf_tolerance`) per clip; or a
        fixed number of frames ``>= 0``.

    Returns
    -------
    CorrectEventScores

    Examples
    --------
    >>> s = percentage_of_correct_events([[0, 1, 2, 3, 4, 5, 6, 7]], [[0, 1, 2, 3, 4, 5, 6, 9]])
    >>> s.pce, s.per_event[-1]
    (0.875, 0.0)
    """
    true_frames = _frames(true, "true")
    predicted_frames = _frames(predicted, "predicted")
    if predicted_frames.shape != true_frames.shape:
        raise ValueError(
            f"predicted must have the shape of true {true_frames.shape}, got {predicted_frames.shape}"
        )
    if tolerance is None:
        tolerances = golf_tolerance(true_frames)
    else:
        tolerances = np.full(true_frames.shape[0], check_tolerance(tolerance))
    correct = np.abs(predicted_frames - true_frames) <= tolerances[:, None]
    return CorrectEventScores(
        pce=float(correct.mean()),
        per_event=tuple(float(v) for v in correct.mean(axis=0)),
        correct=correct,
        tolerance=tolerances,
        n_clips=int(true_frames.shape[0]),
    )
