"""`python -m pipeline.cli`: the same command line as `coopwatch`."""
from pipeline.cli import main

main()
