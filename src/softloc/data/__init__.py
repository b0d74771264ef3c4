"""Data sets: synthetic generators and loaders for the paper's data sets on disk.

* :mod:`softloc.data.sensor` -- wearable-sensor puff detection (paper section 6.2): a realistic
  puffMarker-like generator (:func:`generate_sensor_dataset`, :class:`SensorConfig`) and a loader
  of the real puffMarker CSV layout (:func:`load_puffmarker`), both giving a
  :class:`SensorDataset` with leave-one-subject-out folds, masked training windows and z-score
  normalisation fitted on training subjects only.
"""

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
