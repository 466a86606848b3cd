"""Where messages go: MAIL_URL's SMTP server (the standard library's smtplib: TLS from the
start or STARTTLS, with the server's certificate checked, and a login when the URL has a
user), or, without MAIL_URL, `.eml` files in MAIL_DIR for a developer to open."""

from __future__ import annotations

import logging
import os
import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Protocol

from blogapi.timeutil import utcnow
from config import MailServer, parse_mail_url

log = logging.getLogger("blogapi.mail")


class MailOff(RuntimeError):
    """MAIL_URL=none: mail is turned off."""


class SendFailed(RuntimeError):
    """The message was not accepted; `permanent` when trying again cannot help."""

    def __init__(self, reason: str, *, permanent: bool = False) -> None:
        super().__init__(reason[:500])
        self.permanent = permanent


class Transport(Protocol):
    """Something that sends a composed message, or raises SendFailed."""

    def send(self, message: EmailMessage) -> str:
        """Send it; where it went, for a person to read."""
        ...


@dataclass(frozen=True)
class FileTransport:
    """Development: each message an `.eml` file in `folder` (and its subject logged)."""

    folder: Path

    def send(self, message: EmailMessage) -> str:
        """Write the message to a new file."""
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        stamp = utcnow().strftime("%Y%m%d-%H%M%S-%f")
        path = self.folder / f"{stamp}-{os.getpid()}.eml"
        partial = path.with_suffix(".part")
        partial.write_bytes(message.as_bytes())
        partial.replace(path)  # a reader never sees half a message
        log.info("mail: %r written to %s", str(message["Subject"]), path)
        return str(path)


@dataclass(frozen=True)
class SmtpTransport:
    """An SMTP server, one connection per message."""

    server: MailServer
    timeout: float

    def send(self, message: EmailMessage) -> str:
        """Hand the message to the server; SendFailed (permanent on a 5xx) if it refuses."""
        server = self.server
        try:
            tls = ssl.create_default_context()  # read per message: SSL_CERT_FILE may change
            client: smtplib.SMTP
            if server.ssl:
                client = smtplib.SMTP_SSL(
                    server.host, server.port, timeout=self.timeout, context=tls
                )
            else:
                client = smtplib.SMTP(server.host, server.port, timeout=self.timeout)
            with client:
                if server.starttls:
                    client.starttls(context=tls)
                if server.username:
                    client.login(server.username, server.password)
                client.send_message(message)
        except smtplib.SMTPAuthenticationError as error:
            # The deployment's settings, not this message: worth retrying once they are fixed.
            raise SendFailed(f"the server refused the login: {answer(error)}") from None
        except smtplib.SMTPRecipientsRefused as error:
            code, text = next(iter(error.recipients.values()))
            raise SendFailed(
                f"the server refused the address: {code} {decode(text)}", permanent=code >= 500
            ) from None
        except smtplib.SMTPResponseException as error:
            raise SendFailed(
                f"the server answered {answer(error)}", permanent=error.smtp_code >= 500
            ) from None
        except (smtplib.SMTPException, OSError) as error:
            raise SendFailed(f"{where(server)}: {describe(error)}") from None
        return where(server)


def decode(text: bytes | str) -> str:
    """An SMTP reply's text."""
    return text.decode(errors="replace") if isinstance(text, bytes) else str(text)


def answer(error: smtplib.SMTPResponseException) -> str:
    """`code text` of the reply that ended the session."""
    return f"{error.smtp_code} {decode(error.smtp_error)}"


def describe(error: BaseException) -> str:
    """A network error in a few words (connection refused, timed out, a TLS failure)."""
    if isinstance(error, TimeoutError):
        return "timed out"
    text = getattr(error, "strerror", None) or str(error) or type(error).__name__
    return str(text)


def where(server: MailServer) -> str:
    """The server, as logs and the CLI name it (never with its password)."""
    scheme = "smtps" if server.ssl else "smtp+starttls" if server.starttls else "smtp"
    return f"{scheme}://{server.host}:{server.port}"


def transport_for(config: Mapping[str, Any]) -> Transport:
    """The transport the configuration names; MailOff when MAIL_URL=none."""
    url = config["MAIL_URL"]
    if url == "none":
        raise MailOff("mail is off (MAIL_URL=none)")
    if not url:
        return FileTransport(Path(config["MAIL_DIR"]))
    return SmtpTransport(parse_mail_url(url), float(config["MAIL_TIMEOUT"]))
