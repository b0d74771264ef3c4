"""softloc.metrics.matching against brute force (scipy Hopcroft-Karp, O(n m) greedy) and mir_eval."""

from __future__ import annotations

import time

import mir_eval
import numpy as np
import pytest

from softloc.metrics import match_events, match_events_by_confidence
from softloc.metrics import matching as matching_module

from metric_references import (
    greedy_by_confidence,
    maximum_matching_size,
    random_case,
    window_hits,
)


def check_valid_matching(pairs, reference, estimated, tolerance, decimals=None):
    """One-to-one, inside the window, sorted by reference index and never crossing."""
    assert pairs.dtype == np.int64 and pairs.ndim == 2 and pairs.shape[1] == 2
    if len(pairs) == 0:
        return
    assert len(np.unique(pairs[:, 0])) == len(pairs)
    assert len(np.unique(pairs[:, 1])) == len(pairs)
    hits = window_hits(reference, estimated, tolerance, decimals)
    assert hits[pairs[:, 0], pairs[:, 1]].all()
    assert np.all(np.diff(pairs[:, 0]) > 0)


# ----------------------------------------------------------------------------------------------
# Maximum matching
# ----------------------------------------------------------------------------------------------


@pytest.fixture(params=["default", "arrays"])
def path(request, monkeypatch):
    """'arrays' forces the vectorised sweep even for the few events of these cases."""
    if request.param == "arrays":
        monkeypatch.setattr(matching_module, "_SMALL_INPUT", 0)
        monkeypatch.setattr(matching_module, "_SMALL", 0)
    return request.param


@pytest.mark.parametrize("seed", range(2))
def test_size_equals_hopcroft_karp_and_mir_eval_on_random_and_adversarial_cases(seed, path):
    rng = np.random.default_rng(seed)
    for _ in range(600):
        reference, estimated, tolerance = random_case(rng)
        pairs = match_events(reference, estimated, tolerance=tolerance)
        check_valid_matching(pairs, reference, estimated, tolerance)
        assert len(pairs) == maximum_matching_size(window_hits(reference, estimated, tolerance))
        assert len(pairs) == len(mir_eval.util.match_events(reference, estimated, tolerance))
        assert np.all(np.diff(pairs[:, 1]) > 0)  # the sweep's matching never crosses


@pytest.mark.parametrize("seed", range(2))
def test_rounded_rule_size_equals_brute_force_and_mir_eval_transcription(seed):
    rng = np.random.default_rng(100 + seed)
    for _ in range(500):
        reference, estimated, tolerance = random_case(rng)
        pairs = match_events(reference, estimated, tolerance=tolerance, decimals=4)
        check_valid_matching(pairs, reference, estimated, tolerance, decimals=4)
        assert len(pairs) == maximum_matching_size(window_hits(reference, estimated, tolerance, 4))
        onsets = mir_eval.transcription.match_note_onsets(
            np.stack([reference, reference + 1], 1).reshape(-1, 2),
            np.stack([estimated, estimated + 1], 1).reshape(-1, 2),
            onset_tolerance=tolerance,
        )
        assert len(pairs) == len(onsets)


def test_other_decimals_follow_numpy_around():
    rng = np.random.default_rng(7)
    for decimals in (0, 1, 2, 3, 6, 12):
        for _ in range(100):
            reference, estimated, tolerance = random_case(rng, max_events=15)
            pairs = match_events(reference, estimated, tolerance=tolerance, decimals=decimals)
            check_valid_matching(pairs, reference, estimated, tolerance, decimals)
            hits = window_hits(reference, estimated, tolerance, decimals)
            assert len(pairs) == maximum_matching_size(hits)


def test_pairs_exactly_at_the_tolerance_follow_mir_eval():
    # 0.1 + 0.05 rounds up to 0.15000000000000002: mir_eval.onset does not match it at 0.05 ...
    reference, estimated = np.array([0.1]), np.array([0.1 + 0.05])
    assert len(match_events(reference, estimated, tolerance=0.05)) == 0
    assert len(mir_eval.util.match_events(reference, estimated, 0.05)) == 0
    # ... mir_eval.transcription (distances rounded to 4 decimals) does.
    assert match_events(reference, estimated, tolerance=0.05, decimals=4).tolist() == [[0, 0]]
    # Exactly representable distances match under both rules, on both sides.
    reference = np.array([1.0, 2.0])
    estimated = np.array([0.75, 2.25])
    for decimals in (None, 4):
        assert len(match_events(reference, estimated, tolerance=0.25, decimals=decimals)) == 2
        assert len(match_events(reference, estimated, tolerance=0.25 - 2.0**-30,
                                decimals=decimals)) == 0


def test_rounded_rule_accepts_up_to_half_a_unit_of_the_last_decimal():
    reference = np.array([0.0])
    assert len(match_events(reference, [0.05004], tolerance=0.05, decimals=4)) == 1
    assert len(match_events(reference, [0.05006], tolerance=0.05, decimals=4)) == 0
    assert len(match_events(reference, [0.05004], tolerance=0.05)) == 0


def test_zero_tolerance_matches_equal_times_only():
    pairs = match_events([0.1, 0.2, 0.2, 0.3], [0.2, 0.2, 0.2, 0.30000000000000004], tolerance=0)
    assert pairs.tolist() == [[1, 0], [2, 1]]


def test_prefers_the_nearest_of_a_double_detection():
    # The earliest estimate in the window is -0.04, but no later reference needs either one.
    assert match_events([0.0], [-0.04, 0.0], tolerance=0.05).tolist() == [[0, 1]]
    assert match_events([1.0], [0.96, 0.99, 1.03], tolerance=0.05).tolist() == [[0, 1]]
    # When the next reference needs the nearer one, the size comes first.
    pairs = match_events([0.0, 0.06], [-0.04, 0.02], tolerance=0.05)
    assert pairs.tolist() == [[0, 0], [1, 1]]


def test_nearest_preference_keeps_the_matching_maximum_on_chains():
    # Chains where grabbing the nearest estimate greedily would lose a match.
    reference = np.array([0.0, 0.04, 0.08, 0.12])
    estimated = np.array([-0.03, 0.01, 0.05, 0.09, 0.16])
    pairs = match_events(reference, estimated, tolerance=0.05)
    assert len(pairs) == 4
    check_valid_matching(pairs, reference, estimated, 0.05)


def test_python_loop_vectorised_chains_and_array_paths_give_the_same_pairs(monkeypatch):
    rng = np.random.default_rng(3)
    cases = [random_case(rng, max_events=60) for _ in range(300)]
    dense = np.sort(rng.uniform(0, 2, 400)), np.sort(rng.uniform(0, 2, 400)), 0.05
    cases.append(dense)
    results = []
    # (events below which plain Python runs, references below which the sweep loops, chain cap)
    for small_input, small, steps in ((10**6, 32, 64), (0, 0, 0), (0, 0, 1), (0, 0, 64),
                                      (0, 0, 10**6), (0, 10**6, 64)):
        monkeypatch.setattr(matching_module, "_SMALL_INPUT", small_input)
        monkeypatch.setattr(matching_module, "_SMALL", small)
        monkeypatch.setattr(matching_module, "_VECTOR_STEPS", steps)
        results.append([match_events(r, e, tolerance=t).tolist() for r, e, t in cases])
    assert all(result == results[0] for result in results[1:])


def test_large_dense_input_is_not_quadratic():
    # 20,000 x 20,000 events all within the tolerance: 4e8 allowed pairs for a graph method.
    n = 20_000
    reference = np.sort(np.random.default_rng(0).uniform(0, 0.01, n))
    estimated = np.sort(np.random.default_rng(1).uniform(0, 0.01, n))
    start = time.perf_counter()
    pairs = match_events(reference, estimated, tolerance=0.05)
    elapsed = time.perf_counter() - start
    assert len(pairs) == n
    assert elapsed < 2.0


def test_empty_inputs_give_no_pairs():
    for reference, estimated in (([], []), ([1.0], []), ([], [1.0])):
        pairs = match_events(reference, estimated, tolerance=0.05)
        assert pairs.shape == (0, 2) and pairs.dtype == np.int64


def test_integer_frames_are_accepted():
    assert match_events(np.array([3, 10]), np.array([4, 12]), tolerance=1).tolist() == [[0, 0]]


# ----------------------------------------------------------------------------------------------
# Greedy by confidence
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("decimals", [None, 4])
def test_greedy_by_confidence_equals_the_quadratic_reference(decimals):
    rng = np.random.default_rng(11 if decimals is None else 12)
    for k in range(800):
        reference, estimated, tolerance = random_case(rng, max_events=20)
        if k % 2:
            confidence = rng.choice([0.1, 0.5, 0.9], estimated.size)  # many ties
        else:
            confidence = rng.random(estimated.size)
        pairs = match_events_by_confidence(reference, estimated, confidence, tolerance=tolerance,
                                           decimals=decimals)
        check_valid_matching(pairs, reference, estimated, tolerance, decimals)
        assert pairs.tolist() == greedy_by_confidence(reference, estimated, confidence, tolerance,
                                                      decimals)


def test_greedy_by_confidence_matches_above_a_threshold_ignore_the_rest():
    rng = np.random.default_rng(5)
    for _ in range(300):
        reference, estimated, tolerance = random_case(rng, max_events=20)
        confidence = rng.random(estimated.size)
        pairs = match_events_by_confidence(reference, estimated, confidence, tolerance=tolerance)
        threshold = rng.random()
        keep = np.flatnonzero(confidence >= threshold)
        sub = match_events_by_confidence(reference, estimated[keep], confidence[keep],
                                         tolerance=tolerance)
        above = {(i, j) for i, j in pairs.tolist() if confidence[j] >= threshold}
        assert {(i, int(keep[j])) for i, j in sub.tolist()} == above


def test_greedy_by_confidence_examples():
    # The most confident estimate takes its nearest reference, even if that loses a match.
    assert match_events_by_confidence([1.0, 1.07], [1.04, 1.10], [0.9, 0.2],
                                      tolerance=0.05).tolist() == [[1, 0]]
    assert len(match_events([1.0, 1.07], [1.04, 1.10], tolerance=0.05)) == 2
    # Ties in distance go to the earlier reference; equal times to the lower index.
    assert match_events_by_confidence([0.5, 1.5], [1.0], [1.0], tolerance=0.5).tolist() == [[0, 0]]
    assert match_events_by_confidence([1.0, 1.0], [1.0], [1.0], tolerance=0.0).tolist() == [[0, 0]]


# ----------------------------------------------------------------------------------------------
# Bad input
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "reference, estimated, tolerance, error, words",
    [
        ([0.2, 0.1], [0.1], 0.05, ValueError, "reference must be sorted"),
        ([0.1], [0.3, 0.2], 0.05, ValueError, "estimated must be sorted"),
        ([0.1, np.nan], [0.1], 0.05, ValueError, "reference must hold finite"),
        ([0.1], [np.inf], 0.05, ValueError, "estimated must hold finite"),
        ([[0.1]], [0.1], 0.05, ValueError, "reference must be a 1-D"),
        (["a"], [0.1], 0.05, TypeError, "reference must hold real numbers"),
        ([0.1], "0.1", 0.05, TypeError, "estimated must be an array"),
        ([True], [0.1], 0.05, TypeError, "reference must hold real numbers"),
        ([0.1], [0.1], -0.01, ValueError, "tolerance must be a finite number >= 0"),
        ([0.1], [0.1], float("nan"), ValueError, "tolerance"),
        ([0.1], [0.1], float("inf"), ValueError, "tolerance"),
        ([0.1], [0.1], "0.05", TypeError, "tolerance must be a real number"),
        ([0.1], [0.1], True, TypeError, "tolerance must be a real number"),
    ],
)
def test_bad_input_raises_naming_the_argument(reference, estimated, tolerance, error, words):
    with pytest.raises(error, match=words):
        match_events(reference, estimated, tolerance=tolerance)


def test_bad_decimals_and_confidence_raise():
    with pytest.raises(ValueError, match="decimals must lie in"):
        match_events([0.1], [0.1], tolerance=0.05, decimals=-1)
    with pytest.raises(TypeError, match="decimals must be None or an int"):
        match_events([0.1], [0.1], tolerance=0.05, decimals=4.0)
    with pytest.raises(ValueError, match="confidence must be a 1-D array with one score"):
        match_events_by_confidence([0.1], [0.1, 0.2], [0.5], tolerance=0.05)
    with pytest.raises(ValueError, match="confidence must hold finite"):
        match_events_by_confidence([0.1], [0.1], [np.nan], tolerance=0.05)
    with pytest.raises(TypeError, match="positional"):
        match_events([0.1], [0.1], 0.05)  # tolerance is keyword-only
