"""Tests for softloc.losses.baselines against independent numpy float64 formulas.

* L_CE (Eq. 2): ``-sum_t [w y_t log p_t + (1 - y_t) log(1 - p_t)]``, ``y`` clipped to 1.
* L_LS|CE (Eq. 6): L_CE against ``Phi * y`` (clipped to [0, 1]).
* L_LS|SE (Eq. 7): ``sum_t (p_t - (Phi * y)_t) ** 2``.
* soft bootstrapping (Reed et al. 2014): CE against ``beta y + (1 - beta) p``, p not detached.
* extended targets: L_CE against labels widened forward to ``width`` frames from each event.
* softmax CE with a no-event class: ``torch.nn.functional.cross_entropy`` per frame on class
  indices built by hand (the lowest event class on a frame, else no event), summed per sequence.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from softloc.losses import (
    BootstrapLoss,
    ExtendedTargetLoss,
    LabelSmoothingCELoss,
    LabelSmoothingSELoss,
    NoEventSoftmaxCELoss,
    StepwiseCELoss,
    bootstrap_loss,
    extend_targets,
    extended_target_loss,
    label_smoothing_ce_loss,
    label_smoothing_se_loss,
    no_event_softmax_ce_loss,
    stepwise_ce_loss,
)

from loss_references import (
    REDUCTIONS,
    np_kernel,
    np_same,
    np_sigmoid,
    padded_batch,
    random_case,
    zero_inputs,
)

# ----------------------------------------------------------------------------------------------
# Independent numpy references (one sequence, one class: 1-D arrays)
# ----------------------------------------------------------------------------------------------


def np_log_sigmoid(x):
    return -np.logaddexp(0.0, -x)


def np_ce(logits, soft_target, pos_weight=1.0):
    """Eq. 2 with a weight on the positive term; soft_target in [0, 1]."""
    return float(
        -np.sum(pos_weight * soft_target * np_log_sigmoid(logits)
                + (1.0 - soft_target) * np_log_sigmoid(-logits))
    )


def np_smoothed_labels(target, softness, kernel_norm="sum", truncate=4.0):
    k = np_kernel(softness, truncate)
    smoothed = np_same(np.minimum(target, 1.0), k)
    if kernel_norm == "max":
        smoothed = smoothed / k.max()
    return np.clip(smoothed, 0.0, 1.0)


def np_stepwise_ce(logits, target, pos_weight=1.0):
    return np_ce(logits, np.minimum(target, 1.0), pos_weight)


def np_ls_ce(logits, target, softness, pos_weight=1.0, kernel_norm="sum"):
    return np_ce(logits, np_smoothed_labels(target, softness, kernel_norm), pos_weight)


def np_ls_se(logits, target, softness, kernel_norm="sum"):
    return float(np.sum((np_sigmoid(logits) - np_smoothed_labels(target, softness, kernel_norm)) ** 2))


def np_bootstrap(logits, target, beta):
    y = np.minimum(target, 1.0)
    p = np_sigmoid(logits)
    s = beta * y + (1.0 - beta) * p
    return float(-np.sum(s * np_log_sigmoid(logits) + (1.0 - s) * np_log_sigmoid(-logits)))


def np_bootstrap_grad(logits, target, beta):
    """d/dl of the non-detached per-step loss: p - s - (1 - beta) p (1 - p) l."""
    y = np.minimum(target, 1.0)
    p = np_sigmoid(logits)
    s = beta * y + (1.0 - beta) * p
    return p - s - (1.0 - beta) * p * (1.0 - p) * logits


def np_extend(target, width):
    out = np.zeros(len(target))
    for t in range(len(target)):
        if target[t] > 0:
            out[t : t + width] = 1.0
    return out


def np_extended(logits, target, width, pos_weight=1.0):
    return np_ce(logits, np_extend(target, width), pos_weight)


def per_sequence(ref, logits: np.ndarray, target: np.ndarray, per_class=None, **kwargs):
    """Apply a 1-D reference to every (sequence, class) of (N, C, T) arrays -> (N, C).

    ``per_class`` maps a keyword to a list of per-class values."""
    n, c, _ = logits.shape
    out = np.zeros((n, c))
    for i in range(n):
        for j in range(c):
            extra = dict(kwargs)
            for key, values in (per_class or {}).items():
                extra[key] = values[j]
            out[i, j] = ref(logits[i, j], target[i, j], **extra)
    return out


# ----------------------------------------------------------------------------------------------
# A table of (functional, module factory, numpy reference, keyword arguments)
# ----------------------------------------------------------------------------------------------

CASES = {
    "ce": (stepwise_ce_loss, lambda **kw: StepwiseCELoss(**kw), np_stepwise_ce, {}),
    "ce_pos_weight": (
        stepwise_ce_loss, lambda **kw: StepwiseCELoss(**kw), np_stepwise_ce, {"pos_weight": 3.5}
    ),
    "ls_ce": (
        label_smoothing_ce_loss, lambda **kw: LabelSmoothingCELoss(**kw), np_ls_ce,
        {"softness": 1.5},
    ),
    "ls_ce_max_pos_weight": (
        label_smoothing_ce_loss, lambda **kw: LabelSmoothingCELoss(**kw), np_ls_ce,
        {"softness": 2.0, "kernel_norm": "max", "pos_weight": 2.0},
    ),
    "ls_se": (
        label_smoothing_se_loss, lambda **kw: LabelSmoothingSELoss(**kw), np_ls_se,
        {"softness": 2.5},
    ),
    "ls_se_max": (
        label_smoothing_se_loss, lambda **kw: LabelSmoothingSELoss(**kw), np_ls_se,
        {"softness": 0.7, "kernel_norm": "max"},
    ),
    "bootstrap": (bootstrap_loss, lambda **kw: BootstrapLoss(**kw), np_bootstrap, {"beta": 0.95}),
    "bootstrap_half": (
        bootstrap_loss, lambda **kw: BootstrapLoss(**kw), np_bootstrap, {"beta": 0.5}
    ),
    "extended": (
        extended_target_loss, lambda **kw: ExtendedTargetLoss(**kw), np_extended, {"width": 3}
    ),
    "extended_pos_weight": (
        extended_target_loss, lambda **kw: ExtendedTargetLoss(**kw), np_extended,
        {"width": 2, "pos_weight": 0.5},
    ),
}
CASE_IDS = list(CASES)


@pytest.mark.parametrize("case", CASE_IDS)
def test_matches_numpy_reference(case):
    functional, _, ref, kwargs = CASES[case]
    logits, target = random_case(1, counts=True)  # counts of 2 are positive frames
    out = functional(logits, target, reduction="none", **kwargs)
    assert out.shape == (2, 3) and out.dtype == torch.float64
    expected = per_sequence(ref, logits.numpy(), target.numpy(), **kwargs)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("case", CASE_IDS)
def test_float32_matches_numpy_reference(case):
    functional, _, ref, kwargs = CASES[case]
    logits, target = random_case(2, dtype=torch.float32)
    out = functional(logits, target, reduction="none", **kwargs)
    assert out.dtype == torch.float32
    expected = per_sequence(ref, logits.double().numpy(), target.double().numpy(), **kwargs)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("case", CASE_IDS)
def test_two_dimensional_input(case):
    functional, _, _, kwargs = CASES[case]
    logits, target = random_case(3, c=1)
    three = functional(logits, target, reduction="none", **kwargs)
    two = functional(logits[:, 0], target[:, 0], reduction="none", **kwargs)
    assert two.shape == (2,)
    torch.testing.assert_close(two, three[:, 0])


@pytest.mark.parametrize("case", CASE_IDS)
def test_reductions(case):
    functional, _, _, kwargs = CASES[case]
    logits, target = random_case(4)
    none = functional(logits, target, reduction="none", **kwargs)
    assert none.shape == (2, 3)
    torch.testing.assert_close(functional(logits, target, **kwargs), none.mean())
    torch.testing.assert_close(functional(logits, target, reduction="mean", **kwargs), none.mean())
    torch.testing.assert_close(functional(logits, target, reduction="sum", **kwargs), none.sum())


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("case", CASE_IDS)
def test_module_equals_functional(case, reduction):
    functional, module_factory, _, kwargs = CASES[case]
    logits, target = random_case(5)
    mask = torch.ones(2, 20, dtype=torch.bool)
    mask[0, 14:] = False
    module = module_factory(reduction=reduction, **kwargs)
    for m in (None, mask):
        torch.testing.assert_close(
            module(logits, target, m),
            functional(logits, target, mask=m, reduction=reduction, **kwargs),
            rtol=0,
            atol=0,
        )


@pytest.mark.parametrize("case", CASE_IDS)
def test_gradcheck_float64(case):
    functional, _, _, kwargs = CASES[case]
    logits, target = random_case(6, n=2, c=2, t=7)
    logits.requires_grad_(True)
    mask = torch.ones(2, 7, dtype=torch.bool)
    mask[1, 4:] = False
    for m in (None, mask):
        assert torch.autograd.gradcheck(
            lambda x: functional(x, target, mask=m, reduction="none", **kwargs), (logits,)
        )


# ----------------------------------------------------------------------------------------------
# Masks: padded == unpadded
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("side", ["right", "left"])
@pytest.mark.parametrize("case", CASE_IDS)
def test_padded_equals_unpadded(case, side):
    functional, _, ref, kwargs = CASES[case]
    lengths, c, t_max = [5, 14, 2, 9], 2, 14
    x, y, mask, seqs_x, seqs_y = padded_batch(
        lengths, c, t_max, seed=7, side=side, garbage_counts=3
    )
    x.requires_grad_(True)
    padded = functional(x, y, mask=mask, reduction="none", **kwargs)
    padded.sum().backward()
    for i in range(len(lengths)):
        xi = seqs_x[i].clone().requires_grad_(True)
        alone = functional(xi, seqs_y[i], reduction="none", **kwargs)
        alone.sum().backward()
        torch.testing.assert_close(padded[i], alone[0], rtol=1e-10, atol=1e-12)
        expected = per_sequence(ref, seqs_x[i].numpy(), seqs_y[i].numpy(), **kwargs)[0]
        np.testing.assert_allclose(padded[i].detach().numpy(), expected, rtol=1e-10, atol=1e-12)
        valid = mask[i]
        torch.testing.assert_close(x.grad[i][:, valid], xi.grad[0], rtol=1e-10, atol=1e-12)
        assert bool((x.grad[i][:, ~valid] == 0).all())


@pytest.mark.parametrize("case", CASE_IDS)
def test_full_mask_equals_no_mask(case):
    functional, _, _, kwargs = CASES[case]
    logits, target = random_case(8)
    full = torch.ones(2, 20, dtype=torch.bool)
    torch.testing.assert_close(
        functional(logits, target, mask=full, reduction="none", **kwargs),
        functional(logits, target, reduction="none", **kwargs),
    )


# ----------------------------------------------------------------------------------------------
# Loss-specific checks
# ----------------------------------------------------------------------------------------------


def test_stepwise_ce_equals_torch_bce():
    logits, target = random_case(9)
    out = stepwise_ce_loss(logits, target, reduction="sum")
    expected = torch.nn.functional.binary_cross_entropy_with_logits(logits, target, reduction="sum")
    torch.testing.assert_close(out, expected)
    assert float(stepwise_ce_loss(torch.zeros(1, 3), torch.tensor([[0.0, 1.0, 0.0]]))) == (
        pytest.approx(3 * math.log(2), rel=1e-6)
    )


def test_stepwise_ce_counts_clip_to_one():
    logits, target = random_case(10, counts=True)
    assert float(target.max()) == 2.0
    torch.testing.assert_close(
        stepwise_ce_loss(logits, target, reduction="none"),
        stepwise_ce_loss(logits, target.clamp(max=1), reduction="none"),
    )


@pytest.mark.parametrize("pos_weight", [
    torch.tensor([0.5, 2.0, 7.0], dtype=torch.float64), torch.tensor(2.5), 4, 0.25
])
@pytest.mark.parametrize("which", ["ce", "ls_ce", "extended"])
def test_pos_weight_forms(pos_weight, which):
    functional, ref = {
        "ce": (stepwise_ce_loss, np_stepwise_ce),
        "ls_ce": (lambda *a, **k: label_smoothing_ce_loss(*a, softness=1.5, **k),
                  lambda l, y, pos_weight: np_ls_ce(l, y, 1.5, pos_weight)),
        "extended": (lambda *a, **k: extended_target_loss(*a, width=2, **k),
                     lambda l, y, pos_weight: np_extended(l, y, 2, pos_weight)),
    }[which]
    logits, target = random_case(11)
    out = functional(logits, target, pos_weight=pos_weight, reduction="none")
    if isinstance(pos_weight, torch.Tensor) and pos_weight.dim() == 1:
        expected = per_sequence(ref, logits.numpy(), target.numpy(),
                                per_class={"pos_weight": pos_weight.tolist()})
    else:
        expected = per_sequence(ref, logits.numpy(), target.numpy(), pos_weight=float(pos_weight))
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-10, atol=1e-12)


def test_pos_weight_one_equals_none():
    logits, target = random_case(12)
    torch.testing.assert_close(
        stepwise_ce_loss(logits, target, pos_weight=1.0), stepwise_ce_loss(logits, target)
    )


@pytest.mark.parametrize("kernel_norm", ["sum", "max"])
def test_label_smoothing_per_class_softness(kernel_norm):
    logits, target = random_case(13)
    softness = [0.5, 1.5, 4.0]
    s = torch.tensor(softness, dtype=torch.float64)
    ce = label_smoothing_ce_loss(logits, target, softness=s, kernel_norm=kernel_norm,
                                 reduction="none")
    se = label_smoothing_se_loss(logits, target, softness=s, kernel_norm=kernel_norm,
                                 reduction="none")
    np.testing.assert_allclose(
        ce.numpy(),
        per_sequence(np_ls_ce, logits.numpy(), target.numpy(), per_class={"softness": softness},
                     kernel_norm=kernel_norm),
        rtol=1e-10, atol=1e-12,
    )
    np.testing.assert_allclose(
        se.numpy(),
        per_sequence(np_ls_se, logits.numpy(), target.numpy(), per_class={"softness": softness},
                     kernel_norm=kernel_norm),
        rtol=1e-10, atol=1e-12,
    )


def test_label_smoothing_max_norm_gives_peak_one_and_clips():
    # An isolated event: 'max' gives a smoothed target of exactly 1 at the event, so a prediction
    # of the smoothed labels themselves has zero squared error.
    t, softness = 41, 3.0
    target = torch.zeros(1, t, dtype=torch.float64)
    target[0, 20] = 1.0
    labels = np_smoothed_labels(target[0].numpy(), softness, "max")
    assert labels[20] == pytest.approx(1.0)
    logits = torch.from_numpy(np.log(np.clip(labels, 1e-300, None)) - np.log1p(-np.clip(labels, 0, 1 - 1e-12)))
    logits = logits.clamp(-700, 700)[None]
    assert float(label_smoothing_se_loss(logits, target, softness=softness, kernel_norm="max")) < 1e-20
    # Two adjacent events with 'max': the raw smoothed value exceeds 1 and is clipped.
    target[0, 21] = 1.0
    k = np_kernel(softness)
    assert (np_same(target[0].numpy(), k) / k.max()).max() > 1.0
    np.testing.assert_allclose(
        float(label_smoothing_se_loss(torch.zeros(1, t, dtype=torch.float64), target,
                                      softness=softness, kernel_norm="max")),
        np_ls_se(np.zeros(t), target[0].numpy(), softness, "max"),
        rtol=1e-12,
    )


def test_label_smoothing_se_at_targets_is_zero_for_sum_norm():
    target = torch.zeros(1, 30, dtype=torch.float64)
    target[0, 10] = 1.0
    labels = np_smoothed_labels(target[0].numpy(), 2.0)
    with np.errstate(divide="ignore"):
        logits = np.where(labels > 0, np.log(labels) - np.log1p(-labels), -800.0)
    out = label_smoothing_se_loss(torch.from_numpy(logits)[None], target, softness=2.0)
    assert float(out) < 1e-20


def test_label_smoothing_truncate_argument():
    logits, target = random_case(14)
    for fn, ref in ((label_smoothing_ce_loss, np_ls_ce), (label_smoothing_se_loss, np_ls_se)):
        out = fn(logits, target, softness=2.0, truncate=1.0, reduction="none")
        k = np_kernel(2.0, truncate=1.0)
        expected = np.zeros((2, 3))
        for i in range(2):
            for j in range(3):
                labels = np.clip(np_same(target[i, j].numpy(), k), 0, 1)
                if fn is label_smoothing_ce_loss:
                    expected[i, j] = np_ce(logits[i, j].numpy(), labels)
                else:
                    expected[i, j] = np.sum((np_sigmoid(logits[i, j].numpy()) - labels) ** 2)
        np.testing.assert_allclose(out.numpy(), expected, rtol=1e-10, atol=1e-12)


def test_bootstrap_beta_one_is_ce():
    logits, target = random_case(15)
    torch.testing.assert_close(
        bootstrap_loss(logits, target, beta=1.0, reduction="none"),
        stepwise_ce_loss(logits, target, reduction="none"),
    )


@pytest.mark.parametrize("beta", [0.0, 0.3, 0.8, 0.95, 1.0])
def test_bootstrap_gradient_is_not_detached(beta):
    logits, target = random_case(16, n=1, c=1, t=12)
    logits.requires_grad_(True)
    bootstrap_loss(logits, target, beta=beta, reduction="sum").backward()
    expected = np_bootstrap_grad(logits.detach().numpy()[0, 0], target.numpy()[0, 0], beta)
    np.testing.assert_allclose(logits.grad.numpy()[0, 0], expected, rtol=1e-10, atol=1e-13)
    if beta < 1.0:  # the detached version's gradient (p - s) differs
        p = np_sigmoid(logits.detach().numpy()[0, 0])
        s = beta * target.numpy()[0, 0] + (1 - beta) * p
        assert not np.allclose(logits.grad.numpy()[0, 0], p - s)


def test_bootstrap_default_beta_is_095():
    logits, target = random_case(17)
    torch.testing.assert_close(bootstrap_loss(logits, target),
                               bootstrap_loss(logits, target, beta=0.95))
    torch.testing.assert_close(BootstrapLoss()(logits, target),
                               bootstrap_loss(logits, target, beta=0.95))


@pytest.mark.parametrize("width", [1, 2, 3, 7, 40])
def test_extend_targets_matches_numpy(width):
    g = torch.Generator().manual_seed(width)
    target = (torch.rand(3, 2, 25, generator=g) < 0.15).to(torch.float64) * 2
    out = extend_targets(target, width)
    assert out.shape == target.shape and out.dtype == torch.float64
    expected = np.apply_along_axis(lambda row: np_extend(row, width), -1, target.numpy())
    np.testing.assert_array_equal(out.numpy(), expected)


def test_extend_targets_examples():
    assert extend_targets(torch.tensor([[0.0, 1.0, 0.0, 0.0, 0.0]]), 3).tolist() == [
        [0.0, 1.0, 1.0, 1.0, 0.0]
    ]
    # forward only, clipped at the end, overlapping events merge to 1
    assert extend_targets(torch.tensor([1.0, 0.0, 1.0, 0.0, 3.0]), 2).tolist() == [
        1.0, 1.0, 1.0, 1.0, 1.0
    ]
    assert extend_targets(torch.tensor([0, 0, 0, 1]), 3).tolist() == [0.0, 0.0, 0.0, 1.0]
    assert extend_targets(torch.tensor([0, 0, 0, 1]), 3).is_floating_point()


def test_extended_width_one_is_ce():
    logits, target = random_case(18)
    torch.testing.assert_close(
        extended_target_loss(logits, target, width=1, reduction="none"),
        stepwise_ce_loss(logits, target, reduction="none"),
    )


# ----------------------------------------------------------------------------------------------
# Properties
# ----------------------------------------------------------------------------------------------


@settings(max_examples=30, deadline=None)
@given(
    case=st.sampled_from(CASE_IDS),
    t=st.integers(1, 30),
    scale=st.floats(0.0, 50.0),
    seed=st.integers(0, 2**31 - 1),
)
def test_property_matches_numpy_and_nonnegative(case, t, scale, seed):
    functional, _, ref, kwargs = CASES[case]
    rng = np.random.default_rng(seed)
    logits = scale * rng.standard_normal((2, 2, t))
    target = rng.integers(0, 3, size=(2, 2, t)) * (rng.random((2, 2, t)) < 0.3)
    target = target.astype(np.float64)
    out = functional(torch.from_numpy(logits), torch.from_numpy(target), reduction="none", **kwargs)
    assert bool((out >= 0).all()) and bool(torch.isfinite(out).all())
    expected = per_sequence(ref, logits, target, **kwargs)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-9, atol=1e-10)


# ----------------------------------------------------------------------------------------------
# Bad input
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "pos_weight, error",
    [
        (0.0, ValueError),
        (-1.0, ValueError),
        (float("nan"), ValueError),
        (float("inf"), ValueError),
        (torch.tensor([1.0, 0.0, 1.0]), ValueError),
        (torch.tensor([1.0, -1.0, 1.0]), ValueError),
        (torch.tensor([1.0, float("nan"), 1.0]), ValueError),
        (torch.tensor(0.0), ValueError),
        (torch.ones(2), ValueError),
        (torch.ones(4), ValueError),
        (torch.ones(3, 1), ValueError),
        (True, TypeError),
        ("2", TypeError),
    ],
)
@pytest.mark.parametrize("which", ["ce", "ls_ce", "extended"])
def test_bad_pos_weight_raises(pos_weight, error, which):
    x, y = zero_inputs()
    call = {
        "ce": lambda: stepwise_ce_loss(x, y, pos_weight=pos_weight),
        "ls_ce": lambda: label_smoothing_ce_loss(x, y, softness=1.0, pos_weight=pos_weight),
        "extended": lambda: extended_target_loss(x, y, width=2, pos_weight=pos_weight),
    }[which]
    with pytest.raises(error, match="pos_weight"):
        call()


@pytest.mark.parametrize("width, error", [(0, ValueError), (-2, ValueError), (1.5, TypeError),
                                          (2.0, TypeError), (True, TypeError), ("3", TypeError)])
def test_bad_width_raises(width, error):
    x, y = zero_inputs()
    with pytest.raises(error, match="width"):
        extended_target_loss(x, y, width=width)
    with pytest.raises(error, match="width"):
        extend_targets(y, width)
    with pytest.raises(error, match="width"):
        ExtendedTargetLoss(width)


@pytest.mark.parametrize("kernel_norm", ["l1", "", "SUM", None])
def test_unknown_kernel_norm_raises(kernel_norm):
    x, y = zero_inputs()
    with pytest.raises(ValueError, match="kernel_norm"):
        label_smoothing_ce_loss(x, y, softness=1.0, kernel_norm=kernel_norm)
    with pytest.raises(ValueError, match="kernel_norm"):
        label_smoothing_se_loss(x, y, softness=1.0, kernel_norm=kernel_norm)
    with pytest.raises(ValueError, match="kernel_norm"):
        LabelSmoothingSELoss(1.0, kernel_norm=kernel_norm)(x, y)
    with pytest.raises(ValueError, match="kernel_norm"):
        LabelSmoothingCELoss(1.0, kernel_norm=kernel_norm)(x, y)


@pytest.mark.parametrize("beta, error", [(-0.1, ValueError), (1.01, ValueError),
                                         (float("nan"), ValueError), (True, TypeError),
                                         ("0.9", TypeError), (None, TypeError)])
def test_bad_beta_raises(beta, error):
    x, y = zero_inputs()
    with pytest.raises(error, match="beta"):
        bootstrap_loss(x, y, beta=beta)
    with pytest.raises(error, match="beta"):
        BootstrapLoss(beta)


@pytest.mark.parametrize("softness", [0.0, -1.0, float("nan"), torch.tensor([1.0, 0.0, 1.0]),
                                      torch.ones(2)])
def test_bad_softness_raises(softness):
    x, y = zero_inputs()
    with pytest.raises(ValueError, match="softness"):
        label_smoothing_ce_loss(x, y, softness=softness)
    with pytest.raises(ValueError, match="softness"):
        label_smoothing_se_loss(x, y, softness=softness)


@pytest.mark.parametrize("case", CASE_IDS)
def test_bad_tensors_raise(case):
    functional, module_factory, _, kwargs = CASES[case]
    x, y = zero_inputs()
    with pytest.raises(ValueError, match="input"):
        functional(torch.zeros(8), torch.zeros(8), **kwargs)
    with pytest.raises(ValueError, match="target"):
        functional(x, torch.zeros(2, 3, 7), **kwargs)
    bad = x.clone()
    bad[0, 1, 2] = float("inf")
    with pytest.raises(ValueError, match="input"):
        functional(bad, y, **kwargs)
    neg = y.clone()
    neg[0, 1, 2] = -1.0
    with pytest.raises(ValueError, match="target"):
        functional(x, neg, **kwargs)
    with pytest.raises(TypeError, match="input"):
        functional(x.long(), y, **kwargs)
    with pytest.raises(ValueError, match="mask"):
        functional(x, y, mask=torch.ones(2, 9, dtype=torch.bool), **kwargs)
    with pytest.raises(TypeError, match="mask"):
        functional(x, y, mask=torch.ones(2, 8, dtype=torch.float32), **kwargs)
    empty = torch.ones(2, 8, dtype=torch.bool)
    empty[0] = False
    with pytest.raises(ValueError, match="mask"):
        functional(x, y, mask=empty, **kwargs)
    with pytest.raises(ValueError, match="reduction"):
        functional(x, y, reduction="avg", **kwargs)
    with pytest.raises(ValueError, match="reduction"):
        module_factory(reduction="avg", **kwargs)


# ----------------------------------------------------------------------------------------------
# Softmax cross-entropy with a no-event class
# ----------------------------------------------------------------------------------------------


def hand_classes(target: torch.Tensor) -> torch.Tensor:
    """(N, C, T) counts -> (N, T) class indices, frame by frame: the lowest class with an event,
    else C (no event)."""
    n, c, t = target.shape
    classes = torch.full((n, t), c, dtype=torch.long)
    for i in range(n):
        for j in range(t):
            with_event = [k for k in range(c) if float(target[i, k, j]) >= 1]
            if with_event:
                classes[i, j] = with_event[0]
    return classes


def softmax_case(seed: int, n: int = 3, c: int = 4, t: int = 12, dtype=torch.float64):
    """Logits ``(n, c + 1, t)`` and counts ``(n, c, t)`` with collisions and counts of 2."""
    g = torch.Generator().manual_seed(seed)
    logits = (3 * torch.randn(n, c + 1, t, generator=g)).to(dtype)
    target = ((torch.rand(n, c, t, generator=g) < 0.25)
              * torch.randint(1, 3, (n, c, t), generator=g)).to(dtype)
    target[0, 0, 1] = target[0, c - 1, 1] = 1  # at least one frame with two classes
    return logits, target


def reference_softmax_ce(logits, target, weight=None, mask=None):
    """Per sequence ``(N,)``: torch's per-frame weighted cross-entropy summed over valid frames."""
    per_frame = torch.nn.functional.cross_entropy(logits, hand_classes(target), weight=weight,
                                                  reduction="none")
    if mask is not None:
        per_frame = per_frame * mask
    return per_frame.sum(dim=-1)


WEIGHTS = [0.5, 2.0, 1.0, 0.25, 1 / 35]


@pytest.mark.parametrize("weights", [None, "tensor", "list"])
def test_softmax_ce_matches_torch_cross_entropy(weights):
    logits, target = softmax_case(20)
    weight = None if weights is None else torch.tensor(WEIGHTS, dtype=torch.float64)
    given = {"tensor": weight, "list": WEIGHTS, None: None}[weights]
    expected = reference_softmax_ce(logits, target, weight)
    none = no_event_softmax_ce_loss(logits, target, class_weights=given, reduction="none")
    assert none.shape == (3,) and none.dtype == torch.float64
    torch.testing.assert_close(none, expected, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(no_event_softmax_ce_loss(logits, target, class_weights=given),
                               expected.mean(), rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(
        no_event_softmax_ce_loss(logits, target, class_weights=given, reduction="sum"),
        expected.sum(), rtol=1e-12, atol=1e-12)


def test_softmax_ce_relates_to_torchs_weighted_mean():
    """SwingNet's CrossEntropyLoss(weight) = our sum / the total weight of the batch's frames."""
    logits, target = softmax_case(21, c=8, t=30)
    weight = torch.tensor([1 / 8] * 8 + [1 / 35], dtype=torch.float64)
    classes = hand_classes(target)
    swingnet = torch.nn.CrossEntropyLoss(weight=weight)(logits, classes)
    ours = no_event_softmax_ce_loss(logits, target, class_weights=weight, reduction="sum")
    assert float(ours / weight[classes].sum()) == pytest.approx(float(swingnet), rel=1e-12)


def test_softmax_ce_frame_class_rule():
    """Several classes on a frame: the lowest one; a count of 2 is one event; no event: class C."""
    logits, _ = softmax_case(22, n=1, c=3, t=4)
    both = torch.zeros(1, 3, 4, dtype=torch.float64)
    both[0, 1, 2] = both[0, 2, 2] = 1
    lower = torch.zeros_like(both)
    lower[0, 1, 2] = 1
    twice = 2 * lower
    values = [no_event_softmax_ce_loss(logits, y, reduction="none") for y in (both, lower, twice)]
    assert torch.equal(values[0], values[1]) and torch.equal(values[1], values[2])
    log_probs = torch.log_softmax(logits[0], dim=0)
    by_hand = -(log_probs[3, 0] + log_probs[3, 1] + log_probs[1, 2] + log_probs[3, 3])
    assert float(values[0][0]) == pytest.approx(float(by_hand), rel=1e-12)
    assert hand_classes(both).tolist() == [[3, 3, 1, 3]]


def test_softmax_ce_gradient_is_weighted_softmax_minus_one_hot():
    logits, target = softmax_case(23)
    logits.requires_grad_(True)
    weight = torch.tensor(WEIGHTS, dtype=torch.float64)
    no_event_softmax_ce_loss(logits, target, class_weights=weight, reduction="sum").backward()
    classes = hand_classes(target)
    one_hot = torch.nn.functional.one_hot(classes, 5).permute(0, 2, 1).to(torch.float64)
    expected = weight[classes][:, None] * (torch.softmax(logits.detach(), dim=1) - one_hot)
    torch.testing.assert_close(logits.grad, expected, rtol=1e-12, atol=1e-14)


def test_softmax_ce_gradcheck_float64():
    logits, target = softmax_case(24, n=2, c=2, t=6)
    logits.requires_grad_(True)
    mask = torch.ones(2, 6, dtype=torch.bool)
    mask[1, 4:] = False
    for m in (None, mask):
        for weights in (None, [0.5, 2.0, 0.1]):
            assert torch.autograd.gradcheck(
                lambda x: no_event_softmax_ce_loss(x, target, mask=m, class_weights=weights,
                                                   reduction="none"), (logits,))


@pytest.mark.parametrize("side", ["right", "left"])
def test_softmax_ce_padded_equals_unpadded(side):
    lengths, c, t_max = [5, 14, 2, 9], 3, 14
    _, y, mask, _, seqs_y = padded_batch(lengths, c, t_max, seed=25, side=side, garbage_counts=3)
    g = torch.Generator().manual_seed(26)
    x = 50 * torch.rand(len(lengths), c + 1, t_max, generator=g, dtype=torch.float64) - 25
    x.requires_grad_(True)
    padded = no_event_softmax_ce_loss(x, y, mask=mask, class_weights=WEIGHTS[1:],
                                      reduction="none")
    padded.sum().backward()
    for i in range(len(lengths)):
        valid = mask[i]
        xi = x.detach()[i][:, valid][None].clone().requires_grad_(True)
        alone = no_event_softmax_ce_loss(xi, seqs_y[i], class_weights=WEIGHTS[1:],
                                         reduction="none")
        alone.sum().backward()
        torch.testing.assert_close(padded[i], alone[0], rtol=1e-12, atol=1e-12)
        torch.testing.assert_close(x.grad[i][:, valid], xi.grad[0], rtol=1e-12, atol=1e-14)
        assert bool((x.grad[i][:, ~valid] == 0).all())
    reference = reference_softmax_ce(x.detach(), y, torch.tensor(WEIGHTS[1:],
                                                                 dtype=torch.float64), mask)
    torch.testing.assert_close(padded.detach(), reference, rtol=1e-12, atol=1e-12)


def test_softmax_ce_float32_bool_targets_and_module():
    logits, target = softmax_case(27, dtype=torch.float32)
    target = target > 0
    out = no_event_softmax_ce_loss(logits, target, reduction="none")
    assert out.dtype == torch.float32
    torch.testing.assert_close(out, reference_softmax_ce(logits.double(), target.double()).float())
    mask = torch.ones(3, 12, dtype=torch.bool)
    mask[0, 8:] = False
    for reduction in REDUCTIONS:
        module = NoEventSoftmaxCELoss(class_weights=WEIGHTS, reduction=reduction)
        for m in (None, mask):
            assert torch.equal(module(logits, target, m),
                               no_event_softmax_ce_loss(logits, target, mask=m,
                                                        class_weights=WEIGHTS,
                                                        reduction=reduction))


@settings(max_examples=25, deadline=None)
@given(c=st.integers(1, 4), t=st.integers(1, 20), scale=st.floats(0.0, 50.0),
       seed=st.integers(0, 2**31 - 1))
def test_property_softmax_ce_nonnegative_and_matches_torch(c, t, scale, seed):
    rng = np.random.default_rng(seed)
    logits = torch.from_numpy(scale * rng.standard_normal((2, c + 1, t)))
    target = torch.from_numpy(
        (rng.integers(0, 3, size=(2, c, t)) * (rng.random((2, c, t)) < 0.3)).astype(np.float64))
    out = no_event_softmax_ce_loss(logits, target, reduction="none")
    assert bool((out >= 0).all()) and bool(torch.isfinite(out).all())
    torch.testing.assert_close(out, reference_softmax_ce(logits, target), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("call, error, message", [
    (lambda x, y: no_event_softmax_ce_loss(x[:, 0], y[:, 0]), ValueError, r"\(N, C \+ 1, T\)"),
    (lambda x, y: no_event_softmax_ce_loss(x[:, :1], y[:, :0]), ValueError, r"C >= 1"),
    (lambda x, y: no_event_softmax_ce_loss(x, torch.zeros(2, 4, 8)), ValueError,
     r"target must have shape \(N, C, T\) = \(2, 3, 8\)"),
    (lambda x, y: no_event_softmax_ce_loss(x.long(), y), TypeError, "input"),
    (lambda x, y: no_event_softmax_ce_loss(x.index_fill(2, torch.tensor([3]), float("nan")), y),
     ValueError, "input"),
    (lambda x, y: no_event_softmax_ce_loss(x, y - 1), ValueError, "target"),
    (lambda x, y: no_event_softmax_ce_loss(x, y + 0.5), ValueError, "whole event counts"),
    (lambda x, y: no_event_softmax_ce_loss(x, y.tolist()), TypeError, "target"),
    (lambda x, y: no_event_softmax_ce_loss(x, y, mask=torch.ones(2, 9, dtype=torch.bool)),
     ValueError, "mask"),
    (lambda x, y: no_event_softmax_ce_loss(x, y, mask=torch.ones(2, 8)), TypeError, "mask"),
    (lambda x, y: no_event_softmax_ce_loss(x, y, mask=torch.zeros(2, 8, dtype=torch.bool)),
     ValueError, "mask"),
    (lambda x, y: no_event_softmax_ce_loss(x, y, reduction="avg"), ValueError, "reduction"),
    (lambda x, y: NoEventSoftmaxCELoss(reduction="avg"), ValueError, "reduction"),
    (lambda x, y: no_event_softmax_ce_loss(x, y, class_weights=[1.0, 1.0, 1.0]), ValueError,
     r"class_weights must hold one weight per class, C \+ 1 = 4"),
    (lambda x, y: no_event_softmax_ce_loss(x, y, class_weights=torch.ones(4, 1)), ValueError,
     "class_weights"),
    (lambda x, y: no_event_softmax_ce_loss(x, y, class_weights=torch.tensor([1.0, 0.0, 1.0, 1.0])),
     ValueError, "class_weights"),
    (lambda x, y: no_event_softmax_ce_loss(x, y, class_weights=[1.0, -1.0, 1.0, 1.0]),
     ValueError, "class_weights"),
    (lambda x, y: no_event_softmax_ce_loss(x, y, class_weights=[1.0, float("nan"), 1.0, 1.0]),
     ValueError, "class_weights"),
    (lambda x, y: no_event_softmax_ce_loss(x, y, class_weights=2.0), TypeError, "class_weights"),
    (lambda x, y: no_event_softmax_ce_loss(x, y, class_weights=["1", 1.0, 1.0, 1.0]), TypeError,
     "class_weights"),
])
def test_softmax_ce_refuses_bad_input(call, error, message):
    x, y = torch.zeros(2, 4, 8), torch.zeros(2, 3, 8)
    with pytest.raises(error, match=message):
        call(x, y)
