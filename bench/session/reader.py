"""`SessionReader`: reads a session file as a stream, also when it was cut short.

The reader walks the MCAP records one by one and never holds more than one chunk (at most a few
hundred kilobytes) in memory, so a ten-hour session reads in flat memory. A file whose recorder was
killed ends in the middle of a record, or before the data-end record and footer: everything up to
the last complete chunk is returned and `truncated` is True. A chunk whose CRC does not match is
treated as the end of the readable data (also `truncated`).

Truncated is not damaged: a record that cannot be a record (an opcode MCAP does not define, a
message shorter than its own header, a payload that is not a JSON object) makes the file
`damaged`; such messages are skipped and listed in `damage` with their topic and byte position,
never raised. A file whose first record is not an MCAP header is not a session at all.

Failure modes: ConfigError (exit code 2) when the file does not exist, is not an MCAP file, starts
with a damaged record, or is an MCAP file written by another tool (its header's profile is not
``hil-bench``: foreign encodings such as protobuf or CDR are not read as sessions).
"""
from __future__ import annotations

import os
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, BinaryIO, Iterable, Iterator

import orjson

from bench.session.schema import FORMAT, PROFILE
from drivers.errors import ConfigError

MAGIC = b"\x89MCAP0\r\n"
OP_HEADER, OP_FOOTER, OP_SCHEMA, OP_CHANNEL, OP_MESSAGE, OP_CHUNK = 0x01, 0x02, 0x03, 0x04, 0x05, 0x06
OP_METADATA, OP_DATA_END = 0x0C, 0x0F
#: every opcode the MCAP specification defines (https://mcap.dev/spec#records): 0x01 .. 0x0F
_KNOWN_OPS = frozenset(range(0x01, 0x10))
#: opcode, channel id, sequence, log time, publish time: a message record is at least this long
_MSG_MIN = 22
#: at most this many damaged messages are listed (the count goes on)
_DAMAGE_LIST = 20
_REC = struct.Struct("<BQ")
_MSG = struct.Struct("<HIQQ")          # channel id, sequence, log time, publish time
_CHUNK_REC = struct.Struct("<BQHIQ")   # record header + a message's channel id, sequence, log time
_U16, _U32, _U64 = struct.Struct("<H"), struct.Struct("<I"), struct.Struct("<Q")


@dataclass(frozen=True, slots=True)
class SessionMessage:
    """One decoded message: topic, time in ns on the run's clock, and the JSON object."""

    topic: str
    t_ns: int
    data: dict[str, Any]


def _string(buf: bytes, off: int) -> tuple[str, int]:
    n = _U32.unpack_from(buf, off)[0]
    off += 4
    return buf[off:off + n].decode(), off + n


def _decompress(compression: str, data: bytes, size: int) -> bytes:
    if compression == "":
        return data
    if compression == "zstd":
        import zstandard
        return zstandard.ZstdDecompressor().decompress(data, max_output_size=size)
    if compression == "lz4":
        import lz4.frame
        return lz4.frame.decompress(data)
    raise ValueError(f"unsupported chunk compression {compression!r}")


class SessionReader:
    """Streaming reader. ``with SessionReader(path) as r: for m in r.messages(): ...``

    After a full pass, `truncated` tells whether the file ended before its footer, and `finished`
    whether it had the data-end record, summary and footer of a normally closed recorder.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if self.path.is_dir():
            raise ConfigError(f"{self.path}: is a folder, not a session file")
        if not self.path.is_file():
            raise ConfigError(f"{self.path}: session file not found")
        self._fh: BinaryIO = open(self.path, "rb")
        if self._fh.read(8) != MAGIC:
            self._fh.close()
            raise ConfigError(f"{self.path}: not an MCAP session file (bad magic bytes)")
        self._size = os.fstat(self._fh.fileno()).st_size
        self.topics: dict[int, str] = {}          # channel id -> topic
        self.truncated = False
        self.finished = False
        self.truncation: str = ""
        self.damage: list[str] = []
        self.damaged_count = 0
        self._at = 0                              # byte position of the record being read
        try:
            self.profile = self._read_header()
        except BaseException:
            self._fh.close()
            raise

    def _read_header(self) -> str:
        """The profile of the header record that must follow the magic bytes ("" when the file
        ends inside it: a recorder killed at once leaves a truncated, empty session)."""
        head = self._fh.read(9)
        if len(head) < 9:
            return ""
        op, length = _REC.unpack(head)
        if op != OP_HEADER or length > 1 << 16:     # a header is a profile and a library name
            raise ConfigError(f"{self.path}: not a session: damaged (the first record is opcode "
                              f"0x{op:02x} of {length} bytes, not an MCAP header)")
        body = self._fh.read(length)
        if len(body) < length:
            return ""
        try:
            profile, _ = _string(body, 0)
        except (struct.error, UnicodeDecodeError):
            raise ConfigError(f"{self.path}: not a session: damaged MCAP header record") from None
        if profile != PROFILE:
            raise ConfigError(f"{self.path}: an MCAP file written by another tool (profile "
                              f"{profile!r}), not a hil-bench session")
        return profile

    @property
    def damaged(self) -> bool:
        """True when a pass met records or messages that cannot be read (see `damage`)."""
        return self.damaged_count > 0

    def _damaged(self, what: str) -> None:
        self.damaged_count += 1
        if len(self.damage) < _DAMAGE_LIST:
            self.damage.append(what)

    def close(self) -> None:
        self._fh.close()

    def __enter__(self) -> "SessionReader":
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    # -- raw records ---------------------------------------------------------------------------

    def _cut(self, why: str) -> None:
        self.truncated = True
        self.truncation = why

    def _records(self) -> Iterator[tuple[int, bytes]]:
        """(opcode, body) of each complete top-level record until the data-end record."""
        fh = self._fh
        fh.seek(8)
        while True:
            head = fh.read(9)
            if len(head) < 9:
                self._cut("file ends without the data-end record and footer"
                          if not head else "file ends inside a record header")
                return
            op, length = _REC.unpack(head)
            if op not in _KNOWN_OPS:
                self._damaged(f"unknown record opcode 0x{op:02x} at byte {fh.tell() - 9}: "
                              f"the rest of the file is not read")
                return
            if length > self._size - fh.tell():
                self._cut(f"file ends inside a record (opcode 0x{op:02x}, {length} bytes)")
                return
            if op == OP_DATA_END:
                fh.seek(length, os.SEEK_CUR)
                self._check_footer()
                return
            if op in (OP_CHUNK, OP_CHANNEL, OP_MESSAGE, OP_HEADER):
                self._at = fh.tell() - 9
                yield op, fh.read(length)
            else:                                      # indexes, metadata, attachments
                fh.seek(length, os.SEEK_CUR)

    def _check_footer(self) -> None:
        """A finished file ends with a footer record and the magic bytes."""
        self._fh.seek(self._size - 8 - 29)
        tail = self._fh.read(29 + 8)
        if len(tail) == 37 and tail[0] == OP_FOOTER and tail[-8:] == MAGIC:
            self.finished = True
        else:
            self._cut("data-end record present but the summary/footer is incomplete")

    def _chunk_data(self, body: bytes) -> bytes:
        """The decompressed records of a chunk record's body. Raises ValueError on a bad CRC."""
        _start, _end, unc_size, crc = struct.unpack_from("<QQQI", body, 0)
        compression, off = _string(body, 28)
        size = _U64.unpack_from(body, off)[0]
        data = _decompress(compression, body[off + 8:off + 8 + size], unc_size)
        if crc and zlib.crc32(data) != crc:
            raise ValueError("chunk CRC mismatch")
        return data

    def _register_channel(self, buf: bytes, off: int) -> None:
        cid = _U16.unpack_from(buf, off)[0]
        topic, _ = _string(buf, off + 4)
        self.topics[cid] = topic

    def raw(self, topics: Iterable[str] | None = None) -> Iterator[tuple[str, int, bytes]]:
        """(topic, t_ns, JSON bytes) of every message in file order, optionally only `topics`.

        Sets `truncated`/`finished` when the pass ends. Never raises on a damaged tail.
        """
        want = set(topics) if topics is not None else None
        self.truncated = self.finished = False
        self.damage, self.damaged_count = [], 0
        for op, body in self._records():
            if op == OP_HEADER:
                continue                                # read by the constructor
            elif op == OP_CHANNEL:
                self._register_channel(body, 0)
            elif op == OP_MESSAGE:
                if len(body) <= _MSG_MIN:              # no room for the header, or no payload
                    self._damaged(f"message record of {len(body)} bytes at byte {self._at}")
                    continue
                cid, _seq, t, _pub = _MSG.unpack_from(body, 0)
                topic = self.topics.get(cid, "")
                if want is None or topic in want:
                    yield topic, t, body[22:]
            elif op == OP_CHUNK:
                try:
                    data = self._chunk_data(body)
                except Exception as exc:   # damaged chunk (CRC, codec, size): stop here
                    self._cut(f"unreadable chunk ({type(exc).__name__}: {exc})")
                    return
                # the hot loop of every reader: parse the records in place, no objects
                # (every record in a chunk is at least 23 bytes long: header + message prefix;
                # a shorter tail ends the loop, as a damaged chunk would)
                pos, n, channel_topics = 0, len(data), self.topics
                head = _CHUNK_REC.unpack_from
                while pos + 23 <= n:
                    rop, length, cid, _seq, t = head(data, pos)
                    if rop == OP_MESSAGE:
                        topic = channel_topics.get(cid, "")
                        if length <= _MSG_MIN:
                            # a record cut short while it was built (a half-written message),
                            # or an empty payload: never valid JSON, so report, do not yield
                            self._damaged(f"{topic or f'channel {cid}'} message of {length} "
                                          f"bytes at byte {pos} of the chunk at byte "
                                          f"{self._at}")
                            if length < _MSG_MIN:   # its header is a lie: the chunk is unreadable
                                break
                        elif want is None or topic in want:
                            yield topic, t, data[pos + 31:pos + 9 + length]
                    elif rop == OP_CHANNEL:
                        self._register_channel(data, pos + 9)
                    pos += 9 + length

    def messages(self, topics: Iterable[str] | None = None) -> Iterator[SessionMessage]:
        """Decoded messages in file order (optionally only `topics`); see `raw`. A message that
        is not a JSON object is skipped and listed in `damage` (topic, time, index)."""
        loads = orjson.loads
        for i, (topic, t, payload) in enumerate(self.raw(topics)):
            try:
                data = loads(payload)
            except orjson.JSONDecodeError as exc:
                self._damaged(f"{topic} message #{i + 1} at t_ns {t}: not JSON ({exc})")
                continue
            if not isinstance(data, dict):
                self._damaged(f"{topic} message #{i + 1} at t_ns {t}: not a JSON object")
                continue
            yield SessionMessage(topic, t, data)

    def metadata(self) -> dict[str, Any]:
        """The first /session/metadata message ({} when there is none)."""
        from bench.session.schema import T_META
        for m in self.messages([T_META]):
            return m.data
        return {}


def check_format(meta: Any, source: str | Path) -> dict[str, Any]:
    """`meta` (a /session/metadata message) if this hil-bench reads its format version, else
    ConfigError: an unknown version (``hil-bench/session/99``) or no format at all."""
    if not isinstance(meta, dict):
        raise ConfigError(f"{source}: the session metadata is not a JSON object")
    fmt = meta.get("format")
    if fmt == FORMAT:
        return meta
    family = FORMAT.rsplit("/", 1)[0] + "/"
    if isinstance(fmt, str) and fmt.startswith(family):
        raise ConfigError(f"{source}: session format {fmt} is not supported (this hil-bench "
                          f"reads {FORMAT}; use the hil-bench version that wrote it)")
    raise ConfigError(f"{source}: not a hil-bench session (metadata format {fmt!r}, expected "
                      f"{FORMAT})")


def read_session(path: str | Path, topics: Iterable[str] | None = None) -> Iterator[SessionMessage]:
    """Convenience generator over a file's messages (the file is closed when it is exhausted)."""
    with SessionReader(path) as r:
        yield from r.messages(topics)
