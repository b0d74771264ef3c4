"""Golf-swing videos: procedurally rendered swings with exact event frames (paper section 6.1).

GolfDB (1400 annotated swing clips, 160x160) cannot be had offline. This module renders stand-ins
whose 8 events come from the geometry of the swing instead of from annotators:

* **Swing model** (:class:`SwingParams`, :func:`swing_angles`, :func:`swing_pose`): a golfer of
  torso, legs, head, lead arm, trail arm, club shaft, club head and a ball. The lead arm turns
  by ``theta`` in the swing plane (inclined by ``plane_angle`` to the ground, through the target
  line) about a fixed shoulder pivot; the club turns by ``theta + phi`` (``phi``: wrist hinge).
  ``theta = 0`` points straight down the plane, so with ``phi = 0`` the club head rests on the
  ball. Timing (seconds): still at address for ``pre_address``; backswing of ``backswing`` with
  a cosine ease (slow start, slow arrival); pause of ``pause`` at the top; downswing of
  ``downswing``, accelerating (``theta_top (1 - u^2)``) to impact; follow-through
  decelerating (``-theta_finish (1 - (1 - v)^2)``) with a duration that keeps the angular
  speed continuous at impact; still at the finish for ``hold``. The hinge grows linearly with
  ``theta`` in the backswing, releases late (``(theta / theta_top)^2``) in the downswing and
  re-hinges the other way in the follow-through; it is 0 exactly at impact.
* **Events** (:func:`event_times`, :func:`event_frames`): address = start of motion; toe-up =
  shaft parallel to the ground in the backswing (``theta + phi = 90 deg``); mid-backswing = lead
  arm parallel (``theta = 90 deg``); top = maximum of ``theta`` (middle of the pause);
  mid-downswing = lead arm parallel on the way down; impact = club head at the ball (``theta =
  0``; the head's lowest point, at the ball's x); mid-follow-through = shaft parallel after impact
  (``theta + phi = -90 deg``); finish = end of motion. Frame ``k`` shows time ``k / fps``. A
  crossing event is put on whichever of the two frames around the crossing time has the geometry
  nearer the definition (the angle nearer 90 deg, the head nearer the ball); this is the
  nearest frame in time unless the speed changes within one frame interval. Top is the frame
  of largest sampled ``theta`` (nearest to the middle of the pause on a tie); address and finish
  are the nearest frames to the start and end of motion. Parameters whose events would not be
  strictly increasing at the clip's frame rate are redrawn by :func:`sample_swing_params`.
* **Views**: face-on (image x = the target line) or down-the-line (image x = the depth axis,
  mixed with a little of the target line, ``view_skew``, so the swing arc is an ellipse).
  Both keep the vertical axis, so "parallel to the ground" is the same in 3-D and on screen.
* **Frame rates**: normal speed (``GolfConfig.normal_fps``, 30) or slow motion (uniform in
  ``GolfConfig.slow_motion_fps``); slow motion gives more frames per swing and, through GolfDB's
  tolerance ``max(round((impact - address) / 30), 1)``, a larger PCE tolerance.
* **Renderer** (:func:`render_clip`): numpy only. Limbs are anti-aliased thick segments from
  distance fields, alpha-composited over a background with sky/wall and grass colours, soft
  clutter blobs and a low-frequency texture; per-clip colours of shirt, trousers, skin and club;
  a linear lighting gradient; motion blur (mean of ``motion_blur_subframes`` renders over the
  exposure); per-frame gain flicker and Gaussian sensor noise; uint8 output.
* **Data set** (:func:`generate_golf_dataset`): clips rendered once into
  ``<cache_dir>/golf-<hash>/clip_NNNNN.npz`` plus ``manifest.json`` (configuration, seed and the
  sha256 of every clip), written atomically after every clip, so an interrupted generation
  resumes where it stopped and a second call only loads (checking every sha256, raising
  :class:`~softloc.data.music.CacheIntegrityError` naming the file on a mismatch). Each clip has
  its own random stream (``SeedSequence(seed).spawn``), so a resumed set equals a fresh one.
  Clips are split into ``num_folds`` folds (4, as GolfDB) by clip.

GolfDB on disk
--------------
:func:`load_golfdb` reads the real GolfDB layout (McNally et al. 2019; reference-spec section
3.1) when a user has it, into the same :class:`GolfDataset` / :class:`GolfClip` objects:

* **Annotations** (:func:`read_golfdb_annotations`, one :class:`GolfDBAnnotation` per clip):
  GolfDB's ``golfDB.mat`` (a 1 x N struct array ``golfDB``, read with ``scipy.io.loadmat``),
  the ``golfDB.pkl`` its ``generate_splits.py`` writes (a pickled pandas DataFrame; needs pandas,
  and unpickling runs code: load only files you trust), or a CSV with the same columns
  (:func:`write_golfdb_csv` converts, so pandas is needed once at most). Columns: ``id``,
  ``youtube_id``, ``player``, ``sex``, ``club``, ``view`` (``face-on``, ``down-the-line``,
  ``other``), ``slow`` (0/1), ``events`` (10 frame numbers of the original YouTube video: the
  clip's first frame, the 8 events, the clip's last frame), ``bbox`` (4 numbers: x, y, width,
  height as fractions of the video's size) and ``split`` (1-4). In a CSV, ``events`` and
  ``bbox`` are numbers separated by spaces or commas (brackets allowed).
* **Clips**: ``videos_160/{id}.mp4``, 160 x 160, holding the original frames ``events[0]`` to
  ``events[9]``, so a clip's event frames are ``events[1:9] - events[0]``
  (:attr:`GolfDBAnnotation.clip_events`). Reading mp4 needs ``opencv-python`` (or
  ``opencv-python-headless``) or ``imageio`` with an mp4 plugin (``imageio[pyav]`` or
  ``imageio-ffmpeg``). Without either, a folder ``videos_160/{id}/`` of PNG or JPEG frames
  (numbered in name order, e.g. extracted with ``ffmpeg -i 0.mp4 0/%05d.png``) is read with
  Pillow (or imageio). :func:`read_video_frames` reads one file or folder.
* Frames are ``uint8`` RGB ``(T, H, W, 3)``, optionally resized (``image_size``, bilinear with
  anti-aliasing); ``GolfClip.fps`` is the video's frame rate (``fps`` for frame folders, default
  30; GolfDB marks slow-motion clips by ``slow``, their true swing-time rate is unknown);
  ``GolfClip.view`` is GolfDB's with ``-`` as ``_`` (``face_on``, ``down_the_line``, ``other``);
  fold ``k`` holds the clips of ``split == k + 1``, as GolfDB's ``val_split_{k+1}``.
  1400 clips at 160 x 160 take about 20 GB as ``uint8``: load a subset (``ids``, ``splits``),
  resize, or read clip by clip with :func:`load_golfdb_clip`.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from .._io import write_atomic, write_text_atomic
from .music import CacheIntegrityError

__all__ = [
    "GOLF_EVENTS",
    "GOLF_VIEWS",
    "GOLFDB_COLUMNS",
    "GolfClip",
    "GolfConfig",
    "GolfDBAnnotation",
    "GolfDataset",
    "SwingParams",
    "event_frames",
    "event_times",
    "generate_golf_dataset",
    "load_golfdb",
    "load_golfdb_clip",
    "pce_tolerance",
    "read_golfdb_annotations",
    "read_video_frames",
    "resize_frames",
    "render_clip",
    "sample_swing_params",
    "swing_angles",
    "swing_pose",
    "write_golfdb_csv",
]

GOLF_EVENTS = ("address", "toe_up", "mid_backswing", "top", "mid_downswing", "impact",
               "mid_follow_through", "finish")
"""The 8 GolfDB events in order."""

GOLF_VIEWS = ("face_on", "down_the_line")
"""Camera views."""

_CACHE_VERSION = 1
_DEG = math.pi / 180.0


# ----------------------------------------------------------------------------------------------
# Swing parameters and geometry
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SwingParams:
    """One clip's golfer, swing, camera and frame rate.

    Attributes
    ----------
    arm_length, club_length, torso_length, stance:
        Shoulder pivot to hands, hands to club head, hips to shoulders, feet apart; metres.
        The legs reach from the hips to the ground.
    plane_angle:
        Inclination of the swing plane to the ground, degrees in (0, 90).
    spine_tilt:
        Forward lean of the torso, degrees.
    top_angle:
        Lead-arm angle at the top, degrees in (95, 180).
    finish_angle:
        Lead-arm angle at the finish (reached on the target side), degrees in (95, 270).
    hinge, hinge_follow:
        Wrist hinge at the top / at the finish, degrees (>= 0).
    pre_address, backswing, pause, downswing, hold:
        Phase durations, seconds (``pause`` and ``pre_address`` >= 0, the others > 0). The
        follow-through lasts ``downswing * finish_angle / top_angle``.
    fps:
        Frames per second of swing time (normal speed 30; slow motion more).
    view:
        One of :data:`GOLF_VIEWS`.
    view_skew:
        Share of the other horizontal axis in the image x (down-the-line: of the target line;
        face-on: of the depth axis); dimensionless.
    zoom:
        Pixels per metre divided by ``image height / 2.6 m``; dimensionless.
    camera_x, camera_y:
        World point at the image centre, metres (image x, height).
    exposure:
        Exposure time as a share of the frame interval, in [0, 1] (motion blur).
    """

    arm_length: float = 0.65
    club_length: float = 1.0
    torso_length: float = 0.55
    stance: float = 0.45
    plane_angle: float = 55.0
    spine_tilt: float = 35.0
    top_angle: float = 150.0
    finish_angle: float = 200.0
    hinge: float = 90.0
    hinge_follow: float = 90.0
    pre_address: float = 0.5
    backswing: float = 0.85
    pause: float = 0.1
    downswing: float = 0.3
    hold: float = 0.6
    fps: float = 30.0
    view: str = "face_on"
    view_skew: float = 0.15
    zoom: float = 1.0
    camera_x: float = 0.0
    camera_y: float = 1.15
    exposure: float = 0.5

    def __post_init__(self) -> None:
        for name in ("arm_length", "club_length", "torso_length", "stance",
                     "backswing", "downswing", "hold", "fps", "zoom"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be > 0, got {value!r}")
        for name in ("pre_address", "pause", "hinge", "hinge_follow"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0):
                raise ValueError(f"{name} must be >= 0, got {value!r}")
        if not 0 < self.plane_angle < 90:
            raise ValueError(f"plane_angle must be in (0, 90) degrees, got {self.plane_angle!r}")
        if not 95 < self.top_angle < 180:
            raise ValueError(f"top_angle must be in (95, 180) degrees, got {self.top_angle!r}")
        if not 95 < self.finish_angle < 270:
            raise ValueError(
                f"finish_angle must be in (95, 270) degrees, got {self.finish_angle!r}")
        if self.view not in GOLF_VIEWS:
            raise ValueError(f"view must be one of {GOLF_VIEWS}, got {self.view!r}")
        if not 0 <= self.exposure <= 1:
            raise ValueError(f"exposure must be in [0, 1], got {self.exposure!r}")

    @property
    def follow_through(self) -> float:
        """Follow-through duration, seconds (keeps the angular speed continuous at impact)."""
        return self.downswing * self.finish_angle / self.top_angle

    @property
    def duration(self) -> float:
        """Whole clip, seconds."""
        return (self.pre_address + self.backswing + self.pause + self.downswing
                + self.follow_through + self.hold)

    @property
    def num_frames(self) -> int:
        """Frames of the clip: times ``0, 1/fps, ..`` up to :attr:`duration`."""
        return int(math.floor(self.duration * self.fps + 1e-9)) + 1

    def to_dict(self) -> dict:
        """All fields (JSON-ready). ``SwingParams(**d)`` rebuilds it."""
        return asdict(self)


def _phase_times(p: SwingParams) -> dict:
    t_address = p.pre_address
    t_back_end = t_address + p.backswing
    t_down = t_back_end + p.pause
    t_impact = t_down + p.downswing
    t_finish = t_impact + p.follow_through
    return {"address": t_address, "back_end": t_back_end, "top": t_back_end + p.pause / 2,
            "down": t_down, "impact": t_impact, "finish": t_finish}


def swing_angles(params: SwingParams, t) -> tuple[np.ndarray, np.ndarray]:
    """Lead-arm angle ``theta`` and wrist hinge ``phi`` at times ``t``.

    Parameters
    ----------
    params:
        The swing.
    t:
        Times, seconds from the clip start (array-like).

    Returns
    -------
    theta, phi:
        Radians. ``theta`` is 0 at address and impact, positive in the backswing (away from the
        target), negative in the follow-through; the shaft's angle is ``theta + phi``.
    """
    t = np.asarray(t, dtype=float)
    p = params
    ph = _phase_times(p)
    top, fin = p.top_angle * _DEG, p.finish_angle * _DEG
    hinge, hinge_f = p.hinge * _DEG, p.hinge_follow * _DEG
    theta = np.zeros_like(t)
    phi = np.zeros_like(t)
    back = (t > ph["address"]) & (t < ph["back_end"])
    u = (t - ph["address"]) / p.backswing
    theta = np.where(back, top * (1 - np.cos(np.pi * u)) / 2, theta)
    paused = (t >= ph["back_end"]) & (t <= ph["down"])
    theta = np.where(paused, top, theta)
    phi = np.where(back | paused, hinge * theta / top, phi)
    down = (t > ph["down"]) & (t <= ph["impact"])
    u = np.clip((t - ph["down"]) / p.downswing, 0, 1)
    theta = np.where(down, top * (1 - u**2), theta)
    phi = np.where(down, hinge * (theta / top) ** 2, phi)
    follow = (t > ph["impact"]) & (t < ph["finish"])
    v = np.clip((t - ph["impact"]) / p.follow_through, 0, 1)
    theta = np.where(follow, -fin * (1 - (1 - v) ** 2), theta)
    after = t >= ph["finish"]
    theta = np.where(after, -fin, theta)
    phi = np.where(follow | after, hinge_f * theta / fin, phi)
    return theta, phi


def _plane_axes(p: SwingParams) -> tuple[np.ndarray, np.ndarray]:
    beta = p.plane_angle * _DEG
    x_hat = np.array([1.0, 0.0, 0.0])  # target line (towards the target)
    u_hat = np.array([0.0, math.sin(beta), math.cos(beta)])  # up the plane, towards the golfer
    return x_hat, u_hat


def _direction(angle: np.ndarray, x_hat, u_hat) -> np.ndarray:
    """Unit vector in the plane at ``angle`` from straight down the plane (radians)."""
    a = np.asarray(angle)[..., None]
    return -np.cos(a) * u_hat - np.sin(a) * x_hat


def swing_pose(params: SwingParams, t) -> dict:
    """3-D body points at times ``t`` (metres; x towards the target, y up, z towards the golfer;
    the ball at the origin).

    Returns
    -------
    dict
        Arrays of shape ``(len(t), 3)`` for ``pivot``, ``hands``, ``club_head``, ``trail_shoulder``,
        ``hip``, ``head``, ``lead_foot``, ``trail_foot``, ``ball``, plus ``theta`` and ``phi``
        (radians, ``(len(t),)``).
    """
    p = params
    t = np.atleast_1d(np.asarray(t, dtype=float))
    theta, phi = swing_angles(p, t)
    x_hat, u_hat = _plane_axes(p)
    reach = p.arm_length + p.club_length
    pivot = np.broadcast_to(reach * u_hat, (len(t), 3)).copy()
    hands = pivot + p.arm_length * _direction(theta, x_hat, u_hat)
    club_head = hands + p.club_length * _direction(theta + phi, x_hat, u_hat)
    tilt = p.spine_tilt * _DEG
    # cosmetic hip slide: away from the target in the backswing, towards it after impact
    slide = np.where(theta >= 0, -0.04 * theta / (p.top_angle * _DEG),
                     0.10 * (-theta) / (p.finish_angle * _DEG))
    hip = pivot + p.torso_length * np.array([0.0, -math.cos(tilt), math.sin(tilt)])
    hip[:, 0] += slide
    head = pivot + 0.28 * np.array([0.0, math.cos(tilt), -math.sin(tilt)])
    head[:, 0] += 0.5 * slide
    side = np.where(theta >= 0, 1.0, -1.0)  # the shoulders turn through at impact
    trail_shoulder = pivot + np.array([0.0, 0.04, 0.08])
    trail_shoulder[:, 0] -= 0.12 * side
    foot_z = hip[:, 2] + 0.05
    lead_foot = np.stack([np.full(len(t), p.stance / 2), np.zeros(len(t)), foot_z], axis=1)
    trail_foot = np.stack([np.full(len(t), -p.stance / 2), np.zeros(len(t)), foot_z], axis=1)
    ball = np.zeros((len(t), 3))
    return {"pivot": pivot, "hands": hands, "club_head": club_head,
            "trail_shoulder": trail_shoulder, "hip": hip, "head": head,
            "lead_foot": lead_foot, "trail_foot": trail_foot, "ball": ball,
            "theta": theta, "phi": phi}


def event_times(params: SwingParams) -> np.ndarray:
    """Continuous times of the 8 :data:`GOLF_EVENTS`, seconds from the clip start, ``(8,)``."""
    p = params
    ph = _phase_times(p)
    top, fin = p.top_angle, p.finish_angle
    quarter = 90.0
    toe_theta = quarter / (1 + p.hinge / top)  # theta where theta + hinge * theta / top = 90
    u_toe = math.acos(1 - 2 * toe_theta / top) / math.pi
    u_mid = math.acos(1 - 2 * quarter / top) / math.pi
    u_down = math.sqrt(1 - quarter / top)
    ft_theta = quarter / (1 + p.hinge_follow / fin)  # |theta| where the shaft is at -90
    v_ft = 1 - math.sqrt(1 - ft_theta / fin)
    return np.array([
        ph["address"],
        ph["address"] + u_toe * p.backswing,
        ph["address"] + u_mid * p.backswing,
        ph["top"],
        ph["down"] + u_down * p.downswing,
        ph["impact"],
        ph["impact"] + v_ft * p.follow_through,
        ph["finish"],
    ])


def event_frames(params: SwingParams) -> np.ndarray:
    """Frame indices of the 8 :data:`GOLF_EVENTS` (see the module docstring), ``(8,)`` int64.

    Not necessarily strictly increasing for every parameter set;
    :func:`sample_swing_params` only returns sets for which they are.
    """
    p = params
    times = event_times(p)
    last = p.num_frames - 1
    frame_t = np.arange(p.num_frames) / p.fps
    theta, phi = swing_angles(p, frame_t)
    half = 0.5 * math.pi

    def bracket(t_event: float) -> np.ndarray:
        k0 = int(math.floor(t_event * p.fps + 1e-9))
        return np.clip(np.array([k0, k0 + 1]), 0, last)

    def closest(t_event: float, quantity: np.ndarray, target: float) -> int:
        ks = bracket(t_event)
        return int(ks[np.argmin(np.abs(quantity[ks] - target))])

    frames = np.empty(8, dtype=np.int64)
    frames[0] = min(int(round(times[0] * p.fps)), last)
    frames[1] = closest(times[1], theta + phi, half)
    frames[2] = closest(times[2], theta, half)
    candidates = np.flatnonzero(theta >= theta.max() - 1e-12)
    frames[3] = int(candidates[np.argmin(np.abs(candidates / p.fps - times[3]))])
    frames[4] = closest(times[4], theta, half)
    ks = bracket(times[5])
    head = swing_pose(p, ks / p.fps)["club_head"]
    frames[5] = int(ks[np.argmin(np.linalg.norm(head, axis=1))])
    frames[6] = closest(times[6], theta + phi, -half)
    frames[7] = min(int(round(times[7] * p.fps)), last)
    return frames


def pce_tolerance(events) -> int:
    """GolfDB's PCE tolerance ``max(round((impact - address) / 30), 1)`` frames for 8 events
    (or the 10-entry GolfDB array with the clip bounds)."""
    e = np.asarray(events)
    if e.shape == (10,):
        e = e[1:-1]
    if e.shape != (8,):
        raise ValueError(f"events must have shape (8,) or (10,), got {e.shape}")
    return max(int(round((int(e[5]) - int(e[0])) / 30)), 1)


# ----------------------------------------------------------------------------------------------
# Configuration and parameter sampling
# ----------------------------------------------------------------------------------------------


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
    the 8 event frames are strictly increasing. Raises ``ValueError`` when none is found."""
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


# ----------------------------------------------------------------------------------------------
# Rendering
# ----------------------------------------------------------------------------------------------


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


def _project(p: SwingParams, points: np.ndarray, size: tuple) -> np.ndarray:
    """World points ``(..., 3)`` to pixel coordinates ``(..., 2)`` as (column, row)."""
    height, width = size
    if p.view == "face_on":  # camera in front of the golfer, target to the image's left
        u = -points[..., 0] + p.view_skew * points[..., 2]
    else:  # camera behind the golfer on the target line
        u = -(points[..., 2] - 0.55) + p.view_skew * points[..., 0]  # centred between
        # the ball (depth 0) and the golfer (depth about 1.1 m)
    v = points[..., 1]
    scale = p.zoom * height / 2.6
    col = width / 2 + scale * (u - p.camera_x) - 0.5
    row = height / 2 - scale * (v - p.camera_y) - 0.5
    return np.stack([col, row], axis=-1)


def _coverage(grid: np.ndarray, a: np.ndarray, b: np.ndarray, width: float) -> np.ndarray:
    """Anti-aliased coverage in [0, 1] of a thick segment ``a``-``b`` (pixels) on ``grid``."""
    ba = b - a
    pa = grid - a
    denom = float(ba @ ba)
    h = np.clip((pa @ ba) / denom, 0.0, 1.0) if denom > 1e-12 else np.zeros(grid.shape[:2])
    d = np.linalg.norm(pa - h[..., None] * ba, axis=-1)
    return np.clip(width / 2 + 0.5 - d, 0.0, 1.0)


def _background(size: tuple, p: SwingParams, rng: np.random.Generator,
                clutter: float) -> np.ndarray:
    height, width = size
    rows, cols = np.mgrid[0:height, 0:width].astype(float)
    ground_row = _project(p, np.zeros(3), size)[1] - rng.uniform(2, 0.15 * height)
    sky = rng.uniform(0.35, 0.95, 3)
    grass = np.array([rng.uniform(0.1, 0.35), rng.uniform(0.35, 0.65), rng.uniform(0.1, 0.3)])
    blend = np.clip(rows - ground_row + 0.5, 0, 1)[..., None]
    image = sky * (1 - blend) + grass * blend
    # low-frequency texture
    coarse = rng.normal(0, 0.04, (4, 4, 3))
    ri = np.clip(rows / height * 3, 0, 3)
    ci = np.clip(cols / width * 3, 0, 3)
    r0, c0 = np.minimum(ri.astype(int), 2), np.minimum(ci.astype(int), 2)
    fr, fc = (ri - r0)[..., None], (ci - c0)[..., None]
    texture = (coarse[r0, c0] * (1 - fr) * (1 - fc) + coarse[r0 + 1, c0] * fr * (1 - fc)
               + coarse[r0, c0 + 1] * (1 - fr) * fc + coarse[r0 + 1, c0 + 1] * fr * fc)
    image = image + texture
    for _ in range(int(rng.poisson(clutter))):
        centre = np.array([rng.uniform(0, width), rng.uniform(0, max(ground_row, 1.0))])
        radii = rng.uniform(0.04, 0.2, 2) * np.array([width, height])
        colour = rng.uniform(0.05, 0.9, 3)
        d = np.sqrt(((cols - centre[0]) / radii[0]) ** 2 + ((rows - centre[1]) / radii[1]) ** 2)
        alpha = np.clip((1 - d) * 3, 0, 1)[..., None] * rng.uniform(0.5, 0.9)
        image = image * (1 - alpha) + colour * alpha
    return image


def render_clip(params: SwingParams, rng: np.random.Generator, *,
                image_size: tuple = (64, 64), motion_blur_subframes: int = 3,
                noise_std: float = 3.0, clutter: float = 4.0) -> GolfClip:
    """Render one swing.

    Parameters
    ----------
    params:
        Golfer, swing, camera and frame rate.
    rng:
        Source of the appearance: colours, background, lighting, flicker and noise.
    image_size:
        ``(height, width)`` pixels.
    motion_blur_subframes:
        Renders averaged per frame over ``params.exposure`` of the frame interval (>= 1).
    noise_std:
        Sensor noise standard deviation, grey levels (0-255), >= 0.
    clutter:
        Mean number of background blobs.

    Returns
    -------
    GolfClip
        Frames ``(params.num_frames, H, W, 3)`` uint8 and the events of :func:`event_frames`.
    """
    if motion_blur_subframes < 1:
        raise ValueError(f"motion_blur_subframes must be >= 1, got {motion_blur_subframes!r}")
    if not noise_std >= 0:
        raise ValueError(f"noise_std must be >= 0, got {noise_std!r}")
    size = (int(image_size[0]), int(image_size[1]))
    height, width = size
    p = params
    background = _background(size, p, rng, clutter)
    shirt = rng.uniform(0.05, 0.95, 3)
    trail_shirt = shirt * 0.8
    trousers = rng.uniform(0.05, 0.7, 3)
    skin = np.array([0.95, 0.75, 0.6]) * rng.uniform(0.45, 1.0)
    shaft = np.full(3, rng.uniform(0.55, 0.85))
    club = np.full(3, rng.uniform(0.05, 0.3))
    ball = np.full(3, 0.97)
    gradient = rng.normal(0, 1, 2)
    gradient = gradient / (np.linalg.norm(gradient) + 1e-12) * rng.uniform(0.0, 0.35)
    rows, cols = np.mgrid[0:height, 0:width].astype(float)
    lighting = 1 + gradient[0] * (cols / width - 0.5) + gradient[1] * (rows / height - 0.5)
    grid = np.stack([cols, rows], axis=-1)
    px = p.zoom * height / 2.6  # pixels per metre

    n = p.num_frames
    offsets = (np.linspace(-0.5, 0.5, motion_blur_subframes) if motion_blur_subframes > 1
               else np.zeros(1)) * p.exposure / p.fps
    times = (np.arange(n)[:, None] / p.fps + offsets[None, :]).ravel()
    pose = swing_pose(p, times)
    pix = {k: _project(p, v, size) for k, v in pose.items() if k not in ("theta", "phi")}
    layers = (("hip", "lead_foot", 0.13, trousers), ("hip", "trail_foot", 0.13, trousers),
              ("hip", "pivot", 0.30, shirt), ("trail_shoulder", "hands", 0.09, trail_shirt),
              ("head", "head", 0.22, skin), ("pivot", "hands", 0.09, shirt),
              ("hands", "club_head", 0.02, shaft), ("ball", "ball", 0.043, ball),
              ("club_head", "club_head", 0.07, club))
    frames = np.empty((n, height, width, 3), dtype=np.uint8)
    for k in range(n):
        accumulated = np.zeros((height, width, 3))
        for j in range(len(offsets)):
            i = k * len(offsets) + j
            image = background.copy()
            for start, end, size_m, colour in layers:
                a, b = pix[start][i], pix[end][i]
                w = max(size_m * px, 0.9)
                c0, r0 = np.floor(np.minimum(a, b) - w / 2 - 1).astype(int)
                c1, r1 = np.ceil(np.maximum(a, b) + w / 2 + 2).astype(int)
                c0, r0, c1, r1 = max(c0, 0), max(r0, 0), min(c1, width), min(r1, height)
                if c0 >= c1 or r0 >= r1:
                    continue  # off screen
                alpha = _coverage(grid[r0:r1, c0:c1], a, b, w)
                patch = image[r0:r1, c0:c1]
                patch += alpha[..., None] * (colour - patch)
            accumulated += image
        image = accumulated / len(offsets) * lighting[..., None] * rng.uniform(0.97, 1.03)
        image = image * 255 + rng.normal(0, noise_std, image.shape)
        frames[k] = np.clip(np.rint(image), 0, 255).astype(np.uint8)
    return GolfClip(frames=frames, events=event_frames(p), fps=float(p.fps), view=p.view,
                    params=p)


# ----------------------------------------------------------------------------------------------
# Data set with cache
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GolfDataset:
    """Clips (rendered, or GolfDB's) and their folds.

    Attributes
    ----------
    clips:
        The :class:`GolfClip` objects, clip ``i`` first.
    folds:
        ``num_folds`` int64 arrays of clip indices (disjoint, covering all clips); for GolfDB,
        4 folds by ``split`` (a fold may be empty when a subset was loaded).
    config:
        The :class:`GolfConfig` of a rendered set; ``None`` for GolfDB.
    seed:
        The generation seed of a rendered set; ``None`` for GolfDB.
    """

    clips: tuple
    folds: tuple
    config: GolfConfig | None
    seed: int | None

    def split(self, fold: int) -> tuple[list, list]:
        """``(train clips, test clips)``: test = fold ``fold``, train = the other folds."""
        if not 0 <= fold < len(self.folds):
            raise ValueError(f"fold must be in [0, {len(self.folds)}), got {fold!r}")
        test = set(int(i) for i in self.folds[fold])
        return ([c for i, c in enumerate(self.clips) if i not in test],
                [self.clips[i] for i in sorted(test)])


def _sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _clip_bytes(clip: GolfClip) -> bytes:
    buffer = io.BytesIO()
    np.savez_compressed(buffer, frames=clip.frames, events=clip.events,
                        params=np.array(json.dumps(clip.params.to_dict())))
    return buffer.getvalue()


def _load_clip(path: Path) -> GolfClip:
    with np.load(path, allow_pickle=False) as data:
        params = SwingParams(**json.loads(str(data["params"])))
        return GolfClip(frames=data["frames"], events=data["events"].astype(np.int64),
                        fps=float(params.fps), view=params.view, params=params)


def _folds(num_clips: int, num_folds: int, seed: int) -> tuple:
    order = np.random.default_rng(np.random.SeedSequence([seed, 4])).permutation(num_clips)
    return tuple(np.sort(order[f::num_folds]).astype(np.int64) for f in range(num_folds))


def generate_golf_dataset(config: GolfConfig | None = None, seed: int = 0, *,
                          cache_dir: Path | str | None = None) -> GolfDataset:
    """Render ``config.num_clips`` swings (or load them from the cache).

    Parameters
    ----------
    config:
        Options; default :class:`GolfConfig()`.
    seed:
        Seed; clip ``i`` uses the ``i``-th child of ``SeedSequence(seed)`` whatever else is
        cached, so resumed and fresh generations are equal.
    cache_dir:
        Folder of the cache (``golf-<hash>/`` inside it); ``None`` renders in memory only.

    Raises
    ------
    CacheIntegrityError
        A cached clip is missing or its sha256 differs from the manifest's.
    """
    config = GolfConfig() if config is None else config
    if not isinstance(config, GolfConfig):
        raise ValueError(f"config must be a GolfConfig, got {type(config).__name__}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be an int >= 0, got {seed!r}")
    seed = int(seed)
    children = np.random.SeedSequence([seed, 1]).spawn(config.num_clips)

    def render(i: int) -> GolfClip:
        rng = np.random.default_rng(children[i])
        params = sample_swing_params(config, rng)
        return render_clip(params, rng, image_size=config.image_size,
                           motion_blur_subframes=config.motion_blur_subframes,
                           noise_std=_uniform(rng, config.noise_std), clutter=config.clutter)

    folds = _folds(config.num_clips, config.num_folds, seed)
    if cache_dir is None:
        clips = tuple(render(i) for i in range(config.num_clips))
        return GolfDataset(clips=clips, folds=folds, config=config, seed=seed)

    key = json.dumps({"config": config.to_dict(), "seed": seed, "version": _CACHE_VERSION},
                     sort_keys=True)
    folder = Path(cache_dir) / f"golf-{_sha256_bytes(key.encode())[:12]}"
    manifest_path = folder / "manifest.json"
    manifest = {"config": config.to_dict(), "seed": seed, "version": _CACHE_VERSION, "clips": {}}
    if manifest_path.is_file():
        try:
            manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise CacheIntegrityError(f"{manifest_path}: unreadable manifest ({error}); delete "
                                      "the folder to render again") from error
    clips = []
    for i in range(config.num_clips):
        name = f"clip_{i:05d}.npz"
        path = folder / name
        if name in manifest["clips"]:
            if not path.is_file():
                raise CacheIntegrityError(f"{path}: listed in the manifest but missing")
            if _sha256_bytes(path.read_bytes()) != manifest["clips"][name]:
                raise CacheIntegrityError(f"{path}: sha256 differs from the manifest")
            clips.append(_load_clip(path))
            continue
        clip = render(i)
        data = _clip_bytes(clip)
        write_atomic(path, lambda f: f.write(data), binary=True)
        manifest["clips"][name] = _sha256_bytes(data)
        write_text_atomic(manifest_path, json.dumps(manifest, indent=1, sort_keys=True))
        clips.append(_load_clip(path))
    return GolfDataset(clips=tuple(clips), folds=folds, config=config, seed=seed)


# ----------------------------------------------------------------------------------------------
# GolfDB on disk
# ----------------------------------------------------------------------------------------------

GOLFDB_COLUMNS = ("id", "youtube_id", "player", "sex", "club", "view", "slow", "events", "bbox",
                  "split")
"""The columns of GolfDB's annotation table, in its order."""

_ANNOTATION_NAMES = ("golfDB.csv", "golfDB.mat", "golfDB.pkl")
_VIDEO_FOLDER = "videos_160"
_FRAME_SUFFIXES = (".png", ".jpg", ".jpeg")
_DEFAULT_FPS = 30.0


@dataclass(frozen=True, eq=False)
class GolfDBAnnotation:
    """One row of GolfDB's annotation table (module docstring, "GolfDB on disk").

    Attributes
    ----------
    id:
        Annotation id; the clip is ``videos_160/{id}.mp4``.
    youtube_id, player, sex, club, view:
        As annotated (``view``: ``face-on``, ``down-the-line`` or ``other``).
    slow:
        True for a slow-motion clip.
    events:
        ``(10,)`` int64 frame numbers of the original video: clip start, the 8 events of
        :data:`GOLF_EVENTS`, clip end (start <= every event <= end).
    bbox:
        ``(4,)`` float64: x, y, width, height of the crop, fractions of the video's size.
    split:
        GolfDB's cross-validation split, 1 to 4.
    """

    id: int
    youtube_id: str
    player: str
    sex: str
    club: str
    view: str
    slow: bool
    events: np.ndarray = field(repr=False)
    bbox: np.ndarray = field(repr=False)
    split: int

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        if isinstance(self.id, (bool, np.bool_)) or not isinstance(self.id, (int, np.integer)) \
                or self.id < 0:
            raise ValueError(f"id must be an int >= 0, got {self.id!r}")
        set_(self, "id", int(self.id))
        for name in ("youtube_id", "player", "sex", "club", "view"):
            if not isinstance(getattr(self, name), str):
                raise TypeError(f"clip {self.id}: {name} must be a str, "
                                f"got {type(getattr(self, name)).__name__}")
        set_(self, "slow", bool(self.slow))
        events = np.asarray(self.events, dtype=float)
        if events.shape != (10,) or not np.all(np.isfinite(events)) \
                or not np.all(events == np.round(events)):
            raise ValueError(f"clip {self.id}: events must be 10 whole frame numbers (start, 8 "
                             f"events, end), got {np.asarray(self.events).tolist()!r}")
        events = events.astype(np.int64)
        if not (np.all(events[1:9] >= events[0]) and np.all(events[1:9] <= events[9])):
            raise ValueError(f"clip {self.id}: the 8 events must lie between the clip's start "
                             f"and end frames, got events {events.tolist()}")
        set_(self, "events", events)
        bbox = np.asarray(self.bbox, dtype=float)
        if bbox.shape != (4,) or not np.all(np.isfinite(bbox)):
            raise ValueError(f"clip {self.id}: bbox must be 4 finite numbers, "
                             f"got {np.asarray(self.bbox).tolist()!r}")
        set_(self, "bbox", bbox)
        if isinstance(self.split, (bool, np.bool_)) or not isinstance(
                self.split, (int, np.integer)) or not 1 <= self.split <= 4:
            raise ValueError(f"clip {self.id}: split must be an int in 1..4, got {self.split!r}")
        set_(self, "split", int(self.split))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, GolfDBAnnotation):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    __hash__ = None  # holds arrays

    @property
    def clip_events(self) -> np.ndarray:
        """``(8,)`` int64 event frames in the preprocessed clip: ``events[1:9] - events[0]``."""
        return self.events[1:9] - self.events[0]

    @property
    def num_frames(self) -> int:
        """Frames of the preprocessed clip: ``events[9] - events[0] + 1``."""
        return int(self.events[9] - self.events[0] + 1)

    @property
    def fold(self) -> int:
        """0-based fold: ``split - 1``."""
        return self.split - 1

    def to_dict(self) -> dict:
        """All columns (JSON-ready; ``events`` and ``bbox`` as lists)."""
        out = {name: getattr(self, name) for name in GOLFDB_COLUMNS}
        out["events"] = self.events.tolist()
        out["bbox"] = self.bbox.tolist()
        return out


def _cell_numbers(value, column: str, where: str) -> np.ndarray:
    """Numbers of a CSV cell ``"1 2 3"`` / ``"[1, 2, 3]"``, or of an array-like."""
    if isinstance(value, str):
        parts = [p for p in re.split(r"[\s,;]+", value.strip().strip("[](){}")) if p]
        try:
            return np.array([float(p) for p in parts])
        except ValueError:
            raise ValueError(f"{where}: column {column!r} must hold numbers, got {value!r}") \
                from None
    return np.asarray(value, dtype=float).ravel()


def _cell_scalar(value, column: str, where: str):
    """A number from a CSV cell or a (nested) 1-element array."""
    if isinstance(value, str):
        text = value.strip()
        lowered = text.lower()
        if lowered in ("true", "false"):
            return lowered == "true"
        try:
            number = float(text)
        except ValueError:
            raise ValueError(f"{where}: column {column!r} must hold a number, got {value!r}") \
                from None
        return int(number) if number.is_integer() else number
    array = np.asarray(value)
    if array.size != 1:
        raise ValueError(f"{where}: column {column!r} must hold one number, "
                         f"got {array.tolist()!r}")
    return array.reshape(()).item()


def _cell_text(value) -> str:
    if isinstance(value, str):
        return value
    array = np.asarray(value)
    if array.size == 0:
        return ""
    return str(array.reshape(-1)[0])


def _annotation(row: dict, where: str) -> GolfDBAnnotation:
    missing = [c for c in GOLFDB_COLUMNS if c not in row]
    if missing:
        raise ValueError(f"{where}: missing GolfDB columns {missing}; the columns are "
                         f"{', '.join(GOLFDB_COLUMNS)}")
    clip_id = _cell_scalar(row["id"], "id", where)
    if isinstance(clip_id, float):
        raise ValueError(f"{where}: column 'id' must hold a whole number, got {row['id']!r}")
    where = f"{where} (clip {clip_id})"
    split = _cell_scalar(row["split"], "split", where)
    if isinstance(split, float) and split.is_integer():
        split = int(split)
    return GolfDBAnnotation(
        id=clip_id, youtube_id=_cell_text(row["youtube_id"]), player=_cell_text(row["player"]),
        sex=_cell_text(row["sex"]), club=_cell_text(row["club"]), view=_cell_text(row["view"]),
        slow=bool(_cell_scalar(row["slow"], "slow", where)),
        events=_cell_numbers(row["events"], "events", where),
        bbox=_cell_numbers(row["bbox"], "bbox", where), split=split)


def _read_csv(path: Path) -> list[GolfDBAnnotation]:
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        columns = reader.fieldnames or []
        missing = [c for c in GOLFDB_COLUMNS if c not in columns]
        if missing:
            raise ValueError(f"{path}: missing GolfDB columns {missing}; the columns are "
                             f"{', '.join(GOLFDB_COLUMNS)}")
        return [_annotation(row, f"{path} line {reader.line_num}") for row in reader]


def _read_mat(path: Path) -> list[GolfDBAnnotation]:
    try:
        from scipy.io import loadmat
    except ImportError as error:  # pragma: no cover - scipy is a dependency of softloc
        raise ImportError(f"reading {path} needs scipy (pip install scipy)") from error
    data = loadmat(path)
    keys = [k for k in data if not k.startswith("__")]
    key = "golfDB" if "golfDB" in data else (keys[0] if len(keys) == 1 else None)
    if key is None:
        raise ValueError(f"{path}: expected a struct array 'golfDB', found variables {keys}")
    table = np.asarray(data[key])
    names = table.dtype.names
    if names is None:
        raise ValueError(f"{path}: variable {key!r} is not a struct array")
    if tuple(names) != GOLFDB_COLUMNS and not set(GOLFDB_COLUMNS) <= set(names):
        raise ValueError(f"{path}: struct fields {list(names)} lack GolfDB columns "
                         f"{[c for c in GOLFDB_COLUMNS if c not in names]}")
    return [_annotation({name: record[name] for name in names}, f"{path} record {i}")
            for i, record in enumerate(table.ravel())]


def _read_pickle(path: Path) -> list[GolfDBAnnotation]:
    try:
        import pandas
    except ImportError as error:
        raise ImportError(
            f"reading {path} (a pickled pandas DataFrame) needs pandas (pip install pandas); "
            f"or read GolfDB's golfDB.mat (scipy), or a CSV written once by "
            f"softloc.data.golf.write_golfdb_csv") from error
    frame = pandas.read_pickle(path)
    if not hasattr(frame, "to_dict") or not hasattr(frame, "columns"):
        raise ValueError(f"{path}: expected a pickled pandas DataFrame, "
                         f"got {type(frame).__name__}")
    return [_annotation(row, f"{path} row {i}")
            for i, row in enumerate(frame.to_dict("records"))]


def read_golfdb_annotations(path: Path | str) -> tuple[GolfDBAnnotation, ...]:
    """GolfDB's annotation table from ``.csv``, ``.mat`` (scipy) or ``.pkl`` (pandas).

    Parameters
    ----------
    path:
        The file; its suffix picks the reader (module docstring, "GolfDB on disk").

    Returns
    -------
    tuple of GolfDBAnnotation
        In the file's order.

    Raises
    ------
    ValueError
        An unknown suffix, a missing column, or a value out of range (naming file and clip).
    ImportError
        ``.pkl`` without pandas.

    Examples
    --------
    >>> import tempfile, os
    >>> row = GolfDBAnnotation(id=0, youtube_id="f1BWA5F87Jc", player="A", sex="f",
    ...                        club="driver", view="down-the-line", slow=False,
    ...                        events=[408, 455, 473, 476, 490, 495, 498, 501, 514, 544],
    ...                        bbox=[0.1, 0.1, 0.5, 0.8], split=1)
    >>> path = os.path.join(tempfile.mkdtemp(), "golfDB.csv")
    >>> write_golfdb_csv([row], path)
    >>> again, = read_golfdb_annotations(path)
    >>> again.clip_events.tolist(), again.num_frames
    ([47, 65, 68, 82, 87, 90, 93, 106], 137)
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"GolfDB annotation file {path} does not exist")
    suffix = path.suffix.lower()
    readers = {".csv": _read_csv, ".mat": _read_mat, ".pkl": _read_pickle}
    if suffix not in readers:
        raise ValueError(f"path must end in .csv, .mat or .pkl, got {path.name!r}")
    annotations = tuple(readers[suffix](path))
    ids = [a.id for a in annotations]
    if len(set(ids)) != len(ids):
        repeated = sorted({i for i in ids if ids.count(i) > 1})[:5]
        raise ValueError(f"{path}: ids must be unique, repeated: {repeated}")
    return annotations


def write_golfdb_csv(annotations: Iterable[GolfDBAnnotation], path: Path | str) -> None:
    """Write annotations as a CSV :func:`read_golfdb_annotations` reads (``events`` and
    ``bbox`` as space-separated numbers), e.g. to convert ``golfDB.pkl`` once where pandas is
    installed. Written atomically."""
    rows = list(annotations)
    for i, row in enumerate(rows):
        if not isinstance(row, GolfDBAnnotation):
            raise TypeError(f"annotations[{i}] must be a GolfDBAnnotation, "
                            f"got {type(row).__name__}")
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(GOLFDB_COLUMNS)
    for row in rows:
        writer.writerow([row.id, row.youtube_id, row.player, row.sex, row.club, row.view,
                         int(row.slow), " ".join(str(int(e)) for e in row.events),
                         " ".join(repr(float(b)) for b in row.bbox), row.split])
    write_text_atomic(Path(path), buffer.getvalue())


def _natural_key(path: Path) -> tuple:
    return tuple(int(part) if part.isdigit() else part
                 for part in re.split(r"(\d+)", path.name.lower()))


def _read_image(path: Path) -> np.ndarray:
    try:
        from PIL import Image
    except ImportError:
        Image = None
    if Image is not None:
        with Image.open(path) as image:
            return np.asarray(image.convert("RGB"))
    try:
        import imageio.v3 as iio
    except ImportError as error:
        raise ImportError(f"reading the frame {path} needs Pillow (pip install pillow) or "
                          f"imageio (pip install imageio)") from error
    array = np.asarray(iio.imread(path))
    if array.ndim == 2:
        array = np.repeat(array[..., None], 3, axis=-1)
    return array[..., :3]


def _read_folder(folder: Path) -> np.ndarray:
    files = sorted((p for p in folder.iterdir()
                    if p.is_file() and p.suffix.lower() in _FRAME_SUFFIXES), key=_natural_key)
    if not files:
        raise ValueError(f"{folder} holds no frames ({', '.join(_FRAME_SUFFIXES)} files)")
    frames = []
    for file in files:
        image = _read_image(file)
        if frames and image.shape != frames[0].shape:
            raise ValueError(f"{file}: frame of shape {image.shape} differs from the first "
                             f"frame's {frames[0].shape}")
        frames.append(image)
    return np.stack(frames)


def _read_mp4(path: Path) -> tuple[np.ndarray, float | None]:
    try:
        import cv2
    except ImportError:
        cv2 = None
    if cv2 is not None:
        capture = cv2.VideoCapture(str(path))
        try:
            if not capture.isOpened():
                raise ValueError(f"{path}: OpenCV cannot open the video")
            fps = float(capture.get(cv2.CAP_PROP_FPS) or 0.0)
            frames = []
            while True:
                ok, image = capture.read()
                if not ok:
                    break
                frames.append(cv2.cvtColor(image, cv2.COLOR_BGR2RGB))
        finally:
            capture.release()
        if not frames:
            raise ValueError(f"{path}: no frames could be decoded")
        return np.stack(frames), (fps if fps > 0 else None)
    try:
        import imageio.v3 as iio
    except ImportError as error:
        raise ImportError(
            f"reading {path} needs OpenCV (pip install opencv-python-headless) or imageio with "
            f"an mp4 plugin (pip install 'imageio[pyav]'); or extract its frames into a folder "
            f"{path.with_suffix('')}/ of PNG or JPEG files") from error
    try:
        frames = [np.asarray(frame)[..., :3] for frame in iio.imiter(path)]
        meta = iio.immeta(path)
    except (ImportError, ValueError, OSError) as error:
        raise ImportError(f"imageio cannot decode {path} ({error}); install an mp4 plugin "
                          f"(pip install 'imageio[pyav]' or imageio-ffmpeg) or OpenCV") from error
    if not frames:
        raise ValueError(f"{path}: no frames could be decoded")
    fps = meta.get("fps") if isinstance(meta, dict) else None
    return np.stack(frames), (float(fps) if fps else None)


def _check_image_size(image_size) -> tuple[int, int] | None:
    if image_size is None:
        return None
    size = tuple(image_size) if np.ndim(image_size) == 1 else ()
    if len(size) != 2 or any(isinstance(s, (bool, np.bool_)) or not isinstance(s, (int, np.integer))
                             or s < 1 for s in size):
        raise ValueError(f"image_size must be None or (height, width) ints >= 1, "
                         f"got {image_size!r}")
    return (int(size[0]), int(size[1]))


def resize_frames(frames: np.ndarray, image_size) -> np.ndarray:
    """Frames resized to ``image_size`` = ``(height, width)`` pixels (bilinear, anti-aliased).

    ``frames``: ``(T, H, W, 3)`` uint8 RGB; returned as-is when already that size, else a new
    ``(T, height, width, 3)`` uint8 array (computed 64 frames at a time to bound memory).

    Examples
    --------
    >>> resize_frames(np.zeros((2, 64, 48, 3), dtype=np.uint8), (32, 24)).shape
    (2, 32, 24, 3)
    """
    size = _check_image_size(image_size)
    if size is None:
        raise ValueError("image_size must be (height, width) ints >= 1, got None")
    if not isinstance(frames, np.ndarray) or frames.dtype != np.uint8 or frames.ndim != 4 \
            or frames.shape[-1] != 3:
        raise ValueError(f"frames must be a (T, H, W, 3) uint8 array, got "
                         f"{getattr(frames, 'shape', type(frames).__name__)} "
                         f"{getattr(frames, 'dtype', '')}")
    if frames.shape[1:3] == size:
        return frames
    import torch

    chunk = 64
    out = np.empty((frames.shape[0], *size, 3), dtype=np.uint8)
    for start in range(0, frames.shape[0], chunk):
        block = torch.from_numpy(np.ascontiguousarray(frames[start:start + chunk]))
        block = block.permute(0, 3, 1, 2).to(torch.float32)
        block = torch.nn.functional.interpolate(block, size=size, mode="bilinear",
                                                antialias=True, align_corners=False)
        out[start:start + chunk] = block.round().clamp(0, 255).to(torch.uint8) \
            .permute(0, 2, 3, 1).numpy()
    return out


def read_video_frames(path: Path | str, *, image_size=None) -> tuple[np.ndarray, float | None]:
    """Frames of a video file (mp4...) or of a folder of PNG / JPEG frames.

    Parameters
    ----------
    path:
        A video file (read with OpenCV, else imageio) or a folder whose ``.png``, ``.jpg`` and
        ``.jpeg`` files are the frames in natural name order (``2.png`` before ``10.png``).
    image_size:
        ``(height, width)`` to resize to (bilinear, anti-aliased), or ``None``.

    Returns
    -------
    frames, fps:
        ``(T, H, W, 3)`` uint8 RGB; the video's frame rate, or ``None`` (folders, or a file
        without one).

    Raises
    ------
    FileNotFoundError
        ``path`` does not exist.
    ImportError
        A video file with neither OpenCV nor imageio (with an mp4 plugin) installed; the message
        names the packages.
    """
    path = Path(path)
    size = _check_image_size(image_size)
    if path.is_dir():
        frames, fps = _read_folder(path), None
    elif path.is_file():
        frames, fps = _read_mp4(path)
    else:
        raise FileNotFoundError(f"video {path} does not exist")
    if frames.ndim != 4 or frames.shape[-1] != 3:
        raise ValueError(f"{path}: expected RGB frames (T, H, W, 3), got shape {frames.shape}")
    frames = np.ascontiguousarray(frames, dtype=np.uint8)
    if size is not None:
        frames = resize_frames(frames, size)
    return frames, fps


def _check_fps(fps) -> float | None:
    if fps is None:
        return None
    if isinstance(fps, (bool, np.bool_)) or not isinstance(fps, (int, float, np.number)) \
            or not (math.isfinite(fps) and fps > 0):
        raise ValueError(f"fps must be None or a number > 0, got {fps!r}")
    return float(fps)


def _clip_source(video_dir: Path, clip_id: int) -> Path:
    video = video_dir / f"{clip_id}.mp4"
    if video.is_file():
        return video
    folder = video_dir / str(clip_id)
    if folder.is_dir():
        return folder
    raise FileNotFoundError(f"clip {clip_id}: neither {video} nor a frame folder {folder}/ "
                            f"exists")


def load_golfdb_clip(annotation: GolfDBAnnotation, video_dir: Path | str, *, image_size=None,
                     fps: float | None = None) -> GolfClip:
    """One GolfDB clip: ``video_dir/{id}.mp4`` or the frame folder ``video_dir/{id}/``.

    Parameters
    ----------
    annotation:
        The clip's row (:func:`read_golfdb_annotations`).
    video_dir:
        GolfDB's ``videos_160`` folder (or one like it).
    image_size:
        ``(height, width)`` to resize to, or ``None`` (GolfDB's 160 x 160).
    fps:
        Frame rate to record; default the video's own, or 30 when it has none (frame folders).

    Returns
    -------
    GolfClip
        Events ``annotation.clip_events``; ``params=None``, ``annotation`` set.

    Raises
    ------
    ValueError
        An event frame beyond the clip's decoded frames (naming the clip and the file).
    """
    if not isinstance(annotation, GolfDBAnnotation):
        raise TypeError(f"annotation must be a GolfDBAnnotation, got {type(annotation).__name__}")
    fps = _check_fps(fps)
    source = _clip_source(Path(video_dir), annotation.id)
    frames, video_fps = read_video_frames(source, image_size=image_size)
    events = annotation.clip_events
    if int(events.max()) >= len(frames):
        raise ValueError(f"clip {annotation.id}: {source} has {len(frames)} frames but the events "
                         f"{events.tolist()} (events[1:9] - events[0]) reach frame "
                         f"{int(events.max())}")
    rate = fps if fps is not None else (video_fps if video_fps is not None else _DEFAULT_FPS)
    return GolfClip(frames=frames, events=events, fps=rate,
                    view=annotation.view.replace("-", "_"), params=None, annotation=annotation)


def _find(root: Path, names: Iterable[str]) -> Path | None:
    for folder in (root, root / "data"):
        for name in names:
            if (folder / name).exists():
                return folder / name
    return None


def load_golfdb(root: Path | str, *, annotations: Path | str | None = None,
                video_dir: Path | str | None = None, image_size=None,
                ids: Iterable[int] | None = None, splits: Iterable[int] | None = None,
                fps: float | None = None) -> GolfDataset:
    """GolfDB as a :class:`GolfDataset` with its 4 folds (fold ``k`` = ``split == k + 1``).

    Parameters
    ----------
    root:
        GolfDB's folder. Without ``annotations``, the first of ``golfDB.csv``, ``golfDB.mat``,
        ``golfDB.pkl`` found in ``root`` or ``root/data`` is read; without ``video_dir``,
        ``root/videos_160`` or ``root/data/videos_160``.
    annotations, video_dir:
        Explicit annotation file and clip folder.
    image_size:
        ``(height, width)`` to resize the frames to, or ``None`` (160 x 160).
    ids, splits:
        Load only these clip ids / splits (1-4); ``None``: all. Clips keep the file's order.
    fps:
        See :func:`load_golfdb_clip`.

    Returns
    -------
    GolfDataset
        ``config=None``, ``seed=None``; each clip's :class:`GolfDBAnnotation` in
        ``clip.annotation``.

    Raises
    ------
    FileNotFoundError
        No annotation file or clip folder found, or a clip's video is missing.
    ValueError
        Unknown ``ids`` or ``splits`` outside 1-4, and the errors of the readers.
    """
    root = Path(root)
    if annotations is None:
        found = _find(root, _ANNOTATION_NAMES)
        if found is None:
            raise FileNotFoundError(f"no GolfDB annotation file ({', '.join(_ANNOTATION_NAMES)}) "
                                    f"in {root} or {root / 'data'}")
        annotations = found
    if video_dir is None:
        found = _find(root, [_VIDEO_FOLDER])
        if found is None or not found.is_dir():
            raise FileNotFoundError(f"no clip folder {_VIDEO_FOLDER}/ in {root} or "
                                    f"{root / 'data'}")
        video_dir = found
    video_dir = Path(video_dir)
    if not video_dir.is_dir():
        raise FileNotFoundError(f"video_dir {video_dir} is not a folder")
    _check_image_size(image_size)
    _check_fps(fps)
    rows = read_golfdb_annotations(annotations)
    if splits is not None:
        wanted_splits = set()
        for split in splits:
            if isinstance(split, (bool, np.bool_)) or not isinstance(split, (int, np.integer)) \
                    or not 1 <= split <= 4:
                raise ValueError(f"splits must hold ints in 1..4, got {split!r}")
            wanted_splits.add(int(split))
        rows = tuple(r for r in rows if r.split in wanted_splits)
    if ids is not None:
        wanted = []
        for clip_id in ids:
            if isinstance(clip_id, (bool, np.bool_)) or not isinstance(clip_id, (int, np.integer)):
                raise ValueError(f"ids must hold ints, got {clip_id!r}")
            wanted.append(int(clip_id))
        unknown = sorted(set(wanted) - {r.id for r in rows})
        if unknown:
            raise ValueError(f"ids {unknown[:5]} are not in {annotations}"
                             + (" (within the chosen splits)" if splits is not None else ""))
        rows = tuple(r for r in rows if r.id in set(wanted))
    clips = tuple(load_golfdb_clip(row, video_dir, image_size=image_size, fps=fps)
                  for row in rows)
    folds = tuple(np.array([i for i, row in enumerate(rows) if row.fold == k], dtype=np.int64)
                  for k in range(4))
    return GolfDataset(clips=clips, folds=folds, config=None, seed=None)
