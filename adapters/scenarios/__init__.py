"""Scenario files: commands as JSON lines, loaded through `kringloop apply`."""
