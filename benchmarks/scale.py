"""Distributed crawl throughput: items/s with one and with two crawler processes.

Run: .venv/bin/python benchmarks/scale.py [--pages 2000] [--processes 1 2] [--plain]

The local site of tests/big_site.py (a sitemap index over N generated article pages) is
crawled by `coopwatch crawl --distributed` processes sharing one Redis frontier and one
fresh PostgreSQL database per run, with the full ingest path (extraction, dedupe,
classification with the configured model or one trained for the run, storage). Politeness
delays are off: on a local site they would measure our own waiting. items/s = items stored /
(last process's crawl end - first process's crawl start), from the crawl_runs rows; the wall
time with Python start-up is printed too, with the crawlers' CPU time and the load average:
on a machine shared with other work the second process may find no free core. --plain adds
one run without --distributed (no Redis) for comparison.
Needs PostgreSQL (COOPWATCH_TEST_POSTGRES, default postgres@127.0.0.1:5432) and Redis
(COOPWATCH_REDIS_URL, default 127.0.0.1:6379); says so and stops when either is missing.
The dupefilter's memory per URL is measured in Redis (--fingerprints, default 200,000).
"""
from __future__ import annotations

import argparse
import hashlib
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import redis  # noqa: E402
from sqlalchemy import create_engine, func, select, text  # noqa: E402
from sqlalchemy.exc import OperationalError  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from pipeline.core.db import migrate  # noqa: E402
from pipeline.core.schema import CrawlRun, Item  # noqa: E402
from tests.big_site import serve_big_site, sources_yaml  # noqa: E402

ADMIN_URL = os.environ.get("COOPWATCH_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("COOPWATCH_REDIS_URL", "redis://127.0.0.1:6379/0")
LOCAL_SITE = {"COOPWATCH_DOWNLOAD_DELAY": "0", "COOPWATCH_AUTOTHROTTLE": "0", "COOPWATCH_CONCURRENT_PER_DOMAIN": "8"}


def model_dir() -> Path:
    """The configured model, else one trained into a temporary folder (as in production)."""
    from models.persistence import model_exists
    from models.train import train
    from pipeline.core.config import get_settings

    settings = get_settings()
    if model_exists(settings.model_dir):
        return settings.model_dir
    directory = Path(tempfile.mkdtemp()) / "model"
    train(settings.training_dir, directory, real_news_dir=settings.real_news_dir, eval_dir=settings.eval_dir)
    return directory


def run(processes: int, sources: Path, model: Path, distributed: bool = True) -> dict[str, float]:
    """Crawl the site with `processes` crawler processes into a fresh database."""
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"coopwatch_scale_{uuid.uuid4().hex[:10]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        migrate(url)
        prefix = f"coopwatch-scale-{uuid.uuid4().hex[:8]}"
        env = {**os.environ, **LOCAL_SITE, "COOPWATCH_DATABASE_URL": url, "COOPWATCH_MODEL_DIR": str(model),
               "COOPWATCH_REDIS_PREFIX": prefix, "COOPWATCH_LOG_LEVEL": "WARNING", "PYTHONPATH": str(ROOT)}
        command = [sys.executable, "-m", "pipeline.cli", "crawl", "--sources", str(sources)]
        if distributed:
            command.append("--distributed")
        load_before = os.getloadavg()[0]
        cpu_before = _children_cpu()
        started = time.perf_counter()
        children = [subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
                    for _ in range(processes)]
        for child in children:
            _, errors = child.communicate(timeout=3600)
            if child.returncode != 0:
                raise SystemExit(f"a crawler process failed:\n{errors[-3000:]}")
        wall = time.perf_counter() - started
        cpu = _children_cpu() - cpu_before
        load = max(load_before, os.getloadavg()[0])
        engine = create_engine(url)
        with Session(engine) as session:
            stored = session.scalar(select(func.count(Item.id))) or 0
            first = session.scalar(select(func.min(CrawlRun.started_at)))
            last = session.scalar(select(func.max(CrawlRun.finished_at)))
            per_process = list(session.scalars(select(CrawlRun.new).order_by(CrawlRun.id)))
        engine.dispose()
        crawl_seconds = (last - first).total_seconds()
        return {"stored": stored, "seconds": crawl_seconds, "wall": wall, "rate": stored / crawl_seconds,
                "per_process": per_process, "cpu": cpu, "load": load}
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def fingerprint_memory(count: int) -> tuple[float, float]:
    """Bytes per member of a Redis set of `count` fingerprints: 20-byte binary and 40-char hex."""
    server = redis.Redis.from_url(REDIS_URL)
    sizes = []
    for encode in (lambda d: d.digest(), lambda d: d.hexdigest()):
        key = f"coopwatch-scale-fp-{uuid.uuid4().hex[:8]}"
        try:
            for start in range(0, count, 10_000):
                batch = [encode(hashlib.sha1(str(n).encode())) for n in range(start, min(start + 10_000, count))]
                server.sadd(key, *batch)
            sizes.append((server.memory_usage(key, samples=0) or 0) / count)
        finally:
            server.delete(key)
    return sizes[0], sizes[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=2000)
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--plain", action="store_true", help="also one run without --distributed")
    parser.add_argument("--fingerprints", type=int, default=200_000)
    args = parser.parse_args()
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3).ping()
        create_engine(ADMIN_URL).connect().close()
    except (redis.RedisError, OperationalError) as exc:
        print(f"scale benchmark skipped: Redis or PostgreSQL unreachable ({exc.__class__.__name__}: {exc})")
        return

    binary, hexa = fingerprint_memory(args.fingerprints)
    print(f"dupefilter memory: {binary:.0f} bytes per URL (20-byte fingerprints; 40-char hex: {hexa:.0f}) "
          f"-> 10M URLs ~ {binary * 1e7 / 2**30:.2f} GiB ({hexa * 1e7 / 2**30:.2f} GiB as hex)")

    server, base = serve_big_site(args.pages)
    work = Path(tempfile.mkdtemp())
    sources = work / "sources.yaml"
    sources.write_text(sources_yaml(base), encoding="utf-8")
    model = model_dir()
    print(f"os.cpu_count() = {os.cpu_count()}; {args.pages} pages; full ingest with the classifier")
    rates: dict[int, float] = {}
    if args.plain:
        result = run(1, sources, model, distributed=False)
        print(f"1 process, plain (no Redis): {result['stored']} items in {result['seconds']:.1f} s "
              f"= {result['rate']:.1f} items/s (wall {result['wall']:.1f} s; crawler CPU {result['cpu']:.0f} s)")
    for processes in args.processes:
        server.hits.clear()
        result = run(processes, sources, model)
        rates[processes] = result["rate"]
        refetched = sum(1 for path, hits in server.hits.items() if path.startswith("/bai/") and hits > 1)
        print(f"{processes} process(es), distributed: {result['stored']} items in {result['seconds']:.1f} s "
              f"= {result['rate']:.1f} items/s (wall {result['wall']:.1f} s; stored per process "
              f"{result['per_process']}; pages fetched more than once: {refetched}; crawler CPU "
              f"{result['cpu']:.0f} s = {1000 * result['cpu'] / result['stored']:.0f} ms per item; "
              f"load average up to {result['load']:.1f})")
    if 1 in rates and 2 in rates:
        print(f"ratio 2 processes / 1 process: {rates[2] / rates[1]:.2f}")
    server.shutdown()


if __name__ == "__main__":
    main()
