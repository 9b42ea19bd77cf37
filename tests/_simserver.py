"""Test helper: a simulated arm served by `start_arm_server` on its own event-loop thread.

Used by the test_modbus_* / test_simarm_* modules (imported by name: pytest puts tests/ on sys.path).
"""
from __future__ import annotations

import asyncio
import threading
from typing import Any, Callable

from drivers.modbus.regmap import RegisterMap, load_map, resolve_map
from drivers.sim.arm import ArmParams
from drivers.sim.modbus_arm import ServedArm, start_arm_server


class SimServer:
    """``with SimServer("ur", transport="rtu-tcp") as s: s.url, s.endpoint``."""

    def __init__(self, regmap: RegisterMap | str, params: ArmParams | None = None,
                 transport: str = "tcp", device_id: int = 1,
                 clock: Callable[[], float] | None = None) -> None:
        self.regmap = load_map(resolve_map(regmap)) if isinstance(regmap, str) else regmap
        self.params = params or ArmParams(seed=7)
        self.transport = transport
        self.device_id = device_id
        self.clock = clock
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.served: ServedArm | None = None

    def run(self, coro: Any, timeout: float = 5.0) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def __enter__(self) -> "SimServer":
        self.thread.start()
        kw = {"clock": self.clock} if self.clock else {}
        self.served = self.run(start_arm_server(self.regmap, self.params, "127.0.0.1", 0,
                                                self.device_id, transport=self.transport, **kw))
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.served is not None:
            self.run(self.served.shutdown())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()

    @property
    def endpoint(self) -> tuple[str, int] | str:
        assert self.served is not None
        return self.served.path or (self.served.host, self.served.port)

    @property
    def arm(self):
        assert self.served is not None
        return self.served.regs.arm
