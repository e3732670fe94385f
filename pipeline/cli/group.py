"""The `coopwatch` command group: logging set-up and configuration checks for every command."""
from __future__ import annotations

import logging
from typing import Optional

import click

from pipeline.core.config import REPO_ROOT, get_settings

logger = logging.getLogger("coopwatch")

DEMO_SOURCES = REPO_ROOT / "data" / "sources.demo.yaml"


def _setup_logging(level: str) -> None:
    logging.basicConfig(
        level=getattr(logging, level.upper(), logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--log-level", default=None, help="DEBUG, INFO, WARNING or ERROR.")
def main(log_level: Optional[str]) -> None:
    """CoopWatch: monitor news and social posts about Vietnam's cooperatives."""
    from pipeline.core.config import ConfigError

    try:
        settings = get_settings()
    except ConfigError as exc:  # e.g. a secret file that cannot be used
        raise click.ClickException(str(exc)) from exc
    _setup_logging(log_level or settings.log_level)
