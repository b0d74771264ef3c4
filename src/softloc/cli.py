"""The ``softloc`` command.

``softloc demo`` runs the paper's localization-learning example
(:mod:`softloc.experiments.localization`) until richer experiments exist: it trains one 1-D
filter per loss, prints a table comparing each learned filter with the paper's theory and writes
a PNG, two CSV files and a Markdown table. The exit status is 0 when every learned filter is
within the tolerance of its theory, 1 when one is not, and 2 for bad options.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from pathlib import Path

from . import __version__
from .experiments import EXPERIMENTS
from .experiments.localization import NOISE_KINDS

__all__ = ["main", "build_parser"]

DEMO_EXPERIMENT = "localization"
DEFAULT_OUT = Path("results") / DEMO_EXPERIMENT


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


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not 0.0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"expected a finite number > 0, got {text}")
    return value


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

    experiment = EXPERIMENTS[DEMO_EXPERIMENT]
    defaults = experiment.config_type()
    demo = commands.add_parser(
        "demo",
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
    demo.set_defaults(handler=lambda args: _demo(args, demo))
    return parser


def _demo(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """Run the demo experiment; ``parser`` reports invalid combinations of options."""
    experiment = EXPERIMENTS[DEMO_EXPERIMENT]
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


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``softloc`` command (``argv`` defaults to ``sys.argv[1:]``).

    Returns the exit status; bad options exit with status 2 through ``argparse``.
    """
    args = build_parser().parse_args(argv)
    return args.handler(args)
