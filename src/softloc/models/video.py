"""A per-frame convolutional encoder with an LSTM over time: the golf-swing detector (section 6.1).

The authors' golf network (``A/golf/model.py``; reference-spec section 2.1) is SwingNet: an
ImageNet-pretrained MobileNetV2 applied to every 160 x 160 frame, a spatial mean, an LSTM over
the frames and a dense layer to 9 logits (8 events and "no event"). Pretrained weights cannot be
had offline and MobileNetV2 costs seconds per batch on a 2-core CPU, so
:class:`FrameRecurrentDetector` keeps the structure with a small encoder trained from scratch::

    frames (N, T, 3, H, W) -> scale to [0, 1], centre -> per frame: [conv 3x3 (stride 2 in
        the first layer), BN, ReLU, max-pool 2x2] x L -> spatial mean -> (N, T, channels[-1])
        -> LSTM(hidden) -> dense(num_classes) -> logits (N, C, T)

The first layer reduces the frame 4-fold in each direction (stride and pool), the others
2-fold, so the default ``channels=(16, 32, 64)`` costs about 2.8 M multiply-adds per 64 x 64
frame (a batch of 8 clips of 64 frames trains at about 0.5 s per step on one CPU core).

Conventions
-----------
* **Input.** ``uint8`` frames (0-255, GolfDB's decoded video and
  :class:`softloc.data.golf.GolfClip`) are divided by 255 inside the model, so a data set can stay
  in memory as ``uint8``; floating-point frames are taken as already in [0, 1]. Both are then
  centred, ``(x - 0.5) / 0.25``, a fixed affine map (the BatchNorm after the first convolution
  learns the real statistics). Channels first: ``(N, T, 3, H, W)`` (``GolfClip.frames`` is
  ``(T, H, W, 3)``: ``frames.permute(0, 3, 1, 2)``). ``H`` and ``W`` are free (at least
  ``2 ** (L + 1)`` pixels, :attr:`FrameRecurrentDetector.min_size`); the spatial mean makes the
  features independent of the size.
* **Causality.** The encoder sees one frame at a time (in ``eval()`` mode; in ``train()`` mode
  BatchNorm normalises with statistics of the whole batch, frames of later times included), so
  with ``bidirectional=False`` (the default, the paper's Table 1 setting) the logit at frame
  ``t`` depends on frames ``<= t`` only: the detector can run online, carrying the LSTM state
  from chunk to chunk. ``bidirectional=True`` (the authors' code default; reference-spec
  section 3.1) sees the whole clip; its two directions' states are concatenated before the
  output layer.
* **Output.** Logits ``(N, C, T)``, the losses' layout: ``sigmoid`` for the per-event
  probabilities of L_LS|CE, L_LS|SE and L_SoftLoc (C = 8), or ``softmax`` over C = 9 classes
  (8 events and "no event") for SwingNet's cross-entropy.

Output bias
-----------
With ``bias_steps`` set, the output bias starts at :func:`softloc.losses.no_event_bias`
(``bias_steps``, ``no_event_probability`` = q), as in
:class:`~softloc.models.CausalRecurrentDetector`: each channel starts at ``p0 = 1 - q ** (1 /
bias_steps)`` per frame, i.e. no event in ``bias_steps`` frames with probability q, instead of
``p = 0.5`` everywhere (which would start the counting loss at a count of ``bias_steps / 2``).
It suits the independent sigmoid channels; for a softmax head leave ``bias_steps=None``
(PyTorch's default initialisation, as SwingNet).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from .._checks import check_int, check_real
from ..losses import init_no_event_bias_

__all__ = ["FrameRecurrentDetector"]

_INPUT_CENTRE = 0.5
_INPUT_SCALE = 0.25


class FrameRecurrentDetector(nn.Module):
    """Small convolutional frame encoder -> LSTM over frames -> dense(num_classes) logits.

    Parameters
    ----------
    num_classes:
        Output channels C (8 golf events with sigmoid losses; 9 with SwingNet's softmax).
    channels:
        Filters of each 3 x 3 convolution (one entry per layer, >= 1 layer); the first has
        stride 2; every convolution is followed by BatchNorm, ReLU and a 2 x 2 max-pool.
        Default ``(16, 32, 64)``.
    hidden:
        LSTM units (SwingNet: 256). Default 64.
    bidirectional:
        ``False`` (default): causal, the paper's Table 1 model; ``True``: the LSTM also runs
        backwards over the clip.
    bias_steps, no_event_probability:
        The output bias starts at ``no_event_bias(bias_steps, no_event_probability)`` (module
        docstring); ``bias_steps=None`` keeps PyTorch's default initialisation.

    Shapes
    ------
    frames ``(N, T, 3, H, W)``, ``uint8`` (0-255) or floating point (in [0, 1]) -> logits
    ``(N, C, T)`` in the dtype of the parameters (float32 by default).

    Examples
    --------
    >>> model = FrameRecurrentDetector(8).eval()
    >>> frames = torch.zeros(2, 10, 3, 64, 64, dtype=torch.uint8)
    >>> model(frames).shape
    torch.Size([2, 8, 10])
    """

    def __init__(self, num_classes: int = 8, channels: Sequence[int] = (16, 32, 64),
                 hidden: int = 64, bidirectional: bool = False, *,
                 bias_steps: int | None = None, no_event_probability: float = 0.5) -> None:
        super().__init__()
        self.num_classes = check_int(num_classes, "num_classes", 1, numpy=False)
        if isinstance(channels, (str, bytes)) or not isinstance(channels, Sequence) \
                or len(channels) == 0:
            raise TypeError(f"channels must be a non-empty sequence of ints, got {channels!r}")
        self.channels = tuple(check_int(c, f"channels[{i}]", 1, numpy=False)
                              for i, c in enumerate(channels))
        self.hidden = check_int(hidden, "hidden", 1, numpy=False)
        if not isinstance(bidirectional, bool):
            raise TypeError(f"bidirectional must be a bool, got {type(bidirectional).__name__}")
        self.bidirectional = bidirectional
        self.bias_steps = check_int(bias_steps, "bias_steps", 1, optional=True, numpy=False)
        self.no_event_probability = check_real(no_event_probability, "no_event_probability",
                                               0.0, 1.0, low_open=True, high_open=True)
        layers: list[nn.Module] = []
        previous = 3
        for i, width in enumerate(self.channels):
            layers += [nn.Conv2d(previous, width, kernel_size=3, stride=2 if i == 0 else 1,
                                 padding=1, bias=False),
                       nn.BatchNorm2d(width), nn.ReLU(inplace=True), nn.MaxPool2d(2)]
            previous = width
        self.encoder = nn.Sequential(*layers)
        self.lstm = nn.LSTM(previous, self.hidden, num_layers=1, batch_first=True,
                            bidirectional=bidirectional)
        self.output = nn.Linear(self.hidden * (2 if bidirectional else 1), self.num_classes)
        if self.bias_steps is not None:
            init_no_event_bias_(self.output, self.bias_steps, self.no_event_probability)

    def config(self) -> dict:
        """The constructor's arguments (JSON-serialisable): ``FrameRecurrentDetector(
        **net.config())`` builds the same architecture (with the same output-bias
        initialisation; load ``net.state_dict()`` for the same weights)."""
        return {"num_classes": self.num_classes, "channels": list(self.channels),
                "hidden": self.hidden, "bidirectional": self.bidirectional,
                "bias_steps": self.bias_steps,
                "no_event_probability": self.no_event_probability}

    @property
    def min_size(self) -> int:
        """Smallest frame height and width the layers accept, pixels (``2 ** (layers + 1)``)."""
        return 2 ** (len(self.channels) + 1)

    def encode(self, frames: Tensor) -> Tensor:
        """Per-frame features ``(N, T, channels[-1])`` of frames ``(N, T, 3, H, W)``."""
        n, t = frames.shape[:2]
        parameter = self.output.weight
        x = frames.reshape(n * t, *frames.shape[2:])
        if x.dtype == torch.uint8:
            x = x.to(parameter.dtype) / 255.0
        else:
            x = x.to(parameter.dtype)
        x = (x - _INPUT_CENTRE) / _INPUT_SCALE
        features = self.encoder(x).mean(dim=(2, 3))
        return features.reshape(n, t, -1)

    def forward(self, frames: Tensor) -> Tensor:
        if not isinstance(frames, Tensor):
            raise TypeError(f"frames must be a torch.Tensor, got {type(frames).__name__}")
        if frames.dim() != 5 or frames.shape[2] != 3:
            raise ValueError(f"frames must have shape (N, T, 3, H, W), got {tuple(frames.shape)}")
        if frames.dtype != torch.uint8 and not frames.dtype.is_floating_point:
            raise TypeError(f"frames must be uint8 or floating point, got {frames.dtype}")
        if min(frames.shape[3:]) < self.min_size:
            raise ValueError(f"frames must be at least {self.min_size} x {self.min_size} pixels "
                             f"for {len(self.channels)} pools, got {tuple(frames.shape[3:])}")
        if frames.shape[0] == 0 or frames.shape[1] == 0:
            raise ValueError(f"frames must hold at least one clip and one frame, "
                             f"got shape {tuple(frames.shape)}")
        states, _ = self.lstm(self.encode(frames))
        return self.output(states).transpose(1, 2)  # (N, T, C) -> (N, C, T)

    def extra_repr(self) -> str:
        return (f"num_classes={self.num_classes}, channels={self.channels}, "
                f"hidden={self.hidden}, bidirectional={self.bidirectional}")
