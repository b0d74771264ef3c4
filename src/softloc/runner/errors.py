"""The runner's two errors: a sweep that cannot start (:class:`SweepError`) and a run that
failed (:class:`RunFailedError`)."""

from __future__ import annotations

from .runs import RunSpec

__all__ = ["SweepError", "RunFailedError"]


class SweepError(ValueError):
    """A sweep that cannot start or a results folder that cannot be read as asked.

    Raised before any run starts (or by the read-only :func:`read_results`): an output folder
    that already holds results, a folder of another configuration, a damaged results file.
    A ``ValueError``.

    Examples
    --------
    >>> import tempfile
    >>> from softloc.runner import read_results
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     try:
    ...         read_results(folder)
    ...     except SweepError as error:
    ...         print(str(error).split("(")[1])
    sweep.json is missing); run 'softloc bench' first
    """


class RunFailedError(RuntimeError):
    """``run_one`` raised (or returned something that is not a JSON row) for ``spec``.

    Rows finished before the failure stay in ``results.jsonl``; the sweep can be resumed.
    ``spec`` is the :class:`RunSpec` of the failed run.

    Examples
    --------
    >>> import tempfile
    >>> from dataclasses import dataclass
    >>> from softloc.runner import SweepExperiment, read_results, run_sweep
    >>> @dataclass(frozen=True)
    ... class Config:
    ...     offset: float = 0.5
    >>> def run_one(params, config):  # fails on seed 1
    ...     if params["seed"] == 1:
    ...         raise ValueError("diverged")
    ...     return {"score": config.offset}
    >>> toy = SweepExperiment(name="toy", summary="a toy sweep", config_type=Config,
    ...                       run_one=run_one, axes={"loss": ["a", "b"], "noise_level": [0, 2],
    ...                       "seed": [0, 1]}, score="score", distribution_axis=None)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     try:
    ...         run_sweep(toy, out_dir=folder, workers=1, progress=False)
    ...     except RunFailedError as error:
    ...         print(error.spec.describe())
    ...         print(str(error).split(": ", 1)[1].split(".")[0])
    ...     finished = read_results(folder).finished  # the run before it is saved
    run 1 (loss=a, noise_level=0, seed=1)
    ValueError: diverged
    >>> finished
    1
    """

    def __init__(self, spec: RunSpec, message: str) -> None:
        super().__init__(message)
        self.spec = spec
