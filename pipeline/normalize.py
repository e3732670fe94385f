"""Vietnamese text normalisation: one Unicode form, one tone placement, a folded key."""
from __future__ import annotations

import re
import unicodedata

# Zero-width characters, BOMs and soft hyphens that break substring search.
_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")
_ODD_SPACE = re.compile("[\u00a0\u2000-\u200a\u202f\u205f\u3000\t\r\f\v]+")
_MANY_SPACES = re.compile(" {2,}")
_MANY_NEWLINES = re.compile("\n{3,}")

# Old-style placement ("hoà", "thuỷ") moved to the first vowel ("hòa", "thủy"), as most
# Vietnamese news sites write it. Only the pairs oa, oe, uy are affected, and only when no
# consonant follows the pair (toán, hoàng, tuyết keep their mark where it is).
_TONES = "\u0300\u0301\u0303\u0309\u0323"
_OLD_TONE = re.compile(
    r"(?<![qQ])([oO])([aAeE])([" + _TONES + r"])(?![\w])|(?<![qQ])([uU])([yY])([" + _TONES + r"])(?![\w])"
)


def _move_tone(match: re.Match[str]) -> str:
    first, second, tone = (match.group(1), match.group(2), match.group(3))
    if first is None:
        first, second, tone = match.group(4), match.group(5), match.group(6)
    return first + tone + second


def normalize_tones(text: str) -> str:
    """Put the tone mark of oa/oe/uy endings on the first vowel (hoà → hòa, thuỷ → thủy)."""
    decomposed = unicodedata.normalize("NFD", text)
    # In NFD a tone mark follows its base letter, so "hoà" is h, o, a, U+0300.
    return unicodedata.normalize("NFC", _OLD_TONE.sub(_move_tone, decomposed))


def clean_whitespace(text: str) -> str:
    """Drop invisible characters and collapse odd spacing, keeping paragraph breaks."""
    text = _INVISIBLE.sub("", text)
    text = _ODD_SPACE.sub(" ", text)
    text = "\n".join(line.strip() for line in text.split("\n"))
    text = _MANY_SPACES.sub(" ", text)
    return _MANY_NEWLINES.sub("\n\n", text).strip()


def normalize_text(text: str) -> str:
    """NFC, one tone placement, clean whitespace: the form every stored text has."""
    return clean_whitespace(normalize_tones(unicodedata.normalize("NFC", text)))


def fold(text: str) -> str:
    """Diacritic-free lower-case key (đ → d) for matching text typed without accents."""
    decomposed = unicodedata.normalize("NFD", text.lower())
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return stripped.replace("đ", "d")
