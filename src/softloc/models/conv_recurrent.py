"""The convolutional + recurrent onset network of the music experiments (paper section 6.3).

The authors' piano network (``A/piano/SoftNetworkModel.py``; reference-spec section 3.3) maps a
log-mel spectrogram to per-key onset probabilities with 9 convolutions of 3 (time) x 4
(frequency), each followed by a max-pool over frequency only, a unidirectional 128-unit LSTM and
two dense layers; the drum network (section 3.4) is the same shape, smaller (6 convolutions of
8-16 filters, LSTM 24, dense 16, 3 outputs). The paper's piano size (768 inputs, 9 layers)
costs about 4 s per iteration on a 2-core CPU, so :class:`ConvRecurrentDetector` keeps the
structure and makes the size an option::

    features (N, F, T) -> standardise per band -> [conv k_t x k_f, BN, ReLU, max-pool over
        frequency] x L -> flatten (channels x remaining bands) -> LSTM(hidden)
        [-> dense(fc, ReLU)] -> dense(num_classes) -> logits (N, C, T)

Convolutions are zero-padded ("same") in both axes and never pool over time, so the network
keeps one output per input frame. With a time kernel of ``k_t`` frames each convolution sees
``(k_t - 1) / 2`` frames ahead; the LSTM is unidirectional unless ``bidirectional``.

The input standardisation (``(x - mean) / std`` per band, buffers saved with the weights) makes
a checkpoint self-contained: fit it on training features with :meth:`set_input_normalization`.
The output bias starts at :func:`softloc.losses.no_event_bias` as in
:class:`~softloc.models.CausalRecurrentDetector` (rare events: most frames of most keys hold no
onset).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor, nn

from .._checks import check_int, check_probability
from ..losses import init_no_event_bias_

__all__ = ["ConvRecurrentDetector"]


class _FrequencyMaxPool(nn.Module):
    """Max over non-overlapping groups of ``factor`` bands (the last axis; a trailing partial
    group is dropped, as ``nn.MaxPool2d``). A reshape and ``max``: on CPU about 25 % faster than
    ``nn.MaxPool2d((1, factor))`` forward and backward (and than ``amax``, whose backward
    spreads ties)."""

    def __init__(self, factor: int) -> None:
        super().__init__()
        self.factor = factor

    def forward(self, x: Tensor) -> Tensor:
        bands = x.shape[-1] // self.factor
        x = x[..., :bands * self.factor]
        return x.reshape(*x.shape[:-1], bands, self.factor).max(dim=-1).values

    def extra_repr(self) -> str:
        return f"factor={self.factor}"


class ConvRecurrentDetector(nn.Module):
    """Convolutions over (frequency, time) with frequency pooling, then an LSTM over time.

    Parameters
    ----------
    in_features:
        Bands F of the input spectrogram (>= 1).
    num_classes:
        Output channels C (88 piano keys, 3 drum classes...).
    channels:
        Filters of each convolution (one entry per layer, >= 1 layer).
    pools:
        Max-pool factor over frequency after each convolution (same length as ``channels``;
        1 = no pooling). The bands left after all pools, ``F // prod(pools)`` (pooling floors),
        must be >= 1.
    kernel:
        ``(k_t, k_f)``: convolution size in frames and bands (odd numbers; the authors: 3 x 4).
    hidden:
        LSTM units (the authors: 128 piano, 24 drums).
    fc:
        Units of a dense ReLU layer between the LSTM and the output (the authors: 96 piano, 16
        drums), or ``None`` for none.
    bidirectional:
        A bidirectional LSTM (then the output at ``t`` depends on the whole sequence).
    dropout:
        Dropout probability before the LSTM and before the output layers, in [0, 1).
    batch_norm:
        Batch normalisation after each convolution (the authors had none; it makes the small
        CPU-sized runs converge in far fewer steps).
    bias_steps, no_event_probability:
        Output bias initialisation (module docstring); ``None`` keeps PyTorch's default.

    Shapes
    ------
    input ``(N, F, T)`` float (the layout of :class:`softloc.data.MelSpectrogram` features)
        -> logits ``(N, C, T)``.

    Examples
    --------
    >>> import torch
    >>> net = ConvRecurrentDetector(64, 3, channels=(8, 8), pools=(4, 4), hidden=16)
    >>> net(torch.randn(2, 64, 50)).shape
    torch.Size([2, 3, 50])
    >>> ConvRecurrentDetector(**net.config()).config() == net.config()
    True
    """

    def __init__(
        self,
        in_features: int,
        num_classes: int,
        *,
        channels: Sequence[int] = (8, 16, 32),
        pools: Sequence[int] = (2, 4, 4),
        kernel: Sequence[int] = (3, 3),
        hidden: int = 96,
        fc: int | None = None,
        bidirectional: bool = False,
        dropout: float = 0.0,
        batch_norm: bool = True,
        bias_steps: int | None = 150,
        no_event_probability: float | None = 0.9,
    ) -> None:
        super().__init__()
        in_features = check_int(in_features, "in_features", 1)
        num_classes = check_int(num_classes, "num_classes", 1)
        channels = tuple(check_int(c, "channels", 1) for c in channels)
        pools = tuple(check_int(p, "pools", 1) for p in pools)
        if not channels:
            raise ValueError("channels must list at least one convolution")
        if len(pools) != len(channels):
            raise ValueError(f"pools must have one entry per convolution ({len(channels)}), "
                             f"got {len(pools)}")
        kernel = tuple(check_int(k, "kernel", 1) for k in kernel)
        if len(kernel) != 2 or any(k % 2 == 0 for k in kernel):
            raise ValueError(f"kernel must be two odd sizes (frames, bands), got {kernel}")
        bands = in_features
        for p in pools:
            bands //= p
        if bands < 1:
            raise ValueError(f"pools {pools} leave no band of in_features={in_features}: "
                             f"their product must be <= {in_features}")
        hidden = check_int(hidden, "hidden", 1)
        if fc is not None:
            fc = check_int(fc, "fc", 1)
        if not isinstance(bidirectional, bool) or not isinstance(batch_norm, bool):
            raise TypeError("bidirectional and batch_norm must be bools")
        if not (isinstance(dropout, (int, float)) and 0.0 <= dropout < 1.0):
            raise ValueError(f"dropout must lie in [0, 1), got {dropout!r}")
        if (bias_steps is None) != (no_event_probability is None):
            raise ValueError("give both bias_steps and no_event_probability, or neither")
        if bias_steps is not None:
            bias_steps = check_int(bias_steps, "bias_steps", 1, unit="frames")
            no_event_probability = check_probability(no_event_probability,
                                                     "no_event_probability")
        self._config = {
            "in_features": in_features, "num_classes": num_classes, "channels": list(channels),
            "pools": list(pools), "kernel": list(kernel), "hidden": hidden, "fc": fc,
            "bidirectional": bidirectional, "dropout": float(dropout),
            "batch_norm": batch_norm, "bias_steps": bias_steps,
            "no_event_probability": no_event_probability,
        }
        self.register_buffer("input_mean", torch.zeros(in_features))
        self.register_buffer("input_std", torch.ones(in_features))
        layers: list[nn.Module] = []
        previous = 1
        for c, p in zip(channels, pools):
            layers.append(nn.Conv2d(previous, c, (kernel[0], kernel[1]),
                                    padding=(kernel[0] // 2, kernel[1] // 2), bias=not batch_norm))
            if batch_norm:
                layers.append(nn.BatchNorm2d(c))
            layers.append(nn.ReLU())
            if p > 1:
                layers.append(_FrequencyMaxPool(p))
            previous = c
        self.convolutions = nn.Sequential(*layers)
        self.dropout = nn.Dropout(dropout)
        self.lstm = nn.LSTM(previous * bands, hidden, batch_first=True,
                            bidirectional=bidirectional)
        width = hidden * (2 if bidirectional else 1)
        self.fc = None if fc is None else nn.Linear(width, fc)
        self.output = nn.Linear(width if fc is None else fc, num_classes)
        if bias_steps is not None:
            init_no_event_bias_(self.output.bias, bias_steps, no_event_probability)

    def config(self) -> dict:
        """The constructor's keyword arguments (JSON-serialisable): ``ConvRecurrentDetector(
        **net.config())`` builds the same architecture."""
        return {k: list(v) if isinstance(v, list) else v for k, v in self._config.items()}

    @torch.no_grad()
    def set_input_normalization(self, mean, std) -> None:
        """Standardise inputs per band: ``(x - mean) / std``; ``mean``, ``std``: ``(F,)``
        finite, ``std > 0`` (e.g. over the training frames)."""
        f = self._config["in_features"]
        mean = torch.as_tensor(mean, dtype=torch.float32).reshape(-1)
        std = torch.as_tensor(std, dtype=torch.float32).reshape(-1)
        if mean.numel() != f or std.numel() != f:
            raise ValueError(f"mean and std must have {f} entries (one per band), got "
                             f"{mean.numel()} and {std.numel()}")
        if not (torch.isfinite(mean).all() and torch.isfinite(std).all() and (std > 0).all()):
            raise ValueError("mean must be finite and std finite and > 0")
        self.input_mean.copy_(mean)
        self.input_std.copy_(std)

    def forward(self, features: Tensor) -> Tensor:
        return self.decode(self.encode(features))[0]

    @property
    def context_frames(self) -> int:
        """Input frames on each side of a frame that its :meth:`encode` output depends on
        (``layers * (k_t // 2)``): frames ``[a, b)`` of ``encode(x)`` are exact when ``x``
        holds ``context_frames`` more on each side (or reaches the start or end of the
        sequence)."""
        return len(self._config["channels"]) * (self._config["kernel"][0] // 2)

    def encode(self, features: Tensor) -> Tensor:
        """The per-frame part: standardisation and convolutions, ``(N, F, T)`` features ->
        ``(N, T, D)`` LSTM inputs (each frame sees :attr:`context_frames` on each side)."""
        if not isinstance(features, Tensor):
            raise TypeError(f"features must be a torch.Tensor, got {type(features).__name__}")
        f = self._config["in_features"]
        if features.dim() != 3 or features.shape[1] != f:
            raise ValueError(f"features must have shape (N, {f}, T), got "
                             f"{tuple(features.shape)}")
        x = (features - self.input_mean[:, None]) / self.input_std[:, None]
        # (N, 1, T, F): frequency last, so pooling over it runs over contiguous memory
        x = self.convolutions(x.transpose(1, 2).unsqueeze(1))  # (N, channels, T, bands)
        n, c, t, b = x.shape
        return self.dropout(x.permute(0, 2, 1, 3).reshape(n, t, c * b))  # (N, T, D)

    def decode(self, encoded: Tensor, state: tuple[Tensor, Tensor] | None = None
               ) -> tuple[Tensor, tuple[Tensor, Tensor]]:
        """The recurrent part: ``(N, T, D)`` from :meth:`encode` -> logits ``(N, C, T)`` and
        the LSTM's final ``(h, c)``. Passing that ``state`` back with the next frames continues
        the sequence (a unidirectional LSTM only), so a long recording can run in pieces.

        Examples
        --------
        >>> import torch
        >>> net = ConvRecurrentDetector(16, 2, channels=(4,), pools=(4,), hidden=8).eval()
        >>> x = torch.randn(1, 16, 30)
        >>> first, state = net.decode(net.encode(x)[:, :12])
        >>> rest, _ = net.decode(net.encode(x)[:, 12:], state)
        >>> torch.allclose(torch.cat([first, rest], 2), net(x), atol=1e-6)
        True
        """
        if state is not None and self._config["bidirectional"]:
            raise ValueError("a bidirectional LSTM cannot continue a sequence from a state")
        x, state = self.lstm(encoded, state)
        if self.fc is not None:
            x = torch.relu(self.fc(self.dropout(x)))
        return self.output(self.dropout(x)).transpose(1, 2), state

    def extra_repr(self) -> str:
        params = sum(p.numel() for p in self.parameters())
        ahead = math.inf if self._config["bidirectional"] else self.context_frames
        return f"parameters={params:,}, receptive_field_ahead={ahead} frames"
