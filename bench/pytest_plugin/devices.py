"""Which device of the lab a test run uses: the real one, its simulator, or none.

Decided once per run (on the xdist controller, before workers start) so every worker agrees and
the terminal summary can say what happened:

- ``sim``  mode: every device is simulated (its lab `simulator:` section);
- ``hw``   mode: devices declared real are probed; one that does not answer is *missing* and
  a test that needs it fails with the probe's reason (state.fail_rule). A lab that declares no
  real device is a usage error in hw mode (`mode_problem`): asking for hardware and silently
  getting simulators would be green without testing anything real;
- ``auto`` mode: like hw, but a device that does not answer falls back to its simulator, and
  the terminal summary says so.

A probe opens the device with its own driver and reads its status, in a helper thread bounded by
the probe timeout, so an unreachable device costs at most that long (the driver's own timeouts
bound the thread itself).
"""
from __future__ import annotations

import threading
from dataclasses import asdict, dataclass
from typing import Callable

from bench.lab import Lab
from drivers.errors import BenchError

REAL, SIM, MISSING, ABSENT = "real", "sim", "missing", "absent"


@dataclass(frozen=True)
class DeviceState:
    """How one device is provided in this run.

    `use` is "real", "sim", "missing" (declared real, not reachable, no fallback) or "absent" (the
    lab has no such device). `note` says why, in words for the terminal summary and skip reasons.
    """

    name: str
    declared: str          # "real" | "sim" | "absent"
    use: str
    note: str = ""
    fallback: bool = False  # auto mode fell back to the simulator

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "DeviceState":
        return cls(**d)

    def describe(self) -> str:
        text = {REAL: "real hardware", SIM: "simulated", MISSING: "MISSING",
                ABSENT: "not in the lab"}[self.use]
        return f"{self.name}: {text}" + (f" ({self.note})" if self.note else "")


def probe(open_and_check: Callable[[], str], timeout_s: float) -> str | None:
    """Run `open_and_check` (returns a description of the device) within `timeout_s`.

    Returns None when the device answered, else the reason it did not, in one line.
    """
    box: dict[str, str | None] = {}

    def run() -> None:
        try:
            open_and_check()
            box["error"] = None
        except BenchError as exc:
            box["error"] = str(exc)
        except Exception as exc:  # noqa: BLE001 - any failure means "not there"
            box["error"] = f"{type(exc).__name__}: {exc}"

    t = threading.Thread(target=run, name="hil-bench-probe", daemon=True)
    t.start()
    t.join(timeout_s)
    if t.is_alive():
        return f"no answer within {timeout_s:g} s"
    return box.get("error")


def probe_robot(lab: Lab, timeout_s: float) -> str | None:
    """Open the lab's real robot, read its status, close it. None when it answered."""
    def check() -> str:
        arm = lab.robot.spec.open(None)
        with arm:
            arm.read_status()
        return arm.name
    return probe(check, timeout_s)


def probe_modem(lab: Lab, timeout_s: float) -> str | None:
    """Open the lab's real modem, read its link state, close it. None when it answered."""
    entry = lab.modem
    assert entry is not None

    def check() -> str:
        modem = entry.spec.open(None)
        with modem:
            modem.read_link()
        return modem.name
    return probe(check, timeout_s)


def mode_problem(lab: Lab, mode: str) -> str | None:
    """Why `mode` cannot be run with `lab` (one line for pytest.UsageError), or None."""
    declared_real = [name for name, simulate in (
        ("robot", lab.robot.simulate),
        ("modem", lab.modem.simulate if lab.modem is not None else True),
        ("instrument", lab.instrument.simulate if lab.instrument is not None else True))
        if not simulate]
    if mode == "hw" and not declared_real:
        return (f"--bench-mode hw: lab {lab.name} ({lab.path}) declares no real device (every "
                f"device has simulate: true); give a lab with real devices "
                f"(--bench-hardware LAB.yaml) or use --bench-mode sim")
    return None


def probe_instrument(lab: Lab, timeout_s: float) -> str | None:
    """Open the lab's real instrument, read one frame, close it. None when it answered."""
    entry = lab.instrument
    assert entry is not None

    def check() -> str:
        inst = entry.spec.open(None)
        with inst:
            inst.read()
        return inst.name
    return probe(check, timeout_s)


def resolve_devices(lab: Lab, mode: str, timeout_s: float) -> dict[str, DeviceState]:
    """Decide, per device of `lab`, what this run uses (see the module docstring)."""
    states = {"robot": _resolve(
        "robot", declared_real=not lab.robot.simulate,
        has_sim=lab.robot.sim is not None, mode=mode,
        probe_fn=lambda: probe_robot(lab, timeout_s), lab=lab)}
    if lab.modem is None:
        states["modem"] = DeviceState("modem", ABSENT, ABSENT,
                                      f"lab {lab.name} ({lab.path}) declares no modem")
    else:
        states["modem"] = _resolve(
            "modem", declared_real=not lab.modem.simulate,
            has_sim=lab.modem.sim_params is not None, mode=mode,
            probe_fn=lambda: probe_modem(lab, timeout_s), lab=lab)
    if lab.instrument is None:
        states["instrument"] = DeviceState("instrument", ABSENT, ABSENT,
                                           f"lab {lab.name} ({lab.path}) declares no instrument")
    else:
        states["instrument"] = _resolve(
            "instrument", declared_real=not lab.instrument.simulate,
            has_sim=lab.instrument.sim_params is not None, mode=mode,
            probe_fn=lambda: probe_instrument(lab, timeout_s), lab=lab)
    return states


def _resolve(name: str, declared_real: bool, has_sim: bool, mode: str,
             probe_fn: Callable[[], str | None], lab: Lab) -> DeviceState:
    declared = REAL if declared_real else SIM
    if not declared_real:
        return DeviceState(name, declared, SIM, f"lab {lab.name} declares it simulated")
    if mode == "sim":
        if has_sim:
            return DeviceState(name, declared, SIM, "--bench-mode sim")
        return DeviceState(name, declared, MISSING,
                           f"{lab.path}: {name} has no simulator: section, so it cannot be "
                           f"simulated")
    error = probe_fn()
    if error is None:
        return DeviceState(name, declared, REAL, "answered the probe")
    if mode == "auto" and has_sim:
        return DeviceState(name, declared, SIM, f"fallback: {error}", fallback=True)
    return DeviceState(name, declared, MISSING, error)
