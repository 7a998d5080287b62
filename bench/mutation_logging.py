"""The mutants of a module that change only a log call or a span: names, to run or to skip.

On a busy 2-core machine a command or handoff mutant costs 15-25 s (a pytest start-up in
mutmut's child, then the tests that reach the function), and many of ``execute.py``'s are a log
line's text or arguments. This reads mutmut's mutated copy of a module
(``.mutation/<module>/mutants/<path>.py``: every mutant is a function ``x_<fn>__mutmut_<n>``
beside ``x_<fn>__mutmut_orig``) and calls a mutant *logging-only* when every line it changes
lies inside a ``log.*(...)``, ``span(...)`` or ``.set_attribute(...)`` call.

    python -m bench.mutation_logging .mutation/sync_jobs.commands.execute \\
        sync_jobs.commands.execute --unchecked rest   # names to give `mutmut run`

A run given those names leaves the logging-only mutants "not checked": docs/testing.md says
so wherever this was used.
"""

from __future__ import annotations

import argparse
import ast
import difflib
import json
from collections import Counter
from pathlib import Path

TELEMETRY_CALLS = ("span",)  # module-level helpers whose arguments are telemetry only


def _is_telemetry(call: ast.Call) -> bool:
    f = call.func
    if isinstance(f, ast.Attribute):
        return (isinstance(f.value, ast.Name) and f.value.id == "log") or f.attr == "set_attribute"
    return isinstance(f, ast.Name) and f.id in TELEMETRY_CALLS


def _telemetry_lines(fn: ast.AST, first: int) -> set[int]:
    """Body line offsets (from ``first``) covered by a telemetry call."""
    lines: set[int] = set()
    for node in ast.walk(fn):
        if isinstance(node, ast.Call) and _is_telemetry(node):
            end = node.end_lineno or node.lineno
            lines.update(range(node.lineno - first, end - first + 1))
    return lines


def _changed(a: list[str], b: list[str]) -> set[int]:
    """Line offsets of ``a`` that ``b`` replaces or deletes (an insertion: the line before)."""
    changed: set[int] = set()
    for op, i1, i2, _, _ in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if op != "equal":
            changed.update(range(i1, max(i2, i1 + 1)))
    return changed


def split(copy: Path, module: str) -> dict[str, tuple[bool, int | None]]:
    """{mutant: (logging-only, mutmut's exit code or None if not checked)}."""
    path = copy / "mutants" / (module.replace(".", "/") + ".py")
    source = path.read_text()
    results = json.loads(path.with_name(path.name + ".meta").read_text())["exit_code_by_key"]
    lines = source.splitlines()
    functions = {
        node.name: node
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and "__mutmut_" in node.name
    }
    out: dict[str, tuple[bool, int | None]] = {}
    for key, code in results.items():
        name = key.rsplit(".", 1)[-1]
        orig = functions.get(name.rsplit("__mutmut_", 1)[0] + "__mutmut_orig")
        if name not in functions or orig is None:
            continue
        mutant = functions[name]
        body = lines[orig.lineno : orig.end_lineno]
        changed = _changed(body, lines[mutant.lineno : mutant.end_lineno])
        telemetry = _telemetry_lines(orig, orig.lineno + 1)
        out[key] = (bool(changed) and changed <= telemetry, code)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("copy", type=Path, help="the module's copy, .mutation/<module>")
    parser.add_argument("module", help="dotted name, e.g. sync_jobs.commands.execute")
    parser.add_argument("--unchecked", choices=["rest", "logging"], help="print these names")
    args = parser.parse_args()
    table = split(args.copy, args.module)
    if args.unchecked:
        wanted = args.unchecked == "logging"
        print("\n".join(k for k, (log, code) in table.items() if log == wanted and code is None))
        return
    for label, wanted in (("logging-only", True), ("the rest", False)):
        codes = Counter(str(code) for log, code in table.values() if log == wanted)
        print(f"{label}: {dict(codes)}  (None: not checked, 0: survived, 1: killed)")


if __name__ == "__main__":
    main()
