"""One recording and its notes (:class:`MusicPiece`), the class vocabularies of the piano and
the drums (:data:`PIANO_CLASSES`, :data:`DRUM_CLASSES`), and data sets of pieces with their split
by work (:class:`MusicDataset`, :class:`MusicSplit`)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ._common import _check_number

PIANO_CLASSES = tuple(
    f"{['C', 'C#', 'D', 'D#', 'E', 'F', 'F#', 'G', 'G#', 'A', 'A#', 'B'][p % 12]}{p // 12 - 1}"
    for p in range(21, 109)
)
"""The 88 piano keys A0 .. C8; class ``k`` is MIDI pitch ``21 + k``."""

DRUM_CLASSES = ("HH", "KD", "SD")
"""Drum classes in the authors' channel order: hi-hat, kick drum, snare drum."""


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
