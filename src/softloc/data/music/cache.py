"""The render cache: one folder per kind and configuration hash, pieces written atomically
with a manifest of sha256 digests, resumed after an interruption and checked on loading
(:func:`verify_cache`, :class:`CacheIntegrityError`)."""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Sequence
from pathlib import Path

from ..._io import write_text_atomic
from ..audio import read_audio, write_wav
from ._common import _safe_name, _sha256
from .pieces import MusicDataset, MusicPiece

DEFAULT_CACHE_DIR = Path("~/.cache/softloc/music")
"""Default cache folder (``~`` expanded at use)."""


class CacheIntegrityError(ValueError):
    """A cached file is missing or its sha256 differs from the manifest's.

    A ``ValueError``; its message names the file. Raised by :func:`render_piano_dataset`,
    :func:`render_drum_dataset`, :func:`verify_cache` and
    :func:`~softloc.data.golf.generate_golf_dataset` when they load a cache.

    Examples
    --------
    One byte changed in a cached drum recording:

    >>> import os, tempfile
    >>> from softloc.data.music import DrumConfig, render_drum_dataset
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


def _cache_root(cache_dir) -> Path:
    return (DEFAULT_CACHE_DIR if cache_dir is None else Path(cache_dir)).expanduser()


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
