"""`manage.py send-test-email ADDRESS`: send the `test` message at once through the configured
transport, not the outbox, so an operator sees at once whether the mail settings work."""

from __future__ import annotations

import click
from flask import current_app

from blogapi.db.commands import admin_command, fail
from blogapi.mail.compose import compose
from blogapi.mail.outbox import check_address
from blogapi.mail.transports import MailOff, SendFailed, transport_for


def address_argument(_ctx: click.Context, _param: click.Parameter, value: str) -> str:
    """ADDRESS checked as one bare email address (a usage error, exit 2, otherwise)."""
    try:
        return check_address(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not one email address") from None


@admin_command("send-test-email")
@click.argument("address", callback=address_argument)
def send_test_email_command(address: str) -> None:
    """Send a test message to ADDRESS now, through MAIL_URL (or the .eml folder), and say
    where it went; exit 1 if the server refuses it or cannot be reached, or mail is off."""
    config = current_app.config
    try:
        transport = transport_for(config)
    except MailOff:
        fail("mail is off (MAIL_URL=none); set MAIL_URL to an SMTP server to send mail")
    message = compose("test", address, {"to_address": address}, config)
    try:
        where = transport.send(message)
    except SendFailed as failure:
        fail(f"the test message was not sent: {failure}")
    click.echo(f"Sent {message['Subject']!r} to {address} via {where}")


COMMANDS = [send_test_email_command]
