"""Composing a message from its templates: multipart/alternative text and HTML, with From,
To, Subject, Date, Message-ID and Auto-Submitted, serialized by the SMTP policy. Names and
subjects are folded onto one line first, so no value can start a header of its own."""

from __future__ import annotations

from collections.abc import Mapping
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from blogapi.timeutil import utcnow

TEMPLATES = Path(__file__).parent / "templates"
MAX_SUBJECT = 300


@lru_cache(maxsize=1)
def environment() -> Environment:
    """The Jinja environment of the mail templates (HTML ones escaped)."""
    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
    )


def has_template(name: str) -> bool:
    """Whether both parts of template `name` exist."""
    return (
        name.replace("_", "").isalnum()
        and (TEMPLATES / f"{name}.txt").is_file()
        and (TEMPLATES / f"{name}.html").is_file()
    )


def one_line(text: str, limit: int = MAX_SUBJECT) -> str:
    """`text` with every run of whitespace and control characters made one space."""
    cleaned = "".join(" " if ord(ch) < 32 or ord(ch) == 127 else ch for ch in text)
    return " ".join(cleaned.split())[:limit]


def site_domain(config: Mapping[str, Any]) -> str:
    """The host of SITE_URL (localhost without one): Message-IDs are made under it."""
    site = config.get("SITE_URL") or ""
    return (urlsplit(site).hostname if site else None) or "localhost"


def new_message_id(config: Mapping[str, Any]) -> str:
    """A new Message-ID under the site's domain."""
    return make_msgid(domain=site_domain(config))


def render(
    template: str, context: Mapping[str, Any], config: Mapping[str, Any]
) -> tuple[str, str, str]:
    """The subject, text and HTML of template `template` with `context`."""
    values = {
        "site_title": config["SITE_TITLE"],
        "site_url": config.get("SITE_URL") or "",
        **context,
    }
    env = environment()
    text_template = env.get_template(f"{template}.txt")
    subject_block = text_template.blocks.get("subject")
    if subject_block is None:
        raise ValueError(f"mail template {template}.txt has no subject block")
    subject = one_line("".join(subject_block(text_template.new_context(values))))
    text = text_template.render(values)
    html = env.get_template(f"{template}.html").render({**values, "subject": subject})
    return subject, text, html


def address(addr_spec: str, name: str = "") -> Address:
    """A header address, its display name on one line and its domain in IDNA (ASCII)."""
    local, _, domain = addr_spec.rpartition("@")
    ascii_domain = domain if domain.isascii() else domain.encode("idna").decode("ascii")
    return Address(display_name=one_line(name), username=local, domain=ascii_domain)


def compose(
    template: str,
    to_address: str,
    context: Mapping[str, Any],
    config: Mapping[str, Any],
    *,
    message_id: str | None = None,
) -> EmailMessage:
    """The message of `template` to `to_address`, ready for SMTP."""
    subject, text, html = render(template, context, config)
    name, sender = parseaddr(config["MAIL_FROM"])
    message = EmailMessage(policy=policy.SMTP)
    message["From"] = address(sender, name)
    message["To"] = address(to_address)
    message["Subject"] = subject
    message["Date"] = format_datetime(utcnow())
    message["Message-ID"] = message_id or new_message_id(config)
    message["Auto-Submitted"] = "auto-generated"
    message["X-Auto-Response-Suppress"] = "All"  # no out-of-office replies to a robot
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message
