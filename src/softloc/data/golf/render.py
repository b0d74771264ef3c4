"""The numpy renderer (:func:`render_clip`): a swing's frames drawn as anti-aliased limbs over a
procedural background, with lighting, motion blur, flicker and sensor noise."""

from __future__ import annotations

import numpy as np

from .clip import GolfClip
from .swing import SwingParams, event_frames, swing_pose


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

    Examples
    --------
    >>> import numpy as np
    >>> from softloc.data.golf import SwingParams, event_frames
    >>> params = SwingParams(fps=30.0)
    >>> clip = render_clip(params, np.random.default_rng(0), image_size=(32, 48),
    ...                    motion_blur_subframes=1)
    >>> clip.frames.shape == (params.num_frames, 32, 48, 3)
    True
    >>> np.array_equal(clip.events, event_frames(params)), clip.params is params
    (True, True)
    >>> moving = np.abs(np.diff(clip.frames.astype(int), axis=0)).mean(axis=(1, 2, 3))
    >>> bool(moving[clip.events[5] - 1] > moving[0])  # the club moves fast before impact
    True
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
