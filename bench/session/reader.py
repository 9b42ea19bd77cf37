"""`SessionReader`: reads a session file as a stream, also when it was cut short.

The reader walks the MCAP records one by one and never holds more than one chunk (at most a few
hundred kilobytes) in memory, so a ten-hour session reads in flat memory. A file whose recorder was
killed ends in the middle of a record, or before the data-end record and footer: everything up to
the last complete chunk is returned and `truncated` is True. A chunk whose CRC does not match is
treated as the end of the readable data (also `truncated`).

Failure modes: ConfigError (exit code 2) when the file does not exist or is not an MCAP file.
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

from drivers.errors import ConfigError

MAGIC = b"\x89MCAP0\r\n"
OP_HEADER, OP_FOOTER, OP_SCHEMA, OP_CHANNEL, OP_MESSAGE, OP_CHUNK = 0x01, 0x02, 0x03, 0x04, 0x05, 0x06
OP_METADATA, OP_DATA_END = 0x0C, 0x0F
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
        self.profile = ""

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
            if length > self._size - fh.tell():
                self._cut(f"file ends inside a record (opcode 0x{op:02x}, {length} bytes)")
                return
            if op == OP_DATA_END:
                fh.seek(length, os.SEEK_CUR)
                self._check_footer()
                return
            if op in (OP_CHUNK, OP_CHANNEL, OP_MESSAGE, OP_HEADER):
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
        for op, body in self._records():
            if op == OP_HEADER:
                self.profile, _ = _string(body, 0)
            elif op == OP_CHANNEL:
                self._register_channel(body, 0)
            elif op == OP_MESSAGE:
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
                        if want is None or topic in want:
                            yield topic, t, data[pos + 31:pos + 9 + length]
                    elif rop == OP_CHANNEL:
                        self._register_channel(data, pos + 9)
                    pos += 9 + length

    def messages(self, topics: Iterable[str] | None = None) -> Iterator[SessionMessage]:
        """Decoded messages in file order (optionally only `topics`); see `raw`."""
        loads = orjson.loads
        for topic, t, payload in self.raw(topics):
            yield SessionMessage(topic, t, loads(payload))

    def metadata(self) -> dict[str, Any]:
        """The first /session/metadata message ({} when there is none)."""
        from bench.session.schema import T_META
        for m in self.messages([T_META]):
            return m.data
        return {}


def read_session(path: str | Path, topics: Iterable[str] | None = None) -> Iterator[SessionMessage]:
    """Convenience generator over a file's messages (the file is closed when it is exhausted)."""
    with SessionReader(path) as r:
        yield from r.messages(topics)
