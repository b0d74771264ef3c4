"""Tests of softloc.data.audio: WAV input/output, resampling, log-mel frames and time base."""

import numpy as np
import pytest

from softloc.data.audio import (
    MelConfig,
    log_mel_spectrogram,
    mel_filterbank,
    mel_to_hz,
    hz_to_mel,
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
