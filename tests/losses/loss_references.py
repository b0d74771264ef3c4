"""Independent numpy float64 references and random case builders shared by the loss tests.

A plain module, not a test module: pytest's default ``prepend`` import mode puts this folder on
``sys.path`` (``tests/`` has no ``__init__.py``), so the tests import it as ``loss_references``.
The name is specific so that it cannot clash with a helper module of another test folder.
"""

from __future__ import annotations

import math

import numpy as np
import torch

REDUCTIONS = ("none", "mean", "sum")


# ----------------------------------------------------------------------------------------------
# numpy references
# ----------------------------------------------------------------------------------------------


def np_sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def np_kernel(softness: float, truncate: float = 4.0, *, radius: int | None = None) -> np.ndarray:
    """exp(-k^2 / 2 s^2) / sum_j exp(-j^2 / 2 s^2) for |k| <= ceil(truncate s), zero beyond,
    laid out on offsets -radius..radius (radius defaults to the kernel's own)."""
    own = int(math.ceil(truncate * softness))
    radius = own if radius is None else radius
    k = np.arange(-radius, radius + 1, dtype=np.float64)
    w = np.exp(-(k**2) / (2.0 * softness**2))
    w[np.abs(k) > own] = 0.0
    return w / w.sum()


def np_same(signal: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """(Phi * x)_t = sum_tau x_tau Phi(t - tau) for 0 <= t < T, zero outside [0, T)."""
    r = (len(kernel) - 1) // 2
    full = np.convolve(signal, kernel, mode="full")  # index t + r holds output t
    return full[r : r + len(signal)]


# ----------------------------------------------------------------------------------------------
# Cases
# ----------------------------------------------------------------------------------------------


def random_case(
    seed: int,
    n: int = 2,
    c: int = 3,
    t: int = 20,
    dtype=torch.float64,
    *,
    event_rate: float = 0.2,
    counts: bool = False,
):
    """Logits ``3 * randn`` and 0/1 targets (events on ``event_rate`` of the frames), ``(n, c, t)``.

    ``counts=True`` turns each event into 1 or 2 events in its frame."""
    g = torch.Generator().manual_seed(seed)
    logits = (3 * torch.randn(n, c, t, generator=g)).to(dtype)
    target = (torch.rand(n, c, t, generator=g) < event_rate).to(dtype)
    if counts:
        target = target * torch.randint(1, 3, (n, c, t), generator=g).to(dtype)
    return logits, target


def padded_batch(lengths, c, t_max, seed, side="right", *, event_rate=0.25, garbage_counts=4):
    """A float64 batch of sequences of ``lengths`` padded to ``t_max`` on ``side``.

    Returns ``x, y, mask, seqs_x, seqs_y``: the padded logits and targets ``(N, c, t_max)``
    (garbage on padded steps: logits in [-25, 25), counts in ``[0, garbage_counts)``), the
    ``(N, t_max)`` mask, and the unpadded ``(1, c, length)`` sequences."""
    g = torch.Generator().manual_seed(seed)
    seqs_x, seqs_y = [], []
    x = 50 * torch.rand(len(lengths), c, t_max, generator=g, dtype=torch.float64) - 25  # garbage
    y = torch.randint(0, garbage_counts, (len(lengths), c, t_max), generator=g).to(torch.float64)
    mask = torch.zeros(len(lengths), t_max, dtype=torch.bool)
    for i, length in enumerate(lengths):
        xi = 3 * torch.randn(1, c, length, generator=g, dtype=torch.float64)
        yi = (torch.rand(1, c, length, generator=g) < event_rate).to(torch.float64)
        sl = slice(0, length) if side == "right" else slice(t_max - length, t_max)
        x[i, :, sl], y[i, :, sl], mask[i, sl] = xi[0], yi[0], True
        seqs_x.append(xi)
        seqs_y.append(yi)
    return x, y, mask, seqs_x, seqs_y


def zero_inputs():
    """Valid all-zero float32 logits and targets ``(2, 3, 8)``: the base of the bad-input tests."""
    return torch.zeros(2, 3, 8), torch.zeros(2, 3, 8)
