"""The measurement catalogue is the one vocabulary: docs, scenario tolerances, reports agree."""
from pathlib import Path

import pytest

from bench.metrics import catalogue
from bench.metrics.iso9283 import PoseStats
from bench.scenario import load_scenario
from drivers.errors import ConfigError

DOCS = Path(__file__).resolve().parents[1] / "docs" / "report-format.md"


def test_docs_table_is_the_catalogue():
    block = catalogue.docs_block(DOCS.read_text(encoding="utf-8"))
    assert block is not None, "docs/report-format.md lost its catalogue markers"
    assert block == catalogue.markdown_table(), \
        "docs table and catalogue disagree: run `python -m bench.metrics.catalogue --write`"
    for m in catalogue.CATALOGUE:
        assert f"| `{m.name}` | {m.unit or '-'} |" in block


def test_entries_are_well_formed():
    for m in catalogue.CATALOGUE:
        assert m.scope in ("pose", "scenario") and m.data in ("static", "trace", "link", "stream")
        assert m.unit in ("mm", "deg", "s", "")
        assert m.description and m.min_cycles >= 1
        assert m.clause or "not ISO" in m.description, f"{m.name}: say it is not ISO 9283"


def test_pose_stats_fields_are_catalogued():
    from dataclasses import fields
    for f in fields(PoseStats):
        assert f.name == "n" or f.name in catalogue.BY_NAME


def _scenario(tmp_path, tol: str, cycles: int = 3, everything: bool = False) -> Path:
    """A scenario with a distance pair; `everything` adds approach directions, drift, stream
    control and a guide axis so that every figure of the catalogue can be computed."""
    p = tmp_path / "s.yaml"
    more = ("  C: {x: 440 mm}\napproach: {poses: [C]}\ndrift: {block: 2}\ncontrol: stream\n"
            "guide: {entry: A, depth: 30 mm}\n"
            if everything else "")
    p.write_text("name: t\nposes:\n  A: {x: 400 mm, y: 0 mm, z: 300 mm}\n  B: {x: 420 mm}\n"
                 f"{more}distance: [A, B]\ncycles: {cycles}\ntolerances:\n{tol}")
    return p


@pytest.mark.parametrize("name", catalogue.names())
def test_every_catalogue_name_is_a_tolerance_with_its_unit(tmp_path, name):
    m = catalogue.BY_NAME[name]
    sc = load_scenario(str(_scenario(tmp_path, f"  {name}: {{max: 1}}\n", cycles=10,
                                     everything=True)))
    assert sc.tolerances[name].unit == m.unit


def test_unknown_tolerance_lists_the_catalogue(tmp_path):
    with pytest.raises(ConfigError, match=r"s.yaml:\d+: tolerances.APq: unknown tolerance.*AP_rot"):
        load_scenario(str(_scenario(tmp_path, "  APq: {max: 1 deg}\n")))


@pytest.mark.parametrize("name", ["RP", "RPa", "RD", "RT"])
def test_rp_with_one_cycle_is_refused_at_the_tolerance_line(tmp_path, name):
    with pytest.raises(ConfigError, match=rf"s.yaml:13: tolerances.{name}: .*at least 2 cycles"):
        load_scenario(str(_scenario(tmp_path, f"  {name}: {{max: 1}}\n", 1, everything=True)))
    sc = load_scenario(str(_scenario(tmp_path, f"  {name}: {{max: 1}}\n", everything=True)), 1)
    with pytest.raises(ConfigError, match=rf"s.yaml:13: tolerances.{name}: .*\(--cycles 1\)"):
        sc.check_cycles()                                     # --cycles 1
    load_scenario(str(_scenario(tmp_path, "  AP: {max: 1}\n")), 1).check_cycles()   # AP: fine


def test_signed_figures_are_judged_by_magnitude():
    assert catalogue.judged_value("APa", -0.3) == 0.3
    assert catalogue.judged_value("AD", -0.3) == 0.3
    assert catalogue.judged_value("RP", 0.3) == 0.3
    assert catalogue.judged_value("user-figure", -1.0) == -1.0


def test_builtin_scenarios_table_states_their_tolerances():
    """docs/scenarios.md lists the built-in scenarios (at least the ISO 9283 ones) with the limits
    and cycles their files set."""
    import re
    from bench.paths import builtin_names
    text = (Path(__file__).resolve().parents[1] / "docs" / "scenarios.md").read_text()
    text = text.split("## Built-in scenarios", 1)[1]
    rows = {m.group(1): m.group(0) for m in re.finditer(r"^\| `([\w-]+)` \|.*$", text, re.M)}
    for name in ("iso9283", "multidir", "drift", "path"):
        assert name in rows, f"docs/scenarios.md: no row for built-in scenario {name}"
    for name in rows:                         # every row states its file's limits and cycles
        assert name in builtin_names("scenario"), f"docs/scenarios.md: {name} is not built in"
        sc = load_scenario(name)
        stated = {k: float(v) for k, v in re.findall(r"(\w+) <= ([\d.]+)", rows[name])}
        assert stated == {k: lim.max for k, lim in sc.tolerances.items()}, name
        assert f"| {sc.cycles} |" in rows[name], name
