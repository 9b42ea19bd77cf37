"""The race behind the empty message after SIGINT (tests/test_interrupt.py once failed with orjson's
"zero-length, empty document"): a KeyboardInterrupt raised while the mcap library builds a message
record left the record unfinished (length 0) in the chunk, which was then closed normally.

The signal is delivered at exactly that moment: the mcap record builder is wrapped so that it
signals its own process just before it writes a chosen message's payload.
"""
from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest
from mcap.data_stream import RecordBuilder

from bench.interrupts import interrupts_as_keyboardinterrupt, pending
from bench.session.info import session_info
from bench.session.reader import SessionReader
from bench.session.schema import T_EVENT, T_POSE
from bench.session.writer import SessionWriter

MARK = b'{"label":"signal-me","x_mm":1.0,"y_mm":2.0,"z_mm":3.0,"a_deg":0,"b_deg":0,"c_deg":0}'


@pytest.fixture
def signal_mid_record(monkeypatch: pytest.MonkeyPatch) -> None:
    real = RecordBuilder.write

    def write(self: RecordBuilder, data: bytes) -> None:
        if bytes(data) == MARK:
            os.kill(os.getpid(), signal.SIGINT)    # handled at the next bytecode: right here
        real(self, data)

    monkeypatch.setattr(RecordBuilder, "write", write)


def _write_run(path: Path) -> None:
    """A few poses, the marked one, then (as run does after Ctrl-C) an event and close."""
    w = SessionWriter(path, background_flush=False)
    try:
        for i in range(5):
            w.write_json(T_POSE, i, b'{"label":"","x_mm":%d,"y_mm":0,"z_mm":0,"a_deg":0,'
                                    b'"b_deg":0,"c_deg":0}' % i)
        w.write_json(T_POSE, 10, MARK)
        w.write_json(T_POSE, 11, b'{"label":"never"}')
    except KeyboardInterrupt:
        w.write(T_EVENT, 20, {"kind": "interrupted", "detail": {}})
    finally:
        w.close()


def test_interrupt_while_building_a_record_is_deferred_until_it_is_whole(
        tmp_path: Path, signal_mid_record: None) -> None:
    path = tmp_path / "s.mcap"
    with interrupts_as_keyboardinterrupt():
        _write_run(path)
    assert not pending()
    with SessionReader(path) as r:
        msgs = list(r.messages())
        assert not r.damaged and not r.truncated, r.damage
    poses = [m.data for m in msgs if m.topic == T_POSE]
    # the marked message is whole, the interrupt came right after it, the next one never ran
    assert [p["label"] for p in poses] == [""] * 5 + ["signal-me"]
    assert msgs[-1].topic == T_EVENT and msgs[-1].data["kind"] == "interrupted"


def test_without_deferral_the_half_record_is_reported_not_raised(
        tmp_path: Path, signal_mid_record: None) -> None:
    """Python's own Ctrl-C handler cuts the record; the reader then names the damaged message
    (topic, position) and reads on instead of raising on an empty document."""
    path = tmp_path / "s.mcap"
    old = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        _write_run(path)
    finally:
        signal.signal(signal.SIGINT, old)
    with SessionReader(path) as r:
        msgs = list(r.messages())
        assert r.damaged and r.damage
        assert "/robot/pose message of 0 bytes at byte" in r.damage[0], r.damage
    assert [m.data["x_mm"] for m in msgs if m.topic == T_POSE] == [0, 1, 2, 3, 4]
    info = session_info(path)
    assert info["damaged"] is True and info["truncated"] is False
    assert info["damaged_messages"] == 1


def test_an_empty_payload_is_refused_by_the_writer(tmp_path: Path) -> None:
    with SessionWriter(tmp_path / "s.mcap", background_flush=False) as w:
        with pytest.raises(ValueError, match="empty session message on /robot/pose"):
            w.write_json(T_POSE, 1, b"")
