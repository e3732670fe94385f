"""The `coopwatch` command line."""
from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Iterator, Optional, Sequence

import click
from tqdm import tqdm

from pipeline.config import REPO_ROOT, get_settings

if TYPE_CHECKING:
    from pipeline.ingest import IngestReport

logger = logging.getLogger("coopwatch")

DEMO_SOURCES = REPO_ROOT / "data" / "sources.demo.yaml"


def _setup_logging(level: str) -> None:
    logging.basicConfig(
        level=getattr(logging, level.upper(), logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--log-level", default=None, help="DEBUG, INFO, WARNING or ERROR.")
def main(log_level: Optional[str]) -> None:
    """CoopWatch: monitor news and social posts about Vietnam's cooperatives."""
    from pipeline.config import ConfigError

    try:
        settings = get_settings()
    except ConfigError as exc:  # e.g. a secret file that cannot be used
        raise click.ClickException(str(exc)) from exc
    _setup_logging(log_level or settings.log_level)


@main.command()
def init() -> None:
    """Create or upgrade the database schema (Alembic migrations)."""
    from pipeline.db import migrate

    migrate()
    click.echo("database ready")


@main.command("demo-site")
@click.option("--port", default=8765, show_default=True, type=int)
def demo_site(port: int) -> None:
    """Serve the bundled demo news site on 127.0.0.1:PORT until interrupted."""
    from crawlers.demosite.server import make_server

    server = make_server(port)
    click.echo(f"demo site on http://127.0.0.1:{server.server_address[1]}/ (Ctrl-C stops)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


@main.command()
@click.option("--sources", "sources_file", type=click.Path(exists=True, path_type=Path),
              default=DEMO_SOURCES, show_default=True, help="YAML list of sources.")
@click.option("--only", multiple=True, help="Crawl only sources with these names.")
@click.option("--distributed", is_flag=True,
              help="Share the frontier and duplicate filter in Redis (COOPWATCH_REDIS_URL) with "
                   "every other process crawling the same sources; start one per core or machine.")
def crawl(sources_file: Path, only: Sequence[str], distributed: bool) -> None:
    """Crawl every source of a sources file and ingest what it finds."""
    from crawlers.distributed import RedisUnavailable
    from crawlers.run import crawl as run_crawl
    from crawlers.sources import SourcesError, load_sources

    try:
        sources = load_sources(sources_file, {"demo_url": get_settings().demo_url})
    except SourcesError as exc:
        raise click.ClickException(str(exc)) from exc
    if only:
        sources = [s for s in sources if s.name in set(only)]
    try:
        reports = run_crawl(sources, log_level=get_settings().log_level, distributed=distributed)
    except RedisUnavailable as exc:
        raise click.ClickException(str(exc)) from exc
    for name, report in reports.items():
        click.echo(f"{name}: {report.summary()}")


@main.command()
def sources() -> None:
    """Print the health table of every source that has been crawled."""
    from pipeline.health import source_health
    from pipeline.runtime import shared_engine

    rows = source_health(shared_engine())
    if not rows:
        click.echo("no crawl has been recorded yet")
        return
    click.echo(f"{'source':<28} {'status':<9} {'runs':>4} {'new 24h':>7} {'norm/day':>8}  reason")
    for row in rows:
        norm = f"{row.daily_norm:.1f}" if row.daily_norm is not None else "-"
        status = "ok" if row.healthy else "UNHEALTHY"
        click.echo(f"{row.source:<28} {status:<9} {row.runs:>4} {row.new_last_day:>7} {norm:>8}  {row.reason}")
        for error in row.last_errors if not row.healthy else []:
            click.echo(f"{'':<28} last error: {error}")


@main.command()
@click.option("--input", "input_file", required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Processes extracting pages [default: COOPWATCH_INGEST_WORKERS or all cores].")
def ingest(input_file: Path, workers: Optional[int]) -> None:
    """Ingest raw records (JSONL: url, html or text, title, source, kind, times)."""
    from pipeline.runtime import shared_ingestor

    settings = get_settings()
    # No progress-monitor thread: ingest workers are forked, and a fork should see one thread.
    tqdm.monitor_interval = 0
    records = tqdm(_raw_inputs(input_file), desc="ingest", unit="rec")
    _report(shared_ingestor().ingest(records, batch_size=settings.ingest_batch_size,
                                     workers=workers or settings.ingest_workers))


def _raw_inputs(path: Path) -> Iterator[object]:
    from pipeline.ingest import RecordFailure
    from pipeline.jsonl import BadLine, read_jsonl
    from pipeline.records import RecordError, record_from_dict

    for number, row in read_jsonl(path):
        if isinstance(row, BadLine):
            yield RecordFailure(row.reason, number, source=path.name)
            continue
        try:
            yield record_from_dict(row, position=number)
        except RecordError as exc:
            url = row.get("url") if isinstance(row.get("url"), str) else None
            yield RecordFailure(str(exc), number, url=url, source=path.name)


@main.command("import")
@click.argument("export_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--map", "mappings", multiple=True, metavar="FIELD=COLUMN",
              help="Column of the export holding a field (platform, page, url, text, "
                   "published_at, reactions, shares); repeatable.")
def import_posts(export_file: Path, mappings: Sequence[str]) -> None:
    """Import a CSV or JSONL export of public social posts."""
    from pipeline.runtime import shared_ingestor
    from pipeline.social_import import MappingError, column_mapping, import_records

    try:
        mapping = column_mapping(list(mappings))
    except MappingError as exc:
        raise click.ClickException(str(exc)) from exc
    records = tqdm(import_records(export_file, mapping), desc="import", unit="post")
    _report(shared_ingestor().ingest(records), unit="row")


def _report(report: "IngestReport", unit: str = "line") -> None:
    """Print an ingest summary and each failure with its place; exit 1 after any failure."""
    click.echo(report.summary())
    if report.spooled:
        click.echo(f"warning: the database was unreachable; {report.spooled} records wait in the local "
                   "spool and are written when it answers again (or by `coopwatch spool flush`)", err=True)
    for failure in report.failures:
        reason = failure.reason
        if failure.position and not reason.startswith(f"{unit} "):
            reason = f"{unit} {failure.position}: {reason}"
        elif not failure.position and failure.url:
            reason = f"{failure.url}: {reason}"
        click.echo(f"error: {reason}", err=True)
    if report.failures:
        sys.exit(1)


@main.command()
@click.option("--input", "input_file", required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--output", "output_file", required=True, type=click.Path(path_type=Path))
def classify(input_file: Path, output_file: Path) -> None:
    """Classify JSONL rows {id, title, text, kind}; one output row per input line."""
    from models.persistence import ModelError, load_model
    from pipeline.classify_io import classify_file

    settings = get_settings()
    try:
        model = load_model(settings.model_dir, settings.review_threshold)
    except ModelError as exc:
        raise click.ClickException(str(exc)) from exc
    written, errors = classify_file(model, input_file, output_file)
    click.echo(f"{written} rows written to {output_file}")
    for error in errors:
        click.echo(f"error: {error}", err=True)
    if errors:
        sys.exit(1)


@main.command()
def reclassify() -> None:
    """Classify the stored items that were stored unclassified (no usable model at the time)."""
    from models.persistence import ModelError, load_model
    from pipeline.reclassify import reclassify as run_reclassify
    from pipeline.runtime import shared_engine

    settings = get_settings()
    try:
        model = load_model(settings.model_dir, settings.review_threshold)
    except ModelError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(run_reclassify(shared_engine(), model).summary() + f" with model {model.version}")


@main.group()
def spool() -> None:
    """The local spool of records that wait while the database is unreachable."""


@spool.command("status")
def spool_status() -> None:
    """How many records wait in the spool, and since when."""
    from pipeline.runtime import configured_spool
    from pipeline.spool import SpoolError

    try:
        status = configured_spool().status()
    except SpoolError as exc:
        raise click.ClickException(str(exc)) from exc
    since = f", oldest spooled {status.oldest:%Y-%m-%d %H:%M:%S %Z}" if status.oldest else ""
    click.echo(f"{status.items} records and {status.entries - status.items} error entries wait in "
               f"{status.path} ({status.size_bytes:,} bytes){since}")


@spool.command("flush")
def spool_flush() -> None:
    """Write what waits in the spool to the database now; exit 1 if some still has to wait."""
    from pipeline.runtime import configured_spool, shared_ingestor
    from pipeline.spool import SpoolError

    ingestor = shared_ingestor()
    report = ingestor.flush_spool(force=True)
    click.echo(report.summary())
    try:
        left = configured_spool().pending()
    except SpoolError as exc:
        raise click.ClickException(str(exc)) from exc
    for failure in report.failures:
        click.echo(f"error: {failure.url or failure.source}: {failure.reason}", err=True)
    if left:
        raise click.ClickException(f"{left} entries still wait in the spool: the database is unreachable")


@main.command()
@click.option("--with-reviews", is_flag=True, help="Add monitors' confirmed labels from the database.")
def train(with_reviews: bool) -> None:
    """Train the classifier from the labelled corpus and save it with its model card."""
    from models.train import train as run_training

    settings = get_settings()
    extra = []
    if with_reviews:
        from pipeline.review import reviewed_examples
        from pipeline.runtime import shared_engine

        extra = reviewed_examples(shared_engine())
        click.echo(f"adding {len(extra)} reviewed items")
    card = run_training(settings.training_dir, settings.model_dir, extra)
    held = card["held_out"]
    click.echo(
        f"model {card['version']}: {card['training_items']} items, held-out macro-F1 "
        f"{held['macro_f1']:.3f}, relevance-F1 {held['relevance_f1']:.3f}, critical→misleading "
        f"{held['critical_as_misleading']:.1%}"
    )


@main.command()
@click.option("--folds", default=5, show_default=True, help="Cross-validation folds (0 skips).")
@click.option("--real-news", is_flag=True,
              help="Instead: relevance of the trained model on the labelled real news in the shared folder.")
def evaluate(folds: int, real_news: bool) -> None:
    """Print held-out and cross-validated scores, for news and social separately."""
    from models.corpus import load_corpus
    from models.train import cross_validate, fit, held_out_split

    if real_news:
        _evaluate_real_news()
        return
    items = load_corpus(get_settings().training_dir)
    train_items, test_items = held_out_split(items)
    model = fit(train_items, version="held-out")
    _print_by_kind("held-out", test_items, model.classify([i.as_input() for i in test_items]))
    if folds:
        pooled, results = cross_validate(items, folds)
        _print_by_kind(f"{folds}-fold cross-validation", pooled, results)


def _evaluate_real_news() -> None:
    from models.persistence import load_model
    from models.relevance_eval import evaluate_real_news

    settings = get_settings()
    news_dir = settings.shared_dir / "data" / "real-news"
    if not news_dir.is_dir():
        raise click.ClickException(f"no real news at {news_dir}; set COOPWATCH_SHARED_DIR")
    model = load_model(settings.model_dir)
    eval_dir = Path(__file__).resolve().parent.parent / "data" / "eval"
    for line in (s.line() for s in evaluate_real_news(model, news_dir, eval_dir)):
        click.echo(line)


def _print_by_kind(title: str, items: Sequence[object], results: Sequence[object]) -> None:
    from models.evaluate import format_evaluation, score

    click.echo(format_evaluation(f"{title}, all", score(items, results)))  # type: ignore[arg-type]
    for kind in ("news", "social"):
        pairs = [(i, r) for i, r in zip(items, results) if i.kind == kind]  # type: ignore[attr-defined]
        if pairs:
            subset, subset_results = zip(*pairs)
            click.echo(format_evaluation(f"{title}, {kind}", score(subset, subset_results)))


@main.command()
@click.option("--output", "output_file", required=True, type=click.Path(path_type=Path))
def export(output_file: Path) -> None:
    """Write every stored item with its fields as JSONL."""
    from pipeline.export import export_items
    from pipeline.runtime import shared_engine

    click.echo(f"{export_items(shared_engine(), output_file)} items written to {output_file}")


@main.command("report")
@click.option("--week", required=True, help="ISO week in Vietnam time, e.g. 2026-W47.")
@click.option("--format", "fmt", type=click.Choice(["md", "html", "pdf"]), default="md", show_default=True)
@click.option("--output", "output_file", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--lang", type=click.Choice(["vi", "en"]), default="vi", show_default=True)
def weekly_report(week: str, fmt: str, output_file: Path, lang: str) -> None:
    """Write the weekly report for leaders (this week against last) as Markdown, HTML or PDF."""
    from models.narratives import NarrativeError, load_library
    from pipeline.report import build_report
    from pipeline.report_render import render, write_file
    from pipeline.runtime import shared_engine
    from pipeline.weeks import Week, WeekError

    try:
        parsed = Week.parse(week)
        library = load_library(get_settings().narratives_path)
    except (WeekError, NarrativeError) as exc:
        raise click.ClickException(str(exc)) from exc
    data = render(build_report(shared_engine(), parsed, library), fmt, lang)
    try:
        write_file(output_file, data)
    except OSError as exc:
        raise click.ClickException(f"cannot write {output_file}: {exc}") from exc
    click.echo(f"weekly report {parsed} ({fmt}, {len(data):,} bytes) written to {output_file}")


@main.command()
@click.option("--port", default=8501, show_default=True, type=int)
def dashboard(port: int) -> None:
    """Serve the Streamlit dashboard on 127.0.0.1:PORT."""
    from pipeline.runtime import shared_engine
    from pipeline.security import DemoAccountsPresent, refuse_demo_accounts

    try:
        refuse_demo_accounts(shared_engine(), get_settings())
    except DemoAccountsPresent as exc:
        raise click.ClickException(str(exc)) from exc
    scheme = "https" if get_settings().tls_cert_file else "http"
    click.echo(f"dashboard on {scheme}://127.0.0.1:{port}/")
    _exec_streamlit(port)


def _exec_streamlit(port: int) -> None:
    from pipeline.config import ConfigError

    settings = get_settings()
    # Streamlit reads these from the environment, which keeps the secret off the command line.
    env = {**os.environ, "STREAMLIT_SERVER_ENABLE_XSRF_PROTECTION": "true"}
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
        "--server.headless", "true", "--browser.gatherUsageStats", "false",
    ]
    os.execve(sys.executable, command, env)


@main.command()
@click.option("--sources", "sources_file", type=click.Path(exists=True, path_type=Path), default=None,
              help="YAML list of sources [default: COOPWATCH_WATCH_SOURCES or data/sources.yaml].")
@click.option("--list-jobs", is_flag=True, help="Print the jobs and their next runs, then exit.")
def watch(sources_file: Optional[Path], list_jobs: bool) -> None:
    """Run continuously: crawls at each source's interval, alerts, nightly retraining, Monday report."""
    from crawlers.sources import SourcesError, load_sources
    from pipeline.runtime import shared_engine
    from pipeline.watch import Jobs, WatchError, build_scheduler, run, setup_file_logging

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

    from pipeline.alerts import AlertConfigError, evaluate, format_alert, recent_alerts
    from pipeline.runtime import shared_engine
    from pipeline.schema import utcnow

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
    from pipeline.runtime import shared_engine
    from pipeline.users import UserError, add_user

    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        add_user(shared_engine(), name, role, password)
    except UserError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"user {name} ({role}) saved")


@main.command()
@click.option("--port", default=8501, show_default=True, type=int, help="Dashboard port.")
@click.option("--site-port", default=8765, show_default=True, type=int, help="Demo site port.")
@click.option("--no-dashboard", is_flag=True, help="Stop after the crawl.")
def demo(port: int, site_port: int, no_dashboard: bool) -> None:
    """The whole demo: database, model, demo site, crawl, ingest, then the dashboard."""
    from crawlers.demosite.server import serve_in_background
    from models.persistence import model_exists
    from models.train import train as run_training
    from pipeline.db import migrate
    from pipeline.runtime import shared_engine
    from pipeline.users import create_demo_accounts

    settings = get_settings()
    click.echo("[1/5] database: applying migrations")
    migrate()
    click.echo("[2/5] classifier")
    if model_exists(settings.model_dir):
        click.echo(f"      using the model in {settings.model_dir}")
    else:
        click.echo(f"      training from {settings.training_dir} (first run only)")
        run_training(settings.training_dir, settings.model_dir)
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


if __name__ == "__main__":
    main()
