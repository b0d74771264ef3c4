"""Models of the paper's experiments.

* :class:`CausalRecurrentDetector` -- the causal sensor model of the puff experiment (paper
  section 6.2; reference-spec section 2.1): dense(14, ReLU) -> dropout -> unidirectional
  LSTM(14) -> dense(C) logits.
* :class:`ConvRecurrentDetector` -- the onset network of the piano and drum experiments (paper
  sections 6.3-6.4): convolutions with frequency pooling over a log-mel spectrogram, then an
  LSTM over time, per-class logits per frame; its size is an option.
* :class:`FrameRecurrentDetector` -- the golf-swing detector (paper section 6.1): a small
  per-frame convolutional encoder (spatial mean) -> LSTM over frames (causal by default) ->
  dense(C) logits.
"""

from .conv_recurrent import ConvRecurrentDetector
from .recurrent import CausalRecurrentDetector
from .video import FrameRecurrentDetector

__all__ = ["CausalRecurrentDetector", "ConvRecurrentDetector", "FrameRecurrentDetector"]
