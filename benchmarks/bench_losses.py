"""Speed and memory of the counting loss and the full SoftLoc loss, as ratios from one run.

For T in {400, 2000, 10000} and N in {256, 2816} rows (2816 = 32 sequences x 88 piano keys),
forward + backward, float32, on this machine's CPU threads:

* ``counting_loss`` against the authors' formulation (reference-spec section 1.5): a Python loop
  over time steps in probability space with a 'rest' bin of K = max(count) + 2 bins, autograd
  through every step, columns taken with ``unbind``, loss ``-log(P(c) + 1e-9)``;
* ``counting_loss`` and ``softloc_loss`` against ``binary_cross_entropy_with_logits`` on the same
  logits;
* ``soft_localization_loss`` (one smoothing forward, one backward: the adjoint of the symmetric
  Gaussian is itself) against autograd through the FFT smoothing (``sll_autograd``: the
  formulation softloc used before, ``sum_t (Phi * (p - y))_t^2`` built from ``gaussian_smooth``);
* the extra memory of one forward + backward (peak resident memory of a fresh process, sampled
  every 0.5 ms, minus its resident memory just before), against the size of the logits; the
  gradient tensor the backward returns is part of it.

Counts per row are drawn uniformly from 0..1 ("sparse") and 0..38 ("dense"). Logits are
``N(-5, 2)`` (a network that predicts few events). Run ``python benchmarks/bench_losses.py``;
``--quick`` runs T = 400 and 2000 only. Results are printed and written as CSV and Markdown.
"""

from __future__ import annotations

import argparse
import gc
import json
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from _tables import write_tables
from softloc.losses import counting_loss, kernel_available, soft_localization_loss, softloc_loss
from softloc.losses.smoothing import gaussian_smooth

SCENARIOS = {"sparse": 1, "dense": 38}
SOFTNESS = 20.0  # frames (100 ms at 200 fps, the paper's piano setting)


def make_batch(rows: int, length: int, scenario: str, seed: int = 0, device: str = "cpu"):
    """Logits ``N(-5, 2)``, 0/1 targets and their counts ``(rows,)``, drawn on the CPU."""
    generator = torch.Generator().manual_seed(seed)
    logits = torch.randn(rows, length, generator=generator) * 2.0 - 5.0
    counts = torch.randint(0, SCENARIOS[scenario] + 1, (rows,), generator=generator)
    order = torch.rand(rows, length, generator=generator).argsort(dim=1)
    target = (order < counts[:, None]).to(torch.float32)
    return logits.to(device), target.to(device), counts.to(device)


def reference_counting_loss(logits: torch.Tensor, counts: torch.Tensor) -> torch.Tensor:
    """The authors' formulation: probability-space recursion with a 'rest' bin, a step per frame."""
    bins = int(counts.max()) + 2
    p = torch.sigmoid(logits)
    state = torch.zeros(logits.shape[0], bins, dtype=logits.dtype, device=logits.device)
    state[:, 0] = 1.0
    zero = torch.zeros(logits.shape[0], 1, dtype=logits.dtype, device=logits.device)
    for p_t in p.unbind(1):
        moved = (state * p_t[:, None])[:, : bins - 1]
        state = state + torch.cat([-moved, zero], dim=1) + torch.cat([zero, moved], dim=1)
    return -torch.log(state.gather(1, counts[:, None]) + 1e-9).mean()


def methods(logits, target, counts):
    return {
        "counting": lambda x: counting_loss(x, target),
        "reference": lambda x: reference_counting_loss(x, counts),
        "bce": lambda x: F.binary_cross_entropy_with_logits(x, target),
        "softloc": lambda x: softloc_loss(x, target, softness=SOFTNESS, alpha=0.5),
        "sll": lambda x: soft_localization_loss(x, target, softness=SOFTNESS),
        "sll_autograd": lambda x: gaussian_smooth(torch.sigmoid(x) - target, SOFTNESS)
        .square().sum(dim=-1).mean(),
    }


def time_methods(fns: dict, logits, repeats: int) -> dict:
    """Best wall time (ms) of forward + backward per method over interleaved rounds.

    Methods are timed in interleaved rounds after one warm-up round, and the best round counts:
    on a shared or virtual machine a stolen core delays a multi-threaded operation by tens of
    milliseconds at random, which the minimum filters out (as ``timeit`` recommends).
    """
    times: dict = {name: [] for name in fns}
    for round_index in range(repeats + 1):
        for name, fn in fns.items():
            x = logits.clone().requires_grad_(True)
            start = time.perf_counter()
            fn(x).backward()
            elapsed = time.perf_counter() - start
            if round_index > 0:
                times[name].append(elapsed)
    return {name: 1e3 * min(values) for name, values in times.items()}


def reference_bytes(rows: int, length: int, bins: int) -> float:
    """Rough autograd memory of the reference (a few (rows, bins) tensors saved per step)."""
    return 4.0 * rows * length * bins * 4


def _resident_bytes() -> int:
    with open("/proc/self/statm", encoding="ascii") as f:
        return int(f.read().split()[1]) * resource.getpagesize()


def memory_child(method: str, rows: int, length: int, scenario: str) -> None:
    """Peak resident memory above the starting point during one forward + backward."""
    logits, target, counts = make_batch(rows, length, scenario)
    fn = methods(logits, target, counts)[method]
    small = make_batch(8, 64, scenario)
    methods(*small)[method](small[0].requires_grad_(True)).backward()  # load libraries, kernel
    x = logits.clone().requires_grad_(True)
    gc.collect()
    before = _resident_bytes()
    peak = [before]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], _resident_bytes())
            time.sleep(0.0005)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    fn(x).backward()
    peak[0] = max(peak[0], _resident_bytes())
    done.set()
    sampler.join()
    print(json.dumps({"extra_bytes": peak[0] - before}))


def measure_memory(method: str, rows: int, length: int, scenario: str) -> float:
    out = subprocess.run(
        [sys.executable, __file__, "--memory-child", method, str(rows), str(length), scenario],
        capture_output=True, text=True, check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])["extra_bytes"]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="T = 400 and 2000 only")
    parser.add_argument("--repeats", type=int, default=7,
                        help="timed rounds (best counts), methods interleaved within each round")
    parser.add_argument("--max-reference-gb", type=float, default=6.0,
                        help="skip the reference where its autograd graph would need more (GB)")
    parser.add_argument("--out", type=Path, default=Path("results/benchmarks"),
                        help="folder for bench_losses.csv and bench_losses.md")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch threads (default: torch's own choice)")
    parser.add_argument("--memory-child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.memory_child:
        method, rows, length, scenario = args.memory_child
        memory_child(method, int(rows), int(length), scenario)
        return

    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"compiled kernel: {kernel_available()}")
    lengths = (400, 2000) if args.quick else (400, 2000, 10000)
    rows_out = []
    for length in lengths:
        for rows in (256, 2816):
            for scenario in SCENARIOS:
                logits, target, counts = make_batch(rows, length, scenario)
                fns = methods(logits, target, counts)
                row = {"T": length, "N": rows, "counts": f"0..{SCENARIOS[scenario]}"}
                fast = {name: fns[name] for name in ("counting", "bce", "softloc", "sll", "sll_autograd")}
                row.update({f"{k}_ms": v for k, v in time_methods(fast, logits, args.repeats).items()})
                bins = int(counts.max()) + 2
                if reference_bytes(rows, length, bins) <= args.max_reference_gb * 1e9:
                    # The reference is slow: fewer rounds, each against a fresh counting time.
                    pair = {"reference": fns["reference"], "counting": fns["counting"]}
                    paired = time_methods(pair, logits, max(1, min(args.repeats, 3)))
                    row["reference_ms"] = paired["reference"]
                    row["counting_ms_paired"] = paired["counting"]
                    row["reference_MB"] = measure_memory("reference", rows, length, scenario) / 1e6
                else:
                    row["reference_ms"] = float("nan")
                    row["counting_ms_paired"] = float("nan")
                    row["reference_MB"] = float("nan")
                row["counting_MB"] = measure_memory("counting", rows, length, scenario) / 1e6
                row["logits_MB"] = rows * length * 4 / 1e6
                row["speedup_vs_reference"] = row["reference_ms"] / row["counting_ms_paired"]
                row["counting_vs_bce"] = row["counting_ms"] / row["bce_ms"]
                row["softloc_vs_bce"] = row["softloc_ms"] / row["bce_ms"]
                row["sll_vs_bce"] = row["sll_ms"] / row["bce_ms"]
                row["sll_speedup_vs_autograd"] = row["sll_autograd_ms"] / row["sll_ms"]
                row["counting_memory_vs_logits"] = row["counting_MB"] / row["logits_MB"]
                rows_out.append(row)
                print(
                    f"T={length:>5} N={rows:>4} counts {row['counts']:>5}: "
                    f"counting {row['counting_ms']:8.1f} ms | reference {row['reference_ms']:8.1f} ms "
                    f"(x{row['speedup_vs_reference']:5.1f} faster) | BCE {row['bce_ms']:7.1f} ms "
                    f"(counting x{row['counting_vs_bce']:4.2f}, softloc x{row['softloc_vs_bce']:4.2f}, "
                    f"SLL x{row['sll_vs_bce']:4.2f}: x{row['sll_speedup_vs_autograd']:4.2f} faster "
                    f"than autograd) | "
                    f"extra memory {row['counting_MB']:7.1f} MB = x{row['counting_memory_vs_logits']:4.2f}"
                    f" logits (reference {row['reference_MB']:8.1f} MB)",
                    flush=True,
                )
    write_tables(rows_out, args.out, "bench_losses")


if __name__ == "__main__":
    main()
