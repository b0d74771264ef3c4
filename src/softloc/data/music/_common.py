"""Small helpers of the music modules: file digests, safe file names, per-piece random
streams, argument checks and optional imports."""

from __future__ import annotations

import hashlib
import importlib.util
import math
import re
import zlib
from pathlib import Path

import numpy as np


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


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
