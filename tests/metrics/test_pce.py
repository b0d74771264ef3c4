"""softloc.metrics.pce against a port of GolfDB's ``util.correct_preds`` (one clip at a time)."""

from __future__ import annotations

import numpy as np
import pytest

from softloc.metrics import GOLF_EVENTS, golf_tolerance, percentage_of_correct_events


def golfdb_correct(predicted_frames, true_frames, tol=-1):
    """GolfDB util.correct_preds after the argmax: events = true frames of the 8 events."""
    events = np.asarray(true_frames)
    preds = np.asarray(predicted_frames)
    if tol == -1:
        tol = int(max(np.round((events[5] - events[0]) / 30), 1))
    deltas = np.abs(events - preds)
    return (deltas <= tol).astype(np.uint8), tol


def random_clips(rng, n):
    address = rng.integers(0, 40, n)
    gaps = rng.integers(1, 40, (n, 7))
    true = np.concatenate([address[:, None], address[:, None] + np.cumsum(gaps, axis=1)], axis=1)
    predicted = true + rng.integers(-6, 7, true.shape) * (rng.random(true.shape) < 0.6)
    return predicted, true


def test_equals_golfdb_clip_by_clip():
    rng = np.random.default_rng(0)
    predicted, true = random_clips(rng, 500)
    scores = percentage_of_correct_events(predicted, true)
    expected = [golfdb_correct(p, t) for p, t in zip(predicted, true)]
    correct = np.stack([c for c, _ in expected]).astype(bool)
    np.testing.assert_array_equal(scores.correct, correct)
    np.testing.assert_array_equal(scores.tolerance, [t for _, t in expected])
    assert scores.pce == pytest.approx(correct.mean())
    assert scores.per_event == pytest.approx(tuple(correct.mean(axis=0)))
    assert scores.n_clips == 500
    assert np.unique(scores.tolerance).size > 1  # the adaptive tolerance was exercised


def test_adaptive_tolerance_rounds_half_to_even_with_a_minimum_of_one_frame():
    true = np.zeros((5, 8))
    true[:, 5] = [75, 45, 105, 0, 14]  # / 30 = 2.5, 1.5, 3.5, 0, 0.47
    assert golf_tolerance(true).tolist() == [2.0, 2.0, 4.0, 1.0, 1.0]


def test_fixed_tolerance_and_single_clip():
    true = np.arange(8) * 10
    predicted = true + np.array([0, 1, 2, 3, 0, 0, 0, 0])
    assert percentage_of_correct_events(predicted, true, tolerance=0).pce == 5 / 8
    assert percentage_of_correct_events(predicted, true, tolerance=2).pce == 7 / 8
    result = percentage_of_correct_events(predicted, true).to_dict()
    assert list(result["per_event"]) == list(GOLF_EVENTS)
    assert result["tolerance"] == [2.0]


@pytest.mark.parametrize(
    "predicted, true, tolerance, error, words",
    [
        (np.zeros(7), np.zeros(7), None, ValueError, "true must have shape"),
        (np.zeros((2, 8)), np.zeros((3, 8)), None, ValueError, "predicted must have the shape of true"),
        (np.zeros((0, 8)), np.zeros((0, 8)), None, ValueError, "true must hold at least one clip"),
        (np.full(8, np.nan), np.zeros(8), None, ValueError, "predicted must hold finite"),
        (np.zeros(8), np.zeros(8), -1, ValueError, "tolerance must be a finite number >= 0"),
        (np.zeros(8), ["x"] * 8, None, TypeError, "true must hold real numbers"),
    ],
)
def test_bad_input_raises_naming_the_argument(predicted, true, tolerance, error, words):
    with pytest.raises(error, match=words):
        percentage_of_correct_events(predicted, true, tolerance=tolerance)
