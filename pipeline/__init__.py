"""CoopWatch pipeline: one path from a raw record to a stored, classified item."""
