"""The simulator's token endpoint checks M2M client assertions the way NetSuite does.

A firm uploads a certificate to the integration's OAuth 2.0 Client Credentials (M2M) Setup
and NetSuite gives it a Certificate ID; a token request must carry a JWT signed with that
certificate's private key, ``kid`` = the Certificate ID, ``alg`` PS256/ES256 (or the 384/512
variants), ``iss`` = the integration's client id, ``aud`` = the token endpoint URL, a
``scope`` and ``iat``/``exp`` no more than an hour apart. NetSuite's answer to a bad one is
only ``{"error": "..."}`` (400 ``invalid_request`` / ``unsupported_grant_type`` /
``invalid_grant``, 401 ``invalid_client`` for an unknown client); the reason goes to its
Login Audit Trail, which ``Assertions.audit`` imitates so tests can tell the causes apart.

``new_certificate`` makes a key pair and a self-signed certificate at run time, for tests and
the demo: no private key is ever committed.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes
from cryptography.x509.oid import NameOID

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ALGORITHMS = ["PS256", "PS384", "PS512", "ES256", "ES384", "ES512"]
MAX_LIFETIME_SECONDS = 3600
LEEWAY_SECONDS = 60  # clock skew allowed on iat / exp
SCOPES = frozenset({"restlets", "rest_webservices", "suite_analytics"})


@dataclass(frozen=True)
class Refusal:
    """What NetSuite answers, and what its Login Audit Trail would say."""

    status: int
    error: str
    audit: str


@dataclass(frozen=True)
class Certificate:
    """A certificate as a firm makes it (``openssl req -x509 …``): its id once uploaded, the
    certificate PEM NetSuite keeps, and the private key PEM the firm keeps."""

    certificate_id: str
    certificate_pem: str
    private_key_pem: str


def new_certificate(algorithm: str = "ES256", certificate_id: str | None = None) -> Certificate:
    """A fresh key pair (EC P-256 for ES256, RSA 2048 for PS256) and self-signed certificate."""
    key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
    if algorithm == "ES256":
        key = ec.generate_private_key(ec.SECP256R1())
    else:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "clientgraph-netsuite-m2m")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=1))
        .not_valid_after(now + dt.timedelta(days=730))
        .sign(key, hashes.SHA256())
    )
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return Certificate(
        certificate_id or f"cert-{uuid.uuid4().hex[:20]}",
        cert.public_bytes(serialization.Encoding.PEM).decode(),
        private.decode(),
    )


def certificate_for(private_key_pem: str) -> str:
    """The public key PEM of a private key (what the simulator needs to hold for it)."""
    key = serialization.load_pem_private_key(private_key_pem.encode(), password=None)
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return public.decode()


def public_key(pem: str) -> PublicKeyTypes:
    """The public key of an uploaded certificate (or of a bare public key PEM)."""
    data = pem.encode()
    if b"BEGIN CERTIFICATE" in data:
        return x509.load_pem_x509_certificate(data).public_key()
    return serialization.load_pem_public_key(data)


@dataclass
class Assertions:
    """Verifies client assertions against uploaded certificates (``kid`` → PEM)."""

    certificates: Mapping[str, str]
    client_ids: frozenset[str] = frozenset({"clientgraph"})
    audiences: frozenset[str] = frozenset()  # accepted besides the request's own URL
    audit: list[str] = field(default_factory=list)
    _spent: set[str] = field(default_factory=set)

    def check(self, form: Mapping[str, list[str]], token_url: str) -> Refusal | None:
        """``None`` when a token may be issued, else NetSuite's refusal (audited)."""
        refusal = self._check(form, token_url)
        self.audit.append(refusal.audit if refusal else "Success")
        return refusal

    def _check(self, form: Mapping[str, list[str]], token_url: str) -> Refusal | None:
        if form.get("grant_type") != ["client_credentials"]:
            return Refusal(400, "unsupported_grant_type", "UnsupportedGrantType")
        assertion = form.get("client_assertion", [""])[0]
        if form.get("client_assertion_type") != [ASSERTION_TYPE] or not assertion:
            return Refusal(400, "invalid_request", "InvalidRequest")
        try:
            header = jwt.get_unverified_header(assertion)
        except jwt.InvalidTokenError:
            return Refusal(400, "invalid_request", "InvalidRequest")
        pem = self.certificates.get(str(header.get("kid", "")))
        if pem is None:
            return Refusal(400, "invalid_grant", "InvalidCertificateId")
        return self._claims(assertion, pem, token_url)

    def _claims(self, assertion: str, pem: str, token_url: str) -> Refusal | None:
        try:
            claims = jwt.decode(
                assertion,
                public_key(pem),  # type: ignore[arg-type]
                algorithms=ALGORITHMS,
                audience=sorted({token_url, *self.audiences}),
                options={"require": ["iss", "aud", "iat", "exp", "scope"]},
                leeway=LEEWAY_SECONDS,
            )
        except jwt.InvalidSignatureError:
            return Refusal(400, "invalid_grant", "InvalidSignature")
        except jwt.ExpiredSignatureError:
            return Refusal(400, "invalid_grant", "TokenExpired")
        except jwt.ImmatureSignatureError:
            return Refusal(400, "invalid_grant", "TokenNotYetValid")
        except jwt.InvalidAudienceError:
            return Refusal(400, "invalid_grant", "InvalidAudience")
        except jwt.InvalidTokenError:
            return Refusal(400, "invalid_grant", "InvalidToken")
        return self._rules(claims)

    def _rules(self, claims: dict[str, Any]) -> Refusal | None:
        now = dt.datetime.now(dt.UTC).timestamp()
        if not isinstance(claims["iss"], str) or claims["iss"] not in self.client_ids:
            return Refusal(401, "invalid_client", "InvalidIntegration")
        if int(claims["iat"]) > now + LEEWAY_SECONDS:
            return Refusal(400, "invalid_grant", "TokenNotYetValid")
        if int(claims["exp"]) - int(claims["iat"]) > MAX_LIFETIME_SECONDS:
            return Refusal(400, "invalid_grant", "TokenLifetimeTooLong")
        if not _scopes(claims["scope"]):
            return Refusal(400, "invalid_grant", "InvalidScope")
        jti = claims.get("jti")
        if jti is not None:
            if str(jti) in self._spent:
                return Refusal(400, "invalid_grant", "TokenReplayed")
            self._spent.add(str(jti))
        return None


def _scopes(value: Any) -> bool:
    """A comma- (or space-) separated string or a list, of known scopes, not empty."""
    names = value if isinstance(value, list) else str(value).replace(",", " ").split()
    return bool(names) and all(str(n).strip() in SCOPES for n in names)
