"""The plugin's fixtures: `bench` (session), `robot`, `modem`, `network`, `measure`,
`traffic_log`, `bench_recorder`. See docs/pytest-plugin.md.
"""
from __future__ import annotations

import time
from typing import Any, Iterator

import pytest

from bench.lab import Lab
from bench.observer import Observers
from bench.pytest_plugin import network as net
from bench.pytest_plugin.arm import BenchArm
from bench.pytest_plugin.bench import Bench
from bench.pytest_plugin.devices import ABSENT, MISSING, REAL
from bench.pytest_plugin.measure import Measure
from bench.pytest_plugin.instrument import BenchInstrument
from bench.pytest_plugin.modem import BenchModem
from bench.pytest_plugin.state import (
    FAIL_REASON,
    IMPAIRED,
    OUTCOME,
    RECORDING,
    ROBOT_NAME,
    STATE,
    TRAFFIC,
    USED,
    Unavailable,
    unavailable,
)
from bench.pytest_plugin.traffic import TrafficLog, log_name
from drivers.endpoint import Endpoint
from drivers.errors import BenchError
from drivers.robot import ArmState, RobotArm


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
def site(request: pytest.FixtureRequest) -> str | None:
    """The site of a lab with `sites:` whose devices this test gets (None: the lab's first site).
    Parametrize it: ``@pytest.mark.parametrize("site", ["karamay", "tianjin"], indirect=True)``,
    or override the fixture in a conftest."""
    return getattr(request, "param", None)


@pytest.fixture(scope="session")
def site_benches() -> Iterator[dict[str, Bench]]:
    """One `Bench` per site asked for by a test (the session's `bench` is the first site's)."""
    benches: dict[str, Bench] = {}
    try:
        yield benches
    finally:
        for b in benches.values():
            b.close()


def _for_site(request: pytest.FixtureRequest, bench: Bench, site: str | None) -> tuple[Bench, Lab]:
    """The Bench and lab of `site` (the session's own for None)."""
    st = request.config.stash[STATE]
    if site is None:
        return bench, st.lab
    lab = st.lab.site_lab(site)
    benches = request.getfixturevalue("site_benches")
    if site not in benches:
        benches[site] = Bench(lab, st.settings, st.devices, st.out_dir, st.worker)
    return benches[site], lab


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


@pytest.fixture
def robot(request: pytest.FixtureRequest, bench: Bench, traffic_log: TrafficLog,
          bench_recorder: Any, site: str | None) -> Iterator[RobotArm]:
    """The lab's robot (the `site`'s, in a lab with sites) for this test: guarded (arming,
    workspace) and logged (traffic log)."""
    item = request.node
    st = request.config.stash[STATE]
    bench, lab = _for_site(request, bench, site)
    dev = st.devices["robot"]
    if FAIL_REASON in item.stash:
        yield Unavailable(item.stash[FAIL_REASON])  # type: ignore[misc]
        return
    if dev.use in (MISSING, ABSENT):
        unavailable(item, st, f"robot not available: {dev.describe()}", dev=dev)
        yield Unavailable(item.stash[FAIL_REASON])  # type: ignore[misc]
        return
    inner = bench.robot_arm()
    item.stash[ROBOT_NAME] = inner.name
    traffic_log.write("robot", "open", inner.name)
    inner.set_wire_tap(traffic_log.wire("robot"))
    impaired: Any = None
    try:
        observers = Observers([traffic_log] + ([bench_recorder] if bench_recorder else []))
        if bench_recorder is not None:
            bench_recorder.on_event(time.monotonic_ns(), "open", {"device": "robot",
                                                                  "name": inner.name})
        linked, impaired = _linked(request, bench, inner, observers, traffic_log, lab)
        if impaired is not None:
            item.stash[IMPAIRED] = impaired
            traffic_log.write("robot", "net", f"profile {impaired.profile_name} "
                                              f"(seed {impaired.seed})")
        yield BenchArm(linked, observers, real=dev.use == REAL, armed=st.settings.arm,
                       workspace=lab.robot.workspace, lab_path=str(lab.path))
    finally:
        if isinstance(impaired, net.ProxiedArm):
            impaired.close()
        _leave_still(inner, traffic_log)
        inner.set_wire_tap(None)


def _linked(request: pytest.FixtureRequest, bench: Bench, inner: RobotArm, observers: Observers,
            traffic_log: TrafficLog, lab: Lab) -> tuple[RobotArm, Any]:
    """The arm under the test's network profile (see network.py), and its impairment handle."""
    item = request.node
    st = request.config.stash[STATE]
    spec = lab.robot.spec
    wire = bench.robot_wire()
    if wire is not None:            # the test's own connection through the proxy, tapped too
        endpoint, opener = wire

        def open_tapped(ep: Endpoint | tuple[str, int] | str) -> RobotArm:
            arm = opener(ep)
            arm.set_wire_tap(traffic_log.wire("robot"))
            return arm
        wire = (endpoint, open_tapped)
    return net.wrap(item, inner, net.profile_for(item, st.settings.network), observers,
                    timeout_s=spec.timeout_s, retries=spec.retries,
                    force="network" in getattr(item, "fixturenames", ()), wire=wire)


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
    from bench.session import SessionRecorder  # only runs that record need mcap loaded
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
          bench_recorder: Any, site: str | None) -> Iterator[Any]:
    """The lab's modem (the `site`'s) for this test (its link readings logged), opened once per
    session."""
    item = request.node
    st = request.config.stash[STATE]
    bench, lab = _for_site(request, bench, site)
    dev = st.devices["modem"]
    if FAIL_REASON in item.stash:
        yield Unavailable(item.stash[FAIL_REASON])
        return
    if dev.use in (MISSING, ABSENT):
        unavailable(item, st, f"modem not available: {dev.describe()}", dev=dev)
        yield Unavailable(item.stash[FAIL_REASON])
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
def instrument(request: pytest.FixtureRequest, bench: Bench, traffic_log: TrafficLog,
               bench_recorder: Any) -> Iterator[Any]:
    """The lab's measuring instrument for this test (its frames logged), opened once per
    session; simulated, it watches the simulated arm's true pose."""
    item = request.node
    st = request.config.stash[STATE]
    dev = st.devices["instrument"]
    if FAIL_REASON in item.stash:
        yield Unavailable(item.stash[FAIL_REASON])
        return
    if dev.use in (MISSING, ABSENT):
        unavailable(item, st, f"instrument not available: {dev.describe()}")
        yield Unavailable(item.stash[FAIL_REASON])
        return
    inner = bench.instrument_device()
    traffic_log.write("instrument", "open", inner.name)
    yield BenchInstrument(inner, Observers([traffic_log]
                                           + ([bench_recorder] if bench_recorder else [])))


@pytest.fixture
def network(request: pytest.FixtureRequest, robot: RobotArm) -> net.NetworkControl | Unavailable:
    """The robot link's impairment for this test: ``network.set("coverage-hole")``, ``.off()``.

    Starts with the test's profile (its network mark, else --bench-network, else ideal).
    """
    impaired = request.node.stash.get(IMPAIRED, None)
    if impaired is None:        # no robot: a fail rule (state.fail_rule) fails this test first
        return Unavailable(request.node.stash.get(FAIL_REASON, "network: no robot link"))
    return net.NetworkControl(impaired)


@pytest.fixture
def measure(request: pytest.FixtureRequest) -> Measure:
    """``measure(name, value, unit, max=, marginal=)``: record a judged measurement."""
    request.node.stash[USED] = True
    return Measure(request.node)
