"""Database tables as SQLAlchemy 2.0 typed models."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Optional

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy import false
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.sql import func

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """Timezone-aware current time in UTC."""
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator[datetime]):
    """Stores UTC; always returns aware datetimes, also on SQLite which drops the zone."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Optional[datetime], dialect: Any) -> Optional[datetime]:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; CoopWatch stores timezone-aware times only")
        return value.astimezone(timezone.utc)

    def process_result_value(self, value: Optional[datetime], dialect: Any) -> Optional[datetime]:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class StoryCluster(Base):
    """One story as carried by one or more outlets (a wire story and its copies)."""

    __tablename__ = "story_clusters"

    id: Mapped[int] = mapped_column(primary_key=True)
    first_outlet: Mapped[str] = mapped_column(String(200))
    first_url: Mapped[str] = mapped_column(Text)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    size: Mapped[int] = mapped_column(Integer, default=1)

    items: Mapped[list["Item"]] = relationship(back_populates="cluster")


class Item(Base):
    """One news article or social post, after extraction, dedupe and classification."""

    __tablename__ = "items"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(Text)
    canonical_url: Mapped[str] = mapped_column(String(2000), unique=True)
    source: Mapped[str] = mapped_column(String(200), index=True)
    outlet: Mapped[str] = mapped_column(String(200), index=True)
    kind: Mapped[str] = mapped_column(String(20), index=True)
    title: Mapped[str] = mapped_column(Text, default="")
    # The title is the text's first words: the post had no headline (shown marked as derived).
    title_derived: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    lead: Mapped[str] = mapped_column(Text, default="")
    text: Mapped[str] = mapped_column(Text)
    # Diacritic-free key so that posts typed without accents can be matched.
    text_folded: Mapped[str] = mapped_column(Text)
    author: Mapped[Optional[str]] = mapped_column(String(300))
    language: Mapped[Optional[str]] = mapped_column(String(10))
    published_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime, index=True)
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime)
    stored_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    content_hash: Mapped[str] = mapped_column(String(64), index=True)
    minhash: Mapped[Optional[bytes]] = mapped_column(LargeBinary)
    cluster_id: Mapped[Optional[int]] = mapped_column(ForeignKey("story_clusters.id"), index=True)
    reactions: Mapped[Optional[int]] = mapped_column(Integer)
    shares: Mapped[Optional[int]] = mapped_column(Integer)
    relevant: Mapped[Optional[bool]] = mapped_column(Boolean, index=True)
    label: Mapped[Optional[str]] = mapped_column(String(20), index=True)
    confidence: Mapped[Optional[float]] = mapped_column(Float)
    sentiment: Mapped[Optional[str]] = mapped_column(String(10))
    reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    needs_review: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    model_version: Mapped[Optional[str]] = mapped_column(String(80))
    narrative: Mapped[Optional[str]] = mapped_column(String(100))
    # [passage_start, passage_end) of `text`: the passage of a long page that decided its label.
    passage_start: Mapped[Optional[int]] = mapped_column(Integer)
    passage_end: Mapped[Optional[int]] = mapped_column(Integer)
    # Enrichment: one of the 34 provinces in force since 1 July 2025, and one sector key.
    province: Mapped[Optional[str]] = mapped_column(String(100), index=True)
    sector: Mapped[Optional[str]] = mapped_column(String(40), index=True)

    cluster: Mapped[Optional[StoryCluster]] = relationship(back_populates="items")
    reviews: Mapped[list["Review"]] = relationship(back_populates="item", order_by="Review.id")


# The dashboard filters and groups items by when they appeared (published, else fetched);
# an index on exactly that expression lets a period's figures read only that period's rows.
Index("ix_items_seen_at", func.coalesce(Item.published_at, Item.fetched_at))
# Top stories count the outlets and copies of each story from this index alone.
Index("ix_items_cluster_outlet", Item.cluster_id, Item.outlet)


class Review(Base):
    """One monitor's action on one item; never updated, so the history stays complete."""

    __tablename__ = "reviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    reviewer: Mapped[str] = mapped_column(String(100))
    # confirm | relabel | dismiss | note | assign | response | sample (see pipeline/review/rules.py)
    action: Mapped[str] = mapped_column(String(20))
    label: Mapped[Optional[str]] = mapped_column(String(20))
    note: Mapped[Optional[str]] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    assignee: Mapped[Optional[str]] = mapped_column(String(100))
    response_status: Mapped[Optional[str]] = mapped_column(String(20))  # none | drafted | published
    response_link: Mapped[Optional[str]] = mapped_column(Text)
    # The latest review the monitor's screen showed: a newer one means someone else acted.
    expected_previous: Mapped[Optional[int]] = mapped_column(Integer)
    # A blind second decision on an item sampled for double review; never settles the item.
    second_review: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    item: Mapped[Item] = relationship(back_populates="reviews")


class Cooperative(Base):
    """A named cooperative, credit fund or union, as the registry of everything mentioned."""

    __tablename__ = "cooperatives"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The folded name is the key, so "HTX Thủy sản X" and "HTX Thuỷ sản X" are one cooperative.
    key: Mapped[str] = mapped_column(String(300), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(30))  # cooperative | credit_fund | union
    province: Mapped[Optional[str]] = mapped_column(String(100))
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)

    mentions: Mapped[list["CooperativeMention"]] = relationship(back_populates="cooperative")


class CooperativeMention(Base):
    """One item naming one cooperative; the mentions over time of each cooperative."""

    __tablename__ = "cooperative_mentions"

    id: Mapped[int] = mapped_column(primary_key=True)
    cooperative_id: Mapped[int] = mapped_column(ForeignKey("cooperatives.id"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    mentioned_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)

    cooperative: Mapped[Cooperative] = relationship(back_populates="mentions")


class IngestError(Base):
    """A raw record that could not be stored, with the reason, so nothing fails silently."""

    __tablename__ = "ingest_errors"

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(200))
    url: Mapped[Optional[str]] = mapped_column(Text)
    position: Mapped[Optional[int]] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class User(Base):
    """A dashboard account; the password is stored only as a bcrypt hash."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Raised by every password, role or state change: a session signed in under another epoch ends.
    session_epoch: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class LoginFailure(Base):
    """A failed sign-in, keyed by account ("user:NAME") or by client ("client:ADDRESS")."""

    __tablename__ = "login_failures"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(300), index=True)
    failed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CrawlRun(Base):
    """What one crawl of one source did, so silence can be told from breakage."""

    __tablename__ = "crawl_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(200), index=True)
    outlet: Mapped[str] = mapped_column(String(200))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    finished_at: Mapped[datetime] = mapped_column(UTCDateTime)
    fetched: Mapped[int] = mapped_column(Integer, default=0)
    new: Mapped[int] = mapped_column(Integer, default=0)
    duplicate: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[list[str]] = mapped_column(JSON, default=list)


class FeedState(Base):
    """Validators of a feed's last response, sent back so an unchanged feed costs one 304."""

    __tablename__ = "feed_states"

    url: Mapped[str] = mapped_column(String(2000), primary_key=True)
    etag: Mapped[Optional[str]] = mapped_column(String(500))
    last_modified: Mapped[Optional[str]] = mapped_column(String(100))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Alert(Base):
    """One spike of misleading items of a narrative, or of negative coverage, in one window.

    The unique key makes evaluation idempotent: a spike is raised once however often its
    window is evaluated. Each channel's delivery is recorded, so a failed send is retried.
    """

    __tablename__ = "alerts"
    __table_args__ = (
        UniqueConstraint("kind", "subject", "window_start", name="uq_alerts_kind_subject_window"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # narrative | negative
    subject: Mapped[str] = mapped_column(String(100))  # narrative id, or "all"
    window_start: Mapped[datetime] = mapped_column(UTCDateTime)
    window_end: Mapped[datetime] = mapped_column(UTCDateTime)
    count: Mapped[int] = mapped_column(Integer)
    total: Mapped[int] = mapped_column(Integer)  # relevant items in the window
    norm_mean: Mapped[float] = mapped_column(Float)
    norm_sd: Mapped[float] = mapped_column(Float)
    threshold: Mapped[int] = mapped_column(Integer)  # the smallest count that is a spike
    item_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    # Set when the previous window already had this spike: recorded, not sent again.
    continues_id: Mapped[Optional[int]] = mapped_column(ForeignKey("alerts.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    email_status: Mapped[str] = mapped_column(String(10))  # pending | sent | failed | off
    email_error: Mapped[Optional[str]] = mapped_column(Text)
    webhook_status: Mapped[str] = mapped_column(String(10))
    webhook_error: Mapped[Optional[str]] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_attempt_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
