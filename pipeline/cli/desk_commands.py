"""Commands of the desk: export, the weekly report, alerts, users, the dashboard, watch, demo."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Optional

import click

from pipeline.cli.group import DEMO_SOURCES, main
from pipeline.core.config import REPO_ROOT, get_settings

if TYPE_CHECKING:
    from sqlalchemy import Engine


@main.command()
@click.option("--output", "output_file", required=True, type=click.Path(path_type=Path))
def export(output_file: Path) -> None:
    """Write every stored item with its fields as JSONL."""
    from pipeline.report.export import export_items
    from pipeline.ingest.runtime import shared_engine

    click.echo(f"{export_items(shared_engine(), output_file)} items written to {output_file}")


@main.command("report")
@click.option("--week", required=True, help="ISO week in Vietnam time, e.g. 2026-W47.")
@click.option("--format", "fmt", type=click.Choice(["md", "html", "pdf"]), default="md", show_default=True)
@click.option("--output", "output_file", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--lang", type=click.Choice(["vi", "en"]), default="vi", show_default=True)
def weekly_report(week: str, fmt: str, output_file: Path, lang: str) -> None:
    """Write the weekly report for leaders (this week against last) as Markdown, HTML or PDF."""
    from pipeline.core.weeks import Week, WeekError

    try:  # before the heavy imports: a mistyped week is refused at once
        parsed = Week.parse(week)
    except WeekError as exc:
        raise click.ClickException(str(exc)) from exc
    from models.narratives import NarrativeError, load_library
    from pipeline.ingest.runtime import shared_engine
    from pipeline.report.build import build_report
    from pipeline.report.render import render, write_file

    try:
        library = load_library(get_settings().narratives_path)
    except NarrativeError as exc:
        raise click.ClickException(str(exc)) from exc
    from pipeline.report.build import NO_DATA, PROVISIONAL

    report = build_report(shared_engine(), parsed, library)
    if report.status == NO_DATA:
        click.echo(f"warning: no data for {parsed}: no crawl ran and no item was stored; the report says so", err=True)
    elif report.status == PROVISIONAL:
        click.echo(f"warning: {parsed} is not over; the report is marked provisional", err=True)
    data = render(report, fmt, lang)
    try:
        write_file(output_file, data)
    except OSError as exc:
        raise click.ClickException(f"cannot write {output_file}: {exc}") from exc
    click.echo(f"weekly report {parsed} ({fmt}, {len(data):,} bytes) written to {output_file}")


# Streamlit set up for users, not developers: errors are logged, never shown with their
# traceback; no "Deploy" button or developer menu; XSRF protection on.
PRODUCTION_STREAMLIT = {"STREAMLIT_SERVER_ENABLE_XSRF_PROTECTION": "true"}
PRODUCTION_FLAGS = ("--client.showErrorDetails", "none", "--client.toolbarMode", "viewer",
                    "--browser.gatherUsageStats", "false")


@main.command()
@click.option("--port", default=8501, show_default=True, type=int)
def dashboard(port: int) -> None:
    """Serve the Streamlit dashboard on 127.0.0.1:PORT."""
    from pipeline.ingest.runtime import shared_engine
    from pipeline.core.security import DemoAccountsPresent, refuse_demo_accounts

    try:
        refuse_demo_accounts(shared_engine(), get_settings())
    except DemoAccountsPresent as exc:
        raise click.ClickException(str(exc)) from exc
    scheme = "https" if get_settings().tls_cert_file else "http"
    click.echo(f"dashboard on {scheme}://127.0.0.1:{port}/")
    _exec_streamlit(port)


def _exec_streamlit(port: int) -> None:
    from pipeline.core.config import ConfigError

    settings = get_settings()
    # Streamlit reads these from the environment, which keeps the secret off the command line.
    env = {**os.environ, **PRODUCTION_STREAMLIT}
    try:
        if secret := settings.cookie_secret():
            env["STREAMLIT_SERVER_COOKIE_SECRET"] = secret
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    if bool(settings.tls_cert_file) != bool(settings.tls_key_file):
        raise click.ClickException("set both COOPWATCH_TLS_CERT_FILE and COOPWATCH_TLS_KEY_FILE, or neither")
    if settings.tls_cert_file:
        env["STREAMLIT_SERVER_SSL_CERT_FILE"] = settings.tls_cert_file
        env["STREAMLIT_SERVER_SSL_KEY_FILE"] = settings.tls_key_file
    command = [
        sys.executable, "-m", "streamlit", "run", str(REPO_ROOT / "dashboard" / "server.py"),
        "--server.address", "127.0.0.1", "--server.port", str(port),
        "--server.headless", "true", *PRODUCTION_FLAGS,
    ]
    os.execve(sys.executable, command, env)


@main.command()
@click.option("--sources", "sources_file", type=click.Path(exists=True, path_type=Path), default=None,
              help="YAML list of sources [default: COOPWATCH_WATCH_SOURCES or data/sources.yaml].")
@click.option("--list-jobs", is_flag=True, help="Print the jobs and their next runs, then exit.")
def watch(sources_file: Optional[Path], list_jobs: bool) -> None:
    """Run continuously: crawls at each source's interval, alerts, nightly retraining, Monday report."""
    from crawlers.sources import SourcesError, load_sources
    from pipeline.ingest.runtime import shared_engine
    from pipeline.watch.schedule import Jobs, WatchError, build_scheduler, run, setup_file_logging

    settings = get_settings()
    sources_file = sources_file or settings.watch_sources
    try:
        sources = load_sources(sources_file, {"demo_url": settings.demo_url})
        if list_jobs:
            scheduler = build_scheduler(settings, sources, Jobs(settings, sources_file, shared_engine()))
            scheduler.start(paused=True)  # computes the next runs; runs nothing
            for job in scheduler.get_jobs():
                click.echo(f"{job.id:<36} {job.trigger}  next {job.next_run_time:%Y-%m-%d %H:%M %Z}")
            scheduler.shutdown(wait=False)
            return
        setup_file_logging(settings)
        sys.exit(run(settings, sources, sources_file, shared_engine()))
    except (SourcesError, WatchError) as exc:
        raise click.ClickException(str(exc)) from exc


@main.command()
@click.option("--days", default=7, show_default=True, help="List the alerts of the last N days.")
@click.option("--evaluate", "run_now", is_flag=True, help="Evaluate spikes and deliver pending alerts first.")
def alerts(days: int, run_now: bool) -> None:
    """List recent alerts (spikes of a narrative or of negative coverage)."""
    from datetime import timedelta

    from pipeline.watch.alerts import AlertConfigError, evaluate, format_alert, recent_alerts
    from pipeline.ingest.runtime import shared_engine
    from pipeline.core.schema import utcnow

    settings = get_settings()
    if run_now:
        try:
            click.echo(evaluate(shared_engine(), settings).summary())
        except AlertConfigError as exc:
            raise click.ClickException(str(exc)) from exc
    rows = recent_alerts(shared_engine(), utcnow() - timedelta(days=days), settings)
    if not rows:
        click.echo(f"no alert in the last {days} day(s)")
    for row in rows:
        click.echo(format_alert(row, settings.timezone))


@main.group()
def users() -> None:
    """Manage dashboard accounts."""


@users.command("add")
@click.argument("name")
@click.option("--role", required=True, type=click.Choice(["monitor", "editor", "leader", "admin"]))
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def users_add(name: str, role: str, password_stdin: bool) -> None:
    """Create or update an account; the password is read without echo."""
    from pipeline.core.users import add_user

    _account_change(lambda engine: add_user(engine, name, role, _new_password(password_stdin)),
                    f"user {name} ({role}) saved")


@users.command("list")
def users_list() -> None:
    """Every account with its role and state."""
    from pipeline.core.users import list_accounts
    from pipeline.ingest.runtime import shared_engine

    for account in list_accounts(shared_engine()):
        click.echo(f"{account.name:<40} {account.role:<8} {'disabled' if account.disabled else 'active'}")


@users.command("set-role")
@click.argument("name")
@click.argument("role", type=click.Choice(["monitor", "editor", "leader", "admin"]))
def users_set_role(name: str, role: str) -> None:
    """Change an account's role (its open sessions end at once)."""
    from pipeline.core.users import set_role

    _account_change(lambda engine: set_role(engine, name, role), f"user {name} is now {role}")


@users.command("disable")
@click.argument("name")
@click.option("--enable", is_flag=True, help="Enable a disabled account again.")
def users_disable(name: str, enable: bool) -> None:
    """Disable an account (its open sessions end at once)."""
    from pipeline.core.users import set_disabled

    _account_change(lambda engine: set_disabled(engine, name, not enable),
                    f"user {name} {'enabled' if enable else 'disabled'}")


@users.command("reset-password")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def users_reset_password(name: str, password_stdin: bool) -> None:
    """Give an account a new password (its open sessions end at once)."""
    from pipeline.core.users import reset_password

    _account_change(lambda engine: reset_password(engine, name, _new_password(password_stdin)),
                    f"password of {name} changed")


def _new_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    return str(click.prompt("Password", hide_input=True, confirmation_prompt=True))


def _account_change(change: Callable[[Engine], None], done: str) -> None:
    from pipeline.core.users import UserError
    from pipeline.ingest.runtime import shared_engine

    try:
        change(shared_engine())
    except UserError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(done)


@main.command()
@click.option("--port", default=8501, show_default=True, type=int, help="Dashboard port.")
@click.option("--site-port", default=8765, show_default=True, type=int, help="Demo site port.")
@click.option("--no-dashboard", is_flag=True, help="Stop after the crawl.")
def demo(port: int, site_port: int, no_dashboard: bool) -> None:
    """The whole demo: database, model, demo site, crawl, ingest, then the dashboard."""
    from crawlers.demosite.server import serve_in_background
    from models.persistence import model_exists
    from models.train import train as run_training
    from pipeline.core.db import migrate
    from pipeline.ingest.runtime import shared_engine
    from pipeline.core.users import create_demo_accounts

    settings = get_settings()
    click.echo("[1/5] database: applying migrations")
    migrate()
    click.echo("[2/5] classifier")
    if model_exists(settings.model_dir):
        click.echo(f"      using the model in {settings.model_dir}")
    else:
        click.echo(f"      training from {settings.training_dir} (first run only)")
        run_training(settings.training_dir, settings.model_dir, real_news_dir=settings.real_news_dir,
                     eval_dir=settings.eval_dir)
    server, base_url = serve_in_background(site_port)
    click.echo(f"[3/5] demo site on {base_url}/")
    click.echo("[4/5] crawling the demo site with Scrapy and ingesting every item")
    env = {**os.environ, "COOPWATCH_DEMO_URL": base_url}
    subprocess.run([sys.executable, "-m", "pipeline.cli", "crawl", "--sources", str(DEMO_SOURCES)],
                   env=env, check=True)
    server.shutdown()
    accounts = create_demo_accounts(shared_engine())
    click.echo("[5/5] dashboard")
    click.echo(f"      open http://127.0.0.1:{port}/")
    for name, role, password in accounts:
        click.echo(f"      demo login: {name} / {password} ({role})")
    if not no_dashboard:
        os.environ["COOPWATCH_DEMO"] = "1"
        _exec_streamlit(port)
