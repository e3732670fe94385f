"""The prepare stage: one raw record becomes a normalised, enriched, signed item.

The item (`PreparedItem`) is the one record carried through the rest of the path: the
classify stage fills its `result`, dedupe places it, store writes it.
"""
from __future__ import annotations

import logging
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Optional, Union

from models.contract import ClassifyResult

from pipeline.ingest import dedupe
from pipeline.ingest.enrich import Enrichment, enrich
from pipeline.ingest.extract import ExtractionError, detect_language, extract_article
from pipeline.core.normalize import derive_title, fold, legacy_encoding, normalize_text
from pipeline.core.config import get_settings
from pipeline.ingest.records import Input, RawRecord, RecordError, RecordFailure, check_url, guard_record

logger = logging.getLogger(__name__)

MIN_TEXT_CHARS = 20


@dataclass(slots=True)
class PreparedItem:
    """A record after extraction, normalisation and signature, before classification."""

    record: RawRecord
    canonical_url: str
    title: str
    lead: str
    text: str
    text_folded: str
    author: Optional[str]
    language: Optional[str]
    published_at: Optional[datetime]
    content_hash: str
    minhash: bytes
    enrichment: Enrichment
    title_derived: bool = False  # the title is the text's first words (the record had none)
    # Filled by the classify stage; None after it when there was no usable model.
    result: Optional[ClassifyResult] = None
    classified: bool = False


# A prepared input: the item, or why it could not be prepared.
Prepared = Union[PreparedItem, RecordFailure]


def prepare_entry(entry: Input) -> Prepared:
    """Prepare one input, turning every error into a failure record (also in a worker)."""
    if isinstance(entry, RecordFailure):
        return entry
    try:
        prepared = prepare(entry)
    except RecordError as exc:
        return RecordFailure(str(exc), entry.position, url=entry.url, source=entry.source)
    except Exception as exc:  # a bug on one page must not lose the rest of the batch
        logger.exception("unexpected error preparing %s", entry.url)
        return RecordFailure(f"internal error: {exc!r}", entry.position, url=entry.url,
                             source=entry.source)
    # The page has been read; sending it back between processes would only cost time.
    prepared.record.html = None
    return prepared


def prepare(record: RawRecord) -> PreparedItem:
    """Extract (HTML) or take the text, normalise it, and sign it for dedupe."""
    guard_record(record, get_settings().max_record_bytes)
    canonical_url = check_url(record.url)
    if record.html is not None:
        try:
            page = extract_article(record.html, url=record.url)
        except ExtractionError as exc:
            raise RecordError(str(exc)) from exc
        title, lead, text = page.title or record.title, page.lead, page.text
        author, language = page.author, page.language
        # The page's own date beats the feed's; the feed's is the fallback.
        published = page.published_at or record.published_at
    else:
        title, lead, text = record.title, "", record.text or ""
        author, language, published = None, detect_language(record.text or ""), record.published_at
    # Detected on the body, the only part long enough; title and lead share its encoding.
    legacy = legacy_encoding(unicodedata.normalize("NFC", text))
    text = normalize_text(text, legacy)
    if len(text) < MIN_TEXT_CHARS:
        raise RecordError(f"text too short to analyse ({len(text)} characters)")
    title, lead = normalize_text(title, legacy), normalize_text(lead, legacy)
    # A post without a headline shows its first words everywhere, marked as derived.
    title_derived = not title.strip()
    if title_derived:
        title = derive_title(text)
    return PreparedItem(
        record=record,
        canonical_url=canonical_url,
        title=title,
        title_derived=title_derived,
        lead=lead,
        text=text,
        text_folded=fold(text),
        author=author,
        language=language,
        published_at=published,
        content_hash=dedupe.content_hash(text),
        minhash=dedupe.to_bytes(dedupe.signature(text)),
        enrichment=enrich(title, f"{lead}\n{text}" if lead and lead not in text else text),
    )
