"""The modem simulator against the field corpus: for every real reply of tests/data/at-field/,
the simulated module of that vendor and model, given the link the reply describes, answers with
a reply that (1) reads back to the same values and (2) looks like the real one: the same
prefix spacing, field count and quoting, and the same text in every field it models (hex PCI on
Balong, zero-padded NR cell ids, the per-model LTE SINR encoding, early-firmware quirks)."""
from __future__ import annotations

import re

import pytest

from drivers.modem.link import LinkState, ServingCell
from drivers.modem.quectel import lte_sinr_for_model
from drivers.sim.modem_at import ModemResponder
from drivers.sim.modem_params import ModemSimParams
from drivers.sim.modem_profile import FixedProfile
from drivers.sim.modem_render import huawei as render_huawei
from tests.modem_corpus import Sample, compare, load, parse

SAMPLES = {s.id: s for s in load()}
#: parser -> (vendor, default model, command as sent)
VENDOR = {"quectel.servingcell": ("quectel", "RM500Q-GL", 'AT+QENG="servingcell"'),
          "quectel.qcsq": ("quectel", "RM520N-GL", "AT+QCSQ"),
          "sierra.gstatus": ("sierra", "EM9190", "AT!GSTATUS?"),
          "huawei.monsc": ("huawei", "MH5000-31", "AT^MONSC"),
          "huawei.hcsq": ("huawei", "MH5000-31", "AT^HCSQ?"),
          "generic.reg": ("huawei", "MT5700M-CN", "AT+C5GREG?")}
#: token positions each renderer models, per line kind (after the RAT token); others are
#: constants of the simulator (bandwidth, CQI, tx power, srxlev) or derived (RSSI, SCS)
MODELLED = {"LTE": (1, 2, 3, 4, 5, 6, 9, 10, 11, 13), "NR5G-SA": (1, 2, 3, 4, 5, 6, 7, 9, 10, 11),
            "NR5G-NSA": (0, 1, 2, 3, 4, 5, 6, 7), "MONSC-NR": (0, 1, 2, 4, 5, 6, 7, 8, 9),
            "MONSC-LTE": (0, 1, 2, 3, 4, 5, 6, 7), "HCSQ-NR": (0, 1, 2), "HCSQ-LTE": (1, 2, 3),
            "QCSQ-LTE": (1, 2, 3), "QCSQ-NR5G": (0, 1, 2), "C5GREG": (1, 2, 3, 4)}
GSTATUS_LABELS = ("System mode", "LTE band", "LTE Rx chan", "RRC state", "RSRQ (dB)",
                  "SINR (dB)", "TAC", "Cell ID", "NR5G band", "NR5G Rx chan")
#: odd replies the simulator imitates (firmware: early); other odd values (a PCI past its range)
#: are not something a simulated module is made to print
IMITATED = {"quectel-qeng-endc-rm500q-early", "quectel-qcsq-lte-qdc507-unsigned-rssi"}
RENDERED = [s for s in SAMPLES.values()
            if s.parser in VENDOR and (s.parser != "generic.reg" or "balong" in s.id)
            and (not s.meta.get("warnings") or s.id in IMITATED)]


def _cell(d: dict) -> ServingCell:
    return ServingCell.from_dict(d)


def _link(sample: Sample) -> LinkState:
    """The link a sample's expectation describes (real values where the reply was odd)."""
    exp = sample.meta["expect"]
    if sample.parser in ("quectel.servingcell", "sierra.gstatus"):
        cells = [_cell(c) for c in exp["cells"]]
        if sample.id == "quectel-qeng-endc-rm500q-early":     # qmicli read 18.5 dB meanwhile
            cells[1] = ServingCell(**{**cells[1].as_dict(), "sinr_db": 18.0})
        return LinkState(exp["rat"], exp["state"], tuple(cells))
    if sample.parser == "huawei.monsc":
        c = _cell(exp)
        return LinkState("NR5G-SA" if c.rat == "NR5G" else "LTE", "connected", (c,))
    if sample.parser in ("huawei.hcsq", "quectel.qcsq"):
        row = exp[0]
        rat = "NR5G" if row["sysmode"] in ("NR", "NR5G") else "LTE"
        c = ServingCell(rat=rat, rsrp_dbm=row["rsrp_dbm"], rsrq_db=row["rsrq_db"],
                        sinr_db=row["sinr_db"])
        return LinkState("NR5G-SA" if rat == "NR5G" else "LTE", "connected", (c,))
    c = ServingCell(rat="NR5G", tac=exp["tac"], cell_id=exp["ci"])
    return LinkState("NR5G-SA", "connected", (c,))


def _simulated(sample: Sample) -> list[str]:
    vendor, default_model, command = VENDOR[sample.parser]
    model = (sample.meta.get("args") or {}).get("model") or default_model
    early = sample.id == "quectel-qeng-endc-rm500q-early" or "unsigned-rssi" in sample.id
    params = ModemSimParams(profile=FixedProfile(_link(sample)), vendor=vendor, model=model,
                            lte_sinr=lte_sinr_for_model(model),
                            firmware="early" if early else "current")
    reply = ModemResponder(params, clock=lambda: 0.0).answer(command).decode()
    assert reply.endswith("\r\nOK\r\n"), reply
    return [ln for ln in reply.split("\r\n")[:-2]]


def _tokens(line: str) -> tuple[str, list[str]]:
    """(prefix with its spacing, raw comma tokens honouring quotes)."""
    head, _, rest = line.partition(":")
    spaced = rest[:1] == " "
    tokens = re.findall(r'"[^"]*"|[^,]+|(?<=,)(?=,|$)', rest.strip())
    return head + (": " if spaced else ":"), tokens


def _kind(tokens: list[str], sample: Sample) -> tuple[str, int]:
    first = tokens[0].strip('"')
    if sample.parser == "quectel.servingcell":
        if first == "servingcell":
            return (tokens[2].strip('"'), 3) if len(tokens) > 3 else ("head", 2)
        return first, 1
    if sample.parser == "huawei.monsc":
        return f"MONSC-{first}", 1
    if sample.parser == "huawei.hcsq":
        return f"HCSQ-{first}", 1
    if sample.parser == "quectel.qcsq":
        return f"QCSQ-{first}", 1
    return "C5GREG", 0


@pytest.mark.parametrize("sample", RENDERED, ids=[s.id for s in RENDERED])
def test_simulated_reply_reads_back_to_the_real_values(sample: Sample) -> None:
    sim = Sample(sample.id, "\n".join(_simulated(sample)), sample.meta)
    result, warnings, _ = parse(sim)
    expect = sample.meta["expect"]
    if sample.parser in ("huawei.hcsq", "quectel.qcsq"):   # RSSI is not in a LinkState
        result = [{k: v for k, v in r.items() if k != "rssi_dbm"} for r in result]
        expect = [{k: v for k, v in e.items() if k != "rssi_dbm"} for e in expect]
    problems = compare(expect, result)
    assert not problems, "\n".join(problems)
    # the quirk is imitated: the same field is odd (its raw value follows the simulated link)
    fields = [w.split(":")[0] for w in sample.meta.get("warnings") or []]
    assert [w.split(":")[0] for w in warnings] == fields


@pytest.mark.parametrize("sample", [s for s in RENDERED if s.parser != "sierra.gstatus"],
                         ids=[s.id for s in RENDERED if s.parser != "sierra.gstatus"])
def test_simulated_reply_looks_like_the_real_one(sample: Sample) -> None:
    real = [ln for ln in sample.lines if re.match(r"^[+^!][A-Z0-9]+:", ln.strip())]
    sim = [ln for ln in _simulated(sample) if ln.strip()]
    assert len(sim) == len(real), (real, sim)
    for r_line, s_line in zip(real, sim):
        r_prefix, r_tok = _tokens(r_line.strip())
        s_prefix, s_tok = _tokens(s_line)
        assert s_prefix == r_prefix, (r_line, s_line)
        kind, skip = _kind(r_tok, sample)
        assert _kind(s_tok, sample) == (kind, skip)
        if kind == "head":
            assert s_tok == r_tok
            continue
        positions = MODELLED[kind]
        for p in positions:
            if p + skip < len(r_tok):
                assert s_tok[p + skip].strip() == r_tok[p + skip].strip(), (
                    f"{kind} field {p}: real {r_tok[p + skip]!r}, simulated {s_tok[p + skip]!r}"
                    f"\n  real: {r_line}\n  sim:  {s_line}")
        if kind in ("LTE", "NR5G-SA", "NR5G-NSA") and sample.id != "quectel-qeng-lte-ec200t":
            assert len(s_tok) >= len(r_tok)        # current firmware may add trailing fields
        assert [t.startswith('"') for t in s_tok[:len(r_tok)]] == [
            t.startswith('"') for t in r_tok], (r_line, s_line)


@pytest.mark.parametrize("sample", [s for s in RENDERED if s.parser == "sierra.gstatus"],
                         ids=[s.id for s in RENDERED if s.parser == "sierra.gstatus"])
def test_simulated_gstatus_has_the_real_labels_and_values(sample: Sample) -> None:
    from drivers.modem.sierra import parse_pairs
    real = parse_pairs(sample.lines)
    sim = parse_pairs(_simulated(sample))
    for label in GSTATUS_LABELS:
        key = label.casefold()
        if key in real and real[key].split():
            assert key in sim, label
            assert sim[key].split()[0] == real[key].split()[0], (label, real[key], sim[key])


def test_balong_quirks_in_the_simulator() -> None:
    lte = LinkState("LTE", "connected", (ServingCell(
        rat="LTE", mcc="460", mnc="11", arfcn=1750, cell_id="B26F9B2", pci=0xDF, tac="5D63",
        rsrp_dbm=-91.0, rsrq_db=-14.0),))
    assert render_huawei("^MONSC", lte) == ["^MONSC: LTE,460,11,1750,B26F9B2,DF,5D63,-91,-14,-66"]
    nsa = LinkState("NR5G-NSA", "connected", (
        lte.cells[0], ServingCell(rat="NR5G", rsrp_dbm=-64.0, sinr_db=28.0, rsrq_db=-9.0)))
    assert (render_huawei("^HCSQ?", nsa) or [])[1:] == ["", '^HCSQ: "NR",77,241,31']
