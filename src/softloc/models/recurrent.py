"""The causal recurrent event detector of the puff experiment (paper section 6.2).

The authors' puff network (``A/puff/PuffDetection.py`` L193-196, L285, L315, L335;
reference-spec section 2.1) is, per step::

    x_t (F features) -> dense(hidden, ReLU) -> dropout(0.5, training only)
        -> LSTM(hidden), unidirectional -> dense(num_classes) -> logit_t

The LSTM only looks back, so the logit at step ``t`` depends on the inputs at steps ``<= t``:
the detector can run online, one respiration cycle at a time.

Output bias
-----------
The output layer's bias is initialised with :func:`softloc.losses.init_no_event_bias_`
(``num_steps`` and ``no_event_probability`` = q): every step then starts at
``p0 = 1 - q ** (1 / num_steps)``, so the initial model predicts no event in a window of
``num_steps`` steps with probability q, a prior close to the data (most training windows hold no
event) instead of ``p = 0.5`` everywhere, which would start the counting loss at a count of
``num_steps / 2`` and cross-entropy at a flood of false positives. The defaults, ``num_steps =
50`` (the puff windows) and q = 0.64, are the AAAI code's effective value (its formula
``log(1 / 0.8 ** (2 / T) - 1)`` is q = 0.8 ** 2; reference-spec section 2.1); in the default
population of :func:`softloc.data.sensor.generate_sensor_dataset` 70 % of the 50-step training
windows hold no puff, so it is also close to the data's own share (p0 = 0.0089 per step,
logit -4.71; the puff rate is 3 % of steps, but puffs come in bursts).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from .._checks import check_int
from ..losses import init_no_event_bias_

__all__ = ["CausalRecurrentDetector"]


class CausalRecurrentDetector(nn.Module):
    """dense(hidden, ReLU) -> dropout -> unidirectional LSTM(hidden) -> dense(num_classes).

    Parameters
    ----------
    in_features:
        Features per step F (>= 1).
    hidden:
        Units of the dense layer and of the LSTM (the paper's puff model: 14).
    num_classes:
        Output channels C (one logit per class and step).
    dropout:
        Dropout probability after the dense layer, in [0, 1) (the authors' keep-probability
        0.5 is ``dropout=0.5``); active in ``train()`` mode only.
    bias_steps, no_event_probability:
        The output bias starts at ``no_event_bias(bias_steps, no_event_probability)``
        (module docstring): with small output weights the initial model predicts no event in
        ``bias_steps`` steps with probability ``no_event_probability``. ``None`` keeps
        PyTorch's default initialisation.

    Shapes
    ------
    input ``(N, T, F)`` float -> logits ``(N, C, T)`` (the losses' layout; apply ``sigmoid``
    for probabilities).

    Examples
    --------
    >>> model = CausalRecurrentDetector(37)
    >>> model(torch.zeros(2, 50, 37)).shape
    torch.Size([2, 1, 50])
    """

    def __init__(self, in_features: int, hidden: int = 14, num_classes: int = 1,
                 dropout: float = 0.5, *, bias_steps: int | None = 50,
                 no_event_probability: float = 0.64) -> None:
        super().__init__()
        self.in_features = check_int(in_features, "in_features", 1, numpy=False)
        self.hidden = check_int(hidden, "hidden", 1, numpy=False)
        self.num_classes = check_int(num_classes, "num_classes", 1, numpy=False)
        dropout = float(dropout)
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must lie in [0, 1), got {dropout}")
        self.dense = nn.Linear(self.in_features, self.hidden)
        self.dropout = nn.Dropout(dropout)
        self.lstm = nn.LSTM(self.hidden, self.hidden, num_layers=1, batch_first=True,
                            bidirectional=False)
        self.output = nn.Linear(self.hidden, self.num_classes)
        if bias_steps is not None:
            init_no_event_bias_(self.output, bias_steps, no_event_probability)

    def forward(self, features: Tensor) -> Tensor:
        if not isinstance(features, Tensor):
            raise TypeError(f"features must be a torch.Tensor, got {type(features).__name__}")
        if features.dim() != 3 or features.shape[-1] != self.in_features:
            raise ValueError(f"features must have shape (N, T, {self.in_features}), "
                             f"got {tuple(features.shape)}")
        hidden = self.dropout(torch.relu(self.dense(features)))
        states, _ = self.lstm(hidden)
        return self.output(states).transpose(1, 2)  # (N, T, C) -> (N, C, T)
