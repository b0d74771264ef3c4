"""softloc.metrics.average_precision against a threshold-by-threshold brute force.

The reference re-matches the detections kept at every threshold from scratch (O(n m) greedy),
so it does not rely on the prefix property the implementation uses, and computes the
interpolated areas with explicit loops.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from softloc.metrics import average_precision, mean_average_precision

from metric_references import greedy_by_confidence, random_event_list


def brute_points(files, tolerance, thresholds):
    """[(recall, precision)] per threshold, thresholds in decreasing order, empty keeps skipped."""
    n_reference = sum(len(reference) for reference, _, _ in files)
    if thresholds is None:
        thresholds = sorted({float(s) for _, _, scores in files for s in scores}, reverse=True)
    else:
        thresholds = sorted(thresholds, reverse=True)
    points = []
    for threshold in thresholds:
        kept = hits = 0
        for reference, estimated, scores in files:
            keep = np.flatnonzero(np.asarray(scores) >= threshold)
            kept += keep.size
            hits += len(greedy_by_confidence(reference, estimated[keep], scores[keep], tolerance))
        if kept:
            points.append((hits / n_reference, hits / kept))
    return points


def brute_area(points, interpolation):
    if interpolation == "11-point":
        total = 0.0
        for j in range(11):
            level = j / 10
            values = [p for r, p in points if r >= level]
            total += max(values) if values else 0.0
        return total / 11
    area, previous = 0.0, 0.0
    for k, (recall, _) in enumerate(points):
        envelope = max(p for r, p in points[k:])
        area += (recall - previous) * envelope
        previous = recall
    return area


def random_detections(rng, reference, tolerance, ties):
    keep = reference[rng.random(reference.size) < 0.7]
    shifted = keep + rng.choice([0.0, tolerance, -0.5 * tolerance, 2 * tolerance], keep.size)
    estimated = np.sort(np.abs(np.concatenate([shifted, rng.uniform(0, 1, int(rng.integers(0, 4)))])))
    scores = rng.choice([0.2, 0.5, 0.8], estimated.size) if ties else rng.random(estimated.size)
    return estimated, scores


@pytest.mark.parametrize("interpolation", ["all-point", "11-point"])
@pytest.mark.parametrize("use_thresholds", [False, True])
def test_single_class_ap_equals_brute_force(interpolation, use_thresholds):
    rng = np.random.default_rng(0 if use_thresholds else 1)
    for k in range(150):
        tolerance = float(rng.choice([0.05, 0.1, 0.0]))
        reference = random_event_list(rng, 1, max_events=8)[0]
        estimated, scores = random_detections(rng, reference, tolerance, ties=k % 2 == 0)
        thresholds = np.linspace(0, 1, 21) if use_thresholds else None
        got = average_precision(reference, estimated, scores, tolerance=tolerance,
                                thresholds=thresholds, interpolation=interpolation)
        if reference.size == 0:
            assert math.isnan(got)
            continue
        expected = brute_area(brute_points([(reference, estimated, scores)], tolerance, thresholds),
                              interpolation)
        assert got == pytest.approx(expected, abs=1e-12)


def test_corpus_map_pools_files_per_class_and_averages_over_tolerances():
    rng = np.random.default_rng(2)
    for _ in range(25):
        files, classes = int(rng.integers(1, 4)), int(rng.integers(1, 4))
        tolerances = [0.05, 0.1]
        reference = [random_event_list(rng, classes, max_events=6) for _ in range(files)]
        detections = [[random_detections(rng, r, 0.05, ties=False) for r in rf] for rf in reference]
        estimated = [[d[0] for d in df] for df in detections]
        confidence = [[d[1] for d in df] for df in detections]
        result = mean_average_precision(reference, estimated, confidence, tolerances=tolerances)
        assert result.per_class.shape == (2, classes)
        for t, tolerance in enumerate(tolerances):
            for c in range(classes):
                pooled = [(reference[f][c], estimated[f][c], confidence[f][c]) for f in range(files)]
                if sum(len(r) for r, _, _ in pooled) == 0:
                    assert math.isnan(result.per_class[t, c])
                    continue
                expected = brute_area(brute_points(pooled, tolerance, None), "all-point")
                assert result.per_class[t, c] == pytest.approx(expected, abs=1e-12)
            row = result.per_class[t]
            if np.isnan(row).all():
                assert math.isnan(result.per_tolerance[t])
            else:
                assert result.per_tolerance[t] == pytest.approx(np.nanmean(row))
        assert result.mean == pytest.approx(np.mean(result.per_tolerance), nan_ok=True)


def test_known_values():
    # Perfect detections: AP 1 under both interpolations, any thresholds.
    reference = np.array([1.0, 2.0, 3.0])
    for interpolation in ("all-point", "11-point"):
        assert average_precision(reference, reference, [0.9, 0.8, 0.7], tolerance=0.0,
                                 interpolation=interpolation) == 1.0
    # TP, FP, TP: all-point = 1/2 * 1 + 1/2 * 2/3; 11-point = (6 * 1 + 5 * 2/3) / 11.
    args = ([1.0, 2.0], [1.0, 1.5, 2.0], [0.9, 0.8, 0.3])
    assert average_precision(*args, tolerance=0.05) == pytest.approx(0.5 + 1 / 3)
    assert average_precision(*args, tolerance=0.05, interpolation="11-point") == pytest.approx(
        (6 + 5 * 2 / 3) / 11)
    # A class with references but no detections scores 0; without references NaN.
    assert average_precision([1.0], [], [], tolerance=0.05) == 0.0
    assert math.isnan(average_precision([], [1.0], [0.5], tolerance=0.05))
    result = mean_average_precision([[[1.0], []]], [[[1.0], [2.0]]], [[[0.5], [0.5]]], tolerances=0.05)
    assert result.per_class.tolist()[0][0] == 1.0 and math.isnan(result.per_class[0, 1])
    assert result.per_tolerance.tolist() == [1.0] and result.mean == 1.0
    assert result.to_dict()["tolerances"] == [0.05]


@pytest.mark.parametrize(
    "kwargs, error, words",
    [
        ({"thresholds": [0.5, 1.5]}, ValueError, r"thresholds must lie in \[0, 1\]"),
        ({"thresholds": [-0.1]}, ValueError, r"thresholds must lie in \[0, 1\]"),
        ({"thresholds": [np.nan]}, ValueError, r"thresholds must lie in \[0, 1\]"),
        ({"thresholds": []}, ValueError, "thresholds must be a non-empty 1-D array"),
        ({"thresholds": "0.5"}, TypeError, "thresholds must be an array"),
        ({"interpolation": "101-point"}, ValueError, "interpolation must be one of"),
        ({"tolerance": -1.0}, ValueError, "tolerance must be a finite number >= 0"),
    ],
)
def test_bad_arguments_raise_naming_them(kwargs, error, words):
    arguments = {"tolerance": 0.05, **kwargs}
    with pytest.raises(error, match=words):
        average_precision([1.0], [1.0], [0.5], **arguments)


def test_bad_corpus_layout_raises():
    with pytest.raises(ValueError, match=r"confidence\[0\]\[0\] must be a 1-D array with one score"):
        mean_average_precision([[[1.0]]], [[[1.0, 2.0]]], [[[0.5]]], tolerances=[0.05])
    with pytest.raises(ValueError, match=r"confidence\[0\] must hold one array per class"):
        mean_average_precision([[[1.0], []]], [[[1.0], []]], [[[0.5]]], tolerances=[0.05])
    with pytest.raises(ValueError, match="tolerances must hold at least one"):
        mean_average_precision([[[1.0]]], [[[1.0]]], [[[0.5]]], tolerances=[])
    with pytest.raises(ValueError, match=r"tolerances\[1\] must be a finite number >= 0"):
        mean_average_precision([[[1.0]]], [[[1.0]]], [[[0.5]]], tolerances=[0.05, -1])
    with pytest.raises(ValueError, match="same files and classes"):
        mean_average_precision([[[1.0]]], [[[1.0], []]], [[[0.5], []]], tolerances=[0.05])
