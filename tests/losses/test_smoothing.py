"""Tests for softloc.losses.smoothing: analytic Gaussian kernels and 'same' smoothing along time.

References are computed independently in numpy float64 (``np.exp`` kernels, ``np.convolve``).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from softloc.losses import gaussian_kernel, gaussian_smooth
from softloc.losses.smoothing import check_softness

from loss_references import np_kernel, np_same

SOFTNESS_VALUES = [0.1, 0.25, 0.5, 1.0, 1.1, 2.0, 3.7, 5.0, 12.5]


# ----------------------------------------------------------------------------------------------
# Independent numpy references (np_kernel and np_same: loss_references)
# ----------------------------------------------------------------------------------------------


def np_same_direct(signal: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """The same sum written out as a double loop (checks np_same itself)."""
    r = (len(kernel) - 1) // 2
    length = len(signal)
    out = np.zeros(length)
    for t in range(length):
        for tau in range(length):
            if abs(t - tau) <= r:
                out[t] += signal[tau] * kernel[t - tau + r]
    return out


# ----------------------------------------------------------------------------------------------
# gaussian_kernel
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("softness", SOFTNESS_VALUES)
def test_kernel_length_is_odd_2_ceil_4s_plus_1(softness):
    k = gaussian_kernel(softness)
    assert k.dim() == 1
    assert k.shape[0] == 2 * math.ceil(4 * softness) + 1
    assert k.shape[0] % 2 == 1


@pytest.mark.parametrize("softness", SOFTNESS_VALUES)
def test_kernel_unit_sum_symmetric_peak_at_centre(softness):
    k = gaussian_kernel(softness, dtype=torch.float64)
    r = (k.shape[0] - 1) // 2
    assert float(k.sum()) == pytest.approx(1.0, abs=1e-14)
    torch.testing.assert_close(k, k.flip(0), rtol=0, atol=0)
    assert int(k.argmax()) == r
    assert bool((k > 0).all())
    # Non-increasing away from the centre.
    assert bool((k[r:][1:] <= k[r:][:-1]).all())


@pytest.mark.parametrize("softness", SOFTNESS_VALUES)
def test_kernel_matches_analytic_formula(softness):
    k = gaussian_kernel(softness, dtype=torch.float64).numpy()
    np.testing.assert_allclose(k, np_kernel(softness), rtol=1e-12, atol=1e-300)


@pytest.mark.parametrize("truncate", [1.0, 2.5, 6.0])
def test_kernel_truncate_sets_radius(truncate):
    softness = 1.7
    k = gaussian_kernel(softness, truncate=truncate, dtype=torch.float64).numpy()
    assert len(k) == 2 * math.ceil(truncate * softness) + 1
    np.testing.assert_allclose(k, np_kernel(softness, truncate=truncate), rtol=1e-12)


def test_kernel_dtype_follows_argument():
    assert gaussian_kernel(2.0).dtype == torch.float32
    assert gaussian_kernel(2.0, dtype=torch.float64).dtype == torch.float64
    assert gaussian_kernel(torch.tensor([1.0, 2.0]), dtype=torch.float64).dtype == torch.float64


def test_kernel_accepts_int_and_zero_dim_tensor():
    torch.testing.assert_close(gaussian_kernel(2), gaussian_kernel(2.0))
    torch.testing.assert_close(gaussian_kernel(torch.tensor(2.0)), gaussian_kernel(2.0))


def test_per_class_kernels_each_cut_at_their_own_radius():
    softness = [0.5, 1.0, 2.25, 3.0]
    k = gaussian_kernel(torch.tensor(softness, dtype=torch.float64), dtype=torch.float64)
    shared_r = math.ceil(4 * max(softness))
    assert k.shape == (len(softness), 2 * shared_r + 1)
    for row, s in zip(k.numpy(), softness):
        own_r = math.ceil(4 * s)
        assert row.sum() == pytest.approx(1.0, abs=1e-14)
        np.testing.assert_array_equal(row, row[::-1])
        # zero outside its own radius, positive inside
        offsets = np.arange(-shared_r, shared_r + 1)
        assert np.all(row[np.abs(offsets) > own_r] == 0.0)
        assert np.all(row[np.abs(offsets) <= own_r] > 0.0)
        np.testing.assert_allclose(row, np_kernel(s, radius=shared_r), rtol=1e-12)
        # and the central part equals the float kernel of the same softness
        own = gaussian_kernel(s, dtype=torch.float64).numpy()
        np.testing.assert_allclose(row[shared_r - own_r : shared_r + own_r + 1], own, rtol=1e-12)


def test_per_class_kernel_of_float32_softness():
    softness = torch.tensor([0.3, 1.5], dtype=torch.float32)
    k = gaussian_kernel(softness, dtype=torch.float64).numpy()
    for row, s in zip(k, softness.tolist()):
        np.testing.assert_allclose(row, np_kernel(s, radius=(k.shape[1] - 1) // 2), rtol=1e-12)


@settings(max_examples=40, deadline=None)
@given(softness=st.floats(min_value=0.05, max_value=20.0, allow_nan=False))
def test_kernel_property(softness):
    k = gaussian_kernel(softness, dtype=torch.float64).numpy()
    assert len(k) == 2 * math.ceil(4 * softness) + 1
    assert abs(k.sum() - 1.0) < 1e-12
    np.testing.assert_array_equal(k, k[::-1])
    np.testing.assert_allclose(k, np_kernel(softness), rtol=1e-10, atol=1e-300)


# ----------------------------------------------------------------------------------------------
# gaussian_smooth
# ----------------------------------------------------------------------------------------------


def test_numpy_reference_is_self_consistent():
    rng = np.random.default_rng(0)
    x = rng.normal(size=9)
    for s in (0.4, 1.0, 3.0):  # radius 2, 4, 12 (> T)
        k = np_kernel(s)
        np.testing.assert_allclose(np_same(x, k), np_same_direct(x, k), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("softness", [0.3, 1.0, 2.5, 4.0, 10.0, 40.0])
@pytest.mark.parametrize("length", [1, 5, 17, 64])
def test_smooth_equals_numpy_same_convolution(softness, length):
    rng = np.random.default_rng(length * 1000 + int(softness * 10))
    x = rng.normal(size=(3, length))
    out = gaussian_smooth(torch.from_numpy(x), softness)
    assert out.shape == (3, length) and out.dtype == torch.float64
    k = np_kernel(softness)
    expected = np.stack([np_same(row, k) for row in x])
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-9, atol=1e-12)


def test_smooth_radius_larger_than_length():
    # r = ceil(4 * 6) = 24 >> T = 4: everything leaks out of [0, T) except the central mass.
    x = np.array([0.0, 1.0, 0.0, 2.0])
    out = gaussian_smooth(torch.from_numpy(x)[None], 6.0)[0].numpy()
    k = np_kernel(6.0)
    r = (len(k) - 1) // 2
    expected = np.array([sum(x[tau] * k[t - tau + r] for tau in range(4)) for t in range(4)])
    np.testing.assert_allclose(out, expected, rtol=1e-10)
    assert out.sum() < x.sum()  # mass beyond [0, T) is dropped (zero padding, not folded back)


def test_smooth_impulse_gives_kernel():
    length, softness = 41, 2.0
    x = torch.zeros(1, length, dtype=torch.float64)
    x[0, 20] = 1.0
    out = gaussian_smooth(x, softness)[0]
    k = gaussian_kernel(softness, dtype=torch.float64)
    r = (k.shape[0] - 1) // 2
    torch.testing.assert_close(out[20 - r : 20 + r + 1], k, rtol=1e-10, atol=1e-13)
    assert float(out[: 20 - r].abs().max()) < 1e-13
    assert float(out[20 + r + 1 :].abs().max()) < 1e-13


def test_smooth_impulse_at_edge_is_cut_not_folded():
    x = torch.zeros(1, 30, dtype=torch.float64)
    x[0, 0] = 1.0
    out = gaussian_smooth(x, 3.0)[0].numpy()
    k = np_kernel(3.0)
    r = (len(k) - 1) // 2
    np.testing.assert_allclose(out[: r + 1], k[r:], rtol=1e-10)
    assert out.sum() == pytest.approx(k[r:].sum(), rel=1e-10)


def test_smooth_float32_and_batch_dims():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(2, 3, 25)).astype(np.float32)
    out = gaussian_smooth(torch.from_numpy(x), 1.5)
    assert out.dtype == torch.float32 and out.shape == (2, 3, 25)
    k = np_kernel(1.5)
    expected = np.apply_along_axis(lambda row: np_same(row.astype(np.float64), k), -1, x)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-4, atol=1e-5)


def test_smooth_one_dimensional_signal():
    x = np.linspace(-1, 1, 13)
    out = gaussian_smooth(torch.from_numpy(x), 1.0)
    np.testing.assert_allclose(out.numpy(), np_same(x, np_kernel(1.0)), rtol=1e-10, atol=1e-13)


def test_smooth_per_class_softness_equals_each_class_alone():
    rng = np.random.default_rng(5)
    softness = [0.5, 2.0, 7.0]
    x = rng.normal(size=(2, 3, 20))
    out = gaussian_smooth(torch.from_numpy(x), torch.tensor(softness)).numpy()
    for c, s in enumerate(softness):
        k = np_kernel(s)
        for n in range(2):
            np.testing.assert_allclose(out[n, c], np_same(x[n, c], k), rtol=1e-9, atol=1e-12)
        alone = gaussian_smooth(torch.from_numpy(x[:, c]), s).numpy()
        np.testing.assert_allclose(out[:, c], alone, rtol=1e-9, atol=1e-12)


def test_smooth_is_differentiable_gradcheck():
    x = torch.randn(2, 9, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda v: gaussian_smooth(v, 1.3), (x,))
    y = torch.randn(1, 2, 7, dtype=torch.float64, requires_grad=True)
    softness = torch.tensor([0.7, 2.0], dtype=torch.float64)
    assert torch.autograd.gradcheck(lambda v: gaussian_smooth(v, softness), (y,))


@settings(max_examples=40, deadline=None)
@given(
    length=st.integers(min_value=1, max_value=60),
    softness=st.floats(min_value=0.05, max_value=25.0, allow_nan=False),
    seed=st.integers(min_value=0, max_value=2**32 - 1),
)
def test_smooth_property_matches_numpy(length, softness, seed):
    x = np.random.default_rng(seed).uniform(-3, 3, size=(2, length))
    out = gaussian_smooth(torch.from_numpy(x), softness).numpy()
    k = np_kernel(softness)
    expected = np.stack([np_same(row, k) for row in x])
    np.testing.assert_allclose(out, expected, rtol=1e-8, atol=1e-11)


# ----------------------------------------------------------------------------------------------
# Bad softness
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("softness", [0.0, -1.0, float("nan"), float("inf"), -float("inf")])
@pytest.mark.parametrize("func", ["kernel", "smooth"])
def test_bad_softness_value_raises(softness, func):
    with pytest.raises(ValueError, match="softness"):
        if func == "kernel":
            gaussian_kernel(softness)
        else:
            gaussian_smooth(torch.zeros(1, 5), softness)


@pytest.mark.parametrize(
    "softness",
    [
        torch.tensor([1.0, 0.0]),
        torch.tensor([1.0, -2.0]),
        torch.tensor([1.0, float("nan")]),
        torch.tensor([float("inf"), 1.0]),
        torch.tensor(0.0),
        torch.tensor(float("nan")),
    ],
)
def test_bad_softness_tensor_values_raise(softness):
    with pytest.raises(ValueError, match="softness"):
        gaussian_kernel(softness)
    with pytest.raises(ValueError, match="softness"):
        check_softness(softness)


@pytest.mark.parametrize("softness", [True, False, "2.0", None, [1.0, 2.0], 1 + 2j])
def test_bad_softness_type_raises(softness):
    with pytest.raises(TypeError, match="softness"):
        gaussian_kernel(softness)
    with pytest.raises(TypeError, match="softness"):
        gaussian_smooth(torch.zeros(1, 5), softness)


@pytest.mark.parametrize("softness", [torch.tensor([True, True]), torch.tensor(True)])
def test_bool_tensor_softness_raises(softness):
    with pytest.raises(TypeError, match="softness"):
        gaussian_kernel(softness)
    with pytest.raises(TypeError, match="softness"):
        check_softness(softness, 2)


def test_softness_wrong_shape_raises():
    with pytest.raises(ValueError, match="softness"):
        gaussian_kernel(torch.ones(2, 2))
    with pytest.raises(ValueError, match="softness"):
        gaussian_smooth(torch.zeros(1, 3, 8), torch.ones(2))  # C = 3
    with pytest.raises(ValueError, match="softness"):
        gaussian_smooth(torch.zeros(1, 3, 8), torch.ones(4))
    with pytest.raises(ValueError, match="softness"):
        gaussian_smooth(torch.zeros(3, 8), torch.ones(3))  # per-class needs (N, C, T)
    with pytest.raises(ValueError, match="softness"):
        check_softness(torch.ones(3), 2)


def test_check_softness_returns_validated_values():
    assert check_softness(2) == 2.0 and isinstance(check_softness(2), float)
    assert check_softness(torch.tensor(1.5)) == 1.5
    s = torch.tensor([1.0, 2.0])
    assert check_softness(s, 2) is s


def test_fft_lengths_are_the_smallest_fast_multiples_of_8():
    from softloc.losses.smoothing import _fast_length

    def fast(m):
        if m % 8:
            return False
        m //= 8
        for p in (2, 3, 5, 7):
            while m % p == 0:
                m //= p
        return m == 1

    for n in range(1, 3000):
        expected = next(m for m in range(max(n, 8), 4 * n + 16) if fast(m))
        assert _fast_length(n) == expected
