"""`hil-bench sim serve`: a simulated device on a real port, as its own process.

Prints one JSON line when ready, e.g.
  {"event": "ready", "device": "robot", "protocol": "modbus-tcp", "host": "127.0.0.1", "port": 40123,
   "device_id": 1, "map": "native", "pid": 1234}
and one {"event": "stopped"} line after SIGINT or SIGTERM, then exits 0.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys

from bench.lab import load_lab
from drivers.config import Section
from drivers.errors import ConfigError
from drivers.sim.faults import faults_from_section
from drivers.sim.params import arm_params_from_section


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
        "serve", help="serve a lab's simulated device on a real port until SIGINT/SIGTERM",
        description="Serve the simulator of one device of a lab file (default: the built-in "
                    "`sim` lab's robot) on 127.0.0.1. Prints one JSON line with the endpoint "
                    "when ready; stops cleanly on SIGINT or SIGTERM.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="example:\n  hil-bench sim serve --port 5020 &\n"
               "  mbpoll -m tcp -p 5020 -a 1 -0 -r 0 -c 6 -t 4:float -B -1 127.0.0.1")
    s.add_argument("--lab", default="sim", help="lab name or file (default: sim)")
    s.add_argument("--device", default="robot", choices=["robot", "modem"],
                   help="which device to serve (default: robot)")
    s.add_argument("--transport", choices=["pty", "tcp"], default=None,
                   help="modem only: serve AT on a pty or a TCP port (default: the lab's)")
    s.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    s.add_argument("--port", type=int, default=0, help="TCP port; 0 picks a free one (default)")
    s.add_argument("--seed", type=int, default=None, help="random seed (default: the lab's)")
    s.add_argument("--journal", default=None, metavar="FILE",
                   help="append one JSON line per command the simulated device receives")
    s.set_defaults(func=serve)
    p.set_defaults(func=lambda a: p.print_help() or 2)


def serve(args: argparse.Namespace) -> int:
    lab = load_lab(args.lab)
    if args.device == "modem":
        from bench.cli.sim_modem import serve_modem
        return serve_modem(args, lab)
    robot = lab.robot
    if robot.simulator is None:
        raise ConfigError(f"{lab.path}: robot has no simulator: section to serve")
    sim = robot.simulator
    params = arm_params_from_section(Section(sim.data, sim.source, sim.path), seed=args.seed)
    faults = faults_from_section(Section(sim.data, sim.source, sim.path))
    spec = robot.spec
    regmap = getattr(spec, "regmap", None)
    if regmap is None:
        raise ConfigError(f"{lab.path}: robot driver {spec.driver!r} has no Modbus simulator")
    return asyncio.run(_serve(args, params, regmap, spec.link.device_id, faults))


async def _serve(args: argparse.Namespace, params, regmap, device_id: int, faults) -> int:
    from drivers.sim.modbus_arm import start_arm_server

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        journal = _journal(args.journal) if args.journal else None
        server, port, _ = await start_arm_server(regmap, params, args.host, args.port, device_id,
                                                 faults=faults, journal=journal)
    except OSError as exc:
        raise ConfigError(f"cannot listen on {args.host}:{args.port}: {exc}") from None
    print(json.dumps({"event": "ready", "device": args.device, "protocol": "modbus-tcp",
                      "host": args.host, "port": port, "device_id": device_id,
                      "map": regmap.name, "seed": params.seed, "pid": os.getpid()}), flush=True)
    await stop.wait()
    await server.shutdown()
    print(json.dumps({"event": "stopped"}), flush=True)
    sys.stdout.flush()
    return 0
