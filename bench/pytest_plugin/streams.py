"""The `udp_link` fixture: UDP devices and streams (video, haptics, telemetry) under the test's
network profile, through the UDP impairment proxy (`hil-bench netem udp`, its own process).

    @pytest.mark.network("5g-urban")
    def test_haptic_stream(udp_link):
        link = udp_link(("127.0.0.1", 5600))      # the stream's receiver (host, port)
        send_to(link.endpoint)                    # (host, port) of the proxy: send here instead
        ...
        link.drain()                              # forward the fates so far to the logs

Profile: the test's ``@pytest.mark.network(...)``, else ``--bench-network``, else the one given
to `udp_link(..., profile=...)`, else `ideal` (the proxy still runs, so every datagram is logged).
Every datagram's fate goes to the test's traffic log and recorded session ("network" events, with
the peer), as the robot link's do. The proxies stop when the test ends.
Failure modes: ConfigError for a bad profile; DeviceError when the proxy does not start.
"""
from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from bench.impair import NetworkProfile, load_profile
from bench.impair.wire import Proxy, udp_proxy
from bench.observer import Observers
from bench.pytest_plugin import network as net
from bench.pytest_plugin.state import STATE
from bench.pytest_plugin.traffic import TrafficLog


@pytest.fixture
def udp_link(request: pytest.FixtureRequest, traffic_log: TrafficLog,
             bench_recorder: Any) -> Iterator[Callable[..., Proxy]]:
    """Factory: ``udp_link((host, port), profile=None) -> Proxy`` (see the module docstring)."""
    st = request.config.stash[STATE]
    item = request.node
    observers = Observers([traffic_log] + ([bench_recorder] if bench_recorder else []))
    stack = contextlib.ExitStack()
    opened: list[Proxy] = []

    def open_link(upstream: tuple[str, int], profile: str | NetworkProfile | None = None) -> Proxy:
        name = net.profile_for(item, st.settings.network) or profile or "ideal"
        prof = name if isinstance(name, NetworkProfile) else load_profile(name)
        px = stack.enter_context(udp_proxy((str(upstream[0]), int(upstream[1])), prof,
                                           net.seed_for(item.nodeid) + len(opened), observers))
        opened.append(px)
        traffic_log.write("udp", "open", f"127.0.0.1:{px.info['port']} -> {upstream[0]}:"
                                         f"{upstream[1]} under {prof.name}")
        return px

    try:
        yield open_link
    finally:
        stack.close()
