"""One log schema for every process: JSON lines (or plain text for people).

Each line carries ``time`` (UTC, ISO 8601), ``level``, ``process`` (gateway, worker, cli),
``logger``, ``message`` and, from the current request or job, ``correlation_id``,
``trace_id``, ``span_id``, ``command_id`` and ``source`` (``None`` where there is none);
an exception adds ``exception``. Credentials never reach a line: messages and exceptions
are scrubbed of bearer tokens, ``Authorization`` values and key-looking secrets, and uvicorn's
access lines lose their query string (a GET's document and variables).
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import Any, Literal

from clientgraph.telemetry import context

Format = Literal["json", "console"]
SECRETS = re.compile(
    r"(?i)(bearer\s+|authorization[\"']?\s*[:=]\s*[\"']?(?:bearer\s+|basic\s+)?"
    r"|(?:api[_-]?key|token|secret|password|client_secret)[\"']?\s*[:=]\s*[\"']?)"
    r"[^\s\"',;&]+"
)
"""A credential after its usual labels; the label stays, the value becomes ``[redacted]``."""


def scrub(text: str) -> str:
    """``text`` without the values of bearer tokens, Authorization headers and secrets."""
    return SECRETS.sub(lambda match: match.group(1) + "[redacted]", text)


def fields(record: logging.LogRecord, process: str) -> dict[str, Any]:
    """The schema's fields of one record."""
    trace_id, span_id = context.span_ids()
    line: dict[str, Any] = {
        "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
        "level": record.levelname,
        "process": process,
        "logger": record.name,
        "message": scrub(record.getMessage()),
        "trace_id": trace_id,
        "span_id": span_id,
        **context.current(),
    }
    if record.exc_info:
        line["exception"] = scrub(logging.Formatter().formatException(record.exc_info))
    return line


class JsonFormatter(logging.Formatter):
    def __init__(self, process: str) -> None:
        super().__init__()
        self.process = process

    def format(self, record: logging.LogRecord) -> str:
        return json.dumps(fields(record, self.process), default=str, ensure_ascii=False)


class ConsoleFormatter(logging.Formatter):
    """``12:00:01 INFO  gateway sync_jobs.pull: message [corr=… trace=… command=…]``."""

    def __init__(self, process: str) -> None:
        super().__init__()
        self.process = process

    def format(self, record: logging.LogRecord) -> str:
        line = fields(record, self.process)
        tags = [
            f"{short}={line[name]}"
            for short, name in (("corr", "correlation_id"), ("command", "command_id"),
                                ("source", "source"), ("trace", "trace_id"))
            if line[name]
        ]  # fmt: skip
        text = f"{line['time'][11:19]} {line['level']:<7} {line['logger']}: {line['message']}"
        text += f" [{' '.join(tags)}]" if tags else ""
        return text + (f"\n{line['exception']}" if "exception" in line else "")


class AccessWithoutQuery(logging.Filter):
    """uvicorn's access line names the path only: a GET's query string holds the document
    and its variables."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], args[2].split("?", 1)[0], *args[3:])
        return True


def configure_logging(level: str, process: str, log_format: Format) -> None:
    """Every logger of the process (uvicorn's and arq's too) writes the one schema to stderr."""
    handler = logging.StreamHandler(sys.stderr)
    formatter = JsonFormatter(process) if log_format == "json" else ConsoleFormatter(process)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "arq"):
        named = logging.getLogger(name)
        named.handlers.clear()
        named.propagate = True
    logging.getLogger("uvicorn.access").addFilter(AccessWithoutQuery())
    if root.level > logging.DEBUG:  # sync's calls to sources: one line each, only when asked
        logging.getLogger("httpx").setLevel(logging.WARNING)
