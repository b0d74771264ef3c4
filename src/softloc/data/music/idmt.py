"""The IDMT-SMT-Drums layout on disk: annotation XML files (:func:`read_idmt_annotation`)
and mixtures (:func:`load_idmt_drums`)."""

from __future__ import annotations

import math
import re
from pathlib import Path
from xml.parsers import expat

import numpy as np

from ..audio import read_audio
from .pieces import DRUM_CLASSES, MusicDataset, _sorted_piece


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
