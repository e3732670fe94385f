"""Scrapy project: spiders per source kind, feeding the one ingest path in pipeline/."""
