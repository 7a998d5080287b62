"""``make mutation``: mutmut over the modules that carry the guarantees, counts per module.

The modules and the tests that may kill their mutants are configured in ``pyproject.toml``
(``[tool.mutmut]``); mutmut runs, for each mutant, only the tests of that selection that
reached the mutated function. A run of every module takes long on a small machine, so
modules can be named (``make mutation MODULES="sync_jobs.apply sync_jobs.reconcile"``);
results accumulate in ``mutants/`` and the table counts what has been checked so far.

A module listed in ``[tool.clientgraph.mutation.own_selection]`` is run in a copy of the
project of its own (``.mutation/<module>/``) whose ``[tool.mutmut]`` names that module and
its own tests: functions that run on every request (the consistency wait, freshness) or are
called by every command would otherwise run every test of the shared selection per mutant.
mutmut reads its configuration only from the working directory, hence the copy.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from collections import Counter, defaultdict
from pathlib import Path

MUTMUT = Path(sys.executable).with_name("mutmut")
# mutmut's names: <module>.x_<function>__mutmut_<n> or <module>.xǁ<Class>ǁ<method>__mutmut_<n>
NAME = re.compile(r"^\s*(?P<module>[\w.]+?)\.x[_ǁ]\S*__mutmut_\d+: (?P<status>.+)$")
STATUSES = ("killed", "survived", "timeout", "no tests", "suspicious", "not checked")


def guarded_modules(pyproject: Path = Path("pyproject.toml")) -> list[str]:
    """The dotted names of the files ``[tool.mutmut] only_mutate`` lists."""
    config = tomllib.loads(pyproject.read_text())["tool"]["mutmut"]
    return [p.removesuffix(".py").replace("/", ".") for p in config["only_mutate"]]


def own_selections(pyproject: Path = Path("pyproject.toml")) -> dict[str, list[str]]:
    """``[tool.clientgraph.mutation.own_selection]``: {module: the tests its mutants run}."""
    tool = tomllib.loads(pyproject.read_text())["tool"]
    return dict(tool.get("clientgraph", {}).get("mutation", {}).get("own_selection", {}))


def _without_mutmut_section(text: str) -> str:
    """``pyproject.toml`` without its ``[tool.mutmut]`` table (up to the next table)."""
    return re.sub(r"(?ms)^\[tool\.mutmut\]\n.*?(?=^\[)", "", text)


def prepare_copy(module: str, tests: list[str], root: Path = Path(".")) -> Path:
    """``.mutation/<module>/``: the sources and tests, configured to mutate ``module`` only
    and to run ``tests`` (JSON arrays of strings are TOML arrays)."""
    config = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["mutmut"]
    work = root / ".mutation" / module
    ignore = shutil.ignore_patterns("__pycache__", "node_modules", "*.db", "*.db-*")
    for name in [*config["source_paths"], *config.get("also_copy", []), "tests"]:
        source = root / name
        if source.is_dir():
            target = work / name
            if target.exists():
                shutil.rmtree(target)  # a deleted file must not linger in the copy
            shutil.copytree(source, target, ignore=ignore)
    own = dict(config, only_mutate=[module.replace(".", "/") + ".py"])
    own["pytest_add_cli_args_test_selection"] = tests
    section = "[tool.mutmut]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in own.items())
    text = _without_mutmut_section((root / "pyproject.toml").read_text())
    (work / "pyproject.toml").write_text(text.rstrip("\n") + "\n\n" + section)
    return work


def counts(output: str) -> dict[str, Counter[str]]:
    """``mutmut results --all true`` → {module: Counter(status)}."""
    table: dict[str, Counter[str]] = defaultdict(Counter)
    for line in output.splitlines():
        if match := NAME.match(line):
            table[match["module"]][match["status"].strip()] += 1
    return dict(table)


def render(table: dict[str, Counter[str]]) -> str:
    rows = ["| module | " + " | ".join(STATUSES) + " |", "|---" * (len(STATUSES) + 1) + "|"]
    for module in sorted(table):
        cells = " | ".join(str(table[module][s]) for s in STATUSES)
        rows.append(f"| `{module}` | {cells} |")
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("modules", nargs="*", help="dotted module names (default: all)")
    parser.add_argument("--children", type=int, default=min(2, os.cpu_count() or 1))
    args = parser.parse_args()
    modules = args.modules or guarded_modules()
    own = own_selections()
    run = [str(MUTMUT), "run", "--max-children", str(args.children)]
    results = [str(MUTMUT), "results", "--all", "true"]
    shared = [m for m in modules if m not in own]
    table: dict[str, Counter[str]] = {}
    if shared:
        subprocess.run([*run, *(f"{m}.*" for m in shared)], check=False)
        listed = subprocess.run(results, check=True, capture_output=True, text=True).stdout
        table |= {m: c for m, c in counts(listed).items() if m in shared}
    for module in (m for m in modules if m in own):
        work = prepare_copy(module, own[module])
        subprocess.run([*run, f"{module}.*"], check=False, cwd=work)
        done = subprocess.run(results, check=True, capture_output=True, text=True, cwd=work)
        table |= {m: c for m, c in counts(done.stdout).items() if m == module}
    print(render(table))
    print("\nsurvivors: .venv/bin/mutmut results; one of them: .venv/bin/mutmut show <name>")
    print("(for a module with its own selection: the same in .mutation/<module>/)")


if __name__ == "__main__":
    main()
