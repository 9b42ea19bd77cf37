"""The `modem` fixture on the simulated 5G lab (`sim5g`: a simulated Quectel on a pty)."""
from __future__ import annotations

import pytest

from plugin_support import REPO, results, run

pytest_plugins = ["pytester"]

MODEM_TESTS = """
import pytest

def test_link_is_up(modem, measure):
    link = modem.read_link()
    assert link.rat.startswith("NR5G") and link.cells
    measure("rsrp", link.primary.rsrp_dbm, "dBm")

@pytest.mark.hardware("modem")
def test_needs_real_modem(modem):
    modem.read_link()
"""


def test_modem_fixture_reads_the_simulated_modem(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_modem=MODEM_TESTS)
    res = run(pytester, "-rs", "--bench-hardware", "sim5g")
    res.assert_outcomes(passed=1, skipped=1)
    res.stdout.fnmatch_lines(["*modem: simulated*",
                              "SKIPPED*needs the real modem, which this run does not have*"])
    test = next(t for t in results(pytester)["tests"] if t["nodeid"].endswith("test_link_is_up"))
    assert test["devices"]["modem"]["use"] == "sim"
    rsrp = test["measurements"][0]["value"]
    assert -140 <= rsrp <= -40                      # a real drive test's RSRP, in dBm
    log = open(test["traffic_log"]).read()
    assert " modem  open " in log and " modem  link NR5G" in log
    assert ' modem  tx   "AT+QENG="servingcell"\\r"' in log     # the AT exchange itself
    assert ' modem  rx   "' in log and "+QENG:" in log


def test_lab_without_modem_skips_modem_tests(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_modem=MODEM_TESTS)
    res = run(pytester, "-rs")
    res.assert_outcomes(skipped=2)
    res.stdout.fnmatch_lines(["*modem not available: modem: not in the lab (lab sim*declares no "
                              "modem)*"])


def test_hw_mode_probes_the_real_modem(pytester: pytest.Pytester) -> None:
    """A lab declaring a real modem on a port that does not exist: MISSING; in hw mode its tests
    fail naming the device and the probe's reason, skipped only with --bench-allow-missing."""
    text = (REPO / "hardware" / "sim5g.yaml").read_text()
    head, _, _ = text.partition("modem:\n")
    lab = pytester.path / "lab.yaml"
    lab.write_text(head + "modem:\n  driver: at\n  url: /dev/hil-bench-no-such-port\n"
                   "  vendor: quectel\n  timeout: 0.3 s\n")
    pytester.makepyfile(test_modem=MODEM_TESTS)
    res = run(pytester, "-rs", "--bench-mode", "hw", "--bench-hardware", str(lab))
    res.assert_outcomes(failed=2)
    res.stdout.fnmatch_lines(["*--bench-mode hw*modem not available: modem: MISSING (cannot open "
                              "AT port /dev/hil-bench-no-such-port*",
                              "*modem: MISSING (cannot open AT port /dev/hil-bench-no-such-port*"])
    assert res.ret == 1
    res = run(pytester, "-rs", "--bench-mode", "hw", "--bench-hardware", str(lab),
              "--bench-allow-missing")
    res.assert_outcomes(skipped=2)
    res.stdout.fnmatch_lines(["*modem not available: modem: MISSING*"])
