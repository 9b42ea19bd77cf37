"""A simulated 5G CPE router that publishes its link state in Modbus registers (a `ModemMap`).

Every read is answered with the link profile's state at the moment of the request, encoded with
the map's types, scales, value tables and 'not available' values. Writes are refused (exception
1), like a read-only status block. Only this module and `drivers/modbus/` use pymodbus.
"""
from __future__ import annotations

import time
from typing import Callable

import pymodbus
from pymodbus.constants import ExcCodes
from pymodbus.server import ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

from drivers.modbus import codec
from drivers.modem.link import LinkState
from drivers.modem.modbus import ModemMap
from drivers.sim.modem_profile import LinkProfile

pymodbus.pymodbus_apply_logging_config("CRITICAL")

_READ_FC = {3: "holding", 4: "input"}


def link_values(link: LinkState) -> dict[str, float | None]:
    """A LinkState as the semantic values a modem map names (None = not available)."""
    p = link.primary
    vals: dict[str, float | None] = {k: None for k in (
        "mcc", "mnc", "cell_id", "cell_id_high", "pci", "tac", "arfcn", "band", "rsrp_dbm",
        "rsrq_db", "sinr_db", "rssi_dbm")}
    if p is not None:
        cid = int(p.cell_id, 16) if p.cell_id else None
        vals.update(
            mcc=int(p.mcc) if p.mcc else None, mnc=int(p.mnc) if p.mnc else None,
            cell_id=None if cid is None else cid & 0xFFFFFFFF,
            cell_id_high=None if cid is None else cid >> 32, pci=p.pci,
            tac=int(p.tac, 16) if p.tac else None, arfcn=p.arfcn,
            band=int(p.band[1:]) if p.band else None, rsrp_dbm=p.rsrp_dbm, rsrq_db=p.rsrq_db,
            sinr_db=p.sinr_db,
            rssi_dbm=None if p.rsrp_dbm is None else min(-25.0, p.rsrp_dbm + 25.0))
    return vals


class ModemRegisters:
    """Binds a link profile to a modem map: the device side of the register block."""

    def __init__(self, modem_map: ModemMap, profile: LinkProfile,
                 clock: Callable[[], float]) -> None:
        self.map = modem_map
        self.profile = profile
        self.clock = clock
        self.requests = 0
        self._rat_code = {v: k for k, v in reversed(list(modem_map.rats.items()))}
        self._state_code = {v: k for k, v in reversed(list(modem_map.states.items()))}

    def device(self, device_id: int = 1) -> SimDevice:
        tables: dict[str, list[SimData]] = {"holding": [], "input": []}
        for m in self.map.fields.values():
            f = m.field
            tables[f.table].append(SimData(f.address, count=f.count, values=0,
                                           datatype=DataType.REGISTERS, readonly=True))
        for items in tables.values():
            if not items:
                items.append(SimData(65535, count=1, values=0, datatype=DataType.REGISTERS))
        bits = [SimData(65535, count=1, values=0, datatype=DataType.BITS)]
        return SimDevice(id=device_id, simdata=(bits, bits, tables["holding"], tables["input"]),
                         action=self.action)

    def words_now(self) -> dict[str, list[int]]:
        """Encoded registers of every mapped field for the link now."""
        link = self.profile.state_at(self.clock())
        vals = link_values(link)
        vals["rat"] = self._rat_code.get(link.rat, self._rat_code.get("", 0))
        vals["state"] = self._state_code.get(link.state, 0)
        out: dict[str, list[int]] = {}
        for name, m in self.map.fields.items():
            f, v = m.field, vals.get(name)
            if v is None:
                raw = m.invalid if m.invalid is not None else 0
                out[name] = codec.encode(raw, f.dtype, 1.0, f.word_order)
                continue
            try:
                out[name] = codec.encode(v, f.dtype, f.scale, f.word_order)
            except ValueError:      # does not fit the register: report it as not available
                out[name] = codec.encode(m.invalid or 0, f.dtype, 1.0, f.word_order)
        return out

    async def action(self, function_code: int, start_address: int, address: int, count: int,
                     current_registers: list[int], set_values: list[int] | list[bool] | None
                     ) -> ExcCodes | None:
        """pymodbus hook: fill the requested registers from the profile; refuse writes."""
        self.requests += 1
        if set_values is not None:
            return ExcCodes.ILLEGAL_FUNCTION
        table = _READ_FC.get(function_code)
        if table is None:
            return None
        end = address + count
        words = self.words_now()
        for name, m in self.map.fields.items():
            f = m.field
            if f.table == table and f.address < end and f.end > address:
                off = f.address - start_address
                for i, w in enumerate(words[name]):
                    if 0 <= off + i < len(current_registers):
                        current_registers[off + i] = w
        return None


async def start_modem_modbus_server(modem_map: ModemMap, profile: LinkProfile,
                                    host: str = "127.0.0.1", port: int = 0, device_id: int = 1,
                                    clock: Callable[[], float] | None = None
                                    ) -> tuple[ModbusTcpServer, int, ModemRegisters]:
    """Start a Modbus TCP server for a simulated CPE; returns (server, bound port, bindings).

    Time 0 of the profile is now unless `clock` is given. Raises OSError if it cannot bind."""
    if clock is None:
        t0 = time.monotonic()
        clock = lambda: time.monotonic() - t0  # noqa: E731
    regs = ModemRegisters(modem_map, profile, clock)
    server = ModbusTcpServer(regs.device(device_id), address=(host, port))
    await server.serve_forever(background=True)
    sockets = getattr(server.transport, "sockets", None) or []
    if not sockets:
        await server.shutdown()
        raise OSError(f"simulator could not listen on {host}:{port}")
    return server, sockets[0].getsockname()[1], regs
