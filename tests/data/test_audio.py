"""Tests of softloc.data.audio: audio input/output, resampling, log-mel frames and time base,
and the block-by-block readers and features."""

import numpy as np
import pytest
import soundfile

from softloc.data.audio import (
    LogMelStream,
    MelConfig,
    audio_blocks,
    audio_info,
    log_mel_spectrogram,
    mel_filterbank,
    mel_to_hz,
    hz_to_mel,
    read_audio,
    read_wav,
    resample,
    sample_rate_factors,
    to_mono,
    write_wav,
)
from softloc.events import TimeBase

RATE = 16000


def clicks(times, duration=3.0, rate=RATE):
    audio = np.zeros(int(duration * rate), dtype=np.float32)
    audio[np.round(np.asarray(times) * rate).astype(int)] = 1.0
    return audio


def peak_frames(features, count):
    """Frames of the ``count`` largest local maxima of the mean energy (dB) over bands."""
    energy = features.mean(axis=0)
    maxima = [f for f in range(1, energy.size - 1)
              if energy[f] >= energy[f - 1] and energy[f] > energy[f + 1]]
    return np.sort(sorted(maxima, key=lambda f: -energy[f])[:count])


@pytest.mark.parametrize("hop_seconds", [0.005, 0.01])
def test_click_peaks_at_its_frame(hop_seconds):
    config = MelConfig(sample_rate=RATE, hop_seconds=hop_seconds, n_mels=64, n_fft=1024)
    times = [0.3013, 1.0, 1.7777, 2.5]
    spectrogram = log_mel_spectrogram(clicks(times), config)
    assert spectrogram.time_base == TimeBase(fps=1 / hop_seconds)
    assert spectrogram.hop == round(hop_seconds * RATE)
    assert spectrogram.num_frames == 1 + 3 * RATE // spectrogram.hop
    np.testing.assert_array_equal(peak_frames(spectrogram.features, 4),
                                  spectrogram.time_base.frames_of(times))


def test_frame_zero_is_centred_on_sample_zero():
    # a click at t = 0 peaks in frame 0 (centred frames), not in frame 2 or later
    config = MelConfig(sample_rate=RATE, hop_seconds=0.005, n_mels=32, n_fft=1024)
    energy = log_mel_spectrogram(clicks([0.0], 1.0), config).features.mean(axis=0)
    assert int(np.argmax(energy)) == 0


@pytest.mark.parametrize("factor", [7 / 8, 0.95, 1.0, 1.06, 9 / 8])
def test_sample_rate_variation_keeps_labels_aligned(factor):
    config = MelConfig(sample_rate=RATE, hop_seconds=0.005, n_mels=64, n_fft=1024)
    times = np.array([0.25, 0.9, 1.6, 2.41, 2.8])
    spectrogram = log_mel_spectrogram(clicks(times, 3.2), config, rate_factor=factor)
    assert spectrogram.time_base.fps == pytest.approx(200.0)
    assert spectrogram.rate_factor == pytest.approx(factor, abs=1 / 80)
    frames = spectrogram.time_base.frames_of(spectrogram.label_times(times))
    np.testing.assert_array_equal(peak_frames(spectrogram.features, times.size), frames)
    if abs(factor - 1) > 0.04:  # without dividing the labels they would be off by frames
        assert np.abs(spectrogram.time_base.frames_of(times)[-1] - frames[-1]) >= 5


def test_sample_rate_variation_scales_frequencies():
    config = MelConfig(sample_rate=RATE, hop_seconds=0.01, n_mels=80, n_fft=2048)
    t = np.arange(RATE) / RATE
    tone = (0.5 * np.sin(2 * np.pi * 1000.0 * t)).astype(np.float32)
    peaks = {}
    for factor in (7 / 8, 1.0, 9 / 8):
        spectrogram = log_mel_spectrogram(tone, config, rate_factor=factor)
        band = int(np.argmax(spectrogram.features[:, 50]))
        edges = mel_to_hz(np.linspace(0, hz_to_mel(RATE * spectrogram.rate_factor / 2), 82))
        assert edges[band] < 1000.0 * spectrogram.rate_factor < edges[band + 2]
        peaks[factor] = band
    assert peaks[7 / 8] < peaks[1.0] < peaks[9 / 8]


def test_mel_filterbank_triangles():
    bank = mel_filterbank(RATE, 512, 40)
    assert bank.shape == (40, 257) and bank.dtype == np.float32
    assert np.all(bank >= 0) and np.all(bank.max(axis=1) > 0.5)
    centres = bank.argmax(axis=1)
    assert np.all(np.diff(centres) >= 0)
    with pytest.raises(ValueError, match="fmin"):
        mel_filterbank(RATE, 512, 40, fmin=9000.0)


def test_config_and_argument_errors():
    with pytest.raises(ValueError, match="window"):
        MelConfig(window="blackman")
    with pytest.raises(ValueError, match="n_fft"):
        MelConfig(sample_rate=44100, n_fft=512)
    config = MelConfig(sample_rate=RATE, n_fft=1024)
    with pytest.raises(ValueError, match="sample_rate"):
        log_mel_spectrogram(np.zeros(100), config, sample_rate=44100)
    with pytest.raises(ValueError, match="rate_factor"):
        log_mel_spectrogram(np.zeros(100), config, rate_factor=3.0)
    factors = sample_rate_factors(1000, rng=np.random.default_rng(0))
    assert factors.min() >= 7 / 8 and factors.max() <= 9 / 8 and factors.std() > 0.05


@pytest.mark.parametrize("rate", [8000, 22050, 44100])
@pytest.mark.parametrize("dtype", ["float32", "int16"])
def test_wav_round_trip(tmp_path, rate, dtype):
    rng = np.random.default_rng(1)
    stereo = rng.uniform(-0.9, 0.9, size=(2, 500)).astype(np.float32)
    path = tmp_path / "x.wav"
    write_wav(path, stereo, rate, dtype=dtype)
    audio = read_wav(path, mono=False)
    assert audio.sample_rate == rate and audio.samples.shape == (2, 500)
    tolerance = 0 if dtype == "float32" else 0.5 / 32768 + 1e-7
    np.testing.assert_allclose(audio.samples, stereo, atol=tolerance)
    mono = read_wav(path)
    np.testing.assert_allclose(mono.samples, stereo.mean(axis=0), atol=tolerance)
    np.testing.assert_allclose(to_mono(stereo), stereo.mean(axis=0), atol=1e-7)


def test_read_wav_integer_formats_and_resampling(tmp_path):
    from scipy.io import wavfile

    wavfile.write(tmp_path / "u8.wav", 8000, np.array([0, 128, 255], dtype=np.uint8))
    np.testing.assert_allclose(read_wav(tmp_path / "u8.wav").samples, [-1.0, 0.0, 127 / 128])
    wavfile.write(tmp_path / "i32.wav", 8000, np.array([-(2 ** 31), 2 ** 30], dtype=np.int32))
    np.testing.assert_allclose(read_wav(tmp_path / "i32.wav").samples, [-1.0, 0.5])
    t = np.arange(44100) / 44100
    wavfile.write(tmp_path / "tone.wav", 44100, np.sin(2 * np.pi * 440 * t).astype(np.float32))
    audio = read_wav(tmp_path / "tone.wav", sample_rate=RATE)
    assert audio.sample_rate == RATE and audio.samples.size == RATE
    spectrum = np.abs(np.fft.rfft(audio.samples))
    assert abs(np.argmax(spectrum) * RATE / audio.samples.size - 440) <= 1
    assert resample(np.zeros((2, 441), np.float32), 44100, 16000).shape == (2, 160)


def test_read_wav_errors_name_the_file(tmp_path):
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"this is not a wav file at all")
    with pytest.raises(ValueError, match="bad.wav"):
        read_wav(bad)
    with pytest.raises(FileNotFoundError, match="missing.wav"):
        read_wav(tmp_path / "missing.wav")
    with pytest.raises(ValueError, match="dtype"):
        write_wav(tmp_path / "x.wav", np.zeros(4), RATE, dtype="int8")


@pytest.mark.parametrize("fmt, subtype, tolerance", [
    ("WAV", "FLOAT", 0), ("WAV", "PCM_24", 1e-6), ("FLAC", "PCM_24", 1e-6),
    ("OGG", "VORBIS", None), ("OGG", "OPUS", None), ("MP3", "MPEG_LAYER_III", None)])
def test_read_audio_formats(tmp_path, fmt, subtype, tolerance):
    """WAV, FLAC, OGG (Vorbis, Opus) and MP3 at 48 kHz, stereo: the header, the samples
    (lossless: equal; lossy: a 1 kHz tone stays a 1 kHz tone) and the resampled mixdown."""
    rate = 48000
    t = np.arange(rate) / rate
    stereo = np.stack([0.5 * np.sin(2 * np.pi * 1000 * t), 0.25 * np.sin(2 * np.pi * 1000 * t)])
    path = tmp_path / f"tone.{fmt.lower()}"
    soundfile.write(path, stereo.T, rate, format=fmt, subtype=subtype)
    info = audio_info(path)
    assert (info.sample_rate, info.num_channels, info.format) == (rate, 2, fmt)
    audio = read_audio(path, mono=False)
    assert audio.samples.dtype == np.float32 and audio.samples.shape[0] == 2
    if tolerance is not None:
        np.testing.assert_allclose(audio.samples, stereo, atol=tolerance)
        assert info.num_samples == rate and info.duration == 1.0
    else:
        assert abs(audio.num_samples - rate) < 0.1 * rate
    mono = read_audio(path, sample_rate=RATE)
    assert mono.sample_rate == RATE and mono.samples.ndim == 1
    spectrum = np.abs(np.fft.rfft(mono.samples[2000:-2000]))
    assert abs(np.argmax(spectrum) * RATE / (mono.samples.size - 4000) - 1000) <= 2


@pytest.mark.parametrize("rate, block_seconds", [(RATE, 0.1), (44100, 0.013), (22050, 1.0),
                                                 (44100, 10.0)])
def test_audio_blocks_equal_the_whole_file(tmp_path, rate, block_seconds):
    rng = np.random.default_rng(3)
    stereo = rng.uniform(-0.5, 0.5, size=(2, int(1.3 * rate))).astype(np.float32)
    path = tmp_path / "noise.flac"
    soundfile.write(path, stereo.T, rate, subtype="PCM_24")
    blocks = list(audio_blocks(path, sample_rate=RATE, block_seconds=block_seconds))
    assert all(b.ndim == 1 and b.dtype == np.float32 for b in blocks)
    assert len(blocks) > 1 if block_seconds < 1 else len(blocks) >= 1
    whole = read_audio(path, sample_rate=RATE).samples
    np.testing.assert_allclose(np.concatenate(blocks), whole, atol=1e-6)
    with pytest.raises(ValueError, match="block_seconds"):
        next(audio_blocks(path, block_seconds=0))


def test_unreadable_audio_is_refused_with_the_file_name(tmp_path):
    bad = tmp_path / "bad.flac"
    bad.write_bytes(b"fLaC but nothing else")
    for call in (audio_info, read_audio, lambda p: next(audio_blocks(p))):
        with pytest.raises(ValueError, match="bad.flac: not a readable audio file"):
            call(bad)
        with pytest.raises(FileNotFoundError, match="missing.ogg"):
            call(tmp_path / "missing.ogg")
        with pytest.raises(ValueError, match="a folder"):
            call(tmp_path)
    nan = tmp_path / "nan.wav"
    soundfile.write(nan, np.array([0.0, np.nan, 0.5], dtype=np.float32), RATE, subtype="FLOAT")
    with pytest.raises(ValueError, match="nan.wav: the decoded audio holds NaN or inf"):
        read_audio(nan)
    with pytest.raises(ValueError, match="nan.wav: the decoded audio holds NaN or inf"):
        list(audio_blocks(nan))


@pytest.mark.parametrize("config", [
    MelConfig(sample_rate=RATE, n_mels=40, hop_seconds=0.01, n_fft=512),
    MelConfig(sample_rate=RATE, n_mels=64, hop_seconds=0.0101, window_seconds=0.05,
              n_fft=1024, window="hamming", preemphasis=0.97)])
@pytest.mark.parametrize("block", [1, 100, 161, 5000, 100000])
def test_log_mel_stream_equals_the_whole_spectrogram(config, block):
    audio = np.random.default_rng(4).uniform(-1, 1, 12345).astype(np.float32)
    stream = LogMelStream(config)
    parts = [stream.push(audio[i:i + block]) for i in range(0, audio.size, block)]
    frames = np.concatenate(parts + [stream.finish()], axis=1)
    whole = log_mel_spectrogram(audio, config)
    assert frames.shape == whole.features.shape and stream.num_frames == whole.num_frames
    np.testing.assert_allclose(frames, whole.features, atol=1e-4)
    assert stream.time_base == whole.time_base and stream.num_samples == audio.size
    with pytest.raises(ValueError, match="finished"):
        stream.push(audio)
    with pytest.raises(ValueError, match="mono"):
        LogMelStream(config).push(np.zeros((2, 10)))
    with pytest.raises(TypeError, match="MelConfig"):
        LogMelStream({"n_mels": 40})
