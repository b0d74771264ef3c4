"""Tests for softloc.decode: probabilities (N, C, T) -> point events per sequence and class.

Every decoder is checked on crafted tracks, and on random tracks against a straightforward
reference loop written here from the rule stated in its docstring (peak picking also against a
transcription of madmom's scipy.ndimage formula, madmom itself not being installable here).
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.ndimage import maximum_filter, uniform_filter

from softloc.decode import (
    DECODERS,
    Detections,
    argmax_events,
    decode,
    non_maximum_suppression,
    peak_picking,
    threshold_events,
)
from softloc.events import TimeBase

CUDA = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


# ----------------------------------------------------------------------------------------------
# Reference loops, written from the rules (one track: a 1-D float64 array; frames outside the
# track count as 0)
# ----------------------------------------------------------------------------------------------


def value(p, s):
    return float(p[s]) if 0 <= s < len(p) else 0.0


def ref_threshold(p, threshold):
    return [t for t in range(len(p)) if p[t] > threshold]


def ref_local_maxima(p, threshold):
    events = []
    for t in range(len(p)):
        if not (p[t] > threshold and p[t] > value(p, t - 1)):
            continue
        end = t
        while end + 1 < len(p) and p[end + 1] == p[t]:
            end += 1
        if value(p, end + 1) < p[t]:
            events.append(t)
    return events


def ref_online_local_maxima(p, threshold):
    return [t for t in range(len(p)) if p[t] > threshold and p[t] > value(p, t - 1)]


def ref_peak_picking(p, threshold, pre_max=1, post_max=1, pre_avg=0, post_avg=0, combine=0,
                     delay=0):
    n = len(p)
    length = pre_avg + post_avg + 1
    detection = []
    for t in range(n):
        mean = 0.0
        if length > 1:
            mean = sum(value(p, s) for s in range(t - pre_avg, t + post_avg + 1)) / length
        detection.append(p[t] if p[t] >= mean + threshold else 0.0)
    peaks = []
    for t in range(n):
        if detection[t] <= 0:
            continue
        if pre_max + post_max > 0:
            window = [value(detection, s) for s in range(t - pre_max, t + post_max + 1)]
            if detection[t] != max(window):
                continue
        peaks.append(t)
    kept = []
    for t in peaks:
        if not kept or combine == 0 or t - kept[-1] > combine:
            kept.append(t)
    return [t + delay for t in kept], [float(p[t]) for t in kept]


def madmom_formula(p, threshold, pre_max, post_max, pre_avg, post_avg):
    """madmom.features.onsets.peak_picking (smooth=None), transcribed with scipy.ndimage."""
    avg_length = pre_avg + post_avg + 1
    if avg_length > 1:
        origin = int(np.floor((pre_avg - post_avg) / 2))
        mov_avg = uniform_filter(p, avg_length, mode="constant", origin=origin)
    else:
        mov_avg = 0
    detections = p * (p >= mov_avg + threshold)
    max_length = pre_max + post_max + 1
    if max_length > 1:
        origin = int(np.floor((pre_max - post_max) / 2))
        mov_max = maximum_filter(detections, max_length, mode="constant", origin=origin)
        detections = detections * (detections == mov_max)
    return np.nonzero(detections)[0].tolist()


def ref_nms(p, threshold, window):
    remaining = {t for t in range(len(p)) if p[t] > threshold}
    events = []
    while remaining:
        best = max(remaining, key=lambda t: (p[t], -t))
        events.append(best)
        remaining = {t for t in remaining if abs(t - best) > window}
    return sorted(events)


def ref_argmax(p, valid=None):
    candidates = [t for t in range(len(p)) if valid is None or valid[t]]
    best = max(p[t] for t in candidates)
    return [min(t for t in candidates if p[t] == best)]


def frames_of(det: Detections, n: int = 0, c: int = 0) -> list[int]:
    return det.frames[n][c].tolist()


def assert_same(a: Detections, b: Detections):
    assert a.num_frames == b.num_frames and a.rule == b.rule
    assert a.counts().tolist() == b.counts().tolist()
    for fa, fb in zip(a.frames, b.frames):
        for x, y in zip(fa, fb):
            np.testing.assert_array_equal(x, y)
    for sa, sb in zip(a.scores, b.scores):
        for x, y in zip(sa, sb):
            np.testing.assert_allclose(x, y, rtol=0, atol=0)


def random_batch(seed, n=3, c=2, t=40, levels=None):
    rng = np.random.default_rng(seed)
    if levels is None:
        return rng.random((n, c, t))
    return rng.choice(np.asarray(levels, dtype=np.float64), size=(n, c, t))


def per_track(p, function):
    return [[function(p[i, j]) for j in range(p.shape[1])] for i in range(p.shape[0])]


def det_frames(det):
    return [[f.tolist() for f in row] for row in det.frames]


# Tracks drawn from a few levels have plateaus, equal neighbours and ties everywhere.
LEVELS = [0.0, 0.25, 0.5, 0.75, 1.0]
tracks = st.lists(st.sampled_from(LEVELS + [0.3, 0.6]), min_size=1, max_size=30).map(np.array)
thresholds = st.sampled_from([0.0, 0.2, 0.25, 0.5, 0.7])


# ----------------------------------------------------------------------------------------------
# threshold_events
# ----------------------------------------------------------------------------------------------


def test_threshold_is_strict():
    p = np.array([0.2, 0.5, 0.50001, 0.7, 0.5])
    assert frames_of(threshold_events(p, 0.5)) == [2, 3]
    assert frames_of(threshold_events(p, 0.0)) == [0, 1, 2, 3, 4]
    assert frames_of(threshold_events(p, 1.0)) == []


def test_threshold_float32_is_compared_exactly():
    # float32(0.2) = 0.2000000029...: above 0.2 in exact arithmetic, equal to float32(0.2).
    p = torch.tensor([0.2, 0.1], dtype=torch.float32)
    assert frames_of(threshold_events(p, 0.2)) == [0]
    assert frames_of(threshold_events(p, float(np.float32(0.2)))) == []
    assert frames_of(threshold_events(torch.tensor([0.2, 0.1], dtype=torch.float64), 0.2)) == []
    # non-strict (peak picking): float32(0.2) >= 0.2 but nextafter(float32(0.2), 0) < 0.2
    below = torch.tensor([np.nextafter(np.float32(0.2), np.float32(0))], dtype=torch.float32)
    assert frames_of(peak_picking(p, 0.2, pre_max=0, post_max=0)) == [0]
    assert frames_of(peak_picking(below, 0.2, pre_max=0, post_max=0)) == []


def test_threshold_half_precision_values():
    p16 = torch.tensor([0.2, 0.3], dtype=torch.float16)
    assert float(p16[0]) < 0.2
    assert frames_of(threshold_events(p16, 0.2)) == [1]


def test_local_maxima_single_spike_plateau_edges():
    p = np.array([0.9, 0.1, 0.0, 0.6, 0.0, 0.4, 0.8, 0.8, 0.8, 0.2, 0.7, 0.95])
    # spike at 3, plateau 6..8 (first frame), both edges are maxima against the zero padding
    assert frames_of(threshold_events(p, 0.5, local_maxima=True)) == [0, 3, 6, 11]
    assert frames_of(threshold_events(p, 0.5)) == [0, 3, 6, 7, 8, 10, 11]


def test_local_maxima_rising_plateau_is_not_a_peak():
    p = np.array([0.1, 0.6, 0.6, 0.9, 0.3, 0.7, 0.7])
    assert frames_of(threshold_events(p, 0.5, local_maxima=True)) == [3, 5]


def test_local_maxima_two_close_peaks():
    p = np.array([0.0, 0.8, 0.7, 0.9, 0.0])
    assert frames_of(threshold_events(p, 0.5, local_maxima=True)) == [1, 3]
    assert frames_of(threshold_events(p, 0.75, local_maxima=True)) == [1, 3]
    assert frames_of(threshold_events(p, 0.85, local_maxima=True)) == [3]


def test_local_maxima_online_rule():
    p = np.array([0.1, 0.6, 0.6, 0.9, 0.3, 0.7, 0.8, 0.8])
    assert frames_of(threshold_events(p, 0.5, local_maxima=True, online=True)) == [1, 3, 5, 6]
    # online has no effect without local maxima (that rule is causal already)
    assert frames_of(threshold_events(p, 0.5, online=True)) == frames_of(threshold_events(p, 0.5))


@settings(max_examples=50, deadline=None)
@given(p=tracks, threshold=thresholds)
def test_threshold_rules_match_reference_loops(p, threshold):
    assert frames_of(threshold_events(p, threshold)) == ref_threshold(p, threshold)
    offline = frames_of(threshold_events(p, threshold, local_maxima=True))
    online = frames_of(threshold_events(p, threshold, local_maxima=True, online=True))
    assert offline == ref_local_maxima(p, threshold)
    assert online == ref_online_local_maxima(p, threshold)
    assert set(offline) <= set(online)


def test_threshold_random_batch_against_reference():
    p = random_batch(0, n=4, c=3, t=60)
    for local in (False, True):
        det = threshold_events(p, 0.6, local_maxima=local)
        ref = ref_local_maxima if local else ref_threshold
        assert det_frames(det) == per_track(p, lambda x: ref(x, 0.6))
        for i in range(4):
            for j in range(3):
                np.testing.assert_array_equal(det.scores[i][j], p[i, j, det.frames[i][j]])


# ----------------------------------------------------------------------------------------------
# peak_picking
# ----------------------------------------------------------------------------------------------


def test_peak_picking_crafted():
    p = np.array([0.0, 0.6, 0.2, 0.7, 0.7, 0.1, 0.0, 0.9, 0.0])
    # madmom reports every plateau frame; combine keeps the first within the distance
    assert frames_of(peak_picking(p, 0.5)) == [1, 3, 4, 7]
    assert frames_of(peak_picking(p, 0.5, combine=1)) == [1, 3, 7]
    # combine measures against the last *kept* peak: 3 is dropped (2 after 1), 4 is kept
    # (3 after 1) although it is only 1 after the dropped 3
    assert frames_of(peak_picking(p, 0.5, combine=2)) == [1, 4, 7]
    assert frames_of(peak_picking(p, 0.65, combine=2)) == [3, 7]
    # moving maximum over +-3 frames: 0.6 at 1 and 0.7 at 4 see a larger value, 0.7 at 3 not
    assert frames_of(peak_picking(p, 0.5, pre_max=3, post_max=3)) == [3, 7]
    # no moving maximum: every frame passing the threshold
    assert frames_of(peak_picking(p, 0.5, pre_max=0, post_max=0)) == [1, 3, 4, 7]


def test_peak_picking_threshold_is_inclusive_and_zero_never_peaks():
    p = np.array([0.0, 0.5, 0.0, 0.25, 0.0])
    assert frames_of(peak_picking(p, 0.5)) == [1]  # p >= threshold (madmom)
    assert frames_of(threshold_events(p, 0.5)) == []  # threshold_events is strict
    assert frames_of(peak_picking(np.zeros(5), 0.0)) == []  # d_t must be > 0


def test_peak_picking_moving_mean():
    p = np.array([0.5, 0.5, 0.5, 0.5, 0.75, 0.5, 0.5, 0.5])
    # mean over [t-2, t+2]: 0.55 at 4 (0.75 >= 0.55 + 0.125, not >= 0.55 + 0.25); the zero
    # padding lowers it to 0.3 at both edges, where 0.5 >= 0.3 + 0.125 (but not + 0.25)
    assert frames_of(peak_picking(p, 0.125, pre_avg=2, post_avg=2)) == [0, 4, 7]
    assert frames_of(peak_picking(p, 0.25, pre_avg=2, post_avg=2)) == []
    # asymmetric window [t-3, t]: at 0 the mean is 0.125, at 4 it is 0.5625
    assert frames_of(peak_picking(p, 0.1875, pre_avg=3, pre_max=0, post_max=0)) == [0, 1, 4]


def test_peak_picking_max_runs_over_the_detection_function():
    # 0.5625 at 2 hides 0.5 at 1 when the threshold is absolute; with a moving mean over
    # [t, t+5] frame 2 fails its own test (d_2 = 0), so it no longer hides frame 1
    p = np.array([0.0, 0.5, 0.5625, 0.46875, 0.46875, 0.46875, 0.46875, 1.0, 0.0])
    assert frames_of(peak_picking(p, 0.0)) == [2, 4, 5, 7]  # every plateau frame at 4, 5
    got = frames_of(peak_picking(p, 0.0, pre_avg=0, post_avg=5))
    assert got == [1, 4, 5, 7]
    assert got == ref_peak_picking(p, 0.0, 1, 1, 0, 5)[0] == madmom_formula(p, 0.0, 1, 1, 0, 5)


def test_peak_picking_delay_shifts_frames_not_scores():
    p = np.array([0.0, 0.9, 0.0, 0.0, 0.8, 0.0])
    det = peak_picking(p, 0.5, delay=3)
    assert frames_of(det) == [4, 7]
    assert det.scores[0][0].tolist() == [0.9, 0.8]
    assert frames_of(peak_picking(p, 0.5, delay=-2)) == [-1, 2]
    assert det.times(TimeBase(fps=10.0))[0][0].tolist() == [0.4, 0.7]
    with pytest.raises(ValueError, match="outside"):
        det.to_array()


PICKING_PARAMETERS = [
    dict(pre_max=1, post_max=1, pre_avg=0, post_avg=0),
    dict(pre_max=3, post_max=1, pre_avg=5, post_avg=2),
    dict(pre_max=2, post_max=4, pre_avg=1, post_avg=6),
    dict(pre_max=0, post_max=0, pre_avg=3, post_avg=0),
    dict(pre_max=5, post_max=0, pre_avg=4, post_avg=0),
    dict(pre_max=0, post_max=2, pre_avg=0, post_avg=1),
    dict(pre_max=60, post_max=60, pre_avg=70, post_avg=55),  # windows longer than the track
]


@pytest.mark.parametrize("params", PICKING_PARAMETERS)
def test_peak_picking_random_against_reference_and_madmom_formula(params):
    p = random_batch(1, n=3, c=2, t=50)
    for threshold in (0.0, 0.1, 0.3):
        det = peak_picking(p, threshold, **params)
        want = per_track(p, lambda x: ref_peak_picking(x, threshold, **params)[0])
        assert det_frames(det) == want
        assert det_frames(det) == per_track(p, lambda x: madmom_formula(x, threshold, **params))
        for combine, delay in ((2, 0), (4, -1), (1, 3)):
            det = peak_picking(p, threshold, combine=combine, delay=delay, **params)
            ref = per_track(p, lambda x: ref_peak_picking(x, threshold, combine=combine,
                                                          delay=delay, **params))
            assert det_frames(det) == [[frames for frames, _ in row] for row in ref]
            assert [[s.tolist() for s in row] for row in det.scores] == [
                [scores for _, scores in row] for row in ref
            ]


@settings(max_examples=50, deadline=None)
@given(
    p=tracks,
    threshold=thresholds,
    windows=st.tuples(*[st.integers(0, 4)] * 4),
    combine=st.integers(0, 3),
)
def test_peak_picking_plateaus_and_ties_against_reference(p, threshold, windows, combine):
    pre_max, post_max, pre_avg, post_avg = windows
    params = dict(pre_max=pre_max, post_max=post_max, pre_avg=pre_avg, post_avg=post_avg)
    det = peak_picking(p, threshold, combine=combine, **params)
    assert frames_of(det) == ref_peak_picking(p, threshold, combine=combine, **params)[0]
    if pre_avg + post_avg == 0:  # no rounding in a mean: the scipy formula is exact too
        assert frames_of(peak_picking(p, threshold, **params)) == madmom_formula(
            p, threshold, **params)


def test_peak_picking_online_defaults_and_conflicts():
    p = np.array([0.0, 0.6, 0.7, 0.7, 0.2, 0.9, 0.95, 0.1])
    det = peak_picking(p, 0.5, online=True)
    assert det.rule["post_max"] == 0 and det.rule["post_avg"] == 0
    assert frames_of(det) == ref_peak_picking(p, 0.5, 1, 0, 0, 0)[0] == [1, 2, 3, 5, 6]
    assert frames_of(peak_picking(p, 0.5, online=True, combine=2)) == [1, 5]
    with pytest.raises(ValueError, match="post_max"):
        peak_picking(p, 0.5, online=True, post_max=1)
    with pytest.raises(ValueError, match="post_avg"):
        peak_picking(p, 0.5, online=True, post_avg=2)
    with pytest.raises(ValueError, match="delay"):
        peak_picking(p, 0.5, online=True, delay=-1)


# ----------------------------------------------------------------------------------------------
# Online decisions do not depend on the future
# ----------------------------------------------------------------------------------------------


ONLINE_DECODERS = [
    ("threshold", lambda p: threshold_events(p, 0.4)),
    ("threshold online", lambda p: threshold_events(p, 0.4, local_maxima=True, online=True)),
    ("peaks online", lambda p: peak_picking(p, 0.3, online=True)),
    ("peaks online avg", lambda p: peak_picking(p, 0.05, online=True, pre_max=3, pre_avg=4,
                                                combine=2)),
    ("peaks online delay", lambda p: peak_picking(p, 0.2, online=True, pre_max=2, delay=2)),
    ("peaks causal windows", lambda p: peak_picking(p, 0.1, pre_max=2, post_max=0, pre_avg=3,
                                                    post_avg=0)),
]


@pytest.mark.parametrize("name,decoder", ONLINE_DECODERS, ids=[n for n, _ in ONLINE_DECODERS])
def test_online_decisions_ignore_future_frames(name, decoder):
    rng = np.random.default_rng(2)
    t_len = 60
    for trial in range(20):
        levels = LEVELS if trial % 2 else None
        p = random_batch(100 + trial, n=2, c=2, t=t_len, levels=levels)
        base = decoder(p)
        cut = int(rng.integers(0, t_len - 1))
        changed = p.copy()
        changed[..., cut + 1:] = rng.choice(LEVELS, size=changed[..., cut + 1:].shape)
        other = decoder(changed)
        delay = base.rule.get("delay", 0)
        for row_a, row_b in zip(base.frames, other.frames):
            for fa, fb in zip(row_a, row_b):
                # an event reported at frame f was decided at frame f - delay
                np.testing.assert_array_equal(fa[fa - delay <= cut], fb[fb - delay <= cut])


def test_offline_local_maxima_do_look_ahead():
    # the counter-example that makes online=True necessary
    p = np.array([0.0, 0.6, 0.1])
    later = np.array([0.0, 0.6, 0.8])
    assert frames_of(threshold_events(p, 0.5, local_maxima=True)) == [1]
    assert frames_of(threshold_events(later, 0.5, local_maxima=True)) == [2]
    assert frames_of(threshold_events(later, 0.5, local_maxima=True, online=True)) == [1, 2]


# ----------------------------------------------------------------------------------------------
# non_maximum_suppression
# ----------------------------------------------------------------------------------------------


def test_nms_crafted():
    p = np.array([0.1, 0.5, 0.9, 0.6, 0.1, 0.7, 0.0, 0.8])
    assert frames_of(non_maximum_suppression(p, 0.3, window=0)) == [1, 2, 3, 5, 7]
    assert frames_of(non_maximum_suppression(p, 0.3, window=1)) == [2, 5, 7]
    assert frames_of(non_maximum_suppression(p, 0.3, window=2)) == [2, 7]
    assert frames_of(non_maximum_suppression(p, 0.3, window=5)) == [2]
    assert frames_of(non_maximum_suppression(p, 0.3, window=10**6)) == [2]
    assert frames_of(non_maximum_suppression(p, 0.9, window=1)) == []  # strict threshold


def test_nms_plateau_and_ties_take_the_earliest_frame():
    p = np.array([0.2, 0.7, 0.7, 0.7, 0.2, 0.0, 0.7])
    assert frames_of(non_maximum_suppression(p, 0.5, window=1)) == [1, 3, 6]
    assert frames_of(non_maximum_suppression(p, 0.5, window=2)) == [1, 6]
    assert frames_of(non_maximum_suppression(p, 0.5, window=4)) == [1, 6]
    assert frames_of(non_maximum_suppression(p, 0.5, window=5)) == [1]


def test_nms_suppressed_frames_do_not_suppress():
    # 0.9 at 3 suppresses 0.8 at 5; 0.8 would have suppressed 0.7 at 7, which therefore stays
    p = np.array([0.0, 0.0, 0.0, 0.9, 0.0, 0.8, 0.0, 0.7])
    assert frames_of(non_maximum_suppression(p, 0.5, window=2)) == [3, 7]


def test_nms_monotone_track_needs_many_rounds():
    p = np.linspace(1.0, 0.5, 200)
    for window in (0, 1, 3, 7):
        assert frames_of(non_maximum_suppression(p, 0.4, window=window)) == ref_nms(p, 0.4, window)


@settings(max_examples=50, deadline=None)
@given(p=tracks, threshold=thresholds, window=st.integers(0, 6))
def test_nms_matches_greedy_reference(p, threshold, window):
    det = non_maximum_suppression(p, threshold, window=window)
    assert frames_of(det) == ref_nms(p, threshold, window)
    np.testing.assert_array_equal(det.scores[0][0], p[det.frames[0][0]])


def test_nms_random_batch_against_reference():
    p = random_batch(3, n=3, c=3, t=80)
    for window in (0, 2, 9):
        det = non_maximum_suppression(p, 0.35, window=window)
        assert det_frames(det) == per_track(p, lambda x: ref_nms(x, 0.35, window))


# ----------------------------------------------------------------------------------------------
# argmax_events
# ----------------------------------------------------------------------------------------------


def test_argmax_one_event_per_class_first_on_ties():
    p = np.array([[0.1, 0.7, 0.7, 0.2], [0.9, 0.1, 0.3, 0.95], [0.0, 0.0, 0.0, 0.0]])
    det = argmax_events(p)
    assert det_frames(det) == [[[1], [3], [0]]]
    assert det.scores[0][1].tolist() == [0.95]


def test_argmax_random_and_masked_against_reference():
    p = random_batch(4, n=4, c=3, t=30, levels=LEVELS)
    mask = np.ones((4, 30), dtype=bool)
    mask[1, 20:] = False
    mask[2, :5] = False
    mask[3, ::2] = False
    det = argmax_events(p, mask=mask)
    for i in range(4):
        for j in range(3):
            assert frames_of(det, i, j) == ref_argmax(p[i, j], mask[i])
            assert mask[i, frames_of(det, i, j)[0]]
    assert det.counts().tolist() == [[1] * 3] * 4
    assert det_frames(argmax_events(p)) == per_track(p, ref_argmax)


def test_argmax_needs_a_valid_step():
    mask = np.ones((2, 5), dtype=bool)
    mask[1] = False
    with pytest.raises(ValueError, match="mask"):
        argmax_events(np.random.default_rng(0).random((2, 1, 5)), mask=mask)


# ----------------------------------------------------------------------------------------------
# Masks: masked steps never produce events and act like zero padding
# ----------------------------------------------------------------------------------------------


ALL_DECODERS = [
    ("threshold", lambda p, **kw: threshold_events(p, 0.5, **kw)),
    ("local maxima", lambda p, **kw: threshold_events(p, 0.5, local_maxima=True, **kw)),
    ("local maxima online",
     lambda p, **kw: threshold_events(p, 0.5, local_maxima=True, online=True, **kw)),
    ("peaks", lambda p, **kw: peak_picking(p, 0.3, **kw)),
    ("peaks avg", lambda p, **kw: peak_picking(p, 0.1, pre_max=2, post_max=3, pre_avg=4,
                                               post_avg=5, combine=2, delay=1, **kw)),
    ("peaks online", lambda p, **kw: peak_picking(p, 0.2, online=True, pre_avg=3, **kw)),
    ("nms", lambda p, **kw: non_maximum_suppression(p, 0.4, window=3, **kw)),
    ("argmax", lambda p, **kw: argmax_events(p, **kw)),
]
IDS = [name for name, _ in ALL_DECODERS]


@pytest.mark.parametrize("name,decoder", ALL_DECODERS, ids=IDS)
def test_padded_with_mask_equals_unpadded(name, decoder):
    rng = np.random.default_rng(5)
    lengths = [40, 23, 31]
    p = rng.random((3, 2, 40))
    p[1, :, 23:] = rng.random((2, 17))  # garbage in the padding
    p[2, :, 31:] = np.nan  # even NaN: masked steps are not validated
    mask = np.arange(40)[None, :] < np.array(lengths)[:, None]
    padded = decoder(p, mask=mask)
    for i, length in enumerate(lengths):
        alone = decoder(p[i, :, :length])
        for j in range(2):
            np.testing.assert_array_equal(padded.frames[i][j], alone.frames[0][j])
            np.testing.assert_array_equal(padded.scores[i][j], alone.scores[0][j])


@pytest.mark.parametrize("name,decoder", ALL_DECODERS, ids=IDS)
def test_masked_steps_never_produce_events(name, decoder):
    rng = np.random.default_rng(6)
    p = rng.random((2, 3, 50))
    mask = rng.random((2, 50)) < 0.6
    det = decoder(p, mask=mask)
    shift = det.rule.get("delay", 0)
    for i in range(2):
        for j in range(3):
            assert mask[i, det.frames[i][j] - shift].all()


def test_masked_steps_count_as_zero_for_neighbours():
    p = np.array([0.6, 0.9, 0.7, 0.8, 0.6])
    mask = np.array([True, False, True, True, True])
    assert frames_of(threshold_events(p, 0.5, local_maxima=True)) == [1, 3]
    assert frames_of(threshold_events(p, 0.5, local_maxima=True, mask=mask)) == [0, 3]
    assert frames_of(non_maximum_suppression(p, 0.5, window=1, mask=mask)) == [0, 3]
    assert frames_of(peak_picking(p, 0.5, mask=mask)) == [0, 3]
    assert frames_of(argmax_events(p, mask=mask)) == [3]


# ----------------------------------------------------------------------------------------------
# Inputs: tensors vs arrays, shapes, dtypes, devices
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name,decoder", ALL_DECODERS, ids=IDS)
def test_tensor_and_array_agree(name, decoder):
    p = random_batch(7, n=3, c=2, t=45, levels=LEVELS + [0.4, 0.45, 0.9])
    mask = np.ones((3, 45), dtype=bool)
    mask[2, 30:] = False
    for dtype in (np.float64, np.float32):
        array = p.astype(dtype)
        tensor = torch.from_numpy(array).requires_grad_(True)
        assert_same(decoder(array), decoder(tensor))
        assert_same(decoder(array, mask=mask), decoder(tensor, mask=torch.from_numpy(mask)))
        assert_same(decoder(array, mask=torch.from_numpy(mask)), decoder(tensor, mask=mask))


@pytest.mark.parametrize("name,decoder", ALL_DECODERS, ids=IDS)
def test_one_and_two_dimensional_inputs(name, decoder):
    p = random_batch(8, n=1, c=3, t=30)
    full = decoder(p)
    two = decoder(p[0])
    assert (two.num_sequences, two.num_classes) == (1, 3)
    assert_same(full, two)
    one = decoder(p[0, 1])
    assert (one.num_sequences, one.num_classes) == (1, 1)
    np.testing.assert_array_equal(one.frames[0][0], full.frames[0][1])
    mask = np.arange(30) < 20
    assert_same(decoder(p[0], mask=mask), decoder(p, mask=mask[None]))
    assert_same(decoder(p[0, 1], mask=mask), decoder(p[0, 1], mask=mask[None]))


@CUDA
@pytest.mark.parametrize("name,decoder", ALL_DECODERS, ids=IDS)
def test_cuda_matches_cpu(name, decoder):
    p = torch.from_numpy(random_batch(9, n=4, c=3, t=64, levels=LEVELS + [0.4, 0.9]))
    mask = torch.ones(4, 64, dtype=torch.bool)
    mask[1, 40:] = False
    for dtype in (torch.float64, torch.float32, torch.float16):
        cpu = decoder(p.to(dtype), mask=mask)
        gpu = decoder(p.to(dtype).cuda(), mask=mask.cuda())
        assert_same(cpu, gpu)
        assert_same(decoder(p.to(dtype)), decoder(p.to(dtype).cuda()))


def test_decode_dispatches_by_name():
    p = random_batch(10, n=2, c=2, t=30)
    assert set(DECODERS) == {"threshold", "peak_picking", "nms", "argmax"}
    assert_same(decode(p, "threshold", threshold=0.5, local_maxima=True),
                threshold_events(p, 0.5, local_maxima=True))
    assert_same(decode(p, "peak_picking", threshold=0.2, pre_avg=2),
                peak_picking(p, 0.2, pre_avg=2))
    nms = non_maximum_suppression(p, 0.4, window=2)
    assert_same(decode(p, nms.rule["method"], threshold=0.4, window=2), nms)
    assert_same(decode(p, "argmax"), argmax_events(p))
    # a rule recorded in a result reproduces it
    rule = dict(nms.rule)
    assert_same(decode(p, rule.pop("method"), **rule), nms)


# ----------------------------------------------------------------------------------------------
# Detections
# ----------------------------------------------------------------------------------------------


def test_detections_conversions():
    p = np.zeros((2, 2, 10))
    p[0, 0, [2, 7]] = [0.9, 0.8]
    p[1, 1, 4] = 0.6
    det = threshold_events(p, 0.5)
    assert det.counts().tolist() == [[2, 0], [0, 1]]
    assert det.frames[0][0].dtype == np.int64 and det.scores[0][0].dtype == np.float64
    base = TimeBase(fps=100.0, offset=0.5)
    times = det.times(base)
    np.testing.assert_allclose(times[0][0], base.times_of([2, 7]))
    assert times[1][1].tolist() == [0.54]
    per_class = det.per_class(base)
    assert len(per_class) == 2 and len(per_class[0]) == 2
    np.testing.assert_array_equal(per_class[0][0], times[0][0])
    np.testing.assert_array_equal(per_class[1][1], times[1][1])
    assert [f.tolist() for f in det.per_class()[1]] == [[], [4]]
    np.testing.assert_array_equal(det.to_array(), p > 0.5)
    assert det.frame_lists()[0][0].tolist() == [2, 7]
    data = det.to_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["rule"] == {"method": "threshold", "threshold": 0.5, "local_maxima": False,
                            "online": False}
    assert_same(Detections.from_dict(data), det)
    with pytest.raises(ValueError):
        det.frames[0][0][0] = 3  # read-only
    with pytest.raises(TypeError, match="time_base"):
        det.times(100.0)


def test_detections_validation():
    with pytest.raises(ValueError, match="sorted"):
        Detections(frames=[[[3, 1]]], scores=[[[0.5, 0.5]]], num_frames=5)
    with pytest.raises(ValueError, match="scores"):
        Detections(frames=[[[1, 3]]], scores=[[[0.5]]], num_frames=5)
    with pytest.raises(ValueError, match="classes"):
        Detections(frames=[[[1]], [[1], [2]]], scores=[[[0.5]], [[0.5], [0.5]]], num_frames=5)
    with pytest.raises(TypeError, match="integer"):
        Detections(frames=[[[1.5]]], scores=[[[0.5]]], num_frames=5)
    with pytest.raises(ValueError, match="num_frames"):
        Detections(frames=[[[]]], scores=[[[]]], num_frames=0)
    with pytest.raises(TypeError, match="frames"):
        Detections(frames=np.zeros((1, 1, 2)), scores=[[[0.5, 0.5]]], num_frames=5)


# ----------------------------------------------------------------------------------------------
# Bad input
# ----------------------------------------------------------------------------------------------


GOOD = np.full((2, 1, 6), 0.5)


@pytest.mark.parametrize("bad", [-0.1, 1.5, math.nan, math.inf])
@pytest.mark.parametrize("function", [
    lambda t: threshold_events(GOOD, t),
    lambda t: peak_picking(GOOD, t),
    lambda t: non_maximum_suppression(GOOD, t, window=1),
])
def test_threshold_out_of_range(function, bad):
    with pytest.raises(ValueError, match="threshold"):
        function(bad)


@pytest.mark.parametrize("bad", [True, "0.5", None])
def test_threshold_wrong_type(bad):
    with pytest.raises(TypeError, match="threshold"):
        threshold_events(GOOD, bad)


@pytest.mark.parametrize("name", ["pre_max", "post_max", "pre_avg", "post_avg", "combine"])
def test_negative_or_fractional_peak_windows(name):
    with pytest.raises(ValueError, match=name):
        peak_picking(GOOD, 0.5, **{name: -1})
    with pytest.raises(TypeError, match=name):
        peak_picking(GOOD, 0.5, **{name: 1.5})
    with pytest.raises(TypeError, match=name):
        peak_picking(GOOD, 0.5, **{name: True})
    with pytest.raises(TypeError, match="delay"):
        peak_picking(GOOD, 0.5, delay=0.5)


def test_bad_window_and_flags():
    with pytest.raises(ValueError, match="window"):
        non_maximum_suppression(GOOD, 0.5, window=-1)
    with pytest.raises(TypeError, match="window"):
        non_maximum_suppression(GOOD, 0.5, window=2.0)
    with pytest.raises(TypeError, match="local_maxima"):
        threshold_events(GOOD, 0.5, local_maxima=1)
    with pytest.raises(TypeError, match="online"):
        peak_picking(GOOD, 0.5, online="yes")
    with pytest.raises(ValueError, match="method"):
        decode(GOOD, "viterbi")
    with pytest.raises(TypeError, match="method"):
        decode(GOOD, None)


@pytest.mark.parametrize("bad,error", [
    (np.full((1, 1, 1, 5), 0.5), ValueError),
    (np.zeros((2, 0, 5)), ValueError),
    (np.zeros((0,)), ValueError),
    (np.ones((1, 1, 5), dtype=np.int64), TypeError),
    (np.ones((1, 1, 5), dtype=bool), TypeError),
    (torch.ones(1, 1, 5, dtype=torch.int32), TypeError),
    (torch.ones(1, 1, 5, dtype=torch.complex64), TypeError),
    ([[0.1, 0.9]], TypeError),
    (np.array([0.1, np.nan, 0.3]), ValueError),
    (torch.tensor([0.1, 1.2]), ValueError),
    (torch.tensor([-0.1, 0.5]), ValueError),
])
@pytest.mark.parametrize("name,decoder", ALL_DECODERS, ids=IDS)
def test_bad_probabilities(name, decoder, bad, error):
    with pytest.raises(error, match="probabilities"):
        decoder(bad)


def test_validate_args_false_skips_value_scans():
    p = np.array([0.1, 1.5, 0.2])
    with pytest.raises(ValueError, match="probabilities"):
        threshold_events(p, 0.5)
    assert frames_of(threshold_events(p, 0.5, validate_args=False)) == [1]


@pytest.mark.parametrize("bad,error", [
    (np.ones((2, 6), dtype=np.int64), TypeError),
    (torch.ones(2, 6), TypeError),
    (np.ones((2, 5), dtype=bool), ValueError),
    (np.ones((6,), dtype=bool), ValueError),  # (T,) is only for 1-D and 2-D probabilities
    (np.ones((1, 2, 6), dtype=bool), ValueError),
    ([[True] * 6] * 2, TypeError),
])
def test_bad_mask(bad, error):
    with pytest.raises(error, match="mask"):
        threshold_events(GOOD, 0.5, mask=bad)
