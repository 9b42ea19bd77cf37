"""The frame-aware serial proxy (its own process) on real ptys: frames are reassembled by the
Modbus RTU silent interval or by line endings and delivered whole; duplication and corruption act
on whole frames; the real AT driver sees the delay, times out in an outage and recovers.
Coarse timing facts only; precision is the benchmark's business."""
from __future__ import annotations

import json
import os
import select
import time
import tty
from pathlib import Path

import pytest

from bench.simproc import ChildProcess
from drivers.errors import DeviceTimeout
from drivers.modem.at import ATChannel, ATSettings


class Pty:
    """A raw pty pair; the test plays the device on the master side."""

    def __init__(self) -> None:
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)
        tty.setraw(self.master)
        self.path = os.ttyname(self.slave)

    def read_frames(self, fd: int, quiet_s: float = 0.3) -> list[tuple[float, bytes]]:
        """Each read() with its time, until nothing came for `quiet_s`."""
        out = []
        while select.select([fd], [], [], quiet_s)[0]:
            out.append((time.monotonic(), os.read(fd, 4096)))
        return out

    def close(self) -> None:
        os.close(self.master)
        os.close(self.slave)


def _profile(tmp_path: Path, text: str) -> str:
    p = tmp_path / "p.yaml"
    p.write_text("name: serial-test\n" + text)
    return str(p)


def _proxy(tmp_path: Path, profile: str, b: str, *extra: str) -> ChildProcess:
    return ChildProcess(["netem", "serial", "--a", "pty", "--b", b, "--profile", profile,
                       "--events", str(tmp_path / "events.jsonl"), *extra])


def _open(path: str) -> int:
    fd = os.open(path, os.O_RDWR | os.O_NOCTTY)
    tty.setraw(fd)
    return fd


def test_rtu_frames_are_split_by_silence_and_delivered_whole(tmp_path):
    dev = Pty()
    prof = _profile(tmp_path, "uplink: {delay: 50 ms}\ndownlink: {delay: 0 ms}\n")
    try:
        # 1200 baud: t3.5 = 3.5 x 11 / 1200 = 32 ms, so a busy machine cannot split the frame
        with _proxy(tmp_path, prof, dev.path, "--baud", "1200", "--framing", "rtu") as px:
            fd = _open(px.info["a"])
            try:
                t0 = time.monotonic()
                os.write(fd, b"\x01\x03\x00")            # one frame written in two pieces,
                time.sleep(0.002)                        # 2 ms apart (< t3.5)
                os.write(fd, b"\x00\x00\x06\xc5\xc8")
                time.sleep(0.200)                        # then silence: a second frame
                os.write(fd, b"\x02\x03\x00\x00\x00\x06\xc5\xfb")
                got = dev.read_frames(dev.master)
            finally:
                os.close(fd)
    finally:
        dev.close()
    data = b"".join(d for _, d in got)
    assert data == b"\x01\x03\x00\x00\x00\x06\xc5\xc8\x02\x03\x00\x00\x00\x06\xc5\xfb"
    assert [len(d) for _, d in got] == [8, 8]           # each frame in one write
    assert got[0][0] - t0 >= 0.050                       # delayed from the frame's last byte
    events = [json.loads(x) for x in (tmp_path / "events.jsonl").read_text().splitlines()]
    assert [e["bytes"] for e in events] == [8, 8]
    assert all(e["dir"] == "up" and e["delay_ms"] == pytest.approx(50.0) for e in events)


def test_duplication_and_corruption_act_on_whole_frames(tmp_path):
    dev = Pty()
    prof = _profile(tmp_path, "uplink: {duplicate: 100 %, corrupt: 100 %}\n")
    frame = bytes(range(1, 13))
    try:
        with _proxy(tmp_path, prof, dev.path, "--baud", "9600", "--framing", "rtu") as px:
            fd = _open(px.info["a"])
            try:
                t_write = time.monotonic()
                os.write(fd, frame)
                got = dev.read_frames(dev.master)
            finally:
                os.close(fd)
    finally:
        dev.close()
    data = b"".join(d for _, d in got)
    assert len(data) == 2 * len(frame)
    first, second = data[:12], data[12:]
    assert first == second                               # the same (corrupted) frame twice
    flipped = sum(bin(a ^ b).count("1") for a, b in zip(first, frame))
    assert flipped == 1                                  # exactly one bit flipped
    # paced at 9600 baud, 11 bits per char: the copy leaves 12 x 11 / 9600 = 13.75 ms after the
    # first (back to back would be at once). A lower bound on when the copy was read holds
    # however late this reader wakes up.
    assert got[-1][0] - t_write >= 0.01375


def test_at_driver_through_the_line_proxy_sees_delay_outage_and_recovery(tmp_path):
    prof = _profile(tmp_path, "delay: 30 ms\noutage: {schedule: [{at: 1.5 s, duration: 1.5 s}]}\n")
    modem_args = ["sim", "serve", "--lab", "sim5g", "--device", "modem", "--transport", "pty"]
    with ChildProcess(modem_args) as modem:
        direct = ATChannel(ATSettings(modem.info["url"], timeout_s=0.4))
        direct.open()
        try:
            t = time.monotonic()
            direct.command("AT")
            base = time.monotonic() - t
        finally:
            direct.close()
        with _proxy(tmp_path, prof, modem.info["url"], "--framing", "line",
                    "--baud", "115200") as px:
            t_ready = time.monotonic()
            ch = ATChannel(ATSettings(px.info["a"], timeout_s=0.4))
            ch.open()
            try:
                rtts = []
                for _ in range(3):
                    t = time.monotonic()
                    ch.command("AT")
                    rtts.append(time.monotonic() - t)
                assert min(rtts) >= 0.060                # 30 ms each way
                assert sorted(rtts)[1] < 0.060 + base + 0.1
                time.sleep(max(0.0, t_ready + 1.6 - time.monotonic()))
                with pytest.raises(DeviceTimeout):
                    ch.command("AT")
                time.sleep(max(0.0, t_ready + 3.2 - time.monotonic()))
                ch.drain_urcs()
                t = time.monotonic()
                ch.command("AT")                         # the link is back
                assert time.monotonic() - t >= 0.060
            finally:
                ch.close()
    events = [json.loads(x) for x in (tmp_path / "events.jsonl").read_text().splitlines()]
    assert any(e["lost"] and e["cause"] == "outage" for e in events)


def test_modbus_rtu_driver_through_the_serial_proxy(tmp_path):
    """The real register-map driver over Modbus RTU on ptys (simulated IAI actuator, 38400 baud)."""
    from dataclasses import replace

    from bench.impair import load_profile
    from bench.impair.wire import serial_proxy
    from bench.lab import load_lab

    lab = load_lab("iai_robocylinder")
    spec = lab.robot.spec
    spec = replace(spec, link=replace(spec.link, timeout_s=0.3, retries=0))
    prof = load_profile(_profile(tmp_path, "delay: 40 ms\n"
                                           "outage: {schedule: [{at: 1.5 s, duration: 1.5 s}]}\n"))

    def rtt(arm) -> float:
        t = time.monotonic()
        arm.read_pose()
        return time.monotonic() - t

    with ChildProcess.for_robot(lab.path, 1) as sim:
        with spec.open(sim.endpoint) as direct:
            base = sorted(rtt(direct) for _ in range(3))[1]
        with serial_proxy(sim.endpoint, prof, 1, 38400, "rtu") as px:
            t_ready = time.monotonic()
            with spec.open(px.endpoint) as arm:
                rtts = sorted(rtt(arm) for _ in range(3))
                assert rtts[0] >= 0.080                   # 40 ms each way on whole frames
                assert rtts[1] < 0.080 + base + 0.1
                time.sleep(max(0.0, t_ready + 1.6 - time.monotonic()))
                with pytest.raises(DeviceTimeout):
                    arm.read_pose()
                time.sleep(max(0.0, t_ready + 3.2 - time.monotonic()))
                assert rtt(arm) >= 0.080                  # recovered, same delay
