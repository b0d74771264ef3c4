"""The rendered data set's options (:class:`GolfConfig`) and the draw of one clip's
:class:`~softloc.data.golf.swing.SwingParams` from them (:func:`sample_swing_params`)."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from .swing import GOLF_VIEWS, SwingParams, event_frames


def _check_range(name: str, value, low=None, *, strict: bool = False):
    try:
        a, b = (float(v) for v in value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a (low, high) pair, got {value!r}") from None
    if not (math.isfinite(a) and math.isfinite(b)) or a > b:
        raise ValueError(f"{name} must be a (low, high) pair with low <= high, got {value!r}")
    if low is not None and (a <= low if strict else a < low):
        raise ValueError(f"{name} must be {'>' if strict else '>='} {low}, got {value!r}")
    return (a, b)


@dataclass(frozen=True)
class GolfConfig:
    """Options of :func:`generate_golf_dataset`.

    Attributes
    ----------
    num_clips:
        Clips (swings). Default 40.
    num_folds:
        Folds split by clip (GolfDB: 4). Default 4.
    image_size:
        ``(height, width)`` pixels. Default ``(64, 64)``.
    face_on_share:
        Probability of the face-on view (else down-the-line), in [0, 1]. Default 0.5.
    slow_motion_share:
        Probability of a slow-motion clip, in [0, 1]. Default 0.3.
    normal_fps:
        Frame rate of normal-speed clips, frames per second of swing time. Default 30.
    slow_motion_fps:
        ``(low, high)`` uniform frame rate of slow-motion clips. Default ``(60, 120)``.
    pre_address, backswing, pause, downswing, hold:
        ``(low, high)`` uniform phase durations, seconds. Defaults ``(0.3, 0.8)``,
        ``(0.7, 1.1)``, ``(0.0, 0.35)``, ``(0.25, 0.35)``, ``(0.4, 0.9)``.
    body_scale:
        ``(low, high)`` uniform factor on all body and club lengths. Default ``(0.85, 1.15)``.
    zoom:
        ``(low, high)`` uniform :attr:`SwingParams.zoom`. Default ``(0.85, 1.1)``.
    motion_blur_subframes:
        Renders averaged per frame (1: no blur). Default 3.
    noise_std:
        ``(low, high)`` uniform per-clip standard deviation of the sensor noise, grey levels
        (0-255). Default ``(1.0, 5.0)``.
    clutter:
        Mean number of background clutter blobs per clip (Poisson). Default 4.

    Examples
    --------
    A small, quick configuration (the doctests' and tests' size), and its JSON round trip:

    >>> config = GolfConfig(num_clips=4, num_folds=2, image_size=(32, 32),
    ...                     motion_blur_subframes=1)
    >>> config.image_size, config.slow_motion_fps, config.to_dict()["image_size"]
    ((32, 32), (60.0, 120.0), [32, 32])
    >>> GolfConfig(**config.to_dict()) == config
    True
    """

    num_clips: int = 40
    num_folds: int = 4
    image_size: tuple = (64, 64)
    face_on_share: float = 0.5
    slow_motion_share: float = 0.3
    normal_fps: float = 30.0
    slow_motion_fps: tuple = (60.0, 120.0)
    pre_address: tuple = (0.3, 0.8)
    backswing: tuple = (0.7, 1.1)
    pause: tuple = (0.0, 0.35)
    downswing: tuple = (0.25, 0.35)
    hold: tuple = (0.4, 0.9)
    body_scale: tuple = (0.85, 1.15)
    zoom: tuple = (0.85, 1.1)
    motion_blur_subframes: int = 3
    noise_std: tuple = (1.0, 5.0)
    clutter: float = 4.0

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        for name in ("num_clips", "num_folds", "motion_blur_subframes"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"{name} must be an int >= 1, got {value!r}")
        if self.num_folds > self.num_clips:
            raise ValueError(f"num_folds must be <= num_clips ({self.num_clips}), "
                             f"got {self.num_folds!r}")
        size = tuple(self.image_size) if np.ndim(self.image_size) == 1 else ()
        if len(size) != 2 or any(isinstance(s, bool) or not isinstance(s, (int, np.integer))
                                 or s < 16 for s in size):
            raise ValueError(f"image_size must be (height, width) ints >= 16, "
                             f"got {self.image_size!r}")
        set_(self, "image_size", tuple(int(s) for s in size))
        for name in ("face_on_share", "slow_motion_share"):
            value = getattr(self, name)
            if not 0 <= value <= 1:
                raise ValueError(f"{name} must be in [0, 1], got {value!r}")
        if not (math.isfinite(self.normal_fps) and self.normal_fps > 0):
            raise ValueError(f"normal_fps must be > 0, got {self.normal_fps!r}")
        if not (math.isfinite(self.clutter) and self.clutter >= 0):
            raise ValueError(f"clutter must be >= 0, got {self.clutter!r}")
        for name, low, strict in (("slow_motion_fps", 0, True), ("pre_address", 0, False),
                                  ("backswing", 0, True), ("pause", 0, False),
                                  ("downswing", 0, True), ("hold", 0, True),
                                  ("body_scale", 0, True), ("zoom", 0, True),
                                  ("noise_std", 0, False)):
            set_(self, name, _check_range(name, getattr(self, name), low, strict=strict))

    def to_dict(self) -> dict:
        """All options; tuples become lists (JSON). ``GolfConfig(**d)`` rebuilds it."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}


def _uniform(rng: np.random.Generator, pair) -> float:
    return float(rng.uniform(pair[0], pair[1])) if pair[1] > pair[0] else float(pair[0])


def sample_swing_params(config: GolfConfig, rng: np.random.Generator,
                        max_tries: int = 100) -> SwingParams:
    """Draw one clip's :class:`SwingParams` from ``config``; redraws (up to ``max_tries``) until
    the 8 event frames are strictly increasing. Raises ``ValueError`` when none is found.

    Examples
    --------
    >>> import numpy as np
    >>> from softloc.data.golf import event_frames
    >>> params = sample_swing_params(GolfConfig(), np.random.default_rng(0))
    >>> round(params.fps, 2), params.view  # a slow-motion clip
    (77.98, 'face_on')
    >>> frames = event_frames(params)
    >>> frames.tolist(), bool((np.diff(frames) > 0).all())
    ([25, 57, 65, 104, 125, 133, 138, 167], True)
    """
    for _ in range(max_tries):
        scale = _uniform(rng, config.body_scale)
        slow = rng.random() < config.slow_motion_share
        view = GOLF_VIEWS[0] if rng.random() < config.face_on_share else GOLF_VIEWS[1]
        params = SwingParams(
            arm_length=scale * rng.uniform(0.58, 0.70),
            club_length=scale * rng.uniform(0.90, 1.10),
            torso_length=scale * rng.uniform(0.50, 0.60),
            stance=scale * rng.uniform(0.35, 0.55),
            plane_angle=float(rng.uniform(48, 62)),
            spine_tilt=float(rng.uniform(28, 42)),
            top_angle=float(rng.uniform(125, 170)),
            finish_angle=float(rng.uniform(170, 230)),
            hinge=float(rng.uniform(75, 100)),
            hinge_follow=float(rng.uniform(70, 100)),
            pre_address=_uniform(rng, config.pre_address),
            backswing=_uniform(rng, config.backswing),
            pause=_uniform(rng, config.pause),
            downswing=_uniform(rng, config.downswing),
            hold=_uniform(rng, config.hold),
            fps=_uniform(rng, config.slow_motion_fps) if slow else float(config.normal_fps),
            view=view,
            view_skew=float(rng.uniform(0.08, 0.3)),
            zoom=_uniform(rng, config.zoom),
            camera_x=float(rng.normal(0.0, 0.12)),
            camera_y=float(rng.uniform(1.0, 1.25)),
            exposure=float(rng.uniform(0.2, 0.9)),
        )
        if np.all(np.diff(event_frames(params)) > 0):
            return params
    raise ValueError("no swing with strictly increasing event frames in "
                     f"{max_tries} tries; raise normal_fps or the phase durations")
