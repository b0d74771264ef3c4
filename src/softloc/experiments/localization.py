"""The paper's "Localization Learning" example (sections 4.1, 4.2, 5.1 and 5.2), trained for real.

Setting
-------
Every training sequence has ``T = length`` frames and one event at the centre ``t0 = T // 2``.
The input is the impulse ``x_t = 1[t = t0]``; the label is the impulse at the misaligned time
``t0 + eps`` with ``eps ~ E`` i.i.d. (paper Eq. 1). The model is a learned 1-D filter of logits
``w`` over offsets ``tau = -R..R`` applied by convolution (:func:`apply_filter`)::

    logit_t = b + sum_tau (w_tau - b) x_{t - tau},    p_t = sigmoid(logit_t)

so the prediction at ``t0 + tau`` is the learned filter ``p*(tau) = sigmoid(w_tau)`` and every
step off the filter has the fixed low probability ``sigmoid(b)``, ``b = off_filter_logit``.
One filter is trained per loss with Adam and compared with the optimum the paper derives:

=========================  ===============================  ===============================
loss                       optimal filter ``p*(tau)``       paper
=========================  ===============================  ===============================
L_CE                       ``P(E = tau)``                   Eq. 4-5
L_LS|CE, filter Phi        ``(E * Phi)(tau)``               Eq. 8-9
L_SLL, any softness        ``P(E = tau)``                   Eq. 12 with E-filter = identity
L_SoftLoc, symmetric E     ``1[tau = 0]``                   Eq. 19 and the example after it
=========================  ===============================  ===============================

Why these optima (with ``f = p*`` and ``e_k = P(E = k)``; ``Phi`` the unit-sum Gaussian):

* L_CE and L_LS|CE are sums of per-step cross-entropies and the filter value at ``tau`` only
  meets the targets at ``t0 + tau``; their expectations ``e_tau`` and ``sum_k e_k Phi(tau - k)``
  are the minimisers of ``-[q log f + (1 - q) log(1 - f)]``.
* L_SLL (E-filter = identity) averages to
  ``E_eps ||Phi * (f - delta_eps)||^2 = ||Phi * (f - e)||^2 + const``; convolution with a non-zero
  finite filter is injective, so the unique minimiser is ``f = e`` for every softness. But the
  curvature along a frequency ``omega`` is ``|Phi^(omega)|^2 ~ exp(-softness^2 omega^2)``: from
  a softness of about 1.5 frames the fine structure of ``f`` barely changes the loss (at
  softness 2 a filter 0.05 away from ``e`` is within 1e-8 of the minimum), so the filter Adam
  reaches matches ``e`` in mass and spread but its shape is set by the optimiser. The default
  softness values 0.5 and 1 are where the comparison with ``e`` is meaningful.
* L_PB is zero only for a one-hot filter ``delta_s``; among those the expected L_SLL is smallest
  where ``(Phi * Phi * e)(s)`` is largest, which is ``s = 0`` for a symmetric unimodal E. For
  ``E = +-delta`` (two spikes) this holds only when the softness exceeds about ``0.64 delta``
  frames; below it the best spike sits on a label position ``+-delta``, and near that bound the
  spikes have almost equal losses and training may end on any of them.

Conventions
-----------
* Offsets, shifts, softness and radii are in frames; filters are indexed by ``tau = -R..R``.
* The data set holds ``num_sequences`` shifts drawn from E with a seeded ``torch.Generator``.
  All sequences with the same shift are identical, so a training step evaluates one sequence per
  shift value (a whole shift set, vectorised) weighted by that shift's frequency in the sample:
  exactly the mean loss over the data set, at a cost independent of its size.
* Training runs in float64, full batch, with Adam and a cosine decay of the learning rate to 0.
* The distance of a learned filter to its theory is ``max_tau |p*(tau) - theory(tau)|``
  (probability units); a loss passes when it is at most ``tolerance``. Theories use the true E,
  so the distance includes the sampling error of the finite data set (``sampling_error``).
"""

from __future__ import annotations

import csv
import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import IO

import torch
import torch.nn.functional as F
from torch import Tensor
from tqdm.auto import tqdm

from .._checks import check_choice, check_int
from .._io import write_atomic
from ..losses import (
    gaussian_kernel,
    label_smoothing_ce_loss,
    soft_localization_loss,
    softloc_loss,
    stepwise_ce_loss,
)
from ..losses._utils import check_positive, check_probability

__all__ = [
    "NOISE_KINDS",
    "LocalizationConfig",
    "LossOutcome",
    "LocalizationResult",
    "misalignment_pmf",
    "apply_filter",
    "run_localization_experiment",
]

NOISE_KINDS = ("normal", "binary")
OUTPUT_FILES = {
    "png": "filters.png",
    "summary_csv": "summary.csv",
    "filters_csv": "filters.csv",
    "markdown": "summary.md",
}


@dataclass(frozen=True)
class LocalizationConfig:
    """Settings of the localization-learning experiment (all lengths in frames).

    Parameters
    ----------
    length:
        Sequence length ``T``; the event sits at ``T // 2``.
    radius:
        Filter radius ``R``: the learned filter covers offsets ``-R..R``.
    noise:
        Label misalignment E: ``'normal'`` (a normal of standard deviation ``noise_scale``
        rounded to whole frames, restricted to ``|k| <= max_shift`` and renormalised) or
        ``'binary'`` (``+-noise_scale`` with probability 1/2 each; a whole number of frames).
    noise_scale:
        Standard deviation (``'normal'``) or shift ``delta`` (``'binary'``), frames.
    max_shift:
        Largest ``|eps|``, frames; at most ``radius``.
    num_sequences:
        Training sequences (shifts drawn from E).
    steps:
        Adam steps per loss (full batch).
    learning_rate:
        Adam's initial learning rate (cosine decay to 0 over ``steps``).
    off_filter_logit:
        Fixed logit ``b`` of every step outside the filter.
    label_smoothing_softness:
        Softness of Phi for L_LS|CE.
    sll_softness:
        One L_SLL filter is trained per value (to show the optimum does not depend on Phi).
    softloc_softness, softloc_alpha:
        ``s_M`` and the constant ``alpha`` of L_SoftLoc (Eq. 19).
    tolerance:
        Largest ``max_tau |p*(tau) - theory(tau)|`` that counts as agreement.

    Examples
    --------
    >>> config = LocalizationConfig(noise="binary", noise_scale=2, max_shift=2)
    >>> config.length, config.radius, misalignment_pmf(config.noise, 2, 2).tolist()
    (64, 10, [0.5, 0.0, 0.0, 0.0, 0.5])
    >>> try:
    ...     LocalizationConfig(max_shift=12)
    ... except ValueError as error:
    ...     print(error)
    max_shift must be <= radius (the filter must reach every label), got max_shift=12, radius=10
    """

    length: int = 64
    radius: int = 10
    noise: str = "normal"
    noise_scale: float = 1.5
    max_shift: int = 3
    num_sequences: int = 100_000
    steps: int = 2000
    learning_rate: float = 0.2
    off_filter_logit: float = -12.0
    label_smoothing_softness: float = 2.0
    sll_softness: tuple[float, ...] = (0.5, 1.0)
    softloc_softness: float = 2.0
    softloc_alpha: float = 0.5
    tolerance: float = 0.03

    def __post_init__(self) -> None:
        check_int(self.length, "length", 3, numpy=False)
        check_int(self.radius, "radius", 1, numpy=False)
        check_int(self.max_shift, "max_shift", 0, numpy=False)
        check_int(self.num_sequences, "num_sequences", 1, numpy=False)
        check_int(self.steps, "steps", 1, numpy=False)
        if self.length // 2 + self.radius > self.length - 1:
            raise ValueError(
                f"radius must leave the filter inside the sequence: length // 2 + radius <= "
                f"length - 1, got length={self.length}, radius={self.radius}"
            )
        if self.max_shift > self.radius:
            raise ValueError(
                f"max_shift must be <= radius (the filter must reach every label), "
                f"got max_shift={self.max_shift}, radius={self.radius}"
            )
        misalignment_pmf(self.noise, self.noise_scale, self.max_shift)  # validates the noise
        check_positive(self.learning_rate, "learning_rate")
        if not math.isfinite(self.off_filter_logit):
            raise ValueError(f"off_filter_logit must be finite, got {self.off_filter_logit}")
        check_positive(self.label_smoothing_softness, "label_smoothing_softness")
        if not isinstance(self.sll_softness, tuple) or not self.sll_softness:
            raise TypeError(f"sll_softness must be a non-empty tuple, got {self.sll_softness!r}")
        for softness in self.sll_softness:
            check_positive(softness, "sll_softness")
        check_positive(self.softloc_softness, "softloc_softness")
        check_probability(self.softloc_alpha, "softloc_alpha")
        check_positive(self.tolerance, "tolerance")

    def to_dict(self) -> dict:
        return asdict(self)


def misalignment_pmf(noise: str, scale: float, max_shift: int) -> Tensor:
    """``P(E = k)`` for ``k = -max_shift..max_shift``: a ``(2 max_shift + 1,)`` float64 tensor.

    ``'normal'``: ``P(E = k) ~ Phi_N((k + 1/2) / scale) - Phi_N((k - 1/2) / scale)`` (a normal
    of standard deviation ``scale`` frames rounded to whole frames) renormalised over the support;
    ``'binary'``: ``P(E = -scale) = P(E = scale) = 1/2`` with ``scale`` a whole number of frames.

    Examples
    --------
    >>> misalignment_pmf("binary", 2, 3).tolist()
    [0.0, 0.5, 0.0, 0.0, 0.0, 0.5, 0.0]
    >>> p = misalignment_pmf("normal", 1.5, 3)
    >>> round(float(p.sum()), 12), round(float(p[3]), 3)
    (1.0, 0.266)
    """
    check_choice(noise, "noise", NOISE_KINDS)
    scale = check_positive(scale, "noise_scale")
    check_int(max_shift, "max_shift", 0, numpy=False)
    shifts = torch.arange(-max_shift, max_shift + 1, dtype=torch.float64)
    if noise == "normal":
        edges = torch.special.ndtr(torch.cat([shifts - 0.5, shifts[-1:] + 0.5]) / scale)
        pmf = edges[1:] - edges[:-1]
        return pmf / pmf.sum()
    if scale != round(scale) or scale > max_shift:
        raise ValueError(
            f"binary noise needs a whole noise_scale in 1..max_shift={max_shift} frames, "
            f"got {scale}"
        )
    return ((shifts.abs() == scale).to(torch.float64)) / 2.0


def apply_filter(inputs: Tensor, filter_logits: Tensor, off_filter_logit: float) -> Tensor:
    """Logits of the filter model: ``b + sum_tau (w_tau - b) x_{t - tau}`` (zero-padded).

    Parameters
    ----------
    inputs:
        ``(N, T)`` input sequences ``x``.
    filter_logits:
        ``(2 R + 1,)`` logits ``w_tau`` for ``tau = -R..R``.
    off_filter_logit:
        ``b``, the logit of steps no event reaches.

    Returns
    -------
    Tensor
        ``(N, T)`` logits; for an impulse at ``t0`` the logit at ``t0 + tau`` is ``w_tau``.

    Examples
    --------
    >>> x = torch.zeros(1, 7); x[0, 3] = 1.0
    >>> apply_filter(x, torch.tensor([1.0, 2.0, 3.0]), -5.0).tolist()
    [[-5.0, -5.0, 1.0, 2.0, 3.0, -5.0, -5.0]]
    """
    radius = (filter_logits.shape[0] - 1) // 2
    # conv1d is a cross-correlation: flipping the filter makes it the convolution w * x.
    weight = (filter_logits - off_filter_logit).flip(0).view(1, 1, -1)
    return F.conv1d(inputs.unsqueeze(1), weight, padding=radius).squeeze(1) + off_filter_logit


def _label(loss: str, softness: float | None, alpha: float | None) -> str:
    settings = [f"s={softness:g}"] if softness is not None else []
    settings += [f"a={alpha:g}"] if alpha is not None else []
    return " ".join([loss, *settings])


@dataclass(frozen=True)
class LossOutcome:
    """One trained filter against its theory. Filters are indexed by ``tau = -R..R``."""

    loss: str
    softness: float | None
    alpha: float | None
    equation: str
    formula: str
    learned: tuple[float, ...]
    theory: tuple[float, ...]
    distance: float
    tolerance: float
    final_loss: float

    @property
    def label(self) -> str:
        """E.g. ``'SLL s=2'`` or ``'SoftLoc s=2 a=0.5'``."""
        return _label(self.loss, self.softness, self.alpha)

    @property
    def passed(self) -> bool:
        return self.distance <= self.tolerance

    @property
    def mass_at_zero(self) -> float:
        """``p*(0)``."""
        return self.learned[len(self.learned) // 2]

    @property
    def peak_offset(self) -> int:
        """``argmax_tau p*(tau)``, frames."""
        peak = max(range(len(self.learned)), key=self.learned.__getitem__)
        return peak - len(self.learned) // 2

    def to_dict(self) -> dict:
        return {
            **asdict(self),
            "label": self.label,
            "passed": self.passed,
            "mass_at_zero": self.mass_at_zero,
            "peak_offset": self.peak_offset,
        }


@dataclass(frozen=True)
class LocalizationResult:
    """Outcome of :func:`run_localization_experiment`.

    ``noise_pmf`` and ``empirical_pmf`` hold ``P(E = k)`` and the sampled frequencies for
    ``k = -max_shift..max_shift``; ``offsets`` the filter offsets ``-R..R``; ``runtime_s`` the
    wall time of the training in seconds; ``files`` the written outputs (empty without
    ``out_dir``). Each outcome (``LossOutcome``) holds the learned filter ``p*(tau)``, the
    paper's optimum for it (with its equation number) and their distance.

    Examples
    --------
    A very short run (20 steps: too few to converge, enough to read the fields):

    >>> config = LocalizationConfig(steps=20, num_sequences=1000)
    >>> result = run_localization_experiment(config, progress=False)
    >>> len(result.offsets), result.offsets[0], round(sum(result.noise_pmf), 9)
    (21, -10, 1.0)
    >>> [(o.label, o.equation) for o in result.outcomes][:2]
    [('CE', 'Eq. 4-5'), ('LS|CE s=2', 'Eq. 8-9')]
    >>> bool(result.sampling_error < 0.05), result.files  # no out_dir: no files
    (True, {})
    >>> result.to_markdown().splitlines()[0]
    '# Localization learning example (paper sections 4.1, 4.2, 5.1, 5.2)'
    """

    config: LocalizationConfig
    seed: int
    offsets: tuple[int, ...]
    noise_pmf: tuple[float, ...]
    empirical_pmf: tuple[float, ...]
    outcomes: tuple[LossOutcome, ...]
    runtime_s: float
    files: dict[str, str] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return all(outcome.passed for outcome in self.outcomes)

    @property
    def sampling_error(self) -> float:
        """``max_k |empirical(k) - P(E = k)|``: the floor of the CE and SLL distances."""
        return max(abs(a - b) for a, b in zip(self.empirical_pmf, self.noise_pmf))

    def summary_rows(self) -> list[dict[str, str]]:
        """One row per loss, formatted: the columns of the printed and Markdown tables."""
        return [
            {
                "loss": outcome.label,
                "theory": f"{outcome.formula} ({outcome.equation})",
                "max |p* - theory|": f"{outcome.distance:.4f}",
                "tolerance": f"{outcome.tolerance:g}",
                "p*(0)": f"{outcome.mass_at_zero:.3f}",
                "peak tau": f"{outcome.peak_offset:+d}",
                "pass": "yes" if outcome.passed else "NO",
            }
            for outcome in self.outcomes
        ]

    def format_table(self) -> str:
        """The summary as an aligned plain-text table."""
        rows = self.summary_rows()
        names = list(rows[0])
        widths = {name: max(len(name), *(len(row[name]) for row in rows)) for name in names}
        lines = [{name: name for name in names}, {name: "-" * widths[name] for name in names}]
        return "\n".join(
            "  ".join(line[name].ljust(widths[name]) for name in names).rstrip()
            for line in lines + rows
        )

    def describe(self) -> str:
        """One line: noise, data set size, steps, seed, sampling error, runtime."""
        config = self.config
        noise = (
            f"rounded N(0, {config.noise_scale:g}^2) frames on |k| <= {config.max_shift}"
            if config.noise == "normal"
            else f"+-{config.noise_scale:g} frames, probability 1/2 each"
        )
        return (
            f"E = {noise}; {config.num_sequences} sequences of {config.length} frames; "
            f"{config.steps} Adam steps per loss; seed {self.seed}; sampling error "
            f"{self.sampling_error:.4f}; training {self.runtime_s:.1f} s"
        )

    def to_markdown(self) -> str:
        """A heading, :meth:`describe` and the summary as a Markdown table."""
        rows = self.summary_rows()
        names = list(rows[0])

        def line(cells: list[str]) -> str:
            return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"

        lines = [
            "# Localization learning example (paper sections 4.1, 4.2, 5.1, 5.2)",
            "",
            self.describe() + ".",
            "",
            line(names),
            "|" + "|".join("---" for _ in names) + "|",
        ]
        lines += [line([row[name] for name in names]) for row in rows]
        return "\n".join(lines) + "\n"

    def to_dict(self) -> dict:
        return {
            "config": self.config.to_dict(),
            "seed": self.seed,
            "offsets": list(self.offsets),
            "noise_pmf": list(self.noise_pmf),
            "empirical_pmf": list(self.empirical_pmf),
            "outcomes": [outcome.to_dict() for outcome in self.outcomes],
            "runtime_s": self.runtime_s,
            "files": dict(self.files),
            "passed": self.passed,
            "sampling_error": self.sampling_error,
        }


@dataclass(frozen=True)
class _Criterion:
    """A loss to train with, its settings and the filter the paper predicts for it."""

    loss: str
    function: Callable[..., Tensor]
    options: dict
    equation: str
    formula: str
    theory: Tensor


def _on_offsets(values: Tensor, radius: int) -> Tensor:
    """Centre an odd-length ``values`` on offsets ``-radius..radius`` (zero-pad or crop)."""
    half = (values.shape[0] - 1) // 2
    out = values.new_zeros(2 * radius + 1)
    keep = min(half, radius)
    out[radius - keep : radius + keep + 1] = values[half - keep : half + keep + 1]
    return out


def _criteria(config: LocalizationConfig, pmf: Tensor) -> list[_Criterion]:
    radius = config.radius
    noise_filter = _on_offsets(pmf, radius)
    kernel = gaussian_kernel(config.label_smoothing_softness, dtype=torch.float64)
    # (E * Phi)(tau) = sum_k P(E = k) Phi(tau - k): a full convolution, centred.
    smoothed = F.conv1d(pmf.view(1, 1, -1), kernel.flip(0).view(1, 1, -1),
                        padding=kernel.shape[0] - 1).flatten()
    spike = _on_offsets(torch.ones(1, dtype=torch.float64), radius)
    criteria = [
        _Criterion("CE", stepwise_ce_loss, {}, "Eq. 4-5", "P(E=tau)", noise_filter),
        _Criterion(
            "LS|CE", label_smoothing_ce_loss, {"softness": config.label_smoothing_softness},
            "Eq. 8-9", "(E*Phi)(tau)", _on_offsets(smoothed, radius),
        ),
    ]
    criteria += [
        _Criterion("SLL", soft_localization_loss, {"softness": softness}, "Eq. 12",
                   "P(E=tau) for any Phi", noise_filter)
        for softness in config.sll_softness
    ]
    criteria.append(
        _Criterion(
            "SoftLoc", softloc_loss,
            {"softness": config.softloc_softness, "alpha": config.softloc_alpha},
            "Eq. 19", "1[tau=0]", spike,
        )
    )
    return criteria


@contextmanager
def _one_intra_op_thread() -> Iterator[None]:
    """Run tiny ops on one thread: on a busy 2-core CPU two threads cost ~30x more per step."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def _train_filter(
    criterion: _Criterion,
    inputs: Tensor,
    targets: Tensor,
    weights: Tensor,
    config: LocalizationConfig,
    description: str,
    progress: bool,
) -> tuple[Tensor, float]:
    """Adam on the frequency-weighted loss; returns ``p*`` ``(2 R + 1,)`` and the last loss."""
    width = 2 * config.radius + 1
    # A uniform filter of unit mass: p*(tau) = 1 / (2 R + 1) everywhere.
    filter_logits = torch.full((width,), -math.log(width - 1), dtype=torch.float64,
                               requires_grad=True)
    optimizer = torch.optim.Adam([filter_logits], lr=config.learning_rate)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=config.steps)
    for _ in tqdm(range(config.steps), desc=description, unit="step", leave=False,
                  disable=not progress):
        optimizer.zero_grad()
        logits = apply_filter(inputs, filter_logits, config.off_filter_logit)
        per_sequence = criterion.function(logits, targets, reduction="none", **criterion.options)
        loss = (per_sequence * weights).sum()
        loss.backward()
        optimizer.step()
        schedule.step()
    return torch.sigmoid(filter_logits.detach()), float(loss.detach())


def run_localization_experiment(
    config: LocalizationConfig | None = None,
    *,
    seed: int = 0,
    out_dir: Path | str | None = None,
    progress: bool = True,
) -> LocalizationResult:
    """Train one filter per loss on misaligned impulse labels and compare it with the paper.

    Parameters
    ----------
    config:
        Experiment settings; ``LocalizationConfig()`` when ``None``.
    seed:
        Seed of the ``torch.Generator`` that draws the label shifts; the same seed gives
        bit-identical filters.
    out_dir:
        If given, the folder (created if missing) that receives ``filters.png`` (one panel per
        loss), ``summary.csv`` (one row per loss; ``distance`` is ``max |p* - theory|``),
        ``filters.csv`` (long format: loss, tau, learned, theory) and ``summary.md``, each
        written atomically.
    progress:
        Show a tqdm progress bar over the training steps of each loss.

    Returns
    -------
    LocalizationResult
        Learned and theoretical filters, distances and pass/fail per loss.

    Examples
    --------
    >>> config = LocalizationConfig(steps=100, sll_softness=(1.0,))
    >>> result = run_localization_experiment(config, progress=False)
    >>> [outcome.label for outcome in result.outcomes]
    ['CE', 'LS|CE s=2', 'SLL s=1', 'SoftLoc s=2 a=0.5']
    >>> result.outcomes[0].passed, result.outcomes[-1].peak_offset
    (True, 0)
    """
    config = LocalizationConfig() if config is None else config
    if not isinstance(config, LocalizationConfig):
        raise TypeError(f"config must be a LocalizationConfig, got {type(config).__name__}")
    seed = check_int(seed, "seed", 0, numpy=False)
    start = time.perf_counter()

    pmf = misalignment_pmf(config.noise, config.noise_scale, config.max_shift)
    generator = torch.Generator().manual_seed(seed)
    drawn = torch.multinomial(pmf, config.num_sequences, replacement=True, generator=generator)
    counts = torch.bincount(drawn, minlength=pmf.shape[0]).to(torch.float64)
    weights = counts / config.num_sequences

    # One sequence per shift value k = -max_shift..max_shift: impulse at t0, label at t0 + k.
    shift_values = pmf.shape[0]
    centre = config.length // 2
    rows = torch.arange(shift_values)
    inputs = torch.zeros(shift_values, config.length, dtype=torch.float64)
    inputs[:, centre] = 1.0
    targets = torch.zeros_like(inputs)
    targets[rows, centre - config.max_shift + rows] = 1.0

    outcomes = []
    with _one_intra_op_thread():
        for criterion in _criteria(config, pmf):
            softness = criterion.options.get("softness")
            alpha = criterion.options.get("alpha")
            learned, final_loss = _train_filter(
                criterion, inputs, targets, weights, config,
                _label(criterion.loss, softness, alpha), progress,
            )
            outcomes.append(
                LossOutcome(
                    loss=criterion.loss,
                    softness=softness,
                    alpha=alpha,
                    equation=criterion.equation,
                    formula=criterion.formula,
                    learned=tuple(learned.tolist()),
                    theory=tuple(criterion.theory.tolist()),
                    distance=float((learned - criterion.theory).abs().max()),
                    tolerance=config.tolerance,
                    final_loss=final_loss,
                )
            )
    result = LocalizationResult(
        config=config,
        seed=seed,
        offsets=tuple(range(-config.radius, config.radius + 1)),
        noise_pmf=tuple(pmf.tolist()),
        empirical_pmf=tuple(weights.tolist()),
        outcomes=tuple(outcomes),
        runtime_s=time.perf_counter() - start,
    )
    if out_dir is None:
        return result
    return replace(result, files=_write_outputs(result, Path(out_dir)))


def _write_outputs(result: LocalizationResult, out_dir: Path) -> dict[str, str]:
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {kind: out_dir / name for kind, name in OUTPUT_FILES.items()}

    def summary(f: IO) -> None:
        columns = ["label", "loss", "softness", "alpha", "equation", "formula", "distance",
                   "tolerance", "passed", "mass_at_zero", "peak_offset", "final_loss"]
        writer = csv.DictWriter(f, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(outcome.to_dict() for outcome in result.outcomes)

    def filters(f: IO) -> None:
        writer = csv.writer(f)
        writer.writerow(["loss", "tau", "learned", "theory"])
        for outcome in result.outcomes:
            for tau, learned, theory in zip(result.offsets, outcome.learned, outcome.theory):
                writer.writerow([outcome.label, tau, f"{learned:.6f}", f"{theory:.6f}"])

    write_atomic(paths["png"], lambda f: _plot(result).savefig(f, format="png", dpi=110),
                  binary=True)
    write_atomic(paths["summary_csv"], summary)
    write_atomic(paths["filters_csv"], filters)
    write_atomic(paths["markdown"], lambda f: f.write(result.to_markdown()))
    return {kind: str(path) for kind, path in paths.items()}


def _plot(result: LocalizationResult):
    """One panel per loss: the learned filter as bars, the theory as a line (Agg canvas)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    count = len(result.outcomes)
    figure = Figure(figsize=(3.3 * count, 3.4), layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.subplots(1, count, squeeze=False)[0]
    for ax, outcome in zip(axes, result.outcomes):
        ax.bar(result.offsets, outcome.learned, width=0.8, color="C0", alpha=0.75,
               label="learned p*(tau)")
        ax.plot(result.offsets, outcome.theory, color="C3", marker="o", markersize=3,
                label="theory")
        verdict = "pass" if outcome.passed else "FAIL"
        ax.set_title(f"{outcome.label} ({outcome.equation})\n{outcome.formula}\n"
                     f"max |diff| = {outcome.distance:.3f} ({verdict})", fontsize=9)
        ax.set_xlabel("offset tau (frames)")
        ax.set_ylim(0.0, max(1.05 * max(max(outcome.learned), max(outcome.theory)), 0.05))
    axes[0].set_ylabel("probability")
    axes[0].legend(fontsize=8, loc="upper left")
    figure.suptitle(result.describe(), fontsize=9)
    return figure
