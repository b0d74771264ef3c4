"""Argument and tensor validation, masking and reduction shared by every loss.

Conventions (``../design.md``): loss inputs are logits of shape ``(N, C, T)`` or ``(N, T)``;
targets have the same shape and hold event counts per frame; ``mask`` is an optional boolean
``(N, T)`` tensor, True on valid steps; ``reduction`` is ``'none'`` (one value per sequence and
class: ``(N, C)``, or ``(N,)`` for ``(N, T)`` input), ``'mean'`` or ``'sum'`` over those values.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from .. import _checks

REDUCTIONS = ("none", "mean", "sum")


@dataclass(frozen=True)
class Batch:
    """Validated loss arguments in the canonical ``(N, C, T)`` layout.

    ``mask`` is ``None`` or a boolean ``(N, T)`` tensor; ``squeeze`` records that the caller gave
    ``(N, T)`` tensors, so that ``reduction='none'`` returns ``(N,)``.
    """

    input: Tensor
    target: Tensor
    mask: Tensor | None
    squeeze: bool

    def valid(self) -> Tensor | None:
        """The mask broadcast to ``(N, 1, T)`` in the input's dtype, or ``None``."""
        if self.mask is None:
            return None
        return self.mask.unsqueeze(1).to(self.input.dtype)

    def masked(self, values: Tensor) -> Tensor:
        """``values`` ``(N, C, T)`` with the padded steps zeroed (unchanged without a mask)."""
        valid = self.valid()
        return values if valid is None else values * valid


def check_reduction(reduction: str) -> None:
    _checks.check_choice(reduction, "reduction", REDUCTIONS)


def check_probability(value: float, name: str, *, open_low: bool = False) -> float:
    """A float in [0, 1] (or (0, 1] when ``open_low``); raises naming ``name`` otherwise."""
    return _checks.check_probability(value, name, open_low=open_low, numpy=False)


def check_positive(value: float, name: str) -> float:
    """A finite float > 0 (a Python ``int`` or ``float``); raises naming ``name`` otherwise."""
    return _checks.check_real(value, name, 0.0, low_open=True, numpy=False)


def check_logits(input: Tensor, name: str = "input", *, check_values: bool = True) -> None:
    """Floating tensor of shape (N, T) or (N, C, T) with N, C, T >= 1 and finite values."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{name} must be a torch.Tensor of logits, got {type(input).__name__}")
    if not input.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor of logits, got {input.dtype}")
    if input.dim() not in (2, 3):
        raise ValueError(
            f"{name} must have shape (N, T) or (N, C, T), got {tuple(input.shape)}"
        )
    if input.numel() == 0:
        raise ValueError(f"{name} must not be empty, got shape {tuple(input.shape)}")
    if check_values and not bool(torch.isfinite(input).all()):
        raise ValueError(f"{name} must hold finite logits; found NaN or inf")


def prepare(
    input: Tensor,
    target: Tensor,
    mask: Tensor | None,
    reduction: str,
    *,
    counts: bool = False,
    validate_args: bool = True,
    check_values: bool = True,
) -> Batch:
    """Validate ``input``, ``target``, ``mask``, ``reduction`` and bring them to (N, C, T).

    ``counts=True`` additionally requires integer-valued targets (the counting loss needs whole
    event counts). With ``validate_args=False`` only the reshaping is done (for hot loops whose
    arguments were checked once); ``check_values=False`` checks types and shapes but leaves the
    scans over values to a caller that does them itself (the compiled counting kernel).
    """
    if validate_args:
        check_reduction(reduction)
        check_logits(input, check_values=check_values)
        shape = tuple(input.shape)
        target = check_target(target, shape, f"the shape of input {shape}", counts=counts,
                              check_values=check_values)
    squeeze = input.dim() == 2
    if squeeze:
        input = input.unsqueeze(1)
        target = target.unsqueeze(1)
    target = target.to(input.dtype)
    if mask is not None:
        if validate_args:
            mask = check_mask(mask, input.shape[0], input.shape[-1])
        mask = mask.to(device=input.device, dtype=torch.bool)
    return Batch(input, target, mask, squeeze)


def check_target(
    target: Tensor,
    shape: tuple[int, ...],
    description: str,
    *,
    counts: bool = False,
    check_values: bool = True,
) -> Tensor:
    """A real tensor of event counts of shape ``shape`` (``description`` names it in the error).

    Boolean targets come back as float32; the values must be finite and >= 0 (whole numbers with
    ``counts=True``); ``check_values=False`` skips the scans over values.
    """
    if not isinstance(target, Tensor):
        raise TypeError(f"target must be a torch.Tensor, got {type(target).__name__}")
    if tuple(target.shape) != shape:
        raise ValueError(f"target must have {description}, got {tuple(target.shape)}")
    if target.is_complex():
        raise TypeError("target must be real, got a complex tensor")
    if target.dtype == torch.bool:
        target = target.to(torch.float32)
    if check_values:
        if not bool(torch.isfinite(target).all()):
            raise ValueError("target must be finite; found NaN or inf")
        if bool((target < 0).any()):
            raise ValueError("target must hold event counts >= 0; found negative values")
        if counts and target.is_floating_point() and bool((target != target.round()).any()):
            raise ValueError("target must hold whole event counts; found non-integer values")
    return target


def check_mask(mask: Tensor, n: int, t: int) -> Tensor:
    """Boolean (N, T) mask with at least one valid step per row."""
    if not isinstance(mask, Tensor):
        raise TypeError(f"mask must be a torch.Tensor of booleans, got {type(mask).__name__}")
    if mask.dtype != torch.bool:
        raise TypeError(f"mask must have dtype torch.bool, got {mask.dtype}")
    if mask.shape != (n, t):
        raise ValueError(f"mask must have shape (N, T) = {(n, t)}, got {tuple(mask.shape)}")
    empty = ~mask.any(dim=1)
    if bool(empty.any()):
        rows = torch.nonzero(empty).flatten().tolist()[:5]
        raise ValueError(f"mask must have at least one valid step per sequence; rows {rows} have none")
    return mask


def reduce(loss: Tensor, reduction: str, squeeze: bool) -> Tensor:
    """Reduce per-(sequence, class) values ``(N, C)`` as ``reduction`` says."""
    if reduction == "none":
        return loss.squeeze(1) if squeeze else loss
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    raise ValueError(f"reduction must be one of {REDUCTIONS}, got {reduction!r}")
