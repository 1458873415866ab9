"""`python -m tools` is `schemactl`."""

from tools.cli import main

main()
