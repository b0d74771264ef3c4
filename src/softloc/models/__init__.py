"""Models of the paper's experiments.

* :class:`CausalRecurrentDetector` -- the causal sensor model of the puff experiment (paper
  section 6.2; reference-spec section 2.1): dense(14, ReLU) -> dropout -> unidirectional
  LSTM(14) -> dense(C) logits.
"""

from .recurrent import CausalRecurrentDetector

__all__ = ["CausalRecurrentDetector"]
