"""pytest hooks of hil-bench (the module the ``pytest11`` entry point loads; fixtures.py holds
the fixtures, state.py the shared state).

Marks: ``hardware(*devices)`` (needs the real devices; no arguments means the robot),
``sim_only`` (acts on a simulator; skipped on real hardware), ``network(profile)`` (one test under
a network profile). Fixtures: ``bench`` (session), ``robot``, ``modem``, ``instrument``,
``network``, ``measure``, ``traffic_log``. The plugin is inert for tests that use none of them.
"""
from __future__ import annotations

import dataclasses
import json
from datetime import datetime
from pathlib import Path
from typing import Any, Generator, Iterator

import pytest

from bench.lab import load_lab
from bench.pytest_plugin import network as net
# the fixtures are registered by being attributes of this plugin module
from bench.pytest_plugin.fixtures import (bench, bench_recorder, instrument,  # noqa: F401
                                          measure, modem, network, robot, site, site_benches,
                                          traffic_log)
from bench.pytest_plugin.devices import (ABSENT, MISSING, REAL, DeviceState, mode_problem,
                                         resolve_devices)
from bench.pytest_plugin.measure import MEASUREMENTS, describe, failed_measurements
from bench.pytest_plugin.options import add_options, settings_from_config
from bench.pytest_plugin.state import (FAIL_REASON, IMPAIRED, OUTCOME, RECORDING, ROBOT_NAME,
                                       STATE, TRAFFIC, USED, State, hardware_devices, how_to_run,
                                       unavailable)
from drivers.errors import BenchError

MARKS = [
    "hardware(*devices): needs the real devices (robot, modem, instrument; none named: robot); "
    "skipped with how to run it when they are not there (sim mode, auto fallback), failed when a declared "
    "device is missing in hw/auto mode (--bench-allow-missing skips) or under --bench-strict",
    "sim_only: acts on a device simulator itself (fault injection); skipped on real hardware",
    "network(profile): run this test under a network impairment profile (name or file)",
]


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)


def pytest_configure(config: pytest.Config) -> None:
    for mark in MARKS:
        config.addinivalue_line("markers", mark)
    settings = settings_from_config(config)
    workerinput = getattr(config, "workerinput", None)
    shared = json.loads(workerinput["hil_bench"]) if workerinput and "hil_bench" in workerinput \
        else None
    if shared is not None:      # an xdist worker: the controller's paths and decisions
        settings = dataclasses.replace(
            settings, hardware=shared["hardware"],
            record=Path(shared["record"]) if shared["record"] else None)
    if settings.network is not None:
        net.check_available(settings.network)
    try:
        lab = load_lab(settings.hardware)
    except BenchError as exc:
        raise pytest.UsageError(f"--bench-hardware: {exc}") from None
    if shared is not None:
        devices = {k: DeviceState.from_dict(v) for k, v in shared["devices"].items()}
        out_dir = Path(shared["out"])
        worker = str((workerinput or {}).get("workerid", "gw?"))
    else:
        base = config.invocation_params.dir
        # absolute paths, so workers (possibly started elsewhere) write to the same places
        settings = dataclasses.replace(
            settings, hardware=str(lab.path.resolve()),
            record=(base / settings.record) if settings.record else None)
        problem = mode_problem(lab, settings.mode)
        if problem:
            raise pytest.UsageError(problem)
        devices = resolve_devices(lab, settings.mode, settings.probe_timeout_s)
        out_dir = settings.out if settings.out else Path(
            "runs") / f"pytest-{datetime.now().strftime('%Y%m%d-%H%M%S')}"
        out_dir = out_dir if out_dir.is_absolute() else base / out_dir
        worker = "main"
        nproc = getattr(config.option, "numprocesses", None)
        real = [d.name for d in devices.values() if d.use == REAL]
        if real and nproc not in (None, 0, 1):
            raise pytest.UsageError(
                f"real {', '.join(real)} cannot be shared by several pytest-xdist workers "
                f"(-n {nproc}): run hardware tests without -n, or with --bench-mode sim")
    config.stash[STATE] = State(settings, lab, devices, out_dir, worker)


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """xdist controller: hand the run's device decisions and output folder to each worker."""
    st = node.config.stash[STATE]
    node.workerinput["hil_bench"] = json.dumps(
        {"devices": {k: v.as_dict() for k, v in st.devices.items()}, "out": str(st.out_dir),
         "hardware": st.settings.hardware,
         "record": str(st.settings.record) if st.settings.record else None})


def pytest_report_header(config: pytest.Config) -> list[str]:
    st = config.stash.get(STATE, None)
    if st is None or (st.settings.mode == "sim" and not st.lab.has_real_hardware):
        return []
    return [f"hil-bench: lab {st.lab.name} ({st.lab.path}), mode {st.settings.mode}"
            + (", strict" if st.settings.strict else "") + (", ARMED" if st.settings.arm else "")]


# -- marks -----------------------------------------------------------------------------------
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Decide marks up front, so skip reasons point at the test, not at the plugin."""
    st = config.stash[STATE]
    for item in items:
        needed = hardware_devices(item)
        if needed:
            item.stash[USED] = True
            for name in needed:
                dev = st.devices.get(name) or DeviceState(name, ABSENT, ABSENT, "unknown device")
                if dev.use != REAL:
                    unavailable(item, st, f"needs the real {name}, which this run does not have "
                                           f"({dev.describe()}); {how_to_run(st)}",
                                 at_collection=True, dev=dev)
                    break
        if item.get_closest_marker("sim_only") is not None:
            real = [d.name for d in st.devices.values() if d.use == REAL]
            if real:
                item.add_marker(pytest.mark.skip(
                    reason=f"sim_only: acts on the simulator, but this run uses real "
                           f"{', '.join(real)}"))
        mark = item.get_closest_marker("network")
        if mark is not None:
            item.stash[USED] = True
            if len(mark.args) != 1:
                raise pytest.UsageError(f"{item.nodeid}: @pytest.mark.network takes one profile "
                                        f"name or file")
            problem = net.mark_problem(str(mark.args[0]))
            if problem:      # a typo in a profile name fails the test, it never skips it
                item.stash[FAIL_REASON] = problem


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    reason = item.stash.get(FAIL_REASON, None)
    if reason is not None:
        pytest.fail(reason, pytrace=False)
    result = yield
    failed = failed_measurements(item)
    if failed:
        pytest.fail("measurement outside its limit: " + "; ".join(describe(m) for m in failed),
                    pytrace=False)
    return result


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item,
                              call: pytest.CallInfo) -> Generator[None, Any, Any]:
    # Any: the report gets our own `hil_bench` attribute (read by the results writer)
    report: Any = yield
    if report.when == "call":
        item.stash[OUTCOME] = report.outcome          # the verdict a session recording ends with
    elif report.failed:
        item.stash[OUTCOME] = "error"
    if not item.stash.get(USED, False):
        return report
    st = item.config.stash[STATE]
    log = item.stash.get(TRAFFIC, None)
    used = getattr(item, "fixturenames", ())
    devices = {k: {"use": d.use} for k, d in st.devices.items() if k in used}
    if ROBOT_NAME in item.stash:
        devices["robot"]["name"] = item.stash[ROBOT_NAME]
    report.hil_bench = {"worker": st.worker,
                        "measurements": [m.as_dict() for m in item.stash.get(MEASUREMENTS, [])],
                        "traffic_log": str(log.path) if log else None,
                        "devices": devices}
    if RECORDING in item.stash:
        report.hil_bench["session"] = item.stash[RECORDING]
    impaired = item.stash.get(IMPAIRED, None)
    if impaired is not None:
        report.hil_bench["network"] = {"profile": impaired.profile_name, "seed": impaired.seed}
    if report.failed and log is not None and log.lines:
        tail = "\n".join(log.tail(15))
        report.sections.append(("hil-bench traffic log",
                                f"full log: {log.path}\nlast lines:\n{tail}"))
    return report


class _Recorder:
    """Registered on the reporting process: folds reports into the run record."""

    def __init__(self, state: State) -> None:
        self.state = state

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.state.record.add(report)


def pytest_sessionstart(session: pytest.Session) -> None:
    cfg = session.config
    if getattr(cfg, "workerinput", None) is None:
        cfg.pluginmanager.register(_Recorder(cfg.stash[STATE]), "hil-bench-recorder")


def pytest_sessionfinish(session: pytest.Session) -> None:
    cfg = session.config
    st = cfg.stash.get(STATE, None)
    if st is None or getattr(cfg, "workerinput", None) is not None or not st.record.bench_used:
        return
    st.record.write(st.out_dir / "results.json", st.settings.as_dict(),
                    {"name": st.lab.name, "path": str(st.lab.path)}, st.devices)


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    st = config.stash.get(STATE, None)
    if st is None:
        return
    fallback = any(d.fallback or d.use == MISSING for d in st.devices.values())
    if not (st.record.bench_used or fallback or st.settings.mode != "sim"):
        return
    tr = terminalreporter
    tr.section("hil-bench")
    tr.write_line(f"lab {st.lab.name} ({st.lab.path}), mode {st.settings.mode}"
                  + (", strict" if st.settings.strict else "")
                  + (", armed" if st.settings.arm else ", not armed"))
    for d in st.devices.values():
        if d.use == ABSENT:
            continue
        line = f"  {d.describe()}"
        if d.fallback:
            tr.write_line(line + " -> FELL BACK TO THE SIMULATOR", yellow=True, bold=True)
        elif d.use == MISSING:
            tr.write_line(line, red=True, bold=True)
        else:
            tr.write_line(line)
    if st.record.bench_used:
        c = st.record.measurement_counts()
        tr.write_line(f"measurements: {c['pass']} pass, {c['marginal']} marginal, "
                      f"{c['fail']} fail")
        tr.write_line(f"traffic logs and results.json: {st.out_dir}")


# -- fixtures --------------------------------------------------------------------------------


# the UDP stream fixture (bench/pytest_plugin/streams.py), registered like the others above
from bench.pytest_plugin.streams import udp_link  # noqa: E402, F401
