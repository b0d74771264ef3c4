"""softloc.metrics.frame: zero-tolerance frame F1 against counting loops and the event F-measure."""

from __future__ import annotations

import numpy as np
import pytest

from softloc.metrics import event_f_measure, frame_f_measure


def loop_scores(reference, estimated, valid):
    tp = fp = fn = 0
    for r, e, v in zip(np.ravel(reference), np.ravel(estimated), np.ravel(valid)):
        if not v:
            continue
        tp += bool(r and e)
        fp += bool(e and not r)
        fn += bool(r and not e)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1, tp


def test_equals_counting_loops_with_and_without_mask():
    rng = np.random.default_rng(0)
    for _ in range(200):
        shape = tuple(int(s) for s in rng.integers(1, 6, int(rng.integers(1, 4))))
        density = rng.random()
        reference = rng.random(shape) < density
        estimated = rng.random(shape) < density
        mask = rng.random(shape) < 0.7
        for valid, kwargs in ((np.ones(shape, bool), {}), (mask, {"mask": mask})):
            scores = frame_f_measure(reference.astype(int), estimated, **kwargs)
            precision, recall, f1, tp = loop_scores(reference, estimated, valid)
            assert scores.precision == pytest.approx(precision)
            assert scores.recall == pytest.approx(recall)
            assert scores.f1 == pytest.approx(f1)
            assert scores.n_matched == tp and scores.n_frames == valid.sum()


def test_padding_counts_as_negative_without_mask_and_is_ignored_with_mask():
    # Puff protocol: sessions zero-padded; a prediction in the padding is a false positive.
    reference = np.array([[0, 1, 0, 0, 0, 0], [1, 0, 0, 0, 0, 0]])
    estimated = np.array([[0, 1, 0, 0, 1, 0], [1, 0, 0, 0, 0, 0]])
    valid = np.array([[1, 1, 1, 0, 0, 0], [1, 1, 1, 1, 0, 0]], dtype=bool)
    unmasked = frame_f_measure(reference, estimated)
    masked = frame_f_measure(reference, estimated, mask=valid)
    assert (unmasked.precision, unmasked.recall, unmasked.n_frames) == (2 / 3, 1.0, 12)
    assert (masked.precision, masked.recall, masked.n_frames) == (1.0, 1.0, 7)


def test_sequence_mask_broadcasts_over_classes():
    rng = np.random.default_rng(1)
    reference = rng.random((3, 4, 10)) < 0.3
    estimated = rng.random((3, 4, 10)) < 0.3
    mask = rng.random((3, 10)) < 0.6
    full = np.broadcast_to(mask[:, None, :], reference.shape)
    assert frame_f_measure(reference, estimated, mask=mask) == frame_f_measure(reference, estimated, mask=full)


def test_one_dimensional_frames_equal_the_event_f_measure_at_zero_tolerance():
    rng = np.random.default_rng(2)
    for _ in range(200):
        reference = rng.random(50) < rng.random()
        estimated = rng.random(50) < rng.random()
        frames = frame_f_measure(reference, estimated)
        events = event_f_measure(np.flatnonzero(reference), np.flatnonzero(estimated), tolerance=0)
        assert (frames.precision, frames.recall, frames.f1) == (events.precision, events.recall, events.f1)


def test_empty_positives_score_zero():
    scores = frame_f_measure(np.zeros(5), np.zeros(5))
    assert (scores.precision, scores.recall, scores.f1, scores.n_frames) == (0.0, 0.0, 0.0, 5)
    assert frame_f_measure([1, 0], [0, 0]).f1 == 0.0
    assert frame_f_measure([1, 0], [1, 0]).to_dict()["f1"] == 1.0


@pytest.mark.parametrize(
    "reference, estimated, mask, error, words",
    [
        ([0, 1], [0, 0.5], None, ValueError, "estimated must be binary"),
        ([0, 2], [0, 1], None, ValueError, "reference must be binary"),
        ([0, 1], [0, 1, 0], None, ValueError, "estimated must have the shape of reference"),
        ([0, 1], [0, 1], [1, 1], TypeError, "mask must be a bool array"),
        ([0, 1], [0, 1], np.ones(3, bool), ValueError, "mask must have shape"),
        (["a", "b"], [0, 1], None, TypeError, "reference must hold bool or 0/1"),
        (1, 1, None, ValueError, "reference must have at least one dimension"),
        ([0, np.nan], [0, 1], None, ValueError, "reference must be binary"),
    ],
)
def test_bad_input_raises_naming_the_argument(reference, estimated, mask, error, words):
    with pytest.raises(error, match=words):
        frame_f_measure(reference, estimated, mask=mask)
