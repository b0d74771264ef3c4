"""Golf-swing videos: swing geometry, event frames, renderer, cached data set."""

from __future__ import annotations

import json
import math
import sys
import types
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

import softloc.data.golf as golf
from softloc.data import (
    GOLF_EVENTS,
    GOLF_VIEWS,
    GOLFDB_COLUMNS,
    CacheIntegrityError,
    GolfClip,
    GolfConfig,
    GolfDBAnnotation,
    SwingParams,
    event_frames,
    event_times,
    generate_golf_dataset,
    load_golfdb,
    load_golfdb_clip,
    pce_tolerance,
    read_golfdb_annotations,
    read_video_frames,
    render_clip,
    sample_swing_params,
    swing_angles,
    swing_pose,
    write_golfdb_csv,
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

    monkeypatch.setattr(golf.dataset, "render_clip", failing)
    with pytest.raises(KeyboardInterrupt):
        generate_golf_dataset(SMALL, seed=5, cache_dir=tmp_path)
    (folder,) = tmp_path.iterdir()
    manifest = json.loads((folder / "manifest.json").read_text())
    assert sorted(manifest["clips"]) == ["clip_00000.npz", "clip_00001.npz"]

    counted = []
    monkeypatch.setattr(golf.dataset, "render_clip",
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


# ----------------------------------------------------------------------------------------------
# GolfDB on disk (small files in GolfDB's layout, written here)
# ----------------------------------------------------------------------------------------------

Image = pytest.importorskip("PIL.Image")


def _annotations() -> list[GolfDBAnnotation]:
    """Four clips, one per split, in the original videos' numbering (clip start 100 + 7 i)."""
    rows = []
    for i, view in enumerate(["face-on", "down-the-line", "other", "face-on"]):
        start = 100 + 7 * i
        events = [start] + [start + 1 + 2 * k + i % 2 for k in range(8)] + [start + 19 + i]
        rows.append(GolfDBAnnotation(
            id=10 + i, youtube_id=f"yt{i}", player=f"PLAYER {i}", sex="f" if i % 2 else "m",
            club="driver", view=view, slow=i == 2, events=events,
            bbox=[0.1, 0.2, 0.5, 0.6 + i / 100], split=(i + 1) % 4 + 1))
    return rows


def _frames(annotation: GolfDBAnnotation, size: int = 12) -> np.ndarray:
    rng = np.random.default_rng(annotation.id)
    return rng.integers(0, 256, (annotation.num_frames, size, size, 3), dtype=np.uint8)


def _write_folder(folder: Path, frames: np.ndarray, suffix: str = ".png") -> None:
    folder.mkdir(parents=True)
    for k, frame in enumerate(frames):  # unpadded numbers: natural order must be used
        Image.fromarray(frame).save(folder / f"frame{k}{suffix}")


@pytest.fixture
def golfdb(tmp_path) -> Path:
    """GolfDB's layout: golfDB.csv and videos_160/{id}/ frame folders."""
    rows = _annotations()
    write_golfdb_csv(rows, tmp_path / "golfDB.csv")
    for row in rows:
        _write_folder(tmp_path / "videos_160" / str(row.id), _frames(row))
    return tmp_path


def test_csv_annotations_round_trip(tmp_path):
    rows = _annotations()
    write_golfdb_csv(rows, tmp_path / "a.csv")
    again = read_golfdb_annotations(tmp_path / "a.csv")
    assert list(again) == rows
    header = (tmp_path / "a.csv").read_text().splitlines()[0]
    assert header == ",".join(GOLFDB_COLUMNS)
    first = again[0]
    assert first.clip_events.tolist() == [1, 3, 5, 7, 9, 11, 13, 15]
    assert first.num_frames == 20 and first.fold == first.split - 1
    assert again[2].slow and not again[0].slow
    json.dumps(first.to_dict())
    # hand-written CSV cells: brackets, commas, true/false, whole floats
    (tmp_path / "b.csv").write_text(
        ",".join(GOLFDB_COLUMNS) + "\n"
        '3.0,abc,P,m,iron,face-on,true,"[5, 6, 7, 8, 9, 10, 11, 12, 13, 20]",'
        '"(0.1, 0.1, 0.9, 0.9)",2\n')
    row, = read_golfdb_annotations(tmp_path / "b.csv")
    assert row.id == 3 and row.slow and row.split == 2 and row.num_frames == 16


def test_mat_annotations_in_golfdbs_layout(tmp_path):
    scipy_io = pytest.importorskip("scipy.io")
    rows = _annotations()
    table = np.zeros((1, len(rows)), dtype=[(name, "O") for name in GOLFDB_COLUMNS])
    for i, row in enumerate(rows):  # the nesting loadmat gives GolfDB's golfDB.mat
        record = table[0, i]
        record["id"] = np.array([[row.id]], dtype=np.uint16)
        for name in ("youtube_id", "player", "sex", "club", "view"):
            record[name] = np.array([getattr(row, name)])
        record["slow"] = np.array([[int(row.slow)]], dtype=np.uint8)
        record["events"] = row.events[None, :].astype(float)
        record["bbox"] = row.bbox[None, :]
        record["split"] = np.array([[row.split]], dtype=np.uint8)
    scipy_io.savemat(tmp_path / "golfDB.mat", {"golfDB": table})
    assert list(read_golfdb_annotations(tmp_path / "golfDB.mat")) == rows


def test_pickle_without_pandas_names_the_package(tmp_path, monkeypatch):
    (tmp_path / "golfDB.pkl").write_bytes(b"not read")
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(ImportError, match=r"pip install pandas"):
        read_golfdb_annotations(tmp_path / "golfDB.pkl")


@pytest.mark.parametrize(("cells", "message"), [
    ({"events": "1 2 3"}, "events must be 10"),
    ({"events": "10 12 14 16 18 20 22 24 26 20"}, "between the clip's start and end"),
    ({"events": "10 12 x 16 18 20 22 24 26 30"}, "'events' must hold numbers"),
    ({"split": "5"}, "split must be an int in 1..4"),
    ({"bbox": "0.1 0.2"}, "bbox must be 4"),
    ({"id": "-1"}, "id must be an int >= 0"),
])
def test_bad_annotation_rows_name_the_column(tmp_path, cells, message):
    row = {"id": "1", "youtube_id": "y", "player": "P", "sex": "m", "club": "driver",
           "view": "face-on", "slow": "0", "events": "10 12 14 16 18 20 22 24 26 30",
           "bbox": "0 0 1 1", "split": "1", **cells}
    (tmp_path / "a.csv").write_text(",".join(GOLFDB_COLUMNS) + "\n"
                                    + ",".join(f'"{row[c]}"' for c in GOLFDB_COLUMNS) + "\n")
    with pytest.raises(ValueError, match=message):
        read_golfdb_annotations(tmp_path / "a.csv")


def test_bad_annotation_files(tmp_path):
    (tmp_path / "a.csv").write_text("id,events\n1,2\n")
    with pytest.raises(ValueError, match="missing GolfDB columns"):
        read_golfdb_annotations(tmp_path / "a.csv")
    (tmp_path / "a.txt").write_text("")
    with pytest.raises(ValueError, match=r"\.csv, \.mat or \.pkl"):
        read_golfdb_annotations(tmp_path / "a.txt")
    with pytest.raises(FileNotFoundError, match="golfDB.csv"):
        read_golfdb_annotations(tmp_path / "golfDB.csv")
    rows = _annotations()
    write_golfdb_csv(rows + rows[:1], tmp_path / "twice.csv")
    with pytest.raises(ValueError, match=r"unique, repeated: \[10\]"):
        read_golfdb_annotations(tmp_path / "twice.csv")


def test_load_golfdb_from_frame_folders(golfdb):
    rows = _annotations()
    data = load_golfdb(golfdb)
    assert data.config is None and data.seed is None and len(data.clips) == 4
    for row, clip in zip(rows, data.clips):
        assert np.array_equal(clip.frames, _frames(row))  # PNG is lossless
        assert clip.frames.dtype == np.uint8 and clip.frames.shape == (row.num_frames, 12, 12, 3)
        assert np.array_equal(clip.events, row.events[1:9] - row.events[0])
        assert clip.fps == 30.0 and clip.params is None and clip.annotation == row
        assert clip.view == row.view.replace("-", "_")
        assert clip.tolerance == 1
    assert [f.tolist() for f in data.folds] == [[3], [0], [1], [2]]  # fold k = split k + 1
    train, test = data.split(1)
    assert [c.annotation.id for c in test] == [10] and len(train) == 3

    subset = load_golfdb(golfdb, splits=[1, 2], image_size=(8, 6), fps=60)
    assert [c.annotation.id for c in subset.clips] == [10, 13]  # splits 2 and 1
    assert [f.tolist() for f in subset.folds] == [[1], [0], [], []]
    assert subset.clips[0].frames.shape[1:] == (8, 6, 3) and subset.clips[0].fps == 60.0
    by_id = load_golfdb(golfdb, ids=[13, 10])
    assert [c.annotation.id for c in by_id.clips] == [10, 13]


def test_load_golfdb_finds_golfdbs_repository_layout(golfdb, tmp_path):
    data_dir = golfdb / "data"
    data_dir.mkdir()
    (golfdb / "golfDB.csv").rename(data_dir / "golfDB.csv")
    (golfdb / "videos_160").rename(data_dir / "videos_160")
    assert len(load_golfdb(golfdb).clips) == 4
    explicit = load_golfdb(tmp_path / "elsewhere", annotations=data_dir / "golfDB.csv",
                           video_dir=data_dir / "videos_160", ids=[11])
    assert len(explicit.clips) == 1


def test_load_golfdb_errors(golfdb, tmp_path):
    with pytest.raises(FileNotFoundError, match="annotation file"):
        load_golfdb(tmp_path / "empty")
    with pytest.raises(ValueError, match=r"ids \[99\]"):
        load_golfdb(golfdb, ids=[99])
    with pytest.raises(ValueError, match="splits"):
        load_golfdb(golfdb, splits=[0])
    with pytest.raises(ValueError, match="image_size"):
        load_golfdb(golfdb, image_size=(0, 4))
    with pytest.raises(ValueError, match="fps"):
        load_golfdb(golfdb, fps=-1)
    row = _annotations()[0]
    with pytest.raises(FileNotFoundError, match="10.mp4"):
        load_golfdb_clip(row, tmp_path)
    short = tmp_path / "short"
    _write_folder(short / "10", _frames(row)[:12])  # the clip ends before the finish event
    with pytest.raises(ValueError, match="clip 10: .* has 12 frames"):
        load_golfdb_clip(row, short)


def test_read_video_frames_folder_and_resize(tmp_path):
    frames = np.zeros((3, 20, 16, 3), dtype=np.uint8)
    frames[..., 0] = 200
    frames[1, ..., 1] = 50
    _write_folder(tmp_path / "png", frames)
    read, fps = read_video_frames(tmp_path / "png")
    assert fps is None and np.array_equal(read, frames)
    small, _ = read_video_frames(tmp_path / "png", image_size=(5, 4))
    assert small.shape == (3, 5, 4, 3) and small.dtype == np.uint8
    assert np.all(small[..., 0] == 200) and np.all(small[1, ..., 1] == 50)  # flat stays flat
    _write_folder(tmp_path / "jpg", frames, ".jpg")
    jpeg, _ = read_video_frames(tmp_path / "jpg")
    assert jpeg.shape == frames.shape and np.abs(jpeg.astype(int) - frames).max() <= 8
    (tmp_path / "none").mkdir()
    with pytest.raises(ValueError, match="holds no frames"):
        read_video_frames(tmp_path / "none")
    Image.fromarray(np.zeros((4, 4, 3), dtype=np.uint8)).save(tmp_path / "png" / "frame9.png")
    with pytest.raises(ValueError, match="frame9.png: frame of shape"):
        read_video_frames(tmp_path / "png")
    with pytest.raises(FileNotFoundError):
        read_video_frames(tmp_path / "missing.mp4")


def test_mp4_without_a_reader_names_the_packages(tmp_path, monkeypatch):
    (tmp_path / "1.mp4").write_bytes(b"\x00" * 16)
    monkeypatch.setitem(sys.modules, "cv2", None)
    monkeypatch.setitem(sys.modules, "imageio", None)
    monkeypatch.setitem(sys.modules, "imageio.v3", None)
    with pytest.raises(ImportError, match=r"opencv-python-headless.*imageio\[pyav\]"):
        read_video_frames(tmp_path / "1.mp4")


def test_mp4_through_opencv_is_converted_from_bgr(tmp_path, monkeypatch):
    """The OpenCV path, with a stand-in cv2 module (no video codec is installed here)."""
    rgb = np.random.default_rng(0).integers(0, 256, (4, 6, 6, 3), dtype=np.uint8)

    class Capture:
        def __init__(self, path):
            self.left = list(rgb[..., ::-1])  # OpenCV decodes to BGR
            self.released = False

        def isOpened(self):
            return True

        def get(self, prop):
            return 59.94 if prop == "fps" else 0.0

        def read(self):
            return (True, self.left.pop(0)) if self.left else (False, None)

        def release(self):
            self.released = True

    fake = types.SimpleNamespace(VideoCapture=Capture, CAP_PROP_FPS="fps", COLOR_BGR2RGB="rgb",
                                 cvtColor=lambda image, code: image[..., ::-1])
    monkeypatch.setitem(sys.modules, "cv2", fake)
    (tmp_path / "7.mp4").write_bytes(b"")
    frames, fps = read_video_frames(tmp_path / "7.mp4")
    assert np.array_equal(frames, rgb) and fps == 59.94
    row = replace(_annotations()[0], id=7,
                  events=np.array([50, 50, 51, 51, 52, 52, 53, 53, 53, 53]))
    clip = load_golfdb_clip(row, tmp_path)
    assert clip.fps == 59.94 and clip.events.tolist() == [0, 1, 1, 2, 2, 3, 3, 3]
