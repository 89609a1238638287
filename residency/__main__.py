"""Allow ``python -m residency``."""

from residency.cli import main

main()
