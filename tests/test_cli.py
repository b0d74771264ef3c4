"""The ``softloc`` command."""

from __future__ import annotations

import csv
import json
import sys

import pytest
from toy_sweep import TOY  # tests/toy_sweep.py: a tiny sweep experiment

from softloc.cli import main
from softloc.experiments import EXPERIMENTS


def test_theory_prints_the_table_and_writes_outputs(tmp_path, capsys):
    status = main([
        "theory", "--out", str(tmp_path), "--quiet", "--steps", "100", "--seed", "1",
        "--sll-softness", "0.5",
    ])
    out, err = capsys.readouterr()
    with open(tmp_path / "summary.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert [row["label"] for row in rows] == ["CE", "LS|CE s=2", "SLL s=0.5", "SoftLoc s=2 a=0.5"]
    assert all(row["passed"] == "True" for row in rows)
    assert status == 0
    assert "100 Adam steps per loss; seed 1" in out
    for row in rows:
        assert row["label"] in out
    for name in ("filters.png", "summary.csv", "filters.csv", "summary.md"):
        assert f"wrote {tmp_path / name}" in out
        assert (tmp_path / name).stat().st_size > 0
    assert "step" not in err  # --quiet: no progress bars


def test_theory_exit_status_reports_a_failed_check(tmp_path, capsys):
    status = main(["theory", "--out", str(tmp_path), "--quiet", "--steps", "5"])
    assert status == 1
    assert "NO" in capsys.readouterr().out


def test_theory_options(tmp_path, capsys):
    status = main([
        "theory", "--out", str(tmp_path), "--quiet", "--steps", "5", "--noise", "binary",
        "--noise-scale", "2", "--sll-softness", "0.7",
    ])
    out = capsys.readouterr().out
    assert status in (0, 1)
    assert "E = +-2 frames" in out and "SLL s=0.7" in out and "SLL s=0.5" not in out


def test_help(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "demo" in out and "theory" in out and "usage: softloc" in out

    with pytest.raises(SystemExit) as exit_info:
        main(["theory", "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for option in ("--out DIR", "--seed N", "--steps N", "--noise", "--noise-scale FRAMES",
                   "--sll-softness", "--quiet", "results/localization"):
        assert option in out
    assert "frames" in out and "Exit status" in out


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["train"],
        ["theory", "--steps", "0"],
        ["theory", "--steps", "many"],
        ["theory", "--seed", "-1"],
        ["theory", "--noise", "laplace"],
        ["theory", "--noise-scale", "nan"],
        ["theory", "--noise", "binary", "--noise-scale", "1.5"],
        ["theory", "--noise", "binary", "--noise-scale", "7"],
        ["theory", "--sll-softness"],
        ["theory", "--unknown"],
        ["demo", "--workers", "0"],
        ["demo", "--unknown"],
    ],
)
def test_bad_options_are_argparse_errors(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert "error:" in capsys.readouterr().err


# --------------------------------------------------------------------------- bench and report


@pytest.fixture
def toy(monkeypatch):
    """Register the toy sweep experiment for one test."""
    monkeypatch.setitem(EXPERIMENTS, "toy", TOY)
    return TOY


def test_bench_runs_resumes_and_reports(tmp_path, capsys, toy):
    out_dir = tmp_path / "sweep"
    argv = ["bench", "toy", "--quick", "--out", str(out_dir), "--workers", "1", "--quiet"]
    assert main(argv) == 0
    out, err = capsys.readouterr()
    assert "toy: 8 runs" in out and "8 runs now, 0 resumed, 8 in all" in out
    assert "toy: f1, mean (std) over seed x fold; distribution = normal" in out
    for name in ("results.jsonl", "sweep.json", "summary.csv", "summary.md", "scores.png"):
        assert f"wrote {out_dir / name}" in out
    assert "run/s" not in err and "8/8" not in err  # --quiet: no progress bar
    table = out[out.index("toy: f1"):out.index("wrote")]

    assert main([*argv, "--resume"]) == 0
    out = capsys.readouterr().out
    assert "0 runs now, 8 resumed" in out and table in out


def test_bench_refuses_existing_results_without_resume(tmp_path, capsys, toy):
    argv = ["bench", "toy", "--quick", "--out", str(tmp_path), "--workers", "1", "--quiet"]
    assert main(argv) == 0
    before = (tmp_path / "results.jsonl").read_bytes()
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "already holds a sweep" in err and "--resume" in err and "--force" in err
    assert (tmp_path / "results.jsonl").read_bytes() == before
    assert main([*argv, "--force"]) == 0


def test_bench_options_replace_axes(tmp_path, capsys, toy):
    argv = ["bench", "toy", "--out", str(tmp_path), "--workers", "1", "--quiet",
            "--losses", "softloc,ce", "--noise-levels", "0", "2.5", "--distributions", "uniform",
            "--seeds", "1", "--score", "precision"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    manifest = json.loads((tmp_path / "sweep.json").read_text())
    assert manifest["axes"] == {"loss": ["softloc", "ce"], "noise_level": [0.0, 2.5],
                                "distribution": ["uniform"], "seed": [0], "fold": [0, 1]}
    assert manifest["score"] == "precision" and manifest["total_runs"] == 8
    assert "toy: precision, mean (std) over seed x fold; distribution = uniform" in out


def test_report_prints_and_writes_the_tables(tmp_path, capsys, toy):
    assert main(["bench", "toy", "--quick", "--out", str(tmp_path), "--workers", "1",
                 "--quiet"]) == 0
    bench_out = capsys.readouterr().out
    (tmp_path / "summary.md").unlink()
    assert main(["report", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "8 of 8 runs finished" in out
    table = bench_out[bench_out.index("toy: f1"):bench_out.index("wrote")].strip()
    assert table in out
    assert (tmp_path / "summary.md").exists()
    default = (tmp_path / "summary.csv").read_bytes()
    assert main(["report", str(tmp_path), "--score", "events"]) == 0
    out = capsys.readouterr().out
    assert "toy: events, mean (std)" in out and "summary-events.csv" in out
    assert (tmp_path / "summary.csv").read_bytes() == default  # the f1 summary stays
    assert "events" in (tmp_path / "summary-events.md").read_text()
    assert (tmp_path / "scores-events.png").exists()
    assert main(["bench", "toy", "--quick", "--out", str(tmp_path), "--workers", "1",
                 "--quiet", "--force"]) == 0
    assert not (tmp_path / "summary-events.csv").exists()  # --force clears them too


def test_bench_and_report_help(capsys, toy):
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "bench" in out and "report" in out

    with pytest.raises(SystemExit) as exit_info:
        main(["bench", "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for option in ("--quick", "--out DIR", "--executor {local,ray}", "--workers N",
                   "--address ADDR", "--resume", "--force", "--seeds N", "--losses",
                   "--noise-levels LEVEL", "--distributions", "--score COLUMN", "--quiet",
                   "Exit status"):
        assert option in out
    assert "toy: a toy sweep" in out and "noise_level (frames) = 0, 0.5, 1" in out
    assert "softloc[ray]" in out

    with pytest.raises(SystemExit) as exit_info:
        main(["report", "--help"])
    assert exit_info.value.code == 0
    assert "DIR" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["bench"], "EXPERIMENT"),
        (["bench", "nope"], "unknown experiment 'nope'; sweep experiments: sensor, piano, "
                            "drums, drums-softness, golf, toy"),
        (["bench", "localization"], "not a sweep experiment (run it with 'softloc theory')"),
        (["bench", "toy", "--losses", "ce,bce"], "unknown 'bce'; valid choices: ce, sll, softloc"),
        (["bench", "toy", "--losses", "ce", "ce"], "twice"),
        (["bench", "toy", "--losses", "ce,"], "comma-separated"),
        (["bench", "toy", "--noise-levels", "-1"], "noise levels must be finite numbers >= 0"),
        (["bench", "toy", "--noise-levels", "0,-0.5"], ">= 0, got -0.5"),
        (["bench", "toy", "--noise-levels", "inf"], ">= 0"),
        (["bench", "toy", "--noise-levels", "small"], "expected a noise level"),
        (["bench", "toy", "--noise-levels", "1", "1.0"], "twice"),
        (["bench", "toy", "--distributions", "laplace"], "valid choices: normal, uniform"),
        (["bench", "toy", "--workers", "0"], ">= 1"),
        (["bench", "toy", "--seeds", "0"], ">= 1"),
        (["bench", "toy", "--executor", "dask"], "invalid choice"),
        (["bench", "toy", "--resume", "--force"], "not allowed with"),
        (["bench", "toy", "--address", "auto"], "--address needs --executor ray"),
        (["bench", "toy", "--preset", "paper"], "unknown preset 'paper'"),
        (["bench", "toy", "--quick", "--preset", "paper"], "not allowed with"),
        (["bench", "toy", "--device", "cpu"], "do not take a device"),
        (["bench", "piano", "--device", "gpu"], "device must be"),
        (["bench", "toy", "--unknown"], "unrecognized"),
        (["report"], "DIR"),
    ],
)
def test_bad_bench_options_are_argparse_errors_before_anything_runs(
    argv, message, tmp_path, monkeypatch, capsys, toy
):
    monkeypatch.chdir(tmp_path)  # the default --out would be results/toy here
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "error:" in err and message in err
    assert list(tmp_path.iterdir()) == []  # nothing ran, nothing was written


def test_report_of_a_folder_without_a_sweep(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["report", str(tmp_path)])
    assert exit_info.value.code == 2
    assert "holds no sweep" in capsys.readouterr().err


def test_report_of_an_unknown_score(tmp_path, capsys, toy):
    assert main(["bench", "toy", "--quick", "--out", str(tmp_path), "--workers", "1",
                 "--quiet"]) == 0
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_info:
        main(["report", str(tmp_path), "--score", "recall"])
    assert exit_info.value.code == 2
    assert "numeric columns: events, f1, pid, precision" in capsys.readouterr().err


def test_ray_executor_without_ray_is_an_argparse_error(tmp_path, monkeypatch, capsys, toy):
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray raises ImportError
    with pytest.raises(SystemExit) as exit_info:
        main(["bench", "toy", "--quick", "--executor", "ray", "--out", str(tmp_path / "x")])
    assert exit_info.value.code == 2
    assert "pip install 'softloc[ray]'" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def test_a_failing_run_exits_1_and_keeps_the_finished_runs(tmp_path, monkeypatch, capsys, toy):
    monkeypatch.setenv("TOY_SWEEP_FAIL_LOSS", "softloc")
    argv = ["bench", "toy", "--quick", "--out", str(tmp_path), "--workers", "1", "--quiet"]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert "failed: RuntimeError: loss softloc diverged" in err and "--resume" in err
    assert (tmp_path / "results.jsonl").read_bytes().count(b"\n") == 4  # the 'ce' runs
    monkeypatch.delenv("TOY_SWEEP_FAIL_LOSS")
    assert main([*argv, "--resume"]) == 0
    assert "4 runs now, 4 resumed" in capsys.readouterr().out
