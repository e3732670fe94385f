import unicodedata

import pytest

from pipeline.normalize import fold, normalize_text

TARGET = "Hợp tác xã Thủy sản Hòa Bình"


@pytest.mark.parametrize(
    "variant",
    [
        TARGET,
        unicodedata.normalize("NFD", TARGET),
        "Hợp tác xã Thuỷ sản Hoà Bình",  # old tone placement
        unicodedata.normalize("NFD", "Hợp tác xã Thuỷ sản Hoà Bình"),
        "Hợp\u200b tác\u00a0xã  Thủy sản Hòa Bình",  # zero-width and odd spaces
    ],
)
def test_every_unicode_variant_normalises_to_one_form(variant: str) -> None:
    assert normalize_text(variant) == TARGET
    assert "Hợp tác xã" in normalize_text(f"Tin: {variant} mở rộng")


def test_folded_key_matches_text_typed_without_diacritics() -> None:
    assert fold(normalize_text(TARGET)) == "hop tac xa thuy san hoa binh"
    assert "hop tac xa" in fold("Đại hội HỢP TÁC XÃ")
    assert fold("Đồng Tháp") == "dong thap"


@pytest.mark.parametrize("word", ["hoàng", "toán", "quà", "hoài", "tuyết", "khuya"])
def test_tone_rule_leaves_words_with_a_following_letter_alone(word: str) -> None:
    assert normalize_text(word) == word


def test_paragraph_breaks_survive_and_blank_runs_collapse() -> None:
    assert normalize_text("a\n\n\n\nb\r\n c ") == "a\n\nb\nc"
