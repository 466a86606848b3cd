"""Admin commands: run the worker, and list the webhooks with how their deliveries stand."""

from __future__ import annotations

import click
import orjson
from flask import current_app
from sqlalchemy import func, select

from blogapi.accounts.cli import table
from blogapi.db.commands import admin_command
from blogapi.db.webhook_models import Webhook, WebhookDelivery
from blogapi.extensions import db
from blogapi.observability.background import CHORES
from blogapi.observability.logs import configure_logging
from blogapi.observability.metrics import serve_metrics
from blogapi.timeutil import isoformat_z
from blogapi.webhooks.worker import run_worker


@admin_command("worker")
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=4,
    show_default=True,
    help="Delivery threads.",
)
@click.option(
    "--poll",
    type=click.FloatRange(0.05, 60),
    default=0.5,
    show_default=True,
    help="Seconds between looks at the outbox.",
)
@click.option(
    "--metrics-port",
    type=click.IntRange(1, 65535),
    default=None,
    help="Serve this worker's Prometheus metrics on this port (DEPLOY.md, §10).",
)
@click.option(
    "--metrics-address",
    default="127.0.0.1",
    show_default=True,
    help="The address --metrics-port listens on.",
)
def worker_command(
    workers: int, poll: float, metrics_port: int | None, metrics_address: str
) -> None:
    """Deliver webhooks and send mail: run until Ctrl-C (or SIGTERM).

    The queue is Redis when REDIS_URL is set, else a SQLite file in the instance folder. Run
    as many workers, on as many hosts, as you like: each event is fanned out once, and each
    delivery and each message is sent by one worker at a time.
    """
    config = current_app.config
    # The queue library's own lines (a job failed, the consumer stopped) in the app's shape.
    configure_logging(config["LOG_FORMAT"], "INFO", propagate=False, loggers=("huey",))
    where = "Redis" if current_app.config.get("REDIS_URL") else current_app.config["QUEUE_FILE"]
    click.echo(f"blogapi worker: {workers} threads, queue on {where}", err=True)
    if metrics_port is not None:
        try:
            serve_metrics(metrics_port, metrics_address)
        except OSError as exc:
            raise click.ClickException(
                f"cannot serve metrics on {metrics_address}:{metrics_port}: {exc.strerror}"
            ) from None
        click.echo(f"metrics on http://{metrics_address}:{metrics_port}/metrics", err=True)
    CHORES.start()  # the pool's gauges, published each round as a web worker's are
    run_worker(current_app._get_current_object(), workers=workers, poll=poll)  # type: ignore[attr-defined]


@admin_command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
def list_command(as_json: bool) -> None:
    """List the webhooks, with their pending and failed deliveries."""
    counts = dict(
        db.session.execute(
            select(WebhookDelivery.webhook_id, func.count())
            .where(WebhookDelivery.state == "pending")
            .group_by(WebhookDelivery.webhook_id)
        ).all()
    )
    rows = []
    for webhook in db.session.scalars(select(Webhook).order_by(Webhook.id)):
        rows.append(
            {
                "id": webhook.id,
                "url": webhook.url,
                "events": webhook.event_list,
                "active": webhook.active,
                "pending": counts.get(webhook.id, 0),
                "failing_since": isoformat_z(webhook.failing_since),
                "disabled_reason": webhook.disabled_reason,
            }
        )
    if as_json:
        for row in rows:
            click.echo(orjson.dumps(row).decode())
        return
    if not rows:
        click.echo("No webhooks.")
        return
    click.echo(
        table(
            ["ID", "URL", "EVENTS", "ACTIVE", "PENDING", "FAILING SINCE"],
            [
                [
                    str(r["id"]),
                    str(r["url"]),
                    ",".join(r["events"]),  # type: ignore[arg-type]
                    "yes" if r["active"] else f"no ({r['disabled_reason'] or 'turned off'})",
                    str(r["pending"]),
                    str(r["failing_since"] or "-"),
                ]
                for r in rows
            ],
        )
    )


@click.group("webhooks")
def webhooks_group() -> None:
    """Webhooks: list them (manage them over the API, /api/v1/webhooks)."""


webhooks_group.add_command(list_command)

COMMANDS = [worker_command, webhooks_group]
