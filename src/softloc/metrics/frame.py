"""Frame-level precision, recall and F1 with zero tolerance.

Conventions
-----------
* ``reference`` and ``estimated`` are binary frame labels of the same shape, any number of
  dimensions (``(T,)``, ``(N, T)``, ``(N, C, T)`` ...): bool, or numbers that are exactly 0 or 1.
  Probabilities must be thresholded first (:mod:`softloc.decode`).
* Zero tolerance: a frame is a true positive when it is 1 in both arrays; there is no matching.
* ``mask`` (optional, bool) marks the valid frames (True); it has the labels' shape, or
  ``(N, T)`` for labels ``(N, C, T)`` (the layout of the losses). Without a mask every frame
  counts, so **padded frames count as negatives** (the puff protocol of the paper: sessions
  zero-padded to 700 steps, scikit-learn's F1 on the flattened arrays).
* Empty input (no positive frame on one side or both): a ratio with a zero denominator is 0, as
  in :mod:`softloc.metrics.f_measure` (scikit-learn's ``zero_division`` default, without its
  warning).

Definitions
-----------
Over the valid frames, with ``TP = sum(ref & est)``, ``n_ref = sum(ref)``, ``n_est = sum(est)``::

    precision = TP / n_est     recall = TP / n_ref     f1 = 2 precision recall / (precision + recall)

For a 1-D array this equals the event F-measure of the frame indices of the ones with tolerance 0.

Examples
--------
>>> s = frame_f_measure([0, 1, 1, 0, 0], [0, 1, 0, 1, 0])
>>> s.precision, s.recall, s.f1, s.n_matched
(0.5, 0.5, 0.5, 1)
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from .f_measure import _ratios

__all__ = ["FrameScores", "frame_f_measure"]


@dataclass(frozen=True)
class FrameScores:
    """Frame-level scores: ``n_matched`` true-positive frames of ``n_frames`` valid frames.

    ``n_reference`` and ``n_estimated`` count the positive frames of each; precision, recall
    and F1 are fractions in [0, 1].

    Examples
    --------
    :func:`frame_f_measure` returns one:

    >>> import numpy as np
    >>> scores = frame_f_measure(np.array([0, 1, 1, 0, 1]), np.array([0, 1, 0, 0, 1]))
    >>> scores.n_reference, scores.n_estimated, scores.n_matched, scores.n_frames
    (3, 2, 2, 5)
    >>> scores.precision, round(scores.recall, 4), round(scores.f1, 4)
    (1.0, 0.6667, 0.8)
    """

    precision: float
    recall: float
    f1: float
    n_reference: int
    n_estimated: int
    n_matched: int
    n_frames: int

    def to_dict(self) -> dict:
        return asdict(self)


def _binary(values, name: str) -> np.ndarray:
    if isinstance(values, (str, bytes)):
        raise TypeError(f"{name} must be an array of binary frame labels, got {type(values).__name__}")
    array = np.asarray(values)
    if array.dtype == np.bool_:
        return array
    if array.dtype.kind not in "iuf":
        raise TypeError(f"{name} must hold bool or 0/1 numbers, got dtype {array.dtype}")
    if array.ndim == 0:
        raise ValueError(f"{name} must have at least one dimension (frames), got a scalar")
    outside = (array != 0) & (array != 1)
    if outside.any():
        bad = np.unravel_index(int(np.flatnonzero(outside)[0]), array.shape)
        raise ValueError(
            f"{name} must be binary (0 or 1); found {array[bad]} at index {tuple(map(int, bad))}: "
            f"threshold probabilities first"
        )
    return array.astype(np.bool_)


def frame_f_measure(reference, estimated, *, mask=None) -> FrameScores:
    """Precision, recall and F1 of binary frame predictions, zero tolerance.

    Parameters
    ----------
    reference:
        Binary frame labels, any shape.
    estimated:
        Binary frame predictions, the same shape.
    mask:
        Optional bool array, True on valid frames: the labels' shape, or ``(N, T)`` for labels
        ``(N, C, T)``. ``None``: every frame is valid (padding counts as negatives).

    Returns
    -------
    FrameScores

    Examples
    --------
    >>> labels = [[0, 1, 0, 0], [1, 0, 0, 0]]
    >>> predictions = [[0, 1, 0, 1], [1, 0, 0, 1]]
    >>> frame_f_measure(labels, predictions).precision
    0.5
    >>> valid = np.array([[True, True, True, False], [True, True, True, False]])
    >>> frame_f_measure(labels, predictions, mask=valid).precision
    1.0
    """
    reference = _binary(reference, "reference")
    estimated = _binary(estimated, "estimated")
    if reference.ndim == 0:
        raise ValueError("reference must have at least one dimension (frames), got a scalar")
    if estimated.shape != reference.shape:
        raise ValueError(
            f"estimated must have the shape of reference {reference.shape}, got {estimated.shape}"
        )
    if mask is None:
        valid = np.ones(reference.shape, dtype=np.bool_)
    else:
        valid = np.asarray(mask)
        if valid.dtype != np.bool_:
            raise TypeError(f"mask must be a bool array (True on valid frames), got dtype {valid.dtype}")
        if valid.shape == reference.shape:
            pass
        elif reference.ndim == 3 and valid.shape == (reference.shape[0], reference.shape[2]):
            valid = np.broadcast_to(valid[:, None, :], reference.shape)
        else:
            expected = f"{reference.shape}"
            if reference.ndim == 3:
                expected += f" or {(reference.shape[0], reference.shape[2])}"
            raise ValueError(f"mask must have shape {expected}, got {valid.shape}")
    n_reference = int(np.count_nonzero(reference & valid))
    n_estimated = int(np.count_nonzero(estimated & valid))
    n_matched = int(np.count_nonzero(reference & estimated & valid))
    precision, recall, f1 = _ratios(n_reference, n_estimated, n_matched)
    return FrameScores(precision, recall, f1, n_reference, n_estimated, n_matched,
                       int(np.count_nonzero(valid)))
