"""Reports of a run: junit.xml (a case per tolerance, figures as properties), report.json keys,
and report.html rendered by a real headless Chromium with no network access."""
from __future__ import annotations

import http.server
import json
import os
import re
import shutil
import subprocess
import threading
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from bench.cli import main
from bench.progress import Progress


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("run")
    assert main(["run", "iso9283", "--cycles", "2", "--mode", "virtual", "--network",
                 "lindbergh-155ms", "--out", str(out), "-q"]) == 0
    return out


def test_report_json_has_figures_traces_and_delays(run_dir):
    r = json.loads((run_dir / "report.json").read_text())
    assert r["schema"] == "hil-bench/report/1" and r["verdict"] == "pass"
    assert r["scenario"]["control"] == "target" and r["scenario"]["band_mm"] == 0.1
    p1 = r["poses"]["P1"]
    assert {"AP", "RP", "worst", "APa", "RPa", "overshoot", "settling", "time_to_target",
            "excursion", "corrective_moves"} <= set(p1)
    assert r["distance"]["poses"] == ["P2", "P4"] and r["distance"]["n"] == 2
    assert len(r["traces"]) == 5 and len(r["traces"][0]["t_s"]) == len(r["traces"][0]["error_mm"])
    assert r["delays"] and {d[1] for d in r["delays"]} == {"up", "down"}
    assert all(d[2] == pytest.approx(77.5) for d in r["delays"])


def test_report_json_reads_back_into_the_record_unchanged(run_dir):
    from bench.reports.record import RunReport
    text = (run_dir / "report.json").read_text()
    r = RunReport.from_json(json.loads(text))
    assert r.run.lab.name == "sim" and r.scenario.tolerances["AP"].unit == "mm"
    assert r.measurements and all(m.outcome == "pass" for m in r.judged)
    assert r.delays and r.delays[0].direction in ("up", "down")
    assert json.dumps(r.as_json(), indent=2) + "\n" == text       # every key, same order
    newer = {**json.loads(text), "from_a_newer_version": {"k": 1}}
    assert RunReport.from_json(newer).as_json() == newer            # unknown keys kept


def test_junit_has_one_case_per_measurement_with_properties(run_dir):
    r = json.loads((run_dir / "report.json").read_text())
    root = ET.parse(run_dir / "junit.xml").getroot()
    suite = root.find("testsuite")
    cases = suite.findall("testcase")
    assert len(cases) == len(r["measurements"]) == int(suite.get("tests"))
    assert suite.get("failures") == "0"
    first = cases[0]
    props = {p.get("name"): p.get("value") for p in first.find("properties")}
    m = r["measurements"][0]
    assert first.get("name") == m["name"] and first.get("classname").endswith(m["subject"])
    assert float(props["value"]) == pytest.approx(m["value"]) and props["unit"] == "mm"
    assert props["outcome"] == "pass" and float(props["limit"]) == m["limit"]


def test_junit_failure_for_a_failed_tolerance(tmp_path):
    scen = tmp_path / "tight.yaml"
    scen.write_text("name: tight\nposes:\n  A: {x: 400, y: 0, z: 300, a: 180}\n"
                    "  B: {x: 420, y: 0, z: 300, a: 180}\ncycles: 2\n"
                    "tolerances:\n  AP: {max: 0.01 mm}\n")
    assert main(["run", str(scen), "--mode", "virtual", "--out", str(tmp_path / "o"),
                 "-q"]) == 1
    suite = ET.parse(tmp_path / "o" / "junit.xml").getroot().find("testsuite")
    fails = [c for c in suite.findall("testcase") if c.find("failure") is not None]
    assert int(suite.get("failures")) == len(fails) == 2            # AP of A and of B
    assert "limit <= 0.01" in fails[0].find("failure").get("message")


def test_html_is_self_contained(run_dir):
    html = (run_dir / "report.html").read_text()
    assert html.count('<figure class="plot"') == 4
    assert "<script" not in html
    for ref in re.findall(r'(?:src|href)="([^"]*)"', html):
        assert ref.startswith(("data:", "#")), ref
    assert "default-src 'none'" in html


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


class _Handler(http.server.SimpleHTTPRequestHandler):
    seen: list[str] = []

    def log_message(self, *args):
        pass

    def do_GET(self):
        type(self).seen.append(self.path)
        super().do_GET()


def test_report_renders_in_headless_chromium_without_network(run_dir, tmp_path):
    exe = _chromium()
    if exe is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed (.ci/run installs it from Debian's packages)")
        pytest.skip("chromium not installed (apt-get install chromium); CI installs it")
    _Handler.seen = []
    handler = lambda *a, **kw: _Handler(*a, directory=str(run_dir), **kw)   # noqa: E731
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    origin = f"http://127.0.0.1:{server.server_address[1]}"
    netlog = tmp_path / "netlog.json"
    try:
        res = subprocess.run(
            [exe, "--headless", "--no-sandbox", "--disable-gpu",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}",
             # nothing but loopback resolves, so even the browser's own chatter stays local
             "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
             f"--log-net-log={netlog}", "--dump-dom", f"{origin}/report.html"],
            capture_output=True, text=True, timeout=90)
    finally:
        server.shutdown()
        server.server_close()
    dom = res.stdout
    assert res.returncode == 0, res.stderr[-2000:]
    figures = re.findall(r'<figure class="plot" id="([^"]+)">(.*?)</figure>', dom, re.S)
    assert [f[0] for f in figures] == ["plot-scatter", "plot-error", "plot-trajectory",
                                       "plot-network"]
    for _, body in figures:
        assert "<svg" in body and body.count("<path") > 10      # drawn, not an empty frame
    assert _Handler.seen == ["/report.html"]                   # no sub-resource from the server
    log = json.loads(netlog.read_text())
    types = {v: k for k, v in log["constants"]["logEventTypes"].items()}
    page_fetches = [e["params"]["url"] for e in log["events"]
                    if types.get(e["type"]) == "URL_REQUEST_START_JOB"
                    and str((e.get("params") or {}).get("initiator", "")).startswith(origin)]
    assert page_fetches == []                                  # the page fetched nothing


def test_progress_plain_lines_when_not_a_tty(capsys):
    import io

    buf = io.StringIO()
    p = Progress("run", stream=buf, min_interval_s=0.0)
    for i in range(1, 4):
        p.update(i, 3, f"cycle {i}")
    p.close()
    lines = buf.getvalue().splitlines()
    assert len(lines) == 3 and "\r" not in buf.getvalue()
    assert lines[-1].startswith("run 3/3 (100%)") and "left ~0.0 s" in lines[-1]

    class Tty(io.StringIO):
        def isatty(self):
            return True

    tty = Tty()
    p = Progress("run", stream=tty)
    p.update(1, 2)
    p.update(2, 2)
    p.close()
    assert tty.getvalue().count("\r\x1b[2K") == 2 and tty.getvalue().endswith("\n")


def test_network_plot_uses_link_samples_and_delays():
    from bench.reports import plots

    assert plots.network({"delays": [], "link": None}) is None
    link = [{"t_ns": i * 10**8, "rsrp_dbm": -80.0 - i, "sinr_db": 10.0, "rsrq_db": None}
            for i in range(5)]
    only_link = plots.network({"link": link})
    both = plots.network({"link": link, "delays": [[0.1 * i, "up", 7.5] for i in range(5)]})
    assert only_link and only_link.startswith("<svg") and "<path" in only_link
    assert both and len(both) > len(only_link)          # a second axis and two more lines
    assert plots.sweep_error({"points": []}) is None


def _svg_texts(svg: str) -> str:
    """Matplotlib writes text as paths; its SVG keeps each text as a comment: read those."""
    return " ".join(re.findall(r"<!-- (.*?) -->", svg))


def _report(samples_per_pose: dict[str, list[tuple[float, float, float]]], rp: float,
            tolerances: dict) -> dict:
    samples = [{"pose": name, "cycle": c + 1,
                "commanded": {"x_mm": 400.0, "y_mm": 0.0, "z_mm": 300.0},
                "attained": {"x_mm": 400.0 + p[0], "y_mm": p[1], "z_mm": 300.0 + p[2]},
                "t_measured_ns": int((c * len(samples_per_pose) + k + 1) * 1e9)}
               for k, (name, pts) in enumerate(samples_per_pose.items()) for c, p in enumerate(pts)]
    return {"samples": samples, "poses": {n: {"RP": rp} for n in samples_per_pose},
            "scenario": {"tolerances": tolerances},
            "delays": [[0.5 + 0.1 * i, "up" if i % 2 else "down", 8.0 + i % 3] for i in range(40)],
            "link": [{"t_ns": int(1e9 * t), "rsrp_dbm": -90.0 - t, "sinr_db": 10.0 - t}
                     for t in range(6)]}


def test_plots_show_scatter_barycentre_ap_and_rp_to_scale_and_fit_their_axes():
    from bench.reports import plots, scatter
    pts = [(0.30 + 0.01 * (i % 3), -0.1, 0.05 * (i % 2)) for i in range(6)]
    r = _report({"P1": pts, "P2": [(x, y + 0.02, z) for x, y, z in pts]}, rp=0.04,
                tolerances={"AP": {"max": 1.0}, "RP": {"max": 0.06}, "worst": {"max": 2.0}})
    sc = scatter.pose_scatter(r)
    assert sc.count("<svg") == 1
    texts = _svg_texts(sc)
    # x carries most offset and scatter, then z (scattered) before y (constant)
    assert "P1: x-z plane" in texts and "P1: x-y plane" in texts and "P2: x-z plane" in texts
    assert "AP 0.321 mm, RP 0.040 mm" in texts and "command 0.3" in texts
    for label in ("attained positions", "barycentre", "AP vector", "RP sphere"):
        assert label in texts
    err = _svg_texts(plots.error_per_cycle(r))
    # errors of 0.3 mm: AP (1 mm) and worst (2 mm) limits are named, not drawn; RP 0.06 is drawn
    assert "AP limit 1 mm above this axis" in err and "worst limit 2 mm above this axis" in err
    assert "RP limit 0.06 mm" in err and "RP limit 0.06 mm above" not in err
    net = _svg_texts(plots.network(r))
    for label in ("one-way delay, ms", "uplink (bench to robot)", "downlink (robot to bench)",
                  "RSRP, dBm", "SINR, dB", "error to command, mm", "time since the run started"):
        assert label in net
    assert "rsrp_dbm" not in net and "delay up" not in net        # no raw keys in legends


def test_html_uses_the_page_width_and_wraps_long_errors(run_dir):
    from bench.reports.html import run_html
    from bench.reports.record import RunReport
    r = json.loads((run_dir / "report.json").read_text())
    r["error"] = "modbus:native@tcp://127.0.0.1:5020/1: " + "x" * 400
    page = run_html(RunReport.from_json(r))
    assert "max-width" not in page.split("</style>")[0]
    assert "figure svg{width:100%;height:auto}" in page
    assert "p.error{white-space:pre-wrap;overflow-wrap:anywhere}" in page


def test_console_summary_shows_every_judged_value_next_to_its_limit(tmp_path, capsys):
    scen = tmp_path / "long.yaml"
    scen.write_text("name: long\nposes:\n  entry-point-of-the-screw-guide: {x: 400, y: 0, z: 300, "
                    "a: 180}\n  B: {x: 420, y: 0, z: 300, a: 180}\ncycles: 2\n"
                    "tolerances:\n  AP: {max: 1.0 mm, marginal: 0.8 mm}\n  RP: {max: 0.1 mm}\n")
    assert main(["run", str(scen), "--mode", "virtual", "--out", str(tmp_path / "o"), "-q",
                 "--no-html"]) == 0
    out = capsys.readouterr().out
    r = json.loads((tmp_path / "o" / "report.json").read_text())
    lines = out.splitlines()
    start = lines.index(next(ln for ln in lines if ln.startswith("pose ")))
    table = lines[start:start + 3]
    assert table[1].startswith("entry-point-of-the-screw-guide ") and table[2].startswith("B ")
    # aligned despite the long name: every column ends where its header ends
    assert table[0].index("outcome") == table[1].index("PASS") == table[2].index("PASS")
    assert table[0].index("RP mm") + 5 == table[1].index("  PASS") == table[2].index("  PASS")
    judged = [m for m in r["measurements"] if m["limit"] is not None]
    assert len(judged) == 4
    for m in judged:
        row = next(ln for ln in lines if ln.startswith(f"{m['subject']} {m['name']} "))
        marginal = "-" if m["marginal"] is None else f"{m['marginal']:g} mm"
        assert re.search(rf"{m['value']:.4f} mm\s+<= {m['limit']:g} mm\s+{re.escape(marginal)}"
                         rf"\s+{m['outcome'].upper()}$", row), row
    assert "(limit" not in out and "(marginal" not in out       # one form, no nested brackets
