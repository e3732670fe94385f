"""Reports and exports: the weekly report's figures (``build``), its Vietnamese and English
words (``words``), charts, rendering to Markdown/HTML (``render``) and PDF (``pdf``), and the
item export (``export``)."""
