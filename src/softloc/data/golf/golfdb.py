"""GolfDB on disk: its annotation table (:class:`GolfDBAnnotation`,
:func:`read_golfdb_annotations`, :func:`write_golfdb_csv`) and its clips as
:class:`~softloc.data.golf.clip.GolfClip` / :class:`~softloc.data.golf.dataset.GolfDataset`
(:func:`load_golfdb_clip`, :func:`load_golfdb`)."""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..._io import write_text_atomic
from .clip import GolfClip
from .dataset import GolfDataset
from .video import _check_image_size, read_video_frames

GOLFDB_COLUMNS = ("id", "youtube_id", "player", "sex", "club", "view", "slow", "events", "bbox",
                  "split")
"""The columns of GolfDB's annotation table, in its order."""

_ANNOTATION_NAMES = ("golfDB.csv", "golfDB.mat", "golfDB.pkl")
_VIDEO_FOLDER = "videos_160"
_DEFAULT_FPS = 30.0


@dataclass(frozen=True, eq=False)
class GolfDBAnnotation:
    """One row of GolfDB's annotation table (:mod:`softloc.data.golf` docstring, "GolfDB on disk").

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

    Examples
    --------
    >>> row = GolfDBAnnotation(id=7, youtube_id="abc", player="A", sex="f", club="driver",
    ...                        view="face-on", slow=False, split=2, bbox=[0.1, 0.1, 0.5, 0.8],
    ...                        events=[100, 101, 102, 103, 104, 105, 106, 107, 108, 111])
    >>> row.clip_events.tolist(), row.num_frames, row.fold
    ([1, 2, 3, 4, 5, 6, 7, 8], 12, 1)
    >>> row.to_dict()["events"][0], GolfDBAnnotation(**row.to_dict()) == row
    (100, True)
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
        The file; its suffix picks the reader (:mod:`softloc.data.golf` docstring, "GolfDB on
        disk").

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
    installed. Written atomically.

    Examples
    --------
    >>> import os, tempfile
    >>> row = GolfDBAnnotation(id=3, youtube_id="abc", player="A", sex="m", club="iron",
    ...                        view="other", slow=True, split=4, bbox=[0.0, 0.0, 1.0, 1.0],
    ...                        events=list(range(10)))
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = os.path.join(folder, "golfDB.csv")
    ...     write_golfdb_csv([row], path)
    ...     with open(path) as f:
    ...         lines = f.read().splitlines()
    ...     again, = read_golfdb_annotations(path)
    >>> lines[0]
    'id,youtube_id,player,sex,club,view,slow,events,bbox,split'
    >>> lines[1]
    '3,abc,A,m,iron,other,1,0 1 2 3 4 5 6 7 8 9,0.0 0.0 1.0 1.0,4'
    >>> again == row
    True
    """
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

    Examples
    --------
    A 12-frame clip stored as a folder of PNG frames (no frame rate: 30 is recorded):

    >>> import os, tempfile
    >>> import numpy as np
    >>> from PIL import Image
    >>> row = GolfDBAnnotation(id=7, youtube_id="abc", player="A", sex="f", club="driver",
    ...                        view="face-on", slow=False, split=2, bbox=[0.1, 0.1, 0.5, 0.8],
    ...                        events=[100, 101, 102, 103, 104, 105, 106, 107, 108, 111])
    >>> def write_clip(root):  # GolfDB's layout: golfDB.csv, videos_160/7/ with 12 frames
    ...     write_golfdb_csv([row], os.path.join(root, "golfDB.csv"))
    ...     os.makedirs(os.path.join(root, "videos_160", "7"))
    ...     for k in range(12):
    ...         frame = np.full((20, 20, 3), 20 * k, dtype=np.uint8)
    ...         Image.fromarray(frame).save(os.path.join(root, "videos_160", "7", f"{k}.png"))
    >>> with tempfile.TemporaryDirectory() as root:
    ...     write_clip(root)
    ...     clip = load_golfdb_clip(row, os.path.join(root, "videos_160"), image_size=(16, 16))
    >>> clip.frames.shape, clip.events.tolist(), clip.fps, clip.view
    ((12, 16, 16, 3), [1, 2, 3, 4, 5, 6, 7, 8], 30.0, 'face_on')
    >>> clip.annotation is row, clip.params is None
    (True, True)
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

    Examples
    --------
    A GolfDB folder of one clip (split 2, so fold 1); a folder without annotations is refused:

    >>> import os, tempfile
    >>> import numpy as np
    >>> from PIL import Image
    >>> row = GolfDBAnnotation(id=7, youtube_id="abc", player="A", sex="f", club="driver",
    ...                        view="face-on", slow=False, split=2, bbox=[0.1, 0.1, 0.5, 0.8],
    ...                        events=[100, 101, 102, 103, 104, 105, 106, 107, 108, 111])
    >>> def write_clip(root):  # GolfDB's layout: golfDB.csv, videos_160/7/ with 12 frames
    ...     write_golfdb_csv([row], os.path.join(root, "golfDB.csv"))
    ...     os.makedirs(os.path.join(root, "videos_160", "7"))
    ...     for k in range(12):
    ...         frame = np.full((20, 20, 3), 20 * k, dtype=np.uint8)
    ...         Image.fromarray(frame).save(os.path.join(root, "videos_160", "7", f"{k}.png"))
    >>> with tempfile.TemporaryDirectory() as root:
    ...     write_clip(root)
    ...     dataset = load_golfdb(root)
    ...     try:
    ...         load_golfdb(os.path.join(root, "videos_160"))
    ...     except FileNotFoundError as error:
    ...         print(str(error).split(" in ")[0])
    no GolfDB annotation file (golfDB.csv, golfDB.mat, golfDB.pkl)
    >>> len(dataset.clips), [fold.tolist() for fold in dataset.folds], dataset.config
    (1, [[], [0], [], []], None)
    >>> dataset.clips[0].frames.shape, dataset.clips[0].annotation.youtube_id
    ((12, 20, 20, 3), 'abc')
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
