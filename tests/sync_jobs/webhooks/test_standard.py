"""Standard Webhooks: what passes, what is refused, and that off-the-shelf signing agrees."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from datetime import UTC, datetime

import pytest
from standardwebhooks import Webhook

from sync_jobs.webhooks.signature import BadSignature, StaleTimestamp
from sync_jobs.webhooks.standard import ID, SIGNATURE, TIMESTAMP, sign, verify

KEY = b"0123456789abcdef0123456789abcdef"
SECRET = "whsec_" + base64.b64encode(KEY).decode()
BODY = b'{"recordType": "job", "id": "42", "eventType": "edit"}'


def check(headers: dict[str, str], body: bytes = BODY, secret: str = SECRET, **kw: int) -> str:
    return verify(
        secret, headers, body, now=datetime.now(UTC), tolerance_seconds=kw.get("tolerance", 300)
    )


def test_a_signed_delivery_passes_and_its_webhook_id_comes_back() -> None:
    assert check(sign(SECRET, "msg_1", BODY, int(time.time()))) == "msg_1"


def test_the_signature_is_hmac_sha256_of_id_dot_timestamp_dot_body_with_the_decoded_key() -> None:
    now = int(time.time())
    digest = hmac.new(KEY, f"msg_1.{now}.".encode() + BODY, hashlib.sha256).digest()
    assert sign(SECRET, "msg_1", BODY, now)[SIGNATURE] == "v1," + base64.b64encode(digest).decode()


def test_the_reference_library_s_signature_is_accepted() -> None:
    now = datetime.now(UTC)
    signature = Webhook(SECRET).sign("msg_lib", now, BODY)
    headers = {ID: "msg_lib", TIMESTAMP: str(int(now.timestamp())), SIGNATURE: signature}
    assert check(headers) == "msg_lib"


def test_rotation_any_of_several_signatures_may_match() -> None:
    headers = sign(SECRET, "msg_2", BODY, int(time.time()))
    other = sign("whsec_" + base64.b64encode(b"old-key").decode(), "msg_2", BODY, int(time.time()))
    headers[SIGNATURE] = f"{other[SIGNATURE]} {headers[SIGNATURE]}"
    assert check(headers) == "msg_2"


@pytest.mark.parametrize(
    "spoil",
    [
        lambda h: h.update({SIGNATURE: "v1,AAAA"}),
        lambda h: h.update({ID: "msg_other"}),  # the id is signed: no re-labelling
        lambda h: h.update({TIMESTAMP: str(int(h[TIMESTAMP]) - 1)}),  # nor re-stamping
        lambda h: h.pop(SIGNATURE),
        lambda h: h.pop(ID),
        lambda h: h.update({TIMESTAMP: "soon"}),
        lambda h: h.update({SIGNATURE: "v1," + "A" * 2000}),
    ],
)
def test_a_spoiled_header_is_a_bad_signature(spoil: object) -> None:
    headers = sign(SECRET, "msg_3", BODY, int(time.time()))
    spoil(headers)  # type: ignore[operator]
    with pytest.raises(BadSignature):
        check(headers)


def test_a_tampered_body_or_a_wrong_secret_is_refused() -> None:
    headers = sign(SECRET, "msg_4", BODY, int(time.time()))
    with pytest.raises(BadSignature):
        check(headers, body=BODY.replace(b"42", b"43"))
    with pytest.raises(BadSignature):
        check(headers, secret="whsec_" + base64.b64encode(b"someone else").decode())
    with pytest.raises(BadSignature, match="not enabled"):
        check(headers, secret="")


@pytest.mark.parametrize("offset", [-301, 301, -86400])
def test_a_signed_stale_or_future_delivery_is_stale(offset: int) -> None:
    with pytest.raises(StaleTimestamp):
        check(sign(SECRET, "msg_5", BODY, int(time.time()) + offset))


def test_an_unsigned_stale_delivery_is_a_bad_signature_not_stale() -> None:
    headers = sign("whsec_" + base64.b64encode(b"guess").decode(), "m", BODY, 1_000_000)
    with pytest.raises(BadSignature):
        check(headers)


def test_a_configured_tolerance_narrows_the_window() -> None:
    headers = sign(SECRET, "msg_6", BODY, int(time.time()) - 120)
    assert check(headers) == "msg_6"
    with pytest.raises(StaleTimestamp):
        check(headers, tolerance=60)


def test_a_plain_secret_is_used_as_raw_key_bytes() -> None:
    now = int(time.time())
    headers = sign("plain-secret", "msg_7", BODY, now)
    digest = hmac.new(b"plain-secret", f"msg_7.{now}.".encode() + BODY, hashlib.sha256).digest()
    assert headers[SIGNATURE] == "v1," + base64.b64encode(digest).decode()
    assert check(headers, secret="plain-secret") == "msg_7"
