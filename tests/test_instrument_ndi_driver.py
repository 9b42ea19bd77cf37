"""The NDI driver through a real serial stack: against a real Polaris's recorded replies, and
against our simulator on a raw pty and on pyserial socket://; the simulator read by ndicapi (NDI's
own C library, an independent client) in a separate process (ndicapy holds the GIL while it
waits)."""
from __future__ import annotations

import json
import math
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from drivers.errors import DeviceTimeout, ProtocolError
from drivers.instrument import ndi_protocol as P
from drivers.instrument.frames import inverse, matrix_of
from drivers.instrument.ndi import NdiSettings, NdiTracker
from drivers.pose import Pose
from drivers.sim.byteserver import PtyServer, TcpServer
from drivers.sim.ndi import NdiResponder
from drivers.sim.tracker import TrackerModel, TrackerParams
from tests.ndi_logs import POLARIS, load

TRACKER = Pose(350.0, -40.0, 1700.0, 170.0, 5.0, 30.0)
ARM = Pose(420.0, 35.0, 280.0, 175.0, -4.0, 60.0)


class RecordedPolaris:
    """Answers each command with the reply the real Polaris gave to the same bytes (in order)."""

    def __init__(self) -> None:
        self.replies: dict[bytes, list[bytes]] = {}
        for e in load(POLARIS):
            self.replies.setdefault(e.command, []).append(e.receive)
        self.buf = b""
        self.sent: list[bytes] = []

    def feed(self, data: bytes) -> bytes:
        self.buf += data
        out = b""
        while b"\r" in self.buf:
            line, self.buf = self.buf.split(b"\r", 1)
            self.sent.append(line + b"\r")
            queue = self.replies.get(line + b"\r")
            out += queue.pop(0) if queue else P.reply("ERROR01")
        return out


def test_driver_reads_a_recorded_polaris_on_a_pty() -> None:
    peer = RecordedPolaris()
    srv = PtyServer(lambda: peer).start()
    try:
        with NdiTracker(NdiSettings(srv.url, reply="tx", tools={"probe": "02"})) as tracker:
            assert tracker.version.startswith("Polaris Control Firmware")
            frames = [tracker.read() for _ in range(40)]
        seen = [m for f in frames for m in f if m.tool == "probe" and m.visible]
        assert seen, "the recording has frames where the probe is visible"
        m = seen[0]
        assert m.rms_mm is not None and 0 < m.rms_mm < 1
        assert sum(v * v for v in m.orientation) == pytest.approx(1.0, abs=1e-12)
        assert [m.tool for m in frames[0]] == ["01", "probe"]
        assert all(not m.visible and m.status == "missing" for f in frames for m in f
                   if m.tool == "01")
        # the driver sent the documented start-up sequence (each line with its CRC)
        names = [s.split(b":")[0] for s in peer.sent]
        assert names[:2] == [b"INIT", b"VER"]
        assert names.index(b"PHSR") < names.index(b"PINIT") < names.index(b"PENA") \
            < names.index(b"TSTART") < names.index(b"TX")
        assert peer.sent[-1] == b"TSTOP:2C14\r"
    finally:
        srv.stop()


def _expected() -> np.ndarray:
    return inverse(matrix_of(TRACKER)) @ matrix_of(ARM)


@pytest.mark.parametrize("transport", ["pty", "socket"])
@pytest.mark.parametrize("reply", ["bx", "tx"])
def test_driver_reads_the_simulated_polaris(transport: str, reply: str) -> None:
    params = TrackerParams(model="ideal", pose=TRACKER)
    make = lambda: NdiResponder(TrackerModel(params, lambda now: ARM, time.monotonic))  # noqa: E731
    srv = (PtyServer(make) if transport == "pty" else TcpServer(make)).start()
    try:
        with NdiTracker(NdiSettings(srv.url, reply=reply, comm_baudrate=115200,
                                    tools={"marker": "01"})) as tracker:
            (m,) = tracker.read()
            later = tracker.read()[0]
    finally:
        srv.stop()
    exp = _expected()
    assert m.tool == "marker" and m.visible and m.status == "ok"
    # TX rounds to 0.01 mm and 1e-4 per quaternion component; BX is float32
    tol = 0.006 if reply == "tx" else 2e-4
    assert np.allclose(m.position_mm, exp[:3, 3], atol=tol)
    got = m.as_pose()
    assert got is not None
    r = matrix_of(Pose(0, 0, 0, got.a, got.b, got.c))[:3, :3]
    angle = math.degrees(math.acos(min(1.0, (np.trace(r.T @ exp[:3, :3]) - 1) / 2)))
    assert angle < (0.02 if reply == "tx" else 1e-3)
    assert later.frame is not None and m.frame is not None and later.frame >= m.frame


def _serve(params: TrackerParams):
    make = lambda: NdiResponder(TrackerModel(params, lambda now: ARM, time.monotonic))  # noqa: E731
    return PtyServer(make).start()


def test_faults_become_typed_errors() -> None:
    srv = _serve(TrackerParams(model="ideal", fault="crc"))
    try:
        with NdiTracker(NdiSettings(srv.url)) as tracker, pytest.raises(ProtocolError,
                                                                         match="CRC"):
            tracker.read()
    finally:
        srv.stop()
    srv = _serve(TrackerParams(model="ideal", fault="silent"))
    try:
        with NdiTracker(NdiSettings(srv.url, timeout_s=0.2)) as tracker:
            t0 = time.monotonic()
            with pytest.raises(DeviceTimeout):
                tracker.read()
            assert time.monotonic() - t0 < 1.0
    finally:
        srv.stop()


def test_missing_tool_and_error_replies() -> None:
    srv = _serve(TrackerParams(model="ideal", fault="missing"))
    try:
        with NdiTracker(NdiSettings(srv.url, reply="tx")) as tracker:
            (m,) = tracker.read()
            assert not m.visible and m.status == "missing" and m.as_pose() is None
            with pytest.raises(P.NdiError) as info:
                tracker.command("PINIT", "77")
            assert info.value.code == 0x08 and "invalid port handle" in str(info.value)
    finally:
        srv.stop()


def test_ndicapi_reads_the_simulator_served_as_its_own_process() -> None:
    ndicapy = pytest.importorskip("ndicapy", reason="ndicapi (test extra) not installed")
    proc = subprocess.Popen([sys.executable, "-m", "bench", "sim", "serve", "--device",
                             "instrument", "--seed", "3"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        ready = json.loads(proc.stdout.readline())
        assert ready["device"] == "instrument" and ready["protocol"] == "ndi"
        assert ready["transport"] == "pty" and ready["url"].startswith("/dev/pts/")
        path = ready["url"]
        assert ndicapy.ndiProbe(path) == 0                # NDI_OKAY: INIT and VER answered
        dev = ndicapy.ndiOpen(path)
        try:
            assert ndicapy.ndiCommand(dev, "INIT:") == "OKAY"
            ndicapy.ndiCommand(dev, "PHSR:02")
            handles = [ndicapy.ndiGetPHSRHandle(dev, i)
                       for i in range(ndicapy.ndiGetPHSRNumberOfHandles(dev))]
            assert handles == [1]
            assert ndicapy.ndiCommand(dev, "PINIT:01") == "OKAY"
            assert ndicapy.ndiCommand(dev, "PENA:01D") == "OKAY"
            assert ndicapy.ndiCommand(dev, "TSTART:") == "OKAY"
            ndicapy.ndiCommand(dev, "TX:0001")
            assert ndicapy.ndiGetError(dev) == 0
            tx = ndicapy.ndiGetTXTransform(dev, b"\x01")
            ndicapy.ndiCommand(dev, "BX:0001")
            assert ndicapy.ndiGetError(dev) == 0
            bx = ndicapy.ndiGetBXTransform(dev, b"\x01")
            # the default tracker hangs 1.5 m above the resting arm, looking down (a = 180 deg)
            for t in (tx, bx):
                q0, qx, qy, qz, x, y, z, err = t
                assert abs(q0) == pytest.approx(1.0, abs=1e-3)
                assert math.dist((x, y, z), (0.0, 0.0, 1500.0)) < 0.6     # Vega noise
                assert err == pytest.approx(0.12, abs=1e-3)
            with pytest.raises(OSError, match="0x08"):
                ndicapy.ndiCommand(dev, "PINIT:77")
            ndicapy.ndiCommand(dev, "TSTOP:")
        finally:
            ndicapy.ndiClose(dev)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=10)
        assert proc.returncode == 0, err
        assert json.loads(out.strip().splitlines()[-1]) == {"event": "stopped"}
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
