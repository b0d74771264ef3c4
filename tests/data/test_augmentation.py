"""Tests of softloc.data.augmentation: each effect measured alone, determinism, bad input."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from softloc.data.augmentation import AudioAugmentation, augment_audio

RATE = 16000
NONE = dict(reverb_probability=0.0, eq_probability=0.0, noise_probability=0.0,
            band_limit_probability=0.0, clip_probability=0.0, gain_db=(0.0, 0.0))


def only(**changes) -> AudioAugmentation:
    return AudioAugmentation(**{**NONE, **changes})


def clicks(seconds: float = 2.0, at=(0.25, 0.9, 1.6)) -> np.ndarray:
    """Decaying 1 kHz tone bursts (piano-like attacks) starting at ``at`` seconds."""
    x = np.zeros(int(seconds * RATE))
    t = np.arange(int(0.2 * RATE)) / RATE
    burst = 0.3 * np.sin(2 * np.pi * 1000 * t) * np.exp(-t / 0.05)
    for start in at:
        i = int(start * RATE)
        x[i:i + burst.size] += burst
    return x


def onset_samples(x: np.ndarray, starts, threshold_db: float = -20.0) -> list[int]:
    """First sample of each burst above ``threshold_db`` of its own peak."""
    found = []
    for start in starts:
        i = int(start * RATE)
        window = np.abs(x[i - 800:i + 3200])
        above = np.flatnonzero(window > window.max() * 10 ** (threshold_db / 20))
        found.append(i - 800 + int(above[0]))
    return found


def test_nothing_applied_is_the_identity_up_to_float32():
    x = clicks()
    out, applied = augment_audio(x, RATE, only(), np.random.default_rng(0))
    assert applied == {"gain": {"db": 0.0}}
    np.testing.assert_allclose(out, x.astype(np.float32), atol=1e-7)


@pytest.mark.parametrize("effect", [
    dict(reverb_probability=1.0, wet_range=(0.5, 0.5)),
    dict(eq_probability=1.0),
    dict(band_limit_probability=1.0, cutoff_range=(3000.0, 3000.0)),
])
def test_effects_do_not_move_onsets(effect):
    starts = (0.25, 0.9, 1.6)
    x = clicks(at=starts)
    for seed in range(4):
        out, applied = augment_audio(x, RATE, only(**effect), np.random.default_rng(seed))
        assert len(applied) == 2  # the effect and the gain
        moved = np.subtract(onset_samples(out, starts), onset_samples(x, starts))
        assert np.all(np.abs(moved) <= RATE // 1000), moved  # within 1 ms


def test_noise_has_the_drawn_signal_to_noise_ratio():
    x = 0.3 * np.sin(2 * np.pi * 440 * np.arange(2 * RATE) / RATE)
    for seed in range(3):
        out, applied = augment_audio(x, RATE, only(noise_probability=1.0,
                                                    snr_db_range=(20.0, 20.0)),
                                     np.random.default_rng(seed))
        noise = out.astype(np.float64) - x
        snr = 10 * np.log10(np.mean(x ** 2) / np.mean(noise ** 2))
        assert applied["noise"]["snr_db"] == 20.0 and abs(snr - 20.0) < 0.05


def test_silence_gets_no_noise():
    out, applied = augment_audio(np.zeros(RATE), RATE, only(noise_probability=1.0),
                                 np.random.default_rng(0))
    assert "noise" not in applied and not out.any()


def test_gain_and_clipping():
    x = 0.5 * np.sin(2 * np.pi * 440 * np.arange(RATE) / RATE)
    out, _ = augment_audio(x, RATE, only(gain_db=(-6.0206, -6.0206)), np.random.default_rng(0))
    assert abs(np.abs(out).max() - 0.25) < 1e-3
    loud, applied = augment_audio(x, RATE, only(gain_db=(20.0, 20.0), clip_probability=1.0),
                                  np.random.default_rng(0))
    assert "clip" in applied and np.abs(loud).max() <= 1.0 and loud.dtype == np.float32


def test_reverb_tail_has_the_drawn_energy_and_decay():
    impulse = np.zeros(4 * RATE)
    impulse[100] = 0.5
    out, applied = augment_audio(impulse, RATE, only(reverb_probability=1.0,
                                                     rt60_range=(0.6, 0.6),
                                                     wet_range=(1.0, 1.0)),
                                 np.random.default_rng(5))
    assert applied["reverb"] == {"rt60_s": 0.6, "wet": 1.0}
    tail = out[101:].astype(np.float64) / 0.5
    assert out[100] == pytest.approx(0.5, abs=1e-6)  # the direct path, at its time
    assert np.sum(tail ** 2) == pytest.approx(1.0, rel=0.02)
    # Schroeder backward integral: -5 dB to -25 dB takes a third of RT60
    energy = np.cumsum(tail[::-1] ** 2)[::-1]
    decay = 10 * np.log10(energy / energy[0])
    t5, t25 = np.flatnonzero(decay < -5)[0], np.flatnonzero(decay < -25)[0]
    assert 3 * (t25 - t5) / RATE == pytest.approx(0.6, rel=0.15)


def test_band_limit_removes_what_is_above_the_cutoff():
    noise = np.random.default_rng(0).standard_normal(4 * RATE) * 0.1
    out, applied = augment_audio(noise, RATE, only(band_limit_probability=1.0,
                                                   cutoff_range=(3000.0, 3000.0)),
                                 np.random.default_rng(0))
    spectrum = np.abs(np.fft.rfft(out)) ** 2
    freqs = np.fft.rfftfreq(out.size, 1 / RATE)
    passband = spectrum[(freqs > 500) & (freqs < 2500)].mean()
    stopband = spectrum[freqs > 4500].mean()
    assert 10 * np.log10(passband / stopband) > 40
    assert applied["band_limit"]["cutoff_hz"] == 3000.0


def test_the_same_generator_state_gives_the_same_audio_and_seeds_differ():
    x = clicks()
    a, _ = augment_audio(x, RATE, AudioAugmentation(), np.random.default_rng(11))
    b, _ = augment_audio(x, RATE, AudioAugmentation(), np.random.default_rng(11))
    c, _ = augment_audio(x, RATE, AudioAugmentation(), np.random.default_rng(12))
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_an_effect_switched_off_does_not_change_the_others():
    x = clicks()
    full = AudioAugmentation(reverb_probability=1.0, noise_probability=1.0)
    _, with_reverb = augment_audio(x, RATE, full, np.random.default_rng(2))
    _, without = augment_audio(x, RATE, AudioAugmentation(reverb_probability=0.0,
                                                          noise_probability=1.0),
                               np.random.default_rng(2))
    assert with_reverb["noise"] == without["noise"] and with_reverb["gain"] == without["gain"]


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), rate=st.sampled_from([8000, 16000, 44100]),
       length=st.integers(1, 3000), scale=st.floats(0.0, 10.0))
def test_any_input_gives_bounded_finite_audio_of_the_same_length(seed, rate, length, scale):
    x = np.random.default_rng(seed).standard_normal(length) * scale
    config = AudioAugmentation(reverb_probability=1.0, eq_probability=1.0,
                               noise_probability=1.0, band_limit_probability=1.0,
                               clip_probability=1.0)
    out, _ = augment_audio(x, rate, config, np.random.default_rng(seed))
    assert out.shape == (length,) and np.all(np.isfinite(out)) and np.abs(out).max() <= 1.0


@pytest.mark.parametrize("call, error, message", [
    (lambda: augment_audio(np.array([0.0, np.nan]), RATE, AudioAugmentation(),
                           np.random.default_rng()), ValueError, "finite"),
    (lambda: augment_audio(np.zeros((2, 10)), RATE, AudioAugmentation(),
                           np.random.default_rng()), ValueError, "mono"),
    (lambda: augment_audio(np.zeros(0), RATE, AudioAugmentation(),
                           np.random.default_rng()), ValueError, "S >= 1"),
    (lambda: augment_audio(np.zeros(10), 500, AudioAugmentation(),
                           np.random.default_rng()), ValueError, "sample_rate"),
    (lambda: augment_audio(np.zeros(10), RATE, {}, np.random.default_rng()), TypeError,
     "AudioAugmentation"),
    (lambda: augment_audio(np.zeros(10), RATE, AudioAugmentation(), 3), TypeError, "rng"),
    (lambda: AudioAugmentation(reverb_probability=1.5), ValueError, "reverb_probability"),
    (lambda: AudioAugmentation(rt60_range=(0.5,)), TypeError, "rt60_range"),
    (lambda: AudioAugmentation(gain_db=(-100, 0)), ValueError, "gain_db"),
    (lambda: AudioAugmentation(eq_gain_db=-1), ValueError, "eq_gain_db"),
])
def test_bad_input_is_refused(call, error, message):
    with pytest.raises(error, match=message):
        call()
