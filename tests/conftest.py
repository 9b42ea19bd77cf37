"""Shared test fixtures: real simulators on real loopback ports (no mocks)."""
from __future__ import annotations

import asyncio
import socket
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest

from drivers.modbus.regmap import RegisterMap, load_map, resolve_map
from drivers.sim.arm import ArmParams
from drivers.sim.modbus_arm import ArmRegisters, start_arm_server

REPO = Path(__file__).resolve().parent.parent


@dataclass
class ServedArm:
    """A simulated arm on a pymodbus TCP server running in a background thread."""

    port: int
    regmap: RegisterMap
    bindings: ArmRegisters
    host: str = "127.0.0.1"


@pytest.fixture
def serve_arm() -> Iterator:
    """Factory: ``serve_arm(params, map_name="native") -> ServedArm``; servers stop at teardown."""
    stops: list = []

    def start(params: ArmParams | None = None, map_name: str = "native",
              device_id: int = 1) -> ServedArm:
        regmap = load_map(resolve_map(map_name))
        box: dict = {}
        ready = threading.Event()

        def run() -> None:
            async def main() -> None:
                server, port, regs = await start_arm_server(regmap, params or ArmParams(),
                                                            device_id=device_id)
                box.update(server=server, port=port, regs=regs, loop=asyncio.get_running_loop())
                ready.set()
                await server.serving
            asyncio.run(main())

        t = threading.Thread(target=run, daemon=True)
        t.start()
        assert ready.wait(10), "simulator did not start"
        stops.append((box, t))
        return ServedArm(port=box["port"], regmap=regmap, bindings=box["regs"])

    yield start
    for box, t in stops:
        asyncio.run_coroutine_threadsafe(box["server"].shutdown(), box["loop"]).result(5)
        t.join(5)


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    """True when nothing accepts connections on host:port."""
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex((host, port)) != 0


def session_events(path: Path) -> tuple[list[dict], list[str], bool]:
    """(bench events, robot command labels, truncated) of a session file, read back for real."""
    from bench.session.reader import SessionReader
    with SessionReader(path) as reader:
        msgs = list(reader.messages())
        truncated = bool(reader.truncated)
    events = [m.data for m in msgs if m.topic == "/bench/event"]
    commands = [m.topic for m in msgs if m.topic == "/robot/command"]
    return events, commands, truncated
