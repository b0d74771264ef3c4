"""The ``softloc`` command.

``softloc demo`` runs the quick wearable-sensor sweep (``softloc bench sensor --quick`` on its
built-in defaults, :mod:`softloc.experiments.sensor`, a few minutes on 2 cores): CE, LS|CE,
LS|SE and SoftLoc trained on misaligned puff labels, and prints the F1 per loss x noise level
with diagnostics (the oracle F1 at the best threshold on the test set, predicted / true event
counts) and where the PNG, CSV and Markdown files are. Exit status 0, 1 when a run fails, 2 for
bad options.

``softloc theory`` runs the paper's localization-learning example
(:mod:`softloc.experiments.localization`): it trains one 1-D filter per loss, prints a table
comparing each learned filter with the paper's theory and writes a PNG, two CSV files and a
Markdown table. The exit status is 0 when every learned filter is within the tolerance of its
theory, 1 when one is not, and 2 for bad options.

``softloc bench EXPERIMENT`` sweeps a registered sweep experiment over losses x noise levels x
noise distributions x seeds (:mod:`softloc.runner`), appending one JSON line per finished run to
``DIR/results.jsonl`` (resumable), then prints and writes the tables (``summary.csv``,
``summary.md``) and ``scores.png``. ``softloc report DIR`` rebuilds the tables of a finished or
partial sweep. Exit status: 0 on success, 1 when a run fails (finished runs stay saved), 2 for
bad options or a results folder that cannot be used as asked, 130 when interrupted.

``softloc train EXPERIMENT --save model.pt`` trains one model of a music experiment (``piano``,
``drums``; its threshold picked on the clean validation works) or of the golf experiment (its
held-out fold scored) on the rendered data with a chosen loss and label noise and writes a
self-describing detector checkpoint (:mod:`softloc.detector`). ``softloc detect model.pt
INPUT ... --out events.csv`` applies it: a music detector to audio files (WAV, FLAC, OGG, MP3;
any sample rate, mono or stereo, any length), one row per event (file, time in seconds, class,
score; ``--out -`` prints them, ``--midi DIR`` also writes MIDI onsets); a golf detector to
video files or folders of frames, 8 rows per input (file, event, frame, time in seconds,
score). Exit status 0, 1 when an input was skipped (the others' rows are written), 2 for bad
options or an unusable checkpoint.
"""

from __future__ import annotations

import argparse
import math
import sys
import textwrap
from collections.abc import Callable, Sequence
from pathlib import Path

from . import __version__
from .experiments import EXPERIMENTS, sweep_experiments
from .experiments.localization import NOISE_KINDS
from .runner import (
    EXECUTORS,
    RunFailedError,
    SweepError,
    SweepExperiment,
    default_workers,
    prepare_sweep,
    read_results,
    score_tables,
    write_report,
)

__all__ = ["main", "build_parser"]

THEORY_EXPERIMENT = "localization"
DEFAULT_OUT = Path("results") / THEORY_EXPERIMENT
DEMO_EXPERIMENT = "sensor"
RESULTS_ROOT = Path("results")
DEMO_OUT = RESULTS_ROOT / "sensor-demo"
#: Result columns printed by ``softloc demo`` after the F1 table, as diagnostics.
DEMO_DIAGNOSTICS = ("oracle_f1", "count_ratio", "ambiguous_share", "f1_shift_m1")


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows the defaults that are values (not None / False) and keeps the lines of texts.

    Each line of a description or epilog is wrapped on its own; continuation lines of an indented
    line get two more spaces, so the list of experiments stays readable.
    """

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default is None or action.default is False:
            return action.help
        return super()._get_help_string(action)

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        lines = []
        for line in text.splitlines():
            depth = len(line) - len(line.lstrip())
            lead = indent + " " * depth
            lines.append(textwrap.fill(line.strip(), width, initial_indent=lead,
                                       subsequent_indent=lead + "  " * (depth > 0)))
        return "\n".join(lines)


def _whole_number(minimum: int) -> Callable[[str], int]:
    """An argparse ``type``: a whole number >= ``minimum``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"expected a number >= {minimum}, got {value}")
        return value

    return parse


def _finite_float(minimum: float, *, strict: bool) -> Callable[[str], float]:
    """An argparse ``type``: a finite number > ``minimum`` (``strict``) or >= ``minimum``."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        above = value > minimum if strict else value >= minimum
        if not (above and value < float("inf")):
            raise argparse.ArgumentTypeError(
                f"expected a finite number {'>' if strict else '>='} {minimum:g}, got {text}")
        return value

    return parse


_positive_float = _finite_float(0.0, strict=True)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``softloc`` and its sub-commands."""
    parser = argparse.ArgumentParser(
        prog="softloc",
        description=(
            "Precise temporal point-event detection from misaligned labels "
            "(SoftLoc, AAAI 2021) for PyTorch."
        ),
        epilog="Run 'softloc COMMAND --help' for the options of a command and their units.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    _add_demo(commands)
    experiment = EXPERIMENTS[THEORY_EXPERIMENT]
    defaults = experiment.config_type()
    demo = commands.add_parser(
        "theory",
        help="run the localization-learning example and compare each loss with the paper",
        description=(
            f"Run {experiment.summary}. Prints a table (loss, theory, max |p* - theory|, "
            "p*(0), peak offset, pass) and writes filters.png, summary.csv, filters.csv and "
            "summary.md. Exit status: 0 if every loss matches its theory within the "
            "tolerance, 1 otherwise."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    demo.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, metavar="DIR",
        help="folder for the PNG, CSV and Markdown outputs (created if missing)",
    )
    demo.add_argument(
        "--seed", type=_whole_number(0), default=0, metavar="N",
        help="seed of the torch.Generator that draws the label shifts",
    )
    demo.add_argument(
        "--steps", type=_whole_number(1), default=defaults.steps, metavar="N",
        help="Adam steps per loss (about 1 ms each on one CPU core); fewer run faster but "
        "leave the filters less converged",
    )
    demo.add_argument(
        "--noise", choices=NOISE_KINDS, default=defaults.noise,
        help="label misalignment E: a normal rounded to whole frames, or +-delta frames",
    )
    demo.add_argument(
        "--noise-scale", type=_positive_float, default=defaults.noise_scale, metavar="FRAMES",
        help="standard deviation of the rounded normal, or delta (a whole number) for binary",
    )
    demo.add_argument(
        "--sll-softness", type=_positive_float, nargs="+", default=list(defaults.sll_softness),
        metavar="FRAMES",
        help="softness (Gaussian standard deviation) of each L_SLL filter to train",
    )
    demo.add_argument(
        "--quiet", action="store_true",
        help="no progress bars (the table and the output paths are still printed)",
    )
    demo.set_defaults(handler=lambda args: _theory(args, demo))
    _add_bench(commands)
    _add_report(commands)
    _add_train(commands)
    _add_detect(commands)
    return parser


def _label(value: object) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _describe_values(values: Sequence) -> str:
    return ", ".join(_label(value) for value in values)


def _experiments_epilog() -> str:
    """The registered sweep experiments with their axes (full and --quick) and score."""
    experiments = sweep_experiments()
    if not experiments:
        return "registered sweep experiments: none yet."
    lines = ["registered sweep experiments:"]
    for name, experiment in experiments.items():
        lines.append(f"  {name}: {experiment.summary}")
        for kind, axes in [("full", experiment.axes), ("--quick", experiment.quick_axes)]:
            described = []
            for axis, values in axes.items():
                unit = f" ({experiment.noise_unit})" if axis == experiment.noise_axis else ""
                described.append(f"{axis}{unit} = {_describe_values(values)}")
            lines.append(f"    {kind}: " + "; ".join(described))
        if experiment.presets:
            lines.append(f"    presets (--preset): {', '.join(experiment.presets)}")
        lines.append(f"    score: {experiment.score}; losses are '{experiment.loss_axis}', "
                     f"noise levels '{experiment.noise_axis}' in {experiment.noise_unit}"
                     + (f", distributions '{experiment.distribution_axis}'"
                        if experiment.distribution_axis else ""))
    return "\n".join(lines)


def _sweep_experiment(text: str) -> SweepExperiment:
    """An argparse ``type``: the name of a registered sweep experiment."""
    experiments = sweep_experiments()
    valid = ", ".join(experiments) or "none registered yet"
    if text in experiments:
        return experiments[text]
    if text in EXPERIMENTS:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a sweep experiment (run it with 'softloc theory'); "
            f"sweep experiments: {valid}"
        )
    raise argparse.ArgumentTypeError(f"unknown experiment {text!r}; sweep experiments: {valid}")


def _names(text: str) -> list[str]:
    """An argparse ``type``: comma-separated names (``'a,b'``)."""
    names = [name.strip() for name in text.split(",")]
    if not all(names):
        raise argparse.ArgumentTypeError(f"expected comma-separated names, got {text!r}")
    return names


def _noise_levels(text: str) -> list[float]:
    """An argparse ``type``: comma-separated finite noise levels >= 0."""
    levels = []
    for item in text.split(","):
        try:
            level = float(item)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a noise level, got {item!r}") from None
        if not (math.isfinite(level) and level >= 0.0):
            raise argparse.ArgumentTypeError(
                f"noise levels must be finite numbers >= 0, got {item.strip()}"
            )
        levels.append(level)
    return levels


def _add_bench(commands: argparse._SubParsersAction) -> None:
    bench = commands.add_parser(
        "bench",
        help="sweep a registered experiment over losses x noise levels x distributions x seeds "
        "and tabulate mean (std) scores",
        description=(
            "Run every point of a sweep experiment's axes (losses x noise levels x noise "
            "distributions x seeds x folds), one JSON line per finished run in "
            "DIR/results.jsonl, then print one table per noise distribution (rows: losses, "
            "columns: noise levels, cells: mean (std) of the score over seeds and folds) and "
            "write summary.csv, summary.md and scores.png. All options are checked before "
            "anything runs. Exit status: 0 done, 1 a run failed (finished runs stay saved; "
            "continue with --resume), 2 bad options or a results folder that cannot be used "
            "as asked, 130 interrupted."
        ),
        epilog=_experiments_epilog(),
        formatter_class=_HelpFormatter,
    )
    bench.add_argument(
        "experiment", type=_sweep_experiment, metavar="EXPERIMENT",
        help="name of a registered sweep experiment (listed below)",
    )
    configuration = bench.add_mutually_exclusive_group()
    configuration.add_argument(
        "--quick", action="store_true",
        help="the experiment's small axes and configuration: a check that runs in minutes, "
        "not the paper's numbers",
    )
    configuration.add_argument(
        "--preset", default=None, metavar="NAME",
        help="a named configuration of the experiment instead of its default (listed below; "
        "e.g. piano: 'paper', the authors' features, network and 160,000 steps, for a GPU)",
    )
    bench.add_argument(
        "--out", type=Path, default=None, metavar="DIR",
        help=f"results folder (default: {RESULTS_ROOT}/EXPERIMENT, or "
        f"{RESULTS_ROOT}/EXPERIMENT-quick with --quick)",
    )
    bench.add_argument(
        "--executor", choices=EXECUTORS, default="local",
        help="where runs execute: 'local' (this machine: a process pool, or this process "
        "with --workers 1) or 'ray' (Ray tasks; needs pip install 'softloc[ray]')",
    )
    bench.add_argument(
        "--workers", type=_whole_number(1), default=default_workers(), metavar="N",
        help="runs at a time: processes of the local pool (1 = in this process, no pool) or "
        "CPUs of the local Ray instance; each run uses one CPU thread",
    )
    bench.add_argument(
        "--address", default=None, metavar="ADDR",
        help="address of a running Ray cluster for ray.init(address=ADDR), e.g. 'auto' or "
        "'ray://HOST:10001' (only with --executor ray; its CPUs then set the parallelism). "
        "Default: start a local Ray instance with --workers CPUs",
    )
    existing = bench.add_mutually_exclusive_group()
    existing.add_argument(
        "--resume", action="store_true",
        help="continue the sweep in DIR: skip the runs already in results.jsonl (needs the "
        "same experiment and configuration; the axes may grow, e.g. more --losses or --seeds, "
        "never lose a value)",
    )
    existing.add_argument(
        "--force", action="store_true",
        help="delete DIR's results (results.jsonl, sweep.json, summaries, plot) and start over",
    )
    bench.add_argument(
        "--seeds", type=_whole_number(1), default=None, metavar="N",
        help="seeds 0..N-1 instead of the experiment's seeds (a count, not a seed value)",
    )
    bench.add_argument(
        "--losses", type=_names, nargs="+", default=None, metavar="LOSS[,LOSS]",
        help="only these losses (comma- or space-separated; the valid names are the "
        "experiment's losses listed below)",
    )
    bench.add_argument(
        "--noise-levels", type=_noise_levels, nargs="+", default=None, metavar="LEVEL",
        help="noise levels to sweep instead of the experiment's: numbers >= 0 in the "
        "experiment's noise unit (frames or seconds; listed below), comma- or space-separated",
    )
    bench.add_argument(
        "--distributions", type=_names, nargs="+", default=None, metavar="NAME[,NAME]",
        help="only these noise distributions (comma- or space-separated; listed below)",
    )
    bench.add_argument(
        "--score", default=None, metavar="COLUMN",
        help="result column the tables average (default: the experiment's score)",
    )
    bench.add_argument(
        "--device", default=None, metavar="DEVICE",
        help="where each run trains: cpu, cuda, cuda:N or auto (CUDA when available); "
        "default: the CPU. Not part of the configuration: a sweep may resume on another device",
    )
    bench.add_argument(
        "--quiet", action="store_true",
        help="no progress bar (the tables and the output paths are still printed)",
    )
    bench.set_defaults(handler=lambda args: _bench(args, bench))


def _add_report(commands: argparse._SubParsersAction) -> None:
    report = commands.add_parser(
        "report",
        help="print and write the tables and plot of a finished or partial sweep",
        description=(
            "Read DIR/sweep.json and DIR/results.jsonl of a finished or partial 'softloc "
            "bench' sweep (a torn last line is ignored; nothing in results.jsonl changes), "
            "print one table per noise distribution (rows: losses, columns: noise levels, "
            "cells: mean (std) of the score; * marks cells with fewer runs than planned) and "
            "write summary.csv, summary.md and scores.png into DIR."
        ),
        formatter_class=_HelpFormatter,
    )
    report.add_argument("dir", type=Path, metavar="DIR", help="results folder of a sweep")
    report.add_argument(
        "--score", default=None, metavar="COLUMN",
        help="result column to average (default: the score the sweep was run with)",
    )
    report.set_defaults(handler=lambda args: _report(args, report))


def _pick(requested: list[list[str]], choices: Sequence, option: str,
          parser: argparse.ArgumentParser) -> tuple:
    """The values of ``choices`` named in ``requested`` (flattened), in the requested order."""
    by_label = {_label(value): value for value in choices}
    names = [name for group in requested for name in group]
    unknown = [name for name in names if name not in by_label]
    if unknown:
        parser.error(f"{option}: unknown {', '.join(map(repr, unknown))}; valid choices: "
                     f"{', '.join(by_label)}")
    if len(set(names)) != len(names):
        parser.error(f"{option}: a name is given twice in {names}")
    return tuple(by_label[name] for name in names)


def _sweep_axes(args: argparse.Namespace, experiment: SweepExperiment,
                parser: argparse.ArgumentParser) -> dict[str, tuple]:
    """The experiment's axes (full or --quick) with the command line's replacements."""
    axes = experiment.sweep_axes(args.quick)
    if args.losses is not None:
        axes[experiment.loss_axis] = _pick(
            args.losses, experiment.choices(experiment.loss_axis), "--losses", parser)
    if args.distributions is not None:
        if experiment.distribution_axis is None:
            parser.error(f"--distributions: experiment {experiment.name!r} has no noise "
                         f"distribution axis")
        axes[experiment.distribution_axis] = _pick(
            args.distributions, experiment.choices(experiment.distribution_axis),
            "--distributions", parser)
    if args.noise_levels is not None:
        levels = [level for group in args.noise_levels for level in group]
        known = experiment.choices(experiment.noise_axis)
        if all(isinstance(v, int) and not isinstance(v, bool) for v in known):
            fractional = [level for level in levels if not level.is_integer()]
            if fractional:
                parser.error(f"--noise-levels: experiment {experiment.name!r} takes whole noise "
                             f"levels ({experiment.noise_unit}), got "
                             f"{_describe_values(fractional)}")
            levels = [int(level) for level in levels]
        if len(set(levels)) != len(levels):
            parser.error(f"--noise-levels: a level is given twice in {_describe_values(levels)}")
        axes[experiment.noise_axis] = tuple(levels)
    if args.seeds is not None:
        if experiment.seed_axis is None:
            parser.error(f"--seeds: experiment {experiment.name!r} has no seed axis")
        axes[experiment.seed_axis] = tuple(range(args.seeds))
    return axes


def _bench(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """Validate everything, then run the sweep and print its tables."""
    experiment: SweepExperiment = args.experiment
    if args.address is not None and args.executor != "ray":
        parser.error("--address needs --executor ray")
    axes = _sweep_axes(args, experiment, parser)
    out_dir = args.out
    if out_dir is None:
        suffix = "-quick" if args.quick else f"-{args.preset}" if args.preset else ""
        out_dir = RESULTS_ROOT / (experiment.name + suffix)
    try:
        config = experiment.config(quick=args.quick, preset=args.preset)
        sweep = prepare_sweep(
            experiment, out_dir=out_dir, config=config, axes=axes, quick=args.quick,
            executor=args.executor, workers=args.workers, address=args.address,
            resume=args.resume, force=args.force, score=args.score, device=args.device,
        )
    except (SweepError, ValueError, TypeError, ImportError) as error:
        parser.error(str(error))
    where = "" if sweep.device is None else f", device {sweep.device}"
    print(f"{experiment.name}: {len(sweep.runs)} runs (config {sweep.config_hash}) into "
          f"{out_dir}, executor {args.executor}, {args.workers} worker(s){where}", flush=True)
    try:
        result = sweep.run(progress=not args.quiet)
    except SweepError as error:
        print(f"softloc bench: error: {error}", file=sys.stderr)
        return 2
    except RunFailedError as error:
        print(f"softloc bench: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"softloc bench: interrupted; the finished runs are saved in {out_dir}; continue "
              f"with --resume", file=sys.stderr)
        return 130
    print(result.describe())
    print()
    print(result.format_tables())
    for path in result.files.values():
        print(f"wrote {path}")
    return 0


def _report(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """Print and write the tables of the sweep in ``args.dir``."""
    try:
        results = read_results(args.dir)
        tables = score_tables(results, args.score)
    except SweepError as error:
        parser.error(str(error))
    experiment = EXPERIMENTS.get(results.manifest.experiment)
    files = write_report(results, tables=tables,
                         experiment=experiment if isinstance(experiment, SweepExperiment) else None)
    print(results.describe())
    print()
    print("\n\n".join(table.format_text() for table in tables))
    for path in files.values():
        print(f"wrote {path}")
    return 0


def _add_demo(commands: argparse._SubParsersAction) -> None:
    demo = commands.add_parser(
        "demo",
        help="run the quick wearable-sensor sweep (CE, LS|CE, LS|SE, SoftLoc on misaligned "
        "puff labels) and print the comparison",
        description=(
            "Run 'softloc bench sensor --quick' on its built-in defaults: the paper's "
            "puff-detection experiment on synthetic wearable-sensor data, each loss trained on "
            "labels misaligned by a rounded normal of sigma = 0, 2, 4 steps, F1 at zero "
            "tolerance on one held-out subject (1 seed, 5,000 iterations; a few minutes on 2 "
            "cores). "
            "Prints the F1 table (loss x noise level) and, as diagnostics, the oracle F1 (best "
            "threshold chosen on the test set), predicted / true event counts, the share of "
            "ambiguous outputs (0.05 < p < 0.5) and the F1 of predictions moved one step "
            "earlier; writes results.jsonl, summary.csv, summary.md, diagnostics.md and "
            "scores.png. Runs already in DIR are reused. Exit status: 0 done, 1 a run failed, "
            "2 bad options."
        ),
        formatter_class=_HelpFormatter,
    )
    demo.add_argument("--out", type=Path, default=DEMO_OUT, metavar="DIR",
                      help="results folder (created if missing)")
    demo.add_argument("--workers", type=_whole_number(1), default=default_workers(),
                      metavar="N", help="runs at a time (1 = in this process)")
    demo.add_argument("--fresh", action="store_true",
                      help="delete DIR's results and run every point again")
    demo.add_argument("--quiet", action="store_true", help="no progress bar")
    demo.set_defaults(handler=lambda args: _demo(args, demo))


def _demo(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """The quick sensor sweep with its diagnostics."""
    experiment = sweep_experiments()[DEMO_EXPERIMENT]
    out_dir = args.out
    resume = (out_dir / "results.jsonl").exists() and not args.fresh
    try:
        sweep = prepare_sweep(experiment, out_dir=out_dir, quick=True, workers=args.workers,
                              resume=resume, force=args.fresh)
    except (SweepError, ValueError, TypeError) as error:
        parser.error(f"{error} (or pass --fresh)" if resume else str(error))
    print(f"{experiment.name}: {len(sweep.runs)} runs (config {sweep.config_hash}) into "
          f"{out_dir}, {args.workers} worker(s)", flush=True)
    try:
        result = sweep.run(progress=not args.quiet)
    except RunFailedError as error:
        print(f"softloc demo: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"softloc demo: interrupted; the finished runs are saved in {out_dir}",
              file=sys.stderr)
        return 130
    results = read_results(out_dir)
    diagnostics = [table for column in DEMO_DIAGNOSTICS
                   for table in score_tables(results, column)]
    counts = {}
    for row in results.rows:
        key = (row["params"]["loss"], row["params"]["noise_level"])
        predicted, true = counts.get(key, (0, 0))
        counts[key] = (predicted + row["result"]["predicted_events"],
                       true + row["result"]["true_events"])
    count_lines = ["predicted / true events (summed over seeds and folds)",
                   "loss \\ noise level  " + "  ".join(
                       f"{level:>9}" for level in sweep.axes[experiment.noise_axis])]
    for loss in sweep.axes[experiment.loss_axis]:
        cells = [counts.get((loss, level)) for level in sweep.axes[experiment.noise_axis]]
        count_lines.append(f"{loss:<18}  " + "  ".join(
            f"{'-':>9}" if c is None else f"{f'{c[0]}/{c[1]}':>9}" for c in cells))
    diagnostics_text = "\n\n".join(
        [table.format_text() for table in diagnostics] + ["\n".join(count_lines)])
    diagnostics_path = out_dir / "diagnostics.md"
    diagnostics_path.write_text(
        "\n\n".join(table.to_markdown() for table in diagnostics) + "\n\n```\n"
        + "\n".join(count_lines) + "\n```\n", encoding="utf-8")
    print(result.describe())
    print()
    print(result.format_tables())
    print()
    print("diagnostics (oracle_f1: best threshold chosen on the test set, not a score; "
          "count_ratio: predicted / true events; ambiguous_share: steps with 0.05 < p < 0.5; "
          "f1_shift_m1: F1 of predictions moved one step earlier)")
    print()
    print(diagnostics_text)
    for path in [*result.files.values(), str(diagnostics_path)]:
        print(f"wrote {path}")
    return 0


def _theory(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """Run the localization example; ``parser`` reports invalid combinations of options."""
    experiment = EXPERIMENTS[THEORY_EXPERIMENT]
    try:
        config = experiment.config_type(
            steps=args.steps, noise=args.noise, noise_scale=args.noise_scale,
            sll_softness=tuple(args.sll_softness),
        )
    except (TypeError, ValueError) as error:
        parser.error(str(error))
    result = experiment.run(config, seed=args.seed, out_dir=args.out, progress=not args.quiet)
    print(result.describe())
    print(result.format_table())
    for path in result.files.values():
        print(f"wrote {path}")
    return 0 if result.passed else 1


TRAIN_EXPERIMENTS = ("piano", "drums", "golf")
#: The experiments whose ``softloc train`` holds out a fold (``--fold``).
FOLD_EXPERIMENTS = ("golf",)


def _train_losses(name: str) -> tuple[str, ...]:
    """The losses ``softloc train NAME`` accepts: those of the experiment's sweep."""
    experiment = EXPERIMENTS[name]
    return tuple(experiment.axes[experiment.loss_axis])


def _add_train(commands: argparse._SubParsersAction) -> None:
    train = commands.add_parser(
        "train",
        help="train one detector (piano, drums or golf) and save it for 'softloc detect'",
        description=(
            "Train one model of an experiment on its rendered data with LOSS on event labels "
            "misaligned by a normal of standard deviation NOISE, and save a self-describing "
            "checkpoint (architecture, input settings, class names, decoder).\n"
            "piano (88 keys) and drums (HH, KD, SD): audio (cached under "
            "~/.cache/softloc/music), NOISE in seconds; the decoding threshold is chosen on "
            "the clean validation works and the test scores are printed.\n"
            "golf (the 8 swing events): rendered swing videos, NOISE in frames; the clips of "
            "fold K are held out and its PCE (GolfDB's tolerance) is printed.\n"
            "Training resumes from SAVE.train-state if interrupted. Exit status: 0 done, 2 bad "
            "options."
        ),
        formatter_class=_HelpFormatter,
    )
    train.add_argument("experiment", choices=TRAIN_EXPERIMENTS, metavar="EXPERIMENT",
                       help=f"one of {', '.join(TRAIN_EXPERIMENTS)}")
    train.add_argument("--save", type=Path, required=True, metavar="FILE",
                       help="checkpoint to write (e.g. model.pt)")
    train.add_argument("--loss", default="softloc",
                       help="training loss, one of the experiment's: " + "; ".join(
                           f"{name}: {', '.join(_train_losses(name))}"
                           for name in TRAIN_EXPERIMENTS))
    train.add_argument("--noise", type=_finite_float(0.0, strict=False), default=0.0,
                       metavar="SIGMA",
                       help="standard deviation of the training-label misalignment: seconds "
                       "for piano and drums, frames for golf")
    train.add_argument("--seed", type=_whole_number(0), default=0, metavar="N",
                       help="seed of the noise, initialisation and batches")
    train.add_argument("--fold", type=_whole_number(0), default=None, metavar="K",
                       help="golf only: the fold (0-3) held out of training and scored "
                       "(default 0)")
    configuration = train.add_mutually_exclusive_group()
    configuration.add_argument("--quick", action="store_true",
                               help="the experiment's --quick configuration (fewer steps)")
    configuration.add_argument(
        "--preset", default=None, metavar="NAME",
        help="a named configuration: " + "; ".join(
            f"{name}: {', '.join(EXPERIMENTS[name].presets) or 'none'}"
            for name in TRAIN_EXPERIMENTS) + ". 'release' is what the shipped detectors "
        "were trained with; piano 'paper' is the authors' set-up at their scale (a GPU job)")
    train.add_argument("--device", default="cpu", metavar="DEVICE",
                       help="where to train: cpu (default), cuda, cuda:N or auto (CUDA when "
                       "available)")
    train.add_argument("--iterations", type=_whole_number(1), default=None, metavar="N",
                       help="optimiser steps (default: the configuration's)")
    train.add_argument("--quiet", action="store_true", help="no progress bar")
    train.set_defaults(handler=lambda args: _train(args, train))


def _train(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from dataclasses import replace

    from .detector import save_detector
    from .training import resolve_device

    losses = _train_losses(args.experiment)
    if args.loss not in losses:
        parser.error(f"--loss: the {args.experiment} experiment's losses are "
                     f"{', '.join(losses)}, got {args.loss!r}")
    if args.fold is not None and args.experiment not in FOLD_EXPERIMENTS:
        parser.error(f"--fold applies to {', '.join(FOLD_EXPERIMENTS)} only; {args.experiment} "
                     f"has fixed test works")
    if args.fold is not None and args.fold > 3:
        parser.error(f"--fold must be a fold in 0..3, got {args.fold}")
    try:
        config = EXPERIMENTS[args.experiment].config(quick=args.quick, preset=args.preset)
        args.device = str(resolve_device(args.device))
    except (TypeError, ValueError) as error:
        parser.error(str(error))
    if args.iterations is not None:
        config = replace(config, iterations=args.iterations)
    state = args.save.with_name(args.save.name + ".train-state")
    run = _train_golf if args.experiment in FOLD_EXPERIMENTS else _train_music
    trained, report = run(args, config, state)
    save_detector(args.save, trained, experiment=args.experiment)
    state.unlink(missing_ok=True)
    print(report)
    print(f"wrote {args.save}")
    return 0


def _train_music(args: argparse.Namespace, config, state: Path) -> tuple[object, str]:
    """Train and score a music model; returns it and the lines to print."""
    from .experiments.music import evaluate_music_model, split_pieces, train_music_model

    trained = train_music_model(config, loss=args.loss, noise_level=args.noise, seed=args.seed,
                                progress=not args.quiet, checkpoint_path=state,
                                device=args.device)
    row = evaluate_music_model(trained, split_pieces(config).test, config)
    trained.info["test_scores"] = {key: row[key] for key in (
        "f1", "precision", "recall", "f1_no_offset", "count_ratio", "test_pieces")}
    return trained, (
        f"{args.experiment}: loss {args.loss}, noise {args.noise:g} s, "
        f"{config.iterations} steps; threshold {trained.decoder.threshold:g}, offset "
        f"{trained.decoder.offset * 1e3:+g} ms (validation F1 "
        f"{trained.info['validation_f1']:.3f})\n"
        f"test F1 {row['f1']:.3f} (precision {row['precision']:.3f}, recall "
        f"{row['recall']:.3f}; without the offset {row['f1_no_offset']:.3f}) on "
        f"{row['test_pieces']} pieces; decoding: {row['decode_rule']}")


def _train_golf(args: argparse.Namespace, config, state: Path) -> tuple[object, str]:
    """Train a golf model and score its held-out fold; returns it and the lines to print."""
    from .experiments.golf import evaluate_golf_model, held_out_clips, train_golf_model

    fold = 0 if args.fold is None else args.fold
    trained = train_golf_model(config, loss=args.loss, noise_level=args.noise, seed=args.seed,
                               fold=fold, progress=not args.quiet, checkpoint_path=state,
                               device=args.device)
    row = evaluate_golf_model(trained, held_out_clips(config, fold))
    trained.info["test_scores"] = {key: row[key] for key in (
        "pce", "pce_exact", "median_abs_error", "test_clips")}
    return trained, (
        f"golf: loss {args.loss}, noise {args.noise:g} frames, {config.iterations} steps, "
        f"fold {fold} held out\n"
        f"held-out PCE {row['pce']:.3f} (exact frame {row['pce_exact']:.3f}, median error "
        f"{row['median_abs_error']:g} frames) on {row['test_clips']} clips; decoding: per "
        f"event, the most probable frame")


def _add_detect(commands: argparse._SubParsersAction) -> None:
    from .detector import PRETRAINED

    detect = commands.add_parser(
        "detect",
        help="detect events in audio or video files with a checkpoint from 'softloc train'",
        description=(
            "Apply a detector and write a CSV table (to standard output by default). "
            "Without --model the piano-onset detector shipped with softloc is used "
            "(--pretrained drums: the drum one); --model takes a checkpoint of 'softloc train "
            "... --save' (the older form 'softloc detect MODEL.pt INPUT ...' still works).\n"
            "piano and drums detectors take audio files: WAV, FLAC, OGG (Vorbis, Opus), MP3 "
            "or any other format libsndfile reads, any sample rate, mono or multichannel "
            "(mixed down and resampled to the model's rate), processed in pieces with bounded "
            "memory whatever their length; one row per detected event: file, time (seconds "
            "from the start of the file), class, score (the model's probability at the "
            "event). --midi DIR also writes one MIDI file of the onsets per input.\n"
            "golf detectors take video files (read with OpenCV: pip install "
            "'softloc[video]') or folders of PNG / JPEG frames (in natural name order); frames "
            "of any size are resized to the model's; 8 rows per input, in event order: file, "
            "event, frame (0 = the first), time (frame / fps, seconds; empty when the frame "
            "rate is unknown), score (the probability at that frame).\n"
            "An input that cannot be used (missing, unreadable, silent, of the other kind) is "
            "reported on standard error and skipped; the others' rows are still written.\n"
            "Exit status: 0 done, 1 when an input was skipped, 2 bad options or an unusable "
            "checkpoint."
        ),
        formatter_class=_HelpFormatter,
    )
    detect.add_argument("inputs", type=Path, nargs="+", metavar="INPUT",
                        help="audio files (piano, drums), or video files or folders of frames "
                        "(golf)")
    which = detect.add_mutually_exclusive_group()
    which.add_argument("--model", type=Path, default=None, metavar="MODEL",
                       help="detector checkpoint written by 'softloc train ... --save'")
    which.add_argument("--pretrained", choices=PRETRAINED, default=None,
                       help="a detector shipped with softloc (default: piano, when no --model)")
    detect.add_argument("--out", default="-", metavar="CSV",
                        help="table to write ('-': standard output): columns "
                        "file,time,class,score (piano, drums) or file,event,frame,time,score "
                        "(golf); times in seconds")
    detect.add_argument("--midi", type=Path, default=None, metavar="DIR",
                        help="piano and drums: also write DIR/<input name>.mid per input, a "
                        "note per detected onset (needs pretty_midi: pip install "
                        "'softloc[music]')")
    detect.add_argument("--threshold", type=float, default=None, metavar="P",
                        help="piano and drums: probability a peak must reach (default: the "
                        "checkpoint's, chosen on validation works)")
    detect.add_argument("--fps", type=_positive_float, default=None, metavar="FPS",
                        help="golf: frames per second of the inputs, for times in seconds; "
                        "needed by folders of frames (else their times are left empty); "
                        "overrides a video file's own rate (default: the file's)")
    detect.set_defaults(handler=lambda args: _detect(args, detect))


def _detect(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    import csv

    from ._io import write_atomic
    from .detector import (
        DetectedEvents,
        DetectedVideoEvents,
        VideoDetector,
        load_detector,
        load_pretrained,
    )

    if args.threshold is not None and not 0.0 <= args.threshold <= 1.0:
        parser.error(f"--threshold must lie in [0, 1], got {args.threshold}")
    if args.model is None and args.pretrained is None and args.inputs[0].suffix == ".pt":
        args.model, args.inputs = args.inputs[0], args.inputs[1:]  # softloc detect MODEL.pt ...
        if not args.inputs:
            parser.error("no INPUT to detect events in")
    try:
        detector = (load_detector(args.model) if args.model is not None
                    else load_pretrained(args.pretrained or "piano"))
    except (FileNotFoundError, ValueError) as error:
        parser.error(str(error))
    video = isinstance(detector, VideoDetector)
    if video and args.threshold is not None:
        parser.error(f"--threshold applies to piano and drums detectors; a "
                     f"{detector.experiment!r} detector puts each event at its most probable "
                     f"frame")
    if video and args.midi is not None:
        parser.error(f"--midi applies to piano and drums detectors, not to a "
                     f"{detector.experiment!r} one")
    if not video and args.fps is not None:
        parser.error(f"--fps applies to golf (video) detectors; a {detector.experiment!r} "
                     f"detector's times come from the audio's sample rate")
    if args.midi is not None and args.midi.exists() and not args.midi.is_dir():
        parser.error(f"--midi must be a folder, got the file {args.midi}")
    to_stdout = args.out == "-"
    report = sys.stderr if to_stdout else sys.stdout
    options = {"fps": args.fps} if video else {"threshold": args.threshold,
                                               "progress": sys.stderr.isatty()}
    results, failed = [], 0
    for path in args.inputs:
        try:
            events = detector.detect_file(path, **options)
            if args.midi is not None:
                events.to_midi(args.midi / f"{path.stem}.mid")
        except (FileNotFoundError, ValueError, ImportError) as error:
            failed += 1
            print(f"softloc detect: skipped {path}: {error}", file=sys.stderr)
            continue
        results.append((path, events))
        unknown = video and events.fps is None
        print(f"{path}: {len(events)} events"
              + (" (no frame rate: times left empty; give --fps)" if unknown else ""),
              file=report)
    columns = (DetectedVideoEvents if video else DetectedEvents).COLUMNS

    def write(f) -> None:
        writer = csv.writer(f)
        writer.writerow(["file", *columns])
        for path, events in results:
            for row in events.rows():
                writer.writerow([str(path), *row])

    if to_stdout:
        write(sys.stdout)
    elif results:
        write_atomic(args.out, write)
        print(f"wrote {args.out}", file=report)
    if failed:
        print(f"softloc detect: {failed} of {len(args.inputs)} inputs skipped", file=sys.stderr)
    return 1 if failed else 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``softloc`` command (``argv`` defaults to ``sys.argv[1:]``).

    Returns the exit status; bad options exit with status 2 through ``argparse``.
    """
    args = build_parser().parse_args(argv)
    return args.handler(args)
