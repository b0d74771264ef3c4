"""The Triton counting kernel (softloc.losses._count_triton) under Triton's interpreter.

``TRITON_INTERPRET=1`` takes effect only if it is set before ``triton`` is imported (setting it
later in a process that has imported triton makes every launch fail), and pytest may import
triton earlier (the doctests of ``src/softloc``). So the comparisons run once, in a subprocess
that executes this file as a script with the variable set, and the tests below assert on the
errors it reports. Under the interpreter the kernel runs on CPU tensors; its references are float64
brute force, the float64 tree product ``_counting_nll_torch`` and the compiled CPU kernel.
The interpreter costs about 1 ms per time step and row, so the sizes are small.
"""

from __future__ import annotations

import itertools
import json
import math
import os
import subprocess
import sys
import types

import pytest

if __name__ != "__main__":
    pytest.importorskip("triton")

import numpy as np
import torch

from softloc.losses import poisson_binomial as pb


def brute_force_nll(logits: np.ndarray, count: int) -> float:
    """-log P(K = count) by enumerating every subset of steps, float64."""
    p = 1.0 / (1.0 + np.exp(-logits.astype(np.float64)))
    total = 0.0
    for bits in itertools.product([0, 1], repeat=len(p)):
        b = np.array(bits)
        if b.sum() == count:
            total += float(np.prod(np.where(b == 1, p, 1.0 - p)))
    return -math.log(total)


def targets_with_counts(counts: torch.Tensor, length: int, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    order = torch.rand(counts.shape[0], length, generator=g).argsort(dim=1)
    return (order < counts[:, None]).to(torch.float64)


def _tree(rows: torch.Tensor, counts: torch.Tensor, mask=None, classes: int = 1):
    """Float64 loss and gradient of the tree product (the reference)."""
    x = rows.detach().double().requires_grad_(True)
    row_mask = mask.repeat_interleave(classes, dim=0) if mask is not None else None
    loss = pb._counting_nll_torch(x, row_mask, counts)
    (grad,) = torch.autograd.grad(loss.sum(), x)
    return loss.detach(), grad


def _errors(loss, grad, ref_loss, ref_grad) -> dict:
    loss, grad = loss.detach().double(), grad.double()
    relative = (loss - ref_loss).abs() / ref_loss.abs().clamp_min(1.0)
    return {"loss": float(relative.max()), "grad": float((grad - ref_grad).abs().max())}


def _run_checks() -> dict:
    """Every comparison, in a process whose TRITON_INTERPRET=1 was set before importing triton."""
    import time

    import softloc  # noqa: F401
    import softloc.losses  # noqa: F401

    out: dict = {"triton_imported_by_softloc": "triton" in sys.modules}
    start = time.perf_counter()
    from softloc.losses import _count_triton as ct

    def triton_loss(rows, counts, mask=None, classes=1, compute_dtype=None):
        loss, grad = ct.count_nll(rows, counts, mask, classes, need_grad=True,
                                  compute_dtype=compute_dtype)
        return loss, grad

    # 1. Every count of short rows against brute force (float64).
    g = torch.Generator().manual_seed(1)
    length = 9
    logits = torch.randn(length + 1, length, generator=g, dtype=torch.float64) * 4
    counts = torch.arange(length + 1)
    loss, grad = triton_loss(logits, counts)
    brute = torch.tensor([brute_force_nll(logits[r].numpy(), int(counts[r]))
                          for r in range(length + 1)], dtype=torch.float64)
    ref_loss, ref_grad = _tree(logits, counts)
    out["brute_force"] = _errors(loss, grad, brute, ref_grad)
    out["brute_force_tree"] = _errors(loss, grad, ref_loss, ref_grad)

    # 2. Masks shared by classes, garbage in the padding, count 0 and count == valid steps;
    #    against the tree and the CPU kernel; rows launched one at a time (tiny scratch budget).
    lengths, classes, t_max = [40, 25, 7], 2, 40
    logits = torch.randn(3, classes, t_max, generator=g, dtype=torch.float64) * 2
    mask = torch.zeros(3, t_max, dtype=torch.bool)
    for i, n in enumerate(lengths):
        mask[i, :n] = True
        logits[i, :, n:] = 50.0
    row_counts = [0, 13, 12, 25, 7, 0]  # (sequence, class) rows; valid steps 40, 40, 25, 25, 7, 7
    counts = torch.tensor(row_counts)
    rows = logits.reshape(3 * classes, t_max)
    budget = ct._SCRATCH_BYTES
    ct._SCRATCH_BYTES = 1
    try:
        loss, grad = triton_loss(rows, counts, mask, classes)
    finally:
        ct._SCRATCH_BYTES = budget
    ref_loss, ref_grad = _tree(rows, counts, mask, classes)
    out["mask_tree"] = _errors(loss, grad, ref_loss, ref_grad)
    padding = ~mask.repeat_interleave(classes, dim=0)
    out["mask_padding_grad_max"] = float(grad[padding].abs().max())
    loss_only, none = ct.count_nll(rows, counts, mask, classes, need_grad=False)
    out["loss_only_equal"] = bool(torch.equal(loss_only, loss)) and none is None
    if pb.kernel_available():
        target = torch.zeros(3, classes, t_max, dtype=torch.float64)
        for r, c in enumerate(row_counts):
            target[r // classes, r % classes, : int(c)] = 1.0
        x = logits.clone().requires_grad_(True)
        cpu = pb.counting_loss(x, target, mask=mask, reduction="none")
        (cpu_grad,) = torch.autograd.grad(cpu.sum(), x)
        out["mask_cpu_kernel"] = _errors(loss, grad, cpu.detach().reshape(-1),
                                         cpu_grad.reshape(rows.shape))

    # 3. Float32 logits, p in [1e-3, 0.5] (the regime of the long-sequence test of the CPU
    #    path), counts up to 100: against float64; the recursion in float64 and in float32.
    length = 200  # count 100 = n / 2: the widest recursion without the flip (128 counts)
    p = torch.empty(4, length, dtype=torch.float64).uniform_(1e-3, 0.5, generator=g)
    logits32 = torch.logit(p).float()
    counts = torch.tensor([0, 1, 37, 100])
    ref_loss, ref_grad = _tree(logits32, counts)
    for name, dtype in (("float64", torch.float64), ("float32", torch.float32)):
        loss, grad = triton_loss(logits32, counts, compute_dtype=dtype)
        out[f"float32_input_{name}_recursion"] = _errors(loss, grad, ref_loss, ref_grad)
        out[f"float32_input_{name}_recursion"]["grad_dtype"] = str(grad.dtype)

    # 4. Large |logits|: certain steps (+-100) and a wide spread (30 randn); counts that
    #    need the flip (c > n / 2), against the tree and the CPU kernel.
    length = 60
    sharp = (torch.randint(0, 2, (2, length), generator=g) * 200.0 - 100.0).double()
    wide = torch.randn(2, length, generator=g, dtype=torch.float64) * 30
    logits = torch.cat([sharp, wide])
    counts = torch.tensor([3, 50, 5, 41])
    loss, grad = triton_loss(logits, counts)
    ref_loss, ref_grad = _tree(logits, counts)
    out["large_logits_tree"] = _errors(loss, grad, ref_loss, ref_grad)
    out["large_logits_finite"] = bool(torch.isfinite(loss).all() and torch.isfinite(grad).all())
    if pb.kernel_available():
        target = targets_with_counts(counts, length)
        x = logits.clone().requires_grad_(True)
        cpu = pb.counting_loss(x, target, reduction="none")
        (cpu_grad,) = torch.autograd.grad(cpu.sum(), x)
        out["large_logits_cpu_kernel"] = _errors(loss, grad, cpu.detach(), cpu_grad)

    # 5. counting_loss with its Triton branch forced on CPU tensors: values, gradient and
    #    reductions through the autograd Function; the same ValueErrors as the other paths.
    pb._triton_counting = lambda input: ct.counting_nll
    pb._use_kernel = lambda input: False
    logits = torch.randn(2, 3, 12, generator=g, dtype=torch.float64)
    target = targets_with_counts(torch.tensor([0, 2, 5, 7, 11, 12]), 12).reshape(2, 3, 12)
    x = logits.clone().requires_grad_(True)
    loss = pb.counting_loss(x, target, reduction="sum")
    (grad,) = torch.autograd.grad(2.0 * loss, x)
    ref_loss, ref_grad = _tree(logits.reshape(6, 12), target.reshape(6, 12).sum(1).long())
    out["counting_loss"] = _errors(loss.reshape(1), grad.reshape(6, 12) / 2.0,
                                   ref_loss.sum().reshape(1), ref_grad)
    raised = {}
    bad_cases = {
        "nan_logits": (torch.full((1, 4), math.nan), torch.zeros(1, 4), None),
        "negative_target": (torch.zeros(1, 4), torch.tensor([[0.0, -1.0, 0.0, 0.0]]), None),
        "fractional_target": (torch.zeros(1, 4), torch.tensor([[0.0, 0.5, 0.0, 0.0]]), None),
        "too_many": (torch.zeros(1, 4), torch.tensor([[1.0, 2.0, 1.0, 0.0]]),
                     torch.tensor([[True, True, True, False]])),
    }
    for name, (bad_x, bad_y, bad_mask) in bad_cases.items():
        try:
            pb.counting_loss(bad_x, bad_y, mask=bad_mask)
            raised[name] = "nothing"
        except ValueError as error:
            raised[name] = str(error)
    out["errors"] = raised
    # A count past MAX_COUNT leaves the row to the caller (no launch).
    steps = 2 * ct.MAX_COUNT + 2
    out["beyond_max_count"] = ct.counting_nll(torch.zeros(1, steps),
                                              torch.tensor([ct.MAX_COUNT + 1]), None, 1) is None
    out["seconds"] = time.perf_counter() - start
    return out


@pytest.fixture(scope="module")
def checks() -> dict:
    env = dict(os.environ, TRITON_INTERPRET="1", OMP_NUM_THREADS="1")
    done = subprocess.run([sys.executable, __file__], env=env, capture_output=True, text=True,
                          timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-4000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_import_softloc_does_not_import_triton(checks):
    assert checks["triton_imported_by_softloc"] is False


def test_every_count_equals_brute_force(checks):
    assert checks["brute_force"]["loss"] <= 1e-12
    assert checks["brute_force_tree"]["loss"] <= 1e-12
    assert checks["brute_force_tree"]["grad"] <= 1e-12


def test_masks_and_classes(checks):
    assert checks["mask_tree"]["loss"] <= 1e-12 and checks["mask_tree"]["grad"] <= 1e-12
    assert checks["mask_padding_grad_max"] == 0.0
    assert checks["loss_only_equal"]


def test_matches_cpu_kernel(checks):
    if "mask_cpu_kernel" not in checks:
        pytest.skip("no C compiler for the CPU kernel")
    for case in ("mask_cpu_kernel", "large_logits_cpu_kernel"):
        assert checks[case]["loss"] <= 1e-12 and checks[case]["grad"] <= 1e-12, case


@pytest.mark.parametrize("recursion", ["float64", "float32"])
def test_float32_input_within_1e_5_of_float64(checks, recursion):
    case = checks[f"float32_input_{recursion}_recursion"]
    assert case["grad_dtype"] == "torch.float32"
    assert case["loss"] <= 1e-5 and case["grad"] <= 1e-5


def test_large_logits(checks):
    assert checks["large_logits_finite"]
    assert checks["large_logits_tree"]["loss"] <= 1e-12
    assert checks["large_logits_tree"]["grad"] <= 1e-12


def test_counting_loss_through_triton(checks):
    assert checks["counting_loss"]["loss"] <= 1e-12 and checks["counting_loss"]["grad"] <= 1e-12
    errors = checks["errors"]
    assert "input must hold finite logits" in errors["nan_logits"]
    assert "target" in errors["negative_target"] and "target" in errors["fractional_target"]
    assert "more events than valid steps" in errors["too_many"]
    assert checks["beyond_max_count"]


def test_selection(monkeypatch):
    """Triton only for CUDA tensors, only when it imports and is not disabled."""
    cuda_like = types.SimpleNamespace(is_cuda=True)
    assert pb._triton_counting(torch.zeros(1, 2)) is None
    assert pb._triton_counting(cuda_like) is not None
    monkeypatch.setenv("SOFTLOC_DISABLE_TRITON", "1")
    assert pb._triton_counting(cuda_like) is None
    monkeypatch.delenv("SOFTLOC_DISABLE_TRITON")
    import softloc.losses

    monkeypatch.delattr(softloc.losses, "_count_triton", raising=False)
    monkeypatch.setitem(sys.modules, "softloc.losses._count_triton", None)  # import fails
    assert pb._triton_counting(cuda_like) is None


@pytest.mark.parametrize(
    "logits_type,recursion,width,warps,mask,grad",
    [("fp32", "fp64", 128, 1, True, True), ("fp16", "fp32", 2048, 4, False, False)],
)
def test_kernel_compiles_for_sm90_ahead_of_time(tmp_path, monkeypatch, logits_type, recursion,
                                                width, warps, mask, grad):
    """The interpreter is lenient with types; the real compiler (down to a cubin, with the ptxas
    of the triton wheel, no GPU needed) is not. Also: no register spills."""
    import triton
    import triton.language as tl

    from softloc.losses import _count_triton as ct

    try:
        from triton.backends.compiler import GPUTarget
        from triton.compiler import ASTSource
    except ImportError:
        pytest.skip("this triton has no ahead-of-time compile API")
    if not isinstance(ct._count_nll_kernel, triton.runtime.JITFunction):
        pytest.skip("TRITON_INTERPRET is set in this process")
    monkeypatch.setenv("TRITON_CACHE_DIR", str(tmp_path))
    scratch = f"*{recursion}"
    signature = {
        "logits_ptr": f"*{logits_type}", "counts_ptr": "*i32", "steps_ptr": "*i32",
        "mask_ptr": "*u8", "loss_ptr": "*fp64", "grad_ptr": f"*{logits_type}",
        "checkpoint_ptr": scratch, "table_ptr": scratch, "row_start": "i32", "length": "i32",
        "classes": "i32", "block_steps": "i32", "blocks": "i32",
    }
    constants = {"HAS_MASK": mask, "NEED_GRAD": grad, "WIDTH": width, "SPAN": 128 * warps,
                 "DTYPE": getattr(tl, {"fp64": "float64", "fp32": "float32"}[recursion]),
                 "NEWTON_ITERATIONS": ct._NEWTON_ITERATIONS}
    signature.update({name: "constexpr" for name in constants})
    try:
        source = ASTSource(fn=ct._count_nll_kernel, signature=signature, constexprs=constants)
    except TypeError:
        pytest.skip("this triton's ASTSource takes other arguments")
    kernel = triton.compile(source, target=GPUTarget("cuda", 90, 32),
                            options={"num_warps": warps, "enable_fp_fusion": True})
    cuobjdump = os.path.join(os.path.dirname(triton.__file__), "backends", "nvidia", "bin",
                             "cuobjdump")
    if os.path.exists(cuobjdump):
        cubin = tmp_path / "kernel.cubin"
        cubin.write_bytes(kernel.asm["cubin"])
        usage = subprocess.run([cuobjdump, "--dump-resource-usage", str(cubin)],
                               capture_output=True, text=True, check=True).stdout
        assert "STACK:0" in usage and "LOCAL:0" in usage, usage


if __name__ == "__main__":
    print(json.dumps(_run_checks()))
