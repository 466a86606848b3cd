"""Forgot-password abuse: a flood for one address is rate-limited and sends a handful of
messages at most, and known and unknown addresses are answered in the same time."""

from __future__ import annotations

import statistics
import time

import pytest

from tests.support.account_mail import forgot, run_worker, signed_up, to_of
from tests.support.accounts import bearer, register
from tests.support.apps import dispose, make_app
from tests.support.problems import assert_problem

pytestmark = pytest.mark.database_agnostic
INVALID = "Not a valid email address."


def test_a_thousand_requests_for_one_address_send_a_handful_of_messages(smtp_server):
    app = make_app(MAIL_URL=smtp_server.url, RATELIMIT_ENABLED=True)
    try:
        client = app.test_client()
        signed_up(client, "ada")
        statuses = []
        for number in range(1000):  # from many addresses: the per-email limit holds
            address = f"10.{number // 250}.{number % 250}.1"
            statuses.append(
                forgot(client, "ada@example.com", environ_base={"REMOTE_ADDR": address})
            )
        accepted = [r for r in statuses if r.status_code == 202]
        limited = [r for r in statuses if r.status_code == 429]
        assert len(accepted) == 3 and len(limited) == 997
        assert_problem(limited[0], 429)
        assert int(limited[0].headers["Retry-After"]) > 0
        run_worker(app)
        resets = [m for m in smtp_server.wait_for(2) if m["Subject"].startswith("Reset")]
        assert [to_of(m) for m in resets] == ["ada@example.com"]  # the quiet minutes hold
        same_client = [forgot(client, f"x{n}@example.com").status_code for n in range(4)]
        assert same_client[:3] == [202] * 3 and same_client[3] == 429  # per client address
    finally:
        dispose(app)


def test_known_and_unknown_addresses_take_the_same_time(smtp_server):
    app = make_app(MAIL_URL=smtp_server.url, RATELIMIT_ENABLED=False)
    try:
        client = app.test_client()
        signed_up(client, "ada")
        forgot(client, "warm@example.com")  # first-request costs out of the way
        timings: dict[str, list[float]] = {"known": [], "unknown": []}
        for _round in range(40):
            for kind, address in (("known", "ada@example.com"), ("unknown", "no@example.com")):
                start = time.perf_counter()
                assert forgot(client, address).status_code == 202
                timings[kind].append(time.perf_counter() - start)
        known, unknown = (statistics.median(timings[k]) for k in ("known", "unknown"))
        assert abs(known - unknown) < max(0.25 * min(known, unknown), 0.002), (known, unknown)
    finally:
        dispose(app)


UNMAILABLE = (
    "Mail cannot be sent to this address: the part before the @ must be in ASCII letters, "
    "digits and punctuation (the domain may be in any one script)."
)


def test_an_address_no_message_can_go_to_is_refused_at_every_door(smtp_server):
    # marshmallow's Email takes a non-ASCII local part; the mailer does not, so registering
    # or moving to one once failed inside the request (a 500 after the account was half made).
    app = make_app(MAIL_URL=smtp_server.url, RATELIMIT_ENABLED=False)
    try:
        client = app.test_client()
        unmailable = "straße@example.com"
        registered = register(client, "strasse", unmailable)
        assert assert_problem(registered, 422)["errors"] == {"email": [UNMAILABLE]}
        pair = signed_up(client, "ada")
        for address in (unmailable, "ada\r\nBcc: eve@example.com"):
            moved = client.patch(
                "/api/v1/auth/me", json={"email": address}, headers=bearer(pair["access_token"])
            )
            why = UNMAILABLE if address == unmailable else INVALID
            for refused in (moved, forgot(client, address)):
                errors = assert_problem(refused, 422)["errors"]
                assert list(errors) == ["email"] and why in errors["email"]
        run_worker(app)
        assert [to_of(m) for m in smtp_server.wait_for(1)] == ["ada@example.com"]
    finally:
        dispose(app)
