"""One continuous recording of one subject (:class:`SensorSession`) and the validation of puff
labels."""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from ..._checks import check_int
from .signatures import CYCLE_KINDS


def _as_labels(labels, length: int | None, name: str) -> np.ndarray:
    array = np.asarray(labels)
    if array.ndim != 1 or (length is not None and array.shape[0] != length):
        expected = "(T,)" if length is None else f"({length},)"
        raise ValueError(f"{name} must have shape {expected}, got {array.shape}")
    if array.dtype == object or array.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold puff counts (numbers), got dtype {array.dtype}")
    if array.dtype.kind == "f" and (not np.all(np.isfinite(array))
                                    or np.any(array != np.round(array))):
        raise ValueError(f"{name} must hold whole puff counts per step")
    if np.any(array < 0):
        raise ValueError(f"{name} must hold puff counts >= 0")
    return array.astype(np.int64)


@dataclass(frozen=True, eq=False)
class SensorSession:
    """One continuous recording of one subject.

    Attributes
    ----------
    subject:
        Subject id.
    index:
        The session's number within its subject (0, 1, ... in time order).
    features:
        ``(T, F)`` float32, one row per respiration cycle.
    labels:
        ``(T,)`` int64 puff counts per step: 0/1 ground truth, or counts after misalignment.
    timestamps:
        ``(T, 2)`` float64 start and end of each cycle (milliseconds), or ``None``.
    kinds:
        ``(T,)`` int8 true cycle type, an index into :data:`CYCLE_KINDS`; ``None`` for real data.
    artifacts:
        ``(T,)`` bool, True on cycles with a motion artifact; ``None`` for real data.

    Examples
    --------
    >>> import numpy as np
    >>> session = SensorSession(subject=3, index=0, features=np.zeros((5, 2)),
    ...                         labels=[0, 1, 0, 0, 1])
    >>> session.length, session.num_events, session.features.dtype, session.labels.dtype
    (5, 2, dtype('float32'), dtype('int64'))
    >>> session.replace(labels=[0, 2, 0, 0, 0]).to_dict()  # two puffs on one step
    {'subject': 3, 'index': 0, 'length': 5, 'num_features': 2, 'num_events': 2}
    >>> SensorSession(subject=3, index=0, features=np.zeros((5, 2)), labels=[0, 0.5, 0, 0, 0])
    Traceback (most recent call last):
    ...
    ValueError: labels must hold whole puff counts per step
    """

    subject: int
    index: int
    features: np.ndarray
    labels: np.ndarray
    timestamps: np.ndarray | None = None
    kinds: np.ndarray | None = None
    artifacts: np.ndarray | None = None

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "subject", check_int(self.subject, "subject", minimum=-(2**62)))
        set_(self, "index", check_int(self.index, "index", minimum=0))
        features = np.asarray(self.features)
        if features.ndim != 2 or features.shape[0] == 0 or features.shape[1] == 0:
            raise ValueError(
                f"features must have shape (T, F) with T, F >= 1, got {features.shape}")
        if features.dtype.kind not in "biuf":
            raise TypeError(f"features must be numeric, got dtype {features.dtype}")
        set_(self, "features", np.ascontiguousarray(features, dtype=np.float32))
        length = features.shape[0]
        set_(self, "labels", _as_labels(self.labels, length, "labels"))
        if self.timestamps is not None:
            stamps = np.asarray(self.timestamps, dtype=np.float64)
            if stamps.shape != (length, 2):
                raise ValueError(f"timestamps must have shape ({length}, 2), got {stamps.shape}")
            set_(self, "timestamps", stamps)
        if self.kinds is not None:
            kinds = np.asarray(self.kinds)
            if kinds.shape != (length,) or kinds.dtype.kind not in "iu" or \
                    np.any((kinds < 0) | (kinds >= len(CYCLE_KINDS))):
                raise ValueError(f"kinds must be ({length},) integer codes into CYCLE_KINDS")
            set_(self, "kinds", kinds.astype(np.int8))
        if self.artifacts is not None:
            artifacts = np.asarray(self.artifacts)
            if artifacts.shape != (length,) or artifacts.dtype != np.bool_:
                raise ValueError(f"artifacts must be a ({length},) bool array")
            set_(self, "artifacts", artifacts)

    @property
    def length(self) -> int:
        """Steps ``T``."""
        return int(self.features.shape[0])

    @property
    def num_events(self) -> int:
        """Puffs in the labels (their sum)."""
        return int(self.labels.sum())

    def replace(self, **changes) -> "SensorSession":
        """A copy with some fields changed (validated again)."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values.update(changes)
        return SensorSession(**values)

    def to_dict(self) -> dict:
        return {"subject": self.subject, "index": self.index, "length": self.length,
                "num_features": int(self.features.shape[1]), "num_events": self.num_events}
