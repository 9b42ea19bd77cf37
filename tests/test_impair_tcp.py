"""TCP over an impaired link (bench/impair/tcp.py): RFC 6298 retransmission timing, exponential
back-off, head-of-line blocking, reset after a long outage; serial links keep loss as loss."""
from __future__ import annotations

from pathlib import Path

import pytest

from bench.impair.profile import parse_profile
from bench.impair.tcp import TcpConnection, TcpSpec


def _profile(**doc):
    return parse_profile({"name": "t", **doc}, "<test>", Path("."))


def test_rto_follows_rfc6298_and_backs_off_through_an_outage() -> None:
    # 100 ms each way: the first RTT sample is 200 ms -> SRTT 200, RTTVAR 100, RTO = 200 + 4 x 100
    prof = _profile(delay="100 ms", outage={"schedule": [{"at": "1 s", "duration": "2 s"}]})
    conn = TcpConnection(prof.link(1), prof.tcp)
    first = conn.uplink.send(0.0, 12)
    assert not first.lost and first.retransmits == 0
    assert conn.uplink.srtt == pytest.approx(0.2) and conn.uplink.rttvar == pytest.approx(0.1)
    assert conn.uplink.rto == pytest.approx(0.6)
    # sent into the hole [1, 3): tries at 1.0, 1.6, 2.8 are lost, 5.2 gets through
    f = conn.uplink.send(1.0, 12)
    assert not f.lost and f.retransmits == 3
    assert f.stall_s == pytest.approx(0.6 + 1.2 + 2.4)
    assert f.delay_s == pytest.approx(4.2 + 0.1)
    assert f.as_event()["retransmitted_after_ms"] == pytest.approx(4200.0)
    assert "retransmitted after 4200 ms" in f.describe()
    # bytes written behind it wait for it (head-of-line), and go out when it gets through
    behind = conn.uplink.send(1.5, 12)
    assert behind.t_arrive_s >= f.t_arrive_s and behind.retransmits == 1
    # Karn: the backed-off RTO stays until a clean measurement, which recomputes it
    assert conn.uplink.rto == pytest.approx(4.8)
    clean = conn.uplink.send(6.0, 12)
    assert clean.retransmits == 0
    assert conn.uplink.rto == pytest.approx(0.2 + 4 * 0.075)


def test_min_rto_is_200_ms_and_configurable() -> None:
    prof = _profile(delay="5 ms", loss=1.0)          # every first transmission lost
    assert prof.tcp.min_rto_s == pytest.approx(0.2)
    conn = TcpConnection(_profile(delay="5 ms").link(1), prof.tcp)
    conn.uplink.send(0.0, 10)                         # RTT 10 ms -> RTO clamps to 200 ms
    assert conn.uplink.rto == pytest.approx(0.2)
    quick = _profile(delay="5 ms", tcp={"min_rto": "50 ms"})
    conn = TcpConnection(quick.link(1), quick.tcp)
    conn.uplink.send(0.0, 10)
    assert conn.uplink.rto == pytest.approx(0.05)


def test_one_percent_loss_becomes_late_messages_not_lost_ones() -> None:
    prof = _profile(delay="10 ms", loss="1 %")
    conn = TcpConnection(prof.link(3), prof.tcp)
    fates = [conn.uplink.send(i * 0.02, 12) for i in range(5000)]
    assert not any(f.lost for f in fates)
    late = [f for f in fates if f.retransmits]
    assert 20 <= len(late) <= 90                      # ~1 % of 5000, retransmitted
    # a loss waits at least the minimum RTO, unless it was lost behind a segment already
    # waiting for its retransmission (then it is resent with that one)
    heads = [f for i, f in enumerate(late)
             if i == 0 or f.t_send_s > late[i - 1].t_send_s + late[i - 1].stall_s]
    assert heads and min(f.stall_s for f in heads) >= 0.2 - 1e-9
    assert all(f.t_arrive_s >= h.t_arrive_s for h in heads for f in fates
               if h.t_send_s < f.t_send_s < h.t_send_s + h.stall_s)      # head-of-line
    # the same profile on a serial link (no TCP) loses them
    link = prof.link(3)
    assert sum(link.uplink.send(i * 0.02, 12).lost for i in range(5000)) > 20


def test_a_long_outage_resets_the_connection_and_a_new_one_works() -> None:
    prof = _profile(delay="10 ms", outage={"schedule": [{"at": "1 s", "duration": "10 s"}]},
                    tcp={"reset_after": "4 s"})
    assert prof.tcp == TcpSpec(reset_after_s=4.0)
    link = prof.link(1)
    conn = TcpConnection(link, prof.tcp)
    stalled = conn.uplink.send(1.5, 12)
    assert stalled.lost and stalled.cause == "stall"
    assert conn.reset_at() == pytest.approx(5.5)
    assert conn.uplink.send(3.0, 12).cause == "stall"
    assert conn.uplink.send(6.0, 12).cause == "reset"
    again = TcpConnection(link, prof.tcp)              # reconnect after the hole
    assert not again.uplink.send(11.5, 12).lost


def test_bad_tcp_section_names_the_key() -> None:
    from drivers.errors import ConfigError
    with pytest.raises(ConfigError, match="max_rto"):
        _profile(tcp={"min_rto": "1 s", "max_rto": "100 ms"})
    with pytest.raises(ConfigError, match="tcp"):
        _profile(tcp={"min_rto": "1 s", "bogus": 1})
