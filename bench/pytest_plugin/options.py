"""Command-line options of the hil-bench pytest plugin, each with an environment variable.

Precedence: the command line, then the environment variable, then the default. Bad values raise
`pytest.UsageError` with one line naming the option (pytest exits with code 4, no traceback).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest

MODES = ("sim", "hw", "auto")
TRUE = {"1", "true", "yes", "on"}

#: option dest -> (flag, environment variable)
ENV = {
    "bench_hardware": ("--bench-hardware", "HIL_BENCH_HARDWARE"),
    "bench_mode": ("--bench-mode", "HIL_BENCH_MODE"),
    "bench_strict": ("--bench-strict", "HIL_BENCH_STRICT"),
    "bench_allow_missing": ("--bench-allow-missing", "HIL_BENCH_ALLOW_MISSING"),
    "bench_network": ("--bench-network", "HIL_BENCH_NETWORK"),
    "bench_record": ("--bench-record", "HIL_BENCH_RECORD"),
    "bench_arm": ("--bench-arm", "HIL_BENCH_ARM"),
    "bench_out": ("--bench-out", "HIL_BENCH_OUT"),
    "bench_probe_timeout": ("--bench-probe-timeout", "HIL_BENCH_PROBE_TIMEOUT"),
}


def add_options(parser: pytest.Parser) -> None:
    """Register the `--bench-*` options in their own help group."""
    g = parser.getgroup("hil-bench", "hil-bench hardware-in-the-loop bench")
    g.addoption("--bench-hardware", dest="bench_hardware", metavar="FILE", default=None,
                help="lab file or built-in lab name (env HIL_BENCH_HARDWARE; default: sim, "
                     "everything simulated)")
    g.addoption("--bench-mode", dest="bench_mode", default=None, choices=MODES,
                help="sim: simulators for every device (default); hw: the lab's real devices, "
                     "a test whose device does not answer FAILS (a lab without real devices is "
                     "a usage error); auto: probe the real devices, fall back to simulators for "
                     "those that do not answer and say so (env HIL_BENCH_MODE)")
    g.addoption("--bench-strict", dest="bench_strict", action="store_true", default=None,
                help="in hw/auto mode also fail (instead of skip) tests whose device fell back "
                     "to its simulator or is not in the lab (env HIL_BENCH_STRICT=1)")
    g.addoption("--bench-allow-missing", dest="bench_allow_missing", action="store_true",
                default=None,
                help="in hw/auto mode skip (instead of fail) tests whose declared device is "
                     "missing (env HIL_BENCH_ALLOW_MISSING=1)")
    g.addoption("--bench-network", dest="bench_network", metavar="NAME|FILE", default=None,
                help="network impairment profile for every bench test (env HIL_BENCH_NETWORK)")
    g.addoption("--bench-record", dest="bench_record", metavar="DIR", default=None,
                help="record a session per test into DIR (env HIL_BENCH_RECORD)")
    g.addoption("--bench-arm", dest="bench_arm", action="store_true", default=None,
                help="allow motion on real hardware (env HIL_BENCH_ARM=1); without it a real "
                     "robot only answers reads")
    g.addoption("--bench-out", dest="bench_out", metavar="DIR", default=None,
                help="folder for per-test traffic logs and results.json (env HIL_BENCH_OUT; "
                     "default: runs/pytest-<timestamp>)")
    g.addoption("--bench-probe-timeout", dest="bench_probe_timeout", metavar="S", default=None,
                help="seconds to wait for a real device to answer the probe in hw and auto "
                     "modes (env HIL_BENCH_PROBE_TIMEOUT; default 2)")


@dataclass(frozen=True)
class Settings:
    """The plugin's resolved options. Times in seconds."""

    hardware: str = "sim"
    mode: str = "sim"
    strict: bool = False
    allow_missing: bool = False
    network: str | None = None
    record: Path | None = None
    arm: bool = False
    out: Path | None = None
    probe_timeout_s: float = 2.0

    def as_dict(self) -> dict:
        return {"hardware": self.hardware, "mode": self.mode, "strict": self.strict,
                "allow_missing": self.allow_missing,
                "network": self.network, "record": str(self.record) if self.record else None,
                "arm": self.arm, "out": str(self.out) if self.out else None,
                "probe_timeout_s": self.probe_timeout_s}


def _raw(config: pytest.Config, dest: str) -> str | bool | None:
    value = config.getoption(dest)
    if value is not None:
        return value
    env = os.environ.get(ENV[dest][1])
    return env if env not in (None, "") else None


def _flag(config: pytest.Config, dest: str) -> bool:
    value = _raw(config, dest)
    if isinstance(value, bool):
        return value
    return value is not None and value.strip().lower() in TRUE


def settings_from_config(config: pytest.Config) -> Settings:
    """Resolve every option from the command line and the environment."""
    mode = str(_raw(config, "bench_mode") or "sim")
    if mode not in MODES:
        raise pytest.UsageError(f"{ENV['bench_mode'][1]}={mode!r}: expected one of "
                                f"{', '.join(MODES)}")
    timeout_raw = _raw(config, "bench_probe_timeout")
    try:
        probe = float(timeout_raw) if timeout_raw is not None else 2.0
    except ValueError:
        raise pytest.UsageError(f"--bench-probe-timeout: {timeout_raw!r} is not a number of "
                                f"seconds") from None
    if not 0.01 <= probe <= 60:
        raise pytest.UsageError("--bench-probe-timeout: must be between 0.01 and 60 s")
    strict, allow_missing = _flag(config, "bench_strict"), _flag(config, "bench_allow_missing")
    if strict and allow_missing:
        raise pytest.UsageError("--bench-strict and --bench-allow-missing contradict each other: "
                                "give one")
    record = _raw(config, "bench_record")
    out = _raw(config, "bench_out")
    network = _raw(config, "bench_network")
    return Settings(hardware=str(_raw(config, "bench_hardware") or "sim"), mode=mode,
                    strict=strict, allow_missing=allow_missing,
                    network=str(network) if network else None,
                    record=Path(str(record)) if record else None,
                    arm=_flag(config, "bench_arm"),
                    out=Path(str(out)) if out else None, probe_timeout_s=probe)
