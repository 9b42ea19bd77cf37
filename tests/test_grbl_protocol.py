"""GRBL 1.1 status reports and reply lines, as the interface document describes them."""
from __future__ import annotations

import pytest

from drivers.errors import ProtocolError
from drivers.grbl.protocol import gcode_move, parse_code, parse_status, work_position


def test_mpos_report_with_fields_in_any_order() -> None:
    a = parse_status("<Idle|MPos:0.000,-10.000,5.000|FS:0,0>")
    b = parse_status("<Idle|FS:0,0|Bf:15,128|MPos:0.000,-10.000,5.000>")
    assert a.state == b.state == "Idle" and a.mpos == b.mpos == (0.0, -10.0, 5.0)
    assert b.fields["Bf"] == "15,128" and a.wpos is None


def test_wpos_and_wco_give_work_coordinates() -> None:
    w = parse_status("<Run|WPos:1.5,2.5,3.5|FS:500,0>")
    assert work_position(w, None) == (1.5, 2.5, 3.5)
    with_wco = parse_status("<Idle|MPos:11.000,2.000,3.000|WCO:10.000,0.000,-1.000>")
    assert work_position(with_wco, None) == (1.0, 2.0, 4.0)
    # WCO comes only every 10-30 reports: the last one seen applies to the next MPos reports
    later = parse_status("<Idle|MPos:12.000,2.000,3.000|FS:0,0>")
    assert work_position(later, with_wco.wco) == (2.0, 2.0, 4.0)


def test_substates_and_four_axis_positions() -> None:
    r = parse_status("<Hold:1|MPos:1.000,2.000,3.000,4.000|Pn:XZ|Ov:100,100,100>")
    assert (r.state, r.substate, r.mpos) == ("Hold", 1, (1.0, 2.0, 3.0))
    assert parse_status("<Door:0|WPos:0,0,0>").substate == 0


@pytest.mark.parametrize("line", ["Idle|MPos:0,0,0", "<Flying|MPos:0,0,0>", "<Idle|FS:0,0>",
                                  "<Idle|MPos:0,x,0>", "<Idle|MPos:0,0>", "<Idle|MPos>"])
def test_malformed_reports_are_protocol_errors(line: str) -> None:
    with pytest.raises(ProtocolError, match="GRBL status"):
        parse_status(line)


def test_error_and_alarm_codes() -> None:
    assert parse_code("error:20", "error:") == 20
    assert parse_code("ALARM:3", "ALARM:") == 3
    assert parse_code("ok", "error:") is None
    with pytest.raises(ProtocolError):
        parse_code("error:x", "error:")


def test_move_line_is_absolute_mm_with_feed_per_minute() -> None:
    assert gcode_move(1.23456, -2, 0, 6000) == "G90 G21 G1 X1.235 Y-2.000 Z0.000 F6000.0"
