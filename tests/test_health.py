"""Source health rules: failures in a row and volume far below the source's own norm."""
from __future__ import annotations

from datetime import timedelta

from pipeline.core.health import record_run, source_health
from pipeline.core.schema import CrawlRun, utcnow


def run(engine, source: str, days_ago: float, new: int, errors: list[str] | None = None) -> None:
    started = utcnow() - timedelta(days=days_ago)
    record_run(engine, CrawlRun(source=source, outlet="O", started_at=started, finished_at=started,
                                fetched=new, new=new, duplicate=0, failed=len(errors or []),
                                errors=errors or []))


def test_three_failed_runs_in_a_row_make_a_source_unhealthy(engine) -> None:
    run(engine, "feed", 0.5, 4)
    for hours in (3, 2, 1):
        run(engine, "feed", hours / 24, 0, ["HTTP 500 for https://x.vn/rss"])
    health = {h.source: h for h in source_health(engine)}["feed"]
    assert not health.healthy and health.failures_in_a_row == 3
    assert health.last_errors == ["HTTP 500 for https://x.vn/rss"]


def test_two_failures_then_a_success_is_healthy(engine) -> None:
    for hours in (3, 2):
        run(engine, "feed", hours / 24, 0, ["TimeoutError"])
    run(engine, "feed", 1 / 24, 2)
    assert source_health(engine)[0].healthy


def test_volume_far_below_its_own_norm_is_flagged(engine) -> None:
    for day in range(2, 16):
        run(engine, "steady", day, 20 + day % 3)
        run(engine, "quiet", day, 20 + day % 3)
    run(engine, "steady", 0.2, 21)
    run(engine, "quiet", 0.2, 2)  # no errors, yet far fewer items than usual
    health = {h.source: h for h in source_health(engine)}
    assert health["steady"].healthy
    assert not health["quiet"].healthy and "far below its norm" in health["quiet"].reason


def test_a_new_source_without_history_is_not_judged_on_volume(engine) -> None:
    run(engine, "new", 0.1, 0)
    assert source_health(engine)[0].healthy
