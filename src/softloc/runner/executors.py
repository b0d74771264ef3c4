"""The executors: runs in this process, in a process pool or as Ray tasks (imported lazily),
each with one torch intra-op thread (:func:`_call`, sent to the workers by reference)."""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import pickle
import sys
import time
from collections.abc import Callable
from concurrent.futures import CancelledError, ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any

from .errors import RunFailedError
from .experiment import SweepExperiment
from .runs import RunSpec
from .store import RESULTS_FILE

__all__ = ["EXECUTORS", "default_workers"]

EXECUTORS = ("local", "ray")
"""Where runs go: ``'local'`` (this process or a process pool) or ``'ray'`` (Ray tasks)."""


def default_workers() -> int:
    """The number of CPUs this process may run on (at least 1).

    The default ``workers`` of :func:`prepare_sweep`.

    Examples
    --------
    >>> import os
    >>> workers = default_workers()
    >>> 1 <= workers <= (os.cpu_count() or 1)
    True
    """
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def _call(run_one: Callable[..., Any], params: dict, config: Any,
          progress: bool | None = None, device: str | None = None) -> tuple[Any, float]:
    """Run one point with one torch intra-op thread; returns ``(result, seconds)``.

    ``progress`` and ``device`` are passed on to ``run_one`` unless ``None``."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    options = {name: value for name, value in (("progress", progress), ("device", device))
               if value is not None}
    start = time.perf_counter()
    try:
        result = run_one(params, config, **options)
    finally:
        torch.set_num_threads(threads)
    return result, time.perf_counter() - start


def _failure(spec: RunSpec, error: BaseException, out_dir: Path) -> RunFailedError:
    failure = RunFailedError(
        spec,
        f"{spec.describe()} failed: {type(error).__name__}: {error}. The runs finished so far "
        f"are saved in {out_dir / RESULTS_FILE}; fix the cause and rerun with --resume.",
    )
    failure.__cause__ = error
    return failure


def _terminate_workers(pool: ProcessPoolExecutor) -> None:
    """Stop the pool's worker processes now (a worker that caught Ctrl-C in a run goes on with
    the queued runs, and interpreter exit would wait for them)."""
    terminate = getattr(pool, "terminate_workers", None)  # Python >= 3.14
    if terminate is not None:
        terminate()
        return
    for process in list((getattr(pool, "_processes", None) or {}).values()):
        with contextlib.suppress(Exception):
            process.terminate()


def _import_ray():
    try:
        import ray
    except ImportError as error:
        raise ImportError(
            f"the 'ray' executor needs the optional dependency ray ({error}); install it with "
            f"pip install 'softloc[ray]'"
        ) from None
    return ray


def _check_picklable(experiment: SweepExperiment, config: Any, executor: str) -> None:
    for name, value in [("run_one", experiment.run_one), ("config", config)]:
        try:
            pickle.dumps(value)
        except Exception as error:
            raise TypeError(
                f"{name} of experiment {experiment.name!r} must be picklable to run in a "
                f"{'process pool' if executor == 'local' else 'Ray task'} (a top-level function "
                f"or dataclass of an importable module): {error}"
            ) from None


class _Executors:
    """The executors of a :class:`~softloc.runner.sweep.Sweep`, whose methods these are: runs
    in this process (``workers=1``), in a process pool or as Ray tasks, each result handed to
    ``record`` in the main process."""

    def _execute(self, runs: list[RunSpec], record: Callable[[RunSpec, Any, float], None],
                 progress: bool) -> None:
        if not runs:
            return
        if self.executor == "ray":
            self._execute_ray(runs, record)
        elif self.workers == 1:
            self._execute_in_process(runs, record, progress)
        else:
            self._execute_pool(runs, record)

    def _record(self, record: Callable, spec: RunSpec, result: Any, runtime_s: float) -> None:
        try:
            record(spec, result, runtime_s)
        except TypeError as error:  # run_one returned something that is not a JSON row
            raise _failure(spec, error, self.out_dir) from error

    def _execute_in_process(self, runs: list[RunSpec], record: Callable, progress: bool) -> None:
        run_progress = progress if self.experiment.takes_progress else None
        for spec in runs:
            try:
                result, runtime_s = _call(self.experiment.run_one, spec.parameters, self.config,
                                          run_progress, self.device)
            except Exception as error:
                raise _failure(spec, error, self.out_dir) from error
            self._record(record, spec, result, runtime_s)

    def _execute_pool(self, runs: list[RunSpec], record: Callable) -> None:
        # A CUDA device needs fresh worker processes: CUDA does not survive a fork.
        context = multiprocessing.get_context(
            "spawn" if self.device is not None and self.device.startswith("cuda") else None)
        pool = ProcessPoolExecutor(max_workers=min(self.workers, len(runs)), mp_context=context)
        failure: RunFailedError | None = None
        interrupted = True
        try:
            progress = False if self.experiment.takes_progress else None
            run_one = self.experiment.run_one
            futures = {
                pool.submit(_call, run_one, spec.parameters, self.config, progress,
                            self.device): spec
                for spec in runs
            }
            for future in as_completed(futures):
                spec = futures[future]
                try:
                    result, runtime_s = future.result()
                except CancelledError:
                    continue
                except Exception as error:
                    if failure is None:
                        failure = _failure(spec, error, self.out_dir)
                        for other in futures:  # the running ones finish and are recorded
                            other.cancel()
                    continue
                try:
                    self._record(record, spec, result, runtime_s)
                except RunFailedError as error:
                    if failure is None:
                        failure = error
                        for other in futures:
                            other.cancel()
            interrupted = False
        finally:
            if interrupted:  # Ctrl-C or an error here: stop now, the finished rows are saved
                _terminate_workers(pool)  # the pool fails the futures left (BrokenProcessPool)
                pool.shutdown(wait=False)
            else:
                pool.shutdown(wait=True)
        if failure is not None:
            raise failure

    def _execute_ray(self, runs: list[RunSpec], record: Callable) -> None:
        ray = _import_ray()
        started_here = False
        if not ray.is_initialized():
            if self.address is not None:
                ray.init(address=self.address)
            else:
                # The workers of a local instance see the driver's sys.path, as the processes
                # of a "spawn" pool do, so run_one may live in a script folder, not a package.
                path = os.pathsep.join(dict.fromkeys(os.path.abspath(p) for p in sys.path))
                ray.init(num_cpus=self.workers, include_dashboard=False,
                         runtime_env={"env_vars": {"PYTHONPATH": path}})
            started_here = True
        try:
            remote_call = ray.remote(num_cpus=1)(_call)
            config_ref = ray.put(self.config)
            progress = False if self.experiment.takes_progress else None
            specs = {
                remote_call.remote(self.experiment.run_one, spec.parameters, config_ref, progress,
                                   self.device): spec
                for spec in runs
            }
            pending = list(specs)
            while pending:
                done, pending = ray.wait(pending, num_returns=1)
                for ref in done:
                    spec = specs[ref]
                    try:
                        result, runtime_s = ray.get(ref)
                    except Exception as error:
                        for other in pending:
                            ray.cancel(other)
                        raise _failure(spec, error, self.out_dir) from error
                    self._record(record, spec, result, runtime_s)
        finally:
            if started_here:
                ray.shutdown()
