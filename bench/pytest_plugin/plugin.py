"""pytest hooks and fixtures of hil-bench (the module the ``pytest11`` entry point loads).

Marks: ``hardware(*devices)`` (needs the real devices; no arguments means the robot),
``sim_only`` (acts on a simulator; skipped on real hardware), ``network(profile)`` (one test under
a network profile). Fixtures: ``bench`` (session), ``robot``, ``modem``, ``network``, ``measure``,
``traffic_log``. The plugin is inert for tests that use none of them.
"""
from __future__ import annotations

import json
import time
from datetime import datetime
from pathlib import Path
from typing import Any, Iterator

import pytest

from bench.lab import Lab, load_lab
from bench.observer import Observers
from bench.pytest_plugin import network as net
from bench.pytest_plugin.arm import BenchArm
from bench.pytest_plugin.bench import Bench
from bench.pytest_plugin.devices import ABSENT, MISSING, REAL, DeviceState, resolve_devices
from bench.pytest_plugin.measure import MEASUREMENTS, Measure, describe, failed_measurements
from bench.pytest_plugin.modem import BenchModem
from bench.pytest_plugin.options import Settings, add_options, settings_from_config
from bench.pytest_plugin.results import RunRecord
from bench.pytest_plugin.traffic import TrafficLog, log_name
from drivers.errors import BenchError, DeviceError
from drivers.robot import ArmState, RobotArm

MARKS = [
    "hardware(*devices): needs the real devices (robot, modem; none named: robot); skipped with "
    "how to run it when they are not there, failed under --bench-strict",
    "sim_only: acts on a device simulator itself (fault injection); skipped on real hardware",
    "network(profile): run this test under a network impairment profile (name or file)",
]


class State:
    """Per-config state of the plugin (kept in config.stash, never in module globals)."""

    def __init__(self, settings: Settings, lab: Lab, devices: dict[str, DeviceState],
                 out_dir: Path, worker: str) -> None:
        self.settings = settings
        self.lab = lab
        self.devices = devices
        self.out_dir = out_dir
        self.worker = worker
        self.record = RunRecord()


STATE = pytest.StashKey[State]()
FAIL_REASON = pytest.StashKey[str]()
USED = pytest.StashKey[bool]()
TRAFFIC = pytest.StashKey[TrafficLog]()
ROBOT_NAME = pytest.StashKey[str]()
IMPAIRED = pytest.StashKey[Any]()
OUTCOME = pytest.StashKey[str]()
RECORDING = pytest.StashKey[str]()


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)


def pytest_configure(config: pytest.Config) -> None:
    for mark in MARKS:
        config.addinivalue_line("markers", mark)
    settings = settings_from_config(config)
    if settings.network is not None:
        net.check_available(settings.network)
    try:
        lab = load_lab(settings.hardware)
    except BenchError as exc:
        raise pytest.UsageError(f"--bench-hardware: {exc}") from None
    workerinput = getattr(config, "workerinput", None)
    if workerinput is not None and "hil_bench" in workerinput:
        shared = json.loads(workerinput["hil_bench"])
        devices = {k: DeviceState.from_dict(v) for k, v in shared["devices"].items()}
        out_dir = Path(shared["out"])
        worker = str(workerinput.get("workerid", "gw?"))
    else:
        devices = resolve_devices(lab, settings.mode, settings.probe_timeout_s)
        base = config.invocation_params.dir
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
        {"devices": {k: v.as_dict() for k, v in st.devices.items()}, "out": str(st.out_dir)})


def pytest_report_header(config: pytest.Config) -> list[str]:
    st = config.stash.get(STATE, None)
    if st is None or (st.settings.mode == "sim" and st.settings.hardware == "sim"):
        return []
    return [f"hil-bench: lab {st.lab.name} ({st.lab.path}), mode {st.settings.mode}"
            + (", strict" if st.settings.strict else "") + (", ARMED" if st.settings.arm else "")]


# -- marks -----------------------------------------------------------------------------------
def _hardware_devices(item: pytest.Item) -> list[str]:
    names: list[str] = []
    for mark in item.iter_markers("hardware"):
        names += [str(a) for a in mark.args] or ["robot"]
    return list(dict.fromkeys(names))


def _how_to_run(st: State) -> str:
    lab = st.lab.path if st.lab.has_real_hardware else "LAB.yaml"
    return f"run on the bench with: pytest --bench-mode hw --bench-hardware {lab} --bench-arm"


def _unavailable(item: pytest.Item, st: State, reason: str, at_collection: bool = False) -> None:
    """Skip the test, or under --bench-strict in hw/auto mode mark it to fail in its call."""
    if st.settings.strict and st.settings.mode != "sim":
        item.stash[FAIL_REASON] = f"--bench-strict: {reason}"
    elif at_collection:
        item.add_marker(pytest.mark.skip(reason=reason))
    else:
        pytest.skip(reason)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Decide marks up front, so skip reasons point at the test, not at the plugin."""
    st = config.stash[STATE]
    for item in items:
        needed = _hardware_devices(item)
        if needed:
            item.stash[USED] = True
            for name in needed:
                dev = st.devices.get(name) or DeviceState(name, ABSENT, ABSENT, "unknown device")
                if dev.use != REAL:
                    _unavailable(item, st, f"needs the real {name}, which this run does not have "
                                           f"({dev.describe()}); {_how_to_run(st)}",
                                 at_collection=True)
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
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[Any]:
    report = yield
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
@pytest.fixture(scope="session")
def bench(request: pytest.FixtureRequest) -> Iterator[Bench]:
    """The session's lab: devices opened on first use, closed at the end even after failures."""
    st = request.config.stash[STATE]
    b = Bench(st.lab, st.settings, st.devices, st.out_dir, st.worker)
    try:
        yield b
    finally:
        b.close()


@pytest.fixture
def traffic_log(request: pytest.FixtureRequest) -> Iterator[TrafficLog]:
    """This test's traffic log (`<out>/traffic/<test id>.log`); devices write into it."""
    st = request.config.stash[STATE]
    item = request.node
    item.stash[USED] = True
    log = TrafficLog(st.out_dir / "traffic" / log_name(item.nodeid),
                     f"{item.nodeid} (worker {st.worker}, lab {st.lab.name}, "
                     f"mode {st.settings.mode})")
    item.stash[TRAFFIC] = log
    try:
        yield log
    finally:
        log.close()


class _Unavailable:
    """Stands in for a device in a test that --bench-strict fails before its body runs."""

    def __init__(self, reason: str) -> None:
        self._reason = reason

    def __getattr__(self, name: str) -> Any:
        raise DeviceError(self._reason)


@pytest.fixture
def robot(request: pytest.FixtureRequest, bench: Bench, traffic_log: TrafficLog,
          bench_recorder: Any) -> Iterator[RobotArm]:
    """The lab's robot for this test: guarded (arming, workspace) and logged (traffic log)."""
    item = request.node
    st = request.config.stash[STATE]
    dev = st.devices["robot"]
    if FAIL_REASON in item.stash:
        yield _Unavailable(item.stash[FAIL_REASON])  # type: ignore[misc]
        return
    if dev.use in (MISSING, ABSENT):
        _unavailable(item, st, f"robot not available: {dev.describe()}")
        yield _Unavailable(item.stash[FAIL_REASON])  # type: ignore[misc]
        return
    inner = bench.robot_arm()
    item.stash[ROBOT_NAME] = inner.name
    traffic_log.write("robot", "open", inner.name)
    inner.set_wire_tap(traffic_log.wire("robot"))
    observers = Observers([traffic_log] + ([bench_recorder] if bench_recorder else []))
    if bench_recorder is not None:
        bench_recorder.on_event(time.monotonic_ns(), "open", {"device": "robot",
                                                              "name": inner.name})
    link = getattr(st.lab.robot.spec, "link", None)
    profile = net.profile_for(item, st.settings.network)
    wire = bench.robot_wire()
    if wire is not None:            # the test's own connection through the proxy, tapped too
        endpoint, opener = wire

        def open_tapped(ep: tuple[str, int]) -> RobotArm:
            arm = opener(ep)
            arm.set_wire_tap(traffic_log.wire("robot"))
            return arm
        wire = (endpoint, open_tapped)
    linked, impaired = net.wrap(item, inner, profile, observers,
                                timeout_s=getattr(link, "timeout_s", 0.5),
                                retries=getattr(link, "retries", 0),
                                force="network" in getattr(item, "fixturenames", ()),
                                wire=wire)
    if impaired is not None:
        item.stash[IMPAIRED] = impaired
        traffic_log.write("robot", "net", f"profile {impaired.profile_name} "
                                          f"(seed {impaired.seed})")
    arm = BenchArm(linked, observers, real=dev.use == REAL, armed=st.settings.arm,
                   workspace=st.lab.robot.workspace, lab_path=str(st.lab.path))
    try:
        yield arm
    finally:
        if isinstance(impaired, net.ProxiedArm):
            impaired.close()
        _leave_still(inner, traffic_log)
        inner.set_wire_tap(None)


@pytest.fixture
def bench_recorder(request: pytest.FixtureRequest) -> Iterator[Any]:
    """Under --bench-record DIR: this test's session recorder (one MCAP file), else None.

    The file ends with the test's outcome as its verdict.
    """
    item = request.node
    st = request.config.stash[STATE]
    if st.settings.record is None:
        yield None
        return
    from bench.session import SessionRecorder   # only runs that record need mcap loaded
    base = st.settings.record
    base = base if base.is_absolute() else item.config.invocation_params.dir / base
    path = base / (log_name(item.nodeid)[:-len(".log")] + ".mcap")
    rec = SessionRecorder(path, extra={"test": item.nodeid})
    rec.on_start(time.monotonic_ns(), {
        "lab": {"name": st.lab.name, "source": str(st.lab.path)},
        "mode": "wire", "bench_mode": st.settings.mode, "worker": st.worker,
        "network": net.profile_for(item, st.settings.network)})
    item.stash[RECORDING] = str(path)
    try:
        yield rec
    finally:
        rec.on_end(time.monotonic_ns(), item.stash.get(OUTCOME, "error"), None)


def _leave_still(arm: RobotArm, log: TrafficLog) -> None:
    """After a test: a robot still moving (the test failed mid-motion) is sent a stop."""
    try:
        if arm.read_status().state is ArmState.MOVING:
            log.write("robot", "stop", "still moving at the end of the test: stop sent")
            arm.stop()
    except BenchError as exc:
        log.write("robot", "error", f"after the test: {exc}")


@pytest.fixture
def modem(request: pytest.FixtureRequest, bench: Bench, traffic_log: TrafficLog,
          bench_recorder: Any) -> Iterator[Any]:
    """The lab's modem for this test (its link readings logged), opened once per session."""
    item = request.node
    st = request.config.stash[STATE]
    dev = st.devices["modem"]
    if FAIL_REASON in item.stash:
        yield _Unavailable(item.stash[FAIL_REASON])
        return
    if dev.use in (MISSING, ABSENT):
        _unavailable(item, st, f"modem not available: {dev.describe()}")
        yield _Unavailable(item.stash[FAIL_REASON])
        return
    inner = bench.modem_device()
    traffic_log.write("modem", "open", inner.name)
    inner.set_wire_tap(traffic_log.wire("modem", text=True))
    try:
        yield BenchModem(inner, Observers([traffic_log]
                                          + ([bench_recorder] if bench_recorder else [])))
    finally:
        inner.set_wire_tap(None)


@pytest.fixture
def network(request: pytest.FixtureRequest, robot: RobotArm) -> net.NetworkControl:
    """The robot link's impairment for this test: ``network.set("coverage-hole")``, ``.off()``.

    Starts with the test's profile (its network mark, else --bench-network, else ideal).
    """
    impaired = request.node.stash.get(IMPAIRED, None)
    if impaired is None:        # no robot: --bench-strict fails this test before its body runs
        return _Unavailable(request.node.stash.get(FAIL_REASON, "network: no robot link"))
    return net.NetworkControl(impaired)


@pytest.fixture
def measure(request: pytest.FixtureRequest) -> Measure:
    """``measure(name, value, unit, max=, marginal=)``: record a judged measurement."""
    request.node.stash[USED] = True
    return Measure(request.node)
