"""Vietnamese text normalisation: one Unicode form, one tone placement, a folded key."""
from __future__ import annotations

import re
import unicodedata
from typing import Optional

from viparse.normalize.detector import detect_encoding_by_content
from viparse.normalize.encodings import AUTO_DETECT_CHARMAPS, CHARMAPS
from viparse.normalize.tables import convert

# Zero-width characters, BOMs and soft hyphens that break substring search.
_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")
_ODD_SPACE = re.compile("[\u00a0\u2000-\u200a\u202f\u205f\u3000\t\r\f\v]+")
_MANY_SPACES = re.compile(" {2,}")
_MANY_NEWLINES = re.compile("\n{3,}")

# Old-style placement ("hoà", "thuỷ") moved to the first vowel ("hòa", "thủy"), as most
# Vietnamese news sites write it. Only the pairs oa, oe, uy are affected, and only when no
# consonant follows the pair (toán, hoàng, tuyết keep their mark where it is).
_TONES = "\u0300\u0301\u0303\u0309\u0323"


def _old_tone_pairs() -> dict[str, str]:
    """Each old-style pair in NFC ("oà") and its new form ("òa")."""
    pairs = {}
    for first, seconds in (("o", "ae"), ("O", "ae"), ("u", "y"), ("U", "y")):
        for second in seconds + seconds.upper():
            for tone in _TONES:
                old = first + unicodedata.normalize("NFC", second + tone)
                pairs[old] = unicodedata.normalize("NFC", first + tone) + second
    return pairs


# Matched on NFC text, where a toned vowel is one character, so a tone moves by swapping two
# letters. Working on NFD instead was ~3x slower and took the dot below of "hoặc" (a, dot,
# breve in NFD) for the tone of an "oa" pair, writing "họăc".
_OLD_TONE_PAIRS = _old_tone_pairs()
_OLD_TONE = re.compile(
    "(?<![qQ])(?:[oO][" + "".join(sorted({p[1] for p in _OLD_TONE_PAIRS if p[0] in "oO"})) + "]"
    "|[uU][" + "".join(sorted({p[1] for p in _OLD_TONE_PAIRS if p[0] in "uU"})) + r"])(?!\w)"
)


def normalize_tones(text: str) -> str:
    """Put the tone mark of oa/oe/uy endings on the first vowel (hoà → hòa, thuỷ → thủy)."""
    return _OLD_TONE.sub(lambda match: _OLD_TONE_PAIRS[match.group()], unicodedata.normalize("NFC", text))


# Unicode Vietnamese has letters beyond Latin-1; a legacy font encoding (TCVN3, VNI) read
# as Latin-1 never does. â, ê, ô are in both, so they prove nothing.
_UNICODE_VIETNAMESE = re.compile("[ăđơưĂĐƠƯ\u1ea0-\u1ef9]")
# Below this, content detection guesses (viparse measures the same limit).
_MIN_DETECTABLE_CHARS = 24
# Legacy encodings put Vietnamese letters on Latin-1 code points ("Hîp t¸c x·").
_LATIN1_LETTERS = re.compile("[\u00a1-\u00ff]")


def legacy_encoding(text: str) -> Optional[str]:
    """'tcvn3' or 'vni' when text is in that font encoding (read as Latin-1), else None."""
    if len(text) < _MIN_DETECTABLE_CHARS or not _LATIN1_LETTERS.search(text):
        return None
    if _UNICODE_VIETNAMESE.search(text):
        return None
    return detect_encoding_by_content(text, AUTO_DETECT_CHARMAPS).encoding


def fix_legacy_encoding(text: str, encoding: Optional[str] = None) -> str:
    """Convert TCVN3 (ABC) or VNI text to Unicode; `encoding` skips detection (e.g. a title
    too short to detect, whose page body was detected)."""
    encoding = encoding or legacy_encoding(text)
    return convert(text, CHARMAPS[encoding]) if encoding else text


def clean_whitespace(text: str) -> str:
    """Drop invisible characters and collapse odd spacing, keeping paragraph breaks."""
    text = _INVISIBLE.sub("", text)
    text = _ODD_SPACE.sub(" ", text)
    text = "\n".join(line.strip() for line in text.split("\n"))
    text = _MANY_SPACES.sub(" ", text)
    return _MANY_NEWLINES.sub("\n\n", text).strip()


def normalize_text(text: str, legacy: Optional[str] = None) -> str:
    """Legacy encodings converted, NFC, one tone placement, clean whitespace."""
    text = fix_legacy_encoding(unicodedata.normalize("NFC", text), legacy)
    return clean_whitespace(normalize_tones(text))


# Every combining mark; one regex pass is ~10x faster than testing characters one by one.
_COMBINING = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")


def _strip_marks_slowly(text: str) -> str:
    stripped = _COMBINING.sub("", unicodedata.normalize("NFD", text))
    return stripped.replace("đ", "d").replace("Đ", "D")


# Every precomposed Latin letter with marks (Vietnamese's 134 among them) → its bare letter.
# str.translate with this table is several times faster than NFD and a regex pass, and it
# keeps an NFC text's length, so offsets into the folded text are offsets into the text.
_BARE_LETTERS = {
    code: bare for code in (*range(0x00C0, 0x0250), *range(0x1E00, 0x1F00))
    if (bare := _strip_marks_slowly(chr(code))) != chr(code) and len(bare) == 1
}


def strip_marks(text: str) -> str:
    """The text without diacritics (đ → d), letter case kept."""
    stripped = text.translate(_BARE_LETTERS)
    if _COMBINING.search(stripped):  # decomposed (NFD) input, or marks on other letters
        stripped = _strip_marks_slowly(stripped)
    return stripped


def fold(text: str) -> str:
    """Diacritic-free lower-case key (đ → d) for matching text typed without accents."""
    return strip_marks(text.lower())


# A social post has no headline; its first line (cut to about this many characters) stands in.
DERIVED_TITLE_CHARS = 80


def derive_title(text: str) -> str:
    """A title for an item that has none: its first line, cut at a word near 80 characters."""
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    if len(first) <= DERIVED_TITLE_CHARS:
        return first
    cut = first[:DERIVED_TITLE_CHARS].rsplit(" ", 1)[0] or first[:DERIVED_TITLE_CHARS]
    return cut.rstrip(" ,.;:–-") + "…"
