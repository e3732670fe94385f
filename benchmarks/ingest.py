"""Ingest throughput and peak memory on raw HTML records, against bare trafilatura.

Run: .venv/bin/python benchmarks/ingest.py [--records 20000] [--workers 2]

Records are article pages of the demo site (each page given a distinct mix of paragraphs so
that every record is a new item that is classified and written) plus the real article pages
of ../shared/data/html/ (read at run time). They are written to a temporary JSONL file and
ingested by `coopwatch ingest` in a subprocess into a fresh SQLite database, exactly as a user
would run it; its memory is the peak of the summed proportional set size (PSS) of the process and its
workers, so pages the forked workers share with the parent are counted once.
The baseline is bare `trafilatura.bare_extraction` of the same pages read from the same file,
in this process, in the same run.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import multiprocessing
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Iterator

import psutil
import trafilatura

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from crawlers.demosite.content import load_articles  # noqa: E402
from crawlers.demosite.render import article_page  # noqa: E402
from models.persistence import model_exists  # noqa: E402
from models.train import train  # noqa: E402
from pipeline.core.config import get_settings  # noqa: E402

SHARED_ARTICLES = ("VnExpress_2025_10_22.html", "baochinhphu_article.html", "baodautu_article.html",
                   "cafef_article.html", "dantri_article.html", "nld_article.html",
                   "tuoitre_article.html", "vietnamnet_article.html", "vnexpress_article.html")


def shared_pages() -> list[str]:
    folder = get_settings().shared_dir / "data" / "html"
    return [(folder / name).read_text(encoding="utf-8", errors="replace")
            for name in SHARED_ARTICLES if (folder / name).exists()]


def records(count: int, shared_every: int) -> Iterator[dict[str, str]]:
    """Distinct raw records: every `shared_every`-th one a real page, the rest demo pages."""
    rng = random.Random(7)
    articles = load_articles()
    paragraphs = [p for a in articles for p in a.body]
    real = shared_pages()
    for n in range(count):
        if real and n % shared_every == 0:
            page = real[(n // shared_every) % len(real)]
            # A line after the headline makes each copy a distinct item, as a re-edit would.
            html = page.replace("</h1>", f"</h1><p>Cập nhật lần {n}.</p>", 1)
            yield {"url": f"https://real.example.vn/{n}.html", "source": "bench", "outlet": "real",
                   "html": html}
            continue
        base = articles[n % len(articles)]
        body = tuple(rng.sample(paragraphs, 5)) + (f"Bản tin số {n} của chuyên mục kinh tế tập thể.",)
        article = dataclasses.replace(base, slug=f"{base.slug}-{n}", body=body,
                                      published=base.published + timedelta(minutes=n))
        yield {"url": f"https://{base.outlet}.example.vn/{article.slug}.html", "source": "bench",
               "outlet": base.outlet, "html": article_page(article, [])}


def write_records(path: Path, count: int, shared_every: int) -> None:
    with path.open("w", encoding="utf-8") as handle:
        for row in records(count, shared_every):
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")


def pages(path: Path) -> Iterator[str]:
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            yield json.loads(line)["html"]


def _bare(html: str) -> bool:
    return trafilatura.bare_extraction(html, include_comments=False, include_tables=False,
                                       with_metadata=True) is not None


def bare_extraction(path: Path, processes: int) -> tuple[float, float]:
    """Seconds, and CPU seconds in one process, of bare trafilatura over every page of the file."""
    started, cpu = time.perf_counter(), time.process_time()
    if processes == 1:
        for html in pages(path):
            _bare(html)
    else:
        with multiprocessing.get_context("forkserver").Pool(processes) as pool:
            for _ in pool.imap_unordered(_bare, pages(path), chunksize=16):
                pass
    return time.perf_counter() - started, time.process_time() - cpu


@dataclasses.dataclass
class IngestRun:
    seconds: float
    peak_mb: float  # PSS of the process plus its workers
    cpu_seconds: float  # user + system of the process and its workers
    summary: str


def run_ingest(path: Path, workdir: Path, model_dir: Path, workers: int) -> IngestRun:
    """Time, peak memory and CPU of `coopwatch ingest` on a fresh database."""
    database = workdir / f"bench-{path.stem}.db"
    database.unlink(missing_ok=True)
    env = dict(os.environ, COOPWATCH_DATABASE_URL=f"sqlite:///{database}",
               COOPWATCH_MODEL_DIR=str(model_dir), COOPWATCH_LOG_LEVEL="WARNING")
    coopwatch = [sys.executable, "-m", "pipeline.cli"]
    subprocess.run([*coopwatch, "init"], env=env, check=True, capture_output=True, cwd=ROOT)
    started = time.perf_counter()
    process = psutil.Popen([*coopwatch, "ingest", "--input", str(path), "--workers", str(workers)], env=env,
                           cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    peak = 0
    while True:
        # wait4 reaps the process with its resource usage, which includes the workers it joined.
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            break
        peak = max(peak, _tree_rss(process))
        time.sleep(0.1)
    seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    output = process.stdout.read() if process.stdout else ""
    if process.returncode != 0:
        raise SystemExit(f"coopwatch ingest failed ({process.returncode}): {output}")
    return IngestRun(seconds, peak / 2**20, usage.ru_utime + usage.ru_stime,
                     output.strip().splitlines()[-1] if output.strip() else "")


def _tree_rss(process: psutil.Process) -> int:
    """Proportional set size of the process and its workers.

    Forked workers share the parent's pages (the model, the libraries) until they write to
    them; summed RSS would count every shared page once per process, PSS counts it once.
    """
    total = 0
    for proc in [process, *process.children(recursive=True)]:
        try:
            total += proc.memory_full_info().pss
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            pass
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--small", type=int, default=5_000, help="a smaller run, to show memory is flat")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--shared-every", type=int, default=50,
                        help="one real shared page every N records (they are 20x heavier)")
    args = parser.parse_args()

    settings = get_settings()
    workdir = Path(tempfile.mkdtemp(prefix="coopwatch-bench-"))
    model_dir = settings.model_dir
    if not model_exists(model_dir):
        model_dir = workdir / "model"
        train(settings.training_dir, model_dir, real_news_dir=settings.real_news_dir, eval_dir=settings.eval_dir)
    big, small = workdir / "records.jsonl", workdir / "records-small.jsonl"
    write_records(big, args.records, args.shared_every)
    write_records(small, args.small, args.shared_every)
    size_mb = big.stat().st_size / 2**20
    print(f"{args.records:,} records ({size_mb:,.0f} MB of JSONL), one real page in {args.shared_every}; "
          f"{args.workers} workers on {os.cpu_count()} cores")

    bare_one, bare_cpu = bare_extraction(big, 1)
    bare_all, _ = bare_extraction(big, args.workers)
    run = run_ingest(big, workdir, model_dir, args.workers)
    small_run = run_ingest(small, workdir, model_dir, args.workers)

    rate = args.records / run.seconds
    print(f"bare trafilatura, 1 process:  {args.records / bare_one:8.1f} pages/s "
          f"({1000 * bare_cpu / args.records:.1f} ms of CPU a page)")
    print(f"bare trafilatura, {args.workers} processes: {args.records / bare_all:8.1f} pages/s")
    print(f"coopwatch ingest ({args.workers} workers): {rate:8.1f} records/s, {run.seconds:.0f} s, "
          f"peak memory {run.peak_mb:,.0f} MB, {1000 * run.cpu_seconds / args.records:.1f} ms of CPU "
          f"a record (process and workers, start-up included)")
    print(f"  {run.summary}")
    print(f"coopwatch ingest of {args.small:,} records: {args.small / small_run.seconds:.1f} records/s, "
          f"peak memory {small_run.peak_mb:,.0f} MB (memory does not grow with input size: "
          f"{run.peak_mb / small_run.peak_mb:.2f}x for {args.records / args.small:.0f}x the records)")
    print(f"ratio to bare extraction in 1 process: {rate * bare_one / args.records:.2f} (target >= 0.7); "
          f"to bare extraction in {args.workers} processes: {rate * bare_all / args.records:.2f}")
    print(f"peak memory under 1 GB: {'yes' if run.peak_mb < 1024 else 'NO'}")


if __name__ == "__main__":
    main()
