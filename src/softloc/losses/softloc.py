"""The SoftLoc loss (paper Eq. 19) and its alpha schedule (section 6.3).

::

    L_SoftLoc = (1 - alpha) * L_SLL(p, y | Phi_{s_M}, id) + alpha * L_PB(p, sum_t y_t)

``alpha`` weighs the counting (sparsity) term against soft localization; the paper starts
relaxed and raises it during training: ``alpha_tau = max(min((tau - 1e5) / 1e5, 0.9), 0.2)``.

Both terms here are means over (sequence, class) pairs of sums over time. The authors' piano
code weighed ``(1 - alpha) * 32 * L_SLL + alpha * L_PB`` per pair (L_SLL summed over a batch of
32 and divided by the number of keys, L_PB averaged), so its balance corresponds to
``alpha' = alpha / (alpha + 32 (1 - alpha))`` here (0.2 -> 0.008, 0.9 -> 0.22).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from torch import Tensor, nn

from ._utils import check_probability, check_reduction, prepare, reduce
from .poisson_binomial import _use_kernel, counting_loss
from .smoothing import DEFAULT_TRUNCATE, check_softness
from .soft_localization import _per_sequence

__all__ = ["softloc_loss", "SoftLocLoss", "AlphaSchedule"]


@dataclass(frozen=True)
class AlphaSchedule:
    """Linear ramp of alpha over training steps, clamped to ``[low, high]``.

    ``alpha(step) = max(min(low_start + (step - start) / length, high), low)`` with the ramp
    rising from 0 at ``step = start`` by ``1 / length`` per step; the paper's piano schedule
    ``max(min((step - 1e5) / 1e5, 0.9), 0.2)`` is ``AlphaSchedule(start=1e5, length=1e5,
    low=0.2, high=0.9)`` (:meth:`paper`).

    Examples
    --------
    >>> s = AlphaSchedule.paper()
    >>> s(0), s(150_000), s(10**6)
    (0.2, 0.5, 0.9)
    """

    start: float = 0.0
    length: float = 1.0
    low: float = 0.0
    high: float = 1.0

    def __post_init__(self) -> None:
        check_probability(self.low, "low")
        check_probability(self.high, "high")
        if self.low > self.high:
            raise ValueError(f"low must be <= high, got low={self.low}, high={self.high}")
        if not (self.length > 0):
            raise ValueError(f"length must be > 0 steps, got {self.length}")

    @classmethod
    def paper(cls) -> "AlphaSchedule":
        """The piano schedule of section 6.3."""
        return cls(start=1e5, length=1e5, low=0.2, high=0.9)

    @classmethod
    def constant(cls, alpha: float) -> "AlphaSchedule":
        check_probability(alpha, "alpha")
        return cls(start=0.0, length=1.0, low=alpha, high=alpha)

    def __call__(self, step: int) -> float:
        return float(max(min((step - self.start) / self.length, self.high), self.low))

    def to_dict(self) -> dict:
        return asdict(self)


def softloc_loss(
    input: Tensor,
    target: Tensor,
    *,
    softness: float | Tensor,
    alpha: float,
    mask: Tensor | None = None,
    reduction: str = "mean",
    truncate: float = DEFAULT_TRUNCATE,
) -> Tensor:
    """SoftLoc loss ``(1 - alpha) L_SLL + alpha L_PB`` (paper Eq. 19).

    Parameters
    ----------
    input:
        Logits ``(N, C, T)`` or ``(N, T)``.
    target:
        Whole event counts per frame, same shape.
    softness:
        s_M, the Gaussian standard deviation in frames (float or ``(C,)`` tensor).
    alpha:
        Weight of the counting term, in [0, 1].
    mask:
        Optional boolean ``(N, T)``, True on valid steps.
    reduction:
        ``'none'`` -> ``(N, C)`` (``(N,)`` for 2-D input), ``'mean'`` or ``'sum'``.

    Examples
    --------
    >>> import torch
    >>> target = torch.zeros(2, 3, 100); target[:, :, 40] = 1
    >>> logits = torch.full((2, 3, 100), -8.0, requires_grad=True)
    >>> loss = softloc_loss(logits, target, softness=5.0, alpha=0.2)
    >>> loss.backward(); logits.grad.shape
    torch.Size([2, 3, 100])
    """
    alpha = check_probability(alpha, "alpha")
    # The compiled counting kernel scans the values itself (finite logits, whole counts), so the
    # same scans are not repeated here when it runs.
    kernel_checks = alpha > 0.0 and isinstance(input, Tensor) and _use_kernel(input)
    batch = prepare(input, target, mask, reduction, counts=True, check_values=not kernel_checks)
    softness = check_softness(softness, batch.input.shape[1])
    total = 0.0
    if alpha < 1.0:
        total = (1.0 - alpha) * _per_sequence(batch, softness, truncate)
    if alpha > 0.0:
        # Validated call (the default): rejects counts larger than the number of valid steps.
        counting = counting_loss(batch.input, batch.target, mask=batch.mask, reduction="none")
        total = total + alpha * counting
    return reduce(total, reduction, batch.squeeze)


class SoftLocLoss(nn.Module):
    """Module form of :func:`softloc_loss` with an alpha schedule.

    Parameters
    ----------
    softness:
        s_M in frames (float or ``(C,)`` tensor).
    alpha:
        A constant in [0, 1] or an :class:`AlphaSchedule`; with a schedule, ``forward`` takes the
        training ``step`` (or call :meth:`step` once per optimiser step and omit it).

    Examples
    --------
    >>> import torch
    >>> criterion = SoftLocLoss(softness=3.0, alpha=AlphaSchedule.paper())
    >>> target = torch.zeros(4, 50); target[:, 10] = 1
    >>> loss = criterion(torch.zeros(4, 50), target, step=0)
    >>> criterion.current_alpha(0)
    0.2
    """

    def __init__(
        self,
        softness: float | Tensor,
        alpha: float | AlphaSchedule = 0.5,
        reduction: str = "mean",
        truncate: float = DEFAULT_TRUNCATE,
    ) -> None:
        super().__init__()
        check_reduction(reduction)
        self.softness = check_softness(softness)
        if isinstance(alpha, AlphaSchedule):
            self.schedule = alpha
        else:
            self.schedule = AlphaSchedule.constant(check_probability(alpha, "alpha"))
        self.reduction = reduction
        self.truncate = truncate
        self.steps_taken = 0

    def current_alpha(self, step: int | None = None) -> float:
        return self.schedule(self.steps_taken if step is None else step)

    def step(self) -> None:
        """Advance the schedule by one training step."""
        self.steps_taken += 1

    def forward(
        self, input: Tensor, target: Tensor, mask: Tensor | None = None, step: int | None = None
    ) -> Tensor:
        return softloc_loss(
            input, target, softness=self.softness, alpha=self.current_alpha(step), mask=mask,
            reduction=self.reduction, truncate=self.truncate,
        )
