"""Audio augmentation: what a recording does to a clean render (room, EQ, noise, gain, codec).

:func:`augment_audio` applies, each with its probability and drawn from a NumPy generator,
the effects of :class:`AudioAugmentation` in the order a recording chain has them:

1. **room reverberation**: convolution with a synthetic impulse response, the direct path at
   lag 0 (so the first sound of a note does not move) plus exponentially decaying noise after
   a pre-delay, with a reverberation time RT60 (the time the tail takes to fall by 60 dB) and a
   wet share drawn per call; the tail is low-passed (air and walls absorb high frequencies);
2. **equalisation**: a low shelf, a peaking filter and a high shelf (RBJ biquads) with gains
   drawn in +-``eq_gain_db``;
3. **noise**: additive noise, white or pink (1/f power), at a signal-to-noise ratio drawn in
   ``snr_db_range`` (against the RMS of the signal where it is not silent);
4. **band limit**: an 8th-order Butterworth low-pass at a cut-off drawn in ``cutoff_range``
   (the bandwidth a lossy codec at a low bit rate keeps), and a 2nd-order high-pass at
   ``highpass_range`` (a small microphone);
5. **gain** in ``gain_db``, then soft clipping (``tanh`` drive) with ``clip_probability``, and
   the ``[-1, 1]`` range a file holds.

The event times do not change: the reverberation's direct path is at lag 0 and the filters are
causal IIR sections, whose group delay stays below a millisecond above 200 Hz.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from scipy import signal

from .._checks import check_int, check_probability, check_real

__all__ = ["AudioAugmentation", "augment_audio"]


def _pair(value: Any, name: str, low: float, high: float) -> tuple[float, float]:
    """``(low, high)`` of finite numbers in ``[low, high]``, the first not above the second."""
    if isinstance(value, (str, bytes)) or not hasattr(value, "__len__") or len(value) != 2:
        raise TypeError(f"{name} must be a pair of numbers (low, high), got {value!r}")
    a, b = (check_real(v, f"{name}[{i}]", low, high) for i, v in enumerate(value))
    if a > b:
        raise ValueError(f"{name} must satisfy {low:g} <= low <= high <= {high:g}, got {value!r}")
    return a, b


@dataclass(frozen=True)
class AudioAugmentation:
    """The effects :func:`augment_audio` draws from, with their probabilities and ranges.

    Attributes
    ----------
    reverb_probability : float
        Probability of room reverberation.
    rt60_range : (float, float)
        Reverberation time in seconds (0.05 to 5).
    wet_range : (float, float)
        Energy of the reverberant tail relative to the direct sound (0 to 2).
    eq_probability : float
        Probability of the three-band equaliser.
    eq_gain_db : float
        Largest boost or cut of each band in dB (0 to 24).
    noise_probability : float
        Probability of additive noise (white or pink, equally likely).
    snr_db_range : (float, float)
        Signal-to-noise ratio in dB (-10 to 100).
    band_limit_probability : float
        Probability of the low-pass and high-pass pair.
    cutoff_range : (float, float)
        Low-pass cut-off in Hz (at most 0.95 of the Nyquist frequency is used).
    highpass_range : (float, float)
        High-pass cut-off in Hz.
    gain_db : (float, float)
        Overall gain in dB, always applied (-60 to 24).
    clip_probability : float
        Probability of soft clipping (``tanh`` with a drive of 1 to 4).

    Examples
    --------
    >>> AudioAugmentation().reverb_probability
    0.5
    >>> AudioAugmentation(snr_db_range=(30, 10))
    Traceback (most recent call last):
        ...
    ValueError: snr_db_range must satisfy -10 <= low <= high <= 100, got (30, 10)
    """

    reverb_probability: float = 0.5
    rt60_range: tuple[float, float] = (0.2, 1.5)
    wet_range: tuple[float, float] = (0.05, 0.6)
    eq_probability: float = 0.7
    eq_gain_db: float = 8.0
    noise_probability: float = 0.5
    snr_db_range: tuple[float, float] = (15.0, 50.0)
    band_limit_probability: float = 0.3
    cutoff_range: tuple[float, float] = (3000.0, 8000.0)
    highpass_range: tuple[float, float] = (30.0, 150.0)
    gain_db: tuple[float, float] = (-20.0, 6.0)
    clip_probability: float = 0.1

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        for name in ("reverb_probability", "eq_probability", "noise_probability",
                     "band_limit_probability", "clip_probability"):
            set_(self, name, check_probability(getattr(self, name), name))
        for name, low, high in (("rt60_range", 0.05, 5.0), ("wet_range", 0.0, 2.0),
                                ("snr_db_range", -10.0, 100.0), ("cutoff_range", 100.0, 1e5),
                                ("highpass_range", 1.0, 1e4), ("gain_db", -60.0, 24.0)):
            set_(self, name, _pair(getattr(self, name), name, low, high))
        set_(self, "eq_gain_db", check_real(self.eq_gain_db, "eq_gain_db", 0.0, 24.0))

    def to_dict(self) -> dict:
        """The settings as plain values (for configuration hashes and JSON)."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}


def _impulse_response(rng: np.random.Generator, sample_rate: int, rt60: float,
                      wet: float) -> np.ndarray:
    """Direct path 1 at lag 0, then a decaying, low-passed noise tail of energy ``wet``."""
    predelay = int(round(rng.uniform(0.005, 0.03) * sample_rate))
    length = max(1, int(round(rt60 * sample_rate)))
    t = np.arange(length) / sample_rate
    tail = rng.standard_normal(length) * np.exp(-6.907755 * t / rt60)
    cutoff = min(rng.uniform(2000.0, 8000.0), 0.45 * sample_rate)
    tail = signal.sosfilt(signal.butter(2, cutoff, fs=sample_rate, output="sos"), tail)
    energy = float(np.sum(tail ** 2))
    if energy > 0:
        tail *= math.sqrt(wet / energy)
    response = np.zeros(predelay + length)
    response[0] = 1.0
    response[predelay:] += tail
    return response


def _biquad(kind: str, frequency: float, gain_db: float, q: float,
            sample_rate: int) -> np.ndarray:
    """One RBJ-cookbook section ``(1, 6)`` for ``scipy.signal.sosfilt``."""
    a = 10.0 ** (gain_db / 40.0)
    w0 = 2.0 * math.pi * frequency / sample_rate
    cos, sin = math.cos(w0), math.sin(w0)
    alpha = sin / (2.0 * q)
    if kind == "peak":
        b = [1 + alpha * a, -2 * cos, 1 - alpha * a]
        den = [1 + alpha / a, -2 * cos, 1 - alpha / a]
    else:
        root = 2.0 * math.sqrt(a) * alpha
        sign = 1.0 if kind == "low" else -1.0
        b = [a * ((a + 1) - sign * (a - 1) * cos + root),
             sign * 2 * a * ((a - 1) - sign * (a + 1) * cos),
             a * ((a + 1) - sign * (a - 1) * cos - root)]
        den = [(a + 1) + sign * (a - 1) * cos + root,
               -sign * 2 * ((a - 1) + sign * (a + 1) * cos),
               (a + 1) + sign * (a - 1) * cos - root]
    return np.array([*b, *den]) / den[0]


def _noise(rng: np.random.Generator, length: int, pink: bool) -> np.ndarray:
    white = rng.standard_normal(length)
    if not pink:
        return white
    spectrum = np.fft.rfft(white)
    scale = np.ones(spectrum.size)
    scale[1:] = 1.0 / np.sqrt(np.arange(1, spectrum.size))
    return np.fft.irfft(spectrum * scale, n=length)


def augment_audio(audio: np.ndarray, sample_rate: int, config: AudioAugmentation,
                  rng: np.random.Generator) -> tuple[np.ndarray, dict]:
    """``audio`` as a recording chain would leave it (module docstring), drawn from ``rng``.

    Parameters
    ----------
    audio:
        Mono samples ``(S,)``, float, finite.
    sample_rate:
        Hz (>= 1000).
    config:
        The effects and their ranges.
    rng:
        ``numpy.random.Generator``: the same state gives the same output.

    Returns
    -------
    (numpy.ndarray, dict)
        float32 samples ``(S,)`` in ``[-1, 1]`` (the same length: the reverberation tail past
        the end is cut), and what was applied (effect name -> its drawn settings).

    Examples
    --------
    >>> import numpy as np
    >>> rate = 16000
    >>> clicks = np.zeros(rate, dtype=np.float32); clicks[[4000, 12000]] = 0.5
    >>> out, applied = augment_audio(clicks, rate, AudioAugmentation(), np.random.default_rng(1))
    >>> out.shape, out.dtype, bool(np.abs(out).max() <= 1.0)
    ((16000,), dtype('float32'), True)
    >>> sorted(applied)
    ['eq', 'gain', 'noise', 'reverb']
    >>> again, _ = augment_audio(clicks, rate, AudioAugmentation(), np.random.default_rng(1))
    >>> bool(np.array_equal(out, again))
    True
    """
    if not isinstance(config, AudioAugmentation):
        raise TypeError(f"config must be an AudioAugmentation, got {type(config).__name__}")
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    sample_rate = check_int(sample_rate, "sample_rate", 1000, unit="Hz")
    x = np.asarray(audio, dtype=np.float64)
    if x.ndim != 1 or x.size == 0:
        raise ValueError(f"audio must be mono samples (S,) with S >= 1, got shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError("audio must be finite; found NaN or inf")
    nyquist = sample_rate / 2.0
    applied: dict[str, dict] = {}
    # One generator per effect, each from its own seed: whether an effect applies does not
    # change what the others draw.
    reverb_rng, eq_rng, noise_rng, band_rng, gain_rng = (
        np.random.default_rng(int(seed)) for seed in rng.integers(0, 2**63, size=5))
    if reverb_rng.random() < config.reverb_probability:
        rt60, wet = reverb_rng.uniform(*config.rt60_range), reverb_rng.uniform(*config.wet_range)
        x = signal.fftconvolve(x, _impulse_response(reverb_rng, sample_rate, rt60, wet))[: x.size]
        applied["reverb"] = {"rt60_s": rt60, "wet": wet}
    if eq_rng.random() < config.eq_probability:
        g = config.eq_gain_db
        bands = [("low", eq_rng.uniform(80.0, 300.0), eq_rng.uniform(-g, g), 0.707),
                 ("peak", eq_rng.uniform(300.0, 4000.0), eq_rng.uniform(-g, g),
                  eq_rng.uniform(0.5, 2.0)),
                 ("high", eq_rng.uniform(2000.0, 6000.0), eq_rng.uniform(-g, g), 0.707)]
        sections = [_biquad(kind, min(f, 0.9 * nyquist), gain, q, sample_rate)
                    for kind, f, gain, q in bands]
        x = signal.sosfilt(np.stack(sections), x)
        applied["eq"] = {f"{kind}_db": gain for kind, _, gain, _ in bands}
    if noise_rng.random() < config.noise_probability:
        snr = noise_rng.uniform(*config.snr_db_range)
        pink = bool(noise_rng.random() < 0.5)
        noise = _noise(noise_rng, x.size, pink)
        loud = np.abs(x) > 1e-4 * max(np.abs(x).max(), 1e-12)
        power = float(np.mean(x[loud] ** 2)) if loud.any() else 0.0
        if power > 0:
            noise *= math.sqrt(power / (10.0 ** (snr / 10.0)) / max(np.mean(noise ** 2), 1e-30))
            x = x + noise
            applied["noise"] = {"snr_db": snr, "pink": pink}
    if band_rng.random() < config.band_limit_probability:
        cutoff = min(band_rng.uniform(*config.cutoff_range), 0.95 * nyquist)
        highpass = min(band_rng.uniform(*config.highpass_range), 0.5 * cutoff)
        lowpass = signal.butter(8, cutoff, fs=sample_rate, output="sos")
        high = signal.butter(2, highpass, btype="highpass", fs=sample_rate, output="sos")
        x = signal.sosfilt(np.concatenate([high, lowpass]), x)
        applied["band_limit"] = {"cutoff_hz": cutoff, "highpass_hz": highpass}
    gain = gain_rng.uniform(*config.gain_db)
    x = x * 10.0 ** (gain / 20.0)
    applied["gain"] = {"db": gain}
    if gain_rng.random() < config.clip_probability:
        drive = gain_rng.uniform(1.0, 4.0)
        x = np.tanh(drive * x) / math.tanh(drive)
        applied["clip"] = {"drive": drive}
    return np.clip(x, -1.0, 1.0).astype(np.float32), applied
