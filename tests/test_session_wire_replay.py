"""A wire-mode session (through the TCP impairment proxy, whose network events are bytes on a
socket and name no call) replays every command it holds, complete or cut short. It used to replay
"0 commands", verdict N/A, exit 0, while `session info` counted them."""
from __future__ import annotations

from pathlib import Path

from bench.cli import main
from bench.session.info import session_info
from bench.session.replay import replay_session


def test_wire_session_through_the_proxy_replays_all_its_commands(tmp_path: Path) -> None:
    out = tmp_path / "o"
    assert main(["run", "--cycles", "2", "--network", "5g-urban", "-q", "--out", str(out)]) == 0
    session = out / "session.mcap"
    info = session_info(session)
    assert info["topics"]["/network/event"] > 0 and info["topics"]["/robot/command"] == 10
    c = replay_session(session)
    assert c.commands == 10 and c.error is None
    assert c.verdict_original in ("pass", "marginal") and c.verdict_replay != "n/a"
    # cut short as a killed recorder leaves it: the complete chunks still replay
    data = session.read_bytes()
    cut = tmp_path / "cut.mcap"
    cut.write_bytes(data[: int(len(data) * 0.6)])
    cinfo = session_info(cut)
    assert cinfo["truncated"] and cinfo["topics"]["/robot/command"] > 0
    assert replay_session(cut).commands == cinfo["topics"]["/robot/command"]
