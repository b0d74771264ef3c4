"""The MAPS layout on disk: note files (:func:`read_maps_notes`) and pieces
(:func:`load_maps`)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from ..audio import read_audio
from .pieces import PIANO_CLASSES, MusicDataset, MusicPiece, _sorted_piece


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
