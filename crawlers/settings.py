"""Scrapy settings: the only place crawler behaviour is configured."""

import os

BOT_NAME = "coopwatch"
SPIDER_MODULES = ["crawlers.spiders"]
NEWSPIDER_MODULE = "crawlers.spiders"

# Identify ourselves and how to reach us; outlets can then ask us to slow down or stop.
USER_AGENT = "CoopWatchBot/0.1 (+https://coopwatch.example/bot; contact: monitor@coopwatch.example)"
ROBOTSTXT_OBEY = True

CONCURRENT_REQUESTS = 16
# The three overrides are for local test sites only; outlets always get these limits.
CONCURRENT_REQUESTS_PER_DOMAIN = int(os.environ.get("COOPWATCH_CONCURRENT_PER_DOMAIN", "2"))
DOWNLOAD_DELAY = float(os.environ.get("COOPWATCH_DOWNLOAD_DELAY", "0.25"))
AUTOTHROTTLE_ENABLED = os.environ.get("COOPWATCH_AUTOTHROTTLE", "1") != "0"
AUTOTHROTTLE_START_DELAY = 0.25
AUTOTHROTTLE_MAX_DELAY = 30
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.5

# Overridable for tests and slow links; every other crawler setting lives only here.
DOWNLOAD_TIMEOUT = int(os.environ.get("COOPWATCH_DOWNLOAD_TIMEOUT", "30"))
DOWNLOAD_MAXSIZE = 10 * 1024 * 1024
DOWNLOAD_WARNSIZE = 2 * 1024 * 1024
RETRY_ENABLED = True
RETRY_TIMES = 2
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]
REDIRECT_MAX_TIMES = 5

COOKIES_ENABLED = False
TELNETCONSOLE_ENABLED = False

DOWNLOADER_MIDDLEWARES = {
    "crawlers.middlewares.SourceHostMiddleware": 40,
    "crawlers.middlewares.SkipStoredMiddleware": 50,
    # Replaces Scrapy's retry middleware at its own position.
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "crawlers.retry.BackoffRetryMiddleware": 550,
}
COOPWATCH_RETRY_BASE_DELAY = float(os.environ.get("COOPWATCH_RETRY_BASE_DELAY", "1.0"))
COOPWATCH_RETRY_MAX_DELAY = 120.0
ITEM_PIPELINES = {
    "crawlers.pipelines.IngestPipeline": 300,
}
# Items are handed to pipeline.ingest.ingestor in batches of this size.
COOPWATCH_INGEST_BATCH = int(os.environ.get("COOPWATCH_INGEST_BATCH", "50"))

# `coopwatch crawl --distributed` (crawlers/distributed.py): the frontier shared in Redis.
REDIS_URL = os.environ.get("COOPWATCH_REDIS_URL", "redis://127.0.0.1:6379/0")
COOPWATCH_REDIS_PREFIX = os.environ.get("COOPWATCH_REDIS_PREFIX", "coopwatch")
# A crawler process silent this long is taken for dead; its requests in progress are lost.
COOPWATCH_WORKER_TIMEOUT = float(os.environ.get("COOPWATCH_WORKER_TIMEOUT", "60"))

TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
FEED_EXPORT_ENCODING = "utf-8"
LOG_LEVEL = "INFO"
