"""The installed distribution: only this project's packages, data found by name from anywhere.

Builds the real wheel (setuptools' PEP 517 backend, the same one `pip install .` uses) from a copy
of the source tree, checks its file list, then unpacks it (a pure-Python wheel installs by
unpacking) into an empty folder and runs the bench from another directory with only that folder
on the path: built-in labs, networks, sessions, traces and register maps must come from the
package data, and the repository's top-level folder names must not be importable.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
#: what the wheel may put at the top of site-packages
OWN_TOP_LEVEL = {"bench", "drivers"}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    src = tmp_path_factory.mktemp("src")
    for name in ("bench", "drivers", "hardware", "fixtures"):
        shutil.copytree(REPO / name, src / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("setup.py", "pyproject.toml", "README.md"):
        shutil.copy(REPO / name, src / name)
    dist = tmp_path_factory.mktemp("dist")
    build = ("import sys; from setuptools import build_meta; "
             "print(build_meta.build_wheel(sys.argv[1]))")
    done = subprocess.run([sys.executable, "-c", build, str(dist)], cwd=src, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return dist / done.stdout.strip().splitlines()[-1]


def test_wheel_holds_only_bench_and_drivers(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    top = {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")}
    assert top == OWN_TOP_LEVEL, f"foreign top-level folders in the wheel: {top - OWN_TOP_LEVEL}"
    assert not any(n.startswith(("benchmarks/", "tests/", "fixtures/", "hardware/"))
                   for n in names)


def test_wheel_carries_every_data_file_of_the_repository(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {f"bench/data/labs/{p.name}" for p in (REPO / "hardware").glob("*.yaml")}
    expected |= {f"drivers/data/maps/{p.name}" for p in (REPO / "hardware/maps").glob("*.yaml")}
    expected |= {f"bench/data/networks/{p.name}"
                 for p in (REPO / "fixtures/networks").glob("*.yaml")}
    expected |= {f"bench/data/sessions/{p.name}" for p in (REPO / "fixtures/sessions").iterdir()
                 if p.suffix in (".mcap", ".md")}
    # the traces travel with their licence and attribution (CC BY 4.0)
    expected |= {f"drivers/data/traces/{p.name}" for p in (REPO / "fixtures/traces").iterdir()
                 if p.suffix in (".txt", ".md")}
    expected |= {f"bench/scenarios/{p.name}" for p in (REPO / "bench/scenarios").glob("*.yaml")}
    assert len(expected) > 25
    assert expected <= names, f"missing from the wheel: {sorted(expected - names)}"


#: runs inside the unpacked wheel, from another directory: one interpreter for every check (each
#: start costs about a second of imports); prints one JSON object
CHECKS = r"""
import contextlib, io, json, sys
import bench, drivers
from bench.cli import main
from bench.impair import load_profile
from bench.lab import load_lab
from drivers.modbus.regmap import load_map, resolve_map

out = {"files": [bench.__file__, drivers.__file__]}
for foreign in ("fixtures", "hardware", "benchmarks"):
    try:
        __import__(foreign)
        out[foreign] = "importable"
    except ModuleNotFoundError:
        out[foreign] = "absent"
for argv in (["replay", "iso-cube", "--json"], ["trace", "info", "urban-n78", "--json"],
             ["session", "info", "screw-guide", "--json"]):
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        rc = main(argv)
    out[argv[0]] = {"rc": rc, "result": json.loads(buf.getvalue())}
lab = load_lab("sim5g")                 # a lab whose simulated modem follows a shipped trace
out["lab"] = [lab.name, str(lab.path)]
out["map"] = sorted(load_map(resolve_map("ur")).fields)[:3]
out["profile"] = str(load_profile("5g-weak-to-strong").trace.path)
print(json.dumps(out))
"""


def test_installed_wheel_works_from_another_directory(wheel: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    done = subprocess.run([sys.executable, "-c", CHECKS], cwd=elsewhere, capture_output=True,
                          text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(site)})
    assert done.returncode == 0, done.stderr[-2000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert all(f.startswith(str(site)) for f in out["files"]), out["files"]
    assert (out["fixtures"], out["hardware"], out["benchmarks"]) == ("absent",) * 3
    replay = out["replay"]
    assert replay["rc"] == 0 and replay["result"]["verdict_replay"] == "pass"
    assert replay["result"]["commands"] > 100 and replay["result"]["session"].startswith(str(site))
    assert out["trace"]["rc"] == 0
    assert out["trace"]["result"]["rows"] == 1094        # fixtures/traces/README.md
    assert out["session"]["rc"] == 0 and out["session"]["result"]["messages"] > 100
    assert out["lab"][0] == "sim5g" and out["lab"][1].startswith(str(site))
    assert out["map"] and out["profile"].startswith(str(site / "drivers/data/traces"))


def test_wheel_brings_pytest_for_its_plugin(wheel: Path) -> None:
    """The plugin is a main use (docs/pytest-plugin.md): installing must be enough to run it."""
    z = zipfile.ZipFile(wheel)
    dist_info = next(n.split("/")[0] for n in z.namelist() if n.endswith(".dist-info/METADATA"))
    requires = [line.split(":", 1)[1].strip() for line in
                z.read(f"{dist_info}/METADATA").decode().splitlines()
                if line.startswith("Requires-Dist:") and "extra ==" not in line]
    assert any(r.replace(" ", "").startswith("pytest>=") for r in requires), requires
    entry_points = z.read(f"{dist_info}/entry_points.txt").decode()
    assert "[pytest11]" in entry_points and "bench.pytest_plugin.plugin" in entry_points
