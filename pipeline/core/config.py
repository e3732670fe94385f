"""All non-Scrapy configuration, read once from environment variables."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

REPO_ROOT = Path(__file__).resolve().parents[2]


def _env(name: str, default: str) -> str:
    return os.environ.get(name, default)


@dataclass(frozen=True)
class Settings:
    """Runtime settings; every value has a default that works on a fresh clone."""

    # A URL with a password in it is a secret: COOPWATCH_DATABASE_URL_FILE may name a file.
    database_url: str = field(
        default_factory=lambda: read_secret("COOPWATCH_DATABASE_URL")
        or f"sqlite:///{REPO_ROOT / 'var' / 'coopwatch.db'}"
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
    # Stored items the in-memory story index keeps (the newest; ~8 KB each): bounds ingest
    # memory; a copy of a story older than this many items starts a new cluster.
    story_index_size: int = field(
        default_factory=lambda: int(_env("COOPWATCH_STORY_INDEX_SIZE", "30000"))
    )
    # Processes that extract and normalise pages during `coopwatch ingest` (default: all cores).
    ingest_workers: int = field(
        default_factory=lambda: int(_env("COOPWATCH_INGEST_WORKERS", str(os.cpu_count() or 1)))
    )
    # Items the model is less sure of than this go to human review instead of being trusted.
    # Unset: the threshold `coopwatch train` measured and wrote in the model card.
    review_threshold: Optional[float] = field(
        default_factory=lambda: float(v) if (v := _env("COOPWATCH_REVIEW_THRESHOLD", "")) else None
    )
    log_level: str = field(default_factory=lambda: _env("COOPWATCH_LOG_LEVEL", "INFO"))
    # Sign-in: after this many failures within the window an account, or a client address, is
    # locked for the window; from half of them on, each further attempt is slowed down.
    login_max_failures: int = field(default_factory=lambda: int(_env("COOPWATCH_LOGIN_MAX_FAILURES", "5")))
    login_lockout_minutes: float = field(
        default_factory=lambda: float(_env("COOPWATCH_LOGIN_LOCKOUT_MINUTES", "15")))
    # A record (one input line, one crawled page) larger than this is refused with a clear error.
    max_record_mb: float = field(default_factory=lambda: float(_env("COOPWATCH_MAX_RECORD_MB", "5")))
    # While the database is unreachable, ingest keeps records in a local spool (pipeline/ingest/spool.py)
    # and retries the database at most this often; the spool never grows past its limit.
    spool_dir: Path = field(
        default_factory=lambda: Path(_env("COOPWATCH_SPOOL_DIR", str(REPO_ROOT / "var" / "spool")))
    )
    spool_max_mb: int = field(default_factory=lambda: int(_env("COOPWATCH_SPOOL_MAX_MB", "2048")))
    spool_retry_seconds: float = field(
        default_factory=lambda: float(_env("COOPWATCH_SPOOL_RETRY_SECONDS", "30"))
    )
    # `coopwatch watch`: the long-running scheduler and its rotating log file.
    watch_sources: Path = field(
        default_factory=lambda: Path(
            _env("COOPWATCH_WATCH_SOURCES", str(REPO_ROOT / "data" / "sources.yaml"))
        )
    )
    timezone: str = field(default_factory=lambda: _env("COOPWATCH_TIMEZONE", "Asia/Ho_Chi_Minh"))
    crawl_interval_minutes: int = field(  # for sources without their own `interval`
        default_factory=lambda: int(_env("COOPWATCH_CRAWL_INTERVAL", "60"))
    )
    watch_workers: int = field(default_factory=lambda: int(_env("COOPWATCH_WATCH_WORKERS", "2")))
    crawl_timeout_minutes: int = field(
        default_factory=lambda: int(_env("COOPWATCH_CRAWL_TIMEOUT", "120"))
    )
    retrain_at: str = field(default_factory=lambda: _env("COOPWATCH_RETRAIN_AT", "02:00"))
    report_at: str = field(default_factory=lambda: _env("COOPWATCH_REPORT_AT", "mon 06:00"))
    reports_dir: Path = field(
        default_factory=lambda: Path(_env("COOPWATCH_REPORTS_DIR", str(REPO_ROOT / "var" / "reports")))
    )
    report_formats: tuple[str, ...] = field(  # what the Monday job writes: md, html, pdf
        default_factory=lambda: tuple(
            f.strip() for f in _env("COOPWATCH_REPORT_FORMATS", "pdf,md").split(",") if f.strip()
        )
    )
    report_lang: str = field(default_factory=lambda: _env("COOPWATCH_REPORT_LANG", "vi"))
    log_file: Path = field(
        default_factory=lambda: Path(
            _env("COOPWATCH_LOG_FILE", str(REPO_ROOT / "var" / "log" / "coopwatch-watch.log"))
        )
    )
    log_max_bytes: int = field(
        default_factory=lambda: int(_env("COOPWATCH_LOG_MAX_BYTES", str(10 * 1024 * 1024)))
    )
    log_backups: int = field(default_factory=lambda: int(_env("COOPWATCH_LOG_BACKUPS", "5")))
    # Alerts: a window's count is a spike when it reaches max(min count, mean + sigmas * sd)
    # of the same-sized windows over the previous norm days.
    alert_interval_minutes: int = field(
        default_factory=lambda: int(_env("COOPWATCH_ALERT_INTERVAL", "15"))
    )
    alert_window_hours: int = field(
        default_factory=lambda: int(_env("COOPWATCH_ALERT_WINDOW_HOURS", "6"))
    )
    alert_norm_days: int = field(default_factory=lambda: int(_env("COOPWATCH_ALERT_NORM_DAYS", "28")))
    alert_min_history_days: int = field(
        default_factory=lambda: int(_env("COOPWATCH_ALERT_MIN_HISTORY_DAYS", "7"))
    )
    alert_sigmas: float = field(default_factory=lambda: float(_env("COOPWATCH_ALERT_SIGMAS", "3")))
    alert_min_narrative: int = field(
        default_factory=lambda: int(_env("COOPWATCH_ALERT_MIN_NARRATIVE", "5"))
    )
    alert_min_negative: int = field(
        default_factory=lambda: int(_env("COOPWATCH_ALERT_MIN_NEGATIVE", "10"))
    )
    alert_lookback_hours: int = field(
        default_factory=lambda: int(_env("COOPWATCH_ALERT_LOOKBACK_HOURS", "24"))
    )
    alert_max_attempts: int = field(
        default_factory=lambda: int(_env("COOPWATCH_ALERT_MAX_ATTEMPTS", "10"))
    )
    # Alert delivery. E-mail is on when host and recipients are set; the webhook when its URL
    # is. Secrets come only from the environment or a file outside the repository.
    smtp_host: str = field(default_factory=lambda: _env("COOPWATCH_SMTP_HOST", ""))
    smtp_port: int = field(default_factory=lambda: int(_env("COOPWATCH_SMTP_PORT", "587")))
    smtp_security: str = field(  # starttls | ssl | none
        default_factory=lambda: _env("COOPWATCH_SMTP_SECURITY", "starttls").lower()
    )
    smtp_user: str = field(default_factory=lambda: _env("COOPWATCH_SMTP_USER", ""))
    # A name and a file: the password itself is read only when a message is sent.
    smtp_password_env: str = field(default="COOPWATCH_SMTP_PASSWORD", repr=False)
    smtp_from: str = field(default_factory=lambda: _env("COOPWATCH_SMTP_FROM", "coopwatch@localhost"))
    smtp_to: tuple[str, ...] = field(
        default_factory=lambda: tuple(
            a.strip() for a in _env("COOPWATCH_SMTP_TO", "").split(",") if a.strip()
        )
    )
    webhook_url: str = field(default_factory=lambda: _env("COOPWATCH_WEBHOOK_URL", ""))
    webhook_token_env: str = field(default="COOPWATCH_WEBHOOK_TOKEN", repr=False)
    dashboard_url: str = field(default_factory=lambda: _env("COOPWATCH_DASHBOARD_URL", ""))
    # `coopwatch dashboard`: with a certificate and key Streamlit serves HTTPS itself; with an
    # https:// public URL behind a TLS proxy every cookie is still marked Secure.
    public_url: str = field(default_factory=lambda: _env("COOPWATCH_PUBLIC_URL", ""))
    tls_cert_file: str = field(default_factory=lambda: _env("COOPWATCH_TLS_CERT_FILE", ""))
    tls_key_file: str = field(default_factory=lambda: _env("COOPWATCH_TLS_KEY_FILE", ""))
    cookie_secret_env: str = field(default="COOPWATCH_COOKIE_SECRET", repr=False)

    def smtp_password(self) -> str:
        """The SMTP password from COOPWATCH_SMTP_PASSWORD or COOPWATCH_SMTP_PASSWORD_FILE."""
        return read_secret(self.smtp_password_env)

    def webhook_token(self) -> str:
        """A bearer token for the webhook from COOPWATCH_WEBHOOK_TOKEN(_FILE), or ''."""
        return read_secret(self.webhook_token_env)

    def cookie_secret(self) -> str:
        """The key signing the dashboard's cookies, from COOPWATCH_COOKIE_SECRET(_FILE), or ''."""
        return read_secret(self.cookie_secret_env)

    @property
    def max_record_bytes(self) -> int:
        """COOPWATCH_MAX_RECORD_MB in bytes."""
        return int(self.max_record_mb * 2**20)

    @property
    def real_news_dir(self) -> Path:
        """Real articles in the shared folder (texts stay there; the repo keeps our labels)."""
        return self.shared_dir / "data" / "real-news"

    @property
    def eval_dir(self) -> Path:
        """Our evaluation labels: real-news labels, syndicated copies."""
        return REPO_ROOT / "data" / "eval"

    @property
    def served_over_https(self) -> bool:
        """True when users reach the dashboard over HTTPS (directly or through a proxy)."""
        return bool(self.tls_cert_file) or self.public_url.lower().startswith("https://")


def read_secret(name: str) -> str:
    """A secret from NAME, or read from the file named by NAME_FILE (kept outside the repo)."""
    if value := os.environ.get(name):
        return value
    path = os.environ.get(f"{name}_FILE")
    if not path:
        return ""
    # A secret inside the working tree is one `git add` away from being published.
    if Path(path).resolve().is_relative_to(REPO_ROOT):
        raise ConfigError(f"{name}_FILE: {path} is inside the repository ({REPO_ROOT}); "
                          "keep secrets in a file outside it, e.g. /etc/coopwatch/")
    try:
        return Path(path).read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ConfigError(f"{name}_FILE: cannot read {path}: {exc.strerror}") from exc


class ConfigError(ValueError):
    """Raised when a configured value cannot be used; names the variable at fault."""


def get_settings() -> Settings:
    """Return settings read from the current environment."""
    return Settings()
