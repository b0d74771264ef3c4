"""The puffMarker CSV layout on disk: :func:`load_puffmarker` reads it, :func:`save_puffmarker`
writes it."""

from __future__ import annotations

import csv
import math
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..._checks import check_int, check_real
from .dataset import SensorDataset
from .session import SensorSession

PUFFMARKER_USERS = (10, 11, 12, 14, 15, 16)
"""User ids of the puffMarker files the authors' code reads."""

PUFFMARKER_SESSION_GAP = 5e6
"""Timestamp gap (file units, milliseconds) above which the authors' code starts a new session."""


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _read_csv(path: Path, *, columns: int | None, min_columns: int = 1,
              numeric: Sequence[int] | None,
              what: str) -> tuple[list[str] | None, np.ndarray, list[int]]:
    """Rows of a comma-separated file as float64, the header and each row's line number.

    ``numeric``: the columns that must be finite numbers (all when ``None``); others are read as
    NaN when they are not numbers. The first non-blank row is a header when one of those columns
    is not a number."""
    if not path.is_file():
        raise FileNotFoundError(f"puffMarker {what} file not found: {path}")
    header, rows, lines = None, [], []
    with open(path, newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        for fields_ in reader:
            line = reader.line_num
            if not fields_ or all(not f.strip() for f in fields_):
                continue
            fields_ = [f.strip() for f in fields_]
            required = range(len(fields_)) if numeric is None else numeric
            if header is None and not rows and not all(
                    c < len(fields_) and _is_number(fields_[c]) for c in required):
                header = fields_
                if columns is not None and len(header) != columns:
                    raise ValueError(f"{path}, line {line} (header): expected {columns} "
                                     f"comma-separated columns, found {len(header)}")
                if len(header) < min_columns:
                    raise ValueError(f"{path}, line {line} (header): expected at least "
                                     f"{min_columns} comma-separated columns, found {len(header)}")
                continue
            if columns is not None and len(fields_) != columns:
                raise ValueError(f"{path}, line {line}: expected {columns} comma-separated "
                                 f"columns, found {len(fields_)}")
            if len(fields_) < min_columns:
                raise ValueError(f"{path}, line {line}: expected at least {min_columns} "
                                 f"comma-separated columns, found {len(fields_)}")
            values = []
            for c, text in enumerate(fields_):
                must = numeric is None or c in numeric
                try:
                    value = float(text)
                except ValueError:
                    if must:
                        raise ValueError(f"{path}, line {line}, column {c}: {text!r} is not a "
                                         "number") from None
                    value = math.nan
                if must and not math.isfinite(value):
                    raise ValueError(f"{path}, line {line}, column {c}: {text!r} is not finite")
                values.append(value)
            if rows and len(values) != len(rows[0]):
                raise ValueError(f"{path}, line {line}: expected {len(rows[0])} comma-separated "
                                 f"columns like line {lines[0]}, found {len(values)}")
            rows.append(values)
            lines.append(line)
    if not rows:
        raise ValueError(f"{path} holds no data rows")
    return header, np.asarray(rows, dtype=np.float64), lines


def load_puffmarker(folder, users: Sequence[int] = PUFFMARKER_USERS, *,
                    num_features: int = 37,
                    session_gap: float = PUFFMARKER_SESSION_GAP) -> SensorDataset:
    """Read puffMarker CSVs (reference-spec section 3.2) into a :class:`SensorDataset`.

    Layout, per user ``u``: ``features_{u}.csv`` with ``2 + num_features`` comma-separated columns
    (columns 0 and 1: cycle start and end timestamps; the rest: features, used raw) and
    ``predictions_{u}.csv`` with at least 4 columns whose column 3 is the puff label (0 or 1) of
    the same row's cycle. A first row that is not all numbers is a header (the authors read the
    files with ``numpy.genfromtxt(..., names=True)``); feature names come from the first user's
    header, else ``feature_00`` .... Blank lines are skipped.

    Sessions: a user's rows are cut where the start timestamp jumps by more than
    ``session_gap`` (default ``5e6``, the authors' rule) or goes backwards. Unlike the authors'
    code, which cut the concatenation of all users, a session never spans two users.

    Raises
    ------
    FileNotFoundError
        ``folder`` or one of the files is missing.
    ValueError
        Naming the file and line: a row with the wrong number of columns, a value that is not a
        finite number (features, timestamps, labels), a label other than 0 or 1, an empty file,
        or feature and label files of different lengths.

    Examples
    --------
    Files in the puffMarker layout (written by :func:`save_puffmarker`) read back exactly; a
    folder without the authors' users' files is refused:

    >>> import os, tempfile
    >>> import numpy as np
    >>> from softloc.data.sensor import SensorConfig, generate_sensor_dataset
    >>> config = SensorConfig(num_subjects=2, sessions_per_subject=2, session_length=(100, 150))
    >>> data = generate_sensor_dataset(config, seed=0)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     _ = save_puffmarker(data, folder)
    ...     loaded = load_puffmarker(folder, users=[0, 1], num_features=37)
    ...     try:
    ...         load_puffmarker(folder)  # the default users 10, 11, ...
    ...     except FileNotFoundError as error:
    ...         print(os.path.basename(str(error)))
    features_10.csv
    >>> loaded.source, loaded.num_sessions, loaded.feature_names == data.feature_names
    ('puffmarker', 4, True)
    >>> all(np.array_equal(a.features, b.features) and np.array_equal(a.labels, b.labels)
    ...     for a, b in zip(data.sessions, loaded.sessions))
    True
    """
    folder = Path(os.fspath(folder))
    if not folder.exists():
        raise FileNotFoundError(f"folder not found: {folder}")
    if not folder.is_dir():
        raise NotADirectoryError(f"folder must be a directory, got the file {folder}")
    if isinstance(users, (int, np.integer)):
        raise TypeError(
            f"users must be a sequence of user ids, got a single int; wrap it: [{users}]")
    users = [check_int(u, "users", minimum=0) for u in users]
    if not users:
        raise ValueError("users must name at least one user")
    if len(set(users)) != len(users):
        raise ValueError(f"users must not repeat ids, got {users}")
    num_features = check_int(num_features, "num_features", minimum=1)
    session_gap = check_real(session_gap, "session_gap", minimum=0.0)
    width = num_features + 2

    sessions, names = [], None
    for user in users:
        feature_path = folder / f"features_{user}.csv"
        label_path = folder / f"predictions_{user}.csv"
        header, table, feature_lines = _read_csv(feature_path, columns=width, numeric=None,
                                                 what="features")
        _, labels_table, label_lines = _read_csv(label_path, columns=None, min_columns=4,
                                                 numeric=(3,), what="predictions")
        if labels_table.shape[0] != table.shape[0]:
            shorter, longer = sorted([(table.shape[0], feature_path, feature_lines),
                                      (labels_table.shape[0], label_path, label_lines)],
                                     key=lambda item: item[0])
            raise ValueError(
                f"{feature_path} has {table.shape[0]} data rows but {label_path} has "
                f"{labels_table.shape[0]}: line {longer[2][shorter[0]]} of {longer[1]} has no "
                f"matching row in {shorter[1]}"
            )
        labels = labels_table[:, 3]
        bad = np.flatnonzero((labels != 0) & (labels != 1))
        if bad.size:
            i = int(bad[0])
            raise ValueError(f"{label_path}, line {label_lines[i]}, column 3: the puff label "
                             f"must be 0 or 1, got {labels[i]:g}")
        if names is None:
            names = (tuple(header[2:]) if header is not None
                     else tuple(f"feature_{j:02d}" for j in range(num_features)))
        jumps = np.diff(table[:, 0])
        cuts = np.flatnonzero((jumps > session_gap) | (jumps < 0)) + 1
        bounds = np.concatenate([[0], cuts, [table.shape[0]]])
        for index, (lo, hi) in enumerate(zip(bounds[:-1], bounds[1:])):
            sessions.append(SensorSession(
                subject=user, index=index, features=table[lo:hi, 2:].astype(np.float32),
                labels=labels[lo:hi].astype(np.int64), timestamps=table[lo:hi, :2]))
    return SensorDataset(sessions=tuple(sessions), feature_names=names, source="puffmarker")


def save_puffmarker(dataset: SensorDataset, folder) -> list[Path]:
    """Write ``dataset`` in the puffMarker layout that :func:`load_puffmarker` reads.

    One ``features_{subject}.csv`` (header ``start_timestamp,end_timestamp,<feature names>``)
    and one ``predictions_{subject}.csv`` (header ``start_timestamp,end_timestamp,session,label``)
    per subject, sessions in order. Subject ids must be >= 0; timestamps are the sessions' own
    or, when missing, made up (4 s cycles, sessions a day apart) so that the loader splits the
    sessions as they are. Values are written with ``repr`` so a round trip is exact. The folder
    is created if needed. Returns the paths written.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> from softloc.data.sensor import SensorConfig, generate_sensor_dataset
    >>> config = SensorConfig(num_subjects=2, sessions_per_subject=2, session_length=(100, 150))
    >>> data = generate_sensor_dataset(config, seed=0)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     paths = save_puffmarker(data, folder)
    ...     with open(paths[1]) as f:
    ...         header = f.readline().strip()
    >>> [path.name for path in paths]
    ['features_0.csv', 'predictions_0.csv', 'features_1.csv', 'predictions_1.csv']
    >>> header
    'start_timestamp,end_timestamp,session,label'
    """
    if not isinstance(dataset, SensorDataset):
        raise TypeError(f"dataset must be a SensorDataset, got {type(dataset).__name__}")
    folder = Path(os.fspath(folder))
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for subject in dataset.subjects:
        if subject < 0:
            raise ValueError(f"subject ids must be >= 0 to name files, got {subject}")
        feature_path = folder / f"features_{subject}.csv"
        label_path = folder / f"predictions_{subject}.csv"
        with open(feature_path, "w", newline="", encoding="utf-8") as feature_file, \
                open(label_path, "w", newline="", encoding="utf-8") as label_file:
            feature_writer, label_writer = csv.writer(feature_file), csv.writer(label_file)
            feature_writer.writerow(["start_timestamp", "end_timestamp", *dataset.feature_names])
            label_writer.writerow(["start_timestamp", "end_timestamp", "session", "label"])
            previous_end = None
            for session in (s for s in dataset.sessions if s.subject == subject):
                if int(session.labels.max(initial=0)) > 1:
                    raise ValueError(f"session {session.index} of subject {subject} has steps "
                                     "with more than one puff; the layout holds 0/1 labels")
                stamps = session.timestamps
                if stamps is None:
                    begin = 0.0 if previous_end is None else previous_end + 8.64e7
                    starts = begin + 4000.0 * np.arange(session.length)
                    stamps = np.stack([starts, starts + 4000.0], axis=1)
                previous_end = float(stamps[-1, 1])
                for row, label, stamp in zip(session.features, session.labels, stamps):
                    feature_writer.writerow([repr(float(stamp[0])), repr(float(stamp[1])),
                                             *(repr(float(x)) for x in row)])
                    label_writer.writerow([repr(float(stamp[0])), repr(float(stamp[1])),
                                           session.index, int(label)])
        written += [feature_path, label_path]
    return written
