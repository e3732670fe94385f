"""Province, sector and cooperative registry: the matchers and what ingest stores."""
import csv
import unicodedata
from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pipeline.ingest.enrich import ProvinceMatcher, enrich, main_sector, named_cooperatives, province_matcher
from pipeline.ingest.ingestor import Ingestor
from pipeline.core.normalize import normalize_text
from pipeline.ingest.records import RawRecord
from pipeline.core.schema import Cooperative, CooperativeMention, Item
from tests.conftest import shared_path

VN = timezone(timedelta(hours=7))


def _short(name: str) -> str:
    name = normalize_text(name)
    for prefix in ("Thành phố ", "Tỉnh "):
        name = name.removeprefix(prefix)
    return name


def test_every_former_province_maps_to_its_current_one() -> None:
    """Our table against the official 63 → 34 mapping."""
    matcher = province_matcher()
    rows = list(csv.DictReader(shared_path("admin", "province_63_to_34.csv").open(encoding="utf-8")))
    assert len(rows) == 63
    current = {p.name.removeprefix("TP. ") for p in matcher.provinces}
    assert len(current) == 34
    for row in rows:
        old, new = _short(row["old_name"]), _short(row["new_name"])
        assert new in current, new
        found = matcher.main_province("", f"Tin từ {normalize_text(row['old_name'])} hôm nay.")
        assert found is not None and found.removeprefix("TP. ") == new, (old, found)


def test_province_found_in_every_spelling() -> None:
    matcher = province_matcher()
    decomposed = unicodedata.normalize("NFD", "Hợp tác xã ở Hòa Bình")
    for text in ("Hợp tác xã ở Hoà Bình", decomposed, "hop tac xa o Hoa Binh"):
        assert matcher.main_province("", normalize_text(text)) == "Phú Thọ", text
    assert matcher.main_province("", "Các HTX ở TP.HCM và Bình Dương") == "TP. Hồ Chí Minh"
    assert matcher.main_province("", "Hàng hóa đi qua Thái Bình Dương") is None
    assert matcher.main_province("", "hòa bình và hợp tác") is None  # the word, not the province
    # The title weighs more than a passing mention in the body.
    assert matcher.main_province("HTX ở Cà Mau", "Họp tại Hà Nội. Hà Nội") == "Cà Mau"


def test_sector_needs_more_than_one_passing_cue() -> None:
    assert main_sector("HTX nuôi tôm thắng lớn", "Thủy sản là thế mạnh của xã.") == "aquaculture"
    assert main_sector("", "Quỹ tín dụng nhân dân Phú Lợi tăng vốn cho vay.") == "credit"
    assert main_sector("", "Hợp tác xã vừa họp.") is None
    assert main_sector("", "HTX van tai Thang Loi mo tuyen xe buyt moi") == "transport"


def test_sector_cues_never_span_a_line_or_a_comma_and_never_overlap() -> None:
    assert main_sector("", "Xã có nghề nuôi\ntôm và nuôi, cá") is None
    assert main_sector("", "Xã có nghề nuôi tôm và nuôi cá") == "aquaculture"
    # "bến xe buýt" holds two transport cues that overlap: it counts once, as one cue.
    assert main_sector("", "Khai trương bến xe buýt") is None
    assert main_sector("", "Khai trương bến xe buýt và tuyến xe mới") == "transport"


def test_named_cooperatives_and_not_generic_mentions() -> None:
    text = normalize_text(
        "Giám đốc HTX Nông nghiệp Tân Phú (Thái Bình) cho biết. Hợp tác xã rau an toàn Đông Dư "
        "có sản phẩm OCOP; Quỹ tín dụng nhân dân Phú Lợi đã đại hội. Liên hiệp HTX Thương mại "
        "TP.HCM mở cửa hàng. Liên minh HTX Việt Nam họp, Luật Hợp tác xã 2023 có hiệu lực, "
        "các HTX trên địa bàn tỉnh gặp khó, nhiều HTX kiểu mới ra đời, HTX nộp thuế GTGT."
    )
    found = {(c.kind, c.name) for c in named_cooperatives(text)}
    assert found == {
        ("cooperative", "HTX Nông nghiệp Tân Phú"),
        ("cooperative", "HTX rau an toàn Đông Dư"),
        ("credit_fund", "Quỹ tín dụng nhân dân Phú Lợi"),
        ("union", "Liên hiệp HTX Thương mại TP.HCM"),
    }


def test_one_cooperative_under_several_spellings() -> None:
    keys = {c.key for c in named_cooperatives(normalize_text(
        "HTX Thuỷ sản Bình Minh. Hợp tác xã thủy sản Bình Minh. HTX thuy san Binh Minh."))}
    assert len(keys) == 1


def _post(n: int, text: str, day: int, title: str = "") -> RawRecord:
    return RawRecord(url=f"https://dien-dan.example.vn/bai-{n}", source="forum", outlet="dien-dan",
                     kind="social", title=title, text=text,
                     published_at=datetime(2026, 11, day, 8, tzinfo=VN))


def test_ingest_stores_province_sector_and_registry_mentions_over_time(engine) -> None:
    records = [
        _post(1, "HTX Thủy sản Bình Minh ở Bạc Liêu thu hoạch tôm thẻ, nuôi tôm lãi lớn.", 10),
        _post(2, "Hop tac xa thuy san Binh Minh (Bac Lieu) mo rong dien tich nuoi tom the.", 12),
        _post(3, "Quỹ tín dụng nhân dân Phú Lợi tăng vốn cho vay hộ nghèo ở Thái Bình.", 14),
    ]
    report = Ingestor(engine).ingest(records)
    assert report.stored == 3 and not report.failures
    with Session(engine) as session:
        items = {i.url[-1]: i for i in session.scalars(select(Item))}
        assert items["1"].province == items["2"].province == "Cà Mau"
        assert items["3"].province == "Hưng Yên"
        assert items["1"].sector == "aquaculture" and items["3"].sector == "credit"
        coops = {c.name: c for c in session.scalars(select(Cooperative))}
        assert set(coops) == {"HTX Thủy sản Bình Minh", "Quỹ tín dụng nhân dân Phú Lợi"}
        binh_minh = coops["HTX Thủy sản Bình Minh"]
        assert binh_minh.province == "Cà Mau"
        days = sorted(m.mentioned_at.astimezone(VN).day for m in binh_minh.mentions)
        assert days == [10, 12]
        assert binh_minh.first_seen_at.astimezone(VN).day == 10


def test_reingest_is_a_no_op_and_a_changed_page_is_updated_in_place(engine) -> None:
    ingestor = Ingestor(engine)
    first = _post(1, "HTX Thủy sản Bình Minh ở Bạc Liêu thu hoạch tôm thẻ, nuôi tôm lãi lớn.", 10)
    assert ingestor.ingest([first]).stored == 1
    again = ingestor.ingest([_post(1, first.text or "", 10)])
    assert again.already_stored == 1 and again.stored == 0 and again.updated == 0
    changed = _post(1, "HTX Đông Hưng ở Cần Thơ mở rộng vùng trồng lúa hữu cơ, lúa đạt năng suất cao.", 10)
    report = ingestor.ingest([changed])
    assert report.updated == 1 and report.stored == 0
    with Session(engine) as session:
        assert session.scalar(select(func.count(Item.id))) == 1
        item = session.scalars(select(Item)).one()
        assert "Đông Hưng" in item.text and item.province == "Cần Thơ" and item.sector == "agriculture"
        mentioned = session.scalars(
            select(Cooperative.name).join(CooperativeMention).where(CooperativeMention.item_id == item.id)
        ).all()
        assert mentioned == ["HTX Đông Hưng"]  # the old version's mention went with its text


def test_enrich_reads_lead_and_title() -> None:
    result = enrich("HTX Quyết Thắng ở Nghệ An", "Vụ lúa năm nay bội thu, lúa chất lượng cao.")
    assert result.province == "Nghệ An" and result.sector == "agriculture"
    assert [c.name for c in result.cooperatives] == ["HTX Quyết Thắng"]


def test_an_empty_province_table_finds_nothing() -> None:
    assert ProvinceMatcher([]).main_province("Hà Nội", "Hà Nội") is None
