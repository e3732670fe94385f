"""`coopwatch watch`: crawls, alerts, nightly retraining and the weekly report on a schedule.

APScheduler runs the jobs in a small thread pool, in Vietnam time. Each crawl runs as its
own `coopwatch crawl --only NAME` process, because Scrapy's reactor cannot be restarted
within one Python process. SIGTERM (or Ctrl-C) stops scheduling, forwards SIGTERM to running
crawls, which Scrapy answers by finishing the requests in flight and storing their items,
waits for every running job, and exits 0.
"""
from __future__ import annotations

import logging
import logging.handlers
import re
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import Callable, Optional, Sequence
from zoneinfo import ZoneInfo

from apscheduler.events import EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import Engine, func, inspect, select
from sqlalchemy.orm import Session

from crawlers.sources import Source
from pipeline.watch.alerts import AlertConfigError, Windows
from pipeline.core.config import Settings

logger = logging.getLogger("coopwatch.watch")

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Seconds between the first crawls of consecutive sources, so a start does not launch them all at once.
STAGGER_SECONDS = 5
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_TIME = re.compile(r"^(?:(mon|tue|wed|thu|fri|sat|sun)\s+)?([01]?\d|2[0-3]):([0-5]\d)$")
_CHILD_LEVEL = re.compile(r" (DEBUG|INFO|WARNING|ERROR|CRITICAL) ")


class WatchError(ValueError):
    """Raised when the watcher cannot start; the text names the setting at fault."""


@dataclass(frozen=True)
class At:
    """A time of day, optionally on one weekday, parsed from e.g. "02:00" or "mon 06:00"."""

    hour: int
    minute: int
    day_of_week: Optional[str] = None

    @classmethod
    def parse(cls, text: str, variable: str) -> "At":
        match = _TIME.match(text.strip().lower())
        if not match:
            raise WatchError(f"{variable} must look like 02:00 or mon 06:00, got {text!r}")
        return cls(int(match.group(2)), int(match.group(3)), match.group(1))

    def trigger(self, tz: ZoneInfo) -> CronTrigger:
        return CronTrigger(day_of_week=self.day_of_week, hour=self.hour, minute=self.minute, timezone=tz)


def setup_file_logging(settings: Settings) -> logging.Handler:
    """Add a size-rotated log file to the root logger; returns the handler."""
    settings.log_file.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.handlers.RotatingFileHandler(
        settings.log_file, maxBytes=settings.log_max_bytes, backupCount=settings.log_backups,
        encoding="utf-8",
    )
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    root = logging.getLogger()
    root.addHandler(handler)
    if root.level > logging.INFO or root.level == logging.NOTSET:
        root.setLevel(getattr(logging, settings.log_level.upper(), logging.INFO))
    return handler


def interval_minutes(source: Source, settings: Settings) -> int:
    """A source's own interval, else the configured default."""
    return source.interval or settings.crawl_interval_minutes


class Jobs:
    """The work the scheduler runs. Every job returns at once once stopping has begun."""

    def __init__(self, settings: Settings, sources_file: Path, engine: Engine,
                 python: str = sys.executable) -> None:
        self.settings = settings
        self.sources_file = sources_file
        self.engine = engine
        self.python = python
        self.stopping = threading.Event()
        self._children: dict[int, subprocess.Popen[str]] = {}
        self._children_lock = threading.RLock()  # also taken in the signal handler
        self._alerts_lock = threading.Lock()

    # --- jobs ---------------------------------------------------------------------------

    def crawl(self, name: str) -> Optional[int]:
        """Crawl one source in its own process, then evaluate alerts; returns the exit code."""
        if self.stopping.is_set():
            return None
        logger.info("crawl %s: started", name)
        code = self._run_child(["crawl", "--sources", str(self.sources_file), "--only", name],
                               f"crawl {name}", self.settings.crawl_timeout_minutes * 60,
                               forward_stop=True)
        if code == 0:
            logger.info("crawl %s: finished", name)
        elif code == -signal.SIGTERM and self.stopping.is_set():
            # Scrapy installs its graceful handler only once started; before that nothing
            # has been fetched or stored, so ending there loses nothing.
            logger.info("crawl %s: stopped during start-up, before fetching anything", name)
        else:
            logger.error("crawl %s: failed with exit code %s", name, code)
        if not self.stopping.is_set():
            self.alerts()
        return code

    def alerts(self) -> None:
        """Evaluate spikes and deliver pending alerts; one evaluation at a time."""
        from pipeline.watch.alerts import evaluate

        if self.stopping.is_set():
            return
        with self._alerts_lock:
            try:
                result = evaluate(self.engine, self.settings)
            except Exception:  # a broken evaluation must not stop the crawls
                logger.exception("alert evaluation failed")
                return
        if result.raised or result.sent or result.failed:
            logger.info("alerts: %s", result.summary())

    def retrain(self) -> Optional[int]:
        """Retrain with monitors' reviews when there are reviews newer than the model."""
        if self.stopping.is_set():
            return None
        try:
            new = new_reviews_since_model(self.engine, self.settings.model_dir)
        except Exception:
            logger.exception("retrain: cannot count new reviews")
            return None
        if new == 0:
            logger.info("retrain: no reviews since the current model was trained; skipped")
            return None
        logger.info("retrain: %d review(s) since the current model; training", new)
        code = self._run_child(["train", "--with-reviews"], "train", None, forward_stop=False)
        if code != 0:
            logger.error("retrain: training failed with exit code %s; the previous model stays", code)
        return code

    def weekly_report(self, now: Optional[datetime] = None) -> list[Path]:
        """Write last week's report (Monday to Sunday, Vietnam time) into the reports folder."""
        if self.stopping.is_set():
            return []
        tz = ZoneInfo(self.settings.timezone)
        year, number, _ = ((now or datetime.now(tz)).astimezone(tz) - timedelta(days=7)).isocalendar()
        week = f"{year}-W{number:02d}"
        written = []
        for fmt in self.settings.report_formats:
            path = self.settings.reports_dir / f"coopwatch-{week}-{self.settings.report_lang}.{fmt}"
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                _write_report(self.engine, self.settings, week, fmt, path, self._run_child)
            except Exception as exc:
                logger.error("weekly report %s (%s) not written: %s", week, fmt, exc)
                continue
            logger.info("weekly report %s written to %s", week, path)
            written.append(path)
        return written

    # --- stopping and child processes ---------------------------------------------------

    def stop(self) -> None:
        """Refuse new jobs and ask running crawls to finish what they hold."""
        self.stopping.set()
        with self._children_lock:
            children = list(self._children.values())
        for child in children:
            logger.info("forwarding SIGTERM to process %d", child.pid)
            try:
                child.send_signal(signal.SIGTERM)
            except ProcessLookupError:
                pass

    def _run_child(self, args: Sequence[str], label: str, timeout: Optional[float],
                   forward_stop: bool) -> int:
        """Run `coopwatch ARGS` and relay its output into the log; returns its exit code."""
        # A session of its own: a Ctrl-C in the terminal reaches only the watcher, which then
        # forwards one SIGTERM (a second signal would make Scrapy stop without finishing).
        child = subprocess.Popen(
            [self.python, "-m", "pipeline.cli", *args], stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True, encoding="utf-8", errors="replace",
            start_new_session=True,
        )
        if forward_stop:
            with self._children_lock:
                self._children[child.pid] = child
            if self.stopping.is_set():  # stop() ran between the check and the registration
                child.send_signal(signal.SIGTERM)
        relay = threading.Thread(target=_relay, args=(child, label), daemon=True)
        relay.start()
        try:
            code = child.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            logger.error("%s: still running after %.0f s; stopping it", label, timeout or 0)
            child.terminate()
            try:
                code = child.wait(timeout=120)
            except subprocess.TimeoutExpired:
                child.kill()
                code = child.wait()
        finally:
            with self._children_lock:
                self._children.pop(child.pid, None)
        relay.join(timeout=10)
        return code


def _relay(child: subprocess.Popen[str], label: str) -> None:
    """Log each line a child prints, at the level the line itself names."""
    assert child.stdout is not None
    for line in child.stdout:
        line = line.rstrip()
        if not line:
            continue
        match = _CHILD_LEVEL.search(line)
        level = getattr(logging, match.group(1)) if match else logging.INFO
        logger.log(max(level, logging.INFO), "[%s] %s", label, line)


def _write_report(engine: Engine, settings: Settings, week: str, fmt: str, path: Path,
                  run_child: Callable[..., int]) -> None:
    """Build and render the report in this process; fall back to `coopwatch report`."""
    try:
        from models.narratives import load_library
        from pipeline.report.build import build_report
        from pipeline.report.render import render, write_file
        from pipeline.core.weeks import Week
    except ImportError as exc:
        logger.warning("report functions unavailable (%s); running `coopwatch report`", exc)
        code = run_child(["report", "--week", week, "--format", fmt, "--output", str(path),
                          "--lang", settings.report_lang], f"report {week}", 1800, False)
        if code != 0:
            raise RuntimeError(f"`coopwatch report` exited with code {code}")
        return
    report = build_report(engine, Week.parse(week), load_library(settings.narratives_path))
    write_file(path, render(report, fmt, settings.report_lang))


def new_reviews_since_model(engine: Engine, model_dir: Path) -> int:
    """Decisions recorded after the current model was trained (all of them if there is none)."""
    from models.persistence import load_card, model_exists
    from pipeline.core.schema import Review
    from pipeline.review.rules import is_decision

    # Second (blind) reviews never change the training labels, so they do not count.
    query = select(func.count(Review.id)).where(is_decision())
    if model_exists(model_dir):
        trained_at = datetime.fromisoformat(load_card(model_dir)["trained_at"])
        query = query.where(Review.created_at > trained_at)
    with Session(engine) as session:
        return int(session.scalar(query) or 0)


def build_scheduler(settings: Settings, sources: Sequence[Source], jobs: Jobs,
                    now: Optional[datetime] = None) -> BackgroundScheduler:
    """The scheduler with every job added (not started)."""
    tz = ZoneInfo(settings.timezone)
    retrain_at = At.parse(settings.retrain_at, "COOPWATCH_RETRAIN_AT")
    report_at = At.parse(settings.report_at, "COOPWATCH_REPORT_AT")
    if settings.watch_workers < 1 or settings.alert_interval_minutes < 1:
        raise WatchError("COOPWATCH_WATCH_WORKERS and COOPWATCH_ALERT_INTERVAL must be at least 1")
    try:  # refuse alert settings at start rather than logging the same error every 15 minutes
        Windows(settings.alert_window_hours, settings.timezone)
    except AlertConfigError as exc:
        raise WatchError(str(exc)) from exc
    # The jobs log their own start and end; APScheduler's INFO lines would double them.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    scheduler = BackgroundScheduler(
        timezone=tz,
        executors={"default": ThreadPoolExecutor(settings.watch_workers)},
        # A job that could not run on time runs once when it can, not once per missed turn.
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600},
    )
    start = (now or datetime.now(tz)).astimezone(tz)
    for number, source in enumerate(sources):
        minutes = interval_minutes(source, settings)
        scheduler.add_job(
            jobs.crawl, IntervalTrigger(minutes=minutes, timezone=tz), args=[source.name],
            id=f"crawl:{source.name}", name=f"crawl {source.name} every {minutes} min",
            next_run_time=start + timedelta(seconds=STAGGER_SECONDS * number),
        )
    scheduler.add_job(jobs.alerts, IntervalTrigger(minutes=settings.alert_interval_minutes, timezone=tz),
                      id="alerts", name=f"alerts every {settings.alert_interval_minutes} min")
    scheduler.add_job(jobs.retrain, retrain_at.trigger(tz), id="retrain",
                      name=f"retrain at {settings.retrain_at} if there are new reviews")
    scheduler.add_job(jobs.weekly_report, report_at.trigger(tz), id="weekly-report",
                      name=f"weekly report at {settings.report_at}")
    scheduler.add_listener(_missed, EVENT_JOB_MISSED)
    return scheduler


def _missed(event: JobExecutionEvent) -> None:
    logger.warning("job %s missed its run at %s", event.job_id, event.scheduled_run_time)


def check_database(engine: Engine) -> None:
    """Refuse to start on a database without the alerts table (migrations not applied)."""
    if not inspect(engine).has_table("alerts"):
        raise WatchError("the database has no alerts table; run `coopwatch init` first")


def run(settings: Settings, sources: Sequence[Source], sources_file: Path, engine: Engine) -> int:
    """Run until SIGTERM or SIGINT; returns the exit code."""
    check_database(engine)
    jobs = Jobs(settings, sources_file, engine)
    scheduler = build_scheduler(settings, sources, jobs)
    stop = threading.Event()
    signals: list[int] = []

    def on_signal(number: int, _frame: Optional[FrameType]) -> None:
        signals.append(number)
        if stop.is_set():
            # A second signal: pass it on, and Scrapy stops without waiting for requests.
            logger.warning("second %s: forwarding it to running crawls", signal.Signals(number).name)
            jobs.stop()
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        scheduler.start()
        logger.info("watching %d source(s) from %s; log file %s", len(sources), sources_file,
                    settings.log_file)
        for job in scheduler.get_jobs():
            logger.info("job %s: next run %s", job.name, job.next_run_time)
        while not stop.wait(1.0):
            pass
        logger.info("%s received: no new jobs; waiting for the running ones to finish",
                    signal.Signals(signals[0]).name)
        scheduler.pause()
        jobs.stop()
        scheduler.shutdown(wait=True)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    logger.info("watcher stopped cleanly")
    return 0
