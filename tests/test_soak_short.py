"""Short mode of the soak benchmark, as CI runs it: wire mode through the impairment proxy under
the real CICV5G moving trace loses no sample, and the session file holds every one of them.
(Memory growth needs minutes to mean anything; it is read from `benchmarks/soak.py --minutes N`.)"""
from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import REPO


def test_soak_short_loses_nothing() -> None:
    res = subprocess.run([sys.executable, str(REPO / "benchmarks" / "soak.py"), "--seconds", "6",
                          "--json"], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout.strip().splitlines()[-1])
    assert out["samples_taken"] >= 5          # at least one whole cube cycle, even on a busy machine
    assert out["lost_samples"] == 0 and out["errors"] == 0
    assert out["samples_in_session"] == out["samples_taken"]
    assert out["session_truncated"] is False
