"""Data sets: synthetic generators and loaders for the paper's data sets on disk.

* :mod:`softloc.data.sensor` -- wearable-sensor puff detection (paper section 6.2): a realistic
  puffMarker-like generator (:func:`generate_sensor_dataset`, :class:`SensorConfig`) and a loader
  of the real puffMarker CSV layout (:func:`load_puffmarker`), both giving a
  :class:`SensorDataset` with leave-one-subject-out folds, masked training windows and z-score
  normalisation fitted on training subjects only.
* :mod:`softloc.data.audio` -- audio input (WAV, FLAC, OGG, MP3 through libsndfile, whole or
  block by block) and WAV output, resampling (libsoxr), log-mel spectrograms with
  ``torch.stft`` and a stated :class:`softloc.events.TimeBase` (whole, or streamed), sample-rate
  variation.
* :mod:`softloc.data.augmentation` -- what a recording chain does to a clean render (room
  reverberation, equalisation, noise, band limits, gain and clipping), drawn from a generator
  (:class:`AudioAugmentation`, :func:`augment_audio`); event times do not move.
* :mod:`softloc.data.golf` -- golf-swing videos (paper section 6.1): procedurally rendered swings
  of an articulated golfer with the 8 GolfDB events taken from the geometry
  (:func:`generate_golf_dataset`, :class:`GolfConfig`, :class:`GolfClip`), cached as checked
  ``.npz`` files; 4 folds by clip; and a loader of the real GolfDB layout on disk
  (:func:`load_golfdb`: ``golfDB.mat`` / ``.pkl`` / ``.csv`` annotations, ``videos_160`` clips
  as mp4 or frame folders; 4 folds by GolfDB's ``split``).
* :mod:`softloc.data.music` -- piano works (music21 corpus) and drum grooves rendered with
  General-MIDI soundfonts into a checked cache, and loaders of MAPS and IDMT-SMT-Drums. Needs the
  ``music`` extra and ``pip install --no-deps tinysoundfont`` (imported only when used).
"""

from .audio import (
    Audio,
    AudioInfo,
    LogMelStream,
    MelConfig,
    MelSpectrogram,
    audio_blocks,
    audio_info,
    log_mel_spectrogram,
    mel_filterbank,
    read_audio,
    read_wav,
    resample,
    sample_rate_factors,
    to_mono,
    write_wav,
)
from .augmentation import AudioAugmentation, augment_audio
from .golf import (
    GOLF_EVENTS,
    GOLF_VIEWS,
    GOLFDB_COLUMNS,
    GolfClip,
    GolfConfig,
    GolfDataset,
    GolfDBAnnotation,
    SwingParams,
    event_frames,
    event_times,
    generate_golf_dataset,
    load_golfdb,
    load_golfdb_clip,
    pce_tolerance,
    read_golfdb_annotations,
    read_video_frames,
    resize_frames,
    render_clip,
    sample_swing_params,
    swing_angles,
    swing_pose,
    write_golfdb_csv,
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
    "AudioInfo",
    "LogMelStream",
    "MelConfig",
    "MelSpectrogram",
    "audio_blocks",
    "audio_info",
    "log_mel_spectrogram",
    "mel_filterbank",
    "read_audio",
    "read_wav",
    "resample",
    "sample_rate_factors",
    "to_mono",
    "write_wav",
    "AudioAugmentation",
    "augment_audio",
    "GOLF_EVENTS",
    "GOLF_VIEWS",
    "GOLFDB_COLUMNS",
    "GolfClip",
    "GolfConfig",
    "GolfDataset",
    "GolfDBAnnotation",
    "SwingParams",
    "event_frames",
    "event_times",
    "generate_golf_dataset",
    "load_golfdb",
    "load_golfdb_clip",
    "pce_tolerance",
    "read_golfdb_annotations",
    "read_video_frames",
    "resize_frames",
    "render_clip",
    "sample_swing_params",
    "swing_angles",
    "swing_pose",
    "write_golfdb_csv",
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
