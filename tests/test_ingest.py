from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pipeline.ingest.ingestor import Ingestor
from pipeline.ingest.records import RecordFailure
from pipeline.ingest.records import RawRecord, RecordError, record_from_dict
from pipeline.core.schema import IngestError, Item, StoryCluster
from tests.helpers import OTHER_BODY, VN, WIRE_BODY, article_html, make_article

def wire_copies() -> list[RawRecord]:
    """One wire story carried by three outlets with small edits, hours apart."""
    base = datetime(2026, 11, 12, 9, 30, tzinfo=VN)
    edited = list(WIRE_BODY)
    edited[1] = edited[1].replace("tăng 86 đơn vị", "tăng thêm 86 đơn vị")
    local = (*WIRE_BODY[:4], "Tại địa phương, nhiều hợp tác xã đã đăng ký tham gia chương trình OCOP năm tới.")
    variants = [("nongthonmoi", WIRE_BODY, 2), ("kinhtehoptac", tuple(edited), 0), ("baotinhbinhminh", local, 5)]
    return [
        RawRecord(url=f"https://{outlet}.example.vn/hoi-nghi-ktt.html", source=outlet, outlet=outlet,
                  html=article_html(make_article("hoi-nghi", outlet, body, published=base + timedelta(hours=h))))
        for outlet, body, h in variants
    ]


def test_syndicated_copies_become_one_story_with_first_outlet(engine, classifier) -> None:
    other = make_article("sat-lo", "nongthonmoi", OTHER_BODY, title="Sạt lở chia cắt đường liên xã")
    records = wire_copies() + [RawRecord(url="https://nongthonmoi.example.vn/sat-lo.html",
                                         source="n", outlet="nongthonmoi", html=article_html(other))]
    report = Ingestor(engine, classifier).ingest(records)
    assert report.stored == 4 and report.joined_story == 2 and not report.failures
    with Session(engine) as session:
        clusters = session.scalars(select(StoryCluster).order_by(StoryCluster.size.desc())).all()
        assert [c.size for c in clusters] == [3, 1]
        assert clusters[0].first_outlet == "kinhtehoptac"  # published earliest
        wire_items = session.scalars(select(Item).where(Item.cluster_id == clusters[0].id)).all()
        assert {i.outlet for i in wire_items} == {"nongthonmoi", "kinhtehoptac", "baotinhbinhminh"}
        assert all(i.label is not None and i.relevant for i in wire_items)


def test_story_index_survives_a_restart(engine, classifier) -> None:
    first, *rest = wire_copies()
    Ingestor(engine, classifier).ingest([first])
    report = Ingestor(engine, classifier).ingest(rest)  # a new process: index rebuilt from the database
    assert report.joined_story == 2


def test_ingest_is_idempotent_and_exact_copies_are_stored_once(engine, classifier) -> None:
    records = wire_copies()[:1]
    ingestor = Ingestor(engine, classifier)
    assert ingestor.ingest(records).stored == 1
    again = ingestor.ingest(wire_copies()[:1])
    assert again.stored == 0 and again.already_stored == 1
    moved = wire_copies()[0]
    moved.url = "https://another.example.vn/copy.html"
    assert ingestor.ingest([moved]).exact_duplicates == 1
    with Session(engine) as session:
        assert session.scalar(select(func.count(Item.id))) == 1


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ({"html": "<p>x</p>", "source": "s"}, "missing url"),
        ({"url": "https://a.vn/1", "html": "   "}, "neither html nor text"),
        ({"url": "https://a.vn/2", "html": "\x00\x01\x02PK\x03\x04" * 50}, "binary"),
        ({"url": "ftp://a.vn/3", "text": "Hợp tác xã"}, r"not an http\(s\) URL"),
        ({"url": "https://a.vn/4", "text": "HTX", "kind": "tweet"}, "kind must be"),
        ({"url": "https://a.vn/5", "text": "HTX", "published_at": "hôm qua"}, "ISO-8601"),
    ],
)
def test_bad_raw_records_get_clear_errors(row, reason) -> None:
    with pytest.raises(RecordError, match=reason):
        record_from_dict(row)


def test_bad_records_are_logged_and_never_block_good_ones(engine, classifier) -> None:
    good = wire_copies()[0]
    empty_page = RawRecord(url="https://a.vn/empty.html", source="s", outlet="s",
                           html="<html><body><nav>Trang chủ</nav></body></html>")
    parse_failure = RecordFailure("line 3: invalid JSON", 3, source="raw.jsonl")
    report = Ingestor(engine, classifier).ingest([empty_page, parse_failure, good])
    assert report.stored == 1
    assert len(report.failures) == 2
    with Session(engine) as session:
        reasons = sorted(session.scalars(select(IngestError.reason)))
        assert reasons == ["line 3: invalid JSON", "no article text found in the page"]


def test_without_a_model_items_are_stored_unclassified(engine) -> None:
    report = Ingestor(engine, None).ingest(wire_copies()[:1])
    assert report.stored == 1 and report.unclassified == 1
    with Session(engine) as session:
        item = session.scalars(select(Item)).one()
        assert item.label is None and item.relevant is None and item.model_version is None


def test_social_text_records_skip_extraction_and_keep_reach(engine, classifier) -> None:
    record = record_from_dict({
        "url": "https://forum.example.vn/t/123", "kind": "social", "source": "forum",
        "text": "Ae cho hoi vao htx rau sach o xa minh thi can giay to gi, co mat phi khong vay?",
        "published_at": "2026-11-20T08:00:00+07:00", "reactions": "12", "shares": 3,
    })
    Ingestor(engine, classifier).ingest([record])
    with Session(engine) as session:
        item = session.scalars(select(Item)).one()
        assert item.kind == "social" and item.reactions == 12 and item.shares == 3
        assert item.text_folded.startswith("ae cho hoi vao htx")
        assert item.published_at == datetime(2026, 11, 20, 1, 0, tzinfo=item.published_at.tzinfo)


def test_parallel_ingest_stores_the_same_as_one_process(tmp_path, classifier, db_url) -> None:
    """Workers prepare and classify; the parent dedupes and writes: same items, same stories."""
    from pipeline.core.db import make_engine, migrate

    def run(url: str, workers: int) -> list[tuple]:
        migrate(url)
        engine = make_engine(url)
        records = wire_copies() + [RecordFailure("bad line", 9, source="file")] + [
            RawRecord(url=f"https://nongthonmoi.example.vn/{n}.html", source="n", outlet="nongthonmoi",
                      html=article_html(make_article(f"s{n}", "nongthonmoi", (OTHER_BODY[0] + f" Số {n}.",) + OTHER_BODY[1:])))
            for n in range(5)
        ]
        report = Ingestor(engine, classifier).ingest(records, batch_size=3, workers=workers)
        assert report.received == 9 and len(report.failures) == 1
        with Session(engine) as session:
            rows = session.execute(select(Item.canonical_url, Item.label, Item.confidence, StoryCluster.size)
                                   .join(StoryCluster).order_by(Item.canonical_url)).all()
            errors = session.scalar(select(func.count(IngestError.id)))
        engine.dispose()
        assert errors == 1
        return [tuple(row) for row in rows]

    # The reference run on SQLite, the parallel one on the backend under test.
    single, parallel = run(f"sqlite:///{tmp_path / 'one.db'}", 1), run(db_url, 2)
    assert len(single) == 8
    assert parallel == single


_REJECT_TRIGGER = {
    "sqlite": ["CREATE TRIGGER reject_outlet BEFORE INSERT ON items WHEN NEW.outlet = 'rejected' "
               "BEGIN SELECT RAISE(ABORT, 'rejected by the test trigger'); END"],
    "postgresql": [
        "CREATE FUNCTION reject_outlet() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "IF NEW.outlet = 'rejected' THEN RAISE EXCEPTION 'rejected by the test trigger'; END IF; "
        "RETURN NEW; END $$",
        "CREATE TRIGGER reject_outlet BEFORE INSERT ON items FOR EACH ROW EXECUTE FUNCTION reject_outlet()",
    ],
}


def test_a_record_the_database_rejects_fails_alone_and_leaves_no_trace(engine, classifier) -> None:
    """Items are written in bulk; when the database refuses one, the rest are still stored."""
    from sqlalchemy import text

    with engine.begin() as connection:
        for statement in _REJECT_TRIGGER[engine.dialect.name]:
            connection.execute(text(statement))
    first, earliest, last = wire_copies()
    earliest.outlet = "rejected"
    other = RawRecord(url="https://nongthonmoi.example.vn/sat-lo.html", source="n", outlet="nongthonmoi",
                      html=article_html(make_article("sat-lo", "nongthonmoi", OTHER_BODY, title="Sạt lở")))
    ingestor = Ingestor(engine, classifier)
    report = ingestor.ingest([first, earliest, last, other])
    assert report.stored == 3 and report.joined_story == 1
    assert [f.url for f in report.failures] == [earliest.url]
    assert "rejected by the test trigger" in report.failures[0].reason
    with Session(engine) as session:
        assert session.scalars(select(IngestError.url)).all() == [earliest.url]
        clusters = session.scalars(select(StoryCluster).order_by(StoryCluster.size.desc())).all()
        # The refused copy is counted nowhere: the story's first outlet is the earliest stored one.
        assert [c.size for c in clusters] == [2, 1]
        assert clusters[0].first_outlet == "nongthonmoi"
        assert session.scalar(select(func.count(Item.id))) == 3

    with engine.begin() as connection:
        connection.execute(text("DROP TRIGGER reject_outlet" + (" ON items" if engine.dialect.name == "postgresql" else "")))
    earliest = wire_copies()[1]  # ingest consumed the first record's page
    earliest.outlet = "rejected"
    again = ingestor.ingest([earliest])  # the same process: its story index must hold no trace of the refusal
    assert again.stored == 1 and again.joined_story == 1
    with Session(engine) as session:
        story = session.scalars(select(StoryCluster).order_by(StoryCluster.size.desc())).first()
        assert story.size == 3 and story.first_outlet == "rejected"


def test_a_post_without_a_title_gets_its_first_words_marked_as_derived(engine) -> None:
    from pipeline.core.normalize import derive_title
    from pipeline.core.schema import Item

    long_line = "Nhà mình vào HTX rau an toàn Tân Hòa được ba năm, năm nay hợp tác xã ký bao tiêu với hai chuỗi siêu thị lớn"
    assert derive_title(f"\n{long_line}\nDòng hai") == "Nhà mình vào HTX rau an toàn Tân Hòa được ba năm, năm nay hợp tác xã ký bao…"
    assert derive_title("Ngắn thôi.\nDòng hai") == "Ngắn thôi."
    post = RawRecord(url="https://facebook.example/p/1", source="fb", outlet="Nhóm nông dân", kind="social",
                     text=f"{long_line}\nCảm ơn chị Hạnh giám đốc đã chạy mối.")
    titled = RawRecord(url="https://bao.example.vn/a", source="bao", outlet="Báo", title="Tiêu đề thật",
                       text="Hợp tác xã Tân Hòa ký hợp đồng bao tiêu rau an toàn với siêu thị.")
    Ingestor(engine).ingest_batch([post, titled])
    with Session(engine) as session:
        rows = {i.url: i for i in session.scalars(select(Item))}
    derived = rows["https://facebook.example/p/1"]
    assert derived.title_derived and derived.title.endswith("…") and long_line.startswith(derived.title[:-1])
    assert rows["https://bao.example.vn/a"].title == "Tiêu đề thật" and not rows["https://bao.example.vn/a"].title_derived
