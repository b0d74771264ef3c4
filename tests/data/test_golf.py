"""Golf-swing videos: swing geometry, event frames, renderer, cached data set."""

from __future__ import annotations

import json
import math
from dataclasses import replace

import numpy as np
import pytest

import softloc.data.golf as golf
from softloc.data import (
    GOLF_EVENTS,
    GOLF_VIEWS,
    CacheIntegrityError,
    GolfClip,
    GolfConfig,
    SwingParams,
    event_frames,
    event_times,
    generate_golf_dataset,
    pce_tolerance,
    render_clip,
    sample_swing_params,
    swing_angles,
    swing_pose,
)

SMALL = GolfConfig(num_clips=4, num_folds=4, image_size=(24, 24), motion_blur_subframes=2,
                   slow_motion_fps=(45.0, 60.0), pre_address=(0.1, 0.2), hold=(0.1, 0.2),
                   backswing=(0.6, 0.8))


def _params(n: int = 40, seed: int = 0, **changes) -> list[SwingParams]:
    rng = np.random.default_rng(seed)
    config = replace(GolfConfig(), **changes)
    return [sample_swing_params(config, rng) for _ in range(n)]


def _frame_geometry(p: SwingParams):
    t = np.arange(p.num_frames) / p.fps
    pose = swing_pose(p, t)
    return pose["theta"], pose["phi"], np.linalg.norm(pose["club_head"], axis=1)


@pytest.mark.parametrize("slow", [0.0, 1.0])
def test_events_are_where_the_geometry_says(slow):
    for p in _params(slow_motion_share=slow):
        events = event_frames(p)
        theta, phi, head_to_ball = _frame_geometry(p)
        shaft = theta + phi
        half = math.pi / 2
        last = p.num_frames - 1
        assert np.all(np.diff(events) > 0) and events[0] >= 0 and events[-1] <= last

        def best_in_neighbourhood(k, quantity, target):
            ks = np.arange(max(k - 1, 0), min(k + 1, last) + 1)
            return np.abs(quantity[k] - target) <= np.abs(quantity[ks] - target).min() + 1e-12

        assert best_in_neighbourhood(events[1], shaft, half)  # toe-up
        assert best_in_neighbourhood(events[2], theta, half)  # mid-backswing
        assert best_in_neighbourhood(events[4], theta, half)  # mid-downswing
        assert best_in_neighbourhood(events[6], shaft, -half)  # mid-follow-through
        # in 3-D: the lead arm (pivot -> hands) is the most level of its neighbours
        pose = swing_pose(p, np.arange(p.num_frames) / p.fps)
        rise = np.abs(pose["hands"][:, 1] - pose["pivot"][:, 1])
        for k in (events[2], events[4]):
            assert rise[k] <= rise[k - 1: k + 2].min() + 1e-12
        # the crossing lies between the event frame and a neighbour
        assert (shaft[events[1] - 1] - half) * (shaft[events[1] + 1] - half) < 0
        assert (theta[events[2] - 1] - half) * (theta[events[2] + 1] - half) < 0
        assert (theta[events[4] - 1] - half) * (theta[events[4] + 1] - half) < 0
        # top: largest lead-arm angle; impact: head nearest the ball after the top
        assert theta[events[3]] == pytest.approx(theta.max(), abs=1e-12)
        after_top = np.arange(events[3], events[7] + 1)
        assert events[5] == after_top[np.argmin(head_to_ball[after_top])]
        head_t = swing_pose(p, np.array([-0.5, 0.5]) / p.fps + event_times(p)[5])["club_head"]
        assert head_to_ball[events[5]] <= np.linalg.norm(head_t, axis=1).max() + 1e-9
        # address / finish: the nearest frames to the start / end of motion
        assert np.all(theta[: max(events[0] - 1, 0)] == 0) and theta[events[0] + 1] > 0
        assert np.all(theta[events[7] + 1:] == theta[-1])
        # events within a frame of the analytic crossing times
        assert np.all(np.abs(events - event_times(p) * p.fps) <= 1.0 + 1e-9)


def test_swing_timing_is_realistic():
    p = SwingParams(backswing=0.9, pause=0.2, downswing=0.3)
    times = event_times(p)
    assert times[3] - times[0] > 2.5 * (times[5] - times[3])  # slow backswing, fast downswing
    t = np.linspace(0, p.duration, 2001)
    theta, phi = swing_angles(p, t)
    assert np.all(np.isfinite(theta)) and np.max(np.abs(np.diff(theta))) < 0.1  # continuous
    on_top = (t > p.pre_address + p.backswing) & (t < p.pre_address + p.backswing + p.pause)
    assert np.allclose(theta[on_top], math.radians(p.top_angle))  # the pause at the top
    impact = swing_pose(p, [times[5]])
    assert np.allclose(impact["club_head"], 0, atol=1e-12)  # the head at the ball
    assert theta.min() == pytest.approx(-math.radians(p.finish_angle))
    slow = replace(p, fps=120.0)
    assert pce_tolerance(event_frames(slow)) > pce_tolerance(event_frames(p)) == 1


def test_sampled_params_vary():
    params = _params(60, seed=3, slow_motion_share=0.5)
    assert {p.view for p in params} == set(GOLF_VIEWS)
    assert {p.fps for p in params} - {30.0}  # some slow motion
    for name in ("arm_length", "pause", "zoom", "camera_x", "top_angle"):
        assert np.std([getattr(p, name) for p in params]) > 0


def test_render_shape_range_and_determinism():
    p = _params(1, seed=1)[0]
    clip = render_clip(p, np.random.default_rng(7), image_size=(20, 28))
    assert isinstance(clip, GolfClip)
    assert clip.frames.shape == (p.num_frames, 20, 28, 3) and clip.frames.dtype == np.uint8
    assert clip.events.shape == (8,) and clip.events.dtype == np.int64
    assert np.array_equal(clip.events, event_frames(p))
    assert clip.golfdb_events.shape == (10,) and clip.golfdb_events[-1] == p.num_frames - 1
    again = render_clip(p, np.random.default_rng(7), image_size=(20, 28))
    assert np.array_equal(clip.frames, again.frames)
    other = render_clip(p, np.random.default_rng(8), image_size=(20, 28))
    assert not np.array_equal(clip.frames, other.frames)
    # the picture moves during the swing and is still before address
    quiet = render_clip(p, np.random.default_rng(7), image_size=(20, 28), noise_std=0.0)
    f = quiet.frames.astype(float)
    assert np.abs(f[quiet.events[3]] - f[quiet.events[0]]).mean() > 1.0


def test_views_are_different_projections():
    p = SwingParams()
    size = (32, 32)
    face = golf._project(p, swing_pose(p, [event_times(p)[3]])["club_head"], size)
    down = golf._project(replace(p, view="down_the_line"),
                         swing_pose(p, [event_times(p)[3]])["club_head"], size)
    assert not np.allclose(face, down)
    assert face[0, 1] == pytest.approx(down[0, 1])  # the same height on screen


def test_dataset_folds_and_determinism():
    data = generate_golf_dataset(SMALL, seed=2)
    assert len(data.clips) == 4 and len(data.folds) == 4
    assert sorted(np.concatenate(data.folds).tolist()) == [0, 1, 2, 3]
    train, test = data.split(1)
    assert len(train) == 3 and len(test) == 1
    again = generate_golf_dataset(SMALL, seed=2)
    other = generate_golf_dataset(SMALL, seed=3)
    assert all(np.array_equal(a.frames, b.frames) for a, b in zip(data.clips, again.clips))
    assert not np.array_equal(data.clips[0].frames, other.clips[0].frames)
    for clip in data.clips:
        assert clip.frames.shape[1:] == (24, 24, 3)
        assert np.all(np.diff(clip.events) > 0)


def test_cache_round_trip_and_resume(tmp_path, monkeypatch):
    fresh = generate_golf_dataset(SMALL, seed=5)
    calls = []
    real = golf.render_clip

    def failing(*args, **kwargs):
        if len(calls) == 2:
            raise KeyboardInterrupt("interrupted")
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(golf, "render_clip", failing)
    with pytest.raises(KeyboardInterrupt):
        generate_golf_dataset(SMALL, seed=5, cache_dir=tmp_path)
    (folder,) = tmp_path.iterdir()
    manifest = json.loads((folder / "manifest.json").read_text())
    assert sorted(manifest["clips"]) == ["clip_00000.npz", "clip_00001.npz"]

    counted = []
    monkeypatch.setattr(golf, "render_clip",
                        lambda *a, **k: counted.append(1) or real(*a, **k))
    resumed = generate_golf_dataset(SMALL, seed=5, cache_dir=tmp_path)
    assert len(counted) == 2  # only the two missing clips
    loaded = generate_golf_dataset(SMALL, seed=5, cache_dir=tmp_path)
    assert len(counted) == 2  # nothing rendered: all from the cache
    for a, b, c in zip(fresh.clips, resumed.clips, loaded.clips):
        assert np.array_equal(a.frames, b.frames) and np.array_equal(a.frames, c.frames)
        assert np.array_equal(a.events, c.events) and a.params == c.params
        assert c.fps == a.fps and c.view == a.view
    assert not list(folder.glob("*.tmp"))

    path = folder / "clip_00003.npz"
    path.write_bytes(path.read_bytes()[:-10] + b"0123456789")
    with pytest.raises(CacheIntegrityError, match="clip_00003"):
        generate_golf_dataset(SMALL, seed=5, cache_dir=tmp_path)


@pytest.mark.parametrize("field, value", [
    ("num_clips", 0), ("num_folds", 0), ("image_size", (8, 64)), ("image_size", 64),
    ("face_on_share", 1.5), ("slow_motion_fps", (120.0, 60.0)), ("backswing", (0.0, 1.0)),
    ("noise_std", (-1.0, 2.0)), ("motion_blur_subframes", 0), ("normal_fps", 0.0),
])
def test_bad_config_names_the_field(field, value):
    with pytest.raises(ValueError, match=field):
        GolfConfig(**{field: value})


@pytest.mark.parametrize("field, value", [
    ("top_angle", 80.0), ("finish_angle", 300.0), ("view", "overhead"), ("fps", 0.0),
    ("pause", -0.1), ("exposure", 2.0), ("plane_angle", 95.0),
])
def test_bad_params_name_the_field(field, value):
    with pytest.raises(ValueError, match=field):
        SwingParams(**{field: value})


def test_config_round_trip_and_misc():
    config = GolfConfig(num_clips=8)
    assert GolfConfig(**config.to_dict()) == config
    p = SwingParams(view="down_the_line")
    assert SwingParams(**json.loads(json.dumps(p.to_dict()))) == p
    assert len(GOLF_EVENTS) == 8
    assert pce_tolerance([0, 10, 20, 30, 40, 45, 100, 110, 120, 130]) == 3
    with pytest.raises(ValueError, match="events"):
        pce_tolerance([1, 2, 3])
    with pytest.raises(ValueError, match="seed"):
        generate_golf_dataset(SMALL, seed=-1)
