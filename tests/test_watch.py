"""`coopwatch watch`: the schedule built from sources.yaml, its jobs, and a real run stopped by SIGTERM."""
from __future__ import annotations

import logging
import os
import signal
import stat
import subprocess
import sys
import time
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crawlers.sources import SourcesError, load_sources
from models.persistence import load_card
from pipeline.core.config import get_settings
from pipeline.core.db import make_engine
from pipeline.core.schema import CrawlRun, Item, Review
from pipeline.watch.schedule import (
    STAGGER_SECONDS,
    At,
    Jobs,
    WatchError,
    build_scheduler,
    new_reviews_since_model,
    setup_file_logging,
)

VN = ZoneInfo("Asia/Ho_Chi_Minh")
WEDNESDAY = datetime(2026, 11, 18, 10, 30, tzinfo=VN)

SOURCES = """\
sources:
  - {name: fast-feed, outlet: Báo Nhanh, kind: rss, url: "${demo_url}/nongthonmoi/rss.xml", interval: 10}
  - {name: plain-feed, outlet: Báo Thường, kind: rss, url: "${demo_url}/kinhtehoptac/rss.xml"}
  - name: slow-section
    outlet: Báo Chậm
    kind: section
    url: "${demo_url}/baotinhbinhminh/"
    interval: 180
    max_pages: 2
"""


@pytest.fixture
def sources_file(tmp_path: Path) -> Path:
    path = tmp_path / "sources.yaml"
    path.write_text(SOURCES, encoding="utf-8")
    return path


def watch_settings(tmp_path: Path, **changes: object):
    base = replace(get_settings(), crawl_interval_minutes=45, alert_interval_minutes=15,
                   retrain_at="02:00", report_at="mon 06:00", reports_dir=tmp_path / "reports",
                   log_file=tmp_path / "log" / "watch.log", timezone="Asia/Ho_Chi_Minh")
    return replace(base, **changes)  # type: ignore[arg-type]


def test_scheduler_follows_the_sources_file(tmp_path: Path, sources_file: Path, engine) -> None:
    settings = watch_settings(tmp_path)
    sources = load_sources(sources_file, {"demo_url": "http://127.0.0.1:1"})
    scheduler = build_scheduler(settings, sources, Jobs(settings, sources_file, engine), now=WEDNESDAY)
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs) == {"crawl:fast-feed", "crawl:plain-feed", "crawl:slow-section", "alerts",
                         "retrain", "weekly-report"}

    minutes = {name: jobs[f"crawl:{name}"].trigger.interval for name in ("fast-feed", "plain-feed", "slow-section")}
    assert minutes == {"fast-feed": timedelta(minutes=10), "plain-feed": timedelta(minutes=45),
                       "slow-section": timedelta(minutes=180)}
    assert jobs["crawl:fast-feed"].args == ("fast-feed",)
    # First crawls start at once, a few seconds apart; then every interval.
    assert [jobs[f"crawl:{s.name}"].next_run_time for s in sources] == [
        WEDNESDAY + timedelta(seconds=STAGGER_SECONDS * n) for n in range(3)]
    assert jobs["alerts"].trigger.interval == timedelta(minutes=15)

    retrain = jobs["retrain"].trigger.get_next_fire_time(None, WEDNESDAY)
    assert retrain == datetime(2026, 11, 19, 2, 0, tzinfo=VN)
    report = jobs["weekly-report"].trigger
    monday = report.get_next_fire_time(None, WEDNESDAY)
    assert monday.isoformat() == "2026-11-23T06:00:00+07:00" and monday.weekday() == 0
    assert str(monday.tzinfo) == "Asia/Ho_Chi_Minh"
    assert monday.astimezone(timezone.utc) == datetime(2026, 11, 22, 23, 0, tzinfo=timezone.utc)
    assert report.get_next_fire_time(None, datetime(2026, 11, 23, 5, 59, tzinfo=VN)) == monday
    assert report.get_next_fire_time(None, datetime(2026, 11, 23, 6, 1, tzinfo=VN)) == \
        datetime(2026, 11, 30, 6, 0, tzinfo=VN)


def test_bad_schedule_settings_are_refused(tmp_path: Path, sources_file: Path, engine) -> None:
    sources = load_sources(sources_file, {"demo_url": "http://127.0.0.1:1"})
    for changes, variable in (({"report_at": "monday at six"}, "COOPWATCH_REPORT_AT"),
                              ({"retrain_at": "25:00"}, "COOPWATCH_RETRAIN_AT"),
                              ({"alert_window_hours": 5}, "COOPWATCH_ALERT_WINDOW_HOURS")):
        settings = watch_settings(tmp_path, **changes)
        with pytest.raises(WatchError, match=variable):
            build_scheduler(settings, sources, Jobs(settings, sources_file, engine))
    assert At.parse("Mon 6:00", "X") == At(6, 0, "mon")


def test_a_bad_interval_names_the_source(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text('sources:\n  - {name: feed, outlet: O, kind: rss, url: "https://a.vn/rss", interval: "often"}\n')
    with pytest.raises(SourcesError, match="'feed': interval must be a whole number"):
        load_sources(path)


def fake_python(tmp_path: Path, exit_code: int = 0) -> tuple[str, Path]:
    """An executable standing in for the interpreter: it records its arguments."""
    record = tmp_path / "argv.txt"
    script = tmp_path / "fake-python"
    script.write_text(f"#!/bin/sh\necho \"$@\" >> {record}\necho 'INFO child says hello'\nexit {exit_code}\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return str(script), record


def test_nightly_retrain_runs_only_after_new_reviews(tmp_path: Path, engine, model_dir: Path, caplog) -> None:
    from tests.test_alerts import Seeder

    settings = watch_settings(tmp_path, model_dir=model_dir)
    python, record = fake_python(tmp_path)
    jobs = Jobs(settings, tmp_path / "sources.yaml", engine, python=python)
    (item_id,) = Seeder(engine).add(datetime.now(timezone.utc), "critical")
    trained_at = datetime.fromisoformat(load_card(model_dir)["trained_at"])
    with Session(engine) as session:  # reviewed before the model was trained: already in it
        session.add(Review(item_id=item_id, reviewer="lan", action="confirm", label="critical",
                           created_at=trained_at - timedelta(hours=1)))
        session.commit()
    assert new_reviews_since_model(engine, model_dir) == 0
    assert jobs.retrain() is None and not record.exists()

    with Session(engine) as session:
        session.add(Review(item_id=item_id, reviewer="lan", action="relabel", label="neutral"))
        session.add(Review(item_id=item_id, reviewer="lan", action="note", note="xem lại"))
        session.commit()
    assert new_reviews_since_model(engine, model_dir) == 1  # a note decides nothing
    with caplog.at_level(logging.INFO, logger="coopwatch.watch"):
        assert jobs.retrain() == 0
    assert record.read_text().split() == ["-m", "pipeline.cli", "train", "--with-reviews"]
    assert "[train] INFO child says hello" in caplog.text


def test_stop_forwards_sigterm_to_a_running_crawl(tmp_path: Path, engine, caplog) -> None:
    import threading

    script = tmp_path / "slow-python"
    started = tmp_path / "started"
    # Stands in for a crawl still starting up: no handler, so SIGTERM ends it at once.
    script.write_text(f"#!/bin/sh\ntouch {started}\nexec sleep 60\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    jobs = Jobs(watch_settings(tmp_path), tmp_path / "sources.yaml", engine, python=str(script))
    codes: list[object] = []
    thread = threading.Thread(target=lambda: codes.append(jobs.crawl("feed")))
    with caplog.at_level(logging.INFO, logger="coopwatch.watch"):
        thread.start()
        deadline = time.monotonic() + 30
        while not started.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        jobs.stop()
        thread.join(timeout=30)
    assert codes == [-signal.SIGTERM]
    assert "forwarding SIGTERM to process" in caplog.text
    assert "crawl feed: stopped during start-up" in caplog.text
    assert jobs.crawl("other") is None  # nothing new starts once stopping


def test_weekly_report_job_writes_last_weeks_report(tmp_path: Path, engine) -> None:
    pytest.importorskip("pipeline.report.build", reason="the weekly report module is not in this tree")
    settings = watch_settings(tmp_path, report_formats=("md",))
    jobs = Jobs(settings, tmp_path / "sources.yaml", engine)
    (path,) = jobs.weekly_report(now=datetime(2026, 11, 23, 6, 0, tzinfo=VN))
    assert path == tmp_path / "reports" / "coopwatch-2026-W47-vi.md"
    assert path.stat().st_size > 0


def test_weekly_report_failure_is_logged_clearly(tmp_path: Path, engine, caplog) -> None:
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("")
    settings = watch_settings(tmp_path, reports_dir=blocked / "reports", report_formats=("md",))
    jobs = Jobs(settings, tmp_path / "sources.yaml", engine)
    with caplog.at_level(logging.ERROR, logger="coopwatch.watch"):
        assert jobs.weekly_report(now=datetime(2026, 11, 23, 6, 0, tzinfo=VN)) == []
    assert "weekly report 2026-W47 (md) not written" in caplog.text
    settings = watch_settings(tmp_path, report_formats=("docx",))
    jobs = Jobs(settings, tmp_path / "sources.yaml", engine)
    with caplog.at_level(logging.ERROR, logger="coopwatch.watch"):
        assert jobs.weekly_report(now=datetime(2026, 11, 23, 6, 0, tzinfo=VN)) == []
    assert "weekly report 2026-W47 (docx) not written" in caplog.text


def test_log_file_rotates(tmp_path: Path) -> None:
    settings = watch_settings(tmp_path, log_max_bytes=2000, log_backups=2)
    handler = setup_file_logging(settings)
    try:
        log = logging.getLogger("coopwatch.watch.test")
        for n in range(200):
            log.warning("dòng nhật ký số %d", n)
    finally:
        logging.getLogger().removeHandler(handler)
        handler.close()
    files = sorted(p.name for p in settings.log_file.parent.iterdir())
    assert files == ["watch.log", "watch.log.1", "watch.log.2"]
    assert "dòng nhật ký số 199" in settings.log_file.read_text(encoding="utf-8")
    assert all(p.stat().st_size <= 2000 for p in settings.log_file.parent.iterdir())


def test_watch_stops_cleanly_on_sigterm(tmp_path: Path, demo_site, model_dir: Path, db_url: str) -> None:
    _, base_url = demo_site
    engine = make_engine(db_url)
    sources = tmp_path / "sources.yaml"
    sources.write_text('sources:\n  - {name: nongthonmoi-rss, outlet: Báo Nông Thôn Mới, kind: rss, '
                       'url: "${demo_url}/nongthonmoi/rss.xml", interval: 1}\n', encoding="utf-8")
    log_file = tmp_path / "log" / "watch.log"
    env = {**os.environ, "COOPWATCH_DATABASE_URL": db_url, "COOPWATCH_MODEL_DIR": str(model_dir),
           "COOPWATCH_DEMO_URL": base_url, "COOPWATCH_LOG_FILE": str(log_file),
           "COOPWATCH_REPORTS_DIR": str(tmp_path / "reports"),
           # Small batches: the first items are stored while the crawl is still running.
           "COOPWATCH_INGEST_BATCH": "2"}
    watcher = subprocess.Popen([sys.executable, "-m", "pipeline.cli", "watch", "--sources", str(sources)],
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

    def stored() -> int:
        with Session(engine) as session:
            return session.scalar(select(func.count(Item.id))) or 0

    try:
        deadline = time.monotonic() + 120
        while stored() == 0 and watcher.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert watcher.poll() is None, watcher.stdout.read() if watcher.stdout else ""
        assert stored() > 0, "the first crawl should have stored items by now"
        watcher.send_signal(signal.SIGTERM)
        output, _ = watcher.communicate(timeout=120)
    finally:
        if watcher.poll() is None:
            watcher.kill()
    assert watcher.returncode == 0, output[-3000:]

    # Scrapy answered the forwarded SIGTERM by finishing the requests it held, storing their
    # items and recording the run: nothing half-done, and the crawl exited 0.
    with Session(engine) as session:
        (run,) = session.scalars(select(CrawlRun)).all()
    assert run.source == "nongthonmoi-rss" and run.new == stored() > 0
    log = log_file.read_text(encoding="utf-8")
    lines = [line for line in log.splitlines() if " coopwatch.watch: " in line]
    order = ["crawl nongthonmoi-rss: started", "SIGTERM received", "forwarding SIGTERM to process",
             "crawl nongthonmoi-rss: finished", "watcher stopped cleanly"]
    positions = [next(n for n, line in enumerate(lines) if text in line) for text in order]
    assert positions == sorted(positions), log[-3000:]
    assert "[crawl nongthonmoi-rss]" in log and "stored" in log  # the crawl's own output, same file
    engine.dispose()
