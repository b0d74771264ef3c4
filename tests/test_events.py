"""Event lists <-> frame labels: round trips, collision and outside policies, batches, errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from softloc.events import (
    FramingReport,
    TimeBase,
    batch_to_events,
    events_to_batch,
    events_to_frames,
    flatten_events,
    frames_to_events,
    group_events,
    pad_frame_labels,
)
from softloc.losses import counting_loss, softloc_loss

BASE = TimeBase(fps=100.0)


# ----------------------------------------------------------------------------------------------
# TimeBase (existing conventions)
# ----------------------------------------------------------------------------------------------


def test_time_base_nearest_frame_and_exact_inverse():
    base = TimeBase(fps=200.0, offset=0.0125)
    frames = np.arange(-5, 5000)
    assert np.array_equal(base.frames_of(base.times_of(frames)), frames)
    # half a frame after a frame's time goes to the later frame, just before it to the earlier
    assert base.frames_of([0.0125 + 0.0025 - 1e-9, 0.0125 + 0.0025 + 1e-9]).tolist() == [0, 1]


# ----------------------------------------------------------------------------------------------
# Round trips
# ----------------------------------------------------------------------------------------------

fps_values = st.sampled_from([10.0, 25.0, 100.0, 200.0, 44100.0 / 512.0])


@settings(max_examples=50, deadline=None)
@given(
    fps=fps_values,
    offset=st.floats(-1.0, 1.0, allow_nan=False),
    num_frames=st.integers(1, 300),
    data=st.data(),
)
def test_times_to_frames_to_times_within_half_a_frame(fps, offset, num_frames, data):
    base = TimeBase(fps=fps, offset=offset)
    low = base.times_of(0) - 0.49 / fps
    high = base.times_of(num_frames - 1) + 0.49 / fps
    num_classes = data.draw(st.integers(1, 3))
    events = [
        np.sort(np.array(data.draw(st.lists(st.floats(low, high), max_size=20)), dtype=np.float64))
        for _ in range(num_classes)
    ]
    framed = events_to_frames(events, time_base=base, num_frames=num_frames)
    assert framed.labels.shape == (num_classes, num_frames)
    assert framed.report.num_outside == 0 and framed.report.num_merged == 0
    back = frames_to_events(framed.labels, time_base=base)
    for original, recovered in zip(events, back):
        assert recovered.shape == original.shape  # 'count' keeps every event
        assert np.all(np.abs(recovered - original) <= 0.5 / fps + 1e-9)


@settings(max_examples=50, deadline=None)
@given(
    fps=fps_values,
    offset=st.floats(-1.0, 1.0, allow_nan=False),
    shape=st.tuples(st.integers(1, 4), st.integers(1, 200)),
    seed=st.integers(0, 2**32 - 1),
)
def test_frames_to_times_to_frames_is_exact(fps, offset, shape, seed):
    base = TimeBase(fps=fps, offset=offset)
    rng = np.random.default_rng(seed)
    labels = rng.choice([0, 0, 0, 1, 2, 3], size=shape).astype(np.float32)
    events = frames_to_events(labels, time_base=base)
    framed = events_to_frames(events, time_base=base, num_frames=shape[1])
    np.testing.assert_array_equal(framed.labels, labels)
    assert framed.report.num_events == labels.sum()
    assert framed.report.num_collisions == np.maximum(labels - 1, 0).sum()
    merged = events_to_frames(events, time_base=base, num_frames=shape[1], collisions="merge")
    np.testing.assert_array_equal(merged.labels, np.minimum(labels, 1))


# ----------------------------------------------------------------------------------------------
# Collisions and events outside
# ----------------------------------------------------------------------------------------------


def test_collision_policies_are_counted_exactly():
    # class 0: three events on frame 1, two on frame 4; class 1: one event
    events = [[0.01, 0.012, 0.014, 0.04, 0.0449], [0.02]]
    counted = events_to_frames(events, time_base=BASE, num_frames=6, collisions="count")
    assert counted.labels.tolist() == [[0, 3, 0, 0, 2, 0], [0, 0, 1, 0, 0, 0]]
    assert counted.report == FramingReport(num_events=6, num_outside=0, num_collisions=3, num_merged=0)
    assert counted.report.num_placed == counted.labels.sum() == 6

    merged = events_to_frames(events, time_base=BASE, num_frames=6, collisions="merge")
    assert merged.labels.tolist() == [[0, 1, 0, 0, 1, 0], [0, 0, 1, 0, 0, 0]]
    assert merged.report.num_collisions == merged.report.num_merged == 3
    assert merged.report.num_placed == merged.labels.sum() == 3
    assert merged.report.num_lost == 3

    with pytest.raises(ValueError, match="collisions='error' and 3 events"):
        events_to_frames(events, time_base=BASE, num_frames=6, collisions="error")
    distinct = events_to_frames([[0.01, 0.02]], time_base=BASE, num_frames=6, collisions="error")
    assert distinct.labels.tolist() == [[0, 1, 1, 0, 0, 0]]


def test_outside_policies_are_counted_exactly():
    # frames -1, 0, 4, 5, 7 with T = 5: three outside (-1, 5, 7)
    events = [[-0.01, -0.004, 0.04, 0.05], [0.07]]
    with pytest.raises(ValueError, match="3 events of events fall outside the frames"):
        events_to_frames(events, time_base=BASE, num_frames=5)
    dropped = events_to_frames(events, time_base=BASE, num_frames=5, outside="drop")
    assert dropped.labels.tolist() == [[1, 0, 0, 0, 1], [0, 0, 0, 0, 0]]
    assert dropped.report.num_outside == 3
    assert dropped.report.num_placed == 2
    assert dropped.report.to_dict() == {
        "num_events": 5, "num_outside": 3, "num_collisions": 0, "num_merged": 0,
        "num_placed": 2, "num_lost": 3,
    }


def test_dtype_and_input_types():
    events = [torch.tensor([0.0, 0.02]), np.array([0.01])]
    out = events_to_frames(events, time_base=BASE, num_frames=3, dtype=np.int64)
    assert out.labels.dtype == np.int64
    assert out.labels.tolist() == [[1, 0, 1], [0, 1, 0]]
    assert frames_to_events(torch.tensor(out.labels), time_base=BASE)[0].tolist() == [0.0, 0.02]
    assert frames_to_events(np.array([[False, True]]), time_base=BASE)[0].tolist() == [0.01]
    empty = events_to_frames([[], []], time_base=BASE, num_frames=2)
    assert empty.labels.tolist() == [[0, 0], [0, 0]] and empty.report.num_events == 0


# ----------------------------------------------------------------------------------------------
# Batches
# ----------------------------------------------------------------------------------------------


def test_events_to_batch_pads_with_mask_and_reports():
    batch_events = [
        [[0.0, 0.001, 0.02], [0.01]],          # 3 frames; a collision on frame 0
        [[0.05], []],                          # 6 frames
        [[0.03, 0.09], [0.005]],               # 4 frames; 0.09 outside, 0.005 -> frame 1
    ]
    batch = events_to_batch(
        batch_events, time_base=BASE, num_frames=[3, 6, 4], outside="drop", dtype=torch.float64
    )
    assert batch.labels.shape == (3, 2, 6) and batch.labels.dtype == torch.float64
    assert batch.mask.dtype == torch.bool and batch.mask.shape == (3, 6)
    assert batch.lengths.tolist() == [3, 6, 4]
    assert batch.mask.sum(dim=1).tolist() == [3, 6, 4]
    assert batch.mask[0].tolist() == [True, True, True, False, False, False]
    assert batch.labels[0].tolist() == [[2, 0, 1, 0, 0, 0], [0, 1, 0, 0, 0, 0]]
    assert batch.labels[1].tolist() == [[0, 0, 0, 0, 0, 1], [0, 0, 0, 0, 0, 0]]
    assert batch.labels[2].tolist() == [[0, 0, 0, 1, 0, 0], [0, 1, 0, 0, 0, 0]]
    assert not bool((batch.labels * ~batch.mask[:, None, :]).any())  # zero on padding
    assert [r.num_collisions for r in batch.reports] == [1, 0, 0]
    assert [r.num_outside for r in batch.reports] == [0, 0, 1]
    assert batch.report == FramingReport(num_events=8, num_outside=1, num_collisions=1, num_merged=0)
    assert batch.to_dict()["lengths"] == [3, 6, 4]

    back = batch_to_events(batch.labels, time_base=BASE, mask=batch.mask)
    assert [[t.tolist() for t in events] for events in back] == [
        [[0.0, 0.0, 0.02], [0.01]], [[0.05], []], [[0.03], [0.01]],
    ]

    # the losses take the batch as it is: counts are whole, the mask has the right shape
    logits = torch.zeros(3, 2, 6, dtype=torch.float64)
    loss = counting_loss(logits, batch.labels, mask=batch.mask, reduction="none")
    assert loss.shape == (3, 2) and bool(torch.isfinite(loss).all())
    softloc_loss(logits, batch.labels, softness=1.0, alpha=0.5, mask=batch.mask)


def test_events_to_batch_single_length_and_class_mismatch():
    batch = events_to_batch([[[0.0]], [[0.01]]], time_base=BASE, num_frames=2)
    assert batch.mask.all() and batch.labels.shape == (2, 1, 2)
    with pytest.raises(ValueError, match=r"batch_events\[1\] has 2 classes"):
        events_to_batch([[[0.0]], [[0.0], [0.1]]], time_base=BASE, num_frames=2)
    with pytest.raises(ValueError, match="num_frames must hold one length per sequence"):
        events_to_batch([[[0.0]], [[0.0]]], time_base=BASE, num_frames=[2])
    with pytest.raises(ValueError, match=r"num_frames\[1\] must be >= 1"):
        events_to_batch([[[0.0]], [[0.0]]], time_base=BASE, num_frames=[2, 0])
    with pytest.raises(ValueError, match=r"events of batch_events\[0\] fall outside"):
        events_to_batch([[[0.5]]], time_base=BASE, num_frames=2)


def test_pad_frame_labels_and_batch_to_events_guards_padding():
    a = np.array([[1, 0, 2], [0, 1, 0]])
    b = torch.tensor([[0], [1]])
    batch = pad_frame_labels([a, b], dtype=torch.float32)
    assert batch.labels.shape == (2, 2, 3) and batch.labels.dtype == torch.float32
    assert batch.lengths.tolist() == [3, 1]
    assert batch.mask.tolist() == [[True, True, True], [True, False, False]]
    assert batch.labels[1].tolist() == [[0, 0, 0], [1, 0, 0]]
    assert batch.report is None and batch.reports == ()
    events = batch_to_events(batch.labels, time_base=BASE, mask=batch.mask)
    assert [t.tolist() for t in events[0]] == [[0.0, 0.02, 0.02], [0.01]]

    bad = batch.labels.clone()
    bad[1, 0, 2] = 1.0  # an event on a padded step
    with pytest.raises(ValueError, match="labels hold events on padded steps"):
        batch_to_events(bad, time_base=BASE, mask=batch.mask)
    with pytest.raises(ValueError, match=r"labels\[1\] has 3 classes"):
        pad_frame_labels([a, np.zeros((3, 2))])
    with pytest.raises(ValueError, match="mask must mark a prefix"):
        batch_to_events(batch.labels, time_base=BASE, mask=torch.tensor([[True, False, True]] * 2))


# ----------------------------------------------------------------------------------------------
# Flat (time, class) pairs
# ----------------------------------------------------------------------------------------------


def test_group_and_flatten_events():
    times = np.array([0.4, 0.1, 0.3, 0.1, 0.2])
    classes = np.array([2, 0, 0, 2, 0])
    events = group_events(times, classes, num_classes=4)
    assert [t.tolist() for t in events] == [[0.1, 0.2, 0.3], [], [0.1, 0.4], []]
    flat_times, flat_classes = flatten_events(events)
    assert flat_times.tolist() == [0.1, 0.1, 0.2, 0.3, 0.4]
    assert flat_classes.tolist() == [0, 2, 0, 0, 2]
    regrouped = group_events(flat_times, flat_classes, num_classes=4)
    assert all(np.array_equal(x, y) for x, y in zip(regrouped, events))


# ----------------------------------------------------------------------------------------------
# Errors name the argument
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: events_to_frames([[0.2, 0.1]], time_base=BASE, num_frames=40), ValueError,
         r"events\[0\] must be sorted ascending"),
        (lambda: events_to_frames([[0.1], [0.1, np.nan]], time_base=BASE, num_frames=40), ValueError,
         r"events\[1\] must hold finite times"),
        (lambda: events_to_frames([[np.inf]], time_base=BASE, num_frames=40), ValueError,
         r"events\[0\] must hold finite times"),
        (lambda: events_to_frames([0.1, 0.2], time_base=BASE, num_frames=40), ValueError,
         "wrap it in a list for a single class"),
        (lambda: events_to_frames(np.array([0.1, 0.2]), time_base=BASE, num_frames=40), ValueError,
         "wrap it in a list for a single class"),
        (lambda: events_to_frames([[[0.1]]], time_base=BASE, num_frames=40), ValueError,
         r"events\[0\] must be a 1-D array"),
        (lambda: events_to_frames([], time_base=BASE, num_frames=40), ValueError,
         "events must hold at least one class"),
        (lambda: events_to_frames("0.1", time_base=BASE, num_frames=40), TypeError,
         "events must be a sequence"),
        (lambda: events_to_frames([["a"]], time_base=BASE, num_frames=40), TypeError,
         r"events\[0\] must hold real numbers"),
        (lambda: events_to_frames([[0.1]], time_base=BASE, num_frames=0), ValueError,
         "num_frames must be >= 1"),
        (lambda: events_to_frames([[0.1]], time_base=BASE, num_frames=2.0), TypeError,
         "num_frames must be an int"),
        (lambda: events_to_frames([[0.1]], time_base=100.0, num_frames=40), TypeError,
         "time_base must be a softloc.events.TimeBase"),
        (lambda: events_to_frames([[0.1]], time_base=BASE, num_frames=40, collisions="sum"),
         ValueError, "collisions must be one of"),
        (lambda: events_to_frames([[0.1]], time_base=BASE, num_frames=40, outside="clip"),
         ValueError, "outside must be one of"),
        (lambda: frames_to_events(np.zeros(5), time_base=BASE), ValueError,
         r"labels must have shape \(C, T\)"),
        (lambda: frames_to_events(np.full((1, 3), 0.5), time_base=BASE), ValueError,
         "labels must hold whole event counts"),
        (lambda: frames_to_events(np.full((1, 3), -1), time_base=BASE), ValueError,
         "labels must hold event counts >= 0"),
        (lambda: frames_to_events(np.full((1, 3), np.nan), time_base=BASE), ValueError,
         "labels must be finite"),
        (lambda: batch_to_events(np.zeros((2, 3)), time_base=BASE), ValueError,
         r"labels must have shape \(N, C, T\)"),
        (lambda: batch_to_events(np.zeros((2, 1, 3)), time_base=BASE, mask=np.ones((2, 4), bool)),
         ValueError, r"mask must have shape \(N, T\)"),
        (lambda: batch_to_events(np.zeros((2, 1, 3)), time_base=BASE, mask=np.ones((2, 3))),
         TypeError, "mask must be boolean"),
        (lambda: group_events([0.1, 0.2], [0, -1], num_classes=2), ValueError,
         "classes must be >= 0; found -1 at index 1"),
        (lambda: group_events([0.1, 0.2], [0, 2], num_classes=2), ValueError,
         "classes must be < num_classes = 2"),
        (lambda: group_events([0.1, 0.2], [0], num_classes=2), ValueError,
         "classes must have one index per time"),
        (lambda: group_events([0.1], [0.5], num_classes=2), TypeError,
         "classes must hold integer class indices"),
        (lambda: group_events([[0.1]], [0], num_classes=2), ValueError,
         "times must be a 1-D array"),
        (lambda: group_events([np.nan], [0], num_classes=2), ValueError,
         "times must hold finite times"),
        (lambda: group_events([0.1], [0], num_classes=0), ValueError, "num_classes must be >= 1"),
        (lambda: events_to_batch([], time_base=BASE, num_frames=2), ValueError,
         "batch_events must hold at least one event list"),
        (lambda: pad_frame_labels(np.zeros((2, 1, 3))), TypeError,
         "labels must be a sequence of N"),
    ],
)
def test_bad_input_raises_naming_the_argument(call, error, message):
    with pytest.raises(error, match=message):
        call()
