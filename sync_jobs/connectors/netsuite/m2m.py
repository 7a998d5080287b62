"""NetSuite's machine-to-machine login: OAuth 2.0 client credentials with a JWT assertion.

NetSuite does not take a client secret in this flow. The token request is
``grant_type=client_credentials``, ``client_assertion_type=`` JWT bearer and
``client_assertion=<JWT>``, the JWT signed with the private key of the certificate uploaded
to the integration's M2M mapping: header ``kid`` = the certificate id, ``alg`` PS256 (RSA
key) or ES256 (EC P-256 key); claims ``iss`` = client id, ``scope``, ``aud`` = the token
endpoint URL, ``iat``, ``exp`` (NetSuite allows at most an hour after ``iat``). NetSuite's
access tokens last an hour; the client reuses one until ``RENEW_BEFORE_SECONDS`` before then.

Signing is PyJWT's (with ``cryptography``). The key is loaded once, on the first login, so a
missing or unreadable key is reported as a login failure naming the settings to fix.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path

import jwt
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from clientgraph.settings import NetSuiteSettings, env_name
from sync_jobs.errors import LoginFailed

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
TOKEN_PATH = "/services/rest/auth/oauth2/v1/token"
ASSERTION_SECONDS = 300  # the assertion's own life: long enough for one request, no longer
RENEW_BEFORE_SECONDS = 300  # renew an access token this long before NetSuite expires it
PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
KEY_SETTINGS = (
    env_name("netsuite", "private_key"),
    env_name("netsuite", "private_key_file"),
)


@dataclass(frozen=True)
class M2MLogin:
    """What the token request needs, from settings; the key is still PEM text (or a path)."""

    client_id: str
    certificate_id: str
    private_key_pem: str
    private_key_file: str | None = None
    scope: str = "restlets,rest_webservices"

    @classmethod
    def from_settings(cls, ns: NetSuiteSettings) -> M2MLogin:
        pem = ns.private_key.get_secret_value()
        return cls(ns.client_id, ns.certificate_id, pem, ns.private_key_file, ns.scope)


@dataclass(frozen=True)
class Signer:
    """A loaded key and the algorithm NetSuite expects for its kind."""

    login: M2MLogin
    key: PrivateKey
    algorithm: str

    def form(self, token_url: str, now: int) -> dict[str, str]:
        """The token request's form fields, with a fresh assertion issued at ``now``."""
        return {
            "grant_type": "client_credentials",
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": self.assertion(token_url, now),
        }

    def assertion(self, token_url: str, now: int) -> str:
        claims = {
            "iss": self.login.client_id,
            "scope": self.login.scope,
            "aud": token_url,
            "iat": now,
            "exp": now + ASSERTION_SECONDS,
            "jti": str(uuid.uuid4()),
        }
        headers = {"kid": self.login.certificate_id, "typ": "JWT"}
        return jwt.encode(claims, self.key, algorithm=self.algorithm, headers=headers)


def signer(login: M2MLogin) -> Signer:
    """Load the private key and pick PS256 / ES256 by its kind.

    Raises:
        LoginFailed: no certificate id, no key, an unreadable key file, text that is not a
            PEM private key, or a key of a kind NetSuite does not accept.
    """
    if not login.certificate_id:
        raise LoginFailed(
            "netsuite needs the certificate id of the integration's M2M mapping",
            [env_name("netsuite", "certificate_id")],
        )
    key = _load(_pem(login))
    if isinstance(key, rsa.RSAPrivateKey):
        return Signer(login, key, "PS256")
    if isinstance(key, ec.EllipticCurvePrivateKey) and isinstance(key.curve, ec.SECP256R1):
        return Signer(login, key, "ES256")
    raise LoginFailed("netsuite accepts RSA or EC P-256 keys (PS256 / ES256)", KEY_SETTINGS)


def _pem(login: M2MLogin) -> bytes:
    if login.private_key_pem:
        return login.private_key_pem.encode()
    if not login.private_key_file:
        raise LoginFailed("netsuite needs the certificate's private key", KEY_SETTINGS)
    try:
        return Path(login.private_key_file).read_bytes()
    except OSError as error:
        problem = f"netsuite private key file cannot be read ({type(error).__name__})"
        raise LoginFailed(problem, [env_name("netsuite", "private_key_file")]) from None


def _load(pem: bytes) -> object:
    try:
        return load_pem_private_key(pem, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):  # never quote it: it may be a secret
        problem = "netsuite private key is not an unencrypted PEM private key"
        raise LoginFailed(problem, KEY_SETTINGS) from None
