"""Public keys as JWKs: algorithm by key type, RFC 7638 thumbprints as kids, verifiers."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from typing import Any

import orjson
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from jwt import PyJWK
from jwt.algorithms import OKPAlgorithm, RSAAlgorithm

from config import ConfigError

MIN_RSA_BITS = 2048
# RFC 7638: the members that identify a key, per key type.
THUMBPRINT_MEMBERS = {"RSA": ("e", "kty", "n"), "OKP": ("crv", "kty", "x")}


@dataclass(frozen=True)
class VerifyingKey:
    """A public key we accept tokens from, as published in the JWKS."""

    kid: str
    algorithm: str
    jwk: dict[str, str]
    verifier: PyJWK


def b64url(data: bytes) -> str:
    """Base64url without padding, as JOSE writes it."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def thumbprint(jwk: dict[str, str]) -> str:
    """The RFC 7638 SHA-256 thumbprint of a public JWK."""
    members = {name: jwk[name] for name in THUMBPRINT_MEMBERS[jwk["kty"]]}
    canonical = orjson.dumps(members, option=orjson.OPT_SORT_KEYS)
    return b64url(hashlib.sha256(canonical).digest())


def public_jwk(public_key: Any, variable: str) -> tuple[str, dict[str, str]]:
    """The algorithm and public JWK (with kid, alg and use) for an Ed25519 or RSA key."""
    if isinstance(public_key, ed25519.Ed25519PublicKey):
        algorithm, jwk = "EdDSA", OKPAlgorithm.to_jwk(public_key, as_dict=True)
    elif isinstance(public_key, rsa.RSAPublicKey):
        if public_key.key_size < MIN_RSA_BITS:
            raise ConfigError(f"{variable}: RSA keys need at least {MIN_RSA_BITS} bits")
        algorithm, jwk = "RS256", RSAAlgorithm.to_jwk(public_key, as_dict=True)
    else:
        raise ConfigError(f"{variable}: use an Ed25519 (EdDSA) or RSA (RS256) key")
    members = {name: jwk[name] for name in THUMBPRINT_MEMBERS[jwk["kty"]]}
    return algorithm, {**members, "kid": thumbprint(members), "alg": algorithm, "use": "sig"}


def verifying_key(public_key: Any, variable: str) -> VerifyingKey:
    """A public key ready to verify tokens; the PyJWK binds it to its one algorithm."""
    algorithm, jwk = public_jwk(public_key, variable)
    return VerifyingKey(jwk["kid"], algorithm, jwk, PyJWK(jwk, algorithm))
