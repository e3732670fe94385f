"""CoopWatch pipeline: one path from a raw record to a stored, classified, reviewed item.

Rooms by job (docs/ARCHITECTURE.md draws the map and says who may import whom):

- ``core``: the ground floor every other room stands on: configuration, the database schema
  and its migrations, text and URL normalisation, weeks, users and sign-in, source health.
- ``ingest``: the item's path: read records, prepare (extract, normalise, enrich, sign),
  classify, decide duplicates and story placement, store; the spool for database outages.
- ``review``: monitors' decisions on items, the named query rules over them, reclassifying.
- ``watch``: unattended running: the scheduler, alert rules and notifications.
- ``report``: the weekly report (build, words, charts, render, PDF) and item exports.
- ``cli``: the `coopwatch` command line, one module per command group.
"""
