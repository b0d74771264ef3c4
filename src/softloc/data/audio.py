"""Audio input and output, resampling, and log-mel spectrogram features with a stated time base.

Conventions
-----------
* Audio samples are float32 in ``[-1, 1]``: ``(n,)`` for mono, ``(channels, n)`` for several
  channels (channels first, as in torch). Sample rates are in Hz (whole numbers).
* :func:`read_audio` reads WAV, FLAC, OGG (Vorbis, Opus) and MP3 files (any format libsndfile
  reads, through ``soundfile``), any sample rate and channel count, as float32 (integer PCM
  scaled by ``1 / 2**(bits - 1)``, float data taken as is). :func:`audio_blocks` reads a file a
  block at a time for long recordings; :func:`audio_info` reads only its header. Mixdown is the
  mean of the channels; resampling is libsoxr (:func:`resample`, and a streaming resampler in
  :func:`audio_blocks` that gives the same samples whatever the block length). Unreadable files
  raise ``ValueError`` naming the file.
* :func:`write_wav` writes atomically (:func:`softloc._io.write_atomic`), float32 or int16
  (int16 rounds and clips to ``[-32768, 32767]``).
* **Frames and time.** :func:`log_mel_spectrogram` uses :func:`torch.stft` with
  ``center=True``: the signal is padded by ``n_fft // 2`` samples on each side (zeros here,
  ``pad_mode='constant'``), frame ``f`` is the ``n_fft`` samples starting at padded index
  ``f * hop``, i.e. centred on original sample ``f * hop``, and a window shorter than ``n_fft``
  is zero-padded symmetrically inside the frame, so it is centred there too (to half a sample).
  Hence frame ``f`` **stands for time** ``f * hop / sample_rate`` seconds, which is the
  :class:`softloc.events.TimeBase` ``(fps = sample_rate / hop, offset = 0)`` returned with the
  features, and an ``n``-sample signal gives ``1 + n // hop`` frames. :class:`LogMelStream`
  computes the same frames from audio that arrives in blocks.
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
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from .._checks import check_int, check_real
from .._io import write_atomic
from ..events import TimeBase

__all__ = [
    "AUDIO_FORMATS",
    "RESAMPLE_QUALITY",
    "Audio",
    "AudioInfo",
    "audio_blocks",
    "audio_info",
    "MelConfig",
    "MelSpectrogram",
    "hz_to_mel",
    "LogMelStream",
    "log_mel_spectrogram",
    "mel_filterbank",
    "mel_to_hz",
    "read_audio",
    "read_wav",
    "resample",
    "sample_rate_factors",
    "to_mono",
    "write_wav",
]


# ----------------------------------------------------------------------------------------------
# Audio input/output
# ----------------------------------------------------------------------------------------------

#: Containers :func:`read_audio` is tested on (libsndfile reads more: AIFF, CAF, W64...).
AUDIO_FORMATS = ("WAV", "FLAC", "OGG", "MP3")
#: libsoxr quality of :func:`resample` and :func:`audio_blocks` (``'HQ'``: 20-bit precision,
#: 95 % of the band kept).
RESAMPLE_QUALITY = "HQ"


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

    Examples
    --------
    >>> import numpy as np
    >>> audio = Audio(samples=np.zeros((2, 24000), dtype=np.float32), sample_rate=16000)
    >>> audio.num_channels, audio.num_samples, audio.duration  # duration in seconds
    (2, 24000, 1.5)
    >>> Audio(samples=[0.0, 0.5], sample_rate=8000).samples.dtype  # stored as float32
    dtype('float32')
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


@dataclass(frozen=True)
class AudioInfo:
    """What an audio file holds, read from its header (:func:`audio_info`).

    Attributes
    ----------
    path : pathlib.Path
    sample_rate : int
        Hz.
    num_channels : int
    num_samples : int
        Samples per channel the header announces (compressed formats may decode a few more or
        fewer; :func:`read_audio` returns what decodes).
    format : str
        libsndfile's name of the container (``'WAV'``, ``'FLAC'``, ``'OGG'``, ``'MP3'``...).

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = os.path.join(folder, "silence.wav")
    ...     write_wav(path, np.zeros((2, 12000), dtype=np.float32), 8000)
    ...     info = audio_info(path)
    >>> info.path.name, info.sample_rate, info.num_channels, info.num_samples, info.format
    ('silence.wav', 8000, 2, 12000, 'WAV')
    >>> info.duration  # seconds
    1.5
    """

    path: Path
    sample_rate: int
    num_channels: int
    num_samples: int
    format: str

    @property
    def duration(self) -> float:
        """Seconds."""
        return self.num_samples / self.sample_rate


def _unreadable(path: Path, error: Exception) -> ValueError:
    return ValueError(f"{path}: not a readable audio file ({type(error).__name__}: {error}); "
                      f"softloc reads {', '.join(AUDIO_FORMATS)} through libsndfile")


def _check_file(path) -> Path:
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"{path}: a folder, not an audio file")
    if not path.is_file():
        raise FileNotFoundError(f"no audio file at {path}")
    return path


def audio_info(path) -> AudioInfo:
    """Sample rate, channels, length and format of an audio file, without decoding it.

    Raises ``FileNotFoundError`` for a missing file and ``ValueError`` naming the file for one
    libsndfile cannot open.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = os.path.join(folder, "clip.wav")
    ...     write_wav(path, np.zeros(4410, dtype=np.float32), 44100, dtype="int16")
    ...     info = audio_info(path)
    ...     try:
    ...         audio_info(os.path.join(folder, "missing.wav"))
    ...     except FileNotFoundError as error:
    ...         print(str(error).startswith("no audio file at"))
    True
    >>> info.sample_rate, info.num_channels, info.num_samples, info.duration
    (44100, 1, 4410, 0.1)
    """
    import soundfile

    path = _check_file(path)
    try:
        info = soundfile.info(str(path))
    except Exception as error:  # noqa: BLE001 - libsndfile's errors are RuntimeErrors, TypeErrors...
        raise _unreadable(path, error) from None
    if info.samplerate < 1 or info.channels < 1:
        raise _unreadable(path, ValueError(f"{info.samplerate} Hz, {info.channels} channels"))
    return AudioInfo(path=path, sample_rate=int(info.samplerate), num_channels=int(info.channels),
                     num_samples=max(int(info.frames), 0), format=str(info.format))


def _decoded(path: Path, data: np.ndarray) -> np.ndarray:
    """``(n, channels)`` float32 from libsndfile as ``(channels, n)``, checked finite."""
    if not np.all(np.isfinite(data)):
        raise ValueError(f"{path}: the decoded audio holds NaN or inf samples")
    return np.ascontiguousarray(data.T)


def read_audio(path, *, mono: bool = True, sample_rate: int | None = None) -> Audio:
    """Read an audio file (any format of :data:`AUDIO_FORMATS`, any sample rate and channel
    count) as float32 :class:`Audio`.

    Parameters
    ----------
    path : str or Path
    mono : bool
        Mix the channels down to one (mean) when True (default); otherwise the samples are
        ``(channels, n)`` (a one-channel file then gives ``(1, n)``).
    sample_rate : int, optional
        Resample to this rate (Hz, :func:`resample`); by default the file's rate is kept.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If libsndfile cannot decode the file (the message names the file).

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> t = np.arange(8000) / 8000  # 1 s at 8 kHz: a 440 Hz tone left, silence right
    >>> stereo = np.stack([0.5 * np.sin(2 * np.pi * 440 * t), 0 * t]).astype(np.float32)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = os.path.join(folder, "tone.wav")
    ...     write_wav(path, stereo, 8000)
    ...     mono = read_audio(path)
    ...     both = read_audio(path, mono=False, sample_rate=16000)
    >>> mono.samples.shape, mono.sample_rate, round(float(np.abs(mono.samples).max()), 3)
    ((8000,), 8000, 0.25)
    >>> both.samples.shape, both.sample_rate, both.num_channels
    ((2, 16000), 16000, 2)
    """
    import soundfile

    path = _check_file(path)
    if sample_rate is not None:
        sample_rate = _check_rate(sample_rate, "sample_rate")
    try:
        data, rate = soundfile.read(str(path), dtype="float32", always_2d=True)
    except Exception as error:  # noqa: BLE001 - see audio_info
        raise _unreadable(path, error) from None
    samples = _decoded(path, data)
    if mono:
        samples = to_mono(samples)
    if sample_rate is not None and int(rate) != sample_rate:
        samples = resample(samples, int(rate), sample_rate)
        rate = sample_rate
    return Audio(samples=samples, sample_rate=int(rate))


def read_wav(path, *, mono: bool = True, sample_rate: int | None = None) -> Audio:
    """:func:`read_audio` (the name of earlier versions, which read WAV only).

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = os.path.join(folder, "ramp.wav")
    ...     write_wav(path, np.linspace(-1, 1, 5, dtype=np.float32), 8000)
    ...     audio = read_wav(path)
    >>> audio.samples.tolist(), audio.sample_rate
    ([-1.0, -0.5, 0.0, 0.5, 1.0], 8000)
    """
    return read_audio(path, mono=mono, sample_rate=sample_rate)


def audio_blocks(path, *, sample_rate: int | None = None, block_seconds: float = 10.0
                 ) -> Iterator[np.ndarray]:
    """Mono float32 blocks of an audio file, read and resampled piece by piece.

    The file is decoded ``block_seconds`` at a time, mixed down (mean of the channels) and,
    when ``sample_rate`` differs from the file's, resampled by a streaming resampler whose
    output does not depend on the block length: the concatenated blocks equal
    ``read_audio(path, sample_rate=sample_rate).samples`` to float32 rounding. Memory is one
    block, whatever the length of the file.

    Raises ``FileNotFoundError`` / ``ValueError`` (naming the file) as :func:`read_audio`, also
    for data that stop decoding half-way or decode to NaN or inf.

    Examples
    --------
    Quarter-second blocks of a 1 s stereo file, resampled from 8 to 16 kHz; together they are
    the whole file:

    >>> import os, tempfile
    >>> import numpy as np
    >>> t = np.arange(8000) / 8000  # 1 s at 8 kHz: a 440 Hz tone left, silence right
    >>> stereo = np.stack([0.5 * np.sin(2 * np.pi * 440 * t), 0 * t]).astype(np.float32)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = os.path.join(folder, "tone.wav")
    ...     write_wav(path, stereo, 8000)
    ...     blocks = list(audio_blocks(path, sample_rate=16000, block_seconds=0.25))
    ...     whole = read_audio(path, sample_rate=16000).samples
    >>> sum(block.size for block in blocks), blocks[0].dtype
    (16000, dtype('float32'))
    >>> bool(np.allclose(np.concatenate(blocks), whole, atol=1e-6))
    True
    """
    import soundfile
    import soxr

    info = audio_info(path)
    if sample_rate is not None:
        sample_rate = _check_rate(sample_rate, "sample_rate")
    block_seconds = check_real(block_seconds, "block_seconds", 0.0, low_open=True)
    size = max(1, int(round(block_seconds * info.sample_rate)))
    stream = None
    if sample_rate is not None and sample_rate != info.sample_rate:
        stream = soxr.ResampleStream(info.sample_rate, sample_rate, 1, dtype="float32",
                                     quality=RESAMPLE_QUALITY)
    try:
        with soundfile.SoundFile(str(info.path)) as handle:
            while True:
                data = handle.read(size, dtype="float32", always_2d=True)
                last = data.shape[0] < size
                block = to_mono(_decoded(info.path, data))
                if stream is not None:
                    block = stream.resample_chunk(block, last=last)
                if block.size:
                    yield block
                if last:
                    return
    except ValueError:
        raise
    except Exception as error:  # noqa: BLE001 - see audio_info
        raise _unreadable(info.path, error) from None


def to_mono(samples) -> np.ndarray:
    """Mean over channels of ``(channels, n)`` samples; ``(n,)`` is returned as float32.

    Examples
    --------
    >>> import numpy as np
    >>> to_mono(np.array([[1.0, 0.0, 0.5], [0.0, 0.5, 0.5]])).tolist()
    [0.5, 0.25, 0.5]
    >>> to_mono([0.25, -0.25]).dtype
    dtype('float32')
    """
    array = _check_samples(samples)
    return array if array.ndim == 1 else array.mean(axis=0, dtype=np.float64).astype(np.float32)


def resample(samples, from_rate: int, to_rate: int) -> np.ndarray:
    """Resample ``(n,)`` or ``(channels, n)`` samples from ``from_rate`` to ``to_rate`` Hz.

    libsoxr (``soxr.resample``, quality :data:`RESAMPLE_QUALITY`); the output has
    ``round(n * to_rate / from_rate)`` samples per channel. The streaming resampler of
    :func:`audio_blocks` gives the same samples.

    Examples
    --------
    >>> import numpy as np
    >>> resample(np.zeros(441, dtype=np.float32), 44100, 16000).shape
    (160,)
    """
    import soxr

    array = _check_samples(samples)
    from_rate = _check_rate(from_rate, "from_rate")
    to_rate = _check_rate(to_rate, "to_rate")
    if from_rate == to_rate:
        return array
    out = soxr.resample(np.ascontiguousarray(array.T), from_rate, to_rate,
                        quality=RESAMPLE_QUALITY)
    return np.ascontiguousarray(out.T, dtype=np.float32)


def write_wav(path, samples, sample_rate: int, *, dtype: str = "float32") -> None:
    """Write ``(n,)`` or ``(channels, n)`` samples to a WAV file, atomically.

    ``dtype`` is ``'float32'`` (exact; IEEE-float WAV) or ``'int16'`` (PCM: ``round(x * 32768)``,
    clipped). The same arguments always give the same bytes. ``sample_rate`` is in Hz.

    Examples
    --------
    float32 round-trips exactly; int16 to within half a step of ``1 / 32768``:

    >>> import os, tempfile
    >>> import numpy as np
    >>> t = np.arange(8000) / 8000  # 1 s at 8 kHz: a 440 Hz tone left, silence right
    >>> stereo = np.stack([0.5 * np.sin(2 * np.pi * 440 * t), 0 * t]).astype(np.float32)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     exact, pcm = os.path.join(folder, "float.wav"), os.path.join(folder, "pcm.wav")
    ...     write_wav(exact, stereo, 8000)
    ...     write_wav(pcm, stereo, 8000, dtype="int16")
    ...     float_back = read_audio(exact, mono=False).samples
    ...     pcm_back = read_audio(pcm, mono=False).samples
    ...     sizes = os.path.getsize(exact) > os.path.getsize(pcm)
    >>> bool(np.array_equal(float_back, stereo)), sizes
    (True, True)
    >>> bool(np.abs(pcm_back - stereo).max() <= 0.5 / 32768)
    True
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

    Examples
    --------
    >>> config = MelConfig(sample_rate=16000, hop_seconds=0.01, n_fft=512, n_mels=40)
    >>> config.fps, config.to_dict()["window_seconds"]
    (100.0, 0.025)
    >>> try:
    ...     MelConfig(sample_rate=16000, n_fft=256)  # a 25 ms window is 400 samples
    ... except ValueError as error:
    ...     print(error)
    n_fft (256) must hold the window of window_seconds (0.025 s) at 9/8 of the sample rate
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

    Examples
    --------
    :func:`log_mel_spectrogram` returns one; 1 s at a 10 ms hop gives ``1 + 16000 // 160``
    frames, and with sample-rate variation ``r = 1.1`` fewer frames in label time:

    >>> import numpy as np
    >>> config = MelConfig(sample_rate=16000, hop_seconds=0.01, n_fft=512, n_mels=40)
    >>> plain = log_mel_spectrogram(np.zeros(16000, dtype=np.float32), config)
    >>> plain.features.shape, plain.num_frames, plain.hop, plain.time_base.fps
    ((40, 101), 101, 160, 100.0)
    >>> faster = log_mel_spectrogram(np.zeros(16000, dtype=np.float32), config, rate_factor=1.1)
    >>> faster.num_frames, faster.hop, faster.rate_factor
    (91, 176, 1.1)
    >>> faster.label_times([0.55, 1.1]).round(6).tolist()  # real seconds -> label seconds
    [0.5, 1.0]
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


@dataclass(frozen=True)
class _Analysis:
    """The STFT window, hop and mel filters of :func:`log_mel_spectrogram` at a sample-rate
    factor, shared with :class:`LogMelStream`."""

    hop: int
    effective: float
    window: torch.Tensor
    bank: torch.Tensor

    @classmethod
    def of(cls, config: MelConfig, rate_factor: float) -> "_Analysis":
        sr = config.sample_rate
        hop = max(1, int(round(config.hop_seconds * sr * rate_factor)))
        effective = hop / (config.hop_seconds * sr)
        virtual_rate = sr * effective
        length = min(config.n_fft, max(2, int(round(config.window_seconds * virtual_rate))))
        if config.window == "hann":
            window = torch.hann_window(length, periodic=False, dtype=torch.float64)
        else:
            window = torch.hamming_window(length, periodic=False, dtype=torch.float64)
        fmax = None if config.fmax is None else min(config.fmax, virtual_rate / 2.0)
        bank = torch.from_numpy(mel_filterbank(virtual_rate, config.n_fft, config.n_mels,
                                               config.fmin, fmax).astype(np.float64))
        return cls(hop=hop, effective=float(effective), window=window, bank=bank)

    def time_base(self, config: MelConfig) -> TimeBase:
        """The label time of the frames: the nominal frame rate ``1 / hop_seconds``."""
        return TimeBase(fps=config.sample_rate * self.effective / self.hop)

    def frames(self, padded: np.ndarray, config: MelConfig) -> np.ndarray:
        """``(n_mels, k)`` float32 decibels of the ``k`` whole ``n_fft``-sample frames of
        ``padded`` (float64 samples; frame ``f`` starts at sample ``f * hop``)."""
        if padded.size < config.n_fft:
            return np.zeros((config.n_mels, 0), dtype=np.float32)
        spectrum = torch.stft(torch.from_numpy(padded), n_fft=config.n_fft, hop_length=self.hop,
                              win_length=self.window.numel(), window=self.window, center=False,
                              return_complex=True)
        power = spectrum.abs().square() / config.n_fft
        mel = self.bank @ power
        return (10.0 * torch.log10(torch.clamp(mel, min=config.amin))).numpy().astype(np.float32)


def _preemphasis(audio: np.ndarray, coefficient: float, previous: float | None) -> np.ndarray:
    """``y[n] = x[n] - coefficient * x[n - 1]`` with ``x[-1] = previous``; ``previous=None``
    (the start of a signal) keeps the first sample as it is."""
    if coefficient == 0 or audio.size == 0:
        return audio
    out = audio.copy()
    out[1:] -= coefficient * audio[:-1]
    if previous is not None:
        out[0] -= coefficient * previous
    return out


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

    Examples
    --------
    A 1 kHz tone: its energy sits in the bands around 1 kHz; silence is at the floor
    ``10 log10(amin) = -100`` dB:

    >>> import numpy as np
    >>> config = MelConfig(sample_rate=16000, hop_seconds=0.01, n_fft=512, n_mels=40)
    >>> tone = np.sin(2 * np.pi * 1000 * np.arange(8000) / 16000).astype(np.float32)
    >>> spectrogram = log_mel_spectrogram(tone, config)
    >>> spectrogram.features.shape, spectrogram.features.dtype
    ((40, 51), dtype('float32'))
    >>> centres = mel_to_hz(np.linspace(hz_to_mel(0.0), hz_to_mel(8000.0), 42))[1:-1]
    >>> loudest = int(spectrogram.features[:, 25].argmax())
    >>> bool(800 < centres[loudest] < 1250)
    True
    >>> float(log_mel_spectrogram(np.zeros(800), config).features.max())
    -100.0
    """
    if not isinstance(config, MelConfig):
        raise TypeError(f"config must be a MelConfig, got {type(config).__name__}")
    if sample_rate is not None and sample_rate != config.sample_rate:
        raise ValueError(f"sample_rate ({sample_rate} Hz) differs from config.sample_rate "
                         f"({config.sample_rate} Hz); resample first")
    if not (isinstance(rate_factor, (int, float)) and 0.5 <= rate_factor <= 2.0):
        raise ValueError(f"rate_factor must be a number in [0.5, 2], got {rate_factor}")
    audio = _preemphasis(to_mono(samples).astype(np.float64), config.preemphasis, None)
    analysis = _Analysis.of(config, rate_factor)
    pad = np.zeros(config.n_fft // 2)
    features = analysis.frames(np.concatenate([pad, audio, pad]), config)
    return MelSpectrogram(features=features, time_base=analysis.time_base(config),
                          hop=analysis.hop, sample_rate=config.sample_rate,
                          rate_factor=analysis.effective)


class LogMelStream:
    """:func:`log_mel_spectrogram` of audio that arrives in blocks, in bounded memory.

    :meth:`push` takes the next mono samples and returns the frames that are complete; after
    the last block, :meth:`finish` returns the rest. The frames put together equal
    ``log_mel_spectrogram(whole, config).features`` (the same STFT frames, to float rounding),
    whatever the block lengths; the stream keeps less than one window of samples.

    Examples
    --------
    >>> import numpy as np
    >>> config = MelConfig(sample_rate=16000, n_mels=40, hop_seconds=0.01, n_fft=512)
    >>> audio = np.random.default_rng(0).uniform(-1, 1, 16000).astype(np.float32)
    >>> stream = LogMelStream(config)
    >>> parts = [stream.push(audio[i:i + 3000]) for i in range(0, 16000, 3000)]
    >>> frames = np.concatenate(parts + [stream.finish()], axis=1)
    >>> whole = log_mel_spectrogram(audio, config).features
    >>> frames.shape == whole.shape, bool(np.abs(frames - whole).max() < 1e-3)
    (True, True)
    """

    def __init__(self, config: MelConfig) -> None:
        if not isinstance(config, MelConfig):
            raise TypeError(f"config must be a MelConfig, got {type(config).__name__}")
        self.config = config
        self._analysis = _Analysis.of(config, 1.0)
        self._buffer = np.zeros(config.n_fft // 2)  # the left padding of center=True
        self._previous: float | None = None
        self.num_samples = 0
        self.num_frames = 0
        self._finished = False

    @property
    def time_base(self) -> TimeBase:
        """The frames' time base, that of :func:`log_mel_spectrogram`."""
        return self._analysis.time_base(self.config)

    def push(self, samples) -> np.ndarray:
        """``(n_mels, k)`` float32 frames completed by ``(n,)`` more samples (``k`` may be 0)."""
        if self._finished:
            raise ValueError("the stream is finished; start a new LogMelStream")
        audio = _check_samples(samples)
        if audio.ndim != 1:
            raise ValueError(f"samples must be mono (n,), got shape {audio.shape}")
        audio = audio.astype(np.float64)
        emphasised = _preemphasis(audio, self.config.preemphasis, self._previous)
        if audio.size:
            self._previous = float(audio[-1])
        self.num_samples += audio.size
        self._buffer = np.concatenate([self._buffer, emphasised])
        return self._emit()

    def finish(self) -> np.ndarray:
        """The last frames (the right padding of ``center=True``); the stream then ends."""
        if self._finished:
            raise ValueError("the stream is finished; start a new LogMelStream")
        self._buffer = np.concatenate([self._buffer, np.zeros(self.config.n_fft // 2)])
        frames = self._emit()
        self._finished = True
        return frames

    def _emit(self) -> np.ndarray:
        n_fft, hop = self.config.n_fft, self._analysis.hop
        count = (self._buffer.size - n_fft) // hop + 1 if self._buffer.size >= n_fft else 0
        if count == 0:
            return np.zeros((self.config.n_mels, 0), dtype=np.float32)
        frames = self._analysis.frames(self._buffer[:(count - 1) * hop + n_fft], self.config)
        self._buffer = self._buffer[count * hop:]
        self.num_frames += count
        return frames


def sample_rate_factors(count: int, *, low: float = 7 / 8, high: float = 9 / 8,
                        rng: np.random.Generator) -> np.ndarray:
    """``count`` sample-rate factors drawn uniformly from ``[low, high]`` (the drum
    experiment's augmentation: ``U[7/8, 9/8]``), float64 ``(count,)``.

    Examples
    --------
    >>> import numpy as np
    >>> factors = sample_rate_factors(1000, rng=np.random.default_rng(0))
    >>> factors.shape, bool(factors.min() >= 7 / 8), bool(factors.max() <= 9 / 8)
    ((1000,), True, True)
    >>> sample_rate_factors(2, low=1.0, high=1.0, rng=np.random.default_rng(0)).tolist()
    [1.0, 1.0]
    """
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    if not (0.5 <= low <= high <= 2.0):
        raise ValueError(f"need 0.5 <= low <= high <= 2, got low={low}, high={high}")
    return rng.uniform(low, high, size=int(count))
