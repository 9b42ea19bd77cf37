"""A GRBL 1.1 controller simulator driving a `SimArm` (x, y, z), on a pty or a TCP socket.

It answers like the firmware: banner ``Grbl 1.1h ['$' for help]`` at start and after soft reset
(0x18); one ``ok`` / ``error:N`` per line; real-time ``?`` -> ``<State|MPos:...|Bf:..|FS:..>``
with ``WCO:`` in every tenth report (positions in machine coordinates, work = machine - WCO);
``!`` feed hold (decelerate, ``Hold:1`` then ``Hold:0``), ``~`` resume, soft reset during motion
-> ``ALARM:3`` and the Alarm state until ``$X``. Motion lines are planned one after the other (the
``ok`` comes at once, as from a planner with room); ``G4`` answers only when all earlier motion has
finished. Supported: G0, G1, G4, G20 (refused: error:20 - the bench works in mm), G21, G90, G91,
G54, F, $X, $H (to home), $$ (a few settings), $I. Anything else: error:20.
"""
from __future__ import annotations

import asyncio
import os
import re
import time
from dataclasses import dataclass
from typing import Callable

from drivers.pose import Pose
from drivers.robot import ArmState
from drivers.sim.arm import ArmParams
from drivers.sim.program import sim_arm
from drivers.sim.pty import raw_pty

BANNER = b"\r\nGrbl 1.1h ['$' for help]\r\n"
_WORD = re.compile(r"([A-Z])\s*([-+]?(?:\d+\.?\d*|\.\d+))")


@dataclass
class _Item:
    kind: str                      # "move" or "sync"
    target: Pose | None = None
    feed_mm_min: float = 0.0
    dwell_s: float = 0.0


class GrblSim:
    """The controller's state machine; `output` receives the bytes it sends."""

    def __init__(self, params: ArmParams, output: Callable[[bytes], None],
                 clock: Callable[[], float] = time.monotonic,
                 wco: tuple[float, float, float] = (0.0, 0.0, 0.0)) -> None:
        self.arm = sim_arm(params, clock(), params.program)
        self.clock = clock
        self.out = output
        self.wco = wco
        self.queue: list[_Item] = []
        self.absolute = True
        self.feed = 0.0
        self.alarm = False
        self.hold = False
        self.reports = 0
        self._partial = b""
        self.lines: list[str] = []          # every line received (for tests and journals)

    # -- input ---------------------------------------------------------------------------------
    def receive(self, data: bytes) -> None:
        """Bytes from the host: real-time characters act at once, the rest forms lines."""
        for b in data:
            ch = bytes([b])
            if ch == b"?":
                self.out(self.status().encode() + b"\r\n")
            elif ch == b"!":
                if self._moving() and not self.hold:
                    self.arm.stop(self.clock())
                    self.hold = True
            elif ch == b"~":
                self.hold = False
            elif ch == b"\x18":
                self._soft_reset()
            elif ch in (b"\n", b"\r"):
                line, self._partial = self._partial.decode("ascii", "replace").strip(), b""
                if line or ch == b"\n":
                    self._line(line)
            else:
                self._partial += ch

    def _soft_reset(self) -> None:
        if self._moving() and not self.hold:
            self.arm.stop(self.clock())
            self.alarm = True
            self.out(b"ALARM:3\r\n")
        self.queue.clear()
        self.hold = False
        self._partial = b""
        self.out(BANNER)
        if self.alarm:
            self.out(b"[MSG:'$H'|'$X' to unlock]\r\n")

    def _line(self, line: str) -> None:
        self.lines.append(line)
        up = line.upper().replace(" ", "")
        if not up:
            self.out(b"ok\r\n")
            return
        if up == "$X":
            self.alarm = False
            self.arm.reset(self.clock())
            return self.out(b"[MSG:Caution: Unlocked]\r\nok\r\n")
        if up == "$H":
            self.alarm = False
            self.arm.reset(self.clock())
            self.queue.append(_Item("move", self.arm.params.home, 60.0 * 100.0))
            return self.out(b"ok\r\n")
        if up == "$$":
            return self.out(b"$13=0\r\n$20=0\r\n$110=%.3f\r\nok\r\n" %
                            (self.arm.params.max_speed_mm_s * 60))
        if up == "$I":
            return self.out(b"[VER:1.1h.hil-bench-sim:]\r\nok\r\n")
        if self.alarm:
            return self.out(b"error:9\r\n")
        self._gcode(up)

    def _gcode(self, up: str) -> None:
        words = _WORD.findall(up)
        if not words or _WORD.sub("", up):        # something that is not a letter+number word
            return self.out(b"error:1\r\n")
        gs = [float(v) for k, v in words if k == "G"]
        vals = {k: float(v) for k, v in words if k != "G"}
        if 20 in gs:
            return self.out(b"error:20\r\n")
        if any(g not in (0, 1, 4, 21, 54, 90, 91) for g in gs):
            return self.out(b"error:20\r\n")
        if 90 in gs:
            self.absolute = True
        if 91 in gs:
            self.absolute = False
        if "F" in vals:
            self.feed = vals["F"]
        if 4 in gs:
            self.queue.append(_Item("sync", dwell_s=vals.get("P", 0.0)))
            return self.pump()          # its ok is sent when the planner reaches it
        if any(a in vals for a in "XYZ"):
            rapid = 0 in gs and 1 not in gs
            if not rapid and self.feed <= 0:
                return self.out(b"error:22\r\n")
            base = self._planned_end()
            t = {a: vals.get(a.upper(), 0.0 if not self.absolute else None) for a in "xyz"}
            xyz = [base[i] + (t[a] or 0.0) if not self.absolute else
                   base[i] if (v := t[a]) is None else v + self.wco[i]
                   for i, a in enumerate("xyz")]
            home = self.arm.params.home
            target = Pose(xyz[0], xyz[1], xyz[2], home.a, home.b, home.c)
            feed = self.arm.params.max_speed_mm_s * 60.0 if rapid else self.feed
            self.queue.append(_Item("move", target, feed))
        self.out(b"ok\r\n")
        self.pump()

    # -- planner -------------------------------------------------------------------------------
    def _moving(self) -> bool:
        return self.arm.state(self.clock()) is ArmState.MOVING

    def _planned_end(self) -> list[float]:
        for item in reversed(self.queue):
            if item.kind == "move" and item.target is not None:
                return [item.target.x, item.target.y, item.target.z]
        last = self.arm.last_target or self.arm.params.home
        p = self.arm.belief_pose(self.clock()) if self._moving() else last
        return [p.x, p.y, p.z]

    def pump(self) -> None:
        """Start queued items whose turn has come (call often: on input and on a timer)."""
        now = self.clock()
        while self.queue and not self.hold and not self.alarm and not self._moving():
            item = self.queue[0]
            if item.kind == "sync":
                if item.dwell_s > 0:
                    item.kind, item.dwell_s = "wait", now + item.dwell_s
                    continue
                self.queue.pop(0)
                self.out(b"ok\r\n")
            elif item.kind == "wait":
                if now < item.dwell_s:
                    return
                self.queue.pop(0)
                self.out(b"ok\r\n")
            else:
                self.queue.pop(0)
                assert item.target is not None      # a "move" item always has one
                self.arm.move(item.target, item.feed_mm_min / 60.0, now)

    # -- output --------------------------------------------------------------------------------
    def status(self) -> str:
        now = self.clock()
        self.pump()
        st = self.arm.state(now)
        if self.alarm:
            state = "Alarm"
        elif self.hold:
            state = "Hold:1" if st is ArmState.MOVING else "Hold:0"
        elif st is ArmState.MOVING or self.queue:
            state = "Run"
        else:
            state = "Idle"
        p = self.arm.pose(now)
        fields = [f"MPos:{p.x:.3f},{p.y:.3f},{p.z:.3f}", f"Bf:{15 - len(self.queue)},128",
                  f"FS:{self.feed:.0f},0"]
        if self.reports % 10 == 0:
            fields.append("WCO:" + ",".join(f"{v:.3f}" for v in self.wco))
        # field order varies between firmware builds; rotate it so parsers cannot depend on it
        k = self.reports % len(fields)
        fields = fields[k:] + fields[:k]
        self.reports += 1
        return "<" + "|".join([state] + fields) + ">"


class ServedGrbl:
    """A running GRBL simulator: `url` (pty path or socket://h:p) and `shutdown()`."""

    def __init__(self, sim: GrblSim, url: str, path: str = "", host: str = "",
                 port: int = 0) -> None:
        self.sim, self.url, self.path, self.host, self.port = sim, url, path, host, port
        self._close: list[Callable[[], object]] = []
        self._task: asyncio.Task | None = None

    async def shutdown(self) -> None:
        if self._task:
            self._task.cancel()
        for fn in self._close:
            fn()


async def start_grbl_server(params: ArmParams, transport: str = "pty", host: str = "127.0.0.1",
                            port: int = 0, clock: Callable[[], float] = time.monotonic,
                            wco: tuple[float, float, float] = (0.0, 0.0, 0.0)) -> ServedGrbl:
    """Serve a GRBL simulator on a pty (``transport="pty"``: the returned path is what a client
    opens) or on TCP (``"tcp"``: a client opens ``socket://host:port``). Raises OSError."""
    loop = asyncio.get_running_loop()
    if transport == "pty":
        master, slave, path = raw_pty()
        def write_master(b: bytes) -> None:
            os.write(master, b)
        sim = GrblSim(params, write_master, clock, wco)

        def readable() -> None:
            try:
                sim.receive(os.read(master, 4096))
            except OSError:
                pass
        loop.add_reader(master, readable)
        served = ServedGrbl(sim, path, path=path)
        served._close += [lambda: loop.remove_reader(master), lambda: os.close(master),
                          lambda: os.close(slave)]
        sim.out(BANNER)
    elif transport == "tcp":
        writers: list[asyncio.StreamWriter] = []
        def write_all(b: bytes) -> None:
            for w in writers:
                w.write(b)
        sim = GrblSim(params, write_all, clock, wco)

        async def client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            writers.append(writer)
            writer.write(BANNER)
            try:
                while data := await reader.read(4096):
                    sim.receive(data)
            except ConnectionError:
                pass
            finally:
                writers.remove(writer)
                writer.close()
        server = await asyncio.start_server(client, host, port)
        bound = server.sockets[0].getsockname()[1]
        served = ServedGrbl(sim, f"socket://{host}:{bound}", host=host, port=bound)
        served._close.append(server.close)
    else:
        raise KeyError(transport)

    async def tick() -> None:          # the planner advances even when the host is silent
        while True:
            await asyncio.sleep(0.002)
            sim.pump()
    served._task = asyncio.create_task(tick())
    return served
