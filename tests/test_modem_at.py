"""The AT channel against real ptys (os.openpty + tty.setraw) and a real TCP socket: framing,
echo, URCs kept apart, error replies, timeouts, noise."""
from __future__ import annotations

import os
import select
import threading
import time
import tty
from typing import Callable, Iterator

import pytest

from drivers.errors import DeviceError, DeviceFault, DeviceTimeout, ProtocolError
from drivers.modem.at import ATChannel, ATSettings, expected_prefix
from drivers.modem.link import LinkState, ServingCell
from drivers.modem.vendors import open_at_modem
from drivers.sim.modem_at import start_modem_server
from drivers.sim.modem_params import ModemSimParams
from drivers.sim.modem_profile import FixedProfile

LINK = LinkState("NR5G-SA", "connected", (ServingCell(
    rat="NR5G", mcc="460", mnc="01", cell_id="5C4225714", pci=77, tac="4E", arfcn=185000,
    band="n8", rsrp_dbm=-78.0, rsrq_db=-11.0, sinr_db=1.0),))


class ScriptedPeer:
    """The device end of a real pty; `script(command) -> bytes` decides what it sends back."""

    def __init__(self, script: Callable[[str], bytes]) -> None:
        self.master, self.slave = os.openpty()
        tty.setraw(self.master)
        tty.setraw(self.slave)
        self.path = os.ttyname(self.slave)
        self.script = script
        self.received: list[str] = []
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()

    def _run(self) -> None:
        buf = b""
        while not self._stop.is_set():
            if not select.select([self.master], [], [], 0.02)[0]:
                continue
            try:
                buf += os.read(self.master, 1024)
            except OSError:
                continue
            while b"\r" in buf:
                line, buf = buf.split(b"\r", 1)
                cmd = line.decode().strip()
                self.received.append(cmd)
                reply = self.script(cmd)
                if reply:
                    os.write(self.master, reply)

    def close(self) -> None:
        self._stop.set()
        self._t.join(2)
        os.close(self.master)
        os.close(self.slave)


@pytest.fixture
def peer() -> Iterator[Callable[[Callable[[str], bytes]], ScriptedPeer]]:
    peers: list[ScriptedPeer] = []

    def make(script: Callable[[str], bytes]) -> ScriptedPeer:
        peers.append(ScriptedPeer(script))
        return peers[-1]

    yield make
    for p in peers:
        p.close()


def _channel(path: str, timeout_s: float = 0.5) -> ATChannel:
    ch = ATChannel(ATSettings(path, timeout_s=timeout_s))
    ch.open()
    return ch


def test_expected_prefix() -> None:
    assert expected_prefix('AT+QENG="servingcell"') == "+QENG:"
    assert expected_prefix("at^monsc") == "^MONSC:"
    assert expected_prefix("AT!GSTATUS?") == "!GSTATUS:"
    assert expected_prefix("ATI") is None


def test_reply_echo_and_urcs_are_kept_apart(peer) -> None:
    def script(cmd: str) -> bytes:
        echo = cmd.encode() + b"\r"
        if cmd == "AT+CSQ":
            # a URC before, between and after the reply lines; then OK
            return (echo + b"\r\n+CEREG: 5\r\n\r\n+CSQ: 23,99\r\n\r\nRING\r\n\r\n+QIND: \"csq\""
                    b",23,99\r\n\r\nOK\r\n")
        return echo + b"\r\nOK\r\n"

    p = peer(script)
    ch = _channel(p.path)
    try:
        assert ch.command("AT+CSQ") == ["+CSQ: 23,99"]
        assert [u for _, u in ch.drain_urcs()] == ["+CEREG: 5", "RING", '+QIND: "csq",23,99']
        assert ch.command("AT") == []
        assert ch.drain_urcs() == []
    finally:
        ch.close()


def test_urc_arriving_between_commands_is_not_a_reply(peer) -> None:
    p = peer(lambda cmd: b"\r\n+CSQ: 10,99\r\n\r\nOK\r\n" if cmd == "AT+CSQ" else b"\r\nOK\r\n")
    ch = _channel(p.path)
    try:
        os.write(p.master, b"\r\n+C5GREG: 1\r\n")         # unsolicited, while idle
        time.sleep(0.05)
        assert ch.command("AT+CSQ") == ["+CSQ: 10,99"]
        assert [u for _, u in ch.drain_urcs()] == ["+C5GREG: 1"]
    finally:
        ch.close()


@pytest.mark.parametrize("final, code", [(b"ERROR", None), (b"+CME ERROR: 10", "10"),
                                         (b"+CMS ERROR: 500", "500")])
def test_error_replies_are_device_faults(peer, final: bytes, code: str | None) -> None:
    p = peer(lambda cmd: b"\r\n" + final + b"\r\n")
    ch = _channel(p.path)
    try:
        with pytest.raises(DeviceFault) as err:
            ch.command("AT+CPIN?")
        assert "AT+CPIN?" in str(err.value)
        if code:
            assert code in str(err.value)
    finally:
        ch.close()


def test_no_final_result_code_times_out(peer) -> None:
    p = peer(lambda cmd: b"\r\n+CSQ: 1,1\r\n")           # never says OK
    ch = _channel(p.path, timeout_s=0.3)
    try:
        t0 = time.monotonic()
        with pytest.raises(DeviceTimeout):
            ch.command("AT+CSQ")
        assert 0.25 <= time.monotonic() - t0 < 2.0
    finally:
        ch.close()


def test_noise_without_line_ends_is_a_protocol_error(peer) -> None:
    p = peer(lambda cmd: b"\xff" * 6000)
    ch = _channel(p.path, timeout_s=2.0)
    try:
        with pytest.raises(ProtocolError):
            ch.command("AT+CSQ")
    finally:
        ch.close()


def test_unopenable_port_is_a_device_error(tmp_path) -> None:
    with pytest.raises(DeviceError, match="cannot open AT port"):
        ATChannel(ATSettings(str(tmp_path / "no-such-tty"))).open()


@pytest.mark.parametrize("transport", ["pty", "tcp"])
@pytest.mark.parametrize("vendor", ["quectel", "huawei", "sierra", "generic"])
def test_detected_vendor_reads_the_simulator(transport: str, vendor: str) -> None:
    params = ModemSimParams(profile=FixedProfile(LINK), vendor=vendor, model={
        "quectel": "RM500Q-GL", "huawei": "MH5000-31", "sierra": "EM9190",
        "generic": "X55"}[vendor], transport=transport)
    server = start_modem_server(params)
    try:
        assert server.url.startswith("socket://127.0.0.1:" if transport == "tcp" else "/dev/")
        with open_at_modem(ATSettings(server.url, timeout_s=1.0)) as modem:
            link = modem.read_link()
            assert modem.vendor == vendor
    finally:
        server.stop()
    assert (link.rat, link.state) == ("NR5G-SA", "connected")
    assert link.cells[0].cell_id == "5C4225714"
    if vendor != "generic":         # 27.007 has no RSRP in dBm: the generic path reports none
        assert link.cells[0].rsrp_dbm == -78.0
        assert link.cells[0].sinr_db == 1.0
