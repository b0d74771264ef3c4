"""The runner's two errors: a sweep that cannot start (:class:`SweepError`) and a run that
failed (:class:`RunFailedError`)."""

from __future__ import annotations

from .runs import RunSpec

__all__ = ["SweepError", "RunFailedError"]


class SweepError(ValueError):
    """A sweep that cannot start or a results folder that cannot be read as asked.

    Raised before any run starts (or by the read-only :func:`read_results`): an output folder
    that already holds results, a folder of another configuration, a damaged results file.
    """


class RunFailedError(RuntimeError):
    """``run_one`` raised (or returned something that is not a JSON row) for ``spec``.

    Rows finished before the failure stay in ``results.jsonl``; the sweep can be resumed.
    """

    def __init__(self, spec: RunSpec, message: str) -> None:
        super().__init__(message)
        self.spec = spec
