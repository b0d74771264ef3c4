"""Where a run trains: :func:`resolve_device` turns ``'cpu'``, ``'cuda'``, ``'cuda:N'`` or
``'auto'`` into a :class:`torch.device` that exists on this machine, or says why not."""

from __future__ import annotations

from typing import Any

import torch

__all__ = ["DEVICE_CHOICES", "resolve_device"]

DEVICE_CHOICES = ("cpu", "cuda", "auto")
"""The device names the command line offers (``'cuda:N'`` is accepted as well)."""


def resolve_device(device: Any) -> torch.device:
    """The :class:`torch.device` of ``device``, checked against this machine.

    Parameters
    ----------
    device:
        ``'cpu'``; ``'cuda'`` or ``'cuda:N'`` (an NVIDIA GPU through CUDA); ``'auto'`` (the
        first CUDA device when :func:`torch.cuda.is_available`, else the CPU); or a
        :class:`torch.device` of those types.

    Returns
    -------
    torch.device
        ``cuda`` devices carry their index (``'cuda'`` becomes ``cuda:<current device>``).

    Raises
    ------
    ValueError
        An unknown device, a CUDA device on a machine without CUDA, or a CUDA index out of
        range.
    TypeError
        ``device`` is neither a string nor a :class:`torch.device`.

    Examples
    --------
    >>> resolve_device("cpu")
    device(type='cpu')
    >>> resolve_device("auto").type in ("cpu", "cuda")
    True
    >>> resolve_device("tpu")
    Traceback (most recent call last):
        ...
    ValueError: device must be 'cpu', 'cuda', 'cuda:N' or 'auto', got 'tpu'
    """
    if isinstance(device, str) and device == "auto":
        return resolve_device("cuda" if torch.cuda.is_available() else "cpu")
    if not isinstance(device, (str, torch.device)):
        raise TypeError(f"device must be a str or torch.device, got {type(device).__name__}")
    try:
        resolved = torch.device(device)
    except RuntimeError:
        resolved = None
    if resolved is None or resolved.type not in ("cpu", "cuda"):
        raise ValueError(f"device must be 'cpu', 'cuda', 'cuda:N' or 'auto', got {device!r}")
    if resolved.type == "cpu":
        return torch.device("cpu")
    if not torch.cuda.is_available():
        raise ValueError(f"device {str(device)!r} needs CUDA, but torch.cuda.is_available() is "
                         f"False on this machine (torch {torch.__version__}); use 'cpu' or "
                         f"'auto'")
    count = torch.cuda.device_count()
    index = torch.cuda.current_device() if resolved.index is None else resolved.index
    if not 0 <= index < count:
        raise ValueError(f"device {str(device)!r}: this machine has {count} CUDA device(s)")
    return torch.device("cuda", index)
