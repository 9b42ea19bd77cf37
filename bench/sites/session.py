"""One session file for a multi-site run, with the sites kept apart by topic.

Layout (see docs/session-format.md): the usual `/session/metadata` once, with ``sites`` (their
names, in run order) and ``site_order`` (in-turn or concurrent); then every topic of a
single-robot session again per site under ``/site/<name>`` (``/site/yantai/robot/command``,
``/site/yantai/session/metadata`` with that site's lab, network, seed and scenario, ...).
`SiteRecorder` writes one site into the shared `SessionWriter`; `extract_site` copies one site
back out as an ordinary single-robot session, which is how a multi-site session replays.
Failure mode: ConfigError for a site the session does not have.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import orjson

from bench import __version__
from bench.observer import RunObserver
from bench.scenario import Scenario
from bench.session.reader import SessionReader
from bench.session.recorder import SessionRecorder, scenario_to_dict
from bench.session.schema import FORMAT, SCHEMAS, T_EVENT, T_META
from bench.session.writer import SessionWriter, git_commit
from drivers.errors import ConfigError

PREFIX = "/site/"


def site_topic(site: str, topic: str) -> str:
    """``/site/<site><topic>``."""
    return f"{PREFIX}{site}{topic}"


class SiteRecorder(SessionRecorder):
    """Records one site of a multi-site run on its own topics of a shared writer (which the
    run closes once every site has ended)."""

    def __init__(self, writer: SessionWriter, site: str, scenario: Scenario | None = None,
                 extra: dict[str, Any] | None = None) -> None:
        RunObserver.__init__(self)
        self.path = writer.path
        self.scenario = scenario
        self.extra = dict(extra or {})
        self.writer = writer
        self.site = site
        self._write = lambda topic, t_ns, data: writer.write(site_topic(site, topic), t_ns,
                                                                data)

    def on_start(self, t_ns: int, meta: dict[str, Any]) -> None:
        full: dict[str, Any] = {"format": FORMAT,
                                "tool": {"name": "hil-bench", "version": __version__},
                                "git_commit": git_commit(), **meta, **self.extra,
                                "site": self.site}
        if self.scenario is not None:
            full["scenario"] = scenario_to_dict(self.scenario)
        self._write(T_META, t_ns, full)

    def on_end(self, t_ns: int, verdict: str, error: str | None) -> None:
        self._write(T_EVENT, t_ns, {"kind": "end", "detail": {"verdict": verdict,
                                                              "error": error}})

    def close(self) -> None:
        """The shared writer is the run's to close."""


def session_sites(path: str | Path) -> list[str]:
    """The sites of a multi-site session ([] for a single-robot one)."""
    with SessionReader(path) as r:
        return [str(s) for s in r.metadata().get("sites") or []]


def extract_site(path: str | Path, site: str, out: str | Path) -> Path:
    """Copy `site`'s messages of a multi-site session into `out` as a single-robot session
    (topics without the ``/site/<site>`` prefix, the site's metadata as the session's)."""
    sites = session_sites(path)
    if site not in sites:
        raise ConfigError(f"{path}: no site {site!r} in this session "
                          f"(sites: {', '.join(sites) or 'none, it is a single-robot session'})")
    prefix = f"{PREFIX}{site}"
    topics = [prefix + t for t in SCHEMAS]
    with SessionReader(path) as r, SessionWriter(out, background_flush=False) as w:
        for topic, t_ns, payload in r.raw(topics):
            base = topic[len(prefix):]
            if base == T_META:
                meta = orjson.loads(payload)
                meta.pop("format", None)
                w.write_metadata(t_ns, meta)
            else:
                w.write_json(base, t_ns, payload)
    return Path(out)


def replay_sites(path: str | Path, site: str | None = None,
                 **kwargs: Any) -> list[tuple[str, Any]]:
    """Replay every site (or `site`) of a multi-site session, one after the other, each on its
    own site's robot and recorded link (`bench.session.replay.replay_session` keyword arguments;
    `record_to`, when given, gets one file per site: ``<stem>-<site>.mcap``). Returns
    [(site, Comparison)]. Raises ConfigError for a site the session does not have."""
    import tempfile
    from bench.session.replay import replay_session
    sites = session_sites(path)
    chosen = [site] if site is not None else sites
    record_to = kwargs.pop("record_to", None)
    out = []
    with tempfile.TemporaryDirectory(prefix="hil-sites-") as tmp:
        for name in chosen:
            one = extract_site(path, name, Path(tmp) / f"{name}.mcap")
            rec = None if record_to is None else \
                Path(record_to).with_name(f"{Path(record_to).stem}-{name}.mcap")
            c = replay_session(one, record_to=rec, **kwargs)
            out.append((name, dataclasses.replace(c, session=f"{path}#{name}")))
    return out
