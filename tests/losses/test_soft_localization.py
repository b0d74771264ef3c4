"""Tests for softloc.losses.soft_localization: L_SLL (paper Eq. 11 with E = id).

The reference is an explicit double convolution in numpy float64:
``sum_t ((Phi * p)_t - (Phi * y)_t) ** 2`` with zero padding and output over ``[0, T)``.
"""

from __future__ import annotations

from functools import partial

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from softloc.losses import SoftLocalizationLoss, soft_localization_loss
from softloc.losses.smoothing import gaussian_smooth

from loss_references import REDUCTIONS, np_kernel, np_same, np_sigmoid, padded_batch, zero_inputs
from loss_references import random_case as _random_case

# This module's cases are sparser than the shared default: events on 15% of the frames.
random_case = partial(_random_case, event_rate=0.15)


# ----------------------------------------------------------------------------------------------
# Independent numpy reference
# ----------------------------------------------------------------------------------------------


def np_sll_1d(logits: np.ndarray, target: np.ndarray, softness: float, truncate: float = 4.0) -> float:
    """sum_t ((Phi * p)_t - (Phi * y)_t)^2 for one sequence (both smoothed separately)."""
    k = np_kernel(softness, truncate)
    p = np_sigmoid(np.asarray(logits, dtype=np.float64))
    y = np.asarray(target, dtype=np.float64)
    return float(np.sum((np_same(p, k) - np_same(y, k)) ** 2))


def np_sll(logits: np.ndarray, target: np.ndarray, softness, truncate: float = 4.0) -> np.ndarray:
    """(N, C) per-(sequence, class) values for (N, C, T) arrays; softness float or per class."""
    n, c, _ = logits.shape
    s = np.broadcast_to(np.asarray(softness, dtype=np.float64), (c,))
    return np.array(
        [[np_sll_1d(logits[i, j], target[i, j], s[j], truncate) for j in range(c)] for i in range(n)]
    )


# ----------------------------------------------------------------------------------------------
# Values against the reference
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("softness", [0.5, 1.0, 2.5, 8.0])
def test_matches_numpy_double_convolution(softness):
    logits, target = random_case(1, t=25)
    out = soft_localization_loss(logits, target, softness=softness, reduction="none")
    assert out.shape == (2, 3) and out.dtype == torch.float64
    expected = np_sll(logits.numpy(), target.numpy(), softness)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-9, atol=1e-12)


def test_matches_numpy_with_counts_and_radius_beyond_length():
    # Targets are counts (2 events in one frame accepted); radius 40 > T = 6.
    logits = torch.tensor([[0.3, -2.0, 5.0, 1.0, -0.5, 2.0]], dtype=torch.float64)
    target = torch.tensor([[0.0, 2.0, 1.0, 0.0, 0.0, 1.0]], dtype=torch.float64)
    out = soft_localization_loss(logits, target, softness=10.0, reduction="none")
    assert out.shape == (1,)
    expected = np_sll_1d(logits[0].numpy(), target[0].numpy(), 10.0)
    assert float(out[0]) == pytest.approx(expected, rel=1e-9)


def test_matches_numpy_float32():
    logits, target = random_case(2, dtype=torch.float32)
    out = soft_localization_loss(logits, target, softness=2.0, reduction="none")
    assert out.dtype == torch.float32
    expected = np_sll(logits.double().numpy(), target.double().numpy(), 2.0)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-4, atol=1e-5)


def test_truncate_argument_is_used():
    logits, target = random_case(3)
    for truncate in (1.0, 2.0, 6.0):
        out = soft_localization_loss(logits, target, softness=1.5, truncate=truncate, reduction="none")
        expected = np_sll(logits.numpy(), target.numpy(), 1.5, truncate)
        np.testing.assert_allclose(out.numpy(), expected, rtol=1e-9, atol=1e-12)


def test_perfect_prediction_is_zero_and_shift_costs():
    target = torch.zeros(1, 50, dtype=torch.float64)
    target[0, 20] = 1.0
    on_time = torch.full((1, 50), -60.0, dtype=torch.float64)
    on_time[0, 20] = 60.0
    late = torch.full((1, 50), -60.0, dtype=torch.float64)
    late[0, 23] = 60.0
    a = soft_localization_loss(on_time, target, softness=3.0)
    b = soft_localization_loss(late, target, softness=3.0)
    assert float(a) < 1e-20
    assert 0.0 < float(b) < 0.1
    # Softer smoothing forgives the same shift more.
    c = soft_localization_loss(late, target, softness=8.0)
    assert float(c) < float(b)


def test_two_dimensional_input_equals_single_class():
    logits, target = random_case(4, c=1)
    three = soft_localization_loss(logits, target, softness=1.2, reduction="none")
    two = soft_localization_loss(logits[:, 0], target[:, 0], softness=1.2, reduction="none")
    assert two.shape == (2,)
    torch.testing.assert_close(two, three[:, 0])


def test_bool_target_is_accepted_as_zero_one():
    logits, target = random_case(5)
    a = soft_localization_loss(logits, target.bool(), softness=2.0, reduction="none")
    b = soft_localization_loss(logits, target, softness=2.0, reduction="none")
    torch.testing.assert_close(a, b)


# ----------------------------------------------------------------------------------------------
# Reductions, module == functional
# ----------------------------------------------------------------------------------------------


def test_reductions():
    logits, target = random_case(6)
    none = soft_localization_loss(logits, target, softness=1.5, reduction="none")
    assert none.shape == (2, 3)
    torch.testing.assert_close(soft_localization_loss(logits, target, softness=1.5), none.mean())
    torch.testing.assert_close(
        soft_localization_loss(logits, target, softness=1.5, reduction="mean"), none.mean()
    )
    torch.testing.assert_close(
        soft_localization_loss(logits, target, softness=1.5, reduction="sum"), none.sum()
    )
    two = soft_localization_loss(logits[:, 0], target[:, 0], softness=1.5, reduction="none")
    assert two.shape == (2,)
    torch.testing.assert_close(
        soft_localization_loss(logits[:, 0], target[:, 0], softness=1.5, reduction="sum"), two.sum()
    )
    torch.testing.assert_close(
        soft_localization_loss(logits[:, 0], target[:, 0], softness=1.5, reduction="mean"), two.mean()
    )


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("softness", [1.5, "per_class"])
def test_module_equals_functional(reduction, softness):
    logits, target = random_case(7)
    if softness == "per_class":
        softness = torch.tensor([0.5, 1.5, 4.0], dtype=torch.float64)
    mask = torch.ones(2, 20, dtype=torch.bool)
    mask[1, 15:] = False
    module = SoftLocalizationLoss(softness, reduction=reduction)
    for m in (None, mask):
        torch.testing.assert_close(
            module(logits, target, m),
            soft_localization_loss(logits, target, softness=softness, mask=m, reduction=reduction),
            rtol=0,
            atol=0,
        )
    module = SoftLocalizationLoss(softness, reduction=reduction, truncate=2.0)
    torch.testing.assert_close(
        module(logits, target),
        soft_localization_loss(logits, target, softness=softness, reduction=reduction, truncate=2.0),
        rtol=0,
        atol=0,
    )


def test_per_class_softness_equals_each_class_alone():
    logits, target = random_case(8, c=3, t=30)
    softness = [0.4, 2.0, 9.0]
    mask = torch.ones(2, 30, dtype=torch.bool)
    mask[0, 22:] = False
    for m in (None, mask):
        out = soft_localization_loss(
            logits, target, softness=torch.tensor(softness, dtype=torch.float64), mask=m,
            reduction="none",
        )
        for c, s in enumerate(softness):
            alone = soft_localization_loss(
                logits[:, c], target[:, c], softness=s, mask=m, reduction="none"
            )
            torch.testing.assert_close(out[:, c], alone, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(
        soft_localization_loss(
            logits, target, softness=torch.tensor(softness, dtype=torch.float64), reduction="none"
        ),
        np_sll(logits.numpy(), target.numpy(), softness),
        rtol=1e-9,
        atol=1e-12,
    )


# ----------------------------------------------------------------------------------------------
# Gradients
# ----------------------------------------------------------------------------------------------


def test_gradcheck_float64():
    logits, target = random_case(9, n=2, c=2, t=9)
    logits.requires_grad_(True)
    mask = torch.ones(2, 9, dtype=torch.bool)
    mask[1, 6:] = False
    for m in (None, mask):
        assert torch.autograd.gradcheck(
            lambda x: soft_localization_loss(x, target, softness=1.3, mask=m, reduction="none"),
            (logits,),
        )
    softness = torch.tensor([0.6, 3.0], dtype=torch.float64)
    assert torch.autograd.gradcheck(
        lambda x: soft_localization_loss(x, target, softness=softness, reduction="sum"), (logits,)
    )


def test_gradcheck_kernel_wider_than_the_sequence_with_padding():
    logits, target = random_case(11, n=3, c=2, t=7)
    logits.requires_grad_(True)
    mask = torch.ones(3, 7, dtype=torch.bool)
    mask[0, 3:] = False
    mask[2, 5:] = False
    assert torch.autograd.gradcheck(
        lambda x: soft_localization_loss(x, target * mask[:, None], softness=torch.tensor(
            [4.0, 0.7], dtype=torch.float64), mask=mask, reduction="none"), (logits,))


def test_second_derivatives_equal_those_of_autograd_through_the_smoothing():
    logits, target = random_case(12, n=2, c=2, t=12)
    mask = torch.ones(2, 12, dtype=torch.bool)
    mask[1, 8:] = False
    target = target * mask[:, None]
    direction = torch.randn(logits.shape, dtype=torch.float64, generator=torch.Generator()
                            .manual_seed(0))

    def reference(x):
        valid = mask[:, None].to(x.dtype)
        smoothed = gaussian_smooth((torch.sigmoid(x) - target) * valid, 2.0) * valid
        return smoothed.square().sum()

    hessian_vector = []
    for loss_of in (lambda x: soft_localization_loss(x, target, softness=2.0, mask=mask,
                                                     reduction="sum"), reference):
        x = logits.clone().requires_grad_(True)
        (grad,) = torch.autograd.grad(loss_of(x), x, create_graph=True)
        (hv,) = torch.autograd.grad((grad * direction).sum(), x)
        hessian_vector.append(hv)
    torch.testing.assert_close(hessian_vector[0], hessian_vector[1], rtol=1e-10, atol=1e-12)


def test_gradient_matches_numpy_analytic():
    # d/dl_j sum_t (Phi * (p - y))_t^2 = 2 p_j (1 - p_j) sum_t (Phi * (p - y))_t Phi(t - j)
    logits, target = random_case(10, n=1, c=1, t=15)
    logits.requires_grad_(True)
    soft_localization_loss(logits, target, softness=2.0, reduction="sum").backward()
    k = np_kernel(2.0)
    r = (len(k) - 1) // 2
    p = np_sigmoid(logits.detach().numpy()[0, 0])
    d = np_same(p - target.numpy()[0, 0], k)
    t = len(p)
    grad = np.array(
        [2 * p[j] * (1 - p[j]) * sum(d[s] * k[s - j + r] for s in range(t) if abs(s - j) <= r)
         for j in range(t)]
    )
    np.testing.assert_allclose(logits.grad.numpy()[0, 0], grad, rtol=1e-9, atol=1e-14)


# ----------------------------------------------------------------------------------------------
# Padding
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("side", ["right", "left"])
@pytest.mark.parametrize("softness", [1.0, 6.0, "per_class"])
def test_padded_equals_unpadded(side, softness):
    lengths, c, t_max = [7, 16, 3, 11], 2, 16
    if softness == "per_class":
        softness = torch.tensor([0.8, 5.0], dtype=torch.float64)
    x, y, mask, seqs_x, seqs_y = padded_batch(
        lengths, c, t_max, seed=11, side=side, event_rate=0.2
    )
    x.requires_grad_(True)
    padded = soft_localization_loss(x, y, softness=softness, mask=mask, reduction="none")
    padded.sum().backward()
    for i, length in enumerate(lengths):
        xi = seqs_x[i].clone().requires_grad_(True)
        alone = soft_localization_loss(xi, seqs_y[i], softness=softness, reduction="none")
        alone.sum().backward()
        torch.testing.assert_close(padded[i], alone[0], rtol=1e-10, atol=1e-13)
        valid = mask[i]
        torch.testing.assert_close(x.grad[i][:, valid], xi.grad[0], rtol=1e-9, atol=1e-13)
        assert bool((x.grad[i][:, ~valid] == 0).all())
        # and against the numpy reference on the unpadded sequence
        np.testing.assert_allclose(
            padded[i].detach().numpy(),
            np_sll(seqs_x[i].numpy(), seqs_y[i].numpy(),
                   softness.numpy() if isinstance(softness, torch.Tensor) else softness)[0],
            rtol=1e-9,
            atol=1e-12,
        )


def test_full_mask_equals_no_mask():
    logits, target = random_case(12)
    full = torch.ones(2, 20, dtype=torch.bool)
    torch.testing.assert_close(
        soft_localization_loss(logits, target, softness=2.0, mask=full, reduction="none"),
        soft_localization_loss(logits, target, softness=2.0, reduction="none"),
    )


def test_padding_does_not_change_loss_when_changing_garbage():
    logits, target = random_case(13, t=18)
    mask = torch.ones(2, 18, dtype=torch.bool)
    mask[:, 12:] = False
    other_logits, other_target = logits.clone(), target.clone()
    other_logits[:, :, 12:] = 40.0
    other_target[:, :, 12:] = 3.0
    torch.testing.assert_close(
        soft_localization_loss(logits, target, softness=3.0, mask=mask, reduction="none"),
        soft_localization_loss(other_logits, other_target, softness=3.0, mask=mask, reduction="none"),
        rtol=1e-12,
        atol=1e-14,
    )


# ----------------------------------------------------------------------------------------------
# Properties
# ----------------------------------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(1, 3),
    c=st.integers(1, 3),
    t=st.integers(1, 40),
    softness=st.floats(min_value=0.1, max_value=15.0),
    scale=st.floats(min_value=0.0, max_value=60.0),
    seed=st.integers(0, 2**31 - 1),
    use_mask=st.booleans(),
)
def test_property_nonnegative_and_matches_numpy(n, c, t, softness, scale, seed, use_mask):
    rng = np.random.default_rng(seed)
    logits = scale * rng.standard_normal((n, c, t))
    target = rng.integers(0, 3, size=(n, c, t)).astype(np.float64)
    mask = None
    lengths = [t] * n
    if use_mask:
        lengths = rng.integers(1, t + 1, size=n).tolist()
        mask = torch.tensor([[s < length for s in range(t)] for length in lengths])
    out = soft_localization_loss(
        torch.from_numpy(logits), torch.from_numpy(target), softness=softness, mask=mask,
        reduction="none",
    )
    assert out.shape == (n, c)
    assert bool((out >= 0).all()) and bool(torch.isfinite(out).all())
    for i, length in enumerate(lengths):
        expected = np_sll(logits[i : i + 1, :, :length], target[i : i + 1, :, :length], softness)[0]
        np.testing.assert_allclose(out[i].numpy(), expected, rtol=1e-8, atol=1e-10)


@settings(max_examples=25, deadline=None)
@given(t=st.integers(2, 30), seed=st.integers(0, 2**31 - 1))
def test_property_batch_permutation_equivariant(t, seed):
    g = torch.Generator().manual_seed(seed)
    logits = 4 * torch.randn(4, 2, t, generator=g, dtype=torch.float64)
    target = (torch.rand(4, 2, t, generator=g) < 0.3).double()
    perm = torch.randperm(4, generator=g)
    out = soft_localization_loss(logits, target, softness=1.7, reduction="none")
    out_perm = soft_localization_loss(logits[perm], target[perm], softness=1.7, reduction="none")
    torch.testing.assert_close(out_perm, out[perm])


# ----------------------------------------------------------------------------------------------
# Bad input
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "input_shape, target_shape, name",
    [
        ((8,), (8,), "input"),
        ((1, 2, 3, 8), (1, 2, 3, 8), "input"),
        ((2, 0, 8), (2, 0, 8), "input"),
        ((2, 3, 8), (2, 3, 7), "target"),
        ((2, 3, 8), (2, 8), "target"),
        ((2, 8), (2, 1, 8), "target"),
    ],
)
def test_wrong_shapes_raise(input_shape, target_shape, name):
    with pytest.raises(ValueError, match=name):
        soft_localization_loss(torch.zeros(input_shape), torch.zeros(target_shape), softness=1.0)


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_non_finite_logits_raise(bad):
    x, y = zero_inputs()
    x[1, 2, 3] = bad
    with pytest.raises(ValueError, match="input"):
        soft_localization_loss(x, y, softness=1.0)


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -1.0])
def test_bad_targets_raise(bad):
    x, y = zero_inputs()
    y[0, 1, 4] = bad
    with pytest.raises(ValueError, match="target"):
        soft_localization_loss(x, y, softness=1.0)


def test_bad_types_raise():
    x, y = zero_inputs()
    with pytest.raises(TypeError, match="input"):
        soft_localization_loss(x.long(), y, softness=1.0)
    with pytest.raises(TypeError, match="input"):
        soft_localization_loss(x.numpy(), y, softness=1.0)
    with pytest.raises(TypeError, match="target"):
        soft_localization_loss(x, y.numpy(), softness=1.0)


def test_bad_masks_raise():
    x, y = zero_inputs()
    with pytest.raises(ValueError, match="mask"):
        soft_localization_loss(x, y, softness=1.0, mask=torch.ones(2, 7, dtype=torch.bool))
    with pytest.raises(ValueError, match="mask"):
        soft_localization_loss(x, y, softness=1.0, mask=torch.ones(2, 3, 8, dtype=torch.bool))
    with pytest.raises(TypeError, match="mask"):
        soft_localization_loss(x, y, softness=1.0, mask=torch.ones(2, 8))
    with pytest.raises(TypeError, match="mask"):
        soft_localization_loss(x, y, softness=1.0, mask=torch.ones(2, 8, dtype=torch.int64))
    with pytest.raises(TypeError, match="mask"):
        soft_localization_loss(x, y, softness=1.0, mask=np.ones((2, 8), dtype=bool))
    empty_row = torch.ones(2, 8, dtype=torch.bool)
    empty_row[1] = False
    with pytest.raises(ValueError, match="mask"):
        soft_localization_loss(x, y, softness=1.0, mask=empty_row)


@pytest.mark.parametrize("reduction", ["avg", "", None, "MEAN"])
def test_unknown_reduction_raises(reduction):
    x, y = zero_inputs()
    with pytest.raises(ValueError, match="reduction"):
        soft_localization_loss(x, y, softness=1.0, reduction=reduction)
    with pytest.raises(ValueError, match="reduction"):
        SoftLocalizationLoss(1.0, reduction=reduction)(x, y)


@pytest.mark.parametrize(
    "softness", [0.0, -1.0, float("nan"), float("inf"), torch.tensor([1.0, 0.0, 1.0])]
)
def test_bad_softness_raises(softness):
    x, y = zero_inputs()
    with pytest.raises(ValueError, match="softness"):
        soft_localization_loss(x, y, softness=softness)
    with pytest.raises(ValueError, match="softness"):
        SoftLocalizationLoss(softness)(x, y)


def test_softness_wrong_type_or_class_count_raises():
    x, y = zero_inputs()
    with pytest.raises(ValueError, match="softness"):
        soft_localization_loss(x, y, softness=torch.ones(2))  # C = 3
    with pytest.raises(ValueError, match="softness"):
        soft_localization_loss(x, y, softness=torch.ones(3, 1))
    with pytest.raises(TypeError, match="softness"):
        soft_localization_loss(x, y, softness=True)
    with pytest.raises(TypeError, match="softness"):
        soft_localization_loss(x, y, softness="1.0")
