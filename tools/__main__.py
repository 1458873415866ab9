"""`python -m tools` is `schemactl`."""

from tools.entry import main

main()
