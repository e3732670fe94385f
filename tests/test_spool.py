"""The ingest spool: records wait on local disk while the database is unreachable, none lost."""
from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest
from sqlalchemy import create_engine, event, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from pipeline.core.db import make_engine, migrate
from pipeline.ingest.ingestor import Ingestor
from pipeline.ingest.prepare import prepare_entry
from pipeline.ingest.records import RecordFailure
from pipeline.ingest.records import RawRecord
from pipeline.core.schema import IngestError, Item, StoryCluster
from pipeline.ingest.spool import ITEM, Spool, decode_item, encode_item
from tests.conftest import POSTGRES_ADMIN_URL
from tests.test_ingest import wire_copies

TOWNS = ("Tân Phú", "Hòa Bình", "Phú Lễ", "Đồng Tiến", "An Khánh", "Mỹ Hòa", "Bình Minh", "Long Sơn",
         "Thạch Hà", "Kỳ Anh", "Cẩm Xuyên", "Vĩnh Lộc")
CROPS = ("lúa", "cà phê", "hồ tiêu", "bò sữa", "nấm rơm", "mật ong", "thanh long", "chè")


def posts(prefix: str, count: int) -> list[RawRecord]:
    """Distinct social posts about cooperatives, one canonical URL each."""
    return [
        RawRecord(
            url=f"https://forum.example.vn/{prefix}/{n}", source="forum", outlet="Diễn đàn nhà nông",
            kind="social",
            text=(f"HTX {CROPS[n % len(CROPS)]} {TOWNS[n % len(TOWNS)]} vừa họp đại hội thành viên lần "
                  f"thứ {n + 3}, thống nhất chia lãi {n + 2} triệu đồng mỗi hộ ({prefix})."),
        )
        for n in range(count)
    ]


def stored_urls(engine) -> list[str]:
    with Session(engine) as session:
        return list(session.scalars(select(Item.canonical_url)))


def test_a_prepared_item_comes_back_from_the_spool_unchanged(tmp_path: Path) -> None:
    items = [prepare_entry(record) for record in wire_copies() + posts("rt", 2)]
    spool = Spool(tmp_path / "spool.sqlite3")
    spool.append([(ITEM, encode_item(item)) for item in items])
    with spool.claim(10) as entries:
        back = [decode_item(entry.payload) for entry in entries]
    assert back == items  # every field, the enrichment and the signature included
    assert back[-1].enrichment.cooperatives and back[0].published_at.utcoffset() is not None
    assert spool.pending() == 0


def test_entries_leave_the_spool_only_when_their_replay_succeeds(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool.sqlite3")
    assert spool.pending() == 0 and not spool.path.exists()  # nothing made before it is needed
    spool.append([(ITEM, {"n": n}) for n in range(5)])
    with pytest.raises(RuntimeError):
        with spool.claim(3) as entries:
            assert [e.payload["n"] for e in entries] == [0, 1, 2]
            raise RuntimeError("database went away mid-replay")
    assert spool.pending() == 5
    with spool.claim(3) as entries:
        assert [e.payload["n"] for e in entries] == [0, 1, 2]  # oldest first, again
    with spool.claim(3) as entries:
        assert [e.payload["n"] for e in entries] == [3, 4]
    assert spool.pending() == 0 and spool.check() == ["ok"]


@contextmanager
def outage(url: str) -> Iterator[None]:
    """The database unreachable for the duration, then back.

    PostgreSQL: new connections refused and the open ones (the pool's) killed. SQLite: another
    process-like connection holds the write lock, so writers time out with "database is locked".
    """
    if make_url(url).get_backend_name() == "postgresql":
        name = make_url(url).database
        admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
            connection.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                    "WHERE datname = :name AND pid <> pg_backend_pid()"), {"name": name})
        try:
            with pytest.raises(OperationalError):  # really unreachable
                create_engine(url).connect()
            yield
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
            admin.dispose()
    else:
        blocker = sqlite3.connect(make_url(url).database, isolation_level=None)
        blocker.execute("BEGIN EXCLUSIVE")
        try:
            yield
        finally:
            blocker.execute("ROLLBACK")
            blocker.close()


def impatient_engine(url: str):
    """The ingest engine; on SQLite it gives up on a lock after 0.2 s instead of 30 s."""
    engine = make_engine(url)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", lambda dbapi, _: dbapi.execute("PRAGMA busy_timeout=200"))
    return engine


@pytest.mark.database
@pytest.mark.parametrize("database", ["db_url", "postgres_url"])
def test_records_ingested_during_an_outage_are_stored_exactly_once_when_it_ends(
        request, database: str, classifier, tmp_path: Path) -> None:
    url = request.getfixturevalue(database)
    migrate(url)
    engine = impatient_engine(url)
    spool = Spool(tmp_path / "spool.sqlite3")
    ingestor = Ingestor(engine, classifier, spool=spool, retry_seconds=0)
    before = ingestor.ingest(posts("before", 4))
    assert before.stored == 4
    during = posts("during", 9)
    bad = RecordFailure("line 7: invalid JSON", 7, source="upload.jsonl")
    with outage(url):
        first = ingestor.ingest_batch([*during[:5], bad])
        # A page stored before the outage comes again, and the story of the wire copies starts.
        second = ingestor.ingest_batch([*during[5:], posts("before", 1)[0], *wire_copies()])
    assert (first.spooled, second.spooled) == (5, 8)
    assert first.stored == second.stored == 0
    assert first.failures == [bad] and second.failures == []  # the outage is no failure
    assert spool.pending() == 5 + 1 + 8  # the rejected line waits to be logged too

    after = ingestor.ingest(posts("after", 2))
    assert spool.pending() == 0
    # The replay is noted, but the batch's counts stay its own (a crawl's per-source figures).
    assert (after.from_spool, after.stored, after.already_stored) == (13, 2, 0)
    urls = stored_urls(engine)
    assert len(urls) == len(set(urls)) == 4 + 9 + 3 + 2
    with Session(engine) as session:
        cluster = session.scalars(select(StoryCluster).where(StoryCluster.first_url.contains("hoi-nghi"))).one()
        # One story of three copies, the earliest first, as without an outage.
        assert (cluster.size, cluster.first_outlet) == (3, "kinhtehoptac")
        assert session.scalar(select(func.count()).where(Item.relevant.is_(None))) == 0
        assert session.scalars(select(IngestError.reason)).all() == ["line 7: invalid JSON"]
    # Replaying the same records again (a restarted crawler) doubles nothing.
    again = ingestor.ingest([*during, *wire_copies()])
    assert again.already_stored == 12 and again.stored == 0
    engine.dispose()


def test_while_the_database_is_down_batches_wait_without_trying_it_each_time(db_url: str, tmp_path: Path) -> None:
    engine = impatient_engine(db_url)
    spool = Spool(tmp_path / "spool.sqlite3")
    ingestor = Ingestor(engine, None, spool=spool, retry_seconds=3600)
    with outage(db_url):
        assert ingestor.ingest_batch(posts("a", 2)).spooled == 2
    # The database is back, but the next try is an hour away: order is kept by spooling.
    assert ingestor.ingest_batch(posts("b", 2)).spooled == 2
    assert stored_urls(engine) == []
    flushed = ingestor.flush_spool(force=True)
    assert flushed.from_spool == 4 and flushed.stored == 4 and spool.pending() == 0
    engine.dispose()


def run_cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pipeline.cli", *args], capture_output=True, text=True,
                          env={**os.environ, **env}, timeout=300)


def test_ingest_command_during_an_outage_then_spool_flush(postgres_url: str, model_dir: Path,
                                                          tmp_path: Path) -> None:
    migrate(postgres_url)
    raw = tmp_path / "raw.jsonl"
    raw.write_text("\n".join(
        f'{{"url": "{p.url}", "kind": "social", "source": "forum", "text": "{p.text}"}}' for p in posts("cli", 6)
    ) + "\n", encoding="utf-8")
    env = {"COOPWATCH_DATABASE_URL": postgres_url, "COOPWATCH_MODEL_DIR": str(model_dir),
           "COOPWATCH_INGEST_WORKERS": "1"}
    with outage(postgres_url):
        result = run_cli(["ingest", "--input", str(raw)], env)
        assert result.returncode == 0, result.stderr[-2000:]
        assert "6 records wait in the local spool" in result.stderr
        status = run_cli(["spool", "status"], env)
        assert status.stdout.startswith("6 records and 0 error entries wait in")
        still_down = run_cli(["spool", "flush"], env)
        assert still_down.returncode == 1 and "6 entries still wait" in still_down.stderr
    done = run_cli(["spool", "flush"], env)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "stored 6" in done.stdout and "written from the spool 6" in done.stdout
    engine = create_engine(postgres_url)
    assert len(stored_urls(engine)) == 6
    engine.dispose()
    assert run_cli(["spool", "status"], env).stdout.startswith("0 records")


def test_a_whole_crawl_during_an_outage_is_stored_once_the_database_is_back(
        postgres_url: str, demo_site, model_dir: Path) -> None:
    from crawlers.demosite.content import load_articles, load_posts
    from tests.test_end_to_end import DEMO_SOURCES

    _, base_url = demo_site
    migrate(postgres_url)
    env = {"COOPWATCH_DATABASE_URL": postgres_url, "COOPWATCH_MODEL_DIR": str(model_dir),
           "COOPWATCH_DEMO_URL": base_url}
    with outage(postgres_url):
        crawl = run_cli(["crawl", "--sources", str(DEMO_SOURCES)], env)
        assert crawl.returncode == 0, crawl.stderr[-3000:]
        assert "crawl not recorded in the health table, the database is unreachable" in crawl.stderr
    total = len(load_articles()) + len(load_posts())
    flushed = run_cli(["spool", "flush"], env)
    assert flushed.returncode == 0, flushed.stderr[-3000:]
    assert f"written from the spool {total}" in flushed.stdout
    engine = create_engine(postgres_url)
    urls = stored_urls(engine)
    assert len(urls) == len(set(urls)) == total
    engine.dispose()


def test_records_spooled_under_a_wrong_database_url_are_replayed_into_the_right_one(
        db_url: str, tmp_path: Path) -> None:
    migrate(db_url)
    wrong = "postgresql+psycopg://postgres@127.0.0.1:1/coopwatch"  # nothing listens there
    raw = tmp_path / "raw.jsonl"
    raw.write_text("\n".join(
        f'{{"url": "{p.url}", "kind": "social", "source": "forum", "text": "{p.text}"}}' for p in posts("sai", 3)
    ) + "\n", encoding="utf-8")
    base = {"COOPWATCH_MODEL_DIR": str(tmp_path / "no-model"), "COOPWATCH_INGEST_WORKERS": "1",
            "COOPWATCH_SPOOL_DIR": str(tmp_path / "spool")}
    spooled = run_cli(["ingest", "--input", str(raw)], {**base, "COOPWATCH_DATABASE_URL": wrong})
    assert spooled.returncode == 0 and "3 records wait in the local spool" in spooled.stderr
    right = {**base, "COOPWATCH_DATABASE_URL": db_url}
    assert run_cli(["spool", "flush"], right).stdout.startswith("received 0")  # its own spool is empty
    missing = run_cli(["spool", "flush", "--from", "sqlite:///nowhere.db"], right)
    assert missing.returncode == 1 and "no spool was kept" in missing.stderr
    moved = run_cli(["spool", "flush", "--from", wrong], right)
    assert moved.returncode == 0, moved.stderr[-2000:]
    assert "written from the spool 3" in moved.stdout
    engine = create_engine(db_url)
    assert len(stored_urls(engine)) == 3
    engine.dispose()
