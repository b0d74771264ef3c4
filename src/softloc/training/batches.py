"""Batches of a run: the ``batches(step, generator)`` contract and :func:`sampled_batches`.

The loop draws the batch of step ``k`` by calling ``batches(k, generator)`` with a generator
seeded from the run's seed and ``k`` only (:mod:`softloc.training.randomness`), checks what
comes back (:func:`_unpack`) and moves it to the training device (:func:`_to_device`).
:class:`_BatchSource` does that, on the training thread or, with ``prefetch`` > 0, on one
background thread that draws the next batches while the current step runs; since a batch
depends only on the seed and its step, both give the same batches.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import torch
from torch import Tensor

from .._checks import check_int
from .randomness import _BATCH_STREAM, _derive_seed

__all__ = ["BatchFunction", "sampled_batches"]

#: ``batches(step, generator) -> (inputs, targets)`` or ``(inputs, targets, mask)``.
BatchFunction = Callable[[int, torch.Generator], Sequence[Any]]


def sampled_batches(
    inputs: Tensor,
    targets: Tensor,
    mask: Tensor | None = None,
    *,
    batch_size: int,
    replacement: bool = True,
) -> BatchFunction:
    """A batch function that draws ``batch_size`` random rows of in-memory tensors.

    Parameters
    ----------
    inputs:
        ``(M, ...)``: the model inputs of ``M`` sequences (e.g. features ``(M, F, T)``).
    targets:
        ``(M, C, T)`` or ``(M, T)`` event counts per frame.
    mask:
        Optional boolean ``(M, T)``, True on valid steps.
    batch_size:
        Rows per batch (>= 1; <= M without replacement).
    replacement:
        True (default): rows drawn uniformly with replacement, as the authors' piano and drum
        code did; False: ``batch_size`` distinct rows (a prefix of a random permutation).

    Returns
    -------
    Callable
        ``batches(step, generator)`` -> ``(inputs, targets, mask)`` rows chosen with
        ``generator`` only, so a step's batch depends only on the generator's seed.

    Examples
    --------
    >>> import torch
    >>> x, y = torch.arange(10.0)[:, None, None], torch.zeros(10, 1, 1)
    >>> batches = sampled_batches(x, y, batch_size=3)
    >>> a = batches(0, torch.Generator().manual_seed(1))[0]
    >>> b = batches(0, torch.Generator().manual_seed(1))[0]
    >>> torch.equal(a, b), a.shape
    (True, torch.Size([3, 1, 1]))
    """
    for tensor, name in ((inputs, "inputs"), (targets, "targets")):
        if not isinstance(tensor, Tensor):
            raise TypeError(f"{name} must be a torch.Tensor, got {type(tensor).__name__}")
        if tensor.dim() < 1 or tensor.shape[0] < 1:
            raise ValueError(f"{name} must have at least one row, got shape {tuple(tensor.shape)}")
    rows = inputs.shape[0]
    if targets.shape[0] != rows:
        raise ValueError(f"targets must have one row per input row ({rows}), "
                         f"got {targets.shape[0]}")
    if targets.dim() not in (2, 3):
        raise ValueError(f"targets must have shape (M, C, T) or (M, T), "
                         f"got {tuple(targets.shape)}")
    if mask is not None:
        if not isinstance(mask, Tensor) or mask.dtype != torch.bool:
            raise TypeError("mask must be a boolean torch.Tensor")
        expected = (rows, targets.shape[-1])
        if tuple(mask.shape) != expected:
            raise ValueError(f"mask must have shape (M, T) = {expected}, "
                             f"got {tuple(mask.shape)}")
    batch_size = check_int(batch_size, "batch_size", 1)
    if not replacement and batch_size > rows:
        raise ValueError(f"batch_size must be <= the number of rows ({rows}) without "
                         f"replacement, got {batch_size}")

    def batches(step: int, generator: torch.Generator) -> tuple[Tensor, Tensor, Tensor | None]:
        if replacement:
            index = torch.randint(0, rows, (batch_size,), generator=generator)
        else:
            index = torch.randperm(rows, generator=generator)[:batch_size]
        chosen = index.to(inputs.device)
        return (inputs[chosen], targets[index.to(targets.device)],
                None if mask is None else mask[index.to(mask.device)])

    return batches


def _to_device(value: Any, device: torch.device, non_blocking: bool = False) -> Any:
    if isinstance(value, Tensor):
        return value.to(device, non_blocking=non_blocking)
    if isinstance(value, (list, tuple)):
        return type(value)(_to_device(item, device, non_blocking) for item in value)
    if isinstance(value, Mapping):
        return {key: _to_device(item, device, non_blocking) for key, item in value.items()}
    return value


def _unpack(batch: Any, step: int) -> tuple[Any, Tensor, Tensor | None]:
    if not isinstance(batch, (tuple, list)) or len(batch) not in (2, 3):
        raise TypeError(f"batches(step, generator) must return (inputs, targets) or "
                        f"(inputs, targets, mask); got {type(batch).__name__} at step {step}")
    inputs, targets = batch[0], batch[1]
    mask = batch[2] if len(batch) == 3 else None
    if not isinstance(targets, Tensor):
        raise TypeError(f"targets from batches() must be a torch.Tensor, got "
                        f"{type(targets).__name__} at step {step}")
    if mask is not None and not isinstance(mask, Tensor):
        raise TypeError(f"mask from batches() must be a torch.Tensor or None, got "
                        f"{type(mask).__name__} at step {step}")
    return inputs, targets, mask


class _BatchSource:
    """The batches of a run, step by step: drawn, checked and placed on ``device``.

    With ``prefetch`` = 0 each batch is drawn on the calling thread when asked for. With
    ``prefetch`` = k > 0 one background thread draws every batch, up to k steps ahead of the
    step being trained (host tensors in pinned memory for a CUDA device, so that the copy to
    the GPU does not block). Every call of ``batches`` then happens on that one thread, in step
    order; an exception it raises comes out of :meth:`get` for its step.
    """

    def __init__(self, batches: BatchFunction, seed: int, steps: int, device: torch.device,
                 prefetch: int) -> None:
        self._batches, self._seed, self._steps = batches, seed, steps
        self._device, self._prefetch = device, prefetch
        self._pin = device.type == "cuda"
        self._pool = (ThreadPoolExecutor(max_workers=1, thread_name_prefix="softloc-batches")
                      if prefetch else None)
        self._pending: deque[tuple[int, Future]] = deque()

    def _draw(self, step: int) -> tuple[Any, Tensor, Tensor | None]:
        generator = torch.Generator().manual_seed(_derive_seed(self._seed, _BATCH_STREAM, step))
        batch = _unpack(self._batches(step, generator), step)
        return _pin_memory(batch) if self._pin else batch

    def get(self, step: int) -> tuple[Any, Tensor, Tensor | None]:
        """The batch of ``step`` on the training device."""
        if self._pool is None:
            batch = self._draw(step)
        else:
            while self._pending and self._pending[0][0] != step:
                self._pending.popleft()[1].cancel()
            if not self._pending:
                self._pending.append((step, self._pool.submit(self._draw, step)))
            last = self._pending[-1][0]
            for ahead in range(last + 1, min(step + self._prefetch, self._steps - 1) + 1):
                self._pending.append((ahead, self._pool.submit(self._draw, ahead)))
            batch = self._pending.popleft()[1].result()
        inputs, targets, mask = batch
        non_blocking = self._pin
        return (_to_device(inputs, self._device, non_blocking),
                targets.to(self._device, non_blocking=non_blocking),
                None if mask is None else mask.to(self._device, non_blocking=non_blocking))

    def close(self) -> None:
        """Cancel the batches drawn ahead and stop the background thread."""
        for _, future in self._pending:
            future.cancel()
        self._pending.clear()
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)


def _pin_memory(value: Any) -> Any:
    if isinstance(value, Tensor):
        return value if value.is_cuda else value.pin_memory()
    if isinstance(value, (list, tuple)):
        return type(value)(_pin_memory(item) for item in value)
    if isinstance(value, Mapping):
        return {key: _pin_memory(item) for key, item in value.items()}
    return value


def _checked_prefetch(prefetch: Any, device: torch.device) -> int:
    """``prefetch`` checked; ``None``: 2 batches ahead on a CUDA device, none on the CPU (where
    a loader thread would take a core from the training step)."""
    if prefetch is None:
        return 2 if device.type == "cuda" else 0
    return check_int(prefetch, "prefetch", 0)
