"""The wearable-sensor sweep experiment (softloc.experiments.sensor) and its CLI."""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pytest
import torch

from softloc.cli import main
from softloc.data.sensor import SensorConfig
from softloc.experiments import EXPERIMENTS
from softloc.experiments import sensor as exp
from softloc.losses import counting_loss, soft_localization_loss, softloc_loss

TINY_DATA = SensorConfig(num_subjects=3, sessions_per_subject=2, session_length=(100, 150))
TINY = exp.SensorExperimentConfig(data=TINY_DATA, iterations=30, batch_size=8)
PARAMS = {"loss": "softloc", "noise_level": 2, "distribution": "normal", "seed": 0, "fold": 1}
ROW_KEYS = {
    "f1", "precision", "recall", "decode_rule", "threshold", "oracle_f1", "oracle_threshold",
    "predicted_events", "true_events", "count_ratio", "ambiguous_share", "f1_shift_m2",
    "f1_shift_m1", "f1_shift_p0", "f1_shift_p1", "f1_shift_p2", "best_shift", "train_events",
    "noisy_train_events", "labels_moved", "labels_merged", "labels_clipped",
    "held_out_subject", "test_steps", "iterations", "learning_rate", "alpha", "final_loss",
    "device",
}


# --------------------------------------------------------------------------- alpha derivation


def test_authors_alpha_value():
    assert exp.AUTHORS_PUFF_ALPHA == pytest.approx(0.95 / 80.95, rel=1e-12)
    assert exp.AUTHORS_PUFF_ALPHA == pytest.approx(0.011736, abs=5e-7)
    alpha = exp.AUTHORS_PUFF_ALPHA
    assert (1 - alpha) / alpha == pytest.approx(0.05 * 32 / (0.95 / 50))  # SLL:PB = 84.2:1
    assert exp.SensorExperimentConfig().alpha == alpha


def test_authors_alpha_reproduces_the_authors_puff_loss():
    """0.05 sum_b SLL + 0.95 mean_b(PB) / 50 is a constant times our softloc_loss at alpha."""
    torch.manual_seed(0)
    batch, steps = 32, 50
    target = torch.zeros(batch, 1, steps)
    for b in range(batch):
        target[b, 0, torch.randperm(steps)[: b % 4]] = 1.0
    logits = (torch.randn(batch, 1, steps) - 3.0).double().requires_grad_()
    sll = soft_localization_loss(logits, target, softness=3.0, reduction="none")
    pb = counting_loss(logits, target, reduction="none")
    authors = 0.05 * sll.sum() + 0.95 * pb.mean() / 50
    alpha = exp.authors_puff_alpha(batch_size=batch, count_bins=50)
    ours = softloc_loss(logits, target, softness=3.0, alpha=alpha)
    scale = 0.05 * batch / (1 - alpha)
    assert authors.item() == pytest.approx(scale * ours.item(), rel=1e-10)
    grad_authors, = torch.autograd.grad(authors, logits)
    grad_ours, = torch.autograd.grad(ours, logits)
    assert torch.allclose(grad_authors, scale * grad_ours, rtol=1e-9, atol=1e-15)
    # another alpha breaks the proportionality
    other = softloc_loss(logits, target, softness=3.0, alpha=0.5)
    assert authors.item() != pytest.approx(0.05 * batch / 0.5 * other.item(), rel=1e-3)


# --------------------------------------------------------------------------- run_one


@pytest.fixture(scope="module")
def row():
    return exp.run_one(PARAMS, TINY)


def test_run_one_returns_a_complete_row(row):
    assert set(row) == ROW_KEYS
    for key in ("f1", "precision", "recall", "oracle_f1", "ambiguous_share", "f1_shift_p0"):
        assert 0.0 <= row[key] <= 1.0
    assert row["oracle_f1"] >= row["f1"] - 1e-12  # the oracle's family contains the fixed rule
    assert row["f1_shift_p0"] == row["f1"]
    assert row["decode_rule"] == "p > 0.2" and row["threshold"] == 0.2
    assert row["alpha"] == exp.AUTHORS_PUFF_ALPHA and row["iterations"] == 30
    assert row["held_out_subject"] == 1 and row["true_events"] > 0
    assert row["labels_moved"] > 0 and row["labels_clipped"] >= 0
    assert row["noisy_train_events"] == row["train_events"] - row["labels_merged"]
    assert math.isfinite(row["final_loss"])
    json.dumps(row)


def test_run_one_is_reproducible(row):
    assert exp.run_one(dict(PARAMS), TINY) == row


def test_run_one_seed_and_loss_change_the_row(row):
    assert exp.run_one({**PARAMS, "seed": 1}, TINY) != row
    ce = exp.run_one({**PARAMS, "loss": "ce"}, TINY)
    assert ce["decode_rule"] == "p > 0.5" and ce["alpha"] is None
    # the same noise draw for every loss of a (seed, fold, distribution, level)
    assert ce["labels_moved"] == row["labels_moved"]
    assert ce["noisy_train_events"] == row["noisy_train_events"]


def test_ls_decodes_with_peak_picking():
    result = exp.run_one({**PARAMS, "loss": "ls-se", "noise_level": 0}, TINY)
    assert result["decode_rule"].startswith("peaks")
    assert result["threshold"] == pytest.approx(0.3 * 0.13298, rel=1e-3)
    assert result["labels_moved"] == 0 and result["learning_rate"] == 2e-4


@pytest.mark.parametrize(
    ("params", "message"),
    [({"loss": "bce"}, "unknown loss 'bce'"),
     ({"noise_level": -1}, ">= 0"),
     ({"noise_level": float("nan")}, ">= 0"),
     ({"distribution": "laplace"}, "unknown noise distribution"),
     ({"fold": 3}, "held-out subject"),
     ({"seed": -1}, "seed")],
)
def test_run_one_refuses_bad_params(params, message):
    with pytest.raises(ValueError, match=message):
        exp.run_one({**PARAMS, **params}, TINY)


@pytest.mark.parametrize(
    "changes",
    [{"alpha": 1.5}, {"iterations": 0}, {"softness": 0.0}, {"dropout": 1.0},
     {"no_event_probability": 1.0}, {"data": SensorConfig(num_subjects=1)}],
)
def test_config_refuses_bad_values(changes):
    with pytest.raises(ValueError):
        exp.SensorExperimentConfig(**changes)


def test_config_round_trips_through_its_dict():
    config = exp.SensorExperimentConfig(data=TINY_DATA, alpha=0.3)
    assert exp.SensorExperimentConfig(**config.to_dict()) == config
    json.dumps(config.to_dict())


# --------------------------------------------------------------------------- pieces


def test_noise_distributions():
    assert exp.noise_distribution("normal", 2).sigma == 2.0
    assert exp.noise_distribution("binary", 3).std == 3.0
    skew = exp.noise_distribution("skew", 1)
    assert skew.mean == pytest.approx(-0.7136, abs=1e-4)  # the authors' uncentred variant


def test_misalignment_is_per_session_clipped_and_merged():
    data = exp._dataset(TINY_DATA, 0).split([0]).train
    noisy, info = exp._misalign(data, exp.noise_distribution("binary", 4), 7)
    for clean, moved in zip(data.sessions, noisy.sessions):
        assert moved.labels.shape == clean.labels.shape and moved.labels.max() <= 1
        assert moved.labels.sum() <= clean.labels.sum()
    assert info["labels_moved"] == info["train_events"]  # every binary shift moves the label
    assert info["noisy_train_events"] == info["train_events"] - info["labels_merged"]
    same, info0 = exp._misalign(data, exp.noise_distribution("normal", 0), 7)
    assert info0["labels_moved"] == 0
    assert all(np.array_equal(a.labels, b.labels) for a, b in zip(same.sessions, data.sessions))


def test_oracle_matches_a_brute_force_threshold_search():
    rng = np.random.default_rng(0)
    probs = rng.random((3, 40))
    truth = rng.random((3, 40)) < 0.2
    mask = np.ones_like(truth)
    best, threshold = exp._oracle(probs, truth, mask)
    brute = max(2 * (truth & (probs >= t)).sum() / ((probs >= t).sum() + truth.sum())
                for t in np.unique(probs))
    assert best == pytest.approx(brute)
    pred = probs >= threshold
    assert 2 * (truth & pred).sum() / (pred.sum() + truth.sum()) == pytest.approx(best)


def test_peak_candidates_are_local_maxima():
    probs = np.array([[0.1, 0.5, 0.2, 0.3, 0.3, 0.0, 0.6]])
    mask = np.array([[True] * 6 + [False]])
    cand = exp._candidates(probs, mask, "ls-se")
    assert cand.tolist() == [[False, True, False, True, True, False, False]]
    assert exp._candidates(probs, mask, "ce").tolist() == mask.tolist()


def test_lag_profile_finds_a_late_detector():
    truth = np.zeros((1, 20), dtype=bool)
    truth[0, [3, 9, 15]] = True
    late = np.roll(truth, 1, axis=1)
    mask = np.ones_like(truth)
    assert exp._shifted_f1(late, truth, mask, 0) == 0.0
    assert exp._shifted_f1(late, truth, mask, -1) == 1.0
    assert exp._shifted_f1(late, truth, mask, 1) == 0.0


# --------------------------------------------------------------------------- CLI


@pytest.fixture
def tiny_sensor(monkeypatch):
    """'sensor' with a test-only tiny quick sweep: 2 losses x 2 levels x 1 fold = 4 runs."""
    tiny = dataclasses.replace(
        exp.SENSOR_EXPERIMENT, quick_config=TINY,
        quick_axes={"loss": ("ce", "softloc"), "noise_level": (0, 2),
                    "distribution": ("normal",), "seed": (0,), "fold": (0,)})
    monkeypatch.setitem(EXPERIMENTS, "sensor", tiny)
    return tiny


def test_bench_sensor_end_to_end(tmp_path, capsys, tiny_sensor):
    argv = ["bench", "sensor", "--quick", "--out", str(tmp_path), "--workers", "1", "--quiet"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "sensor: 4 runs" in out and "4 runs now, 0 resumed" in out
    assert "sensor: f1, mean (std) over seed x fold; distribution = normal" in out
    rows = [json.loads(line) for line in (tmp_path / "results.jsonl").read_text().splitlines()]
    assert len(rows) == 4 and all(set(r["result"]) >= ROW_KEYS for r in rows)
    for name in ("summary.csv", "summary.md", "scores.png"):
        assert (tmp_path / name).stat().st_size > 0


def test_demo_runs_the_quick_sensor_sweep_with_diagnostics(tmp_path, capsys, tiny_sensor):
    argv = ["demo", "--out", str(tmp_path), "--workers", "1", "--quiet"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "sensor: f1, mean (std)" in out
    assert "sensor: oracle_f1, mean (std)" in out and "sensor: count_ratio" in out
    assert "predicted / true events" in out
    for name in ("summary.csv", "summary.md", "scores.png", "diagnostics.md"):
        assert f"wrote {tmp_path / name}" in out
    assert "oracle_f1" in (tmp_path / "diagnostics.md").read_text()
    assert main(argv) == 0  # runs already there are reused
    assert "0 runs now, 4 resumed" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [(["bench", "sensor", "--losses", "bce"], "unknown 'bce'"),
     (["bench", "sensor", "--noise-levels", "-1"], ">= 0"),
     (["bench", "sensor", "--noise-levels", "0.5"], "whole noise levels"),
     (["bench", "sensor", "--distributions", "laplace"], "valid choices: normal, binary, skew")],
)
def test_bad_sensor_options_are_refused_before_anything_runs(argv, message, tmp_path,
                                                             monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []
