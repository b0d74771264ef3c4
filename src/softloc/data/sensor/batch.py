"""Fixed-length sequences cut from sessions (:class:`SensorBatch`): training windows and whole
padded sessions, with their masks."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .session import SensorSession


@dataclass(frozen=True, eq=False)
class SensorBatch:
    """Fixed-length sequences cut from sessions (training windows or whole padded sessions).

    Attributes
    ----------
    features:
        ``(N, L, F)`` float32; zero on padded steps.
    labels:
        ``(N, L)`` int64 puff counts; zero on padded steps.
    mask:
        ``(N, L)`` bool, True on valid steps (a prefix of each row).
    session:
        ``(N,)`` int64: index of the source session in the dataset's ``sessions``.
    subject:
        ``(N,)`` int64: subject of the source session.
    start:
        ``(N,)`` int64: step of the session where the row starts.

    Examples
    --------
    :meth:`SensorDataset.windows` and :meth:`SensorDataset.stack` return one; two sessions of
    145 and 632 steps cut into windows of 50 (the last of each session padded, masked):

    >>> from softloc.data.sensor import SensorConfig, generate_sensor_dataset
    >>> config = SensorConfig(num_subjects=2, sessions_per_subject=1, session_length=(100, 150))
    >>> data = generate_sensor_dataset(config, seed=0)
    >>> batch = data.windows(length=50, stride=50)
    >>> batch.num_sequences, batch.length, batch.features.shape
    (16, 50, (16, 50, 37))
    >>> batch.session[:4].tolist(), batch.start[:4].tolist(), batch.mask[:4].sum(axis=1).tolist()
    ([0, 0, 0, 1], [0, 50, 100, 0], [50, 50, 45, 50])
    >>> features, labels, mask = batch.tensors()  # what a model and a loss take
    >>> features.dtype, labels.dtype, mask.dtype, int(labels.sum()) == batch.to_dict()["events"]
    (torch.float32, torch.float32, torch.bool, True)
    """

    features: np.ndarray
    labels: np.ndarray
    mask: np.ndarray
    session: np.ndarray
    subject: np.ndarray
    start: np.ndarray

    @property
    def num_sequences(self) -> int:
        return int(self.features.shape[0])

    @property
    def length(self) -> int:
        return int(self.features.shape[1])

    def tensors(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(features, labels, mask)`` as torch tensors: float32 ``(N, L, F)``, float32
        ``(N, L)`` (the losses' targets) and bool ``(N, L)``."""
        return (torch.from_numpy(self.features), torch.from_numpy(self.labels.astype(np.float32)),
                torch.from_numpy(self.mask))

    def to_dict(self) -> dict:
        return {"num_sequences": self.num_sequences, "length": self.length,
                "num_features": int(self.features.shape[2]),
                "valid_steps": int(self.mask.sum()), "events": int(self.labels.sum())}


def _cut(session: SensorSession, index: int, starts: np.ndarray, length: int) -> SensorBatch:
    positions = starts[:, None] + np.arange(length)[None, :]
    valid = positions < session.length
    clipped = np.where(valid, positions, session.length)  # the extra zero row
    features = np.concatenate([session.features,
                               np.zeros((1, session.features.shape[1]), np.float32)])[clipped]
    labels = np.concatenate([session.labels, [0]])[clipped]
    n = starts.size
    return SensorBatch(features=features, labels=labels, mask=valid,
                       session=np.full(n, index, np.int64),
                       subject=np.full(n, session.subject, np.int64),
                       start=starts.astype(np.int64))


def _concatenate(parts: list[SensorBatch], num_features: int, length: int) -> SensorBatch:
    return SensorBatch(
        features=np.concatenate([p.features for p in parts]).reshape(-1, length, num_features),
        labels=np.concatenate([p.labels for p in parts]).astype(np.int64),
        mask=np.concatenate([p.mask for p in parts]),
        session=np.concatenate([p.session for p in parts]),
        subject=np.concatenate([p.subject for p in parts]),
        start=np.concatenate([p.start for p in parts]),
    )
