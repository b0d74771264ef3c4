"""Counting loss L_PB and count_log_pmf against brute force, float64 and each other."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from softloc.losses import CountingLoss, count_log_pmf, counting_loss, kernel_available
from softloc.losses import poisson_binomial as pb

needs_kernel = pytest.mark.skipif(not kernel_available(), reason="no C compiler for the kernel")


@pytest.fixture(params=["kernel", "torch"])
def path(request, monkeypatch):
    """Run a test through the compiled kernel and through the pure-PyTorch tree."""
    if request.param == "kernel":
        if not kernel_available():
            pytest.skip("no C compiler for the kernel")
    else:
        monkeypatch.setattr(pb, "_use_kernel", lambda input: False)
    return request.param


def brute_force_pmf(logits: np.ndarray) -> np.ndarray:
    """P(K = k) by enumerating every subset of steps, in float64."""
    p = 1.0 / (1.0 + np.exp(-logits.astype(np.float64)))
    pmf = np.zeros(len(p) + 1)
    for bits in itertools.product([0, 1], repeat=len(p)):
        b = np.array(bits)
        pmf[b.sum()] += np.prod(np.where(b == 1, p, 1.0 - p))
    return pmf


def targets_with_counts(counts: torch.Tensor, length: int, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    order = torch.rand(counts.shape[0], length, generator=g).argsort(dim=1)
    return (order < counts[:, None]).to(torch.float32)


@pytest.mark.parametrize("length", [1, 2, 5, 9, 12])
def test_count_log_pmf_equals_brute_force(length):
    g = torch.Generator().manual_seed(length)
    logits = torch.randn(3, length, generator=g, dtype=torch.float64) * 3
    got = count_log_pmf(logits, max_count=length + 2).exp().numpy()
    for row in range(3):
        expected = brute_force_pmf(logits[row].numpy())
        np.testing.assert_allclose(got[row, : length + 1], expected, rtol=1e-10, atol=1e-300)
        assert np.all(got[row, length + 1 :] == 0.0)
    for max_count in range(length + 1):  # truncation keeps the lower counts exact
        truncated = count_log_pmf(logits, max_count=max_count).exp().numpy()
        np.testing.assert_allclose(truncated, got[:, : max_count + 1], rtol=1e-12)


@pytest.mark.parametrize("length", [1, 3, 8, 12])
def test_counting_loss_equals_brute_force_for_every_count(path, length):
    g = torch.Generator().manual_seed(10 + length)
    for dtype in (torch.float32, torch.float64):
        logits = (torch.randn(4, length, generator=g) * 4).to(dtype)
        for count in range(length + 1):
            target = targets_with_counts(torch.full((4,), count), length).to(dtype)
            got = counting_loss(logits, target, reduction="none").double().numpy()
            for row in range(4):
                expected = -math.log(brute_force_pmf(logits[row].numpy())[count])
                tol = 1e-5 if dtype == torch.float32 else 1e-10
                assert got[row] == pytest.approx(expected, rel=tol, abs=tol)


def test_count_log_pmf_is_a_distribution_with_mask():
    g = torch.Generator().manual_seed(3)
    logits = torch.randn(2, 3, 30, generator=g, dtype=torch.float64) * 5
    mask = torch.ones(2, 30, dtype=torch.bool)
    mask[1, 17:] = False
    log_pmf = count_log_pmf(logits, max_count=30, mask=mask)
    assert log_pmf.shape == (2, 3, 31)
    torch.testing.assert_close(log_pmf.logsumexp(dim=-1), torch.zeros(2, 3, dtype=torch.float64))
    assert torch.isneginf(log_pmf[1, :, 18:]).all() and torch.isfinite(log_pmf[1, :, :18]).all()
    unpadded = count_log_pmf(logits[1, :, :17], max_count=17)
    torch.testing.assert_close(log_pmf[1, :, :18], unpadded)


def test_count_log_pmf_gradcheck():
    g = torch.Generator().manual_seed(4)
    logits = torch.randn(2, 7, generator=g, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda x: count_log_pmf(x, max_count=4), (logits,))


def test_count_log_pmf_tails_are_exact_in_log_space():
    # P(K = 0) for 20000 steps at p = 0.5 is 2^-20000: far below double range, exact in logs.
    logits = torch.zeros(1, 20000, dtype=torch.float64)
    log_pmf = count_log_pmf(logits, max_count=2)
    expected = [math.lgamma(20001) - math.lgamma(k + 1) - math.lgamma(20001 - k) - 20000 * math.log(2)
                for k in range(3)]
    np.testing.assert_allclose(log_pmf[0].numpy(), expected, rtol=1e-12)


@pytest.mark.parametrize("count", [0, 1, 2, 5, 9, 10])
def test_counting_loss_gradcheck(path, count):
    g = torch.Generator().manual_seed(count)
    logits = (torch.randn(3, 2, 10, generator=g, dtype=torch.float64) * 2).requires_grad_(True)
    target = targets_with_counts(torch.full((6,), count), 10).reshape(3, 2, 10).double()
    mask = torch.ones(3, 10, dtype=torch.bool)
    mask[2, 7:] = False
    target[2, :, 7:] = 0.0
    if count > 7:  # the third sequence has 7 valid steps
        target[2, :, :7] = 1.0
    assert torch.autograd.gradcheck(
        lambda x: counting_loss(x, target, mask=mask, reduction="sum"), (logits,)
    )


@needs_kernel
def test_threads_give_identical_results():
    """Rows are independent: the multi-threaded kernel equals the single-threaded one bit for bit."""
    g = torch.Generator().manual_seed(12)
    logits = torch.randn(64, 3, 500, generator=g) * 3 - 2
    counts = torch.randint(0, 60, (192,), generator=g)
    target = targets_with_counts(counts, 500).reshape(64, 3, 500)
    mask = torch.rand(64, 500, generator=g) > 0.05
    results = []
    previous = torch.get_num_threads()
    try:
        for threads in (1, 2, 4):
            torch.set_num_threads(threads)
            x = logits.clone().requires_grad_(True)
            loss = counting_loss(x, target * mask[:, None, :], mask=mask, reduction="none")
            loss.sum().backward()
            results.append((loss.detach(), x.grad))
    finally:
        torch.set_num_threads(previous)
    for loss, grad in results[1:]:
        assert torch.equal(loss, results[0][0]) and torch.equal(grad, results[0][1])


def test_kernel_and_tree_agree(monkeypatch):
    if not kernel_available():
        pytest.skip("no C compiler for the kernel")
    g = torch.Generator().manual_seed(5)
    logits = (torch.randn(5, 3, 300, generator=g, dtype=torch.float64) * 3 - 2).requires_grad_(True)
    counts = torch.randint(0, 301, (15,), generator=g)
    target = targets_with_counts(counts, 300).reshape(5, 3, 300).double()
    mask = torch.rand(5, 300, generator=g) > 0.2
    target = target * mask[:, None, :]
    kernel = counting_loss(logits, target, mask=mask, reduction="none")
    (grad_kernel,) = torch.autograd.grad(kernel.sum(), logits)
    monkeypatch.setattr(pb, "_use_kernel", lambda input: False)
    tree = counting_loss(logits, target, mask=mask, reduction="none")
    (grad_tree,) = torch.autograd.grad(tree.sum(), logits)
    torch.testing.assert_close(kernel, tree, rtol=1e-10, atol=1e-10)
    torch.testing.assert_close(grad_kernel, grad_tree, rtol=1e-9, atol=1e-12)
    assert (grad_kernel[~mask[:, None, :].expand_as(grad_kernel)] == 0).all()


@pytest.mark.parametrize("length,rows", [(20000, 6), (2000, 12)])
def test_float32_matches_float64_for_long_sequences(path, length, rows):
    """Loss relative error and gradient error <= 1e-5 against a float64 computation."""
    g = torch.Generator().manual_seed(length)
    p = torch.empty(rows, length, dtype=torch.float64).uniform_(1e-3, 0.5, generator=g)
    logits64 = torch.logit(p)
    counts = torch.randint(0, 101, (rows,), generator=g)
    counts[0], counts[1] = 0, 100
    target = targets_with_counts(counts, length)
    x32 = logits64.float().requires_grad_(True)
    loss32 = counting_loss(x32, target, reduction="none")
    loss32.sum().backward()
    x64 = x32.detach().double().requires_grad_(True)
    loss64 = pb._counting_nll_torch(x64, None, counts)
    loss64.sum().backward()
    relative = ((loss32.double() - loss64).abs() / loss64.abs()).max()
    assert relative <= 1e-5
    assert (x32.grad.double() - x64.grad).abs().max() <= 1e-5


def test_binary_predictions_with_the_right_count_cost_nothing(path):
    """Lemma 15: D_KL(1_c || K) = 0 iff exactly c probabilities are 1 and the rest 0."""
    target = torch.zeros(3, 2, 50)
    target[0, 0, [3, 9, 30]] = 1
    target[1, 1, 49] = 1
    target[2] = 1
    logits = torch.where(target > 0, 100.0, -100.0)
    assert counting_loss(logits, target, reduction="none").abs().max() < 1e-12
    wrong = logits.clone()
    wrong[0, 0, 30] = -100.0
    assert counting_loss(wrong, target, reduction="none")[0, 0] > 90.0


def test_extreme_logits_and_long_sequences_are_finite(path):
    g = torch.Generator().manual_seed(7)
    length = 100_000
    logits = (torch.randint(0, 2, (2, length), generator=g) * 200.0 - 100.0).requires_grad_(True)
    counts = torch.tensor([3, 40])
    target = targets_with_counts(counts, length)
    loss = counting_loss(logits, target, reduction="none")
    loss.sum().backward()
    assert torch.isfinite(loss).all() and torch.isfinite(logits.grad).all()
    # About half of the steps are certain events, so the count is far too high: a huge loss.
    assert (loss > 1e5).all()


def test_padding_changes_nothing(path):
    g = torch.Generator().manual_seed(8)
    lengths = [40, 25, 7]
    logits = torch.randn(3, 2, 40, generator=g, dtype=torch.float64) * 2
    target = torch.zeros(3, 2, 40, dtype=torch.float64)
    mask = torch.zeros(3, 40, dtype=torch.bool)
    for i, n in enumerate(lengths):
        mask[i, :n] = True
        target[i, :, :n] = targets_with_counts(torch.tensor([n // 3, n // 2]), n, seed=i).double()
        logits[i, :, n:] = 50.0  # garbage in the padding
        target[i, :, n:] = 1.0
    x = logits.clone().requires_grad_(True)
    padded = counting_loss(x, target, mask=mask, reduction="none")
    padded.sum().backward()
    for i, n in enumerate(lengths):
        xi = logits[i : i + 1, :, :n].clone().requires_grad_(True)
        alone = counting_loss(xi, target[i : i + 1, :, :n], reduction="none")
        alone.sum().backward()
        torch.testing.assert_close(padded[i], alone[0])
        torch.testing.assert_close(x.grad[i, :, :n], xi.grad[0])
        assert (x.grad[i, :, n:] == 0).all()


def test_reductions_and_module():
    g = torch.Generator().manual_seed(9)
    logits = torch.randn(4, 3, 20, generator=g)
    target = targets_with_counts(torch.randint(0, 5, (12,), generator=g), 20).reshape(4, 3, 20)
    none = counting_loss(logits, target, reduction="none")
    assert none.shape == (4, 3)
    torch.testing.assert_close(counting_loss(logits, target), none.mean())
    torch.testing.assert_close(counting_loss(logits, target, reduction="sum"), none.sum())
    torch.testing.assert_close(CountingLoss(reduction="none")(logits, target), none)
    two_d = counting_loss(logits[:, 0], target[:, 0], reduction="none")
    assert two_d.shape == (4,)
    torch.testing.assert_close(two_d, none[:, 0])


def test_permuting_steps_changes_nothing():
    g = torch.Generator().manual_seed(11)
    logits = torch.randn(2, 64, generator=g)
    target = targets_with_counts(torch.tensor([5, 17]), 64)
    perm = torch.randperm(64, generator=g)
    torch.testing.assert_close(
        counting_loss(logits, target, reduction="none"),
        counting_loss(logits[:, perm], target[:, perm], reduction="none"),
    )


@settings(max_examples=40, deadline=None)
@given(
    length=st.integers(1, 60),
    rows=st.integers(1, 5),
    scale=st.sampled_from([0.1, 1.0, 5.0, 30.0]),
    shift=st.floats(-10, 10),
    seed=st.integers(0, 10_000),
    masked=st.booleans(),
)
def test_property_kernel_matches_tree_and_is_nonnegative(length, rows, scale, shift, seed, masked):
    g = torch.Generator().manual_seed(seed)
    logits = (torch.randn(rows, length, generator=g, dtype=torch.float64) * scale + shift)
    mask = torch.rand(rows, length, generator=g) > 0.3 if masked else None
    if mask is not None:
        mask[:, 0] = True
    valid = mask.sum(1) if mask is not None else torch.full((rows,), length)
    counts = (torch.rand(rows, generator=g) * (valid + 1).double()).floor().long()
    target = torch.zeros(rows, length, dtype=torch.float64)
    for r in range(rows):
        steps = torch.nonzero(mask[r]).flatten() if mask is not None else torch.arange(length)
        target[r, steps[: counts[r]]] = 1.0
    x = logits.clone().requires_grad_(True)
    loss = counting_loss(x, target, mask=mask, reduction="none")
    assert (loss >= -1e-12).all()
    (grad,) = torch.autograd.grad(loss.sum(), x)
    rows_tree, mask_tree = pb._rows(logits.unsqueeze(1), mask)
    xt = rows_tree.clone().requires_grad_(True)
    tree = pb._counting_nll_torch(xt, mask_tree, counts)
    (grad_tree,) = torch.autograd.grad(tree.sum(), xt)
    torch.testing.assert_close(loss, tree, rtol=1e-9, atol=1e-9)
    torch.testing.assert_close(grad, grad_tree, rtol=1e-8, atol=1e-10)


class TestBadInput:
    def test_count_larger_than_valid_steps(self, path):
        target = torch.tensor([[1.0, 2.0, 1.0, 0.0, 0.0]])  # 4 events on 3 valid steps
        mask = torch.tensor([[True, True, True, False, False]])
        with pytest.raises(ValueError, match="more events than valid steps"):
            counting_loss(torch.zeros(1, 5), target, mask=mask)
        with pytest.raises(ValueError, match="more events than valid steps"):
            counting_loss(torch.zeros(1, 3), torch.tensor([[0.0, 2.0, 2.0]]))

    @pytest.mark.parametrize("bad", [-1.0, 0.5, math.nan, math.inf])
    def test_targets_must_be_whole_counts(self, path, bad):
        target = torch.zeros(2, 6)
        target[1, 2] = bad
        with pytest.raises(ValueError, match="target"):
            counting_loss(torch.zeros(2, 6), target)

    @pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
    def test_logits_must_be_finite(self, path, bad):
        logits = torch.zeros(2, 6)
        logits[0, 3] = bad
        with pytest.raises(ValueError, match="input"):
            counting_loss(logits, torch.zeros(2, 6))

    def test_shapes_types_and_options(self):
        with pytest.raises(ValueError, match="target"):
            counting_loss(torch.zeros(2, 6), torch.zeros(2, 5))
        with pytest.raises(ValueError, match="input"):
            counting_loss(torch.zeros(6), torch.zeros(6))
        with pytest.raises(ValueError, match="input"):
            counting_loss(torch.zeros(2, 0), torch.zeros(2, 0))
        with pytest.raises(TypeError, match="input"):
            counting_loss(torch.zeros(2, 6, dtype=torch.long), torch.zeros(2, 6))
        with pytest.raises(ValueError, match="reduction"):
            counting_loss(torch.zeros(2, 6), torch.zeros(2, 6), reduction="average")
        with pytest.raises(ValueError, match="reduction"):
            CountingLoss(reduction="max")
        with pytest.raises(ValueError, match="mask"):
            counting_loss(torch.zeros(2, 6), torch.zeros(2, 6), mask=torch.ones(2, 5, dtype=torch.bool))
        with pytest.raises(TypeError, match="mask"):
            counting_loss(torch.zeros(2, 6), torch.zeros(2, 6), mask=torch.ones(2, 6))
        empty_row = torch.ones(2, 6, dtype=torch.bool)
        empty_row[1] = False
        with pytest.raises(ValueError, match="mask"):
            counting_loss(torch.zeros(2, 6), torch.zeros(2, 6), mask=empty_row)

    def test_count_log_pmf_arguments(self):
        with pytest.raises(ValueError, match="max_count"):
            count_log_pmf(torch.zeros(1, 3), max_count=-1)
        with pytest.raises(TypeError, match="max_count"):
            count_log_pmf(torch.zeros(1, 3), max_count=2.0)
        with pytest.raises(ValueError, match="logits"):
            count_log_pmf(torch.full((1, 3), math.nan), max_count=2)


@needs_kernel
def test_kernel_is_cached_and_reused(tmp_path, monkeypatch):
    from softloc.losses import _count_kernel

    monkeypatch.setenv("SOFTLOC_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(_count_kernel, "_tried", False)
    monkeypatch.setattr(_count_kernel, "_loaded", None)
    assert _count_kernel.load() is not None
    built = list(tmp_path.glob("count_kernel_*.so"))
    assert len(built) == 1
    stamp = built[0].stat().st_mtime_ns
    monkeypatch.setattr(_count_kernel, "_tried", False)
    assert _count_kernel.load() is not None
    assert built[0].stat().st_mtime_ns == stamp


def test_kernel_can_be_disabled(monkeypatch):
    from softloc.losses import _count_kernel

    monkeypatch.setenv("SOFTLOC_DISABLE_KERNEL", "1")
    assert _count_kernel.load() is None
    assert not kernel_available()
    target = targets_with_counts(torch.tensor([2]), 10)
    assert torch.isfinite(counting_loss(torch.zeros(1, 10), target))
