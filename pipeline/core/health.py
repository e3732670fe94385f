"""Source health: per-run records and the rules that mark a source unhealthy."""
from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Optional, Sequence

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from pipeline.core.schema import CrawlRun, utcnow

FAILURES_IN_A_ROW = 3
NORM_DAYS = 28
NORM_MIN_DAYS = 7
NORM_SIGMAS = 1.5


@dataclass
class SourceHealth:
    """A source's recent record and whether monitors can trust its silence."""

    source: str
    outlet: str
    last_run: Optional[datetime]
    runs: int
    failures_in_a_row: int
    new_last_day: int
    daily_norm: Optional[float]
    healthy: bool
    reason: str
    last_errors: list[str]


def run_failed(run: CrawlRun) -> bool:
    """A run failed when it hit errors and brought back nothing at all."""
    return bool(run.errors) and run.new == 0 and run.duplicate == 0


def record_run(engine: Engine, run: CrawlRun) -> None:
    """Store one source's run record."""
    with Session(engine) as session, session.begin():
        session.add(run)


def source_health(engine: Engine, now: Optional[datetime] = None) -> list[SourceHealth]:
    """Health of every source that has run at least once, by source name, as of `now`.

    Runs started at or after `now` are left out, so a past moment (the end of a report's
    week) gets the health the sources had then.
    """
    return source_health_at(engine, [now or utcnow()])[0]


def source_health_at(engine: Engine, moments: Sequence[datetime]) -> list[list[SourceHealth]]:
    """Health as of each of several moments (say, each day's end of a week), from one query."""
    since = min(moments) - timedelta(days=NORM_DAYS + 1)
    with Session(engine) as session:
        runs = session.scalars(
            select(CrawlRun).where(CrawlRun.started_at >= since, CrawlRun.started_at < max(moments))
            .order_by(CrawlRun.started_at)
        ).all()
    results = []
    for now in moments:
        by_source: dict[str, list[CrawlRun]] = defaultdict(list)
        for run in runs:
            if now - timedelta(days=NORM_DAYS + 1) <= run.started_at < now:
                by_source[run.source].append(run)
        results.append([_assess(name, source_runs, now) for name, source_runs in sorted(by_source.items())])
    return results


def _assess(source: str, runs: Sequence[CrawlRun], now: datetime) -> SourceHealth:
    streak = 0
    for run in reversed(runs):
        if not run_failed(run):
            break
        streak += 1
    new_last_day = sum(r.new for r in runs if r.started_at >= now - timedelta(days=1))
    norm, floor = _daily_norm(runs, now)
    reason = "ok"
    if streak >= FAILURES_IN_A_ROW:
        reason = f"failed {streak} runs in a row"
    elif floor is not None and new_last_day < floor:
        reason = f"{new_last_day} new items in the last day, far below its norm of {norm:.1f}/day"
    last = runs[-1]
    return SourceHealth(
        source=source, outlet=last.outlet, last_run=last.finished_at, runs=len(runs),
        failures_in_a_row=streak, new_last_day=new_last_day, daily_norm=norm,
        healthy=reason == "ok", reason=reason, last_errors=list(last.errors)[:5],
    )


def _daily_norm(runs: Sequence[CrawlRun], now: datetime) -> tuple[Optional[float], Optional[float]]:
    """Mean new items per day over the previous 28 days, and mean − 1.5 sd as the floor."""
    per_day: dict[str, int] = defaultdict(int)
    for run in runs:
        if now - timedelta(days=NORM_DAYS + 1) <= run.started_at < now - timedelta(days=1):
            per_day[run.started_at.date().isoformat()] += run.new
    if len(per_day) < NORM_MIN_DAYS:
        return None, None
    values = list(per_day.values())
    mean = statistics.fmean(values)
    return mean, mean - NORM_SIGMAS * statistics.pstdev(values)
