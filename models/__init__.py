"""CoopWatch classifier: relevance, then label, with calibrated confidence and reasons."""
