"""One swing clip (:class:`GolfClip`): frames, event frames, frame rate and view, rendered or
read from GolfDB."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from .swing import SwingParams, pce_tolerance

if TYPE_CHECKING:
    from .golfdb import GolfDBAnnotation


@dataclass(frozen=True)
class GolfClip:
    """One swing: a rendered one, or a GolfDB clip read by :func:`load_golfdb_clip`.

    Attributes
    ----------
    frames:
        ``(T, H, W, 3)`` uint8 RGB.
    events:
        ``(8,)`` int64 frame indices of :data:`GOLF_EVENTS` (strictly increasing for rendered
        clips; as annotated for GolfDB's).
    fps:
        Frames per second of swing time (rendered); the video's frame rate (GolfDB).
    view:
        One of :data:`GOLF_VIEWS`; GolfDB clips may also be ``'other'``.
    params:
        The rendered clip's :class:`SwingParams`; ``None`` for a clip read from disk.
    annotation:
        The :class:`GolfDBAnnotation` of a clip read from disk; ``None`` for a rendered one.

    Examples
    --------
    :func:`render_clip` returns one (as do :func:`generate_golf_dataset` and
    :func:`load_golfdb_clip`):

    >>> import numpy as np
    >>> from softloc.data.golf import SwingParams, render_clip
    >>> clip = render_clip(SwingParams(), np.random.default_rng(0), image_size=(32, 32),
    ...                    motion_blur_subframes=1)
    >>> clip.frames.shape, clip.frames.dtype, clip.fps, clip.view
    ((83, 32, 32, 3), dtype('uint8'), 30.0, 'face_on')
    >>> clip.events.tolist()  # frames of the 8 GOLF_EVENTS
    [15, 26, 29, 42, 49, 52, 55, 65]
    >>> clip.golfdb_events.tolist(), clip.tolerance  # tolerance: round((52 - 15) / 30) frames
    ([0, 15, 26, 29, 42, 49, 52, 55, 65, 82], 1)
    """

    frames: np.ndarray
    events: np.ndarray
    fps: float
    view: str
    params: SwingParams | None = field(default=None, repr=False)
    annotation: GolfDBAnnotation | None = field(default=None, repr=False)

    @property
    def golfdb_events(self) -> np.ndarray:
        """GolfDB's 10-entry layout ``[clip start, 8 events, clip end]`` (frame indices)."""
        return np.concatenate([[0], self.events, [len(self.frames) - 1]]).astype(np.int64)

    @property
    def tolerance(self) -> int:
        """PCE tolerance of this clip, frames (:func:`pce_tolerance`)."""
        return pce_tolerance(self.events)
