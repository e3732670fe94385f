"""Alerts: spike detection on seeded items, one alert per spike, delivery by SMTP and webhook."""
from __future__ import annotations

import email
import hashlib
import json
import socket
import threading
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from email import policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Iterator, Optional
from zoneinfo import ZoneInfo

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pipeline.watch.alerts import (
    FAILED,
    NARRATIVE,
    NEGATIVE,
    OFF,
    PENDING,
    SENT,
    Windows,
    detect_spikes,
    evaluate,
    recent_alerts,
)
from pipeline.core.config import Settings, get_settings
from pipeline.core.schema import Alert, Item, Review

VN = ZoneInfo("Asia/Ho_Chi_Minh")
# Wednesday 10:30 in Vietnam: the current 6-hour window runs 06:00–12:00.
NOW = datetime(2026, 11, 18, 10, 30, tzinfo=VN).astimezone(timezone.utc)
NARRATIVE_ID = "dat-dai-bi-thu-hoi"  # a narrative of data/narratives.yaml
SIX_HOURS = timedelta(hours=6)


def settings(**changes: object) -> Settings:
    """Alert settings with no delivery channel unless a test adds one."""
    base = replace(get_settings(), smtp_host="", smtp_to=(), webhook_url="", dashboard_url="")
    return replace(base, **changes)  # type: ignore[arg-type]


class Seeder:
    """Writes items that appeared at given times, with a label and a narrative."""

    def __init__(self, engine) -> None:
        self.engine = engine
        self.n = 0

    def add(self, at: datetime, label: Optional[str], narrative: Optional[str] = None,
            count: int = 1, relevant: bool = True, fetched_delay: timedelta = timedelta(minutes=20)) -> list[int]:
        ids = []
        with Session(self.engine) as session:
            for _ in range(count):
                self.n += 1
                url = f"https://tin.example.vn/bai-{self.n}"
                item = Item(
                    url=url, canonical_url=url, source="test-rss", outlet="Báo Thử Nghiệm",
                    kind="news", title=f"Tin số {self.n} về hợp tác xã", text="Nội dung bài viết.",
                    text_folded="noi dung bai viet", published_at=at, fetched_at=at + fetched_delay,
                    content_hash=hashlib.sha256(url.encode()).hexdigest(), relevant=relevant,
                    label=label, narrative=narrative, reasons=[],
                )
                session.add(item)
                session.flush()
                ids.append(item.id)
            session.commit()
        return ids

    def every_window(self, days: int, label: str, per_window, narrative: Optional[str] = None,
                     until: datetime = NOW) -> None:
        """per_window(i) items in each 6-hour window of the last `days` days before `until`."""
        start = Windows(6, "Asia/Ho_Chi_Minh").start(until) - timedelta(days=days)
        window, i = start, 0
        while window < Windows(6, "Asia/Ho_Chi_Minh").start(until):
            if n := per_window(i):
                self.add(window + timedelta(hours=1), label, narrative, count=n)
            window += SIX_HOURS
            i += 1


@pytest.fixture
def seeder(engine) -> Seeder:
    return Seeder(engine)


def alerts(engine) -> list[Alert]:
    with Session(engine) as session:
        return list(session.scalars(select(Alert).order_by(Alert.id)))


def a_quiet_month(seeder: Seeder) -> None:
    """20 days of monitoring: a little criticism every window, the narrative now and then."""
    seeder.every_window(20, "critical", lambda i: 1 + i % 2)
    seeder.every_window(20, "misleading", lambda i: 1 if i % 9 == 0 else 0, NARRATIVE_ID)
    seeder.every_window(20, "positive", lambda i: 3)


def test_a_burst_of_one_narrative_raises_exactly_one_alert(engine, seeder) -> None:
    a_quiet_month(seeder)
    window = Windows(6, "Asia/Ho_Chi_Minh").start(NOW)
    burst = seeder.add(window + timedelta(hours=2), "misleading", NARRATIVE_ID, count=7)

    first = evaluate(engine, settings(), NOW)
    assert len(first.raised) == 1 and not first.continued
    (alert,) = alerts(engine)
    assert (alert.kind, alert.subject) == (NARRATIVE, NARRATIVE_ID)
    assert alert.window_start == window and alert.window_end == window + SIX_HOURS
    assert alert.count == 7 and alert.threshold == 5 and alert.norm_mean < 1
    assert alert.item_ids == burst
    assert (alert.email_status, alert.webhook_status) == (OFF, OFF)

    # Evaluated again, later in the same window and after more items: still one alert.
    seeder.add(window + timedelta(hours=3), "misleading", NARRATIVE_ID, count=2)
    again = evaluate(engine, settings(), NOW + timedelta(hours=1))
    assert again.raised == [] and again.continued == []
    (alert,) = alerts(engine)
    assert alert.count == 9  # the figure is kept up to date, the alert is not repeated


def test_a_steady_level_raises_nothing(engine, seeder) -> None:
    seeder.every_window(20, "misleading", lambda i: 6 + (i % 5 - 2), NARRATIVE_ID, until=NOW + SIX_HOURS)
    seeder.every_window(20, "critical", lambda i: 8 + (i % 3), until=NOW + SIX_HOURS)
    assert detect_spikes(engine, settings(), NOW) == []
    assert evaluate(engine, settings(), NOW).raised == []
    assert alerts(engine) == []


def test_negative_coverage_spike_raises_one_negative_alert(engine, seeder) -> None:
    a_quiet_month(seeder)
    window = Windows(6, "Asia/Ho_Chi_Minh").start(NOW)
    seeder.add(window + timedelta(hours=1), "critical", count=18)
    seeder.add(window + timedelta(hours=1), "misleading", count=4)  # no known narrative
    seeder.add(window + timedelta(hours=1), "positive", count=3)

    result = evaluate(engine, settings(), NOW)
    assert len(result.raised) == 1
    (alert,) = alerts(engine)
    assert (alert.kind, alert.subject) == (NEGATIVE, "all")
    assert alert.count == 22 and alert.total == 25 and alert.threshold == 10


def test_a_spike_running_into_the_next_window_is_one_alert(engine, seeder) -> None:
    a_quiet_month(seeder)
    window = Windows(6, "Asia/Ho_Chi_Minh").start(NOW)
    seeder.add(window - SIX_HOURS + timedelta(hours=5), "misleading", NARRATIVE_ID, count=6)
    seeder.add(window + timedelta(hours=1), "misleading", NARRATIVE_ID, count=6)

    result = evaluate(engine, settings(webhook_url="http://127.0.0.1:9/never"), NOW, deliver=False)
    assert len(result.raised) == 1 and len(result.continued) == 1
    first, second = alerts(engine)
    assert second.continues_id == first.id
    assert first.webhook_status == PENDING and second.webhook_status == OFF
    assert [a.id for a in recent_alerts(engine, NOW - timedelta(days=1))] == [first.id]


def test_monitors_decisions_override_the_model(engine, seeder) -> None:
    a_quiet_month(seeder)
    window = Windows(6, "Asia/Ho_Chi_Minh").start(NOW)
    burst = seeder.add(window + timedelta(hours=1), "misleading", NARRATIVE_ID, count=8)
    with Session(engine) as session:
        # A monitor decided two were criticism, not misinformation, and dismissed one as spam.
        for item_id in burst[:2]:
            session.add(Review(item_id=item_id, reviewer="lan", action="relabel", label="critical"))
        session.add(Review(item_id=burst[2], reviewer="lan", action="dismiss"))
        # A blind second review disagreeing does not settle anything.
        session.add(Review(item_id=burst[0], reviewer="minh", action="relabel", label="misleading",
                           second_review=True))
        session.commit()
    (spike,) = [s for s in detect_spikes(engine, settings(), NOW) if s.kind == NARRATIVE]
    assert spike.count == 5 and set(spike.item_ids) == set(burst[3:])

    with Session(engine) as session:
        session.add(Review(item_id=burst[3], reviewer="lan", action="relabel", label="neutral"))
        session.commit()
    assert [s for s in detect_spikes(engine, settings(), NOW) if s.kind == NARRATIVE] == []


def test_no_alert_before_a_week_of_monitoring(engine, seeder) -> None:
    seeder.every_window(3, "critical", lambda i: 1)
    window = Windows(6, "Asia/Ho_Chi_Minh").start(NOW)
    seeder.add(window + timedelta(hours=1), "misleading", NARRATIVE_ID, count=12)
    # A first crawl also finds years-old articles: their publication dates are no history.
    seeder.add(NOW - timedelta(days=400), "neutral", fetched_delay=timedelta(days=397))
    assert detect_spikes(engine, settings(), NOW) == []


# --- delivery -----------------------------------------------------------------------------

class Inbox:
    """aiosmtpd handler keeping every message it accepts."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.recipients: list[list[str]] = []

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 (aiosmtpd API)
        self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        self.recipients.append(list(envelope.rcpt_tos))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp_server() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield inbox, controller.port
    controller.stop()


class Receiver(BaseHTTPRequestHandler):
    """Webhook receiver: answers the status at the head of `statuses`, keeps JSON bodies."""

    statuses: list[int] = []
    received: list[tuple[dict, dict]] = []

    def do_POST(self) -> None:  # noqa: N802 (http.server API)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        status = self.statuses.pop(0) if self.statuses else 200
        if status == 200:
            self.received.append((json.loads(body.decode("utf-8")), dict(self.headers)))
        self.send_response(status)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def webhook() -> Iterator[tuple[type[Receiver], str]]:
    handler = type("TestReceiver", (Receiver,), {"statuses": [], "received": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield handler, f"http://127.0.0.1:{server.server_address[1]}/hooks/coopwatch"
    server.shutdown()
    server.server_close()


def burst_of_one_narrative(seeder: Seeder) -> None:
    a_quiet_month(seeder)
    window = Windows(6, "Asia/Ho_Chi_Minh").start(NOW)
    seeder.add(window + timedelta(hours=2), "misleading", NARRATIVE_ID, count=7)


def test_email_names_the_narrative_and_the_count(engine, seeder, smtp_server) -> None:
    inbox, port = smtp_server
    burst_of_one_narrative(seeder)
    config = settings(smtp_host="127.0.0.1", smtp_port=port, smtp_security="none",
                      smtp_from="coopwatch@lienminh.example.vn",
                      smtp_to=("giamsat@lienminh.example.vn", "truongnhom@lienminh.example.vn"),
                      dashboard_url="https://coopwatch.example.vn/")
    result = evaluate(engine, config, NOW)
    assert result.sent == 1 and result.failed == 0
    (message,) = inbox.messages
    assert inbox.recipients == [["giamsat@lienminh.example.vn", "truongnhom@lienminh.example.vn"]]
    subject = message["Subject"]
    assert "Vào HTX là bị nhà nước lấy đất" in subject and "7 tin sai lệch" in subject
    body = message.get_content()
    assert "Số tin sai lệch: 7" in body and NARRATIVE_ID in body
    assert "18/11/2026 06:00–12:00" in body and "Misleading items: 7" in body
    assert "https://tin.example.vn/bai-" in body and "https://coopwatch.example.vn/" in body
    (alert,) = alerts(engine)
    assert alert.email_status == SENT and alert.email_error is None and alert.attempts == 1

    # Nothing is sent twice.
    assert evaluate(engine, config, NOW + timedelta(minutes=15)).sent == 0
    assert len(inbox.messages) == 1


def test_webhook_posts_the_alert_as_json(engine, seeder, webhook) -> None:
    receiver, url = webhook
    burst_of_one_narrative(seeder)
    result = evaluate(engine, settings(webhook_url=url), NOW)
    assert result.sent == 1
    ((payload, headers),) = receiver.received
    assert headers["Content-Type"].startswith("application/json")
    assert payload["kind"] == NARRATIVE and payload["subject"] == NARRATIVE_ID
    assert payload["subject_title"] == "Vào HTX là bị nhà nước lấy đất"
    assert payload["count"] == 7 and payload["threshold"] == 5 and len(payload["items"]) == 7
    assert payload["window_start"] == Windows(6, "Asia/Ho_Chi_Minh").start(NOW).isoformat()
    assert payload["labels"] == {"misleading": 7}
    assert "Authorization" not in headers


def test_a_failing_receiver_is_recorded_and_retried_later(engine, seeder, webhook, smtp_server,
                                                           monkeypatch, tmp_path) -> None:
    receiver, url = webhook
    inbox, smtp_port = smtp_server
    receiver.statuses = [500]
    token_file = tmp_path / "token"  # secrets live in a file outside the repository
    token_file.write_text("s3cret\n")
    monkeypatch.setenv("COOPWATCH_WEBHOOK_TOKEN_FILE", str(token_file))
    monkeypatch.delenv("COOPWATCH_WEBHOOK_TOKEN", raising=False)
    burst_of_one_narrative(seeder)
    closed = free_port()  # nothing listens there: the mail server is down
    down = settings(webhook_url=url, smtp_host="127.0.0.1", smtp_port=closed, smtp_security="none",
                    smtp_to=("giamsat@lienminh.example.vn",))

    first = evaluate(engine, down, NOW)
    assert first.sent == 0 and first.failed == 2
    (alert,) = alerts(engine)
    assert alert.webhook_status == FAILED and "HTTP 500" in (alert.webhook_error or "")
    assert alert.email_status == FAILED and "ConnectionRefusedError" in (alert.email_error or "")
    assert receiver.received == [] and inbox.messages == []

    # Next evaluation: both receivers answer; the same alert is delivered once on each channel.
    up = replace(down, smtp_port=smtp_port)
    second = evaluate(engine, up, NOW + timedelta(minutes=15))
    assert second.raised == [] and second.sent == 2 and second.failed == 0
    (alert,) = alerts(engine)
    assert (alert.webhook_status, alert.email_status, alert.attempts) == (SENT, SENT, 2)
    assert alert.webhook_error is None and alert.email_error is None
    assert len(receiver.received) == 1 and len(inbox.messages) == 1
    assert receiver.received[0][1]["Authorization"] == "Bearer s3cret"
    assert evaluate(engine, up, NOW + timedelta(minutes=30)).sent == 0


def test_attempts_stop_at_the_configured_maximum(engine, seeder, webhook) -> None:
    receiver, url = webhook
    receiver.statuses = [503] * 10
    burst_of_one_narrative(seeder)
    config = settings(webhook_url=url, alert_max_attempts=3)
    for minutes in range(0, 75, 15):
        evaluate(engine, config, NOW + timedelta(minutes=minutes))
    (alert,) = alerts(engine)
    assert alert.attempts == 3 and alert.webhook_status == FAILED
    assert "HTTP 503" in (alert.webhook_error or "")
    assert len(receiver.statuses) == 7  # three requests reached the receiver, no more


def test_recent_alerts_for_the_dashboard(engine, seeder) -> None:
    burst_of_one_narrative(seeder)
    evaluate(engine, settings(), NOW)
    (view,) = recent_alerts(engine, NOW - timedelta(hours=1))
    assert view.kind == NARRATIVE and view.title == "Vào HTX là bị nhà nước lấy đất"
    assert view.count == 7 and view.email_status == OFF
    assert recent_alerts(engine, NOW + timedelta(hours=1)) == []
    with Session(engine) as session:
        assert session.scalar(select(func.count(Alert.id))) == 1


def test_window_hours_must_divide_a_day() -> None:
    with pytest.raises(ValueError, match="must divide 24"):
        Windows(5, "Asia/Ho_Chi_Minh")


def test_one_alert_per_spike_on_postgresql(postgres_url) -> None:
    from pipeline.core.db import make_engine, migrate

    migrate(postgres_url)
    engine = make_engine(postgres_url)
    try:
        burst_of_one_narrative(Seeder(engine))
        assert len(evaluate(engine, settings(), NOW).raised) == 1
        assert evaluate(engine, settings(), NOW + timedelta(minutes=15)).raised == []
        (alert,) = alerts(engine)
        assert alert.window_start == Windows(6, "Asia/Ho_Chi_Minh").start(NOW) and alert.count == 7
    finally:
        engine.dispose()


def test_alerts_command_evaluates_and_lists(tmp_path, sqlite_url) -> None:
    import os
    import subprocess
    import sys

    from pipeline.core.db import make_engine
    from pipeline.core.schema import utcnow

    engine = make_engine(sqlite_url)
    seeder = Seeder(engine)
    now = utcnow()
    seeder.every_window(20, "critical", lambda i: 1, until=now)
    seeder.add(now - timedelta(minutes=5), "misleading", NARRATIVE_ID, count=7)
    engine.dispose()
    env = {**os.environ, "COOPWATCH_DATABASE_URL": sqlite_url, "COOPWATCH_SMTP_HOST": "",
           "COOPWATCH_WEBHOOK_URL": ""}
    command = [sys.executable, "-m", "pipeline.cli", "alerts", "--days", "1"]
    before = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert before.returncode == 0 and "no alert in the last 1 day(s)" in before.stdout
    result = subprocess.run([*command, "--evaluate"], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "1 alert(s) raised" in result.stdout
    assert f"narrative {NARRATIVE_ID}: 7 items" in result.stdout and "email=off webhook=off" in result.stdout
