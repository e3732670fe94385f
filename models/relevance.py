"""First-stage relevance: is the collective economy the subject, or only mentioned in passing?

LABELS.md: "An item that only mentions a cooperative in passing (one line in a long article
about something else) is not relevant." Tax and labour explainers list "doanh nghiệp, hợp tác
xã …" as one of many kinds of taxpayer; crime and business stories name an HTX once. A word
model trained on short items cannot see that, because those articles do contain the words;
what tells them apart is where and how often the sector is mentioned.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

from pipeline.core.normalize import fold

# Terms that name the sector itself (folded). Broader than a keyword list would need to be,
# narrower than "hợp tác", which mostly means cooperation.
SECTOR_TERMS = re.compile(
    r"\b(hop tac xa|htx|lien hiep hop tac xa|to hop tac|quy tin dung(?: nhan dan)?|qtdnd|quy tdnd|qtd|"
    r"kinh te tap the|lien minh hop tac xa|xa vien|thanh vien hop tac xa|"
    # English, for items about Vietnamese cooperatives written in English or mixed.
    r"cooperatives?|co-ops?|people's credit funds?|credit funds?|collective economy)\b"
)
# "doanh nghiệp, hợp tác xã, hộ kinh doanh": the sector as one item of a list of payers or
# employers, the typical passing mention in tax, insurance and labour texts.
_ENTITY = r"(?:doanh nghiep|ho kinh doanh|ca nhan|to chuc|don vi|co so|cong ty|ho gia dinh)"
ENUMERATION = re.compile(
    rf"{_ENTITY}\s*(?:,|;|va|hoac|/)\s*(?:hop tac xa|htx)\b|\b(?:hop tac xa|htx)\s*(?:,|;|va|hoac|/)\s*{_ENTITY}"
)

# Below this length the whole item is its lead: a post or a brief that names an HTX is about it.
SHORT_ITEM_CHARS = 800
LEAD_CHARS = 400
MIN_MENTIONS = 2
MIN_PARAGRAPH_SHARE = 0.25
MIN_MENTIONS_PER_1000_CHARS = 0.5


@dataclass(frozen=True)
class Prominence:
    """Where and how often an item names the collective economy."""

    chars: int
    mentions: int
    enumerations: int
    in_title: bool
    in_lead: bool
    paragraph_share: float

    @property
    def own_mentions(self) -> int:
        """Mentions that are not one entry of a list of firms and households."""
        return max(self.mentions - self.enumerations, 0)

    @property
    def per_1000_chars(self) -> float:
        return 1000 * self.mentions / max(self.chars, 1)


def prominence(title: str, text: str) -> Prominence:
    """Measure the sector's place in an item (any Unicode form or no diacritics)."""
    folded_title, folded = fold(title), fold(text)
    paragraphs = [p for p in folded.split("\n") if p.strip()] or [folded]
    return Prominence(
        chars=len(folded),
        mentions=len(SECTOR_TERMS.findall(folded)),
        enumerations=len(ENUMERATION.findall(folded)),
        in_title=SECTOR_TERMS.search(folded_title) is not None,
        in_lead=SECTOR_TERMS.search(folded[:LEAD_CHARS]) is not None,
        paragraph_share=sum(SECTOR_TERMS.search(p) is not None for p in paragraphs) / len(paragraphs),
    )


def passing_mention(title: str, text: str) -> Optional[str]:
    """Why a long item only mentions the sector in passing, or None when it may be about it.

    A headline that names the sector makes it the subject. Otherwise a long item must name
    it in its lead or a quarter of its paragraphs, more than once outside lists of firms,
    and at a density a story about it reaches.
    """
    seen = prominence(title, text)
    if seen.chars < SHORT_ITEM_CHARS or seen.in_title:
        return None
    if not (seen.in_lead or seen.paragraph_share >= MIN_PARAGRAPH_SHARE):
        return (f"chỉ nhắc thoáng qua: không có trong tiêu đề, sapo, chỉ ở "
                f"{seen.paragraph_share:.0%} số đoạn")
    if seen.own_mentions < MIN_MENTIONS:
        if seen.enumerations:
            return "chỉ nhắc trong danh sách \"doanh nghiệp, hợp tác xã…\""
        return f"chỉ nhắc {seen.own_mentions} lần trong bài dài"
    if seen.per_1000_chars < MIN_MENTIONS_PER_1000_CHARS:
        return f"chỉ nhắc {seen.mentions} lần trong {seen.chars} ký tự"
    return None
