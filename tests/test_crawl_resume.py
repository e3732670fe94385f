"""A crawl killed with SIGKILL and started again loses nothing and stores nothing twice."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from crawlers.demosite.content import load_articles, load_posts
from pipeline.core.schema import Item, StoryCluster
from tests.test_end_to_end import DEMO_SOURCES


def stored(engine) -> int:
    with Session(engine) as session:
        return session.scalar(select(func.count(Item.id))) or 0


def test_sigkill_mid_crawl_then_restart(tmp_path: Path, demo_site, model_dir: Path, db_url: str) -> None:
    _, base_url = demo_site
    engine = create_engine(db_url)
    env = {**os.environ, "COOPWATCH_DATABASE_URL": db_url, "COOPWATCH_MODEL_DIR": str(model_dir),
           "COOPWATCH_DEMO_URL": base_url, "COOPWATCH_INGEST_BATCH": "5"}
    command = [sys.executable, "-m", "pipeline.cli", "crawl", "--sources", str(DEMO_SOURCES)]
    total = len(load_articles()) + len(load_posts())

    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while stored(engine) < 10 and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.1)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    partial = stored(engine)
    assert 10 <= partial < total, "the crawl must be killed part-way for this test to mean anything"

    again = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr[-3000:]
    with Session(engine) as session:
        assert stored(engine) == total
        urls = session.scalars(select(Item.canonical_url)).all()
        assert len(urls) == len(set(urls))
        # Cluster sizes stay consistent with the items they hold after the crash.
        for cluster in session.scalars(select(StoryCluster)):
            count = session.scalar(select(func.count(Item.id)).where(Item.cluster_id == cluster.id))
            assert cluster.size == count
