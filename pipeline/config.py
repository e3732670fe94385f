"""All non-Scrapy configuration, read once from environment variables."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def _env(name: str, default: str) -> str:
    return os.environ.get(name, default)


@dataclass(frozen=True)
class Settings:
    """Runtime settings; every value has a default that works on a fresh clone."""

    database_url: str = field(
        default_factory=lambda: _env(
            "COOPWATCH_DATABASE_URL", f"sqlite:///{REPO_ROOT / 'var' / 'coopwatch.db'}"
        )
    )
    model_dir: Path = field(
        default_factory=lambda: Path(_env("COOPWATCH_MODEL_DIR", str(REPO_ROOT / "var" / "model")))
    )
    training_dir: Path = field(
        default_factory=lambda: Path(
            _env("COOPWATCH_TRAINING_DIR", str(REPO_ROOT / "data" / "training"))
        )
    )
    narratives_path: Path = field(
        default_factory=lambda: Path(
            _env("COOPWATCH_NARRATIVES", str(REPO_ROOT / "data" / "narratives.yaml"))
        )
    )
    demo_dir: Path = field(
        default_factory=lambda: Path(_env("COOPWATCH_DEMO_DIR", str(REPO_ROOT / "data" / "demo")))
    )
    shared_dir: Path = field(
        default_factory=lambda: Path(_env("COOPWATCH_SHARED_DIR", str(REPO_ROOT.parent / "shared")))
    )
    demo_url: str = field(default_factory=lambda: _env("COOPWATCH_DEMO_URL", "http://127.0.0.1:8765"))
    demo_mode: bool = field(default_factory=lambda: _env("COOPWATCH_DEMO", "0") == "1")
    ingest_batch_size: int = field(
        default_factory=lambda: int(_env("COOPWATCH_INGEST_BATCH_SIZE", "200"))
    )
    # Items the model is less sure of than this go to human review instead of being trusted.
    review_threshold: float = field(
        default_factory=lambda: float(_env("COOPWATCH_REVIEW_THRESHOLD", "0.6"))
    )
    log_level: str = field(default_factory=lambda: _env("COOPWATCH_LOG_LEVEL", "INFO"))


def get_settings() -> Settings:
    """Return settings read from the current environment."""
    return Settings()
