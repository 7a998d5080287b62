"""Error text as stored in ``lastError`` and printed by the CLI: one line, never a page."""

from __future__ import annotations

import httpx

from sync_jobs.connectors.http import body_excerpt
from sync_jobs.errors import PermanentSourceError, error_text

PAGE = "<!doctype html>\n<html lang=en>\n<title>401 Unauthorized</title>\n<h1>Unauthorized</h1>"


def test_error_text_drops_markup_and_folds_whitespace() -> None:
    text = error_text(PermanentSourceError("HTTP_401", PAGE))

    assert text == "PermanentSourceError: HTTP_401: 401 Unauthorized Unauthorized"


def test_error_text_is_a_sentence_not_a_page() -> None:
    assert len(error_text(RuntimeError("x" * 5000))) <= 300


def test_an_html_error_page_is_summarised_by_its_status() -> None:
    response = httpx.Response(502, text=PAGE, headers={"content-type": "text/html"})

    assert body_excerpt(response) == "HTTP 502 Bad Gateway"


def test_a_text_error_body_is_quoted_on_one_line() -> None:
    response = httpx.Response(400, text="bad\n  request", headers={"content-type": "text/plain"})

    assert body_excerpt(response) == "bad request"
