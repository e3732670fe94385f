"""Ground floor: configuration, schema and migrations, database, normalisation, URLs, weeks,
users and sign-in, source health. Imports nothing from the other rooms of ``pipeline``."""
