"""NDI Combined API framing against real recorded trackers (IGSTK logs, tests/data/ndi) and an
independent CRC implementation (crcmod)."""
from __future__ import annotations

import struct

import crcmod
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.errors import ProtocolError
from drivers.instrument import ndi_protocol as P
from drivers.instrument.crc import crc16_arc, crc64_ecma
from tests.ndi_logs import AURORA, POLARIS, STRESS, load

ARC = crcmod.mkCrcFun(0x18005, rev=True, initCrc=0, xorOut=0)          # CRC-16/ARC
ECMA = crcmod.mkCrcFun(0x142F0E1EBA9EA3693, rev=False, initCrc=0, xorOut=0)  # as pyigtl builds it


def test_crc_check_values_and_documented_constants() -> None:
    assert crc16_arc(b"123456789") == 0xBB3D
    assert crc64_ecma(b"123456789") == 0x6C40DF5F0B497347
    # constants every NDI host hard-codes (ndicapi ndiSerialProbe; the logs)
    assert P.command("INIT") == b"INIT:E3A5\r"
    assert P.reply("OKAY") == b"OKAYA896\r"
    assert P.reply("RESET") == b"RESETBE6F\r"
    assert P.command("VER", "0") == b"VER:065EE\r"
    assert P.command("GETINFO", "Features.Firmware.Version") == \
        b"GETINFO:Features.Firmware.Version0492\r"


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_crcs_agree_with_crcmod(data: bytes) -> None:
    assert crc16_arc(data) == ARC(data)
    assert crc64_ecma(data) == ECMA(data)


@pytest.mark.parametrize("log", [POLARIS, AURORA, STRESS])
def test_every_recorded_command_carries_a_valid_crc(log: str) -> None:
    exchanges = [e for e in load(log) if e.command]
    assert len(exchanges) > 80
    for e in exchanges:
        name, params, ok = P.parse_command(e.command.rstrip(b"\r"))
        assert ok, (log, e.n, e.command)
        assert P.command(name, params) == e.command         # we encode it byte for byte


def _replies(log: str):
    for e in load(log):
        name, params, _ = P.parse_command(e.command.rstrip(b"\r"))
        if name == "BX":
            yield e, name, params, None
            continue
        # a break after the reply logs RESET under the same number (Aurora log, entry 47)
        for frame in e.receive.split(b"\r")[:-1]:
            yield e, name, params, frame + b"\r"


def test_real_polaris_replies_pass_crc_and_parse() -> None:
    counts = {"tx": 0, "bx": 0, "ascii": 0, "valid": 0}
    for e, name, params, frame in _replies(POLARIS):
        if name == "BX":
            length = P.parse_bx_header(e.receive[:6])
            assert len(e.receive) == length + 8
            if params == "0001":
                handles, system = P.parse_bx_body(e.receive[6:])
                counts["valid"] += sum(h.kind == "valid" for h in handles)
                # our encoder rebuilds the real tracker's reply bit for bit
                assert P.encode_bx(handles, system) == e.receive
            else:           # other reply options: both CRCs still check
                body = e.receive[6:]
                assert struct.unpack("<H", body[-2:])[0] == crc16_arc(body[:-2])
            counts["bx"] += 1
            continue
        text = P.check_reply(frame, name)
        counts["ascii"] += 1
        if name == "TX" and params == "0001":
            handles, system = P.parse_tx(text)
            counts["tx"] += 1
            counts["valid"] += sum(h.kind == "valid" for h in handles)
            assert P.reply(P.encode_tx(handles, system)) == frame
    assert counts["tx"] == 50 and counts["bx"] == 151 and counts["valid"] > 60


def test_real_transforms_decode_to_unit_quaternions_in_the_volume() -> None:
    seen = 0
    for e, name, params, frame in _replies(POLARIS):
        if params != "0001" or name not in ("TX", "BX"):
            continue
        handles = P.parse_bx_body(e.receive[6:])[0] if name == "BX" else \
            P.parse_tx(P.check_reply(frame, name))[0]
        for h in handles:
            if h.kind == "valid":
                assert h.q is not None and h.t is not None
                assert sum(v * v for v in h.q) == pytest.approx(1.0, abs=5e-4)  # 4-decimal rounding
                assert 900 < -h.t[2] < 3000         # Polaris: about 1 to 2.4 m from the camera
                assert h.port_status == 0x31       # occupied, initialized, enabled
                seen += 1
    assert seen > 60


def test_tx_record_decoded_by_hand() -> None:
    """Entry 192 of the Polaris log, decoded by hand from the documented field widths."""
    e = next(x for x in load(POLARIS) if x.n == 192)
    handles, system = P.parse_tx(P.check_reply(e.receive, "TX"))
    assert system == 0
    missing, tool = handles
    assert (missing.handle, missing.kind, missing.port_status, missing.frame) == \
        (1, "missing", 0x31, 0x24B)
    assert tool.handle == 2 and tool.kind == "valid"
    assert tool.q == (0.5029, 0.4875, 0.4692, 0.5377)
    assert tool.t == (-84.81, 148.04, -2106.19)
    assert tool.error_mm == 0.0356 and tool.frame == 0x24A


def test_real_bx_header_decoded_by_hand() -> None:
    e = next(x for x in load(POLARIS) if x.n == 41)
    assert e.receive[:6] == b"\xc4\xa5\x17\x00\x22\xe3"     # A5C4, 23 bytes, CRC E322
    assert P.parse_bx_header(e.receive[:6]) == 23
    handles, _ = P.parse_bx_body(e.receive[6:])
    assert [(h.handle, h.kind) for h in handles] == [(1, "missing"), (2, "missing")]


def test_damaged_replies_fail_the_crc_check() -> None:
    """IGSTK damaged entries 64-66 of its stress log on purpose; every other reply is intact."""
    failed = []
    for e, name, _params, frame in _replies(STRESS):
        if frame is None:
            continue
        try:
            P.check_reply(frame, name)
        except P.NdiError:
            pass
        except ProtocolError:
            failed.append(e.n)
    assert failed == [64, 65, 66]


def test_disabled_and_missing_records_without_status() -> None:
    text = P.check_reply(next(x for x in load(STRESS) if x.n == 71).receive, "TX")
    handles, system = P.parse_tx(text)
    assert [h.kind for h in handles] == ["missing", "valid", "disabled"]
    assert system == 0x0080
    assert P.parse_tx("0101DISABLED0000002100000005\n0000")[0][0].frame == 5


def test_phsr_from_real_logs() -> None:
    phsr = {x.command[:7]: x.receive for x in load(POLARIS) if x.command.startswith(b"PHSR")}
    # two occupied handles; after PINIT both report 0x011 (occupied + initialized)
    assert P.parse_phsr(P.check_reply(phsr[b"PHSR:02"])) == [(1, 0x001), (2, 0x001)]
    assert P.parse_phsr(P.check_reply(phsr[b"PHSR:03"])) == [(1, 0x011), (2, 0x011)]
    text = P.check_reply(b"03010010200103001705A\r")     # stress log entry 31
    assert P.parse_phsr(text) == [(1, 0x001), (2, 0x001), (3, 0x001)]


@pytest.mark.parametrize("reply,code", [(b"ERROR0C", 0x0C), (b"ERROR04", 0x04), (b"ERROR2D", 0x2D)])
def test_error_replies_are_typed(reply: bytes, code: int) -> None:
    with pytest.raises(P.NdiError) as info:
        P.check_reply(P.reply(reply), "TX:0001")
    assert info.value.code == code and P.ERROR_CODES[code] in str(info.value)
    assert info.value.exit_code == 3


@pytest.mark.parametrize("text", ["01", "0101+1000\n0000", "0101MISSING00\n0000", "zz"])
def test_bad_tx_layouts_are_protocol_errors(text: str) -> None:
    with pytest.raises(ProtocolError):
        P.parse_tx(text)
