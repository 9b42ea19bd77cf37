"""`hil-bench modem status|watch`: read a 5G modem's link state.

    hil-bench modem status URL [--vendor auto|quectel|huawei|sierra|generic] [--json]
    hil-bench modem watch URL --interval S [--count N] [--json]

URL is any pyserial URL of the modem's AT port (``/dev/ttyUSB2``, ``socket://127.0.0.1:7000``,
a pty path) or ``modbus://HOST:PORT[/DEVICE_ID]`` for a CPE router that publishes its link in
Modbus registers (with ``--map``). ``--lab LAB`` instead of URL uses the lab file's modem and
starts its simulator when the lab simulates it.
Exit codes: 0 read, 2 bad input, 3 device error (timeout, ERROR reply, unparsable reply),
130 interrupted. The JSON keys are the LinkState field names: rat, state, cells[] with rat, mcc,
mnc, cell_id, pci, tac, arfcn, band, rsrp_dbm, rsrq_db, sinr_db.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import re
import time
from datetime import datetime
from typing import Iterator

from bench.cli.exitcodes import EXIT_PASS
from bench.bounds import check_number
from drivers.errors import ConfigError, DeviceError, DeviceTimeout, ProtocolError
from drivers.modbus.transport import ModbusSettings
from drivers.modem.at import ATSettings
from drivers.modem.base import Modem
from drivers.modem.link import LinkState
from drivers.modem.modbus import ModbusModem, load_modem_map, resolve_modem_map
from drivers.modem.vendors import VENDOR_CHOICES, open_at_modem

_MODBUS_URL = re.compile(r"^modbus://([^:/]+):(\d+)(?:/(\d+))?$")
MAX_FAILURES_IN_A_ROW = 3


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("modem", help="read a 5G modem's link state (AT or Modbus)",
                       description="Read the link state of a 5G modem or CPE router: RAT, "
                                   "state and serving cells with signal quality.")
    msub = p.add_subparsers(dest="modem_command", metavar="MODEMCOMMAND")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("url", nargs="?", default=None,
                        help="AT port URL (tty path, socket://host:port) or "
                             "modbus://host:port[/id]")
    common.add_argument("--lab", default=None, help="use this lab file's modem instead of URL")
    common.add_argument("--vendor", default="auto", choices=VENDOR_CHOICES,
                        help="AT dialect (default: auto, detected from ATI)")
    common.add_argument("--lte-sinr", default=None, choices=["dB", "2v-20", "v/5-20"],
                        help="Quectel LTE SINR encoding (default: from the model)")
    common.add_argument("--map", default="modem-native",
                        help="register map for modbus:// URLs (default: modem-native)")
    common.add_argument("--baudrate", type=int, default=115200, help="serial speed")
    common.add_argument("--timeout", type=float, default=2.0,
                        help="seconds to wait for each reply (default: 2)")
    common.add_argument("--json", action="store_true", help="print JSON")
    s = msub.add_parser("status", parents=[common], help="print the link state once",
                        formatter_class=argparse.RawDescriptionHelpFormatter,
                        epilog="examples:\n  hil-bench modem status /dev/ttyUSB2\n"
                               "  hil-bench modem status socket://127.0.0.1:7000 --vendor "
                               "quectel --json\n  hil-bench modem status --lab sim5g")
    s.set_defaults(func=status)
    w = msub.add_parser("watch", parents=[common], help="print one line per sample until Ctrl-C",
                        formatter_class=argparse.RawDescriptionHelpFormatter,
                        epilog="example:\n  hil-bench modem watch /dev/ttyUSB2 --interval 0.5")
    w.add_argument("--interval", type=float, default=1.0, help="seconds between samples")
    w.add_argument("--count", type=int, default=0, help="stop after N samples (0: never)")
    w.set_defaults(func=watch)
    p.set_defaults(func=lambda a: p.print_help() or 2)


@contextlib.contextmanager
def open_modem(args: argparse.Namespace) -> Iterator[Modem]:
    """The modem the arguments name, connected (a lab's simulator started around it)."""
    check_number(args.timeout, "--timeout", low=0.0, low_open=True)
    if (args.url is None) == (args.lab is None):
        raise ConfigError("give either a modem URL or --lab LAB")
    if args.lab is not None:
        from bench.lab import load_lab
        from bench.rig import open_modem as open_lab_modem
        lab = load_lab(args.lab)
        if lab.modem is None:
            raise ConfigError(f"{lab.path}: the lab has no modem: section")
        with open_lab_modem(lab) as lab_modem:
            assert lab_modem is not None
            yield lab_modem
        return
    m = _MODBUS_URL.match(args.url)
    modem: Modem
    if m:
        mm = load_modem_map(resolve_modem_map(args.map))
        modem = ModbusModem(mm, ModbusSettings(host=m.group(1), port=int(m.group(2)),
                                             device_id=int(m.group(3) or 1),
                                             timeout_s=args.timeout, retries=0))
    elif args.url.startswith("modbus:"):
        raise ConfigError(f"{args.url}: expected modbus://HOST:PORT[/DEVICE_ID]")
    else:
        options = {"lte_sinr": args.lte_sinr} if args.lte_sinr else {}
        modem = open_at_modem(ATSettings(args.url, args.baudrate, args.timeout), args.vendor,
                              options)
    with modem:
        yield modem


def _print_link(link: LinkState, as_json: bool, name: str) -> None:
    if as_json:
        print(json.dumps(link.as_dict()))
        return
    print(f"modem:  {name}")
    print(f"rat:    {link.rat or '(none)'}")
    print(f"state:  {link.state}")
    for i, c in enumerate(link.cells):
        vals = "  ".join(f"{k} {v:g}" if isinstance(v, float) else f"{k} {v}"
                         for k, v in c.as_dict().items() if v is not None and k != "rat")
        print(f"cell {i}: {c.rat}  {vals}")
    for w in link.warnings:
        print(f"warning: {w}")
    for n in link.notes:
        print(f"note:   {n}")


def status(args: argparse.Namespace) -> int:
    with open_modem(args) as modem:
        _print_link(modem.read_link(), args.json, modem.name)
    return EXIT_PASS


def watch(args: argparse.Namespace) -> int:
    check_number(args.interval, "--interval", low=0.0, low_open=True)
    if args.count < 0:
        raise ConfigError("--count: must be 0 or more")
    with open_modem(args) as modem:
        if not args.json:
            print(f"# {modem.name}, every {args.interval:g} s (Ctrl-C to stop)", flush=True)
        start = time.monotonic()
        n = failures = 0
        while args.count == 0 or n < args.count:
            stamp = datetime.now().strftime("%H:%M:%S.%f")[:-3]
            try:
                link = modem.read_link()
                failures = 0
                if args.json:
                    print(json.dumps({"time": stamp, **link.as_dict()}), flush=True)
                else:
                    print(f"{stamp}  {link.describe()}", flush=True)
            except (DeviceTimeout, ProtocolError, DeviceError) as exc:
                failures += 1
                print(f"{stamp}  error: {exc}", flush=True)
                if failures >= MAX_FAILURES_IN_A_ROW or type(exc) is DeviceError:
                    raise
            n += 1
            if args.count and n >= args.count:
                break
            # fixed schedule, so slow replies do not make the samples drift
            time.sleep(max(0.0, start + n * args.interval - time.monotonic()))
    return EXIT_PASS
