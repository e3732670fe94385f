"""Faults: a missing or corrupt model file, and a full disk under the ingest spool.

(A crawler killed mid-crawl is in test_crawl_resume.py; the database unreachable during ingest
in test_spool.py.)
"""
from __future__ import annotations

import logging
import os
import shutil
import sqlite3
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models.persistence import MODEL_FILE, ModelError, load_model
from pipeline.ingest import runtime
from pipeline.ingest.ingestor import Ingestor
from pipeline.review.reclassify import reclassify, unclassified_count
from pipeline.ingest.records import RawRecord
from pipeline.core.schema import CooperativeMention, Item
from pipeline.ingest.spool import ITEM, Spool, SpoolFull
from tests.test_relevance import FILLER
from tests.test_spool import impatient_engine, outage, posts

# A long tax explainer naming one cooperative in passing: stored unclassified it gets a
# cooperative mention, which classification later takes away as not relevant.
PASSING = RawRecord(
    url="https://thue.example.vn/huong-dan-ke-khai", source="thue", outlet="Báo Thuế", kind="news",
    title="Hướng dẫn kê khai thuế năm nay",
    text="\n".join([FILLER] * 3 + ["Đối tượng áp dụng gồm doanh nghiệp, hộ kinh doanh và các đơn vị như "
                                   "HTX Nông nghiệp Tân Phú có phát sinh doanh thu."] + [FILLER] * 3),
)


def break_model(directory: Path, model_dir: Path, how: str) -> None:
    """A model folder whose model file is missing, garbage, or cut off half-way."""
    directory.mkdir(parents=True, exist_ok=True)
    if how == "garbage":
        (directory / MODEL_FILE).write_bytes(b"\x00 this is not a model \xff" * 50)
    elif how == "truncated":
        whole = (model_dir / MODEL_FILE).read_bytes()
        (directory / MODEL_FILE).write_bytes(whole[: len(whole) // 2])


@pytest.mark.parametrize("how,message", [("missing", "no model at"), ("garbage", "is unreadable"),
                                         ("truncated", "is unreadable")])
def test_a_missing_or_corrupt_model_is_a_clear_error_and_items_are_stored_unclassified(
        how: str, message: str, db_url: str, model_dir: Path, tmp_path: Path, monkeypatch, caplog) -> None:
    broken = tmp_path / "model"
    break_model(broken, model_dir, how)
    with pytest.raises(ModelError, match=message):
        load_model(broken)
    monkeypatch.setenv("COOPWATCH_MODEL_DIR", str(broken))
    with caplog.at_level(logging.ERROR, logger="pipeline.ingest.runtime"):
        assert runtime.load_classifier_or_none() is None
    assert message in caplog.text and "items will be stored unclassified" in caplog.text
    engine = runtime.make_engine(db_url)
    report = Ingestor(engine, runtime.load_classifier_or_none()).ingest(posts("model", 2))
    assert report.stored == 2 and report.unclassified == 2 and not report.failures
    assert unclassified_count(engine) == 2
    engine.dispose()


def test_items_stored_unclassified_are_classified_later(engine, classifier) -> None:
    report = Ingestor(engine, None).ingest([*posts("later", 3), PASSING])
    assert report.stored == 4 and report.unclassified == 4
    with Session(engine) as session:
        assert session.scalar(select(func.count(CooperativeMention.id))) == 4  # as if relevant
    done = reclassify(engine, classifier, batch_size=3)  # two batches
    assert (done.classified, done.relevant) == (4, 3)
    assert unclassified_count(engine) == 0
    with Session(engine) as session:
        items = {i.url: i for i in session.scalars(select(Item))}
        passing = items[PASSING.url]
        assert passing.relevant is False and passing.reasons  # the rule's or the model's reasons
        # Not relevant: its cooperative mention goes, as if it had been classified on arrival.
        mentioned = set(session.scalars(select(CooperativeMention.item_id)))
        assert passing.id not in mentioned and len(mentioned) == 3
        assert {i.model_version for i in items.values()} == {classifier.version}
        assert all(i.label for i in items.values() if i.relevant)
    assert reclassify(engine, classifier).classified == 0  # nothing left to do


def test_ingest_and_reclassify_commands_with_a_missing_model(empty_db_url: str, model_dir: Path,
                                                             tmp_path: Path) -> None:
    raw = tmp_path / "raw.jsonl"
    raw.write_text("\n".join(
        f'{{"url": "{p.url}", "kind": "social", "text": "{p.text}"}}' for p in posts("cmd", 3)) + "\n",
        encoding="utf-8")
    env = {**os.environ, "COOPWATCH_DATABASE_URL": empty_db_url, "COOPWATCH_MODEL_DIR": str(tmp_path / "model"),
           "COOPWATCH_INGEST_WORKERS": "1"}

    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "pipeline.cli", *args], capture_output=True, text=True,
                              env=env, timeout=300)

    assert cli("init").returncode == 0
    ingested = cli("ingest", "--input", str(raw))
    assert ingested.returncode == 0, ingested.stderr[-2000:]
    assert "no model at" in ingested.stderr and "items will be stored unclassified" in ingested.stderr
    assert "stored 3" in ingested.stdout and "unclassified 3" in ingested.stdout
    refused = cli("reclassify")
    assert refused.returncode != 0 and "coopwatch train" in refused.stderr
    shutil.copytree(model_dir, tmp_path / "model")
    done = cli("reclassify")
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.startswith("classified 3 stored items (3 relevant")


@contextmanager
def tiny_filesystem(mountpoint: Path, size: str) -> Iterator[Path]:
    """A real tmpfs of `size`; skips the test where mounting is not allowed (not root)."""
    mountpoint.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mountpoint)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here (needs root): {mounted.stderr.strip()}")
    try:
        yield mountpoint
    finally:
        subprocess.run(["umount", "-l", str(mountpoint)], check=True)


@contextmanager
def full_spool(kind: str, tmp_path: Path) -> Iterator[tuple[Spool, Path | None]]:
    """A spool that fills up: on a real 256 KiB filesystem, or under its own size limit."""
    if kind == "disk":
        with tiny_filesystem(tmp_path / "disk", "384k") as disk:
            yield Spool(disk / "spool.sqlite3", reserve_bytes=64 * 1024), disk
    else:
        yield Spool(tmp_path / "spool.sqlite3", max_bytes=96 * 1024), None


ENTRY_TEXT = "Hợp tác xã chia lãi cho thành viên. " * 100  # about 3.7 KB of UTF-8


def readable_entries(path: Path) -> list[int]:
    """The entries' numbers, read straight from the file (no write needed on a full disk)."""
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return [row[0] for row in connection.execute(
            "SELECT json_extract(payload, '$.n') FROM entries WHERE json_extract(payload, '$.text') = ? ORDER BY id",
            (ENTRY_TEXT,))]
    finally:
        connection.close()


@pytest.mark.parametrize("kind", ["disk", "limit"])
def test_a_full_spool_refuses_new_entries_clearly_and_keeps_the_old_ones(kind: str, tmp_path: Path) -> None:
    with full_spool(kind, tmp_path) as (spool, disk):
        accepted: list[int] = []
        with pytest.raises(SpoolFull) as raised:
            for n in range(1000):
                spool.append([(ITEM, {"n": n, "text": ENTRY_TEXT})])
                accepted.append(n)
        assert str(spool.path) in str(raised.value) and "is full" in str(raised.value)
        assert "Entries already in the spool are intact" in str(raised.value)
        assert 5 < len(accepted) < 1000
        assert readable_entries(spool.path) == accepted
        # A batch is kept whole or not at all: no part of one that does not fit is visible.
        with pytest.raises(SpoolFull):
            spool.append([(ITEM, {"n": 5000 + n, "text": ENTRY_TEXT}) for n in range(10)])
        assert readable_entries(spool.path) == accepted
        assert spool.check() == ["ok"]
        if disk is not None:
            assert not [p for p in disk.iterdir() if p.name.endswith("-journal")]
        # Replayed entries can leave even from a full disk, and then there is room again.
        half = len(accepted) // 2
        replayed: list[int] = []
        while len(replayed) < half:
            with spool.claim(min(4, half - len(replayed))) as entries:
                replayed += [e.payload["n"] for e in entries]
        assert replayed == accepted[:half]
        spool.append([(ITEM, {"n": 9999, "text": ENTRY_TEXT})])
        assert readable_entries(spool.path) == accepted[half:] + [9999]
        assert spool.check() == ["ok"]


def test_database_down_and_spool_full_is_a_clear_failure_per_record(db_url: str, tmp_path: Path) -> None:
    engine = impatient_engine(db_url)
    spool = Spool(tmp_path / "spool.sqlite3", max_bytes=64 * 1024)
    ingestor = Ingestor(engine, None, spool=spool, retry_seconds=0)
    with outage(db_url):
        assert ingestor.ingest_batch(posts("fits", 3)).spooled == 3
        report = ingestor.ingest_batch(posts("too-many", 80))  # ~40 KB of text, JSON twice that
    assert report.spooled == 0 and report.stored == 0 and len(report.failures) == 80
    reason = report.failures[0].reason
    assert reason.startswith("not stored: the database is unreachable and spool ") and "is full" in reason
    assert report.failures[0].url == "https://forum.example.vn/too-many/0"
    assert spool.pending() == 3 and spool.check() == ["ok"]
    assert ingestor.flush_spool(force=True).stored == 3  # the earlier records were not harmed
    engine.dispose()
