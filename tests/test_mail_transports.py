"""MAIL_URL as an operator writes it: SMTP with STARTTLS and a login, SMTPS, the server's
certificate checked, credentials percent-decoded and never repeated in an error; production
refuses to start without MAIL_URL, and MAIL_URL=none turns mail off."""

from __future__ import annotations

import ssl
from email.message import EmailMessage

import pytest
import trustme

import config as settings
from blogapi.mail.compose import compose
from blogapi.mail.transports import FileTransport, SendFailed, SmtpTransport, transport_for
from tests.support.mail import accept_login, start_smtp_server, text_part

ADA = "ada@example.com"
USER, PASSWORD = "blog@example.com", "p@ss:w/rd%1"  # each special in a URL
ENCODED = "blog%40example.com:p%40ss%3Aw%2Frd%251"


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    """A throwaway certificate authority."""
    return trustme.CA()


@pytest.fixture
def tls(ca):
    """A server TLS context for 127.0.0.1 signed by the throwaway CA."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    return context


@pytest.fixture
def trusted(ca, tmp_path, monkeypatch):
    """The client trusts the throwaway CA, as a host trusts its system's CAs."""
    path = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    monkeypatch.setenv("SSL_CERT_FILE", str(path))


def message(app) -> EmailMessage:
    """The test message to Ada."""
    with app.app_context():
        return compose("test", ADA, {"to_address": ADA}, app.config)


def transport(url: str) -> SmtpTransport:
    """The transport MAIL_URL `url` makes."""
    found = transport_for({"MAIL_URL": settings.mail_url(url), "MAIL_TIMEOUT": 5})
    assert isinstance(found, SmtpTransport)
    return found


def test_starttls_and_a_percent_encoded_login(app, tls, trusted):
    server = start_smtp_server(tls_context=tls, require_starttls=True, auth_require_tls=True)
    server.stop()
    server.options["authenticator"] = accept_login((USER, PASSWORD), server)
    server.start()
    try:
        url = f"smtp://{ENCODED}@127.0.0.1:{server.port}?starttls=true"
        where = transport(url).send(message(app))
        assert where == f"smtp+starttls://127.0.0.1:{server.port}" and PASSWORD not in where
        assert server.logins == [(USER, PASSWORD)]
        assert "ada@example.com" in text_part(server.wait_for(1)[0])
        with pytest.raises(SendFailed) as refused:
            transport(url.replace("%251", "%252")).send(message(app))
        assert not refused.value.permanent and "535" in str(refused.value)
        assert PASSWORD[:-1] not in str(refused.value)
    finally:
        server.stop()


def test_smtps_checks_the_servers_certificate(app, tls, ca, tmp_path, monkeypatch):
    server = start_smtp_server(ssl_context=tls)
    try:
        url = f"smtps://127.0.0.1:{server.port}"
        monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "no-such-ca.pem"))
        with pytest.raises(SendFailed) as untrusted:  # a certificate nobody vouches for
            transport(url).send(message(app))
        assert not untrusted.value.permanent and "certificate" in str(untrusted.value).lower()
        assert server.messages == []
        ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
        monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "ca.pem"))
        assert transport(url).send(message(app)) == f"smtps://127.0.0.1:{server.port}"
        assert len(server.wait_for(1)) == 1
    finally:
        server.stop()


@pytest.mark.parametrize(
    ("url", "host", "port", "ssl_on", "starttls"),
    [
        ("smtp://mail.example.com", "mail.example.com", 25, False, False),
        ("smtp://u:p@mail.example.com:587", "mail.example.com", 587, False, True),
        ("smtp://u:p@mail.example.com:2525?starttls=true", "mail.example.com", 2525, False, True),
        ("smtp://mail.example.com:587?starttls=false", "mail.example.com", 587, False, False),
        ("smtps://u:p@mail.example.com", "mail.example.com", 465, True, False),
        ("smtp://u:p@127.0.0.1:1025", "127.0.0.1", 1025, False, False),
    ],
)
def test_mail_url_forms(url, host, port, ssl_on, starttls):
    server = settings.parse_mail_url(url)
    assert (server.host, server.port, server.ssl, server.starttls) == (host, port, ssl_on, starttls)
    assert "password" not in repr(server)  # a log line or traceback never shows it


@pytest.mark.parametrize(
    "url",
    [
        "http://u:s3cret@mail.example.com",
        "smtp://",
        "smtp://u:s3cret@mail.example.com:99999",
        "smtp://u:s3cret@mail.example.com/path",
        "smtp://u:s3cret@mail.example.com?tls=yes",
        "smtp://u:s3cret@mail.example.com?starttls=maybe",
        "smtps://u:s3cret@mail.example.com?starttls=true",
        "smtp://u:s3cret@mail.example.com:25",  # the password would cross the network in clear
    ],
)
def test_a_bad_mail_url_is_refused_without_repeating_its_password(url):
    with pytest.raises(settings.ConfigError, match=r"^MAIL_URL") as refused:
        settings.mail_url(url)
    assert "s3cret" not in str(refused.value)


def test_development_without_mail_url_writes_files(tmp_path):
    found = transport_for({"MAIL_URL": "", "MAIL_DIR": str(tmp_path), "MAIL_TIMEOUT": 5})
    assert found == FileTransport(tmp_path)


PRODUCTION = {
    "SECRET_KEY": "k" * 16 + "q7Zr9vX2mB4nL8pT6wY3sD5fH1jK0aQe",
    "SITE_URL": "https://b.example",
}


@pytest.fixture
def production(monkeypatch, tmp_path):
    """A production environment but for MAIL_URL."""
    monkeypatch.setenv("BLOGAPI_INSTANCE_DIR", str(tmp_path))
    monkeypatch.setenv("SECRET_KEY", PRODUCTION["SECRET_KEY"])
    monkeypatch.setenv("JWT_SECRET_KEY", PRODUCTION["SECRET_KEY"][::-1])
    monkeypatch.setenv("SITE_URL", PRODUCTION["SITE_URL"])
    for name in ("MAIL_URL", "MAIL_FROM", "TRUSTED_HOSTS"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_production_refuses_to_start_without_mail_url_and_names_it(production):
    with pytest.raises(settings.ConfigError, match=r"^MAIL_URL is not set"):
        settings.load_config("production")
    production.setenv("MAIL_URL", "none")
    assert settings.load_config("production").MAIL_URL == "none"
    production.setenv("MAIL_URL", "smtps://u:p@smtp.example.com")
    config = settings.load_config("production")
    assert config.MAIL_FROM == "blogapi <noreply@b.example>"
    production.setenv("MAIL_FROM", "Ada\r\nBcc: x@evil.example <noreply@b.example>")
    with pytest.raises(settings.ConfigError, match=r"^MAIL_FROM"):
        settings.load_config("production")
