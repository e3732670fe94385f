"""One spider class per source kind."""
