"""`hil-bench netem ...`: network profiles and the impairment proxies.

  hil-bench netem profiles [--json]      list the built-in profiles with their descriptions
  hil-bench netem show NAME|FILE         the parsed profile as JSON (validates a profile file)
  hil-bench netem proxy --listen HOST:PORT --upstream HOST:PORT --profile NAME|FILE [--seed N]
                                         TCP impairment proxy until SIGINT/SIGTERM
  hil-bench netem udp --listen HOST:PORT --upstream HOST:PORT --profile NAME|FILE [--seed N]
                                         UDP impairment proxy (several peers) until SIGINT/SIGTERM
  hil-bench netem serial --a pty|PATH|URL --b pty|PATH|URL --profile NAME|FILE [--baud N]
                         [--framing rtu|line|raw]   frame-aware serial proxy (a -> b is uplink)
  hil-bench netem ns --profile NAME|FILE [--uplink-profile P] [--downlink-profile P] -- CMD ...
                                         run CMD in a network namespace whose every IP packet
                                         crosses the impairment (root; exits with CMD's status)
  hil-bench netem kernel --profile NAME|FILE [--dev IFACE --apply | --dev IFACE --clear]
                                         kernel netem backend (where the kernel has netem)

Exit codes: 0 done, 2 bad input (unknown profile, malformed file).
"""
from __future__ import annotations

import argparse
import json

from bench.cli.exitcodes import EXIT_DEVICE, EXIT_PASS
from bench.impair import load_profile, profile_names
from drivers.errors import ConfigError


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
    px = nsub.add_parser(
        "proxy", help="TCP impairment proxy (own process, until SIGINT/SIGTERM)",
        description="Forward TCP connections from --listen to --upstream through the profile's "
                    "impairment (uplink: client to upstream). Prints one JSON line with the "
                    "endpoint when ready, and one when stopped.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="example:\n  hil-bench netem proxy --listen 127.0.0.1:1502 "
               "--upstream 127.0.0.1:5020 --profile 5g-urban --seed 1")
    px.add_argument("--listen", default="127.0.0.1:0",
                    help="HOST:PORT to accept on; port 0 picks a free one (default)")
    px.add_argument("--upstream", required=True, help="HOST:PORT to forward to")
    _common(px)
    px.set_defaults(func=proxy)
    up = nsub.add_parser(
        "udp", help="UDP impairment proxy (own process, until SIGINT/SIGTERM)",
        description="Relay datagrams from peers sending to --listen to --upstream and the "
                    "upstream's replies back, through the profile's impairment (uplink: peer to "
                    "upstream). Each peer gets its own socket towards the upstream; all share one "
                    "link. Datagrams may be reordered (jitter, `reorder:`), duplicated and "
                    "corrupted. Prints one JSON line with the endpoint when ready, and one when "
                    "stopped.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="example:\n  hil-bench netem udp --listen 127.0.0.1:9000 "
               "--upstream 127.0.0.1:9001 --profile 5g-urban --events udp.jsonl")
    up.add_argument("--listen", default="127.0.0.1:0",
                    help="HOST:PORT to receive on; port 0 picks a free one (default)")
    up.add_argument("--upstream", required=True, help="HOST:PORT to relay to")
    up.add_argument("--max-peers", type=int, default=1024,
                    help="peers served at once; datagrams of further peers are dropped (1024)")
    _common(up)
    up.set_defaults(func=udp_proxy)
    sp = nsub.add_parser(
        "serial", help="frame-aware serial impairment proxy (own process)",
        description="Forward whole frames between two serial endpoints through the profile's "
                    "impairment (uplink: a to b). An endpoint `pty` is a new pseudo-terminal "
                    "whose path is printed in the ready line; otherwise a device path or a "
                    "pyserial URL such as socket://127.0.0.1:7000.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="example:\n  hil-bench netem serial --a pty --b /dev/pts/7 --baud 115200 "
               "--framing rtu --profile 5g-urban")
    sp.add_argument("--a", required=True, help="operator side: pty, a path or a pyserial URL")
    sp.add_argument("--b", required=True, help="device side: pty, a path or a pyserial URL")
    sp.add_argument("--baud", type=int, default=19200, help="line speed for pacing (19200)")
    sp.add_argument("--bits", type=int, default=11,
                    help="bits per character incl. start/parity/stop (default 11, Modbus RTU)")
    sp.add_argument("--framing", choices=["rtu", "line", "raw"], default="rtu",
                    help="rtu: 3.5-character silence; line: line endings; raw: each read")
    _common(sp, answers=False)
    sp.set_defaults(func=serial_proxy)
    ns = nsub.add_parser(
        "ns", help="run an unmodified program with all its IP traffic impaired (root)",
        description="Run COMMAND in a new network namespace joined to this host by a TUN link "
                    "that the bench's engine forwards: every IP packet it sends or receives "
                    "(TCP, UDP, ICMP) gets the profile's delay, jitter, loss, outages and rate "
                    "(uplink: what the program sends). The program reaches this host at the "
                    "address in $HIL_NS_HOST (its own is $HIL_NS_ADDR). JSON ready/stopped "
                    "lines go to stderr. Nothing is left behind when it ends or is killed. "
                    "Needs root and /dev/net/tun (exit 2 saying what is missing). Exit code: "
                    "the command's; 130 when interrupted.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="example:\n  hil-bench sim serve --host 0.0.0.0 --port 5020 &\n"
               "  hil-bench netem ns --profile 5g-urban --events ns.jsonl --net 10.200.9.0/30 "
               "-- \\\n      mbpoll -m tcp -p 5020 -a 1 -r 1 -c 6 -1 10.200.9.1")
    ns.add_argument("--profile", required=True,
                    help="network profile for both directions: built-in name or YAML file")
    ns.add_argument("--uplink-profile", default=None, metavar="P",
                    help="profile whose uplink (and outages) the program's outgoing packets get")
    ns.add_argument("--downlink-profile", default=None, metavar="P",
                    help="profile whose downlink (and outages) the incoming packets get")
    ns.add_argument("--net", default=None, metavar="CIDR",
                    help="IPv4 network for the link; host side = first address, namespace = "
                         "second (default: a /30 in 10.200.0.0/14 chosen by process id)")
    ns.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    ns.add_argument("--events", default=None, metavar="FILE",
                    help="append one JSON line per packet (fate, proto, src, dst) to FILE")
    ns.add_argument("--spin", type=float, default=1.5, metavar="MS",
                    help="without real-time priority: busy-poll this long before each release")
    ns.add_argument("--realtime", action=argparse.BooleanOptionalAction, default=True,
                    help="SCHED_FIFO for the forwarder (default; the command runs normally)")
    ns.add_argument("--answer-window", type=float, default=1.0, metavar="MS",
                    help=WINDOW_HELP)
    ns.add_argument("command", nargs=argparse.REMAINDER, help="-- COMMAND [ARGS...]")
    ns.set_defaults(func=netns)
    kp = nsub.add_parser(
        "kernel", help="optional kernel netem backend (tc), where the kernel has netem",
        description="Without --profile: say whether this kernel has netem (probed in a "
                    "throwaway network namespace). With --profile: print the tc/ip command "
                    "lines that impair --dev in both directions (uplink on its egress, downlink "
                    "on its ingress through an ifb device), with delay traces and outages as "
                    "timed `tc qdisc change` lines; --apply runs them (root, and a kernel with "
                    "sch_netem: where it is missing, use `hil-bench netem ns`), --clear undoes "
                    "them.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="example:\n  hil-bench netem kernel --profile 5g-urban --dev eth1 --duration 10")
    kp.add_argument("--profile", default=None, help="network profile: built-in name or YAML file")
    kp.add_argument("--dev", default=None,
                    help="interface towards the robot: egress = uplink, ingress = downlink")
    kp.add_argument("--ifb", default=None, help="ifb device for the ingress (ifb-DEV)")
    kp.add_argument("--duration", type=float, default=60.0, metavar="S",
                    help="seconds of trace/outage changes to plan or replay (default 60)")
    kp.add_argument("--seed", type=int, default=0, help="seed for Markov outages (default 0)")
    act = kp.add_mutually_exclusive_group()
    act.add_argument("--apply", action="store_true", help="run the commands on --dev (root)")
    act.add_argument("--clear", action="store_true", help="remove them from --dev")
    kp.set_defaults(func=kernel)
    p.set_defaults(func=lambda a: p.print_help() or 2)


def profiles(args: argparse.Namespace) -> int:
    items = {n: load_profile(n).description for n in profile_names()}
    if args.json:
        print(json.dumps({"profiles": items}))
    else:
        width = max(map(len, items))
        for name, desc in items.items():
            print(f"{name:<{width}}  {desc}")
    return EXIT_PASS


def show_profile(args: argparse.Namespace) -> int:
    print(json.dumps(load_profile(args.profile).summary(), indent=2))
    return EXIT_PASS


def serial_proxy(args: argparse.Namespace) -> int:
    from bench.impair.serialproxy import SerialProxy, open_endpoint
    from bench.impair.serve import run_proxy

    prof = load_profile(args.profile)
    link = prof.link(args.seed)

    def build(loop, events):
        a = open_endpoint(args.a, args.baud)
        b = open_endpoint(args.b, args.baud)
        return SerialProxy(a, b, link, loop, args.baud, args.framing, args.bits, events)

    run_proxy(build, lambda px: {"proxy": "serial", "a": px.a.path, "b": px.b.path,
                                 "baud": args.baud, "framing": args.framing,
                                 "profile": prof.name, "seed": args.seed},
              args.events, args.spin / 1000.0, args.realtime, 0.0)
    return EXIT_PASS


def kernel(args: argparse.Namespace) -> int:
    from bench.impair import kernel as kn

    if (args.apply or args.clear) and not args.dev:
        raise ConfigError("--apply/--clear need --dev IFACE")
    if args.duration <= 0:
        raise ConfigError("--duration: must be > 0")
    if args.clear:
        print("\n".join(" ".join(c) for c in kn.clear(args.dev, args.ifb)))
        return EXIT_PASS
    if args.profile is None:
        ok, reason = kn.available()
        print("kernel netem: available" if ok else
              f"kernel netem: not available: {reason}; {kn.INSTEAD}")
        return EXIT_PASS if ok else EXIT_DEVICE
    prof = load_profile(args.profile)
    if args.apply:
        print(kn.apply(args.dev, prof, args.duration, args.seed).script())
        return EXIT_PASS
    print(kn.plan(args.dev or "IFACE", prof, args.ifb, args.duration, args.seed).script())
    return EXIT_PASS


WINDOW_HELP = ("after a delivery that is probably answered at once (the other direction's "
               "delay is under 0.5 ms), sleep at most 0.05 ms at a time for this long, so that "
               "the answer is read by an awake CPU; 0: off (default: 1)")


def _window(args: argparse.Namespace) -> float:
    """--answer-window in seconds; ConfigError when negative."""
    if args.answer_window < 0:
        raise ConfigError("--answer-window: must be >= 0 ms")
    return args.answer_window / 1000.0


def _common(p: argparse.ArgumentParser, answers: bool = True) -> None:
    p.add_argument("--profile", required=True, help="network profile: built-in name or YAML file")
    p.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    p.add_argument("--events", default=None, metavar="FILE",
                   help="append one JSON line per message (delay, loss, outage) to FILE")
    p.add_argument("--spin", type=float, default=1.5, metavar="MS",
                   help="without real-time priority: busy-poll this long before each release "
                        "(default: 1.5)")
    p.add_argument("--realtime", action=argparse.BooleanOptionalAction, default=True,
                   help="run SCHED_FIFO and sleep precisely instead of spinning (default; needs "
                        "CAP_SYS_NICE, falls back to spinning without it; the ready line says "
                        "which); --no-realtime always spins")
    if answers:     # the serial proxy has no answer windows
        p.add_argument("--answer-window", type=float, default=1.0, metavar="MS",
                       help=WINDOW_HELP)


def proxy(args: argparse.Namespace) -> int:
    from bench.impair.serve import parse_hostport, run_proxy
    from bench.impair.tcpproxy import TcpProxy

    listen = parse_hostport(args.listen, "--listen")
    upstream = parse_hostport(args.upstream, "--upstream")
    prof = load_profile(args.profile)
    link = prof.link(args.seed)

    def build(loop, events):
        try:
            # a TCP connection retransmits what the link loses (Linux's timing, profile `tcp:`)
            return TcpProxy(listen, upstream, link, loop, events, tcp=prof.tcp)
        except OSError as exc:
            raise ConfigError(f"--listen: cannot listen on {args.listen}: {exc}") from None

    run_proxy(build, lambda px: {"proxy": "tcp", "host": listen[0], "port": px.port,
                                 "upstream": args.upstream, "profile": prof.name,
                                 "seed": args.seed},
              args.events, args.spin / 1000.0, args.realtime, _window(args))
    return EXIT_PASS


def udp_proxy(args: argparse.Namespace) -> int:
    from bench.impair.serve import parse_hostport, run_proxy
    from bench.impair.udpproxy import UdpProxy

    listen = parse_hostport(args.listen, "--listen")
    upstream = parse_hostport(args.upstream, "--upstream")
    if args.max_peers < 1:
        raise ConfigError("--max-peers: must be >= 1")
    prof = load_profile(args.profile)
    link = prof.link(args.seed)

    def build(loop, events):
        try:
            return UdpProxy(listen, upstream, link, loop, events, args.max_peers)
        except OSError as exc:
            raise ConfigError(f"--listen/--upstream: {args.listen} -> {args.upstream}: "
                              f"{exc}") from None

    run_proxy(build, lambda px: {"proxy": "udp", "host": listen[0], "port": px.port,
                                 "upstream": args.upstream, "profile": prof.name,
                                 "seed": args.seed},
              args.events, args.spin / 1000.0, args.realtime, _window(args))
    return EXIT_PASS


def netns(args: argparse.Namespace) -> int:
    from bench.impair.gate import directional_link
    from bench.impair.netns import run_in_netns

    command = list(args.command)
    if command[:1] == ["--"]:
        command = command[1:]
    prof = load_profile(args.profile)
    up = load_profile(args.uplink_profile) if args.uplink_profile else prof
    down = load_profile(args.downlink_profile) if args.downlink_profile else prof
    link = directional_link(up, down, args.seed)
    info = {"profile": prof.name, "uplink_profile": up.name, "downlink_profile": down.name,
            "seed": args.seed}
    return run_in_netns(command, link, events_path=args.events, net=args.net,
                        spin_s=args.spin / 1000.0, realtime=args.realtime,
                        window_s=_window(args), info=info)
