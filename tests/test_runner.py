"""The sweep runner: plan, executors, resumable results, tables, plots (with a toy sweep)."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from toy_sweep import TOY, ToyConfig, toy_run_one

from softloc.runner import (
    MANIFEST_FILE,
    RESULTS_FILE,
    RunFailedError,
    SweepError,
    build_runs,
    config_hash,
    prepare_sweep,
    read_results,
    run_sweep,
    score_tables,
    write_report,
)

TESTS_DIR = Path(__file__).resolve().parent
QUICK_RUNS = 8  # 2 losses x 2 noise levels x 1 distribution x 2 seeds x 1 fold
FULL_RUNS = 108  # 3 x 3 x 2 x 3 x 2


def stable_rows(out_dir: Path) -> list[dict]:
    """The rows in run order without what depends on the executor (runtime, worker pid)."""
    rows = []
    for row in read_results(out_dir).rows:
        row = {key: value for key, value in row.items() if key != "runtime_s"}
        row["result"] = {key: value for key, value in row["result"].items() if key != "pid"}
        rows.append(row)
    return rows


def raw_lines(out_dir: Path) -> list[bytes]:
    return (out_dir / RESULTS_FILE).read_bytes().split(b"\n")


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> Path:
    """The full toy sweep, uninterrupted, in this process."""
    out_dir = tmp_path_factory.mktemp("reference")
    run_sweep(TOY, out_dir=out_dir, workers=1, progress=False)
    return out_dir


# --------------------------------------------------------------------------- plan and identity


def test_runs_cover_the_product_in_order_with_stable_ids():
    runs = build_runs("toy", config_hash(ToyConfig()), TOY.axes)
    assert len(runs) == FULL_RUNS
    assert [run.index for run in runs] == list(range(FULL_RUNS))
    assert runs[0].parameters == {"loss": "ce", "noise_level": 0.0, "distribution": "normal",
                                  "seed": 0, "fold": 0}
    assert runs[1].parameters["fold"] == 1 and runs[-1].parameters["loss"] == "softloc"
    assert len({run.run_id for run in runs}) == FULL_RUNS
    again = build_runs("toy", config_hash(ToyConfig()), TOY.axes)
    assert [run.run_id for run in runs] == [run.run_id for run in again]
    # The id depends on the parameters, the experiment and the configuration, not the position.
    reordered = build_runs("toy", config_hash(ToyConfig()), dict(reversed(TOY.axes.items())))
    assert {run.run_id for run in reordered} == {run.run_id for run in runs}
    other_config = build_runs("toy", config_hash(ToyConfig(slope=0.2)), TOY.axes)
    other_name = build_runs("toy2", config_hash(ToyConfig()), TOY.axes)
    assert not {run.run_id for run in other_config} & {run.run_id for run in runs}
    assert not {run.run_id for run in other_name} & {run.run_id for run in runs}
    assert runs[0].to_dict()["run_id"] == runs[0].run_id


def test_config_hash_covers_fields_and_version():
    assert config_hash(ToyConfig()) == config_hash(ToyConfig(slope=0.1))
    assert config_hash(ToyConfig()) != config_hash(ToyConfig(slope=0.2))
    assert config_hash(ToyConfig()) != config_hash(ToyConfig(), version="2")
    assert len(config_hash(ToyConfig())) == 12
    with pytest.raises(TypeError, match="config"):
        config_hash(object())


@pytest.mark.parametrize(
    ("changes", "error", "match"),
    [
        ({"name": "two words"}, ValueError, "name"),
        ({"run_one": 3}, TypeError, "run_one"),
        ({"axes": {}}, TypeError, "axes"),
        ({"axes": {**TOY.axes, "seed": ()}}, TypeError, r"axes\['seed'\]"),
        ({"axes": {**TOY.axes, "seed": (0, 0)}}, ValueError, "twice"),
        ({"axes": {**TOY.axes, "noise_level": (float("nan"),)}}, ValueError, "finite"),
        ({"axes": {**TOY.axes, "seed": ([0],)}}, TypeError, "str, int, float"),
        ({"quick_axes": {"loss": ("ce",)}}, ValueError, "quick_axes"),
        ({"loss_axis": "method"}, ValueError, "loss_axis"),
        ({"seed_axis": "loss"}, ValueError, "different axes"),
        ({"quick_config": {"slope": 1}}, TypeError, "quick_config"),
        ({"score_format": "d"}, ValueError, "score_format"),
        ({"presets": {"paper": {"slope": 1}}}, TypeError, r"presets\['paper'\]"),
        ({"presets": {"two words": ToyConfig()}}, ValueError, "presets"),
        ({"presets": [ToyConfig()]}, TypeError, "presets"),
    ],
)
def test_experiment_definitions_are_validated(changes, error, match):
    with pytest.raises(error, match=match):
        replace(TOY, **changes)


@pytest.mark.parametrize(
    ("options", "error", "match"),
    [
        ({"executor": "dask"}, ValueError, "executor"),
        ({"workers": 0}, ValueError, "workers"),
        ({"workers": 1.5}, ValueError, "workers"),
        ({"address": "auto"}, ValueError, "address"),
        ({"resume": True, "force": True}, ValueError, "resume and force"),
        ({"config": {"slope": 0.1}}, TypeError, "config must be a ToyConfig"),
        ({"axes": {"loss": ("ce",)}}, ValueError, "axes must name"),
        ({"axes": {**TOY.axes, "seed": ()}}, TypeError, "seed"),
        ({"score": ""}, ValueError, "score"),
    ],
)
def test_bad_arguments_are_refused_before_anything_runs(tmp_path, options, error, match):
    out_dir = tmp_path / "sweep"
    with pytest.raises(error, match=match):
        prepare_sweep(TOY, out_dir=out_dir, **options)
    assert not out_dir.exists()


def test_a_local_function_cannot_go_to_a_pool(tmp_path):
    def run_one(params, config):
        return {"f1": 1.0}

    local = replace(TOY, run_one=run_one)
    with pytest.raises(TypeError, match="picklable"):
        prepare_sweep(local, out_dir=tmp_path, workers=2)
    prepare_sweep(local, out_dir=tmp_path, workers=1)  # in process: no pickling needed


# --------------------------------------------------------------------------- results and executors


def test_rows_hold_the_spec_and_the_result(reference):
    lines = raw_lines(reference)
    assert lines[-1] == b"" and len(lines) == FULL_RUNS + 1
    rows = read_results(reference).rows
    assert [row["index"] for row in rows] == list(range(FULL_RUNS))
    runs = build_runs("toy", config_hash(ToyConfig()), TOY.axes)
    for run, row in zip(runs, rows):
        assert row["run_id"] == run.run_id and row["params"] == run.parameters
        assert row["experiment"] == "toy" and row["config_hash"] == config_hash(ToyConfig())
        assert row["result"]["f1"] == toy_run_one(run.parameters, ToyConfig())["f1"]
        assert isinstance(row["result"]["precision"], float) and row["runtime_s"] >= 0.0
    manifest = json.loads((reference / MANIFEST_FILE).read_text())
    assert manifest["config"] == {"slope": 0.1, "jitter": 0.02} and manifest["total_runs"] == 108
    assert manifest["axes"]["noise_level"] == [0.0, 0.5, 1.0] and manifest["score"] == "f1"


def test_process_pool_gives_the_in_process_results(tmp_path, reference):
    result = run_sweep(TOY, out_dir=tmp_path, workers=2, progress=False)
    assert result.completed_runs == FULL_RUNS and result.skipped_runs == 0
    assert stable_rows(tmp_path) == stable_rows(reference)
    pids = {row["result"]["pid"] for row in read_results(tmp_path).rows}
    assert os.getpid() not in pids and len(pids) >= 1  # the runs went to the pool
    for name in ("summary.csv", "summary.md"):
        assert (tmp_path / name).read_bytes() == (reference / name).read_bytes()


@pytest.mark.ray
def test_ray_gives_the_in_process_results(tmp_path):
    """One small sweep through a local Ray instance (about 10-20 s: Ray's start-up dominates)."""
    ray = pytest.importorskip("ray", reason="the optional dependency ray is not installed")
    assert not ray.is_initialized()
    run_sweep(TOY, out_dir=tmp_path / "in-process", quick=True, workers=1, progress=False)
    result = run_sweep(TOY, out_dir=tmp_path / "ray", quick=True, executor="ray", workers=2,
                       progress=False)
    assert not ray.is_initialized()  # the local instance it started is shut down
    assert result.completed_runs == QUICK_RUNS and result.executor == "ray"
    assert stable_rows(tmp_path / "ray") == stable_rows(tmp_path / "in-process")
    pids = {row["result"]["pid"] for row in read_results(tmp_path / "ray").rows}
    assert os.getpid() not in pids  # the runs went to Ray's workers
    for name in ("summary.csv", "summary.md"):
        expected = (tmp_path / "in-process" / name).read_bytes()
        assert (tmp_path / "ray" / name).read_bytes() == expected


def _start_cli_sweep(out_dir: Path, *options: str, delay_s: float = 0.05) -> subprocess.Popen:
    """``softloc bench toy`` in a new session (so the pool's processes can be killed with it);
    each run sleeps ``delay_s`` (the whole sweep takes at least ``54 * delay_s`` seconds with
    two workers, so that a busy machine still interrupts it midway)."""
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); import toy_sweep; "
        "from softloc.experiments import register_experiment; "
        "register_experiment(toy_sweep.TOY); from softloc.cli import main; "
        "sys.exit(main(sys.argv[2:]))"
    )
    env = {**os.environ, "TOY_SWEEP_DELAY_S": str(delay_s)}
    return subprocess.Popen(
        [sys.executable, "-c", code, str(TESTS_DIR), "bench", "toy", "--out", str(out_dir),
         "--quiet", *options],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
        # a shell that started this test run in the background ignores SIGINT, and the child
        # would inherit that: give it the default handling a terminal's Ctrl-C meets
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def test_a_sweep_killed_midway_resumes_without_duplicates_or_losses(tmp_path, reference):
    process = _start_cli_sweep(tmp_path, "--workers", "2", delay_s=0.1)
    results = tmp_path / RESULTS_FILE
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline and process.poll() is None:
            if results.exists() and results.read_bytes().count(b"\n") >= 10:
                break
            time.sleep(0.02)
        assert process.poll() is None, process.stderr.read().decode()
        os.killpg(process.pid, signal.SIGKILL)  # the sweep and its pool workers
        process.wait(timeout=10)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        process.stderr.close()
    before = read_results(tmp_path)
    assert 10 <= before.finished < FULL_RUNS

    with pytest.raises(SweepError, match="--resume"):  # without resume the folder is refused
        prepare_sweep(TOY, out_dir=tmp_path, workers=1)
    result = run_sweep(TOY, out_dir=tmp_path, workers=1, resume=True, progress=False)
    assert result.skipped_runs == before.finished
    assert result.completed_runs == FULL_RUNS - before.finished
    run_ids = [row["run_id"] for row in read_results(tmp_path).rows]
    assert len(run_ids) == len(set(run_ids)) == FULL_RUNS
    assert stable_rows(tmp_path) == stable_rows(reference)
    assert (tmp_path / "summary.csv").read_bytes() == (reference / "summary.csv").read_bytes()


def test_ctrl_c_stops_the_pool_at_once_and_keeps_the_finished_runs(tmp_path):
    process = _start_cli_sweep(tmp_path, "--workers", "2", delay_s=0.2)
    results = tmp_path / RESULTS_FILE
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline and process.poll() is None:
            if results.exists() and results.read_bytes().count(b"\n") >= 4:
                break
            time.sleep(0.02)
        os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
        start = time.monotonic()
        status = process.wait(timeout=30)
        elapsed = time.monotonic() - start
        err = process.stderr.read().decode()
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        process.stderr.close()
    assert status == 130, err
    assert "interrupted" in err and "--resume" in err
    assert elapsed < 5.0  # the queued runs do not go on in the workers
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:  # no worker of the pool is left behind
        try:
            os.killpg(process.pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.05)
    else:
        pytest.fail("processes of the interrupted sweep are still running")
    assert 4 <= read_results(tmp_path).finished < FULL_RUNS


@pytest.mark.parametrize("tail", [b'{"run_id": "0123', b"\0\0\0\0\n"])
def test_a_torn_last_line_is_ignored_and_cut_off_on_resume(tmp_path, tail):
    run_sweep(TOY, out_dir=tmp_path, quick=True, workers=1, progress=False)
    reference_rows = stable_rows(tmp_path)
    lines = raw_lines(tmp_path)
    # Lose the last two rows, then leave a torn line (a kill mid-write, or zeros after a crash).
    kept = b"".join(line + b"\n" for line in lines[:-3])
    (tmp_path / RESULTS_FILE).write_bytes(kept + tail)
    partial = read_results(tmp_path)
    assert partial.finished == QUICK_RUNS - 2 and partial.torn_tail
    assert "torn" in partial.describe()

    result = run_sweep(TOY, out_dir=tmp_path, quick=True, workers=1, resume=True,
                       progress=False)
    assert result.discarded_torn_line and result.completed_runs == 2
    assert "torn" in result.describe()
    data = (tmp_path / RESULTS_FILE).read_bytes()
    assert data.startswith(kept) and data.endswith(b"\n") and tail not in data
    assert all(json.loads(line) for line in data.splitlines())
    assert stable_rows(tmp_path) == reference_rows
    assert not read_results(tmp_path).torn_tail


def test_damage_before_the_last_line_is_an_error(tmp_path):
    run_sweep(TOY, out_dir=tmp_path, quick=True, workers=1, progress=False)
    lines = raw_lines(tmp_path)
    lines[2] = lines[2][:20]
    (tmp_path / RESULTS_FILE).write_bytes(b"\n".join(lines))
    with pytest.raises(SweepError, match="line 3 is not a result row"):
        read_results(tmp_path)
    with pytest.raises(SweepError, match="line 3"):
        prepare_sweep(TOY, out_dir=tmp_path, quick=True, resume=True)


def test_duplicated_rows_are_an_error(tmp_path):
    run_sweep(TOY, out_dir=tmp_path, quick=True, workers=1, progress=False)
    lines = raw_lines(tmp_path)
    (tmp_path / RESULTS_FILE).write_bytes(b"\n".join([*lines[:-1], lines[0], b""]))
    with pytest.raises(SweepError, match="appears on lines 1 and 9"):
        read_results(tmp_path)


def test_a_failed_run_keeps_the_finished_ones_and_resume_completes(tmp_path, monkeypatch,
                                                                     reference):
    monkeypatch.setenv("TOY_SWEEP_FAIL_LOSS", "softloc")
    with pytest.raises(RunFailedError, match="softloc diverged") as failure:
        run_sweep(TOY, out_dir=tmp_path, workers=2, progress=False)
    assert failure.value.spec.parameters["loss"] == "softloc"
    assert "--resume" in str(failure.value)
    finished = read_results(tmp_path).rows
    assert finished and all(row["params"]["loss"] != "softloc" for row in finished)
    monkeypatch.delenv("TOY_SWEEP_FAIL_LOSS")
    run_sweep(TOY, out_dir=tmp_path, workers=2, resume=True, progress=False)
    assert stable_rows(tmp_path) == stable_rows(reference)


def test_a_result_that_is_not_json_fails_its_run(tmp_path):
    bad = replace(TOY, run_one=_returns_a_set)
    with pytest.raises(RunFailedError, match="JSON"):
        run_sweep(bad, out_dir=tmp_path, quick=True, workers=1, progress=False)
    assert read_results(tmp_path).finished == 0


def _returns_a_set(params, config):
    return {"f1": {1, 2}}


# --------------------------------------------------------------------------- mixing is refused


def test_existing_results_are_refused_without_resume_or_force(tmp_path):
    run_sweep(TOY, out_dir=tmp_path, quick=True, workers=1, progress=False)
    before = (tmp_path / RESULTS_FILE).read_bytes()
    with pytest.raises(SweepError, match=r"already holds a sweep \(8 finished runs.*--force"):
        prepare_sweep(TOY, out_dir=tmp_path, quick=True)
    assert (tmp_path / RESULTS_FILE).read_bytes() == before


def test_resume_refuses_another_config_dropped_values_axes_or_version(tmp_path):
    run_sweep(TOY, out_dir=tmp_path, quick=True, workers=1, progress=False)
    with pytest.raises(SweepError, match="changed fields: slope"):
        prepare_sweep(TOY, out_dir=tmp_path, quick=True, resume=True,
                      config=ToyConfig(slope=0.3, jitter=0.01))
    with pytest.raises(SweepError, match=r"axis 'seed' = \[1, 2\] instead of \[0, 1\] "
                                         r"\(without 0: a resumed sweep may add values"):
        prepare_sweep(TOY, out_dir=tmp_path, quick=True, resume=True,
                      axes={**TOY.quick_axes, "seed": (1, 2)})
    with pytest.raises(SweepError, match="experiment version '2'"):
        prepare_sweep(replace(TOY, version="2"), out_dir=tmp_path, quick=True, resume=True)
    with pytest.raises(SweepError, match="experiment 'toy2'"):
        prepare_sweep(replace(TOY, name="toy2"), out_dir=tmp_path, quick=True, resume=True)
    # Even without the manifest, rows of another configuration are recognised.
    (tmp_path / MANIFEST_FILE).unlink()
    with pytest.raises(SweepError, match="is not part of this sweep"):
        prepare_sweep(TOY, out_dir=tmp_path, quick=True, resume=True,
                      config=ToyConfig(slope=0.3))


def test_resume_grows_the_axes_and_tabulates_as_one_sweep(tmp_path, reference):
    # Run softloc and then ce at two noise levels and seeds, then grow to the full axes: the
    # rows, tables and files equal those of the uninterrupted full sweep.
    first = {**TOY.axes, "loss": ("softloc",), "noise_level": (1.0, 0.0), "seed": (0,)}
    run_sweep(TOY, out_dir=tmp_path, axes=first, workers=1, progress=False)
    second = {**first, "loss": ("softloc", "ce"), "seed": (0, 1)}
    grown = run_sweep(TOY, out_dir=tmp_path, axes=second, workers=1, resume=True, progress=False)
    assert (grown.skipped_runs, grown.total_runs) == (8, 32)
    manifest = json.loads((tmp_path / MANIFEST_FILE).read_text())
    assert manifest["axes"]["loss"] == ["softloc", "ce"] and manifest["total_runs"] == 32
    result = run_sweep(TOY, out_dir=tmp_path, workers=1, resume=True, progress=False)
    assert (result.skipped_runs, result.completed_runs) == (32, FULL_RUNS - 32)
    # The rows come in the full sweep's run order; a stored index is the row's position in the
    # sweep that ran it.
    def without_index(rows):
        return [{key: value for key, value in row.items() if key != "index"} for row in rows]

    assert without_index(stable_rows(tmp_path)) == without_index(stable_rows(reference))
    assert [row["index"] for row in stable_rows(tmp_path)] != list(range(FULL_RUNS))
    assert (tmp_path / "summary.csv").read_bytes() == (reference / "summary.csv").read_bytes()


def test_force_starts_over(tmp_path):
    run_sweep(TOY, out_dir=tmp_path, quick=True, workers=1, progress=False)
    other = ToyConfig(slope=0.3, jitter=0.01)
    result = run_sweep(TOY, out_dir=tmp_path, quick=True, config=other, workers=1, force=True,
                       progress=False)
    rows = read_results(tmp_path).rows
    assert result.completed_runs == QUICK_RUNS == len(rows)
    assert {row["config_hash"] for row in rows} == {config_hash(other)}


def test_rows_of_another_config_are_never_read_as_this_one(tmp_path):
    run_sweep(TOY, out_dir=tmp_path, quick=True, workers=1, progress=False)
    row = json.loads(raw_lines(tmp_path)[0])
    row.update(config_hash="ffffffffffff", run_id="0000000000000000")
    with open(tmp_path / RESULTS_FILE, "a", encoding="utf-8") as f:
        f.write(json.dumps(row) + "\n")
    with pytest.raises(SweepError, match="config ffffffffffff"):
        read_results(tmp_path)
    with pytest.raises(SweepError, match="not part of this sweep"):
        prepare_sweep(TOY, out_dir=tmp_path, quick=True, resume=True)


def test_one_folder_one_writer(tmp_path):
    sweep = prepare_sweep(TOY, out_dir=tmp_path, quick=True, workers=1)
    code = ("import fcntl, os, sys, time; fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT); "
            "fcntl.lockf(fd, fcntl.LOCK_EX); print('locked', flush=True); time.sleep(60)")
    holder = subprocess.Popen([sys.executable, "-c", code, str(tmp_path / ".sweep.lock")],
                              stdout=subprocess.PIPE)
    try:
        assert holder.stdout.readline() == b"locked\n"
        with pytest.raises(SweepError, match="another sweep is writing"):
            sweep.run(progress=False)
        assert not (tmp_path / RESULTS_FILE).exists()
    finally:
        holder.kill()
        holder.wait()
        holder.stdout.close()
    assert sweep.run(progress=False).completed_runs == QUICK_RUNS  # released by its death


# --------------------------------------------------------------------------- tables and plots


def test_tables_are_mean_and_std_per_loss_and_noise_level(reference):
    results = read_results(reference)
    tables = score_tables(results)
    assert [table.distribution for table in tables] == ["normal", "uniform"]
    table = tables[1]
    assert table.losses == ("ce", "sll", "softloc") and table.noise_levels == (0.0, 0.5, 1.0)
    assert table.averaged_over == ("seed", "fold")
    scores = [row["result"]["f1"] for row in results.rows
              if row["params"]["distribution"] == "uniform" and row["params"]["loss"] == "sll"
              and row["params"]["noise_level"] == 0.5]
    cell = table.cell("sll", 0.5)
    assert len(scores) == cell.runs == cell.expected_runs == 6
    assert cell.mean == pytest.approx(np.mean(scores), abs=1e-15)
    assert cell.std == pytest.approx(np.std(scores, ddof=1), abs=1e-15)
    assert cell.format() == f"{np.mean(scores):.3f} ({np.std(scores, ddof=1):.3f})"

    text = table.format_text()
    assert text.splitlines()[0] == ("toy: f1, mean (std) over seed x fold; "
                                    "distribution = uniform")
    assert text.splitlines()[1].split() == ["loss", "\\", "noise_level", "(frames)", "0", "0.5",
                                            "1"]
    assert [line.split()[0] for line in text.splitlines()[3:]] == ["ce", "sll", "softloc"]

    with open(reference / "summary.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 2 * 3 * 3
    assert list(rows[0]) == ["distribution", "loss", "noise_level", "score", "mean", "std",
                             "runs", "expected_runs"]
    match = [row for row in rows if (row["distribution"], row["loss"], row["noise_level"])
             == ("uniform", "sll", "0.5")]
    assert float(match[0]["mean"]) == cell.mean and float(match[0]["std"]) == cell.std

    markdown = (reference / "summary.md").read_text(encoding="utf-8")
    assert markdown.count("## toy: f1") == 2 and "108 of 108 runs finished" in markdown
    assert "| loss \\ noise_level (frames) | 0 | 0.5 | 1 |" in markdown
    assert f"| sll | {tables[1].cell('sll', 0.0).format()} |" in markdown
    png = (reference / "scores.png").read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 10_000


def test_another_score_column_and_an_unknown_one(reference):
    tables = score_tables(read_results(reference), "events")
    assert tables[0].score == "events" and tables[0].cell("ce", 0.0).runs == 6
    with pytest.raises(SweepError, match="no run has the score column 'f2'.*f1"):
        score_tables(read_results(reference), "f2")


def test_a_partial_sweep_is_reported(tmp_path):
    run_sweep(TOY, out_dir=tmp_path, quick=True, workers=1, progress=False)
    lines = raw_lines(tmp_path)
    (tmp_path / RESULTS_FILE).write_bytes(b"\n".join(lines[:5]) + b"\n")  # runs 0..4 of 8
    results = read_results(tmp_path)
    assert results.finished == 5 and not results.complete
    table = score_tables(results)[0]
    assert table.cell("ce", 0.0).runs == 2 and table.cell("softloc", 0.0).runs == 1
    assert table.cell("softloc", 1.0).runs == 0
    assert table.cell("softloc", 0.0).format().endswith("(-)*")
    assert table.cell("softloc", 1.0).format() == "-"
    text = table.format_text()
    assert "fewer runs than planned" in text
    files = write_report(results)
    assert "5 of 8 runs finished" in Path(files["markdown"]).read_text(encoding="utf-8")
    assert Path(files["png"]).stat().st_size > 0


def test_no_distribution_axis_gives_one_table(tmp_path):
    flat = replace(TOY, distribution_axis=None,
                   quick_axes={**TOY.quick_axes, "distribution": ("normal",)})
    result = run_sweep(flat, out_dir=tmp_path, quick=True, workers=1, progress=False)
    assert len(result.tables) == 1
    assert result.tables[0].averaged_over == ("distribution", "seed", "fold")
    with open(tmp_path / "summary.csv", newline="", encoding="utf-8") as f:
        assert next(csv.reader(f))[0] == "loss"


def test_progress_bar_counts_runs(tmp_path, capsys):
    run_sweep(TOY, out_dir=tmp_path, quick=True, workers=1)
    err = capsys.readouterr().err
    assert "toy" in err and "8/8" in err and "run" in err


def test_takes_progress_is_passed_in_process_only(tmp_path):
    experiment = replace(TOY, run_one=_records_progress, takes_progress=True)
    run_sweep(experiment, out_dir=tmp_path / "a", quick=True, workers=1, progress=True)
    assert {row["result"]["progress"] for row in read_results(tmp_path / "a").rows} == {True}
    run_sweep(experiment, out_dir=tmp_path / "b", quick=True, workers=2, progress=True)
    assert {row["result"]["progress"] for row in read_results(tmp_path / "b").rows} == {False}


def test_presets_are_named_configurations():
    experiment = replace(TOY, presets={"steep": ToyConfig(slope=0.5)})
    assert experiment.config(preset="steep") == ToyConfig(slope=0.5)
    assert experiment.config() == ToyConfig() and experiment.config(quick=True).jitter == 0.01
    with pytest.raises(ValueError, match="unknown preset 'flat'.*steep"):
        experiment.config(preset="flat")
    with pytest.raises(ValueError, match="exclude each other"):
        experiment.config(quick=True, preset="steep")


def test_a_device_is_passed_to_runs_that_take_one(tmp_path):
    experiment = replace(TOY, run_one=_records_device, takes_device=True)
    for workers in (1, 2):
        run_sweep(experiment, out_dir=tmp_path / str(workers), quick=True, workers=workers,
                  progress=False, device="auto")
        devices = {row["result"]["device"] for row in read_results(tmp_path / str(workers)).rows}
        assert devices == {"cuda:0" if torch.cuda.is_available() else "cpu"}
    # no device: run_one is called without one (its own default)
    run_sweep(experiment, out_dir=tmp_path / "default", quick=True, workers=1, progress=False)
    assert {row["result"]["device"] for row in read_results(tmp_path / "default").rows} == \
        {"default"}
    with pytest.raises(ValueError, match="do not take a device"):
        prepare_sweep(TOY, out_dir=tmp_path / "toy", device="cpu")
    with pytest.raises(ValueError, match="device must be"):
        prepare_sweep(experiment, out_dir=tmp_path / "bad", device="gpu")
    assert not (tmp_path / "toy").exists() and not (tmp_path / "bad").exists()


def _records_device(params, config, device="default"):
    return {**toy_run_one(params, config), "device": device}


def _records_progress(params, config, *, progress):
    return {**toy_run_one(params, config), "progress": progress}


def test_to_dict_is_json(tmp_path):
    result = run_sweep(TOY, out_dir=tmp_path, quick=True, workers=1, progress=False)
    data = json.loads(json.dumps(result.to_dict()))
    assert data["total_runs"] == QUICK_RUNS and data["tables"][0]["score"] == "f1"
    assert json.loads(json.dumps(read_results(tmp_path).to_dict()))["torn_tail"] is False
