"""Label misalignment: distribution statistics, reproducibility, policies, report, errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy.special import ndtr, owens_t

from softloc.events import TimeBase, events_to_batch, events_to_frames, frames_to_events
from softloc.noise import (
    Binary,
    CenteredSkewNormal,
    MisalignmentReport,
    Normal,
    Offset,
    RoundedNormal,
    SkewNormal,
    Uniform,
    as_generator,
    distribution_from_dict,
    epoch_generator,
    misalign_events,
    misalign_frames,
)

N_DRAWS = 200_000

DISTRIBUTIONS = [
    Normal(1.5, unit="frames"),
    Normal(0.15, unit="seconds"),
    RoundedNormal(0.4),
    RoundedNormal(3.0),
    Binary(2.0, unit="frames"),
    Binary(0.01, unit="seconds"),
    SkewNormal(1.5, unit="frames"),
    SkewNormal(2.0, unit="frames", alpha=5.0),
    CenteredSkewNormal(1.5, unit="frames"),
    CenteredSkewNormal(0.05, unit="seconds", alpha=-2.0),
    Uniform(-1.0, 3.0, unit="frames"),
    Offset(2.0, unit="frames", jitter=Normal(0.5, unit="frames")),
    Offset(-0.02, unit="seconds", jitter=SkewNormal(0.01, unit="seconds")),
]


# ----------------------------------------------------------------------------------------------
# Distributions
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("distribution", DISTRIBUTIONS, ids=lambda d: d.name)
def test_sample_mean_and_std_match_the_analytic_values(distribution):
    x = distribution.sample(N_DRAWS, generator=12345)
    assert x.shape == (N_DRAWS,) and x.dtype == np.float64
    mu, sigma = distribution.mean, distribution.std
    # mean: within 5 standard errors
    assert abs(x.mean() - mu) <= 5 * sigma / math.sqrt(N_DRAWS)
    # variance about the true mean is unbiased; its standard error is sqrt((mu4 - sigma^4) / n)
    centred = x - mu
    m2 = np.mean(centred**2)
    m4 = np.mean(centred**4)
    standard_error = math.sqrt(max(m4 - m2**2, 0.0) / N_DRAWS)
    assert abs(m2 - sigma**2) <= 5 * standard_error + 1e-12 * sigma**2


def test_skew_normal_moments_and_law_are_the_closed_forms():
    alpha, sigma = -2.0, 1.7
    delta = alpha / math.sqrt(1 + alpha**2)
    uncentred = SkewNormal(sigma, unit="frames", alpha=alpha)
    centred = CenteredSkewNormal(sigma, unit="frames", alpha=alpha)
    assert uncentred.mean == pytest.approx(sigma * delta * math.sqrt(2 / math.pi), rel=1e-14)
    assert uncentred.mean == pytest.approx(-0.7136496 * sigma, rel=1e-6)  # "-0.714 sigma"
    assert centred.mean == 0.0
    assert centred.std == uncentred.std == pytest.approx(sigma * math.sqrt(1 - 2 * delta**2 / math.pi))
    # the draws follow the skew-normal law: CDF Phi(z) - 2 T(z, alpha) (Owen's T), z = x / sigma;
    # Kolmogorov-Smirnov statistic below its 0.1 % critical value 1.95 / sqrt(n) (fixed seed)
    x = uncentred.sample(50_000, generator=3)
    z = np.sort(x) / sigma
    cdf = ndtr(z) - 2 * owens_t(z, alpha)
    n = z.size
    distance = max(np.max(np.arange(1, n + 1) / n - cdf), np.max(cdf - np.arange(n) / n))
    assert distance * math.sqrt(n) < 1.95
    # and its sample moments agree with the closed forms (a second, independent route)
    assert abs(x.mean() - uncentred.mean) <= 5 * uncentred.std / math.sqrt(n)
    y = centred.sample(50_000, generator=3)
    np.testing.assert_allclose(y - x, centred.location, atol=1e-12)  # same shape, moved


def test_rounded_normal_draws_whole_frames_with_the_exact_variance():
    for sigma in (0.3, 1.0, 2.5, 80.0):
        d = RoundedNormal(sigma)
        x = d.sample(1000, generator=0)
        assert np.array_equal(x, np.round(x)) and d.unit == "frames"
        k = np.arange(-int(20 * sigma) - 5, int(20 * sigma) + 6)
        pmf = ndtr((k + 0.5) / sigma) - ndtr((k - 0.5) / sigma)
        assert d.std**2 == pytest.approx(np.sum(k**2 * pmf), rel=1e-9)
    assert RoundedNormal(0.0).std == 0.0
    assert np.array_equal(RoundedNormal(0.0).sample(10, generator=0), np.zeros(10))


def test_binary_uniform_and_offset_supports():
    assert set(Binary(3.0, unit="frames").sample(1000, generator=0)) == {-3.0, 3.0}
    u = Uniform(-1.0, 3.0, unit="frames").sample(10_000, generator=0)
    assert u.min() >= -1.0 and u.max() <= 3.0
    constant = Offset(0.25, unit="seconds")
    assert constant.mean == 0.25 and constant.std == 0.0
    assert np.array_equal(constant.sample(5, generator=0), np.full(5, 0.25))


def test_seeds_reproduce_exactly_and_generators_advance():
    for d in DISTRIBUTIONS:
        assert np.array_equal(d.sample(100, generator=7), d.sample(100, generator=7))
        assert np.array_equal(d.sample(100, np.random.default_rng(7)), d.sample(100, generator=7))
        if d.std > 0:
            assert not np.array_equal(d.sample(100, generator=7), d.sample(100, generator=8))
            rng = np.random.default_rng(7)
            assert not np.array_equal(d.sample(100, rng), d.sample(100, rng))
    assert as_generator(5).random() == np.random.default_rng(5).random()
    rng = np.random.default_rng(1)
    assert as_generator(rng) is rng


def test_epoch_generator_redraws_per_epoch_and_reproduces():
    d = Normal(1.0, unit="frames")
    draws = [d.sample(50, epoch_generator(42, epoch)) for epoch in range(4)]
    again = [d.sample(50, epoch_generator(42, epoch)) for epoch in range(4)]
    assert all(np.array_equal(a, b) for a, b in zip(draws, again))
    assert all(not np.array_equal(draws[i], draws[j]) for i in range(4) for j in range(i))
    children = np.random.SeedSequence(42).spawn(2)
    assert np.array_equal(draws[1], d.sample(50, np.random.default_rng(children[1])))
    assert not np.array_equal(draws[0], d.sample(50, epoch_generator(43, 0)))

    labels = np.zeros((2, 100), dtype=np.float32)
    labels[:, 10::10] = 1
    first = misalign_frames(labels, d, generator=epoch_generator(0, 1), outside="clip").labels
    second = misalign_frames(labels, d, generator=epoch_generator(0, 1), outside="clip").labels
    other = misalign_frames(labels, d, generator=epoch_generator(0, 2), outside="clip").labels
    assert np.array_equal(first, second) and not np.array_equal(first, other)


def test_distribution_to_dict_round_trips():
    for d in DISTRIBUTIONS + [Offset(1.0, unit="frames"), RoundedNormal(2.0)]:
        spec = d.to_dict()
        assert spec["name"] == d.name and spec["unit"] == d.unit
        assert spec["mean"] == d.mean and spec["std"] == d.std
        assert distribution_from_dict(spec) == d
    assert Normal(0.15, unit="seconds").to_dict() == {
        "name": "normal", "sigma": 0.15, "unit": "seconds", "mean": 0.0, "std": 0.15,
    }


# ----------------------------------------------------------------------------------------------
# The paper's 26 % figure
# ----------------------------------------------------------------------------------------------


def test_normal_150ms_leaves_26_percent_within_50ms():
    expected = math.erf((50 / 150) / math.sqrt(2))  # = 2 Phi(50/150) - 1
    assert round(expected, 4) == 0.2611
    times = np.linspace(0.0, 1000.0, N_DRAWS)
    out = misalign_events([times], Normal(0.150, unit="seconds"), generator=2021, outside="keep",
                          time_base=TimeBase(fps=200.0))
    report = out.report
    assert report.num_events == N_DRAWS and report.num_dropped == 0
    fraction = report.fraction_within(0.050)
    assert abs(fraction - expected) <= 5 * math.sqrt(expected * (1 - expected) / N_DRAWS)
    assert report.fraction_within(10.0, unit="frames") == fraction  # 50 ms = 10 frames at 200 fps
    assert abs(report.std_shift - 0.150) <= 5 * 0.150 / math.sqrt(2 * N_DRAWS)
    assert abs(report.mean_abs_shift - 0.150 * math.sqrt(2 / math.pi)) <= 5 * 0.150 / math.sqrt(N_DRAWS)


# ----------------------------------------------------------------------------------------------
# Policies on frame labels
# ----------------------------------------------------------------------------------------------


def test_frame_policies_with_a_constant_shift_are_exact():
    labels = np.zeros((2, 10), dtype=np.float32)
    labels[0, [0, 3, 8, 9]] = 1
    labels[1, 9] = 2
    shift = Offset(2.0, unit="frames")

    clipped = misalign_frames(labels, shift, generator=0, outside="clip")
    assert clipped.labels.dtype == np.float32
    assert clipped.labels[0].tolist() == [0, 0, 1, 0, 0, 1, 0, 0, 0, 2]
    assert clipped.labels[1].tolist() == [0] * 9 + [2]
    r = clipped.report
    assert (r.num_events, r.num_clipped, r.num_dropped, r.num_outside) == (6, 4, 0, 0)
    assert r.num_collisions == 2 and r.num_merged == 0
    assert r.shifts.tolist() == [2, 2, 1, 0, 0, 0]  # class 0: frames 0, 3, 8, 9; class 1: 9, 9
    assert r.num_moved == 3 and r.max_abs_shift == 2.0
    assert r.fraction_within(0) == 0.5

    merged = misalign_frames(labels, shift, generator=0, outside="clip", collisions="merge")
    assert merged.labels[0].tolist() == [0, 0, 1, 0, 0, 1, 0, 0, 0, 1]
    assert merged.labels[1].tolist() == [0] * 9 + [1]
    assert merged.report.num_merged == merged.report.num_collisions == 2
    with pytest.raises(ValueError, match="collisions='error'"):
        misalign_frames(labels, shift, generator=0, outside="clip", collisions="error")

    dropped = misalign_frames(labels, shift, generator=0, outside="drop")
    assert dropped.labels[0].tolist() == [0, 0, 1, 0, 0, 1, 0, 0, 0, 0]
    assert dropped.labels[1].sum() == 0
    r = dropped.report
    assert (r.num_clipped, r.num_dropped, r.num_outside, r.num_located) == (0, 4, 0, 2)
    assert r.num_moved == 6 and r.mean_shift == 2.0
    assert np.isnan(r.shifts[2:]).all()
    assert r.fraction_within(2) == pytest.approx(2 / 6)  # dropped events are not within
    assert [a.tolist() for a in dropped.outside_frames] == [[], []]

    kept = misalign_frames(labels, shift, generator=0, outside="keep")
    assert np.array_equal(kept.labels, dropped.labels)
    assert [a.tolist() for a in kept.outside_frames] == [[10, 11], [11, 11]]
    r = kept.report
    assert (r.num_clipped, r.num_dropped, r.num_outside, r.num_located) == (0, 0, 4, 6)
    assert r.fraction_within(2) == 1.0

    back = misalign_frames(labels, Offset(-1.0, unit="frames"), generator=0, outside="keep")
    assert [a.tolist() for a in back.outside_frames] == [[-1], []]


@pytest.mark.parametrize("outside", ["clip", "drop", "keep"])
@pytest.mark.parametrize("collisions", ["count", "merge"])
def test_frame_policies_with_random_shifts_match_a_direct_computation(outside, collisions):
    rng = np.random.default_rng(0)
    labels = torch.from_numpy(rng.choice([0, 0, 0, 0, 1, 2], size=(3, 4, 40))).to(torch.float64)
    lengths = np.array([40, 25, 31])
    labels[1, :, 25:] = 0
    labels[2, :, 31:] = 0
    mask = torch.arange(40)[None, :] < torch.from_numpy(lengths)[:, None]
    distribution = Normal(6.0, unit="frames")
    out = misalign_frames(labels, distribution, generator=99, outside=outside,
                          collisions=collisions, mask=mask)
    assert out.labels.dtype == torch.float64 and out.labels.shape == labels.shape

    # the same draws, in the documented order (sequence, class, frame; one per event)
    counts = labels.numpy().astype(int)
    seq, cls, frame = np.nonzero(counts)
    reps = counts[seq, cls, frame]
    seq, cls, frame = (np.repeat(a, reps) for a in (seq, cls, frame))
    moved = frame + np.floor(distribution.sample(frame.size, 99) + 0.5).astype(int)
    length = lengths[seq]
    beyond = (moved < 0) | (moved >= length)
    if outside == "clip":
        moved = np.clip(moved, 0, length - 1)
    placed = ~beyond if outside != "clip" else np.ones_like(beyond)
    expected = np.zeros_like(counts)
    np.add.at(expected, (seq[placed], cls[placed], moved[placed]), 1)
    collided = int(np.maximum(expected - 1, 0).sum())
    if collisions == "merge":
        expected = np.minimum(expected, 1)

    np.testing.assert_array_equal(out.labels.numpy(), expected)
    assert not bool((out.labels * ~mask[:, None, :]).any())  # padding stays empty
    r = out.report
    assert r.num_events == counts.sum()
    assert r.num_clipped == (beyond.sum() if outside == "clip" else 0)
    assert r.num_dropped == (beyond.sum() if outside == "drop" else 0)
    assert r.num_outside == (beyond.sum() if outside == "keep" else 0)
    assert r.num_collisions == collided
    assert r.num_merged == (collided if collisions == "merge" else 0)
    assert beyond.sum() > 0 and collided > 0  # the case exercises the policies
    assert r.num_events - r.num_dropped - r.num_outside - r.num_merged == out.labels.sum()
    if outside == "keep":
        kept = sum(a.size for row in out.outside_frames for a in row)
        assert kept == beyond.sum()
        for n in range(3):
            for c in range(4):
                frames = out.outside_frames[n][c]
                assert np.all((frames < 0) | (frames >= lengths[n]))
                expected_frames = np.sort(moved[beyond & (seq == n) & (cls == c)])
                assert np.array_equal(frames, expected_frames)


def test_seconds_distribution_on_frames_quantises_like_event_times():
    base = TimeBase(fps=100.0)
    labels = np.zeros((1, 500), dtype=np.int64)
    labels[0, 50:450:7] = 1
    in_seconds = misalign_frames(labels, Normal(0.03, unit="seconds"), generator=5, outside="drop",
                                 time_base=base)
    # the same event times shifted in seconds, then put on frames
    times = frames_to_events(labels, time_base=base)
    shifted = times[0] + Normal(0.03, unit="seconds").sample(times[0].size, 5)
    direct = events_to_frames([np.sort(shifted)], time_base=base, num_frames=500, outside="drop")
    np.testing.assert_array_equal(in_seconds.labels, direct.labels)
    assert in_seconds.report.fps == 100.0
    report = in_seconds.report
    assert report.fraction_within(0.03, unit="seconds") == report.fraction_within(3)


def test_rounded_normal_golf_protocol_once_per_dataset():
    # golf: RoundedNormal(sigma) frames, drawn once (one seed), events beyond the clip dropped
    batch = events_to_batch([[[0.0, 0.3]], [[0.1, 0.2, 0.5]]], time_base=TimeBase(fps=10.0),
                            num_frames=[4, 6])
    noisy = misalign_frames(batch.labels, RoundedNormal(2.0), generator=11, outside="drop",
                            mask=batch.mask)
    again = misalign_frames(batch.labels, RoundedNormal(2.0), generator=11, outside="drop",
                            mask=batch.mask)
    assert torch.equal(noisy.labels, again.labels)
    shifts = noisy.report.shifts
    located = shifts[~np.isnan(shifts)]
    assert np.array_equal(located, np.round(located))
    assert noisy.labels.sum() + noisy.report.num_dropped == 5


# ----------------------------------------------------------------------------------------------
# Policies on event times
# ----------------------------------------------------------------------------------------------


def test_event_time_policies_are_exact():
    events = [np.array([0.1, 0.5, 0.95]), np.array([0.9])]
    shift = Offset(0.2, unit="seconds")
    clipped = misalign_events(events, shift, generator=0, outside="clip", span=(0.0, 1.0))
    assert [t.tolist() for t in clipped.events] == [[0.30000000000000004, 0.7, 1.0], [1.0]]
    assert clipped.report.num_clipped == 2 and clipped.report.unit == "seconds"
    np.testing.assert_allclose(clipped.report.shifts, [0.2, 0.2, 0.05, 0.1])

    dropped = misalign_events(events, shift, generator=0, outside="drop", span=(0.0, 1.0))
    assert [t.size for t in dropped.events] == [2, 0]
    assert dropped.report.num_dropped == 2 and dropped.report.num_located == 2

    kept = misalign_events(events, shift, generator=0, outside="keep", span=(0.0, 1.0))
    np.testing.assert_allclose(kept.events[0], [0.3, 0.7, 1.15])
    assert kept.report.num_outside == 2 and kept.report.num_clipped == 0
    no_span = misalign_events(events, shift, generator=0, outside="keep")
    assert no_span.report.num_outside == 0  # nothing to be outside of
    assert all(np.array_equal(a, b) for a, b in zip(no_span.events, kept.events))


def test_event_times_with_random_shifts_match_a_direct_computation():
    rng = np.random.default_rng(1)
    events = [np.sort(rng.uniform(0, 10, 300)), np.sort(rng.uniform(0, 10, 200))]
    base = TimeBase(fps=50.0)
    d = RoundedNormal(30.0)  # whole frames, applied to seconds through the time base
    draws = d.sample(500, 4) / base.fps
    flat = np.concatenate(events) + draws
    outside_count = int(np.count_nonzero((flat < 0) | (flat > 10)))
    assert outside_count > 0
    for policy in ("clip", "drop", "keep"):
        out = misalign_events(events, d, generator=4, outside=policy, span=(0.0, 10.0), time_base=base)
        counts = (out.report.num_clipped, out.report.num_dropped, out.report.num_outside)
        assert counts == {
            "clip": (outside_count, 0, 0), "drop": (0, outside_count, 0), "keep": (0, 0, outside_count),
        }[policy]
        assert all(np.all(np.diff(t) >= 0) for t in out.events)  # sorted again
        if policy == "keep":
            got = np.concatenate(out.events)
            np.testing.assert_allclose(np.sort(got), np.sort(flat))
            expected = np.round(draws * base.fps)
            np.testing.assert_allclose(out.report.shifts * base.fps, expected, atol=1e-9)


# ----------------------------------------------------------------------------------------------
# Report
# ----------------------------------------------------------------------------------------------


def test_report_statistics_and_to_dict():
    report = MisalignmentReport(unit="frames", shifts=np.array([0.0, -2.0, 1.0, np.nan]),
                                num_dropped=1, fps=100.0)
    assert report.num_events == 4 and report.num_located == 3 and report.num_moved == 3
    assert report.mean_shift == pytest.approx(-1 / 3)
    assert report.std_shift == pytest.approx(np.std([0.0, -2.0, 1.0]))
    assert report.mean_abs_shift == 1.0 and report.max_abs_shift == 2.0
    assert report.std_abs_shift == pytest.approx(np.std([0.0, 2.0, 1.0]))
    np.testing.assert_array_equal(report.shifts_in("seconds"), [0.0, -0.02, 0.01, np.nan])
    np.testing.assert_array_equal(report.shifts_in("frames"), report.shifts)
    assert report.fraction_within(1) == 0.5
    assert report.fraction_within(0.01, unit="seconds") == 0.5
    spec = report.to_dict()
    assert spec["num_events"] == 4 and spec["num_dropped"] == 1 and spec["max_abs_shift"] == 2.0
    empty = MisalignmentReport(unit="seconds", shifts=np.zeros(0))
    assert math.isnan(empty.fraction_within(0.1)) and math.isnan(empty.mean_shift)
    with pytest.raises(ValueError, match="no fps to convert"):
        empty.fraction_within(1, unit="frames")


# ----------------------------------------------------------------------------------------------
# Errors name the argument
# ----------------------------------------------------------------------------------------------

LABELS = np.zeros((1, 10))


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: Normal(-1.0, unit="frames"), ValueError, "sigma must be >= 0"),
        (lambda: Normal(float("nan"), unit="frames"), ValueError, "sigma must be finite"),
        (lambda: Normal("1", unit="frames"), TypeError, "sigma must be a number"),
        (lambda: Normal(1.0, unit="ms"), ValueError, "unit must be one of"),
        (lambda: RoundedNormal(-0.5), ValueError, "sigma must be >= 0"),
        (lambda: Binary(-1.0, unit="frames"), ValueError, "delta must be >= 0"),
        (lambda: SkewNormal(-1.0, unit="frames"), ValueError, "sigma must be >= 0"),
        (lambda: CenteredSkewNormal(1.0, unit="frames", alpha=float("inf")), ValueError,
         "alpha must be finite"),
        (lambda: Uniform(2.0, 1.0, unit="frames"), ValueError, "low must be <= high"),
        (lambda: Offset(1.0, unit="frames", jitter=Normal(1.0, unit="seconds")), ValueError,
         "jitter must be in the offset's unit"),
        (lambda: Offset(1.0, unit="frames", jitter=1.0), TypeError,
         "jitter must be a ShiftDistribution"),
        (lambda: Normal(1.0, unit="frames").sample(-1, 0), ValueError, "n must be >= 0"),
        (lambda: Normal(1.0, unit="frames").sample(2.0, 0), TypeError, "n must be an int"),
        (lambda: Normal(1.0, unit="frames").sample(2, -3), ValueError, "generator must be an int seed"),
        (lambda: Normal(1.0, unit="frames").sample(2, torch.Generator()), TypeError,
         "generator must be a numpy.random.Generator"),
        (lambda: Normal(1.0, unit="frames").sample(2, None), TypeError,
         "generator must be a numpy.random.Generator"),
        (lambda: epoch_generator(0, -1), ValueError, "epoch must be >= 0"),
        (lambda: distribution_from_dict({"name": "cauchy"}), ValueError, r"spec\['name'\] must be"),
        (lambda: distribution_from_dict({"name": "normal", "sigma": 1.0}), ValueError,
         "spec does not describe a normal"),
        (lambda: misalign_events([[0.2, 0.1]], Normal(1.0, unit="seconds"), generator=0,
                                 outside="keep"),
         ValueError, r"events\[0\] must be sorted"),
        (lambda: misalign_events([[np.nan]], Normal(1.0, unit="seconds"), generator=0, outside="keep"),
         ValueError, r"events\[0\] must hold finite times"),
        (lambda: misalign_events([[0.1]], Normal(1.0, unit="seconds"), generator=0, outside="wrap"),
         ValueError, "outside must be one of"),
        (lambda: misalign_events([[0.1]], Normal(1.0, unit="seconds"), generator=0, outside="clip"),
         ValueError, r"span=\(start, end\) in seconds is needed"),
        (lambda: misalign_events([[0.1]], Normal(1.0, unit="seconds"), generator=0, outside="clip",
                                 span=(1.0, 0.0)), ValueError, "span must have start <= end"),
        (lambda: misalign_events([[0.1]], RoundedNormal(1.0), generator=0, outside="keep"),
         ValueError, "time_base is needed"),
        (lambda: misalign_events([[0.1]], 0.1, generator=0, outside="keep"), TypeError,
         "distribution must be a softloc.noise.ShiftDistribution"),
        (lambda: misalign_frames(LABELS, Normal(1.0, unit="seconds"), generator=0, outside="clip"),
         ValueError, "time_base is needed"),
        (lambda: misalign_frames(np.zeros(10), Normal(1.0, unit="frames"), generator=0, outside="clip"),
         ValueError, r"labels must have shape \(C, T\) or \(N, C, T\)"),
        (lambda: misalign_frames(np.full((1, 3), 0.5), Normal(1.0, unit="frames"), generator=0,
                                 outside="clip"), ValueError, "labels must hold whole event counts"),
        (lambda: misalign_frames(np.full((1, 3), np.nan), Normal(1.0, unit="frames"), generator=0,
                                 outside="clip"), ValueError, "labels must be finite"),
        (lambda: misalign_frames(LABELS, Normal(1.0, unit="frames"), generator=0, outside="clip",
                                 collisions="add"), ValueError, "collisions must be one of"),
        (lambda: misalign_frames(LABELS, Normal(1.0, unit="frames"), generator=0, outside="clip",
                                 mask=np.ones((1, 10), bool)),
         ValueError, "labels of shape \\(C, T\\) take no mask"),
        (lambda: misalign_frames(np.ones((2, 1, 3)), Normal(1.0, unit="frames"), generator=0,
                                 outside="clip",
                                 mask=np.array([[True, True, True], [True, False, False]])),
         ValueError, "labels hold events on padded steps"),
        (lambda: misalign_frames(np.ones((1, 3), bool) | np.eye(1, 3, dtype=bool),
                                 Offset(-5.0, unit="frames"), generator=0, outside="clip"),
         ValueError, "labels are boolean"),
    ],
)
def test_bad_input_raises_naming_the_argument(call, error, message):
    with pytest.raises(error, match=message):
        call()
