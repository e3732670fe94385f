"""URL canonicalisation: one URL per page, whatever variant was linked."""
from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

from courlan import normalize_url

_MOBILE_HOST = re.compile(r"^(m|mobile|amp)\.")
_AMP_PATH = re.compile(r"(/amp/?$|\.amp$|/amp(?=/))")


class InvalidURL(ValueError):
    """Raised when a record's URL cannot identify a page."""


def canonicalize(url: str) -> str:
    """Canonical form: lower-case host, no tracking parameters, fragment, port, m./amp variant."""
    url = (url or "").strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InvalidURL(f"not an http(s) URL: {url!r}")
    # courlan drops tracking parameters (utm_*, fbclid, gclid ...), default ports and fragments.
    parts = urlsplit(normalize_url(url, strict=True))
    host = _MOBILE_HOST.sub("", parts.hostname or "")
    if parts.port and not _is_default_port(parts.scheme, parts.port):
        host = f"{host}:{parts.port}"
    path = _AMP_PATH.sub("", parts.path) or "/"
    return urlunsplit(("https" if parts.scheme == "https" else "http", host, path, parts.query, ""))


def _is_default_port(scheme: str, port: int) -> bool:
    return (scheme, port) in (("http", 80), ("https", 443))
