"""Data sets: synthetic generators and loaders for the paper's data sets on disk.

* :mod:`softloc.data.sensor` -- wearable-sensor puff detection (paper section 6.2): a realistic
  puffMarker-like generator (:func:`generate_sensor_dataset`, :class:`SensorConfig`) and a loader
  of the real puffMarker CSV layout (:func:`load_puffmarker`), both giving a
  :class:`SensorDataset` with leave-one-subject-out folds, masked training windows and z-score
  normalisation fitted on training subjects only.
* :mod:`softloc.data.audio` -- WAV input/output, resampling, log-mel spectrograms with
  ``torch.stft`` and a stated :class:`softloc.events.TimeBase`, sample-rate variation.
* :mod:`softloc.data.music` -- piano works (music21 corpus) and drum grooves rendered with
  General-MIDI soundfonts into a checked cache, and loaders of MAPS and IDMT-SMT-Drums. Needs the
  ``music`` extra and ``pip install --no-deps tinysoundfont`` (imported only when used).
"""

from .audio import (
    Audio,
    MelConfig,
    MelSpectrogram,
    log_mel_spectrogram,
    mel_filterbank,
    read_wav,
    resample,
    sample_rate_factors,
    to_mono,
    write_wav,
)
from .music import (
    DRUM_CLASSES,
    PIANO_CLASSES,
    CacheIntegrityError,
    DrumConfig,
    MusicDataset,
    MusicPiece,
    MusicSplit,
    PianoConfig,
    load_idmt_drums,
    load_maps,
    render_drum_dataset,
    render_piano_dataset,
    soundfont_path,
)
from .sensor import (
    CYCLE_KINDS,
    DISTRACTOR_KINDS,
    FACTORS,
    PUFFMARKER_SESSION_GAP,
    PUFFMARKER_USERS,
    BurstStatistics,
    FeatureNormalizer,
    SensorBatch,
    SensorConfig,
    SensorDataset,
    SensorFold,
    SensorSession,
    generate_sensor_dataset,
    load_puffmarker,
    save_puffmarker,
)

__all__ = [
    "Audio",
    "MelConfig",
    "MelSpectrogram",
    "log_mel_spectrogram",
    "mel_filterbank",
    "read_wav",
    "resample",
    "sample_rate_factors",
    "to_mono",
    "write_wav",
    "DRUM_CLASSES",
    "PIANO_CLASSES",
    "CacheIntegrityError",
    "DrumConfig",
    "MusicDataset",
    "MusicPiece",
    "MusicSplit",
    "PianoConfig",
    "load_idmt_drums",
    "load_maps",
    "render_drum_dataset",
    "render_piano_dataset",
    "soundfont_path",
    "CYCLE_KINDS",
    "DISTRACTOR_KINDS",
    "FACTORS",
    "PUFFMARKER_SESSION_GAP",
    "PUFFMARKER_USERS",
    "BurstStatistics",
    "FeatureNormalizer",
    "SensorBatch",
    "SensorConfig",
    "SensorDataset",
    "SensorFold",
    "SensorSession",
    "generate_sensor_dataset",
    "load_puffmarker",
    "save_puffmarker",
]
