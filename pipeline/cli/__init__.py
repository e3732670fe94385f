"""The `coopwatch` command line, the front door to every job: one module per command group
(``ingest_commands``, ``model_commands``, ``desk_commands``) registered on the group of
``group``, and ``classify_file`` for classifying a JSONL file outside the database."""
from pipeline.cli import desk_commands, ingest_commands, model_commands  # noqa: F401  (registers the commands)
from pipeline.cli.group import main

__all__ = ["main"]
