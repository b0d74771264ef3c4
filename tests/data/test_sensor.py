"""Wearable-sensor data: generator statistics and options, windows, folds, normalisation, loader."""

from __future__ import annotations

import json
import math
from dataclasses import replace

import numpy as np
import pytest
import torch

from softloc.data import (
    CYCLE_KINDS,
    DISTRACTOR_KINDS,
    PUFFMARKER_USERS,
    FeatureNormalizer,
    SensorConfig,
    SensorDataset,
    SensorSession,
    generate_sensor_dataset,
    load_puffmarker,
    save_puffmarker,
)

SMALL = SensorConfig(num_subjects=3, sessions_per_subject=2, session_length=(120, 200))


def _arrays(dataset: SensorDataset, *names: str) -> list[np.ndarray]:
    return [np.concatenate([getattr(s, name) for s in dataset.sessions]) for name in names]


def _background(session: SensorSession, distance: int = 4) -> np.ndarray:
    """Normal, artifact-free cycles at least ``distance`` steps from every puff."""
    puffs = np.flatnonzero(session.labels)
    steps = np.arange(session.length)
    far = np.min(np.abs(steps[:, None] - puffs[None, :]), axis=1) >= distance
    return far & (session.kinds == 0) & ~session.artifacts


def _signature_profile(dataset: SensorDataset, offsets=range(-3, 4)) -> dict[int, float]:
    """Mahalanobis distance (the separability of the best linear discriminant with a shared
    covariance) between the cycles at ``offset`` from a puff and background cycles."""
    data = dataset.normalize(FeatureNormalizer.fit(dataset))
    background = np.concatenate(
        [s.features[_background(s)] for s in data.sessions]).astype(np.float64)
    inverse = np.linalg.inv(np.cov(background, rowvar=False))
    profile = {}
    for offset in offsets:
        rows = []
        for session in data.sessions:
            steps = np.flatnonzero(session.labels) + offset
            steps = steps[(steps >= 0) & (steps < session.length)]
            if offset:
                steps = steps[session.labels[steps] == 0]
            rows.append(session.features[steps])
        delta = np.concatenate(rows).astype(np.float64).mean(axis=0) - background.mean(axis=0)
        profile[offset] = float(np.sqrt(delta @ inverse @ delta))
    return profile


def _f1(truth: np.ndarray, predicted: np.ndarray) -> float:
    tp = np.count_nonzero(truth & predicted)
    return 2 * tp / max(2 * tp + np.count_nonzero(~truth & predicted)
                        + np.count_nonzero(truth & ~predicted), 1)


# ----------------------------------------------------------------------------------------------
# Configuration
# ----------------------------------------------------------------------------------------------


def test_config_defaults_round_trip_through_a_dict():
    config = SensorConfig()
    assert (config.num_subjects, config.num_features, config.evidence_after) == (6, 37, 0.1)
    as_dict = json.loads(json.dumps(config.to_dict()))
    assert SensorConfig(**as_dict) == config
    with pytest.raises(AttributeError):
        config.num_subjects = 3  # frozen


@pytest.mark.parametrize(
    "changes, error, name",
    [
        ({"num_subjects": 0}, ValueError, "num_subjects"),
        ({"num_features": 2.5}, TypeError, "num_features"),
        ({"subject_variation": True}, TypeError, "subject_variation"),
        ({"session_length": (500, 300)}, ValueError, r"session_length\[1\]"),
        ({"session_length": 500}, TypeError, "session_length"),
        ({"puffs_per_episode": 0.5}, ValueError, "puffs_per_episode"),
        ({"inter_puff_gap": 1.0}, ValueError, "inter_puff_gap"),
        ({"inter_puff_gap": 70.0}, ValueError, "inter_puff_gap"),
        ({"min_episode_gap": 2}, ValueError, "min_episode_gap"),
        ({"episode_gap": 10.0}, ValueError, "episode_gap"),
        ({"evidence_after": 1.5}, ValueError, "evidence_after"),
        ({"evidence_before": 0.6, "evidence_after": 0.6}, ValueError,
         r"evidence_before \+ evidence_after"),
        ({"distractor_similarity": -0.1}, ValueError, "distractor_similarity"),
        ({"distractor_mix": (1.0, 1.0, 1.0)}, TypeError, "distractor_mix"),
        ({"distractor_mix": (-1.0, 1.0, 1.0, 1.0)}, ValueError, r"distractor_mix\[0\]"),
        ({"distractor_mix": (0.0, 0.0, 0.0, 0.0)}, ValueError, "distractor_mix"),
        ({"background_correlation": 1.0}, ValueError, "background_correlation"),
        ({"feature_noise": float("nan")}, ValueError, "feature_noise"),
        ({"artifact_rate": 2.0}, ValueError, "artifact_rate"),
    ],
)
def test_config_rejects_bad_options_naming_them(changes, error, name):
    with pytest.raises(error, match=name):
        SensorConfig(**changes)


# ----------------------------------------------------------------------------------------------
# Generator: reproducibility, shapes, ground truth
# ----------------------------------------------------------------------------------------------


def test_same_seed_gives_identical_arrays_and_another_seed_differs():
    a, b = generate_sensor_dataset(SMALL, seed=7), generate_sensor_dataset(SMALL, seed=7)
    c = generate_sensor_dataset(SMALL, seed=8)
    for x, y in zip(a.sessions, b.sessions):
        assert np.array_equal(x.features, y.features) and np.array_equal(x.labels, y.labels)
        assert np.array_equal(x.timestamps, y.timestamps) and np.array_equal(x.kinds, y.kinds)
    assert a.feature_names == b.feature_names
    assert any(x.length != z.length or not np.array_equal(x.labels, z.labels)
               for x, z in zip(a.sessions, c.sessions))
    assert not np.array_equal(a.sessions[0].features[:50], c.sessions[0].features[:50])


def test_a_subjects_sessions_do_not_depend_on_how_many_are_generated():
    large = generate_sensor_dataset(replace(SMALL, num_subjects=4, sessions_per_subject=3), seed=2)
    small = generate_sensor_dataset(replace(SMALL, num_subjects=2, sessions_per_subject=1), seed=2)
    for session in small.sessions:
        twin = next(s for s in large.sessions
                    if (s.subject, s.index) == (session.subject, session.index))
        assert np.array_equal(twin.features, session.features)
        assert np.array_equal(twin.labels, session.labels)


def test_shapes_dtypes_and_exact_ground_truth():
    data = generate_sensor_dataset(seed=0)
    assert data.subjects == tuple(range(6)) and data.num_sessions == 30
    assert data.num_features == 37 and len(data.feature_names) == 37
    assert [(s.subject, s.index) for s in data.sessions] == [(u, k) for u in range(6)
                                                             for k in range(5)]
    chest = np.array([name.startswith("chest") for name in data.feature_names])
    assert chest.sum() == 22  # 60 % chest, 40 % wrist features
    for session in data.sessions:
        t = session.length
        assert session.features.shape == (t, 37) and session.features.dtype == np.float32
        assert np.all(np.isfinite(session.features))
        assert np.all(session.features[:, chest] > 0)  # positive chest quantities
        assert session.labels.shape == (t,) and session.labels.dtype == np.int64
        assert set(np.unique(session.labels)) <= {0, 1} and session.num_events >= 1
        assert np.array_equal(session.labels, (session.kinds == 1).astype(np.int64))
        assert session.kinds.dtype == np.int8 and session.artifacts.dtype == np.bool_
        assert 300 <= t and (t <= 700 or session.num_events > 0)
        stamps = session.timestamps
        assert stamps.shape == (t, 2) and np.all(stamps[:, 1] > stamps[:, 0])
        assert np.array_equal(stamps[1:, 0], stamps[:-1, 1])  # contiguous cycles
        cycle = stamps[:, 1] - stamps[:, 0]
        assert 1500 < np.median(cycle) < 8000  # milliseconds per respiration cycle
        puffs = np.flatnonzero(session.labels)
        assert puffs[0] >= 10 and puffs[-1] <= t - 11  # normal cycles at both ends
    summary = data.to_dict()
    assert summary["num_events"] == data.num_events and summary["seed"] == 0
    json.dumps(summary)


# ----------------------------------------------------------------------------------------------
# Generator: the options that decide a benchmark
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "options",
    [{}, {"puffs_per_episode": 4.0, "inter_puff_gap": 12.0, "min_inter_puff_gap": 3,
          "episodes_per_session": 2.0}],
    ids=["default", "sparse"],
)
def test_burst_structure_matches_the_config_within_sampling_error(options):
    config = SensorConfig(sessions_per_subject=25, **options)
    data = generate_sensor_dataset(config, seed=11)
    stats = data.burst_statistics()
    puffs = [np.flatnonzero(s.labels) for s in data.sessions]
    gaps = np.concatenate([np.diff(p) for p in puffs])
    inner = gaps[gaps < config.min_episode_gap]
    outer = gaps[gaps >= config.min_episode_gap]
    assert stats.num_puffs == sum(p.size for p in puffs) == data.num_events
    assert stats.num_episodes == data.num_sessions + outer.size
    # puffs per episode: 1 + Poisson(mean - 1)
    se = math.sqrt(config.puffs_per_episode - 1) / math.sqrt(stats.num_episodes)
    assert abs(stats.mean_puffs_per_episode - config.puffs_per_episode) < 4 * se
    # episodes per session: 1 + Poisson(mean - 1)
    se = math.sqrt(config.episodes_per_session - 1) / math.sqrt(data.num_sessions)
    assert abs(stats.num_episodes / data.num_sessions - config.episodes_per_session) < 4 * se
    # inter-puff gaps: min + NegativeBinomial(shape 4) with the configured mean
    extra = config.inter_puff_gap - config.min_inter_puff_gap
    se = math.sqrt(extra + extra**2 / 4) / math.sqrt(inner.size)
    assert abs(stats.mean_inter_puff_gap - config.inter_puff_gap) < 4 * se
    assert inner.min() == config.min_inter_puff_gap
    # episode gaps: min + Exponential
    se = (config.episode_gap - config.min_episode_gap) / math.sqrt(outer.size)
    assert outer.min() >= config.min_episode_gap
    assert abs(stats.mean_episode_gap - config.episode_gap) < 4 * se


@pytest.mark.parametrize(
    "options, peak",
    [({"evidence_after": 0.0}, 0), ({}, 0), ({"evidence_after": 0.7}, 1),
     ({"evidence_before": 0.7, "evidence_after": 0.0}, -1)],
    ids=["after=0", "default", "after=0.7", "before=0.7"],
)
def test_signature_is_strongest_where_the_evidence_option_puts_it(options, peak):
    config = SensorConfig(num_subjects=4, sessions_per_subject=5, **options)
    profile = _signature_profile(generate_sensor_dataset(config, seed=3))
    assert max(profile, key=profile.get) == peak
    others = [value for offset, value in profile.items() if offset != peak]
    assert profile[peak] > 1.8 * max(others)
    if peak == 0:
        # context in the neighbouring cycles, weaker than the puff cycle's own evidence
        assert profile[-1] > profile[-3] and profile[1] > profile[3]


def test_evidence_after_moves_weight_from_the_puff_step_to_the_next():
    profiles = [_signature_profile(generate_sensor_dataset(
        SensorConfig(num_subjects=4, sessions_per_subject=5, evidence_after=share), seed=3))
        for share in (0.0, 0.3, 0.6)]
    assert profiles[0][0] > profiles[1][0] > profiles[2][0]
    assert profiles[0][1] < profiles[1][1] < profiles[2][1]


def _subject_variance_ratio(variation: float) -> float:
    """Between-subject variance of resting feature means over the within-subject variance
    (log of the positive chest features), averaged over features."""
    config = SensorConfig(num_subjects=6, sessions_per_subject=4, subject_variation=variation)
    data = generate_sensor_dataset(config, seed=0)
    chest = np.array([name.startswith("chest") for name in data.feature_names])
    means, within = [], []
    for subject in data.subjects:
        rest = np.concatenate([s.features[(s.kinds == 0) & ~s.artifacts]
                               for s in data.sessions if s.subject == subject]).astype(np.float64)
        rest[:, chest] = np.log(rest[:, chest])
        means.append(rest.mean(axis=0))
        within.append(rest.var(axis=0))
    return float(np.mean(np.var(means, axis=0) / np.mean(within, axis=0)))


def test_subject_variation_is_measurable_and_controlled_by_its_option():
    none, moderate, strong = (_subject_variance_ratio(v) for v in (0.0, 0.5, 1.5))
    assert none < 0.01  # only sampling error
    assert 0.1 < moderate < 0.3  # the default: about a sixth of the variance is the person
    assert strong > 2 * moderate


def test_distractors_appear_at_the_configured_rate_and_mix():
    config = SensorConfig(sessions_per_subject=20)
    data = generate_sensor_dataset(config, seed=5)
    stats = data.burst_statistics()
    # distractor bouts overlap like independent cycles: 1 - exp(-rate) of the non-puff cycles
    assert abs(stats.distractor_fraction - (1 - math.exp(-config.distractor_rate))) < 0.01
    kinds, labels = _arrays(data, "kinds", "labels")
    counts = np.array([np.count_nonzero(kinds == CYCLE_KINDS.index(k)) for k in DISTRACTOR_KINDS])
    shares = counts / counts.sum()
    assert np.all(np.abs(shares - np.array(config.distractor_mix)) < 0.06)
    assert np.all(kinds[labels == 1] == 1)
    none = generate_sensor_dataset(replace(config, sessions_per_subject=2, distractor_rate=0.0))
    assert all(np.all(s.kinds <= 1) for s in none.sessions)
    many = generate_sensor_dataset(replace(config, distractor_rate=0.25), seed=5)
    assert abs(many.burst_statistics().distractor_fraction - (1 - math.exp(-0.25))) < 0.03


def _distractor_resemblance(similarity: float) -> np.ndarray:
    """Projection of each distractor kind's mean onto the puff discriminant, relative to the
    puffs' (0: like rest, 1: like a puff)."""
    config = SensorConfig(num_subjects=3, sessions_per_subject=8, subject_variation=0.0,
                          distractor_similarity=similarity)
    data = generate_sensor_dataset(config, seed=1)
    data = data.normalize(FeatureNormalizer.fit(data))
    features, kinds, artifacts = _arrays(data, "features", "kinds", "artifacts")
    features = features.astype(np.float64)
    rest = features[(kinds == 0) & ~artifacts]
    direction = np.linalg.solve(np.cov(rest, rowvar=False),
                                features[kinds == 1].mean(axis=0) - rest.mean(axis=0))
    base, puff = rest.mean(axis=0) @ direction, features[kinds == 1].mean(axis=0) @ direction
    return np.array([(features[(kinds == CYCLE_KINDS.index(k)) & ~artifacts].mean(axis=0)
                      @ direction - base) / (puff - base) for k in DISTRACTOR_KINDS])


def test_distractor_similarity_controls_how_much_distractors_look_like_puffs():
    unlike, default, alike = (_distractor_resemblance(s) for s in (0.0, 0.8, 1.0))
    assert np.all(np.abs(unlike) < 0.15)
    assert np.all(unlike < default) and np.all(default < alike)
    assert np.all(alike < 0.9)  # sharing part of the signature, never all of it


def test_feature_noise_and_puff_strength_control_separability():
    base = SensorConfig(num_subjects=3, sessions_per_subject=4)
    quiet = _signature_profile(generate_sensor_dataset(replace(base, feature_noise=0.2), seed=4))
    noisy = _signature_profile(generate_sensor_dataset(replace(base, feature_noise=2.0), seed=4))
    weak = _signature_profile(generate_sensor_dataset(replace(base, puff_strength=0.5), seed=4))
    assert quiet[0] > 1.3 * noisy[0]
    assert weak[0] < 0.7 * quiet[0]


def test_artifacts_occur_at_their_rate_and_are_outliers():
    config = SensorConfig(sessions_per_subject=4, artifact_rate=0.05)
    data = generate_sensor_dataset(config, seed=6)
    artifacts, kinds = _arrays(data, "artifacts", "kinds")
    n = artifacts.size
    assert abs(artifacts.mean() - 0.05) < 4 * math.sqrt(0.05 * 0.95 / n)
    normalized = data.normalize(FeatureNormalizer.fit(data))
    features = np.abs(_arrays(normalized, "features")[0])
    clean = (kinds == 0) & ~artifacts
    assert features[artifacts].max(axis=1).mean() > 1.5 * features[clean].max(axis=1).mean()


def test_default_data_are_learnable_but_not_trivial_for_a_per_step_linear_model():
    """Leave-one-subject-out linear discriminant (closed form), F1 at the best threshold."""
    data = generate_sensor_dataset(seed=0)
    scores = []
    for fold in data.leave_one_subject_out():
        x, y = (a.astype(np.float64) for a in _arrays(fold.train, "features", "labels"))
        pooled = (np.cov(x[y == 0], rowvar=False) + np.cov(x[y == 1], rowvar=False)) / 2
        direction = np.linalg.solve(pooled, x[y == 1].mean(axis=0) - x[y == 0].mean(axis=0))
        test_x, test_y = _arrays(fold.test, "features", "labels")
        score = test_x.astype(np.float64) @ direction
        truth = test_y.astype(bool)
        thresholds = np.quantile(score, 1 - np.linspace(0.005, 0.1, 60))
        scores.append(max(_f1(truth, score > t) for t in thresholds))
    assert 0.4 < np.mean(scores) < 0.95


# ----------------------------------------------------------------------------------------------
# Windows, stacking, labels
# ----------------------------------------------------------------------------------------------


def _toy() -> SensorDataset:
    a = SensorSession(subject=4, index=0, features=np.arange(6).reshape(3, 2) + 1.0,
                      labels=[0, 1, 0])
    b = SensorSession(subject=9, index=0, features=np.arange(14).reshape(7, 2) + 100.0,
                      labels=[1, 0, 0, 0, 1, 0, 1])
    return SensorDataset(sessions=(a, b), feature_names=("x", "y"), source="synthetic")


def test_windows_are_zero_padded_past_the_session_end_with_a_mask():
    data = _toy()
    batch = data.windows(length=5, stride=2)
    assert batch.features.shape == (6, 5, 2) and batch.features.dtype == np.float32
    assert batch.labels.dtype == np.int64 and batch.mask.dtype == np.bool_
    assert batch.session.tolist() == [0, 0, 1, 1, 1, 1]
    assert batch.subject.tolist() == [4, 4, 9, 9, 9, 9]
    assert batch.start.tolist() == [0, 2, 0, 2, 4, 6]
    assert batch.mask.sum(axis=1).tolist() == [3, 1, 5, 5, 3, 1]
    assert np.array_equal(batch.mask, np.arange(5)[None, :] < batch.mask.sum(axis=1)[:, None])
    assert np.all(batch.features[~batch.mask] == 0) and np.all(batch.labels[~batch.mask] == 0)
    second = data.sessions[1]
    for row in range(2, 6):
        start, valid = batch.start[row], batch.mask[row].sum()
        assert np.array_equal(batch.features[row, :valid], second.features[start:start + valid])
        assert np.array_equal(batch.labels[row, :valid], second.labels[start:start + valid])
    assert batch.labels[5].tolist() == [1, 0, 0, 0, 0]  # the last step's puff, then padding
    features, labels, mask = batch.tensors()
    assert features.dtype == torch.float32 and labels.dtype == torch.float32
    assert mask.dtype == torch.bool and tuple(labels.shape) == (6, 5)
    assert batch.to_dict()["valid_steps"] == 18


def test_windows_without_padding_and_the_default_window():
    data = _toy()
    inside = data.windows(length=5, stride=2, pad=False)
    assert inside.start.tolist() == [0, 2] and inside.session.tolist() == [1, 1]
    assert inside.mask.all()
    default = data.windows()  # length 50, stride 1: one window per step
    assert default.features.shape == (10, 50, 2)
    assert default.mask.sum() == sum(t - s for t in (3, 7) for s in range(t))
    with pytest.raises(ValueError, match="no window of length 8"):
        data.windows(length=8, pad=False)
    with pytest.raises(ValueError, match="stride"):
        data.windows(stride=0)
    with pytest.raises(TypeError, match="length"):
        data.windows(length=5.0)


def test_stack_pads_whole_sessions():
    data = _toy()
    batch = data.stack()
    assert batch.features.shape == (2, 7, 2)
    assert batch.mask.sum(axis=1).tolist() == [3, 7]
    assert np.array_equal(batch.features[0, :3], data.sessions[0].features)
    assert data.stack(700).features.shape == (2, 700, 2)
    with pytest.raises(ValueError, match="longest session"):
        data.stack(5)


def test_with_labels_replaces_labels_from_lists_or_a_stacked_array():
    data = _toy()
    noisy = data.with_labels([np.array([1, 0, 0]), np.array([0, 2, 0, 0, 0, 1, 0])])
    assert noisy.sessions[1].labels.tolist() == [0, 2, 0, 0, 0, 1, 0]  # counts are kept
    assert np.array_equal(noisy.sessions[1].features, data.sessions[1].features)
    stacked = data.stack().labels.copy()
    stacked[0, 0] = 1
    assert data.with_labels(stacked).sessions[0].labels.tolist() == [1, 1, 0]
    assert data.with_labels(torch.from_numpy(stacked)).sessions[0].labels.tolist() == [1, 1, 0]
    stacked[0, 5] = 1
    with pytest.raises(ValueError, match="past the end of session 0"):
        data.with_labels(stacked)
    with pytest.raises(ValueError, match=r"labels\[1\]"):
        data.with_labels([np.zeros(3), np.zeros(6)])
    with pytest.raises(ValueError, match="one per session"):
        data.with_labels([np.zeros(3)])


def test_burst_statistics_of_hand_made_labels():
    labels = np.zeros(100, np.int64)
    labels[[10, 13, 19, 60, 62]] = 1
    session = SensorSession(subject=0, index=0, features=np.ones((100, 1)), labels=labels)
    data = SensorDataset(sessions=(session,), feature_names=("f",), source="puffmarker")
    stats = data.burst_statistics(episode_gap=30)
    assert (stats.num_puffs, stats.num_episodes) == (5, 2)
    assert stats.mean_puffs_per_episode == 2.5
    assert stats.mean_inter_puff_gap == pytest.approx((3 + 6 + 2) / 3)
    assert stats.mean_episode_gap == 41 and math.isnan(stats.distractor_fraction)
    assert data.burst_statistics().episode_gap == 30  # default for real data


# ----------------------------------------------------------------------------------------------
# Folds and normalisation
# ----------------------------------------------------------------------------------------------


def test_leave_one_subject_out_folds_partition_the_sessions():
    data = generate_sensor_dataset(SMALL, seed=0)
    folds = data.leave_one_subject_out()
    everything = {(s.subject, s.index) for s in data.sessions}
    tested = []
    for fold, subject in zip(folds, data.subjects):
        train = {(s.subject, s.index) for s in fold.train.sessions}
        test = {(s.subject, s.index) for s in fold.test.sessions}
        assert fold.held_out == (subject,) and fold.test.subjects == (subject,)
        assert subject not in fold.train.subjects
        assert train | test == everything and not train & test
        tested += sorted(test)
    assert sorted(tested) == sorted(everything)  # each session tested exactly once
    two = data.split([0, 2])
    assert two.held_out == (0, 2) and two.train.subjects == (1,)
    json.dumps(folds[0].to_dict())
    with pytest.raises(ValueError, match="held_out: subject 7"):
        data.split([7])
    with pytest.raises(ValueError, match="at least one subject for training"):
        data.split(list(data.subjects))
    with pytest.raises(TypeError, match="held_out"):
        data.split(1)
    with pytest.raises(ValueError, match=">= 2 subjects"):
        data.select([1]).leave_one_subject_out()


def test_normalisation_is_fitted_on_training_subjects_only():
    raw = generate_sensor_dataset(SMALL, seed=0)
    fold = raw.split([1])
    train_raw = np.concatenate([s.features for s in raw.select([0, 2]).sessions]).astype(np.float64)
    assert np.allclose(fold.normalizer.mean, train_raw.mean(axis=0), rtol=1e-12)
    assert np.allclose(fold.normalizer.std, train_raw.std(axis=0), rtol=1e-12)
    everything = FeatureNormalizer.fit(raw)
    assert not np.allclose(everything.mean, fold.normalizer.mean)  # the test subject is left out
    test_raw = raw.select([1]).sessions[0].features.astype(np.float64)
    expected = (test_raw - train_raw.mean(axis=0)) / train_raw.std(axis=0)
    assert np.allclose(fold.test.sessions[0].features, expected, atol=1e-5)
    train = np.concatenate([s.features for s in fold.train.sessions]).astype(np.float64)
    assert np.allclose(train.mean(axis=0), 0, atol=1e-5)
    assert np.allclose(train.std(axis=0), 1, atol=1e-5)
    assert fold.train.normalizer is fold.normalizer and fold.test.normalizer is fold.normalizer
    plain = raw.split([1], normalize=False)
    assert plain.normalizer is None
    assert np.array_equal(plain.test.sessions[0].features, raw.select([1]).sessions[0].features)
    with pytest.raises(ValueError, match="already normalised"):
        fold.train.normalize(fold.normalizer)


def test_normalizer_centres_constant_features_and_checks_widths():
    normalizer = FeatureNormalizer.fit([np.array([[1.0, 7.0], [3.0, 7.0], [5.0, 7.0]])])
    assert normalizer.std[1] == 1.0
    assert normalizer.transform(np.array([[3.0, 7.0]])).tolist() == [[0.0, 0.0]]
    assert normalizer.to_dict()["mean"] == [3.0, 7.0]
    with pytest.raises(ValueError, match="2 features"):
        normalizer.transform(np.zeros((4, 3)))


# ----------------------------------------------------------------------------------------------
# puffMarker loader
# ----------------------------------------------------------------------------------------------


def test_loader_round_trip_with_the_puffmarker_user_ids(tmp_path):
    data = generate_sensor_dataset(replace(SMALL, num_subjects=6, sessions_per_subject=2), seed=3)
    renamed = SensorDataset(
        sessions=tuple(s.replace(subject=PUFFMARKER_USERS[s.subject]) for s in data.sessions),
        feature_names=data.feature_names, source="synthetic")
    written = save_puffmarker(renamed, tmp_path)
    assert sorted(p.name for p in written) == sorted(
        [f"features_{u}.csv" for u in PUFFMARKER_USERS]
        + [f"predictions_{u}.csv" for u in PUFFMARKER_USERS])
    loaded = load_puffmarker(tmp_path)  # the default users
    assert loaded.source == "puffmarker" and loaded.config is None
    assert loaded.subjects == PUFFMARKER_USERS
    assert loaded.feature_names == data.feature_names
    assert loaded.num_sessions == renamed.num_sessions
    for original, read in zip(renamed.sessions, loaded.sessions):
        assert (read.subject, read.index) == (original.subject, original.index)
        assert np.array_equal(read.features, original.features)  # exact round trip
        assert np.array_equal(read.labels, original.labels)
        assert np.array_equal(read.timestamps, original.timestamps)
        assert read.kinds is None and read.artifacts is None


def _write(path, rows, header=None):
    lines = ([",".join(header)] if header else []) + [",".join(str(v) for v in row) for row in rows]
    path.write_text("\n".join(lines) + "\n")


def _write_user(folder, user=10, *, stamps=(0, 4000, 8000, 12000), features=2, labels=None,
                feature_header=True, prediction_rows=None):
    rows = [[t, t + 4000] + [float(i + j) for j in range(features)] for i, t in enumerate(stamps)]
    header = ["start", "end"] + [f"f{j}" for j in range(features)] if feature_header else None
    _write(folder / f"features_{user}.csv", rows, header)
    labels = [0] * len(stamps) if labels is None else labels
    if prediction_rows is None:
        prediction_rows = [[t, t + 4000, "2015-01-01", y] for t, y in zip(stamps, labels)]
    _write(folder / f"predictions_{user}.csv", prediction_rows, ["a", "b", "c", "label"])


def test_loader_splits_sessions_at_large_gaps_and_backward_jumps(tmp_path):
    stamps = (0, 4000, 4000 + 5e6, 8000 + 1e7 + 1, 12000 + 1e7 + 1, 100, 4100)
    _write_user(tmp_path, stamps=stamps, labels=[0, 1, 0, 1, 0, 0, 1])
    data = load_puffmarker(tmp_path, users=[10], num_features=2)
    assert [s.length for s in data.sessions] == [3, 2, 2]  # a gap of exactly 5e6 does not cut
    assert [s.index for s in data.sessions] == [0, 1, 2]
    assert [s.labels.tolist() for s in data.sessions] == [[0, 1, 0], [1, 0], [0, 1]]
    assert data.feature_names == ("f0", "f1")
    assert data.sessions[1].features.tolist() == [[3.0, 4.0], [4.0, 5.0]]
    gap = load_puffmarker(tmp_path, users=[10], num_features=2, session_gap=1e9)
    assert [s.length for s in gap.sessions] == [5, 2]


def test_loader_reads_files_without_a_header(tmp_path):
    _write_user(tmp_path, feature_header=False)
    data = load_puffmarker(tmp_path, users=(10,), num_features=2)
    assert data.feature_names == ("feature_00", "feature_01")
    assert data.sessions[0].length == 4


def test_loader_errors_for_missing_folder_and_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="folder not found"):
        load_puffmarker(tmp_path / "nowhere")
    (tmp_path / "plain.txt").write_text("x")
    with pytest.raises(NotADirectoryError, match="plain.txt"):
        load_puffmarker(tmp_path / "plain.txt")
    with pytest.raises(FileNotFoundError, match="features_10.csv"):
        load_puffmarker(tmp_path)
    _write_user(tmp_path)
    (tmp_path / "predictions_10.csv").unlink()
    with pytest.raises(FileNotFoundError, match="predictions_10.csv"):
        load_puffmarker(tmp_path, users=[10], num_features=2)
    with pytest.raises(ValueError, match="must not repeat"):
        load_puffmarker(tmp_path, users=[10, 10])
    with pytest.raises(TypeError, match="single int"):
        load_puffmarker(tmp_path, users=10)


@pytest.mark.parametrize(
    "corrupt, message",
    [
        (lambda f, p: _write(f, [[0, 4000, 1.0, 2.0], [4000, 8000, 1.0]], ["s", "e", "a", "b"]),
         r"features_10.csv, line 3: expected 4 comma-separated columns, found 3"),
        (lambda f, p: _write(f, [[0, 4000, 1.0, 2.0]], ["s", "e", "a"]),
         r"features_10.csv, line 1 \(header\): expected 4"),
        (lambda f, p: _write(f, [[0, 4000, 1.0, 2.0], [4000, 8000, "abc", 2.0]],
                             ["s", "e", "a", "b"]),
         r"features_10.csv, line 3, column 2: 'abc' is not a number"),
        (lambda f, p: _write(f, [[0, 4000, 1.0, 2.0], [4000, 8000, "nan", 2.0]],
                             ["s", "e", "a", "b"]),
         r"features_10.csv, line 3, column 2: 'nan' is not finite"),
        (lambda f, p: _write(p, [[0, 4000, "x"], [4000, 8000, "x"]], ["a", "b", "c"]),
         r"predictions_10.csv, line 1 \(header\): expected at least 4"),
        (lambda f, p: _write(p, [[0, 4000, "x", 0], [4000, 8000, "x"]], ["a", "b", "c", "label"]),
         r"predictions_10.csv, line 3: expected at least 4"),
        (lambda f, p: _write(p, [[0, 4000, "x", 0], [4000, 8000, "x", "yes"]],
                             ["a", "b", "c", "label"]),
         r"predictions_10.csv, line 3, column 3: 'yes' is not a number"),
        (lambda f, p: _write(p, [[0, 4000, "x", 0], [4000, 8000, "x", 2]],
                             ["a", "b", "c", "label"]),
         r"predictions_10.csv, line 3, column 3: the puff label must be 0 or 1, got 2"),
        (lambda f, p: _write(p, [[0, 4000, "x", 0]], ["a", "b", "c", "label"]),
         r"features_10.csv has 2 data rows but .*predictions_10.csv has 1: line 3 of "
         r".*features_10.csv has no matching row"),
        (lambda f, p: _write(f, [], ["s", "e", "a", "b"]), r"features_10.csv holds no data rows"),
    ],
    ids=["row-columns", "header-columns", "non-numeric", "non-finite", "few-label-columns",
         "short-label-row",
         "non-numeric-label", "non-binary-label", "length-mismatch", "empty"],
)
def test_loader_errors_name_the_file_and_line(tmp_path, corrupt, message):
    _write_user(tmp_path, stamps=(0, 4000))
    corrupt(tmp_path / "features_10.csv", tmp_path / "predictions_10.csv")
    with pytest.raises(ValueError, match=message):
        load_puffmarker(tmp_path, users=[10], num_features=2)


def test_loader_checks_the_feature_count(tmp_path):
    _write_user(tmp_path)
    with pytest.raises(ValueError, match=r"line 1 \(header\): expected 39 comma-separated"):
        load_puffmarker(tmp_path, users=[10])  # 37 features by default
