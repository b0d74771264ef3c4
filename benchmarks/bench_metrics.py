"""Speed of the event metrics against mir_eval, as ratios from one run.

* One class, 100,000 reference vs about 100,000 estimated onsets (85 % of the references
  jittered by N(0, 20 ms), plus 15 % false alarms), tolerance 50 ms, at two densities (10 and
  100 events per second): ``event_f_measure`` against ``mir_eval.onset.f_measure`` (which builds
  the graph of all pairs within the window and runs Hopcroft-Karp in Python).
* 88 classes (piano keys): a training batch (32 windows of 1.5 s, about 30 notes each) and a test
  corpus (60 pieces of 5 min, 1,500 notes each). ``corpus_f_measure(..., decimals=4)`` (one
  vectorised pass over all files and classes) against ``mir_eval.transcription`` file by file
  (the paper's protocol: onset-only notes, pitch = key); and, with mir_eval.util's rule,
  ``corpus_f_measure`` against ``event_f_measure`` cell by cell and
  ``mir_eval.util.match_events`` cell by cell (the matching inside ``mir_eval.onset``).

Every time is the best of interleaved rounds after a warm-up (mir_eval, being slow, gets fewer
rounds). The scores of the methods are checked to agree before anything is reported. Run
``python benchmarks/bench_metrics.py``; ``--quick`` uses 20,000 events and smaller corpora.
Results are printed and written as CSV and Markdown.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import mir_eval
import numpy as np

from _tables import write_tables
from softloc.metrics import corpus_f_measure, event_f_measure

TOLERANCE = 0.05


def onsets(rng, count: int, rate: float):
    """Sorted reference onsets at ``rate`` per second and estimates (hits, jitter, false alarms)."""
    reference = np.sort(rng.uniform(0, count / rate, count))
    hit = rng.random(count) < 0.85
    jittered = reference[hit] + rng.normal(0, 0.02, hit.sum())
    false_alarms = rng.uniform(0, count / rate, count - hit.sum())
    estimated = np.sort(np.abs(np.concatenate([jittered, false_alarms])))
    return reference, estimated


def corpus(rng, files: int, classes: int, notes: int, duration: float):
    reference, estimated = [], []
    for _ in range(files):
        key = rng.integers(0, classes, notes)
        times = rng.uniform(0, duration, notes)
        ref_file, est_file = [], []
        for c in range(classes):
            r, e = onsets_from(rng, np.sort(times[key == c]), duration, notes / classes)
            ref_file.append(r)
            est_file.append(e)
        reference.append(ref_file)
        estimated.append(est_file)
    return reference, estimated


def onsets_from(rng, reference, duration, mean_count):
    hit = rng.random(reference.size) < 0.85
    jittered = reference[hit] + rng.normal(0, 0.02, hit.sum())
    false_alarms = rng.uniform(0, duration, rng.poisson(0.15 * mean_count))
    return reference, np.sort(np.abs(np.concatenate([jittered, false_alarms])))


def hz(classes: int) -> np.ndarray:
    return 440.0 * 2.0 ** ((np.arange(classes) + 21 - 69) / 12)


def mir_eval_transcription(reference, estimated, pitches):
    """Per-file onset-only note F1 (mir_eval.transcription, the paper's piano protocol)."""
    scores = []
    for ref_file, est_file in zip(reference, estimated):
        intervals = []
        for events in (ref_file, est_file):
            times = np.concatenate(events)
            pitch = np.concatenate([np.full(t.size, pitches[c]) for c, t in enumerate(events)])
            intervals.append((np.stack([times, times + 1.0], axis=1).reshape(-1, 2), pitch))
        (ri, rp), (ei, ep) = intervals
        scores.append(mir_eval.transcription.precision_recall_f1_overlap(
            ri, rp, ei, ep, onset_tolerance=TOLERANCE, offset_ratio=None)[2])
    return scores


def best_times(fns: dict, repeats: dict) -> tuple[dict, dict]:
    """Best wall time (ms) per method over interleaved rounds after one warm-up; last outputs."""
    times = {name: [] for name in fns}
    outputs = {}
    rounds = max(repeats.values())
    for round_index in range(rounds + 1):
        for name, fn in fns.items():
            if round_index > repeats[name]:
                continue
            start = time.perf_counter()
            outputs[name] = fn()
            elapsed = time.perf_counter() - start
            if round_index > 0:
                times[name].append(elapsed)
    return {name: 1e3 * min(values) for name, values in times.items()}, outputs


def single_class_rows(args, rng) -> list[dict]:
    rows = []
    for rate in (10.0, 100.0):
        reference, estimated = onsets(rng, args.events, rate)
        fns = {
            "softloc": lambda: event_f_measure(reference, estimated, tolerance=TOLERANCE).f1,
            "mir_eval": lambda: mir_eval.onset.f_measure(reference, estimated, window=TOLERANCE)[0],
        }
        ms, out = best_times(fns, {"softloc": args.repeats, "mir_eval": min(args.repeats, 2)})
        if out["softloc"] != out["mir_eval"]:
            raise AssertionError(f"F1 differs: {out['softloc']} vs mir_eval {out['mir_eval']}")
        nan = float("nan")
        row = {
            "task": f"1 class, {reference.size} vs {estimated.size} events, {rate:g}/s",
            "softloc_ms": ms["softloc"], "mir_eval_ms": ms["mir_eval"],
            "speedup_vs_mir_eval": ms["mir_eval"] / ms["softloc"],
            "softloc_onset_rule_ms": nan, "per_cell_loop_ms": nan, "mir_eval_per_cell_ms": nan,
            "f1": out["softloc"],
        }
        rows.append(row)
        print(f"{row['task']:<48} softloc {ms['softloc']:9.1f} ms | mir_eval.onset "
              f"{ms['mir_eval']:9.1f} ms | x{row['speedup_vs_mir_eval']:6.1f} faster | F1 "
              f"{row['f1']:.4f} (equal)", flush=True)
    return rows


def batch_rows(args, rng) -> list[dict]:
    rows = []
    classes = 88
    pitches = hz(classes)
    settings = [("training batch", 32, 30, 1.5), ("test corpus", args.pieces, args.notes, 300.0)]
    for label, files, notes, duration in settings:
        reference, estimated = corpus(rng, files, classes, notes, duration)
        cells = [(r, e) for rf, ef in zip(reference, estimated) for r, e in zip(rf, ef)]

        def ours():
            return corpus_f_measure(reference, estimated, tolerance=TOLERANCE, decimals=4).per_file

        def ours_onset_rule():
            return corpus_f_measure(reference, estimated, tolerance=TOLERANCE).n_matched.ravel().tolist()

        def loop():
            return [event_f_measure(r, e, tolerance=TOLERANCE).n_matched for r, e in cells]

        def mir_cells():
            return [len(mir_eval.util.match_events(r, e, TOLERANCE)) for r, e in cells]

        fns = {
            "softloc": ours,
            "mir_eval": lambda: mir_eval_transcription(reference, estimated, pitches),
            "softloc_cells": ours_onset_rule,
            "loop": loop,
            "mir_eval_cells": mir_cells,
        }
        slow = min(args.repeats, 2)
        ms, out = best_times(fns, {"softloc": args.repeats, "mir_eval": slow,
                                   "softloc_cells": args.repeats, "loop": slow,
                                   "mir_eval_cells": slow})
        ours_f1 = [s.f1 for s in out["softloc"]]
        if ours_f1 != out["mir_eval"]:
            raise AssertionError("per-file F1 differs from mir_eval.transcription")
        if not out["softloc_cells"] == out["loop"] == out["mir_eval_cells"]:
            raise AssertionError("per-cell match counts differ from mir_eval.util.match_events")
        row = {
            "task": f"88 classes, {label}: {files} files x {notes} notes",
            "softloc_ms": ms["softloc"], "mir_eval_ms": ms["mir_eval"],
            "speedup_vs_mir_eval": ms["mir_eval"] / ms["softloc"],
            "softloc_onset_rule_ms": ms["softloc_cells"], "per_cell_loop_ms": ms["loop"],
            "mir_eval_per_cell_ms": ms["mir_eval_cells"], "f1": float(np.mean(ours_f1)),
        }
        rows.append(row)
        print(f"{row['task']:<48} corpus_f_measure (decimals=4) {ms['softloc']:8.1f} ms | "
              f"mir_eval.transcription per file {ms['mir_eval']:8.1f} ms (x"
              f"{row['speedup_vs_mir_eval']:5.1f}) | onset rule: corpus_f_measure "
              f"{ms['softloc_cells']:7.1f} ms, event_f_measure per cell {ms['loop']:7.1f} ms, "
              f"mir_eval.util.match_events per cell {ms['mir_eval_cells']:7.1f} ms | "
              f"mean F1 {row['f1']:.4f} (equal)", flush=True)
    return rows


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="20,000 events, 12 pieces x 600 notes (instead of 100,000, 60 x 1,500)")
    parser.add_argument("--repeats", type=int, default=5,
                        help="timed rounds for softloc (best counts); mir_eval gets at most 2")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("results/benchmarks"),
                        help="folder for bench_metrics.csv and bench_metrics.md")
    args = parser.parse_args(argv)
    args.events = 20_000 if args.quick else 100_000
    args.pieces, args.notes = (12, 600) if args.quick else (60, 1500)
    print(f"numpy {np.__version__}, mir_eval {mir_eval.__version__}, tolerance {TOLERANCE} s")
    rng = np.random.default_rng(args.seed)
    rows = single_class_rows(args, rng) + batch_rows(args, rng)

    write_tables(rows, args.out, "bench_metrics")


if __name__ == "__main__":
    main()
