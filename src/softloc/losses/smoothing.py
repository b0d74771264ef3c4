"""Gaussian smoothing along time: the filter Phi of the paper (Eq. 6, 11 and 19).

Conventions
-----------
* ``softness`` is the Gaussian standard deviation in frames (the paper's s_M), a float or a
  ``(C,)`` tensor with one value per event class. It must be > 0.
* Kernels are built analytically, have odd length ``2 r + 1`` with radius
  ``r = ceil(truncate * softness)`` and sum to one:
  ``Phi(k) = exp(-k^2 / (2 s^2)) / sum_j exp(-j^2 / (2 s^2))`` for ``|k| <= r``.
  (The authors built kernels with ``scipy.ndimage.gaussian_filter`` on short arrays, which folds
  the tails back; see reference-spec section 6, items 5-6. Odd length keeps the filter centred.)
* Signals are zero outside ``[0, T)`` and the output has the input's length ("same"
  convolution): ``(Phi * x)_t = sum_tau x_tau Phi(t - tau)`` for ``0 <= t < T``.
* Smoothing runs through the FFT, which is much faster than ``conv1d`` for long kernels on CPU
  (perf-notes) and handles one kernel per class in one call.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

__all__ = ["gaussian_kernel", "gaussian_smooth", "check_softness"]

DEFAULT_TRUNCATE = 4.0


def check_softness(softness: float | Tensor, num_classes: int | None = None) -> float | Tensor:
    """Validate ``softness``: a finite float > 0, or a ``(C,)`` tensor of such values."""
    if isinstance(softness, Tensor):
        if softness.dtype == torch.bool or softness.is_complex():
            raise TypeError(f"softness must be a real (non-bool) tensor, got {softness.dtype}")
        if softness.dim() == 0:
            softness = float(softness)
        else:
            if softness.dim() != 1:
                raise ValueError(
                    f"softness must be a float or a (C,) tensor, got shape {tuple(softness.shape)}"
                )
            if num_classes is not None and softness.shape[0] != num_classes:
                raise ValueError(
                    f"softness must have one value per class (C = {num_classes}), "
                    f"got {softness.shape[0]}"
                )
            if not bool(torch.isfinite(softness).all()) or bool((softness <= 0).any()):
                raise ValueError("softness must hold finite values > 0 (frames)")
            return softness
    if isinstance(softness, bool) or not isinstance(softness, (int, float)):
        raise TypeError(f"softness must be a float or a tensor, got {type(softness).__name__}")
    softness = float(softness)
    if not (0.0 < softness < math.inf):
        raise ValueError(f"softness must be a finite number > 0 (frames), got {softness}")
    return softness


def _radius(max_softness: float, truncate: float) -> int:
    return max(1, math.ceil(truncate * max_softness))


def gaussian_kernel(
    softness: float | Tensor,
    *,
    truncate: float = DEFAULT_TRUNCATE,
    radius: int | None = None,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str | None = None,
) -> Tensor:
    """Unit-sum Gaussian kernel(s) of standard deviation ``softness`` frames.

    Parameters
    ----------
    softness:
        Standard deviation in frames: a float, or a ``(C,)`` tensor for one kernel per class.
    truncate:
        The kernel extends to ``ceil(truncate * softness)`` frames on each side.
    radius:
        Override the radius (all kernels share the largest radius when ``softness`` is a tensor;
        each kernel is still cut at its own ``truncate * softness``).

    Returns
    -------
    Tensor
        ``(2 r + 1,)`` for a float ``softness``, ``(C, 2 r + 1)`` for a tensor; each row sums
        to one and is symmetric around index ``r``.

    Examples
    --------
    >>> k = gaussian_kernel(1.0)
    >>> k.shape, round(float(k.sum()), 6), int(k.argmax())
    (torch.Size([9]), 1.0, 4)
    """
    softness = check_softness(softness)
    if isinstance(softness, Tensor):
        sigma = softness.to(device=device if device is not None else softness.device)
        sigma = sigma.to(torch.float64)
        r = radius if radius is not None else _radius(float(sigma.max()), truncate)
        offsets = torch.arange(-r, r + 1, dtype=torch.float64, device=sigma.device)
        weights = torch.exp(-0.5 * (offsets / sigma[:, None]) ** 2)
        cut = offsets.abs()[None, :] > torch.ceil(truncate * sigma)[:, None]
        weights = weights.masked_fill(cut, 0.0)
    else:
        r = radius if radius is not None else _radius(softness, truncate)
        offsets = torch.arange(-r, r + 1, dtype=torch.float64, device=device)
        weights = torch.exp(-0.5 * (offsets / softness) ** 2)
    weights = weights / weights.sum(dim=-1, keepdim=True)
    return weights.to(dtype)


def gaussian_smooth(
    signal: Tensor,
    softness: float | Tensor,
    *,
    truncate: float = DEFAULT_TRUNCATE,
) -> Tensor:
    """Convolve ``signal`` along its last axis with a unit-sum Gaussian, zero outside [0, T).

    Parameters
    ----------
    signal:
        ``(..., T)`` real tensor; with a ``(C,)`` ``softness`` it must be ``(N, C, T)``.
    softness:
        Standard deviation in frames (float or ``(C,)`` tensor).

    Returns
    -------
    Tensor
        ``(Phi * signal)_t`` for ``0 <= t < T``, same shape and dtype as ``signal``.

    Examples
    --------
    >>> x = torch.zeros(1, 21); x[0, 10] = 1.0
    >>> y = gaussian_smooth(x, 2.0)
    >>> round(float(y.sum()), 5), int(y.argmax())
    (1.0, 10)
    """
    softness = check_softness(softness, signal.shape[-2] if signal.dim() >= 2 else None)
    if isinstance(softness, Tensor) and signal.dim() != 3:
        raise ValueError(
            f"a per-class softness needs a (N, C, T) signal, got shape {tuple(signal.shape)}"
        )
    length = signal.shape[-1]
    kernel = gaussian_kernel(softness, truncate=truncate, dtype=signal.dtype, device=signal.device)
    r = (kernel.shape[-1] - 1) // 2
    n_fft = _fast_length(length + 2 * r)
    spectrum = torch.fft.rfft(signal, n=n_fft) * torch.fft.rfft(kernel, n=n_fft)
    full = torch.fft.irfft(spectrum, n=n_fft)
    # The full linear convolution starts at offset -r: output t sits at index t + r.
    return full[..., r : r + length]


def _fast_length(n: int) -> int:
    """Smallest ``8 * 3^b 5^c 7^d * 2^a >= n`` (a multiple of 8 with no prime factor above 7).

    Real FFTs of odd or barely even sizes are slow: on this project's CPU (pocketfft, 2,816 rows)
    an rfft + irfft of 2,025 = 3^4 5^2 points took 27 ms, of 2,016 = 2^5 3^2 7 points 11 ms and
    of 2,048 points 10 ms; the multiple-of-8 rule keeps the fast sizes.
    """
    n = max(n, 8)
    best = 1 << (n - 1).bit_length()
    p7 = 1
    while 8 * p7 < best:
        p5 = p7
        while 8 * p5 < best:
            p3 = p5
            while 8 * p3 < best:
                p = 8 * p3
                while p < n:
                    p *= 2
                best = min(best, p)
                p3 *= 3
            p5 *= 5
        p7 *= 7
    return best
