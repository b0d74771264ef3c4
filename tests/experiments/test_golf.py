"""The golf-swing sweep experiment (softloc.experiments.golf) and its CLI."""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pytest
import torch

from softloc.cli import main
from softloc.data.golf import GOLF_EVENTS, GolfConfig
from softloc.experiments import EXPERIMENTS
from softloc.experiments import golf as exp
from softloc.losses import AlphaSchedule, counting_loss, soft_localization_loss, softloc_loss
from softloc.training import LossSpec, make_loss

TINY_DATA = GolfConfig(num_clips=8, image_size=(16, 16), motion_blur_subframes=1,
                       slow_motion_share=0.0, pre_address=(0.1, 0.2), hold=(0.1, 0.2))
TINY = exp.GolfExperimentConfig(data=TINY_DATA, iterations=4, window=16, batch_size=2,
                                channels=(4, 8), hidden=6)
PARAMS = {"loss": "softloc", "noise_level": 2, "distribution": "normal", "seed": 0, "fold": 1}
ROW_KEYS = ({"pce", "pce_exact", "mean_abs_error", "median_abs_error", "mean_tolerance",
             "test_clips", "train_clips", "train_events", "labels_moved", "labels_clipped",
             "iterations", "learning_rate", "alpha", "final_loss", "device"}
            | {f"pce_{name}" for name in GOLF_EVENTS})


# --------------------------------------------------------------------------- losses


def test_ce_trains_swingnets_weighted_softmax_loss():
    """'ce' is SwingNet's CrossEntropyLoss(weight=[1/8] * 8 + [1/35]) up to the batch's total
    weight of frames (the softmax-ce loss averages per-crop sums over the crops)."""
    spec = exp._loss_spec("ce", TINY)
    assert spec == LossSpec("softmax-ce", class_weights=exp.SWINGNET_CLASS_WEIGHTS)
    torch.manual_seed(0)
    logits = torch.randn(3, 9, 20, dtype=torch.float64)
    target = torch.zeros(3, 8, 20, dtype=torch.float64)
    classes = torch.full((3, 20), exp.NO_EVENT_CLASS)
    for n in range(3):
        frames = torch.randperm(20)[:8]
        target[n, torch.arange(8), frames] = 1
        classes[n, frames] = torch.arange(8)
    weight = torch.tensor(exp.SWINGNET_CLASS_WEIGHTS, dtype=torch.float64)
    swingnet = torch.nn.CrossEntropyLoss(weight=weight)(logits, classes)
    ours = make_loss(spec)(logits, target)
    assert float(ours * 3) == pytest.approx(float(swingnet * weight[classes].sum()), rel=1e-12)
    assert exp._loss_spec("softloc", TINY).alpha == exp.golf_alpha_schedule(
        TINY.iterations, TINY.alpha, TINY.alpha_ramp)
    assert exp._loss_spec("ls-se", TINY) == LossSpec("ls-se", softness=TINY.softness)


# --------------------------------------------------------------------------- alpha


def test_authors_alpha_reproduces_the_authors_golf_loss():
    """L_A = s sqrt(2 pi) / B sum SLL + 0.005 sum PB is a constant times softloc_loss(alpha)."""
    torch.manual_seed(1)
    batch, steps, softness = 22, 64, 5.0
    target = torch.zeros(batch, 8, steps)
    for b in range(batch):
        target[b, torch.arange(8), torch.randint(0, steps, (8,))] = float(b % 3 > 0)
    logits = (torch.randn(batch, 8, steps) - 3.0).double().requires_grad_()
    sll = soft_localization_loss(logits, target, softness=softness, reduction="none")
    pb = counting_loss(logits, target, reduction="none")
    scale_sll = softness * math.sqrt(2 * math.pi)
    authors = scale_sll / batch * sll.sum() + 0.005 * pb.sum()
    alpha = exp.AUTHORS_GOLF_ALPHA
    assert alpha == pytest.approx(0.0087006, abs=1e-6)
    ours = softloc_loss(logits, target, softness=softness, alpha=alpha)
    scale = 8 * scale_sll / (1 - alpha)
    assert authors.item() == pytest.approx(scale * ours.item(), rel=1e-10)
    grad_authors, = torch.autograd.grad(authors, logits)
    grad_ours, = torch.autograd.grad(ours, logits)
    assert torch.allclose(grad_authors, scale * grad_ours, rtol=1e-9, atol=1e-15)


def test_alpha_schedule_follows_the_authors_ramp():
    schedule = exp.golf_alpha_schedule(10_000, exp.AUTHORS_GOLF_ALPHA)
    assert isinstance(schedule, AlphaSchedule)
    assert schedule(0) == schedule(7000) == 0.0
    assert schedule(8000) == pytest.approx(exp.AUTHORS_GOLF_ALPHA / 2)
    assert schedule(9000) == pytest.approx(exp.AUTHORS_GOLF_ALPHA, rel=1e-12)
    assert schedule(9999) == exp.AUTHORS_GOLF_ALPHA
    assert exp.golf_alpha_schedule(100, 0.3, None) == 0.3
    assert exp.golf_alpha_schedule(100, 0.0) == 0.0
    with pytest.raises(ValueError, match="alpha_ramp"):
        exp.golf_alpha_schedule(100, 0.3, (0.9, 0.7))


# --------------------------------------------------------------------------- pieces


def test_crop_batches():
    clips = [torch.arange(30, dtype=torch.uint8).view(30, 1, 1, 1).expand(30, 3, 8, 8),
             torch.arange(10, dtype=torch.uint8).view(10, 1, 1, 1).expand(10, 3, 8, 8)]
    events = np.array([np.arange(2, 26, 3), np.arange(1, 9)])
    batches = exp.crop_batches(clips, events, window=12, batch_size=16)
    frames, targets, mask = batches(0, torch.Generator().manual_seed(3))
    assert frames.shape == (16, 12, 3, 8, 8) and frames.dtype == torch.uint8
    assert targets.shape == (16, 8, 12) and mask.shape == (16, 12)
    for f, y, m in zip(frames, targets, mask):
        first = int(f[0, 0, 0, 0])
        long_clip = bool(m.all())
        if long_clip:  # consecutive frames of clip 0, its events where they fall
            assert f[:, 0, 0, 0].tolist() == list(range(first, first + 12))
            for k in range(8):
                inside = first <= events[0, k] < first + 12
                assert y[k].sum() == float(inside)
                if inside:
                    assert y[k, events[0, k] - first] == 1
        else:  # clip 1 (10 frames) padded with its last frame, padding masked
            assert first == 0 and m.tolist() == [True] * 10 + [False] * 2
            assert f[10:, 0, 0, 0].tolist() == [9, 9]
            assert y.sum() == 8 and y[:, 10:].sum() == 0
    again = batches(0, torch.Generator().manual_seed(3))
    assert all(torch.equal(a, b) for a, b in zip((frames, targets, mask), again))
    with pytest.raises(ValueError, match="inside their clips"):
        exp.crop_batches(clips, events + 5, window=12, batch_size=2)
    with pytest.raises(ValueError, match=r"\(N, 8\)"):
        exp.crop_batches(clips, events[:, :7], window=12, batch_size=2)


def test_misalignment_is_drawn_once_and_clipped():
    clips = exp._dataset(TINY_DATA, 0).clips[:4]
    clean, info0 = exp._misalign(list(clips), 0.0, 5)
    assert np.array_equal(clean, np.stack([c.events for c in clips]))
    assert info0 == {"train_events": 32, "labels_moved": 0, "labels_clipped": 0}
    noisy, info = exp._misalign(list(clips), 30.0, 5)
    again, _ = exp._misalign(list(clips), 30.0, 5)
    assert np.array_equal(noisy, again) and info["labels_moved"] > 0
    assert info["labels_clipped"] > 0  # sigma 30 pushes events past the ends: clipped
    for clip, events in zip(clips, noisy):
        assert events.min() >= 0 and events.max() < len(clip.frames)


# --------------------------------------------------------------------------- run_one


@pytest.fixture(scope="module")
def row():
    return exp.run_one(PARAMS, TINY)


def test_run_one_returns_a_complete_row(row):
    assert set(row) == ROW_KEYS
    for key in ["pce", "pce_exact"] + [f"pce_{name}" for name in GOLF_EVENTS]:
        assert 0.0 <= row[key] <= 1.0
    assert row["pce_exact"] <= row["pce"]
    assert row["pce"] == pytest.approx(np.mean([row[f"pce_{n}"] for n in GOLF_EVENTS]))
    assert row["test_clips"] == 2 and row["train_clips"] == 6 and row["train_events"] == 48
    assert row["mean_abs_error"] >= 0 and row["mean_tolerance"] >= 1
    assert row["alpha"] == exp.AUTHORS_GOLF_ALPHA and row["iterations"] == 4
    assert row["learning_rate"] == 1e-3 and math.isfinite(row["final_loss"])
    json.dumps(row)


def test_run_one_is_reproducible(row):
    assert exp.run_one(dict(PARAMS), TINY) == row


def test_losses_share_the_noise_and_ce_uses_swingnets_head(row):
    ce = exp.run_one({**PARAMS, "loss": "ce"}, TINY)
    assert set(ce) == ROW_KEYS and ce["alpha"] is None
    assert ce["labels_moved"] == row["labels_moved"] > 0
    assert ce["labels_clipped"] == row["labels_clipped"]
    assert ce["final_loss"] != row["final_loss"]
    assert exp.run_one({**PARAMS, "seed": 1}, TINY)["final_loss"] != row["final_loss"]


def test_run_one_is_train_then_evaluate(row):
    trained = exp.train_golf_model(TINY, loss="softloc", noise_level=2, seed=0, fold=1)
    assert isinstance(trained, exp.TrainedGolfModel) and not trained.softmax
    assert trained.image_size == (16, 16) and not trained.model.training
    assert trained.model.num_classes == 8 and trained.info["loss"] == "softloc"
    assert trained.info["fold"] == 1 and trained.info["noise_level"] == 2.0
    assert trained.info["parameters"] == sum(p.numel() for p in trained.model.parameters())
    clips = exp.held_out_clips(TINY, 1)
    assert len(clips) == row["test_clips"]
    evaluated = exp.evaluate_golf_model(trained, clips)
    assert evaluated == {k: v for k, v in row.items() if k in evaluated}
    assert {k: row[k] for k in set(row) - set(evaluated)} == {
        k: trained.info[k] for k in set(row) - set(evaluated)}
    ce = exp.train_golf_model(TINY, loss="ce", fold=1)
    assert ce.softmax and ce.model.num_classes == 9


def test_interrupted_training_resumes_from_its_checkpoint(tmp_path, monkeypatch):
    plain = exp.train_golf_model(TINY, loss="ls-se", fold=2)
    state = tmp_path / "run.train-state"
    crop_batches = exp.crop_batches

    def steps_from(first, stop=None):
        """crop_batches whose batch function refuses steps before ``first`` and is interrupted
        at ``stop``."""
        def factory(*args, **kwargs):
            batches = crop_batches(*args, **kwargs)

            def checked(step, generator):
                assert step >= first, f"step {step} trained again after the resume"
                if step == stop:
                    raise KeyboardInterrupt
                return batches(step, generator)
            return checked
        return factory

    monkeypatch.setattr(exp, "crop_batches", steps_from(0, stop=2))
    with pytest.raises(KeyboardInterrupt):
        exp.train_golf_model(TINY, loss="ls-se", fold=2, checkpoint_path=state)
    assert state.exists()
    monkeypatch.setattr(exp, "crop_batches", steps_from(2))
    resumed = exp.train_golf_model(TINY, loss="ls-se", fold=2, checkpoint_path=state)
    assert resumed.info == plain.info
    for a, b in zip(plain.model.state_dict().values(), resumed.model.state_dict().values()):
        assert torch.equal(a, b)


def test_evaluate_golf_model_refuses_other_frames():
    trained = exp.train_golf_model(TINY, loss="ce", fold=0)
    clips = exp.held_out_clips(TINY, 0)
    bigger = dataclasses.replace(clips[0], frames=np.repeat(clips[0].frames, 2, axis=1))
    with pytest.raises(ValueError, match=r"image_size \(16, 16\)"):
        exp.evaluate_golf_model(trained, [bigger])
    with pytest.raises(ValueError, match="at least one clip"):
        exp.evaluate_golf_model(trained, [])


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [({"loss": "bce"}, ValueError, "losses are ce, ls-ce, ls-se, softloc"),
     ({"noise_level": -1}, ValueError, ">= 0"),
     ({"seed": -1}, ValueError, "seed"),
     ({"fold": 4}, ValueError, "test fold in 0..3"),
     ({"config": "tiny"}, TypeError, "GolfExperimentConfig")],
)
def test_train_golf_model_refuses_bad_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        exp.train_golf_model(**{"config": TINY, "loss": "ce", **kwargs})
    with pytest.raises(ValueError, match="test fold"):
        exp.held_out_clips(TINY, -1)


@pytest.mark.parametrize(
    ("params", "error", "message"),
    [({"loss": "bce"}, ValueError, "unknown loss 'bce'"),
     ({"noise_level": -1}, ValueError, ">= 0"),
     ({"noise_level": float("nan")}, ValueError, ">= 0"),
     ({"noise_level": "2"}, TypeError, "noise_level"),
     ({"distribution": "binary"}, ValueError, "unknown noise distribution"),
     ({"fold": 4}, ValueError, "test fold in 0..3"),
     ({"seed": -1}, ValueError, "seed")],
)
def test_run_one_refuses_bad_params(params, error, message):
    with pytest.raises(error, match=message):
        exp.run_one({**PARAMS, **params}, TINY)
    with pytest.raises(ValueError, match="params miss"):
        exp.run_one({"loss": "ce"}, TINY)


@pytest.mark.parametrize(
    "changes",
    [{"alpha": 1.5}, {"iterations": 0}, {"softness": 0.0}, {"window": 1},
     {"learning_rate": 0.0},
     {"channels": ()}, {"alpha_ramp": (0.5, 0.5)}, {"no_event_probability": 1.0},
     {"data": GolfConfig(num_clips=8, num_folds=2)},
     {"data": GolfConfig(image_size=(16, 16)), "channels": (4, 8, 8, 8)}],  # too small
)
def test_config_refuses_bad_values(changes):
    with pytest.raises(ValueError):
        exp.GolfExperimentConfig(**changes)


def test_config_round_trips_through_its_dict():
    for config in (TINY, exp.QUICK_CONFIG, exp.GolfExperimentConfig(alpha_ramp=None)):
        data = json.loads(json.dumps(config.to_dict()))
        assert exp.GolfExperimentConfig(**data) == config


# --------------------------------------------------------------------------- CLI


@pytest.fixture
def tiny_golf(monkeypatch):
    """'golf' with a test-only tiny quick sweep: 2 losses x 2 levels x 1 fold = 4 runs."""
    tiny = dataclasses.replace(
        exp.GOLF_EXPERIMENT, quick_config=TINY,
        quick_axes={"loss": ("ce", "softloc"), "noise_level": (0, 2),
                    "distribution": ("normal",), "seed": (0,), "fold": (0,)})
    monkeypatch.setitem(EXPERIMENTS, "golf", tiny)
    return tiny


def test_golf_is_registered():
    experiment = EXPERIMENTS["golf"]
    assert experiment is exp.GOLF_EXPERIMENT and experiment.score == "pce"
    assert experiment.axes["fold"] == (0, 1, 2, 3) and experiment.axes["loss"] == exp.LOSSES
    assert len(exp.QUICK_CONFIG.data.image_size) == 2


def test_bench_golf_end_to_end(tmp_path, capsys, tiny_golf):
    argv = ["bench", "golf", "--quick", "--out", str(tmp_path), "--workers", "1", "--quiet"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "golf: 4 runs" in out and "4 runs now, 0 resumed" in out
    assert "golf: pce, mean (std) over seed x fold; distribution = normal" in out
    rows = [json.loads(line) for line in (tmp_path / "results.jsonl").read_text().splitlines()]
    assert len(rows) == 4 and all(set(r["result"]) >= ROW_KEYS for r in rows)
    for name in ("summary.csv", "summary.md", "scores.png"):
        assert (tmp_path / name).stat().st_size > 0
