"""Audio input and output, resampling, and log-mel spectrogram features with a stated time base.

Conventions
-----------
* Audio samples are float32 in ``[-1, 1]``: ``(n,)`` for mono, ``(channels, n)`` for several
  channels (channels first, as in torch). Sample rates are in Hz (whole numbers).
* :func:`read_wav` reads any WAV that :func:`scipy.io.wavfile.read` reads (8/16/32-bit integer
  PCM, 32/64-bit float, any sample rate, any channel count). Integer PCM is scaled by
  ``1 / 2**(bits - 1)`` (8-bit unsigned is centred at 128 first); float data is taken as is.
  Mixdown is the mean of the channels; resampling is :func:`scipy.signal.resample_poly`
  (polyphase, Kaiser window), exact for rational ratios.
* :func:`write_wav` writes atomically (:func:`softloc._io.write_atomic`), float32 or int16
  (int16 rounds and clips to ``[-32768, 32767]``).
* **Frames and time.** :func:`log_mel_spectrogram` uses :func:`torch.stft` with
  ``center=True``: the signal is padded by ``n_fft // 2`` samples on each side (zeros here,
  ``pad_mode='constant'``), frame ``f`` is the ``n_fft`` samples starting at padded index
  ``f * hop``, i.e. centred on original sample ``f * hop``, and a window shorter than ``n_fft``
  is zero-padded symmetrically inside the frame, so it is centred there too (to half a sample).
  Hence frame ``f`` **stands for time** ``f * hop / sample_rate`` seconds, which is the
  :class:`softloc.events.TimeBase` ``(fps = sample_rate / hop, offset = 0)`` returned with the
  features, and an ``n``-sample signal gives ``1 + n // hop`` frames.
* **Sample-rate variation** (the drum experiment's augmentation, reference spec 3.4): with
  ``rate_factor = r`` the features are computed *as if* the audio had the sample rate
  ``sample_rate * r``: the hop and window are ``round(seconds * sample_rate * r)`` samples and the
  mel filters are laid on the frequency grid ``k * sample_rate * r / n_fft``. The output keeps
  its nominal frame rate ``1 / hop_seconds``, while its content is stretched in time by ``1 / r``
  and its frequencies are scaled by ``r``: an event at real time ``t`` is at label time
  ``t / r_eff`` (:meth:`MelSpectrogram.label_times`), where ``r_eff = hop / (hop_seconds *
  sample_rate)`` is the factor after rounding the hop to whole samples (reported as
  :attr:`MelSpectrogram.rate_factor`). The returned ``time_base`` is in label time.
* Features are ``(n_mels, T)`` float32 in decibels, ``10 log10(max(P, amin))`` of the mel power
  ``P``, where the power spectrum is ``|STFT|**2 / n_fft`` (the authors' scaling).

Examples
--------
>>> import numpy as np
>>> config = MelConfig(sample_rate=16000, n_mels=40, hop_seconds=0.01, window_seconds=0.025,
...                    n_fft=512)
>>> spectrogram = log_mel_spectrogram(np.zeros(16000, dtype=np.float32), config)
>>> spectrogram.features.shape, spectrogram.time_base.fps
((40, 101), 100.0)
"""

from __future__ import annotations

import math
import wave
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np
import torch

from .._checks import check_int
from .._io import write_atomic
from ..events import TimeBase

__all__ = [
    "Audio",
    "MelConfig",
    "MelSpectrogram",
    "hz_to_mel",
    "log_mel_spectrogram",
    "mel_filterbank",
    "mel_to_hz",
    "read_wav",
    "resample",
    "sample_rate_factors",
    "to_mono",
    "write_wav",
]


# ----------------------------------------------------------------------------------------------
# Audio input/output
# ----------------------------------------------------------------------------------------------


def _check_rate(value, name: str) -> int:
    return check_int(value, name, 1, unit="Hz")


def _check_samples(samples, name: str = "samples") -> np.ndarray:
    array = np.asarray(samples)
    if array.dtype.kind not in "iuf":
        raise TypeError(f"{name} must hold real numbers, got dtype {array.dtype}")
    if array.ndim not in (1, 2):
        raise ValueError(f"{name} must have shape (n,) or (channels, n), got {array.shape}")
    array = array.astype(np.float32, copy=False)
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must be finite; found NaN or inf")
    return array


@dataclass(frozen=True)
class Audio:
    """Samples and their sample rate.

    Attributes
    ----------
    samples : numpy.ndarray
        float32, ``(n,)`` mono or ``(channels, n)``, nominally in ``[-1, 1]``.
    sample_rate : int
        Hz.
    """

    samples: np.ndarray
    sample_rate: int

    def __post_init__(self) -> None:
        object.__setattr__(self, "samples", _check_samples(self.samples))
        object.__setattr__(self, "sample_rate", _check_rate(self.sample_rate, "sample_rate"))

    @property
    def num_channels(self) -> int:
        return 1 if self.samples.ndim == 1 else int(self.samples.shape[0])

    @property
    def num_samples(self) -> int:
        return int(self.samples.shape[-1])

    @property
    def duration(self) -> float:
        """Seconds."""
        return self.num_samples / self.sample_rate

    def to_dict(self) -> dict:
        return {"num_channels": self.num_channels, "num_samples": self.num_samples,
                "sample_rate": self.sample_rate, "duration": self.duration}


def to_mono(samples) -> np.ndarray:
    """Mean over channels of ``(channels, n)`` samples; ``(n,)`` is returned as float32."""
    array = _check_samples(samples)
    return array if array.ndim == 1 else array.mean(axis=0, dtype=np.float64).astype(np.float32)


def resample(samples, from_rate: int, to_rate: int) -> np.ndarray:
    """Resample ``(n,)`` or ``(channels, n)`` samples from ``from_rate`` to ``to_rate`` Hz.

    Polyphase filtering (:func:`scipy.signal.resample_poly`) with the ratio reduced to lowest
    terms; the output has ``ceil(n * to_rate / from_rate)`` samples per channel.

    Examples
    --------
    >>> import numpy as np
    >>> resample(np.zeros(441, dtype=np.float32), 44100, 16000).shape
    (160,)
    """
    from scipy.signal import resample_poly

    array = _check_samples(samples)
    from_rate = _check_rate(from_rate, "from_rate")
    to_rate = _check_rate(to_rate, "to_rate")
    if from_rate == to_rate:
        return array
    ratio = Fraction(to_rate, from_rate)
    out = resample_poly(array.astype(np.float64), ratio.numerator, ratio.denominator, axis=-1)
    return out.astype(np.float32)


def read_wav(path, *, mono: bool = True, sample_rate: int | None = None) -> Audio:
    """Read a WAV file as float32 :class:`Audio`.

    Parameters
    ----------
    path : str or Path
    mono : bool
        Mix the channels down to one (mean) when True (default); otherwise the samples are
        ``(channels, n)`` (a one-channel file then gives ``(1, n)``).
    sample_rate : int, optional
        Resample to this rate (Hz); by default the file's rate is kept.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If the file is not a WAV file scipy can read (the message names the file).
    """
    from scipy.io import wavfile

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no WAV file at {path}")
    try:
        rate, data = wavfile.read(path)
    except (ValueError, EOFError, wave.Error) as error:
        raise ValueError(f"{path}: not a readable WAV file ({error})") from error
    if data.dtype.kind == "u":  # 8-bit PCM is unsigned
        bits = 8 * data.dtype.itemsize
        samples = (data.astype(np.float64) - 2 ** (bits - 1)) / 2 ** (bits - 1)
    elif data.dtype.kind == "i":
        samples = data.astype(np.float64) / 2 ** (8 * data.dtype.itemsize - 1)
    elif data.dtype.kind == "f":
        samples = data.astype(np.float64)
    else:
        raise ValueError(f"{path}: unsupported WAV sample type {data.dtype}")
    samples = samples.astype(np.float32)
    samples = samples[None, :] if samples.ndim == 1 else samples.T.copy()
    if mono:
        samples = to_mono(samples)
    if sample_rate is not None and int(rate) != sample_rate:
        samples = resample(samples, int(rate), sample_rate)
        rate = sample_rate
    return Audio(samples=samples, sample_rate=int(rate))


def write_wav(path, samples, sample_rate: int, *, dtype: str = "float32") -> None:
    """Write ``(n,)`` or ``(channels, n)`` samples to a WAV file, atomically.

    ``dtype`` is ``'float32'`` (exact; IEEE-float WAV) or ``'int16'`` (PCM: ``round(x * 32768)``,
    clipped). The same arguments always give the same bytes.
    """
    from scipy.io import wavfile

    array = _check_samples(samples)
    sample_rate = _check_rate(sample_rate, "sample_rate")
    if dtype == "float32":
        data = array
    elif dtype == "int16":
        data = np.clip(np.round(array.astype(np.float64) * 32768.0), -32768, 32767).astype(np.int16)
    else:
        raise ValueError(f"dtype must be 'float32' or 'int16', got {dtype!r}")
    data = data if data.ndim == 1 else np.ascontiguousarray(data.T)
    write_atomic(path, lambda f: wavfile.write(f, sample_rate, data), binary=True)


# ----------------------------------------------------------------------------------------------
# Mel filterbank (numpy; HTK mel scale)
# ----------------------------------------------------------------------------------------------


def hz_to_mel(frequencies):
    """HTK mel scale: ``2595 log10(1 + f / 700)`` (f in Hz)."""
    return 2595.0 * np.log10(1.0 + np.asarray(frequencies, dtype=np.float64) / 700.0)


def mel_to_hz(mels):
    """Inverse of :func:`hz_to_mel`: ``700 (10**(m / 2595) - 1)`` Hz."""
    return 700.0 * (10.0 ** (np.asarray(mels, dtype=np.float64) / 2595.0) - 1.0)


def mel_filterbank(sample_rate: float, n_fft: int, n_mels: int, fmin: float = 0.0,
                   fmax: float | None = None) -> np.ndarray:
    """Triangular mel filters ``(n_mels, n_fft // 2 + 1)`` float32, peak 1, on the bins
    ``k * sample_rate / n_fft``.

    Filter ``m`` rises linearly from the ``m``-th to the ``(m+1)``-th of ``n_mels + 2`` points
    equally spaced in mel between ``fmin`` and ``fmax`` (default ``sample_rate / 2``) and falls
    to the ``(m+2)``-th. ``sample_rate`` may be fractional (sample-rate variation).

    Examples
    --------
    >>> bank = mel_filterbank(16000, 512, 40)
    >>> bank.shape, float(bank.max()) <= 1.0
    ((40, 257), True)
    """
    if not (math.isfinite(sample_rate) and sample_rate > 0):
        raise ValueError(f"sample_rate must be a finite number > 0 (Hz), got {sample_rate}")
    if n_fft < 2 or n_mels < 1:
        raise ValueError(f"n_fft must be >= 2 and n_mels >= 1, got {n_fft} and {n_mels}")
    fmax = sample_rate / 2.0 if fmax is None else float(fmax)
    if not (0.0 <= fmin < fmax):
        raise ValueError(f"fmin and fmax must satisfy 0 <= fmin < fmax (Hz), got {fmin}, {fmax}")
    bins = np.arange(n_fft // 2 + 1) * sample_rate / n_fft
    edges = mel_to_hz(np.linspace(hz_to_mel(fmin), hz_to_mel(fmax), n_mels + 2))
    lower, centre, upper = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    rising = (bins[None, :] - lower) / (centre - lower)
    falling = (upper - bins[None, :]) / (upper - centre)
    return np.maximum(0.0, np.minimum(rising, falling)).astype(np.float32)


# ----------------------------------------------------------------------------------------------
# Log-mel spectrogram
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MelConfig:
    """Log-mel spectrogram settings.

    Attributes
    ----------
    sample_rate : int
        Hz the audio is expected at (checked by :func:`log_mel_spectrogram`).
    hop_seconds : float
        Seconds between frames; the frame rate is ``1 / hop_seconds`` (default 5 ms: 200 fps,
        as in the paper's piano and drum experiments).
    window_seconds : float
        Analysis window length in seconds (default 25 ms).
    n_fft : int
        FFT size in samples (>= the window in samples); the window is zero-padded to it.
    n_mels : int
        Mel bands.
    fmin, fmax : float
        Band edges in Hz (``fmax`` default: half the (effective) sample rate).
    window : str
        ``'hann'`` or ``'hamming'`` (the authors' code used Hamming).
    preemphasis : float
        ``y[n] = x[n] - preemphasis * x[n-1]`` before the STFT (0 disables; authors: 0.97).
    amin : float
        Power floor before the logarithm.
    """

    sample_rate: int = 16000
    hop_seconds: float = 0.005
    window_seconds: float = 0.025
    n_fft: int = 2048
    n_mels: int = 128
    fmin: float = 0.0
    fmax: float | None = None
    window: str = "hann"
    preemphasis: float = 0.0
    amin: float = 1e-10

    def __post_init__(self) -> None:
        _check_rate(self.sample_rate, "sample_rate")
        for name in ("hop_seconds", "window_seconds", "amin"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be a finite number > 0, got {value}")
        if self.window not in ("hann", "hamming"):
            raise ValueError(f"window must be 'hann' or 'hamming', got {self.window!r}")
        if not (0.0 <= self.preemphasis < 1.0):
            raise ValueError(f"preemphasis must be in [0, 1), got {self.preemphasis}")
        if self.hop_seconds * self.sample_rate < 1:
            raise ValueError("hop_seconds * sample_rate must be at least one sample")
        if round(self.window_seconds * self.sample_rate * 9 / 8) > self.n_fft:
            raise ValueError(f"n_fft ({self.n_fft}) must hold the window of window_seconds "
                             f"({self.window_seconds} s) at 9/8 of the sample rate")
        if self.n_mels < 1:
            raise ValueError(f"n_mels must be >= 1, got {self.n_mels}")

    @property
    def fps(self) -> float:
        """Nominal frame rate, ``1 / hop_seconds`` frames per second."""
        return 1.0 / self.hop_seconds

    def to_dict(self) -> dict:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


@dataclass(frozen=True)
class MelSpectrogram:
    """Log-mel features with their time base.

    Attributes
    ----------
    features : numpy.ndarray
        ``(n_mels, T)`` float32, decibels.
    time_base : softloc.events.TimeBase
        Label time of each frame: frame ``f`` stands for ``f * hop_seconds_effective`` where
        ``hop_seconds_effective = hop / (sample_rate * rate_factor)`` (``= hop / sample_rate``
        without augmentation).
    hop : int
        Samples between frames (of the real audio).
    sample_rate : int
        Hz of the real audio.
    rate_factor : float
        Effective sample-rate factor ``r_eff`` (1 without augmentation).
    """

    features: np.ndarray
    time_base: TimeBase
    hop: int
    sample_rate: int
    rate_factor: float = 1.0

    @property
    def num_frames(self) -> int:
        return int(self.features.shape[1])

    def label_times(self, times) -> np.ndarray:
        """Map real event times (seconds in the audio) to this spectrogram's label time,
        ``t / rate_factor``."""
        return np.asarray(times, dtype=np.float64) / self.rate_factor

    def to_dict(self) -> dict:
        return {"shape": list(self.features.shape), "time_base": self.time_base.to_dict(),
                "hop": self.hop, "sample_rate": self.sample_rate, "rate_factor": self.rate_factor}


def log_mel_spectrogram(samples, config: MelConfig, *, rate_factor: float = 1.0,
                        sample_rate: int | None = None) -> MelSpectrogram:
    """Log-mel spectrogram of mono audio with :func:`torch.stft` (``center=True``).

    Parameters
    ----------
    samples : array-like
        ``(n,)`` audio (a ``(channels, n)`` array is mixed down first).
    config : MelConfig
    rate_factor : float
        Sample-rate variation ``r`` (module docstring): compute the features as if the audio
        had the sample rate ``sample_rate * r``. ``1`` (default) is plain features.
    sample_rate : int, optional
        Hz of ``samples``; must equal ``config.sample_rate`` when given.

    Returns
    -------
    MelSpectrogram
        Frame ``f`` stands for label time ``f * hop / (sample_rate * r_eff)``.
    """
    if not isinstance(config, MelConfig):
        raise TypeError(f"config must be a MelConfig, got {type(config).__name__}")
    if sample_rate is not None and sample_rate != config.sample_rate:
        raise ValueError(f"sample_rate ({sample_rate} Hz) differs from config.sample_rate "
                         f"({config.sample_rate} Hz); resample first")
    if not (isinstance(rate_factor, (int, float)) and 0.5 <= rate_factor <= 2.0):
        raise ValueError(f"rate_factor must be a number in [0.5, 2], got {rate_factor}")
    audio = to_mono(samples).astype(np.float64)
    sr = config.sample_rate
    hop = max(1, int(round(config.hop_seconds * sr * rate_factor)))
    effective = hop / (config.hop_seconds * sr)
    virtual_rate = sr * effective
    window_length = min(config.n_fft, max(2, int(round(config.window_seconds * virtual_rate))))
    if config.preemphasis > 0 and audio.size > 1:
        audio = np.concatenate([audio[:1], audio[1:] - config.preemphasis * audio[:-1]])
    signal = torch.from_numpy(audio)
    if config.window == "hann":
        window = torch.hann_window(window_length, periodic=False, dtype=torch.float64)
    else:
        window = torch.hamming_window(window_length, periodic=False, dtype=torch.float64)
    spectrum = torch.stft(signal, n_fft=config.n_fft, hop_length=hop, win_length=window_length,
                          window=window, center=True, pad_mode="constant", return_complex=True)
    power = spectrum.abs().square() / config.n_fft
    fmax = None if config.fmax is None else min(config.fmax, virtual_rate / 2.0)
    bank = torch.from_numpy(mel_filterbank(virtual_rate, config.n_fft, config.n_mels,
                                           config.fmin, fmax).astype(np.float64))
    mel = bank @ power
    features = 10.0 * torch.log10(torch.clamp(mel, min=config.amin))
    return MelSpectrogram(features=features.numpy().astype(np.float32),
                          time_base=TimeBase(fps=virtual_rate / hop), hop=hop,
                          sample_rate=sr, rate_factor=float(effective))


def sample_rate_factors(count: int, *, low: float = 7 / 8, high: float = 9 / 8,
                        rng: np.random.Generator) -> np.ndarray:
    """``count`` sample-rate factors drawn uniformly from ``[low, high]`` (the drum
    experiment's augmentation: ``U[7/8, 9/8]``), float64."""
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    if not (0.5 <= low <= high <= 2.0):
        raise ValueError(f"need 0.5 <= low <= high <= 2, got low={low}, high={high}")
    return rng.uniform(low, high, size=int(count))
