"""Piano: works of the music21 corpus (:func:`corpus_works`) with tempo, timing and velocity
variation, played on the GM piano of the soundfonts (:class:`PianoConfig`,
:func:`render_piano_dataset`)."""

from __future__ import annotations

import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from ..._io import write_text_atomic
from ._common import _check_number, _check_range, _piece_rng, _require, _safe_name, _sha256
from .cache import _cache_root, _render_cached, _SkipWork
from .pieces import PIANO_CLASSES, MusicDataset, MusicPiece, _sorted_piece
from .soundfonts import SOUNDFONTS, TRAINING_SOUNDFONTS, render_notes, soundfont_path


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
        Default :data:`~softloc.data.music.TRAINING_SOUNDFONTS` (TimGM6mb, Merlin): FluidR3
        and GMbank stay unheard for held-out tests.
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
    tempo_drift : float
        Standard deviation of a smooth curve of the log tempo over the piece (0: a constant
        tempo; 0.08: about +-8 %), correlated over ``drift_seconds``; the score's times are
        warped by it, so a phrase speeds up and slows down.
    drift_seconds : float
        Correlation time (score seconds) of the tempo and velocity curves.
    chord_spread : float
        Standard deviation (seconds) of the offsets of the notes of one chord (notes with the
        same score onset) around their common time, lowest note earliest on average (a pianist
        rolls chords slightly upwards).
    velocity_contour : float
        Standard deviation (velocity units) of a smooth dynamics curve over the piece (phrases
        swelling and fading), added to every note's velocity.
    melody_accent : float
        Velocity added to the highest note of each chord (the melody voice sings out).
    programs : tuple of int
        General-MIDI piano programs to play every work on, per font: 0 acoustic grand
        (default), 1 bright acoustic, 2 electric grand, 3 honky-tonk. Program 0's pieces are
        named ``'<work>@<font>'``, the others ``'<work>@<font>#<program>'``; the piece's
        ``instrument`` stays the font.
    pedal : float
        Probability that a piece is played with the sustain pedal: the pedal is held down for
        segments of 1 to 4 s with short lifts between, and every note that sounds while it is
        down lasts until the lift (the rendered offsets; onsets do not change).

    Examples
    --------
    >>> config = PianoConfig(works=("bach/bwv1.6",), soundfonts=("TimGM6mb",), max_duration=2.0)
    >>> config.sample_rate, config.tempo_range, config.to_dict()["works"]
    (16000, (0.8, 1.25), ('bach/bwv1.6',))
    >>> PianoConfig().soundfonts  # the training fonts: FluidR3 and GMbank stay unheard
    ('TimGM6mb', 'Merlin')
    >>> try:
    ...     PianoConfig(soundfonts=("Steinway",))
    ... except ValueError as error:
    ...     print(str(error).split(" of ")[0])
    soundfonts must be a non-empty subset
    """

    works: tuple[str, ...] | None = None
    soundfonts: tuple[str, ...] = TRAINING_SOUNDFONTS
    sample_rate: int = 16000
    tempo_range: tuple[float, float] = (0.8, 1.25)
    timing_jitter: float = 0.01
    velocity_mean: float = 80.0
    velocity_std: float = 12.0
    velocity_piece_std: float = 8.0
    max_duration: float | None = None
    tail: float = 1.0
    seed: int = 0
    tempo_drift: float = 0.0
    drift_seconds: float = 4.0
    chord_spread: float = 0.0
    velocity_contour: float = 0.0
    melody_accent: float = 0.0
    pedal: float = 0.0
    programs: tuple[int, ...] = (0,)

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
        _check_number(self.tempo_drift, "tempo_drift", 0.0, 0.5)
        _check_number(self.drift_seconds, "drift_seconds", 0.1, 60.0)
        _check_number(self.chord_spread, "chord_spread", 0.0, 0.1)
        _check_number(self.velocity_contour, "velocity_contour", 0.0, 60.0)
        _check_number(self.melody_accent, "melody_accent", 0.0, 60.0)
        _check_number(self.pedal, "pedal", 0.0, 1.0)
        programs = tuple(self.programs)
        if not programs or len(set(programs)) != len(programs) or any(
                isinstance(p, bool) or not isinstance(p, int) or not 0 <= p <= 7
                for p in programs):
            raise ValueError(f"programs must be distinct GM piano programs in 0 .. 7, got "
                             f"{self.programs!r}")
        object.__setattr__(self, "programs", programs)
        if self.max_duration is not None:
            _check_number(self.max_duration, "max_duration", 1e-3)
        if not isinstance(self.sample_rate, int) or self.sample_rate < 8000:
            raise ValueError(f"sample_rate must be an int >= 8000 (Hz), got {self.sample_rate}")

    def to_dict(self) -> dict:
        return asdict(self)


def _smooth_curve(rng: np.random.Generator, times: np.ndarray, scale: float,
                  correlation: float) -> np.ndarray:
    """A stationary Gaussian process (std ``scale``, squared-exponential correlation of
    ``correlation`` seconds) at ``times``, from random Fourier features (no loop over notes)."""
    if scale == 0 or times.size == 0:
        return np.zeros(times.size)
    features = 64
    frequencies = rng.normal(0.0, 1.0 / correlation, features)
    phases = rng.uniform(0.0, 2.0 * np.pi, features)
    return scale * np.sqrt(2.0 / features) * np.cos(np.outer(times, frequencies) + phases).sum(1)


def _pedal_offsets(rng: np.random.Generator, onsets: np.ndarray,
                   offsets: np.ndarray) -> np.ndarray:
    """Offsets under a sustain pedal: down for segments of 1-4 s, lifted for 50-150 ms between;
    a note sounding at a lift lasts until it."""
    end = float(offsets.max()) if offsets.size else 0.0
    lifts, t = [], float(rng.uniform(0.0, 1.0))
    while t < end:
        t += float(rng.uniform(1.0, 4.0))
        lifts.append(t)
        t += float(rng.uniform(0.05, 0.15))
    lifts = np.asarray(lifts)
    if lifts.size == 0:
        return offsets
    # the first lift after each note's onset: the note is held (at least) until then
    next_lift = lifts[np.minimum(np.searchsorted(lifts, onsets, side="right"), lifts.size - 1)]
    return np.where(next_lift > onsets, np.maximum(offsets, next_lift), offsets)


def _vary_piano(notes: np.ndarray, config: PianoConfig, rng: np.random.Generator) -> np.ndarray:
    """Tempo, timing and velocity variation (and, when configured, a tempo curve, rolled
    chords, dynamics, a singing melody and the sustain pedal); unison duplicates and
    out-of-range keys removed, same-key overlaps cut (a key sounds once at a time)."""
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
    velocities = rng.normal(piece_level, config.velocity_std, len(notes))
    # The options below draw from their own generator, so that a configuration without them
    # keeps the draws above (and the renders of earlier versions) unchanged.
    extra = np.random.default_rng(rng.integers(0, 2**63, size=4))
    score = notes[:, 0]
    if config.tempo_drift > 0 and len(notes):
        # warp: performed time = integral of 1 / (tempo * exp(curve)) over score time
        grid = np.linspace(0.0, float(score.max()) + 1e-9, 2048)
        rate = np.exp(-_smooth_curve(extra, grid, config.tempo_drift, config.drift_seconds))
        warped = np.concatenate([[0.0], np.cumsum(np.diff(grid) * 0.5 * (rate[1:] + rate[:-1]))])
        shift = np.interp(score, grid, warped) / tempo - score / tempo
        onsets = np.maximum(onsets + shift, 0.0)
        durations = durations * np.interp(score, grid, rate)
    chord = np.unique(score, return_inverse=True)[1]  # chord index: notes of one score onset
    if config.chord_spread > 0 and len(notes):
        rank = np.zeros(len(notes))
        for index in np.unique(chord):  # 0 (lowest) .. 1 (highest) within each chord
            members = np.flatnonzero(chord == index)
            if members.size > 1:
                order = np.argsort(np.argsort(notes[members, 2]))
                rank[members] = order / (members.size - 1) - 0.5
        roll = config.chord_spread * (rank + extra.normal(0.0, 0.5, len(notes)))
        onsets = np.maximum(onsets + roll, 0.0)
    if config.velocity_contour > 0:
        velocities = velocities + _smooth_curve(extra, score, config.velocity_contour,
                                                config.drift_seconds)
    if config.melody_accent > 0 and len(notes):
        highest = np.full(chord.max() + 1, -1.0)
        np.maximum.at(highest, chord, notes[:, 2])
        velocities = velocities + config.melody_accent * (notes[:, 2] == highest[chord])
    velocities = np.clip(np.round(velocities), 1, 127)
    offsets = onsets + durations
    if config.pedal > 0 and extra.random() < config.pedal and len(notes):
        offsets = _pedal_offsets(extra, onsets, offsets)
    varied = np.stack([onsets, offsets, notes[:, 2], velocities], axis=1)
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


#: A humanised performance (:class:`PianoConfig` options): a tempo curve of +-8 %, chords
#: rolled over about 10 ms, dynamics swelling by +-12 velocity units over phrases, the melody
#: 8 units above its chord, the sustain pedal in 70 % of the pieces.
HUMANISED_PIANO = dict(tempo_drift=0.08, chord_spread=0.008, velocity_contour=12.0,
                 melody_accent=8.0, pedal=0.7)


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

    def job(work: str, font: str, program: int):
        name = f"{work}@{font}" + (f"#{program}" if program else "")

        def make() -> MusicPiece:
            notes = _vary_piano(_work_notes(work, root), config, _piece_rng(config.seed, name))
            audio, sent = render_notes(notes[:, 0], notes[:, 2].astype(np.int64),
                                       notes[:, 3].astype(np.int64), notes[:, 1],
                                       font=fonts[font], sample_rate=config.sample_rate,
                                       tail=config.tail, program=program)
            return _sorted_piece(name, work, font, audio, config.sample_rate, PIANO_CLASSES,
                                 sent, notes[:, 2].astype(np.int64) - 21,
                                 notes[:, 2].astype(np.int64), notes[:, 3].astype(np.int64),
                                 notes[:, 1])
        return name, make

    jobs = [job(work, font, program) for work in works for font in config.soundfonts
            for program in config.programs]
    dataset, _ = _render_cached("piano", payload, jobs, cache_dir=root, verify=verify)
    return dataset
