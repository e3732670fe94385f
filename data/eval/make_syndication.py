"""Build data/eval/syndication.jsonl from the hand-written originals in data/eval/originals/.

Each original is one outlet's story; the copies are what other outlets publish when they
carry it: another headline, a source line added or removed, a paragraph dropped, the end
trimmed, a sentence reworded, an editor's line or photo caption, other quotes, spacing,
Unicode form or tone placement, a typo fixed or made. The output is deterministic (seeded
per story), so re-running this script reproduces the committed file byte for byte.

    .venv/bin/python data/eval/make_syndication.py
"""
from __future__ import annotations

import json
import random
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable, Literal

import yaml

HERE = Path(__file__).resolve().parent
ORIGINALS = HERE / "originals"
OUTPUT = HERE / "syndication.jsonl"
SEED = "coopwatch-syndication-v1"

# Outlets that republish stories (fictional hosts under example.vn).
COPY_OUTLETS = (
    "kinhtetaptheo", "nongthonviet", "tintaichinhviet", "baomientrungonline", "tinnhanhmientay",
    "baothudo", "doisongnongnghiep", "tinhtx24h", "congthongtinhoptac", "baodientuvung",
    "thoisuhangngay", "tinmoi247", "vietnamnongnghiep", "baolaodongxa", "doanhnhanhoptac",
)
SOURCE_PREFIXES = ("(Chinhphu.vn) - ", "TTXVN - ", "(TTXVN) – ", "(Kinh tế tập thể) - ", "(Dân sinh) - ")
SOURCE_SUFFIXES = ("Theo TTXVN", "(Theo Chinhphu.vn)", "Nguồn: TTXVN", "Theo Báo Kinh tế tập thể",
                   "(Theo Nông thôn Việt)", "PV (tổng hợp)")
EDITOR_LINES = (
    "Đây là mô hình được địa phương đánh giá cao và khuyến khích nhân rộng trong thời gian tới.",
    "Mời bạn đọc theo dõi thêm các bài viết về kinh tế tập thể trên chuyên trang Hợp tác xã.",
    "Phóng viên sẽ tiếp tục thông tin về nội dung này.",
    "(Bài viết có sử dụng tư liệu của Liên minh Hợp tác xã Việt Nam)",
    "Xem thêm: Hợp tác xã kiểu mới, động lực của kinh tế nông thôn",
    "Độc giả có thông tin liên quan xin gửi về đường dây nóng của tòa soạn.",
)
# Word-level rewordings an editor makes in one sentence (pattern, replacement).
REWORDINGS = (
    (r"\bcho biết\b", "thông tin"), (r"\bcho biết\b", "chia sẻ"), (r"\bkhoảng (?=\d)", "chừng "),
    (r"\bhơn (?=\d)", "trên "), (r"\bgần (?=\d)", "xấp xỉ "), (r"\btỷ đồng\b", "tỉ đồng"),
    (r"\bTuy nhiên,", "Dù vậy,"), (r"\bTuy vậy,", "Tuy nhiên,"), (r"\bđồng thời\b", "cùng lúc"),
    (r"\bhiện có\b", "hiện đang có"), (r"\bchủ yếu\b", "phần lớn"), (r"\bnhiều\b", "không ít"),
    (r"\bđã (?=\w)", ""), (r"\bhợp tác xã\b", "HTX"), (r"\bHTX\b", "hợp tác xã"),
    (r"\bđể (?=\w)", "nhằm "), (r"\bcũng (?=\w)", ""), (r"\btrong đó\b", "trong số này"),
    (r"\bcác hộ\b", "những hộ"), (r"\bmỗi năm\b", "hằng năm"),
)
_SENTENCE_END = re.compile(r"(?<=[.!?”])\s+(?=\S)")
_TONES = "\u0300\u0301\u0303\u0309\u0323"
# New-style placement on the first vowel of word-final oa/oe/uy ("hòa"), moved to the
# second vowel as older-style text writes it ("hoà").
_NEW_TONE = re.compile(r"(?<![qQ])([oO])([" + _TONES + r"])([aAeE])(?!\w)|(?<![qQ])([uU])([" + _TONES + r"])([yY])(?!\w)")


@dataclass
class Copy:
    """One outlet's version of a story while it is being edited."""

    outlet: str
    title: str
    paragraphs: list[str]
    published_at: datetime
    notes: list[str] = field(default_factory=list)
    newline: str = "\n\n"
    form: Literal["NFC", "NFD"] = "NFC"
    old_tones: bool = False

    def text(self) -> str:
        text = self.newline.join(self.paragraphs)
        if self.old_tones:
            text = _NEW_TONE.sub(_old_tone, unicodedata.normalize("NFD", text))
        return unicodedata.normalize(self.form, text)


def _old_tone(match: re.Match[str]) -> str:
    groups = match.groups()
    first, tone, second = groups[:3] if groups[0] else groups[3:]
    return first + second + tone


def sentences(paragraph: str) -> list[str]:
    return _SENTENCE_END.split(paragraph)


# --- edits: each changes the copy in place and returns a short description -----------------

def add_source_prefix(rng: random.Random, copy: Copy, story: dict) -> str:
    prefix = rng.choice(SOURCE_PREFIXES)
    copy.paragraphs[0] = prefix + _strip_dateline(copy.paragraphs[0])
    return f"source prefix {prefix.strip()!r}"


def add_source_suffix(rng: random.Random, copy: Copy, story: dict) -> str:
    suffix = rng.choice(SOURCE_SUFFIXES)
    _drop_byline(copy, story)
    copy.paragraphs.append(suffix)
    return f"byline replaced by {suffix!r}"


def drop_byline(rng: random.Random, copy: Copy, story: dict) -> str:
    return "byline removed" if _drop_byline(copy, story) else ""


def drop_paragraph(rng: random.Random, copy: Copy, story: dict) -> str:
    body = _body_indexes(copy, story)
    if len(body) < 4:
        return ""
    index = rng.choice(body[1:-1])
    del copy.paragraphs[index]
    return f"paragraph {index + 1} dropped"


def trim_end(rng: random.Random, copy: Copy, story: dict) -> str:
    body = _body_indexes(copy, story)
    last = body[-1]
    parts = sentences(copy.paragraphs[last])
    if len(parts) == 1:
        del copy.paragraphs[last]
        return "last paragraph dropped"
    keep = max(1, len(parts) - rng.randint(1, 2))
    copy.paragraphs[last] = " ".join(parts[:keep])
    return f"last paragraph trimmed by {len(parts) - keep} sentence(s)"


def reword(rng: random.Random, copy: Copy, story: dict) -> str:
    spots = [(p, s) for p in _body_indexes(copy, story) for s, _ in enumerate(sentences(copy.paragraphs[p]))]
    rng.shuffle(spots)
    for p, s in spots:
        parts = sentences(copy.paragraphs[p])
        sentence, changed = parts[s], 0
        for pattern, replacement in rng.sample(REWORDINGS, len(REWORDINGS)):
            new = re.sub(pattern, replacement, sentence, count=1)
            if new != sentence:
                sentence, changed = new, changed + 1
            if changed == 3:
                break
        if changed >= 2:
            parts[s] = sentence[0].upper() + sentence[1:]
            copy.paragraphs[p] = " ".join(parts)
            return f"sentence reworded ({changed} changes) in paragraph {p + 1}"
    return ""


def editor_line(rng: random.Random, copy: Copy, story: dict) -> str:
    line = rng.choice(EDITOR_LINES)
    body = _body_indexes(copy, story)
    if rng.random() < 0.5:
        copy.paragraphs.insert(body[-1] + 1, line)
        return "editor's line added at the end"
    copy.paragraphs[body[-1]] += " " + line
    return "editor's sentence appended to the last paragraph"


def photo_caption(rng: random.Random, copy: Copy, story: dict) -> str:
    position = rng.choice((1, 2))
    copy.paragraphs.insert(position, story["caption"])
    return "photo caption in the body"


def title_in_body(rng: random.Random, copy: Copy, story: dict) -> str:
    copy.paragraphs.insert(0, story["title"])
    return "headline repeated as the first line"


def typos(rng: random.Random, copy: Copy, story: dict) -> str:
    done = []
    for _ in range(2):
        p = rng.choice(_body_indexes(copy, story))
        words = copy.paragraphs[p].split(" ")
        marked = [i for i, w in enumerate(words) if len(unicodedata.normalize("NFD", w)) > len(w)]
        if not marked:
            continue
        i = rng.choice(marked)
        decomposed = unicodedata.normalize("NFD", words[i])
        marks = [j for j, ch in enumerate(decomposed) if unicodedata.combining(ch)]
        j = rng.choice(marks)
        new = unicodedata.normalize("NFC", decomposed[:j] + decomposed[j + 1:])
        done.append(f"{words[i]}→{new}")
        words[i] = new
        copy.paragraphs[p] = " ".join(words)
    return "typos " + ", ".join(done) if done else ""


def punctuation(rng: random.Random, copy: Copy, story: dict) -> str:
    table = {"“": '"', "”": '"', " - ": " – ", "%": " %", "…": "...", ";": ","}
    changed = [k for k in table if any(k in p for p in copy.paragraphs)]
    for key in changed:
        copy.paragraphs = [p.replace(key, table[key]) for p in copy.paragraphs]
    return "quotes/dashes/punctuation changed" if changed else ""


def spacing(rng: random.Random, copy: Copy, story: dict) -> str:
    copy.newline = rng.choice(("\n", "\n\n\n", " \n \n"))
    copy.paragraphs = [p.replace(", ", ",  ", 2) + rng.choice(("", " ", "\u00a0")) for p in copy.paragraphs]
    return "whitespace and line breaks"


def decomposed(rng: random.Random, copy: Copy, story: dict) -> str:
    copy.form = "NFD"
    return "Unicode NFD"


def old_tones(rng: random.Random, copy: Copy, story: dict) -> str:
    copy.old_tones = True
    return "old tone placement (hoà, thuỷ)"


Edit = Callable[[random.Random, Copy, dict], str]
# Edits that change the words, with weights; cosmetic ones change only the form.
SUBSTANTIVE: tuple[tuple[Edit, int], ...] = (
    (add_source_prefix, 3), (add_source_suffix, 4), (drop_byline, 2), (drop_paragraph, 3),
    (trim_end, 3), (reword, 4), (editor_line, 2), (photo_caption, 2), (title_in_body, 1), (typos, 2),
)
COSMETIC: tuple[Edit, ...] = (punctuation, spacing, decomposed, old_tones)


def _drop_byline(copy: Copy, story: dict) -> bool:
    if copy.paragraphs and copy.paragraphs[-1] == story.get("byline"):
        copy.paragraphs.pop()
        return True
    return False


def _body_indexes(copy: Copy, story: dict) -> list[int]:
    """Paragraphs that are story text (not the headline, caption, byline or source line)."""
    extra = {story["title"], story["caption"], story.get("byline"), *SOURCE_SUFFIXES, *EDITOR_LINES}
    return [i for i, p in enumerate(copy.paragraphs) if p not in extra]


def _strip_dateline(paragraph: str) -> str:
    return re.sub(r"^[A-ZĐ][\wÀ-ỹ ]{1,20} - ", "", paragraph)


def _slug(text: str) -> str:
    folded = unicodedata.normalize("NFD", text.lower().replace("đ", "d"))
    folded = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return "-".join(re.findall(r"[a-z0-9]+", folded))[:80]


def original(story: dict) -> Copy:
    paragraphs = [p.strip() for p in story["text"].split("\n\n") if p.strip()]
    if story.get("byline"):
        paragraphs.append(story["byline"])
    return Copy(story["outlet"], story["title"], paragraphs, datetime.fromisoformat(story["published_at"]))


def make_copies(story: dict) -> list[tuple[Copy, str]]:
    """The original and 2-5 copies, each with a description of what was changed."""
    rng = random.Random(f"{SEED}:{story['id']}")
    base = original(story)
    result = [(base, "original")]
    outlets = rng.sample([o for o in COPY_OUTLETS if o != story["outlet"]], 5)
    for n in range(rng.randint(2, 5)):
        copy = Copy(outlets[n], base.title, list(base.paragraphs), base.published_at)
        # Most copies follow the original by minutes to a day; now and then one outlet's
        # timestamp is earlier (it had the wire first, or its clock says so).
        minutes = rng.randint(-180, -20) if rng.random() < 0.15 else rng.randint(15, 30 * 60)
        copy.published_at = base.published_at + timedelta(minutes=minutes)
        if rng.random() < 0.7:
            copy.title = rng.choice(story["alt_titles"])
        roll = rng.random()
        if roll < 0.06:
            notes = ["exact copy"]
        elif roll < 0.12:
            notes = [rng.choice(COSMETIC)(rng, copy, story)]
        else:
            edits = _weighted_sample(rng, SUBSTANTIVE, rng.choice((1, 1, 2, 2, 2, 3)))
            notes = [edit(rng, copy, story) for edit in edits]
            for edit in rng.sample(COSMETIC, rng.choice((0, 0, 1, 2))):
                notes.append(edit(rng, copy, story))
        if copy.title != base.title:
            notes.insert(0, "other headline")
        result.append((copy, "; ".join(n for n in notes if n) or "unchanged text"))
    return result


def _weighted_sample(rng: random.Random, weighted: tuple[tuple[Edit, int], ...], k: int) -> list[Edit]:
    pool = list(weighted)
    chosen: list[Edit] = []
    while pool and len(chosen) < k:
        edit = rng.choices([e for e, _ in pool], weights=[w for _, w in pool])[0]
        chosen.append(edit)
        pool = [(e, w) for e, w in pool if e is not edit]
    return chosen


def rows() -> list[dict]:
    out = []
    for path in sorted(ORIGINALS.glob("*.yaml")):
        for story in yaml.safe_load(path.read_text(encoding="utf-8")):
            for n, (copy, variant) in enumerate(make_copies(story)):
                published = copy.published_at
                if n % 3 == 2:  # some outlets give times in UTC
                    published = published.astimezone(timezone.utc)
                out.append({
                    "story": story["id"], "outlet": copy.outlet,
                    "url": f"https://{copy.outlet}.example.vn/{_slug(copy.title)}-{story['id'][:12]}{n}.html",
                    "title": copy.title, "text": copy.text(),
                    "published_at": published.isoformat(), "variant": variant,
                })
    return out


def main() -> None:
    data = rows()
    with OUTPUT.open("w", encoding="utf-8") as handle:
        for row in data:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    stories = {r["story"] for r in data}
    print(f"wrote {len(data)} records of {len(stories)} stories to {OUTPUT}")


if __name__ == "__main__":
    main()
