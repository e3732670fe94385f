from pathlib import Path

import pytest

from crawlers.sources import SourcesError, load_sources
from pipeline.core.config import REPO_ROOT

OUTLETS = {"VnExpress", "Tuổi Trẻ", "Thanh Niên", "Nhân Dân", "VietnamPlus", "Dân Trí", "Lao Động",
           "Người Lao Động", "Báo Tin tức", "VOV", "Báo Nông nghiệp và Môi trường",
           "Liên minh Hợp tác xã Việt Nam"}


def test_production_sources_cover_the_main_outlets() -> None:
    sources = load_sources(REPO_ROOT / "data" / "sources.yaml")
    assert {s.outlet for s in sources} == OUTLETS
    vca = next(s for s in sources if s.outlet == "Liên minh Hợp tác xã Việt Nam")
    assert vca.kind == "section" and vca.options["link_selector"]


def test_demo_sources_substitute_the_demo_address() -> None:
    sources = load_sources(REPO_ROOT / "data" / "sources.demo.yaml", {"demo_url": "http://127.0.0.1:9"})
    assert all(s.url.startswith("http://127.0.0.1:9/") for s in sources)
    assert {s.kind for s in sources} >= {"rss", "sitemap", "section", "forum"}
    assert next(s for s in sources if s.kind == "forum").item_kind == "social"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("nothing: here", "top-level 'sources' list"),
        ("sources:\n  - {name: a, outlet: b, kind: rss}", "lacks url"),
        ("sources:\n  - {name: a, outlet: b, kind: telegram, url: 'http://x'}", "kind must be"),
        ("sources:\n  - {name: a, outlet: b, kind: rss, url: 'file:///etc/passwd'}", "must be http"),
        ("sources: [{name: a, outlet: b, kind: rss, url: 'http://x'}, {name: a, outlet: c, kind: rss, url: 'http://y'}]",
         "unique"),
        ("sources: [", "cannot read"),
    ],
)
def test_malformed_sources_files_name_the_problem(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SourcesError, match=message):
        load_sources(path)
