"""`SessionWriter`: an MCAP file written as things happen, safe against a killed process.

Messages go into MCAP chunks; a chunk is closed and handed to the operating system at least every
`flush_interval_s` (100 ms by default): inline when a message arrives and the last flush is older
than the interval, and from a small background thread when the bench is quiet. A process killed
with SIGKILL therefore leaves a file whose complete chunks are all readable (the kernel keeps what
was written; `fsync` is only needed against power loss and is done once at `close`). A file closed
normally gets the MCAP data-end record, summary (schemas, channels, statistics), chunk and message
indexes and footer.

Memory stays flat however long the session: the `mcap` writer keeps one ChunkIndex object per
closed chunk (about 0.5-1.5 kB of Python objects; at 10 chunks/s that was +26 MB per 18000
chunks, the soak's growth) until it writes the summary at close. `_SpilledChunkIndexes` replaces
that list: each index is serialised as it is appended into an anonymous temporary file (unlinked
at once, so nothing is left behind even by SIGKILL) and read back once, at close.

A message is never cut in half by Ctrl-C/SIGTERM: write, flush and close are `critical` sections
(bench/interrupts.py), so an interrupt that arrives while the `mcap` library builds a record is
raised when the record is complete; an empty payload is refused (it is never valid JSON).

Failure modes: OSError when the file cannot be created or written; ValueError for an unknown topic,
an empty payload or a message that is not JSON-serialisable (NaN is written as null rather than
failing a run).
"""
from __future__ import annotations

import atexit
import json
import math
import os
import struct
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import Any

import orjson
from mcap.data_stream import RecordBuilder
from mcap.writer import CompressionType, Writer

from bench.interrupts import critical, raise_pending
from bench.session.schema import FORMAT, PROFILE, SCHEMAS, T_META, schema_bytes

FLUSH_INTERVAL_S = 0.1
#: a chunk is also closed when it grows past this (bounds memory on fast virtual runs)
CHUNK_SIZE = 256 * 1024

def _default(o: Any) -> Any:
    """Objects with a `tolist` (numpy scalars and arrays a driver may hand over) as plain
    numbers and lists; anything else is not JSON."""
    if hasattr(o, "tolist"):
        return o.tolist()
    raise TypeError(f"Object of type {type(o).__name__} is not JSON serializable")


# numpy values go through `_default` (their Python values: a float32 keeps all its digits)
_OPTIONS = orjson.OPT_NON_STR_KEYS


def _clean(v: Any) -> Any:
    """NaN/inf are not JSON: as null (for the metadata record's string values)."""
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, dict):
        return {str(k): _clean(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_clean(x) for x in v]
    return v


def encode(data: dict[str, Any]) -> bytes:
    """Compact JSON bytes of `data` (orjson: floats in their shortest round-trip form, as
    json.dumps writes them; NaN and infinities become null). Raises ValueError."""
    try:
        return orjson.dumps(data, default=_default, option=_OPTIONS)
    except TypeError as exc:          # orjson.JSONEncodeError is a TypeError
        raise ValueError(f"session message is not JSON-serialisable: {exc}") from None


class _RawRecord:
    """One serialised summary record, written as it is (what the writer's `write` expects)."""

    __slots__ = ("data",)

    def __init__(self, data: bytes) -> None:
        self.data = data

    def write(self, builder: RecordBuilder) -> None:
        builder.write(self.data)


class _SpilledChunkIndexes(list):
    """Stands in for the mcap Writer's in-memory list of chunk indexes: `append` serialises the
    index to a temporary file; iterating (at `finish`, once) reads the records back one by one.
    Only `append`, `__iter__`, `__len__` and `__bool__` are used by the writer."""

    def __init__(self) -> None:
        super().__init__()
        self._file = tempfile.TemporaryFile()          # anonymous: gone with the process
        self._count = 0

    def append(self, index: Any) -> None:
        builder = RecordBuilder()
        index.write(builder)
        self._file.write(builder.end())
        self._count += 1

    def __len__(self) -> int:
        return self._count

    def __bool__(self) -> bool:
        return self._count > 0

    def __iter__(self):
        f = self._file
        f.flush()
        f.seek(0)
        for _ in range(self._count):
            head = f.read(9)
            (length,) = struct.unpack_from("<Q", head, 1)
            yield _RawRecord(head + f.read(length))
        f.seek(0, os.SEEK_END)

    def close(self) -> None:
        self._file.close()


def git_commit(start: Path | None = None) -> str | None:
    """The git commit of the source tree the bench runs from, or None (not a checkout, no git)."""
    here = start or Path(__file__).resolve().parent
    try:
        out = subprocess.run(["git", "-C", str(here), "rev-parse", "HEAD"], capture_output=True,
                             text=True, timeout=2.0)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() if out.returncode == 0 and out.stdout.strip() else None


class SessionWriter:
    """Writes one session file. Thread-safe; use as a context manager or call `close()`."""

    def __init__(self, path: str | Path, *, flush_interval_s: float = FLUSH_INTERVAL_S,
                 chunk_size: int = CHUNK_SIZE, background_flush: bool = True,
                 sites: tuple[str, ...] = ()) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.flush_interval_s = float(flush_interval_s)
        self._fh = open(self.path, "wb")
        self._mcap = Writer(self._fh, chunk_size=chunk_size, compression=CompressionType.ZSTD)
        self._spill: _SpilledChunkIndexes | None = None
        if isinstance(getattr(self._mcap, "_Writer__chunk_indices", None), list):
            # (a private attribute of mcap's Writer: if a release renames it, the writer simply
            # keeps its indexes in memory as before)
            self._spill = _SpilledChunkIndexes()
            self._mcap._Writer__chunk_indices = self._spill  # type: ignore[attr-defined]
        self._mcap.start(profile=PROFILE, library="hil-bench")
        self._channels: dict[str, int] = {}
        for topic in SCHEMAS:
            sid = self._mcap.register_schema(SCHEMAS[topic]["title"], "jsonschema",
                                             schema_bytes(topic))
            self._channels[topic] = self._mcap.register_channel(topic, "json", sid)
            for site in sites:      # a multi-site run: every topic again under /site/<name>
                name = f"/site/{site}{topic}"
                self._channels[name] = self._mcap.register_channel(name, "json", sid)
        self._lock = threading.Lock()
        self._pending = 0
        self._seq = 0
        self._last_flush = time.monotonic()
        self.closed = False
        self.messages = 0
        self._mcap.flush()       # header, schemas and channels are on disk before any message
        self._fh.flush()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        # an interrupted run (Ctrl-C, an exception the caller did not catch) still finishes
        # its file at interpreter exit; only a killed process leaves a truncated one
        atexit.register(self.close)
        if background_flush:
            self._thread = threading.Thread(target=self._flusher, name="session-flush",
                                            daemon=True)
            self._thread.start()

    def write(self, topic: str, t_ns: int, data: dict[str, Any]) -> None:
        """Append one message on `topic` at `t_ns` (int ns, >= 0). Raises ValueError."""
        self.write_json(topic, t_ns, encode(data))

    @critical
    def write_json(self, topic: str, t_ns: int, payload: bytes) -> None:
        """Append one message whose JSON the caller already encoded (never empty)."""
        cid = self._channels.get(topic)
        if cid is None:
            raise ValueError(f"unknown session topic {topic!r} (known: {', '.join(SCHEMAS)})")
        if not payload:
            raise ValueError(f"empty session message on {topic}")
        t = max(0, int(t_ns))
        with self._lock:
            if self.closed:
                return
            self._seq += 1
            self._mcap.add_message(cid, t, payload, t, self._seq)
            self._pending += 1
            self.messages += 1
            now = time.monotonic()
            if now - self._last_flush >= self.flush_interval_s:
                self._flush_locked(now)
        raise_pending()

    @critical
    def write_metadata(self, t_ns: int, meta: dict[str, Any]) -> None:
        """The session's metadata: a message on /session/metadata and an MCAP metadata record
        ``hil-bench`` (string values, for tools that list metadata)."""
        meta = {"format": FORMAT, **meta}
        self.write(T_META, t_ns, meta)
        flat = {k: (v if isinstance(v, str) else json.dumps(_clean(v), sort_keys=True))
                for k, v in meta.items()}
        with self._lock:
            if not self.closed:
                self._mcap.add_metadata("hil-bench", flat)
                self._flush_locked(time.monotonic())
        raise_pending()

    @critical
    def flush(self) -> None:
        """Close the open chunk and hand everything to the OS now."""
        with self._lock:
            if not self.closed:
                self._flush_locked(time.monotonic())
        raise_pending()

    def _flush_locked(self, now: float) -> None:
        self._mcap.flush()       # finalises the chunk, writes its message indexes, flushes fh
        self._pending = 0
        self._last_flush = now

    def _flusher(self) -> None:
        # Wakes twice per interval so a quiet bench still gets its last messages on disk in time.
        while not self._stop.wait(self.flush_interval_s / 2):
            with self._lock:
                if self.closed:
                    return
                if self._pending:
                    self._flush_locked(time.monotonic())

    @critical
    def close(self) -> None:
        """Finish the file (summary, indexes, footer), fsync and close. Safe to call twice."""
        self._stop.set()
        atexit.unregister(self.close)
        with self._lock:
            if self.closed:
                return
            self.closed = True
            try:
                self._mcap.finish()
                self._fh.flush()
                os.fsync(self._fh.fileno())
            finally:
                self._fh.close()
                if self._spill is not None:
                    self._spill.close()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=1.0)
        raise_pending()

    def __enter__(self) -> "SessionWriter":
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
