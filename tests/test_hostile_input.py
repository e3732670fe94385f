"""Hostile input never stops a run or loses another record: a file of good records around
every kind of bad one, through `coopwatch ingest` on SQLite and on PostgreSQL, and random
hostile JSON through the reader and the ingestor (hypothesis)."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from hypothesis import HealthCheck, given, settings, strategies as st
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from pipeline.core.db import make_engine, migrate
from pipeline.core.jsonl import parse_line
from pipeline.core.schema import IngestError, Item
from pipeline.ingest.ingestor import Ingestor
from pipeline.ingest.records import RecordError, RecordFailure, record_from_dict

GOOD_TEXT = "Hợp tác xã Tân Hòa ký hợp đồng bao tiêu rau với hai chuỗi siêu thị, thu nhập thành viên tăng."


def _good(n: int) -> bytes:
    row = {"url": f"https://tin.example.vn/bai-{n}", "source": "tin", "kind": "news",
           "title": f"Tin số {n}", "text": f"{GOOD_TEXT} Bản tin số {n}, mục {n * 7}."}
    return json.dumps(row, ensure_ascii=False).encode("utf-8")


def _bad_lines() -> list[tuple[bytes, str]]:
    """(line, what its error must say) for each kind of hostile record."""
    text = GOOD_TEXT
    return [
        (b'{"url": "https://a.vn/1", "text": "%s", "reactions": 1e400}' % text.encode(), "out of range"),
        (b'{"url": "https://a.vn/2", "text": "x", "shares": 1' + b"0" * 5000 + b"}", "out of range"),
        (b"[" * 200_000, "nested too deeply"),
        (json.dumps({"url": "https://a.vn/3", "text": text, "reactions": 2**70}).encode(), "reactions"),
        (json.dumps({"url": "http://[::1", "text": text}).encode(), "not a valid URL"),
        (json.dumps({"url": "https://a.vn/5", "text": text, "source": "s\x00ource"}).encode(), None),
        ('{"url": "https://a.vn/6", "text": "Hợp tác xã '.encode() + b'\xff"}', "not valid UTF-8"),
        (json.dumps({"url": "https://a.vn/7", "text": text, "title": ["a", "b"]}).encode(), "title"),
        (json.dumps({"url": "https://a.vn/8", "text": text, "reactions": "lots"}).encode(), "reactions"),
        (json.dumps({"url": 12345, "text": text}).encode(), "url: Input should be a valid string"),
        (b'{"url": "https://a.vn/9", "text": "HTX Tan Hoa \\ud800 ky hop dong bao tieu rau voi sieu thi"}', None),
        (json.dumps({"url": "https://a.vn/10", "text": "x" * (2 * 2**20)}).encode(), "over the limit"),
        (b'{"url": "https://a.vn/11", "text": NaN}', "not a number"),
        (b'"just a string"', "expected a JSON object"),
    ]


def _run_ingest(raw: Path, url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COOPWATCH_DATABASE_URL": url, "COOPWATCH_MODEL_DIR": str(raw.parent / "no-model"),
           "COOPWATCH_MAX_RECORD_MB": "1", "COOPWATCH_SPOOL_DIR": str(raw.parent / "spool")}
    return subprocess.run([sys.executable, "-m", "pipeline.cli", "ingest", "--input", str(raw), "--workers", "1"],
                          env=env, capture_output=True, text=True, timeout=300)


def test_a_hostile_file_stores_every_good_record_and_logs_each_bad_one(tmp_path: Path, db_url: str) -> None:
    migrate(db_url)
    bad = _bad_lines()
    lines: list[bytes] = []
    for n, (line, _) in enumerate(bad):
        lines += [_good(n), line]
    lines.append(_good(len(bad)))
    raw = tmp_path / "hostile.jsonl"
    raw.write_bytes(b"\n".join(lines) + b"\n")
    result = _run_ingest(raw, db_url)

    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    summary = re.search(r"received (\d+), stored (\d+) .*already stored (\d+), updated \d+, exact duplicates (\d+), "
                        r"unclassified \d+, failed (\d+)", result.stdout)
    assert summary, result.stdout + result.stderr[-2000:]
    received, stored, already, copies, failed = map(int, summary.groups())
    assert received == len(lines) == stored + already + copies + failed
    engine = create_engine(db_url)
    with Session(engine) as session:
        urls = set(session.scalars(select(Item.url)))
        reasons = list(session.scalars(select(IngestError.reason)))
    engine.dispose()
    assert {f"https://tin.example.vn/bai-{n}" for n in range(len(bad) + 1)} <= urls
    # The NUL and the lone surrogate are cleaned, and those records stored; every other one fails.
    assert {"https://a.vn/5", "https://a.vn/9"} <= urls
    expected = [reason for _, reason in bad if reason]
    assert failed == len(expected) == len(reasons)
    for reason in expected:
        assert any(reason in logged for logged in reasons), (reason, reasons)
    assert result.returncode == 1  # failures are reported, not hidden


def test_the_failure_log_takes_any_text(db_url: str) -> None:
    migrate(db_url)
    engine = make_engine(db_url)
    failures = [RecordFailure("bad\x00 reason \ud800", 2**40, url="https://a.vn/\x00x", source="s\x00" * 300)]
    report = Ingestor(engine).ingest(failures)
    assert len(report.failures) == 1
    with Session(engine) as session:
        row = session.scalars(select(IngestError)).one()
        assert "\x00" not in row.reason + row.source + (row.url or "") and row.position is None
    engine.dispose()


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)
RECORDS = st.fixed_dictionaries(
    {"url": st.one_of(st.just("https://a.vn/x"), st.text(max_size=30), st.integers(), st.none())},
    optional={"text": JSON_VALUES, "html": JSON_VALUES, "title": JSON_VALUES, "kind": JSON_VALUES,
              "reactions": JSON_VALUES, "shares": JSON_VALUES, "published_at": JSON_VALUES,
              "source": JSON_VALUES},
)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200) | RECORDS.map(lambda r: json.dumps(r).encode()))
def test_the_reader_turns_any_line_into_a_record_or_a_clear_error(line: bytes) -> None:
    parsed = parse_line(line, 1)
    if isinstance(parsed, dict):
        try:
            record_from_dict(parsed, position=1)
        except RecordError as exc:
            assert str(exc)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(RECORDS, min_size=1, max_size=6))
def test_ingest_accounts_for_every_random_record(tmp_path: Path, rows: list[dict]) -> None:
    url = f"sqlite:///{tmp_path / 'h.db'}"
    migrate(url)
    engine = make_engine(url)
    inputs = []
    for n, row in enumerate(rows, 1):
        try:
            inputs.append(record_from_dict(row, position=n))
        except RecordError as exc:
            inputs.append(RecordFailure(str(exc), n))
    report = Ingestor(engine).ingest(inputs)
    assert report.received == len(rows)
    assert report.received == report.stored + report.already_stored + report.exact_duplicates + len(report.failures)
    with Session(engine) as session:
        assert session.scalar(select(func.count(IngestError.id))) == len(report.failures)
    engine.dispose()
    Path(tmp_path / "h.db").unlink()


def test_crawled_pages_meet_the_same_schema() -> None:
    from pipeline.ingest.prepare import prepare_entry
    from pipeline.ingest.records import RawRecord

    page = "<html><body><article><p>" + GOOD_TEXT * 3 + "</p></article></body></html>"
    bad = [RawRecord(url="http://[::1", source="s", outlet="o", html=page),
           RawRecord(url="https://a.vn/x", source="s", outlet="o", html=page, reactions=-5),
           RawRecord(url="https://a.vn/y", source="s", outlet="o", html="x" * (6 * 2**20))]
    reasons = [prepare_entry(record).reason for record in bad]  # type: ignore[union-attr]
    assert "not a valid URL" in reasons[0] and "reactions" in reasons[1] and "over the limit" in reasons[2]
    cleaned = prepare_entry(RawRecord(url="https://a.vn/z", source="s\x00", outlet="o", title="Tin\x00", text=GOOD_TEXT))
    assert not isinstance(cleaned, RecordFailure) and "\x00" not in cleaned.title + cleaned.record.source
    nul_text = prepare_entry(RawRecord(url="https://a.vn/w", source="s", outlet="o", text=GOOD_TEXT + "\x00"))
    assert isinstance(nul_text, RecordFailure) and "binary" in nul_text.reason  # refused, clearly
