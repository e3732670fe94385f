import unicodedata

import pytest

from pipeline.core.normalize import fold, normalize_text

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


@pytest.mark.parametrize("word", ["hoàng", "toán", "quà", "hoài", "tuyết", "khuya", "hoặc", "ngoặt"])
def test_tone_rule_leaves_words_with_a_following_letter_alone(word: str) -> None:
    assert normalize_text(word) == word
    assert normalize_text(unicodedata.normalize("NFD", word)) == word


@pytest.mark.parametrize(("old", "new"), [("hoà", "hòa"), ("Hoá", "Hóa"), ("khoẻ", "khỏe"), ("thuỷ", "thủy"),
                                          ("HOÀ", "HÒA"), ("Uỷ ban", "Ủy ban"), ("xoè.", "xòe.")])
def test_old_tone_placement_moves_to_the_first_vowel(old: str, new: str) -> None:
    assert normalize_text(old) == new
    assert normalize_text(unicodedata.normalize("NFD", old)) == new


def test_paragraph_breaks_survive_and_blank_runs_collapse() -> None:
    assert normalize_text("a\n\n\n\nb\r\n c ") == "a\n\nb\nc"


def _legacy(text: str, encoding: str) -> str:
    """Text as a TCVN3 or VNI page reads when its bytes are decoded as Latin-1."""
    from viparse.normalize.encodings import CHARMAPS

    inverse = {unicode: legacy for legacy, unicode in CHARMAPS[encoding].pairs}
    return "".join(inverse.get(ch, ch) for ch in unicodedata.normalize("NFC", text))


@pytest.mark.parametrize("encoding", ["tcvn3", "vni"])
def test_legacy_font_encodings_are_detected_and_converted(encoding: str) -> None:
    sentence = "Hợp tác xã nông nghiệp Tân Phú tổ chức đại hội thành viên, bầu ban quản trị mới."
    garbled = _legacy(sentence, encoding)
    assert "Hợp tác xã" not in garbled
    assert normalize_text(garbled) == sentence
    assert "hop tac xa" in fold(normalize_text(garbled))


@pytest.mark.parametrize("text", ["Café crème à la française, déjà vu.", "Hợp tác xã Đồng Tâm", "HTX 2024: 12%"])
def test_unicode_and_foreign_text_are_left_alone(text: str) -> None:
    assert normalize_text(text) == text
