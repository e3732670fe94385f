"""The command line as users and scripts call it: real processes, real files."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from pipeline.core.schema import IngestError, Item
from tests.helpers import article_html, make_article


def run_cli(args: list[str], env_extra: dict[str, str], stdin: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, **env_extra}
    return subprocess.run([sys.executable, "-m", "pipeline.cli", *args], env=env, input=stdin,
                          capture_output=True, text=True, timeout=300)


def test_help_lists_every_command() -> None:
    result = run_cli(["--help"], {})
    assert result.returncode == 0
    for command in ("init", "demo-site", "crawl", "ingest", "classify", "train", "evaluate",
                    "export", "dashboard", "users", "demo"):
        assert command in result.stdout


def test_classify_writes_one_row_per_input_in_order(tmp_path: Path, model_dir: Path) -> None:
    rows = [
        {"id": "m1", "title": "HTX Thanh Long Hàm Minh: từ 5 hộ đến chuỗi xuất khẩu",
         "text": "Hợp tác xã thanh long Hàm Minh liên kết 120 hộ thành viên, doanh thu năm nay đạt 18 tỷ đồng, "
                 "sản phẩm đạt OCOP 4 sao và xuất khẩu sang nhiều thị trường.", "kind": "news"},
        "{not json",
        {"id": "x2", "title": "Tỷ giá USD hôm nay", "text": "Tỷ giá trung tâm tăng nhẹ trong phiên sáng.", "kind": "news"},
        {"id": "e3", "title": "Thiếu nội dung", "kind": "news"},
        {"id": "s4", "title": "", "text": "nghe noi vao htx la mat dat, ai biet khong", "kind": "social"},
    ]
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in rows) + "\n",
                      encoding="utf-8")
    target = tmp_path / "out.jsonl"
    result = run_cli(["classify", "--input", str(source), "--output", str(target)],
                     {"COOPWATCH_MODEL_DIR": str(model_dir)})
    out = [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines()]
    assert len(out) == len(rows)
    assert [o["id"] for o in out] == ["m1", None, "x2", None, "s4"]
    assert "line 2: invalid JSON" in result.stderr and "line 4: missing or empty 'text'" in result.stderr
    assert result.returncode == 1  # partial failure is signalled, after every good line is written
    for row in (out[0], out[2], out[4]):
        assert set(row) >= {"id", "relevant", "label", "confidence", "sentiment", "reasons"}
        assert 0.0 <= row["confidence"] <= 1.0 and isinstance(row["reasons"], list)
    assert out[0]["relevant"] is True and out[0]["label"] in {"model_story", "positive"}
    assert out[0]["sentiment"] == "positive"
    assert out[2]["relevant"] is False and out[2]["label"] is None and out[2]["sentiment"] is None


def test_classify_without_a_model_fails_clearly(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text('{"id": 1, "text": "HTX"}\n', encoding="utf-8")
    result = run_cli(["classify", "--input", str(source), "--output", str(tmp_path / "o.jsonl")],
                     {"COOPWATCH_MODEL_DIR": str(tmp_path / "none")})
    assert result.returncode != 0 and "coopwatch train" in result.stderr


def test_ingest_stores_good_records_and_reports_bad_ones(tmp_path: Path, model_dir: Path,
                                                        empty_db_url: str) -> None:
    url = empty_db_url
    env = {"COOPWATCH_DATABASE_URL": url, "COOPWATCH_MODEL_DIR": str(model_dir)}
    assert run_cli(["init"], env).returncode == 0
    good = {"url": "https://nongthonmoi.example.vn/hoi-nghi.html", "source": "nongthonmoi",
            "kind": "news", "html": article_html(make_article("hoi-nghi")),
            "fetched_at": "2026-11-12T10:00:00+07:00"}
    social = {"url": "https://forum.example.vn/t/9", "source": "forum", "kind": "social",
              "text": "Quỹ tín dụng nhân dân xã mình vừa họp thành viên, công bố lãi năm nay khá tốt."}
    lines = [
        json.dumps(good, ensure_ascii=False),
        '{"url": "https://a.vn/x", "html": ',                       # invalid JSON
        json.dumps({"url": "https://a.vn/empty", "html": ""}),        # empty HTML
        json.dumps({"url": "https://a.vn/bin", "html": "\u0000\u0001PK\u0003" * 40}),  # binary
        json.dumps({"html": "<p>Hợp tác xã</p>"}),                    # missing url
        json.dumps(social, ensure_ascii=False),
    ]
    raw = tmp_path / "raw.jsonl"
    raw.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = run_cli(["ingest", "--input", str(raw)], env)
    assert result.returncode == 1
    for expected in ("line 2: invalid JSON", "line 3: record has neither html nor text",
                     "line 4: html is binary data", "line 5: missing url"):
        assert expected in result.stderr
    engine = create_engine(url)
    with Session(engine) as session:
        assert session.scalar(select(func.count(Item.id))) == 2
        assert session.scalar(select(func.count(IngestError.id))) == 4
    export = tmp_path / "export.jsonl"
    assert run_cli(["export", "--output", str(export)], env).returncode == 0
    exported = [json.loads(line) for line in export.read_text(encoding="utf-8").splitlines()]
    assert {row["kind"] for row in exported} == {"news", "social"}
    for row in exported:
        assert set(row) >= {"url", "canonical_url", "outlet", "kind", "title", "text", "published_at",
                            "fetched_at", "story_cluster", "relevant", "label", "confidence", "sentiment"}
    news = next(row for row in exported if row["kind"] == "news")
    assert news["published_at"].startswith("2026-11-12T02:30")  # 09:30 Vietnam time, in UTC
    assert news["title"] == "Hội nghị tổng kết kinh tế tập thể năm 2026"


def test_users_add_reads_the_password_from_stdin(tmp_path: Path, empty_db_url: str) -> None:
    url = empty_db_url
    env = {"COOPWATCH_DATABASE_URL": url}
    run_cli(["init"], env)
    ok = run_cli(["users", "add", "lan", "--role", "monitor", "--password-stdin"], env, "mat-khau-dai\n")
    assert ok.returncode == 0, ok.stderr
    short = run_cli(["users", "add", "mai", "--role", "monitor", "--password-stdin"], env, "ngan\n")
    assert short.returncode != 0 and "at least 8" in short.stderr
    from pipeline.core.config import get_settings
    from pipeline.core.login import sign_in

    engine = create_engine(url)
    assert sign_in(engine, get_settings(), "lan", "mat-khau-dai", "test").account.role == "monitor"
    assert sign_in(engine, get_settings(), "lan", "sai-mat-khau", "test").account is None


def test_import_reads_social_exports_with_a_column_mapping(tmp_path: Path, model_dir: Path,
                                                           empty_db_url: str) -> None:
    url = empty_db_url
    env = {"COOPWATCH_DATABASE_URL": url, "COOPWATCH_MODEL_DIR": str(model_dir)}
    run_cli(["init"], env)
    export = tmp_path / "facebook.csv"
    export.write_text(
        "network,group_name,link,message,time,likes,shares\n"
        "Facebook,Nhà nông Cửu Long,https://fb.example/p/1,\"HTX lúa Tân Hòa vừa chia lãi cho xã viên, "
        "mỗi hộ được thêm 5 triệu, mừng quá bà con ơi\",2026-11-20T07:00:00+07:00,210,14\n"
        "Facebook,Nhà nông Cửu Long,,Bài không có đường dẫn,2026-11-20T08:00:00+07:00,1,0\n"
        "Facebook,Hội Cựu chiến binh xã,https://fb.example/p/3,\"Ai biết thủ tục đăng ký thành lập tổ hợp tác "
        "trồng nấm thì chỉ giúp mình với\",ngày mai,5,\n",
        encoding="utf-8",
    )
    mapping = ["--map", "platform=network", "--map", "page=group_name", "--map", "url=link",
               "--map", "text=message", "--map", "published_at=time", "--map", "reactions=likes"]
    result = run_cli(["import", str(export), *mapping], env)
    assert result.returncode == 1
    assert "row 2: missing url" in result.stderr
    assert "row 3: published_at is not an ISO-8601 time" in result.stderr
    engine = create_engine(url)
    with Session(engine) as session:
        item = session.scalars(select(Item)).one()
        assert (item.kind, item.outlet, item.source) == ("social", "Nhà nông Cửu Long", "import:facebook")
        assert (item.reactions, item.shares) == (210, 14)
    bad_map = run_cli(["import", str(export), "--map", "author=name"], env)
    assert bad_map.returncode != 0 and "bad mapping" in bad_map.stderr
