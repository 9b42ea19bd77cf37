"""Property tests for the file and wire parsers outside the config loaders: network traces,
network profiles, instrument CSV files, GRBL status lines and session files. No input makes them
raise anything but their typed error (ConfigError for files a user gives, ProtocolError for
bytes a device sends)."""
from __future__ import annotations

import random
import tempfile
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.impair import load_profile
from bench.impair.traces import load_trace
from bench.instrument import read_instrument_csv
from bench.session.reader import SessionReader
from drivers.errors import ConfigError, ProtocolError
from drivers.grbl.protocol import parse_code, parse_status

REPO = Path(__file__).resolve().parent.parent
SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])

cells = st.one_of(st.integers(-10**6, 10**6).map(str), st.floats().map(str),
                  st.sampled_from(["", "-", "nan", "inf", "x", "P1", "1e999", " "]))
header_words = st.sampled_from(["pub_time(ms)", "sub_time(ms)", "delay(ms)", "t_ms", "delay_ms",
                                "cellid(db)", "sinr(db)", "pose", "cycle", "cmd_x", "cmd_y",
                                "cmd_z", "x", "y", "z", "a", "cmd_a", "junk"])


def _tmp(text: str | bytes, name: str) -> Path:
    d = Path(tempfile.mkdtemp())
    p = d / name
    p.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8", "surrogatepass"))
    return p


@st.composite
def tables(draw: st.DrawFn, sep: str) -> str:
    head = draw(st.lists(header_words, min_size=1, max_size=9))
    rows = draw(st.lists(st.lists(cells, min_size=0, max_size=10), max_size=6))
    return "\n".join([sep.join(head)] + [sep.join(r) for r in rows]) + "\n"


@SETTINGS
@given(st.one_of(tables(" "), tables(","), st.text(max_size=120)),
       st.sampled_from(["auto", "cicv5g", "csv", "mahimahi"]))
def test_trace_readers_only_raise_config_error(text: str, fmt: str) -> None:
    try:
        load_trace(_tmp(text, "t.txt"), fmt)
    except ConfigError:
        pass


@SETTINGS
@given(st.one_of(tables(","), st.text(max_size=120)))
def test_instrument_csv_only_raises_config_error(text: str) -> None:
    try:
        read_instrument_csv(_tmp(text, "m.csv"))
    except ConfigError:
        pass


values = st.one_of(st.none(), st.booleans(), st.integers(-5, 10**4), st.floats(),
                   st.sampled_from(["5 ms", "1 %", "150 %", "-3 ms", "pareto", "cauchy", "x",
                                    "gilbert-elliott", "10 Mbit/s", "nope.txt"]))


@SETTINGS
@given(st.sampled_from(sorted(p.name for p in (REPO / "fixtures/networks").glob("*.yaml"))),
       st.data())
def test_mutated_profiles_load_or_raise_config_error(name: str, data: st.DataObject) -> None:
    doc = yaml.safe_load((REPO / "fixtures/networks" / name).read_text())
    keys = ["delay", "loss", "outage", "rate", "trace", "uplink", "downlink", "jitter", "base",
            "distribution", "correlation", "p", "r", "model", "schedule", "file", "split"]
    for _ in range(data.draw(st.integers(1, 3))):
        node = doc
        while isinstance(node, dict) and node and data.draw(st.booleans()):
            k = data.draw(st.sampled_from(sorted(map(str, node))))
            if not isinstance(node.get(k), dict):
                break
            node = node[k]
        if isinstance(node, dict):
            node[data.draw(st.sampled_from(keys))] = data.draw(
                st.one_of(values, st.dictionaries(st.sampled_from(keys), values, max_size=3)))
    p = _tmp(yaml.safe_dump(doc), "net.yaml")
    try:
        load_profile(str(p))
    except ConfigError:
        pass


grbl_fields = st.sampled_from(["MPos:1,2,3", "WPos:0.5,-1,2", "WCO:1,1,1", "FS:0,0", "Bf:15,128",
                               "Ln:9", "Pn:XY", "Ov:100,100,100", "MPos:1,2", "MPos:a,b,c",
                               "WPos:", "A:SF", "junk", "F:500"])


@SETTINGS
@given(st.one_of(
    st.builds(lambda s, f: "<" + "|".join([s, *f]) + ">",
              st.sampled_from(["Idle", "Run", "Hold:0", "Jog", "Alarm", "Door:1", "Home",
                               "Sleep", "Check", "Dance", ""]),
              st.lists(grbl_fields, max_size=5)),
    st.text(max_size=60)))
def test_grbl_status_parser_only_raises_protocol_error(line: str) -> None:
    try:
        parse_status(line)
    except ProtocolError:
        pass


@SETTINGS
@given(st.text(max_size=30), st.sampled_from(["error:", "ALARM:"]))
def test_grbl_code_parser_only_raises_protocol_error(line: str, prefix: str) -> None:
    try:
        parse_code(line, prefix)
    except ProtocolError:
        pass


SESSION = (REPO / "fixtures/sessions/iso-cube.mcap").read_bytes()


@SETTINGS
@given(st.data())
def test_damaged_sessions_read_or_raise_config_error(data: st.DataObject) -> None:
    """Random bytes flipped, cut or inserted anywhere in a real session file."""
    buf = bytearray(SESSION)
    rnd = random.Random(data.draw(st.integers(0, 2**32 - 1)))
    for _ in range(data.draw(st.integers(1, 6))):
        op = rnd.choice(["flip", "cut", "insert"])
        i = rnd.randrange(len(buf))
        if op == "flip":
            buf[i] ^= rnd.randrange(1, 256)
        elif op == "cut":
            del buf[i:i + rnd.randrange(1, 64)]
        else:
            buf[i:i] = bytes(rnd.randrange(256) for _ in range(rnd.randrange(1, 16)))
    try:
        with SessionReader(_tmp(bytes(buf), "s.mcap")) as reader:
            for _ in reader.messages():
                pass
    except ConfigError:
        pass


@SETTINGS
@given(st.binary(max_size=200))
def test_random_bytes_are_not_a_session(blob: bytes) -> None:
    try:
        with SessionReader(_tmp(blob, "s.mcap")) as reader:
            list(reader.messages())
    except ConfigError:
        pass
