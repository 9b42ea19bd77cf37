"""OpenIGTLink both ways with an independent implementation (pyigtl 0.3.4): pyigtl reads our
simulated tracker, our client reads messages pyigtl builds and serves; header/body layouts
checked byte by byte against the protocol documents (openigtlink/OpenIGTLink Documents/Protocol)."""
from __future__ import annotations

import socket
import struct
import threading
import time

import numpy as np
import pytest

from drivers.errors import DeviceTimeout, ProtocolError
from drivers.instrument import igtl_protocol as G
from drivers.instrument.frames import inverse, matrix_of
from drivers.instrument.igtl import IgtlInstrument, IgtlSettings
from drivers.pose import Pose
from drivers.sim.igtl import IgtlServer
from drivers.sim.tracker import TrackerModel, TrackerParams

pyigtl = pytest.importorskip("pyigtl", reason="pyigtl (test extra) not installed")

TRACKER = Pose(380.0, 25.0, 1650.0, 172.0, -3.0, 12.0)
ARM = Pose(430.0, -15.0, 310.0, 178.0, 2.0, 45.0)
MATRIX = np.array([[0.0, -1.0, 0.0, 12.5], [1.0, 0.0, 0.0, -7.25], [0.0, 0.0, 1.0, 1500.0],
                   [0.0, 0.0, 0.0, 1.0]])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_header_and_transform_layout_by_hand() -> None:
    raw = G.pack("TRANSFORM", "ToolToTracker", G.transform_content(MATRIX), 1700000000.5)
    assert len(raw) == 58 + 48
    assert raw[0:2] == b"\x00\x01"                                   # version 1
    assert raw[2:14] == b"TRANSFORM\0\0\0"
    assert raw[14:34] == b"ToolToTracker" + b"\0" * 7
    assert struct.unpack(">II", raw[34:42]) == (1700000000, 0x80000000)   # 0.5 s = 2^31
    assert struct.unpack(">Q", raw[42:50]) == (48,)
    body = raw[58:]
    # rotation column by column, then translation (transform.md)
    assert struct.unpack(">12f", body) == (0.0, 1.0, 0.0, -1.0, 0.0, 0.0, 0.0, 0.0, 1.0,
                                           12.5, -7.25, 1500.0)
    # POSITION: scalar LAST (position.md); NDI sends scalar first
    pos = G.position_content((1.0, 2.0, 3.0), (0.5, 0.5, -0.5, 0.5))
    assert struct.unpack(">7f", pos) == (1.0, 2.0, 3.0, 0.5, -0.5, 0.5, 0.5)
    assert G.parse_position(pos) == ((1.0, 2.0, 3.0), (0.5, 0.5, -0.5, 0.5))


def test_our_frames_equal_pyigtls_bytes_v1_and_v2() -> None:
    for version, meta in ((1, {}), (2, {"TransformStatus": "OK"})):
        msg = pyigtl.TransformMessage(MATRIX, device_name="StylusToTracker",
                                      timestamp=1700000123.0)
        msg.header_version = version
        msg.metadata = dict(meta)
        theirs = msg.pack()
        ours = G.pack("TRANSFORM", "StylusToTracker", G.transform_content(MATRIX),
                      1700000123.0, version, meta)
        assert ours == theirs
        decoded = G.unpack(theirs[:58], theirs[58:])
        assert decoded.metadata == meta and np.allclose(G.parse_transform(decoded.content),
                                                        MATRIX)


def test_crc_mismatch_and_bad_bodies_are_protocol_errors() -> None:
    raw = bytearray(G.pack("TRANSFORM", "T", G.transform_content(MATRIX)))
    raw[60] ^= 0x01
    with pytest.raises(ProtocolError, match="CRC"):
        G.unpack(bytes(raw[:58]), bytes(raw[58:]))
    with pytest.raises(ProtocolError):
        G.parse_transform(b"\0" * 47)
    with pytest.raises(ProtocolError):
        G.parse_tdata(b"\0" * 71)


def _serve(params: TrackerParams, **kw) -> IgtlServer:
    return IgtlServer(TrackerModel(params, lambda now: ARM, time.monotonic), **kw).start()


def test_pyigtl_reads_our_simulated_tracker() -> None:
    srv = _serve(TrackerParams(model="ideal", pose=TRACKER))
    client = pyigtl.OpenIGTLinkClient(port=srv.port)
    try:
        msg = client.wait_for_message("ToolToTracker", timeout=5)
    finally:
        client.stop()
        srv.stop()
    assert msg is not None and msg.device_name == "ToolToTracker"
    expected = inverse(matrix_of(TRACKER)) @ matrix_of(ARM)
    assert np.allclose(msg.matrix, expected, atol=1e-4)       # float32 on the wire
    assert abs(msg.timestamp - time.time()) < 5


@pytest.mark.parametrize("tdata", [False, True])
def test_our_client_reads_our_simulator(tdata: bool) -> None:
    srv = _serve(TrackerParams(model="ideal", pose=TRACKER), position=True)
    tools = {"tool": "Tool" if tdata else "ToolToTracker"}
    try:
        with IgtlInstrument(IgtlSettings(port=srv.port, tools=tools, tdata=tdata)) as inst:
            (m,) = inst.read()
            # the server reads requests on its own thread: the first frame can reach us before
            # it has read our opening request, so wait until it has recorded it
            assert srv.wait_received("STT_TDATA" if tdata else "GET_STATUS", 5.0)
    finally:
        srv.stop()
    expected = inverse(matrix_of(TRACKER)) @ matrix_of(ARM)
    assert m.visible and np.allclose(m.position_mm, expected[:3, 3], atol=1e-3)
    assert ("STT_TDATA" in srv.received) == tdata
    assert ("GET_STATUS" in srv.received) != tdata


def test_our_client_reads_what_pyigtl_serves() -> None:
    port = _free_port()
    server = pyigtl.OpenIGTLinkServer(port=port)            # main thread: it installs handlers
    inst = IgtlInstrument(IgtlSettings(port=port, tools={"stylus": "StylusToTracker",
                                                         "ref": "ReferenceToTracker"},
                                       timeout_s=0.5))
    stop = threading.Event()
    try:
        for _ in range(50):
            try:
                inst.connect()
                break
            except Exception:  # noqa: BLE001 - the server thread is still starting
                time.sleep(0.05)

        def feed() -> None:
            while not stop.is_set():
                msg = pyigtl.TransformMessage(MATRIX, device_name="StylusToTracker")
                msg.header_version = 2
                msg.metadata = {"TransformStatus": "OK"}
                server.send_message(msg, wait=False)
                time.sleep(0.02)
        threading.Thread(target=feed, daemon=True).start()
        stylus, ref = inst.read()
    finally:
        stop.set()
        inst.close()
        server.stop()
    assert stylus.tool == "stylus" and stylus.visible
    assert np.allclose(stylus.position_mm, MATRIX[:3, 3], atol=1e-4)
    assert stylus.orientation == pytest.approx((0.7071068, 0.0, 0.0, 0.7071068), abs=1e-6)
    assert not ref.visible and ref.status == "not_sent"      # PLUS omits unseen tools


def test_faults_silent_and_crc() -> None:
    srv = _serve(TrackerParams(model="ideal", fault="silent"))
    try:
        with IgtlInstrument(IgtlSettings(port=srv.port, timeout_s=0.2)) as inst, \
                pytest.raises(DeviceTimeout):
            inst.read()
    finally:
        srv.stop()
    srv = _serve(TrackerParams(model="ideal", fault="crc"))
    try:
        with IgtlInstrument(IgtlSettings(port=srv.port, timeout_s=1.0)) as inst, \
                pytest.raises(ProtocolError, match="CRC"):
            inst.read()
    finally:
        srv.stop()
