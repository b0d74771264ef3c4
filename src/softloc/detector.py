"""Trained detectors on disk, and applying them to recordings (``softloc train`` / ``detect``).

A **detector checkpoint** is one self-describing file (``torch.save`` of plain data, read back
with ``weights_only=True``, written atomically). An audio detector (music experiments)::

    {"format": "softloc-detector", "version": 1,
     "experiment": "piano" | "drums",          # what it was trained for
     "input": {"kind": "audio", "mel": {...}},  # MelConfig fields: sample rate, hop, bands...
     "fps": 100.0,                              # frames per second of its outputs
     "class_names": [...],                      # output channels in order
     "model": {"type": "ConvRecurrentDetector", "config": {...}, "state_dict": {...}},
     "decoder": {"threshold": ..., "peak_window": ..., "combine": ..., "offset": ...},  # s
     "training": {...}}                         # loss, noise, iterations, validation F1, ...

A video detector (the golf experiment) has ``"experiment": "golf"``, ``"input": {"kind":
"video", "image_size": [H, W]}`` (pixels of its training frames), no ``"fps"`` (its outputs
follow the video's frames), the 8 :data:`~softloc.data.golf.GOLF_EVENTS` as ``class_names``, a
``"FrameRecurrentDetector"`` model and ``"decoder": {"rule": "argmax", "head": "softmax" |
"sigmoid"}`` (``softmax``: the 9-logit head of the ``ce`` loss; ``sigmoid``: 8 channels).

:func:`load_detector` checks all of it and names what is wrong (not a checkpoint, another
format version, another kind of input, weights that do not fit the architecture); it returns
a :class:`Detector` for audio and a :class:`VideoDetector` for video.
:meth:`Detector.detect` takes audio of any sample rate, mono ``(n,)`` or multichannel
``(channels, n)``; it is mixed down, resampled to the model's rate, turned into the same
log-mel features as in training, and decoded with the stored rule into
:class:`DetectedEvents` (time in seconds, class, score).
:meth:`VideoDetector.detect` takes ``(T, H, W, 3)`` uint8 RGB frames of any size; they are
resized to the model's ``image_size``, the whole clip goes through the (causal) model at once,
and each event is put at its most probable frame (:class:`DetectedVideoEvents`: frame, time in
seconds when the frame rate is known, score).
"""

from __future__ import annotations

import csv
import io
import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
from tqdm.auto import tqdm

from ._checks import check_real
from ._io import write_atomic
from .data.audio import (
    LogMelStream,
    MelConfig,
    audio_blocks,
    audio_info,
    resample,
    to_mono,
)
from .data.golf import GOLF_EVENTS, read_video_frames, resize_frames
from .data.music import PIANO_CLASSES
from .decode import argmax_events
from .events import TimeBase
from .experiments.golf import TrainedGolfModel, event_probabilities
from .experiments.music import DecoderSettings
from .models import ConvRecurrentDetector, FrameRecurrentDetector

__all__ = [
    "CHECKPOINT_FORMAT",
    "CHECKPOINT_VERSION",
    "AUDIO_EXPERIMENTS",
    "VIDEO_EXPERIMENTS",
    "DetectedEvents",
    "DetectedVideoEvents",
    "Detector",
    "VideoDetector",
    "PRETRAINED",
    "detect_events",
    "load_detector",
    "load_pretrained",
    "pretrained_path",
    "save_detector",
]

CHECKPOINT_FORMAT = "softloc-detector"
"""The ``"format"`` entry of every detector checkpoint (:func:`load_detector` checks it)."""
CHECKPOINT_VERSION = 1
"""The checkpoint format version this softloc writes and reads."""
AUDIO_EXPERIMENTS = ("piano", "drums")
"""Experiments whose detectors take audio."""
VIDEO_EXPERIMENTS = ("golf",)
"""Experiments whose detectors take video frames."""
#: The heads of a video detector's decoder: softmax over the events and "no event", or sigmoid.
_VIDEO_HEADS = ("softmax", "sigmoid")
PRETRAINED = ("piano", "drums")
"""The detectors shipped with the package (``softloc/models/pretrained/NAME.pt``), each made by
``softloc train NAME --loss softloc --seed 0 --save NAME.pt`` (the experiment's default
configuration); their measured scores are in the checkpoint's ``training`` metadata."""
#: Audio whose peak magnitude is below this is refused as silent.
SILENCE = 1e-6


@dataclass(frozen=True)
class DetectedEvents:
    """Detected events sorted by time: ``times`` (seconds, float64), ``classes`` (int64 indices
    into ``class_names``) and ``scores`` (the probability at each event, float64).

    :meth:`Detector.detect` returns one; ``times``, ``classes`` and ``scores`` are ``(M,)`` for
    ``M`` events.

    Examples
    --------
    >>> import numpy as np
    >>> found = DetectedEvents(times=np.array([0.5, 0.5, 1.25]), classes=np.array([0, 2, 0]),
    ...                        scores=np.array([0.9, 0.4, 0.75]), class_names=("HH", "KD", "SD"))
    >>> len(found), [t.tolist() for t in found.events()]  # one array of times per class
    (3, [[0.5, 1.25], [], [0.5]])
    >>> found.rows()[1]
    ('0.500000', 'SD', '0.400000')
    """

    times: np.ndarray
    classes: np.ndarray
    scores: np.ndarray
    class_names: tuple[str, ...]

    #: The CSV columns of :meth:`rows`.
    COLUMNS: ClassVar[tuple[str, ...]] = ("time", "class", "score")

    def __len__(self) -> int:
        return int(self.times.size)

    def events(self) -> list[np.ndarray]:
        """Event list (:mod:`softloc.events`): one sorted array of times per class."""
        return [self.times[self.classes == c] for c in range(len(self.class_names))]

    def rows(self) -> list[tuple[str, str, str]]:
        """``(time, class, score)`` per event as written to CSV: seconds and score with 6
        decimals, the class name."""
        return [(f"{t:.6f}", self.class_names[c], f"{s:.6f}")
                for t, c, s in zip(self.times, self.classes, self.scores)]

    def to_csv(self, path) -> None:
        """Write a ``time,class,score`` table (:meth:`rows`) atomically."""
        _write_table(path, self.COLUMNS, self.rows())

    def to_midi(self, path, *, duration: float = 0.1, velocity: int = 100) -> None:
        """Write the events as a MIDI file (atomically; needs ``pretty_midi``, the ``music``
        extra): piano keys as notes of their pitch (class ``A0`` is MIDI 21), drum classes as
        General-MIDI drum notes (KD 36, SD 38, HH 42) on the drum channel. Each note lasts
        ``duration`` seconds or until the next onset of the same note, whichever is sooner;
        every note has ``velocity`` (1-127: a detector finds onsets, not loudness). Times are
        stored in ticks of 0.52 ms."""
        duration = check_real(duration, "duration", 0.0, low_open=True)
        if isinstance(velocity, bool) or not isinstance(velocity, (int, np.integer)) or \
                not 1 <= velocity <= 127:
            raise ValueError(f"velocity must be a whole number in 1..127, got {velocity!r}")
        notes, drums = _midi_notes(self.class_names)
        try:
            import pretty_midi
        except ImportError:
            raise ImportError("writing MIDI needs pretty_midi: pip install "
                              "'softloc[music]'") from None
        midi = pretty_midi.PrettyMIDI(resolution=960)  # ticks of 0.52 ms at 120 bpm
        instrument = pretty_midi.Instrument(program=0, is_drum=drums,
                                            name="drums" if drums else "piano")
        for note, times in zip(notes, self.events()):
            ends = np.minimum(times + duration, np.append(times[1:], np.inf))
            instrument.notes.extend(pretty_midi.Note(velocity=int(velocity), pitch=note,
                                                     start=float(t), end=float(e))
                                    for t, e in zip(times, ends))
        midi.instruments.append(instrument)
        write_atomic(path, midi.write, binary=True)


@dataclass(frozen=True)
class DetectedVideoEvents:
    """One detection per event class of a video, in class order.

    Attributes
    ----------
    frames:
        ``(C,)`` int64 frame index of each event (0 = the first frame).
    times:
        ``(C,)`` float64 seconds from the first frame, ``frame / fps``; NaN when the frame rate
        is unknown.
    scores:
        ``(C,)`` float64 probability of each event at its frame.
    class_names:
        The events in order.
    fps:
        Frames per second of the video, or ``None`` when unknown.

    Examples
    --------
    :meth:`VideoDetector.detect` returns one; built by hand here for two events:

    >>> import numpy as np
    >>> found = DetectedVideoEvents(frames=np.array([3, 40]), times=np.array([0.1, 40 / 30]),
    ...                             scores=np.array([0.8, 0.6]),
    ...                             class_names=("address", "impact"), fps=30.0)
    >>> len(found), found.rows()[1]
    (2, ('impact', '40', '1.333333', '0.600000'))
    >>> DetectedVideoEvents.COLUMNS
    ('event', 'frame', 'time', 'score')
    """

    frames: np.ndarray
    times: np.ndarray
    scores: np.ndarray
    class_names: tuple[str, ...]
    fps: float | None

    #: The CSV columns of :meth:`rows`.
    COLUMNS: ClassVar[tuple[str, ...]] = ("event", "frame", "time", "score")

    def __len__(self) -> int:
        return int(self.frames.size)

    def rows(self) -> list[tuple[str, str, str, str]]:
        """``(event, frame, time, score)`` per event as written to CSV: the event name, the
        frame index, seconds with 6 decimals (empty when the frame rate is unknown), the score
        with 6 decimals."""
        return [(name, str(int(f)), "" if np.isnan(t) else f"{t:.6f}", f"{s:.6f}")
                for name, f, t, s in zip(self.class_names, self.frames, self.times, self.scores)]

    def to_csv(self, path) -> None:
        """Write an ``event,frame,time,score`` table (:meth:`rows`) atomically."""
        _write_table(path, self.COLUMNS, self.rows())


def _write_table(path, columns, rows) -> None:
    def write(f) -> None:
        writer = csv.writer(f)
        writer.writerow(columns)
        writer.writerows(rows)
    write_atomic(path, write)


def _midi_notes(class_names: tuple[str, ...]) -> tuple[tuple[int, ...], bool]:
    """MIDI note numbers of the classes and whether they are drums (General-MIDI channel 10):
    piano keys (:data:`~softloc.data.music.PIANO_CLASSES`) or the drum classes."""
    if set(class_names) <= set(PIANO_CLASSES):
        return tuple(21 + PIANO_CLASSES.index(name) for name in class_names), False
    if set(class_names) <= set(_DRUM_NOTES):
        return tuple(_DRUM_NOTES[name] for name in class_names), True
    raise ValueError(f"classes {class_names} are neither piano keys nor drum classes "
                     f"{tuple(_DRUM_NOTES)}: no MIDI notes for them")


#: General-MIDI drum notes written for the drum classes (kick 36, snare 38, closed hi-hat 42).
_DRUM_NOTES = {"KD": 36, "SD": 38, "HH": 42}
#: File name endings a video detector refuses as audio.
_AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".oga", ".opus", ".mp3", ".aif", ".aiff")
#: Seconds of audio a detector processes at a time (memory follows this, not the recording).
CHUNK_SECONDS = 30.0


class _ProbabilityStream:
    """``(C, T)`` probabilities of a :class:`ConvRecurrentDetector` for features that arrive in
    pieces: each piece is encoded with ``context_frames`` of its neighbours on each side and
    the LSTM carries its state on, so the result is the whole sequence's output (a
    bidirectional LSTM waits for the last piece)."""

    def __init__(self, model: ConvRecurrentDetector, chunk_frames: int) -> None:
        self.model = model
        self.context = model.context_frames
        self.chunk = max(1, chunk_frames)
        self.bidirectional = model.config()["bidirectional"]
        self._pending = np.zeros((model.config()["in_features"], 0), dtype=np.float32)
        self._left = 0  # frames of left context at the start of _pending
        self._state = None
        self._encoded: list[torch.Tensor] = []
        self._parts: list[np.ndarray] = []

    def push(self, frames: np.ndarray) -> None:
        self._pending = np.concatenate([self._pending, frames], axis=1)
        while self._pending.shape[1] - self._left >= self.chunk + self.context:
            self._run(self.chunk, final=False)

    def finish(self) -> np.ndarray:
        rest = self._pending.shape[1] - self._left
        if rest:
            self._run(rest, final=True)
        if self.bidirectional and self._encoded:
            with torch.no_grad():
                logits, _ = self.model.decode(torch.cat(self._encoded, dim=1))
            self._parts = [torch.sigmoid(logits[0].double()).float().numpy()]
        classes = self.model.config()["num_classes"]
        return np.concatenate([np.zeros((classes, 0), np.float32), *self._parts], axis=1)

    def _run(self, frames: int, *, final: bool) -> None:
        stop = self._left + frames + (0 if final else self.context)
        with torch.no_grad():
            encoded = self.model.encode(torch.from_numpy(self._pending[:, :stop])[None])
            encoded = encoded[:, self._left:self._left + frames]
            if self.bidirectional:
                self._encoded.append(encoded)
            else:
                logits, self._state = self.model.decode(encoded, self._state)
                self._parts.append(torch.sigmoid(logits[0].double()).float().numpy())
        keep = min(self.context, self._left + frames)
        self._pending = self._pending[:, self._left + frames - keep:]
        self._left = keep


@dataclass
class Detector:
    """A trained audio event detector (see the module docstring).

    :func:`load_detector` and :func:`load_pretrained` return one. Its outputs are ``(C, T)``
    probabilities at :attr:`fps` frames per second (``C = len(class_names)``); :meth:`detect`
    decodes them into :class:`DetectedEvents` with the stored ``decoder`` (threshold, peak
    window and combine width in seconds).

    Examples
    --------
    The shipped drum detector on three noise bursts (it hears each as a hit):

    >>> import numpy as np
    >>> sample_rate = 16000
    >>> burst = np.random.default_rng(0).standard_normal(800) * np.exp(-np.arange(800) / 200)
    >>> audio = np.zeros(2 * sample_rate, dtype=np.float32)  # 2 s: noise bursts at 0.5, 1, 1.5 s
    >>> for onset in (0.5, 1.0, 1.5):
    ...     audio[int(onset * sample_rate):][:800] += burst
    >>> detector = load_pretrained("drums")
    >>> detector.fps, detector.mel.sample_rate, detector.class_names
    (100.0, 16000, ('HH', 'KD', 'SD'))
    >>> probabilities, time_base = detector.probabilities(audio, sample_rate)
    >>> probabilities.shape, time_base.fps
    ((3, 201), 100.0)
    >>> found = detector.detect(audio, sample_rate)
    >>> near = np.abs(found.times[:, None] - np.array([0.5, 1.0, 1.5])).min(axis=1)
    >>> bool(found.times.size >= 3 and near.max() <= 0.02)  # every hit within 20 ms of a burst
    True
    """

    experiment: str
    model: ConvRecurrentDetector
    mel: MelConfig
    class_names: tuple[str, ...]
    decoder: DecoderSettings
    training: dict

    @property
    def fps(self) -> float:
        return self.mel.fps

    def probabilities(self, samples, sample_rate: int, *, chunk_seconds: float = CHUNK_SECONDS
                      ) -> tuple[np.ndarray, TimeBase]:
        """``(C, T)`` float32 event probabilities of audio and their time base.

        ``samples``: ``(n,)`` or ``(channels, n)`` (array or tensor), mixed down and resampled
        to the model's rate; it runs through the model ``chunk_seconds`` at a time (the result
        does not depend on it).
        """
        audio = _check_audio(samples, sample_rate)
        if sample_rate != self.mel.sample_rate:
            audio = resample(audio, sample_rate, self.mel.sample_rate)
        block = self._block(chunk_seconds)
        probabilities, time_base, _ = self._run(
            (audio[i:i + block] for i in range(0, audio.size, block)), chunk_seconds)
        return probabilities, time_base

    def probabilities_file(self, path, *, chunk_seconds: float = CHUNK_SECONDS,
                           progress: bool = False) -> tuple[np.ndarray, TimeBase]:
        """:meth:`probabilities` of an audio file (WAV, FLAC, OGG, MP3, ...: any sample rate
        and channel count), decoded, resampled and run ``chunk_seconds`` at a time, so memory
        stays bounded whatever the length (an hour of 44.1 kHz stereo takes under 1 GB with a
        piano model; the probabilities themselves are ``4 C`` bytes per frame). ``progress``:
        a tqdm bar of seconds processed (stderr). Errors name the file."""
        info = audio_info(path)
        blocks = audio_blocks(info.path, sample_rate=self.mel.sample_rate,
                              block_seconds=chunk_seconds)
        bar = tqdm(total=round(info.duration, 1), unit="s", disable=not progress, leave=False,
                   desc=info.path.name, dynamic_ncols=True)
        rate = self.mel.sample_rate

        def counted():
            for block in blocks:
                yield block
                bar.update(round(block.size / rate, 1))
        try:
            probabilities, time_base, (samples, peak) = self._run(counted(), chunk_seconds)
            _check_level(samples, peak, rate)
        except ValueError as error:
            message = str(error)
            raise ValueError(message if message.startswith(str(info.path)) else
                             f"{info.path}: {message}") from None
        finally:
            bar.close()
        return probabilities, time_base

    def _block(self, chunk_seconds: float) -> int:
        chunk_seconds = check_real(chunk_seconds, "chunk_seconds", 0.0, low_open=True)
        return max(1, int(round(chunk_seconds * self.mel.sample_rate)))

    def _run(self, blocks, chunk_seconds: float):
        """Probabilities, time base and (samples, peak magnitude) of mono blocks at the model's
        rate."""
        self._block(chunk_seconds)
        self.model.eval()
        features = LogMelStream(self.mel)
        stream = _ProbabilityStream(self.model, int(round(chunk_seconds * self.fps)))
        peak = 0.0
        for block in blocks:
            if block.size:
                peak = max(peak, float(np.max(np.abs(block))))
            stream.push(features.push(block))
        stream.push(features.finish())
        return stream.finish(), features.time_base, (features.num_samples, peak)

    def _events(self, probabilities: np.ndarray, time_base: TimeBase,
                threshold: float | None) -> DetectedEvents:
        decoder = self.decoder if threshold is None else replace(self.decoder,
                                                                  threshold=threshold)
        times, scores = decoder.decode(probabilities, time_base)
        classes = [np.full(t.size, c, dtype=np.int64) for c, t in enumerate(times)]
        all_times = np.concatenate(times) if times else np.zeros(0)
        order = np.lexsort((np.concatenate(classes), all_times))
        return DetectedEvents(times=all_times[order], classes=np.concatenate(classes)[order],
                              scores=np.concatenate(scores)[order],
                              class_names=self.class_names)

    def detect(self, samples, sample_rate: int, *, threshold: float | None = None
               ) -> DetectedEvents:
        """Events of ``samples`` (``(n,)`` or ``(channels, n)``, any sample rate in Hz).

        ``threshold`` overrides the stored one (the probability a peak must reach).
        """
        if threshold is not None:
            replace(self.decoder, threshold=threshold)  # checked before the work
        return self._events(*self.probabilities(samples, sample_rate), threshold)

    def detect_file(self, path, *, threshold: float | None = None,
                    chunk_seconds: float = CHUNK_SECONDS, progress: bool = False
                    ) -> DetectedEvents:
        """:meth:`detect` on an audio file (:meth:`probabilities_file`: any format libsndfile
        reads, in bounded memory)."""
        if threshold is not None:
            replace(self.decoder, threshold=threshold)
        if Path(path).is_dir():
            raise ValueError(f"{path}: a folder; a {self.experiment!r} detector takes audio "
                             f"files")
        probabilities, time_base = self.probabilities_file(path, chunk_seconds=chunk_seconds,
                                                           progress=progress)
        return self._events(probabilities, time_base, threshold)


def _check_level(num_samples: int, peak: float, sample_rate: int) -> None:
    if num_samples < sample_rate // 20:
        raise ValueError(f"audio is too short: {num_samples} samples, at least 50 ms needed")
    if peak < SILENCE:
        raise ValueError("audio is silent (peak magnitude below 1e-6): nothing to detect")


def _check_audio(samples, sample_rate: int) -> np.ndarray:
    if isinstance(sample_rate, bool) or not isinstance(sample_rate, (int, np.integer)) or \
            sample_rate < 1000:
        raise ValueError(f"sample_rate must be a whole number of Hz >= 1000, got {sample_rate!r}")
    if isinstance(samples, torch.Tensor):
        samples = samples.detach().cpu().numpy()
    mono = to_mono(samples)  # checks dtype, (n,) or (channels, n), NaN and inf
    _check_level(mono.size, float(np.max(np.abs(mono))) if mono.size else 0.0, sample_rate)
    return mono


@dataclass
class VideoDetector:
    """A trained video event detector: golf swings (see the module docstring).

    ``image_size``: ``(height, width)`` in pixels of the frames it was trained on; ``softmax``:
    its decoder's head (``True``: 9-logit softmax of the ``ce`` loss; ``False``: sigmoid).
    :func:`load_detector` returns one for a golf checkpoint.

    Examples
    --------
    An untrained (tiny) golf model, saved and loaded back, on a 6-frame clip at 30 fps: every
    one of the 8 events gets a frame of the clip:

    >>> import os, tempfile
    >>> import numpy as np, torch
    >>> from softloc.experiments.golf import TrainedGolfModel
    >>> from softloc.models import FrameRecurrentDetector
    >>> _ = torch.manual_seed(0)
    >>> model = FrameRecurrentDetector(8, channels=(4,), hidden=8).eval()
    >>> trained = TrainedGolfModel(model=model, softmax=False, image_size=(32, 32), info={})
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = save_detector(os.path.join(folder, "golf.pt"), trained, experiment="golf")
    ...     detector = load_detector(path, experiment="golf")
    >>> type(detector).__name__, detector.image_size, len(detector.class_names)
    ('VideoDetector', (32, 32), 8)
    >>> clip = np.random.default_rng(0).integers(0, 256, size=(6, 48, 64, 3), dtype=np.uint8)
    >>> detector.probabilities(clip).shape  # (C, T)
    (8, 6)
    >>> found = detector.detect(clip, fps=30.0)
    >>> len(found), bool(((found.frames >= 0) & (found.frames < 6)).all()), found.fps
    (8, True, 30.0)
    >>> bool(np.allclose(found.times, found.frames / 30.0))
    True
    """

    experiment: str
    model: FrameRecurrentDetector
    image_size: tuple[int, int]
    class_names: tuple[str, ...]
    softmax: bool
    training: dict

    def probabilities(self, frames) -> np.ndarray:
        """``(C, T)`` float64 event probabilities of ``frames`` (:meth:`detect`), the whole clip
        through the model at once (memory grows with its length)."""
        frames = resize_frames(_check_frames(frames, self.experiment), self.image_size)
        return event_probabilities(self.model, frames, softmax=self.softmax).numpy()

    def detect(self, frames, fps: float | None = None) -> DetectedVideoEvents:
        """Each event's most probable frame in a clip.

        ``frames``: ``(T, H, W, 3)`` uint8 RGB (array or tensor, T >= 1, any H and W: resized
        to :attr:`image_size`, bilinear with anti-aliasing). ``fps``: frames per second, for the
        times (seconds); ``None`` leaves them NaN. Every event gets one frame, chosen on its own
        (:func:`softloc.decode.argmax_events`): the frames need not follow the swing's order
        and may coincide (a clip of fewer frames than events always shares some).
        """
        time_base = _time_base(fps)
        found = argmax_events(self.probabilities(frames))
        frames_found = np.array([int(f[0]) for f in found.frame_lists()[0]], dtype=np.int64)
        times = np.full(frames_found.size, np.nan) if time_base is None else \
            time_base.times_of(frames_found).astype(np.float64)
        return DetectedVideoEvents(
            frames=frames_found, times=times,
            scores=np.array([float(s[0]) for s in found.scores[0]]),
            class_names=self.class_names, fps=None if time_base is None else time_base.fps)

    def detect_file(self, path, fps: float | None = None) -> DetectedVideoEvents:
        """:meth:`detect` on a video file (read with OpenCV, else imageio) or a folder of PNG /
        JPEG frames (in natural name order, :func:`~softloc.data.golf.read_video_frames`).

        ``fps``: frames per second; default the video file's own rate. A folder of frames has
        none: without ``fps`` its times are NaN (empty in CSV). A given ``fps`` overrides a
        file's rate (e.g. slow motion).
        """
        path = Path(path)
        if path.suffix.lower() in _AUDIO_SUFFIXES:
            raise ValueError(f"{path}: an audio file; a {self.experiment!r} detector takes "
                             f"video: a video file or a folder of PNG / JPEG frames")
        _time_base(fps)  # checked before the video is read
        try:
            frames, file_fps = read_video_frames(path, image_size=self.image_size)
        except ValueError as error:
            raise ValueError(f"{error} (a {self.experiment!r} detector takes a video file or a "
                             f"folder of PNG / JPEG frames)") from None
        return self.detect(frames, file_fps if fps is None else fps)


def _time_base(fps) -> TimeBase | None:
    """The time base of ``fps`` frames per second (checked), or ``None``."""
    if isinstance(fps, (np.floating, np.integer)):
        fps = float(fps)
    return None if fps is None else TimeBase(fps)


def _check_frames(frames, experiment: str) -> np.ndarray:
    """``(T, H, W, 3)`` uint8 RGB frames as a contiguous array, or a clear error."""
    if isinstance(frames, torch.Tensor):
        frames = frames.detach().cpu().numpy()
    if not isinstance(frames, np.ndarray):
        raise TypeError(f"frames must be a numpy array or torch.Tensor, got "
                        f"{type(frames).__name__}")
    if frames.ndim != 4 or frames.shape[-1] != 3:
        got = f"{frames.shape[-1]} channels" if frames.ndim == 4 else f"shape {frames.shape}"
        raise ValueError(f"a {experiment!r} detector takes RGB video frames of shape (T, H, W, "
                         f"3), got {got}")
    if frames.dtype != np.uint8:
        raise TypeError(f"frames must be uint8 (0-255), got {frames.dtype}; convert frames in "
                        f"[0, 1] with (frames * 255).round().astype(np.uint8)")
    if 0 in frames.shape:
        raise ValueError(f"frames must hold at least 1 frame of at least 1 x 1 pixels, got "
                         f"shape {frames.shape}")
    return np.ascontiguousarray(frames)


def save_detector(path, trained, *, experiment: str) -> Path:
    """Write a trained model as a detector checkpoint (atomically). Returns the path.

    ``trained``: a :class:`~softloc.experiments.music.TrainedMusicModel` for ``experiment``
    ``'piano'`` or ``'drums'``, a :class:`~softloc.experiments.golf.TrainedGolfModel` for
    ``'golf'``.

    Examples
    --------
    A round trip of the shipped drum detector (see :class:`VideoDetector` for a golf one):

    >>> import os, tempfile
    >>> import torch
    >>> from softloc.experiments.music import TrainedMusicModel
    >>> drums = load_pretrained("drums")
    >>> trained = TrainedMusicModel(model=drums.model, mel=drums.mel,
    ...                             class_names=drums.class_names, decoder=drums.decoder,
    ...                             info={"loss": "softloc"})
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = save_detector(os.path.join(folder, "drums.pt"), trained, experiment="drums")
    ...     again = load_detector(path, experiment="drums")
    ...     payload = torch.load(path, weights_only=True)
    >>> path.name, payload["format"], payload["version"], payload["fps"]
    ('drums.pt', 'softloc-detector', 1, 100.0)
    >>> again.training, again.decoder == drums.decoder
    ({'loss': 'softloc'}, True)
    """
    if experiment in AUDIO_EXPERIMENTS:
        if not isinstance(trained.model, ConvRecurrentDetector):
            raise TypeError(f"the model must be a ConvRecurrentDetector, got "
                            f"{type(trained.model).__name__}")
        specific = {"input": {"kind": "audio", "mel": trained.mel.to_dict()},
                    "fps": trained.mel.fps, "class_names": list(trained.class_names),
                    "decoder": trained.decoder.to_dict()}
    elif experiment in VIDEO_EXPERIMENTS:
        if not isinstance(trained, TrainedGolfModel):
            raise TypeError(f"a {experiment!r} detector is saved from a TrainedGolfModel, got "
                            f"{type(trained).__name__}")
        specific = {"input": {"kind": "video", "image_size": list(trained.image_size)},
                    "class_names": list(GOLF_EVENTS),
                    "decoder": {"rule": "argmax",
                                "head": "softmax" if trained.softmax else "sigmoid"}}
    else:
        raise ValueError(f"experiment must be one of {AUDIO_EXPERIMENTS + VIDEO_EXPERIMENTS}, "
                         f"got {experiment!r}")
    payload = {
        "format": CHECKPOINT_FORMAT,
        "version": CHECKPOINT_VERSION,
        "experiment": experiment,
        **specific,
        "model": {"type": type(trained.model).__name__, "config": trained.model.config(),
                  "state_dict": {k: v.detach().cpu().clone()
                                 for k, v in trained.model.state_dict().items()}},
        "training": _plain(trained.info),
    }
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    write_atomic(path, lambda f: f.write(buffer.getvalue()), binary=True)
    return Path(path)


def _plain(value: Any) -> Any:
    """JSON-like copy (dicts, lists, str, int, float, bool, None) for ``weights_only`` loads."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value)
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return repr(value)


def load_detector(path, *, experiment: str | None = None) -> Detector | VideoDetector:
    """Read a detector checkpoint written by :func:`save_detector` / ``softloc train --save``.

    Returns a :class:`Detector` for an audio checkpoint (piano, drums) and a
    :class:`VideoDetector` for a video one (golf). ``experiment``: refuse a checkpoint trained
    for another experiment. Raises ``FileNotFoundError`` for a missing file and ``ValueError``
    naming the problem for anything that is not a usable detector checkpoint.

    Examples
    --------
    >>> import os, tempfile
    >>> type(load_detector(pretrained_path("piano"))).__name__
    'Detector'
    >>> try:
    ...     load_detector(pretrained_path("piano"), experiment="drums")
    ... except ValueError as error:
    ...     print(str(error).split(": ")[-1])
    a 'piano' detector, not a 'drums' one
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = os.path.join(folder, "notes.pt")
    ...     with open(path, "wb") as f:
    ...         _ = f.write(b"not a checkpoint")
    ...     try:
    ...         load_detector(path)
    ...     except ValueError as error:
    ...         print("not a softloc detector checkpoint" in str(error))
    True
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # noqa: BLE001 - any unpickling failure means "not ours"
        raise ValueError(f"{path}: not a softloc detector checkpoint ({type(error).__name__}: "
                         f"{error})") from None
    if not isinstance(payload, dict) or payload.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(f"{path}: not a softloc detector checkpoint (write one with "
                         f"`softloc train EXPERIMENT --save {path.name}`; training checkpoints "
                         f"of softloc.training.train are not detectors)")
    if payload.get("version") != CHECKPOINT_VERSION:
        raise ValueError(f"{path}: checkpoint format version {payload.get('version')!r}, this "
                         f"softloc reads version {CHECKPOINT_VERSION}")
    kind = payload.get("experiment")
    if experiment is not None and kind != experiment:
        raise ValueError(f"{path}: a {kind!r} detector, not a {experiment!r} one")
    source = payload["input"].get("kind") if isinstance(payload.get("input"), dict) else None
    readers = {"audio": (AUDIO_EXPERIMENTS, _audio_detector),
               "video": (VIDEO_EXPERIMENTS, _video_detector)}
    if source not in readers or kind not in readers[source][0]:
        raise ValueError(f"{path}: a {kind!r} detector with {source!r} input; this softloc reads "
                         f"audio detectors of {', '.join(AUDIO_EXPERIMENTS)} and video detectors "
                         f"of {', '.join(VIDEO_EXPERIMENTS)}")
    try:
        detector = readers[source][1](payload)
    except (KeyError, TypeError, RuntimeError, ValueError) as error:
        raise ValueError(f"{path}: damaged detector checkpoint ({type(error).__name__}: "
                         f"{error})") from None
    detector.model.eval()
    return detector


def pretrained_path(name: str) -> Path:
    """Where the shipped detector ``name`` (one of :data:`PRETRAINED`) lies in the package.

    Examples
    --------
    >>> path = pretrained_path("piano")
    >>> path.name, path.parent.name, path.is_file()
    ('piano.pt', 'pretrained', True)
    """
    if name not in PRETRAINED:
        raise ValueError(f"name must be one of {PRETRAINED}, got {name!r}")
    from importlib.resources import files

    return Path(str(files("softloc.models") / "pretrained" / f"{name}.pt"))


def load_pretrained(name: str) -> Detector:
    """The detector shipped with the package for ``name`` (``'piano'`` or ``'drums'``), read
    offline from the package data (no download).

    Examples
    --------
    >>> detector = load_pretrained("drums")
    >>> detector.experiment, detector.class_names
    ('drums', ('HH', 'KD', 'SD'))
    """
    path = pretrained_path(name)
    if not path.is_file():
        raise FileNotFoundError(f"this installation of softloc has no shipped {name!r} detector "
                                f"at {path}; train one with `softloc train {name} --save "
                                f"{name}.pt` and pass it with --model")
    return load_detector(path, experiment=name)


def _model(spec: dict, model_type: type):
    if spec["type"] != model_type.__name__:
        raise ValueError(f"model type {spec['type']!r}, expected {model_type.__name__!r}")
    model = model_type(**spec["config"])
    model.load_state_dict(spec["state_dict"])
    return model


def _audio_detector(payload: dict) -> Detector:
    mel = MelConfig(**payload["input"]["mel"])
    spec = payload["model"]
    model = _model(spec, ConvRecurrentDetector)
    class_names = tuple(payload["class_names"])
    decoder = DecoderSettings(**payload["decoder"])
    if len(class_names) != spec["config"]["num_classes"] or \
            spec["config"]["in_features"] != mel.n_mels:
        raise ValueError("classes or bands do not match the model")
    return Detector(experiment=payload["experiment"], model=model, mel=mel,
                    class_names=class_names, decoder=decoder,
                    training=dict(payload.get("training", {})))


def _video_detector(payload: dict) -> VideoDetector:
    size = payload["input"]["image_size"]
    if not (isinstance(size, (list, tuple)) and len(size) == 2
            and all(isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in size)):
        raise ValueError(f"image_size must be (height, width) ints >= 1, got {size!r}")
    image_size = (size[0], size[1])
    model = _model(payload["model"], FrameRecurrentDetector)
    class_names = tuple(payload["class_names"])
    decoder = payload["decoder"]
    if decoder.get("rule") != "argmax" or decoder.get("head") not in _VIDEO_HEADS:
        raise ValueError(f"decoder {decoder!r}, expected rule 'argmax' with a head in "
                         f"{_VIDEO_HEADS}")
    softmax = decoder["head"] == "softmax"
    if class_names != GOLF_EVENTS or model.num_classes != len(class_names) + softmax:
        raise ValueError("classes do not match the golf events and the model's head")
    if min(image_size) < model.min_size:
        raise ValueError(f"image_size {image_size} is below the model's {model.min_size} pixels")
    return VideoDetector(experiment=payload["experiment"], model=model, image_size=image_size,
                         class_names=class_names, softmax=softmax,
                         training=dict(payload.get("training", {})))


def detect_events(detector: Detector | str | os.PathLike, samples, sample_rate: int, *,
                  threshold: float | None = None) -> DetectedEvents:
    """Detect events in audio with a :class:`Detector` or the path of its checkpoint.

    ``samples``: ``(n,)`` or ``(channels, n)`` array or tensor; ``sample_rate`` in Hz (any; the
    audio is resampled to the model's rate). Returns :class:`DetectedEvents`. A video detector
    is refused (apply it with :meth:`VideoDetector.detect`).

    Examples
    --------
    The shipped drum detector (a checkpoint path works too) on three noise bursts, with a
    stricter threshold than its own:

    >>> import numpy as np
    >>> sample_rate = 16000
    >>> burst = np.random.default_rng(0).standard_normal(800) * np.exp(-np.arange(800) / 200)
    >>> audio = np.zeros(2 * sample_rate, dtype=np.float32)  # 2 s: noise bursts at 0.5, 1, 1.5 s
    >>> for onset in (0.5, 1.0, 1.5):
    ...     audio[int(onset * sample_rate):][:800] += burst
    >>> found = detect_events(pretrained_path("drums"), audio, sample_rate, threshold=0.6)
    >>> near = np.abs(found.times[:, None] - np.array([0.5, 1.0, 1.5])).min(axis=1)
    >>> bool(found.times.size >= 3 and near.max() <= 0.02), bool((found.scores >= 0.6).all())
    (True, True)
    """
    if not isinstance(detector, (Detector, VideoDetector)):
        detector = load_detector(detector)
    if not isinstance(detector, Detector):
        raise ValueError(f"a {detector.experiment!r} detector takes video frames, not audio: "
                         f"apply it with its detect(frames, fps) or detect_file(path)")
    return detector.detect(samples, sample_rate, threshold=threshold)
