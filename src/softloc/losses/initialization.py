"""Output-bias initialisation for event detectors trained with the counting loss.

A network whose output layer starts with bias ``b`` (and small weights) predicts
``p = sigmoid(b)`` at every step, so the predicted count over ``T`` steps is Binomial(T, p) and
``P(no event in T steps) = (1 - p) ** T``. Choosing ``p = 1 - q ** (1 / T)`` makes that
probability ``q``::

    b = logit(1 - q ** (1 / T)) = log(-expm1(log(q) / T)) - log(q) / T

The ICML 2019 code used q = 0.8; the AAAI 2021 code's formula ``log(1 / 0.8 ** (2 / T) - 1)``
corresponds to q = 0.64 although its comment says 0.8 (reference-spec section 2.1).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from ._utils import check_probability

__all__ = ["no_event_bias", "init_no_event_bias_"]


def no_event_bias(num_steps: int, no_event_probability: float = 0.8) -> float:
    """Logit ``b`` such that ``(1 - sigmoid(b)) ** num_steps == no_event_probability``.

    Parameters
    ----------
    num_steps:
        Sequence length T in frames (>= 1).
    no_event_probability:
        q, in (0, 1): probability that the initial network predicts no event in T steps.

    Examples
    --------
    >>> b = no_event_bias(400, 0.8)
    >>> round(b, 3)
    -7.491
    >>> round((1 - torch.sigmoid(torch.tensor(b, dtype=torch.float64))).item() ** 400, 6)
    0.8
    """
    if isinstance(num_steps, bool) or not isinstance(num_steps, int):
        raise TypeError(f"num_steps must be an int, got {type(num_steps).__name__}")
    if num_steps < 1:
        raise ValueError(f"num_steps must be >= 1, got {num_steps}")
    q = check_probability(no_event_probability, "no_event_probability", open_low=True)
    if q >= 1.0:
        raise ValueError(f"no_event_probability must lie in (0, 1), got {q}")
    rate = math.log(q) / num_steps  # log(1 - p) per step, < 0
    return math.log(-math.expm1(rate)) - rate


def init_no_event_bias_(
    module_or_bias: nn.Module | Tensor, num_steps: int, no_event_probability: float = 0.8
) -> Tensor:
    """Fill an output layer's bias (or a bias tensor) in place with :func:`no_event_bias`.

    ``module_or_bias`` is a module with a ``bias`` parameter (``nn.Linear``, ``nn.Conv1d``...)
    or the bias tensor itself. Returns the bias.

    Examples
    --------
    >>> head = nn.Linear(16, 3)
    >>> bias = init_no_event_bias_(head, num_steps=200, no_event_probability=0.8)
    >>> bool(torch.allclose(bias, torch.full((3,), no_event_bias(200, 0.8))))
    True
    """
    value = no_event_bias(num_steps, no_event_probability)
    if isinstance(module_or_bias, Tensor):
        bias = module_or_bias
    else:
        bias = getattr(module_or_bias, "bias", None)
        if not isinstance(bias, Tensor):
            raise TypeError(
                f"module_or_bias must be a tensor or a module with a bias, got "
                f"{type(module_or_bias).__name__} without one"
            )
    with torch.no_grad():
        bias.fill_(value)
    return bias
