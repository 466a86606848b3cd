"""Stories about asymmetric token signing: EdDSA/RS256, kids, the JWKS and key rotation."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt as pyjwt
import orjson
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from flask import Flask

import config
from blogapi import create_app
from blogapi.security.jwk import thumbprint
from tests.support.apps import dispose, make_app
from tests.support.problems import assert_problem
from tests.support.tokens import assert_refused, b64url, claims_of, get_me, header_of, with_header

JWKS = "/.well-known/jwks.json"
PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}


def generate(kind: str) -> Any:
    """A new private key of the given kind."""
    if kind == "ed25519":
        return ed25519.Ed25519PrivateKey.generate()
    if kind == "ec":
        return ec.generate_private_key(ec.SECP256R1())
    bits = 1024 if kind == "rsa1024" else 2048
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def write_pair(directory: Path, name: str, kind: str = "ed25519") -> tuple[Path, Path]:
    """Write a private and public PEM file, as an operator would with openssl."""
    key = generate(kind)
    private = directory / f"{name}.pem"
    public = directory / f"{name}.pub.pem"
    private.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    public.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return private, public


@pytest.fixture(params=["ed25519", "rsa"])
def key_kind(request: pytest.FixtureRequest) -> str:
    """Every story below runs with an Ed25519 key and with an RSA key."""
    return request.param


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """A file database, so a second app (the next deployment) sees the same accounts."""
    return f"sqlite:///{tmp_path / 'blogapi.db'}"


@pytest.fixture
def app(tmp_path: Path, key_kind: str, database_url: str) -> Iterator[Flask]:
    """An app that signs with the private key in current.pem (overrides conftest's app)."""
    private, public = write_pair(tmp_path, "current", key_kind)
    app = make_app(
        SQLALCHEMY_DATABASE_URI=database_url,
        JWT_PRIVATE_KEY_FILE=str(private),
        JWT_PUBLIC_KEY_FILE=str(public),
    )
    yield app
    dispose(app)


def deploy(database_url: str, **keys: Any) -> Flask:
    """The next deployment: same database, other key settings."""
    return create_app(config.TestingConfig(), SQLALCHEMY_DATABASE_URI=database_url, **keys)


def test_tokens_are_signed_with_the_key_type_and_carry_its_thumbprint_as_kid(
    app, client, author, key_kind
):
    """Ed25519 signs EdDSA, RSA signs RS256; the kid is the key's RFC 7638 thumbprint."""
    keys = client.get(JWKS).get_json()["keys"]
    assert len(keys) == 1
    algorithm = {"ed25519": "EdDSA", "rsa": "RS256"}[key_kind]
    for token in (author.access_token, author.refresh_token):
        header = header_of(token)
        assert header["alg"] == algorithm
        assert header["kid"] == keys[0]["kid"] == thumbprint(keys[0])
    # Pinned: a token naming any other algorithm is refused before its signature is read.
    assert app.config["JWT_DECODE_ALGORITHMS"] == [algorithm]


def test_the_jwks_publishes_only_public_key_material(client, author):
    """Anyone may fetch the JWKS; it never contains a private member."""
    response = client.get(JWKS)
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    documented = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]["Jwk"]
    for key in response.get_json()["keys"]:
        assert key["use"] == "sig"
        assert not PRIVATE_MEMBERS & set(key)
        # What the OpenAPI document promises: its required members, nothing it does not name.
        assert set(documented["required"]) <= set(key) <= set(documented["properties"])


def test_another_service_verifies_our_tokens_with_the_published_jwks(client, author):
    """A service that only fetches /.well-known/jwks.json can check who a caller is."""
    key_set = pyjwt.PyJWKSet.from_dict(client.get(JWKS).get_json())
    token = author.access_token
    key = key_set[header_of(token)["kid"]]
    claims = pyjwt.decode(
        token, key, algorithms=[key.algorithm_name], audience="blogapi", issuer="blogapi"
    )
    assert claims["sub"] == str(author.user["id"])


def test_a_hmac_token_keyed_with_our_public_key_is_refused(app, client, author, tmp_path):
    """The classic confusion: Mallory signs HS256 with the public key as the HMAC secret."""
    public_pem = (tmp_path / "current.pub.pem").read_bytes()
    header = {"alg": "HS256", "typ": "JWT", "kid": header_of(author.access_token)["kid"]}
    signing_input = f"{b64url(orjson.dumps(header))}.{author.access_token.split('.')[1]}"
    signature = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    assert_refused(get_me(client, f"{signing_input}.{b64url(signature)}"))


def test_a_token_signed_with_the_old_shared_secret_is_refused(app, client, author):
    """Once keys are configured, HS256 tokens (even with the right secret) are not accepted."""
    claims = claims_of(author.access_token)
    token = pyjwt.encode(claims, app.config["JWT_SECRET_KEY"], algorithm="HS256")
    assert_refused(get_me(client, token))


def our_private_key(directory: Path) -> Any:
    """The app's own signing key, as an insider (or a test) could load it."""
    return serialization.load_pem_private_key((directory / "current.pem").read_bytes(), None)


@pytest.mark.parametrize("kid", ["missing", "unknown"])
def test_a_token_whose_kid_names_no_key_of_ours_is_refused(client, author, tmp_path, kid):
    """Verification picks the key by kid: even our own key's signature needs our kid."""
    headers = {"kid": "d3adb33f"} if kid == "unknown" else {}
    algorithm = header_of(author.access_token)["alg"]
    key = our_private_key(tmp_path)
    token = pyjwt.encode(claims_of(author.access_token), key, algorithm, headers=headers)
    assert_refused(get_me(client, token))


def test_a_kid_that_is_not_a_string_is_refused(client, author):
    """A kid that is an object (a NoSQL-style injection) is a 401, not a crash."""
    assert_refused(get_me(client, with_header(author.access_token, kid={"$ne": None})))


def test_a_token_carrying_its_own_key_is_refused(client, author):
    """Mallory signs with her key and embeds it (jwk header) and its kid: we never trust it."""
    mallory = ed25519.Ed25519PrivateKey.generate()
    jwk = pyjwt.algorithms.OKPAlgorithm.to_jwk(mallory.public_key(), as_dict=True)
    headers = {"kid": thumbprint(jwk), "jwk": jwk, "jku": "https://mallory.example/jwks.json"}
    token = pyjwt.encode(claims_of(author.access_token), mallory, "EdDSA", headers=headers)
    assert_refused(get_me(client, token))


def test_a_token_signed_by_another_key_under_our_kid_is_refused(client, author, key_kind):
    """The kid picks our key; a signature from any other key then fails."""
    other = generate(key_kind)
    header = header_of(author.access_token)
    token = pyjwt.encode(
        claims_of(author.access_token), other, header["alg"], headers={"kid": header["kid"]}
    )
    assert_refused(get_me(client, token))


def test_rotation_keeps_old_tokens_working_until_the_retired_key_is_removed(
    client, author, tmp_path, database_url, key_kind
):
    """Deploy a new key, the old one retired: nobody is logged out, new tokens use the new key."""
    old_kid = header_of(author.access_token)["kid"]
    new_private, new_public = write_pair(tmp_path, "next", "ed25519")
    rotated = deploy(
        database_url,
        JWT_PRIVATE_KEY_FILE=str(new_private),
        JWT_PUBLIC_KEY_FILE=str(new_public),
        JWT_RETIRED_PUBLIC_KEY_FILES=str(tmp_path / "current.pub.pem"),
    )
    try:
        rotated_client = rotated.test_client()
        published = {key["kid"] for key in rotated_client.get(JWKS).get_json()["keys"]}
        assert get_me(rotated_client, author.access_token).status_code == 200

        refreshed = rotated_client.post("/api/v1/auth/refresh", headers=author.refresh_headers)
        assert refreshed.status_code == 200
        new_kid = header_of(refreshed.get_json()["access_token"])["kid"]
        assert new_kid != old_kid
        assert published == {old_kid, new_kid}
        algorithms = {"ed25519": ["EdDSA"], "rsa": ["EdDSA", "RS256"]}[key_kind]
        assert rotated.config["JWT_DECODE_ALGORITHMS"] == algorithms
        assert header_of(refreshed.get_json()["refresh_token"])["kid"] == new_kid
    finally:
        dispose(rotated)

    retired_for_good = deploy(
        database_url, JWT_PRIVATE_KEY_FILE=str(new_private), JWT_PUBLIC_KEY_FILE=str(new_public)
    )
    try:
        later = retired_for_good.test_client()
        assert_refused(get_me(later, author.access_token))
        assert get_me(later, refreshed.get_json()["access_token"]).status_code == 200
    finally:
        dispose(retired_for_good)


def test_a_token_signed_by_the_current_key_under_the_retired_kid_is_refused(
    client, author, tmp_path, database_url
):
    """Each kid verifies with its own key only."""
    new_private, _new_public = write_pair(tmp_path, "next", "ed25519")
    rotated = deploy(
        database_url,
        JWT_PRIVATE_KEY_FILE=str(new_private),
        JWT_RETIRED_PUBLIC_KEY_FILES=[str(tmp_path / "current.pub.pem")],
    )
    try:
        rotated_client = rotated.test_client()
        fresh = rotated_client.post(
            "/api/v1/auth/login", json={"username": author.username, "password": author.password}
        ).get_json()["access_token"]
        forged = with_header(fresh, kid=header_of(author.access_token)["kid"])
        assert_refused(get_me(rotated_client, forged))
    finally:
        dispose(rotated)


def test_the_rfc_7638_example_thumbprint():
    """The kid is computed exactly as RFC 7638 section 3.1 shows."""
    jwk = {
        "kty": "RSA",
        "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tS"
        "oc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQ"
        "R0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTW"
        "hAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
        "e": "AQAB",
        "alg": "RS256",
        "kid": "2011-04-29",
    }
    assert thumbprint(jwk) == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"


def test_without_keys_there_is_no_jwks():
    """With the default HS256 signing there are no public keys to publish: 404 problem."""
    app = make_app()
    assert_problem(app.test_client().get(JWKS), 404)
    dispose(app)


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("missing-private", "JWT_PRIVATE_KEY_FILE: cannot read"),
        ("garbage-private", "JWT_PRIVATE_KEY_FILE: "),
        ("mismatched-public", "JWT_PUBLIC_KEY_FILE is not the public half"),
        ("ec-key", "use an Ed25519 (EdDSA) or RSA (RS256) key"),
        ("short-rsa", "at least 2048 bits"),
        ("public-without-private", "need JWT_PRIVATE_KEY_FILE"),
        ("garbage-retired", "JWT_RETIRED_PUBLIC_KEY_FILES: "),
    ],
)
def test_a_bad_key_setting_stops_the_app_with_one_line(tmp_path, capsys, setup, message):
    """The operator learns which variable is wrong before any token is signed."""
    private, public = write_pair(tmp_path, "good")
    _other_private, other_public = write_pair(tmp_path, "other")
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a key")
    settings = {
        "missing-private": {"JWT_PRIVATE_KEY_FILE": str(tmp_path / "nope.pem")},
        "garbage-private": {"JWT_PRIVATE_KEY_FILE": str(garbage)},
        "mismatched-public": {
            "JWT_PRIVATE_KEY_FILE": str(private),
            "JWT_PUBLIC_KEY_FILE": str(other_public),
        },
        "ec-key": {"JWT_PRIVATE_KEY_FILE": str(write_pair(tmp_path, "ec", "ec")[0])},
        "short-rsa": {"JWT_PRIVATE_KEY_FILE": str(write_pair(tmp_path, "rsa", "rsa1024")[0])},
        "public-without-private": {"JWT_PUBLIC_KEY_FILE": str(public)},
        "garbage-retired": {
            "JWT_PRIVATE_KEY_FILE": str(private),
            "JWT_RETIRED_PUBLIC_KEY_FILES": f"{other_public},{garbage}",
        },
    }[setup]
    with pytest.raises(SystemExit) as exit_info:
        create_app(config.TestingConfig(), **settings)
    assert exit_info.value.code == 4
    err = capsys.readouterr().err
    assert message in err
    assert err.count("\n") == 1
