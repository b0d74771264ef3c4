"""Detector checkpoints, detection on audio, and the ``softloc train`` / ``detect`` commands."""

import csv
import dataclasses

import numpy as np
import pytest
import torch

from softloc.cli import main
from softloc.data.audio import resample, write_wav
from softloc.data.music import DrumConfig
from softloc.detector import (
    DetectedEvents,
    Detector,
    detect_events,
    load_detector,
    save_detector,
)
from softloc.experiments import EXPERIMENTS
from softloc.experiments import music as exp
from softloc.metrics import multiclass_f_measure

# Simple grooves (no ghost notes or fills), one kit: a tiny model learns them in 500 steps.
EASY_DRUMS = exp.DrumExperimentConfig(
    data=DrumConfig(num_grooves=5, soundfonts=("TimGM6mb",), bars_range=(2, 2),
                    ghost_note_probability=0.0, fill_probability=0.0, tail=0.3),
    iterations=500, augment=0, learning_rate=5e-3, validation_fraction=0.2,
    test_fraction=0.2, model={"channels": [8, 8], "pools": [4, 4], "hidden": 16})


@pytest.fixture(scope="module")
def config(tmp_path_factory):
    return dataclasses.replace(EASY_DRUMS, cache_dir=str(tmp_path_factory.mktemp("cache")))


@pytest.fixture(scope="module")
def trained(config):
    return exp.train_music_model(config, loss="softloc", seed=0)


@pytest.fixture(scope="module")
def checkpoint(trained, tmp_path_factory):
    return save_detector(tmp_path_factory.mktemp("model") / "drums.pt", trained,
                         experiment="drums")


def test_checkpoint_describes_itself_and_reproduces_the_model(trained, checkpoint, config):
    detector = load_detector(checkpoint, experiment="drums")
    assert detector.class_names == ("HH", "KD", "SD") and detector.fps == 100
    assert detector.mel == config.mel
    assert detector.decoder == trained.decoder
    assert detector.training["loss"]["name"] == "softloc"
    piece = exp.split_pieces(config).test[0]
    ours, _ = detector.probabilities(piece.audio, piece.sample_rate)
    spec = exp._features_cached(piece, config.mel, 1.0)
    with torch.no_grad():
        theirs = torch.sigmoid(trained.model(torch.from_numpy(spec.features)[None])[0].double())
    np.testing.assert_allclose(ours, theirs.numpy(), rtol=0, atol=1e-6)


def test_detect_recovers_the_onsets_of_a_rendered_file(checkpoint, config, tmp_path):
    """A stereo 44.1 kHz file of a rendered groove: the tiny model finds its hits (50 ms)."""
    piece = exp.split_pieces(config).train[0]
    stereo = np.stack([piece.audio, 0.5 * piece.audio])
    path = tmp_path / "groove.wav"
    write_wav(path, resample(stereo, piece.sample_rate, 44100), 44100)
    events = load_detector(checkpoint).detect_file(path)
    assert isinstance(events, DetectedEvents) and np.all(np.diff(events.times) >= 0)
    scores = multiclass_f_measure(piece.events(), events.events(), tolerance=0.05)
    assert scores.micro.f1 >= 0.8, scores.micro
    assert abs(scores.micro.mean_error) < 0.02
    same = detect_events(checkpoint, stereo, piece.sample_rate)
    assert abs(len(same) - len(events)) <= 2  # resampling moves a peak by a frame at most


def test_detect_thresholds_and_csv(checkpoint, config, tmp_path):
    detector = load_detector(checkpoint)
    piece = exp.split_pieces(config).train[0]
    everything = detector.detect(piece.audio, piece.sample_rate, threshold=0.0)
    fewer = detector.detect(piece.audio, piece.sample_rate, threshold=0.9)
    assert len(everything) >= len(fewer)
    path = tmp_path / "events.csv"
    fewer.to_csv(path)
    rows = list(csv.DictReader(path.open()))
    assert len(rows) == len(fewer)
    assert all(r["class"] in ("HH", "KD", "SD") and float(r["score"]) > 0.9 for r in rows)
    with pytest.raises(ValueError, match="threshold"):
        detector.detect(piece.audio, piece.sample_rate, threshold=1.5)


@pytest.mark.parametrize("samples, rate, message", [
    (np.zeros(16000, dtype=np.float32), 16000, "silent"),
    (np.full(16000, np.nan, dtype=np.float32), 16000, "NaN or inf"),
    (np.zeros((2, 2, 10)), 16000, r"\(n,\) or \(channels, n\)"),
    (np.ones(10, dtype=np.float32), 16000, "too short"),
    (np.ones(16000, dtype=np.float32), 100, "sample_rate"),
])
def test_bad_audio_is_refused(checkpoint, samples, rate, message):
    with pytest.raises(ValueError, match=message):
        detect_events(checkpoint, samples, rate)


def test_wrong_checkpoints_are_refused(checkpoint, tmp_path):
    with pytest.raises(ValueError, match="a 'drums' detector, not a 'piano' one"):
        load_detector(checkpoint, experiment="piano")
    with pytest.raises(FileNotFoundError):
        load_detector(tmp_path / "missing.pt")
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="not a softloc detector checkpoint"):
        load_detector(junk)
    other = tmp_path / "weights.pt"
    torch.save({"state_dict": {}}, other)  # e.g. plain weights or a training checkpoint
    with pytest.raises(ValueError, match="not a softloc detector checkpoint"):
        load_detector(other)
    payload = torch.load(checkpoint, weights_only=True)
    for change, message in [({"experiment": "golf", "input": {"kind": "video"}}, "not audio"),
                            ({"version": 99}, "version 99"),
                            ({"class_names": ["HH"]}, "damaged")]:
        broken = tmp_path / "broken.pt"
        torch.save({**payload, **change}, broken)
        with pytest.raises(ValueError, match=message):
            load_detector(broken)


def test_detector_type_is_public(checkpoint):
    assert isinstance(load_detector(checkpoint), Detector)


# --------------------------------------------------------------------------- CLI


@pytest.fixture
def tiny_drum_training(monkeypatch, config):
    tiny = dataclasses.replace(EXPERIMENTS["drums"],
                               quick_config=dataclasses.replace(config, iterations=5))
    monkeypatch.setitem(EXPERIMENTS, "drums", tiny)


def test_train_then_detect_from_the_command_line(tmp_path, capsys, tiny_drum_training, config):
    model = tmp_path / "model.pt"
    assert main(["train", "drums", "--quick", "--loss", "ce", "--noise", "0.02", "--save",
                 str(model), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "test F1" in out and f"wrote {model}" in out
    assert not model.with_name("model.pt.train-state").exists()
    detector = load_detector(model)
    assert detector.training["loss"]["name"] == "ce" and detector.training["noise_level"] == 0.02
    piece = exp.split_pieces(config).test[0]
    wav = tmp_path / "a.wav"
    write_wav(wav, piece.audio, piece.sample_rate)
    table = tmp_path / "events.csv"
    assert main(["detect", str(model), str(wav), "--out", str(table), "--threshold", "0"]) == 0
    rows = list(csv.DictReader(table.open()))
    assert rows and set(rows[0]) == {"file", "time", "class", "score"}
    assert all(r["file"] == str(wav) for r in rows)


def test_detect_command_refuses_bad_input(tmp_path, capsys, checkpoint):
    silent = tmp_path / "silent.wav"
    write_wav(silent, np.zeros(8000, dtype=np.float32), 8000)
    with pytest.raises(SystemExit) as error:
        main(["detect", str(checkpoint), str(silent), "--out", str(tmp_path / "e.csv")])
    assert error.value.code == 2 and "silent" in capsys.readouterr().err
    text = tmp_path / "notes.wav"
    text.write_text("hello")
    with pytest.raises(SystemExit):
        main(["detect", str(checkpoint), str(text), "--out", str(tmp_path / "e.csv")])
    assert "not a readable WAV file" in capsys.readouterr().err
    assert not (tmp_path / "e.csv").exists()
    with pytest.raises(SystemExit):
        main(["detect", str(silent), str(silent), "--out", str(tmp_path / "e.csv")])
    assert "not a softloc detector checkpoint" in capsys.readouterr().err
