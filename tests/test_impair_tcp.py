"""TCP over an impaired link (bench/impair/tcp.py): Linux's retransmission timing (RTO = SRTT +
max(MDEV-based RTTVAR, rto_min), tail loss probe, back-off, timestamps), head-of-line blocking,
reset after a long outage; serial links keep loss as loss. The expected figures are worked out by
hand from the kernel's formulas (cited in tcp.py); tests/test_impair_tcp_kernel.py compares with
the kernel itself."""
from __future__ import annotations

from pathlib import Path

import pytest

from bench.impair.profile import parse_profile
from bench.impair.tcp import TcpConnection, TcpSpec


def _profile(**doc):
    return parse_profile({"name": "t", **doc}, "<test>", Path("."))


def test_rto_follows_linux_and_backs_off_through_an_outage() -> None:
    # 100 ms each way: the first RTT sample is 200 ms -> SRTT 200, MDEV 400, RTTVAR max(400, 200)
    prof = _profile(delay="100 ms", outage={"schedule": [{"at": "1 s", "duration": "2 s"}]})
    conn = TcpConnection(prof.link(1), prof.tcp)
    first = conn.uplink.send(0.0, 12)
    assert not first.lost and first.retransmits == 0
    assert conn.uplink.srtt == pytest.approx(0.2) and conn.uplink.mdev == pytest.approx(0.4)
    assert conn.uplink.rttvar == pytest.approx(0.4) and conn.uplink.rto == pytest.approx(0.6)
    # sent alone into the hole [1, 3): the loss probe at min(2 x 0.2 + 0.2, 0.6) = +0.6, the RTO
    # restarted from it (+0.6, not doubled), then doubled (+1.2): tries at 1.0, 1.6, 2.2 are
    # lost, 3.4 gets through
    f = conn.uplink.send(1.0, 12)
    assert not f.lost and f.retransmits == 3
    assert f.stall_s == pytest.approx(0.6 + 0.6 + 1.2)
    assert f.delay_s == pytest.approx(2.4 + 0.1)
    assert f.as_event()["retransmitted_after_ms"] == pytest.approx(2400.0)
    assert "retransmitted after 2400 ms" in f.describe()
    # bytes written behind it wait for it (head-of-line), and go out when it gets through
    behind = conn.uplink.send(1.5, 12)
    assert behind.t_arrive_s >= f.t_arrive_s and behind.retransmits == 1
    # the retransmissions' ACKs are timed (timestamps): 200 ms each, so no back-off is left:
    # MDEV 400 -> 300 -> 225 (the second in the same round: its max becomes 225, above the
    # 200 ms it restarted from), RTTVAR stays 400, RTO 600 ms
    assert conn.uplink.mdev == pytest.approx(0.225) and conn.uplink.rto == pytest.approx(0.6)
    clean = conn.uplink.send(6.0, 12)
    assert clean.retransmits == 0
    # a new round: MDEV 168.75, RTTVAR decays a quarter of the way to the last round's max (225)
    assert conn.uplink.mdev == pytest.approx(0.16875)
    assert conn.uplink.rttvar == pytest.approx(0.4 - (0.4 - 0.225) / 4)
    assert conn.uplink.rto == pytest.approx(0.2 + 0.35625)


def test_rto_is_srtt_plus_the_200_ms_floor_and_configurable() -> None:
    prof = _profile(delay="5 ms", loss=1.0)          # every first transmission lost
    assert prof.tcp.min_rto_s == pytest.approx(0.2)
    conn = TcpConnection(_profile(delay="5 ms").link(1), prof.tcp)
    conn.uplink.send(0.0, 10)                         # RTT 10 ms -> RTTVAR max(20, 200) ms
    assert conn.uplink.rto == pytest.approx(0.21)
    for i in range(1, 50):                            # steady: RTTVAR stays at the floor
        conn.uplink.send(i * 0.05, 10)
    assert conn.uplink.rto == pytest.approx(0.21)
    quick = _profile(delay="5 ms", tcp={"min_rto": "50 ms"})
    conn = TcpConnection(quick.link(1), quick.tcp)
    conn.uplink.send(0.0, 10)
    assert conn.uplink.rto == pytest.approx(0.06)


def test_jitter_raises_the_rto_above_the_floor_and_it_decays_per_round() -> None:
    from bench.impair.link import ImpairedLink, recorded_link
    # RTT 100 ms, then one 900 ms sample: MDEV = 3/4 x 200 + 800 = 950 ms > the floor
    link: ImpairedLink = recorded_link([0.05, 0.45, 0.05, 0.05], [0.05, 0.45, 0.05, 0.05])
    conn = TcpConnection(link, TcpSpec())
    conn.downlink.send(0.0, 1)                        # the ACK direction's delays
    conn.uplink.send(0.0, 1)                          # 100 ms: SRTT .1, MDEV .2, RTTVAR .2
    assert conn.uplink.rto == pytest.approx(0.3)
    conn.downlink.send(1.0, 1)
    conn.uplink.send(1.0, 1)                          # 900 ms
    assert conn.uplink.srtt == pytest.approx(0.2)
    assert conn.uplink.mdev == pytest.approx(0.95) and conn.uplink.rttvar == pytest.approx(0.95)
    assert conn.uplink.rto == pytest.approx(1.15)
    conn.downlink.send(3.0, 1)
    conn.uplink.send(3.0, 1)                          # 100 ms: |error| 100 below MDEV / 4
    assert conn.uplink.srtt == pytest.approx(0.1875)
    step = 0.1 - 0.95 / 4                             # negative: the plain update
    assert conn.uplink.mdev == pytest.approx(0.95 + step)
    assert conn.uplink.rttvar == pytest.approx(0.95 - (0.95 - (0.95 + step)) / 4)
    # an RTT that falls by more than MDEV / 4 moves MDEV up by only an eighth of the step
    link = recorded_link([0.05, 0.01], [0.05, 0.01])
    conn = TcpConnection(link, TcpSpec())
    conn.downlink.send(0.0, 1)
    conn.uplink.send(0.0, 1)                          # 100 ms: MDEV 200
    conn.downlink.send(1.0, 1)
    conn.uplink.send(1.0, 1)                          # 20 ms: error 80 - 50 = 30 -> 30 / 8
    assert conn.uplink.mdev == pytest.approx(0.2 + 0.03 / 8)
    assert conn.uplink.rto == pytest.approx(0.09 + 0.2 + 0.03 / 8)


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
