"""The classifier: persistence with skops, safety on bad files, the misleading guard."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from models.contract import ClassifyInput
from models.persistence import CARD_FILE, ModelError, load_model


def test_model_card_records_versions_data_hash_and_held_out_scores(model_dir: Path) -> None:
    card = json.loads((model_dir / CARD_FILE).read_text(encoding="utf-8"))
    assert len(card["training_data_sha256"]) == 64
    assert set(card["libraries"]) >= {"scikit-learn", "skops", "python"}
    held = card["held_out"]
    assert held["n"] > 100 and 0 <= held["macro_f1"] <= 1


def test_loaded_model_classifies_like_the_saved_one(model_dir: Path, classifier) -> None:
    items = [ClassifyInput("1", "Quỹ tín dụng nhân dân Phú Lộc bị khởi tố vì cho vay khống",
                           "Cơ quan điều tra đã khởi tố nguyên giám đốc quỹ tín dụng nhân dân về hành vi lập hồ sơ vay khống, gây thiệt hại 12 tỷ đồng.")]
    again = load_model(model_dir)
    assert again.classify(items)[0] == classifier.classify(items)[0]


def test_both_stages_share_one_feature_step_also_after_loading(model_dir: Path, classifier) -> None:
    loaded = load_model(model_dir)
    assert loaded.label.named_steps["features"] is loaded.relevance.named_steps["features"]


def test_a_model_saved_with_a_feature_step_per_stage_still_loads(tmp_path: Path, model_dir: Path,
                                                                    classifier) -> None:
    """Files written before the stages shared their features hold two whole pipelines."""
    import copy

    import skops.io as sio

    from models.persistence import MODEL_FILE

    older = tmp_path / "older"
    older.mkdir()
    sio.dump({"relevance": copy.deepcopy(classifier.relevance), "label": classifier.label, "version": "older"},
             older / MODEL_FILE)
    loaded = load_model(older)
    assert loaded.label.named_steps["features"] is not loaded.relevance.named_steps["features"]
    items = [ClassifyInput("1", "HTX Tân Phú mở rộng vùng trồng lúa hữu cơ",
                           "Hợp tác xã Tân Phú liên kết với 120 hộ xã viên trồng lúa hữu cơ, giá bán cao hơn 15%.")]
    assert loaded.classify(items)[0] == classifier.classify(items)[0]


def test_corrupt_or_missing_model_gives_a_clear_error(tmp_path: Path, model_dir: Path) -> None:
    with pytest.raises(ModelError, match="coopwatch train"):
        load_model(tmp_path)
    broken = tmp_path / "broken"
    shutil.copytree(model_dir, broken)
    (broken / "classifier.skops").write_bytes(b"not a zip file at all")
    with pytest.raises(ModelError, match="unreadable"):
        load_model(broken)


def test_every_result_carries_reasons_and_a_probability(classifier) -> None:
    items = [
        ClassifyInput("a", "", "nghe noi vao htx la nha nuoc lay het dat, ae rut khoi htx ngay di", "social"),
        ClassifyInput("b", "Hội nghị xúc tiến đầu tư Việt Nam – Nhật Bản",
                      "Hai bên ký kết hợp tác đầu tư trong lĩnh vực công nghiệp bán dẫn.", "news"),
    ]
    for result in classifier.classify(items):
        assert result.reasons and 0.0 <= result.confidence <= 1.0
    assert classifier.classify(items)[1].relevant is False
