"""Tests for softloc.training: loss registry, the training loop, determinism and checkpoints."""

from __future__ import annotations

import json
import math

import pytest
import torch
from torch import nn

from softloc.losses import (
    AlphaSchedule,
    bootstrap_loss,
    counting_loss,
    extended_target_loss,
    label_smoothing_ce_loss,
    label_smoothing_se_loss,
    no_event_softmax_ce_loss,
    soft_localization_loss,
    softloc_loss,
    stepwise_ce_loss,
)
from softloc.training import (
    CHECKPOINT_FORMAT,
    LOSS_NAMES,
    EvalRecord,
    LossRecord,
    LossSpec,
    TrainingResult,
    make_loss,
    sampled_batches,
    train,
)

SPECS = {
    "ce": LossSpec("ce"),
    "ls-ce": LossSpec("ls-ce", softness=1.5),
    "ls-se": LossSpec("ls-se", softness=1.5),
    "bootstrap": LossSpec("bootstrap"),
    "extended": LossSpec("extended", width=2),
    "sll": LossSpec("sll", softness=1.5),
    "pb": LossSpec("pb"),
    "softloc": LossSpec("softloc", softness=1.5, alpha=0.5),
    "softmax-ce": LossSpec("softmax-ce", class_weights=(1.0, 1.0, 0.25)),
}


class TinyDetector(nn.Module):
    """(N, F, T) features -> (N, C, T) logits."""

    def __init__(self, features: int = 2, classes: int = 2, hidden: int = 8,
                 dropout: float = 0.0) -> None:
        super().__init__()
        self.conv = nn.Conv1d(features, hidden, kernel_size=3, padding=1)
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Conv1d(hidden, classes, kernel_size=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.dropout(torch.relu(self.conv(x))))


def make_data(rows: int = 64, length: int = 32, classes: int = 2, seed: int = 0):
    """Easy problem: feature channel c is a noisy copy of the labels of class c."""
    generator = torch.Generator().manual_seed(seed)
    targets = torch.zeros(rows, classes, length)
    for i in range(rows):
        for c in range(classes):
            targets[i, c, torch.randperm(length - 8, generator=generator)[:2] + 4] = 1.0
    inputs = targets + 0.1 * torch.randn(rows, classes, length, generator=generator)
    return inputs, targets


def new_model(seed: int = 0, **kwargs) -> TinyDetector:
    torch.manual_seed(seed)
    return TinyDetector(**kwargs)


def model_for(name: str, seed: int = 0) -> TinyDetector:
    """A detector for the 2 classes of :func:`make_data`; 'softmax-ce' adds a no-event logit."""
    return new_model(seed, classes=3 if name == "softmax-ce" else 2)


def parameters_equal(a: nn.Module, b: nn.Module) -> bool:
    return all(torch.equal(p, q) for p, q in zip(a.state_dict().values(), b.state_dict().values()))


INPUTS, TARGETS = make_data()
BATCHES = sampled_batches(INPUTS, TARGETS, batch_size=16)


# ----------------------------------------------------------------------------------------------
# LossSpec and the registry
# ----------------------------------------------------------------------------------------------


def test_registry_names_cover_specs():
    assert set(LOSS_NAMES) == set(SPECS)


def test_unknown_name_lists_the_names():
    with pytest.raises(ValueError, match="unknown loss name 'focal'") as info:
        LossSpec("focal")
    for name in LOSS_NAMES:
        assert name in str(info.value)


@pytest.mark.parametrize("kwargs, message", [
    ({"name": "sll"}, "needs softness"),
    ({"name": "softloc", "softness": 2.0}, "needs alpha"),
    ({"name": "extended"}, "needs width"),
    ({"name": "ce", "beta": 0.9}, "does not take beta"),
    ({"name": "pb", "softness": 2.0}, "does not take softness"),
    ({"name": "sll", "softness": 2.0, "alpha": 0.5}, "does not take alpha"),
    ({"name": "ls-se", "softness": 2.0, "pos_weight": 2.0}, "does not take pos_weight"),
    ({"name": "sll", "softness": 0.0}, "softness"),
    ({"name": "sll", "softness": float("nan")}, "softness"),
    ({"name": "sll", "softness": (1.0, -1.0)}, "softness"),
    ({"name": "sll", "softness": ()}, "softness"),
    ({"name": "softloc", "softness": 2.0, "alpha": 1.5}, "alpha"),
    ({"name": "softloc", "softness": 2.0, "alpha": {"start": 0, "ramp": 3}}, "unknown keys"),
    ({"name": "softloc", "softness": 2.0, "alpha": {"low": 0.9, "high": 0.2}}, "low must be"),
    ({"name": "bootstrap", "beta": 1.5}, "beta"),
    ({"name": "extended", "width": 0}, "width"),
    ({"name": "ce", "pos_weight": -1.0}, "pos_weight"),
    ({"name": "ls-ce", "softness": 2.0, "kernel_norm": "l2"}, "kernel_norm"),
    ({"name": "ce", "reduction": "none"}, "reduction"),
    ({"name": "ce", "class_weights": (1.0, 2.0)}, "does not take class_weights"),
    ({"name": "softmax-ce", "pos_weight": 2.0}, "does not take pos_weight"),
    ({"name": "softmax-ce", "class_weights": 2.0}, "one weight per class"),
    ({"name": "softmax-ce", "class_weights": (2.0,)}, "one weight per class"),
    ({"name": "softmax-ce", "class_weights": (1.0, 0.0)}, "class_weights"),
    ({"name": "softmax-ce", "class_weights": (1.0, float("inf"))}, "class_weights"),
])
def test_bad_hyper_parameters_are_refused_at_construction(kwargs, message):
    with pytest.raises(ValueError, match=message):
        LossSpec(**kwargs)


def test_bad_hyper_parameter_types():
    with pytest.raises(TypeError, match="width"):
        LossSpec("extended", width=2.5)
    with pytest.raises(TypeError, match="softness"):
        LossSpec("sll", softness="wide")


def test_defaults_are_filled_and_round_trip():
    assert LossSpec("bootstrap") == LossSpec("bootstrap", beta=0.95)
    assert LossSpec("ls-ce", softness=2) == LossSpec("ls-ce", softness=2.0, kernel_norm="sum")
    spec = LossSpec("softloc", softness=[1.0, 2.0],
                    alpha={"start": 10, "length": 20, "low": 0.2, "high": 0.9})
    assert spec.softness == (1.0, 2.0)
    assert spec.alpha == AlphaSchedule(start=10, length=20, low=0.2, high=0.9)
    as_dict = spec.to_dict()
    assert json.loads(json.dumps(as_dict)) == as_dict
    assert LossSpec.from_dict(as_dict) == spec
    assert make_loss(as_dict).spec == spec
    assert make_loss("pb").spec == LossSpec("pb")
    with pytest.raises(ValueError, match="unknown keys"):
        LossSpec.from_dict({"name": "ce", "sigma": 2.0})
    with pytest.raises(ValueError, match="needs a name"):
        LossSpec.from_dict({"softness": 2.0})


def test_softmax_ce_spec_round_trips():
    assert LossSpec("softmax-ce").to_dict() == {"name": "softmax-ce", "reduction": "mean"}
    spec = LossSpec("softmax-ce", class_weights=torch.tensor([0.125, 0.125, 1 / 35]),
                    reduction="sum")
    assert spec.class_weights == pytest.approx((0.125, 0.125, 1 / 35))
    assert isinstance(spec.class_weights, tuple)
    as_dict = spec.to_dict()
    assert as_dict["class_weights"] == list(spec.class_weights)
    assert json.loads(json.dumps(as_dict)) == as_dict
    assert LossSpec.from_dict(as_dict) == spec
    assert make_loss(as_dict).spec == spec
    assert LossSpec("softmax-ce", class_weights=[1, 2]) == LossSpec("softmax-ce",
                                                                   class_weights=(1.0, 2.0))


def test_make_loss_matches_the_functionals():
    generator = torch.Generator().manual_seed(3)
    logits = torch.randn(3, 2, 40, generator=generator, dtype=torch.float64)
    targets = torch.zeros(3, 2, 40, dtype=torch.float64)
    targets[:, 0, 10] = targets[:, 1, 25] = 1.0
    mask = torch.ones(3, 40, dtype=torch.bool)
    mask[1, 30:] = False
    softness = torch.tensor([1.0, 2.5], dtype=torch.float64)
    pos_weight = torch.tensor([2.0, 3.0], dtype=torch.float64)
    cases = [
        (LossSpec("ce", pos_weight=(2.0, 3.0)),
         stepwise_ce_loss(logits, targets, mask=mask, pos_weight=pos_weight)),
        (LossSpec("ls-ce", softness=(1.0, 2.5), kernel_norm="max"),
         label_smoothing_ce_loss(logits, targets, softness=softness, mask=mask, kernel_norm="max")),
        (LossSpec("ls-se", softness=1.5),
         label_smoothing_se_loss(logits, targets, softness=1.5, mask=mask)),
        (LossSpec("bootstrap", beta=0.8), bootstrap_loss(logits, targets, beta=0.8, mask=mask)),
        (LossSpec("extended", width=3, reduction="sum"),
         extended_target_loss(logits, targets, width=3, mask=mask, reduction="sum")),
        (LossSpec("sll", softness=(1.0, 2.5)),
         soft_localization_loss(logits, targets, softness=softness, mask=mask)),
        (LossSpec("pb"), counting_loss(logits, targets, mask=mask)),
        (LossSpec("softloc", softness=2.0, alpha=0.3),
         softloc_loss(logits, targets, softness=2.0, alpha=0.3, mask=mask)),
    ]
    softmax_logits = torch.randn(3, 3, 40, generator=generator, dtype=torch.float64)
    cases.append((LossSpec("softmax-ce", class_weights=(1.0, 2.0, 0.5)),
                  no_event_softmax_ce_loss(softmax_logits, targets, mask=mask,
                                           class_weights=torch.tensor([1.0, 2.0, 0.5]))))
    assert {spec.name for spec, _ in cases} == set(LOSS_NAMES)
    for spec, expected in cases:
        got = make_loss(spec)(softmax_logits if spec.name == "softmax-ce" else logits, targets,
                              mask, 0)
        assert got.dim() == 0
        torch.testing.assert_close(got, expected, rtol=0, atol=0, msg=spec.name)


def test_softloc_alpha_is_driven_by_the_step():
    schedule = AlphaSchedule(start=2, length=4, low=0.1, high=0.9)
    loss = make_loss(LossSpec("softloc", softness=2.0, alpha=schedule))
    logits = torch.randn(2, 1, 30, generator=torch.Generator().manual_seed(0))
    targets = torch.zeros(2, 1, 30)
    targets[:, 0, 12] = 1.0
    values = []
    for step in (0, 3, 5, 100):
        expected = softloc_loss(logits, targets, softness=2.0, alpha=schedule(step))
        got = loss(logits, targets, None, step)
        assert torch.equal(got, expected)
        values.append(float(got))
    assert len(set(values)) == 4  # alpha really changes with the step

    result = train(new_model(), LossSpec("softloc", softness=2.0, alpha=schedule), BATCHES,
                   steps=8, log_every=1, learning_rate=0.01, progress=False)
    assert [r.alpha for r in result.loss_history] == [schedule(k) for k in range(8)]


# ----------------------------------------------------------------------------------------------
# Training
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", LOSS_NAMES)
def test_every_loss_trains(name):
    spec = SPECS[name]
    loss = make_loss(spec)
    held_out_inputs, held_out_targets = make_data(16, seed=1)
    model = model_for(name)
    with torch.no_grad():
        before = float(loss(model(held_out_inputs), held_out_targets))
    result = train(model, spec, BATCHES, steps=30, learning_rate=0.05, progress=False)
    with torch.no_grad():
        after = float(loss(model(held_out_inputs), held_out_targets))
    assert after < 0.5 * before, (name, before, after)
    assert result.final_step == 30
    assert [r.step for r in result.loss_history] == [10, 20, 30]
    assert result.loss_history[-1].loss < result.loss_history[0].loss


def test_softmax_ce_takes_one_more_logit_channel_than_targets():
    """Only 'softmax-ce' trains a head of C + 1 logits on C target channels; deterministically."""
    runs = [model_for("softmax-ce") for _ in range(2)]
    results = [train(model, SPECS["softmax-ce"], BATCHES, steps=6, seed=3, learning_rate=0.05,
                     log_every=2, progress=False) for model in runs]
    assert parameters_equal(*runs) and results[0].loss_history == results[1].loss_history
    assert results[0].loss_spec == SPECS["softmax-ce"]
    with pytest.raises(ValueError, match=r"target must have shape \(N, C, T\)"):
        train(model_for("ce"), SPECS["softmax-ce"], BATCHES, steps=1, progress=False)
    with pytest.raises(ValueError, match="target must have the shape of input"):
        train(model_for("softmax-ce"), SPECS["ce"], BATCHES, steps=1, progress=False)


def test_same_seed_gives_bit_identical_parameters():
    runs = []
    for index, seed in enumerate((5, 5, 6)):
        model = new_model(dropout=0.2)
        torch.manual_seed(1000 + index)  # the caller's global generator state does not matter
        result = train(model, SPECS["softloc"], BATCHES, steps=12, seed=seed,
                       learning_rate=0.02, progress=False)
        runs.append((model, result))
    (a, ra), (b, rb), (c, _) = runs
    assert parameters_equal(a, b)
    assert ra.loss_history == rb.loss_history
    assert not parameters_equal(a, c)  # the seed matters (batches and dropout)


def test_train_leaves_the_callers_generator_alone():
    model = new_model(dropout=0.5)
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    train(model, SPECS["ce"], BATCHES, steps=3, progress=False)
    assert torch.equal(torch.rand(3), expected)


def test_evaluation_does_not_change_the_trajectory():
    seen = []

    def evaluate(model, step):
        seen.append((step, model.training, torch.is_grad_enabled()))
        torch.rand(100)  # draws from the global generator
        return {"step_metric": step * 0.5, "count": torch.tensor(7)}

    plain, evaluated = new_model(dropout=0.3), new_model(dropout=0.3)
    train(plain, SPECS["sll"], BATCHES, steps=10, progress=False)
    result = train(evaluated, SPECS["sll"], BATCHES, steps=10, evaluate=evaluate, eval_every=4,
                   progress=False)
    assert parameters_equal(plain, evaluated)
    assert seen == [(4, False, False), (8, False, False), (10, False, False)]
    assert evaluated.training
    assert [r.step for r in result.eval_history] == [4, 8, 10]
    assert result.final_metrics == {"step_metric": 5.0, "count": 7.0}


def test_mask_is_passed_to_the_loss():
    inputs, targets = make_data(32, seed=2)
    mask = torch.ones(32, 32, dtype=torch.bool)
    mask[::2, 24:] = False  # every other sequence is padded after step 24
    garbage = targets.clone()
    garbage[:, :, 24:][~mask[:, None, 24:].expand(-1, 2, -1)] = 1.0  # events in the padding
    for name in LOSS_NAMES:
        results = []
        for labels, use_mask in ((targets, True), (garbage, True), (garbage, False)):
            model = model_for(name)
            batches = sampled_batches(inputs, labels, mask if use_mask else None, batch_size=8)
            train(model, SPECS[name], batches, steps=5, learning_rate=0.05, progress=False)
            results.append(model)
        clean, masked_garbage, unmasked_garbage = results
        # Padded steps change nothing when the mask reaches the loss ...
        assert parameters_equal(clean, masked_garbage), name
        # ... and they would if it did not.
        assert not parameters_equal(clean, unmasked_garbage), name


def _norm(tensors) -> float:
    return math.sqrt(sum(float(t.pow(2).sum()) for t in tensors))


@pytest.mark.parametrize("clip", [None, 0.5])
def test_gradient_clipping_bounds_the_global_norm(clip):
    seen = []

    def optimizer(parameters):
        built = torch.optim.SGD(parameters, lr=0.1)
        built.register_step_pre_hook(
            lambda opt, args, kwargs: seen.append(
                _norm(p.grad for group in opt.param_groups for p in group["params"])))
        return built

    result = train(new_model(), LossSpec("ce", pos_weight=20.0), BATCHES, steps=6,
                   optimizer=optimizer, gradient_clip=clip, log_every=1, progress=False)
    before_clipping = [r.grad_norm for r in result.loss_history]
    assert len(seen) == 6 and min(before_clipping) > 5.0  # large gradients: clipping matters
    if clip is None:
        assert seen == pytest.approx(before_clipping, rel=1e-5)
    else:
        assert max(seen) <= clip * (1 + 1e-5)
        assert seen == pytest.approx([clip] * 6, rel=1e-4)


def test_learning_rate_schedules():
    result = train(new_model(), SPECS["ce"], BATCHES, steps=10, learning_rate=0.1,
                   lr_schedule="cosine", warmup_steps=2, log_every=1, progress=False)
    rates = [r.learning_rate for r in result.loss_history]
    assert rates[:2] == pytest.approx([0.05, 0.1])
    expected = [0.1 * 0.5 * (1 + math.cos(math.pi * (k - 2) / 8)) for k in range(2, 10)]
    assert rates[2:] == pytest.approx(expected)
    constant = train(new_model(), SPECS["ce"], BATCHES, steps=3, learning_rate=0.1,
                     log_every=1, progress=False)
    assert [r.learning_rate for r in constant.loss_history] == [0.1] * 3


def test_partial_windows_and_result_to_dict():
    result = train(new_model(), SPECS["pb"], BATCHES, steps=7, log_every=3,
                   evaluate=lambda model, step: {"x": 1.0}, progress=False)
    assert [(r.step, r.window) for r in result.loss_history] == [(3, 3), (6, 3), (7, 1)]
    assert [r.step for r in result.eval_history] == [7]  # no eval_every: the final step only
    assert isinstance(result, TrainingResult)
    assert isinstance(result.loss_history[0], LossRecord)
    assert isinstance(result.eval_history[0], EvalRecord)
    as_dict = result.to_dict()
    assert json.loads(json.dumps(as_dict)) == as_dict
    assert as_dict["loss_spec"] == {"name": "pb", "reduction": "mean"}
    assert as_dict["final_step"] == 7 and result.final_loss == result.loss_history[-1].loss
    assert result.wall_time_s > 0 and result.resumed_from_step is None


def test_non_finite_loss_stops_the_run():
    class Exploding(nn.Module):
        def __init__(self):
            super().__init__()
            self.scale = nn.Parameter(torch.tensor(1e37))

        def forward(self, x):
            return x * self.scale

    with pytest.raises(FloatingPointError, match="loss is inf at step 0"):
        train(Exploding(), SPECS["ce"], BATCHES, steps=2, progress=False)


# ----------------------------------------------------------------------------------------------
# Checkpoints and resuming
# ----------------------------------------------------------------------------------------------


def _run(model, path=None, *, steps=14, evaluate=None, resume=False, **kwargs):
    if evaluate is None:
        evaluate = lambda model, step: {"bias": float(model.head.bias.sum())}  # noqa: E731
    return train(model, SPECS["softloc"], BATCHES, steps=steps, learning_rate=0.02, seed=3,
                 gradient_clip=1.0, evaluate=evaluate, eval_every=5, log_every=3,
                 checkpoint_path=path, checkpoint_every=None if path is None else 4,
                 resume=resume, progress=False, **kwargs)


def test_interrupted_and_resumed_run_is_bit_identical(tmp_path):
    reference_model = new_model(dropout=0.3)
    reference = _run(reference_model)

    path = tmp_path / "run" / "checkpoint.pt"

    def interrupt_at_step_10(model, step):
        if step == 10:
            raise KeyboardInterrupt
        return {"bias": float(model.head.bias.sum())}

    with pytest.raises(KeyboardInterrupt):
        _run(new_model(dropout=0.3), path, evaluate=interrupt_at_step_10)
    assert path.is_file()
    assert [p.name for p in path.parent.iterdir()] == ["checkpoint.pt"]  # no temporary files

    resumed_model = new_model(seed=99, dropout=0.3)  # other initial weights: all come from disk
    resumed = _run(resumed_model, path, resume=True)
    assert resumed.resumed_from_step == 8
    assert parameters_equal(resumed_model, reference_model)
    assert resumed.loss_history == reference.loss_history
    assert resumed.eval_history == reference.eval_history
    assert [r.step for r in resumed.loss_history] == [3, 6, 9, 12, 14]

    # A finished run resumes to its result without running a step.
    calls = []

    def counting_batches(step, generator):
        calls.append(step)
        return BATCHES(step, generator)

    again_model = new_model(seed=7, dropout=0.3)
    again = train(again_model, SPECS["softloc"], counting_batches, steps=14,
                  learning_rate=0.02, seed=3, gradient_clip=1.0,
                  evaluate=lambda model, step: {"unused": 0.0}, eval_every=5, log_every=3,
                  checkpoint_path=path, resume=True, progress=False)
    assert calls == [] and again.resumed_from_step == 14
    assert parameters_equal(again_model, reference_model)
    assert again.loss_history == reference.loss_history
    assert again.eval_history == reference.eval_history


def test_extending_a_finished_run_matches_a_longer_run(tmp_path):
    longer = new_model()
    reference = train(longer, SPECS["sll"], BATCHES, steps=10, log_every=3, seed=1,
                      evaluate=lambda m, s: {"s": float(s)}, eval_every=4, progress=False)
    path = tmp_path / "checkpoint.pt"
    first = train(new_model(), SPECS["sll"], BATCHES, steps=7, log_every=3, seed=1,
                  evaluate=lambda m, s: {"s": float(s)}, eval_every=4, checkpoint_path=path,
                  progress=False)
    assert [r.step for r in first.eval_history] == [4, 7]
    extended_model = new_model()
    extended = train(extended_model, SPECS["sll"], BATCHES, steps=10, log_every=3, seed=1,
                     evaluate=lambda m, s: {"s": float(s)}, eval_every=4,
                     checkpoint_path=path, resume=True, progress=False)
    assert parameters_equal(extended_model, longer)
    assert extended.loss_history == reference.loss_history
    assert extended.eval_history == reference.eval_history


def test_resume_without_a_checkpoint_starts_afresh(tmp_path):
    path = tmp_path / "absent.pt"
    a, b = new_model(), new_model()
    fresh = train(a, SPECS["ce"], BATCHES, steps=4, checkpoint_path=path, resume=True,
                  progress=False)
    train(b, SPECS["ce"], BATCHES, steps=4, progress=False)
    assert fresh.resumed_from_step is None and path.is_file()
    assert parameters_equal(a, b)


def test_mismatched_checkpoints_refuse_to_load(tmp_path):
    path = tmp_path / "checkpoint.pt"
    train(new_model(), SPECS["ce"], BATCHES, steps=4, checkpoint_path=path, progress=False)
    common = dict(steps=6, checkpoint_path=path, resume=True, progress=False)
    with pytest.raises(ValueError, match="loss spec"):
        train(new_model(), SPECS["sll"], BATCHES, **common)
    with pytest.raises(ValueError, match=r"'conv.weight' has shape \(8, 2, 3\).*\(5, 2, 3\)"):
        train(new_model(hidden=5), SPECS["ce"], BATCHES, **common)
    with pytest.raises(ValueError, match="learning_rate is 0.001 in the checkpoint"):
        train(new_model(), SPECS["ce"], BATCHES, learning_rate=0.01, **common)
    with pytest.raises(ValueError, match="seed"):
        train(new_model(), SPECS["ce"], BATCHES, seed=1, **common)
    with pytest.raises(ValueError, match="beyond steps=3"):
        train(new_model(), SPECS["ce"], BATCHES, **{**common, "steps": 3})
    with pytest.raises(FileExistsError, match="resume=True"):
        train(new_model(), SPECS["ce"], BATCHES, steps=4, checkpoint_path=path, progress=False)
    other = tmp_path / "other.pt"
    torch.save({"weights": torch.zeros(2)}, other)
    with pytest.raises(ValueError, match=CHECKPOINT_FORMAT):
        train(new_model(), SPECS["ce"], BATCHES, **{**common, "checkpoint_path": other})
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="cannot be read"):
        train(new_model(), SPECS["ce"], BATCHES, **{**common, "checkpoint_path": garbage})


# ----------------------------------------------------------------------------------------------
# Options and batches
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kwargs, error, message", [
    ({"steps": 0}, ValueError, "steps"),
    ({"steps": 2.5}, TypeError, "steps"),
    ({"learning_rate": 0.0}, ValueError, "learning_rate"),
    ({"gradient_clip": -1.0}, ValueError, "gradient_clip"),
    ({"optimizer": "rmsprop"}, ValueError, "adam, adamw, sgd"),
    ({"optimizer_options": {"lr": 0.1}}, ValueError, "learning_rate"),
    ({"lr_schedule": "step"}, ValueError, "lr_schedule"),
    ({"seed": -1}, ValueError, "seed"),
    ({"log_every": 0}, ValueError, "log_every"),
    ({"eval_every": 5}, ValueError, "evaluate"),
    ({"checkpoint_every": 5}, ValueError, "checkpoint_path"),
    ({"resume": True}, ValueError, "checkpoint_path"),
    ({"evaluate": "accuracy"}, TypeError, "evaluate"),
    ({"prefetch": -1}, ValueError, "prefetch"),
    ({"device": "tpu"}, ValueError, "device must be"),
    ({"device": 0}, TypeError, "device"),
])
def test_bad_options_are_refused_before_anything_runs(kwargs, error, message):
    calls = []

    def batches(step, generator):
        calls.append(step)
        return BATCHES(step, generator)

    model = new_model()
    state = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(error, match=message):
        train(model, SPECS["ce"], batches, **{"steps": 3, "progress": False, **kwargs})
    assert calls == []
    assert all(torch.equal(state[k], v) for k, v in model.state_dict().items())


def test_bad_callables_are_reported():
    with pytest.raises(TypeError, match="batches"):
        train(new_model(), SPECS["ce"], [INPUTS, TARGETS], steps=1, progress=False)
    with pytest.raises(TypeError, match="must return"):
        train(new_model(), SPECS["ce"], lambda step, generator: INPUTS, steps=1, progress=False)
    with pytest.raises(TypeError, match="dict of metrics"):
        train(new_model(), SPECS["ce"], BATCHES, steps=1, evaluate=lambda m, s: 0.5,
              progress=False)
    with pytest.raises(TypeError, match="loss_spec"):
        train(new_model(), 3, BATCHES, steps=1, progress=False)
    with pytest.raises(ValueError, match="target must have the shape"):
        train(new_model(classes=3), SPECS["ce"], BATCHES, steps=1, progress=False)


@pytest.mark.parametrize("prefetch", [1, 3])
def test_prefetched_batches_give_the_same_run(prefetch):
    reference_model = new_model(dropout=0.2)
    reference = train(reference_model, SPECS["softloc"], BATCHES, steps=9, seed=4,
                      learning_rate=0.02, progress=False, prefetch=0)
    threads = set()

    def batches(step, generator):
        import threading
        threads.add(threading.current_thread().name)
        return BATCHES(step, generator)

    model = new_model(dropout=0.2)
    result = train(model, SPECS["softloc"], batches, steps=9, seed=4, learning_rate=0.02,
                   progress=False, prefetch=prefetch)
    assert parameters_equal(model, reference_model)
    assert result.loss_history == reference.loss_history
    assert len(threads) == 1 and next(iter(threads)).startswith("softloc-batches")


def test_prefetched_run_resumes_bit_identically(tmp_path):
    reference_model = new_model()
    _run(reference_model, prefetch=2)
    path = tmp_path / "checkpoint.pt"

    def interrupt_at_step_10(model, step):
        if step == 10:
            raise KeyboardInterrupt
        return {"bias": float(model.head.bias.sum())}

    with pytest.raises(KeyboardInterrupt):
        _run(new_model(), path, evaluate=interrupt_at_step_10, prefetch=2)
    model = new_model()
    _run(model, path, resume=True, prefetch=2)
    assert parameters_equal(model, reference_model)


def test_an_error_in_a_prefetched_batch_comes_out_at_its_step():
    steps = []

    def batches(step, generator):
        if step == 4:
            raise RuntimeError("corrupt file at step 4")
        return BATCHES(step, generator)

    def evaluate(model, step):
        steps.append(step)
        return {}

    with pytest.raises(RuntimeError, match="corrupt file at step 4"):
        train(new_model(), SPECS["ce"], batches, steps=8, progress=False, prefetch=2,
              evaluate=evaluate, eval_every=1)
    assert steps == [1, 2, 3, 4]  # the steps before it ran and were evaluated


def test_devices_are_resolved():
    from softloc.training import resolve_device

    model = new_model()
    train(model, SPECS["ce"], BATCHES, steps=2, progress=False, device="auto")
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert next(model.parameters()).device.type == expected
    assert resolve_device(torch.device("cpu")) == torch.device("cpu")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="needs CUDA"):
            resolve_device("cuda:0")
        model = new_model()
        with pytest.raises(ValueError, match="needs CUDA"):
            train(model, SPECS["ce"], BATCHES, steps=1, progress=False, device="cuda")


def test_sampled_batches():
    mask = torch.ones(64, 32, dtype=torch.bool)
    batches = sampled_batches(INPUTS, TARGETS, mask, batch_size=8, replacement=False)
    inputs, targets, batch_mask = batches(0, torch.Generator().manual_seed(4))
    assert inputs.shape == targets.shape == (8, 2, 32) and batch_mask.shape == (8, 32)
    again = batches(0, torch.Generator().manual_seed(4))[0]
    other = batches(0, torch.Generator().manual_seed(5))[0]
    assert torch.equal(inputs, again) and not torch.equal(inputs, other)
    rows = {tuple(row.flatten().tolist()) for row in targets}
    assert len(rows) == 8  # without replacement: distinct rows (all rows differ here)
    with pytest.raises(ValueError, match="batch_size"):
        sampled_batches(INPUTS, TARGETS, batch_size=65, replacement=False)
    with pytest.raises(ValueError, match="batch_size"):
        sampled_batches(INPUTS, TARGETS, batch_size=0)
    with pytest.raises(ValueError, match="one row per input"):
        sampled_batches(INPUTS, TARGETS[:10], batch_size=4)
    with pytest.raises(ValueError, match="mask must have shape"):
        sampled_batches(INPUTS, TARGETS, mask[:, :10], batch_size=4)
    with pytest.raises(TypeError, match="mask"):
        sampled_batches(INPUTS, TARGETS, mask.float(), batch_size=4)
