"""Tryton JSON-RPC on the wire: session login, tagged values, error envelopes.

Every call is ``POST /<db>/rpc/`` with ``{"id", "method", "params"}``; model calls end with
the user's context (from ``model.res.user.get_preferences``). Typed values travel tagged
(``{"__class__": "Decimal", "decimal": "675.00"}``) and are decoded here, so callers only
ever see ``Decimal``, ``date``, aware UTC ``datetime``, ``timedelta`` and ``bytes``.
"""

from __future__ import annotations

import base64
import itertools
import json
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import httpx

from sync_jobs.connectors.http import body_excerpt, retry_after
from sync_jobs.connectors.login import tryton_login_error, tryton_refused
from sync_jobs.errors import PermanentSourceError, TransientSourceError
from sync_jobs.limits import SAFE_TO_REPEAT

TRANSIENT_STATUS = {408, 429, 500, 502, 503, 504}
Domain = list[Any]
Order = list[list[str]]


# JSON-RPC methods that only read: safe to send again after a 503 (every call is a POST)
READS = frozenset({"search_read", "read", "search", "search_count", "get_preferences", "login"})
LOGIN = "common.db.login"


class TrytonClient:
    """A session with one Tryton database (logs in lazily; logs in again once on 401).

    Args:
        base_url: the server, e.g. ``http://127.0.0.1:8000``.
        database: the database name (the first segment of the RPC path).
        login / password: a Tryton user's credentials, from settings.
        http: a shared ``httpx.AsyncClient``.
    """

    def __init__(
        self, base_url: str, database: str, login: str, password: str, http: httpx.AsyncClient
    ) -> None:
        self._url = f"{base_url.rstrip('/')}/{database}/rpc/"
        self._database = database
        self._login, self._password = login, password
        self._http = http
        self._session: str | None = None
        self._ids = itertools.count(1)
        self.context: dict[str, Any] = {}

    async def search_read(
        self,
        model: str,
        domain: Domain,
        fields: Sequence[str],
        *,
        offset: int = 0,
        limit: int | None = None,
        order: Order | None = None,
        context: dict[str, Any] | None = None,
    ) -> list[dict[str, Any]]:
        """Records matching ``domain`` (dotted fields come back nested: ``"party.": {...}``)."""
        args = [domain, offset, limit, order, list(fields)]
        return list(await self.execute(model, "search_read", *args, context=context))

    async def read(self, model: str, ids: Sequence[int], fields: Sequence[str]) -> list[Any]:
        """Records by id; an id that does not exist is a ``UserError``."""
        return list(await self.execute(model, "read", list(ids), list(fields)))

    async def search(
        self,
        model: str,
        domain: Domain,
        *,
        order: Order | None = None,
        context: dict[str, Any] | None = None,
    ) -> list[int]:
        return list(await self.execute(model, "search", domain, 0, None, order, context=context))

    async def create(self, model: str, values: Sequence[dict[str, Any]]) -> list[int]:
        return list(await self.execute(model, "create", list(values)))

    async def write(
        self,
        model: str,
        ids: Sequence[int],
        values: dict[str, Any],
        *,
        context: dict[str, Any] | None = None,
    ) -> None:
        """Write ``values``; with ``{"_timestamp": {"<model>,<id>": stamp}}`` in ``context``
        Tryton refuses (``ConcurrencyConflict``) if the record changed since that read."""
        await self.execute(model, "write", list(ids), values, context=context)

    async def delete(self, model: str, ids: Sequence[int]) -> None:
        await self.execute(model, "delete", list(ids))

    async def button(self, model: str, name: str, ids: Sequence[int]) -> Any:
        """Click a workflow button (``post``, ``opportunity``, ``lost`` …) on records."""
        return await self.execute(model, name, list(ids))

    async def execute(
        self, model: str, method: str, *args: Any, context: dict[str, Any] | None = None
    ) -> Any:
        """``model.<model>.<method>`` with the session's context (plus ``context``) last."""
        if self._session is None:
            await self.login()
        return await self._call(
            f"model.{model}.{method}", [*args, {**self.context, **(context or {})}]
        )

    async def login(self) -> None:
        """Open a session and load the user's preferences as the context of later calls."""
        params = [self._login, {"password": self._password}, "en"]
        try:
            result = await self._post(LOGIN, params, None)
        except _LoginRefused as refused:
            raise self._refused(refused) from None
        if not result:  # Tryton before 5.0 answered a wrong password with false
            raise self._refused(_LoginRefused(401))
        user_id, token = result[0], result[1]
        raw = f"{self._login}:{user_id}:{token}".encode()
        self._session = f"Session {base64.b64encode(raw).decode()}"
        preferences = await self._post("model.res.user.get_preferences", [True, {}], self._session)
        self.context = {k: v for k, v in preferences.items() if not isinstance(v, dict)}

    def _refused(self, refused: _LoginRefused) -> PermanentSourceError:
        if refused.code is not None:
            return tryton_login_error(refused.code, self._login, self._database)
        return tryton_refused(refused.status, self._login, self._database, bool(self._password))

    async def _call(self, method: str, params: list[Any]) -> Any:
        try:
            return await self._post(method, params, self._session)
        except _SessionExpired:
            await self.login()
        try:
            return await self._post(method, params, self._session)
        except _SessionExpired:  # a session refused right after it was opened
            detail = f"{method}: the new session was refused"
            raise PermanentSourceError("HTTP_401", detail) from None

    async def _post(self, method: str, params: list[Any], session: str | None) -> Any:
        body = {"id": next(self._ids), "method": method, "params": encode(params)}
        headers = {"Authorization": session} if session else {}
        try:
            response = await self._http.post(
                self._url,
                json=body,
                headers=headers,
                extensions={SAFE_TO_REPEAT: method.rsplit(".", 1)[-1] in READS},
            )
        except httpx.TransportError as error:
            raise TransientSourceError(f"tryton unreachable: {type(error).__name__}") from None
        return _result(response, method)


class ConcurrencyConflict(TransientSourceError):
    """Tryton's ``ConcurrencyException``: the record changed after its ``_timestamp`` was
    read. Transient: re-reading and writing again is the remedy, not giving up."""


class _SessionExpired(Exception):
    """401: the session is gone (server restart, timeout); log in again once."""


class _LoginRefused(Exception):
    """The login got an HTTP status (401, 404 …) or an error envelope (``code``), no session."""

    def __init__(self, status: int, code: str | None = None) -> None:
        super().__init__(status, code)
        self.status, self.code = status, code


def _result(response: httpx.Response, method: str) -> Any:
    """The decoded ``result``, or the right error for the status and the error envelope."""
    if response.status_code == 401 and method != LOGIN:
        raise _SessionExpired
    if response.status_code in TRANSIENT_STATUS:
        wait = retry_after(response)
        raise TransientSourceError(
            f"tryton {method}: HTTP {response.status_code}", retry_after=wait
        )
    if response.status_code != 200 and method == LOGIN:
        raise _LoginRefused(response.status_code)
    if response.status_code != 200:
        detail = body_excerpt(response)
        raise PermanentSourceError(f"HTTP_{response.status_code}", f"{method}: {detail}")
    payload = json.loads(response.text, object_hook=decode_tagged, parse_float=Decimal)
    if payload.get("error"):
        code, message = _error(payload["error"])
        if method == LOGIN:
            raise _LoginRefused(response.status_code, code)
        if code == "ConcurrencyException":
            raise ConcurrencyConflict(f"tryton {method}: {message}")
        raise PermanentSourceError(code, message)
    return payload.get("result")


def _error(error: Any) -> tuple[str, str]:
    """``["UserError", [message, description, …]]`` → (``"UserError"``, message)."""
    if isinstance(error, list) and error:
        code, args = str(error[0]), error[1] if len(error) > 1 else ""
        if isinstance(args, list | tuple):
            args = " — ".join(str(a) for a in args[:2] if a)
        return code, str(args)
    return "Error", str(error)


def decode_tagged(obj: dict[str, Any]) -> Any:
    """One tagged JSON object → its Python value; untagged objects pass through.

    Tryton's stamps have no zone; the server runs in UTC, so they are read as UTC.
    """
    kind = obj.get("__class__")
    if kind == "Decimal":
        return Decimal(obj["decimal"])
    if kind == "datetime":
        return datetime(
            obj["year"], obj["month"], obj["day"], obj["hour"], obj["minute"], obj["second"],
            obj.get("microsecond", 0), tzinfo=UTC,
        )  # fmt: skip
    if kind == "date":
        return date(obj["year"], obj["month"], obj["day"])
    if kind == "time":
        return time(obj["hour"], obj["minute"], obj["second"], obj.get("microsecond", 0))
    if kind == "timedelta":
        return timedelta(seconds=float(obj["seconds"]))
    if kind == "bytes":
        return base64.b64decode(obj["base64"])
    return obj


def encode(value: Any) -> Any:
    """Python values → Tryton's tagged JSON (aware datetimes are sent as naive UTC)."""
    if isinstance(value, dict):
        return {k: encode(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [encode(v) for v in value]
    if isinstance(value, Decimal):
        return {"__class__": "Decimal", "decimal": str(value)}
    if isinstance(value, datetime):
        utc = value.astimezone(UTC) if value.tzinfo else value
        names = ("year", "month", "day", "hour", "minute", "second", "microsecond")
        return {"__class__": "datetime", **{n: getattr(utc, n) for n in names}}
    if isinstance(value, date):
        return {"__class__": "date", "year": value.year, "month": value.month, "day": value.day}
    if isinstance(value, timedelta):
        return {"__class__": "timedelta", "seconds": value.total_seconds()}
    if isinstance(value, bytes):
        return {"__class__": "bytes", "base64": base64.b64encode(value).decode()}
    return value
