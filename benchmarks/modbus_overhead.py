#!/usr/bin/env python3
"""How much does the bench's Modbus driver cost over a bare pymodbus client?

One simulator (`hil-bench sim serve --robot MAP`, its own process, 127.0.0.1) is read in this
process by (a) `ModbusRobotArm.read_pose()` (register map, spans, decoding, orientation, `Pose`)
and (b) a bare `pymodbus` client reading the same registers in one request and decoding them with
`convert_from_registers`. Within each round the two alternate in chunks of 50 reads, so load
changes on a shared machine hit both alike; the figures are medians over rounds. Goal: driver
rate >= 85 % of bare rate. On a busy machine (load above the core count) expect scatter of
+-20 % between runs: run it several times, or on an idle machine.

    python benchmarks/modbus_overhead.py             # table
    python benchmarks/modbus_overhead.py --short     # fewer reads (CI smoke)
    python benchmarks/modbus_overhead.py --json      # {"driver_reads_per_s", "bare_reads_per_s",
                                                     #  "ratio" (= driver / bare), ...}
    python benchmarks/modbus_overhead.py --map ur --transport rtu-tcp
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pymodbus import FramerType  # noqa: E402
from pymodbus.client import ModbusTcpClient  # noqa: E402

from bench.simproc import ChildProcess  # noqa: E402
from drivers.modbus.regmap import load_map, resolve_map, spans  # noqa: E402
from drivers.modbus.robot import ModbusRobotArm  # noqa: E402
from drivers.modbus.transport import ModbusSettings  # noqa: E402

DTYPES = {"int16": ModbusTcpClient.DATATYPE.INT16, "uint16": ModbusTcpClient.DATATYPE.UINT16,
          "int32": ModbusTcpClient.DATATYPE.INT32, "float32": ModbusTcpClient.DATATYPE.FLOAT32}


def _bare_client(transport: str, host: str, port: int):
    framer = {"tcp": FramerType.SOCKET, "rtu-tcp": FramerType.RTU,
              "ascii-tcp": FramerType.ASCII}[transport]
    return ModbusTcpClient(host, port=port, framer=framer, timeout=1.0, retries=0)


def measure(map_name: str, transport: str, reads: int, rounds: int) -> dict:
    regmap = load_map(resolve_map(map_name))
    pose_fields = [f for f in regmap.fields.values() if f.name.startswith("actual_")]
    (run,) = spans(pose_fields) if len({f.table for f in pose_fields}) == 1 else (None,)
    if run is None:
        raise SystemExit(f"map {map_name}: pose registers are not one contiguous block")
    start, count = run[0].address, run[-1].end - run[0].address
    dtype, order = DTYPES[run[0].dtype], run[0].word_order
    args = ["sim", "serve", "--robot", map_name, "--transport", transport, "--port", "0"]
    with ChildProcess(args) as sim:
        host, port = sim.info["host"], int(sim.info["port"])
        arm = ModbusRobotArm(regmap, ModbusSettings(transport=transport, timeout_s=1.0, retries=0)
                             .with_endpoint((host, port)))
        bare = _bare_client(transport, host, port)
        bare.connect()
        read = bare.read_holding_registers if run[0].table == "holding" \
            else bare.read_input_registers
        rates: dict[str, list[float]] = {"driver": [], "bare": []}
        chunk = 50
        with arm:
            def driver_chunk() -> None:
                for _ in range(chunk):
                    arm.read_pose()

            def bare_chunk() -> None:
                for _ in range(chunk):
                    rr = read(start, count=count, device_id=1)
                    bare.convert_from_registers(rr.registers, data_type=dtype, word_order=order)
            for fn in (driver_chunk, bare_chunk) * 4:   # warm-up
                fn()
            for _ in range(rounds):
                spent = {"driver": 0.0, "bare": 0.0}
                for _ in range(max(1, reads // chunk)):
                    for name, fn in (("driver", driver_chunk), ("bare", bare_chunk)):
                        t0 = time.perf_counter()
                        fn()
                        spent[name] += time.perf_counter() - t0
                for name, t in spent.items():
                    rates[name].append(max(1, reads // chunk) * chunk / t)
        bare.close()
    d, b = statistics.median(rates["driver"]), statistics.median(rates["bare"])
    return {"map": map_name, "transport": transport, "reads_per_round": reads, "rounds": rounds,
            "driver_reads_per_s": round(d, 1), "bare_reads_per_s": round(b, 1),
            "ratio": round(d / b, 4), "goal": 0.85}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--map", default="native", help="register map (default: native)")
    ap.add_argument("--transport", default="tcp", choices=["tcp", "rtu-tcp", "ascii-tcp"])
    ap.add_argument("--reads", type=int, default=2000, help="reads per round (default 2000)")
    ap.add_argument("--rounds", type=int, default=5, help="rounds per client (default 5)")
    ap.add_argument("--short", action="store_true", help="200 reads x 3 rounds")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    a = ap.parse_args()
    reads, rounds = (200, 3) if a.short else (a.reads, a.rounds)
    r = measure(a.map, a.transport, reads, rounds)
    if a.json:
        print(json.dumps(r))
    else:
        print(f"map {r['map']} over {r['transport']}, {rounds} rounds x {reads} pose reads, "
              f"medians:")
        print(f"  bench driver  {r['driver_reads_per_s']:>9.1f} reads/s")
        print(f"  bare pymodbus {r['bare_reads_per_s']:>9.1f} reads/s")
        print(f"  ratio         {r['ratio']:>9.3f}   (goal >= {r['goal']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
