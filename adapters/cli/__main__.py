"""`python -m adapters.cli` runs the `kringloop` command line."""

from adapters.cli.app import main

main()
