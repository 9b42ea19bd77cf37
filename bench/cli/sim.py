"""`hil-bench sim serve`: simulated devices on real ports, as their own process.

Prints one JSON line per endpoint when ready, e.g.
  {"event": "ready", "device": "robot", "protocol": "modbus-tcp", "url": "tcp://127.0.0.1:40123",
   "host": "127.0.0.1", "port": 40123, "device_id": 1, "map": "native", "seed": 1, "pid": 1234}
(serial endpoints on a pty carry "path" instead of "host"/"port"), and one {"event": "stopped"}
line after SIGINT or SIGTERM, then exits 0.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.cli.exitcodes import EXIT_PASS
from bench.bounds import check_seed
from bench.lab import load_lab
from drivers.errors import ConfigError
from drivers.modbus.regmap import RegisterMap, load_map, resolve_map
from drivers.registry import ModbusRobotSpec
from drivers.sim.arm import ArmParams
from drivers.sim.faults import Fault
from drivers.sim.modbus_arm import SERVER_TRANSPORTS

GRBL = "grbl"     # `--robot grbl` and `driver: grbl` labs: the G-code controller simulator
#: lab-file transport -> the simulator transport that serves it
LAB_TO_SERVER = {"tcp": "tcp", "rtu-tcp": "rtu-tcp", "ascii-tcp": "ascii-tcp",
                 "rtu": "rtu-pty", "ascii": "ascii-pty"}


@dataclass(frozen=True)
class ServedArm:
    """One simulated robot to serve."""

    regmap: RegisterMap | None       # None: a GRBL controller (G-code), not Modbus
    params: ArmParams
    transport: str
    port: int
    device_id: int
    baudrate: int = 115200
    faults: list[Fault] = field(default_factory=list)
    #: (protocol, TrackerParams, transport) of the lab's simulated instrument, served in the same
    #: process watching this arm's true pose
    instrument: tuple[str, Any, str] | None = None


def _journal(path: str):
    """A callback appending one JSON line per entry, flushed at once (survives a kill)."""
    fh = open(path, "a", encoding="utf-8")  # noqa: SIM115 - open for the server's lifetime

    def write(entry: dict) -> None:
        fh.write(json.dumps(entry) + "\n")
        fh.flush()
    return write


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("sim", help="run device simulators",
                       description="Device simulators that speak the real wire protocols.")
    ssub = p.add_subparsers(dest="sim_command", metavar="SIMCOMMAND")
    s = ssub.add_parser(
        "serve", help="serve simulated devices on real ports until SIGINT/SIGTERM",
        description="Serve the simulator of one device of a lab file (default: the built-in "
                    "`sim` lab's robot), or of robots given by register map (--robot), on "
                    "127.0.0.1 or a pty. Prints one JSON line per endpoint when ready; stops "
                    "cleanly on SIGINT or SIGTERM.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples:\n  hil-bench sim serve --port 5020 &\n"
               "  mbpoll -m tcp -p 5020 -a 1 -0 -r 0 -c 6 -t 4:float -B -1 127.0.0.1\n"
               "  hil-bench sim serve --robot ur --port 5502 &\n"
               "  mbpoll -m tcp -p 5502 -a 1 -0 -r 400 -c 6 -t 4 -1 127.0.0.1\n"
               "  hil-bench sim serve --robot iai_robocylinder --transport rtu-pty "
               "--device-id 2\n"
               f"transports: {', '.join(SERVER_TRANSPORTS)}")
    s.add_argument("--lab", default="sim", help="lab name or file (default: sim)")
    s.add_argument("--device", default="robot", choices=["robot", "modem", "instrument"],
                   help="which device to serve (default: robot); instrument: the lab's "
                        "simulated tracker (NDI on a pty, or OpenIGTLink), or a Polaris Vega")
    s.add_argument("--robot", action="append", metavar="MAP", default=None,
                   help="serve a simulated arm with this register map (built-in name or file; "
                        "`grbl`: the G-code controller simulator) "
                        "instead of the lab's device; repeat for several endpoints")
    s.add_argument("--transport", choices=sorted(set(SERVER_TRANSPORTS) | {"pty"}),
                   default=None,
                   help="robot: " + ", ".join(SERVER_TRANSPORTS) + " (default tcp for --robot, "
                        "else the lab's); modem, instrument: pty or tcp (default: the lab's)")
    s.add_argument("--device-id", type=int, default=None,
                   help="Modbus device id for --robot (default 1)")
    s.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    s.add_argument("--port", type=int, default=0,
                   help="TCP port; 0 picks a free one (default); with several --robot the "
                        "next ones use port+1, port+2, ...")
    s.add_argument("--seed", type=int, default=None, help="random seed (default: the lab's)")
    s.add_argument("--journal", default=None, metavar="FILE",
                   help="append one JSON line per command the simulated device receives")
    s.set_defaults(func=serve)
    p.set_defaults(func=lambda a: p.print_help() or 2)


def _endpoints(args: argparse.Namespace) -> list[ServedArm] | int:
    if args.device_id is not None and not 1 <= args.device_id <= 247:
        raise ConfigError("--device-id: must be 1..247")
    if not 0 <= args.port < 65536:
        raise ConfigError("--port: must be 0..65535")
    check_seed(args.seed)
    if args.robot:
        lab = load_lab(args.lab) if args.lab != "sim" else None
        base = ArmParams() if lab is None else _lab_params(lab, args.seed)
        params = ArmParams(**{**base.__dict__, "seed": args.seed if args.seed is not None
                              else base.seed})
        out = []
        for i, name in enumerate(args.robot):
            port = args.port + i if args.port else 0
            if name == GRBL:
                out.append(ServedArm(None, params, _grbl_transport(args.transport), port, 0))
                continue
            if args.transport == "pty":
                raise ConfigError("--transport pty: a Modbus robot is served on "
                                  + ", ".join(SERVER_TRANSPORTS))
            try:
                regmap = load_map(resolve_map(name, Path.cwd()))
            except ConfigError as exc:
                raise ConfigError(f"--robot {name}: {exc}") from None
            out.append(ServedArm(regmap, params, args.transport or "tcp", port,
                                args.device_id or 1))
        return out
    lab = load_lab(args.lab)
    if args.device == "modem":
        from bench.cli.sim_modem import serve_modem
        if args.transport not in (None, "pty", "tcp"):
            raise ConfigError(f"--transport {args.transport}: the modem is served on pty or tcp")
        return serve_modem(args, lab)
    if args.device == "instrument":
        from bench.cli.sim_instrument import serve_instrument
        home = lab.robot.sim.arm.home if lab.robot.sim else ArmParams().home
        return serve_instrument(args, lab, home)
    spec = lab.robot.spec
    if spec.driver == GRBL:
        return [ServedArm(None, _lab_params(lab, args.seed), _grbl_transport(args.transport),
                         args.port, 0)]
    if args.transport == "pty":
        raise ConfigError("--transport pty: a Modbus robot is served on "
                          + ", ".join(SERVER_TRANSPORTS))
    if not isinstance(spec, ModbusRobotSpec):
        raise ConfigError(f"{lab.path}: robot driver {spec.driver!r} has no Modbus simulator")
    regmap, link = spec.regmap, spec.link
    faults = list(lab.robot.sim.faults) if lab.robot.sim else []
    return [ServedArm(regmap, _lab_params(lab, args.seed),
                     args.transport or LAB_TO_SERVER[link.transport], args.port,
                     args.device_id or link.device_id, link.baudrate, faults,
                     _lab_instrument(lab, args.seed))]


def _lab_instrument(lab: Any, seed: int | None) -> tuple[str, Any, str] | None:
    """The lab's simulated instrument, to serve beside its simulated robot (None: none)."""
    entry = getattr(lab, "instrument", None)
    if entry is None or entry.sim_params is None:
        return None
    from bench.cli.sim_instrument import lab_instrument
    return lab_instrument(lab, seed)


def _grbl_transport(transport: str | None) -> str:
    if transport not in (None, "pty", "tcp"):
        raise ConfigError(f"--transport {transport}: a GRBL controller is served on pty or tcp")
    return transport or "pty"


def _lab_params(lab: Any, seed: int | None) -> ArmParams:
    sim = lab.robot.sim
    if sim is None:
        raise ConfigError(f"{lab.path}: robot has no simulator: section to serve")
    return sim.arm_params(seed)


def serve(args: argparse.Namespace) -> int:
    endpoints = _endpoints(args)
    if isinstance(endpoints, int):          # the modem was served
        return endpoints
    return asyncio.run(_serve(args, endpoints))


async def _serve(args: argparse.Namespace, endpoints: list[ServedArm]) -> int:
    from drivers.sim.modbus_arm import start_arm_server

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    served = []
    try:
        journal = _journal(args.journal) if args.journal else None
        for ep in endpoints:
            if ep.regmap is None:
                served.append(await _serve_grbl(args, ep))
                continue
            try:
                srv = await start_arm_server(ep.regmap, ep.params, args.host, ep.port,
                                             ep.device_id, faults=ep.faults, journal=journal,
                                             transport=ep.transport, baudrate=ep.baudrate)
            except OSError as exc:
                reason = exc.strerror if exc.strerror else str(exc)
                option = f"--port {ep.port}" if ep.port else f"--host {args.host}"
                raise ConfigError(f"{option}: cannot serve {ep.transport} on "
                                  f"{args.host}:{ep.port}: {reason.split(': ')[-1]}") from None
            served.append(srv)
            where = {"path": srv.path} if srv.path else {"host": srv.host, "port": srv.port}
            print(json.dumps({"event": "ready", "device": args.device,
                              "protocol": f"modbus-{ep.transport}", "url": srv.url, **where,
                              "device_id": ep.device_id, "map": ep.regmap.name,
                              "seed": ep.params.seed, "pid": os.getpid()}), flush=True)
            if ep.instrument is not None:
                served.append(_serve_instrument_beside(args, ep.instrument, srv))
        await stop.wait()
    finally:
        for srv in served:
            await srv.shutdown()
    print(json.dumps({"event": "stopped"}), flush=True)
    sys.stdout.flush()
    return EXIT_PASS


class _Stoppable:
    """A thread-based instrument server in the list of things `_serve` shuts down."""

    def __init__(self, server: Any) -> None:
        self.server = server

    async def shutdown(self) -> None:
        self.server.stop()


def _serve_instrument_beside(args: argparse.Namespace, instrument: tuple[str, Any, str],
                             srv: Any) -> _Stoppable:
    """The lab's simulated instrument watching the served arm's true pose (read on the arm's
    own event loop); prints its ready line after the robot's."""
    from bench.cli.sim_instrument import ready_line
    from drivers.sim.instrument_server import start_instrument_server, true_pose_on_loop
    protocol, params, transport = instrument
    if protocol == "openigtlink":
        transport = "tcp"
    try:
        server = start_instrument_server(protocol, params, transport,
                                         true_pose_on_loop(asyncio.get_running_loop(),
                                                           srv.regs.arm),
                                         host=args.host)
    except OSError as exc:
        raise ConfigError(f"cannot serve the instrument ({transport}): {exc}") from None
    print(ready_line(protocol, transport, server, params), flush=True)
    return _Stoppable(server)


async def _serve_grbl(args: argparse.Namespace, ep: ServedArm):
    from drivers.sim.grbl import start_grbl_server
    try:
        srv = await start_grbl_server(ep.params, ep.transport, args.host, ep.port)
    except OSError as exc:
        raise ConfigError(f"cannot serve grbl on {args.host}:{ep.port}: {exc}") from None
    where = {"path": srv.path} if srv.path else {"host": srv.host, "port": srv.port}
    print(json.dumps({"event": "ready", "device": args.device, "protocol": f"grbl-{ep.transport}",
                      "url": srv.url, **where, "map": GRBL, "seed": ep.params.seed,
                      "pid": os.getpid()}), flush=True)
    return srv
