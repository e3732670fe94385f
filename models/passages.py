"""The unit of decision on real pages: the headline with its lead, and each story-sized passage.

Codebook rule 6: a page that carries several stories (a digest, a roundup, a forum thread) is
relevant when one whole story in it (a paragraph or more) is about the sector, wherever it
stands, and takes that story's label; unrelated stories around it change nothing. Rule 4:
the headline and lead decide first. So a long page is not judged as one bag of words: it is
cut into units the size of the items the model learned from, and each unit that names the
sector is judged on its own. A short item is one unit, as it always was.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Optional

from models.relevance import ENUMERATION, SECTOR_TERMS, SHORT_ITEM_CHARS, passing_mention
from pipeline.core.normalize import fold

# Items up to this long are judged whole (the training items run to ~1,500 characters).
WHOLE_ITEM_CHARS = 1600
# Paragraphs are grouped into passages of at most about this many characters: one story
# paragraph is not drowned in the unrelated paragraphs around it.
PASSAGE_CHARS = 450
# The lead: the first passage of a long page, read together with its headline.
LEAD_CHARS = 600
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")


@dataclass(frozen=True)
class Unit:
    """A part of an item the model judges: its text and where it stands in the item's text."""

    title: str
    text: str
    start: int
    end: int
    head: bool  # the headline and lead (or the whole of a short item)
    strong: bool = True  # names the sector as a story does (see is_story); else a lone mention


def units(title: str, text: str, folded: Optional[str] = None) -> list[Unit]:
    """The units of an item: the whole of a short item; for a long one its headline with the
    lead when they name the sector, then every other passage that names it as a story does.
    A long page with no unit only mentions the sector in passing.

    `folded` is fold(text) when the caller has it (on NFC text it has the text's length, so
    a passage's folded form is a slice of it, not another pass over the text).
    """
    if len(text) <= WHOLE_ITEM_CHARS:
        # A medium item that lists the sector only among payers or names it once is a passing mention.
        passing = len(text) >= SHORT_ITEM_CHARS and passing_mention(title, text)
        return [] if passing else [Unit(title, text, 0, len(text), head=True)]
    if folded is None or len(folded) != len(text):
        folded = fold(text)
        if len(folded) != len(text):  # decomposed input: fold passage by passage
            folded = None
    found = passages(text)
    head = found[0]
    chosen = []
    for passage in found[1:]:
        key = folded[passage.start:passage.end] if folded is not None else fold(passage.text)
        if _names_sector(key):
            chosen.append(replace(passage, strong=_story(key)))
    # The headline and lead are judged when they name the sector; a page whose headline and
    # lead say nothing of it is judged by its story passages only (rule 6), never by them.
    lead = folded[head.start:head.end] if folded is not None else fold(head.text)
    if SECTOR_TERMS.search(lead) is not None or SECTOR_TERMS.search(fold(title)) is not None:
        chosen.insert(0, Unit(title, head.text, head.start, head.end, head=True))
    return chosen


def passages(text: str) -> list[Unit]:
    """Consecutive paragraphs grouped into passages of about PASSAGE_CHARS (no title)."""
    found: list[Unit] = []
    start = end = 0
    for paragraph in _paragraph_spans(text):
        p_start, p_end = paragraph
        if end > start and p_end - start > PASSAGE_CHARS:
            found.append(Unit("", text[start:end], start, end, head=False))
            start = p_start
        if end == start:
            start = p_start
        end = p_end
    if end > start:
        found.append(Unit("", text[start:end], start, end, head=False))
    return found or [Unit("", text, 0, len(text), head=False)]


def is_story(passage: str) -> bool:
    """True when a passage is about the sector rather than naming it in passing.

    A story names the sector in two sentences or more outside lists of firms ("doanh
    nghiệp, hợp tác xã"); a passing line or a clause of a tax or labour text names it in one
    ("chủ nhà từng là xã viên hợp tác xã", "hợp tác xã nộp lệ phí môn bài theo …").
    """
    return _story(fold(passage))


def _story(folded: str) -> bool:
    sentences = _SENTENCE_END.split(folded.strip())
    naming = [SECTOR_TERMS.search(s) is not None and not ENUMERATION.search(s) for s in sentences]
    return sum(naming) >= 2


def _names_sector(folded: str) -> bool:
    """The (folded) passage names the sector outside a list of firms."""
    if SECTOR_TERMS.search(folded) is None:  # most passages of a page: one quick look
        return False
    return len(SECTOR_TERMS.findall(folded)) > len(ENUMERATION.findall(folded))


def _paragraph_spans(text: str) -> list[tuple[int, int]]:
    spans = []
    position = 0
    for line in text.split("\n"):
        stripped = line.strip()
        if stripped:
            offset = position + line.index(stripped[0])
            spans.append((offset, offset + len(stripped)))
        position += len(line) + 1
    return spans
