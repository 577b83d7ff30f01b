"""The `folio` command line."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Annotated

import typer

from app.config import get_settings

SHUTDOWN_GRACE_SECONDS = 20

app = typer.Typer(help="Folio: subscription publishing backend.", no_args_is_help=True)


def _alembic_config():  # type: ignore[no-untyped-def]
    from alembic.config import Config

    from app.resources import resource_path

    config = Config(str(resource_path("alembic.ini")))
    config.set_main_option("script_location", str(resource_path("migrations")))
    return config


@app.command()
def migrate() -> None:
    """Bring the database schema up to date (alembic upgrade head)."""
    from alembic import command

    command.upgrade(_alembic_config(), "head")
    typer.echo("database is at the latest migration")
    _render_stale_reports()


def _render_stale_reports() -> None:
    """Reports stored by an older renderer are cut again under the current rules, so an
    upgrade that closes a preview leak closes it for existing reports too."""
    from app.db import session_scope
    from app.reports.editing import rerender_all

    with session_scope() as session:
        count = rerender_all(session, get_settings().preview_paragraphs, stale_only=True)
    if count:
        typer.echo(f"{count} reports stored by an older renderer were rendered again")


@app.command("create-admin")
def create_admin(
    email: str,
    password: Annotated[str, typer.Option(prompt=True, hide_input=True)],
    name: str = "",
) -> None:
    """Create a verified admin, or promote an existing account."""
    from app.accounts.service import create_or_promote_admin
    from app.db import session_scope

    if len(password) < 10:
        raise typer.BadParameter("the password needs at least 10 characters")
    with session_scope() as session:
        user = create_or_promote_admin(session, email, password, name)
        typer.echo(f"admin {user.email} (id {user.id}) is ready")


@app.command("import-reports")
def import_reports(directory: Path) -> None:
    """Import Markdown reports with YAML front matter; a bad file is named and skipped.

    A re-import changes only the fields a file's front matter names, and the body."""
    from app.db import session_scope
    from app.models import utcnow
    from app.reports.importing import import_directory

    if not directory.is_dir():
        raise typer.BadParameter(f"{directory} is not a directory")
    with session_scope() as session:
        result = import_directory(session, directory, get_settings().preview_paragraphs)
    now = utcnow()
    for item in result.imported:
        typer.echo(f"{item.outcome} {item.slug}: {item.status_line(now)}")
    for name, why in result.failed.items():
        typer.echo(f"FAILED {name}: {why}", err=True)
    typer.echo(result.summary())
    if result.failed:
        raise typer.Exit(1)


@app.command("rerender-reports")
def rerender_reports() -> None:
    """Render and cut every report again (after FOLIO_PREVIEW_PARAGRAPHS changes)."""
    from app.db import session_scope
    from app.reports.editing import rerender_all

    with session_scope() as session:
        count = rerender_all(session, get_settings().preview_paragraphs)
    typer.echo(f"{count} reports rendered again")


@app.command("seed-demo")
def seed_demo(
    reset: Annotated[
        bool, typer.Option(help="Delete everything in the database first, then seed.")
    ] = False,
    yes: Annotated[
        bool, typer.Option("--yes", help="Do not ask before --reset deletes (needed in scripts).")
    ] = False,
) -> None:
    """Demo collections, tiers, reports, an admin and readers, into an empty database only;
    prints their credentials. A database holding anything is left as it is."""
    import sys

    from sqlalchemy.engine import make_url

    from app.demo.seed import seed_demo_content

    settings = get_settings()
    if settings.env == "production":
        raise typer.BadParameter("refusing to load demo content in production")
    if reset and not yes:
        database = make_url(settings.database_url).render_as_string(hide_password=True)
        if not sys.stdin.isatty():
            typer.echo("--reset deletes everything in the database: add --yes to confirm", err=True)
            raise typer.Exit(1)
        typer.confirm(f"Delete every report, account and subscription in {database}?", abort=True)
    for line in seed_demo_content(reset=reset):
        typer.echo(line)


@app.command("stripe-sync")
def stripe_sync() -> None:
    """Reconcile every subscription with the Stripe API (for missed webhooks)."""
    from app.billing.sync import sync_subscriptions
    from app.errors import FolioError

    try:
        report = sync_subscriptions(get_settings())
    except FolioError as exc:
        raise typer.BadParameter(exc.message) from exc
    for line in report.changed:
        typer.echo(f"changed {line}")
    for line in report.failed:
        typer.echo(f"FAILED {line}", err=True)
    typer.echo(
        f"{report.seen} subscriptions seen, {len(report.changed)} changed, "
        f"{len(report.failed)} failed"
    )
    if report.failed:
        raise typer.Exit(1)


@app.command("usage-aggregate")
def usage_aggregate() -> None:
    """Count every month that has ended into COUNTER usage, then prune raw reading events
    older than FOLIO_USAGE_RETENTION_DAYS (never one not yet counted). Run it daily."""
    from app.db import session_scope
    from app.models import utcnow
    from app.usage.counter import aggregate, prune_events
    from app.usage.statistics import count_domain_turnaways

    now = utcnow()
    with session_scope() as session:
        months = aggregate(session, now)
        count_domain_turnaways(session, months)  # before pruning: the lead list by domain
        pruned = prune_events(session, now, get_settings().usage_retention_days)
    done = ", ".join(m.strftime("%Y-%m") for m in months) or "none"
    typer.echo(f"months counted: {done}; raw events pruned: {pruned}")


@app.command()
def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: int = 1,
    access_log: Annotated[
        bool,
        typer.Option(help="Log every request (~60 us CPU each: a third of a cached read)."),
    ] = True,
) -> None:
    """Serve the API and pages (and send the email outbox)."""
    import uvicorn

    from app.startup import check_database_is_migrated, check_secret_for_host

    # Refuse here, in one line, rather than in every forked worker. Reading the settings
    # also makes the installation secret before the workers race for it.
    settings = get_settings()
    check_secret_for_host(settings, host)
    check_database_is_migrated(settings)
    typer.echo(
        f"Folio: the website at http://{host}:{port}/, the admin console at /admin, "
        "the API at /docs"
    )
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=False,
        log_level="info",
        access_log=access_log,
        # SIGTERM: requests in flight get this long to finish (no request of ours comes
        # close); then the lifespan stops the outbox sender, which releases what it claimed.
        timeout_graceful_shutdown=SHUTDOWN_GRACE_SECONDS,
    )


@app.command()
def worker(
    once: Annotated[bool, typer.Option(help="Send what is due now, then exit.")] = False,
) -> None:
    """Send the email outbox, without serving HTTP (run any number of them)."""
    import signal

    from app.mail.sender import OutboxSender, deliver_due

    settings = get_settings()
    if once:
        total = 0
        while taken := deliver_due(settings):
            total += taken
        typer.echo(f"{total} emails handled")
        return
    sender = OutboxSender(settings)
    # SIGTERM (docker stop, systemd) stops as cleanly as Ctrl-C: the current email finishes.
    signal.signal(signal.SIGTERM, lambda *_: sender.stop(timeout=0))
    try:
        sender.run()
    except KeyboardInterrupt:
        sender.stop(timeout=0)


def main() -> None:
    from app.startup import describe

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)  # start-up chatter
    try:
        app()
    except Exception as exc:
        reason = describe(exc)
        if reason is None:
            raise
        typer.echo(f"folio: {reason}", err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
