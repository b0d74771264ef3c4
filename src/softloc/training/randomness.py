"""Randomness of a run: seeds derived per stream, and deterministic algorithms for its duration.

The global generator (randomness inside the model) is seeded from ``(seed, _MODEL_STREAM)``;
the batch of step ``k`` is drawn with a generator seeded from ``(seed, _BATCH_STREAM, k)``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import torch


def _derive_seed(seed: int, *words: int) -> int:
    """A 63-bit seed for stream ``words`` of run ``seed`` (numpy's SeedSequence mixing)."""
    state = np.random.SeedSequence([seed, *words]).generate_state(2, dtype=np.uint32)
    return (int(state[0]) << 31) ^ int(state[1])


_MODEL_STREAM, _BATCH_STREAM = 0, 1


@contextmanager
def _deterministic(enabled: bool, device: torch.device) -> Iterator[None]:
    """Deterministic algorithms (warn-only) and no cuDNN benchmark inside, when ``enabled``."""
    if not enabled:
        yield
        return
    if device.type == "cuda":
        # cuBLAS needs this for reproducible matrix products (read when its handle is created).
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    previous = (torch.are_deterministic_algorithms_enabled(),
                torch.is_deterministic_algorithms_warn_only_enabled())
    benchmark = torch.backends.cudnn.benchmark
    torch.use_deterministic_algorithms(True, warn_only=True)
    torch.backends.cudnn.benchmark = False
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(previous[0], warn_only=previous[1])
        torch.backends.cudnn.benchmark = benchmark
