"""Decoding: frame probabilities ``(N, C, T)`` -> point events per sequence and class.

Each experiment of the paper turns probabilities into point events in its own way (reference
spec section 2.2); this module offers those rules as decoders that share one input convention
and one result type, :class:`Detections`:

=====================================  ==========================================================
:func:`threshold_events`               every frame with ``p > threshold`` (puff: ``p > 0.2``);
                                       optionally only local maxima (one event per peak)
:func:`peak_picking`                   madmom's ``peak_picking`` / ``OnsetPeakPickingProcessor``
                                       (moving maximum, moving mean + threshold, combine, delay)
:func:`non_maximum_suppression`        greedy: highest remaining score above a threshold, suppress
                                       ``+-window`` frames, repeat (piano/drum post-processing)
:func:`argmax_events`                  one event per sequence and class at the most probable
                                       frame (golf)
:func:`decode`                         any of the above by name (for configuration files)
=====================================  ==========================================================

Conventions
-----------
* ``probabilities``: a floating ``torch.Tensor`` (CPU or CUDA) or ``numpy.ndarray`` of shape
  ``(N, C, T)`` (sequences, classes, frames), ``(C, T)`` (one sequence) or ``(T,)`` (one sequence,
  one class), with values in ``[0, 1]`` (apply ``sigmoid`` to logits first). Tensors are decoded
  on their own device with vectorised torch ops; NumPy arrays are decoded on the CPU. float16
  and bfloat16 are widened to float32 (exactly) before decoding.
* ``mask``: optional boolean ``(N, T)`` (``(T,)`` or ``(1, T)`` for 1-D and 2-D input), True on
  valid steps. Masked steps never produce events and count as probability 0 for their
  neighbours, exactly like the zero padding beyond either end of a sequence: decoding a padded
  batch with its mask gives the events of the unpadded sequences. Their values are not
  validated (they may even be NaN).
* Frames outside the sequence count as probability 0 (zero padding, as madmom does).
* The result is a :class:`Detections`: for every sequence ``n`` and class ``c`` an int64 array
  of event frames (sorted, strictly increasing) and a float64 array of their scores (the
  probability at the detected frame). Frame ``f`` stands for the time ``offset + f / fps`` of a
  :class:`softloc.events.TimeBase`; :meth:`Detections.times` converts.
* Thresholds lie in ``[0, 1]``; windows are whole numbers of frames ``>= 0``. Bad arguments
  raise ``TypeError`` (wrong type or dtype) or ``ValueError`` (wrong value or shape), naming the
  argument. ``validate_args=False`` skips the scans over the values (NaN, range) for hot loops.
* Causality: :func:`threshold_events` without ``local_maxima``, :func:`threshold_events` with
  ``online=True`` and :func:`peak_picking` with ``online=True`` (``post_max = post_avg = 0``)
  decide about frame ``t`` from frames ``<= t`` only.

Examples
--------
>>> import torch
>>> from softloc.events import TimeBase
>>> p = torch.tensor([[0.0, 0.3, 0.9, 0.4, 0.0, 0.6, 0.6, 0.1]])
>>> threshold_events(p, 0.5).frame_lists()[0][0].tolist()
[2, 5, 6]
>>> det = threshold_events(p, 0.5, local_maxima=True)
>>> det.frame_lists()[0][0].tolist(), det.scores[0][0].round(2).tolist()
([2, 5], [0.9, 0.6])
>>> det.times(TimeBase(fps=10.0))[0][0].tolist()
[0.2, 0.5]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Union

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from ._checks import check_int, check_probability
from .events import TimeBase

__all__ = [
    "Detections",
    "threshold_events",
    "peak_picking",
    "non_maximum_suppression",
    "argmax_events",
    "decode",
    "DECODERS",
]

ArrayLike = Union[Tensor, np.ndarray]


# ----------------------------------------------------------------------------------------------
# Result type
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Detections:
    """Decoded events: frames and scores per sequence and class.

    Parameters
    ----------
    frames:
        ``frames[n][c]``: int64 array of event frames of class ``c`` in sequence ``n``, sorted
        ascending. Frames may lie outside ``[0, num_frames)`` only when a decoder shifted them
        (``peak_picking(..., delay=...)``).
    scores:
        ``scores[n][c]``: float64 array of the same length, the probability at each event's
        detected frame.
    num_frames:
        ``T``, the number of frames of the decoded sequences (padded length).
    rule:
        The decoder and its parameters (reported with every score, e.g.
        ``{'method': 'threshold', 'threshold': 0.2, ...}``).

    Notes
    -----
    Arrays are stored read-only; the nested sequences are stored as tuples.

    Examples
    --------
    >>> import numpy as np
    >>> from softloc.events import TimeBase
    >>> det = Detections(frames=[[[3, 7], []]], scores=[[[0.9, 0.8], []]], num_frames=10)
    >>> det.num_sequences, det.num_classes, det.counts().tolist()
    (1, 2, [[2, 0]])
    >>> det.times(TimeBase(fps=100.0))[0][0].tolist()
    [0.03, 0.07]
    >>> [f.tolist() for f in det.per_class()[0]]
    [[3, 7]]
    >>> det.to_array().shape, int(det.to_array().sum())
    ((1, 2, 10), 2)
    """

    frames: tuple[tuple[np.ndarray, ...], ...]
    scores: tuple[tuple[np.ndarray, ...], ...]
    num_frames: int
    rule: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        check_int(self.num_frames, "num_frames", 1)
        if not isinstance(self.rule, Mapping):
            raise TypeError(f"rule must be a mapping, got {type(self.rule).__name__}")
        frames = _nested_arrays(self.frames, "frames", np.int64)
        scores = _nested_arrays(self.scores, "scores", np.float64)
        if len(frames) != len(scores):
            raise ValueError(
                f"scores must hold one entry per sequence of frames ({len(frames)}), "
                f"got {len(scores)}"
            )
        classes = {len(row) for row in frames}
        if len(classes) > 1:
            raise ValueError(
                f"frames must hold the same number of classes per sequence, got {sorted(classes)}"
            )
        for n, (frame_row, score_row) in enumerate(zip(frames, scores)):
            if len(frame_row) != len(score_row):
                raise ValueError(
                    f"scores[{n}] must hold one array per class ({len(frame_row)}), "
                    f"got {len(score_row)}"
                )
            for c, (f, s) in enumerate(zip(frame_row, score_row)):
                if f.shape != s.shape:
                    raise ValueError(
                        f"scores[{n}][{c}] must have the length of frames[{n}][{c}] "
                        f"({f.shape[0]}), got {s.shape[0]}"
                    )
                if f.size > 1 and np.any(np.diff(f) < 0):
                    raise ValueError(f"frames[{n}][{c}] must be sorted ascending")
        object.__setattr__(self, "frames", frames)
        object.__setattr__(self, "scores", scores)
        object.__setattr__(self, "num_frames", int(self.num_frames))
        object.__setattr__(self, "rule", dict(self.rule))

    @property
    def num_sequences(self) -> int:
        """``N``."""
        return len(self.frames)

    @property
    def num_classes(self) -> int:
        """``C`` (0 when there are no sequences)."""
        return len(self.frames[0]) if self.frames else 0

    def counts(self) -> np.ndarray:
        """Number of events per sequence and class, int64 ``(N, C)``."""
        return np.array(
            [[f.size for f in row] for row in self.frames], dtype=np.int64
        ).reshape(self.num_sequences, self.num_classes)

    def frame_lists(self) -> list[list[np.ndarray]]:
        """Event frames as ``[sequence][class]`` lists of int64 arrays."""
        return [list(row) for row in self.frames]

    def times(self, time_base: TimeBase) -> list[list[np.ndarray]]:
        """Event times in seconds as ``[sequence][class]`` lists of sorted float64 arrays.

        Frame ``f`` becomes ``time_base.times_of(f) = offset + f / fps``.
        """
        _check_time_base(time_base)
        return [[time_base.times_of(f) for f in row] for row in self.frames]

    def per_class(self, time_base: TimeBase | None = None) -> list[list[np.ndarray]]:
        """Events as ``[class][sequence]`` lists: frames, or seconds when ``time_base`` is given.

        This is the layout of per-class evaluation: ``per_class(base)[c]`` holds one sorted
        array per sequence, to be matched against that sequence's reference times of class ``c``.
        """
        if time_base is not None:
            _check_time_base(time_base)
            convert = time_base.times_of
        else:
            def convert(f):
                return f
        return [
            [convert(self.frames[n][c]) for n in range(self.num_sequences)]
            for c in range(self.num_classes)
        ]

    def to_array(self) -> np.ndarray:
        """Boolean ``(N, C, T)`` array, True at event frames (frame-level evaluation).

        Raises ``ValueError`` when an event lies outside ``[0, num_frames)`` (shifted by a delay).
        """
        out = np.zeros((self.num_sequences, self.num_classes, self.num_frames), dtype=bool)
        for n, row in enumerate(self.frames):
            for c, f in enumerate(row):
                if f.size and (f[0] < 0 or f[-1] >= self.num_frames):
                    raise ValueError(
                        f"frames[{n}][{c}] has events outside [0, {self.num_frames}); "
                        "cannot place them in a frame array"
                    )
                out[n, c, f] = True
        return out

    def to_dict(self) -> dict:
        """Plain Python data (lists, ints, floats): JSON-serialisable."""
        return {
            "num_frames": self.num_frames,
            "rule": dict(self.rule),
            "frames": [[f.tolist() for f in row] for row in self.frames],
            "scores": [[s.tolist() for s in row] for row in self.scores],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Detections":
        """Inverse of :meth:`to_dict`."""
        return cls(
            frames=data["frames"], scores=data["scores"], num_frames=data["num_frames"],
            rule=data.get("rule", {}),
        )


def _nested_arrays(value, name: str, dtype) -> tuple[tuple[np.ndarray, ...], ...]:
    if isinstance(value, (str, bytes, np.ndarray, Tensor)) or not isinstance(value, Sequence):
        raise TypeError(
            f"{name} must be a sequence (per sequence) of sequences (per class) of arrays"
        )
    rows = []
    for n, row in enumerate(value):
        if isinstance(row, (str, bytes, np.ndarray, Tensor)) or not isinstance(row, Sequence):
            raise TypeError(f"{name}[{n}] must be a sequence (per class) of arrays")
        arrays = []
        for c, item in enumerate(row):
            raw = np.asarray(item)
            if raw.ndim != 1:
                raise ValueError(f"{name}[{n}][{c}] must be 1-D, got shape {raw.shape}")
            if dtype is np.int64 and raw.size and not np.issubdtype(raw.dtype, np.integer):
                raise TypeError(f"{name}[{n}][{c}] must hold integer frames, got {raw.dtype}")
            array = np.array(raw, dtype=dtype)
            array.setflags(write=False)
            arrays.append(array)
        rows.append(tuple(arrays))
    return tuple(rows)


def _check_time_base(time_base) -> None:
    if not isinstance(time_base, TimeBase):
        raise TypeError(
            f"time_base must be a softloc.events.TimeBase, got {type(time_base).__name__}"
        )


# ----------------------------------------------------------------------------------------------
# Argument and input validation
# ----------------------------------------------------------------------------------------------


def _check_threshold(value, name: str = "threshold") -> float:
    return check_probability(value, name)


def _check_frames(value, name: str, *, minimum: int | None = 0) -> int:
    return check_int(value, name, minimum, unit="frames")


def _check_flag(value, name: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be a bool, got {type(value).__name__}")
    return bool(value)


def _prepare(probabilities, mask, validate_args: bool) -> tuple[Tensor, Tensor | None]:
    """Probabilities as an ``(N, C, T)`` float32/float64 tensor with masked steps set to 0,
    and the mask as a boolean ``(N, T)`` tensor on the same device (or ``None``)."""
    if isinstance(probabilities, np.ndarray):
        if probabilities.dtype.kind != "f":
            raise TypeError(
                f"probabilities must be a floating-point array, got dtype {probabilities.dtype}"
            )
        probs = torch.from_numpy(
            np.ascontiguousarray(probabilities, dtype=probabilities.dtype.newbyteorder("="))
        )
    elif isinstance(probabilities, Tensor):
        if not probabilities.is_floating_point():
            raise TypeError(
                f"probabilities must be a floating-point tensor, got {probabilities.dtype}"
            )
        probs = probabilities.detach()
    else:
        raise TypeError(
            "probabilities must be a torch.Tensor or numpy.ndarray, "
            f"got {type(probabilities).__name__}"
        )
    if probs.dim() not in (1, 2, 3):
        raise ValueError(
            f"probabilities must have shape (N, C, T), (C, T) or (T,), got {tuple(probs.shape)}"
        )
    if probs.numel() == 0:
        raise ValueError(f"probabilities must not be empty, got shape {tuple(probs.shape)}")
    if probs.dtype in (torch.float16, torch.bfloat16):
        probs = probs.float()
    squeezed = probs.dim() < 3
    while probs.dim() < 3:
        probs = probs.unsqueeze(0)
    n, _, t = probs.shape

    valid = None
    if mask is not None:
        if isinstance(mask, np.ndarray):
            if mask.dtype != np.bool_:
                raise TypeError(f"mask must have dtype bool, got {mask.dtype}")
            valid = torch.from_numpy(np.ascontiguousarray(mask))
        elif isinstance(mask, Tensor):
            if mask.dtype != torch.bool:
                raise TypeError(f"mask must have dtype torch.bool, got {mask.dtype}")
            valid = mask
        else:
            raise TypeError(
                f"mask must be a boolean torch.Tensor or numpy.ndarray, got {type(mask).__name__}"
            )
        if squeezed and valid.dim() == 1:
            valid = valid.unsqueeze(0)
        if tuple(valid.shape) != (n, t):
            expected = f"(N, T) = {(n, t)}" if not squeezed else f"(T,) = ({t},) or (1, T)"
            raise ValueError(f"mask must have shape {expected}, got {tuple(valid.shape)}")
        valid = valid.to(probs.device)

    if validate_args:
        values = probs if valid is None else probs[valid.unsqueeze(1).expand_as(probs)]
        if values.numel():
            if bool(torch.isnan(values).any()):
                raise ValueError("probabilities must not contain NaN (on valid steps)")
            low, high = float(values.min()), float(values.max())
            if low < 0.0 or high > 1.0:
                raise ValueError(
                    f"probabilities must lie in [0, 1] (apply sigmoid to logits first), "
                    f"got values in [{low}, {high}]"
                )
    if valid is not None:
        probs = torch.where(valid.unsqueeze(1), probs, torch.zeros((), dtype=probs.dtype,
                                                                    device=probs.device))
    return probs, valid


def _collect(events: Tensor, probs: Tensor, rule: dict) -> Detections:
    """Detections from a boolean ``(N, C, T)`` event tensor (only the events leave the device)."""
    n, c, t = events.shape
    index = torch.nonzero(events).cpu().numpy()  # row-major: sorted by (n, c, t)
    values = probs[events].to(torch.float64).cpu().numpy()  # same order as nonzero
    keys = index[:, 0] * c + index[:, 1]
    bounds = np.searchsorted(keys, np.arange(n * c + 1))
    frames, scores = [], []
    for i in range(n):
        frame_row, score_row = [], []
        for j in range(c):
            lo, hi = bounds[i * c + j], bounds[i * c + j + 1]
            frame_row.append(index[lo:hi, 2])
            score_row.append(values[lo:hi])
        frames.append(frame_row)
        scores.append(score_row)
    return Detections(frames=frames, scores=scores, num_frames=t, rule=rule)


def _above(probs: Tensor, threshold: float, *, strict: bool) -> Tensor:
    """``probs > threshold`` (``strict``) or ``probs >= threshold``, decided exactly.

    ``threshold`` is a float64 number, ``probs`` may be float32: comparing against the float32
    value nearest to the threshold would misjudge values between the two (``float32(0.2) > 0.2``
    holds in exact arithmetic, not in float32). Comparing against the largest float32 number
    ``<= threshold`` (strict) or the smallest float32 number ``>= threshold`` (non-strict) is
    exact.
    """
    if probs.dtype == torch.float64:
        bound = threshold
    else:  # float32 (narrower floats were widened to float32 by _prepare)
        nearest = np.float32(threshold)
        if strict and float(nearest) > threshold:
            nearest = np.nextafter(nearest, np.float32(-np.inf))
        elif not strict and float(nearest) < threshold:
            nearest = np.nextafter(nearest, np.float32(np.inf))
        bound = torch.tensor(float(nearest), dtype=probs.dtype, device=probs.device)
    return probs > bound if strict else probs >= bound


def _shift_right(x: Tensor, steps: int = 1) -> Tensor:
    """``x`` delayed by ``steps`` frames along the last axis, zeros shifted in."""
    return F.pad(x, (steps, 0))[..., : x.shape[-1]]


# ----------------------------------------------------------------------------------------------
# Decoders
# ----------------------------------------------------------------------------------------------


def threshold_events(
    probabilities: ArrayLike,
    threshold: float,
    *,
    local_maxima: bool = False,
    online: bool = False,
    mask: ArrayLike | None = None,
    validate_args: bool = True,
) -> Detections:
    """Events at frames whose probability is strictly above ``threshold``.

    Rules (``p_t`` the probability at frame ``t``; frames outside the sequence and masked steps
    count as 0):

    * ``local_maxima=False`` (default): event at every ``t`` with ``p_t > threshold`` (strict).
      Causal. The puff experiment's SoftLoc rule is ``threshold_events(p, 0.2)``.
    * ``local_maxima=True``: event at ``t`` when ``p_t > threshold``, ``p_t > p_{t-1}`` and the
      first later frame whose value differs from ``p_t`` is lower, i.e. ``t`` starts a plateau
      (of length 1 or more) that is a strict local maximum. A plateau gives one event, at its
      first frame. Needs look-ahead (to the end of the plateau).
    * ``local_maxima=True, online=True``: event at ``t`` when ``p_t > threshold`` and
      ``p_t > p_{t-1}`` (the track rises into ``t``): decided from frames ``<= t`` only. Every
      offline event is also an online event; a rise over several frames above the threshold
      gives one online event per frame (use :func:`peak_picking` with ``online=True`` and
      ``combine`` to keep one per rise). ``online`` has no effect without ``local_maxima``.

    Parameters
    ----------
    probabilities:
        ``(N, C, T)``, ``(C, T)`` or ``(T,)`` floats in [0, 1], tensor (any device) or array.
    threshold:
        In [0, 1].
    mask:
        Optional boolean ``(N, T)``, True on valid steps.

    Returns
    -------
    Detections
        Scores are ``p_t`` at the event frames.

    Examples
    --------
    >>> import numpy as np
    >>> p = np.array([0.1, 0.5, 0.5, 0.2, 0.7, 0.8, 0.3])
    >>> threshold_events(p, 0.4, local_maxima=True).frames[0][0].tolist()
    [1, 5]
    >>> threshold_events(p, 0.4, local_maxima=True, online=True).frames[0][0].tolist()
    [1, 4, 5]
    """
    threshold = _check_threshold(threshold)
    local_maxima = _check_flag(local_maxima, "local_maxima")
    online = _check_flag(online, "online")
    probs, _ = _prepare(probabilities, mask, validate_args)
    events = _above(probs, threshold, strict=True)
    if local_maxima:
        events &= probs > _shift_right(probs)
        if not online:
            events &= _value_after_plateau(probs) < probs
    rule = {"method": "threshold", "threshold": threshold, "local_maxima": local_maxima,
            "online": online}
    return _collect(events, probs, rule)


def _value_after_plateau(probs: Tensor) -> Tensor:
    """For every frame, the value of the first later frame that differs from it (0 past the end)."""
    t = probs.shape[-1]
    positions = torch.arange(1, t, device=probs.device).expand(*probs.shape[:-1], t - 1)
    changes = probs[..., 1:] != probs[..., :-1]  # changes[u]: p_{u+1} != p_u
    candidates = torch.where(changes, positions, torch.full_like(positions, t))
    candidates = F.pad(candidates, (0, 1), value=t)  # index t stands for "past the end"
    # next_change[t] = min_{u >= t} candidates[u]: a reversed running minimum.
    next_change = torch.flip(torch.cummin(torch.flip(candidates, (-1,)), dim=-1).values, (-1,))
    padded = F.pad(probs, (0, 1))
    return torch.gather(padded, -1, next_change)


def peak_picking(
    probabilities: ArrayLike,
    threshold: float,
    *,
    pre_max: int = 1,
    post_max: int | None = None,
    pre_avg: int = 0,
    post_avg: int | None = None,
    combine: int = 0,
    delay: int = 0,
    online: bool = False,
    mask: ArrayLike | None = None,
    validate_args: bool = True,
) -> Detections:
    """madmom-compatible peak picking (``madmom.features.onsets.peak_picking`` followed by the
    ``combine``/``delay`` steps of ``OnsetPeakPickingProcessor``), with all lengths in frames.

    With ``p`` zero-padded beyond both ends (and 0 at masked steps):

    1. moving mean ``a_t = sum_{s=t-pre_avg}^{t+post_avg} p_s / (pre_avg + post_avg + 1)``
       (the padding zeros count; ``a = 0`` when ``pre_avg = post_avg = 0``), as
       ``scipy.ndimage.uniform_filter(p, pre_avg + post_avg + 1, mode='constant',
       origin=floor((pre_avg - post_avg) / 2))`` in madmom;
    2. detection function ``d_t = p_t if p_t >= a_t + threshold else 0`` (non-strict ``>=``,
       as madmom; note :func:`threshold_events` is strict);
    3. ``t`` is a peak when ``d_t > 0`` and ``d_t = max_{s=t-pre_max}^{t+post_max} d_s`` (the
       moving maximum of the *detection function*, zero-padded; skipped when
       ``pre_max = post_max = 0``). Every frame of a plateau is a peak, as in madmom;
    4. ``delay`` frames are added to every peak;
    5. ``combine``: left to right, a peak is dropped when it lies ``<= combine`` frames after
       the last *kept* peak (madmom's ``combine_events(..., 'left')``); ``combine = 0`` keeps
       all peaks.

    madmom's processor takes seconds: pass ``round(seconds * fps)`` frames. Its ``smooth``
    option is not offered (smooth the probabilities beforehand).

    Parameters
    ----------
    probabilities:
        ``(N, C, T)``, ``(C, T)`` or ``(T,)`` floats in [0, 1], tensor (any device) or array.
    threshold:
        In [0, 1]; added to the moving mean (an absolute threshold when there is no averaging).
    pre_max, post_max:
        Frames before / after ``t`` of the moving maximum (``post_max`` defaults to 1 offline
        and 0 online; ``pre_max = post_max = 1`` picks local maxima).
    pre_avg, post_avg:
        Frames before / after ``t`` of the moving mean (``post_avg`` defaults to 0).
    combine:
        Minimum distance in frames between reported peaks, measured against the last kept one.
    delay:
        Frames added to every reported peak (any integer; ``>= 0`` when ``online``).
    online:
        Decide about frame ``t`` from frames ``<= t`` only: requires ``post_max = post_avg = 0``
        (the defaults then), as madmom's online mode. madmom's online processor keeps a buffer
        of only ``pre_max + 1`` frames; here the moving mean always sees its ``pre_avg`` frames.
    mask:
        Optional boolean ``(N, T)``, True on valid steps.

    Returns
    -------
    Detections
        Frames of the peaks (shifted by ``delay``); scores are ``p`` at the undelayed peaks.

    Examples
    --------
    >>> import numpy as np
    >>> p = np.array([0.0, 0.6, 0.2, 0.7, 0.7, 0.1, 0.0, 0.9, 0.0])
    >>> peak_picking(p, 0.5).frames[0][0].tolist()
    [1, 3, 4, 7]
    >>> peak_picking(p, 0.5, combine=2).frames[0][0].tolist()
    [1, 4, 7]
    >>> peak_picking(p, 0.5, pre_max=1, online=True).frames[0][0].tolist()
    [1, 3, 4, 7]
    """
    threshold = _check_threshold(threshold)
    online = _check_flag(online, "online")
    pre_max = _check_frames(pre_max, "pre_max")
    pre_avg = _check_frames(pre_avg, "pre_avg")
    combine = _check_frames(combine, "combine")
    delay = _check_frames(delay, "delay", minimum=0 if online else None)
    if post_max is None:
        post_max = 0 if online else 1
    if post_avg is None:
        post_avg = 0
    post_max = _check_frames(post_max, "post_max")
    post_avg = _check_frames(post_avg, "post_avg")
    if online and post_max:
        raise ValueError(f"post_max must be 0 when online=True (causal), got {post_max}")
    if online and post_avg:
        raise ValueError(f"post_avg must be 0 when online=True (causal), got {post_avg}")

    probs, _ = _prepare(probabilities, mask, validate_args)
    n, c, t = probs.shape
    flat = probs.reshape(n * c, 1, t)
    if pre_avg + post_avg > 0:
        # float64 mean: ties with the threshold are decided as exactly as the data allow.
        padded = F.pad(flat.double(), (min(pre_avg, t), min(post_avg, t)))
        # Window sums over [t - pre_avg, t + post_avg]; frames beyond T add only zeros.
        length = pre_avg + post_avg + 1
        window = min(pre_avg, t) + min(post_avg, t) + 1
        mean = F.avg_pool1d(padded, window, stride=1) * (window / length)
        detection = torch.where(flat.double() >= mean + threshold, flat, torch.zeros_like(flat))
    else:
        detection = torch.where(_above(flat, threshold, strict=False), flat,
                                torch.zeros_like(flat))
    peaks = detection > 0
    if pre_max + post_max > 0:
        lo, hi = min(pre_max, t), min(post_max, t)
        moving_max = F.max_pool1d(F.pad(detection, (lo, hi)), lo + hi + 1, stride=1)
        peaks &= detection == moving_max
    peaks = peaks.reshape(n, c, t)
    rule = {"method": "peak_picking", "threshold": threshold, "pre_max": pre_max,
            "post_max": post_max, "pre_avg": pre_avg, "post_avg": post_avg, "combine": combine,
            "delay": delay, "online": online}
    detections = _collect(peaks, probs, rule)
    if not combine and not delay:
        return detections
    frames, scores = [], []
    for frame_row, score_row in zip(detections.frames, detections.scores):
        frames.append([])
        scores.append([])
        for f, s in zip(frame_row, score_row):
            keep = _combine_left(f, combine)
            frames[-1].append(f[keep] + delay)
            scores[-1].append(s[keep])
    return Detections(frames=frames, scores=scores, num_frames=t, rule=rule)


def _combine_left(frames: np.ndarray, combine: int) -> np.ndarray:
    """Indices kept when each frame ``<= combine`` after the last kept one is dropped."""
    if frames.size < 2 or combine == 0 or np.all(np.diff(frames) > combine):
        return np.arange(frames.size)
    keep = [0]
    last = frames[0]
    for i in range(1, frames.size):
        if frames[i] - last > combine:
            keep.append(i)
            last = frames[i]
    return np.asarray(keep, dtype=np.int64)


def non_maximum_suppression(
    probabilities: ArrayLike,
    threshold: float,
    *,
    window: int,
    mask: ArrayLike | None = None,
    validate_args: bool = True,
) -> Detections:
    """Greedy non-maximum suppression with a window (piano/drum post-processing).

    Per sequence and class: among the remaining frames with ``p_t > threshold`` (strict), take
    the one with the highest probability (ties: the earliest frame), report it, and remove every
    frame ``s`` with ``|s - t| <= window`` from the remaining ones; repeat until none remains.
    Reported events are therefore more than ``window`` frames apart. ``window = 0`` reports every
    frame above the threshold.

    Computed in rounds without a loop over time: every remaining frame that outranks all
    remaining frames within ``+-window`` is reported by the greedy order, so a round reports all
    of them at once and suppresses their windows (the result is the greedy one exactly; the
    number of rounds is at most the number of events per row, usually far fewer).

    Parameters
    ----------
    probabilities:
        ``(N, C, T)``, ``(C, T)`` or ``(T,)`` floats in [0, 1], tensor (any device) or array.
    threshold:
        In [0, 1].
    window:
        Suppression half-width in frames, ``>= 0``.
    mask:
        Optional boolean ``(N, T)``, True on valid steps.

    Examples
    --------
    >>> import numpy as np
    >>> p = np.array([0.1, 0.5, 0.9, 0.6, 0.1, 0.7, 0.0, 0.8])
    >>> non_maximum_suppression(p, 0.3, window=1).frames[0][0].tolist()
    [2, 5, 7]
    >>> non_maximum_suppression(p, 0.3, window=2).frames[0][0].tolist()  # 7 (0.8) suppresses 5
    [2, 7]
    """
    threshold = _check_threshold(threshold)
    window = _check_frames(window, "window")
    probs, _ = _prepare(probabilities, mask, validate_args)
    n, c, t = probs.shape
    flat = probs.reshape(n * c, t)
    remaining = _above(flat, threshold, strict=True)
    # Priority as an integer rank: highest probability first, ties broken by the earlier frame
    # (stable sort). key = T - rank > 0 on candidates, 0 elsewhere.
    order = torch.sort(flat, dim=-1, descending=True, stable=True).indices
    rank = torch.empty_like(order)
    rank.scatter_(-1, order, torch.arange(t, device=flat.device).expand(n * c, t))
    # float32 holds every integer up to 2**24 exactly; wider rows need float64.
    key_dtype = torch.float32 if t < 2**24 else torch.float64
    priority = (t - rank).to(key_dtype).unsqueeze(1)
    half = min(window, t)
    size = 2 * half + 1
    selected = torch.zeros_like(remaining)
    while bool(remaining.any()):
        key = torch.where(remaining.unsqueeze(1), priority, torch.zeros_like(priority))
        local_best = F.max_pool1d(F.pad(key, (half, half)), size, stride=1)
        chosen = remaining & (key == local_best).squeeze(1)
        selected |= chosen
        covered = F.max_pool1d(
            F.pad(chosen.unsqueeze(1).to(torch.float32), (half, half)), size, stride=1
        ).squeeze(1) > 0
        remaining &= ~covered
    rule = {"method": "nms", "threshold": threshold, "window": window}
    return _collect(selected.reshape(n, c, t), probs, rule)


def argmax_events(
    probabilities: ArrayLike,
    *,
    mask: ArrayLike | None = None,
    validate_args: bool = True,
) -> Detections:
    """One event per sequence and class at the most probable valid frame (golf experiment).

    ``f = argmax_t p_t`` over valid steps; ties go to the first (earliest) frame. Every
    sequence needs at least one valid step.

    Examples
    --------
    >>> import numpy as np
    >>> p = np.array([[0.1, 0.7, 0.7, 0.2], [0.9, 0.1, 0.3, 0.95]])
    >>> argmax_events(p).frame_lists()
    [[array([1]), array([3])]]
    """
    probs, valid = _prepare(probabilities, mask, validate_args)
    n, c, t = probs.shape
    if valid is not None:
        empty = ~valid.any(dim=1)
        if bool(empty.any()):
            rows = torch.nonzero(empty).flatten().tolist()[:5]
            raise ValueError(
                f"mask must have at least one valid step per sequence for argmax; rows {rows} "
                "have none"
            )
        values = torch.where(valid.unsqueeze(1), probs,
                             torch.full((), -torch.inf, dtype=probs.dtype, device=probs.device))
    else:
        values = probs
    best = values.max(dim=-1, keepdim=True).values
    positions = torch.arange(t, device=probs.device).expand(n, c, t)
    first = torch.where(values == best, positions, torch.full_like(positions, t)).min(dim=-1)
    events = torch.zeros((n, c, t), dtype=torch.bool, device=probs.device)
    events.scatter_(-1, first.values.unsqueeze(-1), True)
    return _collect(events, probs, {"method": "argmax"})


DECODERS = {
    "threshold": threshold_events,
    "peak_picking": peak_picking,
    "nms": non_maximum_suppression,
    "argmax": argmax_events,
}
"""Decoder functions by the ``method`` name they record in :attr:`Detections.rule`."""


def decode(
    probabilities: ArrayLike, method: str, *, mask: ArrayLike | None = None, **parameters
) -> Detections:
    """Decode with the decoder named ``method`` (a key of :data:`DECODERS`).

    ``decode(p, d.rule['method'], **params)`` reproduces a rule read from a configuration; the
    parameters are those of the named function.

    Examples
    --------
    >>> import numpy as np
    >>> p = np.array([0.1, 0.9, 0.2, 0.8])
    >>> decode(p, "nms", threshold=0.5, window=2).frames[0][0].tolist()
    [1]
    """
    if not isinstance(method, str):
        raise TypeError(f"method must be a str, got {type(method).__name__}")
    if method not in DECODERS:
        raise ValueError(f"method must be one of {tuple(DECODERS)}, got {method!r}")
    return DECODERS[method](probabilities, mask=mask, **parameters)
