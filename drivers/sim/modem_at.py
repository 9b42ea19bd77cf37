"""The simulated modem's AT side: a responder that answers commands as the chosen vendor, and
two real transports for it: a pty pair (os.openpty + tty.setraw; clients open the slave path) and
a TCP server on 127.0.0.1 (clients use ``socket://127.0.0.1:PORT``).

The answer to each command is rendered from the link profile at the moment the command arrives
(seconds since the simulator started, from `clock`). Echo is on until ``ATE0`` (like a real
module); unknown commands answer ``ERROR`` (``+CME ERROR: 100`` after ``AT+CMEE=1``).
"""
from __future__ import annotations

import time
from typing import Callable

from drivers.modem.link import LinkState
from drivers.sim import modem_render
from drivers.sim.byteserver import PtyServer, TcpServer
from drivers.sim.faults import FaultPlan
from drivers.sim.modem_params import ModemSimParams
from drivers.sim.modem_profile import LinkProfile

IDENTITY = {
    "quectel": lambda model: ["Quectel", model, "Revision: HILSIM01A01 (hil-bench simulator)"],
    "huawei": lambda model: ["Manufacturer: Huawei Technologies Co., Ltd.", f"Model: {model}",
                             "Revision: 11.0.0.1(hil-bench simulator)"],
    "sierra": lambda model: ["Manufacturer: Sierra Wireless, Incorporated", f"Model: {model}",
                             "Revision: SWIX55C_03.09.11.00 (hil-bench simulator)"],
    "generic": lambda model: ["hil-bench", model, "Revision: simulator"],
}
MANUFACTURER = {"quectel": "Quectel", "huawei": "Huawei Technologies Co., Ltd.",
                "sierra": "Sierra Wireless, Incorporated", "generic": "hil-bench"}


def vendor_renderers(params: ModemSimParams) -> list[modem_render.Renderer]:
    """The renderers a vendor's module answers with, most specific first."""
    table: dict[str, list[modem_render.Renderer]] = {
        "quectel": [modem_render.quectel(
            params.lte_sinr, lte_multiline=params.model.upper().startswith("RM520"),
            early=params.firmware == "early",
            nsa_space=not params.model.upper().startswith(("RM500Q", "RG500Q")))],
        "huawei": [modem_render.huawei],         # before generic: its own +C5GREG padding
        "sierra": [modem_render.sierra],
        "generic": [],
    }
    return [*table[params.vendor], modem_render.generic]


class ModemResponder:
    """Turns bytes from the host into reply bytes. One per connection (echo state is per port)."""

    def __init__(self, params: ModemSimParams, clock: Callable[[], float]) -> None:
        self.params = params
        self.profile: LinkProfile = params.profile
        self.clock = clock
        self.renderers = vendor_renderers(params)
        self.echo = True
        self.cmee = 0
        self.commands = 0
        self._buf = b""
        self.plan = FaultPlan(list(params.faults), clock())

    def link_now(self) -> LinkState:
        return self.profile.state_at(self.clock())

    def feed(self, data: bytes) -> bytes:
        """Bytes received -> bytes to send (echo and complete replies)."""
        out = b""
        self._buf += data
        while True:
            cut = min((i for i in (self._buf.find(b"\r"), self._buf.find(b"\n")) if i >= 0),
                      default=-1)
            if cut < 0:
                break
            raw, self._buf = self._buf[:cut], self._buf[cut + 1:]
            line = raw.decode("ascii", errors="replace").strip()
            if not line:
                continue
            if self.plan.faults and self.plan.first(self.clock(), "silent"):
                continue                 # a hung module: the command is swallowed
            if self.echo:
                out += raw + b"\r"
            out += self.answer(line)
        if len(self._buf) > 4096:        # noise without line ends: drop it, like a UART would
            self._buf = b""
        return out

    def answer(self, line: str) -> bytes:
        """The reply to one command line, framed as a module frames it."""
        self.commands += 1
        self.plan.note_move(self.clock())
        lines, ok = self._dispatch(line)
        basic = line.upper() in ("AT", "ATE0", "ATE1", "ATI", "ATI0")
        if ok and not basic and self.plan.faults and self.plan.first(self.clock(), "at_error"):
            lines, ok = [], False
        body = b"".join(b"\r\n" + ln.encode("ascii", errors="replace") + b"\r\n" for ln in lines)
        if ok:
            return body + b"\r\nOK\r\n"
        return body + (b"\r\n+CME ERROR: 100\r\n" if self.cmee else b"\r\nERROR\r\n")

    def _dispatch(self, line: str) -> tuple[list[str], bool]:
        upper = line.upper()
        if not upper.startswith("AT"):
            return [], False
        cmd = upper[2:]
        if cmd == "":
            return [], True
        if cmd in ("E0", "E1"):
            self.echo = cmd == "E1"
            return [], True
        if cmd.startswith("+CMEE="):
            self.cmee = 1 if cmd.endswith(("1", "2")) else 0
            return [], True
        if cmd in ("I", "I0"):
            return IDENTITY[self.params.vendor](self.params.model), True
        if cmd == "+CGMM":
            return [self.params.model], True
        if cmd == "+CGMI":
            return [MANUFACTURER[self.params.vendor]], True
        link = self.link_now()
        for render in self.renderers:
            reply = render(cmd, link)
            if reply is not None:
                return reply, True
        return [], False


def start_modem_server(params: ModemSimParams, clock: Callable[[], float] | None = None,
                       host: str = "127.0.0.1", port: int = 0
                       ) -> PtyServer | TcpServer:
    """Start the simulated modem on `params.transport` (`host`/`port`: TCP only; 0 = a free
    port); time 0 of its profile is now unless `clock` is given. OSError if it cannot bind."""
    t0 = time.monotonic()
    now: Callable[[], float] = clock if clock is not None else (lambda: time.monotonic() - t0)

    def make() -> ModemResponder:
        return ModemResponder(params, now)

    if params.transport == "tcp":
        return TcpServer(make, host, port).start()       # one responder per connection
    return PtyServer(make).start()
