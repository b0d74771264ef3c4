"""The prepared GPU check (benchmarks/bench_gpu.py) runs: a dry run on the CPU at tiny sizes."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pytest
import torch

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_gpu.py"


def test_bench_gpu_dry_run_on_the_cpu(tmp_path):
    done = subprocess.run([sys.executable, str(SCRIPT), "--device", "cpu", "--smoke", "--out",
                           str(tmp_path)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    losses = list(csv.DictReader((tmp_path / "bench_gpu.csv").open()))
    assert [row["counts"] for row in losses] == ["0..1", "0..38"]
    for row in losses:
        for name in ("bce", "counting", "tree", "softloc", "reference"):
            assert float(row[f"{name}_ms"]) > 0
        assert row["counting_goal"].startswith(("ok", "MISS"))
    training = list(csv.DictReader((tmp_path / "bench_gpu_training.csv").open()))
    assert [row["model"].split(" ")[0] for row in training] == ["piano", "piano", "golf"]
    assert all(float(row["steps_per_s"]) > 0 for row in training)
    assert "paper: 0.55 M parameters" in training[1]["model"]


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_bench_gpu_says_why_it_cannot_run_without_cuda(tmp_path):
    done = subprocess.run([sys.executable, str(SCRIPT), "--out", str(tmp_path)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "needs CUDA" in done.stderr
    assert not list(tmp_path.iterdir())
