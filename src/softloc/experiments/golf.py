"""The golf-swing sequencing experiment (paper section 6.1, Table 1) as a sweep: ``softloc bench
golf``.

One run (:func:`run_one`: :func:`train_golf_model`, then :func:`evaluate_golf_model` on the
held-out fold) follows the authors' golf protocol (reference-spec section 3.1) on the rendered
swings of :mod:`softloc.data.golf`:

1. **Data**: :func:`~softloc.data.golf.generate_golf_dataset` with ``config.data`` and
   ``config.data_seed`` (cached per process); 4-fold cross-validation over clips (GolfDB's 4
   splits): fold ``f`` is the test set, the other three train.
2. **Noise**: the 8 event frames of every training clip are misaligned **once per run** by a
   rounded normal shift, ``RoundedNormal(sigma)`` frames (``misalign_frames(...,
   outside='clip')``: an event pushed beyond the clip is put on its first or last frame; the
   authors let such events fall outside, where they never appear). The draw depends on (seed,
   fold, level) only, so every loss of a sweep sees the same noisy labels. Test labels are clean.
3. **Training**: :class:`~softloc.models.FrameRecurrentDetector` (a small per-frame CNN, spatial
   mean, LSTM, dense; unidirectional, the paper's Table 1 model) on random crops of
   ``window`` = 64 consecutive frames, ``batch_size`` crops per step (clips drawn with
   replacement, start uniform in ``[0, length - 64]``; a clip shorter than 64 frames is padded
   with its last frame and the padding masked; the authors started anywhere in the clip and
   wrapped around to its first frame), :func:`softloc.training.train` with Adam at
   ``learning_rate`` (1e-3) for every loss, ``iterations`` steps, no clipping. The authors
   fine-tuned an ImageNet-pretrained encoder with 1e-3 for CE and 2e-4 for SoftLoc and LS|SE
   (:data:`AUTHORS_LEARNING_RATES`); trained from scratch at 2e-4 the sigmoid losses learn far
   slower (measured on the quick data, 1 500 steps, sigma = 0: SoftLoc PCE 0.03 at 2e-4
   against 0.14 at 1e-3; CE 0.27 at 1e-3), so one rate serves all losses here.

   * ``ce``: SwingNet's loss, ``LossSpec('softmax-ce', class_weights=SWINGNET_CLASS_WEIGHTS)``
     (:func:`softloc.losses.no_event_softmax_ce_loss`): a 9-way softmax cross-entropy over the 8
     events and "no event" with class weights 1/8 (events) and 1/35 (no event), on a 9-logit
     head. Averaged over crops (each a sum over its frames) where SwingNet's
     ``CrossEntropyLoss`` divides by the batch's total weight: a factor per batch.
   * ``ls-ce``, ``ls-se``, ``softloc``: :class:`~softloc.training.LossSpec` on 8 independent
     sigmoid channels (one per event), s_M = 5 frames (``softness``), the unit-sum Gaussian Phi.

   The seed of the model initialisation and of the crops depends on (seed, fold, level) only,
   not on the loss: the losses of a sweep point see the same crops in the same order from the
   same initial encoder and LSTM.
4. **Evaluation** on the held-out fold's clips with clean labels: each whole clip is one
   sequence through the model (the authors cut test clips into 64-frame chunks and reset the
   LSTM state per chunk; a whole clip equals chunks that carry the state, which a causal model
   can do online). Probabilities: softmax over the 9 classes, then the 8 event classes (CE), or
   sigmoid (the others): :func:`event_probabilities`, which ``softloc detect`` also applies to
   a saved model (:mod:`softloc.detector`). Decoding: per event, the frame of largest
   probability over the clip (:func:`softloc.decode.argmax_events`). Score: PCE with GolfDB's
   adaptive tolerance ``max(round((impact - address) / 30), 1)`` frames
   (:func:`softloc.metrics.percentage_of_correct_events`).

SoftLoc's alpha for golf
------------------------
The authors' golf loss is not Eq. 19's convex combination but (``A/golf/soft_train.py`` L46,
L118; ``SmoothedLosses.py`` L31, L48, L81; reference-spec sections 1.4-1.6)::

    L_A = SLL_A + ramp(i) * 0.005 * PB_A,   ramp(i) = min(max(i - 7000, 0) / 2000, 1)

over 10 000 iterations, with ``SLL_A = sum_{b,k,t} (K * p - K * y)^2 / B / (s sqrt(2 pi))``,
``K`` the Gaussian of s = 5 frames scaled to peak 1 (``K = s sqrt(2 pi) Phi`` with Phi the
unit-sum Gaussian, up to the folded tails of its 21 taps), so ``SLL_A = s sqrt(2 pi) / B *
sum_{b,k} SLL_bk``, and ``PB_A = sum_{b,k} PB_bk`` (summed over the batch of B = 22 and the
8 classes). Ours, with ``reduction='mean'`` over the ``B x 8`` (clip, event) pairs, is
``L = ((1 - alpha) sum SLL_bk + alpha sum PB_bk) / (8 B)``. Equal PB : SLL weights per pair need
``alpha / (1 - alpha) = r = 0.005 B / (s sqrt(2 pi)) = 0.11 / 12.533 = 0.008777``:
``alpha = r / (1 + r) = 0.0087`` (:func:`authors_golf_alpha`, :data:`AUTHORS_GOLF_ALPHA`). Then
``L_A = 8 s sqrt(2 pi) / (1 - alpha) * L``, a factor that changes by less than 1 % over the
ramp (Adam ignores a constant factor). The ramp is kept in proportion to the run's length
(``alpha_ramp = (0.7, 0.9)`` of ``iterations``): alpha is 0 (pure L_SLL) for the first 70 % of
the steps and rises linearly to :data:`AUTHORS_GOLF_ALPHA` at 90 %
(:func:`golf_alpha_schedule`; linear in alpha instead of in ``r``, which differs by < 1 %).

Measured
--------
Fold 0, seed 0, one CPU core per run, PCE on the 100 held-out clips (``softloc train golf
--loss LOSS --noise SIGMA --save model.pt`` prints it; these are the default configuration's
runs): at 2 000 steps (about 3.5 minutes each), CE 0.51 at sigma = 0 and 0.40 at sigma = 3;
SoftLoc 0.42 and 0.34. Choices behind the defaults (CE, sigma = 0, 2 000 steps): 400 clips
instead of 160 (0.51 against 0.43: 120 training clips overfit); 32 x 32 frames cost a
third of 64 x 64 at a similar score (64 x 64, 160 clips: 0.46 in 13 minutes); keeping a 2 x 2
grid of the last feature map instead of the spatial mean overfits (0.34 against 0.43);
halving the encoder widths (8, 16, 32) costs CE little (0.475) but SoftLoc much (0.31).
The paper's Table 1 has CE and SoftLoc equal at sigma = 0 (0.628 and 0.630) with an
ImageNet-pretrained encoder and 10 000 steps. From scratch, SoftLoc localises less precisely
than CE. Probes (fold 0, sigma = 0, seed 0; the ``softloc train`` runs use two threads, so
they differ from the sweep's one-thread runs by about the spread of a seed):

* outputs: SoftLoc's are blobs, not spikes (mean peak probability 0.13 against CE's 0.45;
  30 % of an event's probability mass within +-2 frames of the truth against 47 %), with no
  lag (the median signed error of each event is within +-2 frames for both losses); PCE 0.37
  against CE's 0.52, and 0.40 / 0.65 on training clips, so it underfits;
* longer: at 4 000 steps CE 0.55, SoftLoc 0.31 (no better);
* the counting term: 10 times the authors' weight (alpha 0.087) 0.26; the authors' weight
  from the first step (no ramp) 0.38: L_PB does not sharpen the blobs into precise spikes;
* decoding the argmax of the output smoothed by a Gaussian of 3 frames: SoftLoc 0.40, CE 0.53.

L_SLL's gradient is the residual filtered by the kernel twice (a Gaussian of s_M sqrt(2) =
7 frames), so it tells the network where an event is only to within a few frames; GolfDB's
tolerance is one frame for normal-speed clips. CE's per-frame softmax is told the exact frame.
Address is rarely found within tolerance (by neither loss on fold 0 here; 5 to 13 % for every
loss over the sweep): the takeaway starts from rest, so its first frames barely move at 32 x 32
pixels. The full sweep's table is in the README.

The result row
--------------
``pce`` (the score, a fraction), ``pce_<event>`` for each of the 8 events
(:data:`softloc.data.golf.GOLF_EVENTS`), ``pce_exact`` (tolerance 0), ``mean_abs_error`` and
``median_abs_error`` (frames, over clips and events), ``mean_tolerance`` (frames);
``test_clips``, ``train_clips``; the noise actually applied (``train_events``,
``labels_moved``, ``labels_clipped``); ``iterations``, ``learning_rate``, ``alpha`` (the peak;
``None`` but for SoftLoc), ``final_loss``; ``device`` (where it trained). The same
parameters and configuration give the identical row on one device (the runner adds the
runtime).
"""

from __future__ import annotations

import functools
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from .._checks import check_int, check_real
from ..data.golf import GOLF_EVENTS, GolfClip, GolfConfig, GolfDataset, generate_golf_dataset
from ..decode import argmax_events
from ..losses import AlphaSchedule
from ..metrics import percentage_of_correct_events
from ..models import FrameRecurrentDetector
from ..noise import RoundedNormal, misalign_frames
from ..runner import SweepExperiment
from ..training import LossSpec, train
from ._params import check_noise_level, check_run_params

__all__ = [
    "LOSSES",
    "DISTRIBUTIONS",
    "NOISE_LEVELS",
    "AUTHORS_LEARNING_RATES",
    "NO_EVENT_CLASS",
    "SWINGNET_CLASS_WEIGHTS",
    "AUTHORS_GOLF_ALPHA",
    "GolfExperimentConfig",
    "authors_golf_alpha",
    "golf_alpha_schedule",
    "crop_batches",
    "event_probabilities",
    "held_out_clips",
    "TrainedGolfModel",
    "train_golf_model",
    "evaluate_golf_model",
    "run_one",
    "GOLF_EXPERIMENT",
    "QUICK_CONFIG",
]

LOSSES = ("ce", "ls-ce", "ls-se", "softloc")
DISTRIBUTIONS = ("normal",)
NOISE_LEVELS = (0, 1, 2, 3, 4)
#: The authors' Adam learning rates for their pretrained encoder (reference-spec section 3.1;
#: LS|CE is not in their code). Not used: see :attr:`GolfExperimentConfig.learning_rate`.
AUTHORS_LEARNING_RATES = {"ce": 1e-3, "ls-se": 2e-4, "softloc": 2e-4}
#: SwingNet's class index of "no event" (the 8 events are classes 0-7).
NO_EVENT_CLASS = 8
#: SwingNet's ``CrossEntropyLoss`` weights: 1/8 per event class, 1/35 for "no event"
#: (``A/golf/original_train.py`` L64-68).
SWINGNET_CLASS_WEIGHTS = (1 / 8,) * 8 + (1 / 35,)


# ---------------------------------------------------------------------------------------------
# SoftLoc's alpha
# ---------------------------------------------------------------------------------------------


def authors_golf_alpha(batch_size: int = 22, softness: float = 5.0,
                       count_weight: float = 0.005) -> float:
    """The alpha of :func:`softloc.losses.softloc_loss` that weighs L_PB against L_SLL per
    (clip, event) pair as the authors' golf loss does at full ramp (module docstring).

    ``alpha = r / (1 + r)``, ``r = count_weight * batch_size / (softness * sqrt(2 pi))``.

    Examples
    --------
    >>> round(authors_golf_alpha(), 7)
    0.0087004
    """
    batch_size = check_int(batch_size, "batch_size", 1)
    softness = check_real(softness, "softness", 0.0, low_open=True)
    count_weight = check_real(count_weight, "count_weight", 0.0)
    ratio = count_weight * batch_size / (softness * math.sqrt(2.0 * math.pi))
    return ratio / (1.0 + ratio)


#: alpha = 0.008777 / 1.008777 = 0.0087004: the authors' golf balance
#: (:func:`authors_golf_alpha`).
AUTHORS_GOLF_ALPHA = authors_golf_alpha()


def golf_alpha_schedule(iterations: int, alpha: float,
                        ramp: tuple[float, float] | None = (0.7, 0.9)) -> AlphaSchedule | float:
    """SoftLoc's alpha over a run of ``iterations`` steps: 0 until ``ramp[0] * iterations``,
    rising linearly to ``alpha`` at ``ramp[1] * iterations`` (the authors' 7 000 -> 9 000 of
    10 000); ``ramp=None`` or ``alpha = 0``: the constant ``alpha``.

    Examples
    --------
    >>> s = golf_alpha_schedule(1000, 0.01)
    >>> s(0), s(700), round(s(800), 9), round(s(900), 9), s(999)
    (0.0, 0.0, 0.005, 0.01, 0.01)
    """
    iterations = check_int(iterations, "iterations", 1)
    alpha = check_real(alpha, "alpha", 0.0, 1.0)
    if ramp is None or alpha == 0.0:
        return alpha
    low, high = _check_ramp(ramp)
    return AlphaSchedule(start=low * iterations, length=(high - low) * iterations / alpha,
                         low=0.0, high=alpha)


def _check_ramp(ramp: Any) -> tuple[float, float]:
    try:
        low, high = (float(v) for v in ramp)
    except (TypeError, ValueError):
        raise ValueError(f"alpha_ramp must be None or a (start, end) pair of fractions, "
                         f"got {ramp!r}") from None
    if not 0.0 <= low < high <= 1.0:
        raise ValueError(f"alpha_ramp must be fractions of the run with 0 <= start < end <= 1, "
                         f"got {ramp!r}")
    return low, high


# ---------------------------------------------------------------------------------------------
# Configuration
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GolfExperimentConfig:
    """Options of the golf sweep (one configuration for every run of a sweep).

    Attributes
    ----------
    data:
        The renderer's options (:class:`~softloc.data.golf.GolfConfig`; ``num_folds`` must be
        4). Default 400 clips of 32 x 32 pixels (module docstring, "Measured").
    data_seed:
        Seed of the rendered clips (the same clips in every run; the ``seed`` axis changes
        noise, initialisation and crops).
    iterations:
        Optimiser steps per run (the authors: 10 000 with a pretrained encoder). Default 2 000,
        about 0.1 s each on one CPU core with the default data and network (a run: about 3.5
        minutes; the full sweep's 80 runs: about 5 core-hours).
    learning_rate:
        Adam's learning rate for every loss (module docstring; the authors' per-loss rates are
        :data:`AUTHORS_LEARNING_RATES`).
    window, batch_size:
        Training crop length in frames (64) and crops per step (the authors: 22).
    channels, hidden, bidirectional:
        The detector's convolution widths, LSTM units and direction
        (:class:`~softloc.models.FrameRecurrentDetector`; unidirectional is Table 1's).
    softness:
        s_M in frames for LS|CE, LS|SE and SoftLoc (5).
    alpha, alpha_ramp:
        SoftLoc's peak weight of the counting term and the fractions of the run over which it
        rises from 0 (:func:`golf_alpha_schedule`; ``None``: constant). Default
        :data:`AUTHORS_GOLF_ALPHA` and ``(0.7, 0.9)``.
    no_event_probability:
        q of the sigmoid heads' output-bias initialisation over ``window`` frames: the initial
        model predicts no occurrence of an event in a crop with probability q. Default 0.25,
        the share of 64-frame crops without a given event in the default population (0.18 to
        0.45 by event).

    Examples
    --------
    >>> config = GolfExperimentConfig()
    >>> config.data.num_clips, config.data.image_size, config.window, config.softness
    (400, (32, 32), 64, 5.0)
    >>> GolfExperimentConfig(**config.to_dict()) == config  # JSON round trip
    True
    >>> GOLF_EXPERIMENT.config(quick=True).data.num_clips  # softloc bench golf --quick
    48
    >>> GolfExperimentConfig(channels=(8, 16, 32, 64, 128))  # 32 x 32 clips: at most 4 layers
    Traceback (most recent call last):
    ...
    ValueError: data.image_size (32, 32) is too small for 5 layers (>= 64 pixels)
    """

    data: GolfConfig = field(default_factory=lambda: GolfConfig(num_clips=400,
                                                                 image_size=(32, 32)))
    data_seed: int = 0
    iterations: int = 2000
    learning_rate: float = 1e-3
    window: int = 64
    batch_size: int = 8
    channels: tuple = (16, 32, 64)
    hidden: int = 64
    bidirectional: bool = False
    softness: float = 5.0
    alpha: float = AUTHORS_GOLF_ALPHA
    alpha_ramp: tuple | None = (0.7, 0.9)
    no_event_probability: float = 0.25

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        if isinstance(self.data, dict):
            set_(self, "data", GolfConfig(**{k: tuple(v) if isinstance(v, list) else v
                                             for k, v in self.data.items()}))
        if not isinstance(self.data, GolfConfig):
            raise TypeError(f"data must be a GolfConfig, got {type(self.data).__name__}")
        if self.data.num_folds != 4:
            raise ValueError(f"data.num_folds must be 4 (GolfDB's cross-validation), "
                             f"got {self.data.num_folds}")
        check_int(self.data_seed, "data_seed", 0, numpy=False)
        check_int(self.iterations, "iterations", 1, numpy=False)
        check_real(self.learning_rate, "learning_rate", 0.0, low_open=True)
        check_int(self.window, "window", 2, numpy=False, unit="frames")
        check_int(self.batch_size, "batch_size", 1, numpy=False)
        check_int(self.hidden, "hidden", 1, numpy=False)
        if isinstance(self.channels, (str, bytes)) or not isinstance(self.channels, (list, tuple)) \
                or not self.channels:
            raise ValueError(f"channels must be a non-empty sequence of ints, "
                             f"got {self.channels!r}")
        set_(self, "channels", tuple(check_int(c, "channels", 1, numpy=False)
                                     for c in self.channels))
        minimum = 2 ** (len(self.channels) + 1)
        if min(self.data.image_size) < minimum:
            raise ValueError(f"data.image_size {self.data.image_size} is too small for "
                             f"{len(self.channels)} layers (>= {minimum} pixels)")
        if not isinstance(self.bidirectional, bool):
            raise TypeError(f"bidirectional must be a bool, "
                            f"got {type(self.bidirectional).__name__}")
        check_real(self.softness, "softness", 0.0, low_open=True)
        check_real(self.alpha, "alpha", 0.0, 1.0)
        if self.alpha_ramp is not None:
            set_(self, "alpha_ramp", _check_ramp(self.alpha_ramp))
        check_real(self.no_event_probability, "no_event_probability", 0.0, 1.0, low_open=True,
                   high_open=True)

    def to_dict(self) -> dict:
        """All options (JSON-ready); ``GolfExperimentConfig(**d)`` rebuilds it."""
        out = asdict(self)
        out["data"] = self.data.to_dict()
        out["channels"] = list(self.channels)
        out["alpha_ramp"] = None if self.alpha_ramp is None else list(self.alpha_ramp)
        return out


# ---------------------------------------------------------------------------------------------
# Pieces of a run
# ---------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=2)
def _dataset(data: GolfConfig, seed: int) -> GolfDataset:
    return generate_golf_dataset(data, seed=seed)


def _check_params(params: dict) -> tuple[str, float, int, int]:
    loss, level, _, seed = check_run_params(
        params, experiment="golf", losses=LOSSES, distributions=DISTRIBUTIONS,
        noise_unit="frames", keys=("fold",))
    return loss, level, seed, _check_fold(params["fold"])


def _check_fold(fold: Any) -> int:
    if isinstance(fold, bool) or not isinstance(fold, (int, np.integer)) or not 0 <= fold < 4:
        raise ValueError(f"fold must be a test fold in 0..3, got {fold!r}")
    return int(fold)


def _seed(*words: int) -> int:
    return int(np.random.SeedSequence([int(w) for w in words]).generate_state(1)[0])


def _misalign(clips: list[GolfClip], sigma: float, seed: int) -> tuple[np.ndarray, dict]:
    """Noisy event frames ``(N, 8)`` of the training clips: one rounded-normal draw per event,
    clipped to the clip."""
    lengths = np.array([len(c.frames) for c in clips])
    labels = np.zeros((len(clips), 8, lengths.max()), dtype=np.int64)
    for i, clip in enumerate(clips):
        labels[i, np.arange(8), clip.events] = 1
    mask = np.arange(lengths.max())[None, :] < lengths[:, None]
    noisy = misalign_frames(labels, RoundedNormal(sigma), generator=seed, outside="clip",
                            mask=mask)
    events = noisy.labels.argmax(axis=2)  # one event per (clip, class): count kept
    info = {"train_events": int(labels.sum()), "labels_moved": int(noisy.report.num_moved),
            "labels_clipped": int(noisy.report.num_clipped)}
    return events.astype(np.int64), info


def crop_batches(clips: list[Tensor], events: np.ndarray, *, window: int, batch_size: int):
    """A batch function (:func:`softloc.training.sampled_batches`' contract) of random crops.

    Parameters
    ----------
    clips:
        Frames ``(T_i, 3, H, W)`` per clip (uint8 or float; all the same ``H, W``).
    events:
        ``(N, 8)`` event frames per clip (each inside its clip).
    window, batch_size:
        Crop length in frames and crops per batch.

    Returns
    -------
    Callable
        ``batches(step, generator) -> (frames, targets, mask)``: ``batch_size`` clips drawn
        with replacement, each cropped at a start uniform in ``[0, max(T_i - window, 0)]``;
        ``frames (B, window, 3, H, W)``, ``targets (B, 8, window)`` float32 (1 on the crop's
        event frames), ``mask (B, window)`` bool (False on the padding of a clip shorter than
        ``window``, which repeats its last frame). Every draw comes from ``generator``.
    """
    window = check_int(window, "window", 1)
    batch_size = check_int(batch_size, "batch_size", 1)
    events = np.asarray(events)
    if not clips or events.shape != (len(clips), 8):
        raise ValueError(f"events must have shape (N, 8) = ({len(clips)}, 8), got {events.shape}")
    lengths = torch.tensor([len(c) for c in clips])
    if bool((torch.from_numpy(events) >= lengths[:, None]).any()) or bool((events < 0).any()):
        raise ValueError("events must lie inside their clips")
    labels = []
    for clip, frames in zip(events, clips):
        target = torch.zeros(8, len(frames))
        target[torch.arange(8), torch.from_numpy(clip)] = 1.0
        labels.append(target)

    def batches(step: int, generator: torch.Generator) -> tuple[Tensor, Tensor, Tensor]:
        index = torch.randint(0, len(clips), (batch_size,), generator=generator)
        frames, targets, masks = [], [], []
        for i in index.tolist():
            length = len(clips[i])
            start = int(torch.randint(0, max(length - window, 0) + 1, (1,),
                                      generator=generator))
            stop = min(start + window, length)
            crop = clips[i][start:stop]
            target = labels[i][:, start:stop]
            mask = torch.ones(window, dtype=torch.bool)
            if stop - start < window:
                pad = window - (stop - start)
                crop = torch.cat([crop, crop[-1:].expand(pad, *crop.shape[1:])])
                target = F.pad(target, (0, pad))
                mask[stop - start:] = False
            frames.append(crop)
            targets.append(target)
            masks.append(mask)
        return torch.stack(frames), torch.stack(targets), torch.stack(masks)

    return batches


def _loss_spec(loss: str, config: GolfExperimentConfig) -> LossSpec:
    """The training loss of ``loss`` (one of :data:`LOSSES`) under ``config``."""
    if loss == "ce":
        return LossSpec("softmax-ce", class_weights=SWINGNET_CLASS_WEIGHTS)
    if loss == "softloc":
        return LossSpec(loss, softness=config.softness,
                        alpha=golf_alpha_schedule(config.iterations, config.alpha,
                                                  config.alpha_ramp))
    return LossSpec(loss, softness=config.softness)


def event_probabilities(model: FrameRecurrentDetector, frames: np.ndarray, *,
                        softmax: bool) -> Tensor:
    """Per-event probabilities ``(8, T)`` (float64) of one clip, the whole clip at once.

    ``frames``: ``(T, H, W, 3)`` uint8 RGB at the size the model was trained on. ``softmax``:
    the model has the 9-logit head of ``ce`` (softmax over the 8 events and "no event", then
    the 8 events); else its 8 channels are independent sigmoids. The model is put in eval mode.
    Decode with :func:`softloc.decode.argmax_events` (per event, the most probable frame).
    """
    model.eval()
    device = next(model.parameters()).device
    with torch.no_grad():
        logits = model(torch.from_numpy(frames).permute(0, 3, 1, 2)[None].to(device))[0]
        probs = torch.softmax(logits, dim=0)[:NO_EVENT_CLASS] if softmax else \
            torch.sigmoid(logits)
    return probs.double().cpu()


def _predict(model: FrameRecurrentDetector, clips: list[GolfClip], softmax: bool) -> np.ndarray:
    """Predicted event frames ``(N, 8)``: per event, the argmax over each whole clip."""
    predicted = np.empty((len(clips), 8), dtype=np.int64)
    for i, clip in enumerate(clips):
        found = argmax_events(event_probabilities(model, clip.frames, softmax=softmax))
        predicted[i] = [int(f[0]) for f in found.frame_lists()[0]]
    return predicted


# ---------------------------------------------------------------------------------------------
# One run
# ---------------------------------------------------------------------------------------------


@dataclass
class TrainedGolfModel:
    """A trained golf detector with what is needed to apply it (:mod:`softloc.detector`).

    Attributes
    ----------
    model:
        The :class:`~softloc.models.FrameRecurrentDetector` (eval mode, CPU).
    softmax:
        ``True``: the 9-logit softmax head of ``ce``; ``False``: 8 sigmoid channels
        (:func:`event_probabilities`).
    image_size:
        ``(height, width)`` of the frames it was trained on, pixels.
    info:
        What was trained: ``loss``, ``noise_level`` (frames), ``seed``, ``fold`` (held out),
        ``train_clips``, the noise applied (``train_events``, ``labels_moved``,
        ``labels_clipped``), ``iterations``, ``learning_rate``, ``alpha``, ``final_loss``,
        ``parameters``.
    """

    model: FrameRecurrentDetector
    softmax: bool
    image_size: tuple[int, int]
    info: dict


#: The keys of :attr:`TrainedGolfModel.info` that :func:`run_one` puts in its row, in order.
_ROW_TRAINING_KEYS = ("train_clips", "train_events", "labels_moved", "labels_clipped",
                      "iterations", "learning_rate", "alpha", "final_loss", "device")


def train_golf_model(config: GolfExperimentConfig, *, loss: str, noise_level: float = 0.0,
                     seed: int = 0, fold: int = 0, progress: bool = False,
                     checkpoint_path: str | Path | None = None,
                     device: str = "cpu") -> TrainedGolfModel:
    """Train one detector on the clips outside ``fold`` with misaligned event frames.

    ``loss``: one of :data:`LOSSES`; ``noise_level``: sigma of the label shift in frames;
    ``seed``: noise draw, initialisation and crops; ``fold``: the held-out fold (0-3), whose
    clips are not trained on. ``checkpoint_path``: resumable training state
    (:func:`softloc.training.train`): a run interrupted after a checkpoint continues from it.
    ``device``: where to train (:func:`~softloc.training.resolve_device`); the model stays
    there. Steps 1-3 of the module docstring.
    """
    if not isinstance(config, GolfExperimentConfig):
        raise TypeError(f"config must be a GolfExperimentConfig, got {type(config).__name__}")
    if loss not in LOSSES:
        raise ValueError(f"unknown loss {loss!r}; the golf experiment's losses are "
                         f"{', '.join(LOSSES)}")
    level = check_noise_level(noise_level, "frames")
    seed = check_int(seed, "seed", 0)
    fold = _check_fold(fold)
    train_clips, _ = _split(config, fold)
    level_key = round(level * 1000)
    noisy_events, noise_info = _misalign(train_clips, level, _seed(1, seed, fold, level_key))
    frames = [torch.from_numpy(c.frames).permute(0, 3, 1, 2) for c in train_clips]
    batches = crop_batches(frames, noisy_events, window=config.window,
                           batch_size=config.batch_size)
    run_seed = _seed(2, seed, fold, level_key) % 2**31
    softmax = loss == "ce"
    state = torch.random.get_rng_state()
    try:
        torch.manual_seed(run_seed)
        model = FrameRecurrentDetector(
            NO_EVENT_CLASS + 1 if softmax else 8, config.channels, config.hidden,
            config.bidirectional, bias_steps=None if softmax else config.window,
            no_event_probability=config.no_event_probability)
    finally:
        torch.random.set_rng_state(state)
    result = train(model, _loss_spec(loss, config), batches, steps=config.iterations,
                   learning_rate=config.learning_rate, seed=run_seed,
                   log_every=max(1, config.iterations // 10), progress=progress, device=device,
                   checkpoint_path=checkpoint_path,
                   checkpoint_every=None if checkpoint_path is None else max(
                       1, config.iterations // 10),
                   resume=checkpoint_path is not None)  # afresh while no file
    model.eval()
    info = {"loss": loss, "noise_level": level, "seed": seed, "fold": fold,
            "train_clips": len(train_clips), **noise_info,
            "iterations": config.iterations, "learning_rate": config.learning_rate,
            "alpha": config.alpha if loss == "softloc" else None,
            "final_loss": result.final_loss,
            "parameters": sum(p.numel() for p in model.parameters()),
            "device": str(next(model.parameters()).device)}
    return TrainedGolfModel(model=model, softmax=softmax, image_size=config.data.image_size,
                            info=info)


def _split(config: GolfExperimentConfig, fold: int) -> tuple[list, list]:
    """``(training clips, held-out clips)`` of ``fold``, both non-empty."""
    train_clips, test_clips = _dataset(config.data, config.data_seed).split(fold)
    if not train_clips or not test_clips:
        raise ValueError(f"fold {fold} leaves an empty training or test set; raise "
                         f"data.num_clips (now {config.data.num_clips})")
    return train_clips, test_clips


def held_out_clips(config: GolfExperimentConfig, fold: int) -> list[GolfClip]:
    """The clips of ``fold`` (0-3) in ``config``'s rendered data (rendered once per process):
    what :func:`train_golf_model` leaves out and :func:`run_one` scores on."""
    if not isinstance(config, GolfExperimentConfig):
        raise TypeError(f"config must be a GolfExperimentConfig, got {type(config).__name__}")
    return _split(config, _check_fold(fold))[1]


def evaluate_golf_model(trained: TrainedGolfModel, clips: list[GolfClip]) -> dict:
    """Score ``trained`` on ``clips`` (at its ``image_size``) with their event frames: the row of
    :func:`run_one` up to ``test_clips`` (step 4 of the module docstring)."""
    if not clips:
        raise ValueError("clips must hold at least one clip")
    for clip in clips:
        if tuple(clip.frames.shape[1:3]) != tuple(trained.image_size):
            raise ValueError(f"clips must have the model's image_size {trained.image_size}, "
                             f"got frames of {tuple(clip.frames.shape[1:3])}")
    true = np.stack([c.events for c in clips])
    predicted = _predict(trained.model, clips, trained.softmax)
    scores = percentage_of_correct_events(predicted, true)
    errors = np.abs(predicted - true)
    row: dict[str, Any] = {"pce": scores.pce}
    for name, value in zip(GOLF_EVENTS, scores.per_event):
        row[f"pce_{name}"] = value
    row.update({
        "pce_exact": float((errors == 0).mean()),
        "mean_abs_error": float(errors.mean()),
        "median_abs_error": float(np.median(errors)),
        "mean_tolerance": float(scores.tolerance.mean()),
        "test_clips": len(clips),
    })
    return row


def run_one(params: dict, config: GolfExperimentConfig, device: str = "cpu") -> dict:
    """Train one detector on misaligned event frames and score it on the held-out fold.

    ``params``: ``loss`` (one of :data:`LOSSES`), ``noise_level`` (sigma in frames, >= 0),
    ``distribution`` (``'normal'``), ``seed`` (>= 0), ``fold`` (the test fold, 0-3);
    ``device``: where to train. Returns the row described in the module docstring.
    """
    if not isinstance(config, GolfExperimentConfig):
        raise TypeError(f"config must be a GolfExperimentConfig, got {type(config).__name__}")
    loss, level, seed, fold = _check_params(params)
    trained = train_golf_model(config, loss=loss, noise_level=level, seed=seed, fold=fold,
                               device=device)
    row = evaluate_golf_model(trained, held_out_clips(config, fold))
    row.update({key: trained.info[key] for key in _ROW_TRAINING_KEYS})
    return row


# ---------------------------------------------------------------------------------------------
# Registration
# ---------------------------------------------------------------------------------------------

#: ``--quick``: 48 clips of 32 x 32 pixels, a narrower network, 500 steps of 4 crops; with the
#: quick axes (4 losses x noise 0, 2, 4 x fold 0) 12 runs of 11 to 24 s plus 10 s of rendering,
#: under 3 minutes on one core. A check that everything runs, not a measurement: 500 steps
#: from scratch leave every loss near chance (PCE 0.0 to 0.16; a random frame scores about
#: 0.04).
QUICK_CONFIG = GolfExperimentConfig(
    data=GolfConfig(num_clips=48, image_size=(32, 32), motion_blur_subframes=2),
    iterations=500, batch_size=4, channels=(8, 16, 32), hidden=32)

GOLF_EXPERIMENT = SweepExperiment(
    name="golf",
    summary=(
        "the paper's golf-swing sequencing experiment (section 6.1, Table 1) on rendered swing "
        "videos: a causal per-frame CNN + LSTM trained on misaligned event frames, PCE with "
        "GolfDB's adaptive tolerance over 4 folds"
    ),
    config_type=GolfExperimentConfig,
    run_one=run_one,
    axes={
        "loss": LOSSES,
        "noise_level": NOISE_LEVELS,
        "distribution": DISTRIBUTIONS,
        "seed": (0,),
        "fold": (0, 1, 2, 3),
    },
    quick_axes={
        "loss": LOSSES,
        "noise_level": (0, 2, 4),
        "distribution": DISTRIBUTIONS,
        "seed": (0,),
        "fold": (0,),
    },
    quick_config=QUICK_CONFIG,
    score="pce",
    score_label="PCE (GolfDB tolerance, held-out fold)",
    noise_unit="frames",
    takes_device=True,
)
"""The golf sweep (``softloc bench golf``): losses x noise levels (frames) x seeds x 4 folds,
scored by PCE."""
