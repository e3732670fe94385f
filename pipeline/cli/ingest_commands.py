"""Commands that bring items in: init, crawl, ingest, import, sources, the spool, the demo site."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Iterator, Optional, Sequence

import click
from tqdm import tqdm

from pipeline.cli.group import DEMO_SOURCES, main
from pipeline.core.config import get_settings

if TYPE_CHECKING:
    from pipeline.ingest.summary import IngestReport


@main.command()
def init() -> None:
    """Create or upgrade the database schema (Alembic migrations)."""
    from pipeline.core.db import migrate

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
    from pipeline.core.health import source_health
    from pipeline.ingest.runtime import shared_engine

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
    from pipeline.ingest.runtime import shared_ingestor

    settings = get_settings()
    # No progress-monitor thread: ingest workers are forked, and a fork should see one thread.
    tqdm.monitor_interval = 0
    records = tqdm(_raw_inputs(input_file), desc="ingest", unit="rec")
    _report(shared_ingestor().ingest(records, batch_size=settings.ingest_batch_size,
                                     workers=workers or settings.ingest_workers))


def _raw_inputs(path: Path) -> Iterator[object]:
    from pipeline.ingest.records import records_from_jsonl

    return records_from_jsonl(path, get_settings().max_record_bytes)


@main.command("import")
@click.argument("export_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--map", "mappings", multiple=True, metavar="FIELD=COLUMN",
              help="Column of the export holding a field (platform, page, url, text, "
                   "published_at, reactions, shares); repeatable.")
def import_posts(export_file: Path, mappings: Sequence[str]) -> None:
    """Import a CSV or JSONL export of public social posts."""
    from pipeline.ingest.runtime import shared_ingestor
    from pipeline.ingest.social_import import MappingError, column_mapping, import_records

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


@main.group()
def spool() -> None:
    """The local spool of records that wait while the database is unreachable."""


@spool.command("status")
def spool_status() -> None:
    """How many records wait in the spool, and since when."""
    from pipeline.ingest.runtime import configured_spool
    from pipeline.ingest.spool import SpoolError

    try:
        status = configured_spool().status()
    except SpoolError as exc:
        raise click.ClickException(str(exc)) from exc
    since = f", oldest spooled {status.oldest:%Y-%m-%d %H:%M:%S %Z}" if status.oldest else ""
    click.echo(f"{status.items} records and {status.entries - status.items} error entries wait in "
               f"{status.path} ({status.size_bytes:,} bytes){since}")


@spool.command("flush")
@click.option("--from", "from_url", metavar="URL", default=None,
              help="Replay the spool kept for this other database URL (e.g. one configured by "
                   "mistake) into the configured database.")
def spool_flush(from_url: Optional[str]) -> None:
    """Write what waits in the spool to the database now; exit 1 if some still has to wait."""
    from pipeline.ingest.runtime import configured_spool, shared_ingestor, spool_ingestor
    from pipeline.ingest.spool import SpoolError

    source = configured_spool(from_url)
    if from_url and not source.path.exists():
        raise click.ClickException(f"no spool was kept for {from_url} (looked for {source.path})")
    ingestor = spool_ingestor(source) if from_url else shared_ingestor()
    report = ingestor.flush_spool(force=True)
    click.echo(report.summary())
    try:
        left = source.pending()
    except SpoolError as exc:
        raise click.ClickException(str(exc)) from exc
    for failure in report.failures:
        click.echo(f"error: {failure.url or failure.source}: {failure.reason}", err=True)
    if left:
        raise click.ClickException(f"{left} entries still wait in the spool: the database is unreachable")
