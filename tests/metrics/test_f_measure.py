"""softloc.metrics.f_measure: exact parity with mir_eval (onset and transcription), aggregation."""

from __future__ import annotations

import math
import warnings

import mir_eval
import numpy as np
import pytest

from softloc.metrics import (
    corpus_f_measure,
    event_f_measure,
    match_events,
    multiclass_f_measure,
)
from softloc.metrics import matching as matching_module

from metric_references import MIR_EVAL_EMPTY, notes, random_case, random_event_list

pytestmark = pytest.mark.filterwarnings(MIR_EVAL_EMPTY)


def same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


# ----------------------------------------------------------------------------------------------
# Parity with mir_eval
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(3))
def test_event_f_measure_equals_mir_eval_onset_exactly(seed, monkeypatch):
    if seed == 2:  # the vectorised sweep, not the plain-Python one, for these few events
        monkeypatch.setattr(matching_module, "_SMALL_INPUT", 0)
    rng = np.random.default_rng(seed)
    for _ in range(1000):
        reference, estimated, tolerance = random_case(rng)
        scores = event_f_measure(reference, estimated, tolerance=tolerance)
        f1, precision, recall = mir_eval.onset.f_measure(reference, estimated, window=tolerance)
        assert (scores.f1, scores.precision, scores.recall) == (f1, precision, recall)
        assert scores.n_reference == reference.size and scores.n_estimated == estimated.size


@pytest.mark.parametrize("seed", range(2))
def test_multiclass_micro_equals_mir_eval_transcription_exactly(seed):
    rng = np.random.default_rng(20 + seed)
    for _ in range(400):
        classes = int(rng.integers(1, 7))
        tolerance = float(rng.choice([0.05, 0.0, 0.02]))
        reference = random_event_list(rng, classes)
        estimated = random_event_list(rng, classes, like=reference, tolerance=tolerance)
        if rng.random() < 0.2:
            estimated = random_event_list(rng, classes)
        scores = multiclass_f_measure(reference, estimated, tolerance=tolerance, decimals=4)
        ref_intervals, ref_pitches = notes(reference)
        est_intervals, est_pitches = notes(estimated)
        precision, recall, f1, _ = mir_eval.transcription.precision_recall_f1_overlap(
            ref_intervals, ref_pitches, est_intervals, est_pitches,
            onset_tolerance=tolerance, offset_ratio=None,
        )
        assert (scores.micro.precision, scores.micro.recall, scores.micro.f1) == (precision, recall, f1)


def test_corpus_equals_mir_eval_per_file_and_per_cell():
    rng = np.random.default_rng(30)
    for _ in range(60):
        files, classes = int(rng.integers(1, 5)), int(rng.integers(1, 9))
        tolerance = float(rng.choice([0.05, 0.03]))
        reference = [random_event_list(rng, classes) for _ in range(files)]
        estimated = [random_event_list(rng, classes, like=r, tolerance=tolerance) for r in reference]
        rounded = corpus_f_measure(reference, estimated, tolerance=tolerance, decimals=4)
        f1s = []
        for f in range(files):
            p, r, f1, _ = mir_eval.transcription.precision_recall_f1_overlap(
                *notes(reference[f]), *notes(estimated[f]), onset_tolerance=tolerance,
                offset_ratio=None,
            )
            s = rounded.per_file[f]
            assert (s.precision, s.recall, s.f1) == (p, r, f1)
            f1s.append(f1)
        assert rounded.file_mean.f1 == pytest.approx(np.mean(f1s), abs=1e-15)
        assert rounded.file_mean.count == files

        plain = corpus_f_measure(reference, estimated, tolerance=tolerance)
        for f in range(files):
            for c in range(classes):
                f1, p, r = mir_eval.onset.f_measure(reference[f][c], estimated[f][c], window=tolerance)
                cell = event_f_measure(reference[f][c], estimated[f][c], tolerance=tolerance)
                assert (cell.f1, cell.precision, cell.recall) == (f1, p, r)
                assert plain.n_matched[f, c] == cell.n_matched
                assert plain.n_reference[f, c] == reference[f][c].size
                assert plain.n_estimated[f, c] == estimated[f][c].size


def test_88_class_batch_in_one_pass_equals_per_cell_scores():
    rng = np.random.default_rng(31)
    reference = [random_event_list(rng, 88, max_events=4) for _ in range(16)]
    estimated = [random_event_list(rng, 88, like=r) for r in reference]
    batch = corpus_f_measure(reference, estimated, tolerance=0.05)
    cells = np.array([[event_f_measure(r, e, tolerance=0.05).n_matched for r, e in zip(rf, ef)]
                      for rf, ef in zip(reference, estimated)])
    np.testing.assert_array_equal(batch.n_matched, cells)
    assert batch.n_reference.shape == (16, 88)


# ----------------------------------------------------------------------------------------------
# Empty input
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "reference, estimated, expected",
    [
        ([], [], (0.0, 0.0, 0.0)),
        ([], [1.0], (0.0, 0.0, 0.0)),
        ([1.0], [], (0.0, 0.0, 0.0)),
    ],
)
def test_empty_inputs_score_zero_without_warning_like_mir_eval(reference, estimated, expected):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        scores = event_f_measure(reference, estimated, tolerance=0.05)
    assert (scores.precision, scores.recall, scores.f1) == expected
    f1, precision, recall = mir_eval.onset.f_measure(np.array(reference), np.array(estimated))
    assert (precision, recall, f1) == expected
    assert math.isnan(scores.mean_error) and math.isnan(scores.std_error)
    assert math.isnan(scores.median_absolute_error)


def test_macro_skips_classes_without_events_and_file_mean_keeps_empty_files():
    reference = [[[1.0], [], [2.0]], [[], [], []]]
    estimated = [[[1.0], [], [5.0]], [[], [], []]]
    scores = corpus_f_measure(reference, estimated, tolerance=0.05)
    assert scores.class_macro.count == 2
    assert scores.class_macro.f1 == pytest.approx(0.5)
    assert [s.f1 for s in scores.per_file] == [0.5, 0.0]
    assert scores.file_mean.f1 == pytest.approx(0.25)  # the empty file counts as 0
    multi = multiclass_f_measure([[], []], [[], []], tolerance=0.05)
    assert (multi.macro.f1, multi.macro.count, multi.micro.f1) == (0.0, 0, 0.0)


# ----------------------------------------------------------------------------------------------
# Definitions: micro, macro, pooled, timing errors
# ----------------------------------------------------------------------------------------------


def test_micro_macro_and_pooled_follow_their_formulas():
    rng = np.random.default_rng(40)
    for _ in range(50):
        files, classes = int(rng.integers(1, 4)), int(rng.integers(1, 6))
        reference = [random_event_list(rng, classes) for _ in range(files)]
        estimated = [random_event_list(rng, classes, like=r) for r in reference]
        scores = corpus_f_measure(reference, estimated, tolerance=0.05)
        n_ref, n_est, n_hit = scores.n_reference, scores.n_estimated, scores.n_matched
        for c, s in enumerate(scores.per_class):
            assert (s.n_reference, s.n_estimated, s.n_matched) == (n_ref[:, c].sum(), n_est[:, c].sum(),
                                                                  n_hit[:, c].sum())
            assert s.precision == (n_hit[:, c].sum() / n_est[:, c].sum() if n_est[:, c].sum() else 0.0)
        p = scores.pooled
        assert (p.n_reference, p.n_estimated, p.n_matched) == (n_ref.sum(), n_est.sum(), n_hit.sum())
        if p.precision + p.recall > 0:
            assert p.f1 == pytest.approx(2 * p.precision * p.recall / (p.precision + p.recall))
        active = [s for s in scores.per_class if s.n_reference + s.n_estimated > 0]
        if active:
            assert scores.class_macro.recall == pytest.approx(np.mean([s.recall for s in active]))
        for c, average in enumerate(scores.per_class_file_mean):
            cells = [event_f_measure(reference[f][c], estimated[f][c], tolerance=0.05)
                     for f in range(files)]
            assert average.f1 == pytest.approx(np.mean([s.f1 for s in cells]), abs=1e-15)
        for f in range(files):
            multi = multiclass_f_measure(reference[f], estimated[f], tolerance=0.05)
            assert multi.micro.to_dict() == pytest.approx(scores.per_file[f].to_dict(), nan_ok=True)


def test_timing_errors_are_those_of_the_matched_pairs():
    rng = np.random.default_rng(50)
    cases = [random_case(rng) for _ in range(200)]
    many = np.sort(rng.uniform(0, 100, 2000))
    cases.append((many, np.sort(many + rng.normal(0, 0.02, many.size)), 0.05))  # > 256 matches
    for reference, estimated, tolerance in cases:
        scores = event_f_measure(reference, estimated, tolerance=tolerance)
        pairs = match_events(reference, estimated, tolerance=tolerance)
        errors = estimated[pairs[:, 1]] - reference[pairs[:, 0]]
        assert scores.n_matched == len(pairs)
        if len(pairs):
            assert scores.mean_error == pytest.approx(errors.mean(), abs=1e-12)
            assert scores.std_error == pytest.approx(errors.std(), abs=1e-12)
            assert scores.median_absolute_error == np.median(np.abs(errors))
            assert np.all(np.abs(errors) <= tolerance + 1e-12)
        else:
            assert math.isnan(scores.mean_error)


def test_grouped_timing_statistics_equal_per_group_numpy():
    rng = np.random.default_rng(51)
    reference = [random_event_list(rng, 5, max_events=10) for _ in range(4)]
    estimated = [random_event_list(rng, 5, like=r) for r in reference]
    scores = corpus_f_measure(reference, estimated, tolerance=0.05)
    for c in range(5):
        errors = []
        for f in range(4):
            pairs = match_events(reference[f][c], estimated[f][c], tolerance=0.05)
            errors.extend(estimated[f][c][pairs[:, 1]] - reference[f][c][pairs[:, 0]])
        s = scores.per_class[c]
        if errors:
            assert s.mean_error == pytest.approx(np.mean(errors), abs=1e-12)
            assert s.std_error == pytest.approx(np.std(errors), abs=1e-12)
            assert s.median_absolute_error == pytest.approx(np.median(np.abs(errors)), abs=0)
        else:
            assert math.isnan(s.median_absolute_error)


def test_double_detection_has_no_timing_bias():
    scores = event_f_measure([1.0, 2.0], [0.97, 1.0, 1.98, 2.0], tolerance=0.05)
    assert scores.n_matched == 2 and scores.mean_error == 0.0 and scores.median_absolute_error == 0.0


def test_results_are_frozen_dataclasses_with_to_dict():
    scores = event_f_measure([1.0], [1.01], tolerance=0.05)
    assert set(scores.to_dict()) == {
        "precision", "recall", "f1", "n_reference", "n_estimated", "n_matched", "mean_error",
        "std_error", "median_absolute_error",
    }
    with pytest.raises(AttributeError):
        scores.f1 = 0.0
    corpus = corpus_f_measure([[[1.0], [2.0]]], [[[1.0], []]], tolerance=0.05).to_dict()
    assert corpus["n_matched"] == [[1, 0]]
    assert set(corpus) >= {"per_file", "per_class", "pooled", "file_mean", "class_macro"}
    multi = multiclass_f_measure([[1.0]], [[1.0]], tolerance=0.05).to_dict()
    assert multi["micro"]["f1"] == 1.0 and multi["macro"]["count"] == 1


# ----------------------------------------------------------------------------------------------
# Bad input
# ----------------------------------------------------------------------------------------------


def test_bad_input_raises_naming_the_argument():
    with pytest.raises(ValueError, match=r"estimated\[1\]\[2\] must be sorted ascending"):
        corpus_f_measure([[[], [], []], [[], [], []]], [[[], [], []], [[], [], [0.3, 0.2]]],
                         tolerance=0.05)
    with pytest.raises(ValueError, match=r"reference\[0\]\[1\] must hold finite"):
        corpus_f_measure([[[1.0], [np.nan]]], [[[1.0], []]], tolerance=0.05)
    with pytest.raises(ValueError, match=r"reference\[1\] must be sorted"):
        multiclass_f_measure([[1.0], [2.0, 1.0]], [[], []], tolerance=0.05)
    with pytest.raises(ValueError, match="same classes"):
        multiclass_f_measure([[1.0], [2.0]], [[1.0]], tolerance=0.05)
    with pytest.raises(ValueError, match="same number of files"):
        corpus_f_measure([[[1.0]], [[2.0]]], [[[1.0]]], tolerance=0.05)
    with pytest.raises(ValueError, match=r"estimated\[1\] has 2 classes"):
        corpus_f_measure([[[1.0]], [[2.0]]], [[[1.0]], [[2.0], []]], tolerance=0.05)
    with pytest.raises(TypeError, match="wrap it in a list"):
        multiclass_f_measure(np.array([1.0, 2.0]), [[1.0]], tolerance=0.05)
    with pytest.raises(TypeError, match="reference must be a sequence of event lists"):
        corpus_f_measure(3.0, [[[1.0]]], tolerance=0.05)
    with pytest.raises(ValueError, match="reference must hold at least one file"):
        corpus_f_measure([], [], tolerance=0.05)
    with pytest.raises(ValueError, match="tolerance must be a finite number >= 0"):
        event_f_measure([1.0], [1.0], tolerance=-0.05)
    with pytest.raises(ValueError, match="estimated must be sorted"):
        event_f_measure([1.0], [2.0, 1.0], tolerance=0.05)
