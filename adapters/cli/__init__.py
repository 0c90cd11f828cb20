"""The `kringloop` command line."""
