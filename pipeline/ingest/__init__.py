"""The item's path, top to bottom: records → prepare (extract, normalise, enrich, sign) →
classify → dedupe (exact copies and story placement) → store, with the spool and its outage
policy for when the database does not answer. ``ingestor`` runs the stages in that order."""
