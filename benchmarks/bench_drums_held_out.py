"""The drum detector on a drum kit it never heard: generated grooves rendered on another
General-MIDI soundfont's kit, per-class onset F1 at 50 ms (mir_eval.transcription's matching,
mean over grooves, as the paper's Table 5).

    python benchmarks/bench_drums_held_out.py                      # the shipped detector
    python benchmarks/bench_drums_held_out.py --model drums.pt --soundfont GMbank
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from _tables import write_tables
from bench_detectors import check_held_out, record_held_out
from softloc.data.music import DrumConfig, render_drum_dataset
from softloc.detector import load_detector, load_pretrained
from softloc.metrics import corpus_f_measure

TOLERANCE = 0.05


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", type=Path, default=None,
                        help="drum checkpoint (default: the detector shipped with softloc)")
    parser.add_argument("--soundfont", default="FluidR3",
                        help="held-out kit: a name of softloc.data.music.SOUNDFONTS")
    parser.add_argument("--grooves", type=int, default=12, help="grooves rendered")
    parser.add_argument("--seed", type=int, default=1000,
                        help="groove generation (the training data used seed 0)")
    parser.add_argument("--out", type=Path, default=Path("results/benchmarks"),
                        help="folder for bench_drums_held_out.csv and .md")
    parser.add_argument("--record", action="store_true",
                        help="write the scores into the --model checkpoint's metadata "
                        "(training.held_out_<KIT>)")
    args = parser.parse_args(argv)
    if args.record and args.model is None:
        parser.error("--record needs --model")
    detector = load_pretrained("drums") if args.model is None else load_detector(
        args.model, experiment="drums")
    check_held_out(parser, detector.training, args.soundfont)
    data = render_drum_dataset(DrumConfig(num_grooves=args.grooves, soundfonts=(args.soundfont,),
                                          seed=args.seed))
    pieces = data.pieces
    if tuple(pieces[0].class_names) != tuple(detector.class_names):
        raise SystemExit(f"the detector's classes {detector.class_names} are not the data's "
                         f"{pieces[0].class_names}")
    minutes = sum(p.duration for p in pieces) / 60
    start = time.perf_counter()
    found = [detector.detect(p.audio, p.sample_rate).events() for p in pieces]
    seconds = time.perf_counter() - start
    scores = corpus_f_measure([p.events() for p in pieces], found, tolerance=TOLERANCE,
                              decimals=4)
    row = {"detector": str(args.model or "shipped drums detector"), "kit": args.soundfont,
           "grooves": len(pieces), "minutes": minutes, "F1": scores.file_mean.f1,
           **{f"{name} F1": s.f1 for name, s in zip(detector.class_names,
                                                    scores.per_class_file_mean)},
           "precision": scores.file_mean.precision, "recall": scores.file_mean.recall,
           "x real time": minutes * 60 / seconds}
    print(" | ".join(f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}"
                     for k, v in row.items()), flush=True)
    write_tables([row], args.out, "bench_drums_held_out")
    if args.record:
        record_held_out(args.model, {
            "benchmark": f"benchmarks/bench_drums_held_out.py: {len(pieces)} grooves (seed "
                         f"{args.seed}) on {args.soundfont}, a kit never heard in training",
            **{key: row[key] for key in row if key.endswith("F1") or key in ("precision",
                                                                             "recall")}},
            key=f"held_out_{args.soundfont}")
        print(f"recorded the held-out scores in {args.model}")


if __name__ == "__main__":
    main()
