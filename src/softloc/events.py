"""Event times and frames: the time base that links them.

Conventions
-----------
* Event times are in seconds, float64, per class; frames are integer indices along time.
* A :class:`TimeBase` has a frame rate ``fps`` (frames per second) and an ``offset`` (seconds):
  frame ``f`` stands for the time ``offset + f / fps``, and an event at time ``t`` falls in the
  nearest frame, ``f = floor((t - offset) * fps + 1/2)`` (ties go to the later frame; unlike
  ``numpy.round`` there is no rounding to even, so equal inputs always give equal frames).
  With ``offset = 0`` this is madmom's ``quantize_events``; a feature frame whose analysis
  window is centred on ``f / fps`` has that convention.
* Converting frames to times and back is exact: ``frames_of(times_of(f)) == f``.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

__all__ = ["TimeBase"]


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
