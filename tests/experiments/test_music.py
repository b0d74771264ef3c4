import dataclasses
import json
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from softloc.cli import main
from softloc.data.augmentation import AudioAugmentation
from softloc.data.music import DrumConfig, PianoConfig
from softloc.experiments import EXPERIMENTS
from softloc.events import TimeBase
from softloc.experiments import music as exp
from softloc.losses import AlphaSchedule
from softloc.runner import read_results

TINY_DRUMS = exp.DrumExperimentConfig(
    data=DrumConfig(num_grooves=5, soundfonts=("TimGM6mb",), bars_range=(2, 2), tail=0.3),
    iterations=12, augment=1, validation_fraction=0.2, test_fraction=0.2,
    model={"channels": [4, 8], "pools": [4, 4], "hidden": 8})
TINY_PIANO = exp.PianoExperimentConfig(
    data=PianoConfig(works=("bach/bwv66.6", "bach/bwv1.6", "bach/bwv10.7"),
                     soundfonts=("TimGM6mb",), max_duration=4.0, tail=0.3),
    train_instruments=None, test_instruments=None, iterations=8,
    model={"channels": [4, 8], "pools": [4, 4], "hidden": 8})
ROW_KEYS = {"f1", "precision", "recall", "threshold", "offset", "decode_rule", "oracle_f1",
            "validation_f1", "f1_no_offset", "threshold_no_offset", "validation_f1_no_offset",
            "predicted_events", "true_events", "count_ratio", "mean_error",
            "labels_within_tolerance", "final_loss", "parameters", "test_pieces", "device"}


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return str(tmp_path_factory.mktemp("music-cache"))


def tiny_drums(cache, **changes):
    return dataclasses.replace(TINY_DRUMS, cache_dir=cache, **changes)


def params(loss="softloc", noise_level=0.05, seed=0):
    return {"loss": loss, "noise_level": noise_level, "distribution": "normal", "seed": seed}


# --------------------------------------------------------------------------- configuration


def test_authors_alpha_schedules():
    piano = exp.authors_alpha_schedule(160_000, hold=0.75, end=1.0, high=0.6)
    mapped = lambda a: a / (a + 32 * (1 - a))  # noqa: E731
    assert piano(0) == pytest.approx(mapped(0.2)) == pytest.approx(0.0078, abs=1e-4)
    assert piano(120_000) == pytest.approx(mapped(0.2))
    assert piano(160_000) == pytest.approx(mapped(0.6))
    drums = exp.authors_alpha_schedule(150_000, hold=1 / 3, end=0.8)
    assert drums(50_000) == pytest.approx(mapped(0.2))
    assert drums(120_000) == pytest.approx(mapped(0.9)) == drums(150_000)
    assert exp.authors_alpha_schedule(10, hold=0.5, end=1.0, low=0.3, high=0.3) == \
        AlphaSchedule.constant(mapped(0.3))
    with pytest.raises(ValueError, match="end"):
        exp.authors_alpha_schedule(10, hold=0.5, end=0.4)


def test_loss_specs_use_the_frame_rate():
    config = exp.PianoExperimentConfig()
    assert config.fps == 100 and config.window_frames == 150
    assert exp._loss_spec("softloc", config).softness == pytest.approx(10.0)
    assert exp._loss_spec("extended", config).width == 3
    assert exp._loss_spec("ce", config).name == "ce"


@pytest.mark.parametrize("changes, message", [
    ({"mel": dataclasses.replace(exp.PianoExperimentConfig().mel, sample_rate=8000)},
     "mel.sample_rate"),
    ({"test_instruments": ("Steinway",)}, "test_instruments"),
    ({"model": {"num_classes": 3}}, "must not set"),
    ({"iterations": 0}, "iterations"),
    ({"rate_range": (1.2, 0.9)}, "rate_range"),
    ({"softness_seconds": 0.0}, "softness_seconds"),
    ({"max_offset": -0.01}, "max_offset"),
])
def test_config_refuses_bad_values(changes, message):
    with pytest.raises((ValueError, TypeError), match=message):
        dataclasses.replace(exp.PianoExperimentConfig(), **changes)


def test_config_round_trips_through_its_dict():
    effects = exp.DrumExperimentConfig(effects=AudioAugmentation(snr_db_range=(10.0, 30.0)))
    for config in (exp.PianoExperimentConfig(), exp.DrumExperimentConfig(), effects):
        assert type(config)(**json.loads(json.dumps(config.to_dict()))) == config
    with pytest.raises(TypeError, match="effects must be an AudioAugmentation"):
        exp.DrumExperimentConfig(effects="reverb")


def test_effects_change_the_augmented_copies_only_and_alike_for_every_loss(cache):
    config = tiny_drums(cache, augment=2, effects=AudioAugmentation(reverb_probability=1.0))
    parts = exp.split_pieces(config)
    clean, _, _ = exp._training_set(parts, tiny_drums(cache, augment=2), 0.0, 0)
    noisy, _, _ = exp._training_set(parts, config, 0.0, 0)
    again, _, _ = exp._training_set(parts, config, 0.0, 0)
    assert len(clean) == len(noisy) == 3 * len(parts.train)
    for k, (a, b, c) in enumerate(zip(clean, noisy, again)):
        assert torch.equal(b, c)  # drawn from the run seed: the same in every run of it
        assert torch.equal(a, b) == (k % 3 == 0)  # the original of each piece stays clean


# --------------------------------------------------------------------------- decoding


def test_decoder_moves_times_by_its_offset_and_not_before_zero():
    probs = np.zeros((2, 50))
    probs[0, [1, 20]] = 0.9
    probs[1, 40] = 0.5
    base = TimeBase(fps=100.0)
    times, scores = exp.DecoderSettings(0.4, offset=-0.03).decode(probs, base)
    np.testing.assert_allclose(times[0], [0.0, 0.17])
    np.testing.assert_allclose(times[1], [0.37])
    np.testing.assert_allclose(scores[0], [0.9, 0.9])
    plain, _ = exp.DecoderSettings(0.4).decode(probs, base)
    np.testing.assert_allclose(plain[0], [0.01, 0.2])
    assert "-30 ms" in exp.DecoderSettings(0.4, offset=-0.03).describe(100.0)
    with pytest.raises(ValueError, match="offset"):
        exp.DecoderSettings(0.4, offset=float("nan"))
    with pytest.raises(ValueError, match="probabilities"):
        exp.DecoderSettings(0.4).decode(np.full((2, 5), np.nan), base)


class _Piece:
    def __init__(self, events):
        self._events = events

    def events(self):
        return self._events


def _late_model(pieces, lag_frames, num_frames=400):
    """Probabilities that spike ``lag_frames`` after every onset of each piece."""
    out = []
    for piece in pieces:
        probs = np.zeros((len(piece.events()), num_frames))
        for c, times in enumerate(piece.events()):
            probs[c, np.round(times * 100).astype(int) + lag_frames] = 0.8
        out.append((probs, SimpleNamespace(time_base=TimeBase(fps=100.0))))
    return out


def test_validation_search_finds_a_constant_lag():
    rng = np.random.default_rng(0)
    pieces = [_Piece([np.sort(rng.choice(np.arange(10, 350, 20), 12, replace=False)) / 100
                      for _ in range(3)]) for _ in range(4)]
    config = exp.DrumExperimentConfig(max_offset=0.05)
    decoder, f1, plain, plain_f1 = exp._choose_decoders(_late_model(pieces, 7), pieces, config)
    # 70 ms late: corrections of 2 to 5 frames all match every onset within 50 ms; the
    # closest matches decide, and the largest correction tried (5 frames) is the closest
    assert decoder.offset == pytest.approx(-0.05) and f1 == 1.0
    assert plain_f1 == 0.0
    decoder, f1, *_ = exp._choose_decoders(_late_model(pieces, 7), pieces,
                                           exp.DrumExperimentConfig())  # +-100 ms
    assert decoder.offset == pytest.approx(-0.07) and f1 == 1.0
    decoder, f1, plain, plain_f1 = exp._choose_decoders(_late_model(pieces, 3), pieces, config)
    assert decoder.offset == pytest.approx(-0.03) and f1 == 1.0
    assert plain.offset == 0.0 and plain_f1 == 1.0  # 30 ms is within the tolerance
    decoder, *_ = exp._choose_decoders(_late_model(pieces, 0), pieces, config)
    assert decoder.offset == 0.0  # ties go to the smallest correction
    none = dataclasses.replace(config, max_offset=0.0)
    decoder, *_ = exp._choose_decoders(_late_model(pieces, 3), pieces, none)
    assert decoder.offset == 0.0


# --------------------------------------------------------------------------- one run


@pytest.fixture(scope="module")
def drum_row(cache):
    return exp.run_one(params(), tiny_drums(cache))


def test_run_one_returns_a_complete_drum_row(drum_row):
    assert set(drum_row) >= ROW_KEYS | {"f1_KD", "f1_SD", "f1_HH", "recall_HH"}
    assert 0.0 <= drum_row["f1"] <= drum_row["oracle_f1"] + 1e-12 <= 1.0 + 1e-12
    assert drum_row["threshold"] in exp.THRESHOLDS
    assert abs(drum_row["offset"]) <= 0.1 + 1e-12
    assert drum_row["threshold_no_offset"] in exp.THRESHOLDS
    assert drum_row["validation_f1"] >= drum_row["validation_f1_no_offset"]
    assert "chosen on clean validation works" in drum_row["decode_rule"]
    assert drum_row["train_sequences"] == 2 * drum_row["train_pieces"]  # one augmented copy
    assert 0.0 < drum_row["labels_within_tolerance"] < 1.0  # 50 ms noise moves some out
    json.dumps(drum_row)


def test_presets():
    piano, drums = EXPERIMENTS["piano"], EXPERIMENTS["drums"]
    assert piano.config(preset="release") == exp.PianoExperimentConfig()
    assert drums.config(preset="release") == exp.DrumExperimentConfig()
    paper = piano.config(preset="paper")
    assert paper.fps == 200 and paper.iterations == 160_000 and paper.batch_size == 32
    assert paper.mel.n_mels == 384 and paper.mel.window == "hamming"


def test_the_paper_preset_runs_end_to_end(cache):
    # the authors' features and network on tiny data, two steps: shapes and the decoder fit
    paper = EXPERIMENTS["piano"].config(preset="paper")
    config = dataclasses.replace(TINY_PIANO, cache_dir=cache, mel=paper.mel, model=paper.model,
                                 batch_size=2, iterations=2, warmup_steps=0)
    row = exp.run_one(params(loss="softloc", noise_level=0.0), config, device="cpu")
    assert row["parameters"] > 500_000 and row["device"] == "cpu"
    assert 0.0 <= row["f1"] <= 1.0


def test_run_one_is_reproducible(drum_row, cache):
    again = exp.run_one(params(), tiny_drums(cache))
    assert json.dumps(again, sort_keys=True) == json.dumps(drum_row, sort_keys=True)  # NaN-safe


def test_noise_is_the_same_for_every_loss_and_changes_with_the_seed(cache):
    config = tiny_drums(cache)
    parts = exp.split_pieces(config)
    _, a, info_a = exp._training_set(parts, config, 0.05, seed=0)
    _, b, info_b = exp._training_set(parts, config, 0.05, seed=0)
    _, c, _ = exp._training_set(parts, config, 0.05, seed=1)
    _, clean, info_clean = exp._training_set(parts, config, 0.0, seed=0)
    assert all(torch.equal(x, y) for x, y in zip(a, b)) and info_a == info_b
    assert not all(torch.equal(x, y) for x, y in zip(a, c))
    assert info_clean["labels_within_tolerance"] == 1.0 and info_clean["labels_moved"] == 0
    assert info_a["labels_moved"] > 0


def test_split_keeps_works_apart_and_instruments_as_asked(cache):
    parts = exp.split_pieces(tiny_drums(cache))
    works = [{p.work for p in getattr(parts, side)} for side in ("train", "validation", "test")]
    assert not (works[0] & works[1] or works[0] & works[2] or works[1] & works[2])
    with pytest.raises(ValueError, match="split is empty"):
        exp.split_pieces(tiny_drums(cache, data=DrumConfig(num_grooves=1,
                                                           soundfonts=("TimGM6mb",),
                                                           bars_range=(1, 1))))


def test_crop_batches_are_deterministic_and_masked():
    features = [torch.randn(4, 30), torch.randn(4, 5)]
    labels = [torch.zeros(2, 30), torch.ones(2, 5)]
    batches = exp._crop_batches(features, labels, window=8, batch_size=6)
    x, y, mask = batches(0, torch.Generator().manual_seed(3))
    x2, _, _ = batches(0, torch.Generator().manual_seed(3))
    assert torch.equal(x, x2) and x.shape == (6, 4, 8) and y.shape == (6, 2, 8)
    short = y[:, 0, 0] == 1  # crops of the 5-frame piece: 5 valid frames, zero padding
    assert torch.all(mask[short].sum(1) == 5) and torch.all(x[short][..., 5:] == 0)
    assert torch.all(mask[~short])


@pytest.mark.parametrize("changes, message", [
    ({"loss": "hinge"}, "unknown loss 'hinge'"),
    ({"noise_level": -0.01}, "noise_level must be a finite number of seconds >= 0"),
    ({"distribution": "binary"}, "unknown noise distribution"),
    ({"seed": -1}, "seed"),
])
def test_run_one_refuses_bad_params(changes, message, cache):
    with pytest.raises(ValueError, match=message):
        exp.run_one({**params(), **changes}, tiny_drums(cache))


def test_piano_run_scores_per_key(cache):
    config = dataclasses.replace(TINY_PIANO, cache_dir=cache)
    row = exp.run_one(params("ce", 0.0), config)
    assert set(row) >= ROW_KEYS and "f1_C4" not in row  # 88 classes: no per-class columns
    assert row["true_events"] > 10


def test_random_pairs_draw_noise_and_softness_per_seed(cache):
    row = exp.run_one(params(noise_level="random", seed=3), tiny_drums(cache))
    assert 0.0 <= row["sigma"] <= 0.1 and 0.005 <= row["softness"] <= 0.15
    assert row["loss"] == "softloc"


# --------------------------------------------------------------------------- sweeps and CLI


def test_bench_drums_softness_writes_the_heatmap(tmp_path, capsys, monkeypatch, cache):
    tiny = dataclasses.replace(exp.DRUM_SOFTNESS_EXPERIMENT,
                               quick_config=tiny_drums(cache, iterations=4),
                               quick_axes={"loss": ("softloc",), "noise_level": ("random",),
                                           "distribution": ("normal",), "seed": (0, 1, 2)})
    monkeypatch.setitem(EXPERIMENTS, "drums-softness", tiny)
    argv = ["bench", "drums-softness", "--quick", "--out", str(tmp_path), "--workers", "1",
            "--quiet"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "softness_heatmap.png" in out
    lines = (tmp_path / "softness_pairs.csv").read_text().splitlines()
    assert lines[0] == "sigma_s,softness_s,f1" and len(lines) == 4
    assert (tmp_path / "softness_heatmap.png").stat().st_size > 0
    assert read_results(tmp_path).complete
    (tmp_path / "softness_heatmap.png").unlink()
    assert main(["report", str(tmp_path)]) == 0  # the report rewrites it
    assert (tmp_path / "softness_heatmap.png").exists()


def test_heatmap_interpolates_between_runs(tmp_path):
    rows = [{"result": {"sigma": s, "softness": m, "f1": f}}
            for s, m, f in [(0.0, 0.01, 1.0), (0.1, 0.01, 0.0)]]
    results = dataclasses.make_dataclass("R", ["rows", "out_dir"])(rows, tmp_path)
    files = exp.softness_heatmap(results)
    assert set(files) == {"heatmap", "pairs"} and files["heatmap"].stat().st_size > 0
    pairs = np.loadtxt(files["pairs"], delimiter=",", skiprows=1)
    np.testing.assert_allclose(pairs[:, 2], [1.0, 0.0])
