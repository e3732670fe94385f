"""Misleading items name the false narrative they repeat and carry its rebuttal."""
from __future__ import annotations

from pathlib import Path

import pytest

from models.contract import ClassifyInput
from models.corpus import load_corpus
from models.narratives import NarrativeError, NarrativeLibrary
from models.persistence import load_model
from pipeline.core.config import REPO_ROOT

LIBRARY = REPO_ROOT / "data" / "narratives.yaml"
TEST_LIBRARY = """
narratives:
  - id: mat-dat
    title: "Vào HTX là mất đất"
    claim: "Ai vào hợp tác xã sẽ bị nhà nước thu hết đất."
    keywords: ["mất đất", "thu hết đất", "lấy đất"]
    rebuttal: "Thành viên góp vốn theo thỏa thuận; quyền sử dụng đất của hộ không bị thu hồi vì vào HTX."
    legal_reference: "Luật Hợp tác xã số 17/2023/QH15"
  - id: rut-tien
    title: "Quỹ tín dụng sắp vỡ, rút tiền ngay"
    claim: "Quỹ tín dụng nhân dân sắp sụp đổ."
    keywords: ["sắp vỡ", "rút tiền ngay", "rút hết tiền"]
    rebuttal: "Quỹ tín dụng nhân dân chịu sự thanh tra, giám sát của Ngân hàng Nhà nước."
    legal_reference: "Luật Các tổ chức tín dụng"
"""


@pytest.fixture
def library(tmp_path: Path) -> NarrativeLibrary:
    path = tmp_path / "n.yaml"
    path.write_text(TEST_LIBRARY, encoding="utf-8")
    return NarrativeLibrary.load(path)


def test_matching_works_with_and_without_diacritics(library) -> None:
    assert library.match("", "Bà con ơi, vào HTX là MẤT ĐẤT đó").id == "mat-dat"
    assert library.match("", "quy tin dung xa minh sap vo roi, rut tien ngay di ae").id == "rut-tien"
    assert library.match("Tòa tuyên án nguyên giám đốc quỹ tín dụng", "Bị cáo lập hồ sơ vay khống.") is None


def test_the_project_library_covers_the_corpus_narratives_and_spares_criticism() -> None:
    library = NarrativeLibrary.load(LIBRARY)
    assert len(library.narratives) >= 12
    assert len({n.id for n in library.narratives}) == len(library.narratives)
    for narrative in library.narratives:
        assert narrative.rebuttal and narrative.legal_reference.startswith("Điều")
    corpus = load_corpus(REPO_ROOT / "data" / "training")
    misleading = [i for i in corpus if i.label == "misleading"]
    critical = [i for i in corpus if i.label == "critical"]
    matched = sum(library.match(i.title, i.text) is not None for i in misleading)
    assert matched / len(misleading) >= 0.5
    # Honest criticism on the same topics (credit-fund cases, land disputes) names no narrative.
    assert sum(library.match(i.title, i.text) is not None for i in critical) / len(critical) <= 0.01


def test_malformed_library_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("narratives:\n  - id: x\n    title: y\n", encoding="utf-8")
    with pytest.raises(NarrativeError, match="narrative #1 lacks"):
        NarrativeLibrary.load(path)


def test_misleading_predictions_carry_narrative_and_rebuttal(model_dir: Path, tmp_path: Path) -> None:
    path = tmp_path / "n.yaml"
    path.write_text(TEST_LIBRARY, encoding="utf-8")
    model = load_model(model_dir, narratives_path=path)
    post = ClassifyInput("p", "", "KHẨN: quỹ tín dụng nhân dân xã mình sắp vỡ rồi, anh em rút tiền ngay đi "
                                  "không là mất trắng, nghe nói giám đốc bỏ trốn rồi", "social")
    plain = ClassifyInput("q", "", "KHẨN: quy tin dung nhan dan xa minh sap vo roi, ae rut tien ngay di "
                                   "ko la mat trang, nghe noi giam doc bo tron roi", "social")
    result, typed_plain = model.classify([post, plain])
    # Typed without diacritics the model may be less sure: then the item is not called misleading
    # (rule 1 asks for 0.6) but goes to review with the signal named.
    assert typed_plain.needs_review
    assert typed_plain.label == "misleading" or any("sai lệch" in r for r in typed_plain.reasons)
    assert result.label == "misleading"
    assert result.narrative["id"] == "rut-tien" and "Ngân hàng Nhà nước" in result.narrative["rebuttal"]
    assert result.reasons[0].startswith("khớp luận điệu sai")
    honest = ClassifyInput("c", "Khởi tố nguyên giám đốc quỹ tín dụng nhân dân Phú Hòa",
                           "Công an tỉnh cho biết đã khởi tố vụ án, bị can lập 40 hồ sơ vay khống, gây thiệt hại "
                           "hơn 20 tỷ đồng; Ngân hàng Nhà nước chi nhánh tỉnh đã cử tổ giám sát đặc biệt.", "news")
    assert model.classify([honest])[0].narrative is None
