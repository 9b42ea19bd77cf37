"""Ctrl-C and SIGTERM as `KeyboardInterrupt`, but never in the middle of writing a record.

Python runs a signal handler between two bytecodes of the main thread, wherever that is. A
`KeyboardInterrupt` raised while the `mcap` library builds a message record leaves half a record in
the open chunk (its length still the placeholder 0); the file is then finished normally and a
reader finds an empty message in it. That is how an EMPTY message got into a session after SIGINT
(tests/test_interrupt.py failed once with orjson's "zero-length, empty document").

So the handler looks at the interrupted frame: inside a function marked `critical` (the session
writer's write, flush and close) it only notes the signal, and the writer calls `raise_pending()`
when the record is complete. Anywhere else it raises at once. A second signal exits at once with
130 (the user insists), whatever the first one is doing.
"""
from __future__ import annotations

import contextlib
import os
import signal
import threading
from types import CodeType, FrameType
from typing import Callable, Iterator, TypeVar

F = TypeVar("F", bound=Callable)

_CRITICAL: set[CodeType] = set()
_pending = False


def critical(fn: F) -> F:
    """Mark `fn` as a section a signal must not cut (see the module docstring)."""
    _CRITICAL.add(fn.__code__)
    return fn


def _inside_critical(frame: FrameType | None) -> bool:
    while frame is not None:
        if frame.f_code in _CRITICAL:
            return True
        frame = frame.f_back
    return False


def raise_pending() -> None:
    """Raise the KeyboardInterrupt a signal deferred while a critical section ran (if any)."""
    global _pending
    if _pending:
        _pending = False
        raise KeyboardInterrupt


def pending() -> bool:
    """True while a deferred interrupt waits for the end of a critical section."""
    return _pending


@contextlib.contextmanager
def interrupts_as_keyboardinterrupt() -> Iterator[None]:
    """SIGINT and SIGTERM raise KeyboardInterrupt (so the robot gets a stop and the files are
    closed), deferred out of critical sections; a second one exits at once with 130. Outside the
    main thread (where handlers cannot be installed) this does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    count = 0

    def handler(signum: int, frame: FrameType | None) -> None:
        global _pending
        nonlocal count
        count += 1
        if count > 1:
            os._exit(130)
        if _inside_critical(frame):
            _pending = True
            return
        raise KeyboardInterrupt

    old = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, h in old.items():
            signal.signal(sig, h)
