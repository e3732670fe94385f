"""Source lists in YAML: one entry per feed, sitemap, section page or social channel."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from string import Template
from typing import Any, Mapping, Optional
from urllib.parse import urlsplit

import yaml

SOURCE_KINDS = ("rss", "sitemap", "section", "youtube", "forum")


class SourcesError(ValueError):
    """Raised when a sources file is malformed; names the entry at fault."""


@dataclass(frozen=True)
class Source:
    """One configured source and its per-kind options."""

    name: str
    outlet: str
    kind: str
    url: str
    options: Mapping[str, Any] = field(default_factory=dict)
    # Minutes between crawls under `coopwatch watch`; None means the configured default.
    interval: Optional[int] = None

    @property
    def domain(self) -> str:
        """The only host this source's crawl may visit."""
        return urlsplit(self.url).hostname or ""

    @property
    def item_kind(self) -> str:
        """news or social: what the items of this source are."""
        default = "social" if self.kind in ("youtube", "forum") else "news"
        return str(self.options.get("item_kind", default))


def load_sources(path: Path, variables: Mapping[str, str] | None = None) -> list[Source]:
    """Read a sources file, substituting ${name} variables (e.g. ${demo_url}) in URLs."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise SourcesError(f"cannot read sources file {path}: {exc}") from exc
    entries = data.get("sources") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise SourcesError(f"{path}: expected a top-level 'sources' list")
    sources = [_source(entry, n, variables or {}) for n, entry in enumerate(entries, 1)]
    names = [s.name for s in sources]
    if len(names) != len(set(names)):
        raise SourcesError(f"{path}: source names must be unique")
    return sources


def _source(entry: Any, number: int, variables: Mapping[str, str]) -> Source:
    if not isinstance(entry, dict):
        raise SourcesError(f"source #{number} is not a mapping")
    missing = [k for k in ("name", "outlet", "kind", "url") if not entry.get(k)]
    if missing:
        raise SourcesError(f"source #{number} lacks {', '.join(missing)}")
    if entry["kind"] not in SOURCE_KINDS:
        raise SourcesError(f"source {entry['name']!r}: kind must be one of {SOURCE_KINDS}")
    url = Template(str(entry["url"])).safe_substitute(variables)
    if urlsplit(url).scheme not in ("http", "https"):
        raise SourcesError(f"source {entry['name']!r}: url must be http(s), got {url!r}")
    interval = entry.get("interval")
    if interval is not None and (isinstance(interval, bool) or not isinstance(interval, int)
                                 or interval < 1):
        raise SourcesError(f"source {entry['name']!r}: interval must be a whole number of "
                           f"minutes, at least 1, got {interval!r}")
    options = {k: v for k, v in entry.items() if k not in ("name", "outlet", "kind", "url", "interval")}
    return Source(name=str(entry["name"]), outlet=str(entry["outlet"]), kind=entry["kind"],
                  url=url, options=options, interval=interval)
