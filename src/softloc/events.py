"""Event times and frames: the time base that links them, and conversions both ways.

Conventions
-----------
* Event times are in seconds, float64. The public representation of the events of one sequence
  is an **event list**: a sequence of ``C`` one-dimensional arrays, one per event class, each
  holding that class's event times in seconds, sorted ascending (mir_eval's convention for one
  class, repeated per class). ``[np.array([0.5, 1.2]), np.array([])]`` is two classes, the second
  without events. A flat array of times with a parallel array of class indices converts to and
  from an event list with :func:`group_events` and :func:`flatten_events`.
* Every function that takes an event list **raises** ``ValueError`` on unsorted times (naming
  the class); it never sorts silently. :func:`group_events` is the one place that sorts, since a
  flat list of (time, class) pairs has no order per class.
* A :class:`TimeBase` has a frame rate ``fps`` (frames per second) and an ``offset`` (seconds):
  frame ``f`` stands for the time ``offset + f / fps``, and an event at time ``t`` falls in the
  nearest frame, ``f = floor((t - offset) * fps + 1/2)`` (ties go to the later frame; unlike
  ``numpy.round`` there is no rounding to even, so equal inputs always give equal frames).
  With ``offset = 0`` this is madmom's ``quantize_events``; a feature frame whose analysis
  window is centred on ``f / fps`` has that convention.
* Converting frames to times and back is exact: ``frames_of(times_of(f)) == f``.
* Frame labels of one sequence are an array ``(C, T)`` holding the **number of events** of each
  class in each frame (normally 0 or 1), the targets the losses in :mod:`softloc.losses` expect.
  A batch is a tensor ``(N, C, T)`` padded at the end of time, with a boolean ``mask`` ``(N, T)``,
  True on valid steps.
* Events that fall on the same frame of the same class (a *collision*) follow an explicit
  policy, ``collisions``: ``'count'`` (the frame holds the number of events, as the counting loss
  wants; nothing is lost), ``'merge'`` (the frame holds 1; the events beyond the first are
  counted as merged in the report) or ``'error'`` (raise ``ValueError``).
* Events whose frame falls outside ``[0, T)`` follow the policy ``outside``: ``'error'`` (the
  default: raise ``ValueError``) or ``'drop'`` (leave them out and count them in the report).
* Frames back to times: a frame holding ``k`` events gives ``k`` equal times (its time
  ``offset + f / fps``), so ``frames -> times -> frames`` reproduces the labels exactly and
  ``times -> frames -> times`` moves each event by at most half a frame.

Examples
--------
>>> base = TimeBase(fps=10.0)
>>> result = events_to_frames([[0.1, 0.12, 0.5], [0.31]], time_base=base, num_frames=6)
>>> result.labels.tolist()
[[0.0, 2.0, 0.0, 0.0, 0.0, 1.0], [0.0, 0.0, 0.0, 1.0, 0.0, 0.0]]
>>> result.report.num_collisions, result.report.num_merged
(1, 0)
>>> [times.tolist() for times in frames_to_events(result.labels, time_base=base)]
[[0.1, 0.1, 0.5], [0.3]]
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import numpy as np
import torch
from torch import Tensor

from ._checks import check_choice, check_int

__all__ = [
    "COLLISION_POLICIES",
    "OUTSIDE_POLICIES",
    "FrameBatch",
    "FrameLabels",
    "FramingReport",
    "TimeBase",
    "batch_to_events",
    "events_to_batch",
    "events_to_frames",
    "flatten_events",
    "frames_to_events",
    "group_events",
    "pad_frame_labels",
]

COLLISION_POLICIES = ("count", "merge", "error")
"""What a frame holds when several events of one class fall on it (see the module docstring)."""

OUTSIDE_POLICIES = ("drop", "error")
"""What happens to events whose frame falls outside ``[0, T)``."""


@dataclass(frozen=True)
class TimeBase:
    """Frame rate (frames per second) and offset (seconds) of a frame grid.

    Examples
    --------
    >>> base = TimeBase(fps=100.0)
    >>> base.frames_of([0.0, 0.004, 0.005, 0.0151]).tolist()
    [0, 0, 1, 2]
    >>> base.times_of([0, 1, 250]).tolist()
    [0.0, 0.01, 2.5]
    """

    fps: float
    offset: float = 0.0

    def __post_init__(self) -> None:
        if isinstance(self.fps, bool) or not isinstance(self.fps, (int, float)):
            raise TypeError(f"fps must be a number (frames per second), got {type(self.fps).__name__}")
        if not (0.0 < float(self.fps) < math.inf):
            raise ValueError(f"fps must be a finite number > 0 (frames per second), got {self.fps}")
        if isinstance(self.offset, bool) or not isinstance(self.offset, (int, float)):
            raise TypeError(f"offset must be a number (seconds), got {type(self.offset).__name__}")
        if not math.isfinite(float(self.offset)):
            raise ValueError(f"offset must be finite (seconds), got {self.offset}")

    @property
    def frame_duration(self) -> float:
        """Seconds between consecutive frames, ``1 / fps``."""
        return 1.0 / self.fps

    def frames_of(self, times) -> np.ndarray:
        """Nearest frame of each time (seconds): ``floor((t - offset) * fps + 1/2)``, int64.

        Raises ``ValueError`` on NaN or infinite times. Frames may be negative or beyond a
        sequence's end; callers decide what to do with those.
        """
        values = np.asarray(times, dtype=np.float64)
        if not np.all(np.isfinite(values)):
            raise ValueError("times must be finite (seconds); found NaN or inf")
        return np.floor((values - self.offset) * self.fps + 0.5).astype(np.int64)

    def times_of(self, frames) -> np.ndarray:
        """Time (seconds) each frame stands for: ``offset + f / fps``, float64."""
        values = np.asarray(frames)
        if values.size and not np.issubdtype(values.dtype, np.integer):
            if not np.all(np.isfinite(values)) or np.any(values != np.round(values)):
                raise ValueError("frames must be whole numbers")
        return self.offset + values.astype(np.float64) / self.fps

    def num_frames(self, duration: float) -> int:
        """Frames needed to cover ``duration`` seconds from ``offset``: ``ceil(duration fps)``."""
        if not (math.isfinite(duration) and duration >= 0.0):
            raise ValueError(f"duration must be a finite number >= 0 (seconds), got {duration}")
        return int(math.ceil(duration * self.fps - 1e-9))

    def to_dict(self) -> dict:
        return asdict(self)


# ----------------------------------------------------------------------------------------------
# Validation helpers (shared with softloc.noise)
# ----------------------------------------------------------------------------------------------


def _check_time_base(time_base: TimeBase, name: str = "time_base") -> TimeBase:
    if not isinstance(time_base, TimeBase):
        raise TypeError(f"{name} must be a softloc.events.TimeBase, got {type(time_base).__name__}")
    return time_base


def _check_length(value: int, name: str) -> int:
    """A whole number of frames >= 1."""
    return check_int(value, name, 1, unit="frames")


def _as_numpy(values, name: str) -> np.ndarray:
    if isinstance(values, Tensor):
        return values.detach().cpu().numpy()
    try:
        return np.asarray(values)
    except (TypeError, ValueError) as error:
        raise TypeError(f"{name} must be array-like, got {type(values).__name__}") from error


def _check_times(values, name: str, *, sorted_: bool = True) -> np.ndarray:
    """A 1-D float64 array of finite times (seconds), sorted ascending when ``sorted_``."""
    array = _as_numpy(values, name)
    if array.dtype == object or array.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold real numbers (seconds), got dtype {array.dtype}")
    if array.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array of times (seconds), got shape {array.shape}")
    array = array.astype(np.float64)
    if not np.all(np.isfinite(array)):
        bad = int(np.flatnonzero(~np.isfinite(array))[0])
        raise ValueError(f"{name} must hold finite times; found {array[bad]} at index {bad}")
    if sorted_ and array.size > 1:
        drops = np.flatnonzero(np.diff(array) < 0)
        if drops.size:
            i = int(drops[0])
            raise ValueError(
                f"{name} must be sorted ascending; {name}[{i}] = {array[i]} > "
                f"{name}[{i + 1}] = {array[i + 1]} (sort it, or build it with group_events)"
            )
    return array


def _check_events(events, name: str = "events") -> list[np.ndarray]:
    """An event list: a non-empty sequence of C 1-D sorted finite arrays of times (seconds)."""
    sequence_like = isinstance(events, (Sequence, np.ndarray, Tensor))
    if isinstance(events, (str, bytes, dict)) or not sequence_like:
        raise TypeError(
            f"{name} must be a sequence of C 1-D arrays of times (one per class), "
            f"got {type(events).__name__}"
        )
    if isinstance(events, (np.ndarray, Tensor)) and events.ndim <= 1:
        raise ValueError(
            f"{name} must be a sequence of C 1-D arrays of times (one per class), got one 1-D "
            f"array; wrap it in a list for a single class: [{name}]"
        )
    if len(events) == 0:
        raise ValueError(f"{name} must hold at least one class (a list of C >= 1 arrays), got none")
    if all(np.ndim(times) == 0 for times in events):
        raise ValueError(
            f"{name} must be a sequence of C 1-D arrays of times (one per class), got a flat "
            f"sequence of numbers; wrap it in a list for a single class: [{name}]"
        )
    return [_check_times(times, f"{name}[{c}]") for c, times in enumerate(events)]


def _as_counts(labels, name: str, dims: tuple[int, ...]) -> np.ndarray:
    """Frame labels (numpy or torch) as an int64 numpy array of whole event counts >= 0."""
    array = _as_numpy(labels, name)
    if array.ndim not in dims:
        layouts = {2: "(C, T)", 3: "(N, C, T)"}
        expected = " or ".join(layouts[d] for d in dims)
        raise ValueError(f"{name} must have shape {expected}, got {array.shape}")
    if array.dtype == object or array.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold event counts (numbers), got dtype {array.dtype}")
    if 0 in array.shape:
        raise ValueError(f"{name} must not be empty, got shape {array.shape}")
    if array.dtype.kind == "f":
        if not np.all(np.isfinite(array)):
            raise ValueError(f"{name} must be finite; found NaN or inf")
        if np.any(array != np.round(array)):
            raise ValueError(
                f"{name} must hold whole event counts per frame; found non-integer values"
            )
    if np.any(array < 0):
        raise ValueError(f"{name} must hold event counts >= 0; found negative values")
    return array.astype(np.int64)


def _check_mask(mask, n: int, t: int, name: str = "mask") -> np.ndarray:
    """Boolean (N, T) mask, True on valid steps; padding must follow the valid steps."""
    array = _as_numpy(mask, name)
    if array.dtype != np.bool_:
        raise TypeError(f"{name} must be boolean (True on valid steps), got dtype {array.dtype}")
    if array.shape != (n, t):
        raise ValueError(f"{name} must have shape (N, T) = {(n, t)}, got {array.shape}")
    lengths = array.sum(axis=1)
    if np.any(lengths == 0):
        rows = np.flatnonzero(lengths == 0)[:5].tolist()
        raise ValueError(
            f"{name} must have at least one valid step per sequence; rows {rows} have none"
        )
    prefix = np.arange(t)[None, :] < lengths[:, None]
    if np.any(array != prefix):
        rows = np.flatnonzero(np.any(array != prefix, axis=1))[:5].tolist()
        raise ValueError(
            f"{name} must mark a prefix of each sequence (valid steps first, padding at the end); "
            f"rows {rows} do not"
        )
    return array


# ----------------------------------------------------------------------------------------------
# Results
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FramingReport:
    """What happened to the events when they were put on frames.

    Attributes
    ----------
    num_events:
        Events given.
    num_outside:
        Events whose frame fell outside ``[0, T)`` and were dropped (``outside='drop'``).
    num_collisions:
        Events that fell on a frame already holding an event of their class: the sum over
        frames of ``max(k - 1, 0)`` for ``k`` events in the frame, whatever the policy.
    num_merged:
        Events removed by ``collisions='merge'`` (equal to ``num_collisions`` then, else 0).

    Examples
    --------
    Two events on frame 1 (a collision, counted) and one past the last frame (dropped):

    >>> from softloc.events import TimeBase, events_to_frames
    >>> out = events_to_frames([[0.1, 0.12, 0.5], [0.9]], time_base=TimeBase(fps=10.0),
    ...                        num_frames=6, outside="drop")
    >>> report = out.report
    >>> report.num_events, report.num_collisions, report.num_outside, report.num_placed
    (4, 1, 1, 3)
    >>> FramingReport.total([report, report]).num_lost
    2
    >>> report.to_dict()["num_lost"]
    1
    """

    num_events: int
    num_outside: int
    num_collisions: int
    num_merged: int

    @property
    def num_placed(self) -> int:
        """Events the labels hold: ``num_events - num_outside - num_merged`` (their sum)."""
        return self.num_events - self.num_outside - self.num_merged

    @property
    def num_lost(self) -> int:
        """Events missing from the labels: ``num_outside + num_merged``."""
        return self.num_outside + self.num_merged

    @classmethod
    def total(cls, reports: Sequence["FramingReport"]) -> "FramingReport":
        """The sum of several reports (e.g. over the sequences of a batch)."""
        return cls(
            num_events=sum(r.num_events for r in reports),
            num_outside=sum(r.num_outside for r in reports),
            num_collisions=sum(r.num_collisions for r in reports),
            num_merged=sum(r.num_merged for r in reports),
        )

    def to_dict(self) -> dict:
        return {**asdict(self), "num_placed": self.num_placed, "num_lost": self.num_lost}


@dataclass(frozen=True, eq=False)
class FrameLabels:
    """Frame labels of one sequence and the report of how they were made.

    ``labels`` is a numpy array ``(C, T)`` of event counts per frame; ``report`` is the
    :class:`FramingReport` of the events placed. :func:`events_to_frames` returns one.

    Examples
    --------
    >>> from softloc.events import TimeBase, events_to_frames
    >>> out = events_to_frames([[0.1, 0.12, 0.5], []], time_base=TimeBase(fps=10.0),
    ...                        num_frames=6)
    >>> out.labels.shape, out.labels[0].tolist()
    ((2, 6), [0.0, 2.0, 0.0, 0.0, 0.0, 1.0])
    >>> out.to_dict()["report"]["num_collisions"]
    1
    """

    labels: np.ndarray
    report: FramingReport

    def to_dict(self) -> dict:
        return {"shape": list(self.labels.shape), "report": self.report.to_dict()}


@dataclass(frozen=True, eq=False)
class FrameBatch:
    """A padded batch of frame labels, as the losses in :mod:`softloc.losses` take them.

    Attributes
    ----------
    labels:
        ``(N, C, T)`` tensor of event counts per frame, ``T = max(lengths)``; zero on padding.
    mask:
        ``(N, T)`` boolean tensor, True on the valid steps (a prefix of each row).
    lengths:
        ``(N,)`` int64 tensor, valid steps per sequence.
    report:
        Totals over the batch (:meth:`FramingReport.total` of ``reports``), or ``None`` when the
        batch was padded from frame labels (:func:`pad_frame_labels`) and no events were placed.
    reports:
        One report per sequence (empty when ``report`` is ``None``).

    Examples
    --------
    :func:`events_to_batch` returns one; its fields go straight to a loss:

    >>> import torch
    >>> from softloc.events import TimeBase, events_to_batch
    >>> from softloc.losses import softloc_loss
    >>> batch = events_to_batch([[[0.1]], [[0.0, 0.3, 0.31]]], time_base=TimeBase(fps=10.0),
    ...                         num_frames=[2, 5])
    >>> tuple(batch.labels.shape), tuple(batch.mask.shape), batch.lengths.tolist()
    ((2, 1, 5), (2, 5), [2, 5])
    >>> batch.report.num_events, [r.num_collisions for r in batch.reports]
    (4, [0, 1])
    >>> batch.labels[1, 0].tolist()
    [1.0, 0.0, 0.0, 2.0, 0.0]
    >>> softloc_loss(torch.zeros(2, 1, 5), batch.labels, softness=1.0, alpha=0.5,
    ...              mask=batch.mask, reduction="none").shape
    torch.Size([2, 1])
    """

    labels: Tensor
    mask: Tensor
    lengths: Tensor
    report: FramingReport | None = None
    reports: tuple[FramingReport, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict:
        return {
            "shape": list(self.labels.shape),
            "lengths": self.lengths.tolist(),
            "report": None if self.report is None else self.report.to_dict(),
        }


# ----------------------------------------------------------------------------------------------
# Placing events on frames
# ----------------------------------------------------------------------------------------------


def _place(
    flat_index: np.ndarray, size: int, collisions: str, what: str = "events"
) -> tuple[np.ndarray, int, int]:
    """Counts per cell of flat indices in ``[0, size)``, the collision count and merges.

    Returns ``(counts, num_collisions, num_merged)`` with ``counts`` int64 ``(size,)``.
    """
    counts = np.bincount(flat_index, minlength=size).astype(np.int64)
    num_collisions = int(flat_index.size - np.count_nonzero(counts))
    if collisions == "error" and num_collisions:
        first = int(np.flatnonzero(counts > 1)[0])
        raise ValueError(
            f"collisions='error' and {num_collisions} {what} fall on a frame that already holds "
            f"an event of their class (first at flat index {first}); use collisions='count' to "
            "keep them as counts or 'merge' to clip each frame to 1"
        )
    if collisions == "merge":
        np.minimum(counts, 1, out=counts)
        return counts, num_collisions, num_collisions
    return counts, num_collisions, 0


def _frame_events(
    events: list[np.ndarray],
    time_base: TimeBase,
    num_frames: int,
    collisions: str,
    outside: str,
    name: str,
) -> tuple[np.ndarray, FramingReport]:
    """Validated event list -> int64 counts (C, T) and the report."""
    num_classes = len(events)
    frames = [time_base.frames_of(times) for times in events]
    classes = np.concatenate([np.full(f.size, c, dtype=np.int64) for c, f in enumerate(frames)])
    frames = np.concatenate(frames)
    inside = (frames >= 0) & (frames < num_frames)
    num_outside = int(frames.size - np.count_nonzero(inside))
    if num_outside and outside == "error":
        first = int(np.flatnonzero(~inside)[0])
        raise ValueError(
            f"{num_outside} events of {name} fall outside the frames [0, {num_frames}) "
            f"(first: class {classes[first]}, frame {frames[first]}); pass outside='drop' to "
            "leave them out (they are counted in the report)"
        )
    flat = classes[inside] * num_frames + frames[inside]
    counts, num_collisions, num_merged = _place(flat, num_classes * num_frames, collisions)
    report = FramingReport(
        num_events=int(frames.size),
        num_outside=num_outside,
        num_collisions=num_collisions,
        num_merged=num_merged,
    )
    return counts.reshape(num_classes, num_frames), report


def events_to_frames(
    events: Sequence[np.ndarray],
    *,
    time_base: TimeBase,
    num_frames: int,
    collisions: str = "count",
    outside: str = "error",
    dtype: np.dtype | type = np.float32,
) -> FrameLabels:
    """Frame labels ``(C, T)`` of an event list: the number of events of each class per frame.

    Parameters
    ----------
    events:
        Event list: ``C`` 1-D arrays of times in seconds, one per class, each sorted ascending
        (``ValueError`` otherwise). Lists of floats and CPU tensors are accepted.
    time_base:
        Frame rate and offset; an event at ``t`` lands in ``time_base.frames_of(t)``.
    num_frames:
        ``T >= 1``, the number of frames of the sequence.
    collisions:
        ``'count'`` (default; a frame holds its number of events), ``'merge'`` (a frame holds at
        most 1; the extra events are counted in ``report.num_merged``) or ``'error'``.
    outside:
        ``'error'`` (default) raises if an event's frame lies outside ``[0, T)``; ``'drop'``
        leaves such events out and counts them in ``report.num_outside``.
    dtype:
        numpy dtype of the labels (``float32`` by default, as loss targets are).

    Returns
    -------
    FrameLabels
        ``labels`` ``(C, T)`` numpy array and ``report`` (:class:`FramingReport`).

    Examples
    --------
    >>> base = TimeBase(fps=100.0)
    >>> out = events_to_frames([[0.0, 0.001, 0.03, 0.2]], time_base=base, num_frames=5,
    ...                        collisions="merge", outside="drop")
    >>> out.labels.tolist(), out.report.num_merged, out.report.num_outside
    ([[1.0, 0.0, 0.0, 1.0, 0.0]], 1, 1)
    """
    time_base = _check_time_base(time_base)
    num_frames = _check_length(num_frames, "num_frames")
    collisions = check_choice(collisions, "collisions", COLLISION_POLICIES)
    outside = check_choice(outside, "outside", OUTSIDE_POLICIES)
    checked = _check_events(events, "events")
    counts, report = _frame_events(checked, time_base, num_frames, collisions, outside, "events")
    return FrameLabels(labels=counts.astype(dtype), report=report)


def frames_to_events(labels, *, time_base: TimeBase) -> list[np.ndarray]:
    """Event list of frame labels ``(C, T)``: a frame holding ``k`` events gives ``k`` times.

    Parameters
    ----------
    labels:
        numpy array or tensor ``(C, T)`` of whole event counts >= 0 (bool, int or float).
    time_base:
        Frame ``f`` stands for the time ``time_base.offset + f / time_base.fps``.

    Returns
    -------
    list of np.ndarray
        ``C`` float64 arrays of times in seconds, sorted ascending.

    Examples
    --------
    >>> frames_to_events([[0, 2, 0, 1]], time_base=TimeBase(fps=4.0))[0].tolist()
    [0.25, 0.25, 0.75]
    """
    time_base = _check_time_base(time_base)
    counts = _as_counts(labels, "labels", (2,))
    return _counts_to_events(counts, time_base)


def _counts_to_events(counts: np.ndarray, time_base: TimeBase) -> list[np.ndarray]:
    frames = np.arange(counts.shape[-1])
    return [time_base.times_of(np.repeat(frames, row)) for row in counts]


def events_to_batch(
    batch_events: Sequence[Sequence[np.ndarray]],
    *,
    time_base: TimeBase,
    num_frames: int | Sequence[int],
    collisions: str = "count",
    outside: str = "error",
    dtype: torch.dtype = torch.float32,
    device: torch.device | str | None = None,
) -> FrameBatch:
    """Padded frame labels ``(N, C, T)`` and mask ``(N, T)`` of ``N`` event lists.

    Parameters
    ----------
    batch_events:
        ``N >= 1`` event lists (see :func:`events_to_frames`), all with the same ``C``.
    time_base:
        Shared by every sequence; each sequence starts at its own frame 0.
    num_frames:
        Length of each sequence in frames: one int for all, or ``N`` ints. The batch is padded
        at the end to ``T = max(num_frames)``.
    collisions, outside:
        As in :func:`events_to_frames`; ``outside`` refers to each sequence's own length.
    dtype, device:
        Of the labels tensor; the mask is ``torch.bool`` and the lengths ``torch.int64``.

    Returns
    -------
    FrameBatch
        ``labels`` ``(N, C, T)`` (zero on padding), ``mask`` ``(N, T)`` True on valid steps,
        ``lengths`` ``(N,)``, ``report`` (totals) and ``reports`` (one per sequence).

    Examples
    --------
    >>> batch = events_to_batch([[[0.1]], [[0.0, 0.3]]], time_base=TimeBase(fps=10.0),
    ...                         num_frames=[2, 4])
    >>> batch.labels[:, 0].tolist()
    [[0.0, 1.0, 0.0, 0.0], [1.0, 0.0, 0.0, 1.0]]
    >>> batch.mask.tolist()
    [[True, True, False, False], [True, True, True, True]]
    """
    time_base = _check_time_base(time_base)
    collisions = check_choice(collisions, "collisions", COLLISION_POLICIES)
    outside = check_choice(outside, "outside", OUTSIDE_POLICIES)
    if isinstance(batch_events, (str, bytes, dict)) or not isinstance(batch_events, Sequence):
        raise TypeError(
            f"batch_events must be a sequence of N event lists, got {type(batch_events).__name__}"
        )
    if len(batch_events) == 0:
        raise ValueError("batch_events must hold at least one event list, got none")
    n = len(batch_events)
    lengths = _check_lengths(num_frames, n)
    checked = [_check_events(events, f"batch_events[{i}]") for i, events in enumerate(batch_events)]
    num_classes = len(checked[0])
    for i, events in enumerate(checked):
        if len(events) != num_classes:
            raise ValueError(
                f"batch_events[{i}] has {len(events)} classes, batch_events[0] has {num_classes}; "
                "every sequence needs the same number of classes"
            )
    width = max(lengths)
    labels = np.zeros((n, num_classes, width), dtype=np.int64)
    reports = []
    for i, events in enumerate(checked):
        counts, report = _frame_events(
            events, time_base, lengths[i], collisions, outside, f"batch_events[{i}]"
        )
        labels[i, :, : lengths[i]] = counts
        reports.append(report)
    return _batch(labels, lengths, dtype, device, FramingReport.total(reports), tuple(reports))


def _check_lengths(num_frames: int | Sequence[int], n: int) -> list[int]:
    if isinstance(num_frames, (int, np.integer)) and not isinstance(num_frames, (bool, np.bool_)):
        return [_check_length(num_frames, "num_frames")] * n
    if isinstance(num_frames, Tensor):
        num_frames = num_frames.tolist()
    if not isinstance(num_frames, (Sequence, np.ndarray)):
        raise TypeError(
            f"num_frames must be an int or a sequence of N ints, got {type(num_frames).__name__}"
        )
    if len(num_frames) != n:
        raise ValueError(
            f"num_frames must hold one length per sequence (N = {n}), got {len(num_frames)}"
        )
    return [_check_length(value, f"num_frames[{i}]") for i, value in enumerate(num_frames)]


def _batch(
    labels: np.ndarray,
    lengths: list[int],
    dtype: torch.dtype,
    device: torch.device | str | None,
    report: FramingReport | None,
    reports: tuple[FramingReport, ...],
) -> FrameBatch:
    length_tensor = torch.tensor(lengths, dtype=torch.int64, device=device)
    mask = torch.arange(labels.shape[-1], device=device)[None, :] < length_tensor[:, None]
    tensor = torch.from_numpy(labels).to(device=device, dtype=dtype)
    return FrameBatch(
        labels=tensor, mask=mask, lengths=length_tensor, report=report, reports=reports
    )


def pad_frame_labels(
    labels: Sequence,
    *,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str | None = None,
) -> FrameBatch:
    """Pad ``N`` frame labels ``(C, T_i)`` at the end of time into a batch ``(N, C, max T_i)``.

    Parameters
    ----------
    labels:
        ``N >= 1`` numpy arrays or tensors ``(C, T_i)`` of whole event counts >= 0, same ``C``.
    dtype, device:
        Of the padded labels tensor.

    Returns
    -------
    FrameBatch
        ``labels``, ``mask`` (True on the ``T_i`` valid steps of row ``i``) and ``lengths``;
        ``report`` is ``None`` (no events were placed).

    Examples
    --------
    >>> batch = pad_frame_labels([np.ones((2, 3)), np.zeros((2, 1))])
    >>> tuple(batch.labels.shape), batch.lengths.tolist()
    ((2, 2, 3), [3, 1])
    """
    if isinstance(labels, (np.ndarray, Tensor)) or not isinstance(labels, Sequence):
        raise TypeError(
            f"labels must be a sequence of N (C, T_i) arrays, got {type(labels).__name__}"
        )
    if len(labels) == 0:
        raise ValueError("labels must hold at least one sequence, got none")
    counts = [_as_counts(item, f"labels[{i}]", (2,)) for i, item in enumerate(labels)]
    num_classes = counts[0].shape[0]
    for i, item in enumerate(counts):
        if item.shape[0] != num_classes:
            raise ValueError(
                f"labels[{i}] has {item.shape[0]} classes, labels[0] has {num_classes}; "
                "every sequence needs the same number of classes"
            )
    lengths = [item.shape[1] for item in counts]
    padded = np.zeros((len(counts), num_classes, max(lengths)), dtype=np.int64)
    for i, item in enumerate(counts):
        padded[i, :, : lengths[i]] = item
    return _batch(padded, lengths, dtype, device, None, ())


def batch_to_events(labels, *, time_base: TimeBase, mask=None) -> list[list[np.ndarray]]:
    """Event lists of a padded batch ``(N, C, T)``: :func:`frames_to_events` per sequence.

    Parameters
    ----------
    labels:
        Tensor or numpy array ``(N, C, T)`` of whole event counts >= 0.
    time_base:
        Shared by every sequence; each sequence starts at its own frame 0.
    mask:
        Optional boolean ``(N, T)``, True on valid steps (a prefix of each row). Padded steps
        must hold no events (``ValueError`` otherwise: nothing is dropped silently).

    Returns
    -------
    list of list of np.ndarray
        ``N`` event lists of ``C`` sorted float64 arrays of times in seconds.

    Examples
    --------
    >>> batch = events_to_batch([[[0.1]], [[0.0, 0.3]]], time_base=TimeBase(fps=10.0),
    ...                         num_frames=[2, 4])
    >>> out = batch_to_events(batch.labels, time_base=TimeBase(fps=10.0), mask=batch.mask)
    >>> [[times.tolist() for times in events] for events in out]
    [[[0.1]], [[0.0, 0.3]]]
    """
    time_base = _check_time_base(time_base)
    counts = _as_counts(labels, "labels", (3,))
    if mask is not None:
        valid = _check_mask(mask, counts.shape[0], counts.shape[2])
        padded_events = counts * ~valid[:, None, :]
        if np.any(padded_events):
            rows = np.flatnonzero(padded_events.any(axis=(1, 2)))[:5].tolist()
            raise ValueError(f"labels hold events on padded steps (mask False) in rows {rows}")
    return [_counts_to_events(row, time_base) for row in counts]


# ----------------------------------------------------------------------------------------------
# Flat (time, class) pairs
# ----------------------------------------------------------------------------------------------


def group_events(times, classes, *, num_classes: int) -> list[np.ndarray]:
    """Event list of flat arrays of times (seconds) and class indices; sorts within each class.

    Parameters
    ----------
    times:
        1-D array of finite times in seconds, any order.
    classes:
        1-D array of integer class indices in ``[0, num_classes)``, one per time.
    num_classes:
        ``C >= 1``; classes without events get empty arrays.

    Returns
    -------
    list of np.ndarray
        ``C`` float64 arrays, each sorted ascending.

    Examples
    --------
    >>> [t.tolist() for t in group_events([0.5, 0.1, 0.3], [1, 1, 0], num_classes=3)]
    [[0.3], [0.1, 0.5], []]
    """
    if isinstance(num_classes, (bool, np.bool_)) or not isinstance(num_classes, (int, np.integer)):
        raise TypeError(f"num_classes must be an int, got {type(num_classes).__name__}")
    if num_classes < 1:
        raise ValueError(f"num_classes must be >= 1, got {num_classes}")
    times = _check_times(times, "times", sorted_=False)
    index = _as_numpy(classes, "classes")
    if index.ndim != 1:
        raise ValueError(f"classes must be a 1-D array of class indices, got shape {index.shape}")
    if index.size and index.dtype.kind not in "iu":
        whole = index.dtype.kind == "f" and np.all(np.isfinite(index))
        if not (whole and np.all(index == np.round(index))):
            raise TypeError(f"classes must hold integer class indices, got dtype {index.dtype}")
    index = index.astype(np.int64)
    if index.shape != times.shape:
        raise ValueError(
            f"classes must have one index per time: times has {times.size}, classes {index.size}"
        )
    if np.any(index < 0):
        bad = int(np.flatnonzero(index < 0)[0])
        raise ValueError(f"classes must be >= 0; found {index[bad]} at index {bad}")
    if np.any(index >= num_classes):
        bad = int(np.flatnonzero(index >= num_classes)[0])
        raise ValueError(
            f"classes must be < num_classes = {num_classes}; found {index[bad]} at index {bad}"
        )
    return [np.sort(times[index == c], kind="stable") for c in range(num_classes)]


def flatten_events(events: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Flat ``(times, classes)`` of an event list, ordered by time then class.

    Returns a float64 array of times (seconds) and an int64 array of class indices.

    Examples
    --------
    >>> times, classes = flatten_events([[0.3], [0.1, 0.5]])
    >>> times.tolist(), classes.tolist()
    ([0.1, 0.3, 0.5], [1, 0, 1])
    """
    checked = _check_events(events, "events")
    times = np.concatenate(checked)
    classes = np.concatenate([np.full(t.size, c, dtype=np.int64) for c, t in enumerate(checked)])
    order = np.lexsort((classes, times))
    return times[order], classes[order]
