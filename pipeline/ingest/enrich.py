"""Enrichment of an item's text: its province, its sector and the cooperatives it names.

Everything here works on normalised text (NFC, one tone placement) and also on text typed
without diacritics, because names are matched on a case-keeping fold of both sides.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Optional

import yaml

from pipeline.core.normalize import fold, normalize_text, strip_marks

PROVINCES_FILE = Path(__file__).resolve().parents[2] / "data" / "provinces.yaml"

# Title mentions say more about where a story happens than a passing mention in the body.
TITLE_WEIGHT = 3


# --- provinces ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Province:
    code: str
    name: str
    names: tuple[str, ...]


# Phrases that contain a province name but are not about it.
_NOT_PROVINCES = ("Thai Binh Duong",)  # the Pacific Ocean contains "Bình Dương" and "Thái Bình"


class ProvinceMatcher:
    """Finds the 34 current provinces, also under their former and colloquial names."""

    def __init__(self, provinces: Iterable[Province]) -> None:
        self.provinces = list(provinces)
        by_name: dict[str, Province] = {}
        for province in self.provinces:
            for name in province.names:
                by_name[strip_marks(normalize_text(name))] = province
        # Longest names first so "Thừa Thiên Huế" wins over "Huế".
        alternatives = sorted(by_name, key=len, reverse=True)
        self._by_name = by_name
        # With no names at all, a pattern that can never match.
        names = "|".join(re.escape(a) for a in alternatives) or r"(?!x)x"
        self._pattern = re.compile(r"(?<![\w.])(" + names + r")(?![\w])")
        self._exclude = re.compile("|".join(re.escape(p) for p in _NOT_PROVINCES))

    @classmethod
    def from_file(cls, path: Path = PROVINCES_FILE) -> "ProvinceMatcher":
        rows = yaml.safe_load(path.read_text(encoding="utf-8"))
        return cls(
            Province(code=str(r["code"]), name=normalize_text(r["name"]),
                     names=tuple(normalize_text(n) for n in r["names"]))
            for r in rows
        )

    def mentions(self, text: str) -> list[Province]:
        """Every province mention in the text, in order."""
        folded = self._exclude.sub(" ", strip_marks(text))
        return [self._by_name[m.group(1)] for m in self._pattern.finditer(folded)]

    def main_province(self, title: str, text: str) -> Optional[str]:
        """The province the item is most about: most mentions, title counted thrice, first wins ties."""
        scores: Counter[str] = Counter()
        order: dict[str, int] = {}
        for weight, part in ((TITLE_WEIGHT, title), (1, text)):
            for province in self.mentions(part):
                scores[province.name] += weight
                order.setdefault(province.name, len(order))
        if not scores:
            return None
        return max(scores, key=lambda name: (scores[name], -order[name]))


@lru_cache(maxsize=1)
def province_matcher() -> ProvinceMatcher:
    return ProvinceMatcher.from_file()


# --- sectors -----------------------------------------------------------------------------

# Folded cue phrases per sector. Order matters only for ties: the more specific sectors first.
SECTOR_CUES: dict[str, tuple[str, ...]] = {
    "credit": ("quy tin dung nhan dan", "qtdnd", "quy tdnd", "tin dung noi bo", "cho vay", "tien gui"),
    "aquaculture": ("thuy san", "nuoi tom", "nuoi ca", "tom the", "nghe ca", "khai thac hai san",
                    "nuoi trong", "ca tra", "nghe bien", "tau ca"),
    "transport": ("van tai", "xe buyt", "xe khach", "taxi", "ben xe", "tuyen xe", "hanh khach"),
    "handicraft": ("lang nghe", "thu cong", "my nghe", "may tre", "gom", "det tho cam",
                   "cham khac", "son mai"),
    "tourism": ("du lich", "homestay", "du khach", "luu tru"),
    "forestry": ("lam nghiep", "trong rung", "rung trong", "go rung", "duoc lieu duoi tan rung"),
    "trade": ("thuong mai", "ban le", "sieu thi", "cua hang tien loi", "tieu thu hang hoa"),
    "services": ("nuoc sach", "ve sinh moi truong", "thu gom rac", "dien nong thon",
                 "dich vu tong hop", "cung ung vat tu"),
    "agriculture": ("nong nghiep", "trong trot", "chan nuoi", "lua", "rau", "cay an qua",
                    "ca phe", "che", "cay giong", "nong san", "vu mua", "canh tac", "vietgap",
                    "huu co", "sau rieng", "thanh long", "buoi", "xoai", "ho tieu"),
}
SECTOR_NAMES: dict[str, dict[str, str]] = {
    "agriculture": {"vi": "Nông nghiệp", "en": "Agriculture"},
    "aquaculture": {"vi": "Thủy sản", "en": "Aquaculture and fisheries"},
    "transport": {"vi": "Vận tải", "en": "Transport"},
    "credit": {"vi": "Tín dụng", "en": "Credit"},
    "handicraft": {"vi": "Tiểu thủ công nghiệp, làng nghề", "en": "Handicraft"},
    "services": {"vi": "Dịch vụ", "en": "Services"},
    "tourism": {"vi": "Du lịch", "en": "Tourism"},
    "forestry": {"vi": "Lâm nghiệp", "en": "Forestry"},
    "trade": {"vi": "Thương mại", "en": "Trade"},
}
# Cue phrases by their first word: one pass over the words finds every cue (nine regular
# expressions over the whole text cost ten times as much).
_CUES_BY_FIRST_WORD: dict[str, list[tuple[tuple[str, ...], str]]] = {}
for _sector, _cues in SECTOR_CUES.items():
    for _cue in _cues:
        _words = tuple(_cue.split())
        _CUES_BY_FIRST_WORD.setdefault(_words[0], []).append((_words, _sector))
# Words, punctuation marks and line breaks: a cue never spans a comma or a line.
_TOKEN = re.compile(r"\w+|[^\w ]")
# A single passing cue is not enough to call an item's sector.
MIN_SECTOR_SCORE = 2


def _sector_cues(folded: str) -> Counter[str]:
    """How many cue phrases of each sector the folded text holds.

    Counted as a regular expression of each sector's cues would: the first cue listed wins
    at a position, and one sector's cues never overlap ("bến xe buýt" is one transport cue).
    """
    tokens = _TOKEN.findall(folded)
    counts: Counter[str] = Counter()
    free_from: dict[str, int] = {}
    for start, token in enumerate(tokens):
        for words, sector in _CUES_BY_FIRST_WORD.get(token, ()):
            if start >= free_from.get(sector, 0) and tuple(tokens[start : start + len(words)]) == words:
                counts[sector] += 1
                free_from[sector] = start + len(words)
    return counts


def main_sector(title: str, text: str) -> Optional[str]:
    """The sector the item is most about, from cue phrases; None when the cues are too thin."""
    title_cues, text_cues = _sector_cues(fold(title)), _sector_cues(fold(text))
    scores = {sector: TITLE_WEIGHT * title_cues[sector] + text_cues[sector] for sector in SECTOR_CUES}
    best = max(scores, key=lambda s: scores[s])  # dict order breaks ties
    return best if scores[best] >= MIN_SECTOR_SCORE else None


# --- named cooperatives ------------------------------------------------------------------

@dataclass(frozen=True)
class CooperativeName:
    """A cooperative named in an item; `key` is what makes two spellings one cooperative."""

    kind: str  # cooperative | credit_fund | union
    name: str
    key: str


_PREFIX = {"cooperative": "HTX", "credit_fund": "Quỹ tín dụng nhân dân", "union": "Liên hiệp HTX"}
_HTX = r"(?:HTX|[Hh]ợp tác xã|[Hh]op tac xa)"
_TRIGGER = re.compile(
    r"(?P<union>Liên hiệp " + _HTX + r"|Lien hiep " + _HTX + r")\s+"
    r"|(?P<credit>(?:[Qq]uỹ tín dụng nhân dân|[Qq]uy tin dung nhan dan|[Qq]uỹ TDND|QTDND))\s+"
    r"|(?P<coop>" + _HTX + r")\s+"
)
# Words before a trigger that make it something else than a cooperative's name.
_NOT_A_NAME_BEFORE = re.compile(
    r"(?:Liên minh|Lien minh|Luật|Luat|Ngày|Ngay|Liên hiệp|Lien hiep|phát triển|phat trien|"
    r"Quỹ hỗ trợ|Quy ho tro|Nghị định|Nghi dinh)\s*$"
)
# A name ends at punctuation (not the dot of "TP.HCM" or "TP. Hồ Chí Minh") or a dash.
_NAME_END_CHARS = re.compile(r"[,;:!?…()\[\]\"“”'‘’\n/]|(?<!TP)\.(?!\w)|(?:^|\s)[-–—](?:\s|$)")
# Lower-case words that end a name: the sentence has moved on to a verb or a place.
_STOP_WORDS = frozenset(
    "xã huyện tỉnh thôn ấp phường quận ở tại của đã đang được là có với cho này do vừa mới sẽ "
    "thì trên cũng không chưa giúp để khi nhưng đều từ theo năm tháng ngày và hoặc tham gia "
    "thuộc trong ngoài về vào ra nên bị còn đạt từng hiện làm nói vẫn đứng nhiệm kỳ hôm mà "
    "thành một đến các những "
    "xa huyen tinh thon phuong quan tai cua da dang duoc la co voi cho nay do vua moi se thi "
    "tren cung khong chua giup de khi nhung deu tu theo nam thang ngay va hoac".split()
)
# Capitalised words that start a new sentence rather than continue a name.
_SENTENCE_WORDS = frozenset("trong theo tại khi năm ngày sau trước hiện nhưng tuy với để từ do "
                            "còn ngoài bên".split())
# Words of a cooperative's line of business: a name made only of these names no one.
_DESCRIPTORS = frozenset(
    "vận tải dịch vụ nông nghiệp thủy sản thương mại tổng hợp kinh doanh điện xây dựng môi "
    "trường mua bán sản xuất tiêu thụ chăn nuôi trồng trọt rau an toàn du lịch tín dụng vệ "
    "sinh nước sạch công nghiệp tiểu thủ".split()
)
_PLACE_ACRONYMS = frozenset({"TP.HCM", "TPHCM", "HCM", "TP"})
_GENERIC_NAMES = frozenset({"viet nam", "kieu moi", "quoc te"})
MAX_NAME_WORDS = 10
# "HTX Dịch vụ nông nghiệp Đông Hưng": descriptors between capitals are part of the name.
MAX_INNER_LOWER = 3


def _is_proper(word: str) -> bool:
    """Capitalised like a proper name; all-capital acronyms (GTGT, TTO) are not names."""
    if word in _PLACE_ACRONYMS:
        return True
    return word[:1].isupper() and not (len(word) > 1 and word.isupper())


def _name_after(text: str) -> Optional[str]:
    """The proper name right after a trigger: words up to the last capitalised run."""
    end = _NAME_END_CHARS.search(text)
    words = (text[: end.start()] if end else text[:200]).split()[:MAX_NAME_WORDS]
    kept: list[str] = []
    last_capital = -1
    for word in words:
        lower = word.lower()
        if lower in _SENTENCE_WORDS or (lower in _STOP_WORDS and not word[:1].isupper()):
            break
        if not word[:1].isalnum() or (word.isupper() and len(word) > 1
                                       and word not in _PLACE_ACRONYMS):
            break
        kept.append(word)
        if _is_proper(word):
            last_capital = len(kept) - 1
        elif last_capital >= 0 and len(kept) - 1 - last_capital > MAX_INNER_LOWER:
            break
    if last_capital < 0:
        return None
    name_words = kept[: last_capital + 1]
    if all(w.lower() in _DESCRIPTORS for w in name_words if _is_proper(w)):
        return None
    name = " ".join(name_words)
    if fold(name).startswith(tuple(_GENERIC_NAMES)):
        return None
    return name


def cooperative_key(kind: str, name: str) -> str:
    """Folded, space-collapsed key, so "HTX Thuỷ sản X" and "HTX thuy san X" are one."""
    return f"{kind}:{' '.join(fold(name).split())}"


# A name and the punctuation that ends it fit in this many characters after its trigger.
NAME_WINDOW_CHARS = 400


def named_cooperatives(text: str) -> list[CooperativeName]:
    """Cooperatives, people's credit funds and cooperative unions named in the text, once each."""
    found: dict[str, CooperativeName] = {}
    for match in _TRIGGER.finditer(text):
        if _NOT_A_NAME_BEFORE.search(text[max(0, match.start() - 20): match.start()]):
            continue
        kind = "union" if match.group("union") else "credit_fund" if match.group("credit") else "cooperative"
        # A bounded window: the rest of the text for every trigger made this quadratic.
        name = _name_after(text[match.end(): match.end() + NAME_WINDOW_CHARS])
        if name is None:
            continue
        key = cooperative_key(kind, name)
        found.setdefault(key, CooperativeName(kind=kind, name=f"{_PREFIX[kind]} {name}", key=key))
    return list(found.values())


# --- all together ------------------------------------------------------------------------

@dataclass(slots=True)
class Enrichment:
    province: Optional[str] = None
    sector: Optional[str] = None
    cooperatives: list[CooperativeName] = field(default_factory=list)


def enrich(title: str, text: str) -> Enrichment:
    """Province, sector and named cooperatives of one normalised item."""
    full = f"{title}\n{text}"
    return Enrichment(
        province=province_matcher().main_province(title, text),
        sector=main_sector(title, text),
        cooperatives=named_cooperatives(full),
    )
