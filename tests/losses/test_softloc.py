"""Tests for softloc.losses.softloc: L_SoftLoc (paper Eq. 19) and AlphaSchedule (section 6.3)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import softloc
from softloc.losses import (
    AlphaSchedule,
    SoftLocLoss,
    counting_loss,
    soft_localization_loss,
    softloc_loss,
)

from loss_references import REDUCTIONS, padded_batch, random_case


def paper_alpha(step: float) -> float:
    return max(min((step - 1e5) / 1e5, 0.9), 0.2)


# ----------------------------------------------------------------------------------------------
# Eq. 19: the combination
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("alpha", [0.0, 0.3, 1.0])
@pytest.mark.parametrize("use_mask", [False, True])
def test_equals_weighted_sum_of_terms(alpha, use_mask):
    logits, target = random_case(1)
    mask = None
    if use_mask:
        mask = torch.ones(2, 20, dtype=torch.bool)
        mask[0, 13:] = False
    out = softloc_loss(logits, target, softness=2.0, alpha=alpha, mask=mask, reduction="none")
    sll = soft_localization_loss(logits, target, softness=2.0, mask=mask, reduction="none")
    pb = counting_loss(logits, target, mask=mask, reduction="none")
    assert out.shape == (2, 3)
    torch.testing.assert_close(out, (1 - alpha) * sll + alpha * pb, rtol=1e-12, atol=1e-12)


def test_alpha_endpoints_are_the_pure_terms():
    logits, target = random_case(2)
    torch.testing.assert_close(
        softloc_loss(logits, target, softness=1.5, alpha=0.0),
        soft_localization_loss(logits, target, softness=1.5),
    )
    torch.testing.assert_close(
        softloc_loss(logits, target, softness=1.5, alpha=1.0), counting_loss(logits, target)
    )


def test_integer_alpha_accepted():
    logits, target = random_case(3)
    torch.testing.assert_close(
        softloc_loss(logits, target, softness=1.5, alpha=1),
        softloc_loss(logits, target, softness=1.5, alpha=1.0),
    )


def test_counting_term_against_brute_force():
    # L_PB = -log P(K = c), K = sum of Bernoulli(p_t), checked by enumerating all subsets.
    logits = torch.tensor([[0.5, -1.0, 2.0, -0.3, 1.2]], dtype=torch.float64)
    target = torch.tensor([[0.0, 1.0, 0.0, 1.0, 0.0]], dtype=torch.float64)
    p = 1 / (1 + np.exp(-logits.numpy()[0]))
    prob = 0.0
    for bits in range(2**5):
        chosen = [(bits >> i) & 1 for i in range(5)]
        if sum(chosen) == 2:
            prob += np.prod([p[i] if b else 1 - p[i] for i, b in enumerate(chosen)])
    out = softloc_loss(logits, target, softness=1.0, alpha=1.0, reduction="none")
    assert float(out[0]) == pytest.approx(-math.log(prob), rel=1e-10)


def test_sharp_correct_prediction_has_zero_loss():
    target = torch.zeros(1, 2, 40, dtype=torch.float64)
    target[0, 0, [5, 30]] = 1.0
    target[0, 1, 17] = 1.0
    logits = torch.where(target > 0, 60.0, -60.0).to(torch.float64)
    for alpha in (0.0, 0.5, 1.0):
        assert float(softloc_loss(logits, target, softness=3.0, alpha=alpha)) < 1e-20


def test_two_dimensional_input_and_reductions():
    logits, target = random_case(4, c=1)
    three = softloc_loss(logits, target, softness=2.0, alpha=0.4, reduction="none")
    two = softloc_loss(logits[:, 0], target[:, 0], softness=2.0, alpha=0.4, reduction="none")
    assert two.shape == (2,)
    torch.testing.assert_close(two, three[:, 0])
    logits, target = random_case(5)
    none = softloc_loss(logits, target, softness=2.0, alpha=0.4, reduction="none")
    torch.testing.assert_close(softloc_loss(logits, target, softness=2.0, alpha=0.4), none.mean())
    torch.testing.assert_close(
        softloc_loss(logits, target, softness=2.0, alpha=0.4, reduction="mean"), none.mean()
    )
    torch.testing.assert_close(
        softloc_loss(logits, target, softness=2.0, alpha=0.4, reduction="sum"), none.sum()
    )


def test_per_class_softness():
    logits, target = random_case(6)
    softness = torch.tensor([0.5, 2.0, 6.0], dtype=torch.float64)
    out = softloc_loss(logits, target, softness=softness, alpha=0.3, reduction="none")
    for c in range(3):
        alone = softloc_loss(
            logits[:, c], target[:, c], softness=float(softness[c]), alpha=0.3, reduction="none"
        )
        torch.testing.assert_close(out[:, c], alone, rtol=1e-10, atol=1e-12)


def test_top_level_exports():
    assert softloc.softloc_loss is softloc_loss
    assert softloc.SoftLocLoss is SoftLocLoss


# ----------------------------------------------------------------------------------------------
# AlphaSchedule
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "step",
    [0, 1, 50_000, 99_999, 100_000, 110_000, 120_000, 125_000, 150_000, 180_000, 189_999,
     190_000, 190_001, 200_000, 10**6, 10**9],
)
def test_paper_schedule(step):
    assert AlphaSchedule.paper()(step) == pytest.approx(paper_alpha(step), abs=1e-15)


def test_paper_schedule_landmarks():
    s = AlphaSchedule.paper()
    assert s(0) == 0.2 and s(120_000) == pytest.approx(0.2) and s(10**7) == 0.9
    assert s(150_000) == pytest.approx(0.5)
    assert s(190_000) == pytest.approx(0.9)
    assert isinstance(s(5), float)


@settings(max_examples=50, deadline=None)
@given(step=st.integers(min_value=0, max_value=10**7))
def test_paper_schedule_property(step):
    s = AlphaSchedule.paper()
    value = s(step)
    assert value == pytest.approx(paper_alpha(step), abs=1e-15)
    assert 0.2 <= value <= 0.9
    assert s(step + 1) >= value  # non-decreasing


def test_general_ramp():
    s = AlphaSchedule(start=10, length=20, low=0.1, high=0.8)
    assert s(0) == 0.1 and s(10) == 0.1
    assert s(20) == pytest.approx(0.5)
    assert s(24) == pytest.approx(0.7)
    assert s(26) == pytest.approx(0.8) and s(1000) == 0.8


@pytest.mark.parametrize("alpha", [0.0, 0.35, 1.0])
def test_constant_schedule(alpha):
    s = AlphaSchedule.constant(alpha)
    for step in (0, 1, 7, 10**5, 10**8):
        assert s(step) == alpha


def test_schedule_to_dict_and_default():
    assert AlphaSchedule.paper().to_dict() == {
        "start": 1e5, "length": 1e5, "low": 0.2, "high": 0.9
    }
    default = AlphaSchedule()
    assert default(0) == 0.0 and default(0.5) == 0.5 and default(3) == 1.0


@pytest.mark.parametrize(
    "kwargs, error, name",
    [
        ({"low": -0.1}, ValueError, "low"),
        ({"low": 1.1}, ValueError, "low"),
        ({"low": float("nan")}, ValueError, "low"),
        ({"high": 1.5}, ValueError, "high"),
        ({"high": -0.5}, ValueError, "high"),
        ({"high": float("inf")}, ValueError, "high"),
        ({"low": 0.7, "high": 0.3}, ValueError, "low"),
        ({"low": True}, TypeError, "low"),
        ({"high": "0.9"}, TypeError, "high"),
        ({"length": 0}, ValueError, "length"),
        ({"length": -5.0}, ValueError, "length"),
        ({"length": float("nan")}, ValueError, "length"),
    ],
)
def test_bad_schedule_raises(kwargs, error, name):
    with pytest.raises(error, match=name):
        AlphaSchedule(**kwargs)


@pytest.mark.parametrize("alpha, error", [(-0.1, ValueError), (1.2, ValueError),
                                          (float("nan"), ValueError), (True, TypeError),
                                          ("0.5", TypeError)])
def test_bad_constant_schedule_raises(alpha, error):
    with pytest.raises(error, match="alpha"):
        AlphaSchedule.constant(alpha)


# ----------------------------------------------------------------------------------------------
# SoftLocLoss module
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_module_constant_alpha_equals_functional(reduction):
    logits, target = random_case(7)
    mask = torch.ones(2, 20, dtype=torch.bool)
    mask[1, 9:] = False
    module = SoftLocLoss(softness=2.0, alpha=0.3, reduction=reduction)
    for m in (None, mask):
        torch.testing.assert_close(
            module(logits, target, m),
            softloc_loss(logits, target, softness=2.0, alpha=0.3, mask=m, reduction=reduction),
            rtol=0,
            atol=0,
        )
    module = SoftLocLoss(softness=2.0, alpha=0.3, reduction=reduction, truncate=2.0)
    torch.testing.assert_close(
        module(logits, target),
        softloc_loss(logits, target, softness=2.0, alpha=0.3, reduction=reduction, truncate=2.0),
        rtol=0,
        atol=0,
    )


def test_module_default_alpha_is_half():
    logits, target = random_case(8)
    torch.testing.assert_close(
        SoftLocLoss(softness=1.0)(logits, target),
        softloc_loss(logits, target, softness=1.0, alpha=0.5),
    )


@pytest.mark.parametrize("step", [0, 100_000, 130_000, 150_000, 175_000, 500_000])
def test_module_with_schedule_equals_functional_with_scheduled_alpha(step):
    logits, target = random_case(9)
    schedule = AlphaSchedule.paper()
    module = SoftLocLoss(softness=3.0, alpha=schedule, reduction="none")
    assert module.current_alpha(step) == schedule(step)
    torch.testing.assert_close(
        module(logits, target, step=step),
        softloc_loss(logits, target, softness=3.0, alpha=paper_alpha(step), reduction="none"),
        rtol=1e-12,
        atol=1e-12,
    )


def test_module_step_advances_schedule():
    logits, target = random_case(10)
    schedule = AlphaSchedule(start=0, length=4, low=0.0, high=1.0)
    module = SoftLocLoss(softness=1.5, alpha=schedule, reduction="none")
    assert module.steps_taken == 0 and module.current_alpha() == 0.0
    for k in range(6):
        expected_alpha = min(k / 4, 1.0)
        assert module.current_alpha() == pytest.approx(expected_alpha)
        torch.testing.assert_close(
            module(logits, target),
            softloc_loss(logits, target, softness=1.5, alpha=expected_alpha, reduction="none"),
            rtol=1e-12,
            atol=1e-12,
        )
        module.step()
    assert module.steps_taken == 6
    # An explicit step overrides the internal counter without changing it.
    torch.testing.assert_close(
        module(logits, target, step=2),
        softloc_loss(logits, target, softness=1.5, alpha=0.5, reduction="none"),
    )
    assert module.steps_taken == 6


def test_module_per_class_softness():
    logits, target = random_case(11)
    softness = torch.tensor([0.5, 1.0, 4.0], dtype=torch.float64)
    torch.testing.assert_close(
        SoftLocLoss(softness, alpha=0.2)(logits, target),
        softloc_loss(logits, target, softness=softness, alpha=0.2),
        rtol=0,
        atol=0,
    )


@pytest.mark.parametrize("alpha, error", [(-0.01, ValueError), (1.01, ValueError),
                                          (float("nan"), ValueError), (float("inf"), ValueError),
                                          (True, TypeError), ("0.5", TypeError),
                                          (None, TypeError)])
def test_alpha_outside_unit_interval_raises(alpha, error):
    logits, target = random_case(12)
    with pytest.raises(error, match="alpha"):
        softloc_loss(logits, target, softness=1.0, alpha=alpha)
    with pytest.raises(error, match="alpha"):
        SoftLocLoss(softness=1.0, alpha=alpha)


def test_module_bad_arguments_raise():
    with pytest.raises(ValueError, match="reduction"):
        SoftLocLoss(softness=1.0, reduction="avg")
    with pytest.raises(ValueError, match="softness"):
        SoftLocLoss(softness=0.0)
    with pytest.raises(TypeError, match="softness"):
        SoftLocLoss(softness=True)


# ----------------------------------------------------------------------------------------------
# Gradients and padding
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("alpha", [0.0, 0.3, 1.0])
def test_gradcheck_float64(alpha):
    logits, target = random_case(13, n=2, c=2, t=8)
    logits.requires_grad_(True)
    mask = torch.ones(2, 8, dtype=torch.bool)
    mask[0, 5:] = False
    for m in (None, mask):
        assert torch.autograd.gradcheck(
            lambda x: softloc_loss(x, target, softness=1.2, alpha=alpha, mask=m, reduction="none"),
            (logits,),
        )


@pytest.mark.parametrize("side", ["right", "left"])
@pytest.mark.parametrize("alpha", [0.0, 0.3, 1.0])
def test_padded_equals_unpadded(side, alpha):
    lengths, c, t_max = [6, 15, 2, 10], 2, 15
    x, y, mask, seqs_x, seqs_y = padded_batch(lengths, c, t_max, seed=14, side=side)
    x.requires_grad_(True)
    padded = softloc_loss(x, y, softness=2.0, alpha=alpha, mask=mask, reduction="none")
    padded.sum().backward()
    for i in range(len(lengths)):
        xi = seqs_x[i].clone().requires_grad_(True)
        alone = softloc_loss(xi, seqs_y[i], softness=2.0, alpha=alpha, reduction="none")
        alone.sum().backward()
        torch.testing.assert_close(padded[i], alone[0], rtol=1e-10, atol=1e-12)
        valid = mask[i]
        torch.testing.assert_close(x.grad[i][:, valid], xi.grad[0], rtol=1e-9, atol=1e-12)
        assert bool((x.grad[i][:, ~valid] == 0).all())


# ----------------------------------------------------------------------------------------------
# Extremes
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_extreme_logits_long_sequence_finite(dtype):
    t = 100_000
    g = torch.Generator().manual_seed(15)
    logits = torch.where(torch.rand(1, t, generator=g) < 0.001, 100.0, -100.0).to(dtype)
    target = torch.zeros(1, t, dtype=dtype)
    target[0, torch.randint(0, t, (40,), generator=g)] = 1.0
    logits.requires_grad_(True)
    loss = softloc_loss(logits, target, softness=10.0, alpha=0.3)
    loss.backward()
    assert bool(torch.isfinite(loss)) and float(loss.detach()) > 0
    assert bool(torch.isfinite(logits.grad).all())
    # All at +100 (count far above the labels) and all at -100 (count far below).
    for value in (100.0, -100.0):
        x = torch.full((1, t), value, dtype=dtype, requires_grad=True)
        loss = softloc_loss(x, target, softness=10.0, alpha=0.3)
        loss.backward()
        assert bool(torch.isfinite(loss)) and float(loss.detach()) > 0
        assert bool(torch.isfinite(x.grad).all())


@settings(max_examples=30, deadline=None)
@given(
    t=st.integers(1, 30),
    alpha=st.floats(0.0, 1.0),
    scale=st.floats(0.0, 100.0),
    seed=st.integers(0, 2**31 - 1),
)
def test_property_nonnegative_finite(t, alpha, scale, seed):
    rng = np.random.default_rng(seed)
    logits = torch.from_numpy(scale * rng.standard_normal((2, 2, t)))
    target = torch.from_numpy((rng.random((2, 2, t)) < 0.3).astype(np.float64))
    logits.requires_grad_(True)
    out = softloc_loss(logits, target, softness=1.5, alpha=alpha, reduction="none")
    assert bool((out >= 0).all()) and bool(torch.isfinite(out).all())
    out.sum().backward()
    assert bool(torch.isfinite(logits.grad).all())
    expected = (1 - alpha) * soft_localization_loss(
        logits.detach(), target, softness=1.5, reduction="none"
    ) + alpha * counting_loss(logits.detach(), target, reduction="none")
    torch.testing.assert_close(out.detach(), expected, rtol=1e-10, atol=1e-10)


# ----------------------------------------------------------------------------------------------
# Bad input
# ----------------------------------------------------------------------------------------------


def test_bad_tensors_raise():
    x, y = torch.zeros(2, 3, 8), torch.zeros(2, 3, 8)
    with pytest.raises(ValueError, match="input"):
        softloc_loss(torch.zeros(8), torch.zeros(8), softness=1.0, alpha=0.5)
    with pytest.raises(ValueError, match="target"):
        softloc_loss(x, torch.zeros(2, 3, 7), softness=1.0, alpha=0.5)
    bad = x.clone()
    bad[0, 0, 0] = float("nan")
    with pytest.raises(ValueError, match="input"):
        softloc_loss(bad, y, softness=1.0, alpha=0.5)
    neg = y.clone()
    neg[0, 0, 0] = -1.0
    with pytest.raises(ValueError, match="target"):
        softloc_loss(x, neg, softness=1.0, alpha=0.5)
    frac = y.clone()
    frac[0, 0, 0] = 0.5
    with pytest.raises(ValueError, match="target"):
        softloc_loss(x, frac, softness=1.0, alpha=0.5)
    with pytest.raises(ValueError, match="mask"):
        softloc_loss(x, y, softness=1.0, alpha=0.5, mask=torch.ones(2, 7, dtype=torch.bool))
    with pytest.raises(TypeError, match="mask"):
        softloc_loss(x, y, softness=1.0, alpha=0.5, mask=torch.ones(2, 8))
    with pytest.raises(ValueError, match="mask"):
        softloc_loss(x, y, softness=1.0, alpha=0.5, mask=torch.zeros(2, 8, dtype=torch.bool))
    with pytest.raises(ValueError, match="reduction"):
        softloc_loss(x, y, softness=1.0, alpha=0.5, reduction="avg")
    with pytest.raises(ValueError, match="softness"):
        softloc_loss(x, y, softness=-1.0, alpha=0.5)
    with pytest.raises(ValueError, match="softness"):
        softloc_loss(x, y, softness=torch.ones(2), alpha=0.5)


@pytest.mark.parametrize("backend", ["default", "pure_torch"])
@pytest.mark.parametrize("alpha", [0.3, 1.0])
def test_count_larger_than_valid_steps_raises_value_error(alpha, backend, monkeypatch):
    # A count that cannot happen is a bad argument, reported like every other (ValueError), on
    # the compiled CPU kernel and on the pure-PyTorch path (CUDA tensors, no C compiler) alike.
    if backend == "pure_torch":
        import softloc.losses.poisson_binomial as poisson_binomial

        monkeypatch.setattr(poisson_binomial, "_use_kernel", lambda input: False)
    x = torch.zeros(1, 3, dtype=torch.float64)
    y = torch.tensor([[3.0, 1.0, 0.0]], dtype=torch.float64)
    with pytest.raises(ValueError, match="target"):
        softloc_loss(x, y, softness=1.0, alpha=alpha)
    mask = torch.tensor([[True, True, False]])
    y = torch.tensor([[1.0, 2.0, 0.0]], dtype=torch.float64)  # 3 events on 2 valid steps
    with pytest.raises(ValueError, match="target"):
        softloc_loss(x, y, softness=1.0, alpha=alpha, mask=mask)
