"""The `udp_link` fixture: a UDP stream in a bench test goes through the UDP impairment proxy
under the test's network profile, and every datagram's fate lands in the test's traffic log."""
from __future__ import annotations

import pytest

from plugin_support import results, run

pytest_plugins = ["pytester"]

STREAM = """
import socket, time
import pytest

@pytest.mark.network("telesurgery-300ms")
def test_stream_round_trip(udp_link):
    echo = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    echo.bind(("127.0.0.1", 0))
    link = udp_link(echo.getsockname())
    c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    c.settimeout(3)
    echo.settimeout(3)
    t0 = time.monotonic()
    c.sendto(b"frame-1", link.endpoint)
    data, addr = echo.recvfrom(64)                 # 150 ms later, from the proxy
    echo.sendto(b"ack-1", addr)
    assert c.recv(64) == b"ack-1"                  # 150 ms more on the way back
    assert time.monotonic() - t0 >= 0.3
    assert data == b"frame-1"
"""


def test_udp_link_fixture_impairs_and_logs_a_stream(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_stream=STREAM)
    run(pytester).assert_outcomes(passed=1)
    test = results(pytester)["tests"][0]
    log = open(test["traffic_log"]).read()
    assert " udp    open " in log and "under telesurgery-300ms" in log
    assert " net    up   7 B delay 150.0 ms" in log and " net    down 5 B delay 150.0 ms" in log
