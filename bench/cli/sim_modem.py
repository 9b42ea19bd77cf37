"""`hil-bench sim serve --device modem`: the lab's simulated modem on a real pty, TCP port or
Modbus TCP server, until SIGINT/SIGTERM.

Prints one JSON line when ready, e.g.
  {"event": "ready", "device": "modem", "protocol": "at", "url": "/dev/pts/7", "vendor": "quectel",
   "model": "RM520N-GL", "pid": 1234}
(``"protocol": "modbus-tcp"`` with host, port and map for a `driver: modbus` modem; its url is
``host:port``), then {"event": "stopped"} after the signal, and exits 0.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
from dataclasses import replace

from bench.cli.exitcodes import EXIT_PASS
from bench.cli.serving import serve_until_signalled
from bench.lab import Lab
from drivers.errors import ConfigError
from drivers.modem.registry import ModbusModemSpec
from drivers.sim.modem_params import ModemSimParams


def serve_modem(args: argparse.Namespace, lab: Lab) -> int:
    """Serve `lab.modem`'s simulator; blocks until SIGINT/SIGTERM."""
    entry = lab.modem
    if entry is None or entry.sim_params is None:
        raise ConfigError(f"{lab.path}: the lab has no modem with a simulator: section to serve")
    params: ModemSimParams = entry.sim_params
    if getattr(args, "transport", None):
        params = replace(params, transport=args.transport)
    if isinstance(entry.spec, ModbusModemSpec):
        spec = entry.spec
        return asyncio.run(_serve_modbus(args, params, spec.modem_map, spec.link.device_id))
    return _serve_at(args, params)


def _serve_at(args: argparse.Namespace, params: ModemSimParams) -> int:
    from drivers.sim.modem_at import start_modem_server

    try:
        server = start_modem_server(params, host=args.host, port=args.port)
    except OSError as exc:
        raise ConfigError(f"cannot serve the modem ({params.transport}): {exc}") from None
    return serve_until_signalled(server, json.dumps(
        {"event": "ready", "device": "modem", "protocol": "at", "transport": params.transport,
         "url": server.url, "vendor": params.vendor, "model": params.model,
         "pid": os.getpid()}))


async def _serve_modbus(args: argparse.Namespace, params: ModemSimParams, modem_map,
                        device_id: int) -> int:
    from drivers.sim.modbus_modem import start_modem_modbus_server

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        server, port, _ = await start_modem_modbus_server(modem_map, params.profile, args.host,
                                                          args.port, device_id)
    except OSError as exc:
        raise ConfigError(f"cannot listen on {args.host}:{args.port}: {exc}") from None
    print(json.dumps({"event": "ready", "device": "modem", "protocol": "modbus-tcp",
                      "host": args.host, "port": port, "url": f"{args.host}:{port}",
                      "device_id": device_id, "map": modem_map.name, "pid": os.getpid()}),
          flush=True)
    await stop.wait()
    await server.shutdown()
    print(json.dumps({"event": "stopped"}), flush=True)
    return EXIT_PASS
