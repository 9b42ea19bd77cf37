"""The fixture sessions: each replays to its recorded final poses, a worse network shows in the
comparison, and wire and virtual replays agree on the verdict."""
from __future__ import annotations

import pytest

from bench.session import session_info
from bench.session.testing import fixture_names, replay, session_path
from drivers.errors import ConfigError

#: ISO 9283 RP of the built-in simulated arm (hardware/sim.yaml `repeatability`)
REPEATABILITY_MM = 0.05


def test_fixtures_are_present_complete_and_describe_themselves() -> None:
    assert {"iso-cube", "screw-guide", "teleop-stream"} <= set(fixture_names())
    infos = {n: session_info(session_path(n)) for n in ("iso-cube", "screw-guide",
                                                         "teleop-stream")}
    assert all(not i["truncated"] and i["finished"] for i in infos.values())
    assert infos["iso-cube"]["scenario"] == "iso9283" and infos["iso-cube"]["mode"] == "wire"
    assert infos["screw-guide"]["scenario"] == "screw-guide"
    assert infos["screw-guide"]["topics"]["/network/event"] > 0
    tele = infos["teleop-stream"]
    assert tele["topics"]["/robot/command"] == 6001 and 60.0 <= tele["duration_s"] < 61.0
    assert tele["network"]["name"] == "5g-urban-moving"


@pytest.mark.parametrize("name", ["iso-cube", "screw-guide", "teleop-stream"])
def test_virtual_replay_under_recorded_delays_reproduces_final_poses(name: str) -> None:
    c = replay(name)
    assert c.error is None and c.same_verdict and c.passed
    assert c.targets, "every fixture has measured target poses"
    assert c.max_difference_mm is not None and c.max_difference_mm < REPEATABILITY_MM
    assert all(r.error_replay_mm is not None for r in c.targets)


def test_teleop_stream_under_telesurgery_delay_shows_time_domain_error() -> None:
    base = replay("teleop-stream")
    slow = replay("teleop-stream", network="telesurgery-300ms")
    assert slow.tracking_replay["rms_mm"] > 3 * base.tracking_replay["rms_mm"]
    assert slow.tracking_replay["max_mm"] > base.tracking_replay["max_mm"] + 2.0
    assert any(n.startswith("time-domain error grew") for n in slow.notes), slow.notes
    assert not any("grew" in n for n in base.notes)
    # the final pose is still reached (AP passes); the stream is judged on tracking too: a
    # 150 ms lag behind the operator's hand is within tracking_max but marginal on RMS
    assert base.verdict_replay == "pass"
    judged = {m["name"]: m["outcome"] for m in slow.measurements}
    assert judged["AP"] == "pass" and judged["tracking_max"] == "pass"
    assert judged["tracking_rms"] == "marginal" and slow.verdict_replay == "marginal"


def test_teleop_stream_through_a_coverage_hole_fails_on_tracking() -> None:
    c = replay("teleop-stream", network="coverage-hole")
    assert c.error is None and c.verdict_original == "pass" and c.verdict_replay == "fail"
    failed = {m["name"] for m in c.failed}
    assert failed == {"tracking_max"}, c.measurements
    assert c.tracking_replay["max_mm"] > 10.0 and c.tracking_replay["beyond_s"] >= 2.5
    # the TCP link stalled the setpoints through the 3 s hole instead of losing them; the one
    # sent as it opened is resent with Linux's back-off and gets through 3.44 s later (tcp.py)
    run = c.link_loss["run"]
    assert run["outages"] >= 1 and 3.0 <= run["longest_outage"] <= 3.5
    assert run["late_setpoints"] > 100 and run["lost_setpoints"] == 0


def test_screw_guide_under_weak_to_strong_5g() -> None:
    c = replay("screw-guide", network="5g-weak-to-strong")
    assert c.passed
    recorded = replay("screw-guide")
    assert c.duration_s >= recorded.duration_s
    assert c.max_difference_mm < REPEATABILITY_MM
    # a clearly worse network makes the supervisory steps take longer, not land elsewhere
    # (weak-to-strong can match the recorded 5g-urban delays at the poll times of a session)
    slow = replay("screw-guide", network="telesurgery-300ms")
    assert slow.duration_s > recorded.duration_s + 1.0
    assert slow.max_difference_mm < REPEATABILITY_MM


def test_wire_and_virtual_replays_give_the_same_verdict() -> None:
    virtual = replay("screw-guide", mode="virtual")
    wire = replay("screw-guide", mode="wire")
    assert wire.error is None, wire.error
    assert wire.verdict_replay == virtual.verdict_replay == wire.verdict_original
    assert wire.max_difference_mm < REPEATABILITY_MM


def test_unknown_fixture_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="unknown session 'nope'"):
        replay("nope")
