"""Monitors' work on stored items: the review workflow, the named query rules over decisions
(latest decision per item, second review), and reclassifying items with a new model."""
