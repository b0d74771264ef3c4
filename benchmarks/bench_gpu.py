"""The GPU check: speed and peak memory of the losses, and training steps per second, on CUDA.

One script a lent GPU machine runs in under 5 minutes (``python benchmarks/bench_gpu.py``);
``--device cpu --smoke`` runs the same code on the CPU at tiny sizes (a test does, so the script
stays ready where no GPU is lent). For T in {400, 2000, 10000} frames and N in {256, 2816} rows
(2816 = 32 sequences x 88 piano keys), float32, forward + backward:

* ``counting_loss`` as :mod:`softloc.losses` dispatches it (on CUDA: the fused Triton kernel
  when triton imports, else the tree product), the pure-PyTorch tree product itself
  (``tree``), and the authors' formulation (``reference``: a Python loop over time steps in
  probability space with a 'rest' bin, reference-spec section 1.5), each against
  ``binary_cross_entropy_with_logits`` on the same logits;
* ``softloc_loss`` (s_M = 20 frames, alpha 0.5) against the same BCE;
* the peak memory each adds (``torch.cuda.max_memory_allocated`` above what was allocated
  before), against the size of the logits.

Counts per row are drawn uniformly from 0..1 ("sparse") and 0..38 ("dense"); logits are
``N(-5, 2)``. Times are the median of ``--repeats`` timed calls after warm-up, each
synchronised (CUDA events on a GPU). Then steps per second of :func:`softloc.training.train` on
random data shaped as the piano experiment's (default and ``--preset paper`` networks) and the
golf experiment's, with SoftLoc, batches drawn on the loader thread.

Goals (issue 17): counting loss within 3x BCE at counts up to 38 and within 1.5x at counts up
to 1; ``softloc_loss`` within 5x BCE. The table has a column per goal (``ok`` / ``MISS``).
Results are printed and written as CSV and Markdown (``--out``, default results/benchmarks).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

import torch
import torch.nn.functional as F

from _tables import write_tables
from bench_losses import SCENARIOS, SOFTNESS, make_batch, reference_counting_loss
from softloc.losses import counting_loss, softloc_loss
from softloc.losses.poisson_binomial import _counting_nll_torch
from softloc.training import resolve_device, train

GOALS = {"sparse": 1.5, "dense": 3.0}
SOFTLOC_GOAL = 5.0


def methods(target: torch.Tensor, counts: torch.Tensor) -> dict:
    return {
        "bce": lambda x: F.binary_cross_entropy_with_logits(x, target),
        "counting": lambda x: counting_loss(x, target),
        "tree": lambda x: _counting_nll_torch(x, None, counts.to(x.dtype)).mean(),
        "softloc": lambda x: softloc_loss(x, target, softness=SOFTNESS, alpha=0.5),
        "reference": lambda x: reference_counting_loss(x, counts),
    }


class _Clock:
    """Wall time of a synchronised call on the device (CUDA events on a GPU)."""

    def __init__(self, device: torch.device) -> None:
        self.cuda = device.type == "cuda"

    def __call__(self, fn) -> float:
        if self.cuda:
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            torch.cuda.synchronize()
            start.record()
            fn()
            end.record()
            torch.cuda.synchronize()
            return start.elapsed_time(end)
        start = time.perf_counter()
        fn()
        return 1e3 * (time.perf_counter() - start)


def time_and_memory(fn, logits: torch.Tensor, clock: _Clock, repeats: int) -> tuple[float, float]:
    """Median ms of forward + backward over ``repeats`` calls (after one warm-up call), and the
    peak bytes the call added on a CUDA device (NaN elsewhere)."""

    def call() -> None:
        x = logits.clone().requires_grad_(True)
        fn(x).backward()

    call()
    times = [clock(call) for _ in range(repeats)]
    peak = float("nan")
    if clock.cuda:
        torch.cuda.synchronize()
        before = torch.cuda.memory_allocated()
        torch.cuda.reset_peak_memory_stats()
        call()
        torch.cuda.synchronize()
        peak = float(torch.cuda.max_memory_allocated() - before)
    return statistics.median(times), peak


def loss_rows(device: torch.device, lengths, sizes, repeats: int, reference_max_t: int) -> list:
    clock = _Clock(device)
    rows_out = []
    for length in lengths:
        for rows in sizes:
            for scenario in SCENARIOS:
                logits, target, counts = make_batch(rows, length, scenario, device=device)
                fns = methods(target, counts)
                row = {"T": length, "N": rows, "counts": f"0..{SCENARIOS[scenario]}"}
                for name, fn in fns.items():
                    if name == "reference" and length > reference_max_t:
                        row["reference_ms"], row["reference_MB"] = float("nan"), float("nan")
                        continue
                    ms, peak = time_and_memory(fn, logits, clock,
                                               1 if name == "reference" else repeats)
                    row[f"{name}_ms"], row[f"{name}_MB"] = ms, peak / 1e6
                row["logits_MB"] = rows * length * 4 / 1e6
                row["counting_vs_bce"] = row["counting_ms"] / row["bce_ms"]
                row["tree_vs_bce"] = row["tree_ms"] / row["bce_ms"]
                row["softloc_vs_bce"] = row["softloc_ms"] / row["bce_ms"]
                row["reference_vs_counting"] = row["reference_ms"] / row["counting_ms"]
                row["counting_goal"] = ("ok" if row["counting_vs_bce"] <= GOALS[scenario]
                                        else "MISS") + f" (<= {GOALS[scenario]:g}x)"
                row["softloc_goal"] = ("ok" if row["softloc_vs_bce"] <= SOFTLOC_GOAL
                                       else "MISS") + f" (<= {SOFTLOC_GOAL:g}x)"
                rows_out.append(row)
                print(f"T={length:>5} N={rows:>4} counts {row['counts']:>5}: BCE "
                      f"{row['bce_ms']:7.2f} ms | counting {row['counting_ms']:7.2f} ms "
                      f"(x{row['counting_vs_bce']:5.2f}, {row['counting_goal']}) | tree "
                      f"{row['tree_ms']:7.2f} ms (x{row['tree_vs_bce']:5.2f}) | softloc "
                      f"{row['softloc_ms']:7.2f} ms (x{row['softloc_vs_bce']:5.2f}, "
                      f"{row['softloc_goal']}) | reference {row['reference_ms']:8.1f} ms | "
                      f"peak counting {row['counting_MB']:.1f} MB, logits "
                      f"{row['logits_MB']:.1f} MB", flush=True)
    return rows_out


def _model_cases(smoke: bool) -> list[tuple]:
    """``(name, model factory, batches function, loss spec)`` of the training benchmarks."""
    from softloc.experiments import EXPERIMENTS
    from softloc.experiments.golf import _loss_spec as golf_loss_spec
    from softloc.experiments.music import _loss_spec as music_loss_spec
    from softloc.models import ConvRecurrentDetector, FrameRecurrentDetector

    cases = []
    for preset in ("release", "paper"):
        config = EXPERIMENTS["piano"].config(preset=preset)
        if smoke:
            config = replace(config, batch_size=2)
        frames, bands, batch = config.window_frames, config.mel.n_mels, config.batch_size

        def model(config=config, bands=bands):
            return ConvRecurrentDetector(bands, 88, bias_steps=config.window_frames,
                                         **config.model)

        def batches(step, generator, frames=frames, bands=bands, batch=batch):
            inputs = torch.randn(batch, bands, frames, generator=generator)
            targets = (torch.rand(batch, 88, frames, generator=generator) < 0.003).float()
            return inputs, targets

        cases.append((f"piano ({preset}: {sum(p.numel() for p in model().parameters()) / 1e6:.2f}"
                      f" M parameters, batch {batch} x {frames} frames x {bands} bands)",
                      model, batches, music_loss_spec("softloc", config)))
    golf = EXPERIMENTS["golf"].config()
    size, window, batch = golf.data.image_size, golf.window, 2 if smoke else golf.batch_size

    def golf_model():
        return FrameRecurrentDetector(8, golf.channels, golf.hidden, golf.bidirectional,
                                      bias_steps=golf.window)

    def golf_batches(step, generator):
        frames = torch.randint(0, 256, (batch, window, 3, *size), generator=generator,
                               dtype=torch.uint8)
        targets = torch.zeros(batch, 8, window)
        events = torch.randint(0, window, (batch, 8), generator=generator)
        targets.scatter_(2, events[:, :, None], 1.0)
        return frames, targets

    cases.append((f"golf (batch {batch} x {window} frames of {size[0]} x {size[1]} px)",
                  golf_model, golf_batches, golf_loss_spec("softloc", golf)))
    return cases


def training_rows(device: torch.device, steps: int, smoke: bool) -> list:
    rows_out = []
    for name, model, batches, spec in _model_cases(smoke):
        train(model(), spec, batches, steps=2, progress=False, device=device)  # warm-up
        if device.type == "cuda":
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
        result = train(model(), spec, batches, steps=steps, progress=False, device=device)
        peak = (torch.cuda.max_memory_allocated() / 1e6 if device.type == "cuda"
                else float("nan"))
        row = {"model": name, "steps": steps, "steps_per_s": steps / result.wall_time_s,
               "peak_MB": peak}
        rows_out.append(row)
        print(f"train {name}: {row['steps_per_s']:.2f} steps/s, peak {peak:.0f} MB", flush=True)
    return rows_out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device", default="cuda",
                        help="cuda (default), cuda:N, auto or cpu (cpu: a dry run of the script)")
    parser.add_argument("--smoke", action="store_true",
                        help="tiny sizes (T = 64, N = 8; 3 training steps): checks the script")
    parser.add_argument("--repeats", type=int, default=10, help="timed calls per method")
    parser.add_argument("--train-steps", type=int, default=30,
                        help="timed optimiser steps per model")
    parser.add_argument("--reference-max-t", type=int, default=2000,
                        help="skip the authors' per-step loop above this T (it runs T kernels "
                        "forward and T backward)")
    parser.add_argument("--out", type=Path, default=Path("results/benchmarks"),
                        help="folder for bench_gpu.{csv,md} and bench_gpu_training.{csv,md}")
    args = parser.parse_args(argv)
    try:
        device = resolve_device(args.device)
    except ValueError as error:
        print(f"bench_gpu: {error}", file=sys.stderr)
        return 2
    description = (torch.cuda.get_device_name(device) if device.type == "cuda"
                   else f"CPU, {torch.get_num_threads()} threads")
    try:
        import triton
        triton_version = triton.__version__
    except ImportError:
        triton_version = "not installed (counting_loss uses the tree product on CUDA)"
    print(f"torch {torch.__version__}, device {device} ({description}), triton {triton_version}",
          flush=True)
    started = time.perf_counter()
    lengths, sizes = ((64,), (8,)) if args.smoke else ((400, 2000, 10000), (256, 2816))
    losses = loss_rows(device, lengths, sizes, 2 if args.smoke else args.repeats,
                       args.reference_max_t)
    write_tables(losses, args.out, "bench_gpu")
    training = training_rows(device, 3 if args.smoke else args.train_steps, args.smoke)
    write_tables(training, args.out, "bench_gpu_training")
    print(f"done in {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
