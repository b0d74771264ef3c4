"""Drums: generated grooves (:class:`DrumConfig`, :class:`Groove`, :func:`generate_groove`)
played on the GM drum kit of the soundfonts (:func:`render_drum_dataset`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from ._common import _check_number, _check_range, _piece_rng, _sha256
from .cache import _cache_root, _render_cached
from .pieces import DRUM_CLASSES, MusicDataset, MusicPiece, _sorted_piece
from .soundfonts import SOUNDFONTS, TRAINING_SOUNDFONTS, render_notes, soundfont_path

DRUM_KEYS = {36: "KD", 38: "SD", 42: "HH", 46: "HH"}
"""GM drum keys the generator plays and their class."""


@dataclass(frozen=True)
class DrumConfig:
    """Drum groove generation and rendering settings.

    Attributes
    ----------
    num_grooves : int
        Grooves per soundfont (each groove is its own work; piece ``'groove-<i>@<font>'``).
    soundfonts : tuple of str
        Fonts whose drum kit (bank 128, preset 0) plays every groove.
        Default :data:`~softloc.data.music.TRAINING_SOUNDFONTS` (TimGM6mb, Merlin): FluidR3
        and GMbank stay unheard for held-out tests.
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
    soundfonts: tuple[str, ...] = TRAINING_SOUNDFONTS
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
