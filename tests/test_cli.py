"""The ``softloc`` command."""

from __future__ import annotations

import csv

import pytest

from softloc.cli import main


def test_demo_prints_the_table_and_writes_outputs(tmp_path, capsys):
    status = main([
        "demo", "--out", str(tmp_path), "--quiet", "--steps", "100", "--seed", "1",
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


def test_demo_exit_status_reports_a_failed_check(tmp_path, capsys):
    status = main(["demo", "--out", str(tmp_path), "--quiet", "--steps", "5"])
    assert status == 1
    assert "NO" in capsys.readouterr().out


def test_demo_options(tmp_path, capsys):
    status = main([
        "demo", "--out", str(tmp_path), "--quiet", "--steps", "5", "--noise", "binary",
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
    assert "demo" in out and "usage: softloc" in out

    with pytest.raises(SystemExit) as exit_info:
        main(["demo", "--help"])
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
        ["demo", "--steps", "0"],
        ["demo", "--steps", "many"],
        ["demo", "--seed", "-1"],
        ["demo", "--noise", "laplace"],
        ["demo", "--noise-scale", "nan"],
        ["demo", "--noise", "binary", "--noise-scale", "1.5"],
        ["demo", "--noise", "binary", "--noise-scale", "7"],
        ["demo", "--sll-softness"],
        ["demo", "--unknown"],
    ],
)
def test_bad_options_are_argparse_errors(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert "error:" in capsys.readouterr().err
