"""`hil-bench sim serve --device instrument`: a simulated tracker on a real pty or TCP port,
until SIGINT/SIGTERM.

It serves the lab's `instrument:` simulator (NDI Combined API on a pty or ``socket://``, or an
OpenIGTLink server on TCP), or, when the lab has none, a Polaris Vega on a pty. Standing alone
it observes a simulated arm resting at its home pose (the lab robot's `simulator:` section);
`hil-bench sim serve` for the robot serves the lab's instrument in the same process, watching
the arm it moves. Prints one JSON line when ready, e.g.
  {"event": "ready", "device": "instrument", "protocol": "ndi", "transport": "pty",
   "url": "/dev/pts/7", "model": "polaris-vega", "tool": "tool", "pid": 1234}
then {"event": "stopped"} after the signal, and exits 0.
"""
from __future__ import annotations

import argparse
import json
import os
from dataclasses import replace
from typing import Any

from bench.cli.serving import serve_until_signalled
from drivers.errors import ConfigError
from drivers.pose import Pose
from drivers.sim.instrument_server import start_instrument_server
from drivers.sim.tracker import TrackerParams


def ready_line(protocol: str, transport: str, server: Any, params: TrackerParams) -> str:
    """The endpoint JSON line of a served instrument."""
    where = {"path": server.path} if getattr(server, "path", "") else \
        {"host": server.host, "port": server.port}
    return json.dumps({"event": "ready", "device": "instrument", "protocol": protocol,
                       "transport": transport, "url": server.url, **where,
                       "model": params.model, "tool": params.tool, "seed": params.seed,
                       "pid": os.getpid()})


def lab_instrument(lab: Any, seed: int | None) -> tuple[str, TrackerParams, str]:
    """(protocol, params, transport) of the lab's simulated instrument (defaults without one)."""
    entry = getattr(lab, "instrument", None)
    if entry is None:
        return "ndi", TrackerParams() if seed is None else TrackerParams(seed=seed), "pty"
    if entry.sim_params is None:
        raise ConfigError(f"{lab.path}: instrument has no simulator: section to serve")
    params = entry.sim_params if seed is None else replace(entry.sim_params, seed=seed)
    return entry.spec.protocol, params, entry.sim_transport


def serve_instrument(args: argparse.Namespace, lab: Any, home: Pose) -> int:
    """Serve the lab's instrument watching an arm at rest at `home`; blocks until a signal."""
    protocol, params, transport = lab_instrument(lab, args.seed)
    if args.transport:
        if args.transport not in ("pty", "tcp"):
            raise ConfigError(f"--transport {args.transport}: an instrument is served on pty "
                              "or tcp")
        transport = args.transport
    if protocol == "openigtlink":
        transport = "tcp"
    try:
        server = start_instrument_server(protocol, params, transport, lambda now: home,
                                         host=args.host, port=args.port)
    except OSError as exc:
        raise ConfigError(f"cannot serve the instrument ({transport}): {exc}") from None
    return serve_until_signalled(server, ready_line(protocol, transport, server, params))
