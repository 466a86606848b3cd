"""Token signing keys: HS256 by default, EdDSA/RS256 from key files, kids and the JWKS."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes
from flask import Flask, current_app
from flask_jwt_extended.exceptions import JWTDecodeError

from blogapi.extensions import jwt
from blogapi.security.jwk import VerifyingKey, verifying_key
from blogapi.security.jwt import check_claims
from config import ConfigError

EXTENSION_KEY = "blogapi.keys"


@dataclass
class KeyRing:
    """How this app signs tokens and which keys it accepts; no private key means HS256."""

    algorithm: str = "HS256"
    private_key: Any = None
    signing_kid: str | None = None
    verifying: dict[str, VerifyingKey] = field(default_factory=dict)

    @property
    def asymmetric(self) -> bool:
        """Whether tokens are signed with a private key (and a JWKS is published)."""
        return self.private_key is not None

    @property
    def decode_algorithms(self) -> list[str]:
        """Every algorithm a token may name: the signing one and the retired keys' ones."""
        if not self.asymmetric:
            return [self.algorithm]
        return sorted({key.algorithm for key in self.verifying.values()})


def read_pem(path: str, variable: str, *, private: bool) -> Any:
    """Load a PEM key file, naming the variable when it cannot be used."""
    try:
        data = Path(path).read_bytes()
        if private:
            return serialization.load_pem_private_key(data, password=None)
        return serialization.load_pem_public_key(data)
    except OSError as exc:
        raise ConfigError(f"{variable}: cannot read {path}: {exc.strerror}") from None
    except (ValueError, TypeError, UnsupportedAlgorithm):
        kind = "unencrypted private" if private else "public"
        raise ConfigError(f"{variable}: {path} is not a PEM {kind} key") from None


def spki(public_key: PublicKeyTypes) -> bytes:
    """A public key's DER encoding, for comparing keys."""
    return public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def as_list(value: str | list[str] | None) -> list[str]:
    """A comma-separated setting as a list (tests may pass a list)."""
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return list(value or [])


def load_key_ring(config: dict[str, Any]) -> KeyRing:
    """Build the KeyRing the JWT_*_KEY_FILE settings describe."""
    private_path = config.get("JWT_PRIVATE_KEY_FILE") or ""
    public_path = config.get("JWT_PUBLIC_KEY_FILE") or ""
    retired_paths = as_list(config.get("JWT_RETIRED_PUBLIC_KEY_FILES"))
    if not private_path:
        if public_path or retired_paths:
            raise ConfigError("JWT_PUBLIC_KEY_FILE and retired keys need JWT_PRIVATE_KEY_FILE")
        return KeyRing()
    private_key = read_pem(private_path, "JWT_PRIVATE_KEY_FILE", private=True)
    current = verifying_key(private_key.public_key(), "JWT_PRIVATE_KEY_FILE")
    if public_path:
        public_key = read_pem(public_path, "JWT_PUBLIC_KEY_FILE", private=False)
        if spki(public_key) != spki(private_key.public_key()):
            raise ConfigError("JWT_PUBLIC_KEY_FILE is not the public half of JWT_PRIVATE_KEY_FILE")
    ring = KeyRing(current.algorithm, private_key, current.kid, {current.kid: current})
    for path in retired_paths:
        retired = verifying_key(
            read_pem(path, "JWT_RETIRED_PUBLIC_KEY_FILES", private=False),
            "JWT_RETIRED_PUBLIC_KEY_FILES",
        )
        ring.verifying.setdefault(retired.kid, retired)
    return ring


def key_ring() -> KeyRing:
    """The current app's KeyRing."""
    ring: KeyRing = current_app.extensions[EXTENSION_KEY]
    return ring


def encode_key(_identity: Any) -> Any:
    """The key new tokens are signed with: the private key, else the shared secret."""
    ring = key_ring()
    return ring.private_key if ring.asymmetric else current_app.config["JWT_SECRET_KEY"]


def decode_key(header: dict[str, Any], payload: dict[str, Any]) -> Any:
    """The key a token must verify with, chosen by its kid; an unknown kid is refused."""
    # The one hook that sees the claims as sent, before flask-jwt-extended fills in a missing
    # type (as "access"), fresh or jti: a token lacking any of our claims is not ours.
    check_claims(payload)
    ring = key_ring()
    if not ring.asymmetric:
        return current_app.config["JWT_SECRET_KEY"]
    kid = header.get("kid")
    key = ring.verifying.get(kid) if isinstance(kid, str) else None
    if key is None:
        raise JWTDecodeError("Unknown signing key (kid)")
    return key.verifier


def token_headers(_identity: Any) -> dict[str, str]:
    """JOSE header members added to every new token: the signing key's kid."""
    ring = key_ring()
    return {"kid": ring.signing_kid} if ring.signing_kid else {}


def register_signing_keys(app: Flask) -> None:
    """Load the keys and pin the algorithms to them (security/jwks.py publishes the JWKS)."""
    ring = load_key_ring(app.config)
    app.extensions[EXTENSION_KEY] = ring
    app.config["JWT_ALGORITHM"] = ring.algorithm
    app.config["JWT_DECODE_ALGORITHMS"] = ring.decode_algorithms
    jwt.encode_key_loader(encode_key)
    jwt.decode_key_loader(decode_key)
    jwt.additional_headers_loader(token_headers)
