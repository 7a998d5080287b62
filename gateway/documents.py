"""Which document a request runs: its ``query``, a trusted document, or a persisted query.

- **Trusted documents** (``clientgraph documents register``): a request may send
  ``documentId: "sha256:<hex>"`` instead of ``query``. Callers whose role is in
  ``graphql.trusted_documents_only_roles`` (partners by default) may run registered documents
  only: a ``query`` whose text is not registered is refused (``DOCUMENT_NOT_TRUSTED``).
- **Automatic persisted queries** (Apollo's protocol, for internal clients):
  ``extensions.persistedQuery = {version: 1, sha256Hash}``. Without ``query``, a known hash
  runs its document, an unknown one answers ``PERSISTED_QUERY_NOT_FOUND`` (the client then
  sends both); with ``query``, the hash must match and the pair is remembered. Remembered
  queries live in this process (LRU, ``APQ_CACHE_SIZE``) and never make a document trusted.

Registered documents are read once per process and kept (a digest names one text forever).
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from clientgraph.metrics import cache_lookup
from readmodel import trusted_documents
from readmodel.trusted_documents import sha256_of

DOCUMENT_ID = re.compile(r"^sha256:([0-9a-f]{64})$")
HASH = re.compile(r"^[0-9a-f]{64}$")
APQ_CACHE_SIZE = 2000
TRUSTED_CACHE_SIZE = 5000


class DocumentRefused(Exception):
    """The request names no document it may run: ``status``, ``code`` and a message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclass
class Documents:
    """One per process: the trusted registry's reader and the persisted-query cache."""

    engine: AsyncEngine
    trusted_only_roles: frozenset[str]
    _apq: OrderedDict[str, str] = field(default_factory=OrderedDict)
    _trusted: OrderedDict[str, str] = field(default_factory=OrderedDict)

    async def query_of(
        self,
        query: str | None,
        document_id: Any,
        extensions: Mapping[str, Any] | None,
        role: str,
    ) -> str | None:
        """The text to run, or ``DocumentRefused``; ``None`` leaves "no query" to GraphQL."""
        text: str | None
        if document_id is not None:
            text = await self._registered(document_id, query)
        else:
            text = self._persisted(query, (extensions or {}).get("persistedQuery"))
        restricted = text is not None and role in self.trusted_only_roles
        if restricted and await self._trusted_body(sha256_of(text or "")) is None:
            raise DocumentRefused(
                403,
                "DOCUMENT_NOT_TRUSTED",
                "this credential runs registered documents only: send their documentId",
            )
        return text

    async def _registered(self, document_id: Any, query: str | None) -> str:
        match = DOCUMENT_ID.match(document_id) if isinstance(document_id, str) else None
        if match is None:
            raise DocumentRefused(400, "BAD_REQUEST", 'documentId must be "sha256:<64 hex>"')
        body = await self._trusted_body(match.group(1))
        if body is None:
            raise DocumentRefused(400, "DOCUMENT_NOT_FOUND", "no document is registered as this id")
        if query is not None and query != body:
            raise DocumentRefused(400, "BAD_REQUEST", "query and documentId name two documents")
        return body

    def _persisted(self, query: str | None, persisted: Any) -> str | None:
        if persisted is None:
            return query
        if not isinstance(persisted, Mapping) or persisted.get("version") != 1:
            raise DocumentRefused(400, "PERSISTED_QUERY_NOT_SUPPORTED", "persistedQuery version 1")
        digest = persisted.get("sha256Hash")
        if not isinstance(digest, str) or not HASH.match(digest):
            raise DocumentRefused(400, "BAD_REQUEST", "sha256Hash must be 64 lowercase hex")
        if query is None:
            known = self._apq.get(digest)
            cache_lookup("persisted_query", known is not None)
            if known is None:
                raise DocumentRefused(200, "PERSISTED_QUERY_NOT_FOUND", "PersistedQueryNotFound")
            self._apq.move_to_end(digest)
            return known
        if sha256_of(query) != digest:
            raise DocumentRefused(400, "BAD_REQUEST", "provided sha does not match query")
        _remember(self._apq, digest, query, APQ_CACHE_SIZE)
        return query

    async def _trusted_body(self, digest: str) -> str | None:
        body = self._trusted.get(digest)
        cache_lookup("trusted_document", body is not None)
        if body is None:
            body = await trusted_documents.body_of(self.engine, digest)
            if body is not None:
                _remember(self._trusted, digest, body, TRUSTED_CACHE_SIZE)
        return body


def _remember(cache: OrderedDict[str, str], key: str, value: str, size: int) -> None:
    cache[key] = value
    cache.move_to_end(key)
    while len(cache) > size:
        cache.popitem(last=False)
