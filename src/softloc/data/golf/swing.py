"""The swing model: a golfer's :class:`SwingParams`, the swing's angles and 3-D pose over time,
and the frames of the 8 :data:`GOLF_EVENTS` it defines (plus GolfDB's PCE tolerance)."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

GOLF_EVENTS = ("address", "toe_up", "mid_backswing", "top", "mid_downswing", "impact",
               "mid_follow_through", "finish")
"""The 8 GolfDB events in order."""

GOLF_VIEWS = ("face_on", "down_the_line")
"""Camera views."""

_DEG = math.pi / 180.0


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

    Examples
    --------
    The defaults: a 2.75 s swing at 30 fps; the follow-through lasts
    ``downswing * finish_angle / top_angle`` seconds:

    >>> params = SwingParams()
    >>> round(params.duration, 3), params.num_frames, round(params.follow_through, 3)
    (2.75, 83, 0.4)
    >>> SwingParams(**params.to_dict()) == params
    True
    >>> SwingParams(plane_angle=95.0)
    Traceback (most recent call last):
    ...
    ValueError: plane_angle must be in (0, 90) degrees, got 95.0
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

    Examples
    --------
    The shaft's angle at the 8 events: 90 deg at toe-up, -90 deg at mid-follow-through (the
    shaft parallel to the ground), 0 at address and impact:

    >>> import numpy as np
    >>> params = SwingParams()
    >>> theta, phi = swing_angles(params, event_times(params))
    >>> np.degrees(theta + phi).round(1).tolist()
    [0.0, 90.0, 144.0, 240.0, 122.4, 0.0, -90.0, -290.0]
    >>> float(np.degrees(theta[3]))  # top: the lead arm at top_angle
    150.0
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

    Examples
    --------
    At impact the club head is at the ball; at toe-up the shaft is level (hands and club head
    at the same height):

    >>> import numpy as np
    >>> params = SwingParams()
    >>> pose = swing_pose(params, event_times(params))
    >>> pose["club_head"].shape, pose["theta"].shape
    ((8, 3), (8,))
    >>> bool(np.allclose(pose["club_head"][5], pose["ball"][5]))  # impact
    True
    >>> bool(np.isclose(pose["club_head"][1, 1], pose["hands"][1, 1]))  # toe-up, y (height)
    True
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
    """Continuous times of the 8 :data:`GOLF_EVENTS`, seconds from the clip start, ``(8,)``.

    Examples
    --------
    >>> params = SwingParams()  # 0.5 s still, then the swing
    >>> event_times(params).round(3).tolist()
    [0.5, 0.857, 0.979, 1.4, 1.64, 1.75, 1.818, 2.15]
    """
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
    """Frame indices of the 8 :data:`GOLF_EVENTS` (see the :mod:`softloc.data.golf` docstring),
    ``(8,)`` int64.

    Not necessarily strictly increasing for every parameter set;
    :func:`sample_swing_params` only returns sets for which they are.

    Examples
    --------
    Frame ``k`` shows time ``k / fps``; slow motion gives more frames per event interval:

    >>> event_frames(SwingParams(fps=30.0)).tolist()
    [15, 26, 29, 42, 49, 52, 55, 65]
    >>> event_frames(SwingParams(fps=120.0)).tolist()
    [60, 103, 118, 168, 197, 210, 218, 258]
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
    (or the 10-entry GolfDB array with the clip bounds).

    Examples
    --------
    >>> pce_tolerance([10, 20, 30, 40, 50, 100, 110, 120])  # (100 - 10) / 30 = 3
    3
    >>> pce_tolerance([0, 10, 20, 30, 40, 50, 60, 70, 80, 90])  # GolfDB's 10: round(50 / 30)
    2
    """
    e = np.asarray(events)
    if e.shape == (10,):
        e = e[1:-1]
    if e.shape != (8,):
        raise ValueError(f"events must have shape (8,) or (10,), got {e.shape}")
    return max(int(round((int(e[5]) - int(e[0])) / 30)), 1)
