"""The issue's targets, measured vs goal, for docs/benchmarks.md (see bench/report.py).

The reasons behind each verdict are written by people in bench/analysis.md, one
``<!-- reason KEY: text -->`` line per target, and picked up here.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bench.workloads import WARM

BENCH = Path(__file__).parent
RESULTS = BENCH / "results"
ANALYSIS = BENCH / "analysis.md"
NAMES = ("unified_client_view", "portfolio_list", "overdue_invoices")
CG, PEER = "clientgraph", "postgraphile"
NOT_MEASURED = "not yet measured"
Found = tuple[dict[str, Any], str] | None


def row(result: dict[str, Any], name: str, connections: int, target: str) -> dict[str, Any]:
    for row in result["summary"]:
        if (row["workload"], row["concurrency"], row["target"]) == (name, connections, target):
            return dict(row)
    return {}


def ratio(result: dict[str, Any], name: str, connections: int) -> float | None:
    cg, peer = row(result, name, connections, CG), row(result, name, connections, PEER)
    if not cg or not peer or not peer["rps"]:
        return None
    return float(cg["rps"]) / float(peer["rps"])


def _verdict(ok: bool | None) -> str:
    return "—" if ok is None else ("**MET**" if ok else "**MISSED**")


def render(results: dict[str, tuple[dict[str, Any], str] | None]) -> str:
    reasons = _reasons()
    large, small = results.get("L"), results.get("S")
    rows = _issue14(large, results, reasons) if large else []
    earlier: list[tuple[str, str, str, bool | None, str]] = []
    if large:
        r, name = large
        seed = _seed_seconds("L")
        earlier.append((
            "seeding L (10,000 accounts)", "< 10 min",
            f"{seed[0]:.0f} s ({seed[1]})" if seed else NOT_MEASURED,
            None if not seed else seed[0] < 600, reasons.get("seed", ""),
        ))  # fmt: skip
        mem = r["peak_memory_mb"][CG]
        earlier.append((
            "gateway peak memory, L", "< 300 MB", f"{mem} MB (VmHWM, {name})",
            mem < 300, reasons.get("memory", ""),
        ))  # fmt: skip
    if large and small:
        same = all(_statements(small[0], n) == _statements(large[0], n) for n in NAMES)
        counts = ", ".join(
            f"{n} {_statements(small[0], n)}/{_statements(large[0], n)}" for n in NAMES
        )
        earlier.append((
            "SQL statements per request the same at S and L", "equal",
            f"S/L: {counts}", same, reasons.get("statements", ""),
        ))  # fmt: skip
    earlier.append(_ingest(results, reasons))
    lines = []
    for title, table in (("Targets (issue 14)", rows), ("Earlier targets (issue 6)", earlier)):
        lines += [
            f"## {title}",
            "",
            "| target | goal | measured | verdict | why, and what it would take |",
            "|---|---|---|---|---|",
        ]
        lines += [f"| {a} | {b} | {c} | {_verdict(d)} | {e} |" for a, b, c, d, e in table]
        lines.append("")
    return "\n".join(lines)


def _statements(result: dict[str, Any], name: str) -> int:
    return int(result["workloads"][name][CG]["statements_per_request"])


def _times(
    r: dict[str, Any], name: str, target: str, goal: float, key: str, reasons: dict[str, str]
) -> tuple[str, str, str, bool | None, str]:
    """A throughput target: ``target``'s req/s over PostGraphile's at L, c=16."""
    cg, peer = row(r, name, 16, target), row(r, name, 16, PEER)
    label = {CG: "cold", WARM: "warm cache"}[target]
    title = f"{name.replace('_', ' ')}, L, c=16, {label}"
    if not cg or not peer or not peer.get("rps"):
        return (title, f"≥ {goal:g}× PostGraphile", NOT_MEASURED, None, reasons.get(key, ""))
    times = float(cg["rps"]) / float(peer["rps"])
    measured = (
        f"{times:.2f}× ({cg['rps']} vs {peer['rps']} req/s; p99 {cg['p99_ms']:.1f} vs "
        f"{peer['p99_ms']:.1f} ms)"
    )
    ok = times >= goal and not cg.get("errors")
    goal_text = f"≥ {goal:g}× PostGraphile"
    if key == "unified":
        ok = ok and float(cg["p99_ms"]) <= float(peer["p99_ms"])
        goal_text += ", p99 ≤ PostGraphile's"
    return (title, goal_text, measured, ok, reasons.get(key, ""))


def _issue14(
    large: tuple[dict[str, Any], str],
    results: dict[str, tuple[dict[str, Any], str] | None],
    reasons: dict[str, str],
) -> list[tuple[str, str, str, bool | None, str]]:
    r, name = large
    rows = [
        _times(r, "unified_client_view", CG, 1.5, "unified", reasons),
        _times(r, "portfolio_list", CG, 1.5, "portfolio", reasons),
        _times(r, "overdue_invoices", CG, 2.0, "overdue", reasons),
        _times(r, "unified_client_view", WARM, 3.0, "warm", reasons),
    ]
    view = r["workloads"]["unified_client_view"]
    cold, hit = view[CG]["statements_per_request"], view.get(WARM, {}).get("statements_per_request")
    rows.append((
        "SQL statements per request (unified view)", "1 (plus none for a cache hit)",
        f"{cold} cold; {'?' if hit is None else hit} on a cache hit ({name})",
        cold == 1 and hit == 0, reasons.get("statements14", ""),
    ))  # fmt: skip
    rows.append(_mutations(results, reasons))
    one = row(r, "unified_client_view", 1, CG)
    cpu = one.get("server_cpu_ms_per_request")
    rows.append((
        "CPU per unified view at c=1", "< 2 ms",
        NOT_MEASURED if cpu is None else f"{cpu:.2f} ms of the gateway's CPU per request",
        None if cpu is None else cpu < 2, reasons.get("cpu", ""),
    ))  # fmt: skip
    return rows


def _hook(
    results: dict[str, tuple[dict[str, Any], str] | None], key: str
) -> tuple[dict[str, Any], str] | None:
    """The newest measurement of a hook workload: from the L run if it has one, else S; a
    standalone L run of it (``python -m bench.mutations --scale L``, as the product runs:
    not a ``--read-first`` comparison) when newer than both."""
    chosen = None
    for scale in ("L", "S"):
        found = results.get(scale)
        if found and found[0].get(key) and "error" not in found[0][key]:
            chosen = found[0][key], found[1]
            break
    if key == "mutations":
        alone = [
            (json.loads(path.read_text()), path.name)
            for path in sorted(RESULTS.glob("mutations-L-*.json"))
        ]
        alone = [(m, name) for m, name in alone if m.get("checks_in_statement", True)]
        if alone:
            newest = alone[-1]
            if chosen is None or newest[0]["measured_at"] > chosen[0]["measured_at"]:
                chosen = newest
    return chosen


def _ingest(results: dict[str, Any], reasons: dict[str, str]) -> tuple[Any, ...]:
    name = "sync ingest (workload 4)"
    found = _hook(results, "sync_ingest")
    if not found:
        return (name, "≥ 5,000 records/s", NOT_MEASURED, None, reasons.get("ingest", ""))
    m, file = found
    measured = (
        f"{m['records_per_s']:,.0f} records/s ({sum(m['rows'].values()):,} Salesforce records "
        f"in {m['seconds']} s, {file})"
    )
    return (name, "≥ 5,000 records/s", measured, m["records_per_s"] >= 5000,
            reasons.get("ingest", ""))  # fmt: skip


def _mutations(results: dict[str, Any], reasons: dict[str, str]) -> tuple[Any, ...]:
    name = "mutation acceptance at 100/s (workload 5)"
    found = _hook(results, "mutations")
    if not found:
        return (name, "p99 < 10 ms", NOT_MEASURED, None, reasons.get("mutations", ""))
    m, file = found
    accepted = m["outcomes"].get("Command", 0)
    statements = m.get("statements_per_acceptance")
    each = "" if statements is None else f", {statements:g} statement per acceptance"
    measured = (
        f"p99 {m['p99_ms']} ms, p50 {m['p50_ms']} ms ({accepted}/{m['requests']} accepted"
        f"{each}, open loop, {file})"
    )
    ok = m["p99_ms"] < 10 and accepted == m["requests"]
    return (name, "p99 < 10 ms", measured, ok, reasons.get("mutations", ""))


def _reasons() -> dict[str, str]:
    """One line per target from bench/analysis.md's `<!-- reason KEY: text -->` comments."""
    out = {}
    if ANALYSIS.exists():
        for line in ANALYSIS.read_text().splitlines():
            if line.startswith("<!-- reason ") and line.endswith("-->"):
                key, _, text = line.removeprefix("<!-- reason ").removesuffix("-->").partition(":")
                out[key.strip()] = text.strip()
    return out


def _seed_seconds(scale: str) -> tuple[float, str] | None:
    for path in sorted(RESULTS.glob(f"{scale}-*.json"), reverse=True):
        result = json.loads(path.read_text())
        if result.get("seed_seconds"):
            load = (result.get("seeding") or {}).get("load_average_at_start")
            note = path.name + (f"; 1-minute load at start {load[0]:.2f}" if load else "")
            return float(result["seed_seconds"]), note
    return None
