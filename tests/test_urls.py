import pytest

from pipeline.core.urls import InvalidURL, canonicalize


@pytest.mark.parametrize(
    "variant",
    [
        "https://baomau.vn/htx-rau-sach-123.html",
        "https://baomau.vn/htx-rau-sach-123.html?utm_source=facebook&utm_medium=social",
        "https://m.baomau.vn/htx-rau-sach-123.html",
        "https://amp.baomau.vn/htx-rau-sach-123.html#binh-luan",
        "https://BAOMAU.vn:443/htx-rau-sach-123.html?fbclid=abc",
        "https://baomau.vn/amp/htx-rau-sach-123.html",
    ],
)
def test_variants_share_one_canonical_url(variant: str) -> None:
    assert canonicalize(variant) == "https://baomau.vn/htx-rau-sach-123.html"


def test_meaningful_query_and_port_are_kept() -> None:
    assert canonicalize("http://127.0.0.1:8765/a.html?id=7") == "http://127.0.0.1:8765/a.html?id=7"


@pytest.mark.parametrize("bad", ["", "ftp://x.vn/a", "not a url", "javascript:alert(1)"])
def test_non_http_urls_are_refused(bad: str) -> None:
    with pytest.raises(InvalidURL):
        canonicalize(bad)
