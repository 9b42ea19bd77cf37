"""`hil-bench netem ...`: network profiles and the impairment proxies.

  hil-bench netem profiles [--json]      list the built-in profiles with their descriptions
  hil-bench netem show NAME|FILE         the parsed profile as JSON (validates a profile file)

Exit codes: 0 done, 2 bad input (unknown profile, malformed file).
"""
from __future__ import annotations

import argparse
import json

from bench.impair import load_profile, profile_names


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("netem", help="network impairment: profiles and proxies",
                       description="Network impairment: list and check profiles, run the TCP and "
                                   "serial impairment proxies.")
    nsub = p.add_subparsers(dest="netem_command", metavar="NETEMCOMMAND")
    ls = nsub.add_parser("profiles", help="list the built-in network profiles")
    ls.add_argument("--json", action="store_true", help="print one JSON object")
    ls.set_defaults(func=profiles)
    show = nsub.add_parser("show", help="validate a profile and print it as JSON")
    show.add_argument("profile", help="built-in name or YAML file")
    show.set_defaults(func=show_profile)
    for mod in _PROXY_COMMANDS:
        mod(nsub)
    p.set_defaults(func=lambda a: p.print_help() or 2)


def profiles(args: argparse.Namespace) -> int:
    items = {n: load_profile(n).description for n in profile_names()}
    if args.json:
        print(json.dumps({"profiles": items}))
    else:
        width = max(map(len, items))
        for name, desc in items.items():
            print(f"{name:<{width}}  {desc}")
    return 0


def show_profile(args: argparse.Namespace) -> int:
    print(json.dumps(load_profile(args.profile).summary(), indent=2))
    return 0


#: proxy subcommands register themselves here (see bench/cli/netem_proxy.py)
_PROXY_COMMANDS: list = []
