"""Independent references and test-case generators for the metric tests.

Nothing here calls softloc: window predicates are written as dense outer comparisons, maximum
matchings come from scipy's Hopcroft-Karp, greedy matchings from O(n m) loops.
"""

from __future__ import annotations

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import maximum_bipartite_matching

# mir_eval warns (UserWarning) on empty input; the parity tests feed it empty arrays on purpose.
MIR_EVAL_EMPTY = "ignore:(Reference|Estimated) (onsets|notes) are empty:UserWarning"

TOLERANCES = (0.05, 0.0, 0.01, 0.1, 0.5)


def window_hits(reference, estimated, tolerance, decimals=None) -> np.ndarray:
    """Boolean (n, m) matrix of allowed pairs, by the rule of mir_eval (util or transcription)."""
    reference = np.asarray(reference, dtype=np.float64)
    estimated = np.asarray(estimated, dtype=np.float64)
    if decimals is None:
        return (reference[:, None] >= estimated[None, :] - tolerance) & (
            reference[:, None] <= estimated[None, :] + tolerance
        )
    return np.around(np.abs(np.subtract.outer(reference, estimated)), decimals) <= tolerance


def maximum_matching_size(hits: np.ndarray) -> int:
    if hits.size == 0 or not hits.any():
        return 0
    match = maximum_bipartite_matching(csr_matrix(hits.astype(np.int8)), perm_type="column")
    return int(np.count_nonzero(match >= 0))


def greedy_by_confidence(reference, estimated, confidence, tolerance, decimals=None) -> list:
    """Estimates by decreasing confidence (ties: lower index) take the nearest free reference."""
    hits = window_hits(reference, estimated, tolerance, decimals)
    used: set[int] = set()
    pairs = []
    for j in sorted(range(len(estimated)), key=lambda j: (-confidence[j], j)):
        best = None
        for i in range(len(reference)):
            if i in used or not hits[i, j]:
                continue
            distance = abs(estimated[j] - reference[i])
            if best is None or distance < best[0]:
                best = (distance, i)
        if best is not None:
            used.add(best[1])
            pairs.append([best[1], j])
    return sorted(pairs)


def hz(classes) -> np.ndarray:
    """Class c -> the frequency of MIDI note 21 + c (neighbours are 100 cents apart)."""
    return 440.0 * 2.0 ** ((np.asarray(classes, dtype=np.float64) + 21 - 69) / 12)


def notes(event_list):
    """Event list -> (intervals [t, t + 1], pitches in Hz) for mir_eval.transcription."""
    times = np.concatenate([np.asarray(t, dtype=np.float64) for t in event_list])
    pitches = hz(np.concatenate([np.full(len(t), c) for c, t in enumerate(event_list)]))
    return np.stack([times, times + 1.0], axis=1).reshape(-1, 2), pitches


def random_case(rng: np.random.Generator, *, max_events: int = 30, non_negative: bool = False):
    """(reference, estimated, tolerance): sorted float64 arrays from adversarial families.

    Families: sparse uniform; dense (everything within a few tolerances); a 10 ms grid (many
    distances exactly at the tolerance in decimal terms); estimates built as reference +- the
    tolerance in floating point; heavy duplicates; jittered copies; large times (coarse float
    spacing); empty sides. Times are >= 0 when ``non_negative`` (mir_eval.transcription).
    """
    family = int(rng.integers(8))
    tolerance = float(TOLERANCES[int(rng.integers(len(TOLERANCES)))])
    n, m = (int(v) for v in rng.integers(0, max_events + 1, 2))
    if family == 0:
        reference, estimated = rng.uniform(0, 3, n), rng.uniform(0, 3, m)
    elif family == 1:
        span = 3 * max(tolerance, 0.01)
        reference, estimated = rng.uniform(0, span, n), rng.uniform(0, span, m)
    elif family == 2:
        reference, estimated = rng.integers(0, 40, n) * 0.01, rng.integers(0, 40, m) * 0.01
    elif family == 3:
        reference = rng.uniform(0, 5, n)
        signs = rng.choice([-1.0, 1.0, 0.5, 0.0], n)
        estimated = np.concatenate([(reference + signs * tolerance)[:m], rng.uniform(0, 5, max(0, m - n))])
    elif family == 4:
        levels = rng.uniform(0, 1, 3)
        reference = rng.choice(levels, n)
        estimated = rng.choice(np.concatenate([levels, levels + tolerance, levels - tolerance]), m)
    elif family == 5:
        reference = rng.uniform(0, 10, n)
        estimated = np.concatenate([reference[:m] + rng.normal(0, max(tolerance, 0.01), min(m, n)),
                                    rng.uniform(0, 10, max(0, m - n))])
    elif family == 6:
        reference = 1e4 + rng.integers(0, 30, n) * 0.01
        estimated = 1e4 + rng.integers(0, 30, m) * 0.01
    else:
        reference, estimated = rng.uniform(0, 3, n), np.zeros(0)
        if rng.random() < 0.5:
            reference, estimated = estimated, rng.uniform(0, 3, m)
    reference, estimated = np.sort(reference), np.sort(estimated)
    if non_negative:
        reference, estimated = np.abs(reference), np.abs(estimated)
        reference, estimated = np.sort(reference), np.sort(estimated)
    return reference, estimated, tolerance


def random_event_list(rng: np.random.Generator, classes: int, *, max_events: int = 8,
                      tolerance: float = 0.05, like=None) -> list[np.ndarray]:
    """Per-class sorted times >= 0; with ``like``, a noisy copy (jitter, misses, extras, +-tol)."""
    out = []
    for c in range(classes):
        if like is None:
            if rng.random() < 0.5:
                times = rng.integers(0, 60, int(rng.integers(0, max_events + 1))) * 0.01
            else:
                times = rng.uniform(0, 1, int(rng.integers(0, max_events + 1)))
        else:
            source = like[c]
            keep = source[rng.random(source.size) < 0.7]
            shift = rng.choice([0.0, tolerance, -tolerance, 0.5 * tolerance, 0.02], keep.size)
            extra = rng.uniform(0, 1, int(rng.integers(0, 3)))
            times = np.abs(np.concatenate([keep + shift, extra]))
        out.append(np.sort(np.asarray(times, dtype=np.float64)))
    return out
