"""JUnit XML: one test case per judged measurement, the figures as properties.

A measurement that fails is a <failure>; marginal passes with a property outcome=marginal; a run
that stopped with an error adds an <error> test case, so CI never shows an aborted run as green.
"""
from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any, Sequence

from bench.reports.record import MeasurementRow


def _prop(parent: ET.Element, name: str, value: Any) -> None:
    ET.SubElement(parent, "property", name=name, value="" if value is None else str(value))


def junit_xml(suite: str, measurements: Sequence[MeasurementRow], error: str | None = None,
              properties: dict[str, Any] | None = None,
              beside: dict[tuple[str, str], dict[str, Any]] | None = None) -> bytes:
    """The JUnit XML document (bytes, UTF-8) for a report's `measurements`.
    `beside`: extra properties per (subject, name) test case (the robot's self-reported figure
    beside an instrument's, `bench.reports.accuracy.case_properties`)."""
    fails = sum(1 for m in measurements if m.outcome == "fail")
    root = ET.Element("testsuites")
    ts = ET.SubElement(root, "testsuite", name=suite, tests=str(len(measurements) + bool(error)),
                       failures=str(fails), errors=str(int(bool(error))), skipped="0")
    if properties:
        props = ET.SubElement(ts, "properties")
        for k, v in properties.items():
            _prop(props, k, v)
    for m in measurements:
        subject = m.subject or "run"
        tc = ET.SubElement(ts, "testcase", classname=f"{suite}.{subject}", name=m.name)
        props = ET.SubElement(tc, "properties")
        for key in ("value", "unit", "limit", "marginal", "outcome"):
            _prop(props, key, getattr(m, key))
        if m.clause:                         # from the measurement catalogue
            _prop(props, "iso9283_clause", m.clause)
        for key, value in (beside or {}).get((m.subject or "", m.name), {}).items():
            _prop(props, key, value)
        if m.outcome == "fail":
            value = "missing (NaN)" if m.value is None else f"{m.value:.6g}"
            ET.SubElement(tc, "failure", message=f"{m.name} of {subject} = {value} "
                          f"{m.unit}, limit <= {m.limit} {m.unit}")
    if error:
        tc = ET.SubElement(ts, "testcase", classname=f"{suite}.run", name="run")
        ET.SubElement(tc, "error", message=error)
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)
