"""Command-line tasks, registered on the app: ``flask --app app <command>``."""

from __future__ import annotations

import click
from flask import Flask, current_app
from sqlalchemy import or_, select

from volunteer import demo
from volunteer.auth import services as auth_services
from volunteer.auth.models import Role
from volunteer.catalogue.models import Centre, Organisation
from volunteer.coordination.models import RunState
from volunteer.extensions import db


@click.command("seed-demo")
@click.option("--volunteers", default=300, show_default=True, help="How many demo volunteers.")
def seed_demo(volunteers: int) -> None:
    """Fill an empty database with the Hedensted demo world (does nothing the second time)."""
    logins = demo.seed(volunteers=volunteers)
    if logins is None:
        click.echo("Demo data is already there; nothing changed.")
        return
    click.echo(f"Demo data created. Every demo account has the password: {demo.DEMO_PASSWORD}")
    for login in logins:
        click.echo(f"  {login.role:<12} {login.email:<40} {login.description}")


def _find(model: type[Organisation] | type[Centre], key: str | None):  # type: ignore[no-untyped-def]
    if key is None:
        return None
    condition = model.name == key
    if key.isdecimal():
        condition = or_(condition, model.id == int(key))
    found = db.session.scalar(select(model).where(condition))
    if found is None:
        raise click.BadParameter(f"no {model.__tablename__[:-1]} called {key!r}")
    return found


@click.command("create-user")
@click.argument("email")
@click.option(
    "--role",
    type=click.Choice([r.value for r in Role]),
    required=True,
    help="The account's role.",
)
@click.option("--name", prompt=True, help="The person's full name.")
@click.option("--organisation", help="Organisation (name or id) a coordinator belongs to.")
@click.option("--centre", help="Centre (name or id) a centre account belongs to.")
@click.password_option(help="Prompted for (twice) when not given.")
def create_user(
    email: str, role: str, name: str, organisation: str | None, centre: str | None, password: str
) -> None:
    """Create a staff account (coordinator, centre staff or administrator)."""
    if role == Role.COORDINATOR and not organisation:
        raise click.UsageError("A coordinator needs --organisation.")
    if role == Role.CENTRE and not centre:
        raise click.UsageError("A centre account needs --centre.")
    try:
        user = auth_services.create_staff_user(
            email=email,
            name=name,
            role=Role(role),
            password=password,
            organisation=_find(Organisation, organisation),
            centre=_find(Centre, centre),
        )
    except auth_services.EmailTaken as exc:
        raise click.ClickException(f"There is already an account with the email {email}.") from exc
    click.echo(f"Created {user.role} {user.email} (id {user.id}).")


@click.group("match")
def match_cli() -> None:
    """Matching volunteers to needs."""


@match_cli.command("run")
@click.option("--organisation", required=True, help="Organisation (name or id).")
@click.option("--dry-run", is_flag=True, help="Report what would be proposed; store nothing.")
def match_run(organisation: str, dry_run: bool) -> None:
    """Run the matching for an organisation's open needs now and store proposals."""
    from volunteer.coordination import runs
    from volunteer.db import utcnow

    org = _find(Organisation, organisation)
    try:
        run = runs.run_now(None, org.id, utcnow(), dry_run=dry_run)
    except runs.RunInProgress as busy:
        raise click.ClickException(
            f"Run {busy.run_id} for this organisation is already queued or running; "
            "try again when it is finished."
        ) from None
    if run.state != RunState.DONE:
        raise click.ClickException(f"Run {run.id} failed: {run.error}")
    click.echo(
        f"{'Dry run: ' if dry_run else ''}{run.proposals} proposals for {run.needs} needs from "
        f"{run.volunteers} volunteers ({run.status}, gap {run.gap:.4f}, {run.seconds:.2f} s); "
        f"{len(run.unmatched)} needs still missing volunteers."
    )


@match_cli.command("run-queued")
def match_run_queued() -> None:
    """Solve the queued matching runs now, as the scheduler's matching_runs job does."""
    from volunteer.scheduler import run_job

    summary = run_job(current_app._get_current_object(), "matching_runs")  # type: ignore[attr-defined]
    click.echo("matching_runs: " + " ".join(f"{k}={v}" for k, v in summary.items()))


def init_app(app: Flask) -> None:
    from volunteer.backup import backup_command
    from volunteer.scheduler import jobs_cli, scheduler_cli

    app.cli.add_command(backup_command)
    app.cli.add_command(seed_demo)
    app.cli.add_command(create_user)
    app.cli.add_command(match_cli)
    app.cli.add_command(scheduler_cli)
    app.cli.add_command(jobs_cli)
