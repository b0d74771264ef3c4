"""softloc: precise temporal point-event detection from misaligned labels (SoftLoc, AAAI 2021)."""

from .losses import SoftLocLoss, softloc_loss

__version__ = "0.1.0"

__all__ = ["SoftLocLoss", "softloc_loss", "__version__"]
