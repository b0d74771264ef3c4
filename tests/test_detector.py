"""Detector checkpoints, detection on audio and video, and the ``softloc train`` / ``detect``
commands."""

import csv
import dataclasses
import importlib.util
import io

import numpy as np
import pretty_midi
import pytest
import soundfile
import torch

from softloc.cli import main
from softloc.data.audio import resample, write_wav
from softloc.data.golf import GOLF_EVENTS, GolfConfig
from softloc.data.music import DrumConfig
from softloc.detector import (
    DetectedEvents,
    DetectedVideoEvents,
    Detector,
    VideoDetector,
    detect_events,
    load_detector,
    load_pretrained,
    pretrained_path,
    save_detector,
)
from softloc.experiments import EXPERIMENTS
from softloc.experiments import golf
from softloc.experiments import music as exp
from softloc.metrics import multiclass_f_measure
from softloc.models import ConvRecurrentDetector

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
    for change, message in [({"input": {"kind": "video"}}, "'drums' detector with 'video' input"),
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


def test_shipped_detectors_load_offline_and_run_without_a_checkpoint(tmp_path, capsys, config):
    detector = load_pretrained("drums")
    assert detector.experiment == "drums" and pretrained_path("drums").stat().st_size < 5e6
    assert detector.training["test_scores"]["f1"] > 0.5
    piece = exp.split_pieces(config).test[0]
    take = tmp_path / "take.flac"
    soundfile.write(take, piece.audio, piece.sample_rate)
    assert main(["detect", "--pretrained", "drums", str(take), "--out", "-"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0] == "file,time,class,score" and len(lines) > 1
    with pytest.raises(ValueError, match="name must be one of"):
        load_pretrained("guitar")
    with pytest.raises(SystemExit):
        main(["detect", "--pretrained", "drums", "--model", str(take), str(take)])


def test_detect_command_skips_bad_inputs_and_keeps_the_others(tmp_path, capsys, checkpoint,
                                                              config):
    """A silent, a corrupt and a missing file among good ones: each is reported, the good
    files' rows are written, the exit status is 1."""
    piece = exp.split_pieces(config).train[0]
    good = tmp_path / "good.flac"
    soundfile.write(good, piece.audio, piece.sample_rate)
    silent = tmp_path / "silent.wav"
    write_wav(silent, np.zeros(8000, dtype=np.float32), 8000)
    text = tmp_path / "notes.wav"
    text.write_text("hello")
    table = tmp_path / "e.csv"
    inputs = [silent, good, text, tmp_path / "missing.ogg", good]
    assert main(["detect", str(checkpoint), *map(str, inputs), "--out", str(table)]) == 1
    captured = capsys.readouterr()
    assert f"skipped {silent}: {silent}: audio is silent" in captured.err
    assert f"skipped {text}: {text}: not a readable audio file" in captured.err
    assert "missing.ogg" in captured.err and "3 of 5 inputs skipped" in captured.err
    rows = list(csv.DictReader(table.open()))
    expected = load_detector(checkpoint).detect_file(good)
    assert len(rows) == 2 * len(expected) > 0 and {r["file"] for r in rows} == {str(good)}
    table.unlink()
    assert main(["detect", str(checkpoint), str(silent), "--out", str(table)]) == 1
    assert not table.exists()  # nothing to write
    with pytest.raises(SystemExit) as error:
        main(["detect", "--model", str(silent), str(silent), "--out", str(table)])
    assert error.value.code == 2
    assert "not a softloc detector checkpoint" in capsys.readouterr().err


def test_detect_prints_to_stdout_and_writes_midi(tmp_path, capsys, checkpoint, config):
    piece = exp.split_pieces(config).train[0]
    wav = tmp_path / "take.wav"
    write_wav(wav, piece.audio, piece.sample_rate)
    assert main(["detect", str(checkpoint), str(wav), "--midi", str(tmp_path / "midi")]) == 0
    captured = capsys.readouterr()
    rows = list(csv.DictReader(io.StringIO(captured.out)))
    events = load_detector(checkpoint).detect_file(wav)
    assert [(r["time"], r["class"], r["score"]) for r in rows] == events.rows()
    assert f"{wav}: {len(events)} events" in captured.err  # the report stays off the table
    midi = pretty_midi.PrettyMIDI(str(tmp_path / "midi" / "take.mid"))
    (drums,) = midi.instruments
    assert drums.is_drum and len(drums.notes) == len(events)
    names = {"KD": 36, "SD": 38, "HH": 42}
    found = sorted((n.pitch, n.start) for n in drums.notes)
    expected = sorted((names[events.class_names[c]], t) for t, c in zip(events.times,
                                                                         events.classes))
    assert [p for p, _ in found] == [p for p, _ in expected]
    np.testing.assert_allclose([t for _, t in found], [t for _, t in expected], atol=6e-4)


def test_piano_events_to_midi(tmp_path):
    from softloc.data.music import PIANO_CLASSES

    events = DetectedEvents(times=np.array([0.5, 0.55, 1.0]), classes=np.array([39, 39, 0]),
                            scores=np.array([0.9, 0.8, 0.7]), class_names=PIANO_CLASSES)
    events.to_midi(tmp_path / "p.mid", duration=0.2)
    (piano,) = pretty_midi.PrettyMIDI(str(tmp_path / "p.mid")).instruments
    notes = sorted((round(n.start, 3), round(n.end, 3), n.pitch, n.velocity) for n in piano.notes)
    # C4 (class 39, MIDI 60) twice: the first note ends at the second onset
    assert not piano.is_drum and notes == [(0.5, 0.55, 60, 100), (0.55, 0.75, 60, 100),
                                           (1.0, 1.2, 21, 100)]
    with pytest.raises(ValueError, match="velocity"):
        events.to_midi(tmp_path / "q.mid", velocity=0)
    with pytest.raises(ValueError, match="duration"):
        events.to_midi(tmp_path / "q.mid", duration=0)
    other = dataclasses.replace(events, class_names=("a",) * 88)
    with pytest.raises(ValueError, match="no MIDI notes"):
        other.to_midi(tmp_path / "q.mid")


@pytest.mark.parametrize("fmt, subtype, tolerance", [
    ("WAV", "FLOAT", 2e-6), ("FLAC", "PCM_24", 1e-4), ("OGG", "VORBIS", None),
    ("MP3", "MPEG_LAYER_III", None)])
def test_detect_file_reads_the_usual_formats(tmp_path, checkpoint, config, fmt, subtype,
                                             tolerance):
    """44.1 kHz stereo in four containers: lossless ones give the probabilities of the samples
    themselves; lossy ones still find the groove's hits."""
    piece = exp.split_pieces(config).train[0]
    stereo = resample(np.stack([piece.audio, 0.5 * piece.audio]), piece.sample_rate, 44100)
    path = tmp_path / f"groove.{fmt.lower()}"
    soundfile.write(path, stereo.T, 44100, format=fmt, subtype=subtype)
    detector = load_detector(checkpoint)
    if tolerance is not None:
        ours, _ = detector.probabilities_file(path)
        theirs, _ = detector.probabilities(stereo, 44100)
        np.testing.assert_allclose(ours, theirs, atol=tolerance)
    events = detector.detect_file(path)
    scores = multiclass_f_measure(piece.events(), events.events(), tolerance=0.05)
    assert scores.micro.f1 >= 0.8, scores.micro


@pytest.mark.parametrize("chunk_seconds", [0.05, 0.37, 2.0])
def test_chunked_processing_equals_the_whole(tmp_path, checkpoint, config, chunk_seconds):
    """Pieces of any length give the whole recording's probabilities (and events), in
    memory and from a file read block by block and resampled on the fly."""
    piece = exp.split_pieces(config).train[0]
    detector = load_detector(checkpoint)
    spec = exp._features_cached(piece, config.mel, 1.0)
    with torch.no_grad():
        whole = torch.sigmoid(detector.model(torch.from_numpy(spec.features)[None])[0]).numpy()
    ours, time_base = detector.probabilities(piece.audio, piece.sample_rate,
                                             chunk_seconds=chunk_seconds)
    assert time_base == spec.time_base
    np.testing.assert_allclose(ours, whole, atol=2e-6)
    path = tmp_path / "x.flac"
    soundfile.write(path, resample(piece.audio, piece.sample_rate, 22050), 22050,
                    subtype="PCM_24")
    from_file, _ = detector.probabilities_file(path, chunk_seconds=chunk_seconds)
    in_memory, _ = detector.probabilities(soundfile.read(path, dtype="float32")[0], 22050)
    np.testing.assert_allclose(from_file, in_memory, atol=2e-6)
    with pytest.raises(ValueError, match="chunk_seconds"):
        detector.probabilities(piece.audio, piece.sample_rate, chunk_seconds=0)


def test_bidirectional_models_run_in_pieces_too(checkpoint, config):
    detector = load_detector(checkpoint)
    net = ConvRecurrentDetector(**{**detector.model.config(), "bidirectional": True}).eval()
    detector = dataclasses.replace(detector, model=net)
    piece = exp.split_pieces(config).train[0]
    spec = exp._features_cached(piece, config.mel, 1.0)
    with torch.no_grad():
        whole = torch.sigmoid(net(torch.from_numpy(spec.features)[None])[0]).numpy()
    ours, _ = detector.probabilities(piece.audio, piece.sample_rate, chunk_seconds=0.3)
    np.testing.assert_allclose(ours, whole, atol=2e-6)


# --------------------------------------------------------------------------- video (golf)

# A few steps on a tiny rendered set: the plumbing is tested exactly, not what the model learns.
GOLF = golf.GolfExperimentConfig(
    data=GolfConfig(num_clips=8, image_size=(32, 32), motion_blur_subframes=1,
                    slow_motion_share=0.0, pre_address=(0.1, 0.2), hold=(0.1, 0.2)),
    iterations=3, window=16, batch_size=2, channels=(4, 8), hidden=8)


@pytest.fixture(scope="module")
def golf_models():
    """The two heads: softmax (ce) and sigmoid (softloc)."""
    return {loss: golf.train_golf_model(GOLF, loss=loss, noise_level=1, fold=1)
            for loss in ("ce", "softloc")}


@pytest.fixture(scope="module")
def golf_checkpoints(golf_models, tmp_path_factory):
    folder = tmp_path_factory.mktemp("golf")
    return {loss: save_detector(folder / f"{loss}.pt", trained, experiment="golf")
            for loss, trained in golf_models.items()}


@pytest.fixture(scope="module")
def clip():
    return golf.held_out_clips(GOLF, 1)[0]


def _write_frames(folder, frames):
    from PIL import Image

    folder.mkdir()
    for i, frame in enumerate(frames):  # 2.png sorts before 10.png
        Image.fromarray(frame).save(folder / f"{i}.png")
    return folder


def test_golf_checkpoint_describes_itself(golf_models, golf_checkpoints):
    for loss, path in golf_checkpoints.items():
        payload = torch.load(path, weights_only=True)
        assert payload["experiment"] == "golf" and "fps" not in payload
        assert payload["input"] == {"kind": "video", "image_size": [32, 32]}
        assert payload["class_names"] == list(GOLF_EVENTS)
        head = "softmax" if loss == "ce" else "sigmoid"
        assert payload["decoder"] == {"rule": "argmax", "head": head}
        assert payload["model"]["type"] == "FrameRecurrentDetector"
        detector = load_detector(path, experiment="golf")
        assert isinstance(detector, VideoDetector) and detector.image_size == (32, 32)
        assert detector.softmax == (loss == "ce") and detector.class_names == GOLF_EVENTS
        assert detector.training == {**golf_models[loss].info}
        assert detector.training["fold"] == 1 and detector.training["noise_level"] == 1.0
        assert not detector.model.training


def test_detection_equals_the_experiments_argmax_decoding(golf_models, golf_checkpoints, clip):
    for loss, path in golf_checkpoints.items():
        trained = golf_models[loss]
        detector = load_detector(path)
        found = detector.detect(clip.frames, fps=clip.fps)
        assert isinstance(found, DetectedVideoEvents) and len(found) == 8
        expected = golf._predict(trained.model, [clip], trained.softmax)[0]
        np.testing.assert_array_equal(found.frames, expected)
        probs = golf.event_probabilities(trained.model, clip.frames, softmax=trained.softmax)
        np.testing.assert_array_equal(found.scores, probs.numpy()[np.arange(8), expected])
        np.testing.assert_allclose(found.times, expected / clip.fps, rtol=1e-12)
        assert found.fps == clip.fps and found.class_names == GOLF_EVENTS
        same = detector.detect(torch.from_numpy(clip.frames))  # a tensor; no frame rate
        np.testing.assert_array_equal(same.frames, expected)
        assert np.isnan(same.times).all() and same.fps is None
        row = golf.evaluate_golf_model(trained, [clip])
        assert row["mean_abs_error"] == np.abs(found.frames - clip.events).mean()


def test_frames_of_another_size_are_resized(golf_checkpoints, clip):
    detector = load_detector(golf_checkpoints["ce"])
    bigger = np.repeat(np.repeat(clip.frames, 3, axis=1), 2, axis=2)  # 96 x 64
    assert detector.probabilities(bigger).shape == (8, len(clip.frames))
    one = detector.detect(clip.frames[:1], fps=10)  # fewer frames than events: all on frame 0
    assert one.frames.tolist() == [0] * 8 and one.times.tolist() == [0.0] * 8


def test_detect_file_reads_frame_folders(golf_checkpoints, clip, tmp_path):
    detector = load_detector(golf_checkpoints["softloc"])
    folder = _write_frames(tmp_path / "swing", clip.frames)
    in_memory = detector.detect(clip.frames)
    found = detector.detect_file(folder)
    np.testing.assert_array_equal(found.frames, in_memory.frames)
    np.testing.assert_array_equal(found.scores, in_memory.scores)
    assert found.fps is None and np.isnan(found.times).all()
    timed = detector.detect_file(folder, fps=25)
    np.testing.assert_allclose(timed.times, timed.frames / 25)
    table = tmp_path / "events.csv"
    found.to_csv(table)
    rows = list(csv.DictReader(table.open()))
    assert [r["event"] for r in rows] == list(GOLF_EVENTS)
    assert [int(r["frame"]) for r in rows] == found.frames.tolist()
    assert all(r["time"] == "" for r in rows)


def _write_mp4(path, frames, fps):
    cv2 = pytest.importorskip("cv2")
    height, width = frames.shape[1:3]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (width, height))
    assert writer.isOpened()
    for frame in frames:
        writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    writer.release()
    return path


def test_detect_file_reads_videos(golf_checkpoints, clip, tmp_path):
    """mp4v is lossy: the plumbing is checked (8 events in order, frames in the clip, times =
    frame / the file's rate), not equality with the clean frames."""
    detector = load_detector(golf_checkpoints["ce"])
    video = _write_mp4(tmp_path / "swing.mp4", clip.frames, 30.0)
    found = detector.detect_file(video)
    assert found.class_names == GOLF_EVENTS and found.fps == 30.0
    assert found.frames.min() >= 0 and found.frames.max() < len(clip.frames)
    np.testing.assert_allclose(found.times, found.frames / 30.0)
    assert ((found.scores > 0) & (found.scores <= 1)).all()
    slow = detector.detect_file(video, fps=120)  # overrides the file's rate
    np.testing.assert_array_equal(slow.frames, found.frames)
    np.testing.assert_allclose(slow.times, found.frames / 120)


@pytest.mark.parametrize("frames, error, message", [
    (np.zeros((4, 32, 32), dtype=np.uint8), ValueError, r"\(T, H, W, 3\), got shape"),
    (np.zeros((4, 32, 32, 4), dtype=np.uint8), ValueError, "got 4 channels"),
    (np.zeros(16000, dtype=np.float32), ValueError, "takes RGB video frames"),
    (np.zeros((4, 32, 32, 3), dtype=np.float32), TypeError, "uint8"),
    (np.zeros((0, 32, 32, 3), dtype=np.uint8), ValueError, "at least 1 frame"),
    ([[0, 0, 0]], TypeError, "numpy array or torch.Tensor"),
])
def test_bad_frames_are_refused(golf_checkpoints, frames, error, message):
    with pytest.raises(error, match=message):
        load_detector(golf_checkpoints["ce"]).detect(frames)


def test_bad_fps_and_files_are_refused(golf_checkpoints, clip, tmp_path):
    detector = load_detector(golf_checkpoints["ce"])
    for fps, error in [(0, ValueError), (float("nan"), ValueError), ("25", TypeError)]:
        with pytest.raises(error, match="fps"):
            detector.detect(clip.frames, fps=fps)
    with pytest.raises(ValueError, match="fps"):
        detector.detect_file(tmp_path / "missing.mp4", fps=-1)  # before reading
    with pytest.raises(FileNotFoundError):
        detector.detect_file(tmp_path / "missing.mp4")
    wav = tmp_path / "a.wav"
    write_wav(wav, np.zeros(800, dtype=np.float32), 8000)
    with pytest.raises(ValueError, match="an audio file; a 'golf' detector takes video"):
        detector.detect_file(wav)
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="holds no frames.*takes a video file or a folder"):
        detector.detect_file(tmp_path / "empty")


def test_audio_and_video_detectors_refuse_each_others_input(golf_checkpoints, checkpoint,
                                                            clip, tmp_path):
    with pytest.raises(ValueError, match="'golf' detector takes video frames, not audio"):
        detect_events(golf_checkpoints["ce"], np.ones(16000, dtype=np.float32), 16000)
    with pytest.raises(ValueError, match="a 'golf' detector, not a 'drums' one"):
        load_detector(golf_checkpoints["ce"], experiment="drums")
    audio = load_detector(checkpoint)
    folder = _write_frames(tmp_path / "swing", clip.frames[:3])
    with pytest.raises(ValueError, match="a folder; a 'drums' detector takes audio files"):
        audio.detect_file(folder)
    with pytest.raises(ValueError, match=r"\(n,\) or \(channels, n\)"):
        audio.detect(clip.frames, 16000)


def test_damaged_video_checkpoints_are_refused(golf_checkpoints, tmp_path):
    payload = torch.load(golf_checkpoints["softloc"], weights_only=True)
    for change in [{"decoder": {"rule": "peaks", "head": "sigmoid"}},
                   {"decoder": {"rule": "argmax", "head": "softmax"}},  # 8 logits, not 9
                   {"input": {"kind": "video", "image_size": [2, 2]}},
                   {"input": {"kind": "video"}},
                   {"class_names": list(GOLF_EVENTS[:7])},
                   {"model": {**payload["model"], "type": "ConvRecurrentDetector"}},
                   {"model": {**payload["model"], "config": {
                       **payload["model"]["config"], "hidden": 9}}}]:
        broken = tmp_path / "broken.pt"
        torch.save({**payload, **change}, broken)
        with pytest.raises(ValueError, match="damaged detector checkpoint"):
            load_detector(broken)
    torch.save({**payload, "experiment": "drums"}, tmp_path / "broken.pt")
    with pytest.raises(ValueError, match="'drums' detector with 'video' input"):
        load_detector(tmp_path / "broken.pt")


def test_save_detector_refuses_mismatched_models(golf_models, tmp_path):
    with pytest.raises(TypeError, match="ConvRecurrentDetector"):
        save_detector(tmp_path / "m.pt", golf_models["ce"], experiment="drums")
    with pytest.raises(TypeError, match="TrainedGolfModel"):
        save_detector(tmp_path / "m.pt", object(), experiment="golf")
    with pytest.raises(ValueError, match="experiment must be one of"):
        save_detector(tmp_path / "m.pt", golf_models["ce"], experiment="tennis")
    assert not (tmp_path / "m.pt").exists()


@pytest.fixture
def tiny_golf_training(monkeypatch):
    monkeypatch.setitem(EXPERIMENTS, "golf",
                        dataclasses.replace(EXPERIMENTS["golf"], quick_config=GOLF))


def test_train_golf_then_detect_from_the_command_line(tmp_path, capsys, tiny_golf_training,
                                                      clip):
    model = tmp_path / "golf.pt"
    assert main(["train", "golf", "--quick", "--loss", "ce", "--noise", "1", "--fold", "1",
                 "--save", str(model), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "golf: loss ce, noise 1 frames, 3 steps, fold 1 held out" in out
    assert "held-out PCE" in out and f"wrote {model}" in out
    assert not model.with_name("golf.pt.train-state").exists()
    detector = load_detector(model)
    assert detector.training["loss"] == "ce" and detector.training["fold"] == 1
    folder = _write_frames(tmp_path / "swing", clip.frames)
    inputs = [folder]
    if importlib.util.find_spec("cv2") is not None:
        inputs.append(_write_mp4(tmp_path / "swing.mp4", clip.frames, 30.0))
    table = tmp_path / "events.csv"
    assert main(["detect", str(model), *map(str, inputs), "--out", str(table)]) == 0
    out = capsys.readouterr().out
    assert f"{folder}: 8 events (no frame rate: times left empty; give --fps)" in out
    rows = list(csv.DictReader(table.open()))
    assert list(rows[0]) == ["file", "event", "frame", "time", "score"]
    assert len(rows) == 8 * len(inputs)
    for i, path in enumerate(inputs):
        block = rows[8 * i:8 * (i + 1)]
        assert [r["file"] for r in block] == [str(path)] * 8
        assert [r["event"] for r in block] == list(GOLF_EVENTS)
    expected = detector.detect(clip.frames).frames.tolist()
    assert [int(r["frame"]) for r in rows[:8]] == expected and rows[0]["time"] == ""
    if len(inputs) == 2:
        assert [float(r["time"]) for r in rows[8:]] == pytest.approx(
            [int(r["frame"]) / 30.0 for r in rows[8:]], abs=1e-6)
    assert main(["detect", str(model), str(folder), "--fps", "50", "--out", str(table)]) == 0
    rows = list(csv.DictReader(table.open()))
    assert [float(r["time"]) for r in rows] == pytest.approx([f / 50 for f in expected])


@pytest.mark.parametrize("argv, message", [
    (["train", "golf", "--loss", "extended"],
     "the golf experiment's losses are ce, ls-ce, ls-se, softloc, got 'extended'"),
    (["train", "piano", "--loss", "ls-ce"], "the piano experiment's losses are ce, extended"),
    (["train", "drums", "--fold", "1"], "--fold applies to golf only"),
    (["train", "golf", "--fold", "4"], "--fold must be a fold in 0..3"),
    (["train", "piano", "--preset", "fast"],
     "unknown preset 'fast' of the 'piano' experiment; its presets: release, robust, paper"),
    (["train", "golf", "--preset", "release"], "its presets: none"),
    (["train", "piano", "--quick", "--preset", "paper"], "not allowed with"),
    (["train", "drums", "--device", "tpu"], "device must be 'cpu', 'cuda', 'cuda:N' or 'auto'"),
    *([] if torch.cuda.is_available() else [
        (["train", "drums", "--device", "cuda"], "needs CUDA")]),
    (["detect", "MODEL", "in", "--fps", "0"], "--fps"),
])
def test_train_and_detect_options_are_checked(tmp_path, capsys, argv, message):
    argv = [str(tmp_path / "model.pt") if a == "MODEL" else a for a in argv]
    extra = ["--out", str(tmp_path / "e.csv")] if argv[0] == "detect" else \
        ["--save", str(tmp_path / "model.pt")]
    with pytest.raises(SystemExit) as error:
        main(argv + extra)
    assert error.value.code == 2 and message in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


def test_detect_refuses_options_and_inputs_of_the_other_kind(tmp_path, capsys, golf_checkpoints,
                                                             checkpoint):
    wav = tmp_path / "a.wav"
    write_wav(wav, np.ones(8000, dtype=np.float32), 8000)
    out = str(tmp_path / "e.csv")
    for argv, message in [
            ([str(golf_checkpoints["ce"]), str(wav), "--threshold", "0.5"],
             "--threshold applies to piano and drums detectors"),
            ([str(checkpoint), str(wav), "--fps", "30"], "--fps applies to golf (video)"),
            ([str(checkpoint), str(wav), "--midi", str(wav)], "--midi must be a folder"),
            ([str(golf_checkpoints["ce"]), str(wav), "--midi", str(tmp_path)],
             "--midi applies to piano and drums")]:
        with pytest.raises(SystemExit) as error:
            main(["detect", *argv, "--out", out])
        assert error.value.code == 2 and message in capsys.readouterr().err
    for argv, message in [([str(golf_checkpoints["ce"]), str(wav)], "a 'golf' detector takes video"),
                          ([str(checkpoint), str(tmp_path)], "a 'drums' detector takes audio")]:
        assert main(["detect", *argv, "--out", out]) == 1  # skipped as an input
        assert message in capsys.readouterr().err
    assert not (tmp_path / "e.csv").exists()
