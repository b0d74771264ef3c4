"""The localization-learning experiment against theories computed here, independently."""

from __future__ import annotations

import csv
import math
from dataclasses import replace

import numpy as np
import pytest
import torch

from softloc.experiments import EXPERIMENTS
from softloc.experiments.localization import (
    LocalizationConfig,
    apply_filter,
    misalignment_pmf,
    run_localization_experiment,
)

# Fast settings: 300 Adam steps per loss (about 2 s in all on one core).
FAST = LocalizationConfig(steps=300, sll_softness=(0.5, 1.0))


def noise_on_offsets(config: LocalizationConfig) -> np.ndarray:
    """P(E = tau) for tau = -R..R from math.erf (or the two spikes of 'binary')."""
    offsets = np.arange(-config.radius, config.radius + 1)
    support = np.abs(offsets) <= config.max_shift
    if config.noise == "binary":
        return np.where(np.abs(offsets) == config.noise_scale, 0.5, 0.0)
    cdf = np.vectorize(lambda x: 0.5 * (1.0 + math.erf(x / (config.noise_scale * math.sqrt(2)))))
    pmf = cdf(offsets + 0.5) - cdf(offsets - 0.5)
    pmf = np.where(support, pmf, 0.0)
    return pmf / pmf.sum()


def smoothed_noise(config: LocalizationConfig, softness: float) -> np.ndarray:
    """(E * Phi)(tau) with Phi(k) ~ exp(-k^2 / 2 s^2), |k| <= ceil(4 s), summing to one."""
    radius = math.ceil(4 * softness)
    k = np.arange(-radius, radius + 1)
    kernel = np.exp(-0.5 * (k / softness) ** 2)
    kernel /= kernel.sum()
    offsets = np.arange(-config.radius, config.radius + 1)
    pmf = noise_on_offsets(config)
    return np.array(
        [sum(pmf[j] * kernel[tau - o + radius] for j, o in enumerate(offsets)
             if abs(tau - o) <= radius) for tau in offsets]
    )


@pytest.fixture(scope="module")
def fast_run(tmp_path_factory):
    out_dir = tmp_path_factory.mktemp("localization")
    return run_localization_experiment(FAST, seed=0, out_dir=out_dir, progress=False), out_dir


def by_label(result):
    return {outcome.label: outcome for outcome in result.outcomes}


def max_difference(learned, theory) -> float:
    return float(np.max(np.abs(np.asarray(learned) - np.asarray(theory))))


def test_runs_every_loss_once(fast_run):
    result, _ = fast_run
    assert list(by_label(result)) == [
        "CE", "LS|CE s=2", "SLL s=0.5", "SLL s=1", "SoftLoc s=2 a=0.5"
    ]
    assert result.offsets == tuple(range(-10, 11))
    for outcome in result.outcomes:
        assert len(outcome.learned) == len(outcome.theory) == 21
        assert all(0.0 <= p <= 1.0 for p in outcome.learned)


def test_ce_learns_the_noise_distribution(fast_run):
    """Eq. 4-5: p*(tau) = P(E = tau)."""
    result, _ = fast_run
    ce = by_label(result)["CE"]
    assert max_difference(ce.learned, noise_on_offsets(FAST)) <= FAST.tolerance
    assert ce.passed and ce.peak_offset == 0


def test_label_smoothing_learns_noise_convolved_with_phi(fast_run):
    """Eq. 8-9: p*(tau) = (E * Phi)(tau), more dispersed than E."""
    result, _ = fast_run
    outcome = by_label(result)["LS|CE s=2"]
    theory = smoothed_noise(FAST, FAST.label_smoothing_softness)
    assert max_difference(outcome.learned, theory) <= FAST.tolerance
    # Discriminative: the learned filter is clearly *not* P(E = tau).
    assert max_difference(outcome.learned, noise_on_offsets(FAST)) > 2 * FAST.tolerance
    assert outcome.mass_at_zero < noise_on_offsets(FAST)[FAST.radius] - 2 * FAST.tolerance


@pytest.mark.parametrize("label", ["SLL s=0.5", "SLL s=1"])
def test_soft_localization_learns_the_noise_whatever_phi(fast_run, label):
    """Eq. 12 with the identity E-filter: p*(tau) = P(E = tau) for every softness."""
    result, _ = fast_run
    outcome = by_label(result)[label]
    pmf = noise_on_offsets(FAST)
    assert max_difference(outcome.learned, pmf) <= FAST.tolerance
    # Unlike L_LS|CE with the same heavy smoothing, the filter is not dispersed by Phi.
    heavy = smoothed_noise(FAST, FAST.label_smoothing_softness)
    assert max_difference(outcome.learned, heavy) > 2 * FAST.tolerance
    assert sum(outcome.learned) == pytest.approx(1.0, abs=0.05)


def test_softloc_learns_a_spike_at_zero(fast_run):
    """Example after Eq. 19: a single spike at tau = 0 for a symmetric E."""
    result, _ = fast_run
    outcome = by_label(result)["SoftLoc s=2 a=0.5"]
    assert outcome.peak_offset == 0
    assert outcome.mass_at_zero >= 1.0 - FAST.tolerance
    elsewhere = outcome.learned[: FAST.radius] + outcome.learned[FAST.radius + 1 :]
    assert max(elsewhere) <= FAST.tolerance


def test_softloc_spike_sits_on_a_label_for_two_spike_noise_and_narrow_phi():
    """Not the paper's claim: E = +-2 is symmetric, yet with softness 1 frame (< 0.64 * 2) the
    spike with the smallest expected L_SLL is at a label position, and training finds it."""
    config = replace(FAST, steps=200, noise="binary", noise_scale=2, softloc_softness=1.0,
                     sll_softness=(0.5,))
    softloc = by_label(run_localization_experiment(config, progress=False))["SoftLoc s=1 a=0.5"]
    assert abs(softloc.peak_offset) == 2
    assert max(softloc.learned) >= 1.0 - config.tolerance
    assert not softloc.passed


def test_result_reports_distances_honestly(fast_run):
    result, _ = fast_run
    for outcome in result.outcomes:
        assert outcome.distance == pytest.approx(max_difference(outcome.learned, outcome.theory))
        assert outcome.passed == (outcome.distance <= outcome.tolerance)
    assert result.passed
    empirical, pmf = np.array(result.empirical_pmf), np.array(result.noise_pmf)
    assert empirical.sum() == pytest.approx(1.0)
    assert result.sampling_error == pytest.approx(np.abs(empirical - pmf).max())
    assert result.sampling_error < 0.01  # 100 000 draws


def test_too_few_steps_fail_the_check():
    """The check can fail: 10 steps leave CE far from P(E = tau)."""
    result = run_localization_experiment(replace(FAST, steps=10), progress=False)
    assert not result.passed
    assert not by_label(result)["CE"].passed


def test_seed_reproduces_exactly():
    config = replace(FAST, steps=20, num_sequences=500)
    first = run_localization_experiment(config, seed=3, progress=False)
    second = run_localization_experiment(config, seed=3, progress=False)
    other = run_localization_experiment(config, seed=4, progress=False)
    assert [o.learned for o in first.outcomes] == [o.learned for o in second.outcomes]
    assert first.empirical_pmf == second.empirical_pmf
    assert first.empirical_pmf != other.empirical_pmf
    assert [o.learned for o in first.outcomes] != [o.learned for o in other.outcomes]


def test_outputs_are_written(fast_run):
    result, out_dir = fast_run
    assert set(result.files) == {"png", "summary_csv", "filters_csv", "markdown"}
    assert sorted(p.name for p in out_dir.iterdir()) == [
        "filters.csv", "filters.png", "summary.csv", "summary.md"
    ]  # no temporary files left behind
    assert (out_dir / "filters.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with open(out_dir / "summary.csv", newline="", encoding="utf-8") as f:
        summary = list(csv.DictReader(f))
    assert [row["label"] for row in summary] == [o.label for o in result.outcomes]
    assert [float(row["distance"]) for row in summary] == [o.distance for o in result.outcomes]
    with open(out_dir / "filters.csv", newline="", encoding="utf-8") as f:
        filters = list(csv.DictReader(f))
    assert len(filters) == 21 * len(result.outcomes)
    assert {row["loss"] for row in filters} == {o.label for o in result.outcomes}
    markdown = (out_dir / "summary.md").read_text(encoding="utf-8")
    assert "| LS\\|CE s=2 |" in markdown and "Eq. 8-9" in markdown
    assert markdown.count("\n| ") == 1 + len(result.outcomes)


def test_to_dict_and_table(fast_run):
    result, _ = fast_run
    data = result.to_dict()
    assert data["config"]["steps"] == FAST.steps and data["seed"] == 0
    assert [o["label"] for o in data["outcomes"]] == [o.label for o in result.outcomes]
    assert data["outcomes"][0]["passed"] is True
    table = result.format_table()
    for outcome in result.outcomes:
        assert outcome.label in table and outcome.equation in table


def test_misalignment_pmf():
    assert misalignment_pmf("binary", 2, 3).tolist() == [0, 0.5, 0, 0, 0, 0.5, 0]
    normal = misalignment_pmf("normal", 1.5, 3)
    assert normal.dtype == torch.float64
    np.testing.assert_allclose(normal.numpy(), noise_on_offsets(FAST)[7:14], atol=1e-12)
    with pytest.raises(ValueError, match="noise"):
        misalignment_pmf("laplace", 1.5, 3)
    with pytest.raises(ValueError, match="noise_scale"):
        misalignment_pmf("binary", 1.5, 3)
    with pytest.raises(ValueError, match="noise_scale"):
        misalignment_pmf("binary", 4, 3)
    with pytest.raises(ValueError, match="noise_scale"):
        misalignment_pmf("normal", -1.0, 3)


def test_apply_filter_places_the_filter_at_each_impulse():
    inputs = torch.zeros(2, 9)
    inputs[0, 4] = 1.0
    inputs[1, 2] = 1.0
    logits = apply_filter(inputs, torch.tensor([1.0, 2.0, 3.0]), -7.0)
    expected = torch.full((2, 9), -7.0)
    expected[0, 3:6] = torch.tensor([1.0, 2.0, 3.0])
    expected[1, 1:4] = torch.tensor([1.0, 2.0, 3.0])
    assert torch.equal(logits, expected)


@pytest.mark.parametrize(
    ("changes", "error", "match"),
    [
        ({"radius": 40}, ValueError, "radius"),
        ({"max_shift": 11}, ValueError, "max_shift"),
        ({"noise": "uniform"}, ValueError, "noise"),
        ({"steps": 0}, ValueError, "steps"),
        ({"steps": 1.5}, TypeError, "steps"),
        ({"learning_rate": 0.0}, ValueError, "learning_rate"),
        ({"sll_softness": ()}, TypeError, "sll_softness"),
        ({"sll_softness": (1.0, -2.0)}, ValueError, "sll_softness"),
        ({"softloc_alpha": 1.5}, ValueError, "softloc_alpha"),
        ({"off_filter_logit": float("nan")}, ValueError, "off_filter_logit"),
        ({"tolerance": float("nan")}, ValueError, "tolerance"),
    ],
)
def test_config_rejects_bad_values(changes, error, match):
    with pytest.raises(error, match=match):
        LocalizationConfig(**changes)


def test_run_rejects_bad_arguments():
    with pytest.raises(TypeError, match="config"):
        run_localization_experiment({"steps": 10}, progress=False)
    with pytest.raises(ValueError, match="seed"):
        run_localization_experiment(FAST, seed=-1, progress=False)


def test_registry_lists_the_experiment():
    experiment = EXPERIMENTS["localization"]
    assert experiment.config_type is LocalizationConfig
    assert experiment.run is run_localization_experiment
