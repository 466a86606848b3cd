"""A real SMTP server on 127.0.0.1 (aiosmtpd) that keeps what it receives, can refuse for a
while (4xx or 5xx) or be stopped and started again on its port, with TLS and AUTH when asked;
and helpers that read messages as a mail client does, with the standard `email` parser."""

from __future__ import annotations

import email
import re
import socket
import threading
import time
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP as SMTPServer
from aiosmtpd.smtp import AuthResult, Envelope, Session

LINK = re.compile(r"https?://[^\s<>\"']+")


@dataclass
class Received:
    """One message as the server got it: the envelope and the parsed message."""

    mail_from: str
    rcpt_tos: list[str]
    raw: bytes
    message: EmailMessage


@dataclass
class Handler:
    """aiosmtpd's handler: answers `reply` to DATA when set (e.g. "451 4.3.0 Try later"),
    else keeps the message."""

    reply: str | None = None
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: SMTPServer, session: Session, envelope: Envelope) -> str:
        """Keep the message, or refuse it as told."""
        if self.reply:
            return self.reply
        raw = bytes(envelope.original_content or envelope.content or b"")
        with self.lock:
            self.received.append(
                Received(str(envelope.mail_from), list(envelope.rcpt_tos), raw, parse(raw))
            )
        return "250 2.0.0 OK"


def parse(raw: bytes) -> EmailMessage:
    """A message as a mail client reads it."""
    message = email.message_from_bytes(raw, policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message


def free_port() -> int:
    """A TCP port nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class SmtpServer:
    """The server: `url` is what MAIL_URL should say to reach it."""

    handler: Handler
    port: int
    options: dict[str, Any]
    controller: Controller | None = None
    logins: list[tuple[str, str]] = field(default_factory=list)

    @property
    def url(self) -> str:
        """MAIL_URL for this server, without credentials or TLS."""
        return f"smtp://127.0.0.1:{self.port}"

    @property
    def messages(self) -> list[EmailMessage]:
        """The messages received so far, oldest first."""
        with self.handler.lock:
            return [item.message for item in self.handler.received]

    def start(self) -> None:
        """Listen on the port (again)."""
        self.controller = Controller(
            self.handler, hostname="127.0.0.1", port=self.port, **self.options
        )
        self.controller.start()

    def stop(self) -> None:
        """Stop listening: connections are refused until start()."""
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def wait_for(self, count: int, timeout: float = 15.0) -> list[EmailMessage]:
        """The messages once at least `count` have come (AssertionError after `timeout`)."""
        deadline = time.monotonic() + timeout
        while len(self.messages) < count:
            assert time.monotonic() < deadline, f"{len(self.messages)} of {count} messages came"
            time.sleep(0.05)
        return self.messages


def start_smtp_server(**options: Any) -> SmtpServer:
    """A server on a free loopback port; `options` go to aiosmtpd's SMTP (tls_context,
    require_starttls, authenticator, auth_require_tls, ...) or Controller (ssl_context)."""
    server = SmtpServer(Handler(), free_port(), dict(options))
    server.start()
    return server


def accept_login(expected: tuple[str, str], server: SmtpServer) -> Any:
    """An aiosmtpd authenticator that lets in `expected` (user, password) only, noting every
    login tried."""

    def authenticate(
        _server: Any, _session: Any, _envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        tried = (data.login.decode(), data.password.decode())
        server.logins.append(tried)
        return AuthResult(success=tried == expected, handled=False)  # else no 535 is sent

    return authenticate


def text_part(message: EmailMessage) -> str:
    """The text/plain body."""
    body = message.get_body(("plain",))
    assert body is not None, "no text part"
    return str(body.get_content())


def html_part(message: EmailMessage) -> str:
    """The text/html body."""
    body = message.get_body(("html",))
    assert body is not None, "no HTML part"
    return str(body.get_content())


def first_link(text: str) -> str:
    """The first http(s) link in a text."""
    found = LINK.search(text)
    assert found, f"no link in {text!r}"
    return found.group(0)


def token_of(link: str) -> str:
    """The `token` query parameter of a link."""
    return parse_qs(urlsplit(link).query)["token"][0]


def eml_files(folder: str | Path) -> list[EmailMessage]:
    """The messages the development transport wrote into a folder, oldest first."""
    return [parse(path.read_bytes()) for path in sorted(Path(folder).glob("*.eml"))]
