"""Alerts: spikes of misleading items of one narrative, or of negative coverage overall.

Items are counted in fixed windows (6 hours by default, aligned to midnight in Vietnam) by
the time they appeared (publication, else fetch time) and by their effective label: a
monitor's latest decision where there is one, else the model's. A window is a spike when its
count reaches both a minimum and more than mean + k·sd of the same-sized windows over the
previous weeks. Each spike is stored once under (kind, subject, window start), so evaluating
again raises nothing new; a spike that runs on into the next window is recorded as a
continuation and not sent again. Delivery per channel is recorded and retried until it
succeeds or the attempts run out.
"""
from __future__ import annotations

import logging
import math
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Optional
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models.narratives import NarrativeError, NarrativeLibrary
from pipeline.core.config import Settings
from pipeline.watch.notify import DeliveryError, Message, email_enabled, post_webhook, send_email, webhook_enabled
from pipeline.review.rules import latest_decisions
from pipeline.core.schema import Alert, Item, utcnow

logger = logging.getLogger(__name__)

NARRATIVE = "narrative"
NEGATIVE = "negative"
ALL = "all"
NEGATIVE_LABELS = ("critical", "misleading")
# Delivery states of one channel of one alert.
PENDING, SENT, FAILED, OFF = "pending", "sent", "failed", "off"
EXAMPLES = 10


class AlertConfigError(ValueError):
    """Raised when the alert settings cannot be used."""


@dataclass(frozen=True)
class Spike:
    """A window whose count stands out from its norm."""

    kind: str
    subject: str
    window_start: datetime
    window_end: datetime
    count: int
    total: int
    norm_mean: float
    norm_sd: float
    threshold: int
    item_ids: tuple[int, ...]


@dataclass
class Evaluation:
    """What one evaluation did."""

    raised: list[int] = field(default_factory=list)
    continued: list[int] = field(default_factory=list)
    sent: int = 0
    failed: int = 0

    def summary(self) -> str:
        return (f"{len(self.raised)} alert(s) raised, {len(self.continued)} continuing, "
                f"{self.sent} delivery(ies) sent, {self.failed} failed")


@dataclass(frozen=True)
class AlertView:
    """An alert as the dashboard shows it."""

    id: int
    kind: str
    subject: str
    title: str
    window_start: datetime
    window_end: datetime
    count: int
    threshold: int
    norm_mean: float
    created_at: datetime
    email_status: str
    webhook_status: str
    error: Optional[str]


@dataclass(frozen=True)
class _Counted:
    id: int
    at: datetime
    label: Optional[str]
    narrative: Optional[str]


class Windows:
    """Fixed windows of `hours` aligned to midnight in the configured time zone."""

    def __init__(self, hours: int, tz: str) -> None:
        if hours <= 0 or 24 % hours:
            raise AlertConfigError(f"COOPWATCH_ALERT_WINDOW_HOURS must divide 24, got {hours}")
        self.size = timedelta(hours=hours)
        self.tz = ZoneInfo(tz)

    def start(self, moment: datetime) -> datetime:
        """The start (UTC) of the window holding a moment."""
        local = moment.astimezone(self.tz)
        hours = int(self.size.total_seconds() // 3600)
        start = local.replace(hour=local.hour // hours * hours, minute=0, second=0, microsecond=0)
        return start.astimezone(timezone.utc)


def detect_spikes(engine: Engine, settings: Settings, now: Optional[datetime] = None) -> list[Spike]:
    """Spikes in the windows of the last lookback hours up to the current one, oldest first."""
    now = now or utcnow()
    windows = Windows(settings.alert_window_hours, settings.timezone)
    current = windows.start(now)
    evaluated = []
    window = windows.start(now - timedelta(hours=settings.alert_lookback_hours))
    while window <= current:
        evaluated.append(window)
        window += windows.size
    norm_windows = int(timedelta(days=settings.alert_norm_days) / windows.size)
    since = evaluated[0] - norm_windows * windows.size
    first_fetch = _first_fetch(engine)
    items = _counted_items(engine, since, now)

    per_window: dict[tuple[str, str], Counter[datetime]] = defaultdict(Counter)
    ids: dict[tuple[str, str, datetime], list[int]] = defaultdict(list)
    totals: Counter[datetime] = Counter()
    for item in items:
        start = windows.start(item.at)
        totals[start] += 1
        keys = []
        if item.label in NEGATIVE_LABELS:
            keys.append((NEGATIVE, ALL))
        if item.label == "misleading" and item.narrative:
            keys.append((NARRATIVE, item.narrative))
        for key in keys:
            per_window[key][start] += 1
            ids[(*key, start)].append(item.id)

    spikes = []
    for window in evaluated:
        if first_fetch is None or window - first_fetch < timedelta(days=settings.alert_min_history_days):
            # Without days of monitoring every window looks like a spike (the first crawl, a
            # new install); stay quiet until there is a norm to compare with.
            continue
        # The norm covers only windows while CoopWatch was watching: before its first fetch
        # the counts hold just the back-catalogue a first crawl found, not the usual level.
        monitored = [window - n * windows.size for n in range(1, norm_windows + 1)
                     if window - n * windows.size >= windows.start(first_fetch)]
        for (kind, subject), counts in sorted(per_window.items()):
            count = counts.get(window, 0)
            minimum = settings.alert_min_negative if kind == NEGATIVE else settings.alert_min_narrative
            if count < minimum:
                continue
            norm = [counts.get(earlier, 0) for earlier in monitored]
            mean = statistics.fmean(norm)
            sd = statistics.pstdev(norm)
            # Counts of rare events are Poisson-like: a flat history (sd 0) says little, so the
            # spread is at least sqrt(mean) and a steady level never trips the rule.
            bar = mean + settings.alert_sigmas * max(sd, math.sqrt(mean))
            threshold = max(minimum, math.floor(bar) + 1)
            if count >= threshold:
                spikes.append(Spike(
                    kind=kind, subject=subject, window_start=window,
                    window_end=window + windows.size, count=count, total=totals.get(window, 0),
                    norm_mean=mean, norm_sd=sd, threshold=threshold,
                    item_ids=tuple(ids[(kind, subject, window)]),
                ))
    return spikes


def _first_fetch(engine: Engine) -> Optional[datetime]:
    """When CoopWatch first fetched anything: the start of its monitoring."""
    with Session(engine) as session:
        first = session.scalar(select(func.min(Item.fetched_at)))
    return first


def _counted_items(engine: Engine, since: datetime, until: datetime) -> list[_Counted]:
    """Relevant items that appeared in [since, until] with their effective labels."""
    # A blind second review never settles an item; the first reviewer's decision stands.
    decision = latest_decisions()
    appeared = func.coalesce(Item.published_at, Item.fetched_at)
    query = (
        select(Item.id, Item.published_at, Item.fetched_at, Item.relevant, Item.label,
               Item.narrative, decision.c.item_id, decision.c.label)
        .outerjoin(decision, decision.c.item_id == Item.id)
        .where(appeared >= since, appeared <= until)
    )
    counted = []
    with Session(engine) as session:
        for item_id, published, fetched, relevant, label, narrative, decided, decided_label in session.execute(query):
            if decided is not None:
                # A monitor's decision wins; a decision without a label means "not relevant".
                relevant, label = decided_label is not None, decided_label
            if not relevant:
                continue
            counted.append(_Counted(item_id, published or fetched, label, narrative))
    return counted


def evaluate(engine: Engine, settings: Settings, now: Optional[datetime] = None,
             deliver: bool = True) -> Evaluation:
    """Store new spikes as alerts, then deliver every alert not yet delivered."""
    now = now or utcnow()
    result = Evaluation()
    windows = Windows(settings.alert_window_hours, settings.timezone)
    for spike in detect_spikes(engine, settings, now):
        alert_id, continued = _store(engine, settings, spike, windows.size, now)
        if alert_id is None:
            continue
        (result.continued if continued else result.raised).append(alert_id)
        logger.warning("alert %d: %s %s, %d items in the window from %s (threshold %d)%s",
                       alert_id, spike.kind, spike.subject, spike.count,
                       spike.window_start.astimezone(windows.tz).isoformat(), spike.threshold,
                       " (continuing the previous window's spike)" if continued else "")
    if deliver:
        result.sent, result.failed = deliver_pending(engine, settings, now)
    return result


def _store(engine: Engine, settings: Settings, spike: Spike, size: timedelta,
           now: datetime) -> tuple[Optional[int], bool]:
    """Insert the alert of a spike unless its window already has one; (new id, continued)."""
    with Session(engine) as session:
        existing = _find(session, spike.kind, spike.subject, spike.window_start)
        if existing is not None:
            if spike.count > existing.count:
                # The window is still filling: keep the latest figure for the dashboard.
                existing.count, existing.total = spike.count, spike.total
                existing.item_ids = list(spike.item_ids)
                session.commit()
            return None, False
        previous = _find(session, spike.kind, spike.subject, spike.window_start - size)
        continues = (previous.continues_id or previous.id) if previous is not None else None
        alert = Alert(
            kind=spike.kind, subject=spike.subject, window_start=spike.window_start,
            window_end=spike.window_end, count=spike.count, total=spike.total,
            norm_mean=spike.norm_mean, norm_sd=spike.norm_sd, threshold=spike.threshold,
            item_ids=list(spike.item_ids), continues_id=continues, created_at=now,
            email_status=OFF if continues or not email_enabled(settings) else PENDING,
            webhook_status=OFF if continues or not webhook_enabled(settings) else PENDING,
            attempts=0,
        )
        session.add(alert)
        try:
            session.commit()
        except IntegrityError:
            # Another evaluator stored this window's alert a moment ago.
            session.rollback()
            return None, False
        return alert.id, continues is not None


def _find(session: Session, kind: str, subject: str, window_start: datetime) -> Optional[Alert]:
    return session.scalar(select(Alert).where(
        Alert.kind == kind, Alert.subject == subject, Alert.window_start == window_start
    ))


def deliver_pending(engine: Engine, settings: Settings, now: Optional[datetime] = None) -> tuple[int, int]:
    """Try every channel still pending or failed of alerts with attempts left; (sent, failed)."""
    now = now or utcnow()
    sent = failed = 0
    open_states = (PENDING, FAILED)
    with Session(engine) as session:
        alerts = session.scalars(
            select(Alert)
            .where(Alert.continues_id.is_(None), Alert.attempts < settings.alert_max_attempts,
                   Alert.email_status.in_(open_states) | Alert.webhook_status.in_(open_states))
            .order_by(Alert.id)
        ).all()
        titles = narrative_titles(settings)
        for alert in alerts:
            message = render(session, alert, titles, settings)
            alert.attempts += 1
            alert.last_attempt_at = now
            for channel, enabled, send in (("email", email_enabled, send_email),
                                           ("webhook", webhook_enabled, post_webhook)):
                if getattr(alert, f"{channel}_status") not in open_states:
                    continue
                if not enabled(settings):
                    setattr(alert, f"{channel}_status", OFF)
                    setattr(alert, f"{channel}_error", "channel no longer configured")
                    continue
                try:
                    send(settings, message)
                except DeliveryError as exc:
                    failed += 1
                    setattr(alert, f"{channel}_status", FAILED)
                    setattr(alert, f"{channel}_error", str(exc))
                    logger.error("alert %d: %s delivery failed (attempt %d of %d): %s", alert.id,
                                 channel, alert.attempts, settings.alert_max_attempts, exc)
                else:
                    sent += 1
                    setattr(alert, f"{channel}_status", SENT)
                    setattr(alert, f"{channel}_error", None)
                    logger.info("alert %d: sent by %s", alert.id, channel)
            session.commit()
    return sent, failed


def narrative_titles(settings: Settings) -> dict[str, str]:
    """Narrative id -> Vietnamese title, from the narrative library (empty if unreadable)."""
    try:
        library = NarrativeLibrary.load(settings.narratives_path)
    except NarrativeError as exc:
        logger.error("narrative titles unavailable: %s", exc)
        return {}
    return {n.id: n.title for n in library.narratives}


def render(session: Session, alert: Alert, titles: dict[str, str], settings: Settings) -> Message:
    """The e-mail text (Vietnamese first, then English) and the webhook payload of an alert."""
    tz = ZoneInfo(settings.timezone)
    start, end = alert.window_start.astimezone(tz), alert.window_end.astimezone(tz)
    last_minute = end - timedelta(minutes=1)
    span = (f"{start:%d/%m/%Y %H:%M}–{end:%H:%M}" if start.date() == last_minute.date()
            else f"{start:%d/%m/%Y %H:%M}–{end:%d/%m/%Y %H:%M}")
    hours = int((alert.window_end - alert.window_start).total_seconds() // 3600)
    items = session.scalars(select(Item).where(Item.id.in_(alert.item_ids[:EXAMPLES])).order_by(Item.id)).all()
    labels = Counter(
        session.scalars(select(Item.label).where(Item.id.in_(alert.item_ids))).all()
    )
    title = titles.get(alert.subject, alert.subject) if alert.kind == NARRATIVE else ""
    norm = f"{alert.norm_mean:.1f}"
    if alert.kind == NARRATIVE:
        subject = f"[CoopWatch] Cảnh báo: {alert.count} tin sai lệch theo luận điệu «{title}» trong {hours} giờ"
        lead_vi = (f"Luận điệu: {title} ({alert.subject})\n"
                   f"Số tin sai lệch: {alert.count} trong khung {span} (giờ Việt Nam); "
                   f"mức thường {norm} tin/khung, ngưỡng cảnh báo {alert.threshold}.")
        lead_en = (f"Narrative: {title} ({alert.subject})\n"
                   f"Misleading items: {alert.count} in the window {span} (Vietnam time); "
                   f"usual level {norm} per window, alert threshold {alert.threshold}.")
    else:
        subject = f"[CoopWatch] Cảnh báo: tin phê phán và sai lệch tăng đột biến ({alert.count} tin trong {hours} giờ)"
        share = f"{alert.count / alert.total:.0%}" if alert.total else "-"
        lead_vi = (f"Tin phê phán và sai lệch: {alert.count} trong khung {span} (giờ Việt Nam), "
                   f"gồm {labels.get('critical', 0)} phê phán và {labels.get('misleading', 0)} sai lệch; "
                   f"chiếm {share} trong {alert.total} tin liên quan. Mức thường {norm} tin/khung, "
                   f"ngưỡng cảnh báo {alert.threshold}.\n"
                   "Phê phán không phải là thông tin sai lệch: con số này đo mức độ chú ý, không phải vi phạm.")
        lead_en = (f"Critical and misleading items: {alert.count} in the window {span} (Vietnam time), "
                   f"{labels.get('critical', 0)} critical and {labels.get('misleading', 0)} misleading; "
                   f"{share} of {alert.total} relevant items. Usual level {norm} per window, "
                   f"alert threshold {alert.threshold}.\n"
                   "Criticism is not misinformation: this measures attention, not wrongdoing.")
    examples = "\n".join(f"- {i.title or i.url} — {i.outlet}\n  {i.url}" for i in items)
    more = len(alert.item_ids) - len(items)
    if more > 0:
        examples += f"\n(+{more})"
    link = f"\n{settings.dashboard_url}\n" if settings.dashboard_url else "\n"
    body = (
        f"{lead_vi}\n\nMột số tin:\n{examples}\n\n"
        "Đây là cảnh báo tự động từ mô hình; cán bộ giám sát xem xét từng tin trong hàng đợi "
        f"duyệt trước khi kết luận.{link}\n"
        f"--- English ---\n{lead_en}\n\nExamples above. This is an automatic alert; monitors "
        f"review each item in the review queue before drawing conclusions.{link}"
    )
    payload = {
        "source": "coopwatch", "alert_id": alert.id, "kind": alert.kind, "subject": alert.subject,
        "subject_title": title, "window_start": alert.window_start.isoformat(),
        "window_end": alert.window_end.isoformat(), "timezone": settings.timezone,
        "count": alert.count, "total": alert.total, "norm_mean": round(alert.norm_mean, 3),
        "norm_sd": round(alert.norm_sd, 3), "threshold": alert.threshold,
        "labels": dict(labels), "text": subject,
        "items": [{"id": i.id, "title": i.title, "outlet": i.outlet, "url": i.url, "label": i.label}
                  for i in items],
        "dashboard_url": settings.dashboard_url or None,
    }
    return Message(subject=subject, body=body, payload=payload)


def recent_alerts(engine: Engine, since: datetime, settings: Optional[Settings] = None) -> list[AlertView]:
    """Alerts raised since a moment, newest first, without the continuations of a spike."""
    from pipeline.core.config import get_settings

    settings = settings or get_settings()
    titles = narrative_titles(settings)
    with Session(engine) as session:
        rows = session.scalars(
            select(Alert).where(Alert.created_at >= since, Alert.continues_id.is_(None))
            .order_by(Alert.created_at.desc(), Alert.id.desc())
        ).all()
        return [
            AlertView(
                id=a.id, kind=a.kind, subject=a.subject,
                title=titles.get(a.subject, a.subject) if a.kind == NARRATIVE else "",
                window_start=a.window_start, window_end=a.window_end, count=a.count,
                threshold=a.threshold, norm_mean=a.norm_mean, created_at=a.created_at,
                email_status=a.email_status, webhook_status=a.webhook_status,
                error=a.email_error or a.webhook_error,
            )
            for a in rows
        ]


def format_alert(view: AlertView, tz: str = "Asia/Ho_Chi_Minh") -> str:
    """One line for the CLI: when, what, how many, delivery."""
    start = view.window_start.astimezone(ZoneInfo(tz))
    what = f"narrative {view.subject}" if view.kind == NARRATIVE else "negative coverage"
    line = (f"#{view.id} {start:%Y-%m-%d %H:%M} {what}: {view.count} items "
            f"(norm {view.norm_mean:.1f}, threshold {view.threshold}) "
            f"email={view.email_status} webhook={view.webhook_status}")
    return f"{line} error: {view.error}" if view.error else line
