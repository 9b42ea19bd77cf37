"""Run folders are owned by one run, and output paths are checked before anything starts."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench.cli import main
from bench.outputs import LOCK_NAME, check_output_file, claim_run_dir, scratch_dir
from drivers.errors import ConfigError


def test_a_second_run_into_the_same_folder_is_refused_while_the_first_runs(
        tmp_path: Path) -> None:
    """The first owner is another process (as two CI jobs would be): the lock is the kernel's."""
    out = tmp_path / "o"
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from pathlib import Path\n"
         "from bench.outputs import claim_run_dir\n"
         "with claim_run_dir(Path(sys.argv[1])):\n"
         "    print('owned', flush=True); time.sleep(30)\n", str(out)],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "owned"
        with pytest.raises(ConfigError, match=rf"another hil-bench run \(pid {holder.pid}\)"):
            with claim_run_dir(out, force=True):
                pass
        # the whole command: refused before anything starts, exit 2, no report
        assert main(["run", "--mode", "virtual", "--cycles", "2", "-q", "--out", str(out)]) == 2
        assert not (out / "report.json").exists()
    finally:
        holder.kill()
        holder.wait()
    with claim_run_dir(out) as owned:          # the lock died with its process
        assert owned == out and scratch_dir() == out
    assert scratch_dir() is None


def test_an_earlier_runs_files_need_force_and_are_then_removed(tmp_path: Path) -> None:
    (tmp_path / "report.json").write_text("{}")
    (tmp_path / "sim-robot.jsonl").write_text('{"command": "move"}\n')
    (tmp_path / "lab.yaml").write_text("name: mine\n")
    with pytest.raises(ConfigError, match="holds an earlier run's report.json; .*--force"):
        with claim_run_dir(tmp_path):
            pass
    with claim_run_dir(tmp_path, force=True):
        assert not (tmp_path / "report.json").exists()
        assert not (tmp_path / "sim-robot.jsonl").exists()   # journals never mix two runs
        assert (tmp_path / "lab.yaml").exists()              # the user's own files stay
        assert (tmp_path / LOCK_NAME).read_text().strip() == str(os.getpid())


def test_run_force_writes_over_an_earlier_run(tmp_path: Path,
                                              capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "o"
    out.mkdir()
    (out / "report.json").write_text('{"verdict": "earlier"}')
    argv = ["run", "--mode", "virtual", "--cycles", "2", "--network", "ideal", "-q",
            "--out", str(out)]
    assert main(argv) == 2 and "--force" in capsys.readouterr().err
    assert (out / "report.json").read_text() == '{"verdict": "earlier"}'
    assert main([*argv, "--force"]) == 0
    assert '"earlier"' not in (out / "report.json").read_text()


def test_output_file_checks(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="is a folder"):
        check_output_file(tmp_path, "-o")
    with pytest.raises(ConfigError, match="does not exist"):
        check_output_file(tmp_path / "no" / "x.mcap", "-o")
    (tmp_path / "f").write_text("")
    with pytest.raises(ConfigError, match="is a file, not a folder"):
        check_output_file(tmp_path / "f" / "x.mcap", "-o")
    assert check_output_file(tmp_path / "x.mcap", "-o") == tmp_path / "x.mcap"


def test_record_without_out_does_not_print_a_vanished_report_path(
        tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["record", "--mode", "virtual", "--cycles", "2", "-q",
                 "-o", str(tmp_path / "r.mcap")]) == 0
    out = capsys.readouterr().out
    assert "report: (not kept)" in out and "hil-bench-record-" not in out
