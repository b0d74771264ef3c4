"""The SoftLoc loss family: functional + ``nn.Module`` pairs.

Every loss takes logits ``(N, C, T)`` or ``(N, T)``, targets of the same shape holding event
counts per frame, an optional boolean ``mask`` ``(N, T)`` (True on valid steps) and a
``reduction`` in ``'none' | 'mean' | 'sum'``; ``'none'`` returns one value per (sequence, class),
each summed over time as the paper's equations are. The exception is
:func:`no_event_softmax_ce_loss`: logits ``(N, C + 1, T)`` with a last "no event" channel against
targets ``(N, C, T)``, one value per sequence.
"""

from .baselines import (
    BootstrapLoss,
    ExtendedTargetLoss,
    LabelSmoothingCELoss,
    LabelSmoothingSELoss,
    NoEventSoftmaxCELoss,
    StepwiseCELoss,
    bootstrap_loss,
    extended_target_loss,
    extend_targets,
    label_smoothing_ce_loss,
    label_smoothing_se_loss,
    no_event_softmax_ce_loss,
    stepwise_ce_loss,
)
from .initialization import init_no_event_bias_, no_event_bias
from .poisson_binomial import CountingLoss, count_log_pmf, counting_loss, kernel_available
from .smoothing import gaussian_kernel, gaussian_smooth
from .soft_localization import SoftLocalizationLoss, soft_localization_loss
from .softloc import AlphaSchedule, SoftLocLoss, softloc_loss

__all__ = [
    "AlphaSchedule",
    "BootstrapLoss",
    "CountingLoss",
    "ExtendedTargetLoss",
    "LabelSmoothingCELoss",
    "LabelSmoothingSELoss",
    "NoEventSoftmaxCELoss",
    "SoftLocLoss",
    "SoftLocalizationLoss",
    "StepwiseCELoss",
    "bootstrap_loss",
    "count_log_pmf",
    "counting_loss",
    "extend_targets",
    "extended_target_loss",
    "gaussian_kernel",
    "gaussian_smooth",
    "init_no_event_bias_",
    "kernel_available",
    "label_smoothing_ce_loss",
    "label_smoothing_se_loss",
    "no_event_bias",
    "no_event_softmax_ce_loss",
    "soft_localization_loss",
    "softloc_loss",
    "stepwise_ce_loss",
]
