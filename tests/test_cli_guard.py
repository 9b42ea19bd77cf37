"""The CLI's last line of defence: every command, whatever escapes it, ends in one line and a
documented exit code (70 for an internal error, never 1, which means "a tolerance failed").

Errors are injected into the real commands: the parser is the real one, only the function a
command runs is replaced by one that raises.
"""
from __future__ import annotations

import argparse
import ast
import errno
import subprocess
import sys
from pathlib import Path

import pytest

from bench import cli
from drivers.errors import ConfigError, DeviceTimeout

ROOT = Path(__file__).resolve().parents[1]


def _leaf_commands(parser: argparse.ArgumentParser, prefix: tuple = ()) -> list[tuple]:
    """Every runnable command path of the parser, e.g. ("session", "info")."""
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        return [prefix]
    out: list[tuple] = []
    for name, sp in subs[0].choices.items():
        out += _leaf_commands(sp, (*prefix, name))
    return out


COMMANDS = _leaf_commands(cli.build_parser())


def _leaf_parser(path: tuple) -> argparse.ArgumentParser:
    parser = cli.build_parser()
    for name in path:
        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        parser = sub.choices[name]
    return parser


def _inject(monkeypatch: pytest.MonkeyPatch, exc: BaseException) -> None:
    real = argparse.ArgumentParser.parse_args

    def parse_args(self, args=None, namespace=None):  # type: ignore[no-untyped-def]
        ns = real(self, args, namespace)
        if getattr(ns, "func", None):
            def boom(_args: argparse.Namespace) -> int:
                raise exc
            ns.func = boom
        return ns

    monkeypatch.setattr(argparse.ArgumentParser, "parse_args", parse_args)


def _argv(path: tuple) -> list[str]:
    """The command with a dummy value for each required argument (the first of its choices if
    it has some): enough to get past the parser to the command's own function, for any command
    added later too."""
    out = [*path]
    for action in _leaf_parser(path)._actions:
        if not action.required or isinstance(action, argparse._SubParsersAction):
            continue
        value = str(next(iter(action.choices))) if action.choices else "x"
        if action.option_strings:
            out += [action.option_strings[0]]
        out += [value] * (action.nargs if isinstance(action.nargs, int) else 1)
    return out


def test_every_command_is_reached() -> None:
    assert len(COMMANDS) >= 15 and ("session", "export") in COMMANDS and ("run",) in COMMANDS


@pytest.mark.parametrize("path", COMMANDS, ids=[" ".join(p) for p in COMMANDS])
def test_internal_error_in_every_command_is_one_line_exit_70(
        path: tuple, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    monkeypatch.delenv("HIL_BENCH_DEBUG", raising=False)
    _inject(monkeypatch, ZeroDivisionError("float division by zero"))
    code = cli.main(_argv(path))
    err = capsys.readouterr().err
    assert code == cli.EXIT_INTERNAL == 70
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    assert lines[0].startswith("hil-bench: error: internal error: ZeroDivisionError: "
                               "float division by zero")
    assert "HIL_BENCH_DEBUG=1" in lines[0]


@pytest.mark.parametrize("exc, code, pattern", [
    (RecursionError("maximum recursion depth exceeded"), 70, r"internal error: RecursionError"),
    (KeyError("pose"), 70, r"internal error: KeyError: 'pose'"),
    (MemoryError(), 70, r"internal error: MemoryError \(a bug"),
    (ValueError("line one\nline two"), 70, r"ValueError: line one line two"),
    (IsADirectoryError(errno.EISDIR, "Is a directory", "/x/out"), 2,
     r"^hil-bench: error: /x/out: Is a directory$"),
    (PermissionError(errno.EACCES, "Permission denied", "/x/report.json"), 2,
     r"/x/report.json: Permission denied"),
    (OSError(errno.ENOSPC, "No space left on device", "/x/session.mcap"), 3,
     r"session.mcap: No space left on device \(storage failed\)"),
    (OSError(errno.ENOSPC, "No space left on device"), 3, r"error: No space left on device"),
    (ConnectionResetError(errno.ECONNRESET, "Connection reset by peer"), 70,
     r"internal error: ConnectionResetError"),
    (ConfigError("lab.yaml:3: robot: bad"), 2, r"^hil-bench: error: lab.yaml:3: robot: bad$"),
    (DeviceTimeout("no reply within 0.5 s"), 3, r"no reply within 0.5 s$"),
])
def test_exceptions_map_to_documented_codes(exc: BaseException, code: int, pattern: str,
                                            monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture) -> None:
    import re
    monkeypatch.delenv("HIL_BENCH_DEBUG", raising=False)
    _inject(monkeypatch, exc)
    assert cli.main(["trace", "info", "x.csv"]) == code
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and re.search(pattern, lines[0]), err


def test_debug_env_adds_the_traceback(monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture) -> None:
    monkeypatch.setenv("HIL_BENCH_DEBUG", "1")
    _inject(monkeypatch, ZeroDivisionError("x"))
    assert cli.main(["trace", "info", "x.csv"]) == 70
    err = capsys.readouterr().err
    assert "Traceback" in err and err.rstrip().splitlines()[-1].startswith("hil-bench: error:")


def test_a_real_process_with_an_injected_bug_exits_70_in_one_line(tmp_path: Path) -> None:
    """The console entry point in its own process: a bug deep in a loader (not in the command
    function) still gives one line and 70."""
    code = ("import sys, bench.impair.traces as t\n"
            "def bad(*a, **k): raise RecursionError('maximum recursion depth exceeded')\n"
            "t.load_trace = bad\n"
            "import bench.cli.trace as ct\nct.load_trace = bad\n"
            "from bench.cli import main\nsys.exit(main(['trace', 'info', sys.argv[1]]))\n")
    f = tmp_path / "t.csv"
    f.write_text("t_ms,delay_ms\n0,1\n")
    res = subprocess.run([sys.executable, "-c", code, str(f)], capture_output=True, text=True,
                         cwd=ROOT, timeout=60, env={"PATH": "/usr/bin:/bin"})
    assert res.returncode == 70, res.stderr
    assert res.stderr.count("\n") == 1 and "Traceback" not in res.stderr, res.stderr
    assert "internal error: RecursionError" in res.stderr


def _returned_codes() -> list[tuple[str, int, str]]:
    """Every `return EXPR` of a subcommand (the `func` it registers) and of the functions whose
    result it returns (followed into other bench/cli modules), as (file, line, EXPR)."""
    trees = {p.name: ast.parse(p.read_text()) for p in sorted((ROOT / "bench" / "cli").glob("*.py"))}
    defs = {f: {n.name: n for n in ast.walk(t) if isinstance(n, ast.FunctionDef)}
            for f, t in trees.items()}
    todo = [(f, k.value.id) for f, t in trees.items() for n in ast.walk(t)
            if isinstance(n, ast.Call) and getattr(n.func, "attr", "") == "set_defaults"
            for k in n.keywords if k.arg == "func" and isinstance(k.value, ast.Name)]
    found, seen = [], set()
    while todo:
        f, name = todo.pop()
        if name not in defs[f]:          # imported from another command module
            f = next((g for g, d in defs.items() if name in d), f)
        if (f, name) in seen or name not in defs[f]:
            continue
        seen.add((f, name))
        for node in ast.walk(defs[f][name]):
            if isinstance(node, ast.Return) and node.value is not None:
                if isinstance(node.value, ast.Call) and isinstance(node.value.func, ast.Name):
                    todo.append((f, node.value.func.id))      # its result is the exit code too
                found.append((f, node.lineno, ast.unparse(node.value)))
    return found


def test_subcommands_return_the_named_exit_codes() -> None:
    """No bare integer as an exit code: `return 3` in one command and EXIT_DEVICE in another is
    how a 1 ("a tolerance failed") slips in for an error."""
    def bare(e: ast.expr) -> bool:        # 3, `1 if x else 0`, `rc or 0`
        if isinstance(e, ast.IfExp):
            return bare(e.body) or bare(e.orelse)
        if isinstance(e, ast.BoolOp):
            return any(bare(v) for v in e.values)
        return isinstance(e, ast.Constant) and isinstance(e.value, int)

    found = _returned_codes()
    assert len(found) > 30 and any("EXIT_FAIL" in e for _, _, e in found)
    assert [(f, line, e) for f, line, e in found
            if bare(ast.parse(e, mode="eval").body)] == []
