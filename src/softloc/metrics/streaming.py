"""A streaming event F-measure for training and validation loops (a ``torchmetrics.Metric``).

:class:`EventFMeasure` decodes each batch of frame probabilities with one of
:mod:`softloc.decode`'s rules, matches the events against the batch's frame labels within a
tolerance (:func:`~softloc.metrics.corpus_f_measure`) and keeps only match **counts** as its
state: reference, estimated and matched events per class (``(C,)`` int64), and the sum and
number of per-sequence F1 values (for the mean over files). Every state is summed across
processes, so ``torchmetrics`` syncs the metric under DDP exactly, and the result after any
number of :meth:`~EventFMeasure.update` calls equals :func:`corpus_f_measure` on all the batches'
events at once (``average='micro'``: ``.pooled``; ``'macro'``: ``.class_macro``; ``'file'``:
``.file_mean``; ``'none'``: ``.per_class``).

Needs ``torchmetrics`` (``pip install 'softloc[metrics]'``).

Examples
--------
>>> import torch
>>> from softloc.events import TimeBase
>>> metric = EventFMeasure(num_classes=1, tolerance=0.05, time_base=TimeBase(fps=100.0))
>>> target = torch.zeros(2, 1, 100); target[0, 0, [10, 50]] = 1; target[1, 0, 30] = 1
>>> probs = torch.zeros(2, 1, 100); probs[0, 0, 12] = 0.9; probs[1, 0, 80] = 0.8
>>> metric.update(probs, target)
>>> round(float(metric.compute()), 4)  # file 0: P 1, R 0.5; file 1: nothing matched
0.3333
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import torch
from torch import Tensor

try:
    from torchmetrics import Metric
except ImportError as error:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "softloc.metrics.EventFMeasure needs torchmetrics: pip install 'softloc[metrics]'"
    ) from error

from .._checks import check_int
from ..decode import DECODERS, decode
from ..events import TimeBase, batch_to_events
from ._validation import check_decimals, check_tolerance
from .f_measure import _ratio_arrays, corpus_f_measure

__all__ = ["AVERAGES", "EventFMeasure"]

#: What :meth:`EventFMeasure.compute` returns, by ``average``.
AVERAGES = ("file", "micro", "macro", "none")


class EventFMeasure(Metric):
    """Event F1 of decoded frame probabilities against frame labels, accumulated over batches.

    Parameters
    ----------
    num_classes:
        ``C``, the number of event classes (channels of ``preds`` and ``target``).
    tolerance:
        Half-width of the matching window, ``>= 0``, in seconds of ``time_base`` (in frames
        when ``time_base`` is None).
    time_base:
        The frame grid (:class:`softloc.events.TimeBase`); default ``TimeBase(fps=1.0)``:
        times, errors and ``tolerance`` in frames.
    decimals:
        The matching's floating-point rule, as in :func:`~softloc.metrics.event_f_measure`
        (``None``: ``mir_eval.onset``; ``4``: ``mir_eval.transcription``).
    average:
        ``'file'`` (mean over sequences of each sequence's F1, its counts pooled over classes:
        the paper's piano number), ``'micro'`` (all counts pooled), ``'macro'`` (mean over the
        classes with at least one reference or estimated event of each class's pooled F1) or
        ``'none'`` (``(C,)`` per-class pooled F1).
    decoder, decoder_options:
        The decoding rule: a name of :data:`softloc.decode.DECODERS` and its parameters;
        default ``'threshold'`` with ``{'threshold': 0.5, 'local_maxima': True}`` (one event per
        peak above 0.5).
    from_logits:
        Apply ``sigmoid`` to ``preds`` before decoding (pass the network's logits directly).
    **kwargs:
        Passed to ``torchmetrics.Metric`` (``sync_on_compute``, ``dist_sync_fn``, ...).

    Shapes
    ------
    ``update(preds, target, mask=None)``: ``preds`` ``(N, C, T)`` probabilities in ``[0, 1]``
    (logits with ``from_logits=True``); ``target`` ``(N, C, T)`` whole event counts ``>= 0``;
    ``mask`` optional boolean ``(N, T)``, True on valid steps (a prefix of each row: padded
    steps neither produce nor hold events). ``compute()``: a float64 scalar tensor, or ``(C,)``
    for ``average='none'``.

    Every sequence of every batch is one file of the corpus (sequences of the same recording
    cut into windows are scored as separate files).

    Examples
    --------
    Two sequences at 100 fps; the second misses one of its two events. Per-file F1 1 and 2/3:

    >>> import torch
    >>> from softloc.events import TimeBase
    >>> metric = EventFMeasure(num_classes=1, tolerance=0.05, time_base=TimeBase(fps=100.0))
    >>> target = torch.zeros(2, 1, 50); target[:, 0, 20] = 1; target[1, 0, 40] = 1
    >>> preds = torch.zeros(2, 1, 50); preds[:, 0, 22] = 0.9  # 20 ms late: within 50 ms
    >>> metric.update(preds, target)
    >>> round(float(metric.compute()), 4)
    0.8333
    >>> micro = EventFMeasure(num_classes=1, tolerance=0.05, time_base=TimeBase(fps=100.0),
    ...                       average="micro")
    >>> micro.update(preds, target)
    >>> round(float(micro.compute()), 4)  # 2 of 3 references, 2 of 2 detections
    0.8
    """

    is_differentiable = False
    higher_is_better = True
    full_state_update = False

    def __init__(
        self,
        num_classes: int,
        *,
        tolerance: float,
        time_base: TimeBase | None = None,
        decimals: int | None = None,
        average: str = "file",
        decoder: str = "threshold",
        decoder_options: Mapping | None = None,
        from_logits: bool = False,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        self.num_classes = check_int(num_classes, "num_classes", 1)
        self.tolerance = check_tolerance(tolerance)
        if time_base is None:
            time_base = TimeBase(fps=1.0)
        if not isinstance(time_base, TimeBase):
            raise TypeError(f"time_base must be a softloc.events.TimeBase, got "
                            f"{type(time_base).__name__}")
        self.time_base = time_base
        self.decimals = check_decimals(decimals)
        if average not in AVERAGES:
            raise ValueError(f"average must be one of {AVERAGES}, got {average!r}")
        self.average = average
        if decoder not in DECODERS:
            raise ValueError(f"decoder must be one of {tuple(DECODERS)}, got {decoder!r}")
        if decoder_options is None:
            decoder_options = {"threshold": 0.5, "local_maxima": True} if decoder == "threshold" else {}
        if not isinstance(decoder_options, Mapping):
            raise TypeError(f"decoder_options must be a mapping, got {type(decoder_options).__name__}")
        self.decoder = decoder
        self.decoder_options = dict(decoder_options)
        if not isinstance(from_logits, bool):
            raise TypeError(f"from_logits must be a bool, got {type(from_logits).__name__}")
        self.from_logits = from_logits
        for name in ("n_reference", "n_estimated", "n_matched"):
            self.add_state(name, default=torch.zeros(self.num_classes, dtype=torch.int64),
                           dist_reduce_fx="sum")
        self.add_state("file_f1_sum", default=torch.zeros((), dtype=torch.float64),
                       dist_reduce_fx="sum")
        self.add_state("n_files", default=torch.zeros((), dtype=torch.int64), dist_reduce_fx="sum")

    def update(self, preds: Tensor, target: Tensor, mask: Tensor | None = None) -> None:
        """Decode ``preds``, match against ``target`` and add the counts (shapes: class doc)."""
        for value, name in ((preds, "preds"), (target, "target")):
            if not isinstance(value, Tensor):
                raise TypeError(f"{name} must be a torch.Tensor, got {type(value).__name__}")
            if value.dim() != 3 or value.shape[1] != self.num_classes:
                raise ValueError(f"{name} must have shape (N, {self.num_classes}, T), got "
                                 f"{tuple(value.shape)}")
        if preds.shape != target.shape:
            raise ValueError(f"preds and target must have the same shape, got "
                             f"{tuple(preds.shape)} and {tuple(target.shape)}")
        if preds.shape[0] == 0 or preds.shape[2] == 0:
            raise ValueError(f"preds must hold at least one sequence and frame, got shape "
                             f"{tuple(preds.shape)}")
        preds = preds.detach()
        if self.from_logits:
            if not torch.isfinite(preds).all():
                raise ValueError("preds (logits) must be finite")
            preds = torch.sigmoid(preds.float())
        detections = decode(preds, self.decoder, mask=mask, **self.decoder_options)
        estimated = detections.times(self.time_base)
        reference = batch_to_events(target.detach().cpu(), time_base=self.time_base,
                                    mask=None if mask is None else mask.detach().cpu())
        scores = corpus_f_measure(reference, estimated, tolerance=self.tolerance,
                                  decimals=self.decimals)
        device = self.n_reference.device
        self.n_reference += torch.from_numpy(scores.n_reference.sum(0)).to(device)
        self.n_estimated += torch.from_numpy(scores.n_estimated.sum(0)).to(device)
        self.n_matched += torch.from_numpy(scores.n_matched.sum(0)).to(device)
        self.file_f1_sum += float(np.sum([s.f1 for s in scores.per_file]))
        self.n_files += len(scores.per_file)

    def compute(self) -> Tensor:
        """F1 by ``average`` (0 before any update and for classes or corpora without events)."""
        counts = [state.cpu().numpy() for state in (self.n_reference, self.n_estimated,
                                                    self.n_matched)]
        if self.average == "file":
            files = int(self.n_files)
            value = float(self.file_f1_sum) / files if files else 0.0
            return torch.tensor(value, dtype=torch.float64)
        if self.average == "micro":
            f1 = _ratio_arrays(*(np.array([c.sum()]) for c in counts))[2][0]
            return torch.tensor(float(f1), dtype=torch.float64)
        f1 = _ratio_arrays(*counts)[2]
        if self.average == "none":
            return torch.from_numpy(f1)
        active = (counts[0] + counts[1]) > 0
        return torch.tensor(float(np.mean(f1[active])) if active.any() else 0.0,
                            dtype=torch.float64)
