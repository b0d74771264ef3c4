"""One-to-one matching of estimated events to reference events within a tolerance.

Conventions
-----------
* Times are real numbers in one unit (seconds in the metrics, frames where a caller says so),
  given as 1-D arrays **sorted ascending** (ties allowed) and finite. Unsorted or non-finite
  input raises ``ValueError`` naming the argument; nothing is sorted silently.
* ``tolerance`` is a **half-width** in the same unit, ``>= 0``, and the window is **inclusive**:
  an estimate ``e`` may match a reference ``r`` when ``|e - r| <= tolerance``. In floating point
  the comparison is made exactly as :func:`mir_eval.util.match_events` makes it (the rule that
  ``mir_eval.onset.f_measure`` and beat/segment metrics use)::

      e - tolerance <= r <= e + tolerance        (both bounds rounded to float64 first)

  so that every pair "exactly at the tolerance" is decided as mir_eval decides it. This is not
  always the pair's exact distance: ``r = 0.1``, ``e = 0.1 + 0.05`` (= 0.15000000000000002) is
  *not* a hit at ``tolerance=0.05`` under this rule, nor in mir_eval.onset.
* ``decimals=k`` selects the rule of ``mir_eval.transcription`` (onset matching of notes, the
  paper's piano and drum protocol, ``k = 4``): distances are rounded to ``k`` decimals before
  the comparison, ``round(|e - r|, k) <= tolerance`` (``numpy.around``). Pairs at the tolerance
  up to floating-point error are then hits, at the price of also accepting distances up to
  ``tolerance + 0.5 10**-k``.
* Each reference matches at most one estimate and vice versa. Empty inputs give no pairs.
* Results are ``(M, 2)`` int64 arrays of index pairs ``(reference index, estimate index)``,
  sorted by reference index.

Maximum matching by a sweep
---------------------------
:func:`match_events` returns a matching of **maximum size** (the size mir_eval's Hopcroft-Karp
matching finds). On sorted points the estimates a reference ``r_i`` may use form a contiguous
index range ``[L_i, H_i)`` and both ends are non-decreasing in ``i``. Processing the references
in order, each takes the earliest unmatched estimate of its range: this is optimal by the
exchange argument for intervals sorted by right end (if an optimal matching gives ``r_1`` the
estimate ``q`` instead of the earliest feasible ``p``, and ``p`` to ``r'``, then ``p <= q`` lie in
both ranges since ``L' <= p`` and ``q < H_1 <= H'``; swap them; induct on the rest). A pointer
replaces the search for "the earliest unmatched", so after the searches (O((n + m) log(n + m)))
the sweep is linear.

Among the maximum matchings the sweep prefers the **nearest** estimate when that costs nothing:
a reference takes the estimate nearest to it among those that no later reference can use
(indices below ``L_{i+1}``: every such choice leaves the next reference the same options), and
the earliest one otherwise. A double detection ``[r - 0.04, r]`` of one reference ``r`` thus
matches ``r`` exactly, which keeps the timing errors of :func:`~softloc.metrics.event_f_measure`
free of a bias towards early estimates. The preference is local and on the estimate side only
(a minimum-cost maximum matching is not computed): of two references competing for a single
estimate, the earlier one gets it.

:func:`match_events_by_confidence` is the greedy rule of sports action spotting: estimates in
decreasing confidence each take the nearest still unmatched reference in their window. It is
not maximum in general; it is what average precision over thresholds needs, because the matches
of the estimates above any threshold do not depend on the estimates below it.

Examples
--------
>>> match_events([1.0, 2.0, 3.0], [1.04, 1.9, 2.05, 5.0], tolerance=0.05).tolist()
[[0, 0], [1, 2]]
>>> match_events([0.0], [-0.04, 0.0], tolerance=0.05).tolist()
[[0, 1]]
"""

from __future__ import annotations

import functools
from bisect import bisect_left, bisect_right

import numpy as np

from ._validation import as_confidence, as_times, check_decimals, check_tolerance

__all__ = ["match_events", "match_events_by_confidence"]


# ----------------------------------------------------------------------------------------------
# Windows: the range of sorted points that each query may match
# ----------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=256)
def _rounded_limit(tolerance: float, decimals: int) -> float:
    """The largest float ``x >= 0`` with ``numpy.around(x, decimals) <= tolerance``.

    ``numpy.around`` is non-decreasing, so ``round(d, decimals) <= tolerance`` holds exactly
    when ``d <= limit``. Found by bisection over the (monotone) bit patterns of floats >= 0.
    """

    def ok(x: float) -> bool:
        return bool(np.around(np.float64(x), decimals) <= tolerance)

    step = 10.0 ** (-decimals)
    high = tolerance + step
    while ok(high):
        high = 2.0 * high + step
    low_bits = int(np.float64(0.0).view(np.int64))
    high_bits = int(np.float64(high).view(np.int64))
    while high_bits - low_bits > 1:
        middle = (low_bits + high_bits) // 2
        if ok(float(np.int64(middle).view(np.float64))):
            low_bits = middle
        else:
            high_bits = middle
    return float(np.int64(low_bits).view(np.float64))


def _keys(group: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Complex keys ``group + i value``: NumPy orders complex numbers lexicographically (real
    part, then imaginary part), so comparing keys compares ``(group, value)`` exactly."""
    keys = np.empty(values.size, dtype=np.complex128)
    keys.real = group
    keys.imag = values
    return keys


def _search(pairs, point_group, query_group, single: bool) -> list[np.ndarray]:
    """``numpy.searchsorted`` within groups, for several ``(points, queries, side)`` triples.

    Every ``points`` array is sorted within each group and its groups appear in ascending order
    (``point_group``, non-decreasing); ``queries`` belong to ``query_group``. Returns, for each
    triple, global indices into ``points`` that lie in the query's group segment: one search on
    exact ``(group, value)`` keys, whatever the number of groups.
    """
    if single:
        return [np.searchsorted(points, queries, side=side) for points, queries, side in pairs]
    return [np.searchsorted(_keys(point_group, points), _keys(query_group, queries), side=side)
            for points, queries, side in pairs]


def _first_true(low: np.ndarray, high: np.ndarray, predicate) -> np.ndarray:
    """Per query, the first index in ``[low, high)`` where a monotone predicate holds (else high).

    ``predicate(rows, index)`` evaluates the (False ... False True ... True) predicate of the
    queries ``rows`` at the indices ``index``; vectorised bisection over all queries at once.
    """
    low = low.copy()
    high = high.copy()
    rows = np.flatnonzero(low < high)
    while rows.size:
        middle = (low[rows] + high[rows]) // 2
        holds = predicate(rows, middle)
        high[rows] = np.where(holds, middle, high[rows])
        low[rows] = np.where(holds, low[rows], middle + 1)
        rows = rows[low[rows] < high[rows]]
    return low


def _windows(points, point_group, queries, query_group, tolerance, decimals, *,
             points_are_estimates: bool, single: bool):
    """``(lo, hi, insert)``: the points each query may match are ``points[lo:hi]``.

    ``insert`` is ``searchsorted(points, query, 'left')`` within the group (for nearest-point
    look-ups). With ``decimals=None`` the rule is mir_eval's ``e - tol <= r <= e + tol``, which
    depends on which side is the estimate; with ``decimals`` it is the symmetric
    ``|fl(p - q)| <= limit``, found exactly by bisection inside a band a few ulps wide.
    """
    if decimals is None:
        if points_are_estimates:  # r hit by e  <=>  fl(e + tol) >= r  and  fl(e - tol) <= r
            pairs = [(points + tolerance, queries, "left"), (points - tolerance, queries, "right"),
                     (points, queries, "left")]
        else:  # e hits r  <=>  fl(e - tol) <= r <= fl(e + tol)
            pairs = [(points, queries - tolerance, "left"), (points, queries + tolerance, "right"),
                     (points, queries, "left")]
        return tuple(_search(pairs, point_group, query_group, single))

    limit = _rounded_limit(tolerance, decimals)
    slack = 8.0 * np.spacing(np.abs(queries) + limit)
    low_edge, high_edge = queries - limit, queries + limit
    pairs = [
        (points, low_edge - slack, "left"), (points, low_edge + slack, "right"),
        (points, high_edge - slack, "left"), (points, high_edge + slack, "right"),
        (points, queries, "left"),
    ]
    a, b, c, d, insert = _search(pairs, point_group, query_group, single)
    lo = _first_true(a, b, lambda rows, j: points[j] - queries[rows] >= -limit)
    hi = _first_true(c, d, lambda rows, j: points[j] - queries[rows] > limit)
    return lo, hi, insert


# ----------------------------------------------------------------------------------------------
# Engines over grouped, concatenated arrays (one group = one class of one file)
# ----------------------------------------------------------------------------------------------


_VECTOR_STEPS = 64
_SMALL = 32


def _sweep_loop(lo: list, hi: list, preferred: list) -> list:
    """The pointer sweep written as a loop (one chain, or a few references)."""
    out = [-1] * len(lo)
    pointer = 0
    for t, (first, end, best) in enumerate(zip(lo, hi, preferred)):
        candidate = pointer if pointer > first else first
        if candidate < end:
            if best > candidate:
                candidate = best
            out[t] = candidate
            pointer = candidate + 1
        else:
            pointer = candidate
    return out


def _sweep(lo: np.ndarray, hi: np.ndarray, preferred: np.ndarray) -> np.ndarray:
    """The pointer sweep over references with non-empty windows ``[lo, hi)`` (in order).

    Each reference takes ``max(pointer, lo, preferred)`` when that is below ``hi`` (else it
    stays unmatched and the pointer moves to ``max(pointer, lo)``). The pointer after a
    reference never exceeds its ``hi``, so a reference whose ``lo`` reaches the previous ``hi``
    starts afresh: the references split into independent *chains*. Chains of up to
    ``_VECTOR_STEPS`` references are swept together, one vectorised step per position in the
    chain; longer chains (dense events), and inputs of fewer than ``_SMALL`` references, by a
    plain loop. Either way O(n) work.
    """
    n = lo.size
    if n < _SMALL:
        return np.asarray(_sweep_loop(lo.tolist(), hi.tolist(), preferred.tolist()), dtype=np.int64)
    chosen = np.full(n, -1, dtype=np.int64)
    fresh = np.ones(n, dtype=bool)
    fresh[1:] = lo[1:] >= hi[:-1]
    starts = np.flatnonzero(fresh)
    lengths = np.diff(np.append(starts, n))
    long = lengths > _VECTOR_STEPS

    short_starts, short_lengths = starts[~long], lengths[~long]
    order = np.argsort(-short_lengths, kind="stable")
    short_starts, short_lengths = short_starts[order], short_lengths[order]
    pointer = lo[short_starts].copy()
    steps = int(short_lengths[0]) if short_lengths.size else 0
    alive = np.searchsorted(-short_lengths, -np.arange(steps), side="left")
    for t in range(steps):
        k = int(alive[t])
        rows = short_starts[:k] + t
        q = np.maximum(pointer[:k], lo[rows])
        ok = q < hi[rows]
        j = np.maximum(q, preferred[rows])
        chosen[rows] = np.where(ok, j, -1)
        pointer[:k] = np.where(ok, j + 1, q)

    for start, length in zip(starts[long].tolist(), lengths[long].tolist()):
        stop = start + length
        chosen[start:stop] = _sweep_loop(lo[start:stop].tolist(), hi[start:stop].tolist(),
                                         preferred[start:stop].tolist())
    return chosen


_SMALL_INPUT = 128


def _sweep_match_small(reference: np.ndarray, estimated: np.ndarray, tolerance: float) -> np.ndarray:
    """:func:`sweep_match` for one group and ``decimals=None``, in plain Python (few events).

    The same windows (Python floats round as float64 does), the same free range and nearest
    rule (ties to the left, equal times to the highest index on the left and the lowest on the
    right), the same pointer: the same pairs, without the fixed cost of some twenty array
    operations.
    """
    ref = reference.tolist()
    est = estimated.tolist()
    plus = [e + tolerance for e in est]
    minus = [e - tolerance for e in est]
    n, m = len(ref), len(est)
    lo = [bisect_left(plus, r) for r in ref]
    out = [-1] * n
    pointer = 0
    for i, r in enumerate(ref):
        first = lo[i]
        end = bisect_right(minus, r)
        candidate = pointer if pointer > first else first
        if candidate >= end:
            pointer = candidate
            continue
        free_end = lo[i + 1] if i + 1 < n else m
        if free_end > end:
            free_end = end
        if candidate < free_end:
            s = bisect_left(est, r, candidate, free_end)
            if s == free_end or (s > candidate and abs(est[s - 1] - r) <= abs(est[s] - r)):
                s -= 1
            candidate = s
        out[i] = candidate
        pointer = candidate + 1
    return np.asarray(out, dtype=np.int64)


def sweep_match(reference, estimated, tolerance, decimals, reference_group=None,
                estimated_group=None) -> np.ndarray:
    """Maximum matching: for each reference, the matched estimate's index or -1.

    ``reference`` and ``estimated`` are concatenations of groups (arrays sorted within each
    group, groups in ascending order of the int64 ids ``*_group``); pairs never cross groups.
    Inputs are assumed valid (the public functions check them).
    """
    n, m = reference.size, estimated.size
    matched = np.full(n, -1, dtype=np.int64)
    if n == 0 or m == 0:
        return matched
    single = reference_group is None
    if single and decimals is None and n + m <= _SMALL_INPUT:
        return _sweep_match_small(reference, estimated, tolerance)
    lo, hi, insert = _windows(estimated, estimated_group, reference, reference_group, tolerance,
                              decimals, points_are_estimates=True, single=single)
    hi = np.maximum(hi, lo)
    # Estimates below the next reference's window are useless to every later reference: the
    # nearest of them can be taken at no cost (see the module docstring).
    free_end = np.minimum(hi, np.append(lo[1:], m))
    has_free = free_end > lo
    last_free = np.maximum(free_end - 1, 0)
    left = np.clip(insert - 1, lo, last_free)
    right = np.clip(insert, lo, last_free)
    nearer_right = np.abs(estimated[right] - reference) < np.abs(estimated[left] - reference)
    nearest = np.where(has_free, np.where(nearer_right, right, left), -1)

    active = np.flatnonzero(hi > lo)
    chosen = _sweep(lo[active], hi[active], nearest[active])
    matched[active] = chosen
    return matched


def confidence_match(reference, estimated, confidence, tolerance, decimals,
                     reference_group=None, estimated_group=None) -> np.ndarray:
    """Greedy by confidence: for each estimate, the matched reference's index or -1.

    Estimates in decreasing confidence (ties: lower index first) each take the nearest
    unmatched reference in their window (ties in distance: the earlier reference). Same grouped
    layout as :func:`sweep_match`.
    """
    n, m = reference.size, estimated.size
    matched = np.full(m, -1, dtype=np.int64)
    if n == 0 or m == 0:
        return matched
    single = reference_group is None
    lo, hi, insert = _windows(reference, reference_group, estimated, estimated_group, tolerance,
                              decimals, points_are_estimates=False, single=single)
    order = np.argsort(-confidence, kind="stable")
    order = order[hi[order] > lo[order]]
    # Union-find over reference indices: next_free[i] leads to the first unmatched index >= i
    # (n when none), prev_free[i + 1] to the last unmatched index <= i, plus one (0 when none).
    next_free = list(range(n + 1))
    prev_free = list(range(n + 1))
    ref_list = reference.tolist()
    est_list = estimated.tolist()
    # First index of each run of equal reference times (equal times: the earliest index wins).
    new_run = np.ones(n, dtype=bool)
    new_run[1:] = reference[1:] != reference[:-1]
    if reference_group is not None:
        new_run[1:] |= reference_group[1:] != reference_group[:-1]
    run_start = np.maximum.accumulate(np.where(new_run, np.arange(n), 0)).tolist()
    lo_list, hi_list, ins_list = lo.tolist(), hi.tolist(), insert.tolist()
    out = matched.tolist()
    for j in order.tolist():
        start, end, position, e = lo_list[j], hi_list[j], ins_list[j], est_list[j]
        x = position if position > start else start
        root = x
        while next_free[root] != root:
            root = next_free[root]
        while next_free[x] != root:
            next_free[x], x = root, next_free[x]
        right = root if root < end else -1
        y = (position if position < end else end)  # prev_free index of ref (position - 1)
        root = y
        while prev_free[root] != root:
            root = prev_free[root]
        while prev_free[y] != root:
            prev_free[y], y = root, prev_free[y]
        left = root - 1 if root - 1 >= start else -1
        if left >= 0 and run_start[left] != left:
            x = run_start[left]
            root = x
            while next_free[root] != root:
                root = next_free[root]
            while next_free[x] != root:
                next_free[x], x = root, next_free[x]
            left = root
        if left < 0 and right < 0:
            continue
        if right < 0 or (left >= 0 and abs(e - ref_list[left]) <= abs(ref_list[right] - e)):
            pick = left
        else:
            pick = right
        out[j] = pick
        next_free[pick] = pick + 1
        prev_free[pick + 1] = pick
    return np.asarray(out, dtype=np.int64)


def _pairs(matched: np.ndarray, by_reference: bool) -> np.ndarray:
    index = np.flatnonzero(matched >= 0)
    if by_reference:
        return np.stack([index, matched[index]], axis=1).astype(np.int64).reshape(-1, 2)
    pairs = np.stack([matched[index], index], axis=1).astype(np.int64).reshape(-1, 2)
    return pairs[np.argsort(pairs[:, 0], kind="stable")]


# ----------------------------------------------------------------------------------------------
# Public functions
# ----------------------------------------------------------------------------------------------


def match_events(reference, estimated, *, tolerance: float, decimals: int | None = None) -> np.ndarray:
    """Maximum one-to-one matching of estimated to reference events within a tolerance.

    Finds a largest set of pairs ``(i, j)`` with each ``i`` and each ``j`` used at most once and

    .. math:: |\\hat t_j - t_i| \\le \\tau

    (evaluated as ``e - tau <= r <= e + tau`` in float64, mir_eval's rule; or
    ``round(|e - r|, decimals) <= tau`` when ``decimals`` is given: module Conventions).
    Its size equals that of ``mir_eval.util.match_events`` on the same input. Time
    O((n + m) log(n + m)) for the searches and a linear sweep (module docstring).

    Parameters
    ----------
    reference:
        ``(n,)`` reference event times, sorted ascending, finite.
    estimated:
        ``(m,)`` estimated event times, sorted ascending, finite.
    tolerance:
        Half-width of the window, in the unit of the times, ``>= 0`` (inclusive).
    decimals:
        ``None`` (default, mir_eval.util/onset rule) or the number of decimals distances are
        rounded to before the comparison (4 = mir_eval.transcription's rule).

    Returns
    -------
    np.ndarray
        ``(M, 2)`` int64 pairs ``(reference index, estimate index)``, sorted by reference index
        (the estimate indices then increase too: the matching never crosses).

    Examples
    --------
    >>> match_events([0.5, 1.0], [0.45, 0.55, 1.2], tolerance=0.05).tolist()
    [[0, 0]]
    >>> match_events([0.5, 0.52], [0.45, 0.55, 1.2], tolerance=0.05).tolist()
    [[0, 0], [1, 1]]
    >>> match_events([], [1.0], tolerance=0.05).shape
    (0, 2)
    """
    reference = as_times(reference, "reference")
    estimated = as_times(estimated, "estimated")
    tolerance = check_tolerance(tolerance)
    decimals = check_decimals(decimals)
    return _pairs(sweep_match(reference, estimated, tolerance, decimals), by_reference=True)


def match_events_by_confidence(reference, estimated, confidence, *, tolerance: float,
                               decimals: int | None = None) -> np.ndarray:
    """Greedy matching by confidence (the action-spotting rule).

    Estimates are visited in decreasing ``confidence`` (ties: lower index first); each takes the
    unmatched reference nearest to it among those within the window (module Conventions), ties
    in distance going to the earlier reference. The matches of the estimates with confidence
    ``>= theta`` are the same whatever the estimates below ``theta``, for every ``theta``.
    Not a maximum matching in general. Time O((n + m) log(n + m)) (union-find sweep).

    Parameters
    ----------
    reference:
        ``(n,)`` reference event times, sorted ascending, finite.
    estimated:
        ``(m,)`` estimated event times, sorted ascending, finite.
    confidence:
        ``(m,)`` finite scores of the estimates (higher = more confident).
    tolerance:
        Half-width of the window, ``>= 0`` (inclusive).
    decimals:
        As in :func:`match_events`.

    Returns
    -------
    np.ndarray
        ``(M, 2)`` int64 pairs ``(reference index, estimate index)``, sorted by reference index.

    Examples
    --------
    >>> match_events_by_confidence([1.0], [0.97, 1.01], [0.9, 0.6], tolerance=0.05).tolist()
    [[0, 0]]
    >>> match_events_by_confidence([1.0, 1.06], [1.03], [0.5], tolerance=0.05).tolist()
    [[0, 0]]
    """
    reference = as_times(reference, "reference")
    estimated = as_times(estimated, "estimated")
    confidence = as_confidence(confidence, "confidence", estimated.size)
    tolerance = check_tolerance(tolerance)
    decimals = check_decimals(decimals)
    matched = confidence_match(reference, estimated, confidence, tolerance, decimals)
    return _pairs(matched, by_reference=False)
